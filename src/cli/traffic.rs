//! Measures one workload's traffic for `workload` and `rollout get` from the source flags.

use anyhow::Context;

use crate::identity::WorkloadId;
use crate::views::traffic::{Measured, Window};

use super::SourceArgs;
use super::source::{Mesh, telemetry};

/// Measures the traffic of `id` over `duration`; `None` when the source has no telemetry at all.
pub fn measure(mesh: &Mesh, source: &SourceArgs, id: &WorkloadId, duration_s: u64) -> anyhow::Result<Option<Measured>> {
    if !mesh.has_telemetry(source) {
        return Ok(None);
    }
    let duration_s = mesh.duration_s(duration_s);
    let telemetry = telemetry(mesh, source)?;
    let window = Window { duration_s, at: telemetry.at, scrape_labels: &telemetry.scrape_labels };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime
        .block_on(crate::views::traffic::measure(&telemetry.backend, &mesh.index, &mesh.inventory, id, &window))
        .with_context(|| format!("querying {}", telemetry.backend.describe()))
}
