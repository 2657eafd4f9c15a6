//! The in-memory engine against a real Prometheus (and VictoriaMetrics) on the same simulated samples.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "tests fail loudly"
)]

mod common;

use common::process::block_on;
use common::servers::{prometheus, simulated};
use meshlens::telemetry::{
    Aggregation, Backend, Matcher, MemoryStore, Prometheus, PrometheusConfig, QuerySpec, Row, Steps,
};

fn memory_store(dir: &std::path::Path) -> MemoryStore {
    let mut store = MemoryStore::new();
    let text = std::fs::read_to_string(dir.join("metrics/istio.om")).unwrap();
    store.load_openmetrics("istio.om", text.as_bytes()).unwrap();
    store
}

fn assert_same(expected: &[Row], actual: &[Row], what: &str, tolerance: f64) {
    assert_eq!(expected.len(), actual.len(), "{what}: row count");
    for (e, a) in expected.iter().zip(actual) {
        assert_eq!(e.labels, a.labels, "{what}");
        let scale = e.value.abs().max(a.value.abs()).max(1e-12);
        let same = (e.value.is_nan() && a.value.is_nan()) || (e.value - a.value).abs() / scale <= tolerance;
        assert!(same, "{what}: {:?} expected {} got {}", e.labels, e.value, a.value);
    }
}

fn sorted(mut rows: Vec<Row>) -> Vec<Row> {
    rows.sort_by(|a, b| a.labels.cmp(&b.labels));
    rows
}

#[test]
fn basic_specs_agree_with_prometheus() {
    let prom = Prometheus::new(&PrometheusConfig::new(prometheus())).unwrap();
    for sim in simulated() {
        let store = memory_store(&sim.dir);
        let specs = [
            QuerySpec {
                metric: "istio_requests_total".into(),
                // The server side: the callee's sidecar, or in ambient mode the waypoint in front of it.
                selectors: vec![vec![Matcher::one_of("reporter", &["destination", "waypoint"])]],
                group_by: vec!["destination_workload".into(), "pod".into(), "response_code".into()],
                range_s: 600,
                at: sim.time,
                aggregation: Aggregation::SumRate,
            },
            QuerySpec {
                metric: "istio_request_duration_milliseconds_bucket".into(),
                selectors: vec![],
                group_by: vec!["destination_workload".into()],
                range_s: 300,
                at: sim.time - 120,
                aggregation: Aggregation::Quantile(0.95),
            },
        ];
        for spec in specs {
            let expected = sorted(block_on(prom.query(&spec)).unwrap().rows);
            assert!(!expected.is_empty(), "{:?}: Prometheus has data for {}", sim.scenario, spec.promql());
            let actual = store.query(&spec).unwrap();
            assert_same(&expected, &actual, &format!("{:?} {}", sim.scenario, spec.promql()), 1e-6);
        }
        let _ = Backend::describe(&Backend::Prometheus(prom.clone()));
    }
}

use common::servers::victoria_metrics;
use meshlens::graph::plan::plan;
use meshlens::graph::{GraphRequest, GraphType, ScrapeLabels};
use meshlens::identity::IdentityIndex;

/// Every query of every graph type's plan, for every scenario, with and without a namespace filter.
fn plan_specs() -> Vec<(String, &'static std::path::Path, QuerySpec)> {
    let mut out = Vec::new();
    for sim in simulated() {
        let snapshot = meshlens::snapshot::load(&sim.dir).unwrap();
        let index = IdentityIndex::build(&snapshot.inventory);
        let first_ns = index.workloads().iter().map(|w| w.id.namespace.clone()).find(|n| n != "istio-system");
        for graph_type in [GraphType::Workload, GraphType::App, GraphType::VersionedApp, GraphType::Service] {
            for namespaces in [None, first_ns.clone().map(|n| [n].into())] {
                let req = GraphRequest::new(sim.time, 600, ScrapeLabels::default())
                    .with_type(graph_type)
                    .with_namespaces(namespaces)
                    .with_edge_latency(true);
                for (part, spec) in plan(&req, &index).specs() {
                    out.push((
                        format!("{:?} {graph_type:?} {}", sim.scenario, part.name()),
                        sim.dir.as_path(),
                        spec.clone(),
                    ));
                }
            }
        }
    }
    out
}

#[test]
fn every_plan_query_agrees_with_prometheus_within_1e6() {
    let prom = Prometheus::new(&PrometheusConfig::new(prometheus())).unwrap();
    let mut stores: std::collections::HashMap<&std::path::Path, MemoryStore> = Default::default();
    let (mut compared, mut left_out) = (0, 0);
    for (what, dir, spec) in plan_specs() {
        let store = stores.entry(dir).or_insert_with(|| memory_store(dir));
        let expected = sorted(block_on(prom.query(&spec)).unwrap().rows);
        let actual = store.query(&spec).unwrap();
        assert_same(&expected, &actual, &what, 1e-6);
        compared += expected.len();
        if spec.aggregation == Aggregation::SumRateAboveZero {
            let every_group = QuerySpec { aggregation: Aggregation::SumRate, ..spec.clone() };
            let all = block_on(prom.query(&every_group)).unwrap().rows;
            assert!(expected.iter().all(|r| r.value > 0.0), "{what}: only groups above zero");
            left_out += all.len() - expected.len();
        }
    }
    assert!(compared > 1000, "the plans return real data ({compared} rows)");
    assert!(left_out > 0, "the edge queries left out groups that counted nothing, in both engines alike");
}

#[test]
fn victoria_metrics_agrees_within_its_documented_differences() {
    // VictoriaMetrics does not extrapolate rate() to the window edges: it takes the increase from the last sample
    // before the (left-open) window, and divides a series born inside the window by its lifetime rather than by the
    // window. On a window every series spans (2 minutes here: the youngest simulated traffic is 3 minutes old) both
    // engines measure the same intervals; tolerance 8% relative, for rows above 0.05/s.
    let vm = Prometheus::new(&PrometheusConfig::new(victoria_metrics())).unwrap();
    let mut stores: std::collections::HashMap<&std::path::Path, MemoryStore> = Default::default();
    let specs = plan_specs().into_iter().filter(|(what, _, _)| what.contains("requests") || what.contains("latency"));
    for (what, dir, mut spec) in specs {
        spec.range_s = 120;
        let store = stores.entry(dir).or_insert_with(|| memory_store(dir));
        let expected = store.query(&spec).unwrap();
        let actual = sorted(block_on(vm.query(&spec)).unwrap().rows);
        let significant = |rows: &[Row]| rows.iter().filter(|r| r.value > 0.05).count();
        assert!(significant(&actual) > 0 || significant(&expected) == 0, "{what}: VictoriaMetrics answered");
        for e in expected.iter().filter(|r| r.value > 0.05 && r.value.is_finite()) {
            let a = actual.iter().find(|a| a.labels == e.labels);
            let a = a.unwrap_or_else(|| panic!("{what}: VictoriaMetrics lacks {:?}", e.labels));
            assert!(
                (a.value - e.value).abs() / e.value <= 0.08,
                "{what}: {:?} Prometheus semantics {} VictoriaMetrics {}",
                e.labels,
                e.value,
                a.value
            );
        }
    }
}

#[test]
fn long_queries_go_in_a_post_body_and_still_agree() {
    let prom = Prometheus::new(&PrometheusConfig::new(prometheus())).unwrap();
    let sim = &simulated()[0];
    let mut namespaces: Vec<String> = (0..300).map(|i| format!("team-{i:03}")).collect();
    namespaces.push("bookinfo".into());
    let spec = QuerySpec {
        metric: "istio_requests_total".into(),
        selectors: vec![vec![Matcher::one_of("destination_workload_namespace", &namespaces)]],
        group_by: vec!["destination_workload".into()],
        range_s: 600,
        at: sim.time,
        aggregation: Aggregation::SumRate,
    };
    assert!(spec.promql().len() > 3000);
    let expected = sorted(block_on(prom.query(&spec)).unwrap().rows);
    assert!(!expected.is_empty());
    assert_same(&expected, &memory_store(&sim.dir).query(&spec).unwrap(), "long query", 1e-6);
}

#[test]
fn range_queries_agree_with_prometheus_at_every_step() {
    let prom = Backend::Prometheus(Prometheus::new(&PrometheusConfig::new(prometheus())).unwrap());
    let sim = &simulated()[0];
    let store = Backend::Memory(std::sync::Arc::new(tokio::sync::RwLock::new(memory_store(&sim.dir))));
    let spec = QuerySpec {
        metric: "istio_requests_total".into(),
        selectors: vec![vec![Matcher::eq("reporter", "destination")]],
        group_by: vec!["destination_workload".into(), "pod".into()],
        range_s: 120,
        at: 0,
        aggregation: Aggregation::SumRate,
    };
    let steps = Steps { start: sim.time - 900, end: sim.time, step: 60 };
    let expected = block_on(prom.query_range(&spec, steps)).unwrap();
    let actual = block_on(store.query_range(&spec, steps)).unwrap();
    assert_eq!(expected.len(), 16, "{:?}: a point every minute over 15 minutes", sim.scenario);
    assert_eq!(expected.iter().map(|s| s.0).collect::<Vec<_>>(), actual.iter().map(|s| s.0).collect::<Vec<_>>());
    for ((t, e), (_, a)) in expected.into_iter().zip(actual) {
        assert_same(&sorted(e), &sorted(a), &format!("{:?} at {t}", sim.scenario), 1e-6);
    }
}
