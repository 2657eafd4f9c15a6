//! A Rollout's phase and message as the Argo CLI shows them: the controller's own `status.phase` when it wrote
//! one (v1.0+), else the same calculation from conditions and replica counts.

use meshlens_k8s::argo::Rollout;

const ABORTED_REASON: &str = "RolloutAborted";
const TIMED_OUT_REASON: &str = "ProgressDeadlineExceeded";
const INVALID_SPEC: &str = "InvalidSpec";

/// `(phase, message)`: Healthy, Progressing, Paused or Degraded, and why.
pub fn phase(rollout: &Rollout, generation: Option<i64>) -> (String, String) {
    let status = &rollout.status;
    let observed = status.observed_generation.as_deref().and_then(|g| g.parse::<i64>().ok());
    if let (Some(observed), Some(generation)) = (observed, generation)
        && observed < generation
    {
        return ("Progressing".into(), "waiting for rollout spec update to be observed".into());
    }
    if status.controller_pause && status.pause_conditions.is_empty() {
        return ("Progressing".into(), "waiting for rollout to unpause".into());
    }
    if let Some(phase) = status.phase.as_deref().filter(|p| !p.is_empty()) {
        return (phase.to_owned(), status.message.clone().unwrap_or_default());
    }
    calculate(rollout)
}

fn calculate(rollout: &Rollout) -> (String, String) {
    let (spec, status) = (&rollout.spec, &rollout.status);
    let progressing = |m: &str| ("Progressing".to_owned(), m.to_owned());
    for cond in &status.conditions {
        let message = cond.message.clone().unwrap_or_default();
        if cond.type_ == INVALID_SPEC {
            return ("Degraded".into(), format!("{INVALID_SPEC}: {message}"));
        }
        if let Some(reason @ (ABORTED_REASON | TIMED_OUT_REASON)) = cond.reason.as_deref() {
            return ("Degraded".into(), format!("{reason}: {message}"));
        }
    }
    if spec.paused {
        return ("Paused".into(), "manually paused".into());
    }
    if let Some(pause) = status.pause_conditions.first() {
        return ("Paused".into(), pause.reason.clone());
    }
    if spec.restart_at.is_some() && spec.restart_at != status.restarted_at {
        return progressing("rollout is restarting");
    }
    if status.updated_replicas < spec.replicas.unwrap_or(1) {
        return progressing("more replicas need to be updated");
    }
    if status.available_replicas < status.updated_replicas {
        return progressing("updated replicas are still becoming available");
    }
    let fully_promoted = status.stable_rs.is_some() && status.stable_rs == status.current_pod_hash;
    if spec.strategy.blue_green.is_some() {
        let active = status.blue_green.active_selector.as_deref().filter(|a| !a.is_empty());
        if active.is_none() || active != status.current_pod_hash.as_deref() {
            return progressing("active service cutover pending");
        }
        if !fully_promoted {
            return progressing("waiting for post-promotion verification to complete");
        }
    } else if let Some(canary) = &spec.strategy.canary {
        if canary.traffic_routing.is_none() && status.replicas > status.updated_replicas {
            return progressing("old replicas are pending termination");
        }
        if !fully_promoted {
            return progressing("waiting for all steps to complete");
        }
    }
    ("Healthy".into(), String::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use meshlens_k8s::argo::{CanaryStrategy, Condition, PauseCondition};

    fn settled() -> Rollout {
        let mut ro = Rollout::default();
        ro.spec.replicas = Some(2);
        ro.spec.strategy.canary = Some(CanaryStrategy::default());
        ro.status.replicas = 2;
        ro.status.updated_replicas = 2;
        ro.status.available_replicas = 2;
        ro.status.stable_rs = Some("h".into());
        ro.status.current_pod_hash = Some("h".into());
        ro
    }

    #[test]
    fn settled_rollout_is_healthy() {
        assert_eq!(phase(&settled(), None), ("Healthy".into(), String::new()));
    }

    #[test]
    fn controller_phase_wins_when_present() {
        let mut ro = settled();
        ro.status.phase = Some("Paused".into());
        ro.status.message = Some("CanaryPauseStep".into());
        assert_eq!(phase(&ro, None), ("Paused".into(), "CanaryPauseStep".into()));
    }

    #[test]
    fn timed_out_and_paused_rollouts() {
        let mut ro = settled();
        ro.status.pause_conditions.push(PauseCondition { reason: "BlueGreenPause".into(), start_time: None });
        assert_eq!(phase(&ro, None), ("Paused".into(), "BlueGreenPause".into()));
        ro.status.conditions.push(Condition {
            type_: "Progressing".into(),
            reason: Some(TIMED_OUT_REASON.into()),
            message: Some("too slow".into()),
            ..Default::default()
        });
        assert_eq!(phase(&ro, None), ("Degraded".into(), "ProgressDeadlineExceeded: too slow".into()));
    }

    #[test]
    fn unobserved_spec_is_progressing() {
        let mut ro = settled();
        ro.status.observed_generation = Some("3".into());
        assert_eq!(phase(&ro, Some(4)).1, "waiting for rollout spec update to be observed");
        ro.status.current_pod_hash = Some("new".into());
        assert_eq!(phase(&ro, Some(3)).1, "waiting for all steps to complete");
    }
}
