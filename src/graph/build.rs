//! Builds the graph from the identity index and query results, with no I/O: edges from request and TCP rates
//! (source-reported where the caller has a sidecar, destination-reported otherwise), p95 from the histogram,
//! idle workloads, and the revision split of every Rollout and Flagger pair.

use std::collections::{BTreeMap, BTreeSet};

use crate::identity::{IdentityIndex, Workload};
use crate::inventory::Inventory;
use crate::telemetry::Row;

use super::fetch::Results;
use super::resolve::{Resolver, UNKNOWN};
use super::revisions::{ByDestination, split};
use super::routing::weights;
use super::{Edge, Graph, GraphRequest, GraphType, Node, NodeType, Protocol, format_duration};

/// Whether a request counts as failed: HTTP 5xx or no response (`0`); gRPC with a non-OK status.
pub fn is_error(protocol: &str, code: &str, grpc_status: &str) -> bool {
    if protocol == "grpc" && !grpc_status.is_empty() {
        return grpc_status != "0";
    }
    code.starts_with('5') || code == "0"
}

/// What one reporter saw on one edge.
#[derive(Default)]
struct Seen {
    rps: f64,
    errors: f64,
    tcp: f64,
    responses: BTreeMap<String, f64>,
    flags: BTreeMap<String, f64>,
    code_flags: BTreeMap<(String, String), f64>,
    services: BTreeSet<String>,
}

impl Seen {
    fn add(&mut self, row: &Row, protocol: Protocol) {
        let service = row.label("destination_service_name");
        if !service.is_empty() {
            self.services.insert(format!("{service}.{}", row.label("destination_service_namespace")));
        }
        if protocol == Protocol::Tcp {
            self.tcp += row.value;
            return;
        }
        self.rps += row.value;
        if is_error(row.label("request_protocol"), row.label("response_code"), row.label("grpc_response_status")) {
            self.errors += row.value;
        }
        let code = row.label("response_code").to_owned();
        let flags = match row.label("response_flags") {
            "" => "-".to_owned(),
            f => f.to_owned(),
        };
        *self.responses.entry(code.clone()).or_default() += row.value;
        *self.flags.entry(flags.clone()).or_default() += row.value;
        *self.code_flags.entry((code, flags)).or_default() += row.value;
    }

    fn is_empty(&self) -> bool {
        self.rps <= 0.0 && self.tcp <= 0.0
    }
}

type EdgeKey = (String, String, Protocol);

/// Builds the graph of `req` from `results`.
pub fn build(index: &IdentityIndex, inventory: &Inventory, req: &GraphRequest, results: &Results) -> Graph {
    let mut resolver = Resolver::new(index, inventory, req);
    // Per edge, what the source proxies and the destination proxies reported.
    let mut seen: BTreeMap<EdgeKey, [Seen; 2]> = BTreeMap::new();
    let rows = results.requests.iter().map(|r| (r, Protocol::from_label(r.label("request_protocol"))));
    let tcp = results.tcp_sent.iter().chain(&results.tcp_received).map(|r| (r, Protocol::Tcp));
    for (row, protocol) in rows.chain(tcp) {
        if !row.value.is_finite() || row.value <= 0.0 {
            continue;
        }
        let source = resolver.source(row);
        let target = resolver.destination(row);
        let slot = usize::from(row.label("reporter") != "source");
        seen.entry((source, target, protocol)).or_default()[slot].add(row, protocol);
    }
    let mut p95: BTreeMap<(String, String), f64> = BTreeMap::new();
    for row in results.latency.iter().filter(|r| r.value.is_finite()) {
        let key = (resolver.source(row), resolver.destination(row));
        let slot = p95.entry(key).or_insert(row.value);
        *slot = slot.max(row.value);
    }

    let mut edges: Vec<Edge> = seen
        .into_iter()
        .filter_map(|((source, target, protocol), [by_source, by_destination])| {
            // The caller's proxy sees failures that never reach the destination; without a sidecar, only the
            // destination reports.
            let (chosen, reporter) = if source != UNKNOWN && !by_source.is_empty() {
                (by_source, "source")
            } else {
                (by_destination, "destination")
            };
            if chosen.is_empty() {
                return None;
            }
            let latency =
                (protocol != Protocol::Tcp).then(|| p95.get(&(source.clone(), target.clone())).copied()).flatten();
            Some(Edge {
                error_ratio: if chosen.rps > 0.0 { chosen.errors / chosen.rps } else { 0.0 },
                rps: chosen.rps,
                share: 0.0,
                p95_ms: latency,
                tcp_bytes_per_s: (protocol == Protocol::Tcp).then_some(chosen.tcp),
                responses: chosen.responses,
                flags: chosen.flags,
                code_flags: chosen.code_flags,
                services: chosen.services,
                reporter: reporter.to_owned(),
                source,
                target,
                protocol,
            })
        })
        .collect();

    // Idle workloads of the selected namespaces are drawn too: a workload nothing talks to is information.
    if req.graph_type != GraphType::Service {
        for w in index.workloads().iter().filter(|w| req.selects(&w.id.namespace)) {
            idle_candidate(&mut resolver, req.graph_type, w);
        }
    }
    let revision_nodes: Vec<(String, &Workload)> = index
        .workloads()
        .iter()
        .filter(|w| w.id.kind.has_revisions() && req.selects(&w.id.namespace))
        .map(|w| (idle_candidate(&mut resolver, req.graph_type, w), w))
        .collect();
    let mut splits = Vec::new();
    let (revision_requests, revision_latency) =
        (ByDestination::new(&results.revision_requests), ByDestination::new(&results.revision_latency));
    for (id, w) in revision_nodes {
        let weights = weights(inventory, w);
        let mut caller = |row: &Row| resolver.source(row);
        let (requests, latency) = (revision_requests.of(w), revision_latency.of(w));
        let s = split(w, &weights, &requests, &latency, &req.scrape_labels, &mut caller);
        splits.push((id, s));
    }

    let (mut nodes, mut warnings) = resolver.finish();
    for (id, s) in splits {
        if let Some(node) = nodes.get_mut(&id) {
            if s.source.unattributed_rps > 0.0 {
                warnings.push(format!(
                    "{:.2} requests/s to {} could not be tied to a revision (no pod, hash, revision or service label tells them apart)",
                    s.source.unattributed_rps, node.name
                ));
            }
            node.revisions = s.revisions;
            node.split = Some(s.source);
            node.callers = s.callers;
        }
    }
    apply_traffic(&mut nodes, &mut edges);
    if results.requests.is_empty() && results.tcp_sent.is_empty() && results.tcp_received.is_empty() {
        warnings.push(format!(
            "no Istio traffic in the {} window before {}: check that the sidecars are scraped and that the time is inside the data",
            format_duration(req.duration_s),
            jiff::Timestamp::from_second(req.at).map(|t| t.to_string()).unwrap_or_default()
        ));
    }
    warnings.extend(results.warnings.iter().cloned());
    edges.sort_by(|a, b| (&a.source, &a.target, a.protocol).cmp(&(&b.source, &b.target, b.protocol)));
    Graph {
        graph_type: req.graph_type,
        time: jiff::Timestamp::from_second(req.at).map(|t| t.to_string()).unwrap_or_default(),
        duration: format_duration(req.duration_s),
        namespaces: req.namespaces.iter().flatten().cloned().collect(),
        nodes: nodes.into_values().collect(),
        edges,
        warnings,
        telemetry: results.stats.clone(),
    }
}

/// The node a workload appears as in this graph type (created if nothing reported it).
fn idle_candidate<'a>(resolver: &mut Resolver<'a>, graph_type: GraphType, w: &'a Workload) -> String {
    match graph_type {
        GraphType::Workload | GraphType::Service => resolver.workload_node(w),
        GraphType::App | GraphType::VersionedApp => resolver.app_node(w),
    }
}

/// Node totals, edge shares (of everything the source sends, per kind of traffic) and idle flags.
fn apply_traffic(nodes: &mut BTreeMap<String, Node>, edges: &mut [Edge]) {
    let mut out_rps: BTreeMap<&str, f64> = BTreeMap::new();
    let mut out_tcp: BTreeMap<&str, f64> = BTreeMap::new();
    for e in edges.iter() {
        *out_rps.entry(e.source.as_str()).or_default() += e.rps;
        *out_tcp.entry(e.source.as_str()).or_default() += e.tcp_bytes_per_s.unwrap_or(0.0);
    }
    let shares: Vec<f64> = edges
        .iter()
        .map(|e| match e.tcp_bytes_per_s {
            Some(bytes) => ratio(bytes, out_tcp[e.source.as_str()]),
            None => ratio(e.rps, out_rps[e.source.as_str()]),
        })
        .collect();
    let mut errors_in: BTreeMap<String, f64> = BTreeMap::new();
    for (e, share) in edges.iter_mut().zip(shares) {
        e.share = share;
        if let Some(n) = nodes.get_mut(&e.source) {
            n.traffic.rps_out += e.rps;
            n.traffic.tcp_out += e.tcp_bytes_per_s.unwrap_or(0.0);
        }
        if let Some(n) = nodes.get_mut(&e.target) {
            n.traffic.rps_in += e.rps;
            n.traffic.tcp_in += e.tcp_bytes_per_s.unwrap_or(0.0);
            *errors_in.entry(e.target.clone()).or_default() += e.rps * e.error_ratio;
        }
    }
    for n in nodes.values_mut() {
        let t = n.traffic.clone();
        n.traffic.error_ratio_in = errors_in.get(&n.id).filter(|_| t.rps_in > 0.0).map(|e| e / t.rps_in);
        n.is_idle = n.node_type != NodeType::Unknown && t.rps_in + t.rps_out + t.tcp_in + t.tcp_out <= 0.0;
    }
}

fn ratio(part: f64, whole: f64) -> f64 {
    if whole > 0.0 { part / whole } else { 0.0 }
}
