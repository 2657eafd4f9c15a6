//! The web pages: the graph (SVG laid out here, a namespace overview when the mesh is large), one page per
//! workload with every ReplicaSet and pod and, for a Rollout, its split; the workloads list; the Rollouts overview.
//! Values are formatted here so the templates stay plain.

use std::sync::Arc;

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::{Html, Redirect};

use crate::doctor::{DEFAULT_THRESHOLD, Finding, Severity, diagnose, examine};
use crate::graph::render::chart::split_chart;
use crate::graph::render::svg::{edge_label, render_svg};
use crate::graph::render::{label_of, whole_percent};
use crate::graph::{Edge, GraphType, Revision, overview};
use crate::identity::Workload;
use crate::k8s::Kind;
use crate::rollout::rollout_info;
use crate::time::format_duration;
use crate::views::traffic::Measured;

use super::api::{build_graph, find_workload, history, measured};
use super::error::{ApiError, PageError};
use super::params::{FindParams, GraphParams, ObjectPath, WindowParams, focused_request, parse};
use super::state::AppState;

/// Namespace links drawn in the overview of a large mesh: the busiest ones.
const OVERVIEW_EDGES: usize = 120;

/// Window lengths offered by the selectors (any other is accepted in the URL).
const DURATIONS: [&str; 8] = ["1m", "5m", "10m", "30m", "1h", "3h", "6h", "1d"];

type PageResult = Result<Html<String>, PageError>;

fn html(page: &impl Template) -> PageResult {
    page.render().map(Html).map_err(|e| PageError(ApiError::Internal(format!("rendering the page failed: {e}"))))
}

#[derive(Template)]
#[template(path = "graph.html")]
struct GraphPage {
    namespaces: Vec<String>,
    selected: String,
    /// (value, selected) of each selector option.
    graph_types: Vec<(&'static str, bool)>,
    durations: Vec<(String, bool)>,
    duration: String,
    at: String,
    time: String,
    svg: String,
    /// What the search box offers: namespaces, then `namespace/workload`.
    findable: Vec<String>,
    /// The node graph's centre, as `--focus` names it.
    focus: Option<String>,
    overview: bool,
    /// Namespace links left out of the overview (the quietest).
    hidden_edges: usize,
    nodes: usize,
    edges: usize,
    warnings: Vec<String>,
    findings: Vec<FindingRow>,
}

/// A doctor finding as pages show it, linked to the workload it is about when there is one.
struct FindingRow {
    severity: &'static str,
    code: &'static str,
    summary: String,
    advice: String,
    url: Option<String>,
}

impl FindingRow {
    fn new(f: &Finding, world: &super::world::World) -> FindingRow {
        let workload = f.objects.iter().find(|o| world.index.named(&o.namespace, &o.name).next().is_some());
        FindingRow {
            severity: f.severity.as_str(),
            code: f.code.as_str(),
            summary: f.summary.clone(),
            advice: f.advice.clone(),
            url: workload.map(|o| format!("/workloads/{}/{}", o.namespace, o.name)),
        }
    }
}

pub async fn graph(State(state): State<AppState>, RawQuery(query): RawQuery) -> PageResult {
    let world = state.world();
    let p: GraphParams = parse(query.as_deref())?;
    let req = focused_request(&state, &world, p.raw(), p.focus()?)?;
    let graph = build_graph(&state, &world, &req).await?;
    let report = match req.graph_type {
        GraphType::Workload => {
            examine(state.telemetry(), &world.index, &world.inventory, &req, &graph, DEFAULT_THRESHOLD).await
        }
        _ => diagnose(state.telemetry(), &world.index, &world.inventory, &req, DEFAULT_THRESHOLD)
            .await
            .map_err(|e| ApiError::Telemetry(e.to_string()))?,
    };
    let findings =
        report.findings.iter().filter(|f| f.severity != Severity::Info).map(|f| FindingRow::new(f, &world)).collect();
    // A large mesh starts as one box per namespace; each box drills down into its namespace.
    let overview = req.namespaces.is_none() && overview::too_big(&graph);
    let findable = (world.index.namespaces().iter().cloned())
        .chain(world.index.workloads().iter().map(|w| format!("{}/{}", w.id.namespace, w.id.name)))
        .collect();
    let mut shown = if overview { overview::namespace_view(&graph) } else { Arc::unwrap_or_clone(graph) };
    let hidden_edges = if overview { overview::keep_busiest_edges(&mut shown, OVERVIEW_EDGES) } else { 0 };
    html(&GraphPage {
        namespaces: world.index.namespaces().iter().cloned().collect(),
        selected: p.namespaces.clone().unwrap_or_default(),
        graph_types: ["workload", "app", "versionedApp", "service"]
            .into_iter()
            .map(|t| (t, t == req.graph_type.kiali_name()))
            .collect(),
        durations: duration_options(req.duration_s),
        duration: format_duration(req.duration_s),
        at: p.at.clone().unwrap_or_default(),
        time: shown.time.clone(),
        svg: render_svg(&shown),
        findable,
        focus: p.focus.clone().filter(|f| !f.is_empty()),
        overview,
        hidden_edges,
        nodes: shown.nodes.len(),
        edges: shown.edges.len(),
        warnings: shown.warnings.clone(),
        findings,
    })
}

/// The graph page's search box: a namespace opens its graph; a workload (`NS/NAME`, or a name one namespace
/// alone has) the graph of it and its neighbours.
pub async fn find(State(state): State<AppState>, RawQuery(query): RawQuery) -> Result<Redirect, PageError> {
    let p: FindParams = parse(query.as_deref())?;
    let q = p.q.as_deref().unwrap_or_default().trim();
    let world = state.world();
    let to = |key: &str, value: &str| {
        let query = serde_urlencoded::to_string([(key, value)]).unwrap_or_default();
        Ok(Redirect::to(&format!("/graph?{query}")))
    };
    if world.index.namespaces().contains(q) {
        return to("namespaces", q);
    }
    let found: Vec<&Workload> = match q.split_once('/') {
        Some((namespace, name)) => world.index.named(namespace, name).collect(),
        None => world.index.workloads().iter().filter(|w| w.id.name == q).collect(),
    };
    match found.as_slice() {
        [w] => to("focus", &format!("workload/{}/{}", w.id.namespace, w.id.name)),
        [] => Err(PageError(ApiError::NotFound(format!("no namespace or workload named {q:?}")))),
        several => {
            let places: Vec<String> = several.iter().map(|w| format!("{}/{}", w.id.namespace, w.id.name)).collect();
            Err(PageError(ApiError::bad("q", format!("{q:?} names several workloads: {}", places.join(", ")))))
        }
    }
}

/// One row of the workloads list.
struct WorkloadRow {
    namespace: String,
    name: String,
    kind: String,
    url: String,
    replica_sets: usize,
    pods: String,
    telemetry_names: String,
}

#[derive(Template)]
#[template(path = "workloads.html")]
struct WorkloadsPage {
    rows: Vec<WorkloadRow>,
}

pub async fn workloads(State(state): State<AppState>) -> PageResult {
    let world = state.world();
    let rows = world
        .index
        .workloads()
        .iter()
        .map(|w| WorkloadRow {
            namespace: w.id.namespace.clone(),
            name: w.id.name.clone(),
            kind: w.id.kind.to_string(),
            url: workload_url(w),
            replica_sets: w.replica_sets.len(),
            pods: format!("{}/{}", w.ready_pods(), w.pods.len()),
            telemetry_names: w.telemetry_names.iter().cloned().collect::<Vec<_>>().join(", "),
        })
        .collect();
    html(&WorkloadsPage { rows })
}

fn workload_url(w: &Workload) -> String {
    format!("/workloads/{}/{}", w.id.namespace, w.id.name)
}

/// One revision's split, ready to draw.
struct SplitRow {
    replica_set: String,
    role: String,
    observed: String,
    intended: String,
    routed: String,
    /// Bar widths in percent.
    observed_pct: f64,
    intended_pct: f64,
    rps: String,
    errors: String,
    p95: String,
    pods: String,
}

impl SplitRow {
    fn new(r: &Revision) -> SplitRow {
        SplitRow {
            replica_set: r.replica_set.clone(),
            role: r.role.as_str().to_owned(),
            observed: whole_percent(r.observed_share),
            intended: whole_percent(r.intended_weight),
            routed: whole_percent(r.routed_weight),
            observed_pct: r.observed_share.unwrap_or(0.0).clamp(0.0, 1.0) * 100.0,
            intended_pct: r.intended_weight.unwrap_or(0.0).clamp(0.0, 1.0) * 100.0,
            rps: format!("{:.2}", r.rps),
            errors: r.error_ratio.map_or_else(|| "–".into(), |e| format!("{:.1}%", e * 100.0)),
            p95: r.p95_ms.map_or_else(|| "–".into(), |p| format!("{p:.0} ms")),
            pods: format!("{}/{}", r.ready_pods, r.pods),
        }
    }
}

/// One edge in or out of a workload.
struct EdgeRow {
    peer: String,
    peer_url: Option<String>,
    protocol: String,
    label: String,
    p95: String,
}

#[derive(Template)]
#[template(path = "workload.html")]
struct WorkloadPage<'a> {
    w: &'a Workload,
    kind: String,
    roles: Vec<(String, String, String, String, String, String)>,
    pods: Vec<(String, String, String, String, String, String, String)>,
    split: Vec<SplitRow>,
    split_method: String,
    /// The routing objects whose routes carry the routed weights (`HTTPRoute bookinfo/reviews`).
    routes: Vec<String>,
    callers: Vec<(String, String)>,
    inbound: Vec<EdgeRow>,
    outbound: Vec<EdgeRow>,
    duration: String,
    warnings: Vec<String>,
    rollout: Option<String>,
    /// The observed split over the window against the intended weights (SVG).
    chart: Option<String>,
    chart_duration: String,
    findings: Vec<FindingRow>,
}

pub async fn workload(
    State(state): State<AppState>,
    path: Result<ObjectPath, ApiError>,
    RawQuery(query): RawQuery,
) -> PageResult {
    let ObjectPath { namespace, name } = path?;
    let world = state.world();
    let p: WindowParams = parse(query.as_deref())?;
    let w = find_workload(&world, &namespace, &name, None)?;
    let m = measured(&state, &world, w, &p).await?;
    let role_names = |roles: &[crate::identity::Role]| roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ");
    let roles = w
        .replica_sets
        .iter()
        .map(|rs| {
            (
                rs.name.clone(),
                rs.revision.map(|r| r.to_string()).unwrap_or_default(),
                role_names(&rs.roles),
                format!("{}/{}", rs.ready_replicas, rs.replicas),
                rs.status.clone(),
                rs.hash.clone().unwrap_or_default(),
            )
        })
        .collect();
    let pods = w
        .pods
        .iter()
        .map(|pod| {
            (
                pod.name.clone(),
                pod.replica_set.clone().unwrap_or_default(),
                role_names(&pod.roles),
                pod.status.clone(),
                pod.ready_containers.clone(),
                pod.restarts.to_string(),
                pod.telemetry_name.clone(),
            )
        })
        .collect();
    let (split, split_method, callers, inbound, outbound, duration, warnings) = match &m {
        Some(m) => traffic_rows(m),
        None => Default::default(),
    };
    let routes = m.iter().flat_map(|m| m.node.split.iter().flat_map(|s| &s.routes)).map(|r| r.to_string()).collect();
    let rollout = (w.id.kind == Kind::Rollout)
        .then(|| world.inventory.find(Kind::Rollout, &w.id.namespace, &w.id.name))
        .flatten()
        .and_then(|r| rollout_info(&world.inventory, r))
        .map(|info| {
            let step = match (info.step, info.steps) {
                (Some(s), Some(n)) => format!(", step {s}/{n}"),
                _ => String::new(),
            };
            format!("{}{step}, setWeight {}", info.phase, info.set_weight.map_or("–".into(), |w| w.to_string()))
        });
    // The chart covers at least ten minutes, so a short split window still shows the steps that led to it.
    let chart_window = WindowParams {
        duration: Some(format_duration(super::params::duration(&state, p.duration.as_deref(), "duration")?.max(600))),
        at: p.at.clone(),
    };
    let (chart, chart_duration) = if w.has_revisions() {
        let history = history(&state, &world, w, &chart_window).await?;
        (Some(split_chart(&history.points, &history.intended)), chart_window.duration.unwrap_or_default())
    } else {
        (None, String::new())
    };
    let findings = m.iter().flat_map(|m| &m.findings).map(|f| FindingRow::new(f, &world)).collect();
    html(&WorkloadPage {
        findings,
        chart,
        chart_duration,
        w,
        kind: w.id.kind.to_string(),
        roles,
        pods,
        split,
        split_method,
        routes,
        callers,
        inbound,
        outbound,
        duration,
        warnings,
        rollout,
    })
}

type TrafficRows = (Vec<SplitRow>, String, Vec<(String, String)>, Vec<EdgeRow>, Vec<EdgeRow>, String, Vec<String>);

fn traffic_rows(m: &Measured) -> TrafficRows {
    let split = m.node.revisions.iter().map(SplitRow::new).collect();
    let method = m.node.split.as_ref().map(|s| s.attributed_by.clone()).unwrap_or_default();
    let callers = m
        .node
        .callers
        .iter()
        .map(|c| {
            let shares: Vec<String> =
                c.revisions.iter().map(|r| format!("{} {}", r.replica_set, whole_percent(Some(r.share)))).collect();
            (label_of(&m.graph, &c.source), format!("{:.2} rps: {}", c.rps, shares.join(", ")))
        })
        .collect();
    let edge_row = |e: &Edge, peer: &str| EdgeRow {
        peer: label_of(&m.graph, peer),
        peer_url: m.graph.node(peer).and_then(|n| n.url.clone()),
        protocol: e.protocol.as_str().to_owned(),
        label: edge_label(e),
        p95: e.p95_ms.map_or_else(|| "–".into(), |p| format!("{p:.0} ms")),
    };
    let id = &m.node.id;
    let inbound = m.graph.edges.iter().filter(|e| &e.target == id).map(|e| edge_row(e, &e.source)).collect();
    let outbound = m.graph.edges.iter().filter(|e| &e.source == id).map(|e| edge_row(e, &e.target)).collect();
    (split, method, callers, inbound, outbound, m.graph.duration.clone(), m.graph.warnings.clone())
}

/// One Rollout on the overview.
struct RolloutRow {
    namespace: String,
    name: String,
    url: String,
    phase: String,
    step: String,
    set_weight: String,
    split: Vec<SplitRow>,
}

#[derive(Template)]
#[template(path = "rollouts.html")]
struct RolloutsPage {
    rows: Vec<RolloutRow>,
    duration: String,
}

pub async fn rollouts(State(state): State<AppState>, RawQuery(query): RawQuery) -> PageResult {
    let world = state.world();
    let p: WindowParams = parse(query.as_deref())?;
    let namespaces: std::collections::BTreeSet<String> = world
        .inventory
        .all::<crate::k8s::argo::Rollout>()
        .iter()
        .filter_map(|r| r.metadata.namespace.clone())
        .collect();
    let duration_s = super::params::duration(&state, p.duration.as_deref(), "duration")?;
    let at = super::params::at(&state, p.at.as_deref(), "at")?;
    // One graph over the namespaces that hold Rollouts gives every split at once.
    let req = crate::graph::GraphRequest::new(at, duration_s, state.scrape_labels().clone())
        .with_namespaces(Some(namespaces));
    let graph = build_graph(&state, &world, &req).await?;
    let mut rows = Vec::new();
    for w in world.index.workloads().iter().filter(|w| w.id.kind == Kind::Rollout) {
        let info = world
            .inventory
            .find(Kind::Rollout, &w.id.namespace, &w.id.name)
            .and_then(|r| rollout_info(&world.inventory, r));
        let node = graph.node(&crate::graph::resolve::workload_id(&w.id.cluster, &w.id.namespace, &w.id.name));
        rows.push(RolloutRow {
            namespace: w.id.namespace.clone(),
            name: w.id.name.clone(),
            url: workload_url(w),
            phase: info.as_ref().map(|i| i.phase.clone()).unwrap_or_default(),
            step: info.as_ref().and_then(|i| Some(format!("{}/{}", i.step?, i.steps?))).unwrap_or_else(|| "–".into()),
            set_weight: info.as_ref().and_then(|i| i.set_weight).map_or("–".into(), |w| format!("{w}%")),
            split: node.map(|n| n.revisions.iter().map(SplitRow::new).collect()).unwrap_or_default(),
        });
    }
    html(&RolloutsPage { rows, duration: format_duration(duration_s) })
}

/// The offered windows, plus the current one when it is not among them.
fn duration_options(current_s: u64) -> Vec<(String, bool)> {
    let current = format_duration(current_s);
    let mut options: Vec<(String, bool)> = DURATIONS.iter().map(|d| ((*d).to_owned(), *d == current)).collect();
    if !options.iter().any(|(_, selected)| *selected) {
        options.push((current, true));
    }
    options
}
