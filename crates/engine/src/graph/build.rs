//! Builds the graph from the identity index and query results, with no I/O: edges from request and TCP rates
//! (each series as the destination side measured it, or the caller where the destination side has nothing), p95
//! from the histogram, idle workloads, and the revision split of every Rollout and Flagger pair.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::identity::workload::AmbientProxy;
use crate::identity::{IdentityIndex, Workload};
use crate::inventory::Inventory;
use meshlens_telemetry::Row;
use meshlens_telemetry::interner::Interner;
use meshlens_telemetry::istio::label;

use super::edge::is_error;
use super::fetch::Results;
use super::resolve::{NodeRef, Resolver};
use super::revisions::{ByDestination, split};
use super::routing::weights;
use super::{
    Edge, Flow, Focus, Graph, GraphRequest, GraphType, Node, NodeTraffic, NodeType, Protocol, Reporter, Response,
    Responses, TcpBytes, TcpFlows, WaypointLeg,
};

/// Whether telemetry's `cluster` is one no source was read as (`loaded`); not a cluster the proxies could not tell.
pub fn is_unloaded_cluster(cluster: &str, loaded: &str) -> bool {
    !cluster.is_empty() && cluster != loaded && cluster != meshlens_telemetry::istio::UNKNOWN
}

/// One series of an edge as its reporters see it: the response (code, gRPC status, Envoy flags) and the Service
/// the call was addressed to. Both sides of a call report the same series; Kiali's own graph keys its
/// de-duplication the same way (metric, ends, code, flags, host).
type SeriesKey<'r> = (Measure, &'r str, &'r str, &'r str, &'r str, &'r str, &'r str);

/// What a series counts. TCP bytes are named from the caller's side, as Kiali names them: what it sent is Istio's
/// `istio_tcp_received_bytes_total`, what came back `istio_tcp_sent_bytes_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Measure {
    Requests,
    BytesSent,
    BytesReceived,
}

/// One series as each side measured it.
#[derive(Default)]
struct Sides {
    /// The destination's proxy or a waypoint.
    destination: f64,
    /// The caller's proxy.
    source: f64,
}

impl Sides {
    /// The destination side's measure where it has one: it sees what reached the service.
    fn counted(&self) -> f64 {
        if self.destination > 0.0 { self.destination } else { self.source }
    }
}

/// Everything reported about one edge.
#[derive(Default)]
struct Reports<'r> {
    series: FxHashMap<SeriesKey<'r>, Sides>,
    reported_by: BTreeSet<Reporter>,
}

impl<'r> Reports<'r> {
    fn add(&mut self, row: &'r Row, measure: Measure, reporter: Reporter) {
        self.reported_by.insert(reporter);
        let key = (
            measure,
            row.label(label::RESPONSE_CODE),
            row.label(label::GRPC_RESPONSE_STATUS),
            row.label(label::RESPONSE_FLAGS),
            row.label(label::DESTINATION_SERVICE_NAME),
            row.label(label::DESTINATION_SERVICE_NAMESPACE),
            row.label(label::DESTINATION_SERVICE),
        );
        let sides = self.series.entry(key).or_default();
        match reporter {
            Reporter::Source => sides.source += row.value,
            Reporter::Destination | Reporter::Waypoint => sides.destination += row.value,
        }
    }

    /// Each series counted once: as the destination side measured it, or as the caller did where the
    /// destination side has nothing (failures only the caller sees, a destination whose proxy is not scraped).
    fn tally(&self, protocol: Protocol) -> Tally<'r> {
        let mut tally = Tally::default();
        for (&(measure, code, grpc_status, flags, service, namespace, host), sides) in &self.series {
            let value = sides.counted();
            if value <= 0.0 {
                continue;
            }
            if !service.is_empty() {
                tally.services.insert((service, namespace));
            }
            let flags = if flags.is_empty() { "-" } else { flags };
            match measure {
                Measure::BytesSent => {
                    tally.tcp.sent += value;
                    tally.flows.entry((flags, host)).or_default().sent += value;
                }
                Measure::BytesReceived => {
                    tally.tcp.received += value;
                    tally.flows.entry((flags, host)).or_default().received += value;
                }
                Measure::Requests => {
                    tally.rps += value;
                    if is_error(protocol.as_str(), code, grpc_status) {
                        tally.errors += value;
                    }
                    // gRPC calls are answered by their status (HTTP says 200 for most failures).
                    let code = if protocol == Protocol::Grpc && !grpc_status.is_empty() { grpc_status } else { code };
                    *tally.responses.entry((code, flags, host)).or_default() += value;
                }
            }
        }
        tally
    }
}

/// An edge's traffic, each series counted once.
#[derive(Default)]
struct Tally<'r> {
    rps: f64,
    errors: f64,
    tcp: TcpBytes,
    /// TCP bytes/s by (response flags, host).
    flows: BTreeMap<(&'r str, &'r str), TcpBytes>,
    /// Requests/s by (response code, response flags, host).
    responses: BTreeMap<(&'r str, &'r str, &'r str), f64>,
    /// Destination services, (name, namespace).
    services: BTreeSet<(&'r str, &'r str)>,
}

impl Tally<'_> {
    fn is_empty(&self) -> bool {
        self.rps <= 0.0 && self.tcp.total() <= 0.0
    }
}

type EdgeKey = (NodeRef, NodeRef, Protocol);

/// Builds the graph of `req` from `results`.
pub fn build<'a>(
    index: &'a IdentityIndex,
    inventory: &'a Inventory,
    req: &'a GraphRequest,
    results: &'a Results,
) -> Graph {
    let mut resolver = Resolver::new(index, req);
    resolver.learn_services(results.requests.iter().chain(&results.tcp_sent).chain(&results.tcp_received));
    // Per edge, what every proxy reported.
    // Sized up front: growing moves every entry again and again.
    let row_count = results.requests.len() + results.tcp_sent.len() + results.tcp_received.len();
    let mut reports: FxHashMap<EdgeKey, Reports<'a>> =
        FxHashMap::with_capacity_and_hasher(row_count, Default::default());
    let rows =
        results.requests.iter().map(|r| (r, Protocol::from_label(r.label(label::REQUEST_PROTOCOL)), Measure::Requests));
    let sent = results.tcp_received.iter().map(|r| (r, Protocol::Tcp, Measure::BytesSent));
    let received = results.tcp_sent.iter().map(|r| (r, Protocol::Tcp, Measure::BytesReceived));
    for (row, protocol, measure) in rows.chain(sent).chain(received) {
        if !row.value.is_finite() || row.value <= 0.0 {
            continue;
        }
        // The queries ask for these reporters only.
        let Some(reporter) = Reporter::from_label(row.label(label::REPORTER)) else { continue };
        if !req.ambient.draws(reporter, row.label("app")) {
            continue;
        }
        let source = resolver.source(row);
        let target = resolver.destination(row);
        reports.entry((source, target, protocol)).or_default().add(row, measure, reporter);
    }
    let mut p95: FxHashMap<(NodeRef, NodeRef), f64> = FxHashMap::default();
    for row in results.latency.iter().filter(|r| r.value.is_finite()) {
        let key = (resolver.source(row), resolver.destination(row));
        let slot = p95.entry(key).or_insert(row.value);
        *slot = slot.max(row.value);
    }

    let mut texts = Interner::default();
    let mut service_names: FxHashMap<(&str, &str), Arc<str>> = FxHashMap::default();
    // Sized up front: an edge is a few hundred bytes, and growing would move them all again and again.
    let mut edges: Vec<Edge> = Vec::with_capacity(reports.len());
    edges.extend(reports.into_iter().filter_map(|((source, target, protocol), reports)| {
        let chosen = reports.tally(protocol);
        if chosen.is_empty() {
            return None;
        }
        let latency = (protocol != Protocol::Tcp).then(|| p95.get(&(source, target)).copied()).flatten();
        let responses: BTreeMap<Response, f64> = chosen
            .responses
            .iter()
            .map(|(&(code, flags, host), &rps)| {
                (Response { code: texts.get(code), flags: texts.get(flags), host: texts.get(host) }, rps)
            })
            .collect();
        Some(Edge {
            error_ratio: if chosen.rps > 0.0 { chosen.errors / chosen.rps } else { 0.0 },
            rps: chosen.rps,
            share: None,
            p95_ms: latency,
            tcp: (protocol == Protocol::Tcp).then_some(chosen.tcp),
            tcp_flows: TcpFlows(
                chosen
                    .flows
                    .iter()
                    .map(|(&(flags, host), &bytes)| (Flow { flags: texts.get(flags), host: texts.get(host) }, bytes))
                    .collect(),
            ),
            responses: Responses(responses),
            services: chosen
                .services
                .iter()
                .map(|&key| {
                    service_names.entry(key).or_insert_with(|| Arc::from(format!("{}.{}", key.0, key.1))).clone()
                })
                .collect(),
            reported_by: reports.reported_by,
            waypoint: None,
            source: resolver.get(source).id.clone(),
            target: resolver.get(target).id.clone(),
            protocol,
        })
    }));

    // Idle workloads of the selected namespaces are drawn too: a workload nothing talks to is information. Not
    // ztunnel: it carries the mesh's traffic, which the graph draws between the workloads it connects.
    if req.graph_type != GraphType::Service {
        let drawn = |w: &&Workload| req.selects(&w.id.namespace) && w.ambient_proxy != Some(AmbientProxy::Ztunnel);
        for w in index.workloads().iter().filter(drawn) {
            idle_candidate(&mut resolver, req.graph_type, w);
        }
    }
    let revision_nodes: Vec<(NodeRef, &Workload)> = index
        .workloads()
        .iter()
        .filter(|w| w.has_revisions() && req.selects(&w.id.namespace))
        .map(|w| (idle_candidate(&mut resolver, req.graph_type, w), w))
        .collect();
    let (revision_requests, revision_latency) =
        (ByDestination::new(&results.revision_requests), ByDestination::new(&results.revision_latency));
    let mut caller_ids: FxHashMap<NodeRef, Rc<str>> = FxHashMap::default();
    for (node, w) in revision_nodes {
        let weights = weights(inventory, w);
        let mut caller = |row: &'a Row| {
            let caller = resolver.source(row);
            caller_ids.entry(caller).or_insert_with(|| Rc::from(resolver.get(caller).id.as_str())).clone()
        };
        let (requests, latency) = (revision_requests.of(w), revision_latency.of(w));
        let s = split(w, &weights, &requests, &latency, &req.scrape_labels, &mut caller);
        if s.source.unattributed_rps > 0.0 {
            let why =
                s.source.unmeasured.map_or("no pod, hash, revision or service label tells them apart", |u| u.reason());
            let warning = format!(
                "{:.2} requests/s to {} could not be tied to a revision ({why})",
                s.source.unattributed_rps,
                resolver.get(node).name
            );
            resolver.warnings.push(warning);
        }
        let n = resolver.get_mut(node);
        n.revisions = s.revisions;
        n.split = Some(s.source);
        n.callers = s.callers;
    }

    let (mut nodes, mut warnings) = resolver.finish();
    if let Some(focus) = &req.focus {
        // A node graph shows the focus and what it talks to, not every idle workload of its namespace.
        let ends: FxHashSet<&str> = edges.iter().flat_map(|e| [e.source.as_str(), e.target.as_str()]).collect();
        nodes.retain(|n| ends.contains(n.id.as_str()) || focus.is(n));
    }
    mark_waypoints(&mut nodes, &mut edges, req.ambient.waypoints);
    // A node graph fetched only the focus' calls: its neighbours' shares of all they send are not known.
    let focus_ids: FxHashSet<String> = match &req.focus {
        Some(focus @ (Focus::Workload { .. } | Focus::App { .. })) => {
            nodes.iter().filter(|n| focus.is(n)).map(|n| n.id.clone()).collect()
        }
        _ => FxHashSet::default(),
    };
    let whole = |source: &str| req.focus.is_none() || focus_ids.contains(source);
    apply_traffic(&mut nodes, &mut edges, &whole);
    if results.requests.is_empty() && results.tcp_sent.is_empty() && results.tcp_received.is_empty() {
        warnings.push(format!(
            "no Istio traffic in the {} window before {}: check that the sidecars are scraped and that the time is inside the data",
            crate::time::format_duration(req.duration_s),
            jiff::Timestamp::from_second(req.at).map(|t| t.to_string()).unwrap_or_default()
        ));
    }
    warnings.extend(results.warnings.iter().cloned());
    let unloaded: BTreeSet<&str> =
        nodes.iter().map(|n| n.cluster.as_str()).filter(|c| is_unloaded_cluster(c, &index.cluster)).collect();
    warnings.extend(unloaded.into_iter().map(|cluster| {
        format!(
            "telemetry names cluster {cluster:?}, but the objects were read as cluster {:?}: its workloads are drawn outside (give the source's --cluster-id, or read that cluster too)",
            index.cluster
        )
    }));
    edges.sort_unstable_by(|a, b| (&a.source, &a.target, a.protocol).cmp(&(&b.source, &b.target, b.protocol)));
    Graph {
        graph_type: req.graph_type,
        time: jiff::Timestamp::from_second(req.at).map(|t| t.to_string()).unwrap_or_default(),
        duration: crate::time::format_duration(req.duration_s),
        namespaces: req.namespaces.iter().flatten().cloned().collect(),
        nodes,
        edges,
        edge_latency: req.edge_latency,
        warnings,
        telemetry: results.stats.clone(),
    }
}

/// Marks the L4 legs to and from waypoint proxies, or, when waypoints are not drawn, removes them with their legs.
fn mark_waypoints(nodes: &mut Vec<Node>, edges: &mut Vec<Edge>, shown: bool) {
    let waypoints: FxHashSet<String> = nodes.iter().filter(|n| n.is_waypoint).map(|n| n.id.clone()).collect();
    if waypoints.is_empty() {
        return;
    }
    if !shown {
        nodes.retain(|n| !n.is_waypoint);
        edges.retain(|e| !waypoints.contains(&e.source) && !waypoints.contains(&e.target));
        return;
    }
    for e in edges.iter_mut() {
        e.waypoint = if waypoints.contains(&e.target) {
            Some(WaypointLeg::To)
        } else if waypoints.contains(&e.source) {
            Some(WaypointLeg::From)
        } else {
            None
        };
    }
}

/// The node a workload appears as in this graph type (created if nothing reported it).
fn idle_candidate<'a>(resolver: &mut Resolver<'a>, graph_type: GraphType, w: &'a Workload) -> NodeRef {
    match graph_type {
        GraphType::Workload | GraphType::Service => resolver.workload_node(w),
        GraphType::App | GraphType::VersionedApp => resolver.app_node(w),
    }
}

/// Node totals, edge shares (of everything the source sends, per kind of traffic; for sources in `whole`, whose
/// every call the graph holds) and idle flags.
fn apply_traffic(nodes: &mut [Node], edges: &mut [Edge], whole: &dyn Fn(&str) -> bool) {
    let mut totals: FxHashMap<&str, (NodeTraffic, f64)> = FxHashMap::default();
    for e in edges.iter() {
        let (out, _) = totals.entry(e.source.as_str()).or_default();
        out.rps_out += e.rps;
        out.tcp_out += e.tcp_bytes_per_s().unwrap_or(0.0);
        let (into, errors_in) = totals.entry(e.target.as_str()).or_default();
        into.rps_in += e.rps;
        into.tcp_in += e.tcp_bytes_per_s().unwrap_or(0.0);
        *errors_in += e.rps * e.error_ratio;
    }
    let shares: Vec<Option<f64>> = edges
        .iter()
        .map(|e| {
            let out = totals.get(e.source.as_str()).map(|(out, _)| out);
            whole(&e.source).then(|| match e.tcp_bytes_per_s() {
                Some(bytes) => ratio(bytes, out.map_or(0.0, |o| o.tcp_out)),
                None => ratio(e.rps, out.map_or(0.0, |o| o.rps_out)),
            })
        })
        .collect();
    for n in nodes.iter_mut() {
        if let Some((t, errors_in)) = totals.get(n.id.as_str()) {
            n.traffic = NodeTraffic { error_ratio_in: (t.rps_in > 0.0).then(|| errors_in / t.rps_in), ..t.clone() };
        }
        let t = &n.traffic;
        n.is_idle = n.node_type != NodeType::Unknown && t.rps_in + t.rps_out + t.tcp_in + t.tcp_out <= 0.0;
    }
    for (e, share) in edges.iter_mut().zip(shares) {
        e.share = share;
    }
}

fn ratio(part: f64, whole: f64) -> f64 {
    if whole > 0.0 { part / whole } else { 0.0 }
}
