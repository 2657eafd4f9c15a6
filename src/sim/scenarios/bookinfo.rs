//! Istio's bookinfo with `reviews` as an Argo Rollout paused at setWeight 20 of a subset-level Istio canary:
//! traffic enters from the ingress gateway, and productpage's calls to reviews really split 80/20 between the
//! stable and canary pods. With mixed naming it is the `istio-upgrade` scenario: older pods were injected by an
//! Istio that named them after their ReplicaSet.

use serde_json::json;

use crate::sim::cluster::{Cluster, Template, object};
use crate::sim::traffic::{Behaviour, Protocol, Route, Target, Traffic};

use super::argo::{Revision, RolloutPlan, conditions, rollout};
use super::{Built, HISTORY_S, gateway};

const NS: &str = "bookinfo";
const IMAGE: &str = "docker.io/istio/examples-bookinfo";
/// The canary started this long before the snapshot.
const CANARY_AGE_S: i64 = 25 * 60;

pub fn build(mut c: Cluster) -> Built {
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

    let (stable_hash, canary_hash, old_hash) = (c.ids.hash(), c.ids.hash(), c.ids.hash());
    let canary_started = c.ago(CANARY_AGE_S);
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
    let status = json!({
        "phase": "Paused", "message": "CanaryPauseStep",
        "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": canary_started.to_string()}],
        "controllerPause": true,
        "currentStepIndex": 1, "currentStepHash": "7c6b5d9f4", "currentPodHash": canary_hash, "stableRS": stable_hash,
        "canary": {"weights": {"canary": {"weight": 20, "podTemplateHash": canary_hash},
                               "stable": {"weight": 80, "podTemplateHash": stable_hash}}},
        "replicas": 8, "updatedReplicas": 2, "readyReplicas": 8, "availableReplicas": 8, "HPAReplicas": 8,
        "selector": "app=reviews", "conditions": conditions(c.now, true),
    });
    let revisions = [
        Revision {
            number: 3,
            hash: canary_hash.clone(),
            image: format!("{IMAGE}-reviews-v3:1.20.2"),
            pods: vec![canary_started; 2],
            ready: 2,
            created: canary_started,
        },
        Revision {
            number: 2,
            hash: stable_hash.clone(),
            image: format!("{IMAGE}-reviews-v2:1.20.2"),
            pods: stable_pods,
            ready: 6,
            created: c.ago(86_400 * 3),
        },
        Revision {
            number: 1,
            hash: old_hash,
            image: format!("{IMAGE}-reviews-v1:1.20.2"),
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
            {"destination": {"host": "reviews", "subset": "stable"}, "weight": 80},
            {"destination": {"host": "reviews", "subset": "canary"}, "weight": 20}]}]}),
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
            {"name": "stable", "labels": {"app": "reviews", "rollouts-pod-template-hash": stable_hash}},
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
    let split = [
        Target { pods: &stable, weight: 80.0, behaviour: stable_b },
        Target { pods: &canary, weight: 20.0, behaviour: canary_b },
    ];
    t.add(pods, Route::new(http, &productpage, svc_reviews, 12.0, &split).during(switch, now));
    // Every reviews pod calls ratings once per request it serves.
    let to_ratings = [Target::all(&ratings, Behaviour::ok(4.0))];
    t.add(pods, Route::new(http, &stable, svc_ratings, 12.0, &to_ratings).during(start, switch));
    t.add(pods, Route::new(http, &stable, svc_ratings, 9.6, &to_ratings).during(switch, now));
    t.add(pods, Route::new(http, &canary, svc_ratings, 2.4, &to_ratings).during(switch, now));
    let to_mongo = [Target::all(&mongodb, Behaviour::ok(2.0))];
    t.add(pods, Route::new(Protocol::Tcp, &ratings, svc_mongodb, 0.5, &to_mongo).bytes_per_connection(220.0, 1_450.0));
    let window = super::default_window(&c);
    Built { cluster: c, traffic: t, window }
}
