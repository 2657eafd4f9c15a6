//! Load on `meshlens serve` with the simulated mesh: how many graph requests a second it answers to 8 keep-alive
//! clients asking for the same graph, with p50/p99 latency and the server's CPU time per request (from
//! `/proc/PID/stat`); how fast `/healthz` answers while eight different whole-mesh graphs are computed; and the
//! median time of a first (uncached) namespace graph.
//!
//! `cargo bench --bench serve` (500 workloads for the load, 2000 for first graphs) or `cargo bench --bench serve --
//! 500,2000`. The server runs on 127.0.0.1 from a simulated snapshot written under `target/`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a benchmark fails loudly"
)]

#[path = "../tests/common/process.rs"]
mod process;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Concurrent clients of the load, each on its own keep-alive connection.
const CLIENTS: usize = 8;
const LOAD_SECONDS: u64 = 10;

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .find(|a| a.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .map_or_else(|| vec![500, 2000], |a| a.split(',').map(|s| s.parse().expect("a size")).collect());
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    for size in sizes {
        let snapshot = simulated(size);
        let port = process::free_port();
        let args: Vec<String> =
            ["serve", "--snapshot", snapshot.to_str().unwrap(), "--addr", &format!("127.0.0.1:{port}")]
                .map(String::from)
                .into();
        let log = snapshot.with_extension("serve.log");
        let started = Instant::now();
        let server = process::spawn(&binary(), &args, &log, port, "/healthz");
        let pid: u32 = std::fs::read_to_string(log.with_extension("pid")).unwrap().trim().parse().unwrap();
        println!("{size} workloads: ready after {:.1} s", started.elapsed().as_secs_f64());
        runtime.block_on(async {
            let client = reqwest::Client::builder().pool_max_idle_per_host(CLIENTS).build().unwrap();
            first_graphs(&client, &server.url, size).await;
            repeated(&client, &server.url, pid).await;
            healthz_under_load(&client, &server.url).await;
        });
        server.stop();
    }
}

fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_meshlens"))
}

/// The `scale` scenario of `size` workloads as a snapshot under `target/` (written once).
fn simulated(size: usize) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("target/bench-snapshot-{size}"));
    if !dir.join("snapshot.yaml").exists() {
        let out = std::process::Command::new(binary())
            .args(["sim", "--scenario", "scale", "--scale", &size.to_string(), "--out", dir.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(out.status.success(), "sim: {}", String::from_utf8_lossy(&out.stderr));
    }
    dir
}

async fn get(client: &reqwest::Client, url: &str) -> Duration {
    let start = Instant::now();
    let response = client.get(url).send().await.unwrap();
    assert!(response.status().is_success(), "{url}: {}", response.status());
    response.bytes().await.unwrap();
    start.elapsed()
}

fn quantile(sorted: &[Duration], q: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted.get(i).map_or(f64::NAN, |d| d.as_secs_f64() * 1e3)
}

/// The first graph of each of 10 namespaces (none asked before): the cost of a cache miss.
async fn first_graphs(client: &reqwest::Client, server: &str, size: usize) {
    let namespaces = size / 10;
    let mut times: Vec<Duration> = Vec::new();
    for i in 0..10 {
        let ns = format!("scale-{:04}", i * namespaces / 10);
        times.push(get(client, &format!("{server}/api/graph?namespaces={ns}")).await);
    }
    times.sort();
    println!(
        "  first namespace graph (cache miss): median {:.1} ms, worst {:.1} ms",
        quantile(&times, 0.5),
        quantile(&times, 1.0)
    );
}

/// 8 clients asking for the same namespace graph for LOAD_SECONDS.
async fn repeated(client: &reqwest::Client, server: &str, pid: u32) {
    let url = format!("{server}/api/graph?namespaces=scale-0001");
    get(client, &url).await;
    let cpu_before = process::cpu_seconds(pid);
    let deadline = Instant::now() + Duration::from_secs(LOAD_SECONDS);
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (client, url) = (client.clone(), url.clone());
            tokio::spawn(async move {
                let mut times = Vec::new();
                while Instant::now() < deadline {
                    times.push(get(&client, &url).await);
                }
                times
            })
        })
        .collect();
    let mut times: Vec<Duration> = Vec::new();
    for t in tasks {
        times.extend(t.await.unwrap());
    }
    let cpu = process::cpu_seconds(pid) - cpu_before;
    times.sort();
    println!(
        "  repeated graph, {CLIENTS} clients: {:.0} req/s, p50 {:.1} ms, p99 {:.1} ms, server CPU {:.2} ms/request",
        times.len() as f64 / LOAD_SECONDS as f64,
        quantile(&times, 0.5),
        quantile(&times, 0.99),
        cpu * 1e3 / times.len() as f64
    );
}

/// `/healthz` every 20 ms while eight different whole-mesh graphs (windows of 1..8 minutes) are computed.
async fn healthz_under_load(client: &reqwest::Client, server: &str) {
    let heavy: Vec<_> = (1..=8)
        .map(|minutes| {
            let (client, url) = (client.clone(), format!("{server}/api/graph?duration={minutes}m"));
            tokio::spawn(async move { get(&client, &url).await })
        })
        .collect();
    let mut times = Vec::new();
    while heavy.iter().any(|t| !t.is_finished()) {
        times.push(get(client, &format!("{server}/healthz")).await);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut graphs = Vec::new();
    for t in heavy {
        graphs.push(t.await.unwrap());
    }
    times.sort();
    graphs.sort();
    println!(
        "  /healthz during 8 whole-mesh graphs: {} probes, p50 {:.1} ms, worst {:.1} ms (graphs took {:.1}-{:.1} s)",
        times.len(),
        quantile(&times, 0.5),
        quantile(&times, 1.0),
        graphs.first().map_or(0.0, Duration::as_secs_f64),
        graphs.last().map_or(0.0, Duration::as_secs_f64)
    );
}
