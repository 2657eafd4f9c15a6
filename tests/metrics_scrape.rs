//! `serve`'s `/metrics`, scraped by a real Prometheus: the measured split and the doctor's findings arrive as
//! series an alert rule or an Argo Rollouts AnalysisTemplate can query.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "tests fail loudly"
)]

mod common;

use std::time::{Duration, Instant};

use common::process::{block_on, start_prometheus_with};
use common::{serve_snapshot, simulate};
use serde_json::Value;

/// An instant query's result vector, now.
fn query(prometheus: &str, promql: &str) -> Vec<Value> {
    block_on(async {
        let url = reqwest::Url::parse_with_params(&format!("{prometheus}/api/v1/query"), [("query", promql)]).unwrap();
        let answer: Value = serde_json::from_str(&reqwest::get(url).await.unwrap().text().await.unwrap()).unwrap();
        answer["data"]["result"].as_array().cloned().unwrap_or_default()
    })
}

fn value(sample: &Value) -> f64 {
    sample["value"][1].as_str().unwrap().parse().unwrap()
}

#[test]
fn prometheus_scrapes_the_split_and_the_findings() {
    let work = tempfile::tempdir().unwrap();
    let snapshot = work.path().join("snapshot");
    simulate("bookinfo-canary", &snapshot, &["--fault", "mesh-unbound"]);
    let (serve, port) = serve_snapshot(&snapshot, work.path(), &[]);

    let text = block_on(async {
        let response = reqwest::get(format!("{}/metrics", serve.url)).await.unwrap();
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
        response.text().await.unwrap()
    });
    assert!(text.contains("# TYPE meshlens_revision_observed_share gauge"), "{text}");

    let config = format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: meshlens\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
    );
    let data = work.path().join("data");
    let prometheus = start_prometheus_with(&data, work.path(), &config);
    let canary = "meshlens_revision_observed_share{workload=\"reviews\",role=\"canary\"}";
    let started = Instant::now();
    let mut scraped = Vec::new();
    while started.elapsed() < Duration::from_secs(60) && scraped.is_empty() {
        std::thread::sleep(Duration::from_millis(500));
        scraped = query(&prometheus.url, canary);
    }
    assert_eq!(scraped.len(), 1, "the canary's observed share was scraped within a minute");
    assert!((value(&scraped[0]) - 1.0 / 3.0).abs() < 0.02, "{scraped:?}");
    let intended = query(&prometheus.url, "meshlens_revision_intended_weight{workload=\"reviews\",role=\"canary\"}");
    assert_eq!(value(&intended[0]), 0.4);
    let drift =
        query(&prometheus.url, "meshlens_canary_drift{namespace=\"bookinfo\",workload=\"reviews\",kind=\"Rollout\"}");
    assert!((value(&drift[0]) + 0.067).abs() < 0.02, "{drift:?}");
    let findings =
        query(&prometheus.url, "meshlens_doctor_findings{code=\"vs-not-bound-to-mesh\",severity=\"warning\"}");
    assert_eq!(value(&findings[0]), 1.0);
    let up = query(&prometheus.url, "up{job=\"meshlens\"}");
    assert_eq!(value(&up[0]), 1.0, "the scrape itself succeeded");
    prometheus.stop();
    serve.stop();
}
