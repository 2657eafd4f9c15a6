//! Manifests: the upstream fixtures and the simulated worlds' files, mutated as bytes and as trees (a field
//! retyped, dropped, copied from another object, nested deep; an object given another kind), then loaded as a
//! snapshot is and used everywhere: identities, text views, the doctor, every page and API answer.

use meshlens::doctor::{diagnose, render::render_text};
use meshlens::graph::{GraphRequest, ScrapeLabels};
use meshlens::identity::IdentityIndex;
use meshlens::inventory::Inventory;
use meshlens::k8s::Kind;
use meshlens::k8s::document::{Format, parse_documents};
use meshlens::k8s::load::Loader;
use meshlens::rollout::{render_rollout, rollout_info};
use meshlens::views::workloads::{workload_text, workloads_table};
use rand::RngExt;
use serde_json::Value;

use crate::harness::{Verdict, fuzz};
use crate::mutate::{Mutator, tree};
use crate::world::{SCENARIOS, app, encode, memory_backend, runtime, simulated, upstream_manifests, visit};

const TOKENS: &[&str] = &[
    "apiVersion: ",
    "kind: ",
    "metadata:\n  name: x\n  namespace: bookinfo\n",
    "ownerReferences:\n- kind: ReplicaSet\n  name: x\n  uid: u\n  controller: true\n",
    "labels:\n  app: x\n",
    "service.istio.io/workload-name",
    "rollouts-pod-template-hash",
    "a: &a [1, 2]\nb: [*a, *a, *a, *a]\n",
    "\n---\n",
    "!!binary",
    "<<: *a",
];

#[test]
fn manifests() {
    let mut seeds = upstream_manifests();
    // The simulated worlds hold whole meshes (owners, pods, routes, status); they are half of the tree mutations.
    let simulated_from = seeds.len();
    for scenario in SCENARIOS {
        let sim = simulated(*scenario);
        for entry in std::fs::read_dir(sim.dir.path().join("k8s")).unwrap() {
            seeds.push(std::fs::read(entry.unwrap().path()).unwrap());
        }
    }
    let documents: Vec<Vec<Value>> = seeds.iter().map(|s| documents_of(s)).collect();
    let donors: Vec<Value> = documents.iter().flatten().cloned().collect();
    let kinds: Vec<(&str, &str)> = Kind::ALL.iter().map(|k| (k.api_versions()[0], k.as_str())).collect();
    let mutator = Mutator::new(&seeds, TOKENS);

    let bookinfo = simulated(meshlens::sim::Scenario::BookinfoCanary);
    let backend = memory_backend(&bookinfo);
    let runtime = runtime();
    fuzz(
        "manifests",
        |rng| {
            if rng.random_bool(0.5) {
                return mutator.bytes(rng);
            }
            let which = if rng.random_bool(0.5) {
                rng.random_range(simulated_from..documents.len())
            } else {
                rng.random_range(0..documents.len())
            };
            let mut docs = documents[which].clone();
            if docs.is_empty() {
                return mutator.bytes(rng);
            }
            for _ in 0..rng.random_range(1..=3) {
                let i = rng.random_range(0..docs.len());
                tree(rng, &mut docs[i], &donors, &kinds);
            }
            let mut text = if rng.random_bool(0.3) {
                serde_json::to_vec(&serde_json::json!({"apiVersion": "v1", "kind": "List", "items": docs})).unwrap()
            } else {
                docs.iter()
                    .map(|d| serde_saphyr::to_string(d).unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join("---\n")
                    .into_bytes()
            };
            if rng.random_bool(0.3) {
                mutator.stack(rng, &mut text);
            }
            text
        },
        |input| {
            // A file that is not UTF-8 is a problem the loader reports before parsing.
            let Ok(text) = std::str::from_utf8(input) else { return Ok(()) };
            let mut loader = Loader::new();
            if loader.add_text("fuzz", text, format_of(text)).is_err() {
                return Ok(());
            }
            let (objects, _report) = loader.finish();
            let inventory = Inventory::new("Kubernetes", objects);
            runtime.block_on(use_everywhere(inventory, &backend, bookinfo.time))
        },
    );
}

/// JSON when the text starts like JSON, YAML otherwise (YAML reads JSON too, but the JSON path is its own code).
fn format_of(text: &str) -> Format {
    if text.trim_start().starts_with(['{', '[']) { Format::Json } else { Format::Yaml }
}

fn documents_of(seed: &[u8]) -> Vec<Value> {
    let text = std::str::from_utf8(seed).unwrap();
    parse_documents(text, format_of(text)).filter_map(Result::ok).map(|d| d.value).collect()
}

/// The text views, the doctor, and every page and API answer about the first workloads and Rollouts.
async fn use_everywhere(inventory: Inventory, backend: &meshlens::telemetry::Backend, time: i64) -> Verdict {
    let index = IdentityIndex::build(&inventory);
    let workloads: Vec<_> = index.workloads().iter().collect();
    if let Some(w) = workloads.iter().find(|w| w.id.name.is_empty() || w.id.namespace.is_empty()) {
        return Err(format!("a workload without a name: {:?}", w.id));
    }
    let _ = workloads_table(&workloads);
    let now = jiff::Timestamp::from_second(time).unwrap();
    for w in workloads.iter().take(4) {
        let _ = workload_text(w);
        if w.id.kind == Kind::Rollout
            && let Some(info) =
                inventory.find(Kind::Rollout, &w.id.namespace, &w.id.name).and_then(|r| rollout_info(&inventory, r))
        {
            let _ = render_rollout(&info, now);
        }
    }
    let request = GraphRequest::new(time, 600, ScrapeLabels::default()).with_edge_latency(true);
    let report = diagnose(backend, &index, &inventory, &request, 0.05).await.map_err(|e| format!("doctor: {e}"))?;
    let _ = render_text(&report);

    let mut uris: Vec<String> =
        ["/api/workloads", "/workloads", "/rollouts", "/", "/graph?type=app"].iter().map(|u| (*u).to_owned()).collect();
    for graph_type in ["workload", "app", "versionedApp", "service"] {
        uris.push(format!("/api/graph?type={graph_type}&latency=true"));
        uris.push(format!("/api/kiali/namespaces/graph?graphType={graph_type}"));
    }
    for w in workloads.iter().take(4) {
        let (ns, name) = (encode(w.id.namespace.as_bytes()), encode(w.id.name.as_bytes()));
        uris.push(format!("/workloads/{ns}/{name}"));
        uris.push(format!("/api/namespaces/{ns}/workloads/{name}"));
        if w.id.kind == Kind::Rollout {
            uris.push(format!("/api/namespaces/{ns}/rollouts/{name}"));
        }
    }
    let app = app(inventory, backend.clone(), time);
    visit(&app, &uris, &[]).await
}
