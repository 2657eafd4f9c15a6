//! Who may use a server. With `serve --auth-token-file`, every request but the probe and the sign-in carries the
//! token: API clients (and Prometheus scraping `/metrics`) as `Authorization: Bearer TOKEN`, browsers as a session
//! cookie from `/login` (a random value bound to that sign-in, never the token; `Secure` over TLS). Failed sign-ins
//! and wrong bearer tokens are throttled per client (an address, an IPv6 /64), never another client's: see
//! `super::access::Failures`. Without a token, only requests addressed to this machine are answered: a `Host` (HTTP/2
//! `:authority`) and browser `Origin` that are loopback names, IP literals or names given with `--allow-host`, so
//! that a web page cannot read the mesh through a developer's browser by DNS rebinding (rebinding needs a name).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, Form, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::access::{FAILURE_WINDOW, SESSION_LIFETIME};
use super::error::ApiError;
use super::state::AppState;

const COOKIE: &str = "meshlens_session";

/// The client a request came from (see [`super::admission::client_of`]); a request from no connection (one built
/// in-process) counts as one client.
fn client(connection: Option<&ConnectInfo<SocketAddr>>) -> IpAddr {
    let address = connection.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
    super::admission::client_of(address)
}

/// The answer to a client that failed too often.
fn throttled(body: impl IntoResponse) -> Response {
    (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, FAILURE_WINDOW.as_secs().to_string())], body).into_response()
}

/// Lets a request through as [`Access`] says.
pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let access = state.access();
    let Some(token) = access.token.as_deref() else {
        return match foreign(&request, &access.hosts) {
            None => next.run(request).await,
            Some((status, what)) => ApiError::NotForUs {
                status,
                message: format!("{what}: this meshlens answers requests addressed to this machine only (loopback names, IP addresses, --allow-host names)"),
            }
            .into_response(),
        };
    };
    let path = request.uri().path();
    if super::access::is_open(path) || session(request.headers()).is_some_and(|id| state.sessions().is_valid(id)) {
        return next.run(request).await;
    }
    if let Some(given) = bearer(request.headers()) {
        let client = client(request.extensions().get());
        if !state.sessions().allows(client) {
            return throttled(ApiError::TooManyFailures(
                "too many wrong tokens from this address: wait a minute".into(),
            ));
        }
        if same(given.as_bytes(), token.as_bytes()) {
            return next.run(request).await;
        }
        state.sessions().failed(client);
    }
    let wants_page =
        request.headers().get(header::ACCEPT).and_then(|a| a.to_str().ok()).is_some_and(|a| a.contains("text/html"));
    if wants_page && request.method() == axum::http::Method::GET {
        return Redirect::to("/login").into_response();
    }
    let error = ApiError::Unauthorized("this meshlens needs a bearer token (Authorization: Bearer ...)".into());
    ([(header::WWW_AUTHENTICATE, "Bearer")], error).into_response()
}

/// Why a request is not addressed to this machine: a foreign `Host`/`:authority` (421) or browser `Origin` (403).
fn foreign(request: &Request, hosts: &[String]) -> Option<(StatusCode, String)> {
    let header_host = request.headers().get(header::HOST).and_then(|h| h.to_str().ok());
    let authority = request.uri().authority().map(|a| a.as_str()).or(header_host);
    if let Some(authority) = authority
        && !allowed(host_of(authority), hosts)
    {
        return Some((StatusCode::MISDIRECTED_REQUEST, format!("host {authority:?}")));
    }
    for origin in request.headers().get_all(header::ORIGIN) {
        let text = origin.to_str().unwrap_or_default();
        let host = text.split_once("://").map(|(_, rest)| host_of(rest));
        if !host.is_some_and(|h| allowed(h, hosts)) {
            return Some((StatusCode::FORBIDDEN, format!("origin {text:?}")));
        }
    }
    None
}

/// The host of `host[:port]`, `[v6]:port` or `host/path`.
fn host_of(authority: &str) -> &str {
    let authority = authority.split('/').next().unwrap_or_default();
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split(']').next().unwrap_or_default();
    }
    authority.rsplit_once(':').map_or(authority, |(host, _)| host)
}

fn allowed(host: &str, hosts: &[String]) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost") || host.parse::<IpAddr>().is_ok() || hosts.contains(&host)
}

/// The bearer token the headers carry (the scheme in any case, as RFC 9110 has it).
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get_all(header::AUTHORIZATION).iter().filter_map(|v| v.to_str().ok()).find_map(|value| {
        let (scheme, given) = value.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| given.trim())
    })
}

/// The session id the headers carry.
fn session(headers: &HeaderMap) -> Option<&str> {
    let cookies = headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';'));
    cookies.filter_map(|c| c.trim().strip_prefix(COOKIE)?.strip_prefix('=')).next()
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

/// Checks the token and starts a session kept in a cookie scripts cannot read and other sites cannot send.
pub async fn login(
    State(state): State<AppState>,
    connection: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    Form(login): Form<Login>,
) -> Response {
    let access = state.access();
    let Some(token) = access.token.as_deref() else { return Redirect::to("/").into_response() };
    let sessions = state.sessions();
    let client = client(connection.as_ref().map(|c| &c.0));
    if !sessions.allows(client) {
        let page = LOGIN_PAGE.replace("{error}", r#"<p class="warnings">Too many failed sign-ins: wait a minute.</p>"#);
        return throttled(Html(page));
    }
    if !same(login.token.trim().as_bytes(), token.as_bytes()) {
        sessions.failed(client);
        let page = LOGIN_PAGE.replace("{error}", r#"<p class="warnings">That is not the token.</p>"#);
        return (StatusCode::UNAUTHORIZED, Html(page)).into_response();
    }
    let Ok(id) = sessions.start() else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "the system's random generator failed").into_response();
    };
    let secure = if access.tls { "; Secure" } else { "" };
    let cookie =
        format!("{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}", SESSION_LIFETIME.as_secs());
    ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(name: header::HeaderName, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, value.parse().unwrap());
        h
    }

    #[test]
    fn bearer_tokens_are_read_in_any_case_of_the_scheme() {
        assert_eq!(bearer(&headers(header::AUTHORIZATION, "Bearer s3cret")), Some("s3cret"));
        assert_eq!(bearer(&headers(header::AUTHORIZATION, "bearer s3cret")), Some("s3cret"));
        assert_eq!(bearer(&headers(header::AUTHORIZATION, "BEARER  s3cret ")), Some("s3cret"));
        assert_eq!(bearer(&headers(header::AUTHORIZATION, "Basic s3cret")), None);
        assert_eq!(bearer(&HeaderMap::new()), None);
        assert!(same(b"s3cret", b"s3cret") && !same(b"s3cre", b"s3cret") && !same(b"s3creT", b"s3cret"));
        assert_eq!(session(&headers(header::COOKIE, "a=b; meshlens_session=abc")), Some("abc"));
    }

    #[test]
    fn only_names_of_this_machine_are_answered_without_a_token() {
        let hosts = vec!["meshlens.example".to_owned()];
        for ok in ["localhost", "LOCALHOST.", "app.localhost", "127.0.0.1", "10.1.2.3", "::1", "meshlens.example"] {
            assert!(allowed(ok, &hosts), "{ok}");
        }
        for bad in ["evil.example", "localhost.evil.example", "127.0.0.1.nip.io", ""] {
            assert!(!allowed(bad, &hosts), "{bad}");
        }
        assert_eq!(host_of("[::1]:20001"), "::1");
        assert_eq!(host_of("localhost:20001"), "localhost");
        assert_eq!(host_of("evil.example"), "evil.example");
    }
}
