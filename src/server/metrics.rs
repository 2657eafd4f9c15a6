//! `/metrics` in the Prometheus text format, for automation: per Rollout (and Flagger pair) and revision the
//! observed share beside the intended weight, the canary's drift, and a count of doctor findings per code — so an
//! Argo Rollouts AnalysisTemplate or an alert rule can act on the measured split. Computed on each scrape over the
//! server's default window.

use std::fmt::Write;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::doctor::{DEFAULT_THRESHOLD, examine};
use crate::graph::{Graph, GraphRequest, Revision};
use crate::k8s::KindName;

use super::api::build_graph;
use super::error::ApiError;
use super::state::AppState;

/// The content type Prometheus expects of the text format.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

pub async fn metrics(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let world = state.world();
    let req = GraphRequest::new(state.now(), state.default_duration_s(), state.scrape_labels().clone());
    let graph = build_graph(&state, &world, &req).await?;
    let report = examine(state.telemetry(), &world.index, &world.inventory, &req, &graph, DEFAULT_THRESHOLD).await;
    let mut out = split_metrics(&graph);
    let mut counts: std::collections::BTreeMap<(&str, &str), usize> = Default::default();
    for f in &report.findings {
        *counts.entry((f.code.as_str(), f.severity.as_str())).or_default() += 1;
    }
    family(&mut out, "meshlens_doctor_findings", "Findings of meshlens doctor now, by code and severity.");
    for ((code, severity), n) in counts {
        sample(&mut out, "meshlens_doctor_findings", &[("code", code), ("severity", severity)], n as f64);
    }
    family(&mut out, "meshlens_window_seconds", "The window shares and findings are measured over.");
    sample(&mut out, "meshlens_window_seconds", &[], req.duration_s as f64);
    Ok(([(header::CONTENT_TYPE, TEXT_FORMAT)], out))
}

/// One figure of a revision, if known.
type RevisionFigure = fn(&Revision) -> Option<f64>;

/// Per revision: observed share, intended and routed weight; per workload: the canary's drift.
fn split_metrics(graph: &Graph) -> String {
    let mut out = String::new();
    let revisioned: Vec<_> = graph.nodes.iter().filter(|n| !n.revisions.is_empty()).collect();
    let per_revision: [(&str, &str, RevisionFigure); 3] = [
        (
            "meshlens_revision_observed_share",
            "Share (0..1) of the workload's requests that this revision's pods received.",
            |r| r.observed_share,
        ),
        ("meshlens_revision_intended_weight", "Weight (0..1) the Rollout or Canary asks for.", |r| r.intended_weight),
        (
            "meshlens_revision_routed_weight",
            "Weight (0..1) the routes (VirtualService or Gateway API) carry now.",
            |r| r.routed_weight,
        ),
    ];
    for (name, help, value) in per_revision {
        family(&mut out, name, help);
        for node in &revisioned {
            let kind = node.workload_kind.as_ref().map(KindName::as_str).unwrap_or_default();
            for r in &node.revisions {
                let Some(v) = value(r) else { continue };
                let labels = [
                    ("namespace", node.namespace.as_str()),
                    ("workload", node.name.as_str()),
                    ("kind", kind),
                    ("replicaset", r.replica_set.as_str()),
                    ("role", r.role.as_str()),
                ];
                sample(&mut out, name, &labels, v);
            }
        }
    }
    let drift = "meshlens_canary_drift";
    family(&mut out, drift, "Observed canary share minus intended canary weight (-1..1).");
    for node in &revisioned {
        if let (Some(o), Some(i)) = (node.canary_total(|r| r.observed_share), node.canary_total(|r| r.intended_weight))
        {
            let kind = node.workload_kind.as_ref().map(KindName::as_str).unwrap_or_default();
            let labels = [("namespace", node.namespace.as_str()), ("workload", node.name.as_str()), ("kind", kind)];
            sample(&mut out, drift, &labels, o - i);
        }
    }
    out
}

fn family(out: &mut String, name: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
}

fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: f64) {
    let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{}\"", escape(v))).collect();
    let labels = if labels.is_empty() { String::new() } else { format!("{{{}}}", labels.join(",")) };
    let _ = writeln!(out, "{name}{labels} {value}");
}

/// Label values as the text format wants them: backslash, double quote and newline escaped.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_label_values_are_escaped() {
        let mut out = String::new();
        sample(&mut out, "m", &[("a", "x\"} 1\ny\\")], 0.5);
        assert_eq!(out, "m{a=\"x\\\"} 1\\ny\\\\\"} 0.5\n");
    }
}
