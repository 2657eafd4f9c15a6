//! Measures traffic from the source flags: one workload's for `workload` and `rollout get`, the workload graph of
//! some namespaces for `rollout list`.

use std::collections::BTreeSet;

use anyhow::Context;

use crate::graph::{Graph, GraphRequest};
use crate::identity::WorkloadId;
use crate::views::traffic::{Measured, Window};

use super::source::{Mesh, telemetry};
use super::{SourceArgs, say};

/// Measures the traffic of `id` over `duration`; `None` when the source has no telemetry at all.
pub fn measure(mesh: &Mesh, source: &SourceArgs, id: &WorkloadId, duration_s: u64) -> anyhow::Result<Option<Measured>> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(measure_now(mesh, source, id, duration_s))
}

/// [`measure`], for callers already in an async runtime (a watch).
pub async fn measure_now(
    mesh: &Mesh,
    source: &SourceArgs,
    id: &WorkloadId,
    duration_s: u64,
) -> anyhow::Result<Option<Measured>> {
    if !mesh.has_telemetry(source) {
        return Ok(None);
    }
    let duration_s = mesh.duration_s(duration_s);
    let telemetry = telemetry(mesh, source)?;
    let window = Window { duration_s, at: telemetry.at, scrape_labels: &telemetry.scrape_labels };
    crate::views::traffic::measure(&telemetry.backend, &mesh.index, &mesh.inventory, id, &window)
        .await
        .with_context(|| format!("querying {}", telemetry.backend.describe()))
}

/// The workload graph of `namespaces` over `duration`, its warnings said; `None` when the source has no telemetry.
pub fn workload_graph(
    mesh: &Mesh,
    source: &SourceArgs,
    namespaces: BTreeSet<String>,
    duration_s: u64,
) -> anyhow::Result<Option<Graph>> {
    if !mesh.has_telemetry(source) {
        return Ok(None);
    }
    let telemetry = telemetry(mesh, source)?;
    let req = GraphRequest::new(telemetry.at, mesh.duration_s(duration_s), telemetry.scrape_labels.clone())
        .with_namespaces(Some(namespaces));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let graph = runtime
        .block_on(crate::graph::graph(&telemetry.backend, &mesh.index, &mesh.inventory, &req))
        .with_context(|| format!("querying {}", telemetry.backend.describe()))?;
    for w in &graph.warnings {
        say(&format!("warning: {w}"));
    }
    Ok(Some(graph))
}
