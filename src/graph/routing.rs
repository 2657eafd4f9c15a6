//! The weights a progressive rollout asks for (intended: the Rollout's SetWeight, Flagger's canaryWeight) and the
//! weights its VirtualService routes carry now (routed), per ReplicaSet.

use std::collections::HashMap;

use crate::identity::{Role, Workload, WorkloadKind};
use crate::inventory::Inventory;
use crate::k8s::argo::Rollout;
use crate::k8s::flagger::Canary;
use crate::k8s::istio::{HttpRoute, RouteDestination, VirtualService};
use crate::rollout::weights::intended_canary_share;

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
    match w.id.kind {
        WorkloadKind::Rollout => {
            let Some(ro) = inv.named::<Rollout>(&w.id.namespace, &w.id.name) else {
                return Weights::default();
            };
            rollout_weights(inv, w, ro)
        }
        WorkloadKind::Canary => flagger_weights(inv, w),
        _ => Weights::default(),
    }
}

/// Splits `canary` (0..1) between the workload's canary-role and stable-role ReplicaSets; the rest get 0.
fn split_by_role(w: &Workload, canary: f64) -> HashMap<String, f64> {
    let has_canary = w.replica_sets.iter().any(|rs| traffic_role(&rs.roles) == TrafficRole::Canary);
    let canary = if has_canary { canary } else { 0.0 };
    w.replica_sets
        .iter()
        .filter(|rs| rs.experiment.is_none())
        .map(|rs| {
            let weight = match traffic_role(&rs.roles) {
                TrafficRole::Stable => 1.0 - canary,
                TrafficRole::Canary => canary,
                TrafficRole::Other => 0.0,
            };
            (rs.name.clone(), weight)
        })
        .collect()
}

fn rollout_weights(inv: &Inventory, w: &Workload, ro: &Rollout) -> Weights {
    let mut weights = Weights::default();
    if ro.spec.strategy.blue_green.is_some() {
        // All traffic goes to the active revision; the preview only gets what is sent to its preview Service.
        weights.intended = split_by_role(w, 0.0);
        return weights;
    }
    let Some(canary) = &ro.spec.strategy.canary else { return weights };
    weights.intended = split_by_role(w, intended_canary_share(ro));
    weights.canary_service = canary.canary_service.clone();
    weights.stable_service = canary.stable_service.clone();
    let Some(istio) = canary.traffic_routing.as_ref().and_then(|t| t.istio.as_ref()) else { return weights };
    let subsets = istio.destination_rule.as_ref();
    let is_canary = |d: &RouteDestination| match subsets {
        Some(dr) => d.destination.subset.as_deref() == Some(dr.canary_subset_name.as_str()),
        None => canary.canary_service.as_deref().is_some_and(|s| host_is(&d.destination.host, s)),
    };
    let is_stable = |d: &RouteDestination| match subsets {
        Some(dr) => d.destination.subset.as_deref() == Some(dr.stable_subset_name.as_str()),
        None => canary.stable_service.as_deref().is_some_and(|s| host_is(&d.destination.host, s)),
    };
    let refs = istio.virtual_service.iter().chain(&istio.virtual_services);
    for vs_ref in refs {
        let name = vs_ref.name.split('.').next().unwrap_or_default();
        let Some(vs) = virtual_service(inv, &w.id.namespace, name) else { continue };
        for route in vs
            .spec
            .http
            .iter()
            .filter(|r| vs_ref.routes.is_empty() || r.name.as_ref().is_some_and(|n| vs_ref.routes.contains(n)))
        {
            if let Some(share) = routed_share(route, &is_canary, &is_stable) {
                weights.routed = split_by_role(w, share);
                weights.mirrored |= route.mirror.as_ref().is_some_and(|m| {
                    let d = RouteDestination { destination: m.clone(), weight: None };
                    is_canary(&d)
                });
                return weights;
            }
        }
    }
    weights
}

fn flagger_weights(inv: &Inventory, w: &Workload) -> Weights {
    let mut weights = Weights::default();
    let Some(canary) = inv.named::<Canary>(&w.id.namespace, &w.id.name) else {
        return weights;
    };
    let share = f64::from(canary.status.canary_weight.unwrap_or(0).clamp(0, 100)) / 100.0;
    weights.intended = split_by_role(w, share);
    let target = &canary.spec.target_ref.name;
    let (canary_host, primary_host) = (format!("{target}-canary"), canary.primary_name());
    weights.canary_service = Some(canary_host.clone());
    weights.stable_service = Some(primary_host.clone());
    let vs_name = canary.spec.service.name.clone().unwrap_or_else(|| target.clone());
    if let Some(vs) = virtual_service(inv, &w.id.namespace, &vs_name) {
        let is_canary = |d: &RouteDestination| host_is(&d.destination.host, &canary_host);
        let is_stable = |d: &RouteDestination| host_is(&d.destination.host, &primary_host);
        if let Some(share) = vs.spec.http.iter().find_map(|r| routed_share(r, &is_canary, &is_stable)) {
            weights.routed = split_by_role(w, share);
        }
    }
    weights
}

fn virtual_service<'a>(inv: &'a Inventory, namespace: &str, name: &str) -> Option<&'a VirtualService> {
    inv.named(namespace, name)
}

/// The canary's share of a route's weight, when the route sends to the canary or stable destination.
fn routed_share(
    route: &HttpRoute,
    is_canary: &dyn Fn(&RouteDestination) -> bool,
    is_stable: &dyn Fn(&RouteDestination) -> bool,
) -> Option<f64> {
    let weight =
        |d: &RouteDestination| f64::from(d.weight.unwrap_or(if route.route.len() == 1 { 100 } else { 0 }).max(0));
    let canary: f64 = route.route.iter().filter(|d| is_canary(d)).map(weight).sum();
    let stable: f64 = route.route.iter().filter(|d| is_stable(d)).map(weight).sum();
    (canary + stable > 0.0).then(|| canary / (canary + stable))
}

/// Whether a route host names a Service (`svc`, `svc.ns`, `svc.ns.svc.cluster.local`).
fn host_is(host: &str, service: &str) -> bool {
    host == service || host.split('.').next() == Some(service)
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

    #[test]
    fn hosts_match_services_in_any_form() {
        assert!(host_is("reviews", "reviews"));
        assert!(host_is("reviews.bookinfo.svc.cluster.local", "reviews"));
        assert!(!host_is("reviews-canary", "reviews"));
    }
}
