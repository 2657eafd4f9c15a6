//! Istio routing that cannot do what it says: routes to subsets no DestinationRule defines or whose labels pick no
//! ready pod (those requests fail with 503), routes to hosts that are not Services, Rollout routes not bound to
//! `mesh` (in-mesh callers then split by ready pods), route weights that disagree with the Rollout, mirrors.

use crate::graph::{Graph, Node};
use crate::identity::IdentityIndex;
use crate::inventory::Inventory;
use crate::routing_model::{
    Caller, Endpoint, RoutingConfig, ServiceRef, binds, destination_rule, host_service, subset_labels,
};
use meshlens_k8s::core::{Pod, Service};
use meshlens_k8s::istio::VirtualService;
use meshlens_k8s::status::pod_ready;

use meshlens_k8s::Kind;

use super::code::FindingCode;
use super::evidence;
use super::finding::{Finding, ObjectRef};
use super::rollout_of;
use crate::graph::render::percent;

/// Every finding about the VirtualServices of the selected namespaces and the Rollouts routed by them.
pub fn check(
    inventory: &Inventory,
    index: &IdentityIndex,
    graph: &Graph,
    selects: &dyn Fn(&str) -> bool,
) -> Vec<Finding> {
    let config = RoutingConfig::of(inventory);
    let mut findings = Vec::new();
    for vs in inventory.all::<VirtualService>().iter().filter(|vs| selects(namespace(vs))) {
        findings.extend(destinations(inventory, index, graph, &config, vs));
    }
    for node in graph.nodes.iter().filter(|n| !n.revisions.is_empty() && selects(&n.namespace)) {
        findings.extend(rollout_routes(inventory, index, node));
    }
    findings
}

fn namespace(vs: &VirtualService) -> &str {
    vs.metadata.namespace.as_deref().unwrap_or_default()
}

fn vs_ref(vs: &VirtualService) -> ObjectRef {
    ObjectRef::new(Kind::VirtualService, namespace(vs), vs.metadata.name.as_deref().unwrap_or_default())
}

/// Routes whose destination host or subset leads nowhere.
fn destinations(
    inventory: &Inventory,
    index: &IdentityIndex,
    graph: &Graph,
    config: &RoutingConfig<'_>,
    vs: &VirtualService,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let routes = vs.spec.http.iter().flat_map(|r| &r.route);
    let mirrors = vs.spec.http.iter().filter_map(|r| r.mirror.as_ref());
    let destinations = routes.filter(|d| d.weight.is_none_or(|w| w > 0)).map(|d| &d.destination).chain(mirrors);
    for d in destinations {
        let Some(service) = host_service(&d.host, namespace(vs)) else { continue };
        if !index.namespaces().contains(&service.namespace) {
            continue;
        }
        let Some(selector) = service_selector(inventory, &service) else {
            let summary = format!("{} routes to {}, which is not a Service", vs_ref(vs), d.host);
            findings.push(
                Finding::new(FindingCode::UnknownHost, summary).about(vs_ref(vs)).evidence("host", d.host.clone()),
            );
            continue;
        };
        let Some(subset) = &d.subset else { continue };
        let failing = failing_rps(graph, &service);
        let Some(labels) = subset_labels(config, &service, subset) else {
            let summary = format!(
                "{} routes to subset {subset:?} of {}, which no DestinationRule defines: those requests fail with 503 NR ({:.2} requests/s in the window)",
                vs_ref(vs),
                service.name,
                failing.0
            );
            findings.push(
                Finding::new(FindingCode::UnknownSubset, summary)
                    .about(vs_ref(vs))
                    .about(ObjectRef::new(Kind::Service, &service.namespace, &service.name))
                    .evidence("subset", subset.clone())
                    .evidence("failingRps", failing.0)
                    .advice(format!(
                        "Define subset {subset:?} in the DestinationRule of {} or route to a defined one.",
                        service.name
                    )),
            );
            continue;
        };
        let pods = endpoints(inventory, &service, &selector);
        let chosen: Vec<_> = pods.iter().filter(|p| labels.iter().all(|(k, v)| p.labels.get(k) == Some(v))).collect();
        if chosen.iter().any(|p| p.ready) {
            continue;
        }
        let dr = dr_of(inventory, &service);
        let selector_text = labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
        let (code, what) = if chosen.is_empty() {
            (FindingCode::SubsetMatchesNoPods, format!("its labels {selector_text} match no pod of {}", service.name))
        } else {
            (
                FindingCode::SubsetPodsNotReady,
                format!("none of its {} pods ({}) is ready", chosen.len(), pod_names(&chosen)),
            )
        };
        let summary = format!(
            "{} routes to subset {subset:?} of {}, but {what}: those requests fail with 503 UH ({:.2} requests/s in the window)",
            vs_ref(vs),
            service.name,
            failing.1
        );
        let mut finding = Finding::new(code, summary)
            .about(vs_ref(vs))
            .evidence("subset", subset.clone())
            .evidence("subsetLabels", selector_text)
            .evidence("matchingPods", chosen.len())
            .evidence("failingRps", failing.1);
        if let Some(dr) = dr {
            finding = finding.about(dr);
        }
        findings.push(finding);
    }
    findings
}

/// The DestinationRule for a Service's host.
fn dr_of(inventory: &Inventory, service: &ServiceRef) -> Option<ObjectRef> {
    let dr = destination_rule(inventory.all(), service)?;
    let (ns, name) = (dr.metadata.namespace.as_deref(), dr.metadata.name.as_deref());
    Some(ObjectRef::new(Kind::DestinationRule, ns.unwrap_or_default(), name.unwrap_or_default()))
}

fn pod_names(pods: &[&Endpoint<'_, &str>]) -> String {
    pods.iter().map(|p| p.pod).collect::<Vec<_>>().join(", ")
}

fn service_selector(inventory: &Inventory, service: &ServiceRef) -> Option<std::collections::BTreeMap<String, String>> {
    let svc = inventory.named::<Service>(&service.namespace, &service.name)?;
    Some(svc.spec.as_ref().and_then(|s| s.selector.clone()).unwrap_or_default())
}

/// The pods a Service selects, with their readiness.
pub fn endpoints<'i>(
    inventory: &'i Inventory,
    service: &ServiceRef,
    selector: &std::collections::BTreeMap<String, String>,
) -> Vec<Endpoint<'i, &'i str>> {
    static NO_LABELS: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    inventory
        .all::<Pod>()
        .iter()
        .filter(|p| p.metadata.namespace.as_deref() == Some(&service.namespace))
        .map(|p| Endpoint {
            pod: p.metadata.name.as_deref().unwrap_or_default(),
            labels: p.metadata.labels.as_ref().unwrap_or(&NO_LABELS),
            ready: pod_ready(p),
        })
        .filter(|e| !selector.is_empty() && selector.iter().all(|(k, v)| e.labels.get(k) == Some(v)))
        .collect()
}

/// Requests/s to `service` that failed in the caller's proxy: (no route `NR`, no healthy upstream `UH`).
fn failing_rps(graph: &Graph, service: &ServiceRef) -> (f64, f64) {
    (evidence::failing_rps(graph, service, |_, f| f == "NR"), evidence::failing_rps(graph, service, |_, f| f == "UH"))
}

/// A Rollout's own routes: bound to `mesh` for in-mesh callers, weights as the Rollout says, mirrors.
fn rollout_routes(inventory: &Inventory, index: &IdentityIndex, node: &Node) -> Vec<Finding> {
    let mut findings = Vec::new();
    let me = ObjectRef::workload_node(node);
    let (canary_intended, canary_routed) =
        (node.canary_total(|r| r.intended_weight), node.canary_total(|r| r.routed_weight));
    // Gateway API routes are judged by the weights the plugin writes ([`super::gateway_api`]).
    let by_virtual_service =
        node.split.as_ref().is_some_and(|s| s.routes.iter().any(|r| r.kind == Kind::VirtualService));
    if let (Some(intended), Some(routed)) = (canary_intended, canary_routed)
        && by_virtual_service
        && (intended - routed).abs() > 0.005
    {
        let summary = format!(
            "{me} asks for {} to its canary, but its VirtualService routes carry {}",
            percent(intended),
            percent(routed)
        );
        findings.push(
            Finding::new(FindingCode::RoutesDisagreeWithRollout, summary)
                .about(me.clone())
                .evidence("intendedCanaryWeight", intended)
                .evidence("routedCanaryWeight", routed)
                .advice("Someone or something changed the route weights: the Rollout controller rewrites them at its next step. Do not edit routes a Rollout manages; check for a second controller (GitOps sync of the VirtualService) fighting over them."),
        );
    }
    if node.split.as_ref().is_some_and(|s| s.mirrored) {
        let summary =
            format!("{me} has a mirror route to its canary: measured canary shares include the mirrored copies");
        findings.push(Finding::new(FindingCode::MirrorRoute, summary).about(me.clone()));
    }
    let Some(rollout) = rollout_of(inventory, node) else { return findings };
    let istio = rollout.spec.strategy.canary.as_ref().and_then(|c| c.traffic_routing.as_ref()?.istio.as_ref());
    for vs_ref in istio.iter().flat_map(|i| i.virtual_service.iter().chain(&i.virtual_services)) {
        let name = vs_ref.name.split('.').next().unwrap_or_default();
        let Some(vs) = inventory.named::<VirtualService>(&node.namespace, name) else {
            continue;
        };
        if binds(vs, Caller::Mesh) {
            continue;
        }
        let in_mesh = evidence::in_mesh_callers(inventory, index, node);
        if in_mesh.is_empty() {
            continue;
        }
        let (canary_ready, ready, by_pods) = evidence::canary_share_by_ready_pods(node);
        let summary = format!(
            "{} routes {me} for gateways {:?} but not for `mesh`: in-mesh callers ({}) split by ready pods ({canary_ready} canary of {ready} = {}), not by weight",
            self::vs_ref(vs),
            vs.spec.gateways,
            in_mesh.join(", "),
            percent(by_pods)
        );
        findings.push(
            Finding::new(FindingCode::VsNotBoundToMesh, summary)
                .about(me.clone())
                .about(self::vs_ref(vs))
                .evidence("gateways", vs.spec.gateways.clone())
                .evidence("inMeshCallers", in_mesh)
                .evidence("canaryShareByReadyPods", by_pods)
                .advice(format!(
                    "Add `mesh` to spec.gateways of VirtualService {name} (keep the gateways listed) so sidecars follow the weights too."
                )),
        );
    }
    findings
}
