//! The split of a workload with revisions over time: the graph's per-pod revision query evaluated as a range, and
//! the rows of each time attributed to revisions exactly as the graph attributes them, so the chart and the graph
//! never disagree.

use std::collections::BTreeSet;
use std::rc::Rc;

use serde::Serialize;

use crate::identity::{IdentityIndex, Workload};
use crate::inventory::Inventory;
use meshlens_telemetry::{Backend, QuerySpec, Steps, TelemetryError};

use super::revisions::{ByDestination, split};
use super::routing::{traffic_role, weights};
use super::{GraphRequest, ScrapeLabels, TrafficRole, plan};

/// The observed shares at one time.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SplitPoint {
    /// Unix seconds.
    pub time: i64,
    pub revisions: Vec<PointShare>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PointShare {
    pub replica_set: String,
    pub role: TrafficRole,
    pub observed_share: f64,
}

/// The shares of `w` at `points` times over the `duration_s` before `at`, each measured over a short window of its
/// own (the spacing of the points, at least a minute).
pub async fn split_history(
    backend: &Backend,
    index: &IdentityIndex,
    inventory: &Inventory,
    w: &Workload,
    window: (i64, u64),
    points: u64,
    scrape_labels: &ScrapeLabels,
) -> Result<Vec<SplitPoint>, TelemetryError> {
    let (at, duration_s) = window;
    let step = (duration_s / points.max(1)).max(1);
    let req = GraphRequest::new(at, step.max(60), scrape_labels.clone())
        .with_namespaces(Some(BTreeSet::from([w.id.namespace.clone()])));
    let Some(spec) = plan::plan(&req, index).revision_requests else { return Ok(Vec::new()) };
    let spec = QuerySpec { range_s: req.duration_s, ..spec };
    let start = at - duration_s as i64 + step as i64;
    let steps = backend.query_range(&spec, Steps { start, end: at, step: step as i64 }).await?;
    let weights = weights(inventory, w);
    let nobody: Rc<str> = Rc::from("");
    let mut history = Vec::with_capacity(steps.len());
    for (time, rows) in &steps {
        let requests = ByDestination::new(rows).of(w);
        if requests.is_empty() {
            continue;
        }
        let s = split(w, &weights, &requests, &[], scrape_labels, &mut |_| nobody.clone());
        let revisions = s
            .revisions
            .into_iter()
            .map(|r| PointShare {
                replica_set: r.replica_set,
                role: r.role,
                observed_share: r.observed_share.unwrap_or(0.0),
            })
            .collect();
        history.push(SplitPoint { time: *time, revisions });
    }
    Ok(history)
}

/// The observed split of one workload over a window, point by point, beside the intended weights over it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SplitHistory {
    /// Seconds between points.
    pub step_seconds: u64,
    pub points: Vec<SplitPoint>,
    pub intended: Vec<WeightStep>,
}

/// The intended weights of one workload from `since` on.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WeightStep {
    /// Unix seconds when these weights were first seen (they may have held before).
    pub since: i64,
    pub revisions: Vec<IntendedWeight>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IntendedWeight {
    pub replica_set: String,
    pub role: TrafficRole,
    pub intended_weight: f64,
}

/// The weight each serving revision of `w` is meant to get now (replica set, role, weight 0..1).
pub fn intended(inventory: &Inventory, w: &Workload) -> Vec<(String, TrafficRole, f64)> {
    let wanted = weights(inventory, w).intended;
    w.replica_sets
        .iter()
        .filter_map(|rs| {
            let role = traffic_role(&rs.roles);
            let weight = *wanted.get(&rs.name)?;
            (role != TrafficRole::Other).then(|| (rs.name.clone(), role, weight))
        })
        .collect()
}
