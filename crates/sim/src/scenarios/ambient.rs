//! Istio's ambient data plane in a simulated cluster: the ztunnel DaemonSet, and waypoints as Istio deploys them
//! for a Gateway of class `istio-waypoint`.

use serde_json::json;

use crate::cluster::{Cluster, Dataplane, Template, object};
use meshlens_engine::identity::workload::ZTUNNEL_APP;
use meshlens_k8s::gateway::{GATEWAY_NAME_LABEL, GROUP, WAYPOINT_CLASS};
use meshlens_telemetry::istio::pod_label::WAYPOINT_MANAGED;

const ISTIO_VERSION: &str = "1.28.0";

/// The ztunnel DaemonSet in `istio-system`, one pod per node; returns the pods.
pub fn ztunnels(c: &mut Cluster) -> Vec<usize> {
    c.namespace("istio-system", false);
    let image = format!("docker.io/istio/ztunnel:{ISTIO_VERSION}");
    let mut template = Template::new(ZTUNNEL_APP, None, &image, 15020);
    template.labels.insert("sidecar.istio.io/inject".into(), "false".into());
    template.dataplane = Some(Dataplane::Proxy);
    c.daemon_set("istio-system", ZTUNNEL_APP, &template)
}

/// A waypoint `name` in `namespace`: the Gateway (class `istio-waypoint`, HBONE on 15008), and the Deployment and
/// Service Istio creates for it. Returns the waypoint's pods.
pub fn waypoint(c: &mut Cluster, namespace: &str, name: &str) -> Vec<usize> {
    let (meta, uid) = c.meta_json(Some(namespace), name, c.ago(86_400 * 30), &Default::default(), None);
    let spec = json!({"gatewayClassName": WAYPOINT_CLASS,
        "listeners": [{"name": "mesh", "port": 15008, "protocol": "HBONE"}]});
    let status = json!({"conditions": [
        {"type": "Accepted", "status": "True", "reason": "Accepted", "message": "Resource accepted",
         "lastTransitionTime": "2026-11-01T00:00:00Z"},
        {"type": "Programmed", "status": "True", "reason": "Programmed", "message": "Resource programmed",
         "lastTransitionTime": "2026-11-01T00:00:00Z"}]});
    c.push(object(&format!("{GROUP}/v1"), "Gateway", meta, spec, Some(status)));
    let image = format!("docker.io/istio/proxyv2:{ISTIO_VERSION}");
    let mut template = Template::new(name, None, &image, 15008);
    template.labels.remove("app");
    template.labels.insert(WAYPOINT_MANAGED.0.into(), WAYPOINT_MANAGED.1.into());
    template.labels.insert(GATEWAY_NAME_LABEL.into(), name.into());
    template.dataplane = Some(Dataplane::Proxy);
    let owner = Cluster::owner(&format!("{GROUP}/v1"), "Gateway", name, &uid);
    let pods = c.deployment_owned(namespace, name, &template, 1, Some(&owner));
    c.service(namespace, name, &[(GATEWAY_NAME_LABEL, name)], 15008, "mesh");
    pods
}
