//! The measured traffic of one workload for the single-object views (`workload`, `rollout get`, their pages): its
//! edges and, for Rollouts and Flagger pairs, the split per revision and per caller.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::doctor::render::finding_text;
use crate::doctor::{Finding, ObjectRef};
use crate::graph::history::SplitHistory;
use crate::graph::render::table::{node_edges_table, split_table};
use crate::graph::resolve::workload_id;
use crate::graph::{CallerSplit, Edge, Graph, GraphRequest, Node, Revision, ScrapeLabels, SplitSource};
use crate::identity::{IdentityIndex, Workload, WorkloadId};
use crate::inventory::Inventory;
use crate::rollout::RolloutInfo;
use crate::telemetry::{Backend, TelemetryError};

/// A workload's node in the graph of its namespace, and what the doctor finds about it.
pub struct Measured {
    pub graph: Graph,
    pub node: Node,
    pub findings: Vec<Finding>,
}

/// The measured traffic of one workload, as the JSON answers of `workload` and `rollout get` (CLI and API) hold it.
#[derive(Serialize)]
pub struct TrafficAnswer<'a> {
    pub duration: &'a str,
    pub time: &'a str,
    pub revisions: &'a [Revision],
    pub split: Option<&'a SplitSource>,
    pub callers: &'a [CallerSplit],
    pub inbound: Vec<&'a Edge>,
    pub outbound: Vec<&'a Edge>,
    pub findings: &'a [Finding],
    pub warnings: &'a [String],
}

/// One workload and, when the source has telemetry, its traffic.
#[derive(Serialize)]
pub struct WorkloadAnswer<'a> {
    #[serde(flatten)]
    pub workload: &'a Workload,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traffic: Option<TrafficAnswer<'a>>,
}

/// A Rollout as `rollout get -o json` and the API show it: the Argo CLI's view, the measured split and (from the
/// server, which can query a range) the split's history.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloutAnswer<'a> {
    #[serde(flatten)]
    pub info: &'a RolloutInfo,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed_split: Option<TrafficAnswer<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<SplitHistory>,
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
    let req = GraphRequest::new(window.at, window.duration_s, window.scrape_labels.clone())
        .with_namespaces(Some(BTreeSet::from([id.namespace.clone()])))
        .with_edge_latency(true);
    let graph = crate::graph::graph(backend, index, inventory, &req).await?;
    let Some(node) = graph.node(&workload_id(&id.cluster, &id.namespace, &id.name)).cloned() else { return Ok(None) };
    let report =
        crate::doctor::examine(backend, index, inventory, &req, &graph, crate::doctor::DEFAULT_THRESHOLD).await;
    let findings = report
        .about_workload(inventory, ObjectRef::new(id.kind.clone(), &id.namespace, &id.name))
        .into_iter()
        .cloned()
        .collect();
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
    pub fn answer(&self) -> TrafficAnswer<'_> {
        let touching = |inbound: bool| {
            self.graph
                .edges
                .iter()
                .filter(|e| if inbound { e.target == self.node.id } else { e.source == self.node.id })
                .collect()
        };
        TrafficAnswer {
            duration: &self.graph.duration,
            time: &self.graph.time,
            revisions: &self.node.revisions,
            split: self.node.split.as_ref(),
            callers: &self.node.callers,
            inbound: touching(true),
            outbound: touching(false),
            findings: &self.findings,
            warnings: &self.graph.warnings,
        }
    }
}
