//! The measured traffic of one workload for the single-object views (`workload`, `rollout get`): its edges and,
//! for Rollouts and Flagger pairs, the split per revision and per caller.

use std::collections::BTreeSet;

use anyhow::Context;
use serde_json::{Value, json};

use crate::graph::render::table::{node_edges_table, split_table};
use crate::graph::resolve::workload_id;
use crate::graph::{Graph, GraphRequest, GraphType, Node, parse_duration};
use crate::identity::WorkloadId;

use super::SourceArgs;
use super::source::{Mesh, telemetry};

/// A workload's node in the graph of its namespace.
pub struct Measured {
    pub graph: Graph,
    pub node: Node,
}

/// Measures the traffic of `id` over `duration`; `None` when the source has no telemetry at all.
pub fn measure(mesh: &Mesh, source: &SourceArgs, id: &WorkloadId, duration: &str) -> anyhow::Result<Option<Measured>> {
    if !mesh.has_telemetry(source) {
        return Ok(None);
    }
    let duration_s = parse_duration(duration)
        .with_context(|| format!("--duration {duration:?} is not a duration like 30s, 10m or 1h"))?;
    let telemetry = telemetry(mesh, source)?;
    let req = GraphRequest {
        graph_type: GraphType::Workload,
        namespaces: Some(BTreeSet::from([id.namespace.clone()])),
        duration_s,
        at: telemetry.at,
        scrape_labels: telemetry.scrape_labels.clone(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let graph = runtime
        .block_on(crate::graph::graph(&telemetry.backend, &mesh.index, &mesh.inventory, &req))
        .with_context(|| format!("querying {}", telemetry.backend.describe()))?;
    let node_id = workload_id(&id.cluster, &id.namespace, &id.name);
    let node = graph.node(&node_id).cloned();
    Ok(node.map(|node| Measured { graph, node }))
}

impl Measured {
    /// Text: the split (for workloads with revisions) and the edges in and out.
    pub fn text(&self) -> String {
        let mut out = String::new();
        if !self.node.revisions.is_empty() {
            out.push_str(&split_table(&self.graph, &self.node));
            out.push('\n');
        }
        out.push_str(&node_edges_table(&self.graph, &self.node));
        out
    }

    /// JSON: the node's split, callers and edges.
    pub fn json(&self) -> Value {
        let touching = |inbound: bool| -> Vec<Value> {
            self.graph
                .edges
                .iter()
                .filter(|e| if inbound { e.target == self.node.id } else { e.source == self.node.id })
                .map(|e| json!(e))
                .collect()
        };
        json!({
            "duration": self.graph.duration,
            "time": self.graph.time,
            "revisions": self.node.revisions,
            "split": self.node.split,
            "callers": self.node.callers,
            "inbound": touching(true),
            "outbound": touching(false),
            "warnings": self.graph.warnings,
        })
    }
}
