//! Workload identity on real upstream manifests and on hand-written ones for every controller kind.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "tests fail loudly"
)]

mod common;

use std::collections::BTreeSet;

use common::upstream;
use meshlens::identity::{IdentityIndex, Resolution, Role, Workload};
use meshlens::inventory::Inventory;
use meshlens::k8s::document::Format;
use meshlens::k8s::load::Loader;
use meshlens::k8s::{Kind, KindName};

fn load_dir(path: &std::path::Path) -> (Inventory, IdentityIndex) {
    let snapshot = meshlens::snapshot::load(path).expect("loads");
    assert!(snapshot.report.problems.is_empty(), "{:?}", snapshot.report.problems);
    let index = IdentityIndex::build(&snapshot.inventory);
    (snapshot.inventory, index)
}

fn load_text(text: &str) -> IdentityIndex {
    let mut loader = Loader::new();
    loader.add_text("test.yaml", text, Format::Yaml).unwrap();
    let (objects, report) = loader.finish();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    IdentityIndex::build(&Inventory::new("Kubernetes", objects))
}

fn workload<'a>(index: &'a IdentityIndex, ns: &str, name: &str) -> &'a Workload {
    let found: Vec<_> = index.named(ns, name).collect();
    assert_eq!(found.len(), 1, "one workload {ns}/{name}: {:?}", found.iter().map(|w| &w.id).collect::<Vec<_>>());
    found[0]
}

fn names(w: &Workload) -> Vec<&str> {
    w.telemetry_names.iter().map(String::as_str).collect()
}

#[test]
fn every_upstream_fixture_folder_loads_without_problems() {
    let argo = upstream().join("argo-rollouts");
    let mut folders = vec![
        argo.join("examples"),
        argo.join("test/e2e/istio"),
        argo.join("docs/getting-started/istio"),
        upstream().join("istio/samples/bookinfo"),
        upstream().join("istio/samples/addons"),
    ];
    let testdata = common::argo_testdata("");
    for entry in std::fs::read_dir(&testdata).unwrap() {
        folders.push(entry.unwrap().path());
    }
    for folder in folders {
        let snapshot = meshlens::snapshot::load(&folder).unwrap();
        assert!(snapshot.report.problems.is_empty(), "{}: {:?}", folder.display(), snapshot.report.problems);
        assert!(!snapshot.inventory.is_empty(), "{} has objects", folder.display());
        IdentityIndex::build(&snapshot.inventory);
    }
}

#[test]
fn istio_bookinfo_deployments_carry_app_and_version() {
    let (_, index) = load_dir(&upstream().join("istio/samples/bookinfo/platform/kube"));
    for v in ["v1", "v2", "v3"] {
        let w = workload(&index, "default", &format!("reviews-{v}"));
        assert_eq!((w.id.kind.clone(), w.app.as_str(), w.version.as_str()), (Kind::Deployment.into(), "reviews", v));
        assert_eq!(names(w), [format!("reviews-{v}")]);
    }
}

#[test]
fn workload_ref_rollout_is_one_workload_with_the_deployments_template_and_shares_its_name() {
    let (_, index) = load_dir(&upstream().join("argo-rollouts/examples/workload-ref"));
    let kinds: BTreeSet<KindName> =
        index.named("default", "rollout-ref-deployment").map(|w| w.id.kind.clone()).collect();
    assert_eq!(kinds, BTreeSet::from([Kind::Deployment.into(), Kind::Rollout.into()]));
    let rollout = index.named("default", "rollout-ref-deployment").find(|w| w.id.kind == Kind::Rollout).unwrap();
    assert_eq!(rollout.template_from.as_deref(), Some("Deployment/rollout-ref-deployment"));
    assert_eq!(rollout.app, "rollout-ref-deployment", "canonical service from the referenced Deployment's template");
    // During a workloadRef migration both report the same telemetry name: an ambiguity, not a guess.
    match index.resolve("Kubernetes", "default", "rollout-ref-deployment") {
        Resolution::Ambiguous(ws) => assert_eq!(ws.len(), 2),
        other => panic!("expected an ambiguity, got {other:?}"),
    }
}

#[test]
fn experiment_replica_sets_belong_to_the_rollout_under_their_own_telemetry_names() {
    let (_, index) = load_dir(&common::argo_testdata("experiment-analysis"));
    let w = workload(&index, "jesse-test", "rollout-experiment-analysis");
    assert_eq!(w.id.kind, Kind::Rollout);
    let experiment_rs: Vec<_> = w.replica_sets.iter().filter(|rs| rs.experiment.is_some()).collect();
    assert_eq!(experiment_rs.len(), 2);
    for rs in &experiment_rs {
        assert!(rs.roles.is_empty());
        assert!(w.telemetry_names.contains(&rs.name), "{} in {:?}", rs.name, w.telemetry_names);
        let pod = w.pods.iter().find(|p| p.replica_set.as_ref() == Some(&rs.name)).unwrap();
        assert_eq!(pod.telemetry_name, rs.name, "experiment pods report their ReplicaSet");
    }
    let canary_pod = w.pods.iter().find(|p| p.roles.contains(&Role::Canary)).unwrap();
    assert_eq!(canary_pod.telemetry_name, "rollout-experiment-analysis");
    assert_eq!(w.pods.len(), 6, "3 stable, 1 canary, 2 experiment pods");
    assert_eq!(index.workloads().len(), 1, "no ReplicaSet or Experiment shows up as a workload of its own");
}

#[test]
fn analysis_job_pods_are_a_job_workload_not_part_of_the_rollout() {
    let (_, index) = load_dir(&common::argo_testdata("experiment-step"));
    let job = workload(&index, "jesse-test", "4e2d824d-01af-11ea-b38c-42010aa80083.stress.1");
    assert_eq!(job.id.kind, Kind::Job);
    assert_eq!(job.pods.len(), 1);
    let rollout = workload(&index, "jesse-test", "canary-demo");
    assert!(rollout.pods.iter().all(|p| !p.name.contains("stress")));
    assert_eq!(rollout.pods.len(), 6, "5 stable pods and the experiment's canary-preview pod");
}

const CONTROLLERS: &str = r#"
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: shop, uid: sts-1}
spec: {selector: {matchLabels: {app: db}}, serviceName: db, template: {metadata: {labels: {app: db, version: "15"}}, spec: {containers: [{name: db}]}}}
---
apiVersion: v1
kind: Pod
metadata: {name: db-0, generateName: db-, namespace: shop, labels: {app: db, version: "15"},
  ownerReferences: [{apiVersion: apps/v1, kind: StatefulSet, name: db, uid: sts-1, controller: true}]}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: shop, uid: ds-1}
spec: {selector: {matchLabels: {app: agent}}, template: {metadata: {labels: {app: agent}}, spec: {containers: [{name: a}]}}}
---
apiVersion: v1
kind: Pod
metadata: {name: agent-x7k2p, generateName: agent-, namespace: shop, labels: {app: agent},
  ownerReferences: [{apiVersion: apps/v1, kind: DaemonSet, name: agent, uid: ds-1, controller: true}]}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: bare, namespace: shop, uid: rs-1}
spec: {selector: {matchLabels: {app: bare}}, template: {metadata: {labels: {app: bare}}, spec: {containers: [{name: b}]}}}
---
apiVersion: v1
kind: Pod
metadata: {name: bare-q8wzt, generateName: bare-, namespace: shop, labels: {app: bare},
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: bare, uid: rs-1, controller: true}]}
---
apiVersion: v1
kind: Pod
metadata: {name: debug, namespace: shop, labels: {run: debug}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, uid: dep-1}
spec: {selector: {matchLabels: {app: web}}, template: {metadata: {labels: {app: web, service.istio.io/workload-name: storefront}}, spec: {containers: [{name: w}]}}}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web-5d8c7b6f4, namespace: shop, uid: rs-2, labels: {pod-template-hash: 5d8c7b6f4},
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: dep-1, controller: true}]}
spec: {selector: {matchLabels: {app: web}}}
---
apiVersion: v1
kind: Pod
metadata: {name: web-5d8c7b6f4-2mxkq, generateName: web-5d8c7b6f4-, namespace: shop,
  labels: {app: web, pod-template-hash: 5d8c7b6f4, service.istio.io/workload-name: storefront},
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-5d8c7b6f4, uid: rs-2, controller: true}]}
---
apiVersion: v1
kind: Pod
metadata: {name: clone-7fz9x, generateName: clone-, namespace: shop, labels: {app: clone},
  ownerReferences: [{apiVersion: apps.kruise.io/v1alpha1, kind: CloneSet, name: clone, uid: cs-1, controller: true}]}
"#;

#[test]
fn every_controller_kind_is_one_workload_named_as_istio_names_it() {
    let index = load_text(CONTROLLERS);
    let expect = |name: &str, kind: KindName, telemetry: &[&str]| {
        let w = workload(&index, "shop", name);
        assert_eq!(w.id.kind, kind, "{name}");
        assert_eq!(names(w), telemetry, "{name}");
        w
    };
    let db = expect("db", Kind::StatefulSet.into(), &["db"]);
    assert_eq!((db.app.as_str(), db.version.as_str()), ("db", "15"));
    assert_eq!(db.pods[0].telemetry_kind, Kind::StatefulSet);
    expect("agent", Kind::DaemonSet.into(), &["agent"]);
    expect("bare", Kind::ReplicaSet.into(), &["bare"]);
    let debug = expect("debug", Kind::Pod.into(), &["debug"]);
    assert_eq!(debug.pods.len(), 1);
    let web = expect("web", Kind::Deployment.into(), &["storefront", "web"]);
    assert_eq!(web.pods[0].telemetry_name, "storefront", "Istio >= 1.25 uses the workload-name label");
    assert_eq!(web.pods[0].telemetry_kind, Kind::Deployment, "the label replaces the name, not the kind");
    let clone = expect("clone", KindName::Other("CloneSet".into()), &["clone"]);
    assert!(clone.inferred, "the CloneSet itself is not loaded");
    assert!(matches!(index.resolve("Kubernetes", "shop", "storefront"), Resolution::One(w) if w.id.name == "web"));
    assert!(matches!(index.resolve("Kubernetes", "shop", "nothing"), Resolution::Unknown));
}

#[test]
fn flagger_target_and_primary_are_one_canary_workload() {
    let world = meshlens::sim::build(&meshlens::sim::SimOptions::new(meshlens::sim::Scenario::Flagger));
    let mut loader = Loader::new();
    for (file, text) in world.manifests().unwrap() {
        loader.add_text(&file, &text, Format::Yaml).unwrap();
    }
    let (objects, report) = loader.finish();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    let index = IdentityIndex::build(&Inventory::new("Kubernetes", objects));
    let canary = workload(&index, "test", "podinfo");
    assert_eq!(canary.id.kind, Kind::Canary);
    assert_eq!(names(canary), ["podinfo", "podinfo-primary"]);
    let roles: BTreeSet<Vec<Role>> = canary.replica_sets.iter().map(|rs| rs.roles.clone()).collect();
    assert_eq!(roles, BTreeSet::from([vec![Role::Canary], vec![Role::Primary]]));
    assert_eq!(canary.pods.len(), 4);
    assert_eq!(index.named("test", "podinfo-primary").count(), 0, "the primary is not a workload of its own");
    for name in ["podinfo", "podinfo-primary"] {
        assert!(matches!(index.resolve("Kubernetes", "test", name), Resolution::One(w) if w.id.kind == Kind::Canary));
    }
}

#[test]
fn replaced_replica_sets_resolve_through_their_hash_suffix() {
    let (_, index) = load_dir(&common::argo_testdata("canary"));
    // A ReplicaSet deleted before the snapshot, still named in older telemetry.
    match index.resolve("Kubernetes", "jesse-test", "canary-demo-7bc89dd5d") {
        Resolution::ByHashSuffix(w) => {
            assert_eq!((w.id.name.as_str(), &w.id.kind), ("canary-demo", &KindName::Known(Kind::Rollout)))
        }
        other => panic!("expected a hash-suffix resolution, got {other:?}"),
    }
    assert!(matches!(index.resolve("Kubernetes", "jesse-test", "canary-demo-notahash!"), Resolution::Unknown));
}
