//! The JSON API: our graph, Kiali's graph format under Kiali's parameter names, workloads, one workload with its
//! traffic, one Rollout with its measured split.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{MatchedPath, Path, RawQuery, State};
use serde_json::Value;

use crate::graph::history::{SplitHistory, split_history};
use crate::graph::render::kiali::{KialiGraph, render_kiali};
use crate::graph::{Focus, Graph, GraphRequest};
use crate::identity::Workload;
use crate::k8s::Kind;
use crate::rollout::rollout_info;
use crate::views::rollouts::AnalysisAnswer;
use crate::views::traffic::{Measured, RolloutAnswer, Window, WorkloadAnswer, measure};

use super::error::ApiError;
use super::params::{
    self, GraphParams, KialiGraphParams, ObjectPath, WindowParams, focused_request, graph_request, parse,
};
use super::state::AppState;
use super::world::World;

pub async fn healthz() -> &'static str {
    "ok\n"
}

pub async fn graph(State(state): State<AppState>, RawQuery(query): RawQuery) -> Result<Json<Arc<Graph>>, ApiError> {
    let world = state.world();
    let p: GraphParams = parse(query.as_deref())?;
    let req = focused_request(&state, &world, p.raw(), p.focus()?)?;
    Ok(Json(build_graph(&state, &world, &req).await?))
}

pub async fn kiali_graph(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<KialiGraph>, ApiError> {
    let world = state.world();
    let p: KialiGraphParams = parse(query.as_deref())?;
    let req = graph_request(&state, &world, &p.raw())?.with_ambient(p.ambient()?);
    let rates = p.rates()?;
    let graph = build_graph(&state, &world, &req).await?;
    Ok(Json(render_kiali(&graph, req.at, req.duration_s, rates)))
}

/// Kiali's node graphs, told apart by the route asked: a workload's (`/api/kiali/namespaces/{ns}/workloads/{w}/graph`),
/// an app's (`.../applications/{app}/graph`), one version's (`.../applications/{app}/versions/{version}/graph`) and
/// a Service's, the calls addressed to it (`.../services/{s}/graph`). Kiali's parameters; the focus' namespace
/// whatever `namespaces` says.
pub async fn kiali_node_graph(
    State(state): State<AppState>,
    route: MatchedPath,
    path: Result<Path<Vec<String>>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Result<Json<KialiGraph>, ApiError> {
    let Path(segments) = path.map_err(|e| ApiError::bad("path", e.body_text()))?;
    let node = match route.as_str().split('/').nth(5) {
        Some("workloads") => "workload",
        Some("applications") => "app",
        Some("services") => "service",
        _ => return Err(ApiError::NotFound(format!("no node graph at {}", route.as_str()))),
    };
    let focus: Focus = format!("{node}/{}", segments.join("/")).parse().map_err(|e| ApiError::bad("path", e))?;
    let world = state.world();
    let p: KialiGraphParams = parse(query.as_deref())?;
    let req = focused_request(&state, &world, p.raw(), Some(focus))?.with_ambient(p.ambient()?);
    let rates = p.rates()?;
    let graph = build_graph(&state, &world, &req).await?;
    Ok(Json(render_kiali(&graph, req.at, req.duration_s, rates)))
}

pub async fn workloads(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    sorted(state.world().index.workloads())
}

/// A typed answer as JSON with its keys sorted, as the API has always written its answers; one that cannot be
/// written is a 500, not a panic.
fn sorted<T: serde::Serialize + ?Sized>(answer: &T) -> Result<Json<Value>, ApiError> {
    serde_json::to_value(answer).map(Json).map_err(|e| ApiError::Internal(format!("writing the answer: {e}")))
}

pub async fn workload(
    State(state): State<AppState>,
    ObjectPath { namespace, name }: ObjectPath,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let world = state.world();
    let p: WindowParams = parse(query.as_deref())?;
    let w = find_workload(&world, &namespace, &name, None)?;
    let measured = measured(&state, &world, w, &p).await?;
    sorted(&WorkloadAnswer { workload: w, traffic: measured.as_ref().map(Measured::answer) })
}

pub async fn rollout(
    State(state): State<AppState>,
    ObjectPath { namespace, name }: ObjectPath,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let world = state.world();
    let p: WindowParams = parse(query.as_deref())?;
    let w = find_workload(&world, &namespace, &name, Some(Kind::Rollout))?;
    let info = world
        .inventory
        .find(Kind::Rollout, &namespace, &name)
        .and_then(|r| rollout_info(&world.inventory, r))
        .ok_or_else(|| ApiError::NotFound(format!("no {} {namespace}/{name}", Kind::Rollout)))?;
    let measured = measured(&state, &world, w, &p).await?;
    let history = history(&state, &world, w, &p).await?;
    sorted(&RolloutAnswer {
        info: &info,
        observed_split: measured.as_ref().map(Measured::answer),
        history: Some(history),
    })
}

/// The measured canary share of a Rollout for Argo Rollouts' `web` metric provider: see
/// `deploy/analysis-template.yaml`.
pub async fn rollout_analysis(
    State(state): State<AppState>,
    ObjectPath { namespace, name }: ObjectPath,
    RawQuery(query): RawQuery,
) -> Result<Json<AnalysisAnswer>, ApiError> {
    let world = state.world();
    let p: WindowParams = parse(query.as_deref())?;
    let w = find_workload(&world, &namespace, &name, Some(Kind::Rollout))?;
    let measured = measured(&state, &world, w, &p).await?;
    let duration_s = params::duration(&state, p.duration.as_deref(), "duration")?;
    let at = params::at(&state, p.at.as_deref(), "at")?;
    let time = jiff::Timestamp::from_second(at).map(|t| t.to_string()).unwrap_or_default();
    let window = crate::time::format_duration(duration_s);
    Ok(Json(AnalysisAnswer::new(&namespace, &name, window, time, measured.as_ref())))
}

/// Points of a split history over a window.
pub const HISTORY_POINTS: u64 = 60;

/// The split of `w` over the window the parameters ask for, and the intended weights over the window (as this
/// server saw them change; a snapshot knows only its own).
pub async fn history(
    state: &AppState,
    world: &World,
    w: &Workload,
    p: &WindowParams,
) -> Result<SplitHistory, ApiError> {
    let duration_s = params::duration(state, p.duration.as_deref(), "duration")?;
    let at = params::at(state, p.at.as_deref(), "at")?;
    let window = (at, duration_s);
    let points = split_history(
        state.telemetry(),
        &world.index,
        &world.inventory,
        w,
        window,
        HISTORY_POINTS,
        state.scrape_labels(),
    )
    .await
    .map_err(|e| ApiError::Telemetry(e.to_string()))?;
    let intended = state.weight_steps(&w.id.namespace, &w.id.name, at.saturating_sub_unsigned(duration_s), at);
    Ok(SplitHistory { step_seconds: (duration_s / HISTORY_POINTS).max(1), points, intended })
}

/// The graph of `req` in `world`, computed once (see [`super::cache`]).
pub async fn build_graph(state: &AppState, world: &Arc<World>, req: &GraphRequest) -> Result<Arc<Graph>, ApiError> {
    let (computing, world_now, req_now) = (state.clone(), world.clone(), req.clone());
    state.graphs().get_or_compute(world.generation, req, move || compute_graph(computing, world_now, req_now)).await
}

/// A graph's queries and build. Queries to a server run on the async workers, where a computation dropped by its
/// last waiter cancels them; work done in this process (the in-memory store's answers, the build) runs on a
/// blocking thread, at most as many at once as there are cores, so the async workers stay free for `/healthz` and
/// small pages, and a server that never answers holds none of those threads.
async fn compute_graph(state: AppState, world: Arc<World>, req: GraphRequest) -> Result<Graph, ApiError> {
    let plan = crate::graph::plan::plan(&req, &world.index);
    let results = if state.telemetry().answers_in_parallel() {
        crate::graph::fetch::fetch(state.telemetry(), &plan).await
    } else {
        let (fetching, runtime) = (state.clone(), tokio::runtime::Handle::current());
        on_blocking_thread(&state, move || runtime.block_on(crate::graph::fetch::fetch(fetching.telemetry(), &plan)))
            .await?
    };
    let results = results.map_err(|e| ApiError::Telemetry(e.to_string()))?;
    on_blocking_thread(&state, move || crate::graph::build::build(&world.index, &world.inventory, &req, &results)).await
}

/// Runs `work` on a blocking thread once one of the server's permits for such work is free.
async fn on_blocking_thread<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    let _permit = state.computing().acquire().await.map_err(|e| ApiError::Internal(e.to_string()))?;
    tokio::task::spawn_blocking(work).await.map_err(|e| ApiError::Internal(format!("computing the graph failed: {e}")))
}

/// A workload by namespace and name (of `kind` when given). When kinds share a name, the one with pods wins.
pub fn find_workload<'w>(
    world: &'w World,
    namespace: &str,
    name: &str,
    kind: Option<Kind>,
) -> Result<&'w Workload, ApiError> {
    world
        .index
        .workloads()
        .iter()
        .filter(|w| w.id.namespace == namespace && w.id.name == name && kind.is_none_or(|k| w.id.kind == k))
        .min_by_key(|w| w.pods.is_empty())
        .ok_or_else(|| {
            let what = kind.map_or_else(|| "workload".to_owned(), |k| k.to_string());
            ApiError::NotFound(format!("no {what} {namespace}/{name}"))
        })
}

/// A workload's traffic over the window the parameters ask for.
pub async fn measured(
    state: &AppState,
    world: &World,
    w: &Workload,
    p: &WindowParams,
) -> Result<Option<Measured>, ApiError> {
    let duration_s = params::duration(state, p.duration.as_deref(), "duration")?;
    let at = params::at(state, p.at.as_deref(), "at")?;
    let window = Window { duration_s, at, scrape_labels: state.scrape_labels() };
    measure(state.telemetry(), &world.index, &world.inventory, &w.id, &window)
        .await
        .map_err(|e| ApiError::Telemetry(e.to_string()))
}
