//! Flagger's podinfo canary at 30%: the target Deployment `podinfo` runs the new version, `podinfo-primary` (owned by
//! the Canary) the stable one, and Flagger's VirtualService splits the load tester's traffic 70/30 by host.

use std::collections::BTreeMap;

use serde_json::json;

use crate::cluster::{Cluster, Template, object};
use crate::traffic::{Behaviour, Protocol, Route, Target, Traffic};

use super::{Built, HISTORY_S};

const NS: &str = "test";

pub fn build(mut c: Cluster) -> Built {
    c.namespace(NS, true);
    let started = c.ago(12 * 60);
    let (mut canary_meta, canary_uid) = c.meta_json(Some(NS), "podinfo", c.ago(86_400 * 15), &BTreeMap::new(), None);
    canary_meta["generation"] = json!(4);
    c.push(object(
        "flagger.app/v1beta1",
        "Canary",
        canary_meta,
        json!({
        "provider": "istio",
        "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "podinfo"},
        "progressDeadlineSeconds": 60,
        "service": {"port": 9898, "targetPort": 9898, "gateways": ["mesh"], "hosts": ["podinfo"]},
        "analysis": {"interval": "1m", "threshold": 5, "maxWeight": 50, "stepWeight": 10,
            "metrics": [{"name": "request-success-rate", "thresholdRange": {"min": 99}, "interval": "1m"},
                        {"name": "request-duration", "thresholdRange": {"max": 500}, "interval": "30s"}]}}),
        Some(json!({"phase": "Progressing", "canaryWeight": 30, "failedChecks": 0, "iterations": 0,
                    "lastTransitionTime": c.ago(60).to_string(),
                    "conditions": [{"type": "Promoted", "status": "Unknown", "reason": "Progressing",
                                    "message": "New revision detected, progressing canary analysis."}]})),
    ));
    let owner = Cluster::owner("flagger.app/v1beta1", "Canary", "podinfo", &canary_uid);

    let target =
        c.deployment(NS, "podinfo", &Template::new("podinfo", None, "ghcr.io/stefanprodan/podinfo:6.7.1", 9898), 2);
    let primary_template = Template {
        service_account: "podinfo".into(),
        ..Template::new("podinfo-primary", None, "ghcr.io/stefanprodan/podinfo:6.7.0", 9898)
    };
    let primary = c.deployment_owned(NS, "podinfo-primary", &primary_template, 2, Some(&owner));
    let tester = c.deployment(
        NS,
        "flagger-loadtester",
        &Template::new("loadtester", None, "ghcr.io/fluxcd/flagger-loadtester:0.34.0", 8080),
        1,
    );

    let _svc_apex = c.service(NS, "podinfo", &[("app", "podinfo-primary")], 9898, "http");
    let svc_canary = c.service(NS, "podinfo-canary", &[("app", "podinfo")], 9898, "http");
    let svc_primary = c.service(NS, "podinfo-primary", &[("app", "podinfo-primary")], 9898, "http");
    let (mut vs_meta, _) = c.meta_json(Some(NS), "podinfo", c.ago(86_400 * 15), &BTreeMap::new(), Some(&owner));
    vs_meta["generation"] = json!(9);
    c.push(object(
        "networking.istio.io/v1beta1",
        "VirtualService",
        vs_meta,
        json!({
        "hosts": ["podinfo"], "gateways": ["mesh"],
        "http": [{"route": [
            {"destination": {"host": "podinfo-primary"}, "weight": 70},
            {"destination": {"host": "podinfo-canary"}, "weight": 30}]}]}),
        None,
    ));
    for host in ["podinfo-canary", "podinfo-primary"] {
        let (meta, _) = c.meta_json(Some(NS), host, c.ago(86_400 * 15), &BTreeMap::new(), Some(&owner));
        c.push(object("networking.istio.io/v1beta1", "DestinationRule", meta, json!({"host": host}), None));
    }

    let now = c.now.as_second();
    let (start, switch) = (now - HISTORY_S, started.as_second());
    let mut t = Traffic::default();
    let pods = &c.pods;
    let to_primary = [Target::all(&primary, Behaviour { error_ratio: 0.001, latency_ms: 9.0 })];
    let to_canary = [Target::all(&target, Behaviour { error_ratio: 0.004, latency_ms: 11.0 })];
    t.add(pods, Route::new(Protocol::Http, &tester, svc_primary, 10.0, &to_primary).during(start, switch));
    t.add(pods, Route::new(Protocol::Http, &tester, svc_primary, 7.0, &to_primary).during(switch, now));
    t.add(pods, Route::new(Protocol::Http, &tester, svc_canary, 3.0, &to_canary).during(switch, now));
    let window = super::default_window(&c);
    Built { cluster: c, traffic: t, window }
}
