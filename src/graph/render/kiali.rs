//! Kiali's graph JSON (`/api/namespaces/graph`), so tools built for Kiali can read meshlens' graph: the same node
//! and edge fields, rates as strings, response codes with their flags and hosts.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Map, Value, json};

use crate::graph::{Edge, Graph, Node, NodeType, Protocol};

pub fn render_kiali(graph: &Graph, at: i64, duration_s: u64) -> Value {
    let mut dest_services: HashMap<&str, BTreeSet<&str>> = HashMap::new();
    let mut touching: HashMap<&str, Vec<&Edge>> = HashMap::new();
    for e in &graph.edges {
        dest_services.entry(e.target.as_str()).or_default().extend(e.services.iter().map(|s| &**s));
        touching.entry(e.target.as_str()).or_default().push(e);
        if e.source != e.target {
            touching.entry(e.source.as_str()).or_default().push(e);
        }
    }
    let nodes: Vec<Value> = graph
        .nodes
        .iter()
        .map(|n| {
            let id = n.id.as_str();
            let services = dest_services.get(id).cloned().unwrap_or_default();
            let edges = touching.get(id).map(Vec::as_slice).unwrap_or_default();
            json!({"data": node_data(n, &services, edges, !dest_services.contains_key(id))})
        })
        .collect();
    let edges: Vec<Value> = graph.edges.iter().enumerate().map(|(i, e)| json!({"data": edge_data(i, e)})).collect();
    json!({
        "timestamp": at,
        "duration": duration_s,
        "graphType": graph.graph_type.kiali_name(),
        "elements": {"nodes": nodes, "edges": edges},
    })
}

fn rate(value: f64) -> Value {
    Value::String(format!("{value:.2}"))
}

/// One node's data; `edges` are those it sends or receives.
fn node_data(n: &Node, services: &BTreeSet<&str>, edges: &[&Edge], is_root: bool) -> Value {
    let mut d = Map::new();
    d.insert("id".into(), json!(n.id));
    let node_type = match n.node_type {
        NodeType::Workload => "workload",
        NodeType::App => "app",
        NodeType::Service => "service",
        NodeType::Unknown => "unknown",
        NodeType::Namespace => "box",
    };
    d.insert("nodeType".into(), json!(node_type));
    match n.node_type {
        NodeType::Unknown => {
            for key in ["cluster", "namespace", "workload", "app", "version"] {
                d.insert(key.into(), json!("unknown"));
            }
        }
        NodeType::Namespace => {
            d.insert("cluster".into(), json!(n.cluster));
            d.insert("namespace".into(), json!(n.namespace));
            d.insert("isBox".into(), json!("namespace"));
        }
        NodeType::Service => {
            d.insert("cluster".into(), json!(n.cluster));
            d.insert("namespace".into(), json!(n.namespace));
            d.insert("service".into(), json!(n.name));
        }
        NodeType::Workload => {
            d.insert("cluster".into(), json!(n.cluster));
            d.insert("namespace".into(), json!(n.namespace));
            d.insert("workload".into(), json!(n.name));
            if let Some(app) = &n.app {
                d.insert("app".into(), json!(app));
            }
            if let Some(version) = &n.version {
                d.insert("version".into(), json!(version));
            }
        }
        NodeType::App => {
            d.insert("cluster".into(), json!(n.cluster));
            d.insert("namespace".into(), json!(n.namespace));
            d.insert("app".into(), json!(n.name));
            if let Some(version) = &n.version {
                d.insert("version".into(), json!(version));
                if let Some(w) = n.workloads.iter().next() {
                    d.insert("workload".into(), json!(w.split_once('/').map_or(w.as_str(), |(_, name)| name)));
                }
            }
        }
    }
    if !services.is_empty() && n.node_type != NodeType::Unknown {
        let list: Vec<Value> = services
            .iter()
            .map(|s| {
                let (name, namespace) = s.split_once('.').unwrap_or((s, ""));
                json!({"cluster": n.cluster, "namespace": namespace, "name": name})
            })
            .collect();
        d.insert("destServices".into(), Value::Array(list));
    }
    d.insert("traffic".into(), Value::Array(node_traffic(&n.id, edges)));
    d.insert("healthData".into(), Value::Null);
    if n.is_idle {
        d.insert("isIdle".into(), json!(true));
    }
    if n.is_ghost {
        d.insert("isDead".into(), json!(true));
    }
    if n.is_outside {
        d.insert("isOutside".into(), json!(true));
        d.insert("isInaccessible".into(), json!(true));
    }
    if n.node_type == NodeType::Unknown {
        d.insert("isInaccessible".into(), json!(true));
    }
    if is_root && n.traffic.rps_out + n.traffic.tcp_out > 0.0 && n.node_type != NodeType::Service {
        d.insert("isRoot".into(), json!(true));
    }
    if !n.revisions.is_empty() {
        d.insert("hasTrafficShifting".into(), json!(true));
    }
    Value::Object(d)
}

/// Per-protocol `rates` of a node: what it receives (`httpIn`, `httpIn5xx`, ...) and sends (`httpOut`, ...).
fn node_traffic(id: &str, edges: &[&Edge]) -> Vec<Value> {
    let mut by_protocol: BTreeMap<Protocol, BTreeMap<String, f64>> = BTreeMap::new();
    for e in edges {
        let p = e.protocol.as_str();
        if e.target == id {
            let rates = by_protocol.entry(e.protocol).or_default();
            match e.protocol {
                Protocol::Tcp => *rates.entry("tcpIn".into()).or_default() += e.tcp_bytes_per_s.unwrap_or(0.0),
                Protocol::Http => {
                    *rates.entry("httpIn".into()).or_default() += e.rps;
                    for (code, rps) in e.responses.by_code() {
                        let class = match code.chars().next() {
                            Some('3') => Some("httpIn3xx"),
                            Some('4') => Some("httpIn4xx"),
                            Some('5') => Some("httpIn5xx"),
                            Some('0') => Some("httpInNoResponse"),
                            _ => None,
                        };
                        if let Some(class) = class {
                            *rates.entry(class.into()).or_default() += rps;
                        }
                    }
                }
                Protocol::Grpc => {
                    *rates.entry("grpcIn".into()).or_default() += e.rps;
                    *rates.entry("grpcInErr".into()).or_default() += e.rps * e.error_ratio;
                }
            }
        }
        if e.source == id {
            let amount = if e.protocol == Protocol::Tcp { e.tcp_bytes_per_s.unwrap_or(0.0) } else { e.rps };
            *by_protocol.entry(e.protocol).or_default().entry(format!("{p}Out")).or_default() += amount;
        }
    }
    by_protocol
        .into_iter()
        .map(|(p, rates)| {
            let rates: Map<String, Value> =
                rates.into_iter().filter(|(_, v)| *v > 0.0).map(|(k, v)| (k, rate(v))).collect();
            json!({"protocol": p.as_str(), "rates": rates})
        })
        .filter(|t| t["rates"].as_object().is_some_and(|r| !r.is_empty()))
        .collect()
}

fn edge_data(i: usize, e: &Edge) -> Value {
    let mut rates = Map::new();
    let mut responses = Map::new();
    match e.protocol {
        Protocol::Tcp => {
            rates.insert("tcp".into(), rate(e.tcp_bytes_per_s.unwrap_or(0.0)));
        }
        protocol => {
            let p = protocol.as_str();
            rates.insert(p.into(), rate(e.rps));
            if protocol == Protocol::Http {
                for (code, rps) in e.responses.by_code() {
                    let class = match code.chars().next() {
                        Some('3') => "http3xx",
                        Some('4') => "http4xx",
                        Some('5') => "http5xx",
                        Some('0') => "httpNoResponse",
                        _ => continue,
                    };
                    let entry = rates.entry(class.to_owned()).or_insert(json!(0.0));
                    *entry = json!(entry.as_f64().unwrap_or(0.0) + rps);
                }
                for class in ["http3xx", "http4xx", "http5xx", "httpNoResponse"] {
                    if let Some(v) = rates.get(class).and_then(Value::as_f64) {
                        rates.insert(class.into(), rate(v));
                    }
                }
            } else if e.error_ratio > 0.0 {
                rates.insert("grpcErr".into(), rate(e.rps * e.error_ratio));
            }
            if e.error_ratio > 0.0 {
                rates.insert(format!("{p}PercentErr"), json!(format!("{:.1}", e.error_ratio * 100.0)));
            }
            rates.insert(format!("{p}PercentReq"), json!(format!("{:.1}", e.share * 100.0)));
            // Kiali gives, per response code, the share of the edge's requests by flags and by host.
            let total = e.rps.max(f64::MIN_POSITIVE);
            let share = |v: f64| json!(format!("{:.1}", 100.0 * v / total));
            for (code, rps) in e.responses.by_code() {
                let flags: Map<String, Value> =
                    e.responses.flags_of(code).map(|(f, v)| (f.to_owned(), share(v))).collect();
                let per_host = rps / e.services.len().max(1) as f64;
                let hosts: Map<String, Value> = e.services.iter().map(|s| (s.to_string(), share(per_host))).collect();
                responses.insert(code.to_owned(), json!({"flags": flags, "hosts": hosts}));
            }
        }
    }
    let mut traffic = Map::from_iter([("protocol".into(), json!(e.protocol.as_str())), ("rates".into(), json!(rates))]);
    if !responses.is_empty() {
        traffic.insert("responses".into(), Value::Object(responses));
    }
    let mut d = Map::from_iter([
        ("id".into(), json!(format!("edge-{i}"))),
        ("source".into(), json!(e.source)),
        ("target".into(), json!(e.target)),
        ("traffic".into(), Value::Object(traffic)),
    ]);
    if let Some(p95) = e.p95_ms {
        d.insert("responseTime".into(), json!(format!("{p95:.2}")));
    }
    Value::Object(d)
}
