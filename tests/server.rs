//! The HTTP API and pages, in process, on the simulated bookinfo canary (real manifests parsed from a snapshot, the
//! in-memory engine over its telemetry): every endpoint, its 400s, and the pages a user clicks through.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "tests fail loudly"
)]

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use meshlens::graph::ScrapeLabels;
use meshlens::server::access::Access;
use meshlens::server::{AppState, Clock, World, router};
use meshlens::sim::{Fault, Scenario, SimOptions};
use meshlens::telemetry::{Backend, MemoryStore};
use serde_json::Value;
use tower::ServiceExt;

fn app() -> Router {
    app_of(&SimOptions::new(Scenario::BookinfoCanary))
}

fn app_of(opts: &SimOptions) -> Router {
    router(state_of(opts))
}

fn state_of(opts: &SimOptions) -> AppState {
    let dir = tempfile::tempdir().unwrap();
    let world = meshlens::sim::build(opts);
    world.write_to(dir.path()).unwrap();
    let snapshot = meshlens::snapshot::load(dir.path()).unwrap();
    let mut store = MemoryStore::new();
    for file in &snapshot.metrics_files {
        store.load_openmetrics("istio.om", meshlens::snapshot::open_metrics(file).unwrap()).unwrap();
    }
    let backend = Backend::Memory(Arc::new(tokio::sync::RwLock::new(store)));
    let clock = Clock::Fixed(world.time.as_second());
    AppState::new(World::new(snapshot.inventory), backend, ScrapeLabels::default(), clock)
}

async fn get(app: &Router, uri: &str) -> (StatusCode, String) {
    let response = app.clone().oneshot(Request::get(uri).body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

async fn get_json(app: &Router, uri: &str) -> Value {
    let (status, body) = get(app, uri).await;
    assert_eq!(status, StatusCode::OK, "{uri}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{uri}: {e}: {body}"))
}

/// A 400 whose JSON names `parameter`.
async fn assert_bad(app: &Router, uri: &str, parameter: &str) {
    let (status, body) = get(app, uri).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
    let error: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["parameter"], parameter, "{uri}: {body}");
    assert!(error["error"].as_str().is_some_and(|e| !e.is_empty()), "{body}");
}

fn node<'a>(graph: &'a Value, name: &str) -> &'a Value {
    graph["nodes"].as_array().unwrap().iter().find(|n| n["name"] == name).unwrap_or_else(|| panic!("no node {name}"))
}

#[tokio::test]
async fn pages_and_the_api_show_the_doctors_findings() {
    let mut opts = SimOptions::new(Scenario::BookinfoCanary);
    opts.fault = Some(Fault::MeshUnbound);
    let app = app_of(&opts);
    let (status, page) = get(&app, "/workloads/bookinfo/reviews").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("class=\"findings\"") && page.contains("vs-not-bound-to-mesh"), "{page}");
    assert!(page.contains("split-drift") && page.contains("Add `mesh` to spec.gateways"), "{page}");
    let (_, graph) = get(&app, "/graph?namespaces=bookinfo").await;
    assert!(
        graph.contains("vs-not-bound-to-mesh") && graph.contains("href=\"/workloads/bookinfo/reviews\""),
        "{graph}"
    );
    let rollout = get_json(&app, "/api/namespaces/bookinfo/rollouts/reviews").await;
    let codes: Vec<&str> =
        rollout["observedSplit"]["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["split-drift", "vs-not-bound-to-mesh"]);
    // A healthy Rollout's page has no findings section.
    let (_, page) = get(&app_of(&SimOptions::new(Scenario::BookinfoCanary)), "/workloads/bookinfo/reviews").await;
    assert!(!page.contains("class=\"findings\""), "{page}");
}

#[tokio::test]
async fn a_token_guards_everything_but_the_probe() {
    let token = "a-long-random-token-0123456789";
    let access = Access { token: Some(token.to_owned()), ..Access::default() };
    let app = router(state_of(&SimOptions::new(Scenario::BookinfoCanary)).with_access(access));
    let send = |request: Request<Body>| {
        let app = app.clone();
        async move { app.oneshot(request).await.unwrap() }
    };
    let api = send(Request::get("/api/workloads").body(Body::empty()).unwrap()).await;
    assert_eq!(api.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(api.headers()["www-authenticate"], "Bearer");
    let wrong =
        send(Request::get("/metrics").header("authorization", "Bearer nope").body(Body::empty()).unwrap()).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let bearer = format!("{scheme} {token}");
        let ok = send(Request::get("/api/workloads").header("authorization", &bearer).body(Body::empty()).unwrap());
        assert_eq!(ok.await.status(), StatusCode::OK, "{scheme}");
    }
    assert_eq!(send(Request::get("/healthz").body(Body::empty()).unwrap()).await.status(), StatusCode::OK);
    // A browser is sent to sign in; the sign-in starts a session whose cookie is not the token.
    let page = send(Request::get("/").header("accept", "text/html").body(Body::empty()).unwrap()).await;
    assert_eq!((page.status(), page.headers()["location"].to_str().unwrap()), (StatusCode::SEE_OTHER, "/login"));
    let form = |t: &str| {
        Request::post("/login")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(format!("token={t}")))
            .unwrap()
    };
    assert_eq!(send(form("guess")).await.status(), StatusCode::UNAUTHORIZED);
    let signed_in = send(form(token)).await;
    let cookie = signed_in.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(!cookie.contains(token) && !cookie.contains("Secure"), "a random session, plain HTTP: {cookie}");
    let session = cookie.split(';').next().unwrap().to_owned();
    let page = send(Request::get("/workloads").header("cookie", &session).body(Body::empty()).unwrap()).await;
    assert_eq!(page.status(), StatusCode::OK);
    let forged = send(Request::get("/workloads").header("cookie", "meshlens_session=00").body(Body::empty()).unwrap());
    assert_eq!(forged.await.status(), StatusCode::UNAUTHORIZED);
    // Failed sign-ins are limited, wrong bearer tokens counted too: after five in a minute, even the right token
    // waits.
    for _ in 0..3 {
        assert_eq!(send(form("guess")).await.status(), StatusCode::UNAUTHORIZED);
    }
    let limited = send(form(token)).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.headers()["retry-after"], "60");
}

#[tokio::test]
async fn without_a_token_only_requests_addressed_to_this_machine_are_answered() {
    let access = Access { hosts: vec!["meshlens.example".to_owned()], ..Access::default() };
    let app = router(state_of(&SimOptions::new(Scenario::BookinfoCanary)).with_access(access));
    let status = |host: &str, origin: Option<&str>| {
        let mut request = Request::get("/api/workloads").header("host", host);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        let app = app.clone();
        async move { app.oneshot(request.body(Body::empty()).unwrap()).await.unwrap().status() }
    };
    for host in ["127.0.0.1:20001", "localhost:20001", "[::1]:20001", "10.0.0.7:20001", "meshlens.example"] {
        assert_eq!(status(host, None).await, StatusCode::OK, "{host}");
    }
    // DNS rebinding: a page of evil.example whose name now points here.
    assert_eq!(status("evil.example:20001", None).await, StatusCode::MISDIRECTED_REQUEST);
    assert_eq!(status("localhost:20001", Some("http://localhost:20001")).await, StatusCode::OK);
    assert_eq!(status("localhost:20001", Some("https://evil.example")).await, StatusCode::FORBIDDEN);
    assert_eq!(status("localhost:20001", Some("null")).await, StatusCode::FORBIDDEN);
    // HTTP/2 names the host in :authority, which reaches the URI.
    let h2 = Request::get("http://evil.example/api/workloads").body(Body::empty()).unwrap();
    assert_eq!(app.clone().oneshot(h2).await.unwrap().status(), StatusCode::MISDIRECTED_REQUEST);
}

#[tokio::test]
async fn the_graph_api_draws_the_focus_it_is_given() {
    let app = app();
    let whole = get_json(&app, "/api/graph?namespaces=bookinfo").await;
    let focused = get_json(&app, "/api/graph?focus=workload/bookinfo/ratings-v1").await;
    let names = |g: &Value| -> Vec<String> {
        g["nodes"].as_array().unwrap().iter().map(|n| n["name"].as_str().unwrap().to_owned()).collect()
    };
    assert!(names(&focused).contains(&"ratings-v1".to_owned()), "{:?}", names(&focused));
    assert!(names(&focused).len() < names(&whole).len(), "{:?} of {:?}", names(&focused), names(&whole));
}

#[tokio::test]
async fn a_wrong_method_is_refused_with_what_is_allowed_and_the_apis_json() {
    let app = app();
    let response = app.clone().oneshot(Request::post("/api/graph").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    let allow = response.headers()["allow"].to_str().unwrap().to_owned();
    assert!(allow.contains("GET"), "{allow}");
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let error: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(error["error"], "/api/graph does not answer POST");
    let page = app.oneshot(Request::delete("/workloads").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(page.status(), StatusCode::METHOD_NOT_ALLOWED);
    let body = String::from_utf8(page.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    assert!(body.contains("/workloads does not answer DELETE") && body.contains("<html"), "{body}");
}

#[tokio::test]
async fn health() {
    assert_eq!(get(&app(), "/healthz").await, (StatusCode::OK, "ok\n".to_owned()));
}

#[tokio::test]
async fn graph_api_shows_reviews_as_one_rollout_with_its_split() {
    let app = app();
    let graph = get_json(&app, "/api/graph?namespaces=bookinfo&duration=10m").await;
    let reviews = node(&graph, "reviews");
    assert_eq!(reviews["workloadKind"], "Rollout");
    assert_eq!(reviews["url"], "/workloads/bookinfo/reviews");
    let names: Vec<&str> = graph["nodes"].as_array().unwrap().iter().filter_map(|n| n["name"].as_str()).collect();
    assert!(!names.iter().any(|n| n.starts_with("reviews-")), "no ReplicaSet-named node: {names:?}");
    let revisions = reviews["revisions"].as_array().unwrap();
    assert_eq!(revisions.len(), 2);
    for (role, share) in [("stable", 0.8), ("canary", 0.2)] {
        let r = revisions.iter().find(|r| r["role"] == role).unwrap();
        assert!((r["observedShare"].as_f64().unwrap() - share).abs() < 0.03, "{role}: {r}");
        assert!((r["intendedWeight"].as_f64().unwrap() - share).abs() < 1e-9, "{role}: {r}");
    }
    // Another graph type and a time inside the data.
    let apps = get_json(&app, "/api/graph?namespaces=bookinfo&type=versionedApp&at=2026-11-25T09:58:00Z").await;
    assert_eq!(apps["graphType"], "versionedApp");
    assert_eq!(apps["time"], "2026-11-25T09:58:00Z");
}

#[tokio::test]
async fn graph_api_refuses_bad_parameters_by_name() {
    let app = app();
    for ns in ["a%22b", "book%7Dinfo", "book.*", "a%7Cb", "Bookinfo", "nowhere"] {
        assert_bad(&app, &format!("/api/graph?namespaces={ns}"), "namespaces").await;
    }
    assert_bad(&app, "/api/graph?type=bogus", "type").await;
    assert_bad(&app, "/api/graph?duration=forever", "duration").await;
    assert_bad(&app, "/api/graph?duration=0s", "duration").await;
    assert_bad(&app, "/api/graph?at=yesterday", "at").await;
    assert_bad(&app, "/api/graph?focus=reviews", "focus").await;
    assert_bad(&app, "/api/graph?focus=deployment/bookinfo/reviews", "focus").await;
    assert_bad(&app, "/api/kiali/namespaces/graph?graphType=apps", "graphType").await;
    assert_bad(&app, "/api/kiali/namespaces/graph?queryTime=noon", "queryTime").await;
    assert_bad(&app, "/api/namespaces/bookinfo/workloads/reviews?duration=-5m", "duration").await;
    for ns in [",", "bookinfo,", ",bookinfo", "bookinfo,,istio-system", "%20,%20"] {
        assert_bad(&app, &format!("/api/graph?namespaces={ns}"), "namespaces").await;
    }
    // The window's bound is the CLI's: past 30 days, or past what seconds hold, is refused, never wrapped.
    for duration in ["31d", "2000000000d", "200000000000d", "18446744073709551616"] {
        assert_bad(&app, &format!("/api/graph?duration={duration}"), "duration").await;
    }
    assert_eq!(get(&app, "/api/graph?duration=30d").await.0, StatusCode::OK);
    // A parameter given twice is refused by name, whichever values it has.
    assert_bad(&app, "/api/graph?namespaces=bookinfo&namespaces=bookinfo", "namespaces").await;
    assert_bad(&app, "/api/graph?type=app&duration=1m&type=app", "type").await;
    assert_bad(&app, "/api/kiali/namespaces/graph?graphType=app&graphType=workload", "graphType").await;
    assert_bad(&app, "/api/namespaces/bookinfo/rollouts/reviews?at=1&at=2", "at").await;
    // Parameters meshlens does not read (Kiali's clients send many) are no reason to refuse.
    assert_eq!(get(&app, "/api/kiali/namespaces/graph?injectServiceNodes=true&boxBy=app").await.0, StatusCode::OK);
    let (status, page) = get(&app, "/graph?duration=1m&duration=1m").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("duration") && page.contains("more than once"), "{page}");
}

#[tokio::test]
async fn kiali_api_speaks_kialis_format() {
    let app = app();
    let kiali =
        get_json(&app, "/api/kiali/namespaces/graph?namespaces=bookinfo&graphType=workload&duration=600s").await;
    assert_eq!(kiali["graphType"], "workload");
    assert_eq!(kiali["duration"], 600);
    let nodes = kiali["elements"]["nodes"].as_array().unwrap();
    let reviews = nodes.iter().find(|n| n["data"]["workload"] == "reviews").expect("reviews node");
    assert_eq!(reviews["data"]["hasTrafficShifting"], true);
    assert!(!kiali["elements"]["edges"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn kiali_node_graphs_show_one_node_and_its_neighbours() {
    let app = app();
    let base = "/api/kiali/namespaces/bookinfo";
    let name = |n: &Value| {
        let d = &n["data"];
        [&d["workload"], &d["app"], &d["service"]].iter().find_map(|v| v.as_str()).unwrap_or_default().to_owned()
    };
    for (path, focus) in [
        ("/workloads/reviews/graph", "reviews"),
        ("/applications/reviews/graph?graphType=app", "reviews"),
        ("/services/reviews/graph", "reviews"),
    ] {
        let kiali = get_json(&app, &format!("{base}{path}")).await;
        let nodes = kiali["elements"]["nodes"].as_array().unwrap();
        let ids: std::collections::BTreeMap<&str, String> =
            nodes.iter().map(|n| (n["data"]["id"].as_str().unwrap(), name(n))).collect();
        let edges = kiali["elements"]["edges"].as_array().unwrap();
        assert!(!edges.is_empty(), "{path}");
        for e in edges {
            let ends = [&ids[e["data"]["source"].as_str().unwrap()], &ids[e["data"]["target"].as_str().unwrap()]];
            assert!(ends.iter().any(|n| *n == focus), "{path}: an edge not touching {focus}: {ends:?}");
        }
        assert!(!ids.values().any(|n| n == "details"), "{path}: details neither calls nor is called by reviews");
    }
    let versions =
        get_json(&app, &format!("{base}/applications/reviews/versions/v1/graph?graphType=versionedApp")).await;
    assert_eq!(versions["graphType"], "versionedApp");
    for (path, blamed) in [
        ("/api/kiali/namespaces/nosuch/workloads/reviews/graph", "namespaces"),
        ("/api/kiali/namespaces/bookinfo/workloads/a%7Bb/graph", "path"),
        ("/api/kiali/namespaces/bookinfo/services/reviews/graph?graphType=apps", "graphType"),
    ] {
        assert_bad(&app, path, blamed).await;
    }
}

#[tokio::test]
async fn workloads_and_single_object_apis() {
    let app = app();
    let workloads = get_json(&app, "/api/workloads").await;
    let reviews = workloads.as_array().unwrap().iter().find(|w| w["name"] == "reviews").unwrap();
    assert_eq!(reviews["kind"], "Rollout");
    let roles: Vec<String> =
        reviews["replicaSets"].as_array().unwrap().iter().map(|rs| rs["roles"].to_string()).collect();
    assert!(roles.iter().any(|r| r.contains("stable")) && roles.iter().any(|r| r.contains("canary")), "{roles:?}");

    let one = get_json(&app, "/api/namespaces/bookinfo/workloads/reviews").await;
    assert_eq!(one["pods"].as_array().unwrap().len(), reviews["pods"].as_array().unwrap().len());
    assert_eq!(one["traffic"]["revisions"].as_array().unwrap().len(), 2);
    assert!(!one["traffic"]["inbound"].as_array().unwrap().is_empty());

    let rollout = get_json(&app, "/api/namespaces/bookinfo/rollouts/reviews").await;
    assert_eq!(rollout["setWeight"], 20);
    assert_eq!(rollout["observedSplit"]["revisions"].as_array().unwrap().len(), 2);
    // The split over the window: a point every 10 s of the 10 minutes, each near 80/20, beside the weights.
    let history = &rollout["history"];
    assert_eq!(history["stepSeconds"], 10);
    let points = history["points"].as_array().unwrap();
    assert!(points.len() >= 50, "{} points", points.len());
    for p in points {
        let canary = p["revisions"].as_array().unwrap().iter().find(|r| r["role"] == "canary").unwrap();
        assert!((canary["observedShare"].as_f64().unwrap() - 0.2).abs() < 0.08, "{p}");
    }
    let intended = history["intended"].as_array().unwrap();
    assert_eq!(intended.len(), 1, "a snapshot knows one step: {intended:?}");
    let weights = intended[0]["revisions"].as_array().unwrap();
    assert!(weights.iter().any(|i| i["role"] == "canary" && i["intendedWeight"] == 0.2), "{weights:?}");

    for missing in ["/api/namespaces/bookinfo/workloads/nope", "/api/namespaces/bookinfo/rollouts/productpage-v1"] {
        let (status, body) = get(&app, missing).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{missing}: {body}");
        assert!(body.contains("\"error\""), "{body}");
    }
}

#[tokio::test]
async fn pages_link_the_graph_to_one_workload_page_with_every_pod() {
    let app = app();
    let (status, graph) = get(&app, "/graph?namespaces=bookinfo").await;
    assert_eq!(status, StatusCode::OK);
    assert!(graph.contains("<svg"), "the graph is drawn");
    assert!(graph.contains(r#"<a href="/workloads/bookinfo/reviews">"#), "reviews links to its page");
    assert_eq!(graph.matches(r#"data-name="reviews""#).count(), 1, "reviews is one node");
    assert!(graph.contains(r#"class="canary""#), "the split is drawn inside the node");

    let (status, page) = get(&app, "/workloads/bookinfo/reviews").await;
    assert_eq!(status, StatusCode::OK);
    let json = get_json(&app, "/api/namespaces/bookinfo/workloads/reviews").await;
    for rs in json["replicaSets"].as_array().unwrap() {
        assert!(page.contains(rs["name"].as_str().unwrap()), "ReplicaSet {rs} on the page");
    }
    let pods = json["pods"].as_array().unwrap();
    assert!(pods.len() >= 2);
    for pod in pods {
        assert!(page.contains(pod["name"].as_str().unwrap()), "pod {} on the page", pod["name"]);
    }
    assert!(page.contains(r#"class="observed canary""#), "split bars");
    assert!(page.contains(r#"<polyline class="observed canary""#), "the split over time is charted");

    let (status, list) = get(&app, "/workloads").await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains(r#"href="/workloads/bookinfo/reviews""#));
    let (status, rollouts) = get(&app, "/rollouts").await;
    assert_eq!(status, StatusCode::OK);
    assert!(rollouts.contains("setWeight 20%") && rollouts.contains(r#"class="observed stable""#), "{rollouts}");

    let (status, error) = get(&app, "/graph?namespaces=%22%3E%3Cscript%3E").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(!error.contains("<script>"), "user text is escaped on error pages");
}

#[tokio::test]
async fn static_assets_are_served() {
    let app = app();
    let (status, css) = get(&app, "/static/style.css").await;
    assert_eq!(status, StatusCode::OK);
    assert!(css.contains(".canvas"));
    let (status, js) = get(&app, "/static/meshlens.js").await;
    assert_eq!(status, StatusCode::OK);
    assert!(js.contains("setUpGraph"));
}

#[tokio::test]
async fn a_gateway_api_routed_rollout_shows_its_route_on_its_page_and_in_metrics() {
    let mut opts = SimOptions::new(Scenario::Gatewayapi);
    opts.fault = Some(Fault::WeightsDisagree);
    let app = app_of(&opts);
    let (status, page) = get(&app, "/workloads/bookinfo/reviews").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Routed by <code>HTTPRoute bookinfo/reviews</code>"), "{page}");
    assert!(page.contains("routes-disagree-with-rollout"), "the doctor's finding is on the page");
    let (status, metrics) = get(&app, "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    let routed: Vec<&str> = metrics.lines().filter(|l| l.starts_with("meshlens_revision_routed_weight{")).collect();
    assert_eq!(routed.len(), 2, "{metrics}");
    assert!(routed.iter().all(|l| l.contains(r#"workload="reviews""#) && l.ends_with(" 0.5")), "{routed:?}");
}

#[tokio::test]
async fn kiali_rate_parameters_are_checked() {
    let app = app();
    let base = "/api/kiali/namespaces/graph?namespaces=bookinfo";
    for rates in ["rateTcp=total", "rateTcp=none&rateHttp=none", "rateGrpc=requests&rateHttp=requests&rateTcp=sent"] {
        get_json(&app, &format!("{base}&{rates}")).await;
    }
    let no_http = get_json(&app, &format!("{base}&rateHttp=none")).await;
    let protocols: BTreeSet<&str> = no_http["elements"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["data"]["traffic"]["protocol"].as_str().unwrap())
        .collect();
    assert!(!protocols.contains("http"), "{protocols:?}");
    assert_bad(&app, &format!("{base}&rateTcp=bytes"), "rateTcp").await;
    assert_bad(&app, &format!("{base}&rateGrpc=sent"), "rateGrpc").await;
    assert_bad(&app, &format!("{base}&rateHttp=total"), "rateHttp").await;
    for ambient in ["ambientTraffic=none", "ambientTraffic=ztunnel&waypoints=false"] {
        get_json(&app, &format!("{base}&{ambient}")).await;
    }
    assert_bad(&app, &format!("{base}&ambientTraffic=all"), "ambientTraffic").await;
    assert_bad(&app, &format!("{base}&waypoints=maybe"), "waypoints").await;
}
