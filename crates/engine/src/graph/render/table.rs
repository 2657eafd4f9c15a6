//! The graph for a terminal: one row per edge, then the measured split of every Rollout beside what it asked for.

use std::fmt::Write;

use crate::graph::{Graph, Node, Protocol};
use crate::terminal::table::render;
use crate::terminal::{Newlines, escape};

use super::{bytes_rate, label_of, node_label, percent};
use meshlens_k8s::KindName;

pub fn render_table(graph: &Graph) -> String {
    let mut out = String::new();
    let scope = if graph.namespaces.is_empty() { "all namespaces".to_owned() } else { graph.namespaces.join(", ") };
    let _ =
        writeln!(out, "{} graph of {scope}, {} ending {}\n", graph.graph_type.kiali_name(), graph.duration, graph.time);
    let mut rows = vec![["SOURCE", "TARGET", "PROTO", "RATE", "ERRORS", "SHARE", "P95"].map(String::from).to_vec()];
    for e in &graph.edges {
        let rate = match e.protocol {
            Protocol::Tcp => bytes_rate(e.tcp_bytes_per_s().unwrap_or(0.0)),
            _ => format!("{:.2} rps", e.rps),
        };
        rows.push(vec![
            label_of(graph, &e.source),
            label_of(graph, &e.target),
            e.protocol.as_str().to_owned(),
            rate,
            if e.protocol == Protocol::Tcp { "-".into() } else { percent(e.error_ratio) },
            e.share.map_or_else(|| "-".into(), percent),
            e.p95_ms.map(|p| format!("{p:.0}ms")).unwrap_or_else(|| "-".into()),
        ]);
    }
    drop_unmeasured_p95(graph, &mut rows);
    if graph.edges.is_empty() {
        out.push_str("no traffic in the window\n");
    } else {
        out.push_str(&render(&rows));
    }
    let flagged: Vec<String> = graph
        .nodes
        .iter()
        .filter(|n| n.is_ghost || n.is_idle)
        .map(|n| {
            let what =
                if n.is_ghost { format!("ghost: {}", n.ghost_reason.as_deref().unwrap_or("")) } else { "idle".into() };
            format!("  {}", escape(&format!("{} — {what}", node_label(n)), Newlines::Escape))
        })
        .collect();
    if !flagged.is_empty() {
        let _ = writeln!(out, "\nnodes without traffic or without a workload:\n{}", flagged.join("\n"));
    }
    for node in graph.nodes.iter().filter(|n| !n.revisions.is_empty()) {
        out.push('\n');
        out.push_str(&split_table(graph, node));
    }
    for w in &graph.warnings {
        let _ = writeln!(out, "\nwarning: {}", escape(w, Newlines::Escape));
    }
    out
}

/// The split of one node with revisions: observed beside intended and routed, with each revision's signals, and
/// how each caller's traffic divides.
pub fn split_table(graph: &Graph, node: &Node) -> String {
    let mut out = String::new();
    let kind = node.workload_kind.as_ref().map(KindName::as_str).unwrap_or_default();
    let how = node.split.as_ref().map(|s| s.attributed_by.as_str()).unwrap_or("none");
    let title = format!("split of {} {kind} (measured by {how} over {})", node_label(node), graph.duration);
    let _ = writeln!(out, "{}", escape(&title, Newlines::Escape));
    let mut rows = vec![
        ["REVISION", "ROLE", "OBSERVED", "INTENDED", "ROUTED", "RATE", "ERRORS", "P95", "PODS"]
            .map(String::from)
            .to_vec(),
    ];
    let opt = |v: Option<f64>| v.map(percent).unwrap_or_else(|| "-".into());
    for r in &node.revisions {
        let name = match r.revision {
            Some(n) => format!("{} (rev {n})", r.replica_set),
            None => r.replica_set.clone(),
        };
        let roles: Vec<&str> = r.roles.iter().map(|x| x.as_str()).collect();
        rows.push(vec![
            name,
            if roles.is_empty() { "-".into() } else { roles.join(",") },
            opt(r.observed_share),
            opt(r.intended_weight),
            opt(r.routed_weight),
            format!("{:.2} rps", r.rps),
            opt(r.error_ratio),
            r.p95_ms.map(|p| format!("{p:.0}ms")).unwrap_or_else(|| "-".into()),
            format!("{}/{}", r.ready_pods, r.pods),
        ]);
    }
    out.push_str(&render(&rows));
    if let Some(split) = &node.split {
        if split.mirrored {
            out.push_str("note: a mirror route copies traffic to the canary; its observed share includes the copies\n");
        }
        if split.unattributed_rps > 0.0 {
            let _ = writeln!(out, "note: {:.2} rps could not be tied to a revision", split.unattributed_rps);
        }
    }
    if node.callers.len() > 1 || node.callers.iter().any(|c| c.revisions.len() > 1) {
        out.push_str("by caller:\n");
        for c in &node.callers {
            let parts: Vec<String> = c
                .revisions
                .iter()
                .map(|r| format!("{} {}", short_name(&r.replica_set, &node.name), percent(r.share)))
                .collect();
            let line = format!("{} ({:.2} rps): {}", label_of(graph, &c.source), c.rps, parts.join(" / "));
            let _ = writeln!(out, "  {}", escape(&line, Newlines::Escape));
        }
    }
    out
}

/// Without edge latency in the request, the last (P95) column of edge rows would only say "not measured".
fn drop_unmeasured_p95(graph: &Graph, rows: &mut [Vec<String>]) {
    if !graph.edge_latency {
        rows.iter_mut().for_each(|r| drop(r.pop()));
    }
}

/// `reviews-7d9f8c6b5` → `7d9f8c6b5` when the workload is `reviews`: hashes are what tells revisions apart.
fn short_name<'a>(replica_set: &'a str, workload: &str) -> &'a str {
    replica_set.strip_prefix(workload).and_then(|s| s.strip_prefix('-')).unwrap_or(replica_set)
}

/// The edges into and out of one node.
pub fn node_edges_table(graph: &Graph, node: &Node) -> String {
    let mut rows = vec![["DIRECTION", "PEER", "PROTO", "RATE", "ERRORS", "P95"].map(String::from).to_vec()];
    for e in graph.edges.iter().filter(|e| e.source == node.id || e.target == node.id) {
        let (direction, peer) = if e.target == node.id { ("in from", &e.source) } else { ("out to", &e.target) };
        let rate = match e.protocol {
            Protocol::Tcp => bytes_rate(e.tcp_bytes_per_s().unwrap_or(0.0)),
            _ => format!("{:.2} rps", e.rps),
        };
        rows.push(vec![
            direction.to_owned(),
            label_of(graph, peer),
            e.protocol.as_str().to_owned(),
            rate,
            if e.protocol == Protocol::Tcp { "-".into() } else { percent(e.error_ratio) },
            e.p95_ms.map(|p| format!("{p:.0}ms")).unwrap_or_else(|| "-".into()),
        ]);
    }
    drop_unmeasured_p95(graph, &mut rows);
    if rows.len() == 1 {
        return format!("no traffic in the {} window\n", graph.duration);
    }
    format!("traffic over {} ending {}:\n{}", graph.duration, graph.time, render(&rows))
}
