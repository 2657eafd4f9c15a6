//! Gateway API routing that cannot do what it says: routes their controller rejected or whose references do not
//! resolve (`status.parents[].conditions`), backends that are not Services or select no ready pod, routes Istio
//! ignores in ambient mode for want of a waypoint, a VirtualService claiming the same Service as a route; and for
//! Rollouts routed by Argo Rollouts' Gateway API plugin: route weights other than the ones the plugin writes, routes
//! in-mesh callers bypass, a `maxTrafficWeight` the plugin does not honour, and mirror steps it does not apply.
//!
//! The plugin's behaviour is read from its source (argoproj-labs/rollouts-plugin-trafficrouter-gatewayapi, v0.15):
//! `setHTTPRouteWeight` writes the desired weight to the canary backend and `100 - weight` to the stable one, and
//! `SetMirrorRoute` returns without doing anything.

use crate::graph::{Graph, Node, TrafficRole};
use crate::identity::IdentityIndex;
use crate::inventory::Inventory;
use crate::rollout::routes::plugin_routes;
use crate::rollout::weights::{current_step, set_weight};
use crate::routing_model::gateway::{Waypoint, waypoint};
use crate::routing_model::{Caller, RoutingConfig, ServiceRef, binds, host_service};
use meshlens_k8s::argo::Rollout;
use meshlens_k8s::core::Service;
use meshlens_k8s::gateway::{ParentKind, ParentRef, RouteView};
use meshlens_k8s::istio::VirtualService;

use meshlens_k8s::Kind;

use super::code::FindingCode;
use super::evidence;
use super::finding::{Finding, ObjectRef};
use super::istio_config::endpoints;
use super::rollout_of;
use crate::graph::render::percent;

/// Every finding about the Gateway API routes of the selected namespaces and the Rollouts routed by them.
pub fn check(
    inventory: &Inventory,
    index: &IdentityIndex,
    graph: &Graph,
    selects: &dyn Fn(&str) -> bool,
) -> Vec<Finding> {
    let config = RoutingConfig::of(inventory);
    let mut findings = Vec::new();
    for route in inventory.every_route().iter().filter(|r| selects(r.namespace())) {
        findings.extend(status(route));
        findings.extend(backends(inventory, index, graph, route));
        findings.extend(waypoints(&config, route));
        findings.extend(shared_service(inventory, route));
    }
    for node in graph.nodes.iter().filter(|n| !n.revisions.is_empty() && selects(&n.namespace)) {
        if let Some(rollout) = rollout_of(inventory, node) {
            findings.extend(plugin(inventory, index, node, rollout));
        }
    }
    findings
}

/// Routes of the four kinds.
fn route_ref(route: &RouteView<'_>) -> ObjectRef {
    ObjectRef::new(route.kind, route.namespace(), route.name())
}

/// `Service bookinfo/reviews:9080`, `Gateway istio-ingress/gateway`.
fn parent_text(route: &RouteView<'_>, parent: &ParentRef) -> String {
    let kind = parent.kind.clone().unwrap_or(Kind::Gateway.into());
    let port = parent.port.map(|p| format!(":{p}")).unwrap_or_default();
    format!("{kind} {}/{}{port}", parent.namespace_or(route.namespace()), parent.name)
}

/// What the route's controllers said: not accepted by a parent, or references that do not resolve.
fn status(route: &RouteView<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for parent in &route.status.parents {
        for c in parent.conditions.iter().filter(|c| c.status == "False") {
            let (code, what) = match c.type_.as_str() {
                "Accepted" => (FindingCode::RouteNotAccepted, "does not accept it"),
                "ResolvedRefs" => (FindingCode::RouteRefsUnresolved, "cannot resolve its references"),
                _ => continue,
            };
            let reason = c.reason.clone().unwrap_or_default();
            let message = c.message.clone().unwrap_or_default();
            let on = parent_text(route, &parent.parent_ref);
            let summary = format!(
                "{} {}: {} on {on} {what} ({reason}: {message})",
                route.kind,
                route.name(),
                parent.controller_name
            );
            findings.push(
                Finding::new(code, summary)
                    .about(route_ref(route))
                    .evidence("parent", on)
                    .evidence("controller", parent.controller_name.clone())
                    .evidence("reason", reason)
                    .evidence("message", message),
            );
        }
    }
    findings
}

/// Backends that take a share but lead nowhere: no such Service, or one whose selector picks no ready pod.
fn backends(inventory: &Inventory, index: &IdentityIndex, graph: &Graph, route: &RouteView<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    let parents: Vec<ServiceRef> =
        route.service_parents().map(|p| ServiceRef::new(p.namespace_or(route.namespace()), &p.name)).collect();
    for rule in &route.spec.rules {
        let total: i32 = rule.backend_refs.iter().map(|b| b.effective_weight()).sum();
        for backend in rule.backend_refs.iter().filter(|b| b.is_service() && b.effective_weight() > 0) {
            let target = ServiceRef::new(backend.namespace_or(route.namespace()), &backend.name);
            if !index.namespaces().contains(&target.namespace) {
                continue;
            }
            let share = f64::from(backend.effective_weight()) / f64::from(total.max(1));
            let Some(service) = inventory.named::<Service>(&target.namespace, &target.name) else {
                // The callers' proxies answer 500 for the Service they called.
                let failing: f64 =
                    parents.iter().map(|p| evidence::failing_rps(graph, p, |code, _| code == "500")).sum();
                let summary = format!(
                    "{} {} sends {} of a rule's requests to Service {}/{}, which does not exist: they are answered 500 ({failing:.2} requests/s in the window)",
                    route.kind,
                    route.name(),
                    percent(share),
                    target.namespace,
                    target.name
                );
                findings.push(
                    Finding::new(FindingCode::BackendNotFound, summary)
                        .about(route_ref(route))
                        .evidence("backend", backend.name.clone())
                        .evidence("share", share)
                        .evidence("failingRps", failing),
                );
                continue;
            };
            let selector = service.spec.as_ref().and_then(|s| s.selector.clone()).unwrap_or_default();
            let pods = endpoints(inventory, &target, &selector);
            if pods.iter().any(|p| p.ready) {
                continue;
            }
            let selector_text = selector.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
            let failing = evidence::failing_rps(graph, &target, |_, flags| flags == "UH");
            let hash = selector.get(meshlens_k8s::argo::POD_TEMPLATE_HASH_LABEL);
            let what = match (pods.len(), hash) {
                (0, Some(hash)) => format!("its selector {selector_text} matches no pod: no revision has hash {hash}"),
                (0, None) => format!("its selector {selector_text} matches no pod"),
                (n, _) => format!("none of its {n} pods is ready"),
            };
            let summary = format!(
                "{} {} sends {} of a rule's requests to Service {}/{}, but {what}: they fail with 503 UH ({failing:.2} requests/s in the window)",
                route.kind,
                route.name(),
                percent(share),
                target.namespace,
                target.name
            );
            let advice = if hash.is_some() && pods.is_empty() {
                "The Service is pinned to a pod-template hash no pod has: Argo Rollouts rewrites the canary and stable Services' selectors at each step, so check that the Rollout names these Services and that nothing (a GitOps sync) puts an old selector back."
            } else {
                "Find out why the pods are not ready (kubectl describe pod) or fix the selector; until then, route no weight to this backend."
            };
            findings.push(
                Finding::new(FindingCode::BackendNoReadyPods, summary)
                    .about(route_ref(route))
                    .about(ObjectRef::new(Kind::Service, &target.namespace, &target.name))
                    .evidence("backend", backend.name.clone())
                    .evidence("selector", selector_text)
                    .evidence("matchingPods", pods.len())
                    .evidence("failingRps", failing)
                    .advice(advice),
            );
        }
    }
    findings
}

/// A route bound to a Service in an ambient namespace without a waypoint: Istio ignores it.
fn waypoints(config: &RoutingConfig<'_>, route: &RouteView<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for parent in route.service_parents() {
        let service = ServiceRef::new(parent.namespace_or(route.namespace()), &parent.name);
        if waypoint(config, &service) != Waypoint::Missing {
            continue;
        }
        let reported = route.status.parents.iter().flat_map(|p| &p.conditions).find(|c| c.type_ == "ResolvedWaypoints");
        let summary = format!(
            "{} {} is bound to Service {}/{} in ambient mode, which has no waypoint: Istio does not apply it, and calls to {} follow the Service as if the route did not exist",
            route.kind,
            route.name(),
            service.namespace,
            service.name,
            service.name
        );
        let mut finding = Finding::new(FindingCode::RouteWithoutWaypoint, summary)
            .about(route_ref(route))
            .about(ObjectRef::new(Kind::Service, &service.namespace, &service.name))
            .evidence("service", format!("{}/{}", service.namespace, service.name));
        if let Some(c) = reported {
            finding = finding
                .evidence("resolvedWaypoints", format!("{}: {}", c.status, c.message.clone().unwrap_or_default()));
        }
        findings.push(finding.advice(format!(
            "Deploy a waypoint (istioctl waypoint apply -n {}) and label the Service or its namespace with istio.io/use-waypoint=<waypoint>.",
            service.namespace
        )));
    }
    findings
}

/// A VirtualService claiming what a route claims: the Service a route is bound to (in-mesh calls), or a
/// hostname of a Gateway-bound route (ingress). Istio does not define which of the two applies.
fn shared_service(inventory: &Inventory, route: &RouteView<'_>) -> Vec<Finding> {
    let services: Vec<ServiceRef> =
        route.service_parents().map(|p| ServiceRef::new(p.namespace_or(route.namespace()), &p.name)).collect();
    let on_gateway = route.spec.parent_refs.iter().any(|p| p.parent_kind() == ParentKind::Gateway);
    let mut findings = Vec::new();
    for vs in inventory.all::<VirtualService>() {
        let ns = vs.metadata.namespace_str();
        let in_mesh = binds(vs, Caller::Mesh).then(|| {
            let claims = |s: &&ServiceRef| vs.spec.hosts.iter().any(|h| host_service(h, ns).as_ref() == Some(*s));
            services.iter().find(claims).map(|s| format!("{} {}/{}", Kind::Service, s.namespace, s.name))
        });
        let at_ingress = (on_gateway && binds(vs, Caller::Gateway)).then(|| {
            let hostname = route.spec.hostnames.iter().find(|h| vs.spec.hosts.contains(h));
            hostname.map(|h| format!("host {h}"))
        });
        let Some(what) = in_mesh.flatten().or(at_ingress.flatten()) else { continue };
        let vs_ref = ObjectRef::new(Kind::VirtualService, ns, vs.metadata.name_str());
        let summary = format!(
            "{vs_ref} and {} {} both route {what}: Istio does not define which one applies",
            route.kind,
            route.name()
        );
        findings.push(
            Finding::new(FindingCode::VsAndRouteSameHost, summary)
                .about(route_ref(route))
                .about(vs_ref)
                .evidence("claims", what),
        );
    }
    findings
}

/// Findings about a Rollout routed by the Gateway API plugin.
fn plugin(inventory: &Inventory, index: &IdentityIndex, node: &Node, rollout: &Rollout) -> Vec<Finding> {
    let Some(canary) = rollout.spec.strategy.canary.as_ref() else { return Vec::new() };
    let Some(routing) = canary.traffic_routing.as_ref() else { return Vec::new() };
    let Some(config) = routing.plugins.gateway_api.as_ref() else { return Vec::new() };
    let me = ObjectRef::new(Kind::Rollout, &node.namespace, &node.name);
    let routes = plugin_routes(inventory, rollout, config);
    let mut findings = Vec::new();
    let (desired, max) = (set_weight(rollout), rollout.max_traffic_weight());
    let has_canary = node.revisions.iter().any(|r| r.role == TrafficRole::Canary);
    if has_canary && current_step(rollout).is_some() {
        let managed: Vec<&str> = routing.managed_routes.iter().map(|m| m.name.as_str()).collect();
        let (canary_service, stable_service) = (
            canary.canary_service.as_deref().unwrap_or_default(),
            canary.stable_service.as_deref().unwrap_or_default(),
        );
        for (route, _) in &routes {
            let rules = route.spec.rules.iter().filter(|r| r.name.as_deref().is_none_or(|n| !managed.contains(&n)));
            for (i, rule) in rules.enumerate() {
                let weight_of =
                    |name: &str| rule.backend_refs.iter().find(|b| b.name == name).map(|b| b.effective_weight());
                let (canary_weight, stable_weight) = (weight_of(canary_service), weight_of(stable_service));
                let wrong_canary = canary_weight.is_some_and(|w| w != desired);
                let wrong_stable = stable_weight.is_some_and(|w| w != 100 - desired);
                if !wrong_canary && !wrong_stable {
                    continue;
                }
                let summary = format!(
                    "{me} is at setWeight {desired}, so its Gateway API plugin writes canary {desired} / stable {} into {} {}, but rule {i} carries canary {} / stable {}",
                    100 - desired,
                    route.kind,
                    route.name(),
                    canary_weight.map_or("–".into(), |w| w.to_string()),
                    stable_weight.map_or("–".into(), |w| w.to_string())
                );
                findings.push(
                    Finding::new(FindingCode::RoutesDisagreeWithRollout, summary)
                        .about(me.clone())
                        .about(route_ref(route))
                        .evidence("setWeight", desired)
                        .evidence("routeCanaryWeight", canary_weight)
                        .evidence("routeStableWeight", stable_weight)
                        .evidence("rule", i)
                        .advice("Someone or something changed the route weights: the plugin rewrites them at the Rollout's next step. Do not edit routes a Rollout manages; check for a second controller (a GitOps sync of the HTTPRoute) fighting over them."),
                );
            }
        }
    }
    let in_mesh = evidence::in_mesh_callers(inventory, index, node);
    let mesh_bound = routes.iter().any(|(r, _)| r.service_parents().next().is_some());
    if !routes.is_empty() && !mesh_bound && !in_mesh.is_empty() {
        let (canary_ready, ready, by_pods) = evidence::canary_share_by_ready_pods(node);
        let names: Vec<String> = routes.iter().map(|(r, _)| format!("{} {}", r.kind, r.name())).collect();
        let gateways: Vec<String> = routes
            .iter()
            .flat_map(|(r, _)| {
                r.spec.parent_refs.iter().filter(|p| p.parent_kind() == ParentKind::Gateway).map(|p| parent_text(r, p))
            })
            .collect();
        let summary = format!(
            "{me}'s routes ({}) are bound to Gateways only: in-mesh callers ({}) bypass them and split by ready pods ({canary_ready} canary of {ready} = {}), not by weight",
            names.join(", "),
            in_mesh.join(", "),
            percent(by_pods)
        );
        let mut finding = Finding::new(FindingCode::RouteNotBoundToMesh, summary).about(me.clone());
        for (r, _) in &routes {
            finding = finding.about(route_ref(r));
        }
        findings.push(
            finding
                .evidence("gateways", gateways)
                .evidence("inMeshCallers", in_mesh)
                .evidence("canaryShareByReadyPods", by_pods)
                .advice(format!(
                    "Bind a route to the Service in-mesh callers use (parentRefs: group \"\", kind Service, name {}) and manage it with the plugin too (httpRoutes), so sidecars and waypoints follow the weights.",
                    node.name
                )),
        );
    }
    if max != 100 && !routes.is_empty() {
        let intended = f64::from(desired.clamp(0, max)) / f64::from(max.max(1));
        let carried = f64::from(desired.clamp(0, 100)) / 100.0;
        let summary = format!(
            "{me} counts weights up to maxTrafficWeight {max}, but its Gateway API plugin writes setWeight {desired} to the canary and {} to the stable backend: the route carries {} instead of {}",
            100 - desired,
            percent(carried),
            percent(intended)
        );
        findings.push(
            Finding::new(FindingCode::PluginMaxWeight, summary)
                .about(me.clone())
                .evidence("maxTrafficWeight", max)
                .evidence("setWeight", desired)
                .evidence("intendedCanaryWeight", intended)
                .evidence("routedCanaryWeight", carried),
        );
    }
    if let Some((index, name)) = active_mirror(rollout) {
        let summary = format!(
            "{me} mirrors to its canary from step {index} (setMirrorRoute {name}), but its Gateway API plugin does not apply mirror steps: the canary gets no mirrored copies"
        );
        findings.push(
            Finding::new(FindingCode::MirrorStepNotApplied, summary)
                .about(me)
                .evidence("step", index)
                .evidence("mirrorRoute", name),
        );
    }
    findings
}

/// The last `setMirrorRoute` step at or before the current step that adds a route (has a `match`), unless a later
/// one removed it: (step index, route name).
fn active_mirror(rollout: &Rollout) -> Option<(usize, String)> {
    let steps = &rollout.spec.strategy.canary.as_ref()?.steps;
    let current = current_step(rollout)?;
    let mut active: Vec<(usize, String)> = Vec::new();
    for (i, step) in steps.iter().enumerate().take(current + 1) {
        if let Some(mirror) = &step.set_mirror_route {
            active.retain(|(_, name)| *name != mirror.name);
            if mirror.matches.as_ref().is_some_and(|m| !m.is_empty()) {
                active.push((i, mirror.name.clone()));
            }
        }
    }
    active.pop()
}

#[cfg(test)]
mod tests {
    use super::*;
    use meshlens_k8s::gateway::HttpRoute;
    use serde_json::json;

    fn inventory(values: Vec<serde_json::Value>) -> Inventory {
        Inventory::of_values("Kubernetes", values)
    }

    #[test]
    fn a_gateway_bound_virtual_service_and_route_for_one_hostname_are_named_together() {
        let route = |hostname: &str| {
            json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
                "metadata": {"name": "shop", "namespace": "web"},
                "spec": {"parentRefs": [{"name": "edge"}], "hostnames": [hostname],
                         "rules": [{"backendRefs": [{"name": "shop"}]}]}})
        };
        let vs = json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
            "metadata": {"name": "shop", "namespace": "web"},
            "spec": {"hosts": ["shop.example.com"], "gateways": ["edge"],
                     "http": [{"route": [{"destination": {"host": "shop"}}]}]}});
        let inv = inventory(vec![route("shop.example.com"), vs.clone()]);
        let view = inv.all::<HttpRoute>()[0].view();
        let found = shared_service(&inv, &view);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].evidence["claims"], "host shop.example.com");
        let inv = inventory(vec![route("other.example.com"), vs]);
        assert!(shared_service(&inv, &inv.all::<HttpRoute>()[0].view()).is_empty());
    }
}
