//! `--kube`: the real kube-rs client reads the cluster through an in-process fake API server (discovery and paged
//! LIST on 127.0.0.1), and every view sees what a snapshot of the same objects shows.

mod common;

use common::fake_kube;
use common::{meshlens, meshlens_ok, stderr};
use meshlens::sim::{Scenario, SimOptions};
use serde_json::Value;

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

#[test]
fn a_live_cluster_reads_like_its_snapshot() {
    let work = tempfile::tempdir().unwrap();
    let world = meshlens::sim::build(&SimOptions::new(Scenario::BookinfoCanary));
    let snapshot = work.path().join("snapshot");
    world.write_to(&snapshot).unwrap();
    // Over HTTPS, as real API servers speak, trusting the certificate authority the kubeconfig names.
    let fake = fake_kube::start_tls(&world.objects);
    assert!(fake.url.starts_with("https://"));
    let kubeconfig = fake.kubeconfig(work.path());
    let kube = ["--kube", "--kubeconfig", kubeconfig.to_str().unwrap()];

    let live = meshlens_ok(&[&["workloads", "-o", "json"], &kube[..]].concat());
    let from_snapshot = meshlens_ok(&["workloads", "-o", "json", "--snapshot", snapshot.to_str().unwrap()]);
    assert_eq!(json(&live), json(&from_snapshot));
    let rollout = meshlens_ok(&[&["rollout", "get", "reviews", "-n", "bookinfo", "-o", "json"], &kube[..]].concat());
    assert_eq!(json(&rollout)["revisions"].as_array().map(Vec::len), Some(3), "{rollout}");

    let requests = fake.requests();
    assert!(requests.iter().all(|r| r.starts_with("GET ")), "read-only: {requests:?}");
    assert!(requests.iter().any(|r| r.contains("/apis/argoproj.io/v1alpha1/rollouts")), "{requests:?}");
    assert!(requests.iter().any(|r| r.contains("continue=")), "LISTs are paged: {requests:?}");
}

#[test]
fn a_cluster_without_argo_rollouts_or_istio_is_read_with_a_note() {
    let work = tempfile::tempdir().unwrap();
    let world = meshlens::sim::build(&SimOptions::new(Scenario::BookinfoCanary));
    let core: Vec<Value> = world
        .objects
        .iter()
        .filter(|o| o["apiVersion"].as_str().is_some_and(|v| v == "v1" || v.starts_with("apps/")))
        .cloned()
        .collect();
    let fake = fake_kube::start(&core);
    let kubeconfig = fake.kubeconfig(work.path());
    let out = meshlens(&["workloads", "--kube", "--kubeconfig", kubeconfig.to_str().unwrap(), "-o", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("serves no Rollout") && err.contains("serves no VirtualService"), "{err}");
    let workloads = json(&String::from_utf8_lossy(&out.stdout));
    assert!(workloads.as_array().unwrap().iter().any(|w| w["name"] == "productpage-v1"));
}

#[test]
fn an_unreachable_cluster_is_a_clear_error() {
    let work = tempfile::tempdir().unwrap();
    let port = common::process::free_port();
    let kubeconfig = work.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:{port}\nusers:\n- name: u\n  user: {{}}\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\n"),
    )
    .unwrap();
    let out = meshlens(&["workloads", "--kube", "--kubeconfig", kubeconfig.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("discovering the cluster's APIs failed"), "{}", stderr(&out));
    let out = meshlens(&["workloads", "--kube", "--kubeconfig", kubeconfig.to_str().unwrap(), "--context", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no usable Kubernetes configuration"), "{}", stderr(&out));
}
