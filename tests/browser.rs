//! The web UI in a real headless Chromium driven over WebDriver. On the live demo: open the graph, click the reviews
//! Rollout, land on its one workload page with both ReplicaSets, all their pods and the split, and watch the split
//! move when the canary takes its next step. On a 2,000-workload mesh: the namespace overview fits the page with
//! readable boxes, and drills down to a namespace, a workload, and a workload's neighbourhood found by the search
//! box. Screenshots of every page go to `target/screenshots/` for people to look at.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "tests fail loudly"
)]

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::process::{block_on, free_port, require, spawn};
use common::{serve_snapshot, simulate};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// Seconds each step of the demo's Rollout lasts in this test.
const STEP_S: u64 = 15;

/// `meshlens demo` with short steps; returns its URL.
fn demo(work: &std::path::Path) -> String {
    let port = free_port();
    let args: Vec<String> = ["demo", "--addr", &format!("127.0.0.1:{port}"), "--step-seconds", &STEP_S.to_string()]
        .iter()
        .map(|s| s.to_string())
        .collect();
    spawn(std::path::Path::new(env!("CARGO_BIN_EXE_meshlens")), &args, &work.join("demo.log"), port, "/healthz").url
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

/// The text of the canary row's cells of the split table (ReplicaSet, role, bar, observed, intended, ...).
async fn canary_cells(client: &Client) -> Vec<String> {
    let mut cells = Vec::new();
    for cell in client.find_all(Locator::Css("table.split tr.canary td")).await.unwrap() {
        cells.push(cell.text().await.unwrap());
    }
    cells
}

/// Pod names listed on the workload page.
async fn listed_pods(client: &Client) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for cell in client.find_all(Locator::Css("#pods tbody tr td:first-child")).await.unwrap() {
        names.insert(cell.text().await.unwrap());
    }
    names
}

#[test]
fn the_demo_rollout_opens_its_one_workload_page_with_every_pod_and_a_moving_split() {
    let work = tempfile::tempdir().unwrap();
    let server = demo(work.path());
    let driver = chromedriver(work.path());
    block_on(async {
        let client = browser(&driver).await;
        client.goto(&format!("{server}/graph?namespaces=bookinfo")).await.unwrap();
        let reviews = client.find(Locator::Css(r#"g.node[data-name="reviews"] a"#)).await.expect("reviews node");
        screenshot(&client, "graph").await;
        let split = client.find_all(Locator::Css(r#"g.node[data-name="reviews"] .split rect"#)).await.unwrap();
        assert_eq!(split.len(), 2, "stable and canary drawn inside the node");
        reviews.click().await.expect("click reviews");
        wait_for_path(&client, "/workloads/bookinfo/reviews").await;

        // Every ReplicaSet and every pod the API knows is on the page (re-read if a step replaced pods between).
        let mut tries = 0;
        loop {
            let api = get_json(&format!("{server}/api/namespaces/bookinfo/workloads/reviews")).await;
            let page = client.source().await.unwrap();
            let pods: BTreeSet<String> =
                api["pods"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_owned()).collect();
            let all_sets =
                api["replicaSets"].as_array().unwrap().iter().all(|rs| page.contains(rs["name"].as_str().unwrap()));
            if all_sets && listed_pods(&client).await == pods {
                break;
            }
            tries += 1;
            assert!(tries < 3, "the page lists every ReplicaSet and pod: API {pods:?}");
            client.refresh().await.unwrap();
        }
        let bars = client.find_all(Locator::Css("table.split .bar .observed")).await.unwrap();
        assert_eq!(bars.len(), 2, "a split bar per revision");
        assert!(client.find(Locator::Css("div.chart polyline.observed.canary")).await.is_ok(), "the split over time");
        screenshot(&client, "workload-reviews").await;

        // The canary takes its next step: the intended weight on the page changes, and the observed share follows.
        let before = canary_cells(&client).await;
        let deadline = Instant::now() + Duration::from_secs(3 * STEP_S);
        let after = loop {
            tokio::time::sleep(Duration::from_secs(2)).await;
            client.refresh().await.unwrap();
            let now = canary_cells(&client).await;
            if now.get(4) != before.get(4) && now.get(3) != before.get(3) {
                break now;
            }
            assert!(Instant::now() < deadline, "the split did not move: before {before:?}, now {now:?}");
        };
        let percent = |cells: &[String], i: usize| cells[i].trim_end_matches('%').parse::<f64>().unwrap();
        assert!(percent(&after, 4) > percent(&before, 4), "intended grows: {before:?} → {after:?}");
        screenshot(&client, "workload-reviews-next-step").await;

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

/// The size (CSS pixels) of every namespace box and of its name as drawn, and the graph canvas' box.
async fn drawn_boxes(client: &Client) -> Value {
    let script = r#"
        const size = (e) => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; };
        const boxes = [...document.querySelectorAll("g.node.namespace")].map((g) =>
            ({ box: size(g.querySelector("rect.box")), name: size(g.querySelector("text")) }));
        return { canvas: size(document.getElementById("graph")), boxes };
    "#;
    client.execute(script, vec![]).await.expect("script runs")
}

#[test]
fn the_overview_of_a_2000_workload_mesh_reads_at_a_glance_and_drills_down() {
    let work = tempfile::tempdir().unwrap();
    let mesh = work.path().join("mesh");
    simulate("scale", &mesh, &["--scale", "2000"]);
    let server = serve_snapshot(&mesh, work.path(), &[]).0.url;
    let driver = chromedriver(work.path());
    block_on(async {
        let client = browser(&driver).await;
        client.goto(&format!("{server}/graph")).await.unwrap();
        let drawn = drawn_boxes(&client).await;
        screenshot(&client, "overview-2000").await;
        let boxes = drawn["boxes"].as_array().unwrap();
        assert_eq!(boxes.len(), 200, "a box per namespace");
        let canvas: Vec<f64> = drawn["canvas"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        for b in boxes {
            let [left, top, width, height] = [0, 1, 2, 3].map(|i| b["box"][i].as_f64().unwrap());
            assert!(width >= 40.0, "every namespace box at least 40 px wide at the default fit: {b}");
            // Inside the canvas: the whole mesh is on screen without scrolling the drawing.
            assert!(left >= canvas[0] - 1.0 && left + width <= canvas[0] + canvas[2] + 1.0, "{b} in {canvas:?}");
            assert!(top >= canvas[1] - 1.0 && top + height <= canvas[1] + canvas[3] + 1.0, "{b} in {canvas:?}");
            // The name is drawn at least 10 px high (a readable size) and within its box.
            let (name_width, name_height) = (b["name"][2].as_f64().unwrap(), b["name"][3].as_f64().unwrap());
            assert!(name_height >= 10.0 && name_width <= width, "readable label inside its box: {b}");
        }

        // A namespace box opens that namespace's graph, a workload box its page.
        client.find(Locator::Css(r#"g.node[data-name="scale-0004"] a"#)).await.unwrap().click().await.unwrap();
        wait_for_path(&client, "/graph").await;
        let url = client.current_url().await.unwrap();
        assert_eq!(url.query(), Some("namespaces=scale-0004"), "{url}");
        let workload = client.find(Locator::Css(r#"g.node[data-name="svc-00042"] a"#)).await.expect("svc-00042 node");
        screenshot(&client, "overview-2000-namespace").await;
        workload.click().await.unwrap();
        wait_for_path(&client, "/workloads/scale-0004/svc-00042").await;

        // The search box jumps to a workload's neighbourhood.
        client.goto(&format!("{server}/graph")).await.unwrap();
        let find = client.find(Locator::Id("find")).await.unwrap();
        find.send_keys("scale-0004/svc-00042").await.unwrap();
        client.find(Locator::Css(r#"button[form="find-form"]"#)).await.unwrap().click().await.unwrap();
        wait_for_path(&client, "/graph").await;
        let url = client.current_url().await.unwrap();
        assert_eq!(url.query(), Some("focus=workload%2Fscale-0004%2Fsvc-00042"), "{url}");
        let nodes = client.find_all(Locator::Css("g.node")).await.unwrap();
        assert!((2..20).contains(&nodes.len()), "the workload and its neighbours: {} nodes", nodes.len());
        client.find(Locator::Css(r#"g.node[data-name="svc-00042"]"#)).await.expect("the focus is drawn");
        screenshot(&client, "overview-2000-focus").await;
        client.close().await.unwrap();
    });
}
