//! An in-process fake Kubernetes API server for tests: discovery (`/api`, `/apis`, resource lists) and paged LIST
//! of a fixed set of objects, so the real kube-rs client runs over HTTP on 127.0.0.1.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use serde_json::{Value, json};

/// Objects by (group, version, plural), with their kind and scope.
#[derive(Default)]
struct Served {
    resources: BTreeMap<(String, String, String), Resource>,
    /// Every request, as `METHOD path?query`.
    log: Mutex<Vec<String>>,
}

struct Resource {
    kind: String,
    namespaced: bool,
    items: Vec<Value>,
}

/// The running fake: its URL, and what it was asked.
pub struct FakeKube {
    pub url: String,
    served: Arc<Served>,
}

impl FakeKube {
    pub fn requests(&self) -> Vec<String> {
        self.served.log.lock().unwrap().clone()
    }

    /// A kubeconfig file pointing at the fake (no credentials).
    pub fn kubeconfig(&self, dir: &std::path::Path) -> std::path::PathBuf {
        let path = dir.join("kubeconfig");
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: {}\n    certificate-authority: {}\nusers:\n- name: tester\n  user: {{}}\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: tester\ncurrent-context: fake\n",
            self.url,
            test_ca()
        );
        std::fs::write(&path, text).unwrap();
        path
    }
}

/// Lists answer at most this many items per page, whatever the limit, so every client has to page.
const PAGE: usize = 2;

fn plural(kind: &str) -> String {
    match kind {
        "Canary" => "canaries".into(),
        k => format!("{}s", k.to_lowercase()),
    }
}

/// Serves `objects` (manifests with apiVersion and kind) over HTTP until the test process ends.
pub fn start(objects: &[Value]) -> FakeKube {
    serve(objects, false)
}

/// As [`start`], over HTTPS with the test certificate (`tests/fixtures/tls`), as real API servers speak.
pub fn start_tls(objects: &[Value]) -> FakeKube {
    serve(objects, true)
}

/// The test certificate authority, for kubeconfigs.
pub fn test_ca() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tls/cert.pem").to_owned()
}

fn serve(objects: &[Value], tls: bool) -> FakeKube {
    let mut served = Served::default();
    for o in objects {
        let (Some(api_version), Some(kind)) = (o["apiVersion"].as_str(), o["kind"].as_str()) else { continue };
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let key = (group.to_owned(), version.to_owned(), plural(kind));
        let namespaced = kind != "Namespace";
        let resource = served.resources.entry(key).or_insert_with(|| Resource {
            kind: kind.to_owned(),
            namespaced,
            items: Vec::new(),
        });
        let mut item = o.clone();
        // Items of a real LIST carry neither.
        if let Some(map) = item.as_object_mut() {
            map.remove("apiVersion");
            map.remove("kind");
        }
        resource.items.push(item);
    }
    let served = Arc::new(served);
    let app = Router::new()
        .route("/api", get(core_versions))
        .route("/apis", get(groups))
        .route("/api/{version}", get(core_resources))
        .route("/apis/{group}/{version}", get(group_resources))
        .route("/api/{version}/{plural}", get(core_list))
        .route("/apis/{group}/{version}/{plural}", get(group_list))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(served.clone(), record))
        .with_state(served.clone());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let scheme = if tls { "https" } else { "http" };
    let url = format!("{scheme}://{}", listener.local_addr().unwrap());
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            if tls {
                let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tls");
                let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(
                    format!("{dir}/cert.pem"),
                    format!("{dir}/key.pem"),
                )
                .await
                .unwrap();
                let server = axum_server::from_tcp_rustls(listener, config).unwrap();
                server.serve(app.into_make_service()).await.unwrap();
            } else {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, app).await.unwrap();
            }
        });
    });
    FakeKube { url, served }
}

async fn record(
    State(served): State<Arc<Served>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let query = request.uri().query().map(|q| format!("?{q}")).unwrap_or_default();
    served.log.lock().unwrap().push(format!("{} {}{query}", request.method(), request.uri().path()));
    next.run(request).await
}

async fn not_found() -> Response {
    let status = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404});
    (axum::http::StatusCode::NOT_FOUND, Json(status)).into_response()
}

async fn core_versions() -> Json<Value> {
    Json(json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}))
}

async fn groups(State(served): State<Arc<Served>>) -> Json<Value> {
    let mut versions: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (group, version, _) in served.resources.keys().filter(|(g, _, _)| !g.is_empty()) {
        let list = versions.entry(group).or_default();
        if !list.contains(&version.as_str()) {
            list.push(version);
        }
    }
    let groups: Vec<Value> = versions
        .iter()
        .map(|(group, versions)| {
            let versions: Vec<Value> =
                versions.iter().map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v})).collect();
            json!({"name": group, "versions": versions, "preferredVersion": versions[0]})
        })
        .collect();
    Json(json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}))
}

fn resource_list(served: &Served, group: &str, version: &str) -> Json<Value> {
    let resources: Vec<Value> = served
        .resources
        .iter()
        .filter(|((g, v, _), _)| g == group && v == version)
        .map(|((_, _, plural), r)| {
            json!({"name": plural, "singularName": r.kind.to_lowercase(), "namespaced": r.namespaced,
                   "kind": r.kind, "verbs": ["get", "list", "watch"]})
        })
        .collect();
    let group_version = if group.is_empty() { version.to_owned() } else { format!("{group}/{version}") };
    Json(json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources}))
}

async fn core_resources(State(served): State<Arc<Served>>, Path(version): Path<String>) -> Json<Value> {
    resource_list(&served, "", &version)
}

async fn group_resources(
    State(served): State<Arc<Served>>,
    Path((group, version)): Path<(String, String)>,
) -> Json<Value> {
    resource_list(&served, &group, &version)
}

fn list(served: &Served, group: &str, version: &str, plural: &str, params: &BTreeMap<String, String>) -> Response {
    let Some(resource) = served.resources.get(&(group.to_owned(), version.to_owned(), plural.to_owned())) else {
        return axum::http::StatusCode::NOT_FOUND.into_response();
    };
    let start: usize = params.get("continue").and_then(|c| c.parse().ok()).unwrap_or(0);
    let limit: usize = params.get("limit").and_then(|l| l.parse().ok()).unwrap_or(usize::MAX).min(PAGE);
    let items: Vec<Value> = resource.items.iter().skip(start).take(limit).cloned().collect();
    let next = start + items.len();
    let mut metadata = json!({"resourceVersion": "1000"});
    if next < resource.items.len() {
        metadata["continue"] = json!(next.to_string());
    }
    let group_version = if group.is_empty() { version.to_owned() } else { format!("{group}/{version}") };
    let kind = format!("{}List", resource.kind);
    Json(json!({"apiVersion": group_version, "kind": kind, "metadata": metadata, "items": items})).into_response()
}

async fn core_list(
    State(served): State<Arc<Served>>,
    Path((version, plural)): Path<(String, String)>,
    Query(params): Query<BTreeMap<String, String>>,
) -> Response {
    list(&served, "", &version, &plural, &params)
}

async fn group_list(
    State(served): State<Arc<Served>>,
    Path((group, version, plural)): Path<(String, String, String)>,
    Query(params): Query<BTreeMap<String, String>>,
) -> Response {
    list(&served, &group, &version, &plural, &params)
}
