//! Where a call to a Service goes (FACTS.md §4, §6), as one model the simulator generates traffic with and the
//! doctor predicts splits with. A VirtualService bound to the caller (a gateway, or `mesh` for sidecars) decides
//! by weight, subsets picking pods by their DestinationRule labels ([`istio`]); for in-mesh callers without one,
//! a Gateway API route whose parent is the Service (GAMMA) decides by its backends' weights ([`gateway`]);
//! without either, ready pods share the calls evenly.
//!
//! Failures happen in the caller's proxy: a subset no DestinationRule defines answers 503 `NR` (no route), a
//! destination with no ready pod 503 `UH` (no healthy upstream), a Gateway API backend that does not resolve
//! (no such Service, or another namespace's Service without a ReferenceGrant) 500, as the Gateway API requires.
//!
//! Not modelled: `match` conditions (the rule or route that takes every request applies, else the first), which
//! Gateway object selects which gateway pods (any gateway caller takes a gateway-bound VirtualService), routes
//! from a Gateway API Gateway (they route by hostname and path, which the model is not given), consumer routes
//! (a GAMMA route in the caller's namespace), locality and outlier detection. Where a VirtualService and an
//! HTTPRoute both claim a Service, Istio does not define which wins; the model takes the VirtualService and the
//! doctor says so.

pub mod gateway;
pub mod istio;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::inventory::Inventory;
use meshlens_k8s::Kind;
use meshlens_k8s::core::{Namespace, Service};
use meshlens_k8s::gateway::{GrpcRoute, HttpRoute, ReferenceGrant};
use meshlens_k8s::istio::{DestinationRule, VirtualService};

pub use istio::{applicable_route, binds, destination_rule, host_service, subset_labels};

/// Who makes the call: a sidecar in the mesh or an ingress gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    Mesh,
    Gateway,
}

/// A Service by namespace and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ServiceRef {
    pub namespace: String,
    pub name: String,
}

impl ServiceRef {
    pub fn new(namespace: &str, name: &str) -> ServiceRef {
        ServiceRef { namespace: namespace.to_owned(), name: name.to_owned() }
    }
}

/// A pod behind a Service, identified by whatever `P` the user of the model keeps pods by.
#[derive(Debug, Clone)]
pub struct Endpoint<'a, P> {
    pub pod: P,
    pub labels: &'a BTreeMap<String, String>,
    pub ready: bool,
}

/// The pods a Service selects; `None` when there is no such Service.
pub type Endpoints<'e, P> = dyn Fn(&ServiceRef) -> Option<Vec<Endpoint<'e, P>>> + 'e;

/// Part of the calls, reaching one pod through one Service.
#[derive(Debug, Clone, PartialEq)]
pub struct Share<P> {
    pub pod: P,
    pub service: ServiceRef,
    pub share: f64,
}

/// Part of the calls that fail in the caller's proxy.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub service: ServiceRef,
    /// The HTTP status the caller gets: 503, or 500 for an unresolved Gateway API backend.
    pub code: u16,
    /// Envoy's response flag: `NR`, `UH`, or `-` for none.
    pub flag: &'static str,
    pub share: f64,
    /// The subset or backend that caused it.
    pub cause: String,
}

/// The object whose route decided where calls go.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RuleRef {
    /// `VirtualService`, `HTTPRoute` or `GRPCRoute`.
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
}

/// Where the calls to a Service go.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Routed<P> {
    pub shares: Vec<Share<P>>,
    pub failures: Vec<Failure>,
    /// Copies sent to a mirror destination on top of the shares (their answers are dropped).
    pub mirrored: Vec<Share<P>>,
    /// The route that decided; `None`: ready pods share evenly.
    pub rule: Option<RuleRef>,
}

/// The routing objects of a mesh, and the Namespaces and Services whose labels choose ambient waypoints.
#[derive(Clone, Copy, Default)]
pub struct RoutingConfig<'a> {
    pub virtual_services: &'a [Arc<VirtualService>],
    pub destination_rules: &'a [Arc<DestinationRule>],
    pub http_routes: &'a [Arc<HttpRoute>],
    pub grpc_routes: &'a [Arc<GrpcRoute>],
    pub reference_grants: &'a [Arc<ReferenceGrant>],
    pub namespaces: &'a [Arc<Namespace>],
    pub services: &'a [Arc<Service>],
}

impl<'a> RoutingConfig<'a> {
    /// The routing objects of an inventory.
    pub fn of(inventory: &'a Inventory) -> RoutingConfig<'a> {
        RoutingConfig {
            virtual_services: inventory.all(),
            destination_rules: inventory.all(),
            http_routes: inventory.all(),
            grpc_routes: inventory.all(),
            reference_grants: inventory.all(),
            namespaces: inventory.all(),
            services: inventory.all(),
        }
    }
}

/// Routes the calls of `caller` to `service`. `endpoints` gives the pods a Service selects.
pub fn route<'e, P: Clone>(
    config: &RoutingConfig<'_>,
    caller: Caller,
    service: &ServiceRef,
    endpoints: &Endpoints<'e, P>,
) -> Routed<P> {
    if let Some((vs, http)) = applicable_route(config, caller, service) {
        return istio::route_virtual_service(config, vs, http, endpoints);
    }
    if caller == Caller::Mesh
        && let Some(found) = gateway::mesh_rule(config, service)
    {
        return gateway::route_rule(config, service, &found, endpoints);
    }
    let pods = endpoints(service).unwrap_or_default();
    if !pods.is_empty() && !pods.iter().any(|p| p.ready) {
        let failure = Failure::unhealthy(service.clone(), 1.0, String::new());
        return Routed { failures: vec![failure], ..Routed::empty(None) };
    }
    Routed { shares: evenly(service, &pods, 1.0), ..Routed::empty(None) }
}

impl Failure {
    /// Calls to a destination without a ready pod: 503 `UH`.
    fn unhealthy(service: ServiceRef, share: f64, cause: String) -> Failure {
        Failure { service, code: 503, flag: "UH", share, cause }
    }
}

/// `share` spread evenly over the ready pods.
fn evenly<P: Clone>(service: &ServiceRef, pods: &[Endpoint<'_, P>], share: f64) -> Vec<Share<P>> {
    let ready: Vec<_> = pods.iter().filter(|p| p.ready).collect();
    let each = share / ready.len().max(1) as f64;
    ready.into_iter().map(|p| Share { pod: p.pod.clone(), service: service.clone(), share: each }).collect()
}

impl<P> Routed<P> {
    fn empty(rule: Option<RuleRef>) -> Routed<P> {
        Routed { shares: Vec::new(), failures: Vec::new(), mirrored: Vec::new(), rule }
    }
}
