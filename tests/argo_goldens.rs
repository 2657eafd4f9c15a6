//! `rollout get` against the Argo Rollouts CLI's own expected outputs for the upstream live-shaped fixtures.

mod common;

use meshlens::k8s::Kind;
use meshlens::rollout::{render::render_rollout_with_ages, rollout_info};

fn upstream() -> std::path::PathBuf {
    common::upstream().join("argo-rollouts")
}

fn check(golden: &str, folder: &str, rollout: &str) {
    let dir = upstream().join("pkg/kubectl-argo-rollouts/info/testdata").join(folder);
    let mut snapshot = meshlens::snapshot::load(&dir).expect("fixture folder loads");
    assert!(snapshot.report.problems.is_empty(), "{:?}", snapshot.report.problems);
    // The upstream test makes every object exactly 7 days old, so pods tie on age and sort by name.
    for pod in &mut snapshot.inventory.pods {
        pod.metadata.creation_timestamp = None;
    }
    let inv = &snapshot.inventory;
    let namespace = inv.rollouts[0].metadata.namespace.clone().unwrap();
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
