//! The simulator's ambient world (bookinfo without sidecars, ztunnel on every node, a waypoint in front of reviews
//! applying the Rollout's HTTPRoute) as the graph, the split and the doctor read it, on the in-memory engine and
//! on a real Prometheus.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod common;

use std::collections::BTreeMap;

use common::meshlens_ok;
use common::servers::{prometheus, simulated_scenario};
use meshlens::sim::Scenario;
use serde_json::Value;

/// `meshlens graph` of the ambient scenario's bookinfo as JSON, from the snapshot's samples or from Prometheus.
fn graph(engine: &str, extra: &[&str]) -> Value {
    let sim = simulated_scenario(Scenario::Ambient);
    let mut args = vec!["graph", "--snapshot", sim.dir.to_str().unwrap(), "-n", "bookinfo", "-o", "json"];
    if engine == "prometheus" {
        args.extend(["--prometheus", prometheus()]);
    }
    args.extend(extra);
    serde_json::from_str(&meshlens_ok(&args)).unwrap()
}

fn name(id: &str) -> &str {
    id.rsplit(':').next().unwrap()
}

/// Every edge as `(source, target, protocol)` with its JSON.
fn edges(graph: &Value) -> BTreeMap<(String, String, String), Value> {
    let edges = graph["edges"].as_array().unwrap().iter();
    edges
        .map(|e| {
            let key = (e["source"].as_str().unwrap(), e["target"].as_str().unwrap(), e["protocol"].as_str().unwrap());
            ((name(key.0).to_owned(), name(key.1).to_owned(), key.2.to_owned()), e.clone())
        })
        .collect()
}

fn edge_key(source: &str, target: &str, protocol: &str) -> (String, String, String) {
    (source.to_owned(), target.to_owned(), protocol.to_owned())
}

#[test]
fn every_call_of_the_ambient_world_is_drawn_once_from_the_proxy_that_saw_it_on_both_engines() {
    let expected = [
        // The ingress gateway's own Envoy reports the call (L7); productpage's ztunnel the connection (L4).
        (("bookinfo-gateway-istio", "productpage-v1", "http"), "source"),
        (("bookinfo-gateway-istio", "productpage-v1", "tcp"), "destination"),
        // Without a waypoint, both ends' ztunnels report the connection.
        (("productpage-v1", "details-v1", "tcp"), "source,destination"),
        (("reviews", "ratings-v1", "tcp"), "source,destination"),
        (("ratings-v1", "mongodb-v1", "tcp"), "source,destination"),
        // Through the waypoint: the caller's ztunnel sees the leg to it, reviews' ztunnel the leg from it, the
        // waypoint the call.
        (("productpage-v1", "reviews", "http"), "waypoint"),
        (("productpage-v1", "waypoint", "tcp"), "source"),
        (("waypoint", "reviews", "tcp"), "destination"),
    ];
    let mut graphs = Vec::new();
    for engine in ["in-memory", "prometheus"] {
        let graph = graph(engine, &[]);
        let edges = edges(&graph);
        let drawn: BTreeMap<_, String> = edges
            .iter()
            .map(|(k, e)| {
                let by: Vec<&str> = e["reportedBy"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
                (k.clone(), by.join(","))
            })
            .collect();
        let expected: BTreeMap<_, String> =
            expected.iter().map(|((s, t, p), by)| (edge_key(s, t, p), by.to_string())).collect();
        assert_eq!(drawn, expected, "{engine}");
        // productpage sends 12 requests/s to reviews, counted once though two ztunnels and a waypoint saw them.
        let call = &edges[&edge_key("productpage-v1", "reviews", "http")];
        assert!((call["rps"].as_f64().unwrap() - 12.0).abs() < 0.3, "{engine}: {call}");
        assert_eq!(edges[&edge_key("productpage-v1", "waypoint", "tcp")]["waypoint"], "to", "{engine}");
        assert_eq!(edges[&edge_key("waypoint", "reviews", "tcp")]["waypoint"], "from", "{engine}");
        let nodes = graph["nodes"].as_array().unwrap();
        let waypoints: Vec<&str> =
            nodes.iter().filter(|n| n["isWaypoint"] == true).map(|n| n["name"].as_str().unwrap()).collect();
        assert_eq!(waypoints, ["waypoint"], "{engine}");
        assert!(!nodes.iter().any(|n| n["name"] == "ztunnel"), "{engine}: ztunnel carries traffic, it is not a node");
        graphs.push((engine, edges));
    }
    // The two engines agree on every figure.
    let (memory, prometheus) = (&graphs[0].1, &graphs[1].1);
    for (key, e) in memory {
        let p = &prometheus[key];
        for field in ["rps", "tcpBytesPerS", "errorRatio"] {
            let (a, b) = (e[field].as_f64().unwrap_or(0.0), p[field].as_f64().unwrap_or(0.0));
            assert!((a - b).abs() <= 1e-6 * a.abs().max(1.0), "{key:?} {field}: in-memory {a}, prometheus {b}");
        }
    }
}

#[test]
fn the_waypoint_split_of_the_rollout_is_measured_by_the_service_its_route_chose() {
    for engine in ["in-memory", "prometheus"] {
        let graph = graph(engine, &[]);
        let reviews = graph["nodes"].as_array().unwrap().iter().find(|n| n["name"] == "reviews").unwrap();
        let split = &reviews["split"];
        assert_eq!(split["attributedBy"], "serviceName", "{engine}: {split}");
        assert_eq!(split["unattributedRps"].as_f64(), Some(0.0), "{engine}: {split}");
        assert!(split.get("unmeasured").is_none(), "{engine}: {split}");
        for revision in reviews["revisions"].as_array().unwrap() {
            let (observed, intended) =
                (revision["observedShare"].as_f64().unwrap(), revision["intendedWeight"].as_f64().unwrap());
            assert!((observed - intended).abs() < 0.02, "{engine}: {revision}");
            // The waypoint's duration histogram gives each revision its latency.
            assert!(revision["p95Ms"].as_f64().is_some(), "{engine}: {revision}");
        }
    }
}

#[test]
fn kialis_ambient_options_choose_the_reports_and_the_waypoint_nodes() {
    let drawn = |extra: &[&str]| {
        let mut keys: Vec<String> =
            edges(&graph("in-memory", extra)).keys().map(|(s, t, p)| format!("{s}>{t}/{p}")).collect();
        keys.sort();
        keys
    };
    let all = drawn(&[]);
    // Waypoints' reports only: the ztunnel legs go, the call through the waypoint and the gateway's stay.
    assert_eq!(
        drawn(&["--ambient-traffic", "waypoint"]),
        ["bookinfo-gateway-istio>productpage-v1/http", "productpage-v1>reviews/http"]
    );
    let ztunnel_only = drawn(&["--ambient-traffic", "ztunnel"]);
    assert!(!ztunnel_only.contains(&"productpage-v1>reviews/http".to_owned()), "{ztunnel_only:?}");
    assert_eq!(ztunnel_only.len(), all.len() - 1, "{ztunnel_only:?}");
    // Without waypoint nodes, the legs through the waypoint go and the call it reported stays.
    let without = drawn(&["--waypoints", "false"]);
    assert!(without.iter().all(|e| !e.contains("waypoint")), "{without:?}");
    assert!(without.contains(&"productpage-v1>reviews/http".to_owned()), "{without:?}");
}

#[test]
fn ambient_pods_are_in_the_mesh_without_sidecars_and_the_doctor_finds_nothing_wrong() {
    let sim = simulated_scenario(Scenario::Ambient);
    let snap = sim.dir.to_str().unwrap();
    let doctor: Value =
        serde_json::from_str(&meshlens_ok(&["doctor", "--snapshot", snap, "-A", "-o", "json"])).unwrap();
    assert_eq!(doctor["findings"].as_array().unwrap().len(), 0, "{doctor}");
    let workloads = |dir: &str| -> Value {
        serde_json::from_str(&meshlens_ok(&["workloads", "--snapshot", dir, "-A", "-o", "json"])).unwrap()
    };
    let pods_of = |workloads: &Value, name: &str| -> Vec<(bool, bool)> {
        let w = workloads.as_array().unwrap().iter().find(|w| w["name"] == name).unwrap();
        w["pods"].as_array().unwrap().iter().map(|p| (p["inMesh"] == true, p["sidecar"] == true)).collect()
    };
    let all = workloads(snap);
    assert!(pods_of(&all, "productpage-v1").iter().all(|&p| p == (true, false)));
    // Istio's own proxies are the mesh, not workloads missing a sidecar.
    assert!(pods_of(&all, "waypoint").iter().all(|&p| p == (true, false)));
    assert!(pods_of(&all, "ztunnel").iter().all(|&p| p == (true, false)));
    assert!(pods_of(&all, "bookinfo-gateway-istio").iter().all(|&p| p == (true, true)));

    // Manifests written by hand carry no istio-cni mark: the namespace's dataplane mode enrols the pods, and a
    // pod's own `istio.io/dataplane-mode: none` opts it out.
    let work = tempfile::tempdir().unwrap();
    common::copy_dir(&sim.dir, work.path());
    let mut opted_out = 0;
    common::rewrite_documents(&work.path().join("k8s/bookinfo.yaml"), |doc| {
        let unmarked = doc.replace("ambient.istio.io/redirection: enabled", "example.com/note: hand-written");
        if !(doc.contains("kind: Pod") && doc.contains("name: details-v1-")) {
            return Some(unmarked);
        }
        opted_out += 1;
        Some(unmarked.replacen("labels:\n", "labels:\n    istio.io/dataplane-mode: none\n", 1))
    });
    assert_ne!(opted_out, 0, "the details pod was found");
    let hand_written = workloads(work.path().to_str().unwrap());
    assert!(pods_of(&hand_written, "productpage-v1").iter().all(|&p| p == (true, false)));
    assert!(pods_of(&hand_written, "details-v1").iter().all(|&p| p == (false, false)));
}
