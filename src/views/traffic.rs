//! The measured traffic of one workload for the single-object views (`workload`, `rollout get`, their pages): its
//! edges and, for Rollouts and Flagger pairs, the split per revision and per caller.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::doctor::Finding;
use crate::doctor::render::finding_text;
use crate::graph::render::table::{node_edges_table, split_table};
use crate::graph::resolve::workload_id;
use crate::graph::{Graph, GraphRequest, GraphType, Node, ScrapeLabels};
use crate::identity::{IdentityIndex, WorkloadId};
use crate::inventory::Inventory;
use crate::telemetry::{Backend, TelemetryError};

/// A workload's node in the graph of its namespace, and what the doctor finds about it.
pub struct Measured {
    pub graph: Graph,
    pub node: Node,
    pub findings: Vec<Finding>,
}

/// Which window to measure.
pub struct Window<'a> {
    pub duration_s: u64,
    pub at: i64,
    pub scrape_labels: &'a ScrapeLabels,
}

/// Measures the traffic of `id` over `window` (`None` when the workload is in no graph).
pub async fn measure(
    backend: &Backend,
    index: &IdentityIndex,
    inventory: &Inventory,
    id: &WorkloadId,
    window: &Window<'_>,
) -> Result<Option<Measured>, TelemetryError> {
    let req = GraphRequest {
        graph_type: GraphType::Workload,
        namespaces: Some(BTreeSet::from([id.namespace.clone()])),
        duration_s: window.duration_s,
        at: window.at,
        scrape_labels: window.scrape_labels.clone(),
        edge_latency: true,
    };
    let graph = crate::graph::graph(backend, index, inventory, &req).await?;
    let Some(node) = graph.node(&workload_id(&id.cluster, &id.namespace, &id.name)).cloned() else { return Ok(None) };
    let report =
        crate::doctor::examine(backend, index, inventory, &req, &graph, crate::doctor::DEFAULT_THRESHOLD).await;
    let findings =
        report.about_workload(inventory, id.kind.as_str(), &id.namespace, &id.name).into_iter().cloned().collect();
    Ok(Some(Measured { graph, node, findings }))
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
        if !self.findings.is_empty() {
            out.push_str("\nfindings (meshlens doctor):\n");
            self.findings.iter().for_each(|f| out.push_str(&finding_text(f)));
        }
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
            "findings": self.findings,
            "warnings": self.graph.warnings,
        })
    }
}
