//! A Rollout whose measured canary share is not the weight it asks for, judged only over the part of the window
//! since its weight last changed, so a fresh step is never taken for drift.

use crate::graph::{Node, TrafficRole};
use crate::inventory::Inventory;
use meshlens_k8s::Kind;

use super::code::FindingCode;
use super::finding::{Finding, ObjectRef};
use super::rollout_of;
use crate::graph::render::percent;

/// A step younger than this has too little traffic behind it to judge.
pub const SETTLE_S: i64 = 120;

/// When the Rollout's current weight took effect, as its status and objects tell: the start of the pause that
/// follows a setWeight step, or the creation of the canary ReplicaSet.
pub fn weight_changed_at(inventory: &Inventory, node: &Node) -> Option<i64> {
    let rollout = rollout_of(inventory, node)?;
    let paused = rollout.status.pause_conditions.iter().filter_map(|p| p.start_time.as_deref()?.parse().ok());
    let canary_created = node.revisions.iter().filter(|r| r.role == TrafficRole::Canary).filter_map(|r| {
        let rs = inventory.find(Kind::ReplicaSet, &node.namespace, &r.replica_set)?;
        inventory.meta(rs)?.creation_timestamp
    });
    paused.chain(canary_created).map(|t: jiff::Timestamp| t.as_second()).max()
}

/// Drift of `node` (measured over `measured_s` seconds) beyond `threshold` (0..1), with the findings that
/// explain it named as likely causes.
pub fn check(node: &Node, measured_s: i64, threshold: f64, causes: &[&Finding]) -> Option<Finding> {
    let intended = node.canary_total(|r| r.intended_weight)?;
    let observed = node.canary_total(|r| r.observed_share)?;
    let drift = observed - intended;
    if drift.abs() <= threshold {
        return None;
    }
    let me = ObjectRef::workload_node(node);
    let cause_codes: Vec<&str> = causes.iter().map(|f| f.code.as_str()).collect();
    let summary = format!(
        "{me}: its canary got {} of the requests over the last {}, the Rollout asks for {} ({:+.1} points)",
        percent(observed),
        crate::time::format_duration(measured_s.max(0) as u64),
        percent(intended),
        drift * 100.0
    );
    let advice = if causes.is_empty() {
        "No routing problem explains it: check that every caller goes through a VirtualService the Rollout manages, and the ready pod counts of both revisions.".to_owned()
    } else {
        format!("Likely cause: {}.", causes.iter().map(|f| f.summary.as_str()).collect::<Vec<_>>().join("; "))
    };
    Some(
        Finding::new(FindingCode::SplitDrift, summary)
            .about(me)
            .evidence("observedCanaryShare", observed)
            .evidence("intendedCanaryWeight", intended)
            .evidence("driftPoints", drift * 100.0)
            .evidence("measuredSeconds", measured_s)
            .evidence("likelyCauses", cause_codes)
            .advice(advice),
    )
}
