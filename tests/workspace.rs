//! The workspace's shape, which the compiler alone does not keep: every crate takes the workspace's panic lints,
//! and crates depend on one another one way only, down the floors of the house.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "tests fail loudly"
)]

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// The crates from the bottom floor up: each may depend only on those below it.
const FLOORS: &[&str] =
    &["meshlens-k8s", "meshlens-telemetry", "meshlens-engine", "meshlens-snapshot", "meshlens-sim", "meshlens"];

fn metadata() -> Value {
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn packages(metadata: &Value) -> Vec<&Value> {
    metadata["packages"].as_array().unwrap().iter().collect()
}

#[test]
fn every_crate_is_on_a_floor_and_depends_only_on_the_floors_below() {
    let metadata = metadata();
    let names: Vec<&str> = packages(&metadata).iter().map(|p| p["name"].as_str().unwrap()).collect();
    let mut on_floors: Vec<&str> = FLOORS.to_vec();
    on_floors.sort_unstable();
    let mut members = names.clone();
    members.sort_unstable();
    assert_eq!(members, on_floors, "a new crate takes its place in FLOORS");
    for package in packages(&metadata) {
        let name = package["name"].as_str().unwrap();
        let floor = FLOORS.iter().position(|f| *f == name).unwrap();
        for dependency in package["dependencies"].as_array().unwrap() {
            let Some(below) = FLOORS.iter().position(|f| *f == dependency["name"].as_str().unwrap()) else { continue };
            assert!(below < floor, "{name} depends on {}, which is not below it", FLOORS[below]);
        }
    }
}

#[test]
fn every_crate_takes_the_workspace_lints() {
    for package in packages(&metadata()) {
        let manifest = Path::new(package["manifest_path"].as_str().unwrap());
        let text = std::fs::read_to_string(manifest).unwrap();
        let lints = text.split("\n[").find(|section| section.starts_with("lints]"));
        let inherits = lints.is_some_and(|s| s.lines().any(|l| l.replace(' ', "") == "workspace=true"));
        assert!(inherits, "{} has no `[lints] workspace = true`: it would lose the panic lints", manifest.display());
    }
}
