//! An in-process fake Kubernetes API server for tests: discovery (`/api`, `/apis`, resource lists), paged LIST and
//! WATCH of every object or of one namespace's, so the real kube-rs client runs over HTTP(S) on 127.0.0.1.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use serde_json::{Value, json};

type Key = (String, String, String);

/// Objects by (group, version, plural), with their kind and scope, versioned like etcd: every change takes the next
/// resourceVersion and is kept as an event that watches replay.
struct Served {
    resources: Mutex<BTreeMap<Key, Resource>>,
    version: Mutex<u64>,
    /// (resourceVersion, resource, event type, object) of every change; older ones than `oldest` are "compacted".
    history: Mutex<Vec<(u64, Key, &'static str, Value)>>,
    oldest: Mutex<u64>,
    changes: tokio::sync::broadcast::Sender<Change>,
    /// Every request, as `METHOD path?query`.
    log: Mutex<Vec<String>>,
    /// Plurals the caller may not list or watch (403), as RBAC would answer.
    forbidden: Mutex<Vec<String>>,
    /// A watch from a compacted version is answered with HTTP 410 (as proxies send) instead of an error event.
    gone_as_http: std::sync::atomic::AtomicBool,
    /// The most items a LIST page holds, whatever the limit asked.
    page: usize,
}

#[derive(Clone)]
enum Change {
    /// An event line of a resource, about an object of this namespace (none: cluster-scoped).
    Event(Key, Option<String>, String),
    /// Ends every open watch, as an API server restart or a load balancer timeout would.
    Close,
}

struct Resource {
    kind: String,
    api_version: String,
    namespaced: bool,
    items: Vec<Value>,
}

/// The running fake: its URL, and what it was asked.
pub struct FakeKube {
    pub url: String,
    served: Arc<Served>,
}

impl FakeKube {
    /// Creates or replaces an object (matched by kind, namespace and name), as `kubectl apply` would.
    pub fn apply(&self, object: Value) {
        let key = key_of(&object);
        let mut resources = self.served.resources.lock().unwrap();
        let Some(resource) = resources.get_mut(&key) else { panic!("the fake serves no {key:?}") };
        let object = self.served.stamp(object);
        let same = |o: &Value| {
            o["metadata"]["name"] == object["metadata"]["name"]
                && o["metadata"]["namespace"] == object["metadata"]["namespace"]
        };
        let event = match resource.items.iter_mut().find(|o| same(o)) {
            Some(existing) => {
                *existing = bare(&object);
                "MODIFIED"
            }
            None => {
                resource.items.push(bare(&object));
                "ADDED"
            }
        };
        drop(resources);
        self.served.record(key, event, object);
    }

    /// Deletes an object of `kind` (`apiVersion` and `kind` given in `like`).
    pub fn delete(&self, like: &Value) {
        let key = key_of(like);
        let mut resources = self.served.resources.lock().unwrap();
        let resource = resources.get_mut(&key).expect("served");
        let same = |o: &Value| {
            o["metadata"]["name"] == like["metadata"]["name"]
                && o["metadata"]["namespace"] == like["metadata"]["namespace"]
        };
        let Some(i) = resource.items.iter().position(same) else { return };
        let mut gone = resource.items.remove(i);
        gone["apiVersion"] = json!(resource.api_version);
        gone["kind"] = json!(resource.kind);
        drop(resources);
        let gone = self.served.stamp(gone);
        self.served.record(key, "DELETED", gone);
    }

    /// Ends every open watch; clients resume from their last resourceVersion.
    pub fn drop_watches(&self) {
        let _ = self.served.changes.send(Change::Close);
    }

    /// Forgets the history so far (as etcd compaction does): a watch from an older version gets 410 Gone.
    pub fn compact(&self) {
        *self.served.oldest.lock().unwrap() = *self.served.version.lock().unwrap();
        self.served.history.lock().unwrap().clear();
    }

    /// From now on, a watch from a compacted version is answered HTTP 410 Gone, not 200 with an error event.
    pub fn answer_gone_as_http(&self) {
        self.served.gone_as_http.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Answers 403 Forbidden to every LIST and WATCH of `plural` from now on.
    pub fn forbid(&self, plural: &str) {
        self.served.forbidden.lock().unwrap().push(plural.to_owned());
    }

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

/// A kubeconfig file (in `dir`) pointing at `url`, without credentials.
pub fn kubeconfig_for(url: &str, dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("kubeconfig");
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {url}\nusers:\n- name: u\n  user: {{}}\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\n"
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// An API server that accepts connections, reads what is sent and never answers; its URL.
pub fn start_silent() -> String {
    start_raw(|mut stream| {
        let mut buf = [0u8; 4096];
        while matches!(std::io::Read::read(&mut stream, &mut buf), Ok(n) if n > 0) {}
    })
}

/// An API server that answers every request `503 Service Unavailable` with `Retry-After: 3600`; its URL.
pub fn start_unavailable() -> String {
    start_raw(|mut stream| {
        let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
        loop {
            // One request head (these clients send no body with GET), then the answer.
            let mut line = String::new();
            loop {
                line.clear();
                match std::io::BufRead::read_line(&mut reader, &mut line) {
                    Ok(0) | Err(_) => return,
                    Ok(_) if line == "\r\n" => break,
                    Ok(_) => {}
                }
            }
            let answer = "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 3600\r\nContent-Length: 0\r\n\r\n";
            if std::io::Write::write_all(&mut stream, answer.as_bytes()).is_err() {
                return;
            }
        }
    })
}

/// Serves each connection to a 127.0.0.1 port with `connection` on a thread of its own, until the test process ends.
fn start_raw(connection: fn(std::net::TcpStream)) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || connection(stream));
        }
    });
    url
}

/// Lists answer at most this many items per page by default, whatever the limit, so every client has to page.
const PAGE: usize = 2;

fn key_of(object: &Value) -> Key {
    let api_version = object["apiVersion"].as_str().unwrap_or_default();
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    (group.to_owned(), version.to_owned(), plural(object["kind"].as_str().unwrap_or_default()))
}

/// An object as a LIST item: without apiVersion and kind.
fn bare(object: &Value) -> Value {
    let mut item = object.clone();
    if let Some(map) = item.as_object_mut() {
        map.remove("apiVersion");
        map.remove("kind");
    }
    item
}

impl Served {
    /// Gives `object` the next resourceVersion.
    fn stamp(&self, mut object: Value) -> Value {
        let mut version = self.version.lock().unwrap();
        *version += 1;
        object["metadata"]["resourceVersion"] = json!(version.to_string());
        object
    }

    fn record(&self, key: Key, event: &'static str, object: Value) {
        let version: u64 = object["metadata"]["resourceVersion"].as_str().and_then(|v| v.parse().ok()).unwrap_or(0);
        let line = json!({"type": event, "object": object}).to_string();
        let namespace = object["metadata"]["namespace"].as_str().map(str::to_owned);
        self.history.lock().unwrap().push((version, key.clone(), event, object));
        let _ = self.changes.send(Change::Event(key, namespace, line));
    }
}

fn plural(kind: &str) -> String {
    match kind {
        "Canary" => "canaries".into(),
        k => format!("{}s", k.to_lowercase()),
    }
}

/// Serves `objects` (manifests with apiVersion and kind) over HTTP until the test process ends.
pub fn start(objects: &[Value]) -> FakeKube {
    serve(objects, false, PAGE)
}

/// As [`start`], over HTTPS with the test certificate (`tests/fixtures/tls`), as real API servers speak.
pub fn start_tls(objects: &[Value]) -> FakeKube {
    serve(objects, true, PAGE)
}

/// As [`start`], with LIST pages of up to `page` items (a cluster of thousands of objects in pages of two would
/// take tens of thousands of requests).
pub fn start_paged(objects: &[Value], page: usize) -> FakeKube {
    serve(objects, false, page)
}

/// The test certificate authority, for kubeconfigs.
pub fn test_ca() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tls/cert.pem").to_owned()
}

fn serve(objects: &[Value], tls: bool, page: usize) -> FakeKube {
    let served = Served {
        resources: Mutex::new(BTreeMap::new()),
        version: Mutex::new(1000),
        history: Mutex::new(Vec::new()),
        oldest: Mutex::new(0),
        changes: tokio::sync::broadcast::channel(1024).0,
        log: Mutex::new(Vec::new()),
        forbidden: Mutex::new(Vec::new()),
        gone_as_http: std::sync::atomic::AtomicBool::new(false),
        page,
    };
    for o in objects {
        let (Some(api_version), Some(kind)) = (o["apiVersion"].as_str(), o["kind"].as_str()) else { continue };
        let o = served.stamp(o.clone());
        let mut resources = served.resources.lock().unwrap();
        let resource = resources.entry(key_of(&o)).or_insert_with(|| Resource {
            kind: kind.to_owned(),
            api_version: api_version.to_owned(),
            namespaced: kind != "Namespace",
            items: Vec::new(),
        });
        resource.items.push(bare(&o));
    }
    let served = Arc::new(served);
    let app = Router::new()
        .route("/api", get(core_versions))
        .route("/apis", get(groups))
        .route("/api/{version}", get(core_resources))
        .route("/apis/{group}/{version}", get(group_resources))
        .route("/api/{version}/{plural}", get(core_list))
        .route("/apis/{group}/{version}/{plural}", get(group_list))
        .route("/api/{version}/namespaces/{namespace}/{plural}", get(core_namespaced_list))
        .route("/apis/{group}/{version}/namespaces/{namespace}/{plural}", get(group_namespaced_list))
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
    let resources = served.resources.lock().unwrap();
    let mut versions: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (group, version, _) in resources.keys().filter(|(g, _, _)| !g.is_empty()) {
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
        .lock()
        .unwrap()
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

/// The objects of a LIST or WATCH: a resource, everywhere or in one namespace.
struct Selection {
    key: Key,
    namespace: Option<String>,
}

impl Selection {
    fn holds(&self, object: &Value) -> bool {
        self.namespace.as_deref().is_none_or(|ns| object["metadata"]["namespace"] == ns)
    }
}

fn list(served: &Arc<Served>, selection: Selection, params: &BTreeMap<String, String>) -> Response {
    let plural = &selection.key.2;
    if served.forbidden.lock().unwrap().contains(plural) {
        let message = format!("{plural} is forbidden: User \"tester\" cannot list resource \"{plural}\"");
        let status = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Forbidden",
                            "message": message, "code": 403});
        return (axum::http::StatusCode::FORBIDDEN, Json(status)).into_response();
    }
    if params.get("watch").is_some_and(|w| w == "true" || w == "1") {
        return watch(served, selection, params);
    }
    let resources = served.resources.lock().unwrap();
    let Some(resource) = resources.get(&selection.key) else {
        return axum::http::StatusCode::NOT_FOUND.into_response();
    };
    let start: usize = params.get("continue").and_then(|c| c.parse().ok()).unwrap_or(0);
    let limit: usize = params.get("limit").and_then(|l| l.parse().ok()).unwrap_or(usize::MAX).min(served.page);
    let selected: Vec<&Value> = resource.items.iter().filter(|o| selection.holds(o)).collect();
    let items: Vec<Value> = selected.iter().skip(start).take(limit).map(|&o| o.clone()).collect();
    let next = start + items.len();
    let mut metadata = json!({"resourceVersion": served.version.lock().unwrap().to_string()});
    if next < selected.len() {
        metadata["continue"] = json!(next.to_string());
    }
    let (group, version, _) = &selection.key;
    let group_version = if group.is_empty() { version.to_owned() } else { format!("{group}/{version}") };
    let kind = format!("{}List", resource.kind);
    Json(json!({"apiVersion": group_version, "kind": kind, "metadata": metadata, "items": items})).into_response()
}

/// A WATCH: the changes after `resourceVersion` (410 Gone when they were compacted), a bookmark, then changes as
/// they happen, until `timeoutSeconds` or [`FakeKube::drop_watches`].
fn watch(served: &Arc<Served>, selection: Selection, params: &BTreeMap<String, String>) -> Response {
    let key = selection.key.clone();
    let from: u64 = params.get("resourceVersion").and_then(|v| v.parse().ok()).unwrap_or(0);
    let mut lines: Vec<String> = Vec::new();
    if from < *served.oldest.lock().unwrap() {
        let status = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
            "reason": "Expired", "code": 410, "message": format!("too old resource version: {from}")});
        if served.gone_as_http.load(std::sync::atomic::Ordering::SeqCst) {
            return (axum::http::StatusCode::GONE, Json(status)).into_response();
        }
        let gone = json!({"type": "ERROR", "object": status});
        return axum::body::Body::from(format!("{gone}\n")).into_response();
    }
    for (version, k, event, object) in served.history.lock().unwrap().iter() {
        if *version > from && *k == key && selection.holds(object) {
            lines.push(json!({"type": event, "object": object}).to_string());
        }
    }
    let (api_version, kind) = {
        let resources = served.resources.lock().unwrap();
        let r = &resources[&key];
        (r.api_version.clone(), r.kind.clone())
    };
    let now = served.version.lock().unwrap().to_string();
    let bookmark = json!({"type": "BOOKMARK", "object": {"apiVersion": api_version, "kind": kind,
        "metadata": {"resourceVersion": now, "annotations": {"k8s.io/initial-events-end": "true"}}}});
    lines.push(bookmark.to_string());
    let timeout: u64 = params.get("timeoutSeconds").and_then(|t| t.parse().ok()).unwrap_or(300);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(timeout);
    let receiver = served.changes.subscribe();
    let replay = futures::stream::iter(lines.into_iter().map(|l| Ok::<_, std::convert::Infallible>(format!("{l}\n"))));
    let live = futures::stream::unfold((receiver, selection), move |(mut receiver, selection)| async move {
        loop {
            match tokio::time::timeout_at(deadline, receiver.recv()).await {
                Ok(Ok(Change::Event(k, namespace, line)))
                    if k == selection.key
                        && selection.namespace.as_ref().is_none_or(|ns| namespace.as_ref() == Some(ns)) =>
                {
                    return Some((Ok(format!("{line}\n")), (receiver, selection)));
                }
                Ok(Ok(Change::Event(..))) | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => continue,
                _ => return None,
            }
        }
    });
    axum::body::Body::from_stream(futures::StreamExt::chain(replay, live)).into_response()
}

async fn core_list(
    State(served): State<Arc<Served>>,
    Path((version, plural)): Path<(String, String)>,
    Query(params): Query<BTreeMap<String, String>>,
) -> Response {
    list(&served, Selection { key: (String::new(), version, plural), namespace: None }, &params)
}

async fn core_namespaced_list(
    State(served): State<Arc<Served>>,
    Path((version, namespace, plural)): Path<(String, String, String)>,
    Query(params): Query<BTreeMap<String, String>>,
) -> Response {
    list(&served, Selection { key: (String::new(), version, plural), namespace: Some(namespace) }, &params)
}

async fn group_namespaced_list(
    State(served): State<Arc<Served>>,
    Path((group, version, namespace, plural)): Path<(String, String, String, String)>,
    Query(params): Query<BTreeMap<String, String>>,
) -> Response {
    list(&served, Selection { key: (group, version, plural), namespace: Some(namespace) }, &params)
}

async fn group_list(
    State(served): State<Arc<Served>>,
    Path((group, version, plural)): Path<(String, String, String)>,
    Query(params): Query<BTreeMap<String, String>>,
) -> Response {
    list(&served, Selection { key: (group, version, plural), namespace: None }, &params)
}
