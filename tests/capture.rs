//! `meshlens capture` from a fake API server and a real Prometheus: the snapshot it writes gives every view the
//! live sources gave, and holds no env value, Secret or ConfigMap.

mod common;

use std::path::Path;

use common::{fake_kube, meshlens, meshlens_ok, process, servers, stderr};
use meshlens::k8s::document::{Format, parse_documents};
use meshlens::sim::Scenario;
use serde_json::{Value, json};

const SECRET: &str = "s3cr3t-do-not-leak";

/// The world's objects with secrets where clusters keep them: env values (plain and from Secrets) in pods and pod
/// templates, last-applied annotations, managedFields; and a Secret and a ConfigMap beside them.
fn with_secrets(objects: &[Value]) -> Vec<Value> {
    let env = json!([{"name": "DB_PASSWORD", "value": SECRET},
                     {"name": "API_KEY", "valueFrom": {"secretKeyRef": {"name": "db", "key": SECRET}}}]);
    let mut out: Vec<Value> = objects
        .iter()
        .map(|o| {
            let mut o = o.clone();
            for spec in ["/spec", "/spec/template/spec"] {
                if let Some(Value::Array(containers)) = o.pointer_mut(&format!("{spec}/containers")) {
                    for c in containers.iter_mut() {
                        let mut vars = c["env"].as_array().cloned().unwrap_or_default();
                        vars.extend(env.as_array().unwrap().iter().cloned());
                        c["env"] = Value::Array(vars);
                        c["args"] = json!([format!("--password={SECRET}")]);
                    }
                }
            }
            o["metadata"]["managedFields"] = json!([{"manager": "kubectl", "fieldsV1": {"f:secret": SECRET}}]);
            let annotations = o["metadata"]["annotations"].as_object().cloned().unwrap_or_default();
            o["metadata"]["annotations"] = Value::Object(annotations);
            o["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] =
                json!(format!("{{\"env\":\"{SECRET}\"}}"));
            o
        })
        .collect();
    out.push(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "bookinfo"},
                    "data": {"password": SECRET}}));
    out.push(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "bookinfo"},
                    "data": {"password": SECRET}}));
    out
}

/// Every file under `dir`, as text (decompressed).
fn files(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push((path.display().to_string(), meshlens::snapshot::read_metrics(&path).unwrap()));
        }
    }
    out
}

/// `expected` and `actual` are the same JSON, numbers equal within 1e-6 relative.
fn assert_close(expected: &Value, actual: &Value, at: &str) {
    match (expected, actual) {
        (Value::Number(e), Value::Number(a)) => {
            let (e, a) = (e.as_f64().unwrap(), a.as_f64().unwrap());
            assert!((e - a).abs() <= 1e-6 * e.abs().max(a.abs()).max(1e-9), "{at}: expected {e}, got {a}");
        }
        (Value::Array(e), Value::Array(a)) => {
            assert_eq!(e.len(), a.len(), "{at}: length");
            for (i, (e, a)) in e.iter().zip(a).enumerate() {
                assert_close(e, a, &format!("{at}[{i}]"));
            }
        }
        (Value::Object(e), Value::Object(a)) => {
            assert_eq!(e.keys().collect::<Vec<_>>(), a.keys().collect::<Vec<_>>(), "{at}: keys");
            for (k, e) in e {
                assert_close(e, &a[k], &format!("{at}.{k}"));
            }
        }
        _ => assert_eq!(expected, actual, "{at}"),
    }
}

/// A command's JSON output, without what the query cost (which differs between engines by nature).
fn json_of(args: &[&str]) -> Value {
    let mut value: Value = serde_json::from_str(&meshlens_ok(args)).unwrap();
    if let Some(map) = value.as_object_mut() {
        map.remove("telemetry");
    }
    value
}

/// Captures `scenario` served by a fake API server and the test Prometheus; returns the work directory, the
/// capture directory, the live source flags, the capture's stderr and the fake.
fn capture(
    scenario: Scenario,
    extra: &[&str],
) -> (tempfile::TempDir, std::path::PathBuf, Vec<String>, String, fake_kube::FakeKube) {
    let sim = servers::simulated_scenario(scenario);
    let prometheus = servers::prometheus();
    let world = meshlens::sim::build(&sim.options);
    let fake = fake_kube::start(&with_secrets(&world.objects));
    let work = tempfile::tempdir().unwrap();
    let kubeconfig = fake.kubeconfig(work.path());
    let live: Vec<String> =
        ["--kube", "--kubeconfig", kubeconfig.to_str().unwrap(), "--prometheus", prometheus].map(String::from).to_vec();
    let at = sim.time.to_string();
    let dir = work.path().join("capture");
    let mut args: Vec<&str> = vec!["capture", "--out", dir.to_str().unwrap(), "--at", &at, "--duration", "10m"];
    args.extend(live.iter().map(String::as_str));
    args.extend_from_slice(extra);
    let out = meshlens(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut live = live;
    live.extend(["--at".to_string(), at]);
    (work, dir, live, stderr(&out), fake)
}

#[test]
fn a_capture_reads_back_as_the_live_sources_and_leaves_secrets_out() {
    let (_work, dir, live, log, fake) = capture(Scenario::BookinfoCanary, &[]);
    assert!(log.contains("objects: ") && log.contains("telemetry: "), "{log}");
    let snapshot = ["--snapshot", dir.to_str().unwrap()];
    let with = |args: &[&str], source: &[&str]| json_of(&[args, source].concat());
    let live: Vec<&str> = live.iter().map(String::as_str).collect();

    // The same views, from the snapshot as from the live sources.
    for view in [
        &["graph", "-o", "json"][..],
        &["graph", "-o", "json", "--latency", "--type", "versioned-app"],
        &["graph", "-o", "json", "--duration", "5m"],
        &["workloads", "-o", "json"],
        &["rollout", "get", "reviews", "-n", "bookinfo", "-o", "json"],
        &["doctor", "-o", "json"],
    ] {
        let (expected, actual) = (with(view, &live), with(view, &snapshot));
        assert_close(&expected, &actual, &view.join(" "));
    }
    // The snapshot knows its window: a longer one asked of it is flagged, a shorter one is not.
    let warned = |duration: &str| stderr(&meshlens(&[&["graph", "--duration", duration][..], &snapshot].concat()));
    assert!(warned("1h").contains("the snapshot holds 600 s of telemetry"), "{}", warned("1h"));
    assert!(!warned("10m").contains("extrapolated"));
    let graph = with(&["graph", "-o", "json"], &snapshot);
    assert!(graph["edges"].as_array().is_some_and(|e| e.len() >= 4), "the capture holds traffic: {graph}");

    // Nothing secret reached the snapshot, and no Secret or ConfigMap was asked for.
    for (path, text) in files(&dir) {
        assert!(!text.contains(SECRET), "{path} holds a secret");
        assert!(!text.contains("kind: Secret") && !text.contains("kind: ConfigMap"), "{path}");
        assert!(!text.contains("last-applied-configuration") && !text.contains("managedFields"), "{path}");
    }
    let requests = fake.requests();
    assert!(requests.iter().all(|r| !r.contains("/secrets") && !r.contains("/configmaps")), "{requests:?}");
    assert!(requests.iter().all(|r| r.starts_with("GET ")), "read-only");
    // The only env left is the sidecar's workload name, which telemetry carries too.
    let documents = files(&dir.join("k8s")).into_iter().flat_map(|(_, text)| parse_documents(&text, Format::Yaml));
    let pods: Vec<Value> = documents.map(|d| d.unwrap().value).filter(|v| v["kind"] == "Pod").collect();
    assert!(!pods.is_empty());
    for pod in &pods {
        for c in pod["spec"]["containers"].as_array().unwrap() {
            let env = c["env"].as_array().map(Vec::as_slice).unwrap_or_default();
            let names: Vec<&str> = env.iter().filter_map(|e| e["name"].as_str()).collect();
            let expected: &[&str] = if c["name"] == "istio-proxy" { &["ISTIO_META_WORKLOAD_NAME"] } else { &[] };
            assert_eq!(names, expected, "{} {}", pod["metadata"]["name"], c["name"]);
            assert!(c.get("args").is_none() && c.get("command").is_none());
        }
    }

    // The samples are OpenMetrics promtool accepts, once decompressed.
    let blocks = tempfile::tempdir().unwrap();
    let plain = blocks.path().join("istio.om");
    std::fs::write(&plain, meshlens::snapshot::read_metrics(&dir.join("metrics/istio.om.gz")).unwrap()).unwrap();
    process::backfill(&plain, &blocks.path().join("data"));
}

#[test]
fn a_namespace_capture_keeps_the_traffic_touching_it() {
    // istio-upgrade: pods of both naming generations, told apart by their sidecars' workload names.
    let (_work, dir, live, _log, _fake) = capture(Scenario::IstioUpgrade, &["-n", "bookinfo"]);
    let live: Vec<&str> = live.iter().map(String::as_str).collect();
    let snapshot = ["--snapshot", dir.to_str().unwrap()];
    for view in [&["graph", "-o", "json", "-n", "bookinfo"][..], &["workloads", "-o", "json", "-n", "bookinfo"]] {
        let expected = json_of(&[view, &live[..]].concat());
        let actual = json_of(&[view, &snapshot[..]].concat());
        assert_close(&expected, &actual, &view.join(" "));
    }
    for (path, text) in files(&dir.join("k8s")) {
        assert!(path.ends_with("bookinfo.yaml"), "only bookinfo's objects: {path}");
        assert!(!text.contains(SECRET));
    }
    // Every series has an end in bookinfo.
    let metrics = meshlens::snapshot::read_metrics(&dir.join("metrics/istio.om.gz")).unwrap();
    let series: Vec<&str> = metrics.lines().filter(|l| !l.starts_with('#')).collect();
    assert!(series.len() > 100);
    for line in series {
        let touches = line.contains("destination_workload_namespace=\"bookinfo\"")
            || line.contains("source_workload_namespace=\"bookinfo\"");
        assert!(touches, "{line}");
    }
}

#[test]
fn progress_is_redrawn_in_place_on_a_terminal() {
    let sim = servers::simulated_scenario(Scenario::Bluegreen);
    let world = meshlens::sim::build(&sim.options);
    let fake = fake_kube::start(&world.objects);
    let work = tempfile::tempdir().unwrap();
    let kubeconfig = fake.kubeconfig(work.path());
    let at = sim.time.to_string();
    let capture_into = |dir: &str| -> Vec<String> {
        let kube = ["--kube", "--kubeconfig", kubeconfig.to_str().unwrap(), "--prometheus", servers::prometheus()];
        let rest = ["--at", &at, "--out", &work.path().join(dir).display().to_string()].map(String::from);
        ["capture"].iter().chain(&kube).map(|a| a.to_string()).chain(rest).collect()
    };
    let command: Vec<String> = [env!("CARGO_BIN_EXE_meshlens").to_owned()]
        .into_iter()
        .chain(capture_into("tty"))
        .map(|a| format!("'{a}'"))
        .collect();
    // `script` gives the command a pseudo-terminal and copies what it draws to stdout.
    let run = std::process::Command::new(process::require("script"))
        .args(["-qec", &command.join(" "), "/dev/null"])
        .output()
        .unwrap();
    let drawn = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{drawn}");
    assert!(drawn.contains("\r\x1b[2Ktelemetry: istio_requests 1/"), "redrawn in place: {drawn:?}");
    assert!(drawn.contains("\r\x1b[2Kwrote "), "{drawn:?}");
    // Without a terminal, only the finished steps.
    let piped = capture_into("piped");
    let piped = meshlens(&piped.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(piped.status.success() && !stderr(&piped).contains('\r'), "{}", stderr(&piped));
    assert!(stderr(&piped).contains("telemetry: "), "{}", stderr(&piped));
}

#[test]
fn captures_refuse_what_they_cannot_do_well() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out");
    let out = out.to_str().unwrap();
    let no_kube = meshlens(&["capture", "--out", out, "--prometheus", "http://127.0.0.1:9"]);
    assert_eq!(no_kube.status.code(), Some(2));
    assert!(stderr(&no_kube).contains("--kube"), "{}", stderr(&no_kube));
    let from_snapshot = meshlens(&["capture", "--out", out, "--snapshot", out]);
    assert_eq!(from_snapshot.status.code(), Some(2));
    std::fs::create_dir_all(work.path().join("full")).unwrap();
    std::fs::write(work.path().join("full/old.yaml"), "").unwrap();
    let full = work.path().join("full");
    let mixed = meshlens(&["capture", "--kube", "--out", full.to_str().unwrap()]);
    assert!(stderr(&mixed).contains("already holds files"), "{}", stderr(&mixed));

    // A Prometheus that does not answer: a clear error naming it, after the objects were written.
    let world = meshlens::sim::build(&meshlens::sim::SimOptions::new(Scenario::BookinfoCanary));
    let fake = fake_kube::start(&world.objects);
    let kubeconfig = fake.kubeconfig(work.path());
    let dead = format!("http://127.0.0.1:{}", process::free_port());
    let failed = meshlens(&[
        "capture",
        "--kube",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--prometheus",
        &dead,
        "--out",
        out,
    ]);
    assert_eq!(failed.status.code(), Some(2));
    assert!(stderr(&failed).contains(&dead), "{}", stderr(&failed));
    assert!(Path::new(out).join("k8s/bookinfo.yaml").exists());
}
