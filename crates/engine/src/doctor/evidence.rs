//! Figures several checks rest on: who calls a workload from inside the mesh and the split ready pods would give
//! them, and how many requests to a Service failed in the callers' proxies.

use std::collections::BTreeMap;

use crate::graph::{Edge, Graph, Node, NodeType, TrafficRole};
use crate::identity::IdentityIndex;
use crate::inventory::Inventory;
use crate::routing_model::ServiceRef;
use meshlens_k8s::core::Pod;
use meshlens_k8s::gateway::GATEWAY_NAME_LABEL;
use meshlens_telemetry::istio::pod_label;

/// Labels Istio puts on gateway proxy pods: its charts' `istio: *gateway`, and the Gateway API Gateway a proxy
/// was deployed for.
const GATEWAY_API_LABELS: [&str; 2] = [GATEWAY_NAME_LABEL, pod_label::GATEWAY_NAME];

/// The callers of `node` that are sidecars, not gateways (`namespace/name`).
pub fn in_mesh_callers<'n>(inventory: &Inventory, index: &IdentityIndex, node: &'n Node) -> Vec<&'n str> {
    node.callers
        .iter()
        .filter(|c| !is_gateway(inventory, index, &c.source))
        .map(|c| c.source.rsplit(':').next().unwrap_or(&c.source))
        .collect()
}

/// What ready pods give the canary when calls spread over them: (canary ready pods, all ready pods, share).
pub fn canary_share_by_ready_pods(node: &Node) -> (usize, usize, f64) {
    let ready = |role| node.revisions.iter().filter(|r| r.role == role).map(|r| r.ready_pods).sum::<usize>();
    let (canary, stable) = (ready(TrafficRole::Canary), ready(TrafficRole::Stable));
    (canary, canary + stable, canary as f64 / (canary + stable).max(1) as f64)
}

/// Whether a graph node is a gateway proxy.
fn is_gateway(inventory: &Inventory, index: &IdentityIndex, node_id: &str) -> bool {
    let mut parts = node_id.splitn(4, ':').skip(2);
    let (Some(namespace), Some(name)) = (parts.next(), parts.next()) else { return false };
    index.named(namespace, name).flat_map(|w| &w.pods).any(|p| {
        let labels = inventory.named::<Pod>(namespace, &p.name).and_then(|pod| pod.metadata.labels.as_ref());
        labels.is_some_and(|l: &BTreeMap<String, String>| {
            l.get("istio").is_some_and(|v| v.ends_with("gateway"))
                || GATEWAY_API_LABELS.iter().any(|k| l.contains_key(*k))
        })
    })
}

/// Requests/s to `service` in the window that reached no pod (failed in the caller's proxy), with the response
/// code and flags `failed` picks.
pub fn failing_rps(graph: &Graph, service: &ServiceRef, failed: impl Fn(&str, &str) -> bool) -> f64 {
    let name = format!("{}.{}", service.name, service.namespace);
    // Calls that reached no workload end on the Service's node (or the unknown node when it has none).
    let unreached =
        |e: &&Edge| graph.node(&e.target).is_some_and(|n| matches!(n.node_type, NodeType::Service | NodeType::Unknown));
    let edges = graph.edges.iter().filter(|e| e.services.contains(name.as_str())).filter(unreached);
    let failing = edges.flat_map(|e| &e.responses.0).filter(|(r, _)| failed(&r.code, &r.flags));
    failing.fold(0.0, |sum, (_, rps)| sum + rps)
}
