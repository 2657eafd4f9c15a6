//! The web UI in a real headless Chromium driven over WebDriver: open the graph, click the reviews Rollout, land on
//! its one workload page with both ReplicaSets, all their pods and the split. Screenshots of every page go to
//! `target/screenshots/` for people to look at.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::process::{block_on, free_port, require, spawn};
use common::simulate;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// `meshlens serve` on the bookinfo canary snapshot; returns its URL.
fn serve_bookinfo(work: &std::path::Path) -> String {
    let snapshot = work.join("snapshot");
    simulate("bookinfo-canary", &snapshot, &[]);
    let port = free_port();
    let args: Vec<String> = ["serve", "--snapshot", snapshot.to_str().unwrap(), "--addr", &format!("127.0.0.1:{port}")]
        .iter()
        .map(|s| s.to_string())
        .collect();
    spawn(std::path::Path::new(env!("CARGO_BIN_EXE_meshlens")), &args, &work.join("serve.log"), port, "/healthz").url
}

fn chromedriver(work: &std::path::Path) -> String {
    let port = free_port();
    spawn(&require("chromedriver"), &[format!("--port={port}")], &work.join("chromedriver.log"), port, "/status").url
}

async fn browser(driver: &str) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": require("chromium"),
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-dev-shm-usage", "--window-size=1440,1000"],
        }),
    );
    ClientBuilder::rustls().expect("TLS setup").capabilities(caps).connect(driver).await.expect("WebDriver session")
}

async fn screenshot(client: &Client, name: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let png = client.screenshot().await.expect("screenshot");
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

/// Waits (bounded) until the current URL ends with `path`.
async fn wait_for_path(client: &Client, path: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let url = client.current_url().await.expect("url");
        if url.path() == path {
            return;
        }
        assert!(Instant::now() < deadline, "still at {url}, expected {path}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[test]
fn clicking_the_rollout_opens_its_one_workload_page_with_every_pod_and_the_split() {
    let work = tempfile::tempdir().unwrap();
    let server = serve_bookinfo(work.path());
    let driver = chromedriver(work.path());
    let pods = block_on(get_json(&format!("{server}/api/namespaces/bookinfo/workloads/reviews")));
    block_on(async {
        let client = browser(&driver).await;
        client.goto(&format!("{server}/graph?namespaces=bookinfo")).await.unwrap();
        let reviews = client.find(Locator::Css(r#"g.node[data-name="reviews"] a"#)).await.expect("reviews node");
        screenshot(&client, "graph").await;
        let split = client.find_all(Locator::Css(r#"g.node[data-name="reviews"] .split rect"#)).await.unwrap();
        assert_eq!(split.len(), 2, "stable and canary drawn inside the node");
        reviews.click().await.expect("click reviews");
        wait_for_path(&client, "/workloads/bookinfo/reviews").await;
        let page = client.source().await.unwrap();
        for rs in pods["replicaSets"].as_array().unwrap() {
            assert!(page.contains(rs["name"].as_str().unwrap()), "ReplicaSet {} on the page", rs["name"]);
        }
        let pod_rows = client.find_all(Locator::Css("#pods tbody tr")).await.unwrap();
        assert_eq!(pod_rows.len(), pods["pods"].as_array().unwrap().len(), "every pod listed");
        let bars = client.find_all(Locator::Css("table.split .bar .observed")).await.unwrap();
        assert_eq!(bars.len(), 2, "a split bar per revision");
        screenshot(&client, "workload-reviews").await;

        client.goto(&format!("{server}/workloads")).await.unwrap();
        let filter = client.find(Locator::Id("filter")).await.unwrap();
        filter.send_keys("ratings").await.unwrap();
        let visible = client.find_all(Locator::Css("#workloads tbody tr:not([hidden])")).await.unwrap();
        assert!(!visible.is_empty() && visible.len() < workloads_total(&server).await, "the filter narrows the list");
        screenshot(&client, "workloads").await;

        client.goto(&format!("{server}/rollouts")).await.unwrap();
        screenshot(&client, "rollouts").await;
        client.close().await.unwrap();
    });
}

async fn workloads_total(server: &str) -> usize {
    get_json(&format!("{server}/api/workloads")).await.as_array().unwrap().len()
}

async fn get_json(url: &str) -> Value {
    let text = reqwest::get(url).await.unwrap().text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: {e}: {text}"))
}
