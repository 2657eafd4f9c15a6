//! Graph renderings: a text table for terminals, Kiali's graph JSON, Graphviz DOT and SVG. (Our own JSON is the
//! [`Graph`](super::Graph) serialised.)

pub mod chart;
pub mod dot;
pub mod kiali;
pub mod svg;
pub mod table;

use super::{Graph, Node, NodeType};

/// A node as people read it: `namespace/name`, with what kind of node it is when that matters.
pub fn node_label(node: &Node) -> String {
    let base = match node.node_type {
        NodeType::Unknown => return "unknown".to_owned(),
        NodeType::Service => format!("svc {}/{}", node.namespace, node.name),
        NodeType::App => match &node.version {
            Some(v) => format!("{}/{} {v}", node.namespace, node.name),
            None => format!("{}/{}", node.namespace, node.name),
        },
        NodeType::Workload => format!("{}/{}", node.namespace, node.name),
        NodeType::Namespace => format!("namespace {}", node.name),
    };
    if node.is_ghost { format!("{base} (ghost)") } else { base }
}

/// The label of a node id in `graph` (ids of nodes not in the graph print as they are).
pub fn label_of(graph: &Graph, id: &str) -> String {
    graph.node(id).map(node_label).unwrap_or_else(|| id.to_owned())
}

/// `Some(0.2)` → `20%`, `None` → `–`: shares and weights as bars and boxes label them.
pub fn whole_percent(share: Option<f64>) -> String {
    share.map_or_else(|| "–".into(), |v| format!("{:.0}%", v * 100.0))
}

/// `0.2` → `20.0%`.
pub fn percent(ratio: f64) -> String {
    format!("{:.1}%", ratio * 100.0)
}

/// Bytes per second, human sized.
pub fn bytes_rate(bytes: f64) -> String {
    match bytes {
        b if b >= 1e6 => format!("{:.1} MB/s", b / 1e6),
        b if b >= 1e3 => format!("{:.1} kB/s", b / 1e3),
        b => format!("{b:.0} B/s"),
    }
}
