//! The live demo's world: frames advance the reviews Rollout step by step, then promote it and start a new
//! revision, and the samples appended to the in-memory store make the observed split follow.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "tests fail loudly"
)]

use std::collections::BTreeSet;
use std::sync::Arc;

use meshlens::graph::{GraphRequest, ScrapeLabels, TrafficRole};
use meshlens::identity::IdentityIndex;
use meshlens::sim::live::{Pace, append_due, frame};
use meshlens::telemetry::{Backend, MemoryStore};
use tokio::sync::RwLock;

const STARTED: i64 = 1_795_600_800;

/// Canary share observed and intended over the last minute of frame `k`, after feeding frames -1..=k.
async fn split_after(k: i64) -> (f64, f64, BTreeSet<String>) {
    let pace = Pace::default();
    let store = Arc::new(RwLock::new(MemoryStore::new()));
    let mut last = None;
    for i in -1..=k {
        let f = frame(i, STARTED, pace).unwrap();
        append_due(&store, &f.samples, i64::MAX).await;
        last = Some(f.inventory);
    }
    let inventory = last.unwrap();
    let index = IdentityIndex::build(&inventory);
    let req = GraphRequest::new(STARTED + (k + 1) * pace.frame_s, 50, ScrapeLabels::default())
        .with_namespaces(Some(BTreeSet::from(["bookinfo".to_owned()])));
    let graph = meshlens::graph::graph(&Backend::Memory(store), &index, &inventory, &req).await.unwrap();
    let reviews = graph.nodes.iter().find(|n| n.name == "reviews").expect("reviews node");
    let canary = |f: fn(&meshlens::graph::Revision) -> Option<f64>| {
        reviews.revisions.iter().filter(|r| r.role == TrafficRole::Canary).filter_map(f).sum::<f64>()
    };
    let serving: BTreeSet<String> =
        reviews.revisions.iter().filter(|r| r.rps > 0.0).map(|r| r.replica_set.clone()).collect();
    (canary(|r| r.observed_share), canary(|r| r.intended_weight), serving)
}

#[tokio::test]
async fn the_canary_advances_and_the_observed_split_follows() {
    for (k, want) in [(0, 0.2), (1, 0.4), (2, 0.6)] {
        let (observed, intended, _) = split_after(k).await;
        assert!((intended - want).abs() < 1e-9, "frame {k}: intended {intended}");
        assert!((observed - want).abs() < 0.06, "frame {k}: observed {observed}, want {want}");
    }
}

#[tokio::test]
async fn promotion_moves_everything_then_a_new_revision_starts() {
    let (_, _, before) = split_after(2).await;
    let (canary_share, _, promoted) = split_after(3).await;
    assert_eq!(canary_share, 0.0, "after promotion nothing is canary");
    assert_eq!(promoted.len(), 1, "one revision serves: {promoted:?}");
    let (observed, intended, next) = split_after(4).await;
    assert!((intended - 0.2).abs() < 1e-9 && (observed - 0.2).abs() < 0.06, "{observed} {intended}");
    assert!(next.iter().any(|rs| !before.contains(rs)), "a new revision serves: {before:?} → {next:?}");
}
