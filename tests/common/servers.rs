//! Real query engines for tests: one Prometheus (and one VictoriaMetrics) per test binary, on 127.0.0.1, filled
//! with simulator snapshots. Each scenario is simulated at its own time so their series never overlap.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use meshlens::sim::{Scenario, SimOptions};

use super::process::{backfill, free_port, http_ok, http_post, require, spawn, start_prometheus};

/// A simulated scenario written to disk.
pub struct Simulated {
    pub scenario: Scenario,
    /// What it was built from (building again gives the same world).
    pub options: SimOptions,
    pub dir: PathBuf,
    pub time: i64,
}

/// The scenarios every engine holds, each a day apart.
pub const SCENARIOS: [Scenario; 6] = [
    Scenario::BookinfoCanary,
    Scenario::IstioUpgrade,
    Scenario::Bluegreen,
    Scenario::Flagger,
    Scenario::Gatewayapi,
    Scenario::Ambient,
];

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
                Simulated { scenario, options: opts, dir, time: world.time.as_second() }
            })
            .collect()
    })
}

pub fn simulated_scenario(scenario: Scenario) -> &'static Simulated {
    simulated().iter().find(|s| s.scenario == scenario).expect("scenario simulated")
}

/// The test binary's Prometheus, backfilled with every simulated scenario. Returns its URL.
pub fn prometheus() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let data = workdir().path().join("prometheus-data");
        for sim in simulated() {
            backfill(&sim.dir.join("metrics/istio.om"), &data);
        }
        start_prometheus(&data, workdir().path()).url
    })
}

/// The test binary's VictoriaMetrics, with every simulated scenario imported. Returns its URL.
pub fn victoria_metrics() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
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
        let url = spawn(&require("victoria-metrics"), &args, &log, port, "/health").url;
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
