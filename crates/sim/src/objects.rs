//! Kubernetes objects as the API server returns them (`kubectl get -o yaml`): metadata with uids, owner
//! references and timestamps, the spec, and a status consistent with the pods that exist.

use std::collections::BTreeMap;

use serde_json::{Value, json};

/// Labels as a JSON object.
pub fn labels_json(labels: &BTreeMap<String, String>) -> Value {
    Value::Object(labels.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect())
}

/// What every object's metadata carries.
pub struct Meta<'a> {
    pub name: &'a str,
    pub namespace: Option<&'a str>,
    pub uid: &'a str,
    pub created: jiff::Timestamp,
    pub labels: &'a BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub owner: Option<&'a OwnerRef>,
    pub generation: Option<i64>,
}

/// A controller owner reference.
#[derive(Debug, Clone)]
pub struct OwnerRef {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub uid: String,
}

impl<'a> Meta<'a> {
    /// Metadata without annotations, owner or generation.
    pub fn new(
        name: &'a str,
        namespace: Option<&'a str>,
        uid: &'a str,
        created: jiff::Timestamp,
        labels: &'a BTreeMap<String, String>,
    ) -> Meta<'a> {
        Meta { name, namespace, uid, created, labels, annotations: BTreeMap::new(), owner: None, generation: None }
    }

    pub fn to_json(&self, resource_version: u64) -> Value {
        let mut m = json!({
            "name": self.name,
            "uid": self.uid,
            "resourceVersion": resource_version.to_string(),
            "creationTimestamp": self.created.to_string(),
        });
        if let Some(ns) = self.namespace {
            m["namespace"] = json!(ns);
        }
        if !self.labels.is_empty() {
            m["labels"] = labels_json(self.labels);
        }
        if !self.annotations.is_empty() {
            m["annotations"] = labels_json(&self.annotations);
        }
        if let Some(generation) = self.generation {
            m["generation"] = json!(generation);
        }
        if let Some(o) = self.owner {
            m["ownerReferences"] = json!([{
                "apiVersion": o.api_version, "kind": o.kind, "name": o.name, "uid": o.uid,
                "controller": true, "blockOwnerDeletion": true,
            }]);
        }
        m
    }
}

/// The application container of a pod template.
pub struct AppContainer<'a> {
    pub name: &'a str,
    pub image: &'a str,
    pub port: u16,
}

pub fn pod_template(labels: &BTreeMap<String, String>, app: &AppContainer<'_>, service_account: &str) -> Value {
    json!({
        "metadata": {"labels": labels_json(labels)},
        "spec": {
            "serviceAccountName": service_account,
            "containers": [app_container_json(app)],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
        },
    })
}

fn app_container_json(app: &AppContainer<'_>) -> Value {
    json!({
        "name": app.name,
        "image": app.image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"containerPort": app.port, "protocol": "TCP"}],
        "resources": {"requests": {"cpu": "10m", "memory": "64Mi"}},
    })
}

/// The sidecar Istio injects, telling the workload name it will report.
pub struct Sidecar<'a> {
    pub proxy_version: &'a str,
    pub workload_name: &'a str,
    pub owner: &'a str,
    pub cluster_id: &'a str,
}

/// A running (or not yet ready) pod with an injected sidecar.
pub struct PodSpec<'a> {
    pub meta: Meta<'a>,
    pub app: AppContainer<'a>,
    pub sidecar: Option<Sidecar<'a>>,
    pub service_account: &'a str,
    pub node: &'a str,
    pub ip: &'a str,
    pub ready: bool,
}

pub fn pod(spec: &PodSpec<'_>, resource_version: u64) -> Value {
    let started = spec.meta.created.to_string();
    let mut containers = vec![app_container_json(&spec.app)];
    let mut statuses = vec![container_status(spec.app.name, spec.app.image, spec.ready, &started)];
    if let Some(sc) = &spec.sidecar {
        let image = format!("docker.io/istio/proxyv2:{}", sc.proxy_version);
        containers.push(json!({
            "name": "istio-proxy",
            "image": image,
            "args": ["proxy", "sidecar", "--domain", "$(POD_NAMESPACE).svc.cluster.local"],
            "env": [
                {"name": "ISTIO_META_WORKLOAD_NAME", "value": sc.workload_name},
                {"name": "ISTIO_META_OWNER", "value": sc.owner},
                {"name": "ISTIO_META_CLUSTER_ID", "value": sc.cluster_id},
            ],
            "ports": [{"containerPort": 15090, "name": "http-envoy-prom", "protocol": "TCP"}],
        }));
        statuses.push(container_status("istio-proxy", &image, true, &started));
    }
    let ready = if spec.ready { "True" } else { "False" };
    let mut pod = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": spec.meta.to_json(resource_version),
        "spec": {
            "containers": containers,
            "nodeName": spec.node,
            "serviceAccountName": spec.service_account,
            "restartPolicy": "Always",
            "schedulerName": "default-scheduler",
            "terminationGracePeriodSeconds": 30,
        },
        "status": {
            "phase": "Running",
            "conditions": [
                {"type": "Initialized", "status": "True", "lastTransitionTime": started},
                {"type": "Ready", "status": ready, "lastTransitionTime": started},
                {"type": "ContainersReady", "status": ready, "lastTransitionTime": started},
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": started},
            ],
            "containerStatuses": statuses,
            "hostIP": "10.128.0.10",
            "podIP": spec.ip,
            "podIPs": [{"ip": spec.ip}],
            "qosClass": "Burstable",
            "startTime": started,
        },
    });
    if let Some(name) = spec.meta.name.rsplit_once('-').map(|(prefix, _)| format!("{prefix}-")) {
        pod["metadata"]["generateName"] = json!(name);
    }
    pod
}

fn container_status(name: &str, image: &str, ready: bool, started: &str) -> Value {
    json!({
        "name": name,
        "image": image,
        "imageID": format!("{image}@sha256:{}", "0".repeat(64)),
        "ready": ready,
        "started": true,
        "restartCount": 0,
        "state": {"running": {"startedAt": started}},
    })
}

/// Replica counts for a controller's status.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counts {
    pub desired: i32,
    pub current: i32,
    pub ready: i32,
}

pub fn replica_set(
    meta: &Meta<'_>,
    selector: &BTreeMap<String, String>,
    template: Value,
    counts: Counts,
    rv: u64,
) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": meta.to_json(rv),
        "spec": {"replicas": counts.desired, "selector": {"matchLabels": labels_json(selector)}, "template": template},
        "status": {
            "replicas": counts.current,
            "fullyLabeledReplicas": counts.current,
            "readyReplicas": counts.ready,
            "availableReplicas": counts.ready,
            "observedGeneration": meta.generation.unwrap_or(1),
        },
    })
}

pub fn deployment(
    meta: &Meta<'_>,
    selector: &BTreeMap<String, String>,
    template: Value,
    counts: Counts,
    rv: u64,
) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta.to_json(rv),
        "spec": {
            "replicas": counts.desired,
            "selector": {"matchLabels": labels_json(selector)},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": template,
        },
        "status": {
            "observedGeneration": meta.generation.unwrap_or(1),
            "replicas": counts.current,
            "updatedReplicas": counts.current,
            "readyReplicas": counts.ready,
            "availableReplicas": counts.ready,
            "conditions": [
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
                 "message": "Deployment has minimum availability."},
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
                 "message": format!("ReplicaSet has successfully progressed.")},
            ],
        },
    })
}

/// A ClusterIP Service exposing one port.
pub fn service(
    meta: &Meta<'_>,
    selector: &BTreeMap<String, String>,
    port: (u16, &str),
    cluster_ip: &str,
    rv: u64,
) -> Value {
    let (port, port_name) = port;
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta.to_json(rv),
        "spec": {
            "type": "ClusterIP",
            "clusterIP": cluster_ip,
            "clusterIPs": [cluster_ip],
            "ports": [{"name": port_name, "port": port, "protocol": "TCP", "targetPort": port}],
            "selector": labels_json(selector),
            "sessionAffinity": "None",
        },
        "status": {"loadBalancer": {}},
    })
}

pub fn namespace(name: &str, uid: &str, created: jiff::Timestamp, injected: bool, rv: u64) -> Value {
    let mut labels = BTreeMap::from([("kubernetes.io/metadata.name".to_string(), name.to_string())]);
    if injected {
        labels.insert("istio-injection".into(), "enabled".into());
    }
    let meta = Meta::new(name, None, uid, created, &labels);
    json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": meta.to_json(rv),
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    })
}
