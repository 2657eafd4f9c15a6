//! A blue-green Rollout paused before promotion: the active revision serves the storefront, the preview revision
//! only the smoke tests a CronJob runs against the preview Service; both call a gRPC payments service.

use std::collections::BTreeMap;

use serde_json::json;

use crate::cluster::{Cluster, Template, object};
use crate::traffic::{Behaviour, Protocol, Route, Target, Traffic};

use super::argo::{Revision, RolloutPlan, conditions, rollout};
use super::{Built, gateway};

const NS: &str = "store";

pub fn build(mut c: Cluster) -> Built {
    let gateway_pods = gateway(&mut c);
    c.namespace(NS, true);
    let (active_hash, preview_hash, old_hash) = (c.ids.hash(), c.ids.hash(), c.ids.hash());
    let svc_frontend = c.service(NS, "frontend", &[("app", "frontend")], 8080, "http");
    let svc_active = c.service(
        NS,
        "checkout-active",
        &[("app", "checkout"), ("rollouts-pod-template-hash", &active_hash)],
        8080,
        "http",
    );
    let svc_preview = c.service(
        NS,
        "checkout-preview",
        &[("app", "checkout"), ("rollouts-pod-template-hash", &preview_hash)],
        8080,
        "http",
    );
    let svc_payments = c.service(NS, "payments", &[("app", "payments")], 50051, "grpc");

    let frontend =
        c.deployment(NS, "frontend", &Template::new("frontend", Some("v7"), "ghcr.io/example/frontend:7.2.0", 8080), 2);
    let payments = c.deployment(
        NS,
        "payments",
        &Template::new("payments", Some("v2"), "ghcr.io/example/payments:2.4.1", 50051),
        2,
    );

    let preview_started = c.ago(40 * 60);
    let template = Template::new("checkout", None, "ghcr.io/example/checkout:1.5.0", 8080);
    let spec = json!({"strategy": {"blueGreen": {
        "activeService": "checkout-active", "previewService": "checkout-preview", "autoPromotionEnabled": false}}});
    let status = json!({
        "phase": "Paused", "message": "BlueGreenPause",
        "pauseConditions": [{"reason": "BlueGreenPause", "startTime": preview_started.to_string()}],
        "controllerPause": true,
        "blueGreen": {"activeSelector": active_hash, "previewSelector": preview_hash},
        "stableRS": active_hash, "currentPodHash": preview_hash,
        "replicas": 6, "updatedReplicas": 3, "readyReplicas": 6, "availableReplicas": 3, "HPAReplicas": 6,
        "selector": format!("app=checkout,rollouts-pod-template-hash={active_hash}"),
        "conditions": conditions(c.now, true),
    });
    let revisions = [
        Revision {
            number: 4,
            hash: preview_hash,
            image: "ghcr.io/example/checkout:1.5.0".into(),
            pods: vec![preview_started; 3],
            ready: 3,
            created: preview_started,
        },
        Revision {
            number: 3,
            hash: active_hash,
            image: "ghcr.io/example/checkout:1.4.0".into(),
            pods: vec![c.ago(86_400 * 4); 3],
            ready: 3,
            created: c.ago(86_400 * 4),
        },
        Revision {
            number: 2,
            hash: old_hash,
            image: "ghcr.io/example/checkout:1.3.2".into(),
            pods: vec![],
            ready: 0,
            created: c.ago(86_400 * 12),
        },
    ];
    let plan = RolloutPlan {
        namespace: NS,
        name: "checkout",
        template: &template,
        replicas: 3,
        spec,
        status,
        revisions: &revisions,
    };
    let pods = rollout(&mut c, plan);
    let (preview, active) = (pods[0].clone(), pods[1].clone());

    // The smoke tests run every 5 minutes; the Job of the latest schedule is running now.
    let (cron_meta, cron_uid) = c.meta_json(Some(NS), "smoke-tests", c.ago(86_400 * 30), &BTreeMap::new(), None);
    let job_template = Template::new("smoke-tests", None, "ghcr.io/example/smoke:1.0.0", 8080);
    let scheduled = c.now.as_second() / 60 - 3;
    c.push(object("batch/v1", "CronJob", cron_meta, json!({
        "schedule": "*/5 * * * *", "concurrencyPolicy": "Forbid",
        "jobTemplate": {"spec": {"template": {"metadata": {"labels": job_template.labels},
            "spec": {"restartPolicy": "Never", "containers": [{"name": "smoke-tests", "image": job_template.image}]}}}}}),
        Some(json!({"lastScheduleTime": jiff::Timestamp::from_second(scheduled * 60).unwrap_or(c.now).to_string()}))));
    let job_name = format!("smoke-tests-{scheduled}");
    let cron_owner = Cluster::owner("batch/v1", "CronJob", "smoke-tests", &cron_uid);
    let job_started = c.ago(180);
    let (job_meta, job_uid) = c.meta_json(Some(NS), &job_name, job_started, &job_template.labels, Some(&cron_owner));
    c.push(object(
        "batch/v1",
        "Job",
        job_meta,
        json!({
        "backoffLimit": 0, "completions": 1, "parallelism": 1,
        "template": {"metadata": {"labels": job_template.labels},
            "spec": {"restartPolicy": "Never", "containers": [{"name": "smoke-tests", "image": job_template.image}]}}}),
        Some(json!({"active": 1, "startTime": job_started.to_string()})),
    ));
    let job_owner = Cluster::owner("batch/v1", "Job", &job_name, &job_uid);
    let smoke = c.owned_pods(NS, &job_owner, &job_template, &[job_started]);

    let now = c.now.as_second();
    let mut t = Traffic::default();
    let pods = &c.pods;
    let (http, job) = (Protocol::Http, job_started.as_second());
    let to_frontend = [Target::all(&frontend, Behaviour::ok(30.0))];
    t.add(pods, Route::new(http, &gateway_pods, svc_frontend, 15.0, &to_frontend));
    let to_active = [Target::all(&active, Behaviour { error_ratio: 0.002, latency_ms: 28.0 })];
    t.add(pods, Route::new(http, &frontend, svc_active, 6.0, &to_active));
    let to_preview = [Target::all(&preview, Behaviour::ok(24.0))];
    t.add(pods, Route::new(http, &smoke, svc_preview, 2.0, &to_preview).during(job, now));
    let pay = [Target::all(&payments, Behaviour { error_ratio: 0.001, latency_ms: 12.0 })];
    t.add(pods, Route::new(Protocol::Grpc, &active, svc_payments, 6.0, &pay));
    t.add(pods, Route::new(Protocol::Grpc, &preview, svc_payments, 2.0, &pay).during(job, now));
    let window = super::default_window(&c);
    Built { cluster: c, traffic: t, window }
}
