//! The routes that carry a progressive rollout's split and what they carry now: the VirtualService routes an
//! Argo Rollout or Flagger Canary manages, the Gateway API routes Argo Rollouts' Gateway API plugin manages, and
//! the HTTPRoute Flagger's Gateway API router generates.
//!
//! The plugin (argoproj-labs/rollouts-plugin-trafficrouter-gatewayapi, `pkg/plugin/httproute.go`) sets, in every
//! rule of each route it manages, the weight of the backend naming the canary Service to the desired weight and
//! of the one naming the stable Service to 100 minus it; other backends of a rule keep theirs, so a revision's
//! routed share is its backend's weight over the rule's total. Rules it added for `setHeaderRoute` steps are named
//! after the Rollout's `managedRoutes` and keep their own weights.

use serde::Serialize;

use crate::inventory::Inventory;
use meshlens_k8s::Kind;
use meshlens_k8s::argo::Rollout;
use meshlens_k8s::flagger::Canary;
use meshlens_k8s::gateway::{HttpRoute, RouteKind, RouteRule, RouteView};
use meshlens_k8s::gateway_plugin::GatewayApiPlugin;
use meshlens_k8s::istio::{HttpRoute as VsRoute, RouteDestination, VirtualService};

/// A routing object, the way views name it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct RouteObject {
    /// `VirtualService`, `HTTPRoute`, `GRPCRoute`, `TCPRoute` or `TLSRoute`.
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
}

impl RouteObject {
    fn of(view: &RouteView<'_>) -> RouteObject {
        RouteObject { kind: view.kind, namespace: view.namespace().to_owned(), name: view.name().to_owned() }
    }
}

impl std::fmt::Display for RouteObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
    }
}

/// What the routes of a rollout carry now.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoutedSplit {
    /// The canary's and the stable's part (0..1) of what the deciding rule sends; with other backends in the
    /// rule they sum to less than 1.
    pub canary: f64,
    pub stable: f64,
    /// A mirror copies requests to the canary on top of its share.
    pub mirrored: bool,
    /// The objects whose routes carry the split (the first one decided the shares).
    pub routes: Vec<RouteObject>,
}

/// What the routes of a Rollout carry: its Istio VirtualService routes, else its Gateway API plugin's routes.
pub fn rollout_routes(inv: &Inventory, ro: &Rollout) -> Option<RoutedSplit> {
    let canary = ro.spec.strategy.canary.as_ref()?;
    let routing = canary.traffic_routing.as_ref()?;
    let namespace = ro.metadata.namespace_str();
    if let Some(istio) = &routing.istio {
        let subsets = istio.destination_rule.as_ref();
        let is_canary = |d: &RouteDestination| match subsets {
            Some(dr) => d.destination.subset.as_deref() == Some(dr.canary_subset_name.as_str()),
            None => canary.canary_service.as_deref().is_some_and(|s| host_is(&d.destination.host, s)),
        };
        let is_stable = |d: &RouteDestination| match subsets {
            Some(dr) => d.destination.subset.as_deref() == Some(dr.stable_subset_name.as_str()),
            None => canary.stable_service.as_deref().is_some_and(|s| host_is(&d.destination.host, s)),
        };
        for vs_ref in istio.virtual_service.iter().chain(&istio.virtual_services) {
            let name = vs_ref.name.split('.').next().unwrap_or_default();
            let Some(vs) = inv.named::<VirtualService>(namespace, name) else { continue };
            let named =
                |r: &&VsRoute| vs_ref.routes.is_empty() || r.name.as_ref().is_some_and(|n| vs_ref.routes.contains(n));
            for route in vs.spec.http.iter().filter(named) {
                if let Some(split) = virtual_service_split(vs, route, &is_canary, &is_stable) {
                    return Some(split);
                }
            }
        }
    }
    let plugin = routing.plugins.gateway_api.as_ref()?;
    let managed: Vec<&str> = routing.managed_routes.iter().map(|m| m.name.as_str()).collect();
    let (canary_service, stable_service) =
        (canary.canary_service.as_deref().unwrap_or_default(), canary.stable_service.as_deref().unwrap_or_default());
    let routes = plugin_routes(inv, ro, plugin);
    let mut split = routes.iter().find_map(|(view, _)| {
        let rules = view.spec.rules.iter().filter(|r| r.name.as_deref().is_none_or(|n| !managed.contains(&n)));
        rules.into_iter().find_map(|rule| rule_split(rule, canary_service, stable_service))
    })?;
    split.routes = routes.iter().map(|(view, _)| RouteObject::of(view)).collect();
    Some(split)
}

/// The routes the Rollout's Gateway API plugin configuration names or selects, HTTP, gRPC, TCP then TLS, each
/// with whether `setHeaderRoute` steps add rules to it.
pub fn plugin_routes<'i>(inv: &'i Inventory, ro: &Rollout, plugin: &GatewayApiPlugin) -> Vec<(RouteView<'i>, bool)> {
    let namespace = plugin.namespace.as_deref().filter(|n| !n.is_empty()).unwrap_or(ro.metadata.namespace_str());
    let mut out = Vec::new();
    for &kind in RouteKind::ALL {
        let in_namespace = inv.routes(kind).into_iter().filter(|v| v.namespace() == namespace);
        let (named, selector) = (plugin.named_routes(kind), plugin.selector(kind));
        for view in in_namespace {
            if let Some(route) = named.iter().find(|r| r.name == view.name()) {
                out.push((view, route.use_header_routes));
            } else if selector.is_some_and(|s| s.matches(view.metadata.labels())) {
                out.push((view, false));
            }
        }
    }
    out
}

/// What the HTTPRoute Flagger's Gateway API router manages for `canary` carries (its backends
/// `<service>-primary` and `<service>-canary`), or its VirtualService when the Canary has no `gatewayRefs`.
pub fn flagger_routes(inv: &Inventory, canary: &Canary) -> Option<RoutedSplit> {
    let namespace = canary.metadata.namespace_str();
    let apex = canary.apex_name();
    let (canary_service, primary_service) = (format!("{apex}-canary"), format!("{apex}-primary"));
    if !canary.spec.service.gateway_refs.is_empty() {
        let view = inv.named::<HttpRoute>(namespace, apex)?.view();
        let mut split = view.spec.rules.iter().find_map(|r| rule_split(r, &canary_service, &primary_service))?;
        split.routes = vec![RouteObject::of(&view)];
        return Some(split);
    }
    let vs = inv.named::<VirtualService>(namespace, apex)?;
    let is_canary = |d: &RouteDestination| host_is(&d.destination.host, &canary_service);
    let is_stable = |d: &RouteDestination| host_is(&d.destination.host, &primary_service);
    vs.spec.http.iter().find_map(|r| virtual_service_split(vs, r, &is_canary, &is_stable))
}

/// The canary's and stable's share of a Gateway API rule, when it sends to either.
fn rule_split(rule: &RouteRule, canary_service: &str, stable_service: &str) -> Option<RoutedSplit> {
    let weight_of = |name: &str| -> i32 {
        rule.backend_refs.iter().filter(|b| b.is_service() && b.name == name).map(|b| b.effective_weight()).sum()
    };
    let named = |name: &str| rule.backend_refs.iter().any(|b| b.is_service() && b.name == name);
    if !named(canary_service) && !named(stable_service) {
        return None;
    }
    let total: i32 = rule.backend_refs.iter().map(|b| b.effective_weight()).sum();
    let share = |w: i32| if total > 0 { f64::from(w) / f64::from(total) } else { 0.0 };
    Some(RoutedSplit {
        canary: share(weight_of(canary_service)),
        stable: share(weight_of(stable_service)),
        mirrored: rule.mirrors().any(|m| m.backend_ref.name == canary_service),
        routes: Vec::new(),
    })
}

/// The canary's share of a VirtualService route's canary and stable weights, when it sends to either.
fn virtual_service_split(
    vs: &VirtualService,
    route: &VsRoute,
    is_canary: &dyn Fn(&RouteDestination) -> bool,
    is_stable: &dyn Fn(&RouteDestination) -> bool,
) -> Option<RoutedSplit> {
    let weight =
        |d: &RouteDestination| f64::from(d.weight.unwrap_or(if route.route.len() == 1 { 100 } else { 0 }).max(0));
    let canary: f64 = route.route.iter().filter(|d| is_canary(d)).map(weight).sum();
    let stable: f64 = route.route.iter().filter(|d| is_stable(d)).map(weight).sum();
    if canary + stable <= 0.0 {
        return None;
    }
    let mirrored =
        route.mirror.as_ref().is_some_and(|m| is_canary(&RouteDestination { destination: m.clone(), weight: None }));
    let object = RouteObject {
        kind: Kind::VirtualService,
        namespace: vs.metadata.namespace_str().to_owned(),
        name: vs.metadata.name_str().to_owned(),
    };
    let canary = canary / (canary + stable);
    Some(RoutedSplit { canary, stable: 1.0 - canary, mirrored, routes: vec![object] })
}

/// Whether a route host names a Service (`svc`, `svc.ns`, `svc.ns.svc.cluster.local`).
fn host_is(host: &str, service: &str) -> bool {
    host == service || host.split('.').next() == Some(service)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn inventory(values: Vec<serde_json::Value>) -> Inventory {
        Inventory::of_values("Kubernetes", values)
    }

    #[test]
    fn the_plugin_finds_routes_by_label_selector_in_its_namespace() {
        let rollout = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"strategy": {"canary": {"canaryService": "web-canary", "stableService": "web-stable",
                "trafficRouting": {"plugins": {"argoproj-labs/gatewayAPI": {
                    "httpRouteSelector": {"matchLabels": {"team": "web"}}, "namespace": "edge"}}}}}}});
        let route = |namespace: &str, team: &str| {
            json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
                "metadata": {"name": format!("web-{team}"), "namespace": namespace, "labels": {"team": team}},
                "spec": {"rules": [{"backendRefs": [{"name": "web-stable", "weight": 75}, {"name": "web-canary", "weight": 25}]}]}})
        };
        let inv = inventory(vec![rollout, route("edge", "web"), route("edge", "shop"), route("shop", "web")]);
        let ro = inv.named::<Rollout>("shop", "web").unwrap();
        let split = rollout_routes(&inv, ro).unwrap();
        assert_eq!((split.canary, split.stable), (0.25, 0.75));
        let names: Vec<String> = split.routes.iter().map(ToString::to_string).collect();
        assert_eq!(names, ["HTTPRoute edge/web-web"], "only the selected route, in the plugin's namespace");
    }

    #[test]
    fn hosts_match_services_in_any_form() {
        assert!(host_is("reviews", "reviews"));
        assert!(host_is("reviews.bookinfo.svc.cluster.local", "reviews"));
        assert!(!host_is("reviews-canary", "reviews"));
    }
}
