//! `meshlens capture` from a fake API server and a real Prometheus: the snapshot it writes gives every view the
//! live sources gave, and holds no env value, Secret or ConfigMap.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "tests fail loudly"
)]

mod common;

use std::path::Path;

use common::{fake_kube, meshlens, meshlens_ok, process, servers, stderr};
use meshlens::k8s::document::{Format, parse_documents};
use meshlens::sim::Scenario;
use serde_json::{Value, json};

const SECRET: &str = "s3cr3t-do-not-leak";

/// Places in a pod spec where secrets are kept: env values (plain and from Secrets), `envFrom`, command lines,
/// probes (exec commands, HTTP headers, a token in the path), lifecycle hooks and CSI volume attributes.
fn plant_in_pod_spec(spec: &mut Value) {
    let probe = json!({"exec": {"command": ["check", SECRET]},
        "httpGet": {"path": format!("/healthz?token={SECRET}"), "port": 8080,
                    "httpHeaders": [{"name": "Authorization", "value": SECRET}]}});
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        let mut containers = spec[list].as_array().cloned().unwrap_or_default();
        if containers.is_empty() && list != "containers" {
            containers.push(json!({"name": format!("{list}-helper"), "image": "busybox"}));
        }
        for c in &mut containers {
            let mut vars = c["env"].as_array().cloned().unwrap_or_default();
            vars.push(json!({"name": "DB_PASSWORD", "value": SECRET}));
            vars.push(json!({"name": "API_KEY", "valueFrom": {"secretKeyRef": {"name": "db", "key": SECRET}}}));
            c["env"] = Value::Array(vars);
            c["envFrom"] = json!([{"secretRef": {"name": SECRET}}]);
            c["command"] = json!(["run", format!("--token={SECRET}")]);
            c["args"] = json!([format!("--password={SECRET}")]);
            c["livenessProbe"] = probe.clone();
            c["readinessProbe"] = probe.clone();
            c["lifecycle"] = json!({"preStop": {"exec": {"command": ["drain", SECRET]}},
                "postStart": {"httpGet": {"path": "/", "port": 80, "httpHeaders": [{"name": "X-Key", "value": SECRET}]}}});
        }
        spec[list] = Value::Array(containers);
    }
    spec["volumes"] =
        json!([{"name": "creds", "csi": {"driver": "secrets-store", "volumeAttributes": {"token": SECRET}}}]);
}

/// The world's objects with a secret in every place clusters keep one and meshlens does not read: pod specs and
/// every pod template (Deployments, ReplicaSets, Rollouts, CronJob job templates, Experiment templates), every
/// annotation but the ones meshlens reads (last-applied, kapp's original, Vault templates, on Services and
/// Namespaces too), managedFields, VirtualService header rewrites, Gateway API header modifiers, Rollout and
/// AnalysisRun analysis arguments and web provider headers and URLs, Flagger webhook metadata; and a Secret and a
/// ConfigMap beside them.
fn with_secrets(objects: &[Value]) -> Vec<Value> {
    let planted = planted_secrets(objects);
    let served = serde_json::to_string(&planted).unwrap().matches(SECRET).count();
    assert!(served > 500, "secrets planted in every object: {served}");
    planted
}

fn planted_secrets(objects: &[Value]) -> Vec<Value> {
    let analysis_args = json!([{"name": "token", "value": SECRET}]);
    let mut out: Vec<Value> = objects.to_vec();
    out.push(
        json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "backup", "namespace": "bookinfo"},
        "spec": {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": {"spec": {"containers": [
            {"name": "backup", "image": "backup:1"}]}}}}}}),
    );
    out.push(json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Experiment",
        "metadata": {"name": "reviews-exp", "namespace": "bookinfo"},
        "spec": {"templates": [{"name": "baseline", "replicas": 1,
            "template": {"spec": {"containers": [{"name": "reviews", "image": "reviews:2"}]}}}]}}));
    out.push(json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisRun",
        "metadata": {"name": "reviews-analysis", "namespace": "bookinfo"},
        "spec": {"args": analysis_args, "metrics": [{"name": "web", "provider": {"web": {
            "url": format!("https://metrics.example/?token={SECRET}"), "headers": [{"key": "Authorization", "value": SECRET}]}}}]},
        "status": {"phase": "Running", "metricResults": [{"name": "web", "measurements": [
            {"phase": "Successful", "metadata": {"response": SECRET}}]}]}}));
    out.push(json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": {"name": "ingress", "namespace": "bookinfo"},
        "spec": {"parentRefs": [{"name": "bookinfo-gateway"}], "rules": [{
            "filters": [{"type": "RequestHeaderModifier", "requestHeaderModifier": {"set": [{"name": "Authorization", "value": SECRET}]}},
                        {"type": "ResponseHeaderModifier", "responseHeaderModifier": {"add": [{"name": "X-Key", "value": SECRET}]}}],
            "backendRefs": [{"name": "productpage", "port": 9080}]}]}}));
    for o in &mut out {
        for spec in ["/spec", "/spec/template/spec", "/spec/jobTemplate/spec/template/spec"] {
            if let Some(spec) = o.pointer_mut(spec).filter(|s| s.get("containers").is_some()) {
                plant_in_pod_spec(spec);
            }
        }
        for template in o.pointer_mut("/spec/templates").and_then(Value::as_array_mut).into_iter().flatten() {
            plant_in_pod_spec(&mut template["template"]["spec"]);
        }
        match o["kind"].as_str() {
            Some("VirtualService") => {
                for route in o["spec"]["http"].as_array_mut().into_iter().flatten() {
                    route["headers"] = json!({"request": {"set": {"Authorization": SECRET}}});
                }
            }
            Some("Rollout") => {
                o["spec"]["strategy"]["canary"]["analysis"] =
                    json!({"templates": [{"templateName": "web"}], "args": analysis_args});
            }
            Some("Canary") => {
                o["spec"]["analysis"]["webhooks"] =
                    json!([{"name": "load", "url": "http://loadtester/", "metadata": {"token": SECRET}}]);
            }
            _ => {}
        }
        o["metadata"]["managedFields"] = json!([{"manager": "kubectl", "fieldsV1": {"f:secret": SECRET}}]);
        let annotations = o["metadata"]["annotations"].as_object().cloned().unwrap_or_default();
        o["metadata"]["annotations"] = Value::Object(annotations);
        let planted = [
            ("kubectl.kubernetes.io/last-applied-configuration", format!("{{\"env\":\"{SECRET}\"}}")),
            ("kapp.k14s.io/original", format!("{{\"spec\":{{\"env\":\"{SECRET}\"}}}}")),
            ("vault.hashicorp.com/agent-inject-template-db", format!("password={SECRET}")),
        ];
        for (key, value) in planted {
            o["metadata"]["annotations"][key] = json!(value);
        }
    }
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

    // Nothing secret reached the snapshot, and no Secret or ConfigMap was asked for, though the objects that held
    // secrets were all captured.
    for kind in ["1 AnalysisRun", "1 CronJob", "1 Experiment", "HTTPRoute", "Namespace", "Service", "VirtualService"] {
        assert!(log.contains(kind), "{kind} captured: {log}");
    }
    for (path, text) in files(&dir) {
        assert!(!text.contains(SECRET), "{path} holds a secret");
        assert!(!text.contains("kind: Secret") && !text.contains("kind: ConfigMap"), "{path}");
        assert!(!text.contains("last-applied-configuration") && !text.contains("managedFields"), "{path}");
    }
    let requests = fake.requests();
    assert!(requests.iter().all(|r| !r.contains("/secrets") && !r.contains("/configmaps")), "{requests:?}");
    assert!(requests.iter().all(|r| r.starts_with("GET ")), "read-only");
    // The only env left is the sidecar's workload name and cluster ID, which telemetry carries too.
    let documents = files(&dir.join("k8s"))
        .into_iter()
        .flat_map(|(_, text)| parse_documents(&text, Format::Yaml).collect::<Vec<_>>());
    let pods: Vec<Value> = documents.map(|d| d.unwrap().value).filter(|v| v["kind"] == "Pod").collect();
    assert!(!pods.is_empty());
    for pod in &pods {
        let spec = pod["spec"].as_object().unwrap();
        assert!(spec.keys().all(|k| ["containers", "initContainers", "nodeName"].contains(&k.as_str())), "{spec:?}");
        for c in spec.values().filter_map(Value::as_array).flatten() {
            let keys: Vec<&str> = c.as_object().unwrap().keys().map(String::as_str).collect();
            assert!(keys.iter().all(|k| ["name", "image", "env", "restartPolicy"].contains(k)), "{keys:?}");
            let env = c["env"].as_array().map(Vec::as_slice).unwrap_or_default();
            let names: Vec<&str> = env.iter().filter_map(|e| e["name"].as_str()).collect();
            let proxy: &[&str] = &["ISTIO_META_WORKLOAD_NAME", "ISTIO_META_CLUSTER_ID"];
            let expected: &[&str] = if c["name"] == "istio-proxy" { proxy } else { &[] };
            assert_eq!(names, expected, "{} {}", pod["metadata"]["name"], c["name"]);
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
