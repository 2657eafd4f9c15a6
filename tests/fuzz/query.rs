//! The server's URLs: every route, with names and query parameters drawn from the real ones, values at and past
//! their bounds, hostile text, parameters given twice, and random bytes, percent-encoded or not, then mutated as
//! bytes. Every answer must be a page or JSON, an error must say what was wrong, nothing may be a 500.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use crate::harness::fuzz;
use crate::mutate::{HOSTILE_STRINGS, Mutator};
use crate::world::{app, encode, memory_backend, runtime, simulated, visit};

const PATHS: &[&str] = &[
    "/",
    "/graph",
    "/workloads",
    "/workloads/{ns}/{name}",
    "/rollouts",
    "/healthz",
    "/metrics",
    "/api/graph",
    "/api/kiali/namespaces/graph",
    "/api/workloads",
    "/api/namespaces/{ns}/workloads/{name}",
    "/api/namespaces/{ns}/rollouts/{name}",
    "/static/style.css",
    "/login",
];

const NAMES: &[&str] = &["bookinfo", "istio-system", "reviews", "productpage-v1", "reviews-6d4f9b7c8", "ratings-v1"];

const PARAMETERS: &[&str] =
    &["namespaces", "type", "graphType", "duration", "at", "queryTime", "latency", "appenders", "injectServiceNodes"];

const VALUES: &[&str] = &[
    "bookinfo",
    "bookinfo,istio-system",
    ",",
    "bookinfo,",
    "workload",
    "app",
    "versionedApp",
    "service",
    "600s",
    "1s",
    "0s",
    "30d",
    "31d",
    "1h30m",
    "200000000000d",
    "1795600800",
    "1795600000",
    "-5",
    "2026-11-25T10:00:00Z",
    "true",
    "false",
    "responseTime",
];

#[test]
fn query_strings() {
    let bookinfo = simulated(meshlens::sim::Scenario::BookinfoCanary);
    let server = app(bookinfo.snapshot.inventory.clone(), memory_backend(&bookinfo), bookinfo.time);
    let seeds: Vec<Vec<u8>> = [
        "/api/graph?namespaces=bookinfo&type=workload&duration=600s&latency=true",
        "/api/kiali/namespaces/graph?namespaces=bookinfo&graphType=versionedApp&duration=600s&queryTime=1795600800",
        "/api/namespaces/bookinfo/rollouts/reviews?duration=300s&at=1795600800",
        "/workloads/bookinfo/reviews?duration=600s",
        "/graph?namespaces=bookinfo&type=service",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    let mutator = Mutator::new(&seeds, VALUES);
    let runtime = runtime();
    fuzz(
        "query",
        |rng| {
            let mut uri = generated(rng).into_bytes();
            if rng.random_bool(0.3) {
                mutator.stack(rng, &mut uri);
            }
            uri
        },
        |input| {
            let Ok(uri) = std::str::from_utf8(input) else { return Ok(()) };
            runtime.block_on(visit(&server, &[uri.to_owned()], &[]))
        },
    );
}

/// A URL of a route with zero to five parameters.
fn generated(rng: &mut ChaCha8Rng) -> String {
    let path =
        PATHS[rng.random_range(0..PATHS.len())].replace("{ns}", &part(rng, NAMES)).replace("{name}", &part(rng, NAMES));
    let parameters: Vec<String> =
        (0..rng.random_range(0..=5)).map(|_| format!("{}={}", part(rng, PARAMETERS), part(rng, VALUES))).collect();
    if parameters.is_empty() { path } else { format!("{path}?{}", parameters.join("&")) }
}

/// One of `known`, a hostile string or random bytes; percent-encoded, or raw when it is plain.
fn part(rng: &mut ChaCha8Rng, known: &[&str]) -> String {
    let bytes: Vec<u8> = match rng.random_range(0..10) {
        0..=5 => known[rng.random_range(0..known.len())].as_bytes().to_vec(),
        6..=8 => HOSTILE_STRINGS[rng.random_range(0..HOSTILE_STRINGS.len())].as_bytes().to_vec(),
        _ => (0..rng.random_range(0..40)).map(|_| rng.random::<u8>()).collect(),
    };
    let plain = bytes.iter().all(|b| b.is_ascii_graphic() && !b"%&=?#/".contains(b));
    if plain && rng.random_bool(0.5) { String::from_utf8(bytes).unwrap_or_default() } else { encode(&bytes) }
}
