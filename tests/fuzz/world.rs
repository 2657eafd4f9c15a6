//! What the campaigns share: simulated worlds to fuzz against, an in-process server over them, and the checks
//! every answer must pass.

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, Uri};
use http_body_util::BodyExt;
use meshlens::graph::ScrapeLabels;
use meshlens::inventory::Inventory;
use meshlens::server::{AppState, Clock, World, router};
use meshlens::sim::{Scenario, SimOptions};
use meshlens::snapshot::Snapshot;
use meshlens::telemetry::{Backend, MemoryStore};

use crate::harness::Verdict;

/// A simulated snapshot on disk, loaded.
pub struct Simulated {
    pub dir: tempfile::TempDir,
    pub snapshot: Snapshot,
    pub time: i64,
}

pub fn simulated(scenario: Scenario) -> Simulated {
    let dir = tempfile::tempdir().unwrap();
    let world = meshlens::sim::build(&SimOptions::new(scenario));
    world.write_to(dir.path()).unwrap();
    let snapshot = meshlens::snapshot::load(dir.path()).unwrap();
    Simulated { dir, snapshot, time: world.time.as_second() }
}

/// The scenarios whose files seed the campaigns (the scale world is the same shapes, larger).
pub const SCENARIOS: &[Scenario] =
    &[Scenario::BookinfoCanary, Scenario::Bluegreen, Scenario::Flagger, Scenario::IstioUpgrade, Scenario::Gatewayapi];

/// The snapshot's telemetry in the in-memory engine.
pub fn memory_backend(sim: &Simulated) -> Backend {
    let mut store = MemoryStore::new();
    for file in &sim.snapshot.metrics_files {
        store.load_openmetrics("istio.om", meshlens::snapshot::open_metrics(file).unwrap()).unwrap();
    }
    Backend::Memory(Arc::new(tokio::sync::RwLock::new(store)))
}

pub fn app(inventory: Inventory, backend: Backend, time: i64) -> Router {
    router(AppState::new(World::new(inventory), backend, ScrapeLabels::default(), Clock::Fixed(time)))
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

/// Requests each URI (one that is not a valid URI is not a request a server can get, and is passed over). A 5xx
/// other than those in `allowed`, an API answer that is not JSON, or an API error without its message fails.
pub async fn visit(app: &Router, uris: &[String], allowed: &[StatusCode]) -> Verdict {
    for uri in uris {
        let Ok(parsed) = Uri::try_from(uri.as_str()) else { continue };
        let request = Request::get(parsed).body(Body::empty()).map_err(|e| format!("{uri}: {e}"))?;
        let response = tower::ServiceExt::oneshot(app.clone(), request).await.map_err(|e| format!("{uri}: {e}"))?;
        let status = response.status();
        let body = response.into_body().collect().await.map_err(|e| format!("{uri}: {e}"))?.to_bytes();
        let text = || String::from_utf8_lossy(&body).chars().take(400).collect::<String>();
        if status.is_server_error() && !allowed.contains(&status) {
            return Err(format!("{uri}: {status}: {}", text()));
        }
        if uri.starts_with("/api/") {
            let json: serde_json::Value =
                serde_json::from_slice(&body).map_err(|e| format!("{uri}: {status}, not JSON ({e}): {}", text()))?;
            if !status.is_success() && json["error"].as_str().is_none_or(str::is_empty) {
                return Err(format!("{uri}: {status} without an error message: {}", text()));
            }
        }
    }
    Ok(())
}

/// `text` as one URL path segment or query value: every byte but the unreserved ones percent-encoded.
pub fn encode(text: &[u8]) -> String {
    text.iter()
        .map(|&b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Every manifest file of the upstream fixtures, as text.
pub fn upstream_manifests() -> Vec<Vec<u8>> {
    let mut files = Vec::new();
    collect(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/upstream"), &mut files);
    assert!(files.len() > 100, "the upstream fixtures are missing: {} files", files.len());
    files
}

fn collect(dir: &Path, out: &mut Vec<Vec<u8>>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml" || e == "json") {
            out.push(std::fs::read(&path).unwrap());
        }
    }
}

/// The family lines and one series in five of the last 90 seconds of a world's telemetry: about 100 kB.
pub fn recent_sample(sim: &Simulated) -> Vec<u8> {
    let text = meshlens::snapshot::read_metrics(&sim.snapshot.metrics_files[0]).unwrap();
    let since = sim.time - 90;
    let mut out = String::new();
    for line in text.lines() {
        let keep = if line.starts_with('#') {
            line != "# EOF"
        } else {
            let recent = line.rsplit(' ').next().and_then(|t| t.parse::<i64>().ok()).is_some_and(|t| t >= since);
            let series = line.rsplit_once('}').map_or(line, |(s, _)| s);
            recent && series.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b))) % 5 == 0
        };
        if keep {
            out.push_str(line);
            out.push('\n');
        }
    }
    out.push_str("# EOF\n");
    out.into_bytes()
}

/// The distinct label sets (the metric name as `__name__`) of [`recent_sample`]'s series.
pub fn recent_series(sim: &Simulated) -> Vec<Vec<(String, String)>> {
    let mut series = std::collections::BTreeSet::new();
    meshlens::telemetry::openmetrics::parse(recent_sample(sim).as_slice(), |sample| {
        let mut labels = vec![("__name__".to_owned(), sample.name.to_owned())];
        labels.extend(sample.labels.into_iter().map(|(k, v)| (k.to_owned(), v)));
        series.insert(labels);
    })
    .unwrap();
    series.into_iter().collect()
}
