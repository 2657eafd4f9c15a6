//! `meshlens doctor` on simulated bookinfo, routed by Istio's VirtualServices or by the Gateway API, with one fault
//! planted at a time: each fault gives exactly its findings, healthy worlds give no error or warning; on the
//! in-memory engine and on a real Prometheus.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "tests fail loudly"
)]

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::process::{backfill, start_prometheus};
use common::{meshlens, simulate, stderr};
use serde_json::Value;

fn workdir() -> &'static tempfile::TempDir {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("temp dir"))
}

/// bookinfo-canary with `fault` (or none) written once per test binary, `days` before the default time.
fn world(fault: Option<&str>, days: i64) -> PathBuf {
    world_of("bookinfo-canary", fault, days)
}

/// `scenario` with `fault` (or none) written once per test binary, `days` before the default time.
fn world_of(scenario: &str, fault: Option<&str>, days: i64) -> PathBuf {
    static WRITING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = WRITING.lock().unwrap_or_else(|e| e.into_inner());
    let dir = workdir().path().join(format!("{scenario}-{}-{days}", fault.unwrap_or("healthy")));
    if !dir.is_dir() {
        let time = (1_795_600_800 - days * 86_400).to_string();
        let mut extra = vec!["--time", &time];
        if let Some(f) = fault {
            extra.extend(["--fault", f]);
        }
        simulate(scenario, &dir, &extra);
    }
    dir
}

/// The doctor's JSON report and exit code.
fn doctor(snapshot: &Path, extra: &[&str]) -> (Value, i32) {
    let mut args = vec!["doctor", "--snapshot", snapshot.to_str().unwrap(), "-o", "json"];
    args.extend_from_slice(extra);
    let out = meshlens(&args);
    let code = out.status.code().unwrap_or(-1);
    assert!(code == 0 || code == 1, "doctor failed: {}", stderr(&out));
    (serde_json::from_slice(&out.stdout).expect("doctor JSON"), code)
}

/// Codes of the error and warning findings.
fn problems(report: &Value) -> BTreeSet<String> {
    findings(report)
        .iter()
        .filter(|f| f["severity"] != "info")
        .map(|f| format!("{}:{}", f["severity"].as_str().unwrap(), f["code"].as_str().unwrap()))
        .collect()
}

fn findings(report: &Value) -> &Vec<Value> {
    report["findings"].as_array().expect("findings")
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Each fault, the findings it must give (severity:code), nothing else of error or warning severity.
const FAULTS: [(&str, &[&str]); 10] = [
    ("mesh-unbound", &["warning:vs-not-bound-to-mesh", "warning:split-drift"]),
    ("stale-subset", &["error:subset-matches-no-pods", "warning:split-drift"]),
    ("missing-subset", &["error:unknown-subset", "warning:split-drift"]),
    ("canary-not-ready", &["error:subset-pods-not-ready", "warning:split-drift"]),
    ("weights-disagree", &["warning:routes-disagree-with-rollout", "warning:split-drift"]),
    ("mirror", &["warning:mirror-route", "warning:split-drift"]),
    ("fresh-step", &[]),
    ("deleted-workload", &["error:ghost-workload"]),
    ("no-pod-labels", &["warning:no-pod-labels"]),
    ("shared-name", &["warning:ambiguous-name"]),
];

/// The faults of bookinfo routed by the Gateway API (Argo Rollouts' plugin), and the findings each must give.
const GATEWAY_FAULTS: [(&str, &[&str]); 9] = [
    ("weights-disagree", &["warning:routes-disagree-with-rollout", "warning:split-drift"]),
    ("route-not-accepted", &["warning:route-not-accepted", "warning:split-drift"]),
    ("missing-backend", &["error:backend-not-found", "error:route-refs-unresolved", "warning:split-drift"]),
    ("stale-backend", &["error:backend-no-ready-pods", "warning:split-drift"]),
    ("gateway-only", &["warning:route-not-bound-to-mesh", "warning:split-drift"]),
    ("no-waypoint", &["warning:route-without-waypoint", "warning:split-drift"]),
    ("vs-and-route", &["warning:vs-and-route-same-host"]),
    ("max-weight", &["warning:plugin-max-weight", "warning:split-drift"]),
    ("mirror-step", &["warning:mirror-step-not-applied"]),
];

#[test]
fn each_planted_fault_gives_exactly_its_findings() {
    let planted = FAULTS.iter().map(|f| ("bookinfo-canary", f)).chain(GATEWAY_FAULTS.iter().map(|f| ("gatewayapi", f)));
    for (scenario, (fault, expected)) in planted {
        let (report, code) = doctor(&world_of(scenario, Some(fault), 0), &[]);
        assert_eq!(problems(&report), set(expected), "{scenario} {fault}: {report:#}");
        let errors = expected.iter().any(|e| e.starts_with("error:"));
        assert_eq!(code, i32::from(errors), "{scenario} {fault}: exit 1 exactly when an error is found");
    }
}

#[test]
fn gateway_api_findings_name_the_route_and_explain_the_drift() {
    let (report, _) = doctor(&world_of("gatewayapi", Some("weights-disagree"), 0), &[]);
    let f = findings(&report).iter().find(|f| f["code"] == "routes-disagree-with-rollout").unwrap();
    assert!(f["objects"].as_array().unwrap().iter().any(|o| o["kind"] == "HTTPRoute" && o["name"] == "reviews"), "{f}");
    assert_eq!(
        (f["evidence"]["setWeight"].as_i64(), f["evidence"]["routeCanaryWeight"].as_i64()),
        (Some(20), Some(50))
    );
    let (report, _) = doctor(&world_of("gatewayapi", Some("stale-backend"), 0), &[]);
    let f = findings(&report).iter().find(|f| f["code"] == "backend-no-ready-pods").unwrap();
    assert!(f["summary"].as_str().unwrap().contains("no revision has hash"), "{f}");
    assert!((f["evidence"]["failingRps"].as_f64().unwrap() - 2.4).abs() < 0.2, "the canary's 20% of 12 rps: {f}");
    let drift = findings(&report).iter().find(|f| f["code"] == "split-drift").unwrap();
    assert_eq!(drift["evidence"]["likelyCauses"], serde_json::json!(["backend-no-ready-pods"]));
    let (report, _) = doctor(&world_of("gatewayapi", Some("gateway-only"), 0), &[]);
    let f = findings(&report).iter().find(|f| f["code"] == "route-not-bound-to-mesh").unwrap();
    assert_eq!(f["evidence"]["inMeshCallers"], serde_json::json!(["productpage-v1"]));
    assert!((f["evidence"]["canaryShareByReadyPods"].as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-9, "{f}");
}

#[test]
fn healthy_worlds_have_no_errors_or_warnings() {
    for scenario in ["bookinfo-canary", "istio-upgrade", "bluegreen", "flagger", "gatewayapi"] {
        let dir = workdir().path().join(format!("healthy-{scenario}"));
        simulate(scenario, &dir, &[]);
        let (report, code) = doctor(&dir, &[]);
        assert_eq!((problems(&report), code), (set(&[]), 0), "{scenario}: {report:#}");
    }
}

#[test]
fn drift_is_judged_only_since_the_last_step() {
    // The canary started 25 minutes ago: over 30 minutes it got 20% × 25/30 ≈ 16.7%, which a tight threshold
    // would call drift; since its step it got its 20%.
    let (report, _) = doctor(&world(None, 0), &["--duration", "30m", "--threshold", "2"]);
    assert_eq!(problems(&report), set(&[]), "{report:#}");
    // A step one minute old is not judged at all.
    let (report, _) = doctor(&world(Some("fresh-step"), 0), &[]);
    let codes: Vec<&str> = findings(&report).iter().map(|f| f["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["step-too-recent"], "{report:#}");
    // The same world judged naively over 10 minutes would be 18 points off: that is what the step check prevents.
    let (report, _) = doctor(&world(Some("mesh-unbound"), 0), &["--threshold", "1"]);
    let drift = findings(&report).iter().find(|f| f["code"] == "split-drift").expect("drift");
    assert!((drift["evidence"]["observedCanaryShare"].as_f64().unwrap() - 1.0 / 3.0).abs() < 0.02, "{drift:#}");
}

#[test]
fn the_in_mesh_pod_count_split_names_the_virtual_service_and_the_missing_mesh() {
    let (report, _) = doctor(&world(Some("mesh-unbound"), 0), &[]);
    let f = findings(&report).iter().find(|f| f["code"] == "vs-not-bound-to-mesh").unwrap();
    let summary = f["summary"].as_str().unwrap();
    assert!(summary.contains("VirtualService bookinfo/reviews") && summary.contains("`mesh`"), "{summary}");
    assert!(f["objects"].as_array().unwrap().iter().any(|o| o["kind"] == "VirtualService" && o["name"] == "reviews"));
    assert_eq!(f["evidence"]["gateways"], serde_json::json!(["bookinfo-gateway"]));
    assert!(f["advice"].as_str().unwrap().contains("mesh"));
    // The drift it causes names it as the likely cause.
    let drift = findings(&report).iter().find(|f| f["code"] == "split-drift").unwrap();
    assert_eq!(drift["evidence"]["likelyCauses"], serde_json::json!(["vs-not-bound-to-mesh"]));
}

#[test]
fn findings_have_the_documented_shape() {
    let planted =
        FAULTS.iter().map(|f| ("bookinfo-canary", f.0)).chain(GATEWAY_FAULTS.iter().map(|f| ("gatewayapi", f.0)));
    for (scenario, fault) in planted {
        let (report, _) = doctor(&world_of(scenario, Some(fault), 0), &[]);
        for f in findings(&report) {
            let keys: BTreeSet<&str> = f.as_object().unwrap().keys().map(String::as_str).collect();
            assert_eq!(keys, BTreeSet::from(["code", "severity", "summary", "objects", "evidence", "advice"]), "{f}");
            assert!(["error", "warning", "info"].contains(&f["severity"].as_str().unwrap()));
            assert!(!f["advice"].as_str().unwrap().is_empty() || f["severity"] == "info", "{f}");
            for o in f["objects"].as_array().unwrap() {
                assert!(o["kind"].is_string() && o["namespace"].is_string() && o["name"].is_string(), "{o}");
            }
            assert!(f["evidence"].is_object());
        }
    }
}

#[test]
fn text_output_and_exit_code() {
    let dir = world(Some("stale-subset"), 0);
    let out = meshlens(&["doctor", "--snapshot", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("1 errors, 1 warnings"), "{text}");
    assert!(text.contains("ERROR   subset-matches-no-pods") && text.contains("fix: "), "{text}");
    let bad = meshlens(&["doctor", "--snapshot", dir.to_str().unwrap(), "--threshold", "250"]);
    assert_eq!(bad.status.code(), Some(2), "a threshold past 100 points is a usage error");
    // `rollout get` shows the Rollout's own findings under its split.
    let out = meshlens(&["rollout", "get", "reviews", "--snapshot", dir.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    let findings = text.split_once("findings (meshlens doctor):").map(|(_, f)| f).unwrap_or_default();
    assert!(findings.contains("subset-matches-no-pods") && findings.contains("split-drift"), "{text}");
}

#[test]
fn a_real_prometheus_gives_the_same_findings() {
    // Worlds a day apart in one Prometheus.
    let worlds = [
        ("bookinfo-canary", Some("mesh-unbound"), 1),
        ("bookinfo-canary", Some("stale-subset"), 2),
        ("bookinfo-canary", None, 3),
        ("gatewayapi", Some("missing-backend"), 4),
        ("gatewayapi", Some("gateway-only"), 5),
        ("gatewayapi", None, 6),
    ];
    let data = workdir().path().join("prometheus-data");
    let dirs: Vec<PathBuf> = worlds
        .iter()
        .map(|&(scenario, fault, days)| {
            let dir = world_of(scenario, fault, days);
            backfill(&dir.join("metrics/istio.om"), &data);
            dir
        })
        .collect();
    let server = start_prometheus(&data, workdir().path());
    for (dir, (_, fault, _)) in dirs.iter().zip(worlds) {
        let memory = doctor(dir, &["--duration", "30m"]);
        let prometheus = doctor(dir, &["--duration", "30m", "--prometheus", &server.url]);
        assert_eq!(problems(&prometheus.0), problems(&memory.0), "{fault:?}: {:#}", prometheus.0);
        assert_eq!(prometheus.1, memory.1, "{fault:?}");
    }
    server.stop();
}

/// The README's table of finding codes is the one `FindingCode` writes, row for row: a code added, renamed or given
/// another severity changes both or fails here.
#[test]
fn the_readme_lists_every_finding_code_as_the_enum_defines_it() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let table = meshlens::doctor::code::markdown_table();
    assert!(readme.contains(&table), "README.md's table of codes should read:\n{table}");
}
