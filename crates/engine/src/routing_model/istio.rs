//! Istio's own routing API in the model: the VirtualService bound to the caller decides by weight, and subsets
//! pick pods by their DestinationRule labels.

use std::collections::BTreeMap;
use std::sync::Arc;

use meshlens_k8s::Kind;
use meshlens_k8s::istio::{DestinationRule, HttpRoute, VirtualService};

use super::{Caller, Endpoint, Endpoints, Failure, Routed, RoutingConfig, RuleRef, ServiceRef, evenly};

/// Whether a VirtualService's routes apply to this caller: no `gateways` means `mesh` only.
pub fn binds(vs: &VirtualService, caller: Caller) -> bool {
    let gateways = &vs.spec.gateways;
    match caller {
        Caller::Mesh => gateways.is_empty() || gateways.iter().any(|g| g == "mesh"),
        Caller::Gateway => gateways.iter().any(|g| g != "mesh"),
    }
}

/// The Service a route host names, seen from `namespace` (`svc`, `svc.ns`, `svc.ns.svc.cluster.local`).
pub fn host_service(host: &str, namespace: &str) -> Option<ServiceRef> {
    let mut parts = host.split('.');
    let name = parts.next().filter(|n| !n.is_empty() && *n != "*")?;
    let ns = match (parts.next(), parts.next()) {
        (None, _) => namespace,
        (Some(ns), None | Some("svc")) => ns,
        _ => return None,
    };
    Some(ServiceRef::new(ns, name))
}

fn vs_namespace(vs: &VirtualService) -> &str {
    vs.metadata.namespace.as_deref().unwrap_or_default()
}

/// The VirtualService and its route that decide the calls of `caller` to `service`.
pub fn applicable_route<'c>(
    config: &RoutingConfig<'c>,
    caller: Caller,
    service: &ServiceRef,
) -> Option<(&'c VirtualService, &'c HttpRoute)> {
    config.virtual_services.iter().filter(|vs| binds(vs, caller)).find_map(|vs| {
        let names = vs.spec.hosts.iter().any(|h| {
            (h == "*" && caller == Caller::Gateway) || host_service(h, vs_namespace(vs)).as_ref() == Some(service)
        });
        let route = vs.spec.http.iter().find(|r| r.matches.is_empty()).or(vs.spec.http.first());
        names.then_some(route).flatten().filter(|r| !r.route.is_empty()).map(|r| (&**vs, r))
    })
}

/// The labels a subset of `service` selects, when a DestinationRule defines it.
pub fn subset_labels<'c>(
    config: &RoutingConfig<'c>,
    service: &ServiceRef,
    subset: &str,
) -> Option<&'c BTreeMap<String, String>> {
    let dr = destination_rule(config.destination_rules, service)?;
    dr.spec.subsets.iter().find(|s| s.name == subset).map(|s| &s.labels)
}

/// The DestinationRule whose host is `service`.
pub fn destination_rule<'c>(rules: &'c [Arc<DestinationRule>], service: &ServiceRef) -> Option<&'c DestinationRule> {
    let rule = rules.iter().find(|dr| {
        let dr_ns = dr.metadata.namespace.as_deref().unwrap_or_default();
        host_service(&dr.spec.host, dr_ns).as_ref() == Some(service)
    });
    rule.map(|dr| &**dr)
}

/// Routes calls by one route of a VirtualService.
pub(super) fn route_virtual_service<'e, P: Clone>(
    config: &RoutingConfig<'_>,
    vs: &VirtualService,
    http: &HttpRoute,
    endpoints: &Endpoints<'e, P>,
) -> Routed<P> {
    let rule = RuleRef {
        kind: Kind::VirtualService,
        namespace: vs_namespace(vs).to_owned(),
        name: vs.metadata.name.clone().unwrap_or_default(),
    };
    let mut routed = Routed::empty(Some(rule));
    let weight = |w: Option<i32>| f64::from(w.unwrap_or(if http.route.len() == 1 { 100 } else { 0 }).max(0));
    let total: f64 = http.route.iter().map(|d| weight(d.weight)).sum();
    if total <= 0.0 {
        return routed;
    }
    for d in &http.route {
        let share = weight(d.weight) / total;
        if share <= 0.0 {
            continue;
        }
        let Some(target) = host_service(&d.destination.host, vs_namespace(vs)) else { continue };
        match destination_pods(config, &target, d.destination.subset.as_deref(), endpoints) {
            Ok(pods) => routed.shares.extend(evenly(&target, &pods, share)),
            Err((flag, subset)) => {
                routed.failures.push(Failure { service: target, code: 503, flag, share, cause: subset })
            }
        }
    }
    if let Some(mirror) = &http.mirror
        && let Some(target) = host_service(&mirror.host, vs_namespace(vs))
        && let Ok(pods) = destination_pods(config, &target, mirror.subset.as_deref(), endpoints)
    {
        let percent =
            http.mirror_percentage.as_ref().map(|p| p.value).or(http.mirror_percent.map(f64::from)).unwrap_or(100.0);
        routed.mirrored = evenly(&target, &pods, percent.clamp(0.0, 100.0) / 100.0);
    }
    routed
}

/// The ready pods a destination reaches, or why it reaches none.
fn destination_pods<'e, P: Clone>(
    config: &RoutingConfig<'_>,
    service: &ServiceRef,
    subset: Option<&str>,
    endpoints: &Endpoints<'e, P>,
) -> Result<Vec<Endpoint<'e, P>>, (&'static str, String)> {
    let pods = endpoints(service).unwrap_or_default();
    let Some(subset) = subset else { return Ok(pods) };
    let Some(labels) = subset_labels(config, service, subset) else { return Err(("NR", subset.to_owned())) };
    let chosen: Vec<_> = pods.into_iter().filter(|p| labels.iter().all(|(k, v)| p.labels.get(k) == Some(v))).collect();
    if chosen.iter().any(|p| p.ready) { Ok(chosen) } else { Err(("UH", subset.to_owned())) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routing_model::route;
    use serde_json::json;

    fn parse<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> T {
        serde_json::from_value(value).unwrap()
    }

    fn reviews() -> ServiceRef {
        ServiceRef::new("bookinfo", "reviews")
    }

    /// Two stable pods and one canary pod behind `reviews`.
    fn pods() -> Vec<BTreeMap<String, String>> {
        let pod = |hash: &str| BTreeMap::from([("app".into(), "reviews".into()), ("hash".into(), hash.into())]);
        vec![pod("s"), pod("s"), pod("c")]
    }

    fn routed(vs: serde_json::Value, subsets: serde_json::Value, caller: Caller, ready: [bool; 3]) -> Routed<usize> {
        let meta = json!({"name": "reviews", "namespace": "bookinfo"});
        let vss: Vec<Arc<VirtualService>> = vec![Arc::new(parse(json!({"metadata": meta, "spec": vs})))];
        let drs: Vec<Arc<DestinationRule>> =
            vec![Arc::new(parse(json!({"metadata": meta, "spec": {"host": "reviews", "subsets": subsets}})))];
        let config = RoutingConfig { virtual_services: &vss, destination_rules: &drs, ..RoutingConfig::default() };
        let labels = pods();
        let endpoints = |s: &ServiceRef| {
            (s == &reviews()).then(|| {
                labels.iter().enumerate().map(|(i, l)| Endpoint { pod: i, labels: l, ready: ready[i] }).collect()
            })
        };
        route(&config, caller, &reviews(), &endpoints)
    }

    fn subsets() -> serde_json::Value {
        json!([{"name": "stable", "labels": {"hash": "s"}}, {"name": "canary", "labels": {"hash": "c"}}])
    }

    fn split(gateways: serde_json::Value) -> serde_json::Value {
        json!({"hosts": ["reviews"], "gateways": gateways, "http": [{"route": [
            {"destination": {"host": "reviews", "subset": "stable"}, "weight": 80},
            {"destination": {"host": "reviews", "subset": "canary"}, "weight": 20}]}]})
    }

    fn share_of(r: &Routed<usize>, pod: usize) -> f64 {
        r.shares.iter().filter(|s| s.pod == pod).map(|s| s.share).sum()
    }

    #[test]
    fn a_mesh_bound_route_splits_by_weight() {
        let r = routed(split(json!([])), subsets(), Caller::Mesh, [true; 3]);
        assert_eq!((share_of(&r, 0), share_of(&r, 1), share_of(&r, 2)), (0.4, 0.4, 0.2));
        assert_eq!(r.rule.map(|r| (r.kind, r.name)), Some((Kind::VirtualService, "reviews".into())));
    }

    #[test]
    fn without_a_mesh_bound_route_sidecars_split_by_ready_pods_and_gateways_by_weight() {
        let vs = split(json!(["bookinfo-gateway"]));
        let mesh = routed(vs.clone(), subsets(), Caller::Mesh, [true; 3]);
        assert_eq!(mesh.rule, None);
        assert!((share_of(&mesh, 2) - 1.0 / 3.0).abs() < 1e-12);
        let gateway = routed(vs, subsets(), Caller::Gateway, [true; 3]);
        assert_eq!(share_of(&gateway, 2), 0.2);
    }

    #[test]
    fn subsets_without_definition_or_ready_pods_fail_in_the_caller() {
        let only_stable = json!([{"name": "stable", "labels": {"hash": "s"}}]);
        let r = routed(split(json!([])), only_stable, Caller::Mesh, [true; 3]);
        assert_eq!(r.failures.iter().map(|f| (f.flag, f.share)).collect::<Vec<_>>(), [("NR", 0.2)]);
        let r = routed(split(json!([])), subsets(), Caller::Mesh, [true, true, false]);
        assert_eq!(r.failures.iter().map(|f| (f.flag, f.cause.as_str())).collect::<Vec<_>>(), [("UH", "canary")]);
        assert_eq!(share_of(&r, 0) + share_of(&r, 1), 0.8);
    }

    #[test]
    fn a_mirror_copies_calls_on_top_of_the_split() {
        let mut vs = split(json!([]));
        vs["http"][0]["mirror"] = json!({"host": "reviews", "subset": "canary"});
        vs["http"][0]["mirrorPercentage"] = json!({"value": 50.0});
        let r = routed(vs, subsets(), Caller::Mesh, [true; 3]);
        assert_eq!(r.mirrored.iter().map(|s| (s.pod, s.share)).collect::<Vec<_>>(), [(2, 0.5)]);
    }

    #[test]
    fn hosts_name_services_in_every_form() {
        let svc = |ns: &str, name: &str| Some(ServiceRef { namespace: ns.into(), name: name.into() });
        assert_eq!(host_service("reviews", "bookinfo"), svc("bookinfo", "reviews"));
        assert_eq!(host_service("reviews.other", "bookinfo"), svc("other", "reviews"));
        assert_eq!(host_service("reviews.other.svc.cluster.local", "bookinfo"), svc("other", "reviews"));
        assert_eq!(host_service("api.example.com", "bookinfo"), None);
        assert_eq!(host_service("*", "bookinfo"), None);
    }
}
