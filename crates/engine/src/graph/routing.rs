//! The weights a progressive rollout asks for (intended: the Rollout's SetWeight, Flagger's canaryWeight) and the
//! weights its routes carry now (routed: [`crate::rollout::routes`]), per ReplicaSet.

use std::collections::HashMap;

use crate::identity::{Role, Workload};
use crate::inventory::Inventory;
use crate::rollout::routes::{RouteObject, RoutedSplit, flagger_routes, rollout_routes};
use crate::rollout::weights::intended_canary_share;
use meshlens_k8s::Kind;
use meshlens_k8s::argo::Rollout;
use meshlens_k8s::flagger::Canary;

use super::TrafficRole;

/// Intended and routed weights (0..1) by ReplicaSet name.
#[derive(Debug, Default, Clone)]
pub struct Weights {
    pub intended: HashMap<String, f64>,
    pub routed: HashMap<String, f64>,
    /// A route mirrors traffic to the canary on top of its share.
    pub mirrored: bool,
    /// Service names that reach only the canary or only the stable revision (host-level splits).
    pub canary_service: Option<String>,
    pub stable_service: Option<String>,
    /// The routing objects whose routes carry `routed`.
    pub routes: Vec<RouteObject>,
}

/// The traffic role of a ReplicaSet with these roles.
pub fn traffic_role(roles: &[Role]) -> TrafficRole {
    if roles.iter().any(|r| matches!(r, Role::Stable | Role::Active | Role::Primary)) {
        TrafficRole::Stable
    } else if roles.iter().any(|r| matches!(r, Role::Canary | Role::Preview)) {
        TrafficRole::Canary
    } else {
        TrafficRole::Other
    }
}

/// The weights of a Rollout or Flagger workload's revisions.
pub fn weights(inv: &Inventory, w: &Workload) -> Weights {
    match w.id.kind.known() {
        Some(Kind::Rollout) => match inv.named::<Rollout>(&w.id.namespace, &w.id.name) {
            Some(ro) => rollout_weights(inv, w, ro),
            None => Weights::default(),
        },
        Some(Kind::Canary) => match inv.named::<Canary>(&w.id.namespace, &w.id.name) {
            Some(canary) => flagger_weights(inv, w, canary),
            None => Weights::default(),
        },
        _ => Weights::default(),
    }
}

/// Gives the workload's canary-role ReplicaSets `canary` and its stable-role ones `stable` (0..1); the rest get
/// 0, and without a canary ReplicaSet the stable ones get everything the canary would.
fn split_by_role(w: &Workload, canary: f64, stable: f64) -> HashMap<String, f64> {
    let has_canary = w.replica_sets.iter().any(|rs| traffic_role(&rs.roles) == TrafficRole::Canary);
    let (canary, stable) = if has_canary { (canary, stable) } else { (0.0, stable + canary) };
    w.replica_sets
        .iter()
        .filter(|rs| rs.experiment.is_none())
        .map(|rs| {
            let weight = match traffic_role(&rs.roles) {
                TrafficRole::Stable => stable,
                TrafficRole::Canary => canary,
                TrafficRole::Other => 0.0,
            };
            (rs.name.clone(), weight)
        })
        .collect()
}

/// Fills in what the routes carry.
fn with_routes(mut weights: Weights, w: &Workload, routed: Option<RoutedSplit>) -> Weights {
    if let Some(split) = routed {
        weights.routed = split_by_role(w, split.canary, split.stable);
        weights.mirrored = split.mirrored;
        weights.routes = split.routes;
    }
    weights
}

fn rollout_weights(inv: &Inventory, w: &Workload, ro: &Rollout) -> Weights {
    let mut weights = Weights::default();
    if ro.spec.strategy.blue_green.is_some() {
        // All traffic goes to the active revision; the preview only gets what is sent to its preview Service.
        weights.intended = split_by_role(w, 0.0, 1.0);
        return weights;
    }
    let Some(canary) = &ro.spec.strategy.canary else { return weights };
    let share = intended_canary_share(ro);
    weights.intended = split_by_role(w, share, 1.0 - share);
    weights.canary_service = canary.canary_service.clone();
    weights.stable_service = canary.stable_service.clone();
    with_routes(weights, w, rollout_routes(inv, ro))
}

fn flagger_weights(inv: &Inventory, w: &Workload, canary: &Canary) -> Weights {
    let share = f64::from(canary.status.canary_weight.unwrap_or(0).clamp(0, 100)) / 100.0;
    let apex = canary.apex_name();
    let weights = Weights {
        intended: split_by_role(w, share, 1.0 - share),
        canary_service: Some(format!("{apex}-canary")),
        stable_service: Some(format!("{apex}-primary")),
        ..Weights::default()
    };
    with_routes(weights, w, flagger_routes(inv, canary))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_map_to_traffic_roles() {
        assert_eq!(traffic_role(&[Role::Stable, Role::Active]), TrafficRole::Stable);
        assert_eq!(traffic_role(&[Role::Primary]), TrafficRole::Stable);
        assert_eq!(traffic_role(&[Role::Preview]), TrafficRole::Canary);
        assert_eq!(traffic_role(&[Role::Canary, Role::Ping]), TrafficRole::Canary);
        assert_eq!(traffic_role(&[]), TrafficRole::Other);
    }
}
