//! What graph to build: its type, namespaces and window, the one node a node graph centres on, and how ambient
//! mode is shown.

use std::collections::BTreeSet;

use serde::Serialize;

use super::{Node, NodeType, Reporter};

/// How nodes are drawn: per workload (default), per app, per app version, or per service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, clap::ValueEnum)]
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
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ScrapeLabels {
    pub pod: String,
    pub namespace: String,
}

impl Default for ScrapeLabels {
    fn default() -> Self {
        ScrapeLabels { pod: "pod".into(), namespace: "namespace".into() }
    }
}

/// What graph to build. Made by [`GraphRequest::new`] and narrowed by its `with_` methods, by every caller (CLI,
/// API, pages, `/metrics`, history), so a field added here has one default and one place to set it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, clap::ValueEnum)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
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
        let valid_namespace = parts.get(1).is_some_and(|ns| meshlens_k8s::is_namespace_name(ns));
        if !valid_namespace || parts.iter().skip(2).any(|p| !meshlens_k8s::is_name(p)) {
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
    /// A workload graph of every namespace over the `duration_s` seconds up to `at` (unix seconds), its pods told
    /// apart by `scrape_labels`; without edge latency, focus or ambient choices.
    pub fn new(at: i64, duration_s: u64, scrape_labels: ScrapeLabels) -> GraphRequest {
        GraphRequest {
            graph_type: GraphType::Workload,
            namespaces: None,
            duration_s,
            at,
            scrape_labels,
            edge_latency: false,
            focus: None,
            ambient: Ambient::default(),
        }
    }

    pub fn with_type(self, graph_type: GraphType) -> GraphRequest {
        GraphRequest { graph_type, ..self }
    }

    /// Only these namespaces (`None`: every one).
    pub fn with_namespaces(self, namespaces: Option<BTreeSet<String>>) -> GraphRequest {
        GraphRequest { namespaces, ..self }
    }

    /// The window's length, its end unchanged.
    pub fn with_duration(self, duration_s: u64) -> GraphRequest {
        GraphRequest { duration_s, ..self }
    }

    pub fn with_edge_latency(self, edge_latency: bool) -> GraphRequest {
        GraphRequest { edge_latency, ..self }
    }

    pub fn with_focus(self, focus: Option<Focus>) -> GraphRequest {
        GraphRequest { focus, ..self }
    }

    pub fn with_ambient(self, ambient: Ambient) -> GraphRequest {
        GraphRequest { ambient, ..self }
    }

    pub fn selects(&self, namespace: &str) -> bool {
        self.namespaces.as_ref().is_none_or(|n| n.contains(namespace))
    }
}
