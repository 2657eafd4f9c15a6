//! The in-memory engine against a real Prometheus (and VictoriaMetrics) on the same simulated samples.

mod common;

use common::servers::{block_on, prometheus, simulated};
use meshlens::telemetry::{Aggregation, Backend, Matcher, MemoryStore, Prometheus, PrometheusConfig, QuerySpec, Row};

fn memory_store(dir: &std::path::Path) -> MemoryStore {
    let mut store = MemoryStore::new();
    let text = std::fs::read_to_string(dir.join("metrics/istio.om")).unwrap();
    store.load_openmetrics("istio.om", &text).unwrap();
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
                selectors: vec![vec![Matcher::eq("reporter", "destination")]],
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
