//! Real query engines for tests: one Prometheus (and one VictoriaMetrics) per test binary, on 127.0.0.1, filled
//! with simulator snapshots. Each scenario is simulated at its own time so their series never overlap.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use meshlens::sim::{Scenario, SimOptions};

/// A simulated scenario written to disk.
pub struct Simulated {
    pub scenario: Scenario,
    pub dir: PathBuf,
    pub time: i64,
}

/// The scenarios every engine holds, each a day apart.
pub const SCENARIOS: [Scenario; 4] =
    [Scenario::BookinfoCanary, Scenario::IstioUpgrade, Scenario::Bluegreen, Scenario::Flagger];

fn workdir() -> &'static tempfile::TempDir {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("temp dir"))
}

/// The scenarios as snapshot directories (written once per test binary).
pub fn simulated() -> &'static [Simulated] {
    static SIMS: OnceLock<Vec<Simulated>> = OnceLock::new();
    SIMS.get_or_init(|| {
        SCENARIOS
            .iter()
            .enumerate()
            .map(|(i, &scenario)| {
                let mut opts = SimOptions::new(scenario);
                // Days before the default time: VictoriaMetrics refuses samples from the future.
                opts.time -= jiff::SignedDuration::from_hours(24 * i as i64);
                let dir = workdir().path().join(format!("sim-{i}"));
                let world = meshlens::sim::build(&opts);
                world.write_to(&dir).expect("snapshot written");
                Simulated { scenario, dir, time: world.time.as_second() }
            })
            .collect()
    })
}

pub fn simulated_scenario(scenario: Scenario) -> &'static Simulated {
    simulated().iter().find(|s| s.scenario == scenario).expect("scenario simulated")
}

/// A program the tests need. Missing is a failure, never a skip.
fn require(program: &str) -> PathBuf {
    let found = std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|d| d.join(program)).find(|p| p.is_file()));
    found.unwrap_or_else(|| panic!("{program} is not installed: run scripts/install-test-deps (Debian packages)"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// Starts `program args` so that it dies with the test process: a shell watches our pid and kills it.
fn spawn_tied_to_test(program: &Path, args: &[String], log: &Path) {
    let me = std::process::id();
    let quoted: Vec<String> = std::iter::once(program.display().to_string())
        .chain(args.iter().cloned())
        .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
        .collect();
    let script = format!(
        "{} > '{}' 2>&1 & child=$!; while kill -0 {me} 2>/dev/null && kill -0 $child 2>/dev/null; do sleep 1; done; kill $child 2>/dev/null",
        quoted.join(" "),
        log.display()
    );
    let watcher = Command::new("sh").arg("-c").arg(script).stdin(Stdio::null()).spawn().expect("sh runs");
    // The watcher exits on its own when the test process does; keep its handle for the process's lifetime.
    static WATCHERS: std::sync::Mutex<Vec<std::process::Child>> = std::sync::Mutex::new(Vec::new());
    WATCHERS.lock().expect("watchers").push(watcher);
}

/// Runs a future to completion on a fresh runtime (tests are synchronous).
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime").block_on(future)
}

fn http_ok(url: &str) -> bool {
    block_on(async { reqwest::get(url).await.is_ok_and(|r| r.status().is_success()) })
}

fn http_post(url: &str, body: String) {
    block_on(async {
        let response = reqwest::Client::new().post(url).body(body).send().await.expect("POST sent");
        assert!(response.status().is_success(), "POST {url}: {}", response.status());
    });
}

fn wait_ready(url: &str, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if http_ok(url) {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("{url} not ready after 60 s; log:\n{}", std::fs::read_to_string(log).unwrap_or_default());
}

/// The test binary's Prometheus, backfilled with every simulated scenario. Returns its URL.
pub fn prometheus() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let (prometheus, promtool) = (require("prometheus"), require("promtool"));
        let data = workdir().path().join("prometheus-data");
        for sim in simulated() {
            let file = sim.dir.join("metrics/istio.om");
            let out = Command::new(&promtool)
                .args(["tsdb", "create-blocks-from", "openmetrics"])
                .arg(&file)
                .arg(&data)
                .output()
                .expect("promtool runs");
            assert!(
                out.status.success(),
                "promtool backfill of {}: {}",
                file.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let config = workdir().path().join("prometheus.yml");
        std::fs::write(&config, "global:\n  scrape_interval: 30s\n").unwrap();
        let port = free_port();
        let args = vec![
            format!("--config.file={}", config.display()),
            format!("--storage.tsdb.path={}", data.display()),
            format!("--web.listen-address=127.0.0.1:{port}"),
            "--storage.tsdb.retention.time=100y".to_string(),
        ];
        let log = workdir().path().join("prometheus.log");
        spawn_tied_to_test(&prometheus, &args, &log);
        let url = format!("http://127.0.0.1:{port}");
        wait_ready(&format!("{url}/-/ready"), &log);
        url
    })
}

/// The test binary's VictoriaMetrics, with every simulated scenario imported. Returns its URL.
pub fn victoria_metrics() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let vm = require("victoria-metrics");
        let data = workdir().path().join("vm-data");
        let port = free_port();
        let args = vec![
            format!("-storageDataPath={}", data.display()),
            format!("-httpListenAddr=127.0.0.1:{port}"),
            "-retentionPeriod=100y".to_string(),
            "-search.disableCache".to_string(),
            // Istio series carry ~37 labels with the scrape labels; the default limit (30) silently drops some.
            "-maxLabelsPerTimeseries=100".to_string(),
        ];
        let log = workdir().path().join("vm.log");
        spawn_tied_to_test(&vm, &args, &log);
        let url = format!("http://127.0.0.1:{port}");
        wait_ready(&format!("{url}/health"), &log);
        for sim in simulated() {
            // The Prometheus text format import takes millisecond timestamps.
            let text = std::fs::read_to_string(sim.dir.join("metrics/istio.om")).unwrap();
            let mut body = String::with_capacity(text.len() + text.len() / 10);
            for line in text.lines().filter(|l| !l.starts_with('#')) {
                body.push_str(line);
                body.push_str("000\n");
            }
            http_post(&format!("{url}/api/v1/import/prometheus"), body);
        }
        assert!(http_ok(&format!("{url}/internal/force_flush")), "VictoriaMetrics flush");
        url
    })
}
