//! The simulator: a deterministic synthetic world — Kubernetes objects as the API shows them and the Istio
//! telemetry a Prometheus would hold for them — written as a snapshot directory, for the demo, tests and
//! benchmarks.
#![expect(
    clippy::indexing_slicing,
    reason = "the simulator indexes only tables and JSON values it has just built; it reads no outside input"
)]

pub mod cluster;
pub mod fault;
pub mod ids;
pub mod live;
pub mod objects;
pub mod scenarios;
pub mod traffic;

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use serde_json::Value;

use meshlens_engine::inventory::Inventory;
use meshlens_k8s::document::Format;
use meshlens_k8s::load::{LoadReport, Loader};
use meshlens_snapshot::SnapshotMeta;

pub use cluster::NamingMode;
pub use fault::Fault;

/// The worlds the simulator can build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// Istio's bookinfo; `reviews` is a Rollout at setWeight 20 of a subset-level Istio canary.
    BookinfoCanary,
    /// A blue-green Rollout paused before promotion, with preview smoke tests from a CronJob.
    Bluegreen,
    /// Flagger's podinfo canary at 30%.
    Flagger,
    /// bookinfo-canary during an Istio upgrade: pods injected under both naming generations.
    IstioUpgrade,
    /// bookinfo with `reviews` a Rollout routed by Argo Rollouts' Gateway API plugin through an HTTPRoute bound to
    /// the `reviews` Service, at setWeight 20.
    Gatewayapi,
    /// The gatewayapi world in ambient mode: no sidecars in bookinfo, a ztunnel on every node reporting L4, and a
    /// waypoint in front of `reviews` that applies the HTTPRoute and reports its calls (L7).
    Ambient,
    /// `--scale N` workloads, 10 per namespace, 5 outbound edges each.
    Scale,
}

/// What to simulate.
#[derive(Debug, Clone)]
pub struct SimOptions {
    pub scenario: Scenario,
    pub seed: u64,
    /// Overrides the scenario's naming generation (istio-upgrade: mixed; the others: rollout).
    pub naming: Option<NamingMode>,
    /// Number of workloads of the `scale` scenario.
    pub scale: usize,
    /// The moment the snapshot shows.
    pub time: jiff::Timestamp,
    /// A fault planted in a scenario that has it (see [`Fault::scenarios`]).
    pub fault: Option<Fault>,
    /// The cluster ID the mesh was installed with: its sidecars' ISTIO_META_CLUSTER_ID and their telemetry's.
    pub cluster_id: String,
}

/// The default seed: runs without `--seed` are reproducible.
pub const DEFAULT_SEED: u64 = 1;

/// The default snapshot moment of simulated worlds.
pub fn default_time() -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_795_600_800).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

impl SimOptions {
    pub fn new(scenario: Scenario) -> SimOptions {
        SimOptions {
            scenario,
            seed: DEFAULT_SEED,
            naming: None,
            scale: 1_000,
            time: default_time(),
            fault: None,
            cluster_id: meshlens_engine::inventory::DEFAULT_CLUSTER.to_owned(),
        }
    }
}

/// A generated world.
pub struct World {
    pub time: jiff::Timestamp,
    pub objects: Vec<Value>,
    pods: Vec<cluster::SimPod>,
    services: Vec<cluster::SimService>,
    traffic: traffic::Traffic,
    window: traffic::Window,
    seed: u64,
    /// Large worlds are written as JSON, which loads about twenty times faster than YAML.
    json: bool,
}

/// Builds the world of `opts`.
pub fn build(opts: &SimOptions) -> World {
    let default_naming = match opts.scenario {
        Scenario::IstioUpgrade => NamingMode::Mixed,
        _ => NamingMode::Rollout,
    };
    let mut c = cluster::Cluster::new(opts.seed, opts.time, opts.naming.unwrap_or(default_naming));
    c.cluster_id = opts.cluster_id.clone();
    let built = match opts.scenario {
        Scenario::BookinfoCanary | Scenario::IstioUpgrade => match opts.fault {
            Some(fault) => scenarios::bookinfo::with_fault(c, fault),
            None => scenarios::bookinfo::build(c),
        },
        Scenario::Bluegreen => scenarios::bluegreen::build(c),
        Scenario::Flagger => scenarios::flagger::build(c),
        Scenario::Gatewayapi => scenarios::gatewayapi::build(c, opts.fault, scenarios::Mesh::Sidecars),
        Scenario::Ambient => scenarios::gatewayapi::build(c, opts.fault, scenarios::Mesh::Ambient),
        Scenario::Scale => scenarios::scale::build(c, opts.scale),
    };
    World::new(built, opts.seed, opts.scenario == Scenario::Scale)
}

/// One frame of the live demo: bookinfo with the reviews Rollout at `progress` at `time`, its telemetry sampled
/// every `step` seconds over `(start, time]`.
pub fn bookinfo_frame(
    seed: u64,
    time: jiff::Timestamp,
    progress: scenarios::bookinfo::Progress,
    start: i64,
    step: i64,
) -> World {
    let c = cluster::Cluster::new(seed, time, NamingMode::Rollout);
    let mut built = scenarios::bookinfo::build_at(c, progress, None);
    built.window = traffic::Window { start, end: time.as_second(), step, ..built.window };
    World::new(built, seed, false)
}

impl World {
    fn new(built: scenarios::Built, seed: u64, json: bool) -> World {
        let scenarios::Built { cluster, traffic, window } = built;
        let time = cluster.now;
        let pods = cluster.pods.clone();
        let services = cluster.services.clone();
        World { time, objects: cluster.into_objects(), pods, services, traffic, window, seed, json }
    }

    /// The objects read back through the same parser snapshots go through.
    pub fn inventory(&self) -> anyhow::Result<(Inventory, LoadReport)> {
        let mut loader = Loader::new();
        for (file, text) in self.manifests()? {
            let format = Format::from_path(Path::new(&file)).unwrap_or(Format::Yaml);
            loader.add_text(&format!("sim:k8s/{file}"), &text, format)?;
        }
        let (objects, report) = loader.finish();
        Ok((Inventory::new(meshlens_engine::inventory::DEFAULT_CLUSTER, objects), report))
    }

    /// The manifests as snapshot files: YAML by namespace, JSON Lists for large worlds.
    pub fn manifests(&self) -> Result<BTreeMap<String, String>, serde_saphyr::SerializeError> {
        let format = if self.json { Format::Json } else { Format::Yaml };
        meshlens_snapshot::manifest_files(&self.objects, format)
    }

    /// The telemetry as OpenMetrics text.
    pub fn write_metrics<W: io::Write>(&self, out: W) -> io::Result<W> {
        traffic::write_metrics(out, &self.pods, &self.services, &self.traffic, self.window, self.seed)
    }

    pub fn meta(&self) -> SnapshotMeta {
        SnapshotMeta { time: Some(self.time), ..SnapshotMeta::default() }
    }

    /// Writes the snapshot directory: `k8s/`, `metrics/istio.om` and `snapshot.yaml`.
    pub fn write_to(&self, dir: &Path) -> anyhow::Result<()> {
        let snapshot = meshlens_snapshot::Writer::create(dir)?;
        snapshot.manifests(&self.manifests()?)?;
        let (path, out) = snapshot.metrics_file("istio.om")?;
        self.write_metrics(out).map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
        Ok(snapshot.meta(&self.meta())?)
    }
}
