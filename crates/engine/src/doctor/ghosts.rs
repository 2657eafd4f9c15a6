//! Telemetry names that no object explains (ARCHITECTURE.md: ghosts), and names several workloads share.

use crate::graph::Graph;

use super::code::{FindingCode, Severity};
use super::finding::{Finding, ObjectRef, RefKind};

pub fn check(graph: &Graph, selects: &dyn Fn(&str) -> bool) -> Vec<Finding> {
    let mut findings = Vec::new();
    for node in graph.nodes.iter().filter(|n| selects(&n.namespace)) {
        let telemetry_name = ObjectRef::new(RefKind::TelemetryName, &node.namespace, &node.name);
        if node.is_ghost {
            let t = &node.traffic;
            let received = t.rps_in > 0.0 || t.tcp_in > 0.0;
            let reason = node.ghost_reason.clone().unwrap_or_default();
            let (severity, what) = if received {
                (Severity::Error, format!("receives {:.2} requests/s", t.rps_in))
            } else {
                (Severity::Warning, format!("sends {:.2} requests/s", t.rps_out))
            };
            let summary = format!(
                "{}/{} {what} in telemetry, but no workload has that name: {reason}",
                node.namespace, node.name
            );
            findings.push(
                Finding::new(FindingCode::GhostWorkload, summary)
                    .with_severity(severity)
                    .about(telemetry_name.clone())
                    .evidence("rpsIn", t.rps_in)
                    .evidence("rpsOut", t.rps_out)
                    .evidence("reason", reason),
            );
        }
        if !node.ambiguous_with.is_empty() {
            let names: Vec<&str> = node.telemetry_names.iter().map(String::as_str).collect();
            let me = ObjectRef::workload_node(node);
            let drawn = me.to_string();
            let summary = format!(
                "telemetry name {}/{} belongs to {drawn} and {}: series without a pod label (all source-reported ones) are drawn on {drawn}, so the others look idle",
                node.namespace,
                names.join(", "),
                node.ambiguous_with.join(", "),
            );
            let mut finding = Finding::new(FindingCode::AmbiguousName, summary).about(me);
            for name in &names {
                finding = finding.about(ObjectRef::new(RefKind::TelemetryName, &node.namespace, name));
            }
            findings.push(
                finding
                    .evidence("telemetryNames", names)
                    .evidence("workloads", [vec![drawn.clone()], node.ambiguous_with.clone()].concat()),
            );
        }
    }
    findings
}
