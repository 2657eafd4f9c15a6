//! bookinfo routed by the Kubernetes Gateway API: ingress through a Gateway API `Gateway` (Istio deploys its proxy
//! as `bookinfo-gateway-istio`), and `reviews` an Argo Rollout whose Gateway API plugin splits traffic through an
//! HTTPRoute bound to the `reviews` Service (GAMMA), between the `reviews-stable` and `reviews-canary` Services the
//! controller pins to each revision's hash. productpage's calls to reviews follow the route through the routing
//! model, so with a fault planted they go where the planted objects send them. In ambient mode a waypoint in front
//! of `reviews` applies the route.

use serde_json::{Value, json};

use crate::cluster::{Cluster, Dataplane, Template, object};
use crate::fault::Fault;
use meshlens_engine::routing_model::{Caller, Routed, RoutingConfig, ServiceRef, route};
use meshlens_k8s::gateway::GROUP;
use meshlens_telemetry::istio::pod_label::{DATAPLANE_AMBIENT, DATAPLANE_MODE};

use super::argo::{Revision, RolloutPlan, conditions, rollout};
use super::bookinfo::{Apps, Reviews};
use super::{Built, Mesh, ambient, default_window};

const NS: &str = "bookinfo";
const IMAGE: &str = "docker.io/istio/examples-bookinfo";
/// The canary started this long before the snapshot.
const CANARY_AGE_S: i64 = 25 * 60;
/// The Istio controller that writes route status.
const CONTROLLER: &str = "istio.io/gateway-controller";
const PORT: u16 = 9080;

/// bookinfo routed by the Gateway API, its namespace in the mesh as `mesh` says, with `fault` planted.
pub fn build(mut c: Cluster, fault: Option<Fault>, mesh: Mesh) -> Built {
    if mesh == Mesh::Ambient {
        ambient::ztunnels(&mut c);
    }
    let ingress = ingress_gateway(&mut c);
    let apps = Apps::create(&mut c, false, mesh);
    if mesh == Mesh::Ambient {
        let waypoint = ambient::waypoint(&mut c, NS, "waypoint");
        c.use_waypoint(apps.svc_reviews, "waypoint", &waypoint);
    }
    let plan = Plan::of(fault);
    let hashes = [c.ids.hash(), c.ids.hash(), c.ids.hash()];
    let (old_hash, stable_hash, canary_hash) = (&hashes[0], &hashes[1], &hashes[2]);
    let canary_started = c.ago(CANARY_AGE_S);
    let canary_pods = (plan.percent as usize * 6).div_ceil(100).max(1);
    let template = Template::new("reviews", None, &format!("{IMAGE}-reviews-v2:1.20.2"), PORT);
    let image = |revision: u32| format!("{IMAGE}-reviews-v{revision}:1.20.2");
    let revisions = [
        Revision {
            number: 3,
            hash: canary_hash.clone(),
            image: image(3),
            pods: vec![canary_started; canary_pods],
            ready: canary_pods,
            created: canary_started,
        },
        Revision {
            number: 2,
            hash: stable_hash.clone(),
            image: image(2),
            pods: (0..6).map(|i| c.ago(86_400 * 3 + i * 60)).collect(),
            ready: 6,
            created: c.ago(86_400 * 3),
        },
        Revision {
            number: 1,
            hash: old_hash.clone(),
            image: image(1),
            pods: vec![],
            ready: 0,
            created: c.ago(86_400 * 9),
        },
    ];
    let (spec, step) = plan.rollout_spec();
    let replicas = 6 + canary_pods;
    let max = plan.max_weight;
    let status = json!({
        "phase": "Paused", "message": "CanaryPauseStep",
        "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": canary_started.to_string()}],
        "controllerPause": true, "currentStepIndex": step, "currentPodHash": canary_hash, "stableRS": stable_hash,
        "canary": {"weights": {
            "canary": {"weight": plan.set_weight(), "serviceName": "reviews-canary", "podTemplateHash": canary_hash},
            "stable": {"weight": max - plan.set_weight(), "serviceName": "reviews-stable", "podTemplateHash": stable_hash}}},
        "replicas": replicas, "updatedReplicas": canary_pods, "readyReplicas": replicas,
        "availableReplicas": replicas, "HPAReplicas": replicas, "selector": "app=reviews",
        "conditions": conditions(c.now, true),
    });
    let plan_of_rollout = RolloutPlan {
        namespace: NS,
        name: "reviews",
        template: &template,
        replicas: 6,
        spec,
        status,
        revisions: &revisions,
    };
    let pods = rollout(&mut c, plan_of_rollout);
    let (canary, stable) = (pods[0].clone(), pods[1].clone());
    // The controller pins each Service to its revision (a stale canary Service still selects the old hash).
    let canary_selects = if fault == Some(Fault::StaleBackend) { old_hash } else { canary_hash };
    c.service(NS, "reviews-stable", &[("app", "reviews"), ("rollouts-pod-template-hash", stable_hash)], PORT, "http");
    c.service(
        NS,
        "reviews-canary",
        &[("app", "reviews"), ("rollouts-pod-template-hash", canary_selects)],
        PORT,
        "http",
    );
    push_route(&mut c, "reviews", plan.reviews_route(), plan.reviews_route_status());
    if fault == Some(Fault::VsAndRoute) {
        let (meta, _) = c.meta_json(Some(NS), "reviews-legacy", c.ago(86_400 * 60), &Default::default(), None);
        let spec = json!({"hosts": ["reviews"], "http": [{"route": [
            {"destination": {"host": "reviews-stable"}, "weight": 80},
            {"destination": {"host": "reviews-canary"}, "weight": 20}]}]});
        c.push(object("networking.istio.io/v1", "VirtualService", meta, spec, None));
    }
    if fault == Some(Fault::NoWaypoint) {
        c.label_namespace(NS, DATAPLANE_MODE, DATAPLANE_AMBIENT);
    }

    let reviews = ServiceRef::new(NS, "reviews");
    let routed: Routed<usize> = {
        let inventory = c.read_back();
        let endpoints = |s: &ServiceRef| c.endpoints(s);
        route(&RoutingConfig::of(&inventory), Caller::Mesh, &reviews, &endpoints)
    };
    let (since, now) = (canary_started.as_second(), c.now.as_second());
    let phases = vec![((since, now), routed)];
    let mut t = crate::traffic::Traffic::default();
    apps.add_traffic(&mut t, &c, &ingress, Reviews { stable: &stable, canary: &canary, since, phases });
    let window = default_window(&c);
    Built { cluster: c, traffic: t, window }
}

/// What the fault changes in the Rollout and its route.
struct Plan {
    fault: Option<Fault>,
    /// The canary's intended share, in percent.
    percent: i32,
    /// `trafficRouting.maxTrafficWeight`.
    max_weight: i32,
}

impl Plan {
    fn of(fault: Option<Fault>) -> Plan {
        // Where in-mesh callers split by ready pods (6 stable, 3 canary), 40% differs from the pod count by more
        // than the doctor's threshold.
        let by_pods = matches!(fault, Some(Fault::RouteNotAccepted | Fault::GatewayOnly | Fault::NoWaypoint));
        let max_weight = if fault == Some(Fault::MaxWeight) { 50 } else { 100 };
        Plan { fault, percent: if by_pods { 40 } else { 20 }, max_weight }
    }

    /// The Rollout's SetWeight, on its `maxTrafficWeight` scale.
    fn set_weight(&self) -> i32 {
        self.percent * self.max_weight / 100
    }

    /// The Rollout spec (without template, selector or replicas) and the index of its current step: the pause
    /// after the current setWeight.
    fn rollout_spec(&self) -> (Value, usize) {
        let mut steps: Vec<Value> = Vec::new();
        let mut current = 0;
        for percent in [20, 40, 60, 80] {
            steps.push(json!({"setWeight": percent * self.max_weight / 100}));
            if percent == 20 && self.fault == Some(Fault::MirrorStep) {
                let mirror =
                    json!({"name": "mirror-reviews", "percentage": 50, "match": [{"method": {"exact": "GET"}}]});
                steps.push(json!({"setMirrorRoute": mirror}));
            }
            if percent == self.percent {
                current = steps.len();
            }
            steps.push(if percent == 20 { json!({"pause": {}}) } else { json!({"pause": {"duration": "10m"}}) });
        }
        let mut routing = json!({"plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": "reviews", "namespace": NS}}});
        if self.max_weight != 100 {
            routing["maxTrafficWeight"] = json!(self.max_weight);
        }
        let canary = json!({"canaryService": "reviews-canary", "stableService": "reviews-stable",
            "trafficRouting": routing, "steps": steps});
        (json!({"strategy": {"canary": canary}}), current)
    }

    /// The reviews HTTPRoute as the plugin leaves it at the current step (with the fault's edit).
    fn reviews_route(&self) -> Value {
        let parent = match self.fault {
            Some(Fault::GatewayOnly) => json!({"name": "bookinfo-gateway"}),
            // The Service has no such port: Istio finds no parent to attach the route to.
            Some(Fault::RouteNotAccepted) => json!({"group": "", "kind": "Service", "name": "reviews", "port": 9090}),
            _ => json!({"group": "", "kind": "Service", "name": "reviews", "port": PORT}),
        };
        let (stable, canary) = match self.fault {
            Some(Fault::WeightsDisagree) => (50, 50),
            // The plugin writes the weight on the Rollout's scale and stable as 100 minus it.
            _ => (100 - self.set_weight(), self.set_weight()),
        };
        let canary_name = if self.fault == Some(Fault::MissingBackend) { "reviews-canry" } else { "reviews-canary" };
        json!({"parentRefs": [parent], "rules": [{"backendRefs": [
            {"group": "", "kind": "Service", "name": "reviews-stable", "port": PORT, "weight": stable},
            {"group": "", "kind": "Service", "name": canary_name, "port": PORT, "weight": canary}]}]})
    }

    /// The status Istio writes for the reviews route.
    fn reviews_route_status(&self) -> Value {
        let mut conditions = vec![condition("Accepted", true, "Accepted", "Route was valid")];
        match self.fault {
            Some(Fault::RouteNotAccepted) => {
                conditions[0] = condition("Accepted", false, "NoMatchingParent", "Service reviews has no port 9090")
            }
            Some(Fault::MissingBackend) => conditions.push(condition(
                "ResolvedRefs",
                false,
                "BackendNotFound",
                "backend(reviews-canry.bookinfo.svc.cluster.local) not found",
            )),
            Some(Fault::NoWaypoint) => conditions.push(condition(
                "ResolvedWaypoints",
                false,
                "MissingUseWaypointLabel",
                "istio.io/use-waypoint label missing from parent and parent namespace; in ambient mode, route will not be respected",
            )),
            _ => {}
        }
        if self.fault != Some(Fault::MissingBackend) {
            conditions.push(condition("ResolvedRefs", true, "ResolvedRefs", "All references resolved"));
        }
        let parent = self.reviews_route()["parentRefs"][0].clone();
        json!({"parents": [{"parentRef": parent, "controllerName": CONTROLLER, "conditions": conditions}]})
    }
}

fn condition(type_: &str, ok: bool, reason: &str, message: &str) -> Value {
    json!({"type": type_, "status": if ok { "True" } else { "False" }, "reason": reason, "message": message,
           "lastTransitionTime": "2026-11-01T00:00:00Z"})
}

/// An HTTPRoute of bookinfo, created long ago; routes a canary is running through carry the plugin's label.
fn push_route(c: &mut Cluster, name: &str, spec: Value, status: Value) {
    let labels = if name == "reviews" {
        [("rollouts.argoproj.io/gatewayapi-canary".to_string(), "in-progress".to_string())].into()
    } else {
        Default::default()
    };
    let (meta, _) = c.meta_json(Some(NS), name, c.ago(86_400 * 20), &labels, None);
    c.push(object(&format!("{GROUP}/v1"), "HTTPRoute", meta, spec, Some(status)));
}

/// The Gateway API ingress of bookinfo (Istio's `samples/bookinfo/gateway-api/bookinfo-gateway.yaml`): the
/// Gateway, the proxy Deployment Istio runs for it, and the route to productpage. Returns the proxy's pods.
fn ingress_gateway(c: &mut Cluster) -> Vec<usize> {
    let (meta, uid) = c.meta_json(Some(NS), "bookinfo-gateway", c.ago(86_400 * 30), &Default::default(), None);
    let spec = json!({"gatewayClassName": "istio", "listeners": [{"name": "http", "port": 80, "protocol": "HTTP",
        "allowedRoutes": {"namespaces": {"from": "Same"}}}]});
    let status = json!({"conditions": [condition("Accepted", true, "Accepted", "Resource accepted"),
        condition("Programmed", true, "Programmed", "Resource programmed")]});
    c.push(object(&format!("{GROUP}/v1"), "Gateway", meta, spec, Some(status)));
    let mut template = Template::new("bookinfo-gateway-istio", None, "docker.io/istio/proxyv2:1.28.0", 80);
    template.labels.insert("gateway.networking.k8s.io/gateway-name".into(), "bookinfo-gateway".into());
    template.labels.insert("istio.io/gateway-name".into(), "bookinfo-gateway".into());
    template.service_account = "bookinfo-gateway-istio".into();
    // The gateway's own Envoy reports its calls, in ambient mode too.
    template.dataplane = Some(Dataplane::Sidecar);
    let owner = Cluster::owner(&format!("{GROUP}/v1"), "Gateway", "bookinfo-gateway", &uid);
    let pods = c.deployment_owned(NS, "bookinfo-gateway-istio", &template, 1, Some(&owner));
    let route = json!({"parentRefs": [{"name": "bookinfo-gateway"}], "rules": [{
        "matches": [{"path": {"type": "Exact", "value": "/productpage"}},
                    {"path": {"type": "PathPrefix", "value": "/static"}}],
        "backendRefs": [{"name": "productpage", "port": PORT}]}]});
    let accepted = [
        condition("Accepted", true, "Accepted", "Route was valid"),
        condition("ResolvedRefs", true, "ResolvedRefs", "All references resolved"),
    ];
    let status = json!({"parents": [{"parentRef": {"group": GROUP, "kind": "Gateway", "name": "bookinfo-gateway"},
        "controllerName": CONTROLLER, "conditions": accepted}]});
    push_route(c, "bookinfo", route, status);
    pods
}
