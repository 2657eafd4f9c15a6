//! Request errors: a JSON body naming what was wrong (and which parameter) for the API, a page for browsers.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;

use crate::graph::render::svg::esc;

#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// A query parameter that cannot be used as given.
    #[error("parameter {parameter}: {message}")]
    BadParameter { parameter: String, message: String },
    #[error("{0}")]
    NotFound(String),
    /// A method the path does not answer: what was asked.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// The telemetry store failed; the message names the query.
    #[error("telemetry: {0}")]
    Telemetry(String),
    /// The world is not loaded yet (a live cluster's first listing): why.
    #[error("not ready: {0}")]
    NotReady(String),
    /// meshlens itself failed (a page that would not render).
    #[error("{0}")]
    Internal(String),
    /// The request carries no valid token (or session) where one is needed.
    #[error("{0}")]
    Unauthorized(String),
    /// The request is not addressed to this server, by its `Host` (421) or browser `Origin` (403).
    #[error("{message}")]
    NotForUs { status: StatusCode, message: String },
    /// The client failed too often: wait.
    #[error("{0}")]
    TooManyFailures(String),
}

impl ApiError {
    pub fn bad(parameter: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::BadParameter { parameter: parameter.into(), message: message.into() }
    }

    fn status(&self) -> StatusCode {
        match self {
            ApiError::BadParameter { .. } => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Telemetry(_) => StatusCode::BAD_GATEWAY,
            ApiError::NotReady(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::NotForUs { status, .. } => *status,
            ApiError::TooManyFailures(_) => StatusCode::TOO_MANY_REQUESTS,
        }
    }
}

/// The JSON of an error answer: what is wrong and, for a 400, which parameter.
#[derive(Serialize)]
struct ErrorBody {
    error: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    parameter: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let parameter = match &self {
            ApiError::BadParameter { parameter, .. } => Some(parameter.clone()),
            _ => None,
        };
        (self.status(), Json(ErrorBody { error: self.to_string(), parameter })).into_response()
    }
}

/// An error as the path asked for it: JSON under the API (and `/metrics`, read by programs), a page elsewhere.
pub fn answer(path: &str, error: ApiError) -> Response {
    if path.starts_with("/api/") || path == "/metrics" {
        error.into_response()
    } else {
        PageError(error).into_response()
    }
}

/// The same errors, as a page.
#[derive(Debug)]
pub struct PageError(pub ApiError);

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> PageError {
        PageError(e)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let page = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>meshlens: error</title>\
             <link rel=\"stylesheet\" href=\"/static/style.css\"></head><body><main><h1>Something is wrong</h1>\
             <p class=\"error\">{}</p><p><a href=\"/\">Back to the graph</a></p></main></body></html>",
            esc(&self.0.to_string())
        );
        (self.0.status(), Html(page)).into_response()
    }
}
