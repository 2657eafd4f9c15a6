//! Helpers shared by the integration tests: run the real binary, find the upstream fixtures.

#![allow(dead_code)]

pub mod fake_kube;
pub mod process;
pub mod realistic;
pub mod servers;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `meshlens` with `args`.
pub fn meshlens(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_meshlens")).args(args).output().expect("meshlens runs")
}

/// Runs `meshlens`, asserts success and returns stdout.
pub fn meshlens_ok(args: &[&str]) -> String {
    let out = meshlens(args);
    assert!(out.status.success(), "meshlens {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8 output")
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The real upstream manifests (`tests/fixtures/upstream`).
pub fn upstream() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/upstream")
}

/// A folder of the Argo Rollouts CLI's live-shaped test objects (`blue-green`, `canary`, `rollout-aborted`, ...).
pub fn argo_testdata(folder: &str) -> PathBuf {
    upstream().join("argo-rollouts/pkg/kubectl-argo-rollouts/info/testdata").join(folder)
}

/// Writes a simulated scenario into `dir` with the real binary.
pub fn simulate(scenario: &str, dir: &Path, extra: &[&str]) {
    let out = dir.to_str().unwrap();
    let mut args = vec!["sim", "--scenario", scenario, "--out", out];
    args.extend_from_slice(extra);
    meshlens_ok(&args);
}

/// `meshlens serve --snapshot DIR` with `extra` flags on a free 127.0.0.1 port, logging to `work/serve.log`; returns
/// once `/healthz` answers, with the port.
pub fn serve_snapshot(snapshot: &Path, work: &Path, extra: &[&str]) -> (process::Server, u16) {
    let port = process::free_port();
    let address = format!("127.0.0.1:{port}");
    let snapshot = snapshot.to_str().expect("a UTF-8 path");
    let args: Vec<String> =
        ["serve", "--snapshot", snapshot, "--addr", &address].iter().chain(extra).map(|a| a.to_string()).collect();
    let program = Path::new(env!("CARGO_BIN_EXE_meshlens"));
    (process::spawn(program, &args, &work.join("serve.log"), port, "/healthz"), port)
}

/// Rewrites the YAML documents of a manifest file: `edit` returns a document's new text, or `None` to drop it.
pub fn rewrite_documents(path: &Path, edit: impl FnMut(&str) -> Option<String>) {
    let text = std::fs::read_to_string(path).expect("manifests readable");
    let docs: Vec<String> = text.split("\n---\n").filter_map(edit).collect();
    std::fs::write(path, docs.join("\n---\n")).expect("manifests written");
}

/// Copies a directory tree (a snapshot to edit).
pub fn copy_dir(from: &Path, to: &Path) {
    for entry in walk(from) {
        let target = to.join(entry.strip_prefix(from).expect("under the source"));
        std::fs::create_dir_all(target.parent().expect("a parent")).expect("directory created");
        std::fs::copy(&entry, target).expect("file copied");
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("readable directory") {
        let p = e.expect("directory entry").path();
        if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out
}
