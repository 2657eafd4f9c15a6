//! Query parameters turned into validated requests: every value is checked here (namespaces are Kubernetes names,
//! durations and times parse) before anything reaches a query, and a bad one names itself in the 400.
#![deny(clippy::arithmetic_side_effects)]

use std::collections::BTreeSet;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use clap::ValueEnum;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::graph::render::kiali::Rates;
use crate::graph::{Ambient, Focus, GraphRequest, GraphType};
use crate::k8s::is_namespace_name;
use crate::time::{parse_time, parse_window};

use super::error::ApiError;
use super::state::AppState;
use super::world::World;

/// The parameters of a query string. A parameter given twice is refused rather than one of its values picked
/// silently (a proxy and meshlens could otherwise each read a different one); names meshlens does not know are
/// ignored, as Kiali's clients send many.
pub fn parse<T: DeserializeOwned>(query: Option<&str>) -> Result<T, ApiError> {
    let query = query.unwrap_or_default();
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query).map_err(|e| ApiError::bad("query", format!("not a query string: {e}")))?;
    let mut seen = BTreeSet::new();
    for (name, _) in &pairs {
        if !seen.insert(name.as_str()) {
            return Err(ApiError::bad(name.clone(), "given more than once"));
        }
    }
    serde_urlencoded::from_str(query).map_err(|e| ApiError::bad("query", e.to_string()))
}

/// The `{namespace}/{name}` of an object's URL. A segment that does not decode to text is a 400 naming the path,
/// in JSON like every other API error.
pub struct ObjectPath {
    pub namespace: String,
    pub name: String,
}

impl<S: Send + Sync> FromRequestParts<S> for ObjectPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<ObjectPath, ApiError> {
        let Path((namespace, name)) = Path::<(String, String)>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad("path", e.body_text()))?;
        Ok(ObjectPath { namespace, name })
    }
}

/// `/api/graph` and the graph page.
#[derive(Debug, Default, Deserialize)]
pub struct GraphParams {
    /// Comma-separated; empty or absent means every namespace.
    pub namespaces: Option<String>,
    #[serde(rename = "type")]
    pub graph_type: Option<String>,
    pub duration: Option<String>,
    pub at: Option<String>,
    /// `true` for p95 on every edge.
    pub latency: Option<String>,
    /// `workload/NS/NAME`, `app/NS/NAME[/VERSION]` or `service/NS/NAME`: that node and its neighbours only.
    pub focus: Option<String>,
}

impl GraphParams {
    /// The node graph asked for, if any: a `focus` that names no node graph is refused.
    pub fn focus(&self) -> Result<Option<Focus>, ApiError> {
        match self.focus.as_deref().filter(|f| !f.is_empty()) {
            Some(text) => Ok(Some(text.parse().map_err(|e| ApiError::bad("focus", e))?)),
            None => Ok(None),
        }
    }
}

/// What the graph page's search box sends.
#[derive(Debug, Default, Deserialize)]
pub struct FindParams {
    pub q: Option<String>,
}

/// Kiali's names for the same parameters (`graphType=versionedApp`, `duration=600s`, `queryTime=unix seconds`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KialiGraphParams {
    pub namespaces: Option<String>,
    pub graph_type: Option<String>,
    pub duration: Option<String>,
    pub query_time: Option<String>,
    /// Kiali runs every appender when none are named; response time (p95 on edges) is one of them.
    pub appenders: Option<String>,
    pub rate_tcp: Option<String>,
    pub rate_http: Option<String>,
    pub rate_grpc: Option<String>,
    pub ambient_traffic: Option<String>,
    pub waypoints: Option<String>,
}

/// A parameter from a closed set, by its command-line name; absent: the default.
fn choice<T: ValueEnum + Default>(value: Option<&str>, name: &'static str) -> Result<T, ApiError> {
    let Some(value) = value else { return Ok(T::default()) };
    T::from_str(value, false).map_err(|_| {
        let known: Vec<String> =
            T::value_variants().iter().filter_map(|v| Some(v.to_possible_value()?.get_name().to_owned())).collect();
        ApiError::bad(name, format!("{value:?} is not one of {}", known.join(", ")))
    })
}

impl KialiGraphParams {
    /// `ambientTraffic` (`none|total|waypoint|ztunnel`, default `total`) and `waypoints` (default `true`).
    pub fn ambient(&self) -> Result<Ambient, ApiError> {
        let waypoints = match self.waypoints.as_deref() {
            None | Some("true") => true,
            Some("false") => false,
            Some(other) => return Err(ApiError::bad("waypoints", format!("{other:?} is not true or false"))),
        };
        Ok(Ambient { traffic: choice(self.ambient_traffic.as_deref(), "ambientTraffic")?, waypoints })
    }

    /// `rateTcp`, `rateHttp` and `rateGrpc`, Kiali's defaults where absent. gRPC message rates are refused by name:
    /// they read metrics meshlens does not.
    pub fn rates(&self) -> Result<Rates, ApiError> {
        if let Some(messages @ ("sent" | "received" | "total")) = self.rate_grpc.as_deref() {
            let message = format!(
                "gRPC message rates ({messages}) read istio_request_messages_total / istio_response_messages_total, which meshlens does not read; use requests or none"
            );
            return Err(ApiError::bad("rateGrpc", message));
        }
        Ok(Rates {
            tcp: choice(self.rate_tcp.as_deref(), "rateTcp")?,
            http: choice(self.rate_http.as_deref(), "rateHttp")?,
            grpc: choice(self.rate_grpc.as_deref(), "rateGrpc")?,
        })
    }
}

/// The window of single-object views.
#[derive(Debug, Default, Deserialize)]
pub struct WindowParams {
    pub duration: Option<String>,
    pub at: Option<String>,
}

/// What a graph request is made of, before validation.
pub struct RawGraph<'a> {
    pub namespaces: Option<&'a str>,
    pub graph_type: Option<&'a str>,
    pub duration: Option<&'a str>,
    pub at: Option<&'a str>,
    pub latency: Option<&'a str>,
    /// The parameter names to blame, which differ between our API and Kiali's.
    pub names: [&'static str; 5],
}

impl GraphParams {
    pub fn raw(&self) -> RawGraph<'_> {
        RawGraph {
            namespaces: self.namespaces.as_deref(),
            graph_type: self.graph_type.as_deref(),
            duration: self.duration.as_deref(),
            at: self.at.as_deref(),
            latency: self.latency.as_deref(),
            names: ["namespaces", "type", "duration", "at", "latency"],
        }
    }
}

impl KialiGraphParams {
    pub fn raw(&self) -> RawGraph<'_> {
        RawGraph {
            namespaces: self.namespaces.as_deref(),
            graph_type: self.graph_type.as_deref(),
            duration: self.duration.as_deref(),
            at: self.query_time.as_deref(),
            latency: Some(
                if self.appenders.as_deref().is_none_or(|a| a.split(',').any(|a| a.trim() == "responseTime")) {
                    "true"
                } else {
                    "false"
                },
            ),
            names: ["namespaces", "graphType", "duration", "queryTime", "appenders"],
        }
    }
}

/// A validated graph request.
pub fn graph_request(state: &AppState, world: &World, raw: &RawGraph<'_>) -> Result<GraphRequest, ApiError> {
    let [ns_name, type_name, duration_name, at_name, latency_name] = raw.names;
    let namespaces = namespaces(world, raw.namespaces, ns_name)?;
    let graph_type = match raw.graph_type.filter(|t| !t.is_empty()) {
        None => GraphType::Workload,
        Some(t) => GraphType::from_kiali_name(t).ok_or_else(|| {
            ApiError::bad(type_name, format!("{t:?} is not one of workload, app, versionedApp, service"))
        })?,
    };
    let duration_s = duration(state, raw.duration, duration_name)?;
    let at = at(state, raw.at, at_name)?;
    let edge_latency = match raw.latency.filter(|l| !l.is_empty()) {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => return Err(ApiError::bad(latency_name, format!("{other:?} is not true or false"))),
    };
    Ok(GraphRequest::new(at, duration_s, state.scrape_labels().clone())
        .with_type(graph_type)
        .with_namespaces(namespaces)
        .with_edge_latency(edge_latency))
}

/// A validated graph request, centred on `focus` when there is one: a node graph reads its focus' namespace,
/// whatever `namespaces` says.
pub fn focused_request(
    state: &AppState,
    world: &World,
    raw: RawGraph<'_>,
    focus: Option<Focus>,
) -> Result<GraphRequest, ApiError> {
    let raw = match &focus {
        Some(f) => RawGraph { namespaces: Some(f.namespace()), ..raw },
        None => raw,
    };
    let req = graph_request(state, world, &raw)?;
    Ok(req.with_focus(focus))
}

/// `a,b` checked as Kubernetes namespace names that exist in the world.
pub fn namespaces(world: &World, text: Option<&str>, name: &'static str) -> Result<Option<BTreeSet<String>>, ApiError> {
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else { return Ok(None) };
    let mut selected = BTreeSet::new();
    for ns in text.split(',').map(str::trim) {
        if ns.is_empty() {
            return Err(ApiError::bad(name, format!("{text:?} has an empty namespace name")));
        }
        if !is_namespace_name(ns) {
            return Err(ApiError::bad(name, format!("{ns:?} is not a Kubernetes namespace name")));
        }
        if !world.index.namespaces().contains(ns) {
            return Err(ApiError::bad(name, format!("namespace {ns:?} has no objects")));
        }
        selected.insert(ns.to_owned());
    }
    Ok(Some(selected))
}

/// A window length: `10m`, `600s`, `1h`; at most 30 days. Absent: the server's default.
pub fn duration(state: &AppState, text: Option<&str>, name: &'static str) -> Result<u64, ApiError> {
    let Some(text) = text.filter(|t| !t.is_empty()) else { return Ok(state.default_duration_s()) };
    parse_window(text).map_err(|e| ApiError::bad(name, e.to_string()))
}

/// An evaluation time (RFC 3339 or unix seconds); absent means now, on a live source rounded down to the
/// page's refresh step, so the requests of one step ask for (and share) one graph.
pub fn at(state: &AppState, text: Option<&str>, name: &'static str) -> Result<i64, ApiError> {
    match text.filter(|t| !t.is_empty()) {
        None => Ok(state.request_time()),
        Some(t) => parse_time(t).map(|t| t.as_second()).map_err(|e| ApiError::bad(name, e.to_string())),
    }
}
