//! Request errors: a JSON body naming what was wrong (and which parameter) for the API, a page for browsers.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;

use crate::graph::render::svg::esc;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A query parameter that cannot be used as given.
    #[error("parameter {parameter}: {message}")]
    BadParameter { parameter: String, message: String },
    #[error("{0}")]
    NotFound(String),
    /// The telemetry store failed; the message names the query.
    #[error("telemetry: {0}")]
    Telemetry(String),
    /// meshlens itself failed (a page that would not render).
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    pub fn bad(parameter: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::BadParameter { parameter: parameter.into(), message: message.into() }
    }

    fn status(&self) -> StatusCode {
        match self {
            ApiError::BadParameter { .. } => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Telemetry(_) => StatusCode::BAD_GATEWAY,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
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
