//! Every route in one place.

use axum::Router;
use axum::extract::Request;
use axum::http::{StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::trace::TraceLayer;

use super::error::{ApiError, answer};
use super::state::AppState;
use super::{api, auth, metrics, pages, ready};

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(pages::graph))
        .route("/graph", get(pages::graph))
        .route("/graph/find", get(pages::find))
        .route("/workloads", get(pages::workloads))
        .route("/workloads/{namespace}/{name}", get(pages::workload))
        .route("/rollouts", get(pages::rollouts))
        .route("/healthz", get(api::healthz))
        .route("/readyz", get(ready::readyz))
        .route("/metrics", get(metrics::metrics))
        .route("/api/graph", get(api::graph))
        .route("/api/kiali/namespaces/graph", get(api::kiali_graph))
        .route("/api/kiali/namespaces/{namespace}/workloads/{name}/graph", get(api::kiali_node_graph))
        .route("/api/kiali/namespaces/{namespace}/applications/{name}/graph", get(api::kiali_node_graph))
        .route(
            "/api/kiali/namespaces/{namespace}/applications/{name}/versions/{version}/graph",
            get(api::kiali_node_graph),
        )
        .route("/api/kiali/namespaces/{namespace}/services/{name}/graph", get(api::kiali_node_graph))
        .route("/api/workloads", get(api::workloads))
        .route("/api/namespaces/{namespace}/workloads/{name}", get(api::workload))
        .route("/api/namespaces/{namespace}/rollouts/{name}", get(api::rollout))
        .route("/api/namespaces/{namespace}/rollouts/{name}/analysis", get(api::rollout_analysis))
        .route("/static/style.css", get(style))
        .route("/static/meshlens.js", get(script))
        .route("/login", get(auth::login_page).post(auth::login))
        .fallback(not_found)
        .layer(axum::middleware::from_fn(explain_method))
        .layer(axum::middleware::from_fn_with_state(state.clone(), ready::guard))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::guard))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &axum::extract::Request| {
                    tracing::info_span!("request", method = %request.method(), path = %request.uri().path())
                })
                .on_response(|response: &axum::response::Response, latency: std::time::Duration, _: &tracing::Span| {
                    tracing::info!(status = response.status().as_u16(), ms = latency.as_millis() as u64, "answered");
                })
                // An answer of 5xx is logged with the others above; a failure of the server itself is said where it
                // happens (tower-http would log each 503 of a server still loading its cluster as an error).
                .on_failure(()),
        )
        .with_state(state)
}

/// An unknown API path answers in JSON like every API error; any other, a page.
async fn not_found(uri: Uri) -> Response {
    let what = if uri.path().starts_with("/api/") { "API endpoint" } else { "page" };
    answer(uri.path(), ApiError::NotFound(format!("no {what} {}", uri.path())))
}

/// A wrong method is answered 405 with the `Allow` header the router sets, and a body like every other error's.
async fn explain_method(request: Request, next: Next) -> Response {
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let response = next.run(request).await;
    if response.status() != StatusCode::METHOD_NOT_ALLOWED {
        return response;
    }
    let allow = response.headers().get(header::ALLOW).cloned();
    let mut explained = answer(&path, ApiError::MethodNotAllowed(format!("{path} does not answer {method}")));
    if let Some(allow) = allow {
        explained.headers_mut().insert(header::ALLOW, allow);
    }
    explained
}

async fn style() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], include_str!("../../static/style.css"))
}

async fn script() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], include_str!("../../static/meshlens.js"))
}
