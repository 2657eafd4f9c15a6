//! `meshlens rollout list`: the Argo CLI's `list rollouts` columns with the measured canary share and its drift
//! from the weight asked for beside them, so a list shows which rollouts the mesh is not following.

use serde::Serialize;

use crate::doctor::Severity;
use crate::graph::{Graph, Node};
use crate::k8s::Kind;
use crate::rollout::info::{ExperimentInfo, ImageInfo, experiment_images};
use crate::rollout::render::{age_since, render_experiment};
use crate::rollout::status::CanaryDrift;
use crate::rollout::{RolloutInfo, Strategy};

use super::traffic::Measured;

use crate::terminal::table::render;

/// One Rollout of the list.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloutRow {
    pub namespace: String,
    pub name: String,
    /// `Canary` or `BlueGreen`.
    pub strategy: Strategy,
    /// The Argo CLI's status (`Healthy`, `Paused`, `Progressing`, `Degraded`).
    pub status: String,
    /// `step/steps` of a canary with steps.
    pub step: Option<String>,
    /// The Argo CLI's SetWeight of a canary.
    pub set_weight: Option<i32>,
    /// The canary's share (0..1) of the Rollout's requests measured over the window; none without telemetry or
    /// without a canary.
    pub observed_canary_share: Option<f64>,
    /// The canary weight (0..1) the Rollout asks for.
    pub intended_canary_weight: Option<f64>,
    /// Observed minus intended, in points of share (-100..100), for a canary strategy (a blue-green preview is
    /// asked for no live weight: its share is the preview Service's own traffic).
    pub drift_points: Option<f64>,
    pub ready: i32,
    /// Pods of every revision now (the Argo CLI's READY is ready/current).
    pub current: i32,
    pub desired: i32,
    pub up_to_date: i32,
    pub available: i32,
}

impl RolloutRow {
    /// The row of a Rollout, with what `graph` (a workload graph over its namespace) measured of it.
    pub fn new(info: &RolloutInfo, graph: Option<&Graph>) -> RolloutRow {
        let node = graph.and_then(|g| {
            g.nodes.iter().find(|n| {
                n.namespace == info.namespace
                    && n.name == info.name
                    && n.workload_kind.as_ref().is_some_and(|k| *k == Kind::Rollout)
            })
        });
        let (observed, intended) = canary_figures(node);
        let canary = info.strategy == Strategy::Canary;
        RolloutRow {
            namespace: info.namespace.clone(),
            name: info.name.clone(),
            strategy: info.strategy,
            status: info.phase.clone(),
            step: info.step.zip(info.steps).filter(|_| canary).map(|(step, steps)| format!("{step}/{steps}")),
            set_weight: info.set_weight.filter(|_| canary),
            observed_canary_share: observed,
            intended_canary_weight: intended,
            drift_points: canary_drift(info, node).map(|d| d.points()),
            ready: info.replicas.ready,
            current: info.replicas.current,
            desired: info.replicas.desired,
            up_to_date: info.replicas.updated,
            available: info.replicas.available,
        }
    }
}

/// A canary-strategy Rollout's measured canary share beside its weight (a blue-green preview is asked for no live
/// weight: its share is the preview Service's own traffic); `None` when the window measured no share.
pub fn canary_drift(info: &RolloutInfo, node: Option<&Node>) -> Option<CanaryDrift> {
    let (observed, intended) = canary_figures(node);
    let (observed, intended) = observed.zip(intended).filter(|_| info.strategy == Strategy::Canary)?;
    Some(CanaryDrift { observed: observed * 100.0, intended: intended * 100.0 })
}

/// The canary's observed share and intended weight (0..1) of a workload's node.
fn canary_figures(node: Option<&Node>) -> (Option<f64>, Option<f64>) {
    let total = |figure: fn(&crate::graph::Revision) -> Option<f64>| node.and_then(|n| n.canary_total(figure));
    (total(|r| r.observed_share), total(|r| r.intended_weight))
}

/// Observed minus intended, in points of share.
fn drift_points(observed: Option<f64>, intended: Option<f64>) -> Option<f64> {
    observed.zip(intended).map(|(o, i)| (o - i) * 100.0)
}

/// What an Argo Rollouts AnalysisTemplate's `web` provider reads of a Rollout
/// (`/api/namespaces/{ns}/rollouts/{name}/analysis`): the measured canary share beside the weight asked for, with
/// plain numbers a `successCondition` can compare (`result <= 5` on `{$.absDriftPoints}`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalysisAnswer {
    pub namespace: String,
    pub name: String,
    /// The window measured (`10m`) and its end (RFC 3339).
    pub window: String,
    pub time: String,
    pub observed_canary_share: Option<f64>,
    pub intended_canary_weight: Option<f64>,
    pub drift_points: Option<f64>,
    pub abs_drift_points: Option<f64>,
    /// Error findings of `meshlens doctor` about the Rollout and its routes in the window.
    pub doctor_errors: usize,
}

impl AnalysisAnswer {
    pub fn new(
        namespace: &str,
        name: &str,
        window: String,
        time: String,
        measured: Option<&Measured>,
    ) -> AnalysisAnswer {
        let (observed, intended) = canary_figures(measured.map(|m| &m.node));
        let drift = drift_points(observed, intended);
        let errors = measured.map_or(0, |m| m.findings.iter().filter(|f| f.severity == Severity::Error).count());
        AnalysisAnswer {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            window,
            time,
            observed_canary_share: observed,
            intended_canary_weight: intended,
            drift_points: drift,
            abs_drift_points: drift.map(f64::abs),
            doctor_errors: errors,
        }
    }
}

/// An Experiment as `rollout get experiment -o json` shows it: the Argo CLI's view with the images it runs.
#[derive(Debug, Serialize)]
pub struct ExperimentAnswer {
    pub namespace: String,
    #[serde(flatten)]
    pub info: ExperimentInfo,
    pub images: Vec<ImageInfo>,
}

impl ExperimentAnswer {
    pub fn new(namespace: &str, info: ExperimentInfo) -> ExperimentAnswer {
        let images = experiment_images(&info);
        ExperimentAnswer { namespace: namespace.to_owned(), info, images }
    }

    /// As `kubectl argo rollouts get experiment` prints it, ages relative to `now`.
    pub fn text(&self, now: jiff::Timestamp) -> String {
        render_experiment(&self.info, &self.namespace, &self.images, now, &age_since(now))
    }
}

/// The list as a table: the Argo CLI's columns (its `READY` as ready/current), then OBSERVED and DRIFT.
pub fn rollouts_table(rows: &[RolloutRow], with_namespace: bool) -> String {
    let dash = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    let mut header = vec!["NAME", "STRATEGY", "STATUS", "STEP", "SET-WEIGHT", "OBSERVED", "DRIFT", "READY", "DESIRED"];
    header.extend(["UP-TO-DATE", "AVAILABLE"]);
    if with_namespace {
        header.insert(0, "NAMESPACE");
    }
    let mut table = vec![header.into_iter().map(String::from).collect::<Vec<_>>()];
    for r in rows {
        let mut row = vec![
            r.name.clone(),
            r.strategy.as_str().to_owned(),
            r.status.clone(),
            dash(r.step.clone()),
            dash(r.set_weight.map(|w| w.to_string())),
            dash(r.observed_canary_share.map(|s| format!("{:.1}%", s * 100.0))),
            dash(r.drift_points.map(|d| format!("{d:+.1}"))),
            format!("{}/{}", r.ready, r.current),
            r.desired.to_string(),
            r.up_to_date.to_string(),
            r.available.to_string(),
        ];
        if with_namespace {
            row.insert(0, r.namespace.clone());
        }
        table.push(row);
    }
    render(&table)
}
