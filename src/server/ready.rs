//! Whether the server has a world to show. A live cluster's first listing can take long, or never end when the
//! API server does not answer, and the server listens meanwhile: `/readyz` answers 503 with the reason until the
//! world is loaded (a readiness probe), and pages and the API say the same. `/healthz` stays the liveness check:
//! a server waiting on its cluster is alive.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::error::{ApiError, answer};
use super::state::AppState;

/// The answer of `/readyz`.
#[derive(Debug, Serialize)]
pub struct Readiness {
    pub ready: bool,
    /// Why not, while not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

pub async fn readyz(State(state): State<AppState>) -> Response {
    let reason = state.loading();
    let status = if reason.is_some() { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::OK };
    (status, Json(Readiness { ready: reason.is_none(), reason })).into_response()
}

/// Answers what needs the world with 503 and the reason while it is not loaded; probes, the sign-in and static
/// files are always served.
pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    match state.loading() {
        Some(reason) if !super::access::is_open(path) => answer(path, ApiError::NotReady(reason)),
        _ => next.run(request).await,
    }
}
