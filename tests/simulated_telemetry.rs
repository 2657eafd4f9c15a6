//! The simulator's telemetry against the identity index: every name it reports resolves to a workload, and the
//! split it reports is the split the routes carry.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "tests fail loudly"
)]

use std::collections::{BTreeMap, BTreeSet};

use meshlens::identity::{IdentityIndex, Resolution, Role};
use meshlens::inventory::Inventory;
use meshlens::k8s::document::Format;
use meshlens::k8s::load::Loader;
use meshlens::sim::{Scenario, SimOptions, World};
use meshlens::telemetry::openmetrics;

fn world(scenario: Scenario) -> (World, IdentityIndex, String) {
    let world = meshlens::sim::build(&SimOptions::new(scenario));
    let mut loader = Loader::new();
    for (file, text) in world.manifests().unwrap() {
        loader.add_text(&file, &text, Format::Yaml).unwrap();
    }
    let (objects, report) = loader.finish();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    let index = IdentityIndex::build(&Inventory::new("Kubernetes", objects));
    let metrics = String::from_utf8(world.write_metrics(Vec::new()).unwrap()).unwrap();
    (world, index, metrics)
}

fn label<'a>(sample: &'a openmetrics::Sample<'_>, name: &str) -> Option<&'a str> {
    sample.labels.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
}

#[test]
fn every_workload_name_in_istio_upgrade_telemetry_resolves_to_an_existing_workload() {
    let (_, index, metrics) = world(Scenario::IstioUpgrade);
    let mut reported: BTreeSet<(String, String)> = BTreeSet::new();
    openmetrics::parse(metrics.as_bytes(), |s| {
        for side in ["source", "destination"] {
            let ns = label(&s, &format!("{side}_workload_namespace")).unwrap();
            let name = label(&s, &format!("{side}_workload")).unwrap();
            reported.insert((ns.to_owned(), name.to_owned()));
        }
    })
    .unwrap();
    let reviews: Vec<&String> =
        reported.iter().filter(|(ns, n)| ns == "bookinfo" && n.starts_with("reviews")).map(|(_, n)| n).collect();
    assert!(reviews.len() >= 2, "both naming generations report reviews: {reviews:?}");
    for (ns, name) in &reported {
        match index.resolve("Kubernetes", ns, name) {
            Resolution::One(w) if name.starts_with("reviews") => assert_eq!(w.id.name, "reviews"),
            Resolution::One(_) => {}
            other => panic!("{ns}/{name} does not resolve to one workload: {other:?}"),
        }
    }
}

#[test]
fn bookinfo_traffic_to_reviews_splits_80_20_between_stable_and_canary_pods() {
    let (world, index, metrics) = world(Scenario::BookinfoCanary);
    let end = world.time.as_second() as f64;
    let start = end - 600.0;
    // Destination-reported requests per reviews pod over the last 10 minutes (counter increase).
    let mut first: BTreeMap<String, f64> = BTreeMap::new();
    let mut last: BTreeMap<String, f64> = BTreeMap::new();
    openmetrics::parse(metrics.as_bytes(), |s| {
        if s.name != "istio_requests_total"
            || label(&s, "reporter") != Some("destination")
            || label(&s, "destination_workload") != Some("reviews")
        {
            return;
        }
        let key = format!("{:?}", s.labels);
        let t = s.timestamp.unwrap();
        if t == start {
            first.insert(key.clone(), s.value);
        }
        if t == end {
            last.insert(key, s.value);
        }
    })
    .unwrap();
    let reviews = index.named("bookinfo", "reviews").next().unwrap();
    let mut by_role: BTreeMap<&str, f64> = BTreeMap::new();
    for (key, value) in &last {
        let pod = reviews.pods.iter().find(|p| key.contains(&format!("(\"pod\", \"{}\")", p.name))).unwrap();
        let role = if pod.roles.contains(&Role::Canary) { "canary" } else { "stable" };
        *by_role.entry(role).or_default() += value - first.get(key).copied().unwrap_or(0.0);
    }
    let total: f64 = by_role.values().sum();
    let canary_share = by_role["canary"] / total;
    assert!((total / 600.0 - 12.0).abs() < 1.0, "about 12 requests/s reach reviews: {}", total / 600.0);
    assert!((canary_share - 0.20).abs() < 0.02, "canary share {canary_share}");
}

#[test]
fn every_simulated_series_is_time_ordered_without_duplicate_samples() {
    for scenario in [Scenario::BookinfoCanary, Scenario::IstioUpgrade, Scenario::Bluegreen, Scenario::Flagger] {
        let (_, _, metrics) = world(scenario);
        let mut last: BTreeMap<String, f64> = BTreeMap::new();
        let mut samples = 0;
        openmetrics::parse(metrics.as_bytes(), |s| {
            let key = format!("{}{:?}", s.name, s.labels);
            let t = s.timestamp.unwrap();
            if let Some(previous) = last.insert(key.clone(), t) {
                assert!(t > previous, "{scenario:?}: {key} has a sample at {t} after one at {previous}");
            }
            samples += 1;
        })
        .unwrap();
        assert!(samples > 1000, "{scenario:?}: {samples} samples");
    }
}
