//! An edge of the graph and what it carries: requests by kind of answer, TCP bytes by direction and flow, and
//! which proxies reported it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::Serialize;

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

/// Whether a request counts as failed: HTTP 5xx or no response (`0`); gRPC with a non-OK status.
pub fn is_error(protocol: &str, code: &str, grpc_status: &str) -> bool {
    if protocol == "grpc" && !grpc_status.is_empty() {
        return grpc_status != "0";
    }
    code.starts_with('5') || code == "0"
}
