//! Istio's bookinfo with `reviews` as an Argo Rollout paused at setWeight 20 of a subset-level Istio canary:
//! traffic enters from the ingress gateway, and productpage's calls to reviews really split 80/20 between the
//! stable and canary pods. With mixed naming it is the `istio-upgrade` scenario: older pods were injected by an
//! Istio that named them after their ReplicaSet.

use serde_json::json;

use crate::sim::cluster::{Cluster, Template, object};
use crate::sim::ids::Ids;
use crate::sim::traffic::{Behaviour, Protocol, Route, Target, Traffic};

use super::argo::{Revision, RolloutPlan, conditions, rollout};
use super::{Built, HISTORY_S, gateway};

const NS: &str = "bookinfo";
const IMAGE: &str = "docker.io/istio/examples-bookinfo";
/// The canary started this long before the snapshot.
const CANARY_AGE_S: i64 = 25 * 60;

/// How far the reviews Rollout has come: which canary cycle (each one a new revision) and the canary's weight;
/// 100 means the cycle's canary has been promoted to stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub cycle: u32,
    pub canary_weight: u32,
    /// When the canary started (its pods' age).
    pub canary_age_s: i64,
}

impl Default for Progress {
    /// The snapshot scenario: the first canary, paused at setWeight 20 for 25 minutes.
    fn default() -> Progress {
        Progress { cycle: 0, canary_weight: 20, canary_age_s: CANARY_AGE_S }
    }
}

/// The Rollout steps: setWeight 20, 40, 60, 80 with pauses between; the index of the pause after each weight.
const STEPS_OF_WEIGHT: [(u32, u32); 4] = [(20, 1), (40, 3), (60, 5), (80, 7)];

pub fn build(c: Cluster) -> Built {
    build_at(c, Progress::default())
}

/// bookinfo with the reviews Rollout at `progress`.
pub fn build_at(mut c: Cluster, progress: Progress) -> Built {
    let gateway_pods = gateway(&mut c);
    c.namespace(NS, true);
    let svc_productpage = c.service(NS, "productpage", &[("app", "productpage")], 9080, "http");
    let svc_details = c.service(NS, "details", &[("app", "details")], 9080, "http");
    let svc_reviews = c.service(NS, "reviews", &[("app", "reviews")], 9080, "http");
    let svc_ratings = c.service(NS, "ratings", &[("app", "ratings")], 9080, "http");
    let svc_mongodb = c.service(NS, "mongodb", &[("app", "mongodb")], 27017, "tcp-mongo");

    let productpage = c.deployment(
        NS,
        "productpage-v1",
        &Template::new("productpage", Some("v1"), &format!("{IMAGE}-productpage-v1:1.20.2"), 9080),
        1,
    );
    let details = c.deployment(
        NS,
        "details-v1",
        &Template::new("details", Some("v1"), &format!("{IMAGE}-details-v1:1.20.2"), 9080),
        1,
    );
    let ratings = c.deployment(
        NS,
        "ratings-v1",
        &Template::new("ratings", Some("v1"), &format!("{IMAGE}-ratings-v1:1.20.2"), 9080),
        1,
    );
    let mongodb = c.deployment(
        NS,
        "mongodb-v1",
        &Template::new("mongodb", Some("v1"), &format!("{IMAGE}-mongodb:1.20.2"), 27017),
        1,
    );

    let drawn = [c.ids.hash(), c.ids.hash(), c.ids.hash()];
    // Revisions 1..3 have the scenario's hashes; later cycles' revisions get their own, the same in every frame.
    let hash_of = |revision: u32| match revision {
        1 => drawn[2].clone(),
        2 => drawn[0].clone(),
        3 => drawn[1].clone(),
        n => Ids::new(0x7e71_5100 + u64::from(n)).hash(),
    };
    let promoted = progress.canary_weight >= 100;
    let weight = progress.canary_weight.min(100);
    let (old_rev, stable_rev, canary_rev) = (1 + progress.cycle, 2 + progress.cycle, 3 + progress.cycle);
    let (stable_hash, canary_hash, old_hash) = (hash_of(stable_rev), hash_of(canary_rev), hash_of(old_rev));
    let canary_started = c.ago(progress.canary_age_s);
    // Half the stable pods predate the Istio upgrade two days ago; the other half were restarted since.
    let stable_pods: Vec<_> =
        (0..6).map(|i| if i < 3 { c.ago(86_400 * 3 + i * 60) } else { c.ago(72_000 + i * 60) }).collect();
    let template = Template::new("reviews", None, &format!("{IMAGE}-reviews-v2:1.20.2"), 9080);
    let spec = json!({"strategy": {"canary": {
        "trafficRouting": {"istio": {
            "virtualService": {"name": "reviews", "routes": ["primary"]},
            "destinationRule": {"name": "reviews", "canarySubsetName": "canary", "stableSubsetName": "stable"}}},
        "steps": [{"setWeight": 20}, {"pause": {}}, {"setWeight": 40}, {"pause": {"duration": "10m"}},
                  {"setWeight": 60}, {"pause": {"duration": "10m"}}, {"setWeight": 80}, {"pause": {"duration": "10m"}}]}}});
    let canary_pods = if promoted { 6 } else { (weight as usize * 6).div_ceil(100).max(1) };
    let stable_pods_count = if promoted { 0 } else { 6 };
    let replicas = canary_pods + stable_pods_count;
    let status = if promoted {
        // Fully promoted: the cycle's canary is the stable revision and takes everything.
        json!({
            "phase": "Healthy", "currentStepIndex": 8, "currentStepHash": "7c6b5d9f4", "currentPodHash": canary_hash,
            "stableRS": canary_hash,
            "canary": {"weights": {"canary": {"weight": 0, "podTemplateHash": canary_hash},
                                   "stable": {"weight": 100, "podTemplateHash": canary_hash}}},
            "replicas": 6, "updatedReplicas": 6, "readyReplicas": 6, "availableReplicas": 6, "HPAReplicas": 6,
            "selector": "app=reviews", "conditions": conditions(c.now, false),
        })
    } else {
        let step = STEPS_OF_WEIGHT.iter().find(|(w, _)| *w >= weight).map_or(7, |(_, pause)| *pause);
        json!({
            "phase": "Paused", "message": "CanaryPauseStep",
            "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": canary_started.to_string()}],
            "controllerPause": true,
            "currentStepIndex": step, "currentStepHash": "7c6b5d9f4", "currentPodHash": canary_hash,
            "stableRS": stable_hash,
            "canary": {"weights": {"canary": {"weight": weight, "podTemplateHash": canary_hash},
                                   "stable": {"weight": 100 - weight, "podTemplateHash": stable_hash}}},
            "replicas": replicas, "updatedReplicas": canary_pods, "readyReplicas": replicas,
            "availableReplicas": replicas, "HPAReplicas": replicas,
            "selector": "app=reviews", "conditions": conditions(c.now, true),
        })
    };
    let image = |revision: u32| format!("{IMAGE}-reviews-v{revision}:1.20.2");
    let revisions = [
        Revision {
            number: canary_rev,
            hash: canary_hash.clone(),
            image: image(canary_rev),
            pods: vec![canary_started; canary_pods],
            ready: canary_pods,
            created: canary_started,
        },
        Revision {
            number: stable_rev,
            hash: stable_hash.clone(),
            image: image(stable_rev),
            pods: stable_pods.into_iter().take(stable_pods_count).collect(),
            ready: stable_pods_count,
            created: c.ago(86_400 * 3),
        },
        Revision {
            number: old_rev,
            hash: old_hash,
            image: image(old_rev),
            pods: vec![],
            ready: 0,
            created: c.ago(86_400 * 9),
        },
    ];
    let plan = RolloutPlan {
        namespace: NS,
        name: "reviews",
        template: &template,
        replicas: 6,
        spec,
        status,
        revisions: &revisions,
    };
    let pods = rollout(&mut c, plan);
    let (canary, stable) = (pods[0].clone(), pods[1].clone());

    let (vs_meta, _) = c.meta_json(Some(NS), "reviews", c.ago(86_400 * 20), &Default::default(), None);
    c.push(object(
        "networking.istio.io/v1",
        "VirtualService",
        vs_meta,
        json!({
        "hosts": ["reviews"],
        "http": [{"name": "primary", "route": [
            {"destination": {"host": "reviews", "subset": "stable"}, "weight": if promoted { 100 } else { 100 - weight }},
            {"destination": {"host": "reviews", "subset": "canary"}, "weight": if promoted { 0 } else { weight }}]}]}),
        None,
    ));
    let (dr_meta, _) = c.meta_json(Some(NS), "reviews", c.ago(86_400 * 20), &Default::default(), None);
    c.push(object(
        "networking.istio.io/v1",
        "DestinationRule",
        dr_meta,
        json!({
        "host": "reviews",
        "subsets": [
            {"name": "stable", "labels": {"app": "reviews",
                "rollouts-pod-template-hash": if promoted { &canary_hash } else { &stable_hash }}},
            {"name": "canary", "labels": {"app": "reviews", "rollouts-pod-template-hash": canary_hash}}]}),
        None,
    ));
    let (gw_vs_meta, _) = c.meta_json(Some(NS), "bookinfo", c.ago(86_400 * 20), &Default::default(), None);
    c.push(object(
        "networking.istio.io/v1",
        "VirtualService",
        gw_vs_meta,
        json!({
        "hosts": ["*"], "gateways": ["bookinfo-gateway"],
        "http": [{"match": [{"uri": {"exact": "/productpage"}}, {"uri": {"prefix": "/static"}}],
                  "route": [{"destination": {"host": "productpage", "port": {"number": 9080}}}]}]}),
        None,
    ));

    let now = c.now.as_second();
    let (start, switch) = (now - HISTORY_S, canary_started.as_second());
    let mut t = Traffic::default();
    let pods = &c.pods;
    let http = Protocol::Http;
    let to_productpage = [Target::all(&productpage, Behaviour::ok(45.0))];
    t.add(pods, Route::new(http, &gateway_pods, svc_productpage, 12.0, &to_productpage));
    let to_details = [Target::all(&details, Behaviour { error_ratio: 0.01, latency_ms: 6.0 })];
    t.add(pods, Route::new(http, &productpage, svc_details, 12.0, &to_details));
    let stable_b = Behaviour { error_ratio: 0.005, latency_ms: 22.0 };
    let canary_b = Behaviour { error_ratio: 0.03, latency_ms: 38.0 };
    // Before the canary existed everything went to stable; since then the VirtualService splits 80/20.
    let before = [Target::all(&stable, stable_b)];
    t.add(pods, Route::new(http, &productpage, svc_reviews, 12.0, &before).during(start, switch));
    let canary_share = if promoted { 1.0 } else { f64::from(weight) / 100.0 };
    let split = [
        Target { pods: &stable, weight: 1.0 - canary_share, behaviour: stable_b },
        Target { pods: &canary, weight: canary_share, behaviour: canary_b },
    ];
    t.add(pods, Route::new(http, &productpage, svc_reviews, 12.0, &split).during(switch, now));
    // Every reviews pod calls ratings once per request it serves.
    let to_ratings = [Target::all(&ratings, Behaviour::ok(4.0))];
    t.add(pods, Route::new(http, &stable, svc_ratings, 12.0, &to_ratings).during(start, switch));
    t.add(pods, Route::new(http, &stable, svc_ratings, 12.0 * (1.0 - canary_share), &to_ratings).during(switch, now));
    t.add(pods, Route::new(http, &canary, svc_ratings, 12.0 * canary_share, &to_ratings).during(switch, now));
    let to_mongo = [Target::all(&mongodb, Behaviour::ok(2.0))];
    t.add(pods, Route::new(Protocol::Tcp, &ratings, svc_mongodb, 0.5, &to_mongo).bytes_per_connection(220.0, 1_450.0));
    let window = super::default_window(&c);
    Built { cluster: c, traffic: t, window }
}
