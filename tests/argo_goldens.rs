//! `rollout get` against the Argo Rollouts CLI's own expected outputs for the upstream live-shaped fixtures.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "tests fail loudly"
)]

mod common;

use meshlens::inventory::Inventory;
use meshlens::k8s::document::Format;
use meshlens::k8s::load::Loader;
use meshlens::k8s::{Kind, Object};
use meshlens::rollout::{render::render_rollout_with_ages, rollout_info};

fn upstream() -> std::path::PathBuf {
    common::upstream().join("argo-rollouts")
}

fn check(golden: &str, folder: &str, rollout: &str) {
    let dir = upstream().join("pkg/kubectl-argo-rollouts/info/testdata").join(folder);
    let mut loader = Loader::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let Some(format) = Format::from_path(&path) else { continue };
        loader.add_text(&path.display().to_string(), &std::fs::read_to_string(&path).unwrap(), format).unwrap();
    }
    let (mut objects, report) = loader.finish();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    // The upstream test makes every object exactly 7 days old, so pods tie on age and sort by name.
    for object in &mut objects {
        if let Object::Pod(pod) = object {
            std::sync::Arc::make_mut(pod).metadata.creation_timestamp = None;
        }
    }
    let inv = &Inventory::new("Kubernetes", objects);
    let namespace = inv.all::<meshlens::k8s::argo::Rollout>()[0].metadata.namespace.clone().unwrap();
    let r = inv.find(Kind::Rollout, &namespace, rollout).expect("rollout present");
    let info = rollout_info(inv, r).unwrap();
    // The goldens were taken with every object 7 days old; compare everything but the ages.
    let seven_days = |_: Option<jiff::Timestamp>| "7d".to_string();
    let actual = render_rollout_with_ages(&info, jiff::Timestamp::UNIX_EPOCH, &seven_days);
    let expected = std::fs::read_to_string(upstream().join("goldens").join(golden)).unwrap();
    let trim = |s: &str| s.lines().map(str::trim_end).collect::<Vec<_>>().join("\n").trim_end().to_string();
    assert_eq!(trim(&actual), trim(&expected), "\n--- actual ---\n{actual}");
}

#[test]
fn blue_green() {
    check("TestGetBlueGreenRollout.txt", "blue-green", "bluegreen-demo");
}

#[test]
fn canary() {
    check("TestGetCanaryRollout.txt", "canary", "canary-demo");
}

#[test]
fn canary_ping_pong() {
    check("TestGetCanaryPingPongRollout.txt", "canary", "canary-demo-pingpong");
}

#[test]
fn experiment_with_analysis() {
    check("TestExperimentRollout.txt", "experiment-analysis", "rollout-experiment-analysis");
}

#[test]
fn experiment_step_with_job() {
    check("TestGetRolloutWithExperimentJob.txt", "experiment-step", "canary-demo");
}

#[test]
fn aborted() {
    check("TestGetAbortedRollout.txt", "rollout-aborted", "rollout-background-analysis");
}
