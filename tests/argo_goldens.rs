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
use meshlens::k8s::argo::Experiment;
use meshlens::k8s::document::Format;
use meshlens::k8s::load::Loader;
use meshlens::k8s::{Kind, Object};
use meshlens::rollout::info::{experiment_images, experiment_info};
use meshlens::rollout::render::{render_experiment, render_rollout_with_ages};
use meshlens::rollout::rollout_info;

fn upstream() -> std::path::PathBuf {
    common::upstream().join("argo-rollouts")
}

/// The objects of an upstream fixture folder, every pod as old as the others.
fn fixture_inventory(folder: &str) -> Inventory {
    let mut loader = Loader::new();
    for entry in std::fs::read_dir(common::argo_testdata(folder)).unwrap() {
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
    Inventory::new("Kubernetes", objects)
}

/// The goldens were taken with every object 7 days old; compare everything but the ages.
fn seven_days(_: Option<jiff::Timestamp>) -> String {
    "7d".to_string()
}

fn assert_golden(actual: &str, golden: &str) {
    let expected = std::fs::read_to_string(upstream().join("goldens").join(golden)).unwrap();
    let trim = |s: &str| s.lines().map(str::trim_end).collect::<Vec<_>>().join("\n").trim_end().to_string();
    assert_eq!(trim(actual), trim(&expected), "\n--- actual ---\n{actual}");
}

fn check(golden: &str, folder: &str, rollout: &str) {
    let inv = &fixture_inventory(folder);
    let namespace = inv.all::<meshlens::k8s::argo::Rollout>()[0].metadata.namespace.clone().unwrap();
    let r = inv.find(Kind::Rollout, &namespace, rollout).expect("rollout present");
    let info = rollout_info(inv, r).unwrap();
    assert_golden(&render_rollout_with_ages(&info, jiff::Timestamp::UNIX_EPOCH, &seven_days), golden);
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

#[test]
fn invalid_spec() {
    check("TestGetInvalidRollout.txt", "rollout-invalid", "rollout-invalid");
}

#[test]
fn experiment() {
    let inv = &fixture_inventory("experiment-analysis");
    let name = "rollout-experiment-analysis-6f646bf7b7-1-vcv27";
    let exp = inv.named::<Experiment>("jesse-test", name).expect("experiment present");
    let info = experiment_info(inv, exp);
    let images = experiment_images(&info);
    let actual = render_experiment(&info, "jesse-test", &images, jiff::Timestamp::UNIX_EPOCH, &seven_days);
    assert_golden(&actual, "TestGetExperiment.txt");
}

#[test]
fn the_cli_gets_an_experiment_and_takes_the_argo_cli_s_forms() {
    let dir = common::argo_testdata("experiment-step");
    let snapshot = dir.to_str().unwrap();
    let get = |args: &[&str]| common::meshlens(&[&["rollout", "get"], args, &["--snapshot", snapshot]].concat());
    // The AnalysisRun the Experiment owns (matched by owner UID) hangs under it, with its Job.
    let out = get(&["experiment", "canary-demo-645d5dbc4c-2-0"]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "Name:            canary-demo-645d5dbc4c-2-0");
    assert_eq!(lines[3], "Images:          argoproj/rollouts-demo:blue (Σ:canary-preview)");
    assert!(
        lines[9].starts_with("└──α canary-demo-645d5dbc4c-2-0-stress-test") && lines[9].contains("◌ Running"),
        "{text}"
    );
    assert!(lines[10].starts_with("   └──⊞ 4e2d824d-01af-11ea-b38c-42010aa80083.stress.1"), "{text}");
    let json: serde_json::Value =
        serde_json::from_slice(&get(&["exp", "canary-demo-645d5dbc4c-2-0", "-o", "json"]).stdout).unwrap();
    assert_eq!(json["namespace"], "jesse-test");
    assert_eq!(json["analysisRuns"][0]["name"], "canary-demo-645d5dbc4c-2-0-stress-test");
    assert_eq!(json["images"][0]["tags"][0], "Σ:canary-preview");
    // `rollout NAME` (and its aliases) is `NAME`.
    let plain = get(&["canary-demo"]).stdout;
    for kind in ["rollout", "ro", "rollouts"] {
        assert_eq!(get(&[kind, "canary-demo"]).stdout, plain, "{kind}");
    }
    let unknown = get(&["pod", "canary-demo"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(common::stderr(&unknown).contains("\"pod\" is not a kind it shows"), "{}", common::stderr(&unknown));
    // The report: `rollout get <an experiment>` answered only "no Rollout".
    let hint = common::stderr(&get(&["canary-demo-645d5dbc4c-2-0"]));
    assert!(hint.contains("is an Experiment: rollout get experiment canary-demo-645d5dbc4c-2-0"), "{hint}");
    let missing = get(&["experiment", "canary-demo"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(common::stderr(&missing).contains("no Experiment \"canary-demo\""), "{}", common::stderr(&missing));
}
