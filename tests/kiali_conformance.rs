//! meshlens' Kiali output against Kiali's own graph tests: the telemetry Kiali's tests mock (its queries'
//! answers, `tests/fixtures/kiali/*.series`) is turned into raw counters, read by meshlens as any snapshot's, and
//! the graph it draws is compared field by field with Kiali's `.expected` output. Kiali's node and edge ids are
//! hashes of its internal keys, so nodes are compared by what they are (type, cluster, namespace, names) and edges
//! by their ends and protocol.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "tests fail loudly"
)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use common::meshlens_ok;
use serde_json::{Map, Value};

/// Kiali's tests query at this time (`queryTime=1523364075`).
const QUERY_TIME: i64 = 1_523_364_075;

/// The label names of a `.series` line's columns after reporter, metric and rate.
const COLUMNS: [&str; 17] = [
    "source_cluster",
    "source_workload_namespace",
    "source_workload",
    "source_canonical_service",
    "source_canonical_revision",
    "destination_cluster",
    "destination_service_namespace",
    "destination_service",
    "destination_service_name",
    "destination_workload_namespace",
    "destination_workload",
    "destination_canonical_service",
    "destination_canonical_revision",
    "request_protocol",
    "response_code",
    "grpc_response_status",
    "response_flags",
];

/// One series of a `.series` file.
struct Series {
    metric: String,
    rate: f64,
    labels: Vec<(&'static str, String)>,
}

impl Series {
    fn label(&self, name: &str) -> Option<&str> {
        self.labels.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }
}

fn read_series(name: &str) -> Vec<Series> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kiali").join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let columns = 3 + COLUMNS.len();
        assert!(fields.len() == columns || fields.len() == columns + 1, "{name}: {line}");
        let mut labels: Vec<(&'static str, String)> = vec![("reporter", fields[0].to_owned())];
        for (column, value) in COLUMNS.iter().zip(&fields[3..]) {
            if *value != "~" {
                labels.push((column, (*value).to_owned()));
            }
        }
        for extra in fields.get(columns).into_iter().flat_map(|f| f.split(',')) {
            let (label, value) = extra.split_once('=').unwrap();
            // Extra label names are few and fixed: leak them to share the columns' type.
            labels.push((Box::leak(label.to_owned().into_boxed_str()), value.to_owned()));
        }
        out.push(Series { metric: fields[1].to_owned(), rate: fields[2].parse().unwrap(), labels });
    }
    out
}

/// OpenMetrics counters growing at each series' rate over the 15 minutes before `at`, every 15 s.
fn openmetrics(series: &[Series], at: i64) -> String {
    let mut families: BTreeMap<&str, Vec<&Series>> = BTreeMap::new();
    for s in series {
        families.entry(s.metric.as_str()).or_default().push(s);
    }
    let mut out = String::new();
    for (metric, members) in families {
        writeln!(out, "# TYPE {} counter", metric.trim_end_matches("_total")).unwrap();
        for s in members {
            let labels: Vec<String> = s.labels.iter().map(|(n, v)| format!("{n}=\"{v}\"")).collect();
            for t in (at - 900..=at).step_by(15) {
                writeln!(out, "{metric}{{{}}} {} {t}", labels.join(","), s.rate * (t - (at - 900)) as f64).unwrap();
            }
        }
    }
    out.push_str("# EOF\n");
    out
}

/// The objects of Kiali's test cluster: its namespaces, and a Deployment for each workload its telemetry names in
/// them (Kiali's graph reads no workloads without appenders; meshlens looks every name up, so they must exist).
fn manifests(series: &[Series], namespaces: &[&str], waypoints: &[&str]) -> String {
    let mut workloads: BTreeMap<(String, String), (Option<String>, Option<String>)> = BTreeMap::new();
    for s in series {
        for side in ["source", "destination"] {
            let (Some(ns), Some(name)) =
                (s.label(&format!("{side}_workload_namespace")), s.label(&format!("{side}_workload")))
            else {
                continue;
            };
            if namespaces.contains(&ns) {
                let app = s.label(&format!("{side}_canonical_service")).map(str::to_owned);
                let version = s.label(&format!("{side}_canonical_revision")).map(str::to_owned);
                workloads.insert((ns.to_owned(), name.to_owned()), (app, version));
            }
        }
    }
    let mut out = String::new();
    for ns in namespaces {
        writeln!(out, "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}").unwrap();
    }
    for ((ns, name), (app, version)) in workloads {
        let mut labels = format!("        workload: {name}\n");
        if waypoints.contains(&name.as_str()) {
            labels.push_str("        gateway.istio.io/managed: istio.io-mesh-controller\n");
        }
        if let Some(app) = app {
            writeln!(labels, "        app: {app}").unwrap();
        }
        if let Some(version) = version {
            writeln!(labels, "        version: {version}").unwrap();
        }
        write!(
            out,
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  \
             replicas: 1\n  selector:\n    matchLabels:\n      workload: {name}\n  template:\n    metadata:\n      \
             labels:\n{labels}    spec:\n      containers:\n      - name: main\n        image: example\n"
        )
        .unwrap();
    }
    out
}

/// The cluster Kiali's test telemetry names (`east`, or `Kubernetes` in the ambient test).
fn cluster(series: &[Series]) -> &str {
    series.iter().find_map(|s| s.label("destination_cluster").filter(|c| *c != "unknown")).unwrap()
}

/// A snapshot of Kiali's test world with `series` as its telemetry.
fn snapshot(dir: &Path, series: &[Series], namespaces: &[&str], waypoints: &[&str]) {
    std::fs::create_dir_all(dir.join("k8s")).unwrap();
    std::fs::create_dir_all(dir.join("metrics")).unwrap();
    let time = jiff::Timestamp::from_second(QUERY_TIME).unwrap();
    std::fs::write(dir.join("snapshot.yaml"), format!("time: {time}\ncluster: {}\n", cluster(series))).unwrap();
    std::fs::write(dir.join("k8s/objects.yaml"), manifests(series, namespaces, waypoints)).unwrap();
    std::fs::write(dir.join("metrics/istio.om"), openmetrics(series, QUERY_TIME)).unwrap();
}

/// What a node is, whatever its id.
fn node_key(data: &Map<String, Value>) -> String {
    let field = |k: &str| data.get(k).and_then(Value::as_str).unwrap_or("");
    format!(
        "{} {}/{} workload={} app={} version={} service={}",
        field("nodeType"),
        field("cluster"),
        field("namespace"),
        field("workload"),
        field("app"),
        field("version"),
        field("service")
    )
}

/// Nodes and edges of a Kiali graph by content: node key → data without id; (source, target, protocol) → data
/// without ids.
fn by_content(graph: &Value) -> (BTreeMap<String, Value>, BTreeMap<String, Value>) {
    let keys: BTreeMap<String, String> = graph["elements"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["data"]["id"].as_str().unwrap().to_owned(), node_key(n["data"].as_object().unwrap())))
        .collect();
    let mut nodes = BTreeMap::new();
    for n in graph["elements"]["nodes"].as_array().unwrap() {
        let mut data = n["data"].as_object().unwrap().clone();
        let key = node_key(&data);
        data.remove("id");
        if let Some(parent) = data.remove("parent") {
            data.insert(
                "parent".into(),
                Value::String(keys.get(parent.as_str().unwrap()).cloned().unwrap_or_default()),
            );
        }
        assert!(nodes.insert(key.clone(), Value::Object(data)).is_none(), "two nodes are {key}");
    }
    let mut edges = BTreeMap::new();
    for e in graph["elements"]["edges"].as_array().unwrap() {
        let mut data = e["data"].as_object().unwrap().clone();
        let end = |k: &str| keys[data[k].as_str().unwrap()].clone();
        let key = format!("{} → {} [{}]", end("source"), end("target"), data["traffic"]["protocol"].as_str().unwrap());
        for k in ["id", "source", "target"] {
            data.remove(k);
        }
        // A waypoint leg's folded return leg: Kiali writes the caller as both its ends (meshlens writes the leg's
        // own ends, checked by the ambient test), and its id is a hash.
        if let Some(from) = data.get_mut("waypoint").and_then(|w| w.get_mut("fromEdge")).and_then(Value::as_object_mut)
        {
            for k in ["id", "source", "target"] {
                from.remove(k);
            }
        }
        assert!(edges.insert(key.clone(), Value::Object(data)).is_none(), "two edges are {key}");
    }
    (nodes, edges)
}

/// Every difference between two JSON values, as `path: expected ≠ actual` lines.
fn differences(path: &str, expected: &Value, actual: &Value, out: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            let keys: BTreeSet<&String> = e.keys().chain(a.keys()).collect();
            for k in keys {
                let (e, a) = (e.get(k).unwrap_or(&Value::Null), a.get(k).unwrap_or(&Value::Null));
                differences(&format!("{path}.{k}"), e, a, out);
            }
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
            for (i, (e, a)) in e.iter().zip(a).enumerate() {
                differences(&format!("{path}[{i}]"), e, a, out);
            }
        }
        _ if expected != actual => out.push(format!("{path}: Kiali {expected} ≠ meshlens {actual}")),
        _ => {}
    }
}

/// Compares meshlens' graph with Kiali's expected one; returns the differences.
fn compare(expected: &Value, actual: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for k in ["timestamp", "duration", "graphType"] {
        differences(k, &expected[k], &actual[k], &mut out);
    }
    let (expected_nodes, expected_edges) = by_content(expected);
    let (actual_nodes, actual_edges) = by_content(actual);
    for (kind, expected, actual) in [("node", expected_nodes, actual_nodes), ("edge", expected_edges, actual_edges)] {
        let keys: BTreeSet<&String> = expected.keys().chain(actual.keys()).collect();
        for key in keys {
            match (expected.get(key), actual.get(key)) {
                (Some(e), Some(a)) => differences(&format!("{kind} {key}"), e, a, &mut out),
                (Some(_), None) => out.push(format!("{kind} {key}: missing from meshlens")),
                (None, Some(_)) => out.push(format!("{kind} {key}: not in Kiali's")),
                (None, None) => {}
            }
        }
    }
    out
}

/// Kiali's tests leave the canonical service and revision of one workload empty, which no Istio proxy reports: it
/// fills them from the `app` label, else the workload's name, and from `version`, else `latest` (FACTS.md §1).
/// meshlens names the workload from its object as Istio would, so Kiali's expected node for it is changed to what
/// Kiali itself draws when telemetry carries those labels: `app`/`version` on the workload node, an app node in
/// app graphs.
fn as_istio_reports_it(expected: &mut Value, workload: &str) {
    let graph_type = expected["graphType"].as_str().unwrap().to_owned();
    for n in expected["elements"]["nodes"].as_array_mut().unwrap() {
        let data = n["data"].as_object_mut().unwrap();
        if data.get("workload").and_then(Value::as_str) != Some(workload) || data.contains_key("app") {
            continue;
        }
        data.insert("app".into(), workload.into());
        match graph_type.as_str() {
            "workload" => {
                data.insert("version".into(), "latest".into());
            }
            "versionedApp" => {
                data.insert("nodeType".into(), "app".into());
                data.insert("version".into(), "latest".into());
            }
            _ => {
                data.insert("nodeType".into(), "app".into());
                data.remove("workload");
            }
        }
    }
}

fn expected(name: &str) -> Value {
    let path = common::upstream().join("kiali/graph/api/testdata").join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// meshlens' Kiali graph of a snapshot.
fn kiali_graph(dir: &Path, args: &[&str]) -> Value {
    let mut all = vec!["graph", "--snapshot", dir.to_str().unwrap(), "-o", "kiali"];
    all.extend_from_slice(args);
    serde_json::from_str(&meshlens_ok(&all)).unwrap()
}

fn assert_matches(name: &str, expected: &Value, actual: &Value) {
    let diffs = compare(expected, actual);
    assert!(diffs.is_empty(), "{name}: {} differences:\n{}", diffs.len(), diffs.join("\n"));
}

#[test]
fn namespace_graphs_match_kialis_tests() {
    let series = read_series("namespace.series");
    let dir = tempfile::tempdir().unwrap();
    snapshot(dir.path(), &series, &["bookinfo", "tutorial"], &[]);
    for (graph_type, file) in [
        ("workload", "test_workload_graph.expected"),
        ("versioned-app", "test_versioned_app_graph.expected"),
        ("app", "test_app_graph.expected"),
        ("service", "test_service_graph.expected"),
    ] {
        let actual = kiali_graph(dir.path(), &["-n", "bookinfo", "--type", graph_type]);
        let mut expected = expected(file);
        as_istio_reports_it(&mut expected, "kiali-2412");
        assert_matches(file, &expected, &actual);
    }
}

#[test]
fn node_graphs_match_kialis_tests() {
    let series = read_series("node.series");
    let dir = tempfile::tempdir().unwrap();
    snapshot(dir.path(), &series, &["bookinfo", "tutorial"], &[]);
    for (focus, graph_type, file) in [
        ("workload/bookinfo/productpage-v1", "workload", "test_workload_node_graph.expected"),
        ("app/bookinfo/productpage", "versioned-app", "test_app_node_graph.expected"),
        ("app/bookinfo/productpage/v1", "versioned-app", "test_versioned_app_node_graph.expected"),
    ] {
        let actual = kiali_graph(dir.path(), &["--focus", focus, "--type", graph_type]);
        assert_matches(file, &expected(file), &actual);
    }
    let series = read_series("service-node.series");
    let dir = tempfile::tempdir().unwrap();
    snapshot(dir.path(), &series, &["bookinfo", "tutorial"], &[]);
    let actual = kiali_graph(dir.path(), &["--focus", "service/bookinfo/productpage", "--type", "workload"]);
    assert_matches("test_service_node_graph.expected", &expected("test_service_node_graph.expected"), &actual);
}

/// Kiali's graph without gRPC traffic: its message rates (`rateGrpc=sent|received|total`) read
/// `istio_request_messages_total` and `istio_response_messages_total`, which meshlens does not (the README lists
/// it), so those tests are compared with gRPC left out on both sides (`--rate-grpc none`).
fn without_grpc(mut graph: Value) -> Value {
    let elements = &mut graph["elements"];
    elements["edges"].as_array_mut().unwrap().retain(|e| e["data"]["traffic"]["protocol"] != "grpc");
    elements["nodes"].as_array_mut().unwrap().retain_mut(|n| {
        let Some(traffic) = n["data"].get_mut("traffic").and_then(Value::as_array_mut) else { return true };
        traffic.retain(|t| t["protocol"] != "grpc");
        if traffic.is_empty() {
            // A node drawn only for its gRPC messages.
            return false;
        }
        true
    });
    graph
}

#[test]
fn rate_parameters_match_kialis_tests() {
    let series = read_series("namespace.series");
    let dir = tempfile::tempdir().unwrap();
    snapshot(dir.path(), &series, &["bookinfo", "tutorial"], &[]);
    for (tcp, http, file) in [
        ("sent", "requests", "test_rates_sent_graph.expected"),
        ("received", "requests", "test_rates_received_graph.expected"),
        ("total", "requests", "test_rates_total_graph.expected"),
        ("total", "none", "test_rates_none_graph.expected"),
    ] {
        let rates = ["--rate-tcp", tcp, "--rate-http", http, "--rate-grpc", "none"];
        let mut args = vec!["-n", "bookinfo", "--type", "workload"];
        args.extend_from_slice(&rates);
        let actual = kiali_graph(dir.path(), &args);
        let mut expected = without_grpc(expected(file));
        as_istio_reports_it(&mut expected, "kiali-2412");
        assert_matches(file, &expected, &actual);
    }
    let series = read_series("rates-node.series");
    let dir = tempfile::tempdir().unwrap();
    snapshot(dir.path(), &series, &["bookinfo", "tutorial"], &[]);
    let args = ["--focus", "workload/bookinfo/productpage-v1", "--rate-tcp", "total", "--rate-grpc", "none"];
    let file = "test_rates_node_graph_total.expected";
    assert_matches(file, &without_grpc(expected(file)), &kiali_graph(dir.path(), &args));
}

#[test]
fn ambient_graph_matches_kialis_test() {
    let series = read_series("ambient.series");
    let dir = tempfile::tempdir().unwrap();
    snapshot(dir.path(), &series, &["bookinfo"], &["waypoint"]);
    let actual = kiali_graph(dir.path(), &["-n", "bookinfo", "--type", "workload"]);
    let file = "test_ambient_graph.expected";
    assert_matches(file, &expected(file), &actual);
    let edges = actual["elements"]["edges"].as_array().unwrap();
    let to = edges.iter().find(|e| e["data"]["waypoint"]["direction"] == "to").unwrap();
    let back = &to["data"]["waypoint"]["fromEdge"];
    assert_eq!(
        (&back["source"], &back["target"]),
        (&to["data"]["target"], &to["data"]["source"]),
        "the return leg goes from the waypoint back to the caller"
    );

    // Kiali's ambientTraffic and waypoints: which reports are drawn, and whether the waypoint is a node.
    let protocols = |args: &[&str]| {
        let mut all = vec!["-n", "bookinfo", "--type", "workload"];
        all.extend_from_slice(args);
        let graph = kiali_graph(dir.path(), &all);
        let ends: BTreeMap<String, String> = graph["elements"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| (n["data"]["id"].as_str().unwrap().to_owned(), n["data"]["workload"].as_str().unwrap().to_owned()))
            .collect();
        let edges: BTreeSet<String> = graph["elements"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let d = &e["data"];
                let end = |k: &str| ends[d[k].as_str().unwrap()].clone();
                format!("{} {}→{}", d["traffic"]["protocol"].as_str().unwrap(), end("source"), end("target"))
            })
            .collect();
        edges.into_iter().collect::<Vec<_>>()
    };
    let l7 = ["http productpage-v1→details-v1", "http productpage-v1→reviews-v1"];
    let l4 = ["tcp productpage-v1→waypoint", "tcp waypoint→details-v1", "tcp waypoint→reviews-v1"];
    assert_eq!(protocols(&["--ambient-traffic", "waypoint"]), l7);
    assert_eq!(protocols(&["--ambient-traffic", "ztunnel"]), l4);
    assert!(protocols(&["--ambient-traffic", "none"]).is_empty());
    assert_eq!(protocols(&["--waypoints", "false"]), l7, "without waypoint nodes, their L4 legs go too");
}

#[test]
fn a_waypoint_is_known_by_its_gateway_class_too() {
    let series = read_series("ambient.series");
    let dir = tempfile::tempdir().unwrap();
    snapshot(dir.path(), &series, &["bookinfo"], &[]);
    let objects = dir.path().join("k8s/objects.yaml");
    let text = std::fs::read_to_string(&objects).unwrap();
    // The Deployment Istio makes for a Gateway of class istio-waypoint labels its pods with the Gateway's name.
    let text = text.replace(
        "        workload: waypoint\n",
        "        workload: waypoint\n        gateway.networking.k8s.io/gateway-name: waypoint\n",
    ) + "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: waypoint\n  namespace: bookinfo\n\
         spec:\n  gatewayClassName: istio-waypoint\n  listeners:\n  - name: mesh\n    port: 15008\n    protocol: HBONE\n";
    std::fs::write(&objects, text).unwrap();
    let graph: Value = serde_json::from_str(&meshlens_ok(&[
        "graph",
        "--snapshot",
        dir.path().to_str().unwrap(),
        "-n",
        "bookinfo",
        "-o",
        "json",
    ]))
    .unwrap();
    let waypoints: Vec<&str> = graph["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["isWaypoint"] == true)
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(waypoints, ["waypoint"]);
}
