//! A mesh installed with its own cluster ID (`global.multiCluster.clusterName`, as every managed Istio and every
//! multi-cluster-ready install has) reads as one installed with the default `Kubernetes`: the ID is learned from the
//! sidecars' ISTIO_META_CLUSTER_ID, given with `--cluster-id` where they do not say it, and a cluster the telemetry
//! names but no source was read as is a doctor warning, never a silently idle graph. From a snapshot and live (a
//! fake API server and a real Prometheus holding the same series).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "tests fail loudly"
)]

mod common;

use std::path::{Path, PathBuf};

use common::process::{backfill, start_prometheus};
use common::{fake_kube, meshlens, meshlens_ok, simulate};
use serde_json::Value;

/// The simulator's bookinfo-canary, installed with cluster ID `id`.
fn bookinfo(work: &Path, id: &str) -> PathBuf {
    let dir = work.join(id);
    simulate("bookinfo-canary", &dir, &["--cluster-id", id]);
    dir
}

/// A command's JSON answer, its query timings left out.
fn answer(args: &[&str]) -> Value {
    let mut value: Value = serde_json::from_str(&meshlens_ok(args)).unwrap();
    if let Some(map) = value.as_object_mut() {
        map.remove("telemetry");
    }
    value
}

/// `value` with every `from` in its text written `to`.
fn renamed(value: &Value, from: &str, to: &str) -> Value {
    serde_json::from_str(&value.to_string().replace(from, to)).unwrap()
}

fn graph(snapshot: &Path, extra: &[&str]) -> Value {
    answer(&[&["graph", "-A", "-o", "json", "--snapshot", snapshot.to_str().unwrap()], extra].concat())
}

fn doctor(snapshot: &Path, extra: &[&str]) -> Value {
    let args = [&["doctor", "-A", "-o", "json", "--snapshot", snapshot.to_str().unwrap()], extra].concat();
    serde_json::from_str(&String::from_utf8_lossy(&meshlens(&args).stdout)).unwrap()
}

fn codes(report: &Value) -> Vec<&str> {
    report["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap()).collect()
}

#[test]
fn a_mesh_with_its_own_cluster_id_reads_as_one_with_the_default() {
    let work = tempfile::tempdir().unwrap();
    let (default, east) = (bookinfo(work.path(), "Kubernetes"), bookinfo(work.path(), "east"));
    let graph_east = graph(&east, &[]);
    assert_eq!(graph_east, renamed(&graph(&default, &[]), "Kubernetes", "east"), "the same graph, named east");
    let reviews = graph_east["nodes"].as_array().unwrap().iter().find(|n| n["id"] == "wl:east:bookinfo:reviews");
    let split = &reviews.expect("reviews is a known workload of east")["split"];
    assert_eq!(split["attributedBy"], "pod", "the split is measured: {split}");
    let rollouts = |dir: &Path| answer(&["rollout", "list", "-A", "-o", "json", "--snapshot", dir.to_str().unwrap()]);
    assert_eq!(rollouts(&east), rollouts(&default));
    assert_eq!(doctor(&east, &[])["findings"], doctor(&default, &[])["findings"], "as healthy as the default");
}

#[test]
fn sidecars_that_do_not_say_their_cluster_are_warned_about_and_read_with_the_given_id() {
    let work = tempfile::tempdir().unwrap();
    let east = bookinfo(work.path(), "east");
    // An older capture, which kept no cluster ID of the sidecars.
    let silent = work.path().join("silent");
    common::copy_dir(&east, &silent);
    let cluster_env = regex::Regex::new(r"\n *- name: ISTIO_META_CLUSTER_ID\n *value: east").unwrap();
    for file in std::fs::read_dir(silent.join("k8s")).unwrap() {
        let path = file.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, cluster_env.replace_all(&text, "").as_ref()).unwrap();
    }
    assert!(!std::fs::read_to_string(silent.join("k8s/bookinfo.yaml")).unwrap().contains("ISTIO_META_CLUSTER_ID"));

    let report = doctor(&silent, &[]);
    let unloaded: Vec<&Value> =
        report["findings"].as_array().unwrap().iter().filter(|f| f["code"] == "unloaded-cluster").collect();
    assert_eq!(unloaded.len(), 1, "{report}");
    let evidence = &unloaded[0]["evidence"];
    assert_eq!((evidence["cluster"].as_str(), evidence["loadedCluster"].as_str()), (Some("east"), Some("Kubernetes")));
    assert!(evidence["rpsIn"].as_f64().unwrap() > 40.0, "the rates it carries: {evidence}");
    assert_eq!(unloaded[0]["severity"], "warning");

    let warnings = graph(&silent, &[])["warnings"].to_string();
    assert!(
        warnings.contains(r#"telemetry names cluster \"east\", but the objects were read as cluster \"Kubernetes\""#),
        "the graph says it too: {warnings}"
    );
    assert_eq!(graph(&silent, &["--cluster-id", "east"]), graph(&east, &[]), "given, the ID reads as learned");
    assert!(!codes(&doctor(&silent, &["--cluster-id", "east"])).contains(&"unloaded-cluster"));
}

#[test]
fn a_given_id_the_sidecars_contradict_is_said_and_theirs_is_read() {
    let work = tempfile::tempdir().unwrap();
    let east = bookinfo(work.path(), "east");
    let out = meshlens(&["workloads", "-A", "--snapshot", east.to_str().unwrap(), "--cluster-id", "west"]);
    let said = common::stderr(&out);
    assert!(said.contains("cluster ID west was given, but the sidecars report east"), "{said}");
    assert_eq!(graph(&east, &["--cluster-id", "west"]), graph(&east, &[]));
    let refused = meshlens(&["workloads", "--snapshot", east.to_str().unwrap(), "--cluster-id", "a b"]);
    assert_eq!(refused.status.code(), Some(2), "{}", common::stderr(&refused));
}

#[test]
fn a_live_cluster_with_its_own_cluster_id_reads_as_its_snapshot() {
    let work = tempfile::tempdir().unwrap();
    let east = bookinfo(work.path(), "east");
    let data = work.path().join("prometheus-data");
    backfill(&east.join("metrics/istio.om"), &data);
    let prometheus = start_prometheus(&data, work.path());
    let url = prometheus.url.clone();
    let world = meshlens::sim::build(&meshlens::sim::SimOptions {
        cluster_id: "east".into(),
        ..meshlens::sim::SimOptions::new(meshlens::sim::Scenario::BookinfoCanary)
    });
    let fake = fake_kube::start(&world.objects);
    let kubeconfig = fake.kubeconfig(work.path());
    let at = world.time.to_string();
    let live = answer(&[
        "graph",
        "-A",
        "-o",
        "json",
        "--kube",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--prometheus",
        &url,
        "--at",
        &at,
    ]);
    let snapshot = graph(&east, &["--prometheus", &url]);
    assert_eq!(live, snapshot);
    assert!(
        live["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["id"] == "wl:east:bookinfo:reviews" && n["split"].is_object())
    );
}
