//! Real sizes. Reading 10,000 workloads with real-sized pods (`common::realistic`) from a snapshot; and churn:
//! `serve --kube` on a cluster of 10,000 workloads with real-sized pods (`common::realistic`), 50 pod
//! changes a second for a minute, as a busy cluster's rolling deployments and readiness flips make them. The served
//! world has to follow each change within 2 s, and `serve` (a child process, its CPU time read from /proc apart
//! from this test's) may use at most a quarter of a core.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "tests fail loudly"
)]

mod common;

use std::time::{Duration, Instant};

use common::process::{self, block_on};
use common::{fake_kube, realistic};
use serde_json::{Value, json};

const CHANGES_PER_SECOND: u32 = 50;
const CHURN: Duration = Duration::from_secs(60);
/// A new pod is created every this often, and timed until the served world shows it.
const PROBE_EVERY: Duration = Duration::from_secs(5);

/// A line of /proc/PID/status in MB (`VmHWM`, `VmRSS`).
fn memory_mb(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap_or_else(|| panic!("no {field}"));
    let kb: f64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb / 1024.0
}

/// The names of the pods `serve` shows for a workload.
fn served_pods(url: &str) -> Vec<String> {
    block_on(async {
        let Ok(response) = reqwest::get(url).await else { return Vec::new() };
        let text = response.text().await.unwrap_or_default();
        let workload: Value = serde_json::from_str(&text).unwrap_or_default();
        let pods = workload["pods"].as_array().cloned().unwrap_or_default();
        pods.iter().filter_map(|p| p["name"].as_str().map(str::to_owned)).collect()
    })
}

#[test]
fn serve_follows_a_churning_cluster_of_ten_thousand_pods_on_a_quarter_of_a_core() {
    let objects = realistic::cluster(100, 100);
    let mut pods: Vec<Value> = objects.iter().filter(|o| o["kind"] == "Pod").cloned().collect();
    assert_eq!(pods.len(), 10_000);
    let pod_bytes = serde_json::to_vec(&pods[0]).unwrap().len();
    let fake = fake_kube::start_paged(&objects, 500);
    drop(objects);
    let work = tempfile::tempdir().unwrap();
    let kubeconfig = fake.kubeconfig(work.path());
    let port = process::free_port();
    let args: Vec<String> =
        ["serve", "--kube", "--kubeconfig", kubeconfig.to_str().unwrap(), "--addr", &format!("127.0.0.1:{port}")]
            .map(String::from)
            .into();
    let started = Instant::now();
    let program = std::path::Path::new(env!("CARGO_BIN_EXE_meshlens"));
    let server = process::spawn(program, &args, &work.path().join("serve.log"), port, "/readyz");
    let ready_s = started.elapsed().as_secs_f64();
    let pid = server.pid();
    let cpu_before = process::cpu_seconds(pid);

    let mut lags: Vec<f64> = Vec::new();
    std::thread::scope(|scope| {
        let fake = &fake;
        let url = &server.url;
        let prober = scope.spawn(move || {
            let mut lags = Vec::new();
            let begun = Instant::now();
            for n in 1.. {
                let due = begun + PROBE_EVERY * n;
                if due >= begun + CHURN {
                    break;
                }
                std::thread::sleep(due.saturating_duration_since(Instant::now()));
                let n = n as usize;
                // A new pod of a workload, as a scale-up adds one.
                let (n_ns, w) = (n * 7 % 100, n * 13 % 100);
                let (ns, app) = (realistic::namespace(n_ns), realistic::app(w));
                let mut pod = realistic::cluster_pod(n_ns, w);
                let name = format!("{}probe{n}", pod["metadata"]["generateName"].as_str().unwrap());
                pod["metadata"]["name"] = json!(name);
                let created = Instant::now();
                fake.apply(pod);
                let workload = format!("{url}/api/namespaces/{ns}/workloads/{app}");
                while !served_pods(&workload).contains(&name) {
                    assert!(created.elapsed() < Duration::from_secs(10), "{name} not served after 10 s");
                    std::thread::sleep(Duration::from_millis(50));
                }
                lags.push(created.elapsed().as_secs_f64());
            }
            lags
        });
        // The churn: readiness flips and relabels, one pod after another, at a steady pace.
        let begun = Instant::now();
        let changes = CHANGES_PER_SECOND * CHURN.as_secs() as u32;
        for i in 0..changes {
            let due = begun + CHURN * i / changes;
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
            let pod = &mut pods[i as usize % 10_000];
            let ready = if i / 10_000 % 2 == 0 { "False" } else { "True" };
            pod["status"]["conditions"][2]["status"] = json!(ready);
            pod["metadata"]["labels"]["churn"] = json!(i.to_string());
            fake.apply(pod.clone());
        }
        lags = prober.join().unwrap();
    });
    let cpu = process::cpu_seconds(pid) - cpu_before;
    let (peak_mb, rss_mb) = (memory_mb(pid, "VmHWM"), memory_mb(pid, "VmRSS"));
    server.stop();
    let worst = lags.iter().cloned().fold(0.0, f64::max);
    println!(
        "churn: 10,000 pods ({pod_bytes} bytes of JSON each), {CHANGES_PER_SECOND} changes/s for {} s: serve used \
         {cpu:.2} CPU s ({:.1}% of a core); a new pod served after {:.2}–{worst:.2} s ({} probes); ready after \
         {ready_s:.1} s; peak RSS {peak_mb:.0} MB, {rss_mb:.0} MB at the end",
        CHURN.as_secs(),
        100.0 * cpu / CHURN.as_secs_f64(),
        lags.iter().cloned().fold(f64::MAX, f64::min),
        lags.len()
    );
    assert!(lags.len() >= 10, "{} probes", lags.len());
    assert!(worst <= 2.0, "the served world lagged {worst:.2} s behind the cluster");
    assert!(cpu <= 0.25 * CHURN.as_secs_f64(), "serve used {cpu:.2} CPU s in {} s", CHURN.as_secs());
}

#[test]
fn ten_thousand_workloads_with_real_sized_pods_read_from_a_snapshot() {
    let objects = realistic::cluster(100, 100);
    let count = objects.len();
    let work = tempfile::tempdir().unwrap();
    std::fs::create_dir(work.path().join("k8s")).unwrap();
    let list = json!({"apiVersion": "v1", "kind": "List", "items": objects});
    let file = work.path().join("k8s/cluster.json");
    std::fs::write(&file, serde_json::to_vec(&list).unwrap()).unwrap();
    let megabytes = std::fs::metadata(&file).unwrap().len() as f64 / 1e6;
    let run =
        process::meshlens_measured(&["workloads", "-A", "-o", "json", "--snapshot", work.path().to_str().unwrap()]);
    let (out, seconds) = (&run.output, run.elapsed.as_secs_f64());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let workloads: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(workloads.as_array().unwrap().len(), 10_000);
    let pods: usize = workloads.as_array().unwrap().iter().map(|w| w["pods"].as_array().unwrap().len()).sum();
    assert_eq!(pods, 10_000);
    let peak_mb = run.peak_kb as f64 / 1024.0;
    println!(
        "objects alone: 10,000 workloads with real-sized pods, {} objects, {megabytes:.0} MB of JSON: \
         `workloads -A -o json` {seconds:.1} s, peak RSS {peak_mb:.0} MB",
        count
    );
}

#[test]
fn a_yaml_list_is_read_item_by_item_like_its_json_twin() {
    let list = json!({"apiVersion": "v1", "kind": "List", "items": realistic::cluster(20, 100)});
    let read = |name: &str, text: Vec<u8>| {
        let work = tempfile::tempdir().unwrap();
        std::fs::create_dir(work.path().join("k8s")).unwrap();
        std::fs::write(work.path().join("k8s").join(name), &text).unwrap();
        let run =
            process::meshlens_measured(&["workloads", "-A", "-o", "json", "--snapshot", work.path().to_str().unwrap()]);
        assert!(run.output.status.success(), "{}", String::from_utf8_lossy(&run.output.stderr));
        let peak_mb = run.peak_kb as f64 / 1024.0;
        println!(
            "{name}: 2,000 workloads with real-sized pods, {:.0} MB: {:.1} s, peak RSS {peak_mb:.0} MB",
            text.len() as f64 / 1e6,
            run.elapsed.as_secs_f64()
        );
        (serde_json::from_slice::<Value>(&run.output.stdout).unwrap(), peak_mb)
    };
    let (from_json, json_mb) = read("cluster.json", serde_json::to_vec(&list).unwrap());
    let (from_yaml, yaml_mb) = read("cluster.yaml", serde_saphyr::to_string(&list).unwrap().into_bytes());
    assert_eq!(from_json.as_array().map(Vec::len), Some(2_000));
    assert_eq!(from_yaml, from_json);
    // Parsed whole, the YAML list took several times the JSON list's memory; item by item, about the same.
    assert!(yaml_mb < json_mb + 50.0, "YAML {yaml_mb:.0} MB, JSON {json_mb:.0} MB");
}
