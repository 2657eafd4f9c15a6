//! A large mesh for benchmarks: `N` workloads, 10 per namespace, each calling 5 others (3 in its namespace, 2
//! elsewhere); every tenth workload is a Rollout with a stable and a canary pod.

use serde_json::json;

use crate::cluster::{Cluster, Template};
use crate::traffic::{Behaviour, FEW_BUCKETS, Protocol, Route, Target, Traffic, Window};

use super::Built;
use super::argo::{Revision, RolloutPlan, conditions, rollout};

const PER_NAMESPACE: usize = 10;
const OUTBOUND: usize = 5;

pub fn build(mut c: Cluster, workloads: usize) -> Built {
    let workloads = workloads.max(PER_NAMESPACE);
    let namespaces = workloads.div_ceil(PER_NAMESPACE);
    let mut pods: Vec<Vec<usize>> = Vec::with_capacity(workloads);
    let mut services = Vec::with_capacity(workloads);
    for n in 0..namespaces {
        let ns = format!("scale-{n:04}");
        c.namespace(&ns, true);
        for i in 0..PER_NAMESPACE.min(workloads - n * PER_NAMESPACE) {
            let name = format!("svc-{:05}", n * PER_NAMESPACE + i);
            services.push(c.service(&ns, &name, &[("app", &name)], 8080, "http"));
            let template = Template::new(&name, None, "ghcr.io/example/app:1.0.0", 8080);
            if i == 0 {
                pods.push(canary_rollout(&mut c, &ns, &name, &template));
            } else {
                pods.push(c.deployment(&ns, &name, &template, 1));
            }
        }
    }
    let now = c.now.as_second();
    // Large meshes are scraped every minute; the histogram has few buckets, and none past 4,000 workloads, to keep
    // a backfilled Prometheus within a few GB.
    let buckets = if workloads <= 4_000 { FEW_BUCKETS } else { &[] };
    let window = Window { start: now - 11 * 60, end: now, step: 60, buckets };
    let mut t = Traffic::default();
    for (w, sources) in pods.iter().enumerate() {
        for callee in callees(&mut c, w, workloads) {
            let target = [Target::all(&pods[callee], Behaviour { error_ratio: 0.002, latency_ms: 15.0 })];
            t.add(&c.pods, Route::new(Protocol::Http, sources, services[callee], 1.0, &target));
        }
    }
    Built { cluster: c, traffic: t, window }
}

/// Five distinct callees of workload `w`: three in its namespace, two in other namespaces.
fn callees(c: &mut Cluster, w: usize, workloads: usize) -> Vec<usize> {
    let base = w - w % PER_NAMESPACE;
    let in_ns = PER_NAMESPACE.min(workloads - base);
    let mut out = Vec::with_capacity(OUTBOUND);
    let mut guard = 0;
    while out.len() < OUTBOUND && guard < 100 {
        guard += 1;
        let callee = if out.len() < 3 && in_ns > 1 { base + c.ids.pick(0..in_ns) } else { c.ids.pick(0..workloads) };
        if callee != w && !out.contains(&callee) {
            out.push(callee);
        }
    }
    out
}

fn canary_rollout(c: &mut Cluster, ns: &str, name: &str, template: &Template) -> Vec<usize> {
    let (stable, canary) = (c.ids.hash(), c.ids.hash());
    let started = c.ago(30 * 60);
    let spec = json!({"strategy": {"canary": {"steps": [{"setWeight": 50}, {"pause": {}}]}}});
    let status = json!({
        "phase": "Paused", "message": "CanaryPauseStep",
        "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": started.to_string()}],
        "controllerPause": true, "currentStepIndex": 1, "currentPodHash": canary, "stableRS": stable,
        "replicas": 2, "updatedReplicas": 1, "readyReplicas": 2, "availableReplicas": 2,
        "conditions": conditions(c.now, true),
    });
    let revisions = [
        Revision {
            number: 2,
            hash: canary,
            image: "ghcr.io/example/app:1.1.0".into(),
            pods: vec![started],
            ready: 1,
            created: started,
        },
        Revision {
            number: 1,
            hash: stable,
            image: "ghcr.io/example/app:1.0.0".into(),
            pods: vec![c.ago(86_400)],
            ready: 1,
            created: c.ago(86_400),
        },
    ];
    rollout(c, RolloutPlan { namespace: ns, name, template, replicas: 1, spec, status, revisions: &revisions }).concat()
}
