//! `meshlens doctor`: what is wrong between the objects, the routing and the telemetry, as findings with their
//! evidence and what to do. Each check is a small pure function over the graph of the window and the objects;
//! only drift needs a second look at the telemetry, over the part of the window since a Rollout's last step.

pub mod clusters;
pub mod code;
pub mod coverage;
pub mod drift;
pub mod evidence;
pub mod finding;
pub mod gateway_api;
pub mod ghosts;
pub mod istio_config;
pub mod render;
pub mod reporters;

use serde::Serialize;

use crate::graph::{Graph, GraphRequest, GraphType, Node};
use crate::identity::IdentityIndex;
use crate::inventory::Inventory;
use crate::rollout::routes::plugin_routes;
use meshlens_k8s::Kind;
use meshlens_k8s::argo::Rollout;
use meshlens_telemetry::{Backend, TelemetryError};

pub use code::{FindingCode, Severity};
pub use finding::{Finding, ObjectRef, RefKind};

/// The default drift threshold: 5 points of share.
pub const DEFAULT_THRESHOLD: f64 = 0.05;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub time: String,
    pub duration: String,
    /// Selected namespaces (empty: all).
    pub namespaces: Vec<String>,
    /// Errors first, then warnings, then notes.
    pub findings: Vec<Finding>,
    /// What could not be queried, in words.
    pub warnings: Vec<String>,
}

impl Report {
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    /// The findings about a workload, its telemetry name and the routing objects that decide its split.
    pub fn about_workload(&self, inventory: &Inventory, workload: ObjectRef) -> Vec<&Finding> {
        let telemetry_name = ObjectRef::new(RefKind::TelemetryName, &workload.namespace, &workload.name);
        let mut related = related_objects(inventory, workload);
        related.push(telemetry_name);
        self.findings.iter().filter(|f| f.objects.iter().any(|o| related.contains(o))).collect()
    }
}

/// Examines the mesh of `req` (its namespaces, window and time); `threshold` is the drift tolerance, 0..1.
pub async fn diagnose(
    backend: &Backend,
    index: &IdentityIndex,
    inventory: &Inventory,
    req: &GraphRequest,
    threshold: f64,
) -> Result<Report, TelemetryError> {
    let req = req.clone().with_type(GraphType::Workload).with_edge_latency(false);
    let graph = crate::graph::graph(backend, index, inventory, &req).await?;
    Ok(examine(backend, index, inventory, &req, &graph, threshold).await)
}

/// Examines `graph`, a workload graph of `req`; only drift since a recent step queries the telemetry again.
pub async fn examine(
    backend: &Backend,
    index: &IdentityIndex,
    inventory: &Inventory,
    req: &GraphRequest,
    graph: &Graph,
    threshold: f64,
) -> Report {
    let selects = |ns: &str| req.selects(ns);
    let mut findings = ghosts::check(graph, &selects);
    findings.extend(istio_config::check(inventory, index, graph, &selects));
    findings.extend(gateway_api::check(inventory, index, graph, &selects));
    findings.extend(coverage::check(index, graph, &req.scrape_labels, &selects));
    findings.extend(reporters::check(index, graph, &selects));
    findings.extend(clusters::check(graph, &inventory.cluster));
    let mut warnings = graph.warnings.clone();
    let mut drifts = Vec::new();
    for node in graph.nodes.iter().filter(|n| !n.revisions.is_empty() && selects(&n.namespace)) {
        if rollout_of(inventory, node).is_some_and(|r| r.spec.strategy.blue_green.is_some()) {
            continue; // a preview gets what its own Service is sent, not a weight
        }
        let window_start = req.at - req.duration_s as i64;
        let measured = match drift::weight_changed_at(inventory, node) {
            Some(changed) if changed > req.at - drift::SETTLE_S => {
                let summary = format!(
                    "{}/{}: its weight changed {} s ago; the split is judged once {} s of traffic follow a step",
                    node.namespace,
                    node.name,
                    req.at - changed,
                    drift::SETTLE_S
                );
                let me = ObjectRef::workload_node(node);
                drifts.push(Finding::new(FindingCode::StepTooRecent, summary).about(me));
                continue;
            }
            Some(changed) if changed > window_start => {
                let since = req.clone().with_duration((req.at - changed) as u64);
                match since_step(backend, index, inventory, &since, node).await {
                    Ok(Some(n)) => (n, req.at - changed),
                    Ok(None) => continue,
                    Err(e) => {
                        warnings.push(format!(
                            "{}/{}: measuring the split since its last step failed: {e}",
                            node.namespace, node.name
                        ));
                        continue;
                    }
                }
            }
            _ => (node.clone(), req.duration_s as i64),
        };
        let related = related_objects(inventory, ObjectRef::workload_node(node));
        let causes: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.severity != Severity::Info && f.objects.iter().any(|o| related.contains(o)))
            .collect();
        drifts.extend(drift::check(&measured.0, measured.1, threshold, &causes));
    }
    findings.extend(drifts);
    findings.sort_by(|a, b| (a.severity, a.code.as_str(), &a.objects).cmp(&(b.severity, b.code.as_str(), &b.objects)));
    Report {
        time: graph.time.clone(),
        duration: graph.duration.clone(),
        namespaces: graph.namespaces.clone(),
        findings,
        warnings,
    }
}

/// The node of `node`'s workload in the graph of `req`'s (shorter) window.
async fn since_step(
    backend: &Backend,
    index: &IdentityIndex,
    inventory: &Inventory,
    req: &GraphRequest,
    node: &Node,
) -> Result<Option<Node>, TelemetryError> {
    let req = req.clone().with_namespaces(Some([node.namespace.clone()].into()));
    let graph: Graph = crate::graph::graph(backend, index, inventory, &req).await?;
    Ok(graph.node(&node.id).cloned())
}

/// The Argo Rollout a graph node stands for.
pub fn rollout_of<'i>(inventory: &'i Inventory, node: &Node) -> Option<&'i Rollout> {
    if node.workload_kind.as_ref().is_none_or(|kind| *kind != Kind::Rollout) {
        return None;
    }
    inventory.named::<Rollout>(&node.namespace, &node.name)
}

/// A workload and the objects that decide its split: its VirtualServices and DestinationRule, or the Gateway API
/// routes its plugin manages, and its canary and stable Services.
fn related_objects(inventory: &Inventory, workload: ObjectRef) -> Vec<ObjectRef> {
    let rollout = (workload.kind == RefKind::from(Kind::Rollout))
        .then(|| inventory.named::<Rollout>(&workload.namespace, &workload.name))
        .flatten();
    let namespace = workload.namespace.clone();
    let namespace = namespace.as_str();
    let mut out = vec![workload];
    let Some(canary) = rollout.and_then(|r| r.spec.strategy.canary.as_ref()) else { return out };
    for service in canary.canary_service.iter().chain(&canary.stable_service) {
        out.push(ObjectRef::new(Kind::Service, namespace, service));
    }
    let Some(routing) = &canary.traffic_routing else { return out };
    if let Some(i) = &routing.istio {
        for vs in i.virtual_service.iter().chain(&i.virtual_services) {
            out.push(ObjectRef::new(Kind::VirtualService, namespace, vs.name.split('.').next().unwrap_or_default()));
        }
        if let Some(dr) = &i.destination_rule {
            out.push(ObjectRef::new(Kind::DestinationRule, namespace, &dr.name));
        }
    }
    if let (Some(rollout), Some(plugin)) = (rollout, &routing.plugins.gateway_api) {
        for (route, _) in plugin_routes(inventory, rollout, plugin) {
            out.push(ObjectRef::new(route.kind, route.namespace(), route.name()));
        }
    }
    out
}
