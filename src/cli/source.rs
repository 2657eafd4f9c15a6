//! Resolves the source flags into loaded objects, a telemetry backend and an evaluation time: the one place commands
//! get a mesh from.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};

use crate::graph::ScrapeLabels;
use crate::identity::IdentityIndex;
use crate::inventory::Inventory;
use crate::k8s::live::{self, ClusterOptions, ClusterRead};
use crate::k8s::load::{LoadReport, Loader};
use crate::sim::{self, Scenario, SimOptions};
use crate::telemetry::query::valid_label_name;
use crate::telemetry::{Backend, MemoryStore, Prometheus, PrometheusConfig};
use crate::time::{format_duration, parse_duration, parse_time};

use super::{SourceArgs, say};

/// Where samples for the in-memory backend come from.
enum Samples {
    Files(Vec<PathBuf>),
    /// The built-in world's telemetry, generated in memory.
    Text(String),
}

/// A loaded mesh.
pub struct Mesh {
    pub inventory: Inventory,
    pub index: IdentityIndex,
    /// `--at`, else the snapshot's time.
    pub time: Option<jiff::Timestamp>,
    samples: Samples,
    /// Seconds of telemetry a captured snapshot holds, when its samples are what commands query.
    window_s: Option<u64>,
}

impl Mesh {
    /// Whether any telemetry can be queried: `--prometheus`, or samples in the snapshot (or demo world).
    pub fn has_telemetry(&self, args: &SourceArgs) -> bool {
        args.prometheus.is_some()
            || match &self.samples {
                Samples::Files(files) => !files.is_empty(),
                Samples::Text(text) => !text.is_empty(),
            }
    }

    /// The seconds of a `--duration` flag, as given. Asked of a capture holding less, it warns: the rates would be
    /// extrapolated from the shorter window.
    pub fn duration_s(&self, seconds: u64) -> u64 {
        if let Some(window) = self.window_s.filter(|&w| w < seconds) {
            say(&format!(
                "warning: the snapshot holds {window} s of telemetry: rates over --duration {} are extrapolated from it",
                format_duration(seconds)
            ));
        }
        seconds
    }

    /// The time views show ages against: the evaluation time, else now.
    pub fn now(&self) -> jiff::Timestamp {
        self.time.unwrap_or_else(jiff::Timestamp::now)
    }
}

/// Telemetry ready to query, and the time to evaluate at.
pub struct Telemetry {
    pub backend: Backend,
    pub at: i64,
    pub scrape_labels: ScrapeLabels,
}

/// Loads what the source flags name. Without `--snapshot`, the built-in demo world. `namespaces` (all when empty)
/// restrict what a live cluster is asked for; files are read whole and commands select afterwards.
pub fn load(args: &SourceArgs, namespaces: &[String]) -> anyhow::Result<Mesh> {
    if args.snapshot.is_none() && args.kube {
        return mesh_of_cluster(read_cluster(args, namespaces)?, args);
    }
    let loaded = match &args.snapshot {
        Some(dir) => {
            let snap = crate::snapshot::load(dir)?;
            let window_s = snap.meta.window.as_deref().and_then(parse_duration);
            Loaded {
                inventory: snap.inventory,
                report: snap.report,
                time: snap.meta.time,
                samples: Samples::Files(snap.metrics_files),
                window_s,
                index: None,
            }
        }
        None => {
            let world = sim::build(&SimOptions::new(Scenario::BookinfoCanary));
            let (inventory, report) = world.inventory().context("rendering the demo objects")?;
            let metrics = world.write_metrics(Vec::new()).context("rendering the demo telemetry")?;
            let samples = Samples::Text(String::from_utf8_lossy(&metrics).into_owned());
            Loaded { inventory, report, time: Some(world.time), samples, window_s: None, index: None }
        }
    };
    assemble(loaded, args)
}

/// The mesh of what a live cluster served, its notes said; telemetry comes from `--prometheus` only.
pub fn mesh_of_cluster(read: ClusterRead, args: &SourceArgs) -> anyhow::Result<Mesh> {
    let notes = read.notes.clone();
    let (inventory, report) = inventory_of(read);
    mesh_of_live(inventory, None, report, &notes, args)
}

/// The mesh of a cluster's objects (and their index, when already built), what could not be read reported and
/// the notes on the cluster said.
pub fn mesh_of_live(
    inventory: Inventory,
    index: Option<IdentityIndex>,
    report: LoadReport,
    notes: &[String],
    args: &SourceArgs,
) -> anyhow::Result<Mesh> {
    for note in notes {
        say(&format!("note: {note}"));
    }
    let samples = Samples::Files(Vec::new());
    assemble(Loaded { inventory, report, time: None, samples, window_s: None, index }, args)
}

/// What a source gave, before the flags that apply to every source.
struct Loaded {
    inventory: Inventory,
    report: LoadReport,
    /// The source's own time (a snapshot's), which `--at` overrides.
    time: Option<jiff::Timestamp>,
    samples: Samples,
    window_s: Option<u64>,
    /// The inventory's index, when the source built it (built here otherwise).
    index: Option<IdentityIndex>,
}

/// Reports what could not be read, applies `--at`, and indexes the workloads. A captured window matters only
/// while its samples are what commands query (not with `--prometheus`).
fn assemble(loaded: Loaded, args: &SourceArgs) -> anyhow::Result<Mesh> {
    let Loaded { mut inventory, report, time, samples, window_s, mut index } = loaded;
    report_problems(&report, args.strict)?;
    if let Some(id) = &args.cluster_id {
        inventory = inventory.with_given_cluster(id);
        index = index.filter(|i| i.cluster == inventory.cluster);
    }
    for note in inventory.cluster_notes() {
        say(&format!("note: {note}"));
    }
    let time = match &args.at {
        Some(at) => Some(parse_time(at)?),
        None => time,
    };
    let index = index.unwrap_or_else(|| IdentityIndex::build(&inventory));
    let window_s = window_s.filter(|_| args.prometheus.is_none());
    Ok(Mesh { inventory, index, time, samples, window_s })
}

/// The objects of the live cluster the flags name, read once.
pub fn read_cluster(args: &SourceArgs, namespaces: &[String]) -> anyhow::Result<ClusterRead> {
    check_namespaces(namespaces)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    Ok(runtime.block_on(async { live::read(&live::connect(&cluster_options(args)).await?, namespaces).await })?)
}

/// The cluster ID the flags give a source (its sidecars' own wins; see [`crate::inventory::Inventory`]).
pub fn given_cluster(args: &SourceArgs) -> &str {
    args.cluster_id.as_deref().unwrap_or(crate::inventory::DEFAULT_CLUSTER)
}

/// The kubeconfig and context the flags name.
pub fn cluster_options(args: &SourceArgs) -> ClusterOptions {
    ClusterOptions {
        kubeconfig: args.kubeconfig.clone(),
        context: args.context.clone(),
        request_timeout: Duration::from_secs(args.request_timeout),
    }
}

/// Namespaces reach API paths and queries: each must be a Kubernetes namespace name.
pub fn check_namespaces(namespaces: &[String]) -> anyhow::Result<()> {
    match namespaces.iter().find(|ns| !crate::k8s::is_namespace_name(ns)) {
        Some(bad) => bail!("{bad:?} is not a Kubernetes namespace name"),
        None => Ok(()),
    }
}

/// The inventory of what a cluster served.
pub fn inventory_of(read: ClusterRead) -> (Inventory, LoadReport) {
    let mut loader = Loader::new();
    loader.add_values("the Kubernetes API", read.objects);
    let (objects, report) = loader.finish();
    (Inventory::new(crate::inventory::DEFAULT_CLUSTER, objects), report)
}

/// The telemetry backend the flags choose: `--prometheus`, else the snapshot's (or demo world's) samples in memory.
pub fn telemetry(mesh: &Mesh, args: &SourceArgs) -> anyhow::Result<Telemetry> {
    for (flag, label) in [("--pod-label", &args.pod_label), ("--namespace-label", &args.namespace_label)] {
        if !valid_label_name(label) {
            bail!("{flag} {label:?} is not a Prometheus label name");
        }
    }
    let scrape_labels = ScrapeLabels { pod: args.pod_label.clone(), namespace: args.namespace_label.clone() };
    if let Some(url) = &args.prometheus {
        let backend = Backend::Prometheus(Prometheus::new(&prometheus_config(url, args)?)?);
        let at = mesh.time.unwrap_or_else(jiff::Timestamp::now).as_second();
        return Ok(Telemetry { backend, at, scrape_labels });
    }
    let mut store = MemoryStore::new();
    match &mesh.samples {
        Samples::Files(files) => {
            for path in files {
                let input =
                    crate::snapshot::open_metrics(path).with_context(|| format!("reading {}", path.display()))?;
                store.load_openmetrics(&path.display().to_string(), input)?;
            }
        }
        Samples::Text(text) => {
            store.load_openmetrics("demo metrics", text.as_bytes())?;
        }
    }
    if store.out_of_order() > 0 {
        say(&format!(
            "warning: {} metric samples were out of order or duplicated within their series and were ignored, as Prometheus would",
            store.out_of_order()
        ));
    }
    let newest = store.newest_ms().map(|ms| ms / 1000);
    let at = match (mesh.time, newest) {
        (Some(t), _) => t.as_second(),
        (None, Some(newest)) => newest,
        (None, None) => jiff::Timestamp::now().as_second(),
    };
    Ok(Telemetry { backend: Backend::Memory(Arc::new(tokio::sync::RwLock::new(store))), at, scrape_labels })
}

pub fn prometheus_config(url: &str, args: &SourceArgs) -> anyhow::Result<PrometheusConfig> {
    let mut config = PrometheusConfig::new(url);
    let read = |path: &PathBuf| std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()));
    if let Some(path) = &args.prometheus_token_file {
        config.bearer_token = Some(read(path)?.trim().to_owned());
    }
    if let Some(user) = &args.prometheus_user {
        let password = match &args.prometheus_password_file {
            Some(path) => read(path)?.trim_end_matches(['\n', '\r']).to_owned(),
            None => String::new(),
        };
        config.basic_auth = Some((user.clone(), password));
    }
    config.ca_file = args.prometheus_ca_file.clone();
    for header in &args.prometheus_header {
        let Some((name, value)) = header.split_once(':') else {
            bail!("--prometheus-header {header:?} is not `Name: value`");
        };
        config.headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let timeout = parse_duration(&args.prometheus_timeout)
        .with_context(|| format!("--prometheus-timeout {:?} is not a duration like 30s", args.prometheus_timeout))?;
    config.timeout = Duration::from_secs(timeout);
    Ok(config)
}

/// Prints what could not be read (and what was skipped) to stderr; with `strict`, any problem is an error.
fn report_problems(report: &LoadReport, strict: bool) -> anyhow::Result<()> {
    for problem in &report.problems {
        say(&format!("warning: {problem}"));
    }
    for duplicate in &report.duplicates {
        say(&format!("warning: duplicate {duplicate}"));
    }
    for note in &report.notes {
        say(&format!("warning: {note}"));
    }
    if report.skipped_total() > 0 {
        let kinds: Vec<String> = report.skipped.iter().map(|(k, n)| format!("{k} ×{n}")).collect();
        say(&format!(
            "note: skipped {} document(s) of kinds meshlens does not read: {}",
            report.skipped_total(),
            kinds.join(", ")
        ));
    }
    if strict && !report.problems.is_empty() {
        bail!("{} manifest document(s) could not be read (see warnings above)", report.problems.len());
    }
    Ok(())
}
