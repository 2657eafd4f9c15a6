//! A shared bearer token for `serve --auth-token-file`: API clients (and Prometheus scraping `/metrics`) send
//! `Authorization: Bearer TOKEN`; browsers sign in once at `/login`, which keeps the token in an HttpOnly cookie.
//! `/healthz` stays open for probes. Without a token configured, everything is open (loopback by default).

use axum::extract::{Form, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::state::AppState;

const COOKIE: &str = "meshlens_token";

/// Lets a request through when no token is configured, it is a probe or the sign-in, or it carries the token.
pub async fn require_token(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(token) = state.auth_token() else { return next.run(request).await };
    let path = request.uri().path();
    if path == "/healthz" || path == "/login" || path.starts_with("/static/") || carries(request.headers(), token) {
        return next.run(request).await;
    }
    let wants_page =
        request.headers().get(header::ACCEPT).and_then(|a| a.to_str().ok()).is_some_and(|a| a.contains("text/html"));
    if wants_page && request.method() == axum::http::Method::GET {
        return Redirect::to("/login").into_response();
    }
    let body = serde_json::json!({"error": "this meshlens needs a bearer token (Authorization: Bearer ...)"});
    (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")], axum::Json(body)).into_response()
}

/// Whether the headers carry `token`, as a bearer token or in the sign-in cookie.
fn carries(headers: &HeaderMap, token: &str) -> bool {
    let bearer = headers.get_all(header::AUTHORIZATION).iter().filter_map(|v| v.to_str().ok()?.strip_prefix("Bearer "));
    let cookies = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().strip_prefix(COOKIE)?.strip_prefix('='));
    bearer.chain(cookies).any(|given| same(given.trim().as_bytes(), token.as_bytes()))
}

/// Compares in time that depends only on the lengths, so the token cannot be guessed byte by byte from timings.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

const LOGIN_PAGE: &str = r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>meshlens: sign in</title>
<link rel="stylesheet" href="/static/style.css"></head><body><main><h1>meshlens</h1>
<form method="post" action="/login"><label>Token <input type="password" name="token" autofocus></label>
<button type="submit">Sign in</button></form>{error}</main></body></html>"#;

pub async fn login_page() -> Html<String> {
    Html(LOGIN_PAGE.replace("{error}", ""))
}

#[derive(Deserialize)]
pub struct Login {
    token: String,
}

/// Checks the token and keeps it in a cookie scripts cannot read and other sites cannot send.
pub async fn login(State(state): State<AppState>, Form(login): Form<Login>) -> Response {
    match state.auth_token() {
        Some(token) if same(login.token.trim().as_bytes(), token.as_bytes()) => {
            let cookie = format!("{COOKIE}={}; HttpOnly; SameSite=Strict; Path=/", login.token.trim());
            ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response()
        }
        Some(_) => {
            let page = LOGIN_PAGE.replace("{error}", r#"<p class="warnings">That is not the token.</p>"#);
            (StatusCode::UNAUTHORIZED, Html(page)).into_response()
        }
        None => Redirect::to("/").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_come_as_bearer_or_cookie_and_must_match_exactly() {
        let headers = |name: header::HeaderName, value: &str| {
            let mut h = HeaderMap::new();
            h.insert(name, value.parse().unwrap());
            h
        };
        assert!(carries(&headers(header::AUTHORIZATION, "Bearer s3cret"), "s3cret"));
        assert!(carries(&headers(header::COOKIE, "a=b; meshlens_token=s3cret"), "s3cret"));
        assert!(!carries(&headers(header::AUTHORIZATION, "Bearer s3cre"), "s3cret"));
        assert!(!carries(&headers(header::AUTHORIZATION, "Basic s3cret"), "s3cret"));
        assert!(!carries(&headers(header::COOKIE, "meshlens_token=s3cretX"), "s3cret"));
        assert!(!carries(&HeaderMap::new(), "s3cret"));
    }
}
