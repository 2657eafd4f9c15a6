//! Prometheus API answers: a server on 127.0.0.1 answers every query with the input (`STATUS\nBODY`), built from
//! the simulated world's series as vector and matrix results, errors, warnings, partial answers and the result
//! types meshlens does not ask for, mutated as JSON trees and as bytes. The graph, the doctor, the pages and the
//! API read it; a 502 naming the query is a right answer to a wrong one, a 500 or a panic is not.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use meshlens::doctor::diagnose;
use meshlens::graph::{GraphRequest, GraphType, ScrapeLabels};
use meshlens::identity::IdentityIndex;
use meshlens::telemetry::{Backend, Prometheus, PrometheusConfig};
use rand::RngExt;
use serde_json::{Value, json};

use crate::harness::fuzz;
use crate::mutate::{Mutator, tree};
use crate::world::{app, recent_series, runtime, simulated, visit};

const TOKENS: &[&str] =
    &["\"resultType\":\"matrix\"", "\"value\":[1795600800,\"1\"]", "\"status\":\"error\"", "\"le\":\"+Inf\""];

type Slot = Arc<Mutex<(StatusCode, Vec<u8>)>>;

#[test]
fn prometheus_answers() {
    let bookinfo = simulated(meshlens::sim::Scenario::BookinfoCanary);
    let answers = answers(&recent_series(&bookinfo), bookinfo.time);
    let seeds: Vec<Vec<u8>> = answers.iter().map(|a| framed(200, a.to_string().as_bytes())).collect();
    let mutator = Mutator::new(&seeds, TOKENS);

    let runtime = runtime();
    let slot: Slot = Arc::new(Mutex::new((StatusCode::OK, Vec::new())));
    let url = runtime.block_on(serve(slot.clone()));
    let config = PrometheusConfig { timeout: Duration::from_secs(5), ..PrometheusConfig::new(&url) };
    let backend = Backend::Prometheus(Prometheus::new(&config).unwrap());
    let index = IdentityIndex::build(&bookinfo.snapshot.inventory);
    let inventory = &bookinfo.snapshot.inventory;
    let server = app(inventory.clone(), backend.clone(), bookinfo.time);
    let uris = [
        "/api/graph?namespaces=bookinfo&latency=true",
        "/api/kiali/namespaces/graph?namespaces=bookinfo&graphType=service",
        "/api/namespaces/bookinfo/rollouts/reviews",
        "/api/namespaces/bookinfo/workloads/productpage-v1",
        "/workloads/bookinfo/reviews",
    ]
    .map(String::from);
    fuzz(
        "prometheus",
        |rng| {
            let status = if rng.random_bool(0.8) { 200 } else { [400, 422, 500, 503][rng.random_range(0..4)] };
            if rng.random_bool(0.5) {
                let mut answer = answers[rng.random_range(0..answers.len())].clone();
                tree(rng, &mut answer, &answers, &[("v1", "Pod")]);
                framed(status, answer.to_string().as_bytes())
            } else {
                mutator.bytes(rng)
            }
        },
        |input| {
            *slot.lock().unwrap() = unframed(input);
            runtime.block_on(async {
                for graph_type in [GraphType::Workload, GraphType::App, GraphType::VersionedApp, GraphType::Service] {
                    let request = GraphRequest::new(bookinfo.time, 600, ScrapeLabels::default())
                        .with_type(graph_type)
                        .with_edge_latency(true);
                    let _answer_or_error = meshlens::graph::graph(&backend, &index, inventory, &request).await;
                }
                let request = GraphRequest::new(bookinfo.time, 600, ScrapeLabels::default());
                let _report_or_error = diagnose(&backend, &index, inventory, &request, 0.05).await;
                visit(&server, &uris, &[StatusCode::BAD_GATEWAY]).await
            })
        },
    );
}

fn framed(status: u16, body: &[u8]) -> Vec<u8> {
    let mut out = format!("{status}\n").into_bytes();
    out.extend_from_slice(body);
    out
}

/// The status line (200 when it is not one) and the body.
fn unframed(input: &[u8]) -> (StatusCode, Vec<u8>) {
    let (head, body) = match input.iter().position(|b| *b == b'\n') {
        Some(n) => (&input[..n], &input[n + 1..]),
        None => (&input[..0], input),
    };
    let status = std::str::from_utf8(head).ok().and_then(|s| s.parse::<u16>().ok());
    (status.and_then(|s| StatusCode::from_u16(s).ok()).unwrap_or(StatusCode::OK), body.to_vec())
}

/// A fake Prometheus answering every request from the slot.
async fn serve(slot: Slot) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = axum::Router::new().fallback(move || {
        let slot = slot.clone();
        async move { slot.lock().unwrap().clone() }
    });
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

/// Answers of every shape the query API gives, holding the world's series.
fn answers(series: &[Vec<(String, String)>], time: i64) -> Vec<Value> {
    let metric = |labels: &Vec<(String, String)>| {
        labels.iter().map(|(k, v)| (k.clone(), Value::from(v.as_str()))).collect::<serde_json::Map<_, _>>()
    };
    let vector: Vec<Value> = series
        .iter()
        .enumerate()
        .map(|(i, labels)| json!({"metric": metric(labels), "value": [time, format!("{}.5", i % 7)]}))
        .collect();
    let matrix: Vec<Value> = series
        .iter()
        .enumerate()
        .map(|(i, labels)| {
            let values: Vec<Value> = (0..4).map(|k| json!([time - 90 + 30 * k, format!("{}", i as i64 * k)])).collect();
            json!({"metric": metric(labels), "values": values})
        })
        .collect();
    let success = |result_type: &str, result: Value| json!({"status": "success", "data": {"resultType": result_type, "result": result}});
    vec![
        success("vector", Value::Array(vector.clone())),
        success("matrix", Value::Array(matrix)),
        success("vector", Value::Array(Vec::new())),
        success("scalar", json!([time, "1"])),
        success("string", json!([time, "x"])),
        json!({"status": "success", "warnings": ["PromQL info: metric might not be a counter"], "infos": ["x"],
               "isPartial": true, "data": {"resultType": "vector", "result": vector}}),
        json!({"status": "error", "errorType": "bad_data", "error": "1:1: parse error: unexpected end of input"}),
        json!({"status": "error", "errorType": "timeout", "error": "query timed out in expression evaluation"}),
    ]
}
