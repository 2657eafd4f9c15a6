//! The Gateway API in the model, for in-mesh callers (GAMMA): an HTTPRoute or GRPCRoute whose parent is the
//! Service decides by its backends' weights (unset weighs 1, 0 sends nothing), each backend a Service whose ready
//! pods share its part; `RequestMirror` filters copy calls on top. A route its controller did not accept is not in
//! effect, nor, in ambient mode, one whose Service has no waypoint (Istio then ignores it).

use meshlens_k8s::core::Namespace;
use meshlens_k8s::gateway::{BackendRef, RouteRule, RouteView};

use super::{Endpoints, Failure, Routed, RoutingConfig, RuleRef, ServiceRef, evenly};

use meshlens_telemetry::istio::pod_label::{DATAPLANE_AMBIENT, DATAPLANE_MODE, USE_WAYPOINT, USE_WAYPOINT_NAMESPACE};

/// Every HTTPRoute and GRPCRoute of the config (the route kinds in-mesh calls go through), oldest first, as
/// the Gateway API orders conflicting routes.
pub fn l7_routes<'c>(config: &RoutingConfig<'c>) -> Vec<RouteView<'c>> {
    let http = config.http_routes.iter().map(|r| r.view());
    let mut routes: Vec<RouteView<'c>> = http.chain(config.grpc_routes.iter().map(|r| r.view())).collect();
    routes.sort_by(|a, b| {
        let key = |r: &RouteView<'c>| (r.metadata.creation_timestamp, r.namespace(), r.name());
        key(a).cmp(&key(b))
    });
    routes
}

/// How ambient mode treats a Service's routes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Waypoint {
    /// The Service's namespace is not in ambient mode: sidecars apply its routes.
    NotAmbient,
    /// Ambient, with this waypoint (`namespace/name`) applying its routes.
    Named(String),
    /// Ambient without a waypoint: Istio ignores the Service's routes (`ResolvedWaypoints=False`,
    /// `MissingUseWaypointLabel`).
    Missing,
}

/// The waypoint of `service`: its own `istio.io/use-waypoint` label, else its namespace's; `none` opts out, and
/// `istio.io/use-waypoint-namespace` beside the label names the waypoint's namespace (else the labelled object's).
/// (Istio's `getUseWaypoint` in `pilot/pkg/serviceregistry/kube/controller/ambient`.)
pub fn waypoint(config: &RoutingConfig<'_>, service: &ServiceRef) -> Waypoint {
    let namespace = config.namespaces.iter().find(|n| n.metadata.name_str() == service.namespace);
    let namespace_labels = namespace.map(|n| n.metadata.labels());
    let ambient = namespace_labels.and_then(|l| l.get(DATAPLANE_MODE)).is_some_and(|m| m == DATAPLANE_AMBIENT);
    if !ambient {
        return Waypoint::NotAmbient;
    }
    let svc = config
        .services
        .iter()
        .find(|s| s.metadata.namespace_str() == service.namespace && s.metadata.name_str() == service.name);
    let labelled = svc
        .map(|s| s.metadata.labels())
        .filter(|l| l.contains_key(USE_WAYPOINT))
        .or(namespace_labels.filter(|l| l.contains_key(USE_WAYPOINT)));
    let Some(labels) = labelled else { return Waypoint::Missing };
    match labels.get(USE_WAYPOINT).map(String::as_str) {
        None | Some("none") | Some("") => Waypoint::Missing,
        Some(name) => {
            let namespace = labels.get(USE_WAYPOINT_NAMESPACE).map_or(service.namespace.as_str(), String::as_str);
            Waypoint::Named(format!("{namespace}/{name}"))
        }
    }
}

/// Whether the Namespace object of `name` is in ambient mode.
pub fn is_ambient(namespaces: &[Namespace], name: &str) -> bool {
    namespaces.iter().any(|n| {
        n.metadata.name_str() == name && n.metadata.labels().get(DATAPLANE_MODE).is_some_and(|m| m == DATAPLANE_AMBIENT)
    })
}

/// The rule of a route in effect that decides in-mesh calls to a Service.
#[derive(Debug, Clone, Copy)]
pub struct MeshRule<'c> {
    pub route: RouteView<'c>,
    pub rule: &'c RouteRule,
}

/// The GAMMA rule that decides in-mesh calls to `service`: among the routes in the Service's namespace whose
/// parent is the Service and that are in effect, the first rule that takes every request (else the first rule).
pub fn mesh_rule<'c>(config: &RoutingConfig<'c>, service: &ServiceRef) -> Option<MeshRule<'c>> {
    if waypoint(config, service) == Waypoint::Missing {
        return None;
    }
    let in_effect: Vec<RouteView<'c>> = l7_routes(config)
        .into_iter()
        .filter(|r| r.namespace() == service.namespace && r.attaches_to_service(&service.namespace, &service.name))
        .filter(|r| !r.service_parents().any(|p| p.name == service.name && r.rejected_by(p)))
        .collect();
    let takes_all = in_effect.iter().find_map(|route| {
        route.spec.rules.iter().find(|rule| rule.takes_all()).map(|rule| MeshRule { route: *route, rule })
    });
    takes_all.or_else(|| {
        let route = in_effect.first()?;
        route.spec.rules.first().map(|rule| MeshRule { route: *route, rule })
    })
}

/// Whether `backend` of a route in `route_namespace` may be used: same namespace, or a ReferenceGrant in the
/// backend's namespace lets the route kind refer to it.
pub fn permitted(config: &RoutingConfig<'_>, route: &RouteView<'_>, backend: &BackendRef) -> bool {
    let target = backend.namespace_or(route.namespace());
    target == route.namespace()
        || config
            .reference_grants
            .iter()
            .filter(|g| g.metadata.namespace_str() == target)
            .any(|g| g.permits(route.kind, route.namespace(), &backend.name))
}

/// Routes calls to `called` by one rule: each backend gets its weight over the rule's total. Calls to a backend
/// that does not resolve are answered 500 by the caller's proxy, for the Service it called.
pub(super) fn route_rule<'e, P: Clone>(
    config: &RoutingConfig<'_>,
    called: &ServiceRef,
    found: &MeshRule<'_>,
    endpoints: &Endpoints<'e, P>,
) -> Routed<P> {
    let MeshRule { route, rule } = found;
    let rule_ref = RuleRef { kind: route.kind, namespace: route.namespace().to_owned(), name: route.name().to_owned() };
    let mut routed = Routed::empty(Some(rule_ref));
    let total: i32 = rule.backend_refs.iter().map(BackendRef::effective_weight).sum();
    if total <= 0 {
        return routed;
    }
    for backend in &rule.backend_refs {
        let share = f64::from(backend.effective_weight()) / f64::from(total);
        if share <= 0.0 {
            continue;
        }
        let target = ServiceRef::new(backend.namespace_or(route.namespace()), &backend.name);
        let pods = (backend.is_service() && permitted(config, route, backend)).then(|| endpoints(&target)).flatten();
        match pods {
            None => routed.failures.push(Failure {
                service: called.clone(),
                code: 500,
                flag: "-",
                share,
                cause: backend.name.clone(),
            }),
            Some(pods) if !pods.iter().any(|p| p.ready) => {
                routed.failures.push(Failure::unhealthy(target, share, backend.name.clone()))
            }
            Some(pods) => routed.shares.extend(evenly(&target, &pods, share)),
        }
    }
    for mirror in rule.mirrors() {
        let target = ServiceRef::new(mirror.backend_ref.namespace_or(route.namespace()), &mirror.backend_ref.name);
        if let Some(pods) = endpoints(&target) {
            routed.mirrored.extend(evenly(&target, &pods, mirror.share()));
        }
    }
    routed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routing_model::{Caller, Endpoint, route};
    use meshlens_k8s::Kind;
    use meshlens_k8s::core::Service;
    use meshlens_k8s::gateway::{HttpRoute, ReferenceGrant};
    use serde_json::{Value, json};
    use std::collections::BTreeMap;
    use std::sync::Arc;

    fn shared<T: Clone>(objects: &[T]) -> Vec<Arc<T>> {
        objects.iter().cloned().map(Arc::new).collect()
    }

    fn parse<T: serde::de::DeserializeOwned>(value: Value) -> T {
        serde_json::from_value(value).unwrap()
    }

    fn http_route(name: &str, spec: Value) -> HttpRoute {
        parse(json!({"metadata": {"name": name, "namespace": "shop"}, "spec": spec}))
    }

    /// `web-stable` has two ready pods, `web-canary` one (ready as given), `web` selects all three.
    fn routed(
        routes: &[HttpRoute],
        grants: &[ReferenceGrant],
        namespaces: &[Namespace],
        canary_ready: bool,
    ) -> Routed<usize> {
        let labels: Vec<BTreeMap<String, String>> = ["s", "s", "c"]
            .iter()
            .map(|h| BTreeMap::from([("app".to_string(), "web".to_string()), ("hash".to_string(), h.to_string())]))
            .collect();
        let ready = [true, true, canary_ready];
        let endpoints = |s: &ServiceRef| {
            let wanted: &[usize] = match (s.namespace.as_str(), s.name.as_str()) {
                ("shop", "web") => &[0, 1, 2],
                ("shop", "web-stable") => &[0, 1],
                ("shop" | "other", "web-canary") => &[2],
                _ => return None,
            };
            Some(wanted.iter().map(|&i| Endpoint { pod: i, labels: &labels[i], ready: ready[i] }).collect())
        };
        let (routes, grants, namespaces) = (shared(routes), shared(grants), shared(namespaces));
        let config = RoutingConfig {
            http_routes: &routes,
            reference_grants: &grants,
            namespaces: &namespaces,
            ..RoutingConfig::default()
        };
        route(&config, Caller::Mesh, &ServiceRef::new("shop", "web"), &endpoints)
    }

    fn share_of(r: &Routed<usize>, pod: usize) -> f64 {
        r.shares.iter().filter(|s| s.pod == pod).map(|s| s.share).sum()
    }

    fn split(backends: Value) -> Value {
        json!({"parentRefs": [{"group": "", "kind": "Service", "name": "web", "port": 80}],
               "rules": [{"backendRefs": backends}]})
    }

    #[test]
    fn a_service_parented_route_splits_by_backend_weight_over_the_rule_total() {
        let backends = json!([{"name": "web-stable", "weight": 70}, {"name": "web-canary", "weight": 30}]);
        let r = routed(&[http_route("web", split(backends))], &[], &[], true);
        assert_eq!((share_of(&r, 0), share_of(&r, 1), share_of(&r, 2)), (0.35, 0.35, 0.3));
        assert_eq!(r.rule.map(|r| (r.kind, r.name)), Some((Kind::HTTPRoute, "web".into())));
        // Unset weights weigh 1; weight 0 sends nothing.
        let r = routed(
            &[http_route("web", split(json!([{"name": "web-stable"}, {"name": "web-canary"}])))],
            &[],
            &[],
            true,
        );
        assert_eq!(share_of(&r, 2), 0.5);
        let r = routed(
            &[http_route("web", split(json!([{"name": "web-stable"}, {"name": "web-canary", "weight": 0}])))],
            &[],
            &[],
            true,
        );
        assert_eq!(share_of(&r, 2), 0.0);
    }

    #[test]
    fn header_rules_do_not_take_default_traffic() {
        let spec = json!({"parentRefs": [{"kind": "Service", "group": "", "name": "web"}], "rules": [
            {"name": "canary-route", "matches": [{"headers": [{"name": "x-canary", "value": "1"}]}],
             "backendRefs": [{"name": "web-canary"}]},
            {"matches": [{"path": {"type": "PathPrefix", "value": "/"}}], "backendRefs": [{"name": "web-stable"}]}]});
        let r = routed(&[http_route("web", spec)], &[], &[], true);
        assert_eq!(share_of(&r, 2), 0.0);
        assert_eq!(share_of(&r, 0) + share_of(&r, 1), 1.0);
    }

    #[test]
    fn unresolved_and_unready_backends_fail_and_mirrors_copy() {
        let mut spec = split(json!([{"name": "web-stable", "weight": 80}, {"name": "web-typo", "weight": 20}]));
        spec["rules"][0]["filters"] =
            json!([{"type": "RequestMirror", "requestMirror": {"backendRef": {"name": "web-canary"}, "percent": 50}}]);
        let r = routed(&[http_route("web", spec)], &[], &[], true);
        assert_eq!(r.failures.iter().map(|f| (f.code, f.share)).collect::<Vec<_>>(), [(500, 0.2)]);
        assert_eq!(r.mirrored.iter().map(|s| (s.pod, s.share)).collect::<Vec<_>>(), [(2, 0.5)]);
        let r = routed(&[http_route("web", split(json!([{"name": "web-canary"}])))], &[], &[], false);
        assert_eq!(r.failures.iter().map(|f| (f.code, f.flag)).collect::<Vec<_>>(), [(503, "UH")]);
    }

    #[test]
    fn another_namespaces_backend_needs_a_reference_grant() {
        let backends = json!([{"name": "web-canary", "namespace": "other"}]);
        let r = routed(&[http_route("web", split(backends.clone()))], &[], &[], true);
        assert_eq!(r.failures.len(), 1, "not permitted: {r:?}");
        let grant: ReferenceGrant = parse(json!({"metadata": {"name": "g", "namespace": "other"}, "spec": {
            "from": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "namespace": "shop"}],
            "to": [{"group": "", "kind": "Service"}]}}));
        let r = routed(&[http_route("web", split(backends))], &[grant], &[], true);
        assert_eq!(share_of(&r, 2), 1.0);
    }

    #[test]
    fn routes_not_in_effect_leave_the_calls_to_ready_pods() {
        let backends = json!([{"name": "web-canary"}]);
        let mut rejected = http_route("web", split(backends.clone()));
        rejected.status = parse(json!({"parents": [{"parentRef": {"group": "", "kind": "Service", "name": "web"},
            "controllerName": "istio.io/gateway-controller",
            "conditions": [{"type": "Accepted", "status": "False", "reason": "NotAllowedByListeners"}]}]}));
        let r = routed(&[rejected], &[], &[], true);
        assert_eq!(r.rule, None);
        assert!((share_of(&r, 2) - 1.0 / 3.0).abs() < 1e-12);
        // Ambient without a waypoint: Istio ignores the route.
        let ambient: Namespace =
            parse(json!({"metadata": {"name": "shop", "labels": {"istio.io/dataplane-mode": "ambient"}}}));
        let r = routed(&[http_route("web", split(backends.clone()))], &[], std::slice::from_ref(&ambient), true);
        assert_eq!(r.rule, None);
        let mut with_waypoint = ambient;
        with_waypoint.metadata.labels.as_mut().unwrap().insert(USE_WAYPOINT.into(), "waypoint".into());
        let r = routed(&[http_route("web", split(backends))], &[], &[with_waypoint], true);
        assert_eq!(share_of(&r, 2), 1.0);
    }

    #[test]
    fn a_services_waypoint_is_its_own_label_else_its_namespaces() {
        let namespace = |labels: Value| -> Arc<Namespace> {
            Arc::new(parse(json!({"metadata": {"name": "shop", "labels": labels}})))
        };
        let service = |name: &str, labels: Value| -> Arc<Service> {
            Arc::new(parse(json!({"metadata": {"name": name, "namespace": "shop", "labels": labels}})))
        };
        let namespaces = [namespace(json!({"istio.io/dataplane-mode": "ambient", "istio.io/use-waypoint": "wp"}))];
        let services = [
            service("plain", json!({})),
            service("opted-out", json!({"istio.io/use-waypoint": "none"})),
            service("own", json!({"istio.io/use-waypoint": "api-wp", "istio.io/use-waypoint-namespace": "infra"})),
        ];
        let config = RoutingConfig { namespaces: &namespaces, services: &services, ..RoutingConfig::default() };
        let of = |name: &str| waypoint(&config, &ServiceRef::new("shop", name));
        assert_eq!(of("plain"), Waypoint::Named("shop/wp".into()));
        assert_eq!(of("opted-out"), Waypoint::Missing);
        assert_eq!(of("own"), Waypoint::Named("infra/api-wp".into()));
        let sidecars = [namespace(json!({"istio.io/use-waypoint": "wp"}))];
        let config = RoutingConfig { namespaces: &sidecars, services: &services, ..RoutingConfig::default() };
        assert_eq!(waypoint(&config, &ServiceRef::new("shop", "plain")), Waypoint::NotAmbient);
    }
}
