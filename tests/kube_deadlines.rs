//! meshlens against Kubernetes API servers that never answer, or answer `503` with `Retry-After: 3600`: every
//! command ends by its deadline with an error naming the server, and `serve --kube` listens at once and says it is
//! not ready, and why, until the cluster is listed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "tests fail loudly"
)]

mod common;

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::fake_kube::{kubeconfig_for, start_silent, start_unavailable};
use serde_json::Value;

/// Runs meshlens with `args`, killed (and the test failed) if it runs past `limit`: its output and how long it ran.
fn run_within(args: &[&str], limit: Duration) -> (Output, Duration) {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_meshlens"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            child.kill().unwrap();
            let output = child.wait_with_output().unwrap();
            panic!("meshlens {args:?} still ran after {limit:?}: {}", String::from_utf8_lossy(&output.stderr));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    (child.wait_with_output().unwrap(), started.elapsed())
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `workloads`, `capture` and `rollout status` against the API server at `url`: each ends by its deadline, exit 2
/// (1 for `rollout status`, as the Argo CLI's), saying `expected` about the server.
fn every_command_ends_in_time(url: &str, expected: &str) {
    let work = tempfile::tempdir().unwrap();
    let kubeconfig = kubeconfig_for(url, work.path());
    let kube = ["--kube", "--kubeconfig", kubeconfig.to_str().unwrap()];
    let server = url.trim_start_matches("http://");
    let out = work.path().join("capture");
    for command in [&["workloads", "-A"][..], &["capture", "--out", out.to_str().unwrap()]] {
        let args = [command, &kube, &["--request-timeout", "2s"]].concat();
        let (output, took) = run_within(&args, Duration::from_secs(20));
        let err = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{command:?}: {err}");
        assert!(took < Duration::from_secs(8), "{command:?} took {took:?}");
        assert!(err.contains(server) && err.contains(expected), "{command:?}: {err}");
    }
    // --timeout counts from the start, the first listing included.
    let args = [&["rollout", "status", "reviews", "-n", "bookinfo", "--timeout", "5s"][..], &kube].concat();
    let (output, took) = run_within(&args, Duration::from_secs(20));
    let err = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(err.ends_with("Error: Rollout status watch exceeded timeout\n"), "{err}");
    assert!(took >= Duration::from_millis(4900) && took < Duration::from_secs(9), "took {took:?}");
    // Answered once, the first failure ends it.
    let args =
        [&["rollout", "status", "reviews", "-n", "bookinfo", "--watch=false", "--request-timeout", "2s"][..], &kube]
            .concat();
    let (output, took) = run_within(&args, Duration::from_secs(20));
    let err = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{err}");
    let last = err.lines().last().unwrap_or_default();
    assert!(last.starts_with("Error: ") && last.contains(server) && last.contains(expected), "{err}");
    assert!(took < Duration::from_secs(8), "took {took:?}");
}

#[test]
fn commands_end_by_their_deadline_when_the_api_server_never_answers() {
    every_command_ends_in_time(&start_silent(), "gave no answer");
}

#[test]
fn commands_end_by_their_deadline_when_the_api_server_asks_to_retry_in_an_hour() {
    every_command_ends_in_time(&start_unavailable(), "answered 503 Service Unavailable");
}

fn get(url: &str) -> (u16, String) {
    common::process::block_on(async {
        let answer = reqwest::get(url).await.unwrap();
        (answer.status().as_u16(), answer.text().await.unwrap())
    })
}

/// `serve --kube` against the API server at `url` listens at once and says it is not ready, the reason naming
/// the server and saying `expected` of it.
fn serve_says_why_it_is_not_ready(url: &str, expected: &str) {
    let work = tempfile::tempdir().unwrap();
    let kubeconfig = kubeconfig_for(url, work.path());
    let port = common::process::free_port();
    let args: Vec<String> = [
        "serve",
        "--kube",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--request-timeout",
        "2s",
        "--addr",
        &format!("127.0.0.1:{port}"),
    ]
    .map(String::from)
    .to_vec();
    let program = std::path::Path::new(env!("CARGO_BIN_EXE_meshlens"));
    let server = common::process::spawn(program, &args, &work.path().join("serve.log"), port, "/healthz");
    let started = Instant::now();
    let server_name = url.trim_start_matches("http://");
    loop {
        let (status, body) = get(&format!("{}/readyz", server.url));
        assert_eq!(status, 503, "{body}");
        let readiness: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(readiness["ready"], false);
        let reason = readiness["reason"].as_str().unwrap();
        if reason.contains(server_name) && reason.contains(expected) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "the reason never named the server: {reason}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let (status, body) = get(&format!("{}/api/graph", server.url));
    assert_eq!(status, 503, "{body}");
    let error: Value = serde_json::from_str(&body).unwrap();
    assert!(error["error"].as_str().unwrap().starts_with("not ready: "), "{body}");
    let (status, page) = get(&format!("{}/", server.url));
    assert!(status == 503 && page.contains("not ready"), "{status} {page}");
    let (status, _) = get(&format!("{}/healthz", server.url));
    assert_eq!(status, 200, "alive while not ready");
    server.stop();
}

#[test]
fn serve_listens_and_says_why_it_is_not_ready_while_the_api_server_never_answers() {
    serve_says_why_it_is_not_ready(&start_silent(), "gave no answer");
}

#[test]
fn serve_listens_and_says_why_it_is_not_ready_while_the_api_server_asks_to_retry_in_an_hour() {
    serve_says_why_it_is_not_ready(&start_unavailable(), "answered 503 Service Unavailable");
}
