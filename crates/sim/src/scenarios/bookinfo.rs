//! Istio's bookinfo with `reviews` as an Argo Rollout paused at setWeight 20 of a subset-level Istio canary:
//! traffic enters from the ingress gateway, and productpage's calls to reviews really split 80/20 between the
//! stable and canary pods. With mixed naming it is the `istio-upgrade` scenario: older pods were injected by an
//! Istio that named them after their ReplicaSet.

use serde_json::json;

use crate::cluster::{Cluster, Template, object};
use crate::fault::Fault;
use crate::ids::Ids;
use crate::traffic::{Behaviour, Call, Protocol, Route, Target, Traffic};
use meshlens_engine::routing_model::{Caller, Routed, RoutingConfig, ServiceRef, route};
use meshlens_telemetry::istio::pod_label::WORKLOAD_NAME;

use super::argo::{Revision, RolloutPlan, conditions, rollout};
use super::{Built, HISTORY_S, Mesh, gateway};

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
    build_at(c, Progress::default(), None)
}

/// How long before the snapshot the fresh step happened.
pub const FRESH_STEP_AGE_S: i64 = 60;

/// What the reviews VirtualService says.
#[derive(Clone, Copy)]
struct Routes {
    /// Stable and canary route weights.
    weights: (u32, u32),
    gateway_only: bool,
    mirror: bool,
}

fn reviews_virtual_service(routes: &Routes) -> serde_json::Value {
    let (stable, canary) = routes.weights;
    let mut http = json!({"name": "primary", "route": [
        {"destination": {"host": "reviews", "subset": "stable"}, "weight": stable},
        {"destination": {"host": "reviews", "subset": "canary"}, "weight": canary}]});
    if routes.mirror {
        http["mirror"] = json!({"host": "reviews", "subset": "canary"});
        http["mirrorPercentage"] = json!({"value": 100.0});
    }
    let mut spec = json!({"hosts": ["reviews"], "http": [http]});
    if routes.gateway_only {
        spec["gateways"] = json!(["bookinfo-gateway"]);
    }
    spec
}

/// An Istio networking object of bookinfo, created long ago.
fn push_istio(c: &mut Cluster, kind: &str, name: &str, spec: serde_json::Value) {
    let (meta, _) = c.meta_json(Some(NS), name, c.ago(86_400 * 20), &Default::default(), None);
    c.push(object("networking.istio.io/v1", kind, meta, spec, None));
}

/// bookinfo's Services and its workloads other than reviews, shared by the scenarios built on it.
pub struct Apps {
    pub productpage: Vec<usize>,
    pub details: Vec<usize>,
    pub ratings: Vec<usize>,
    pub mongodb: Vec<usize>,
    svc_productpage: usize,
    svc_details: usize,
    pub svc_reviews: usize,
    svc_ratings: usize,
    svc_mongodb: usize,
}

/// The reviews revisions and how productpage's calls to them are routed: all to stable until `since`, then by
/// each phase's routing over its `(from, to]`.
pub struct Reviews<'a> {
    pub stable: &'a [usize],
    pub canary: &'a [usize],
    pub since: i64,
    pub phases: Vec<((i64, i64), Routed<usize>)>,
}

impl Apps {
    /// Creates the bookinfo namespace (in the mesh as `mesh` says), its five Services and its Deployments other
    /// than reviews; with `shared_name`, a second ratings version shares ratings-v1's workload name.
    pub fn create(c: &mut Cluster, shared_name: bool, mesh: Mesh) -> Apps {
        match mesh {
            Mesh::Sidecars => c.namespace(NS, true),
            Mesh::Ambient => c.ambient_namespace(NS),
        }
        let svc_productpage = c.service(NS, "productpage", &[("app", "productpage")], 9080, "http");
        let svc_details = c.service(NS, "details", &[("app", "details")], 9080, "http");
        let svc_reviews = c.service(NS, "reviews", &[("app", "reviews")], 9080, "http");
        let svc_ratings = c.service(NS, "ratings", &[("app", "ratings")], 9080, "http");
        let svc_mongodb = c.service(NS, "mongodb", &[("app", "mongodb")], 27017, "tcp-mongo");
        let version = |app: &str, v: &str| Template::new(app, Some(v), &format!("{IMAGE}-{app}-{v}:1.20.2"), 9080);
        let productpage = c.deployment(NS, "productpage-v1", &version("productpage", "v1"), 1);
        let details = c.deployment(NS, "details-v1", &version("details", "v1"), 1);
        let ratings_template = |v: &str| {
            let mut t = version("ratings", v);
            if shared_name {
                t.labels.insert(WORKLOAD_NAME.into(), "ratings".into());
            }
            t
        };
        let mut ratings = c.deployment(NS, "ratings-v1", &ratings_template("v1"), 1);
        if shared_name {
            ratings.extend(c.deployment(NS, "ratings-v2", &ratings_template("v2"), 1));
        }
        let mongodb_template = Template::new("mongodb", Some("v1"), &format!("{IMAGE}-mongodb:1.20.2"), 27017);
        let mongodb = c.deployment(NS, "mongodb-v1", &mongodb_template, 1);
        Apps {
            productpage,
            details,
            ratings,
            mongodb,
            svc_productpage,
            svc_details,
            svc_reviews,
            svc_ratings,
            svc_mongodb,
        }
    }

    /// The traffic of bookinfo over the history: the ingress's calls to productpage, productpage's to details and
    /// reviews, each reviews pod's to ratings (once per request it serves, mirrored copies too), ratings' to mongodb.
    pub fn add_traffic(&self, t: &mut Traffic, c: &Cluster, ingress: &[usize], reviews: Reviews<'_>) {
        let (http, start) = (Protocol::Http, c.now.as_second() - HISTORY_S);
        let to_productpage = [Target::all(&self.productpage, Behaviour::ok(45.0))];
        t.add(&c.pods, Route::new(http, ingress, self.svc_productpage, 12.0, &to_productpage));
        let to_details = [Target::all(&self.details, Behaviour { error_ratio: 0.01, latency_ms: 6.0 })];
        t.add(&c.pods, Route::new(http, &self.productpage, self.svc_details, 12.0, &to_details));
        let stable_b = Behaviour { error_ratio: 0.005, latency_ms: 22.0 };
        let canary_b = Behaviour { error_ratio: 0.03, latency_ms: 38.0 };
        let Reviews { stable, canary, since, phases } = reviews;
        let before = [Target::all(stable, stable_b)];
        t.add(&c.pods, Route::new(http, &self.productpage, self.svc_reviews, 12.0, &before).during(start, since));
        let behaviour = |pod: usize| if canary.contains(&pod) { canary_b } else { stable_b };
        let to_ratings = [Target::all(&self.ratings, Behaviour::ok(4.0))];
        for ((from, to), routed) in phases {
            let call = Call {
                protocol: http,
                sources: &self.productpage,
                service: self.svc_reviews,
                rate: 12.0,
                active: (from, to),
            };
            t.add_routed(&call, &routed, &c.services, &behaviour);
            let rate = |pods: &[usize]| {
                let served = routed.shares.iter().chain(&routed.mirrored).filter(|s| pods.contains(&s.pod));
                12.0 * served.map(|s| s.share).sum::<f64>()
            };
            for pods in [stable, canary] {
                t.add(&c.pods, Route::new(http, pods, self.svc_ratings, rate(pods), &to_ratings).during(from, to));
            }
        }
        t.add(&c.pods, Route::new(http, stable, self.svc_ratings, 12.0, &to_ratings).during(start, since));
        let to_mongo = [Target::all(&self.mongodb, Behaviour::ok(2.0))];
        let tcp = Route::new(Protocol::Tcp, &self.ratings, self.svc_mongodb, 0.5, &to_mongo);
        t.add(&c.pods, tcp.bytes_per_connection(220.0, 1_450.0));
    }
}

/// How the mesh routes productpage's calls to `service` under these two objects (read by the real parsers).
fn route_in(c: &Cluster, vs: &serde_json::Value, dr: &serde_json::Value, service: &ServiceRef) -> Routed<usize> {
    let metadata = json!({"name": service.name, "namespace": NS});
    let parse_vs = serde_json::from_value(json!({"metadata": metadata, "spec": vs}));
    let parse_dr = serde_json::from_value(json!({"metadata": metadata, "spec": dr}));
    let (Ok(vs), Ok(dr)) = (parse_vs, parse_dr) else { return Routed::default() };
    let (vss, drs) = ([vs], [dr]);
    let config = RoutingConfig { virtual_services: &vss, destination_rules: &drs, ..RoutingConfig::default() };
    let endpoints = |s: &ServiceRef| c.endpoints(s);
    route(&config, Caller::Mesh, service, &endpoints)
}

/// bookinfo with `fault` planted.
pub fn with_fault(c: Cluster, fault: Fault) -> Built {
    let progress = match fault {
        // Pod counts (6 stable, 3 canary) then differ from the weight by more than the doctor's threshold.
        Fault::MeshUnbound | Fault::FreshStep => Progress { canary_weight: 40, ..Progress::default() },
        _ => Progress::default(),
    };
    build_at(c, progress, Some(fault))
}

/// bookinfo with the reviews Rollout at `progress`.
pub fn build_at(mut c: Cluster, progress: Progress, fault: Option<Fault>) -> Built {
    if fault == Some(Fault::NoPodLabels) {
        c.scrape_pod_labels = false;
    }
    let gateway_pods = gateway(&mut c);
    let apps = Apps::create(&mut c, fault == Some(Fault::SharedName), Mesh::Sidecars);

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
    // The pause after the current setWeight began when that weight took effect.
    let paused_since = if fault == Some(Fault::FreshStep) { c.ago(FRESH_STEP_AGE_S) } else { canary_started };
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
            "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": paused_since.to_string()}],
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
            ready: if fault == Some(Fault::CanaryNotReady) { 0 } else { canary_pods },
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
            hash: old_hash.clone(),
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

    let (stable_share, canary_share) = if promoted { (100, 0) } else { (100 - weight, weight) };
    let edited = fault == Some(Fault::WeightsDisagree);
    let routes = Routes {
        weights: if edited { (50, 50) } else { (stable_share, canary_share) },
        gateway_only: fault == Some(Fault::MeshUnbound),
        mirror: fault == Some(Fault::Mirror),
    };
    let reviews_vs = reviews_virtual_service(&routes);
    push_istio(&mut c, "VirtualService", "reviews", reviews_vs.clone());
    let stable_subset_hash = if promoted { &canary_hash } else { &stable_hash };
    let canary_subset_hash = if fault == Some(Fault::StaleSubset) { &old_hash } else { &canary_hash };
    let mut subsets =
        vec![json!({"name": "stable", "labels": {"app": "reviews", "rollouts-pod-template-hash": stable_subset_hash}})];
    if fault != Some(Fault::MissingSubset) {
        subsets.push(
            json!({"name": "canary", "labels": {"app": "reviews", "rollouts-pod-template-hash": canary_subset_hash}}),
        );
    }
    let reviews_dr = json!({"host": "reviews", "subsets": subsets});
    push_istio(&mut c, "DestinationRule", "reviews", reviews_dr.clone());
    push_istio(
        &mut c,
        "VirtualService",
        "bookinfo",
        json!({
        "hosts": ["*"], "gateways": ["bookinfo-gateway"],
        "http": [{"match": [{"uri": {"exact": "/productpage"}}, {"uri": {"prefix": "/static"}}],
                  "route": [{"destination": {"host": "productpage", "port": {"number": 9080}}}]}]}),
    );

    let now = c.now.as_second();
    let switch = canary_started.as_second();
    let mut t = Traffic::default();
    let mut phases = vec![(switch, now, reviews_vs)];
    if fault == Some(Fault::FreshStep) {
        let step_at = now - FRESH_STEP_AGE_S;
        let earlier = Routes { weights: (80, 20), ..routes };
        phases = vec![(switch, step_at, reviews_virtual_service(&earlier)), (step_at, now, phases.remove(0).2)];
    }
    let reviews = ServiceRef::new(NS, "reviews");
    let phases: Vec<_> =
        phases.into_iter().map(|(from, to, vs)| ((from, to), route_in(&c, &vs, &reviews_dr, &reviews))).collect();
    apps.add_traffic(&mut t, &c, &gateway_pods, Reviews { stable: &stable, canary: &canary, since: switch, phases });
    if fault == Some(Fault::DeletedWorkload) {
        c.delete_objects(|o| o["metadata"]["name"].as_str().is_some_and(|n| n.starts_with("details-v1")));
    }
    let window = super::default_window(&c);
    Built { cluster: c, traffic: t, window }
}
