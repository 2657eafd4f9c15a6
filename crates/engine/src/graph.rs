//! The traffic graph: nodes (workloads, apps, services), edges with rates, errors, share and latency, and for each
//! Rollout or Flagger pair one node whose revisions carry the measured split beside the intended weight.
//!
//! Flow: [`plan`] decides a constant number of queries from the request, [`fetch`] runs them on a backend, and
//! [`build`] turns identity + results into a [`Graph`] with pure functions. Renderers live in [`render`].

pub mod build;
mod edge;
pub mod fetch;
pub mod history;
pub mod layout;
pub mod overview;
pub mod plan;
pub mod render;
mod request;
pub mod resolve;
pub mod revisions;
pub mod routing;

use std::collections::BTreeSet;

use meshlens_k8s::KindName;
use serde::Serialize;

use crate::identity::Role;

pub use edge::{Edge, Flow, Protocol, Reporter, Response, Responses, TcpBytes, TcpFlows, WaypointLeg};
pub use request::{Ambient, AmbientTraffic, Focus, GraphRequest, GraphType, ScrapeLabels};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum NodeType {
    Workload,
    App,
    Service,
    Unknown,
    /// A whole namespace, in the overview of a large mesh.
    Namespace,
}

impl Node {
    /// A figure summed over the canary-role revisions; `None` without a canary or when any of them lacks it.
    pub fn canary_total(&self, figure: impl Fn(&Revision) -> Option<f64>) -> Option<f64> {
        let mut canary = self.revisions.iter().filter(|r| r.role == TrafficRole::Canary).peekable();
        canary.peek()?;
        canary.map(figure).sum()
    }

    /// A node with nothing known but what it is.
    pub fn new(id: &str, node_type: NodeType, cluster: &str, namespace: &str, name: &str) -> Node {
        Node {
            id: id.to_owned(),
            node_type,
            cluster: cluster.to_owned(),
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            workload_kind: None,
            app: None,
            version: None,
            is_idle: false,
            is_ghost: false,
            is_outside: false,
            is_waypoint: false,
            ghost_reason: None,
            ambiguous_with: Vec::new(),
            url: None,
            telemetry_names: Default::default(),
            workloads: Default::default(),
            traffic: NodeTraffic::default(),
            revisions: Vec::new(),
            split: None,
            callers: Vec::new(),
        }
    }
}

/// The traffic role a revision plays in a split: blue-green active and Flagger primary are stable, preview canary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum TrafficRole {
    Stable,
    Canary,
    /// A revision that got traffic without a role (an old ReplicaSet still draining).
    Other,
}

impl TrafficRole {
    pub fn as_str(self) -> &'static str {
        match self {
            TrafficRole::Stable => "stable",
            TrafficRole::Canary => "canary",
            TrafficRole::Other => "other",
        }
    }
}

/// One revision of a Rollout or Flagger pair, with its measured and intended traffic.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Revision {
    pub replica_set: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<u64>,
    pub role: TrafficRole,
    pub roles: Vec<Role>,
    /// Share (0..1) of the workload's destination-reported requests this revision's pods served.
    pub observed_share: Option<f64>,
    /// The weight (0..1) the Rollout (or Canary) asks for.
    pub intended_weight: Option<f64>,
    /// The weight (0..1) the VirtualService routes carry now.
    pub routed_weight: Option<f64>,
    pub rps: f64,
    pub error_ratio: Option<f64>,
    pub p95_ms: Option<f64>,
    pub pods: usize,
    pub ready_pods: usize,
}

/// How one caller's requests split over the revisions.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallerSplit {
    /// The caller's node id.
    pub source: String,
    pub rps: f64,
    pub revisions: Vec<RevisionShare>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RevisionShare {
    pub replica_set: String,
    pub rps: f64,
    pub share: f64,
}

/// How the split was measured, and what could not be attributed.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SplitSource {
    /// `pod`, `podTemplateHash`, `canonicalRevision`, `serviceName`, or `none` when nothing tells revisions apart.
    pub attributed_by: String,
    /// Requests/s that reached the workload but could not be tied to a revision.
    pub unattributed_rps: f64,
    /// Why some of those requests cannot be tied to a revision, where meshlens knows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unmeasured: Option<Unmeasured>,
    /// A mirror route copies traffic to the canary on top of its routed share.
    pub mirrored: bool,
    /// The routing objects whose routes carry the revisions' `routedWeight`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<crate::rollout::routes::RouteObject>,
}

/// Why a split cannot be measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Unmeasured {
    /// Ambient mode: a waypoint reported the calls (its `pod` label is its own), the revisions share one canonical
    /// revision, and the calls name no canary or stable Service. (A waypoint reports the Service of the upstream
    /// cluster its route chose: Istio's stats filter reads `destination_service` from the cluster's `istio.services`
    /// metadata, which istiod sets to the cluster's own Service; so a split by canary/stable Services is
    /// measured, one by subsets of one Service is not.)
    AmbientSameRevision,
}

impl Unmeasured {
    pub fn reason(self) -> &'static str {
        match self {
            Unmeasured::AmbientSameRevision => {
                "an ambient waypoint reported these calls (its series carry the waypoint's own pod label), the revisions share one canonical revision, and the calls name no canary or stable Service"
            }
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeTraffic {
    /// Requests/s in (destination side) and out (source side), HTTP and gRPC.
    pub rps_in: f64,
    pub rps_out: f64,
    pub error_ratio_in: Option<f64>,
    /// TCP bytes/s in and out.
    pub tcp_in: f64,
    pub tcp_out: f64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Node {
    pub id: String,
    pub node_type: NodeType,
    pub cluster: String,
    pub namespace: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workload_kind: Option<KindName>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub is_idle: bool,
    pub is_ghost: bool,
    pub is_outside: bool,
    /// An ambient waypoint proxy.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub is_waypoint: bool,
    /// Why a ghost resolves to nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ghost_reason: Option<String>,
    /// Other workloads the same telemetry name could belong to.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ambiguous_with: Vec<String>,
    /// The workload page this node links to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Names this node carried in the window's telemetry.
    pub telemetry_names: BTreeSet<String>,
    /// Workloads behind an app or service node (`namespace/name`).
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub workloads: BTreeSet<String>,
    pub traffic: NodeTraffic,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub revisions: Vec<Revision>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub split: Option<SplitSource>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub callers: Vec<CallerSplit>,
}

/// What the telemetry queries cost.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryStats {
    pub queries: usize,
    pub bytes: usize,
    pub seconds: f64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Graph {
    pub graph_type: GraphType,
    /// Evaluation time, RFC 3339.
    pub time: String,
    /// Window, e.g. `10m`.
    pub duration: String,
    /// Selected namespaces (empty: all).
    pub namespaces: Vec<String>,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    /// Whether edges carry p95 (see [`GraphRequest::edge_latency`]).
    pub edge_latency: bool,
    /// What could not be queried or explained, in words.
    pub warnings: Vec<String>,
    pub telemetry: QueryStats,
}

impl Graph {
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id == id)
    }
}

/// Plans, fetches and builds the graph of `req`.
pub async fn graph(
    backend: &meshlens_telemetry::Backend,
    index: &crate::identity::IdentityIndex,
    inventory: &crate::inventory::Inventory,
    req: &GraphRequest,
) -> Result<Graph, meshlens_telemetry::TelemetryError> {
    let plan = plan::plan(req, index);
    let results = fetch::fetch(backend, &plan).await?;
    Ok(build::build(index, inventory, req, &results))
}
