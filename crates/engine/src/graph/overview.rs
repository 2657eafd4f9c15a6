//! The namespace-level view of a large graph: one node per namespace and the traffic between namespaces summed, so
//! a mesh of hundreds of namespaces stays readable; each namespace links to its own graph.

use std::collections::BTreeMap;

use super::{Edge, Graph, Node, NodeType, Protocol, TcpBytes};

/// Whether a graph is too big to draw node by node (users then start from namespaces and drill down).
pub fn too_big(graph: &Graph) -> bool {
    graph.nodes.len() > 150
}

/// Keeps the `most` busiest edges (requests/s, then bytes/s), so an overview shows the main flows; returns how many
/// were left out.
pub fn keep_busiest_edges(graph: &mut Graph, most: usize) -> usize {
    if graph.edges.len() <= most {
        return 0;
    }
    let weight = |e: &Edge| e.rps + e.tcp_bytes_per_s().unwrap_or(0.0) / 1e3;
    graph.edges.sort_by(|a, b| weight(b).total_cmp(&weight(a)));
    let dropped = graph.edges.len() - most;
    graph.edges.truncate(most);
    graph.edges.sort_by(|a, b| (&a.source, &a.target, a.protocol).cmp(&(&b.source, &b.target, b.protocol)));
    dropped
}

/// `graph` with its nodes grouped by namespace (the `unknown` node stays itself).
pub fn namespace_view(graph: &Graph) -> Graph {
    let group_of = |n: &Node| match n.node_type {
        NodeType::Unknown => n.id.clone(),
        _ => format!("ns:{}", n.namespace),
    };
    let mut groups: BTreeMap<String, Node> = BTreeMap::new();
    let mut group_by_node: BTreeMap<&str, String> = BTreeMap::new();
    for n in &graph.nodes {
        let id = group_of(n);
        group_by_node.insert(n.id.as_str(), id.clone());
        let group = groups.entry(id.clone()).or_insert_with(|| namespace_node(&id, n));
        group.workloads.extend(n.workloads.iter().cloned());
        group.is_idle &= n.is_idle;
        group.is_outside &= n.is_outside;
        group.is_ghost |= n.is_ghost;
    }
    let mut edges: BTreeMap<(String, String, Protocol), Edge> = BTreeMap::new();
    for e in &graph.edges {
        let (Some(source), Some(target)) = (group_by_node.get(e.source.as_str()), group_by_node.get(e.target.as_str()))
        else {
            continue;
        };
        let merged = edges.entry((source.clone(), target.clone(), e.protocol)).or_insert_with(|| Edge {
            source: source.clone(),
            target: target.clone(),
            rps: 0.0,
            error_ratio: 0.0,
            share: None,
            p95_ms: None,
            tcp: e.tcp.map(|_| TcpBytes::default()),
            tcp_flows: Default::default(),
            responses: Default::default(),
            services: Default::default(),
            ..e.clone()
        });
        let errors = merged.error_ratio * merged.rps + e.error_ratio * e.rps;
        merged.rps += e.rps;
        merged.error_ratio = if merged.rps > 0.0 { errors / merged.rps } else { 0.0 };
        if let (Some(sum), Some(bytes)) = (merged.tcp.as_mut(), e.tcp) {
            sum.sent += bytes.sent;
            sum.received += bytes.received;
        }
        for (flow, bytes) in &e.tcp_flows.0 {
            let sum = merged.tcp_flows.0.entry(flow.clone()).or_default();
            sum.sent += bytes.sent;
            sum.received += bytes.received;
        }
        for (key, rps) in &e.responses.0 {
            *merged.responses.0.entry(key.clone()).or_default() += rps;
        }
        merged.services.extend(e.services.iter().cloned());
    }
    let mut edges: Vec<Edge> = edges.into_values().collect();
    let mut sent: BTreeMap<(String, bool), f64> = BTreeMap::new();
    for e in &edges {
        *sent.entry((e.source.clone(), e.tcp.is_some())).or_default() += e.tcp_bytes_per_s().unwrap_or(e.rps);
    }
    for e in &mut edges {
        let total = sent.get(&(e.source.clone(), e.tcp.is_some())).copied().unwrap_or(0.0);
        e.share = Some(if total > 0.0 { e.tcp_bytes_per_s().unwrap_or(e.rps) / total } else { 0.0 });
        if let Some(n) = groups.get_mut(&e.source) {
            n.traffic.rps_out += e.rps;
            n.traffic.tcp_out += e.tcp_bytes_per_s().unwrap_or(0.0);
        }
        if let Some(n) = groups.get_mut(&e.target) {
            n.traffic.rps_in += e.rps;
            n.traffic.tcp_in += e.tcp_bytes_per_s().unwrap_or(0.0);
        }
    }
    Graph { nodes: groups.into_values().collect(), edges, ..graph_header(graph) }
}

fn namespace_node(id: &str, first: &Node) -> Node {
    if first.node_type == NodeType::Unknown {
        return first.clone();
    }
    Node {
        is_idle: true,
        is_outside: true,
        url: Some(format!("/graph?namespaces={}", first.namespace)),
        ..Node::new(id, NodeType::Namespace, &first.cluster, &first.namespace, &first.namespace)
    }
}

/// Everything of a graph but its nodes and edges.
fn graph_header(graph: &Graph) -> Graph {
    Graph {
        graph_type: graph.graph_type,
        time: graph.time.clone(),
        duration: graph.duration.clone(),
        namespaces: graph.namespaces.clone(),
        nodes: Vec::new(),
        edges: Vec::new(),
        edge_latency: false,
        warnings: graph.warnings.clone(),
        telemetry: graph.telemetry.clone(),
    }
}
