//! Kiali's graph JSON (`/api/namespaces/graph`), so tools built for Kiali can read meshlens' graph: the same node
//! and edge fields, rates as strings, response codes with their flags and hosts. Rates follow Kiali's rules
//! (its `graph/protocol.go`): an HTTP error is a 4xx, a 5xx or no response; a gRPC error a non-OK status (or a 4xx
//! or 5xx HTTP code where no status was reported); an edge's `PercentReq` is its share of what its source sends
//! over the same protocol.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::Serialize;

use crate::graph::resolve::UNKNOWN;
use crate::graph::{Edge, Graph, GraphType, Node, NodeType, Protocol, TcpBytes, WaypointLeg};

/// The whole answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KialiGraph {
    pub timestamp: i64,
    pub duration: u64,
    pub graph_type: &'static str,
    pub elements: Elements,
}

#[derive(Debug, Serialize)]
pub struct Elements {
    pub nodes: Vec<Element<NodeData>>,
    pub edges: Vec<Element<EdgeData>>,
}

/// Cytoscape's wrapping of every element.
#[derive(Debug, Serialize)]
pub struct Element<T> {
    pub data: T,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeData {
    pub id: String,
    /// The box (an app's versions) this node is drawn in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    pub node_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workload: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dest_services: Vec<DestService>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub traffic: Vec<Traffic>,
    /// Kiali fills it with its health appender, which meshlens does not run.
    pub health_data: Option<()>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_box: Option<&'static str>,
    #[serde(skip_serializing_if = "is_false")]
    pub is_idle: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub is_dead: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub is_inaccessible: bool,
    /// An ambient waypoint proxy.
    #[serde(skip_serializing_if = "is_false")]
    pub is_waypoint: bool,
    /// A service node of a service graph, which Kiali makes by putting each destination's Service in front of it.
    #[serde(skip_serializing_if = "is_false")]
    pub is_injected: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub is_outside: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub is_root: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub has_traffic_shifting: bool,
}

#[derive(Debug, Serialize)]
pub struct DestService {
    pub cluster: String,
    pub namespace: String,
    pub name: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EdgeData {
    pub id: String,
    pub source: String,
    pub target: String,
    pub traffic: Traffic,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waypoint: Option<WaypointData>,
}

/// An L4 leg to or from a waypoint; a leg into one carries the leg coming back (`fromEdge`), which is not drawn on
/// its own.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WaypointData {
    pub direction: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_edge: Option<Box<EdgeData>>,
}

/// One protocol's rates (as strings with Kiali's precision) and, on edges, its responses.
#[derive(Debug, Serialize)]
pub struct Traffic {
    pub protocol: &'static str,
    pub rates: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub responses: BTreeMap<String, ResponseDetail>,
}

/// Per response code: the share of the edge's requests (percent, as a string) by Envoy flags and by host.
#[derive(Debug, Serialize)]
pub struct ResponseDetail {
    pub flags: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub hosts: BTreeMap<String, String>,
}

fn is_false(b: &bool) -> bool {
    !b
}

/// Kiali's `rateTcp`: which bytes a TCP edge's rate counts, named from the caller's side. Kiali's default is
/// what the caller sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum TcpRate {
    None,
    Received,
    #[default]
    Sent,
    Total,
}

impl TcpRate {
    /// The bytes/s these rates count of `bytes`; none when TCP is left out.
    fn of(self, bytes: TcpBytes) -> Option<f64> {
        match self {
            TcpRate::None => None,
            TcpRate::Sent => Some(bytes.sent),
            TcpRate::Received => Some(bytes.received),
            TcpRate::Total => Some(bytes.total()),
        }
    }
}

/// Kiali's `rateHttp` and `rateGrpc` as far as meshlens measures them: requests, or leave the protocol out.
/// (Kiali's gRPC message rates read `istio_request_messages_total`, which meshlens does not read.)
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum RequestRate {
    None,
    #[default]
    Requests,
}

/// The rates a Kiali graph shows, per protocol.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rates {
    pub tcp: TcpRate,
    pub http: RequestRate,
    pub grpc: RequestRate,
}

impl Rates {
    /// An edge's traffic in its protocol's unit as these rates count it; none when its protocol is left out.
    fn amount(self, e: &Edge) -> Option<f64> {
        let requests = |rate| (rate == RequestRate::Requests).then_some(e.rps);
        match e.protocol {
            Protocol::Http => requests(self.http),
            Protocol::Grpc => requests(self.grpc),
            Protocol::Tcp => self.tcp.of(e.tcp.unwrap_or_default()),
        }
    }
}

/// Kiali's graph of `graph`; edges whose protocol `rates` leave out, or that carry none of the chosen rate, are
/// not drawn (their nodes are). A service graph, as Kiali reduces it, keeps only the edges to Services and the
/// nodes they touch; a versioned-app graph boxes the versions of an app that has several.
pub fn render_kiali(graph: &Graph, at: i64, duration_s: u64, rates: Rates) -> KialiGraph {
    let service_graph = graph.graph_type == GraphType::Service;
    let node_types: HashMap<&str, NodeType> = graph.nodes.iter().map(|n| (n.id.as_str(), n.node_type)).collect();
    let shown: Vec<(&Edge, f64)> = graph
        .edges
        .iter()
        .filter(|e| !service_graph || node_types.get(e.target.as_str()) == Some(&NodeType::Service))
        .filter_map(|e| Some((e, rates.amount(e)?)))
        .filter(|(_, amount)| *amount > 0.0)
        .collect();
    let mut dest_services: HashMap<&str, BTreeSet<&str>> = HashMap::new();
    let mut touching: HashMap<&str, Vec<(&Edge, f64)>> = HashMap::new();
    // What each node sends per protocol: the denominator of its edges' PercentReq.
    let mut sent: HashMap<(&str, Protocol), f64> = HashMap::new();
    for &(e, amount) in &shown {
        dest_services.entry(e.target.as_str()).or_default().extend(e.services.iter().map(|s| &**s));
        touching.entry(e.target.as_str()).or_default().push((e, amount));
        if e.source != e.target {
            touching.entry(e.source.as_str()).or_default().push((e, amount));
        }
        *sent.entry((e.source.as_str(), e.protocol)).or_default() += amount;
    }
    let mut edges: Vec<Option<EdgeData>> = shown
        .iter()
        .enumerate()
        .map(|(i, &(e, amount))| {
            let total = sent.get(&(e.source.as_str(), e.protocol)).copied().unwrap_or_default();
            Some(edge_data(i, e, amount, total, rates))
        })
        .collect();
    fold_waypoint_returns(&shown, &mut edges);
    let edges: Vec<Element<EdgeData>> = edges.into_iter().flatten().map(|data| Element { data }).collect();
    // A root sends and is the target of no drawn edge (a waypoint's return leg is folded into the leg out).
    let targets: HashSet<&str> = edges.iter().map(|e| e.data.target.as_str()).collect();
    let boxes = app_boxes(graph);
    let mut nodes: Vec<Element<NodeData>> = graph
        .nodes
        .iter()
        .filter(|n| shows(n, service_graph, touching.contains_key(n.id.as_str())))
        .map(|n| {
            let id = n.id.as_str();
            let services = dest_services.get(id).cloned().unwrap_or_default();
            let edges = touching.get(id).map(Vec::as_slice).unwrap_or_default();
            let mut data = node_data(n, &services, edges, !targets.contains(id));
            data.is_injected = service_graph && n.node_type == NodeType::Service && n.name != UNKNOWN;
            data.parent = boxes.contains_key(&app_box_key(n)).then(|| app_box_id(app_box_key(n)));
            Element { data }
        })
        .collect();
    nodes.extend(boxes.into_iter().map(|(key, outside)| Element { data: app_box(key, outside) }));
    KialiGraph {
        timestamp: at,
        duration: duration_s,
        graph_type: graph.graph_type.kiali_name(),
        elements: Elements { nodes, edges },
    }
}

/// Moves each leg out of a waypoint back to a caller that has a leg into it (`B → A` beside `A → B`, same
/// protocol) into that leg's `fromEdge`, as Kiali draws a waypoint's two directions as one edge. Node traffic
/// still counts both.
fn fold_waypoint_returns(shown: &[(&Edge, f64)], data: &mut [Option<EdgeData>]) {
    let index: HashMap<(&str, &str, Protocol), usize> =
        shown.iter().enumerate().map(|(i, (e, _))| ((e.source.as_str(), e.target.as_str(), e.protocol), i)).collect();
    for (i, (e, _)) in shown.iter().enumerate() {
        if e.waypoint != Some(WaypointLeg::To) {
            continue;
        }
        let back = index.get(&(e.target.as_str(), e.source.as_str(), e.protocol)).copied();
        let Some(back) = back.filter(|&b| b != i) else { continue };
        let returned = data.get_mut(back).and_then(Option::take);
        if let Some(Some(to)) = data.get_mut(i)
            && let Some(w) = to.waypoint.as_mut()
        {
            w.from_edge = returned.map(Box::new);
        }
    }
}

/// Whether Kiali would draw `n`: a node with a drawn edge, an idle workload (Kiali's idle-node appender), and in a
/// service graph every Service. A node whose traffic the chosen rates all leave out is not drawn: Kiali never
/// queries that traffic.
fn shows(n: &Node, service_graph: bool, has_edge: bool) -> bool {
    has_edge || if service_graph { n.node_type == NodeType::Service } else { n.is_idle }
}

/// An app in a namespace: (cluster, namespace, app).
type AppKey<'g> = (&'g str, &'g str, &'g str);

fn app_box_key(n: &Node) -> AppKey<'_> {
    (&n.cluster, &n.namespace, n.app.as_deref().unwrap_or_default())
}

fn app_box_id((cluster, namespace, app): AppKey<'_>) -> String {
    format!("box:app:{cluster}:{namespace}:{app}")
}

/// The apps of a versioned-app graph drawn in a box (those with more than one version node), and whether all their
/// versions are outside the selected namespaces.
fn app_boxes(graph: &Graph) -> BTreeMap<AppKey<'_>, bool> {
    let mut versions: BTreeMap<AppKey<'_>, (usize, bool)> = BTreeMap::new();
    if graph.graph_type == GraphType::VersionedApp {
        for n in graph.nodes.iter().filter(|n| n.node_type == NodeType::App && n.version.is_some()) {
            let (count, outside) = versions.entry(app_box_key(n)).or_insert((0, true));
            *count += 1;
            *outside &= n.is_outside;
        }
    }
    versions.into_iter().filter(|(_, (count, _))| *count > 1).map(|(key, (_, outside))| (key, outside)).collect()
}

fn app_box(key: AppKey<'_>, outside: bool) -> NodeData {
    let (cluster, namespace, app) = key;
    NodeData {
        id: app_box_id(key),
        node_type: "box",
        cluster: Some(cluster.to_owned()),
        namespace: Some(namespace.to_owned()),
        app: Some(app.to_owned()),
        is_box: Some("app"),
        is_inaccessible: outside,
        is_outside: outside,
        ..NodeData::default()
    }
}

fn rate(value: f64) -> String {
    format!("{value:.2}")
}

fn percent(part: f64, whole: f64) -> String {
    format!("{:.1}", 100.0 * part / whole.max(f64::MIN_POSITIVE))
}

/// How Kiali classes a response: the rate it adds to besides the protocol's total, and whether it is an error.
fn class(protocol: Protocol, code: &str) -> (Option<&'static str>, bool) {
    let no_response = code == "-" || code == "0";
    match protocol {
        Protocol::Http if no_response => (Some("NoResponse"), true),
        Protocol::Http => match code.chars().next() {
            Some('3') => (Some("3xx"), false),
            Some('4') => (Some("4xx"), true),
            Some('5') => (Some("5xx"), true),
            _ => (None, false),
        },
        // gRPC answers 0 for OK; older telemetry gave HTTP codes (three digits) instead.
        Protocol::Grpc if code == "-" => (Some("NoResponse"), true),
        Protocol::Grpc if code.len() == 3 => {
            let error = code.starts_with('4') || code.starts_with('5');
            (error.then_some("Err"), error)
        }
        Protocol::Grpc => {
            let error = !code.is_empty() && code != "0";
            (error.then_some("Err"), error)
        }
        Protocol::Tcp => (None, false),
    }
}

/// One node's data; `edges` are those it sends or receives.
fn node_data(n: &Node, services: &BTreeSet<&str>, edges: &[(&Edge, f64)], is_root: bool) -> NodeData {
    let known = n.node_type != NodeType::Unknown;
    let text = |s: &str| Some(s.to_owned());
    let mut d = NodeData {
        id: n.id.clone(),
        node_type: match n.node_type {
            NodeType::Workload => "workload",
            NodeType::App => "app",
            NodeType::Service => "service",
            NodeType::Unknown => "unknown",
            NodeType::Namespace => "box",
        },
        cluster: text(if known { &n.cluster } else { "unknown" }),
        namespace: text(if known { &n.namespace } else { "unknown" }),
        traffic: node_traffic(&n.id, edges),
        is_idle: n.is_idle,
        is_dead: n.is_ghost,
        // Kiali cannot look into what it does not know: the unknown caller, the unknown destination.
        is_inaccessible: n.is_outside || !known || n.namespace == UNKNOWN,
        is_waypoint: n.is_waypoint,
        is_outside: n.is_outside,
        is_root: is_root && n.traffic.rps_out + n.traffic.tcp_out > 0.0 && n.node_type != NodeType::Service,
        has_traffic_shifting: !n.revisions.is_empty(),
        ..NodeData::default()
    };
    match n.node_type {
        NodeType::Unknown => {
            d.workload = text("unknown");
            d.app = text("unknown");
            d.version = text("unknown");
        }
        NodeType::Namespace => d.is_box = Some("namespace"),
        NodeType::Service => d.service = text(&n.name),
        NodeType::Workload => {
            d.workload = text(&n.name);
            // Kiali names a waypoint by its workload only.
            d.app = n.app.clone().filter(|_| !n.is_waypoint);
            d.version = n.version.clone();
        }
        NodeType::App => {
            d.app = text(&n.name);
            d.version = n.version.clone();
            if n.version.is_some() {
                let workload =
                    n.workloads.iter().next().map(|w| w.split_once('/').map_or(w.as_str(), |(_, name)| name));
                d.workload =
                    workload.or_else(|| n.telemetry_names.iter().next().map(String::as_str)).map(str::to_owned);
            }
        }
    }
    if known {
        d.dest_services = services
            .iter()
            .map(|s| s.split_once('.').unwrap_or((s, "")))
            .filter(|(name, _)| *name != UNKNOWN)
            .map(|(name, namespace)| DestService {
                cluster: n.cluster.clone(),
                namespace: namespace.to_owned(),
                name: name.to_owned(),
            })
            .collect();
    }
    d
}

/// Per-protocol `rates` of a node: what it receives (`httpIn`, `httpIn5xx`, ...) and sends (`httpOut`, ...).
fn node_traffic(id: &str, edges: &[(&Edge, f64)]) -> Vec<Traffic> {
    // Kiali lists protocols by name.
    let mut by_protocol: BTreeMap<&'static str, BTreeMap<String, f64>> = BTreeMap::new();
    for &(e, amount) in edges {
        let p = e.protocol.as_str();
        let rates = by_protocol.entry(p).or_default();
        if e.target == id {
            *rates.entry(format!("{p}In")).or_default() += amount;
            for (code, rps) in e.responses.by_code() {
                if let (Some(class), _) = class(e.protocol, code) {
                    *rates.entry(format!("{p}In{class}")).or_default() += rps;
                }
            }
        }
        if e.source == id {
            *rates.entry(format!("{p}Out")).or_default() += amount;
        }
    }
    by_protocol
        .into_iter()
        .map(|(p, rates)| Traffic {
            protocol: p,
            rates: rates.into_iter().filter(|(_, v)| *v > 0.0).map(|(k, v)| (k, rate(v))).collect(),
            responses: BTreeMap::new(),
        })
        .filter(|t| !t.rates.is_empty())
        .collect()
}

/// One edge carrying `amount`; `sent` is what its source sends over the edge's protocol.
fn edge_data(i: usize, e: &Edge, amount: f64, sent: f64, rates_shown: Rates) -> EdgeData {
    let p = e.protocol.as_str();
    let mut rates = BTreeMap::from([(p.to_owned(), rate(amount))]);
    let mut responses = BTreeMap::new();
    if e.protocol == Protocol::Tcp {
        responses.insert("-".to_owned(), tcp_responses(e, amount, rates_shown.tcp));
    } else {
        let mut classes: BTreeMap<&str, f64> = BTreeMap::new();
        let mut errors = 0.0;
        for (code, rps) in e.responses.by_code() {
            let (class, error) = class(e.protocol, code);
            if let Some(class) = class {
                *classes.entry(class).or_default() += rps;
            }
            if error {
                errors += rps;
            }
            let share = |(key, v): (&str, f64)| (key.to_owned(), percent(v, e.rps));
            let flags = e.responses.flags_of(code).into_iter().map(share).collect();
            let hosts =
                e.responses.hosts_of(code).into_iter().filter(|(host, _)| !host.is_empty()).map(share).collect();
            responses.insert(code.to_owned(), ResponseDetail { flags, hosts });
        }
        rates.extend(classes.into_iter().map(|(class, rps)| (format!("{p}{class}"), rate(rps))));
        if errors > 0.0 {
            rates.insert(format!("{p}PercentErr"), percent(errors, e.rps));
        }
        rates.insert(format!("{p}PercentReq"), percent(e.rps, sent));
    }
    EdgeData {
        id: format!("edge-{i}"),
        source: e.source.clone(),
        target: e.target.clone(),
        traffic: Traffic { protocol: p, rates, responses },
        response_time: e.p95_ms.map(|p95| format!("{p95:.2}")),
        waypoint: e.waypoint.map(|leg| WaypointData {
            direction: match leg {
                WaypointLeg::To => "to",
                WaypointLeg::From => "from",
            },
            from_edge: None,
        }),
    }
}

/// A TCP edge's only response (`-`): the share of `amount` by connection flags and by host.
fn tcp_responses(e: &Edge, amount: f64, rate: TcpRate) -> ResponseDetail {
    let (mut flags, mut hosts): (BTreeMap<&str, f64>, BTreeMap<&str, f64>) = Default::default();
    for (flow, bytes) in &e.tcp_flows.0 {
        let part = rate.of(*bytes).unwrap_or_default();
        *flags.entry(&flow.flags).or_default() += part;
        if !flow.host.is_empty() {
            *hosts.entry(&flow.host).or_default() += part;
        }
    }
    let shares = |m: BTreeMap<&str, f64>| m.into_iter().map(|(k, v)| (k.to_owned(), percent(v, amount))).collect();
    ResponseDetail { flags: shares(flags), hosts: shares(hosts) }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::graph::{GraphType, QueryStats, Reporter, Response, Responses};

    fn edge(source: &str, target: &str, protocol: Protocol, responses: &[(&str, &str, f64)]) -> Edge {
        let rps = responses.iter().map(|(_, _, rps)| rps).sum();
        Edge {
            source: source.into(),
            target: target.into(),
            protocol,
            rps,
            error_ratio: 0.0,
            share: None,
            p95_ms: None,
            tcp: None,
            tcp_flows: Default::default(),
            responses: Responses(
                responses
                    .iter()
                    .map(|(code, flags, rps)| {
                        let host = Arc::from("svc.ns.svc.cluster.local");
                        (Response { code: Arc::from(*code), flags: Arc::from(*flags), host }, *rps)
                    })
                    .collect(),
            ),
            services: BTreeSet::from([Arc::from("svc.ns")]),
            reported_by: BTreeSet::from([Reporter::Destination]),
            waypoint: None,
        }
    }

    fn workload_graph(nodes: &[&str], edges: Vec<Edge>) -> Graph {
        Graph {
            graph_type: GraphType::Workload,
            time: String::new(),
            duration: "10m".into(),
            namespaces: Vec::new(),
            nodes: nodes.iter().map(|id| Node::new(id, NodeType::Workload, "east", "ns", id)).collect(),
            edges,
            edge_latency: false,
            warnings: Vec::new(),
            telemetry: QueryStats::default(),
        }
    }

    #[test]
    fn rates_percentages_and_errors_follow_kiali() {
        let edges = vec![
            edge("a", "b", Protocol::Http, &[("200", "-", 20.0)]),
            edge("a", "c", Protocol::Http, &[("200", "-", 44.0), ("404", "-", 6.0), ("0", "DC", 4.0)]),
            edge("a", "d", Protocol::Grpc, &[("0", "-", 45.0), ("14", "-", 5.0)]),
        ];
        let graph = workload_graph(&["a", "b", "c", "d"], edges);
        let kiali = render_kiali(&graph, 0, 600, Rates::default());
        let rates = |i: usize| &kiali.elements.edges[i].data.traffic.rates;
        let get = |i: usize, k: &str| rates(i).get(k).map(String::as_str);
        // Shares within each protocol: a sends 74 req/s over HTTP and 50 over gRPC.
        assert_eq!(get(0, "httpPercentReq"), Some("27.0"));
        assert_eq!(get(1, "httpPercentReq"), Some("73.0"));
        assert_eq!(get(2, "grpcPercentReq"), Some("100.0"));
        // A 404 and no response (code 0) are errors to Kiali.
        assert_eq!(get(1, "http4xx"), Some("6.00"));
        assert_eq!(get(1, "httpNoResponse"), Some("4.00"));
        assert_eq!(get(1, "httpPercentErr"), Some("18.5"));
        assert_eq!(get(0, "httpPercentErr"), None);
        // gRPC status 14 (UNAVAILABLE) is an error whatever the HTTP code.
        assert_eq!(get(2, "grpcErr"), Some("5.00"));
        assert_eq!(get(2, "grpcPercentErr"), Some("10.0"));
        let responses = &kiali.elements.edges[1].data.traffic.responses;
        assert_eq!(responses["0"].flags["DC"], "7.4");
        // Hosts are what the caller called (Istio's destination_service), each code's share of the edge.
        assert_eq!(responses["200"].hosts["svc.ns.svc.cluster.local"], "81.5");
        let d = &kiali.elements.nodes[3].data;
        assert_eq!(d.traffic[0].rates["grpcInErr"], "5.00");
        let c = &kiali.elements.nodes[2].data;
        assert_eq!(c.traffic[0].rates["httpIn4xx"], "6.00");
        assert_eq!(c.traffic[0].rates["httpInNoResponse"], "4.00");
    }

    #[test]
    fn rate_parameters_choose_what_an_edge_counts() {
        let mut tcp = edge("a", "b", Protocol::Tcp, &[]);
        tcp.tcp = Some(crate::graph::TcpBytes { sent: 100.0, received: 300.0 });
        let http = edge("a", "c", Protocol::Http, &[("200", "-", 5.0)]);
        let graph = workload_graph(&["a", "b", "c"], vec![tcp, http]);
        let tcp_rate = |rates: Rates| {
            let kiali = render_kiali(&graph, 0, 600, rates);
            let edge = kiali.elements.edges.iter().find(|e| e.data.traffic.protocol == "tcp");
            edge.map(|e| e.data.traffic.rates["tcp"].clone())
        };
        // Kiali's default counts what the caller sent.
        assert_eq!(tcp_rate(Rates::default()).as_deref(), Some("100.00"));
        assert_eq!(tcp_rate(Rates { tcp: TcpRate::Received, ..Rates::default() }).as_deref(), Some("300.00"));
        assert_eq!(tcp_rate(Rates { tcp: TcpRate::Total, ..Rates::default() }).as_deref(), Some("400.00"));
        assert_eq!(tcp_rate(Rates { tcp: TcpRate::None, ..Rates::default() }), None);
        let no_http = render_kiali(&graph, 0, 600, Rates { http: RequestRate::None, ..Rates::default() });
        assert!(no_http.elements.edges.iter().all(|e| e.data.traffic.protocol != "http"));
        let drawn: Vec<&str> = no_http.elements.nodes.iter().map(|n| n.data.id.as_str()).collect();
        assert_eq!(drawn, ["a", "b"], "c has HTTP traffic only, which Kiali would not have queried");
        let a = &render_kiali(&graph, 0, 600, Rates::default()).elements.nodes[0].data;
        assert_eq!(a.traffic.iter().find(|t| t.protocol == "tcp").map(|t| t.rates["tcpOut"].as_str()), Some("100.00"));
    }
}
