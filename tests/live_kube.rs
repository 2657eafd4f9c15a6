//! `--kube`: the real kube-rs client reads the cluster through an in-process fake API server (discovery and paged
//! LIST on 127.0.0.1), and every view sees what a snapshot of the same objects shows.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "tests fail loudly"
)]

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
    let err = stderr(&out);
    assert!(err.contains("discovering the cluster's APIs failed"), "{err}");
    assert!(err.contains(&format!("cannot reach the Kubernetes API at http://127.0.0.1:{port}")), "{err}");
    let out = meshlens(&["workloads", "--kube", "--kubeconfig", kubeconfig.to_str().unwrap(), "--context", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no usable Kubernetes configuration"), "{}", stderr(&out));
}

/// Polls `url` (JSON) until `check` holds, for up to 30 s.
fn eventually(url: &str, what: &str, check: impl Fn(&Value) -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let body = common::process::block_on(async { reqwest::get(url).await.ok()?.text().await.ok() });
        if body.as_deref().and_then(|b| serde_json::from_str::<Value>(b).ok()).is_some_and(|v| check(&v)) {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{what}: not seen within 30 s at {url}: {body:?}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

fn pods_of(workloads: &Value, name: &str) -> Vec<String> {
    let w = workloads.as_array().unwrap().iter().find(|w| w["name"] == name);
    w.and_then(|w| w["pods"].as_array())
        .map(|p| p.iter().map(|p| p["name"].as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

/// bookinfo served by a fake API server over HTTPS, and a kubeconfig for it in a temporary directory.
fn bookinfo_cluster() -> (tempfile::TempDir, meshlens::sim::World, fake_kube::FakeKube, std::path::PathBuf) {
    let work = tempfile::tempdir().unwrap();
    let world = meshlens::sim::build(&SimOptions::new(Scenario::BookinfoCanary));
    let fake = fake_kube::start_tls(&world.objects);
    let kubeconfig = fake.kubeconfig(work.path());
    (work, world, fake, kubeconfig)
}

/// `serve --kube` on the cluster of `kubeconfig`, logging to `work/serve.log`; returns once the cluster is listed.
fn serve_cluster(work: &std::path::Path, kubeconfig: &std::path::Path) -> common::process::Server {
    let port = common::process::free_port();
    let args: Vec<String> =
        ["serve", "--kube", "--kubeconfig", kubeconfig.to_str().unwrap(), "--addr", &format!("127.0.0.1:{port}")]
            .map(String::from)
            .to_vec();
    let program = std::path::Path::new(env!("CARGO_BIN_EXE_meshlens"));
    common::process::spawn(program, &args, &work.join("serve.log"), port, "/readyz")
}

#[test]
fn serve_follows_the_cluster_without_a_restart() {
    let (work, world, fake, kubeconfig) = bookinfo_cluster();
    let server = serve_cluster(work.path(), &kubeconfig);
    let workloads = format!("{}/api/workloads", server.url);
    let rollout = format!("{}/api/namespaces/bookinfo/rollouts/reviews", server.url);
    let object = |kind: &str, prefix: &str| {
        world
            .objects
            .iter()
            .find(|o| o["kind"] == kind && o["metadata"]["name"].as_str().unwrap().starts_with(prefix))
            .unwrap()
            .clone()
    };
    eventually(&rollout, "the Rollout at setWeight 20", |r| r["setWeight"] == 20);

    // A Rollout advancing a step.
    let mut reviews = object("Rollout", "reviews");
    reviews["status"]["currentStepIndex"] = serde_json::json!(3);
    reviews["status"]["canary"]["weights"]["canary"]["weight"] = serde_json::json!(40);
    reviews["status"]["canary"]["weights"]["stable"]["weight"] = serde_json::json!(60);
    fake.apply(reviews.clone());
    eventually(&rollout, "the Rollout at setWeight 40", |r| r["setWeight"] == 40);

    // A pod replaced.
    let old = object("Pod", "details-v1-");
    let mut new = old.clone();
    new["metadata"]["name"] = serde_json::json!(format!("{}-new", old["metadata"]["name"].as_str().unwrap()));
    fake.delete(&old);
    fake.apply(new.clone());
    let (old_name, new_name) = (old["metadata"]["name"].as_str().unwrap(), new["metadata"]["name"].as_str().unwrap());
    eventually(&workloads, "details-v1's pod replaced", |w| pods_of(w, "details-v1") == [new_name.to_owned()]);
    assert_ne!(old_name, new_name);
    // The pages read the same world.
    let page = common::process::block_on(async {
        reqwest::get(format!("{}/workloads/bookinfo/details-v1", server.url)).await.unwrap().text().await.unwrap()
    });
    // (The new name extends the old one: every mention of the old is a mention of the new.)
    assert!(page.contains(new_name) && page.matches(old_name).count() == page.matches(new_name).count(), "{page}");

    // The watch drops and resumes from where it was.
    fake.drop_watches();
    reviews["status"]["currentStepIndex"] = serde_json::json!(5);
    reviews["status"]["canary"]["weights"]["canary"]["weight"] = serde_json::json!(60);
    fake.apply(reviews.clone());
    eventually(&rollout, "setWeight 60 after the watch resumed", |r| r["setWeight"] == 60);

    // The reflectors' first LIST gave the first world: each kind was listed once until now.
    let before_compaction = fake.requests();
    let rollout_lists = before_compaction.iter().filter(|r| r.contains("/rollouts?") && !r.contains("watch=true"));
    assert_eq!(rollout_lists.count(), 1, "{before_compaction:?}");

    // History compacted: resuming gets 410 Gone, and the reflectors list again.
    fake.compact();
    fake.drop_watches();
    let mut ratings_rs = object("ReplicaSet", "ratings-v1-");
    ratings_rs["spec"]["replicas"] = serde_json::json!(0);
    ratings_rs["status"] = serde_json::json!({"replicas": 0, "readyReplicas": 0});
    fake.apply(ratings_rs);
    fake.delete(&object("Pod", "ratings-v1-"));
    eventually(&workloads, "ratings-v1 scaled to zero", |w| {
        let rs = w.as_array().unwrap().iter().find(|w| w["name"] == "ratings-v1");
        rs.is_some_and(|w| w["pods"].as_array().is_some_and(Vec::is_empty) && w["replicaSets"][0]["replicas"] == 0)
    });
    server.stop();
    let requests = fake.requests();
    assert!(requests.iter().all(|r| r.starts_with("GET ")), "read-only");
    assert!(requests.iter().any(|r| r.contains("watch=true")), "{requests:?}");
    // The reflectors listed once, watched, and after the 410 Gone listed again.
    let lists = |path: &str| requests.iter().filter(|r| r.contains(path) && !r.contains("watch=true")).count();
    assert!(lists("/apis/apps/v1/replicasets?") >= 2, "a relist after 410: {requests:?}");
    let watches =
        requests.iter().filter(|r| r.contains("/apis/argoproj.io/v1alpha1/rollouts?") && r.contains("watch=true"));
    assert!(watches.count() >= 2, "the dropped watch resumed: {requests:?}");
}

#[test]
fn rollout_get_watch_redraws_on_every_change() {
    let (work, world, fake, kubeconfig) = bookinfo_cluster();
    let log = work.path().join("watch.log");
    let args: Vec<String> = [
        "rollout",
        "get",
        "reviews",
        "-n",
        "bookinfo",
        "--watch",
        "--kube",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
    ]
    .map(String::from)
    .to_vec();
    let program = std::path::Path::new(env!("CARGO_BIN_EXE_meshlens"));
    let drawn = |text: &str| std::fs::read_to_string(&log).unwrap_or_default().contains(text);
    let watcher = common::process::spawn_until(program, &args, &log, String::new(), || drawn("SetWeight:     20"));
    let mut reviews = world.objects.iter().find(|o| o["kind"] == "Rollout").unwrap().clone();
    reviews["status"]["currentStepIndex"] = serde_json::json!(3);
    fake.apply(reviews);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !drawn("SetWeight:     40") {
        assert!(std::time::Instant::now() < deadline, "not redrawn: {}", std::fs::read_to_string(&log).unwrap());
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    watcher.stop();
    let out = meshlens(&["rollout", "get", "reviews", "--watch"]);
    assert_eq!(out.status.code(), Some(2), "--watch needs --kube");
}

#[test]
fn given_namespaces_only_they_are_listed_and_watched() {
    let work = tempfile::tempdir().unwrap();
    let world = meshlens::sim::build(&SimOptions::new(Scenario::BookinfoCanary));
    let mut objects = world.objects.clone();
    let elsewhere = serde_json::json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "intruder", "namespace": "other", "uid": "u-intruder"},
        "spec": {"selector": {"matchLabels": {"app": "intruder"}},
                 "template": {"metadata": {"labels": {"app": "intruder"}}, "spec": {"containers": []}}}
    });
    objects.push(elsewhere);
    let fake = fake_kube::start(&objects);
    let kubeconfig = fake.kubeconfig(work.path());
    let kube = ["--kube", "--kubeconfig", kubeconfig.to_str().unwrap()];

    let everywhere = json(&meshlens_ok(&[&["workloads", "-o", "json"], &kube[..]].concat()));
    assert!(everywhere.as_array().unwrap().iter().any(|w| w["namespace"] == "other"), "{everywhere}");
    let before = fake.requests().len();
    let scoped = json(&meshlens_ok(&[&["workloads", "-o", "json", "-n", "bookinfo"], &kube[..]].concat()));
    let names: Vec<&str> = scoped.as_array().unwrap().iter().map(|w| w["namespace"].as_str().unwrap()).collect();
    assert!(!names.is_empty() && names.iter().all(|&ns| ns == "bookinfo"), "{names:?}");
    let lists: Vec<String> = fake.requests()[before..].iter().filter(|r| r.contains("limit=")).cloned().collect();
    assert!(lists.len() >= 10, "{lists:?}");
    assert!(lists.iter().all(|r| r.contains("/namespaces/bookinfo/")), "only bookinfo's collections: {lists:?}");

    let out = meshlens(&[&["workloads", "-n", "../x"], &kube[..]].concat());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not a Kubernetes namespace name"), "{}", stderr(&out));

    // serve -n watches the namespace's collections only.
    let port = common::process::free_port();
    let addr = format!("127.0.0.1:{port}");
    let args: Vec<String> =
        [&["serve", "-n", "bookinfo", "--addr", &addr][..], &kube[..]].concat().into_iter().map(String::from).collect();
    let program = std::path::Path::new(env!("CARGO_BIN_EXE_meshlens"));
    let before = fake.requests().len();
    let server = common::process::spawn(program, &args, &work.path().join("serve.log"), port, "/healthz");
    let rollout = format!("{}/api/namespaces/bookinfo/rollouts/reviews", server.url);
    eventually(&rollout, "the Rollout", |r| r["setWeight"] == 20);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let watches = || fake.requests()[before..].iter().filter(|r| r.contains("watch=true")).cloned().collect::<Vec<_>>();
    // Seven namespaced kinds are served: pods, replicasets, deployments, services, rollouts, virtualservices and
    // destinationrules.
    while watches().len() < 7 {
        assert!(std::time::Instant::now() < deadline, "no watches: {:?}", fake.requests());
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    server.stop();
    let watches = watches();
    assert!(watches.iter().all(|r| r.contains("/namespaces/bookinfo/")), "{watches:?}");
    let out = meshlens(&["serve", "-n", "bookinfo"]);
    assert_eq!(out.status.code(), Some(2), "serve -n needs --kube");
}

#[test]
fn a_kind_the_account_may_not_list_is_a_clear_error() {
    let (work, _world, fake, kubeconfig) = bookinfo_cluster();
    fake.forbid("rollouts");
    let kube = ["--kube", "--kubeconfig", kubeconfig.to_str().unwrap()];
    let listed = meshlens(&[&["workloads"][..], &kube].concat());
    assert_eq!(listed.status.code(), Some(2));
    assert!(stderr(&listed).contains("listing rollouts (argoproj.io/v1alpha1) failed"), "{}", stderr(&listed));
    // serve lists through its reflectors: the refusal ends it too, instead of leaving it waiting.
    let addr = format!("127.0.0.1:{}", common::process::free_port());
    let mut serve = std::process::Command::new(env!("CARGO_BIN_EXE_meshlens"))
        .args([&["serve", "--addr", &addr][..], &kube].concat())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let status = loop {
        if let Some(status) = serve.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            serve.kill().unwrap();
            panic!("serve kept waiting on a forbidden kind");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut serve.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(err.contains("listing rollouts (argoproj.io/v1alpha1) failed") && err.contains("forbidden"), "{err}");
    drop(work);
}

#[test]
fn gateway_api_routes_are_found_by_discovery_in_the_versions_the_cluster_serves() {
    let work = tempfile::tempdir().unwrap();
    let world = meshlens::sim::build(&SimOptions::new(Scenario::Gatewayapi));
    let snapshot = work.path().join("snapshot");
    world.write_to(&snapshot).unwrap();
    // A TLSRoute where only the experimental v1alpha2 is served.
    let mut objects = world.objects.clone();
    objects.push(serde_json::json!({"apiVersion": "gateway.networking.k8s.io/v1alpha2", "kind": "TLSRoute",
        "metadata": {"name": "tls", "namespace": "bookinfo"},
        "spec": {"parentRefs": [{"name": "bookinfo-gateway"}], "rules": [{"backendRefs": [{"name": "productpage", "port": 443}]}]}}));
    let fake = fake_kube::start(&objects);
    let kubeconfig = fake.kubeconfig(work.path());
    let kube = ["--kube", "--kubeconfig", kubeconfig.to_str().unwrap()];
    let get = |source: &[&str]| {
        let out = meshlens(&[&["rollout", "get", "reviews", "-n", "bookinfo", "-o", "json"][..], source].concat());
        let err = stderr(&out);
        assert!(
            out.status.success() && !err.contains("serves no HTTPRoute") && !err.contains("serves no TLSRoute"),
            "{err}"
        );
        json(&String::from_utf8_lossy(&out.stdout))
    };
    let live = get(&kube);
    assert_eq!(live["routedWeight"].as_f64(), Some(0.2), "{live}");
    let mut from_snapshot = get(&["--snapshot", snapshot.to_str().unwrap()]);
    from_snapshot.as_object_mut().unwrap().remove("observedSplit");
    assert_eq!(live, from_snapshot, "the objects read live are the snapshot's (which also has telemetry)");
    let requests = fake.requests();
    let paths = [
        "gateway.networking.k8s.io/v1/namespaces/bookinfo/httproutes",
        "gateway.networking.k8s.io/v1alpha2/namespaces/bookinfo/tlsroutes",
    ];
    for path in paths {
        assert!(requests.iter().any(|r| r.contains(path)), "{path}: {requests:?}");
    }
}

/// kubectl runs `kubectl-meshlens` for `kubectl meshlens ...` with every argument after the plugin name: a stub
/// kubectl doing just that, and meshlens linked under the plugin's name, read the live cluster without `--kube`.
#[test]
fn kubectl_runs_meshlens_as_its_plugin_on_the_live_cluster() {
    let (work, _world, _fake, kubeconfig) = bookinfo_cluster();
    let bin = work.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_meshlens"), bin.join("kubectl-meshlens")).unwrap();
    let kubectl = bin.join("kubectl");
    std::fs::write(&kubectl, "#!/bin/sh\nplugin=\"kubectl-$1\"\nshift\nexec \"$plugin\" \"$@\"\n").unwrap();
    std::fs::set_permissions(&kubectl, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let kubeconfig = kubeconfig.to_str().unwrap();
    let out = std::process::Command::new(&kubectl)
        .args(["meshlens", "workloads", "-n", "bookinfo", "--kubeconfig", kubeconfig, "-o", "json"])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let as_plugin: Value = serde_json::from_slice(&out.stdout).unwrap();
    let as_meshlens =
        json(&meshlens_ok(&["workloads", "-n", "bookinfo", "--kube", "--kubeconfig", kubeconfig, "-o", "json"]));
    assert_eq!(as_plugin, as_meshlens, "the plugin reads what `meshlens --kube` reads");
    assert!(as_plugin.as_array().unwrap().iter().any(|w| w["kind"] == "Rollout" && w["name"] == "reviews"));
    // A source named is the one read; a command without a source runs as it is.
    let snapshot = work.path().join("snap");
    meshlens_ok(&["sim", "--scenario", "flagger", "--out", snapshot.to_str().unwrap()]);
    let out = std::process::Command::new(&kubectl)
        .args(["meshlens", "workloads", "--snapshot", snapshot.to_str().unwrap(), "-o", "json"])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("podinfo"));
}

#[test]
fn a_watch_answered_http_410_lists_again() {
    let (work, world, fake, kubeconfig) = bookinfo_cluster();
    let server = serve_cluster(work.path(), &kubeconfig);
    let workloads = format!("{}/api/workloads", server.url);
    eventually(&workloads, "details-v1 with its pod", |w| pods_of(w, "details-v1").len() == 1);
    let lists_before =
        fake.requests().iter().filter(|r| r.contains("/api/v1/pods?") && !r.contains("watch=true")).count();

    // As a proxy in front of an API server would: the WATCH request itself answered 410, not an error event. A
    // change to another kind first moves the history past the pods' watch, then the history is forgotten.
    let service = world.objects.iter().find(|o| o["kind"] == "Service").unwrap();
    fake.apply(service.clone());
    fake.answer_gone_as_http();
    fake.compact();
    fake.drop_watches();
    let pod = world
        .objects
        .iter()
        .find(|o| o["kind"] == "Pod" && o["metadata"]["name"].as_str().unwrap().starts_with("details-v1-"))
        .unwrap();
    let mut new = pod.clone();
    new["metadata"]["name"] = serde_json::json!("details-v1-after-410");
    fake.delete(pod);
    fake.apply(new);
    eventually(&workloads, "the pod replaced while the watch was answered 410", |w| {
        pods_of(w, "details-v1") == ["details-v1-after-410".to_owned()]
    });
    server.stop();
    let requests = fake.requests();
    let lists_after = requests.iter().filter(|r| r.contains("/api/v1/pods?") && !r.contains("watch=true")).count();
    assert!(lists_after > lists_before, "pods listed again after the 410 answer: {requests:?}");
    let log = std::fs::read_to_string(work.path().join("serve.log")).unwrap();
    assert!(!log.contains("panicked"), "{log}");
}
