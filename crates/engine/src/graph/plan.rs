//! The queries a graph needs, and only those: a constant number whatever the number of namespaces (namespaces are
//! a regex alternation, not one query each), grouped by the labels the chosen graph type uses, with per-pod series
//! fetched only for workloads that have revisions.

use std::collections::BTreeSet;

use crate::identity::IdentityIndex;
use meshlens_telemetry::istio::metric::{DURATION_BUCKETS, REQUESTS, TCP_RECEIVED, TCP_SENT};
use meshlens_telemetry::istio::{label, scrape};
use meshlens_telemetry::{Aggregation, Matcher, QuerySpec};

use super::{Focus, GraphRequest, GraphType, Reporter};

/// The latency quantile edges and revisions report.
pub const QUANTILE: f64 = 0.95;

/// The queries of one graph.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Requests by reporter, edge and response code.
    pub requests: QuerySpec,
    pub tcp_sent: QuerySpec,
    pub tcp_received: QuerySpec,
    /// p95 per edge, from the destination-side histogram, when asked for.
    pub latency: Option<QuerySpec>,
    /// Destination-reported requests per pod of workloads with revisions.
    pub revision_requests: Option<QuerySpec>,
    /// Destination-reported duration buckets per pod of workloads with revisions (quantiles are computed after
    /// pods are grouped into revisions).
    pub revision_latency: Option<QuerySpec>,
}

/// The parts of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Requests,
    TcpSent,
    TcpReceived,
    Latency,
    RevisionRequests,
    RevisionLatency,
}

impl Part {
    pub fn name(self) -> &'static str {
        match self {
            Part::Requests => "requests",
            Part::TcpSent => "tcp sent bytes",
            Part::TcpReceived => "tcp received bytes",
            Part::Latency => "latency",
            Part::RevisionRequests => "revision requests",
            Part::RevisionLatency => "revision latency",
        }
    }
}

impl Plan {
    /// Every query with its part.
    pub fn specs(&self) -> Vec<(Part, &QuerySpec)> {
        let mut out = vec![
            (Part::Requests, &self.requests),
            (Part::TcpSent, &self.tcp_sent),
            (Part::TcpReceived, &self.tcp_received),
        ];
        let optional = [
            (Part::Latency, &self.latency),
            (Part::RevisionRequests, &self.revision_requests),
            (Part::RevisionLatency, &self.revision_latency),
        ];
        out.extend(optional.into_iter().filter_map(|(part, spec)| Some((part, spec.as_ref()?))));
        out
    }

    /// The queries to run: every part's; with `split`, those grouped by reporter as one query per reporter (a
    /// server evaluates a query on one core; the parts of the largest then run on several).
    pub fn queries(&self, split: bool) -> Vec<(Part, QuerySpec)> {
        let parts = |spec: &QuerySpec| if split { spec.shards(label::REPORTER) } else { vec![spec.clone()] };
        (self.specs().into_iter()).flat_map(|(part, spec)| parts(spec).into_iter().map(move |q| (part, q))).collect()
    }
}

fn strings(labels: &[&str]) -> Vec<String> {
    labels.iter().map(|l| l.to_string()).collect()
}

/// Endpoint labels each graph type needs, on both sides of an edge.
fn endpoint_labels() -> Vec<String> {
    let mut labels = strings(&[
        label::SOURCE_CLUSTER,
        label::SOURCE_WORKLOAD_NAMESPACE,
        label::SOURCE_WORKLOAD,
        label::DESTINATION_CLUSTER,
        label::DESTINATION_SERVICE_NAMESPACE,
        label::DESTINATION_SERVICE_NAME,
        label::DESTINATION_SERVICE,
        label::DESTINATION_WORKLOAD_NAMESPACE,
        label::DESTINATION_WORKLOAD,
    ]);
    // Every graph type reads the canonical labels: app graphs are made of them, and a workload node without an
    // object (not loaded, or a ghost) takes its app and version from them, as Kiali's does.
    labels.extend(strings(&[
        label::SOURCE_CANONICAL_SERVICE,
        label::DESTINATION_CANONICAL_SERVICE,
        label::SOURCE_CANONICAL_REVISION,
        label::DESTINATION_CANONICAL_REVISION,
    ]));
    labels
}

/// `bases` (alternatives) restricted to the series a graph draws: those touching its focus, or the selected
/// namespaces (either side), or everything.
fn scope(req: &GraphRequest, index: &IdentityIndex, bases: &[Vec<Matcher>]) -> Vec<Vec<Matcher>> {
    let sides = match (&req.focus, &req.namespaces) {
        (Some(focus), _) => focus_sides(focus, index),
        (None, Some(namespaces)) => {
            let list: Vec<&String> = namespaces.iter().collect();
            [label::SOURCE_WORKLOAD_NAMESPACE, label::DESTINATION_WORKLOAD_NAMESPACE]
                .map(|label| vec![Matcher::one_of(label, &list)])
                .into()
        }
        (None, None) => return bases.to_vec(),
    };
    let mut out = Vec::new();
    for base in bases {
        for side in &sides {
            out.push(base.iter().chain(side).cloned().collect());
        }
    }
    out
}

/// The series of a node graph: calls from or to the focus (by every name telemetry gives a workload), or calls
/// addressed to the focus Service.
fn focus_sides(focus: &Focus, index: &IdentityIndex) -> Vec<Vec<Matcher>> {
    let ends = |label: &str, value: &[&str]| {
        ["source", "destination"]
            .map(|side| {
                vec![
                    Matcher::eq(&format!("{side}_workload_namespace"), focus.namespace()),
                    Matcher::one_of(&format!("{side}_{label}"), value),
                ]
            })
            .into()
    };
    match focus {
        Focus::Workload { namespace, name } => {
            let mut names: BTreeSet<&str> =
                index.named(namespace, name).flat_map(|w| w.telemetry_names.iter().map(String::as_str)).collect();
            names.insert(name);
            ends("workload", &names.into_iter().collect::<Vec<_>>())
        }
        Focus::App { name, version, .. } => {
            let mut sides: Vec<Vec<Matcher>> = ends("canonical_service", &[name.as_str()]);
            if let Some(version) = version {
                for (side, matchers) in ["source", "destination"].iter().zip(&mut sides) {
                    matchers.push(Matcher::eq(&format!("{side}_canonical_revision"), version));
                }
            }
            sides
        }
        Focus::Service { namespace, name } => vec![vec![
            Matcher::eq(label::DESTINATION_SERVICE_NAMESPACE, namespace),
            Matcher::eq(label::DESTINATION_SERVICE_NAME, name),
        ]],
    }
}

/// Where edges are measured: by every proxy that reports them (the caller's, the callee's, a waypoint), so an
/// edge seen by one side only is still drawn; the graph counts each series once.
fn edge_reporters() -> Vec<Vec<Matcher>> {
    let reporters: Vec<&str> =
        [Reporter::Source, Reporter::Destination, Reporter::Waypoint].map(Reporter::as_label).into();
    vec![vec![Matcher::one_of(label::REPORTER, &reporters)]]
}

/// Plans the queries for `req` over the workloads of `index`.
pub fn plan(req: &GraphRequest, index: &IdentityIndex) -> Plan {
    let endpoints = endpoint_labels();
    let edges = edge_reporters();
    let spec = |metric: &str, selectors: Vec<Vec<Matcher>>, group_by: Vec<String>, aggregation| QuerySpec {
        metric: metric.into(),
        selectors,
        group_by,
        range_s: req.duration_s,
        at: req.at,
        aggregation,
    };
    let mut request_labels = strings(&[
        label::REPORTER,
        label::REQUEST_PROTOCOL,
        label::RESPONSE_CODE,
        label::GRPC_RESPONSE_STATUS,
        label::RESPONSE_FLAGS,
    ]);
    request_labels.extend(endpoints.iter().cloned());
    // `app` is the scraped pod's: ztunnel's reports carry `app="ztunnel"` (Kiali's `ambientTraffic` tells them apart).
    let mut tcp_labels = strings(&[label::REPORTER, "app"]);
    tcp_labels.extend(endpoints.iter().cloned());
    // An edge is drawn from what was counted in the window: rows of nothing are left on the server. A service
    // graph reads them all: it learns from every series, quiet ones too, which Services front a workload.
    let edge_sum = match req.graph_type {
        GraphType::Service => Aggregation::SumRate,
        GraphType::Workload | GraphType::App | GraphType::VersionedApp => Aggregation::SumRateAboveZero,
    };
    let requests = spec(REQUESTS, scope(req, index, &edges), request_labels, edge_sum);
    let tcp_sent = spec(TCP_SENT, scope(req, index, &edges), tcp_labels.clone(), edge_sum);
    let tcp_received = spec(TCP_RECEIVED, scope(req, index, &edges), tcp_labels, edge_sum);
    let destination = [vec![Matcher::eq(label::REPORTER, "destination")]];
    let latency = req
        .edge_latency
        .then(|| spec(DURATION_BUCKETS, scope(req, index, &destination), endpoints, Aggregation::Quantile(QUANTILE)));

    let (revision_requests, revision_latency) = match revisioned_names(req, index) {
        None => (None, None),
        Some((namespaces, names)) => {
            // The callee's sidecar, or in ambient mode the waypoint in front of it.
            let selector = vec![vec![
                Matcher::one_of(label::REPORTER, &[Reporter::Destination.as_label(), Reporter::Waypoint.as_label()]),
                Matcher::one_of(label::DESTINATION_WORKLOAD_NAMESPACE, &namespaces.iter().collect::<Vec<_>>()),
                Matcher::one_of(label::DESTINATION_WORKLOAD, &names.iter().collect::<Vec<_>>()),
            ]];
            let labels = &req.scrape_labels;
            let per_pod = strings(&[
                label::REPORTER,
                label::DESTINATION_WORKLOAD_NAMESPACE,
                label::DESTINATION_WORKLOAD,
                &labels.pod,
                &labels.namespace,
                scrape::ROLLOUT_HASH,
                scrape::DEPLOYMENT_HASH,
                label::DESTINATION_CANONICAL_REVISION,
                label::DESTINATION_SERVICE_NAME,
            ]);
            let mut by_source = per_pod.clone();
            by_source.extend(strings(&[
                label::SOURCE_CLUSTER,
                label::SOURCE_WORKLOAD_NAMESPACE,
                label::SOURCE_WORKLOAD,
                label::SOURCE_CANONICAL_SERVICE,
                label::SOURCE_CANONICAL_REVISION,
                label::REQUEST_PROTOCOL,
                label::RESPONSE_CODE,
                label::GRPC_RESPONSE_STATUS,
            ]));
            let mut with_le = strings(&["le"]);
            with_le.extend(per_pod);
            (
                Some(spec(REQUESTS, selector.clone(), by_source, Aggregation::SumRate)),
                Some(spec(DURATION_BUCKETS, selector, with_le, Aggregation::SumRate)),
            )
        }
    };
    Plan { requests, tcp_sent, tcp_received, latency, revision_requests, revision_latency }
}

/// Namespaces and telemetry names of the workloads with revisions (Rollouts, Flagger pairs) in scope.
fn revisioned_names(req: &GraphRequest, index: &IdentityIndex) -> Option<(BTreeSet<String>, BTreeSet<String>)> {
    let mut namespaces = BTreeSet::new();
    let mut names = BTreeSet::new();
    for w in index.workloads().iter().filter(|w| w.has_revisions() && req.selects(&w.id.namespace)) {
        namespaces.insert(w.id.namespace.clone());
        names.extend(w.telemetry_names.iter().cloned());
    }
    (!names.is_empty()).then_some((namespaces, names))
}
