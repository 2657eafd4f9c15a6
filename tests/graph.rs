//! The traffic graph on simulated scenarios, from the in-memory engine and from a real Prometheus alike.
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
use std::path::Path;
use std::sync::Arc;

use common::process::{backfill, block_on, start_prometheus};
use common::servers::{prometheus, simulated_scenario};
use common::{copy_dir, meshlens, meshlens_ok, rewrite_documents, stderr};
use meshlens::graph::{Graph, GraphRequest, GraphType, NodeType, Reporter, ScrapeLabels, TrafficRole};
use meshlens::identity::IdentityIndex;
use meshlens::sim::Scenario;
use meshlens::telemetry::{Backend, MemoryStore, Prometheus, PrometheusConfig};
use serde_json::Value;

fn memory_backend(dir: &Path) -> Backend {
    let mut store = MemoryStore::new();
    let text = std::fs::read_to_string(dir.join("metrics/istio.om")).unwrap();
    store.load_openmetrics("istio.om", text.as_bytes()).unwrap();
    Backend::Memory(Arc::new(tokio::sync::RwLock::new(store)))
}

fn prometheus_backend() -> Backend {
    Backend::Prometheus(Prometheus::new(&PrometheusConfig::new(prometheus())).unwrap())
}

/// The graph of a snapshot's objects with telemetry from `backend`, at `at`.
fn graph_of(dir: &Path, backend: &Backend, graph_type: GraphType, at: i64) -> Graph {
    let snapshot = meshlens::snapshot::load(dir).unwrap();
    let index = IdentityIndex::build(&snapshot.inventory);
    let req = GraphRequest::new(at, 600, ScrapeLabels::default()).with_type(graph_type).with_edge_latency(true);
    block_on(meshlens::graph::graph(backend, &index, &snapshot.inventory, &req)).unwrap()
}

fn both_backends(scenario: Scenario, graph_type: GraphType) -> Vec<(&'static str, Graph)> {
    let sim = simulated_scenario(scenario);
    vec![
        ("in-memory", graph_of(&sim.dir, &memory_backend(&sim.dir), graph_type, sim.time)),
        ("prometheus", graph_of(&sim.dir, &prometheus_backend(), graph_type, sim.time)),
    ]
}

fn near(actual: f64, expected: f64, tolerance: f64) -> bool {
    (actual - expected).abs() <= tolerance
}

#[test]
fn bookinfo_reviews_is_one_rollout_node_with_the_measured_split() {
    for (engine, graph) in both_backends(Scenario::BookinfoCanary, GraphType::Workload) {
        let reviews: Vec<_> = graph.nodes.iter().filter(|n| n.name.starts_with("reviews")).collect();
        assert_eq!(
            reviews.len(),
            1,
            "{engine}: one reviews node: {:?}",
            reviews.iter().map(|n| &n.id).collect::<Vec<_>>()
        );
        let reviews = reviews[0];
        assert_eq!(reviews.workload_kind.as_ref().map(|k| k.as_str()), Some("Rollout"), "{engine}");
        assert_eq!(reviews.url.as_deref(), Some("/workloads/bookinfo/reviews"));
        let rs_names: BTreeSet<&str> = reviews.revisions.iter().map(|r| r.replica_set.as_str()).collect();
        for node in &graph.nodes {
            assert!(!rs_names.contains(node.name.as_str()), "{engine}: node {} is named like a ReplicaSet", node.id);
            assert!(!node.is_ghost, "{engine}: ghost {}", node.id);
        }
        let role = |r: TrafficRole| reviews.revisions.iter().find(|rev| rev.role == r).unwrap();
        let (stable, canary) = (role(TrafficRole::Stable), role(TrafficRole::Canary));
        assert!(near(stable.observed_share.unwrap(), 0.80, 0.03), "{engine}: stable {:?}", stable.observed_share);
        assert!(near(canary.observed_share.unwrap(), 0.20, 0.03), "{engine}: canary {:?}", canary.observed_share);
        assert_eq!((stable.intended_weight, canary.intended_weight), (Some(0.8), Some(0.2)), "{engine}");
        assert_eq!((stable.routed_weight, canary.routed_weight), (Some(0.8), Some(0.2)), "{engine}");
        for r in [stable, canary] {
            assert!(r.rps > 0.0 && r.p95_ms.is_some_and(|p| p > 0.0) && r.error_ratio.is_some(), "{engine}: {r:?}");
        }
        assert!(
            canary.p95_ms > stable.p95_ms && canary.error_ratio > stable.error_ratio,
            "{engine}: the slower, failing canary shows"
        );
        assert_eq!(reviews.split.as_ref().unwrap().attributed_by, "pod");
        let edge =
            graph.edges.iter().find(|e| e.source.ends_with(":productpage-v1") && e.target == reviews.id).unwrap();
        assert!(near(edge.rps, 12.0, 0.6), "{engine}: productpage → reviews {}", edge.rps);
        // 80% at 0.5% errors and 20% at 3%.
        assert!(near(edge.error_ratio, 0.01, 0.005), "{engine}: error ratio {}", edge.error_ratio);
        assert!(edge.p95_ms.is_some(), "{engine}");
        assert_eq!(edge.reported_by, BTreeSet::from([Reporter::Source, Reporter::Destination]), "{engine}");
        let caller = &reviews.callers.iter().find(|c| c.source.ends_with(":productpage-v1")).unwrap();
        assert_eq!(caller.revisions.len(), 2);
        let ingress = graph.nodes.iter().find(|n| n.name == "istio-ingressgateway").unwrap();
        assert!(!ingress.is_outside, "{engine}: istio-system is loaded and selected");
        let tcp = graph.edges.iter().find(|e| e.target.ends_with(":mongodb-v1")).unwrap();
        assert!(tcp.tcp_bytes_per_s().unwrap() > 0.0, "{engine}: TCP bytes");
    }
}

#[test]
fn istio_upgrade_has_no_ghosts_and_one_node_per_rollout() {
    for (engine, graph) in both_backends(Scenario::IstioUpgrade, GraphType::Workload) {
        assert!(
            graph.nodes.iter().all(|n| !n.is_ghost),
            "{engine}: {:?}",
            graph.nodes.iter().filter(|n| n.is_ghost).map(|n| &n.id).collect::<Vec<_>>()
        );
        let reviews: Vec<_> = graph.nodes.iter().filter(|n| n.name.starts_with("reviews")).collect();
        assert_eq!(reviews.len(), 1, "{engine}");
        assert!(
            reviews[0].telemetry_names.len() >= 2,
            "{engine}: both naming generations merged: {:?}",
            reviews[0].telemetry_names
        );
        let canary = reviews[0].revisions.iter().find(|r| r.role == TrafficRole::Canary).unwrap();
        assert!(near(canary.observed_share.unwrap(), 0.20, 0.03), "{engine}");
    }
}

#[test]
fn a_deleted_workload_is_exactly_one_ghost() {
    let sim = simulated_scenario(Scenario::BookinfoCanary);
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&sim.dir, dir.path());
    rewrite_documents(&dir.path().join("k8s/bookinfo.yaml"), |doc| {
        let details = doc.contains("app: details")
            && ["kind: Deployment", "kind: ReplicaSet", "kind: Pod"].iter().any(|k| doc.contains(k));
        (!details).then(|| doc.to_owned())
    });
    for (engine, backend) in [("in-memory", memory_backend(dir.path())), ("prometheus", prometheus_backend())] {
        let graph = graph_of(dir.path(), &backend, GraphType::Workload, sim.time);
        let ghosts: Vec<_> = graph.nodes.iter().filter(|n| n.is_ghost).collect();
        assert_eq!(ghosts.len(), 1, "{engine}: {:?}", ghosts.iter().map(|n| &n.id).collect::<Vec<_>>());
        assert_eq!((ghosts[0].namespace.as_str(), ghosts[0].name.as_str()), ("bookinfo", "details-v1"));
        assert!(ghosts[0].ghost_reason.is_some());
        // Without an object, app and version come from the canonical labels, as in Kiali.
        assert_eq!((ghosts[0].app.as_deref(), ghosts[0].version.as_deref()), (Some("details"), Some("v1")), "{engine}");
        assert!(
            graph.edges.iter().any(|e| e.target == ghosts[0].id && e.rps > 10.0),
            "{engine}: the ghost carries traffic"
        );
    }
}

#[test]
fn app_versioned_app_and_service_graphs_keep_the_rollout_split() {
    let sim = simulated_scenario(Scenario::BookinfoCanary);
    let backend = memory_backend(&sim.dir);
    let app = graph_of(&sim.dir, &backend, GraphType::App, sim.time);
    let reviews = app.nodes.iter().find(|n| n.node_type == NodeType::App && n.name == "reviews").unwrap();
    assert_eq!(reviews.revisions.len(), 2, "the app node of a Rollout carries its split");
    assert_eq!(reviews.url.as_deref(), Some("/workloads/bookinfo/reviews"));
    let versioned = graph_of(&sim.dir, &backend, GraphType::VersionedApp, sim.time);
    let details = versioned.nodes.iter().find(|n| n.name == "details").unwrap();
    assert_eq!(details.version.as_deref(), Some("v1"));
    let service = graph_of(&sim.dir, &backend, GraphType::Service, sim.time);
    assert!(service.nodes.iter().any(|n| n.node_type == NodeType::Service && n.name == "reviews"));
    assert!(service.edges.iter().any(|e| e.source == "svc:Kubernetes:bookinfo:productpage" && e.target == "svc:Kubernetes:bookinfo:reviews"));
}

#[test]
fn a_service_graph_still_learns_from_series_quiet_in_the_window() {
    // In the Gateway API world the `reviews` Service's own series counted nothing in the last 10 minutes. The edge
    // queries of the other graph types leave such rows on the server; the service graph reads them, so the
    // Service is still drawn (idle), as before those queries left anything out.
    for (backend, graph) in both_backends(Scenario::Gatewayapi, GraphType::Service) {
        let reviews = graph.nodes.iter().find(|n| n.id == "svc:Kubernetes:bookinfo:reviews");
        assert!(reviews.is_some_and(|n| n.is_idle), "{backend}: the quiet reviews Service is an idle node");
    }
}

#[test]
fn blue_green_and_flagger_splits_follow_their_routing() {
    let sim = simulated_scenario(Scenario::Bluegreen);
    let graph = graph_of(&sim.dir, &memory_backend(&sim.dir), GraphType::Workload, sim.time);
    let checkout = graph.nodes.iter().find(|n| n.name == "checkout").unwrap();
    let active = checkout.revisions.iter().find(|r| r.role == TrafficRole::Stable).unwrap();
    let preview = checkout.revisions.iter().find(|r| r.role == TrafficRole::Canary).unwrap();
    assert_eq!((active.intended_weight, preview.intended_weight), (Some(1.0), Some(0.0)));
    assert!(preview.rps > 0.0, "the smoke tests reach the preview");
    let smoke = graph.nodes.iter().find(|n| n.name == "smoke-tests").unwrap();
    assert_eq!(smoke.workload_kind.as_ref().map(|k| k.as_str()), Some("CronJob"), "Job pods resolve to their CronJob");
    assert!(graph.edges.iter().any(|e| e.protocol == meshlens::graph::Protocol::Grpc));

    let sim = simulated_scenario(Scenario::Flagger);
    let graph = graph_of(&sim.dir, &memory_backend(&sim.dir), GraphType::Workload, sim.time);
    let podinfo: Vec<_> = graph.nodes.iter().filter(|n| n.name.starts_with("podinfo")).collect();
    assert_eq!(podinfo.len(), 1, "X and X-primary are one node");
    let canary = podinfo[0].revisions.iter().find(|r| r.role == TrafficRole::Canary).unwrap();
    assert_eq!(canary.intended_weight, Some(0.3));
    assert_eq!(canary.routed_weight, Some(0.3));
    assert!(near(canary.observed_share.unwrap(), 0.30, 0.03), "{:?}", canary.observed_share);
    assert_eq!(podinfo[0].split.as_ref().unwrap().attributed_by, "pod");
}

/// The rates Kiali defines, whether or not its test outputs show them (Kiali's `graph/protocol.go`).
const KIALI_NODE_RATES: &[&str] = &[
    "grpcIn",
    "grpcInNoResponse",
    "grpcInErr",
    "grpcOut",
    "httpIn",
    "httpInNoResponse",
    "httpIn3xx",
    "httpIn4xx",
    "httpIn5xx",
    "httpOut",
    "tcpIn",
    "tcpOut",
];
const KIALI_EDGE_RATES: &[&str] = &[
    "grpc",
    "grpcNoResponse",
    "grpcErr",
    "grpcPercentErr",
    "grpcPercentReq",
    "http",
    "httpNoResponse",
    "http3xx",
    "http4xx",
    "http5xx",
    "httpPercentErr",
    "httpPercentReq",
    "tcp",
];

#[test]
fn kiali_output_carries_the_fields_of_kialis_own_outputs() {
    let testdata = common::upstream().join("kiali/graph/api/testdata");
    let mut always: std::collections::BTreeMap<String, BTreeSet<String>> = Default::default();
    let mut ever: std::collections::BTreeMap<String, BTreeSet<String>> = Default::default();
    let (mut edge_keys, mut rate_keys, mut node_rate_keys) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    for entry in std::fs::read_dir(&testdata).unwrap() {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap()).unwrap();
        for n in v["elements"]["nodes"].as_array().unwrap() {
            let d = n["data"].as_object().unwrap();
            let keys: BTreeSet<String> = d.keys().cloned().collect();
            let t = d["nodeType"].as_str().unwrap().to_owned();
            always
                .entry(t.clone())
                .and_modify(|k| *k = k.intersection(&keys).cloned().collect())
                .or_insert(keys.clone());
            ever.entry(t).or_default().extend(keys);
            for traffic in d.get("traffic").and_then(Value::as_array).into_iter().flatten() {
                node_rate_keys.extend(traffic["rates"].as_object().unwrap().keys().cloned());
            }
        }
        for e in v["elements"]["edges"].as_array().unwrap() {
            edge_keys.extend(e["data"].as_object().unwrap().keys().cloned());
            rate_keys.extend(e["data"]["traffic"]["rates"].as_object().unwrap().keys().cloned());
        }
    }
    // Node flags Kiali sets that its test outputs happen not to show (FACTS.md §5).
    let documented = ["isIdle", "isDead", "hasTrafficShifting", "isServiceEntry", "isRoot"];
    let sim = simulated_scenario(Scenario::BookinfoCanary);
    for graph_type in ["workload", "app", "versioned-app", "service"] {
        let out = meshlens_ok(&["graph", "--snapshot", sim.dir.to_str().unwrap(), "--type", graph_type, "-o", "kiali"]);
        let v: Value = serde_json::from_str(&out).unwrap();
        assert!(v["timestamp"].is_i64() && v["duration"] == 600 && v["graphType"].is_string());
        for n in v["elements"]["nodes"].as_array().unwrap() {
            let d = n["data"].as_object().unwrap();
            let t = d["nodeType"].as_str().unwrap();
            let keys: BTreeSet<String> = d.keys().cloned().collect();
            let missing: Vec<_> = always[t].difference(&keys).collect();
            assert!(missing.is_empty(), "{graph_type}: {t} node lacks {missing:?}: {d:?}");
            let unknown: Vec<_> =
                keys.iter().filter(|k| !ever[t].contains(*k) && !documented.contains(&k.as_str())).collect();
            assert!(unknown.is_empty(), "{graph_type}: {t} node has fields Kiali never sets: {unknown:?}");
            for traffic in d.get("traffic").and_then(Value::as_array).into_iter().flatten() {
                for (k, rate) in traffic["rates"].as_object().unwrap() {
                    assert!(node_rate_keys.contains(k) || KIALI_NODE_RATES.contains(&k.as_str()), "node rate {k}");
                    assert!(rate.as_str().is_some_and(|r| r.parse::<f64>().is_ok()), "rates are strings: {rate}");
                }
            }
        }
        for e in v["elements"]["edges"].as_array().unwrap() {
            let d = e["data"].as_object().unwrap();
            for key in ["id", "source", "target", "traffic"] {
                assert!(d.contains_key(key), "edge lacks {key}");
            }
            for k in d.keys() {
                assert!(edge_keys.contains(k) || k == "responseTime", "edge field {k}");
            }
            for k in d["traffic"]["rates"].as_object().unwrap().keys() {
                assert!(
                    rate_keys.contains(k) || KIALI_EDGE_RATES.contains(&k.as_str()),
                    "edge rate {k} is not one Kiali uses"
                );
            }
        }
    }
}

#[test]
fn graph_command_outputs_table_json_and_dot() {
    let sim = simulated_scenario(Scenario::BookinfoCanary);
    let snap = sim.dir.to_str().unwrap();
    let table = meshlens_ok(&["graph", "--snapshot", snap, "-n", "bookinfo"]);
    assert!(table.contains("split of bookinfo/reviews Rollout"), "{table}");
    assert!(table.contains("istio-system/istio-ingressgateway"), "callers from other namespaces are drawn: {table}");
    let json: Value = serde_json::from_str(&meshlens_ok(&["graph", "--snapshot", snap, "-o", "json"])).unwrap();
    assert_eq!(json["graphType"], "workload");
    assert_eq!(json["duration"], "10m");
    let reviews = json["nodes"].as_array().unwrap().iter().find(|n| n["name"] == "reviews").unwrap();
    assert_eq!(reviews["revisions"].as_array().unwrap().len(), 2);
    assert!(reviews["revisions"][0]["observedShare"].is_f64());
    let dot = meshlens_ok(&["graph", "--snapshot", snap, "-o", "dot"]);
    assert!(dot.starts_with("digraph meshlens {") && dot.contains("URL=\"/workloads/bookinfo/reviews\""), "{dot}");
    // Against Prometheus too, with the namespace filter as a regex alternation.
    let prom = meshlens_ok(&[
        "graph",
        "--snapshot",
        snap,
        "--prometheus",
        prometheus(),
        "-n",
        "bookinfo,istio-system",
        "-o",
        "json",
    ]);
    let prom: Value = serde_json::from_str(&prom).unwrap();
    assert_eq!(prom["edges"].as_array().unwrap().len(), json["edges"].as_array().unwrap().len());
}

#[test]
fn edge_latency_is_measured_only_when_asked_for() {
    let sim = simulated_scenario(Scenario::BookinfoCanary);
    let snap = sim.dir.to_str().unwrap();
    let graph = |extra: &[&str]| -> Value {
        let args = [&["graph", "--snapshot", snap, "-o", "json"], extra].concat();
        serde_json::from_str(&meshlens_ok(&args)).unwrap()
    };
    let (lean, full) = (graph(&[]), graph(&["--latency"]));
    let edges_with_p95 = |g: &Value| g["edges"].as_array().unwrap().iter().filter(|e| e["p95Ms"].is_f64()).count();
    assert_eq!((edges_with_p95(&lean), lean["edgeLatency"].as_bool()), (0, Some(false)));
    let http_edges = full["edges"].as_array().unwrap().iter().filter(|e| e["protocol"] != "tcp").count();
    assert!(http_edges >= 4 && edges_with_p95(&full) == http_edges, "{}", full["edges"]);
    assert_eq!(full["edgeLatency"], true);
    assert_eq!(
        full["telemetry"]["queries"].as_u64().unwrap(),
        lean["telemetry"]["queries"].as_u64().unwrap() + 1,
        "one more query, for the histogram of every edge"
    );
    // A Rollout's per-revision p95 comes from its own pods' series, with or without edge latency.
    let reviews = lean["nodes"].as_array().unwrap().iter().find(|n| n["name"] == "reviews").unwrap();
    assert!(reviews["revisions"].as_array().unwrap().iter().all(|r| r["p95Ms"].as_f64().is_some_and(|p| p > 0.0)));
    let header = |args: &[&str]| {
        meshlens_ok(&[&["graph", "--snapshot", snap], args].concat()).lines().nth(2).unwrap().to_owned()
    };
    assert!(!header(&[]).contains("P95") && header(&["--latency"]).ends_with("P95"), "{}", header(&["--latency"]));
}

#[test]
fn hostile_namespace_arguments_never_reach_a_query() {
    for bad in ["a\"b", "x}", ".*", "bookinfo|istio-system", "a\\", "Bookinfo"] {
        let out = meshlens(&["graph", "-n", bad, "--prometheus", "http://127.0.0.1:9"]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(stderr(&out).contains("is not a Kubernetes namespace name"), "{bad}: {}", stderr(&out));
    }
    let out = meshlens(&["graph", "-n", "nosuch"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("namespace \"nosuch\" has no objects"), "{}", stderr(&out));
}

/// Counter samples growing by `rps` a second over the 15 minutes before `at`, every 30 s.
fn counter(out: &mut String, labels: &str, rps: f64, at: i64) {
    for t in (at - 900..=at).step_by(30) {
        out.push_str(&format!("istio_requests_total{{{labels}}} {} {t}\n", rps * (t - (at - 900)) as f64));
    }
}

/// The labels of a call from `source` to `destination` (bookinfo workloads, sidecar-injected) as `reporter` saw it.
fn call(reporter: &str, source: &str, destination: &str, service: &str, code: &str, flags: &str) -> String {
    let app = |w: &str| w.trim_end_matches("-v1").to_owned();
    let source_ns = match source {
        "istio-ingressgateway" => "istio-system",
        "unknown" => "unknown",
        _ => "bookinfo",
    };
    let destination_ns = if destination == "unknown" { "unknown" } else { "bookinfo" };
    format!(
        "reporter=\"{reporter}\",source_workload=\"{source}\",source_workload_namespace=\"{source_ns}\",\
         source_canonical_service=\"{}\",source_canonical_revision=\"v1\",source_cluster=\"Kubernetes\",\
         destination_workload=\"{destination}\",destination_workload_namespace=\"{destination_ns}\",\
         destination_canonical_service=\"{}\",destination_canonical_revision=\"v1\",destination_cluster=\"Kubernetes\",\
         destination_service=\"{service}.bookinfo.svc.cluster.local\",destination_service_name=\"{service}\",\
         destination_service_namespace=\"bookinfo\",request_protocol=\"http\",response_code=\"{code}\",\
         grpc_response_status=\"\",response_flags=\"{flags}\"",
        app(source),
        app(destination)
    )
}

/// Calls reported by both proxies, by the callee's only, by the caller's only, and to and from nothing known.
fn reporter_telemetry(at: i64) -> String {
    let mut om = String::from("# TYPE istio_requests counter\n");
    // Both proxies report productpage → details; the caller alone sees 1 req/s its proxy failed (UO).
    counter(&mut om, &call("source", "productpage-v1", "details-v1", "details", "200", "-"), 10.0, at);
    counter(&mut om, &call("destination", "productpage-v1", "details-v1", "details", "200", "-"), 10.0, at);
    counter(&mut om, &call("source", "productpage-v1", "details-v1", "details", "503", "UO"), 1.0, at);
    // The caller is not scraped: only ratings' proxy reports.
    counter(&mut om, &call("destination", "productpage-v1", "ratings-v1", "ratings", "200", "-"), 4.0, at);
    // The destination is not scraped: only the gateway reports.
    counter(&mut om, &call("source", "istio-ingressgateway", "productpage-v1", "productpage", "200", "-"), 6.0, at);
    // A call to nothing known (no route), and a caller without a sidecar: two different unknown nodes.
    counter(&mut om, &call("source", "productpage-v1", "unknown", "unknown", "404", "NR"), 2.0, at);
    counter(&mut om, &call("destination", "unknown", "productpage-v1", "productpage", "200", "-"), 3.0, at);
    om.push_str("# EOF\n");
    om
}

#[test]
fn an_edge_is_counted_once_whichever_proxies_report_it() {
    let sim = simulated_scenario(Scenario::BookinfoCanary);
    let at = sim.time;
    let om = reporter_telemetry(at);

    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("reporters.om");
    std::fs::write(&file, &om).unwrap();
    let mut store = MemoryStore::new();
    store.load_openmetrics("reporters.om", om.as_bytes()).unwrap();
    let data = work.path().join("data");
    backfill(&file, &data);
    let server = start_prometheus(&data, work.path());
    let engines = [
        ("in-memory", Backend::Memory(Arc::new(tokio::sync::RwLock::new(store)))),
        ("prometheus", Backend::Prometheus(Prometheus::new(&PrometheusConfig::new(&server.url)).unwrap())),
    ];
    for (engine, backend) in engines {
        let graph = graph_of(&sim.dir, &backend, GraphType::Workload, at);
        let edge = |from: &str, to: &str| {
            graph
                .edges
                .iter()
                .find(|e| e.source.ends_with(&format!(":{from}")) && e.target.ends_with(&format!(":{to}")))
                .unwrap_or_else(|| panic!("{engine}: no edge {from} → {to}"))
        };
        let details = edge("productpage-v1", "details-v1");
        assert!(
            near(details.rps, 11.0, 0.01),
            "{engine}: both reporters count once, plus the caller's failures: {}",
            details.rps
        );
        assert!(near(details.error_ratio, 1.0 / 11.0, 0.001), "{engine}: {}", details.error_ratio);
        assert!(near(details.responses.by_flags()["UO"], 1.0, 0.01), "{engine}");
        assert_eq!(details.reported_by, BTreeSet::from([Reporter::Source, Reporter::Destination]), "{engine}");
        let ratings = edge("productpage-v1", "ratings-v1");
        assert!(near(ratings.rps, 4.0, 0.01), "{engine}: destination only: {}", ratings.rps);
        assert_eq!(ratings.reported_by, BTreeSet::from([Reporter::Destination]), "{engine}");
        let nowhere = graph
            .edges
            .iter()
            .find(|e| e.source.ends_with(":productpage-v1") && e.target == "svc:unknown:unknown:unknown");
        assert!(
            nowhere.is_some_and(|e| near(e.rps, 2.0, 0.01)),
            "{engine}: calls to nothing known end on Kiali's unknown service node"
        );
        let from_outside = graph.edges.iter().find(|e| e.source == "unknown" && e.target.ends_with(":productpage-v1"));
        assert!(
            from_outside.is_some_and(|e| near(e.rps, 3.0, 0.01)),
            "{engine}: a caller without a sidecar is the unknown node"
        );
        let ingress = edge("istio-ingressgateway", "productpage-v1");
        assert!(near(ingress.rps, 6.0, 0.01), "{engine}: source only: {}", ingress.rps);
        assert_eq!(ingress.reported_by, BTreeSet::from([Reporter::Source]), "{engine}");

        // productpage's sidecars are in the snapshot but report neither side of those two edges.
        let snapshot = meshlens::snapshot::load(&sim.dir).unwrap();
        let index = IdentityIndex::build(&snapshot.inventory);
        let req = GraphRequest::new(at, 600, ScrapeLabels::default());
        let report = block_on(meshlens::doctor::examine(&backend, &index, &snapshot.inventory, &req, &graph, 0.05));
        let mut gaps: Vec<(String, String)> = report
            .findings
            .iter()
            .filter(|f| f.code == meshlens::doctor::FindingCode::ReporterGap)
            .map(|f| (f.objects[0].to_string(), f.evidence["missingReporter"].as_str().unwrap().to_owned()))
            .collect();
        gaps.sort();
        let expected = [
            ("Deployment bookinfo/productpage-v1".to_owned(), "destination".to_owned()),
            ("Deployment bookinfo/productpage-v1".to_owned(), "source".to_owned()),
        ];
        assert_eq!(gaps, expected, "{engine}: {:#?}", report.findings);
    }
    server.stop();
}

/// What a waypoint reports of productpage's calls to the reviews Rollout when it splits them by subsets of the
/// `reviews` Service (so the calls name `reviews`, not a canary or stable Service): its series carry the waypoint
/// pod's own scrape labels (pod, pod-template hash), never the destination pod's.
fn waypoint_call(revision: &str) -> String {
    format!(
        "reporter=\"waypoint\",source_workload=\"productpage-v1\",source_workload_namespace=\"bookinfo\",\
         source_canonical_service=\"productpage\",source_canonical_revision=\"v1\",source_cluster=\"Kubernetes\",\
         destination_workload=\"reviews\",destination_workload_namespace=\"bookinfo\",\
         destination_canonical_service=\"reviews\",destination_canonical_revision=\"{revision}\",\
         destination_cluster=\"Kubernetes\",destination_service=\"reviews.bookinfo.svc.cluster.local\",\
         destination_service_name=\"reviews\",destination_service_namespace=\"bookinfo\",request_protocol=\"http\",\
         response_code=\"200\",response_flags=\"-\",pod=\"waypoint-7c6566694f-8drf8\",namespace=\"bookinfo\",\
         pod_template_hash=\"7c6566694f\",gateway_istio_io_managed=\"istio.io-mesh-controller\""
    )
}

/// The split of the reviews Rollout (Gateway API canary at 20%) when a waypoint reports its calls, on both engines.
fn ambient_split(dir: &Path, revisions: &[(&str, f64)]) -> Vec<(&'static str, Graph)> {
    let at = simulated_scenario(Scenario::Gatewayapi).time;
    let mut om = String::from("# TYPE istio_requests counter\n");
    for (revision, rps) in revisions {
        counter(&mut om, &waypoint_call(revision), *rps, at);
    }
    om.push_str("# EOF\n");
    std::fs::write(dir.join("metrics/istio.om"), &om).unwrap();
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    backfill(&dir.join("metrics/istio.om"), &data);
    let server = start_prometheus(&data, work.path());
    let prometheus = Backend::Prometheus(Prometheus::new(&PrometheusConfig::new(&server.url)).unwrap());
    let graphs = vec![
        ("in-memory", graph_of(dir, &memory_backend(dir), GraphType::Workload, at)),
        ("prometheus", graph_of(dir, &prometheus, GraphType::Workload, at)),
    ];
    server.stop();
    graphs
}

#[test]
fn an_ambient_split_is_measured_by_canonical_revision_or_shown_as_not_measurable() {
    let sim = simulated_scenario(Scenario::Gatewayapi);
    let work = tempfile::tempdir().unwrap();
    copy_dir(&sim.dir, work.path());
    let dir = work.path();
    let reviews = |graph: &Graph| graph.nodes.iter().find(|n| n.name == "reviews").unwrap().clone();

    // Both revisions report Istio's default canonical revision and the calls name one Service: nothing a waypoint
    // reports tells them apart.
    for (engine, graph) in ambient_split(dir, &[("latest", 10.0)]) {
        let node = reviews(&graph);
        let split = node.split.as_ref().unwrap();
        assert_eq!(split.unmeasured, Some(meshlens::graph::Unmeasured::AmbientSameRevision), "{engine}");
        assert!(near(split.unattributed_rps, 10.0, 0.05), "{engine}: {}", split.unattributed_rps);
        assert!(
            node.revisions.iter().all(|r| r.observed_share.is_none()),
            "{engine}: no share is better than a wrong one"
        );
        assert!(graph.warnings.iter().any(|w| w.contains("ambient waypoint")), "{engine}: {:?}", graph.warnings);
    }
    let out = meshlens_ok(&["doctor", "--snapshot", dir.to_str().unwrap(), "-n", "bookinfo", "-o", "json"]);
    let report: Value = serde_json::from_str(&out).unwrap();
    let finding = report["findings"].as_array().unwrap().iter().find(|f| f["code"] == "ambient-split-unmeasurable");
    let advice = finding.map(|f| f["advice"].as_str().unwrap().to_owned()).unwrap_or_default();
    assert!(advice.contains("service.istio.io/canonical-revision") && advice.contains("canaryMetadata"), "{out}");

    // With canaryMetadata / stableMetadata setting the canonical revision, the waypoint's reports name the revision.
    let snapshot = meshlens::snapshot::load(dir).unwrap();
    let index = IdentityIndex::build(&snapshot.inventory);
    let rollout = index.named("bookinfo", "reviews").next().unwrap();
    let manifests = dir.join("k8s/bookinfo.yaml");
    let mut text = std::fs::read_to_string(&manifests).unwrap();
    for rs in rollout.replica_sets.iter().filter(|rs| !rs.roles.is_empty()) {
        let role = if rs.roles.contains(&meshlens::identity::Role::Canary) { "canary" } else { "stable" };
        let hash_line = format!("rollouts-pod-template-hash: {}", rs.hash.as_deref().unwrap());
        text = text
            .lines()
            .flat_map(|line| {
                let mut out = vec![line.to_owned()];
                if line.trim() == hash_line {
                    let indent = &line[..line.len() - line.trim_start().len()];
                    out.push(format!("{indent}service.istio.io/canonical-revision: {role}"));
                }
                out
            })
            .collect::<Vec<_>>()
            .join("\n");
    }
    std::fs::write(&manifests, text).unwrap();
    for (engine, graph) in ambient_split(dir, &[("stable", 8.0), ("canary", 2.0)]) {
        let node = reviews(&graph);
        let split = node.split.as_ref().unwrap();
        assert_eq!(split.attributed_by, "canonicalRevision", "{engine}");
        assert_eq!(split.unmeasured, None, "{engine}");
        let share = |role: TrafficRole| node.revisions.iter().find(|r| r.role == role).unwrap().observed_share;
        assert!(near(share(TrafficRole::Stable).unwrap(), 0.8, 0.01), "{engine}: {:?}", node.revisions);
        assert!(near(share(TrafficRole::Canary).unwrap(), 0.2, 0.01), "{engine}: {:?}", node.revisions);
    }
}

#[test]
fn a_ztunnel_scrape_draws_its_l4_edges_once() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ztunnel/ambient-bookinfo.om");
    let sim = simulated_scenario(Scenario::BookinfoCanary);
    let work = tempfile::tempdir().unwrap();
    copy_dir(&sim.dir, work.path());
    let dir = work.path();
    std::fs::copy(&fixture, dir.join("metrics/istio.om")).unwrap();
    let data = work.path().join("data");
    backfill(&fixture, &data);
    let server = start_prometheus(&data, work.path());
    let prometheus = Backend::Prometheus(Prometheus::new(&PrometheusConfig::new(&server.url)).unwrap());
    for (engine, backend) in [("in-memory", memory_backend(dir)), ("prometheus", prometheus)] {
        let graph = graph_of(dir, &backend, GraphType::Workload, sim.time);
        let edge = graph
            .edges
            .iter()
            .find(|e| e.source.ends_with(":productpage-v1") && e.target.ends_with(":details-v1"))
            .unwrap_or_else(|| panic!("{engine}: no L4 edge: {:?}", graph.edges));
        let tcp = edge.tcp.unwrap();
        assert!(near(tcp.sent, 100.0, 0.5) && near(tcp.received, 200.0, 0.5), "{engine}: counted once: {tcp:?}");
        assert_eq!(edge.reported_by, BTreeSet::from([Reporter::Source, Reporter::Destination]), "{engine}");
        assert_eq!(graph.edges.len(), 1, "{engine}: {:?}", graph.edges);
    }
    server.stop();
    // Kiali's ambientTraffic: ztunnel's reports are drawn unless only waypoints' (or none) are asked for.
    let snap = dir.to_str().unwrap();
    for (traffic, edges) in [("total", 1), ("ztunnel", 1), ("waypoint", 0), ("none", 0)] {
        let out = meshlens_ok(&["graph", "--snapshot", snap, "-o", "json", "--ambient-traffic", traffic]);
        let graph: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(graph["edges"].as_array().unwrap().len(), edges, "--ambient-traffic {traffic}");
    }
}

#[test]
fn a_node_graph_draws_the_focus_and_its_neighbours_without_guessing_their_shares() {
    let sim = simulated_scenario(Scenario::BookinfoCanary);
    let snap = sim.dir.to_str().unwrap();
    let out = meshlens_ok(&["graph", "--snapshot", snap, "--focus", "workload/bookinfo/reviews", "-o", "json"]);
    let graph: Value = serde_json::from_str(&out).unwrap();
    let edges = graph["edges"].as_array().unwrap();
    let ends: BTreeSet<(&str, &str)> =
        edges.iter().map(|e| (e["source"].as_str().unwrap(), e["target"].as_str().unwrap())).collect();
    assert_eq!(
        ends,
        BTreeSet::from([
            ("wl:Kubernetes:bookinfo:productpage-v1", "wl:Kubernetes:bookinfo:reviews"),
            ("wl:Kubernetes:bookinfo:reviews", "wl:Kubernetes:bookinfo:ratings-v1"),
        ])
    );
    for e in edges {
        let from_focus = e["source"] == "wl:Kubernetes:bookinfo:reviews";
        // productpage also calls details: its share of all it sends is not in a node graph of reviews.
        assert_eq!(e.get("share").is_some(), from_focus, "{e}");
    }
    let nodes: Vec<&str> = graph["nodes"].as_array().unwrap().iter().map(|n| n["name"].as_str().unwrap()).collect();
    assert!(!nodes.contains(&"details-v1"), "not a neighbour of reviews: {nodes:?}");
    let out = meshlens(&["graph", "--snapshot", snap, "--focus", "pod/bookinfo/reviews"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("workload/NS/NAME"), "{}", stderr(&out));
}

#[test]
fn an_ambient_workload_is_not_a_reporter_gap() {
    // productpage's pods moved to ambient mode without a waypoint: no sidecar reports their L7 calls, so a call
    // only the other side reports is all there is, not missing metrics.
    let sim = simulated_scenario(Scenario::BookinfoCanary);
    let work = tempfile::tempdir().unwrap();
    copy_dir(&sim.dir, work.path());
    rewrite_documents(&work.path().join("k8s/bookinfo.yaml"), |doc| {
        if !(doc.contains("kind: Pod") && doc.contains("name: productpage-v1-")) {
            return Some(doc.to_owned());
        }
        let lines = doc.lines().map(|line| {
            let indent = &line[..line.len() - line.trim_start().len()];
            if line.trim_start().starts_with("sidecar.istio.io/status:") {
                format!("{indent}ambient.istio.io/redirection: enabled")
            } else {
                line.replace("name: istio-proxy", "name: app-without-proxy")
            }
        });
        Some(lines.collect::<Vec<_>>().join("\n"))
    });
    std::fs::write(work.path().join("metrics/istio.om"), reporter_telemetry(sim.time)).unwrap();
    let snap = work.path().to_str().unwrap();
    let workloads: Value =
        serde_json::from_str(&meshlens_ok(&["workloads", "--snapshot", snap, "-o", "json"])).unwrap();
    let productpage = workloads.as_array().unwrap().iter().find(|w| w["name"] == "productpage-v1").unwrap();
    for pod in productpage["pods"].as_array().unwrap() {
        assert_eq!((pod["inMesh"].as_bool(), pod["sidecar"].as_bool()), (Some(true), Some(false)), "{pod}");
    }
    let out = meshlens(&["doctor", "--snapshot", snap, "-o", "json"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let gaps: Vec<&Value> =
        report["findings"].as_array().unwrap().iter().filter(|f| f["code"] == "reporter-gap").collect();
    assert!(gaps.is_empty(), "{gaps:?}");
}
