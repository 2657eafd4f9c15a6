//! Snapshots made to hurt whoever opens them: compression bombs, links to `/dev/zero`, FIFOs, YAML alias bombs.
//! Each ends quickly with exit 2 and a message naming the file, in bounded memory (peak RSS measured with
//! `/usr/bin/time`); and a gzip file of several members, as `pigz` writes, loads whole.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "tests fail loudly"
)]

mod common;

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{meshlens, meshlens_ok, process, simulate, stderr};

/// Runs `meshlens args` under GNU time: (exit code, stderr, peak RSS in kB, seconds).
fn measured(args: &[&str]) -> (Option<i32>, String, u64, Duration) {
    let run = process::meshlens_measured(args);
    (run.output.status.code(), stderr(&run.output), run.peak_kb, run.elapsed)
}

/// A snapshot directory with `k8s/` and `metrics/`.
fn snapshot() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["k8s", "metrics"] {
        std::fs::create_dir(dir.path().join(sub)).unwrap();
    }
    dir
}

/// One gzip member holding `data`.
fn gzip_member(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

/// The peak RSS of `graph` on a small healthy snapshot, for comparison.
fn healthy_peak_kb() -> u64 {
    let dir = tempfile::tempdir().unwrap();
    simulate("bookinfo-canary", dir.path(), &[]);
    let (code, err, peak, _) = measured(&["graph", "--snapshot", dir.path().to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    peak
}

fn graph(dir: &Path) -> (Option<i32>, String, u64, Duration) {
    measured(&["graph", "--snapshot", dir.to_str().unwrap()])
}

#[test]
fn compression_bombs_end_quickly_in_bounded_memory() {
    let healthy = healthy_peak_kb();
    // 4 GiB of zeros in 64 members of 64 MiB: a 4 MB file.
    let dir = snapshot();
    let member = gzip_member(&vec![0u8; 64 << 20]);
    let bomb: Vec<u8> = std::iter::repeat_n(member.as_slice(), 64).flatten().copied().collect();
    assert!(bomb.len() < 5 << 20, "{} bytes", bomb.len());
    std::fs::write(dir.path().join("metrics/istio.om.gz"), &bomb).unwrap();
    let (code, err, peak, elapsed) = graph(dir.path());
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("metrics/istio.om.gz: line 1: longer than 65536 bytes"), "{err}");
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    assert!(peak < healthy + 64 * 1024, "peak {peak} kB, healthy {healthy} kB");

    // Valid sample lines inflating 340-fold: stopped at 200 times the file's size.
    let dir = snapshot();
    let lines = "istio_requests_total{reporter=\"destination\"} 1 1795600000\n".repeat(1 << 20);
    let member = gzip_member(lines.as_bytes());
    let bomb: Vec<u8> = std::iter::repeat_n(member.as_slice(), 64).flatten().copied().collect();
    std::fs::write(dir.path().join("metrics/istio.om.gz"), &bomb).unwrap();
    let (code, err, peak, elapsed) = graph(dir.path());
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("inflates to more than") && err.contains("200 times its size"), "{err}");
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");
    assert!(peak < healthy + 64 * 1024, "peak {peak} kB, healthy {healthy} kB");
}

#[test]
fn only_regular_files_are_opened() {
    // A link to /dev/zero among the metrics, and a FIFO among the manifests: named, never read.
    let dir = snapshot();
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("metrics/z.om")).unwrap();
    let (code, err, _, elapsed) = graph(dir.path());
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("metrics/z.om is a symbolic link, not a regular file"), "{err}");
    assert!(elapsed < Duration::from_secs(5));

    let dir = snapshot();
    let fifo = dir.path().join("k8s/objects.yaml");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs");
    assert!(made.success());
    let (code, err, _, elapsed) = graph(dir.path());
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("k8s/objects.yaml is a FIFO, not a regular file"), "{err}");
    assert!(elapsed < Duration::from_secs(5), "did not wait on the FIFO");
}

#[test]
fn an_alias_bomb_across_documents_stops_the_load() {
    // Sixteen documents, each expanding to about 220,000 nodes: within what one document may expand to, but not
    // sixteen times over.
    let doc = |i: usize| {
        let mut d = format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: bomb{i}, namespace: x}}\ndata:\n");
        d.push_str("  a0: &a0 [lol, lol, lol, lol, lol]\n");
        for level in 1..7 {
            let refs = vec![format!("*a{}", level - 1); 5].join(", ");
            d.push_str(&format!("  a{level}: &a{level} [{refs}]\n"));
        }
        d.push_str("  again: *a6\n");
        d
    };
    let dir = snapshot();
    let text: Vec<String> = (0..16).map(doc).collect();
    std::fs::write(dir.path().join("k8s/bomb.yaml"), text.join("---\n")).unwrap();
    let (code, err, peak, elapsed) = graph(dir.path());
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("k8s/bomb.yaml: document ") && err.contains("alias bomb"), "{err}");
    assert!(!err.contains("document 1:"), "the first documents were within their own budget: {err}");
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    assert!(peak < 256 * 1024, "peak {peak} kB");
}

#[test]
fn long_lines_name_their_file_and_line() {
    let dir = snapshot();
    let long = format!("istio_requests_total 1 1795600000\nx{{a=\"{}\"}} 1 1795600000\n", "y".repeat(100_000));
    std::fs::write(dir.path().join("metrics/istio.om"), long).unwrap();
    let out = meshlens(&["graph", "--snapshot", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("metrics/istio.om: line 2: longer than 65536 bytes"), "{}", stderr(&out));
}

#[test]
fn a_gzip_file_of_several_members_loads_whole() {
    let plain = tempfile::tempdir().unwrap();
    simulate("bookinfo-canary", plain.path(), &[]);
    let text = std::fs::read_to_string(plain.path().join("metrics/istio.om")).unwrap();
    // Cut at a line in the middle, as concatenated files or `pigz` output are.
    let middle = text[..text.len() / 2].rfind('\n').unwrap() + 1;
    let (first, second) = text.as_bytes().split_at(middle);
    let members = [gzip_member(first), gzip_member(second)].concat();
    let gz = tempfile::tempdir().unwrap();
    simulate("bookinfo-canary", gz.path(), &[]);
    std::fs::remove_file(gz.path().join("metrics/istio.om")).unwrap();
    std::fs::write(gz.path().join("metrics/istio.om.gz"), members).unwrap();
    let json = |dir: &Path| meshlens_ok(&["graph", "--snapshot", dir.to_str().unwrap(), "-o", "json", "--latency"]);
    let (a, b): (serde_json::Value, serde_json::Value) =
        (serde_json::from_str(&json(plain.path())).unwrap(), serde_json::from_str(&json(gz.path())).unwrap());
    assert_eq!(a["edges"], b["edges"], "the second member's samples are read too");
    assert_eq!(a["nodes"], b["nodes"]);
}

/// Characters a terminal acts on rather than shows: controls (a line break is the output's own) and bidirectional
/// controls.
fn acted_on(c: char) -> bool {
    (c.is_control() && c != '\n') || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[test]
fn control_characters_in_names_and_labels_are_shown_not_sent() {
    let dir = tempfile::tempdir().unwrap();
    simulate("bookinfo-canary", dir.path(), &[]);
    let hostile = "evil\x1b]0;owned\x07\x1b[2J\u{202e}gnp\u{9b}31m";
    // A ghost destination carrying escapes and a line break, and a Deployment whose name and label hold escapes.
    let mut om = String::new();
    for workload in [hostile, "line\\nbreak"] {
        for (value, at) in [(0, 1_795_600_200), (600, 1_795_600_800)] {
            om.push_str(&format!(
                "istio_requests_total{{reporter=\"source\",source_workload=\"productpage-v1\",\
                 source_workload_namespace=\"bookinfo\",destination_workload=\"{workload}\",\
                 destination_workload_namespace=\"bookinfo\",destination_service_name=\"ratings\",\
                 destination_service_namespace=\"bookinfo\",request_protocol=\"http\",response_code=\"500\"}} \
                 {value} {at}\n"
            ));
        }
    }
    std::fs::write(dir.path().join("metrics/hostile.om"), om).unwrap();
    std::fs::write(
        dir.path().join("k8s/hostile.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: \"bad\\e[31mname\\a\"\n  namespace: bookinfo\n\
         spec:\n  selector:\n    matchLabels: {app: \"x\\e]0;t\\a\"}\n  template:\n    metadata:\n      labels: {app: \"x\\e]0;t\\a\"}\n",
    )
    .unwrap();
    let snap = dir.path().to_str().unwrap();
    let runs: [&[&str]; 7] = [
        &["graph", "--snapshot", snap],
        &["graph", "--snapshot", snap, "-o", "dot"],
        &["graph", "--snapshot", snap, "--type", "app"],
        &["doctor", "--snapshot", snap],
        &["workloads", "--snapshot", snap],
        &["workload", "--snapshot", snap, "-n", "bookinfo", "bad\x1b[31mname\x07"],
        &["workload", "--snapshot", snap, "-n", "bookinfo", "bad\x1b[31mnam"],
    ];
    let mut shown = String::new();
    for args in runs {
        let out = meshlens(args);
        assert!(out.status.code().is_some_and(|c| c <= 2), "{args:?}: {}", stderr(&out));
        for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            let text = String::from_utf8(bytes.clone()).expect("utf-8");
            let raw: Vec<char> = text.chars().filter(|c| acted_on(*c)).collect();
            assert!(raw.is_empty(), "{args:?} {stream} sends {raw:?}:\n{text}");
            shown.push_str(&text);
        }
    }
    // What was escaped is still there to read, and the tables stay one row per edge.
    assert!(shown.contains("evil\\x1b]0;owned\\x07\\x1b[2J\\u{202e}gnp\\u{9b}31m"), "{shown}");
    assert!(shown.contains("bookinfo/line\\nbreak"), "{shown}");
    assert!(!shown.lines().any(|l| l.starts_with("break")), "a line break in a value forges no line:\n{shown}");
    assert!(shown.contains("bad\\x1b[31mname\\x07"), "{shown}");
    // JSON keeps the value exactly (escaped the JSON way).
    let json: serde_json::Value =
        serde_json::from_str(&meshlens_ok(&["graph", "--snapshot", snap, "-o", "json"])).unwrap();
    let names: Vec<&str> = json["nodes"].as_array().unwrap().iter().filter_map(|n| n["name"].as_str()).collect();
    assert!(names.contains(&hostile) && names.contains(&"line\nbreak"), "{names:?}");
}

#[test]
fn a_yaml_document_nested_too_deep_is_refused_alone() {
    let dir = tempfile::tempdir().unwrap();
    simulate("bookinfo-canary", dir.path(), &[]);
    // A Service whose spec nests mappings 65 levels deep (4.4 KB), beside the scenario's objects.
    let mut deep =
        String::from("apiVersion: v1\nkind: Service\nmetadata:\n  name: deep\n  namespace: bookinfo\nspec:\n");
    for level in 1..=64 {
        deep.push_str(&format!("{}a:\n", "  ".repeat(level)));
    }
    deep.push_str(&format!("{}x\n", "  ".repeat(65)));
    std::fs::write(dir.path().join("k8s/deep.yaml"), deep).unwrap();
    let out = meshlens(&["workloads", "--snapshot", dir.path().to_str().unwrap(), "-o", "json"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("k8s/deep.yaml: document 1: nested 65 levels deep, past the 64"), "{err}");
    assert!(!err.contains("alias"), "{err}");
    let workloads: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(workloads.as_array().unwrap().iter().any(|w| w["name"] == "reviews"), "the rest loaded");
}
