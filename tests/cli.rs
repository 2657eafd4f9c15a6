//! The CLI end to end: the real binary on simulated and hand-made snapshot directories.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "tests fail loudly"
)]

mod common;

use common::{meshlens, meshlens_ok, simulate, stderr};
use serde_json::Value;

#[test]
fn bookinfo_reviews_is_one_rollout_with_both_replica_sets_and_all_pods() {
    let dir = tempfile::tempdir().unwrap();
    simulate("bookinfo-canary", dir.path(), &[]);
    let out = meshlens_ok(&["workloads", "--snapshot", dir.path().to_str().unwrap(), "-o", "json"]);
    let workloads: Vec<Value> = serde_json::from_str(&out).unwrap();
    let reviews: Vec<&Value> = workloads.iter().filter(|w| w["name"] == "reviews").collect();
    assert_eq!(reviews.len(), 1, "reviews is listed once");
    let reviews = reviews[0];
    assert_eq!(reviews["kind"], "Rollout");
    assert_eq!(reviews["apiVersion"], "argoproj.io/v1alpha1");
    let replica_sets = reviews["replicaSets"].as_array().unwrap();
    let with_role =
        |role: &str| replica_sets.iter().find(|rs| rs["roles"].as_array().unwrap().iter().any(|r| r == role)).unwrap();
    let (stable, canary) = (with_role("stable"), with_role("canary"));
    let pods = reviews["pods"].as_array().unwrap();
    assert_eq!(pods.len(), 8, "6 stable and 2 canary pods");
    let count_in = |rs: &Value| pods.iter().filter(|p| p["replicaSet"] == rs["name"]).count();
    assert_eq!((count_in(stable), count_in(canary)), (6, 2));
    let names: Vec<&str> = reviews["telemetryNames"].as_array().unwrap().iter().map(|n| n.as_str().unwrap()).collect();
    for expected in ["reviews", stable["name"].as_str().unwrap(), canary["name"].as_str().unwrap()] {
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }
    assert!(pods.iter().all(|p| p["telemetryName"] == "reviews"), "Istio >= 1.22 names every pod after the Rollout");
    // No ReplicaSet of the Rollout shows up as a workload of its own.
    assert!(workloads.iter().all(|w| !w["name"].as_str().unwrap().starts_with("reviews-")));
}

#[test]
fn workload_and_rollout_views_of_a_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    simulate("bookinfo-canary", dir.path(), &[]);
    let snap = dir.path().to_str().unwrap();
    let text = meshlens_ok(&["workload", "reviews", "-n", "bookinfo", "--snapshot", snap]);
    assert!(text.contains("Kind:            Rollout (argoproj.io/v1alpha1)"), "{text}");
    assert_eq!(text.lines().filter(|l| l.starts_with("reviews-") && l.contains(" Running ")).count(), 8, "{text}");
    let rollout = meshlens_ok(&["rollout", "get", "reviews", "-n", "bookinfo", "--snapshot", snap, "-o", "json"]);
    let rollout: Value = serde_json::from_str(&rollout).unwrap();
    assert_eq!((rollout["setWeight"].as_i64(), rollout["actualWeight"].as_i64()), (Some(20), Some(20)));
    assert_eq!(rollout["phase"], "Paused");
    assert_eq!(rollout["revisions"].as_array().unwrap().len(), 3);
    // The measured split rides along, overall and per caller.
    let split = &rollout["observedSplit"];
    let canary = split["revisions"].as_array().unwrap().iter().find(|r| r["role"] == "canary").unwrap();
    assert!((canary["observedShare"].as_f64().unwrap() - 0.2).abs() < 0.03, "{canary}");
    assert_eq!(canary["intendedWeight"].as_f64(), Some(0.2));
    assert!(split["callers"][0]["source"].as_str().unwrap().ends_with(":productpage-v1"));
    assert!(
        text.contains("split of bookinfo/reviews Rollout") && text.contains("in from    bookinfo/productpage-v1"),
        "{text}"
    );
    // A telemetry name finds its workload too.
    let stable_rs = rollout["revisions"][1]["replicaSets"][0]["name"].as_str().unwrap().to_owned();
    let by_alias = meshlens(&["workload", &stable_rs, "--snapshot", snap, "-o", "json"]);
    assert!(by_alias.status.success(), "{}", stderr(&by_alias));
    let w: Value = serde_json::from_slice(&by_alias.stdout).unwrap();
    assert_eq!((w["name"].as_str(), w["kind"].as_str()), (Some("reviews"), Some("Rollout")));
}

#[test]
fn unknown_workload_exits_2_naming_close_matches() {
    let out = meshlens(&["workload", "reveiws", "-n", "bookinfo"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("no workload \"reveiws\"") && err.contains("did you mean reviews"), "{err}");
    let out = meshlens(&["rollout", "get", "review"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("did you mean reviews"), "{}", stderr(&out));
}

#[test]
fn missing_or_non_directory_snapshot_exits_2() {
    let out = meshlens(&["workloads", "--snapshot", "/nonexistent/meshlens-snapshot"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("/nonexistent/meshlens-snapshot does not exist"), "{}", stderr(&out));
    let file = tempfile::NamedTempFile::new().unwrap();
    let out = meshlens(&["workloads", "--snapshot", file.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("is not a directory"), "{}", stderr(&out));
}

#[test]
fn windows_and_times_at_and_past_their_bounds_answer_or_exit_2_never_panic_or_wrap() {
    for duration in ["200000000000d", "2000000000d", "31d", "18446744073709551615", "0s", "-5m"] {
        let out = meshlens(&["graph", &format!("--duration={duration}"), "--at", "1795600000"]);
        assert_eq!(out.status.code(), Some(2), "--duration {duration}: {}", stderr(&out));
        assert!(stderr(&out).contains("is not a duration between 1s and 30d"), "{}", stderr(&out));
    }
    // The longest window sees the demo's traffic; the first and last representable times see none, and say so.
    let longest = meshlens_ok(&["graph", "--duration", "30d"]);
    assert!(longest.contains("720h ending") && longest.contains("reviews"), "{longest}");
    for at in ["--at=-377705023201", "--at=253402207200", "--at=-5"] {
        let text = meshlens_ok(&["graph", "--duration", "30d", at]);
        assert!(text.contains("no traffic in the window"), "{at}: {text}");
    }
    let out = meshlens(&["graph", "--at=-377705023202"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("-377705023202"), "{}", stderr(&out));
}

fn write(dir: &std::path::Path, file: &str, text: &str) {
    let path = dir.join("k8s").join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

const GOOD_DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: nginx}]}\n";

#[test]
fn malformed_documents_are_reported_by_file_and_index_and_the_rest_loads() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "good.yaml", GOOD_DEPLOYMENT);
    // Truncated YAML in the middle of a multi-document file.
    write(
        dir.path(),
        "mixed.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\n---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\n  namespace: shop\n  labels: {app: db\n---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent, namespace: shop}\n",
    );
    // Wrong types.
    write(
        dir.path(),
        "types.json",
        r#"{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api", "namespace": "shop"}, "spec": {"template": "three"}}"#,
    );
    // Unknown kinds are skipped and counted.
    write(
        dir.path(),
        "other.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}\n---\napiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: g, namespace: shop}\n",
    );
    let snap = dir.path().to_str().unwrap();
    let out = meshlens(&["workloads", "--snapshot", snap, "-o", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("k8s/mixed.yaml: document 2: unclosed bracket '{' (line 10, column 11)"), "{err}");
    assert!(
        err.contains(
            "k8s/types.json: document 1 (line 1): Deployment shop/api: spec.template: invalid type: string \"three\""
        ),
        "{err}"
    );
    assert!(err.contains("skipped 2 document(s)") && err.contains("v1/ConfigMap ×1"), "{err}");
    let workloads: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = workloads.iter().map(|w| w["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["agent", "web"], "the documents around the broken ones load");
    let strict = meshlens(&["workloads", "--snapshot", snap, "--strict"]);
    assert_eq!(strict.status.code(), Some(2));
    assert!(stderr(&strict).contains("2 manifest document(s) could not be read"), "{}", stderr(&strict));
}

#[test]
fn a_50_mb_manifest_file_loads_and_its_broken_last_document_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::with_capacity(52 * 1024 * 1024);
    let mut docs = 0;
    while text.len() < 50 * 1024 * 1024 {
        text.push_str(&format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: job-{docs}\n  namespace: batch\n  labels: {{app: batch, shard: \"{}\"}}\n  annotations: {{note: \"{}\"}}\nspec:\n  containers: [{{name: work, image: busybox}}]\nstatus: {{phase: Succeeded}}\n",
            docs % 97,
            "x".repeat(300)
        ));
        docs += 1;
    }
    text.push_str("---\napiVersion: v1\nkind: Pod\nmetadata: {name: cut\n");
    write(dir.path(), "big.yaml", &text);
    write(dir.path(), "good.yaml", GOOD_DEPLOYMENT);
    let out = meshlens(&["workloads", "--snapshot", dir.path().to_str().unwrap(), "-n", "batch", "-o", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains(&format!("k8s/big.yaml: document {}:", docs + 1)), "{}", stderr(&out));
    let workloads: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(workloads.len(), docs, "every bare pod is its own workload");
}

#[test]
fn demo_serves_the_bookinfo_canary() {
    let work = tempfile::tempdir().unwrap();
    let port = common::process::free_port();
    let args = vec!["demo".to_owned(), "--addr".to_owned(), format!("127.0.0.1:{port}")];
    let program = std::path::Path::new(env!("CARGO_BIN_EXE_meshlens"));
    let server = common::process::spawn(program, &args, &work.path().join("demo.log"), port, "/healthz");
    let body = common::process::block_on(async {
        reqwest::get(format!("{}/api/graph?namespaces=bookinfo", server.url)).await.unwrap().text().await.unwrap()
    });
    server.stop();
    let graph: Value = serde_json::from_str(&body).unwrap();
    let reviews = graph["nodes"].as_array().unwrap().iter().find(|n| n["name"] == "reviews").expect("reviews node");
    assert_eq!(reviews["workloadKind"], "Rollout");
    assert_eq!(reviews["revisions"].as_array().unwrap().len(), 2, "{reviews}");
    let log = std::fs::read_to_string(work.path().join("demo.log")).unwrap();
    assert!(log.contains(&format!("http://127.0.0.1:{port}/")), "the demo says which URL to open: {log}");
}

#[test]
fn simulation_is_deterministic_for_a_seed() {
    let (a, b, c) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    simulate("bluegreen", a.path(), &["--seed", "7"]);
    simulate("bluegreen", b.path(), &["--seed", "7"]);
    simulate("bluegreen", c.path(), &["--seed", "8"]);
    let read = |d: &tempfile::TempDir, f: &str| std::fs::read(d.path().join(f)).unwrap();
    for f in ["k8s/store.yaml", "metrics/istio.om", "snapshot.yaml"] {
        assert!(read(&a, f) == read(&b, f), "{f} differs between runs with the same seed");
    }
    assert!(read(&a, "k8s/store.yaml") != read(&c, "k8s/store.yaml"));
}

#[test]
fn completions_and_the_manual_page_come_from_the_command_definitions() {
    for shell in ["bash", "zsh", "fish"] {
        let script = meshlens_ok(&["completions", shell]);
        for word in ["workloads", "rollout", "snapshot", "kubeconfig"] {
            assert!(script.contains(word), "{shell} completions lack {word}");
        }
    }
    let page = meshlens_ok(&["man"]);
    assert!(page.contains(".TH meshlens"), "{}", &page[..200.min(page.len())]);
    for word in ["workloads", "rollout", "doctor", "serve"] {
        assert!(page.contains(word), "the manual page lacks {word}");
    }
    let out = meshlens(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2), "an unknown shell is refused");
}

#[test]
fn options_that_do_not_fit_together_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    simulate("bookinfo-canary", dir.path(), &[]);
    let snapshot = dir.path().to_str().unwrap();
    for (args, names) in [
        (vec!["rollout", "get", "reviews", "--snapshot", snapshot, "--watch"], ["--watch", "--snapshot"]),
        (vec!["rollout", "get", "reviews", "--kube", "--watch", "-o", "json"], ["--watch", "--output"]),
    ] {
        let out = meshlens(&args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(names.iter().all(|n| err.contains(n)) && err.contains("cannot be used with"), "{args:?}: {err}");
        assert!(!err.contains("Kubernetes configuration"), "refused before any cluster is asked: {err}");
    }
}

#[test]
fn rollout_list_shows_each_rollout_with_its_measured_canary_share_and_drift() {
    let list = |scenario: &str, extra: &[&str]| -> Value {
        let dir = tempfile::tempdir().unwrap();
        simulate(scenario, dir.path(), extra);
        serde_json::from_str(&meshlens_ok(&[
            "rollout",
            "list",
            "--snapshot",
            dir.path().to_str().unwrap(),
            "-o",
            "json",
        ]))
        .unwrap()
    };
    let healthy = list("bookinfo-canary", &[]);
    let reviews = &healthy[0];
    assert_eq!((reviews["name"].as_str(), reviews["strategy"].as_str()), (Some("reviews"), Some("Canary")));
    assert_eq!((reviews["step"].as_str(), reviews["setWeight"].as_i64()), (Some("1/8"), Some(20)));
    assert!((reviews["observedCanaryShare"].as_f64().unwrap() - 0.2).abs() < 0.01, "{reviews}");
    assert!(reviews["driftPoints"].as_f64().unwrap().abs() < 1.0, "{reviews}");
    let drifted = list("bookinfo-canary", &["--fault", "weights-disagree"]);
    assert!((drifted[0]["driftPoints"].as_f64().unwrap() - 30.0).abs() < 1.0, "{drifted}");
    let bluegreen = list("bluegreen", &[]);
    assert_eq!(
        (bluegreen[0]["strategy"].as_str(), bluegreen[0]["status"].as_str()),
        (Some("BlueGreen"), Some("Paused"))
    );
    assert!(bluegreen[0]["step"].is_null() && bluegreen[0]["driftPoints"].is_null(), "{bluegreen}");
    assert_eq!(list("flagger", &[]), serde_json::json!([]), "Flagger canaries are not Argo Rollouts");
    // The table: the Argo CLI's columns with OBSERVED and DRIFT.
    let dir = tempfile::tempdir().unwrap();
    simulate("bookinfo-canary", dir.path(), &["--fault", "weights-disagree"]);
    let table = meshlens_ok(&["rollout", "list", "--snapshot", dir.path().to_str().unwrap(), "-n", "bookinfo"]);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("NAME") && lines[0].contains("SET-WEIGHT  OBSERVED  DRIFT  READY"), "{table}");
    assert!(lines[1].starts_with("reviews") && lines[1].contains("50.0%") && lines[1].contains("+30.0"), "{table}");
}
