//! Graph benchmark against a real Prometheus: the `scale` scenario at several sizes, meshlens' constant plan beside
//! Kiali's per-namespace plan for the same content, on the same server in the same run, and the floor of any plan
//! with that content (Prometheus reading the same series without grouping them); and what capturing the window's
//! raw samples costs, with the graph read back from the capture.
//!
//! `cargo bench --bench graph` (sizes 1000,4000,10000) or `cargo bench --bench graph -- 1000,4000`.
//! Needs `prometheus`, `promtool` and GNU `time` (scripts/install-test-deps) and a few GB of free disk.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "tests fail loudly"
)]

#[path = "../tests/common/alloc.rs"]
mod alloc;
#[path = "../tests/common/process.rs"]
mod process;

use std::time::{Duration, Instant};

use meshlens::capture::samples::{Window, write_window};
use meshlens::graph::fetch::{fetch, fetch_queries};
use meshlens::graph::plan::{Part, plan};
use meshlens::graph::{GraphRequest, ScrapeLabels, build::build};
use meshlens::identity::IdentityIndex;
use meshlens::sim::{Scenario, SimOptions};
use meshlens::telemetry::istio::label::REPORTER;
use meshlens::telemetry::{Backend, MemoryStore, Prometheus, PrometheusConfig};

/// Counts live heap bytes and their peak, to measure what building a graph costs in memory.
#[global_allocator]
static ALLOCATOR: alloc::Counting = alloc::Counting;

/// Labels Kiali groups request queries by (FACTS.md §5).
const KIALI_GROUP: &str = "source_cluster, source_workload_namespace, source_workload, source_canonical_service, \
source_canonical_revision, destination_cluster, destination_service_namespace, destination_service, \
destination_service_name, destination_workload_namespace, destination_workload, destination_canonical_service, \
destination_canonical_revision, request_protocol, response_code, grpc_response_status, response_flags";

/// What a graph shows, and so which of Kiali's queries it needs.
#[derive(Clone, Copy, PartialEq)]
enum Content {
    Requests,
    /// Kiali's graph without the response-time appender, and meshlens' default graph.
    RequestsAndTcp,
    /// With p95 on every edge: Kiali's response-time appender, meshlens' `--latency`.
    WithLatency,
}

/// Kiali's queries for one namespace: three for requests, three for TCP, one for response time.
fn kiali_queries(ns: &str, duration: &str, content: Content) -> Vec<String> {
    let mut queries = Vec::new();
    let mut metrics = vec!["istio_requests_total"];
    if content != Content::Requests {
        metrics.push("istio_tcp_received_bytes_total");
    }
    for metric in metrics {
        for selector in [
            format!(
                "reporter=~\"waypoint|source\",source_workload_namespace!=\"{ns}\",destination_workload_namespace=\"unknown\",destination_workload=\"unknown\",destination_service=~\"^.+\\\\.{ns}\\\\..+$\""
            ),
            format!("reporter=~\"waypoint|destination\",destination_workload_namespace=\"{ns}\""),
            format!("reporter=~\"waypoint|source\",source_workload_namespace=\"{ns}\""),
        ] {
            queries.push(format!("round(sum(rate({metric}{{{selector}}}[{duration}])) by ({KIALI_GROUP}) > 0, 0.001)"));
        }
    }
    if content == Content::WithLatency {
        let group = KIALI_GROUP.replace(", response_code, grpc_response_status, response_flags", "");
        queries.push(format!(
            "round(histogram_quantile(0.95, sum(rate(istio_request_duration_milliseconds_bucket{{reporter=~\"waypoint|destination\",destination_workload_namespace=\"{ns}\"}}[{duration}])) by (le, {group})) > 0, 0.001)"
        ));
    }
    queries
}

struct Cost {
    queries: usize,
    bytes: usize,
    seconds: f64,
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// Runs Kiali's plan one namespace after another, as Kiali does. (One runtime for every query: a client's pooled
/// connections belong to the runtime that opened them.)
fn run_kiali(
    runtime: &tokio::runtime::Runtime,
    prom: &Prometheus,
    namespaces: &[String],
    at: i64,
    content: Content,
) -> Cost {
    let mut cost = Cost { queries: 0, bytes: 0, seconds: 0.0 };
    let started = Instant::now();
    for ns in namespaces {
        for q in kiali_queries(ns, "600s", content) {
            let answer = runtime.block_on(prom.instant(&q, at)).expect("Kiali query");
            cost.queries += 1;
            cost.bytes += answer.bytes;
        }
    }
    cost.seconds = started.elapsed().as_secs_f64();
    cost
}

/// The command line as a user runs it, each command three times: wall time and peak RSS, best–worst.
fn bench_command_line(snapshot: &std::path::Path, prometheus: &str) {
    let snapshot = snapshot.to_str().unwrap();
    let commands: [(&str, Vec<&str>); 2] = [
        (
            "graph -A -o json --prometheus",
            vec!["graph", "-A", "-o", "json", "--snapshot", snapshot, "--prometheus", prometheus],
        ),
        ("workloads -A -o json (objects alone)", vec!["workloads", "-A", "-o", "json", "--snapshot", snapshot]),
    ];
    for (name, args) in commands {
        let runs: Vec<(f64, f64)> = (0..3).map(|_| run_measured(&args)).collect();
        let range = |f: fn(&(f64, f64)) -> f64| {
            let values: Vec<f64> = runs.iter().map(f).collect();
            (values.iter().cloned().fold(f64::MAX, f64::min), values.iter().cloned().fold(0.0, f64::max))
        };
        let ((s_best, s_worst), (mb_best, mb_worst)) = (range(|r| r.0), range(|r| r.1));
        println!(
            "  {:<14} `meshlens {name}`: {s_best:.2}–{s_worst:.2} s, peak RSS {mb_best:.0}–{mb_worst:.0} MB",
            "command line"
        );
    }
}

/// Runs meshlens as a child process of GNU time, output discarded: its wall time (s) and peak RSS (MB).
fn run_measured(args: &[&str]) -> (f64, f64) {
    let run = process::meshlens_measured(args);
    assert!(run.output.status.success(), "meshlens {args:?} failed: {}", String::from_utf8_lossy(&run.output.stderr));
    (run.elapsed.as_secs_f64(), run.peak_kb as f64 / 1024.0)
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .map(|a| a.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1000, 4000, 10000]);
    println!(
        "graph benchmark: scale scenario, 10m window, 3 runs each (median), Prometheus {}\n",
        prometheus_version()
    );
    for n in sizes {
        bench_size(n);
    }
}

/// What meshlens needs to draw a graph.
struct Mesh<'a> {
    runtime: &'a tokio::runtime::Runtime,
    backend: &'a Backend,
    index: &'a IdentityIndex,
    inventory: &'a meshlens::inventory::Inventory,
}

/// Medians of three runs of one graph request.
struct PlanCost {
    queries: usize,
    megabytes: f64,
    edges: usize,
    prometheus_s: f64,
    /// The queries whose content Kiali's plan also gives (everything but the per-revision split).
    kiali_content_s: f64,
    build_s: f64,
    /// Queries and graph build: the whole run but reading the objects and writing the answer.
    total_s: f64,
    peak_mb: f64,
}

fn measure(mesh: &Mesh<'_>, req: &GraphRequest) -> PlanCost {
    let the_plan = plan(req, mesh.index);
    // Warm the server's caches once, so every plan is measured on the same footing.
    mesh.runtime.block_on(fetch(mesh.backend, &the_plan)).expect("warm-up");
    let (mut prom_s, mut build_s, mut total_s, mut peaks) = (vec![], vec![], vec![], vec![]);
    let (mut bytes, mut edges, mut queries) = (0, 0, 0);
    for _ in 0..3 {
        let baseline = alloc::reset_peak();
        let t = Instant::now();
        let results = mesh.runtime.block_on(fetch(mesh.backend, &the_plan)).expect("fetch");
        let fetched = t.elapsed();
        let graph = build(mesh.index, mesh.inventory, req, &results);
        total_s.push(t.elapsed().as_secs_f64());
        prom_s.push(fetched.as_secs_f64());
        peaks.push((alloc::peak().saturating_sub(baseline)) as f64);
        // The same build again, timed without allocation counting.
        drop(graph);
        edges = alloc::uncounted(|| {
            let b = Instant::now();
            let graph = build(mesh.index, mesh.inventory, req, &results);
            build_s.push(b.elapsed().as_secs_f64());
            graph.edges.len()
        });
        bytes = results.stats.bytes;
        queries = results.stats.queries;
    }
    PlanCost {
        queries,
        megabytes: bytes as f64 / 1e6,
        edges,
        prometheus_s: median(prom_s),
        kiali_content_s: fetch_seconds(
            mesh,
            the_plan.queries(true).into_iter().filter(|(p, _)| !per_revision(*p)).collect(),
        ),
        build_s: median(build_s),
        total_s: median(total_s),
        peak_mb: median(peaks) / 1e6,
    }
}

fn per_revision(part: Part) -> bool {
    matches!(part, Part::RevisionRequests | Part::RevisionLatency)
}

/// The median of three fetches of `queries`.
fn fetch_seconds(mesh: &Mesh<'_>, queries: Vec<(Part, meshlens::telemetry::QuerySpec)>) -> f64 {
    let times = (0..3).map(|_| {
        let t = Instant::now();
        mesh.runtime.block_on(fetch_queries(mesh.backend, queries.clone())).expect("fetch");
        t.elapsed().as_secs_f64()
    });
    median(times.collect())
}

fn prometheus_version() -> String {
    let out = std::process::Command::new(process::require("prometheus")).arg("--version").output().unwrap();
    String::from_utf8_lossy(&out.stdout).lines().next().unwrap_or_default().to_owned()
}

/// Where a size's data lives: a temporary directory, or with `MESHLENS_BENCH_KEEP=DIR` a directory kept (and
/// reused) between runs.
enum Work {
    Temporary(tempfile::TempDir),
    Kept(std::path::PathBuf),
}

impl Work {
    fn path(&self) -> &std::path::Path {
        match self {
            Work::Temporary(t) => t.path(),
            Work::Kept(p) => p,
        }
    }
}

/// The floor of any plan with the same content: Prometheus' time to read the series the plan reads, each query
/// summed to one number (one per reporter where the plan runs a query per reporter), fetched as the plan is (median
/// of 3, after the warm-up `measure` did).
fn floor_s(mesh: &Mesh<'_>, req: &GraphRequest) -> f64 {
    let mut queries = plan(req, mesh.index).queries(true);
    for (_, spec) in &mut queries {
        spec.group_by.retain(|label| label == REPORTER);
    }
    fetch_seconds(mesh, queries)
}

fn bench_size(n: usize) {
    let work = match std::env::var("MESHLENS_BENCH_KEEP") {
        Ok(dir) => Work::Kept(std::path::Path::new(&dir).join(format!("scale-{n}"))),
        Err(_) => Work::Temporary(tempfile::tempdir().unwrap()),
    };
    let snapshot_dir = work.path().join("snapshot");
    let data = work.path().join("data");
    let mut opts = SimOptions::new(Scenario::Scale);
    opts.scale = n;
    let world = meshlens::sim::build(&opts);
    let (mut simulated, mut backfilled, mut metrics_bytes) = (Duration::ZERO, Duration::ZERO, 0);
    if !data.is_dir() {
        let started = Instant::now();
        world.write_to(&snapshot_dir).expect("snapshot written");
        let metrics = snapshot_dir.join("metrics/istio.om");
        metrics_bytes = std::fs::metadata(&metrics).map(|m| m.len()).unwrap_or(0);
        simulated = started.elapsed();
        let started = Instant::now();
        process::backfill(&metrics, &data);
        std::fs::remove_file(&metrics).ok();
        backfilled = started.elapsed();
    }
    let server = process::start_prometheus(&data, work.path());
    let prom =
        Prometheus::new(&PrometheusConfig { timeout: Duration::from_secs(600), ..PrometheusConfig::new(&server.url) })
            .unwrap();
    let backend = Backend::Prometheus(prom.clone());

    // The snapshot holds only the objects now (its metrics went into Prometheus): what reading them costs.
    let baseline = alloc::reset_peak();
    let started = Instant::now();
    let snapshot = meshlens::snapshot::load(&snapshot_dir).expect("snapshot loads");
    let index = IdentityIndex::build(&snapshot.inventory);
    let objects = (started.elapsed().as_secs_f64(), alloc::peak().saturating_sub(baseline) as f64 / 1e6);
    let namespaces: Vec<String> = index.namespaces().iter().cloned().collect();
    let at = world.time.as_second();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let lean = GraphRequest::new(at, 600, ScrapeLabels::default());
    let with_latency = lean.clone().with_edge_latency(true);
    let mesh = Mesh { runtime: &runtime, backend: &backend, index: &index, inventory: &snapshot.inventory };
    let ours = [measure(&mesh, &lean), measure(&mesh, &with_latency)];
    let floors = [floor_s(&mesh, &lean), floor_s(&mesh, &with_latency)];
    let requests: Vec<_> =
        plan(&lean, &index).queries(true).into_iter().filter(|(p, _)| *p == Part::Requests).collect();
    let requests_queries = requests.len();
    let requests_only = fetch_seconds(&mesh, requests);
    let kiali = |content| {
        let runs: Vec<Cost> = (0..3).map(|_| run_kiali(&runtime, &prom, &namespaces, at, content)).collect();
        (median(runs.iter().map(|c| c.seconds).collect()), runs[0].queries, runs[0].bytes as f64 / 1e6)
    };
    let kiali_plans = [kiali(Content::RequestsAndTcp), kiali(Content::WithLatency)];
    let (kiali_requests, kiali_requests_queries, kiali_requests_mb) = kiali(Content::Requests);
    println!(
        "== {n} workloads, {} namespaces, {} edges ({:.0} MB of samples; simulated in {:.0} s, backfilled in {:.0} s)",
        namespaces.len(),
        ours[0].edges,
        metrics_bytes as f64 / 1e6,
        simulated.as_secs_f64(),
        backfilled.as_secs_f64()
    );
    for (((name, cost), (kiali_s, kiali_queries, kiali_mb)), floor) in
        ["default graph", "with edge p95"].into_iter().zip(&ours).zip(kiali_plans).zip(floors)
    {
        println!(
            "  {name:<14} meshlens {} queries, {:.1} MB, Prometheus {:.2} s, build {:.0} ms, total {:.2} s ({:.2}× Prometheus), peak {:.0} MB",
            cost.queries,
            cost.megabytes,
            cost.prometheus_s,
            cost.build_s * 1000.0,
            cost.total_s,
            cost.total_s / cost.prometheus_s,
            cost.peak_mb
        );
        println!(
            "  {:<14} Kiali {kiali_queries} queries, {kiali_mb:.1} MB, Prometheus {kiali_s:.2} s → whole run/Kiali {:.2} \
             (queries alone {:.2}); for Kiali's content alone (without the per-revision split) meshlens {:.2} s → {:.2}",
            "",
            cost.total_s / kiali_s,
            cost.prometheus_s / kiali_s,
            cost.kiali_content_s,
            cost.kiali_content_s / kiali_s
        );
        println!(
            "  {:<14} floor (Prometheus reading the same series, no grouping) {floor:.2} s → whole run {:.2}× floor, \
             Kiali's plan {:.2}× floor",
            "",
            cost.total_s / floor,
            kiali_s / floor
        );
    }
    println!(
        "  objects alone  {} objects read and indexed in {:.2} s, heap peak {:.0} MB",
        world.objects.len(),
        objects.0,
        objects.1
    );
    println!(
        "  requests only  meshlens {requests_queries} queries {requests_only:.2} s; Kiali {kiali_requests_queries} queries, {kiali_requests_mb:.1} MB, {kiali_requests:.2} s → {:.2}",
        requests_only / kiali_requests
    );
    bench_command_line(&snapshot_dir, &server.url);
    bench_capture(&mesh, &prom, &lean, work.path());
    println!();
    server.stop();
}

/// Captures the whole window once, then builds the default graph from the captured samples and from Prometheus.
fn bench_capture(mesh: &Mesh<'_>, prom: &Prometheus, req: &GraphRequest, dir: &std::path::Path) {
    let capture = dir.join("capture");
    let baseline = alloc::reset_peak();
    let started = Instant::now();
    let (path, file) =
        meshlens::snapshot::Writer::create(&capture).unwrap().compressed_metrics_file("istio.om").unwrap();
    let window = Window { at: req.at, range_s: req.duration_s };
    let (file, summary) = mesh.runtime.block_on(write_window(prom, &[], window, file, |_| {})).expect("capture");
    file.finish().unwrap().into_inner().unwrap();
    let seconds = started.elapsed().as_secs_f64();
    let peak_mb = alloc::peak().saturating_sub(baseline) as f64 / 1e6;
    let written_mb = std::fs::metadata(&path).map_or(0, |m| m.len()) as f64 / 1e6;

    let text = meshlens::snapshot::read_metrics(&path).unwrap();
    let plain_mb = text.len() as f64 / 1e6;
    let mut store = MemoryStore::new();
    store.load_openmetrics("capture", text.as_bytes()).expect("the capture reads back");
    drop(text);
    std::fs::remove_dir_all(&capture).ok();
    let captured = Backend::Memory(std::sync::Arc::new(tokio::sync::RwLock::new(store)));
    let the_plan = plan(req, mesh.index);
    let graph_of = |backend: &Backend| {
        let results = mesh.runtime.block_on(fetch(backend, &the_plan)).expect("fetch");
        let graph = build(mesh.index, mesh.inventory, req, &results);
        (graph.edges.len(), graph.edges.iter().map(|e| e.rps).sum::<f64>())
    };
    let ((live_edges, live_rps), (captured_edges, captured_rps)) = (graph_of(mesh.backend), graph_of(&captured));
    println!(
        "  capture        {} queries, {:.0} MB received, {} series, {} samples, {written_mb:.0} MB written ({plain_mb:.0} MB plain), {seconds:.1} s, peak {peak_mb:.0} MB",
        summary.queries,
        summary.bytes as f64 / 1e6,
        summary.series,
        summary.samples,
    );
    println!(
        "  {:<14} read back: {captured_edges} edges, {captured_rps:.3} rps in all (Prometheus: {live_edges} edges, {live_rps:.3} rps)",
        ""
    );
}
