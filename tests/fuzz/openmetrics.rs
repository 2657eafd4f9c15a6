//! OpenMetrics: samples of the simulated worlds' telemetry (the last minutes, so the mutated samples fall in the
//! graph's window) and hand-written families (histograms, escapes, special values), mutated as bytes, then loaded
//! into the in-memory engine and queried by every graph type, the doctor and the Rollout pages.

use meshlens::doctor::diagnose;
use meshlens::graph::{GraphRequest, GraphType, ScrapeLabels};
use meshlens::identity::IdentityIndex;
use meshlens::telemetry::{Backend, MemoryStore};

use crate::harness::fuzz;
use crate::mutate::Mutator;
use crate::world::{SCENARIOS, Simulated, app, recent_sample, runtime, simulated, visit};

const TOKENS: &[&str] = &[
    "istio_requests_total{",
    "istio_request_duration_milliseconds_bucket{le=\"+Inf\",",
    "istio_tcp_sent_bytes_total{",
    "reporter=\"destination\",",
    "destination_workload=\"reviews\",",
    "pod=\"reviews-",
    "response_code=\"503\",",
    "} 1 1795600800\n",
    "# TYPE x histogram\n",
    "# EOF\n",
    "\\\"",
    "\\n",
    " # {trace_id=\"a\"} 1 1795600800\n",
];

/// Hand-written: what the simulator does not write.
const HAND_WRITTEN: &str = "# TYPE istio_request_duration_milliseconds histogram\n\
istio_request_duration_milliseconds_bucket{reporter=\"destination\",destination_workload=\"reviews\",destination_workload_namespace=\"bookinfo\",le=\"10\"} 5 1795600770\n\
istio_request_duration_milliseconds_bucket{reporter=\"destination\",destination_workload=\"reviews\",destination_workload_namespace=\"bookinfo\",le=\"+Inf\"} 9 1795600770\n\
istio_request_duration_milliseconds_bucket{reporter=\"destination\",destination_workload=\"reviews\",destination_workload_namespace=\"bookinfo\",le=\"10\"} 7 1795600800\n\
istio_request_duration_milliseconds_bucket{reporter=\"destination\",destination_workload=\"reviews\",destination_workload_namespace=\"bookinfo\",le=\"+Inf\"} 12 1795600800\n\
istio_requests_total{reporter=\"source\",source_workload=\"a\\\"b\\\\c\\nd\",destination_workload=\"reviews\",destination_workload_namespace=\"bookinfo\",response_code=\"200\"} NaN 1795600770\n\
istio_requests_total{reporter=\"source\",source_workload=\"a\\\"b\\\\c\\nd\",destination_workload=\"reviews\",destination_workload_namespace=\"bookinfo\",response_code=\"200\"} +Inf 1795600800.5\n\
istio_tcp_received_bytes_total{reporter=\"destination\",destination_workload=\"ratings\",destination_workload_namespace=\"bookinfo\"} 100 1795600770\n\
istio_tcp_received_bytes_total{reporter=\"destination\",destination_workload=\"ratings\",destination_workload_namespace=\"bookinfo\"} 50 1795600800\n\
# EOF\n";

#[test]
fn openmetrics() {
    let worlds: Vec<Simulated> = SCENARIOS.iter().map(|s| simulated(*s)).collect();
    let mut seeds: Vec<Vec<u8>> = worlds.iter().map(recent_sample).collect();
    seeds.push(HAND_WRITTEN.as_bytes().to_vec());
    let mutator = Mutator::new(&seeds, TOKENS);
    let bookinfo = &worlds[0];
    let index = IdentityIndex::build(&bookinfo.snapshot.inventory);
    let runtime = runtime();
    fuzz(
        "openmetrics",
        |rng| mutator.bytes(rng),
        |input| {
            let mut store = MemoryStore::new();
            if store.load_openmetrics("fuzz.om", input).is_err() {
                return Ok(());
            }
            let backend = Backend::Memory(std::sync::Arc::new(tokio::sync::RwLock::new(store)));
            runtime.block_on(async {
                for graph_type in [GraphType::Workload, GraphType::App, GraphType::VersionedApp, GraphType::Service] {
                    let request = GraphRequest::new(bookinfo.time, 120, ScrapeLabels::default())
                        .with_type(graph_type)
                        .with_edge_latency(true);
                    meshlens::graph::graph(&backend, &index, &bookinfo.snapshot.inventory, &request)
                        .await
                        .map_err(|e| format!("graph: {e}"))?;
                    if graph_type == GraphType::Workload {
                        diagnose(&backend, &index, &bookinfo.snapshot.inventory, &request, 0.05)
                            .await
                            .map_err(|e| format!("doctor: {e}"))?;
                    }
                }
                let app = app(bookinfo.snapshot.inventory.clone(), backend, bookinfo.time);
                let uris = [
                    "/api/kiali/namespaces/graph?namespaces=bookinfo&graphType=versionedApp&duration=120s",
                    "/api/namespaces/bookinfo/rollouts/reviews?duration=120s",
                    "/workloads/bookinfo/reviews?duration=120s",
                    "/graph?duration=120s",
                ]
                .map(String::from);
                visit(&app, &uris, &[]).await
            })
        },
    );
}
