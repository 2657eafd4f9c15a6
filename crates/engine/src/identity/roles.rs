//! Which role a revision plays: the Argo CLI's stable / canary / active / preview / ping / pong for Rollouts,
//! primary / canary for Flagger.

use meshlens_k8s::argo::Rollout;

use super::workload::Role;

/// The roles of the Rollout ReplicaSet (or pod) with pod-template hash `hash`, ordered as the Argo CLI prints them.
pub fn rollout_roles(rollout: &Rollout, hash: &str) -> Vec<Role> {
    let status = &rollout.status;
    let strategy = &rollout.spec.strategy;
    let is_stable = status.stable_rs.as_deref() == Some(hash);
    let mut roles = Vec::new();
    if let Some(canary) = &strategy.canary {
        let is_canary = !is_stable && status.current_pod_hash.as_deref() == Some(hash);
        if is_stable {
            roles.push(Role::Stable);
        } else if is_canary {
            roles.push(Role::Canary);
        }
        if canary.ping_pong.is_some() && (is_stable || is_canary) {
            let stable_is_ping = status.canary.stable_ping_pong.as_deref() == Some("ping");
            // The stable side is whichever of ping and pong the controller recorded; the canary is the other.
            roles.push(if stable_is_ping == is_stable { Role::Ping } else { Role::Pong });
        }
    }
    if strategy.blue_green.is_some() {
        if is_stable {
            roles.push(Role::Stable);
        }
        if status.blue_green.active_selector.as_deref() == Some(hash) {
            roles.push(Role::Active);
        } else if status.blue_green.preview_selector.as_deref() == Some(hash) {
            roles.push(Role::Preview);
        }
    }
    roles.sort();
    roles.dedup();
    roles
}

/// The role of a Deployment in a Flagger Canary: its `-primary` copy serves stable traffic, the target is the canary.
pub fn flagger_roles(primary_name: &str, deployment: &str) -> Vec<Role> {
    if deployment == primary_name { vec![Role::Primary] } else { vec![Role::Canary] }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meshlens_k8s::argo::{BlueGreenStrategy, CanaryStrategy, PingPong};

    fn rollout(stable: &str, current: &str) -> Rollout {
        let mut ro = Rollout::default();
        ro.status.stable_rs = Some(stable.into());
        ro.status.current_pod_hash = Some(current.into());
        ro
    }

    #[test]
    fn canary_strategy_marks_stable_and_canary() {
        let mut ro = rollout("s", "c");
        ro.spec.strategy.canary = Some(CanaryStrategy::default());
        assert_eq!(rollout_roles(&ro, "s"), [Role::Stable]);
        assert_eq!(rollout_roles(&ro, "c"), [Role::Canary]);
        assert!(rollout_roles(&ro, "old").is_empty());
        // Fully promoted: the current hash is the stable one, which is not also a canary.
        let ro_done = {
            let mut r = ro.clone();
            r.status.current_pod_hash = Some("s".into());
            r
        };
        assert_eq!(rollout_roles(&ro_done, "s"), [Role::Stable]);
    }

    #[test]
    fn ping_pong_follows_the_recorded_stable_side() {
        let mut ro = rollout("s", "c");
        ro.spec.strategy.canary = Some(CanaryStrategy { ping_pong: Some(PingPong::default()), ..Default::default() });
        ro.status.canary.stable_ping_pong = Some("pong".into());
        assert_eq!(rollout_roles(&ro, "s"), [Role::Stable, Role::Pong]);
        assert_eq!(rollout_roles(&ro, "c"), [Role::Canary, Role::Ping]);
        ro.status.canary.stable_ping_pong = Some("ping".into());
        assert_eq!(rollout_roles(&ro, "s"), [Role::Stable, Role::Ping]);
    }

    #[test]
    fn blue_green_marks_active_and_preview() {
        let mut ro = rollout("a", "p");
        ro.spec.strategy.blue_green = Some(BlueGreenStrategy::default());
        ro.status.blue_green.active_selector = Some("a".into());
        ro.status.blue_green.preview_selector = Some("p".into());
        assert_eq!(rollout_roles(&ro, "a"), [Role::Stable, Role::Active]);
        assert_eq!(rollout_roles(&ro, "p"), [Role::Preview]);
    }

    #[test]
    fn flagger_primary_is_the_primary() {
        assert_eq!(flagger_roles("podinfo-primary", "podinfo-primary"), [Role::Primary]);
        assert_eq!(flagger_roles("podinfo-primary", "podinfo"), [Role::Canary]);
    }
}
