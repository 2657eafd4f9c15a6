//! The traffic graph: nodes (workloads, apps, services), edges with rates, errors, share and latency, and for each
//! Rollout or Flagger pair one node whose revisions carry the measured split beside the intended weight.
//!
//! Flow: [`plan`] decides a constant number of queries from the request, [`fetch`] runs them on a backend, and
//! [`build`] turns identity + results into a [`Graph`] with pure functions. Renderers live in [`render`].

pub mod build;
pub mod fetch;
pub mod history;
pub mod layout;
pub mod overview;
pub mod plan;
pub mod render;
pub mod resolve;
pub mod revisions;
pub mod routing;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::Serialize;

use crate::identity::Role;

/// How nodes are drawn: per workload (default), per app, per app version, or per service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "camelCase")]
pub enum GraphType {
    Workload,
    App,
    VersionedApp,
    Service,
}

impl GraphType {
    /// The name Kiali's API uses (`graphType=versionedApp`).
    pub fn kiali_name(self) -> &'static str {
        match self {
            GraphType::Workload => "workload",
            GraphType::App => "app",
            GraphType::VersionedApp => "versionedApp",
            GraphType::Service => "service",
        }
    }

    pub fn from_kiali_name(name: &str) -> Option<GraphType> {
        match name {
            "workload" => Some(GraphType::Workload),
            "app" => Some(GraphType::App),
            "versionedApp" | "versioned-app" => Some(GraphType::VersionedApp),
            "service" => Some(GraphType::Service),
            _ => None,
        }
    }
}

/// Names of the labels the scrape configuration adds per pod (older setups: `kubernetes_pod_name`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScrapeLabels {
    pub pod: String,
    pub namespace: String,
}

impl Default for ScrapeLabels {
    fn default() -> Self {
        ScrapeLabels { pod: "pod".into(), namespace: "namespace".into() }
    }
}

/// What graph to build.
#[derive(Debug, Clone)]
pub struct GraphRequest {
    pub graph_type: GraphType,
    /// Selected namespaces; `None` means every namespace.
    pub namespaces: Option<BTreeSet<String>>,
    pub duration_s: u64,
    /// Evaluation time, unix seconds.
    pub at: i64,
    pub scrape_labels: ScrapeLabels,
    /// p95 on every edge. It reads every destination-side histogram bucket series of the mesh, which costs more
    /// than the rest of a graph together, so (as in Kiali, where response time is an opt-in appender) it is asked
    /// for; the per-revision p95 of Rollouts, read from their own pods' series only, is always there.
    pub edge_latency: bool,
    /// Only one node and its neighbours (Kiali's node graph).
    pub focus: Option<Focus>,
    /// Which ambient-mode reports to draw, and whether waypoints are nodes.
    pub ambient: Ambient,
}

/// Kiali's `ambientTraffic`: which ambient-mode reports a graph draws. Waypoints report L7
/// (`reporter="waypoint"`); ztunnel reports L4 (TCP series scraped from ztunnel pods, `app="ztunnel"`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum AmbientTraffic {
    /// Neither: sidecars and gateways only.
    None,
    /// Both (Kiali's default).
    #[default]
    Total,
    /// Waypoint reports, not ztunnel's.
    Waypoint,
    /// Ztunnel reports, not waypoints'.
    Ztunnel,
}

/// How a graph shows ambient mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ambient {
    pub traffic: AmbientTraffic,
    /// Draw waypoint proxies as nodes (Kiali's `waypoints`, default true); without them, the calls through a
    /// waypoint keep their L7 edges and lose the L4 legs to and from it.
    pub waypoints: bool,
}

impl Default for Ambient {
    fn default() -> Self {
        Ambient { traffic: AmbientTraffic::Total, waypoints: true }
    }
}

impl Ambient {
    /// Whether a series reported by `reporter`, scraped from a pod labelled `app`, is drawn.
    pub fn draws(self, reporter: Reporter, app: &str) -> bool {
        let from_waypoint = reporter == Reporter::Waypoint;
        let from_ztunnel = app == "ztunnel";
        match self.traffic {
            AmbientTraffic::Total => true,
            AmbientTraffic::None => !from_waypoint && !from_ztunnel,
            AmbientTraffic::Waypoint => !from_ztunnel,
            AmbientTraffic::Ztunnel => !from_waypoint,
        }
    }
}

/// What a node graph centres on: the calls to and from a workload or an app (or one of its versions), or the
/// calls addressed to a Service. Parsed from `workload/NS/NAME`, `app/NS/NAME[/VERSION]` or `service/NS/NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Focus {
    Workload { namespace: String, name: String },
    App { namespace: String, name: String, version: Option<String> },
    Service { namespace: String, name: String },
}

impl Focus {
    pub fn namespace(&self) -> &str {
        match self {
            Focus::Workload { namespace, .. } | Focus::App { namespace, .. } | Focus::Service { namespace, .. } => {
                namespace
            }
        }
    }

    /// Whether `node` is the one this graph centres on.
    pub fn is(&self, node: &Node) -> bool {
        match self {
            Focus::Workload { namespace, name } => {
                node.node_type == NodeType::Workload
                    && node.namespace == *namespace
                    && (node.name == *name || node.telemetry_names.contains(name))
            }
            Focus::App { namespace, name, version } => {
                node.node_type == NodeType::App
                    && node.namespace == *namespace
                    && node.app.as_deref() == Some(name)
                    && version.as_ref().is_none_or(|v| node.version.as_ref() == Some(v))
            }
            Focus::Service { namespace, name } => {
                node.node_type == NodeType::Service && node.namespace == *namespace && node.name == *name
            }
        }
    }
}

impl std::str::FromStr for Focus {
    type Err = String;

    fn from_str(text: &str) -> Result<Focus, String> {
        let parts: Vec<&str> = text.split('/').collect();
        let valid_namespace = parts.get(1).is_some_and(|ns| crate::k8s::is_namespace_name(ns));
        if !valid_namespace || parts.iter().skip(2).any(|p| !crate::k8s::is_name(p)) {
            return Err(format!("{text:?}: the namespace and names must be Kubernetes names"));
        }
        let owned = |s: &&str| (*s).to_owned();
        match parts.as_slice() {
            ["workload", ns, name] => Ok(Focus::Workload { namespace: owned(ns), name: owned(name) }),
            ["app", ns, name] => Ok(Focus::App { namespace: owned(ns), name: owned(name), version: None }),
            ["app", ns, name, version] => {
                Ok(Focus::App { namespace: owned(ns), name: owned(name), version: Some(owned(version)) })
            }
            ["service", ns, name] => Ok(Focus::Service { namespace: owned(ns), name: owned(name) }),
            _ => Err(format!("{text:?} is not workload/NS/NAME, app/NS/NAME[/VERSION] or service/NS/NAME")),
        }
    }
}

impl GraphRequest {
    pub fn selects(&self, namespace: &str) -> bool {
        self.namespaces.as_ref().is_none_or(|n| n.contains(namespace))
    }
}

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
    /// Ambient mode: an ambient waypoint reported the calls, its `pod` label is its own, and the revisions share
    /// one canonical revision.
    AmbientSameRevision,
}

impl Unmeasured {
    pub fn reason(self) -> &'static str {
        match self {
            Unmeasured::AmbientSameRevision => {
                "an ambient waypoint reported these calls (its series carry the waypoint's own pod label) and the revisions share one canonical revision"
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
    pub workload_kind: Option<String>,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Protocol {
    Http,
    Grpc,
    Tcp,
}

impl Protocol {
    pub fn from_label(label: &str) -> Protocol {
        match label {
            "grpc" => Protocol::Grpc,
            "tcp" => Protocol::Tcp,
            _ => Protocol::Http,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Http => "http",
            Protocol::Grpc => "grpc",
            Protocol::Tcp => "tcp",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Edge {
    pub source: String,
    pub target: String,
    pub protocol: Protocol,
    /// Requests/s (0 for TCP).
    pub rps: f64,
    /// Share of requests answered with an error (HTTP 5xx or no response; gRPC non-OK).
    pub error_ratio: f64,
    /// This edge's share of everything its source sends (requests/s; bytes/s for TCP); none where the graph does
    /// not hold all its source sends (a node graph's neighbours).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share: Option<f64>,
    pub p95_ms: Option<f64>,
    /// TCP bytes/s by direction (JSON: `tcpBytesPerS`, both directions, and `tcp`).
    #[serde(flatten, serialize_with = "tcp_fields")]
    pub tcp: Option<TcpBytes>,
    /// The same TCP bytes/s by how connections ended and the host called (JSON: `tcpFlows`, flags → both
    /// directions), for Kiali's responses.
    #[serde(rename = "tcpFlows", skip_serializing_if = "TcpFlows::is_empty")]
    pub tcp_flows: TcpFlows,
    /// Requests/s by response code (by gRPC status on gRPC edges) and by Envoy response flags (JSON: `responses`
    /// and `flags`).
    #[serde(flatten)]
    pub responses: Responses,
    /// Destination services (`name.namespace`), shared between the edges that reach them.
    pub services: BTreeSet<Arc<str>>,
    /// The proxies that reported this edge. Its rates count each series once: as the destination side (its proxy
    /// or a waypoint) measured it, or as the caller did where the destination side reported nothing.
    pub reported_by: BTreeSet<Reporter>,
    /// An L4 leg to or from an ambient waypoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waypoint: Option<WaypointLeg>,
}

/// Which way an edge goes relative to the waypoint at one of its ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WaypointLeg {
    /// Into the waypoint.
    To,
    /// Out of the waypoint.
    From,
}

/// TCP bytes/s of an edge by direction, named from the caller's side as Kiali names them: what the caller sent
/// (Istio's `istio_tcp_received_bytes_total`, bytes the callee received) and what came back
/// (`istio_tcp_sent_bytes_total`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TcpBytes {
    pub sent: f64,
    pub received: f64,
}

impl TcpBytes {
    pub fn total(self) -> f64 {
        self.sent + self.received
    }
}

/// How TCP connections ended (Envoy's response flags, `-` for none) and the host they were opened to (Istio's
/// `destination_service`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Flow {
    pub flags: Arc<str>,
    pub host: Arc<str>,
}

/// TCP bytes/s of an edge by [`Flow`].
#[derive(Debug, Clone, Default)]
pub struct TcpFlows(pub BTreeMap<Flow, TcpBytes>);

impl TcpFlows {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for TcpFlows {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut by_flags: BTreeMap<&str, f64> = BTreeMap::new();
        for (flow, bytes) in &self.0 {
            *by_flags.entry(&flow.flags).or_default() += bytes.total();
        }
        by_flags.serialize(serializer)
    }
}

impl Edge {
    /// TCP bytes/s in both directions; none for HTTP and gRPC edges.
    pub fn tcp_bytes_per_s(&self) -> Option<f64> {
        self.tcp.map(TcpBytes::total)
    }
}

/// An edge's TCP fields: the total and the directions, both from the one [`TcpBytes`].
fn tcp_fields<S: serde::Serializer>(tcp: &Option<TcpBytes>, serializer: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = serializer.serialize_map(None)?;
    if let Some(tcp) = tcp {
        map.serialize_entry("tcpBytesPerS", &tcp.total())?;
        map.serialize_entry("tcp", tcp)?;
    }
    map.end()
}

/// Who reported a series: the value of Istio's `reporter` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Reporter {
    /// The caller's sidecar (or gateway, or ztunnel on the caller's node).
    Source,
    /// The callee's sidecar (or ztunnel on the callee's node).
    Destination,
    /// An ambient waypoint proxy, which sees L7 between the two.
    Waypoint,
}

impl Reporter {
    pub fn from_label(label: &str) -> Option<Reporter> {
        match label {
            "source" => Some(Reporter::Source),
            "destination" => Some(Reporter::Destination),
            "waypoint" => Some(Reporter::Waypoint),
            _ => None,
        }
    }

    pub fn as_label(self) -> &'static str {
        match self {
            Reporter::Source => "source",
            Reporter::Destination => "destination",
            Reporter::Waypoint => "waypoint",
        }
    }
}

/// One kind of answer on an edge: its response code (the gRPC status on gRPC edges), its Envoy response flags (`-`
/// for none) and the host called (Istio's `destination_service`). The strings are shared (an edge has a few, a
/// graph repeats them thousands of times).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Response {
    pub code: Arc<str>,
    pub flags: Arc<str>,
    pub host: Arc<str>,
}

/// Requests/s of an edge by kind of answer, as Kiali needs them.
#[derive(Debug, Clone, Default)]
pub struct Responses(pub BTreeMap<Response, f64>);

impl Responses {
    /// Requests/s by response code.
    pub fn by_code(&self) -> BTreeMap<&str, f64> {
        self.sum_by(|r| &r.code)
    }

    /// Requests/s by response flags.
    pub fn by_flags(&self) -> BTreeMap<&str, f64> {
        self.sum_by(|r| &r.flags)
    }

    /// Requests/s of one response code by response flags.
    pub fn flags_of(&self, code: &str) -> BTreeMap<&str, f64> {
        self.sum_by_where(code, |r| &r.flags)
    }

    /// Requests/s of one response code by host.
    pub fn hosts_of(&self, code: &str) -> BTreeMap<&str, f64> {
        self.sum_by_where(code, |r| &r.host)
    }

    fn sum_by<'a>(&'a self, key: impl Fn(&'a Response) -> &'a Arc<str>) -> BTreeMap<&'a str, f64> {
        let mut sums = BTreeMap::new();
        for (r, rps) in &self.0 {
            *sums.entry(&**key(r)).or_default() += rps;
        }
        sums
    }

    fn sum_by_where<'a>(&'a self, code: &str, key: impl Fn(&'a Response) -> &'a Arc<str>) -> BTreeMap<&'a str, f64> {
        let mut sums = BTreeMap::new();
        for (r, rps) in self.0.iter().filter(|(r, _)| *r.code == *code) {
            *sums.entry(&**key(r)).or_default() += rps;
        }
        sums
    }
}

impl Serialize for Responses {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        if !self.0.is_empty() {
            map.serialize_entry("responses", &self.by_code())?;
            map.serialize_entry("flags", &self.by_flags())?;
        }
        map.end()
    }
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
    backend: &crate::telemetry::Backend,
    index: &crate::identity::IdentityIndex,
    inventory: &crate::inventory::Inventory,
    req: &GraphRequest,
) -> Result<Graph, crate::telemetry::TelemetryError> {
    let plan = plan::plan(req, index);
    let results = fetch::fetch(backend, &plan).await?;
    Ok(build::build(index, inventory, req, &results))
}

/// `600` → `10m`, `90` → `90s`, `7200` → `2h`.
pub fn format_duration(seconds: u64) -> String {
    match seconds {
        s if s > 0 && s % 3600 == 0 => format!("{}h", s / 3600),
        s if s > 0 && s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// Parses a time given as RFC 3339 (`2026-11-25T10:00:00Z`) or unix seconds.
pub fn parse_time(text: &str) -> Result<jiff::Timestamp, String> {
    if let Ok(seconds) = text.parse::<i64>() {
        return jiff::Timestamp::from_second(seconds).map_err(|e| format!("time {text:?}: {e}"));
    }
    text.parse::<jiff::Timestamp>()
        .map_err(|e| format!("time {text:?} is neither RFC 3339 (2026-11-25T10:00:00Z) nor unix seconds: {e}"))
}

/// The longest window a query may look back over, from the CLI or the API: past it, a rate says little and the
/// arithmetic on times would near the edge of what a timestamp holds.
pub const MAX_WINDOW_S: u64 = 30 * 86_400;

/// A query window (`--duration`, `duration=`): a duration from one second to [`MAX_WINDOW_S`].
pub fn parse_window(text: &str) -> Result<u64, String> {
    parse_duration(text)
        .filter(|s| *s <= MAX_WINDOW_S)
        .ok_or_else(|| format!("{text:?} is not a duration between 1s and 30d (like 30s, 10m, 1h)"))
}

/// Parses `30s`, `5m`, `1h`, `2d` (or plain seconds).
pub fn parse_duration(text: &str) -> Option<u64> {
    let text = text.trim();
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let n: u64 = number.parse().ok()?;
    let factor = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    n.checked_mul(factor).filter(|s| *s > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_round_trip() {
        assert_eq!(parse_duration("10m"), Some(600));
        assert_eq!(parse_duration("90"), Some(90));
        assert_eq!(parse_duration("2h"), Some(7200));
        assert_eq!(parse_duration("0s"), None);
        assert_eq!(parse_duration("5x"), None);
        assert_eq!(parse_duration("-5m"), None);
        assert_eq!(parse_duration("300000000000000d"), None, "overflows u64 seconds");
        assert!(parse_window("200000000000d").is_err());
        assert_eq!(parse_window("30d"), Ok(MAX_WINDOW_S));
        assert!(parse_window("31d").is_err());
        assert!(parse_window("2000000000d").is_err());
        assert!(parse_window("0").is_err());
        assert_eq!(format_duration(600), "10m");
        assert_eq!(format_duration(90), "90s");
        assert_eq!(format_duration(7200), "2h");
    }
}
