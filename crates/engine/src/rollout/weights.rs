//! The weights a Rollout asks for, computed as the Argo CLI computes SetWeight and ActualWeight. Neither is
//! measured traffic; meshlens sets the measured split beside them.

use meshlens_k8s::argo::Rollout;

/// The canary step the Rollout is on, or `None` when it has no steps or is past the last one.
pub fn current_step(rollout: &Rollout) -> Option<usize> {
    let steps = &rollout.spec.strategy.canary.as_ref()?.steps;
    let index = usize::try_from(rollout.status.current_step_index.unwrap_or(0)).ok()?;
    (index < steps.len()).then_some(index)
}

/// The Argo CLI's SetWeight, on the `maxTrafficWeight` scale: 0 when aborted, the full weight past the last step,
/// otherwise the last `setWeight` at or before the current step (pause and analysis steps inherit it).
pub fn set_weight(rollout: &Rollout) -> i32 {
    if rollout.status.abort {
        return 0;
    }
    let Some(index) = current_step(rollout) else {
        return rollout.max_traffic_weight();
    };
    let steps = rollout.spec.strategy.canary.as_ref().map(|c| c.steps.as_slice()).unwrap_or_default();
    steps.iter().take(index.saturating_add(1)).rev().find_map(|s| s.set_weight).unwrap_or(0)
}

/// The Argo CLI's ActualWeight: what the controller last wrote into the traffic router when it routes traffic,
/// else the canary's share of available pods. `canary_available` is the canary ReplicaSet's available pods.
pub fn actual_weight(rollout: &Rollout, canary_available: Option<i32>) -> i32 {
    let Some(canary) = &rollout.spec.strategy.canary else {
        return 0;
    };
    if current_step(rollout).is_none() {
        return 100;
    }
    let available = rollout.status.available_replicas;
    if available <= 0 {
        return 0;
    }
    if canary.traffic_routing.is_none() {
        return canary_available.map_or(0, |c| c * 100 / available);
    }
    match &rollout.status.canary.weights {
        Some(w) => w.canary.weight,
        None => set_weight(rollout),
    }
}

/// The share of traffic the Rollout intends for its canary, 0..1 (SetWeight over `maxTrafficWeight`).
pub fn intended_canary_share(rollout: &Rollout) -> f64 {
    let max = rollout.max_traffic_weight().max(1);
    f64::from(set_weight(rollout).clamp(0, max)) / f64::from(max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use meshlens_k8s::argo::{CanaryStep, CanaryStrategy, TrafficRouting, TrafficWeights};

    fn canary(steps: &[Option<i32>], index: Option<i32>) -> Rollout {
        let mut ro = Rollout::default();
        let steps = steps.iter().map(|w| CanaryStep { set_weight: *w, ..Default::default() }).collect();
        ro.spec.strategy.canary = Some(CanaryStrategy { steps, ..Default::default() });
        ro.status.current_step_index = index;
        ro
    }

    #[test]
    fn set_weight_is_the_last_set_weight_at_or_before_the_current_step() {
        let ro = canary(&[Some(20), None, Some(40), None], Some(3));
        assert_eq!(set_weight(&ro), 40);
        assert_eq!(set_weight(&canary(&[Some(20), None], Some(1))), 20);
        assert_eq!(set_weight(&canary(&[None, Some(20)], Some(0))), 0, "an experiment step before any weight");
        assert_eq!(set_weight(&canary(&[Some(20)], Some(1))), 100, "past the last step");
        assert_eq!(set_weight(&canary(&[], None)), 100, "no steps");
        let mut aborted = canary(&[Some(20)], Some(0));
        aborted.status.abort = true;
        assert_eq!(set_weight(&aborted), 0);
    }

    #[test]
    fn max_traffic_weight_sets_the_scale() {
        let mut ro = canary(&[Some(200)], Some(0));
        let routing = TrafficRouting { max_traffic_weight: Some(1000), ..Default::default() };
        ro.spec.strategy.canary.as_mut().unwrap().traffic_routing = Some(routing);
        assert_eq!(intended_canary_share(&ro), 0.2);
        ro.status.current_step_index = Some(1);
        assert_eq!(set_weight(&ro), 1000);
        assert_eq!(intended_canary_share(&ro), 1.0);
    }

    #[test]
    fn actual_weight_uses_router_weights_or_available_pods() {
        let mut ro = canary(&[Some(25), None], Some(1));
        ro.status.available_replicas = 4;
        assert_eq!(actual_weight(&ro, Some(1)), 25, "1 of 4 available pods");
        assert_eq!(actual_weight(&ro, None), 0);
        ro.spec.strategy.canary.as_mut().unwrap().traffic_routing = Some(TrafficRouting::default());
        assert_eq!(actual_weight(&ro, Some(1)), 25, "SetWeight without recorded weights");
        let mut weights = TrafficWeights::default();
        weights.canary.weight = 10;
        ro.status.canary.weights = Some(weights);
        assert_eq!(actual_weight(&ro, Some(1)), 10);
    }
}
