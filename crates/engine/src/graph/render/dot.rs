//! Graphviz DOT: `meshlens graph -o dot | dot -Tsvg`. Rollout nodes show their split; ghosts are dashed red,
//! outside nodes dotted grey, idle nodes grey.

use std::fmt::Write;

use crate::graph::{Graph, NodeType, Protocol};
use crate::terminal::{Newlines, escape};

use super::{bytes_rate, node_label, percent};

pub fn render_dot(graph: &Graph) -> String {
    let mut out = String::from(
        "digraph meshlens {\n  rankdir=LR;\n  node [shape=box, style=\"rounded,filled\", fillcolor=white, fontname=\"Helvetica\", fontsize=11];\n  edge [fontname=\"Helvetica\", fontsize=9];\n",
    );
    for n in &graph.nodes {
        let mut label = node_label(n);
        if let Some(kind) = &n.workload_kind {
            let _ = write!(label, "\n{kind}");
        }
        for r in &n.revisions {
            let role = r.role.as_str();
            let observed = r.observed_share.map(percent).unwrap_or_else(|| "-".into());
            let intended = r.intended_weight.map(percent).unwrap_or_else(|| "-".into());
            let _ = write!(label, "\n{role} {observed} (wants {intended})");
        }
        let mut attrs = vec![format!("label={}", quote(&label))];
        if n.is_ghost {
            attrs.push("style=\"rounded,dashed\"".into());
            attrs.push("color=red".into());
        } else if n.is_outside || n.node_type == NodeType::Unknown {
            attrs.push("style=\"rounded,dotted\"".into());
            attrs.push("color=gray50".into());
        } else if n.is_idle {
            attrs.push("fillcolor=gray90".into());
        } else if !n.revisions.is_empty() {
            attrs.push("fillcolor=\"#fff3d6\"".into());
        }
        if let Some(url) = &n.url {
            attrs.push(format!("URL={}", quote(url)));
        }
        let _ = writeln!(out, "  {} [{}];", quote(&n.id), attrs.join(", "));
    }
    for e in &graph.edges {
        let label = match e.protocol {
            Protocol::Tcp => bytes_rate(e.tcp_bytes_per_s().unwrap_or(0.0)),
            _ if e.error_ratio > 0.0 => format!("{:.2} rps\n{} err", e.rps, percent(e.error_ratio)),
            _ => format!("{:.2} rps", e.rps),
        };
        let color = if e.error_ratio > 0.05 { ", color=red" } else { "" };
        let _ = writeln!(out, "  {} -> {} [label={}{color}];", quote(&e.source), quote(&e.target), quote(&label));
    }
    out.push_str("}\n");
    out
}

/// A DOT string literal; control characters of the value are shown escaped, as in every text output.
fn quote(s: &str) -> String {
    let shown = escape(s, Newlines::Keep);
    format!("\"{}\"", shown.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n"))
}
