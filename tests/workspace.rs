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

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
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

/// The source files of every crate of the workspace: (crate directory, module path, file), the module path as
/// `graph::build` (empty for the crate root), the code before its `#[cfg(test)]` module with comments removed.
fn modules() -> Vec<(PathBuf, String, PathBuf, String)> {
    let mut out = Vec::new();
    for package in packages(&metadata()) {
        let root = Path::new(package["manifest_path"].as_str().unwrap()).parent().unwrap().to_owned();
        let src = root.join("src");
        let mut stack = vec![src.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                if path.extension().is_none_or(|e| e != "rs") {
                    continue;
                }
                let relative = path.strip_prefix(&src).unwrap().with_extension("");
                let parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
                let module = match parts.as_slice() {
                    [only] if only == "lib" || only == "main" => String::new(),
                    _ => parts.join("::"),
                };
                let text = std::fs::read_to_string(&path).unwrap();
                let code = text.split("#[cfg(test)]").next().unwrap_or_default();
                let code: String =
                    code.lines().map(|l| l.split("//").next().unwrap_or_default()).collect::<Vec<_>>().join("\n");
                out.push((root.clone(), module, path, code));
            }
        }
    }
    out
}

/// Every module a module names through `crate::`, `super::` or `self::` paths (the longest prefix that is a
/// module), leaving out its own descendants and ancestors: a parent declares its children and a child may use its
/// parent's items, as Rust has it.
fn imports_of(module: &str, code: &str, known: &BTreeSet<String>) -> BTreeSet<String> {
    let path = regex::Regex::new(r"\b(crate|super|self)((?:::\w+)+)(::\{[^;]*?\})?").unwrap();
    let me: Vec<&str> = if module.is_empty() { Vec::new() } else { module.split("::").collect() };
    let mut out = BTreeSet::new();
    for found in path.captures_iter(code) {
        let base: Vec<&str> = match &found[1] {
            "crate" => Vec::new(),
            "super" => me[..me.len().saturating_sub(1)].to_vec(),
            _ => me.clone(),
        };
        let named: Vec<&str> = found[2].split("::").filter(|s| !s.is_empty()).collect();
        let mut paths = vec![named.clone()];
        if let Some(group) = found.get(3) {
            let inner = group.as_str().trim_start_matches("::{").trim_end_matches('}');
            for item in inner.split(',') {
                let first =
                    item.trim().split("::").next().unwrap_or_default().split_whitespace().next().unwrap_or_default();
                if !first.is_empty() {
                    paths.push(named.iter().copied().chain([first]).collect());
                }
            }
        }
        for named in paths {
            let full: Vec<&str> = base.iter().copied().chain(named).collect();
            let Some(target) = (1..=full.len()).rev().map(|k| full[..k].join("::")).find(|m| known.contains(m)) else {
                continue;
            };
            let related = module.is_empty()
                || target.is_empty()
                || target.starts_with(&format!("{module}::"))
                || module.starts_with(&format!("{target}::"));
            if target != module && !related {
                out.insert(target);
            }
        }
    }
    out
}

/// The modules each module of a crate imports.
type Imports = BTreeMap<String, BTreeSet<String>>;

/// A circle of imports (the smallest the search finds first) in `graph`, if there is one.
fn circle(graph: &Imports) -> Option<Vec<String>> {
    fn visit(node: &str, graph: &Imports, path: &mut Vec<String>, done: &mut BTreeSet<String>) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|p| p == node) {
            return Some(path[start..].to_vec());
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn no_module_imports_another_that_imports_it_back() {
    let modules = modules();
    let roots: BTreeSet<&PathBuf> = modules.iter().map(|m| &m.0).collect();
    for root in roots {
        let own: Vec<_> = modules.iter().filter(|m| &m.0 == root).collect();
        let known = own.iter().map(|m| m.1.clone()).collect();
        let graph = own.iter().map(|m| (m.1.clone(), imports_of(&m.1, &m.3, &known))).collect();
        assert_eq!(circle(&graph), None, "a circle of imports in {}", root.display());
    }
    // The check sees circles: two modules that name each other are one.
    let known = ["a".to_owned(), "b".to_owned()].into();
    let graph = [("a", "use crate::b::x;"), ("b", "use super::a::{y, z};")]
        .map(|(m, code)| (m.to_owned(), imports_of(m, code, &known)))
        .into();
    assert_eq!(circle(&graph), Some(vec!["a".to_owned(), "b".to_owned()]));
}

/// Where a Kubernetes kind's or an Istio label's or metric's name may be written as a string: its home, the
/// simulator (which writes manifests and telemetry as a cluster would), and tests. Each entry is a file and the
/// names it may write.
const NAME_HOMES: &[(&str, &str)] = &[
    ("crates/k8s/src/kinds.rs", "the table of kinds"),
    ("crates/telemetry/src/istio.rs", "Istio's metrics and labels"),
    ("crates/k8s/src/annotations.rs", "annotations Istio and Argo put on pods"),
    ("crates/k8s/src/apps.rs", "the Deployment controller's pod-template-hash label"),
    ("crates/k8s/src/argo.rs", "Argo Rollouts' rollouts-pod-template-hash label"),
    ("crates/engine/src/rollout/info.rs", "the Canary strategy's name, which is not the kind's"),
    ("crates/sim/", "the simulator's manifests and telemetry"),
];

#[test]
fn kind_and_istio_names_are_written_only_in_their_homes() {
    let mut kinds: Vec<String> = meshlens::k8s::Kind::ALL.iter().map(|k| k.as_str().to_owned()).collect();
    kinds.push(meshlens::k8s::KindName::DeploymentConfig.as_str().to_owned());
    let istio = regex::Regex::new(
        r"^((source|destination)_[a-z_]+|reporter|request_protocol|response_code|response_flags|grpc_response_status|istio_[a-z_]+|[a-z.]*istio\.io/[a-z-]+|(rollouts[-_])?pod[-_]template[-_]hash)$",
    )
    .unwrap();
    let literal = regex::Regex::new(r#""((?:[^"\\]|\\.)*)""#).unwrap();
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut strays = Vec::new();
    for (_, _, path, code) in modules() {
        let file = path.strip_prefix(workspace).unwrap().to_string_lossy().into_owned();
        if NAME_HOMES.iter().any(|(home, _)| file.starts_with(home)) {
            continue;
        }
        for (n, line) in code.lines().enumerate() {
            for text in literal.captures_iter(line).map(|c| c[1].to_owned()) {
                if kinds.contains(&text) || istio.is_match(&text) {
                    strays.push(format!("{file}:{}: {text:?}", n + 1));
                }
            }
        }
    }
    assert!(
        strays.is_empty(),
        "names written outside their homes (name them from the Kind table or telemetry::istio):\n{}",
        strays.join("\n")
    );
    // The check sees them: a kind and a label written as strings are found.
    assert!(kinds.iter().any(|k| k == "Rollout") && istio.is_match("destination_workload"));
}
