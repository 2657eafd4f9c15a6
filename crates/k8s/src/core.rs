//! The core (`v1`) kinds meshlens reads: Namespaces, Pods, Services and ReplicationControllers, with only the
//! fields naming, readiness, routing and the Argo CLI view need.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::meta::ObjectMeta;

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Namespace {
    pub metadata: ObjectMeta,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Pod {
    pub metadata: ObjectMeta,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spec: Option<PodSpec>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<PodStatus>,
}

/// A controller's pod template: its labels name the canonical service and revision.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PodTemplateSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<ObjectMeta>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spec: Option<PodSpec>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PodSpec {
    pub containers: Vec<Container>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub init_containers: Option<Vec<Container>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", from = "ReadContainer")]
pub struct Container {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// An init container with `Always` is a native sidecar (Kubernetes 1.28+).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restart_policy: Option<String>,
    /// Only the `istio-proxy` sidecar's `ISTIO_META_WORKLOAD_NAME` and `ISTIO_META_CLUSTER_ID` with a literal value
    /// (the workload name and cluster ID it reports, which every telemetry series of the pod carries anyway);
    /// every other variable may hold a secret and is dropped as it is read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env: Option<Vec<EnvVar>>,
}

/// The sidecar Istio injects.
pub const PROXY_CONTAINER: &str = "istio-proxy";
/// Env var of the injected sidecar holding the workload name the proxy reports.
pub const PROXY_WORKLOAD_NAME_ENV: &str = "ISTIO_META_WORKLOAD_NAME";
/// Env var of the injected sidecar holding the cluster ID its telemetry carries (`source_cluster` and
/// `destination_cluster`): Istio's injection template sets it from `global.multiCluster.clusterName`, default
/// `Kubernetes`.
pub const PROXY_CLUSTER_ID_ENV: &str = "ISTIO_META_CLUSTER_ID";
/// The sidecar's env vars meshlens keeps.
const KEPT_PROXY_ENV: [&str; 2] = [PROXY_WORKLOAD_NAME_ENV, PROXY_CLUSTER_ID_ENV];

impl Pod {
    /// The value the injected sidecar (a container or native sidecar named `istio-proxy`) gives env var `name`, when
    /// it is kept and not empty.
    pub fn proxy_env(&self, name: &str) -> Option<&str> {
        let spec = self.spec.as_ref()?;
        let proxies = spec.containers.iter().chain(spec.init_containers.iter().flatten());
        proxies
            .filter(|c| c.name == PROXY_CONTAINER)
            .flat_map(|c| c.env.iter().flatten())
            .find(|e| e.name == name)
            .and_then(|e| e.value.as_deref())
            .filter(|v| !v.is_empty())
    }
}

/// A container as read, before what meshlens does not keep of its env is dropped.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct ReadContainer {
    name: String,
    image: Option<String>,
    restart_policy: Option<String>,
    #[serde(deserialize_with = "super::null_as_default")]
    env: Vec<EnvVar>,
}

impl From<ReadContainer> for Container {
    fn from(read: ReadContainer) -> Container {
        let ReadContainer { name, image, restart_policy, env } = read;
        let kept: Vec<EnvVar> = env
            .into_iter()
            .filter(|v| name == PROXY_CONTAINER && KEPT_PROXY_ENV.contains(&v.name.as_str()) && v.value.is_some())
            .collect();
        Container { name, image, restart_policy, env: (!kept.is_empty()).then_some(kept) }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EnvVar {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PodStatus {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_statuses: Option<Vec<ContainerStatus>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub init_container_statuses: Option<Vec<ContainerStatus>>,
}

/// A status condition of a core or apps kind (`Ready`, `ReplicaFailure`, ...).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Condition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ContainerStatus {
    pub name: String,
    pub ready: bool,
    pub restart_count: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<ContainerState>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ContainerState {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting: Option<StateReason>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub running: Option<Running>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub terminated: Option<Terminated>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct StateReason {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A running container; only its presence matters.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Running {}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Terminated {
    pub exit_code: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Service {
    pub metadata: ObjectMeta,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spec: Option<ServiceSpec>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ServiceSpec {
    /// The pods behind the Service; Argo Rollouts pins a revision here with `rollouts-pod-template-hash`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selector: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ports: Option<Vec<ServicePort>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ServicePort {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub port: i32,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ReplicationController {
    pub metadata: ObjectMeta,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spec: Option<ReplicationControllerSpec>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ReplicationControllerSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<PodTemplateSpec>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_the_sidecars_workload_name_and_cluster_id_are_kept_of_any_env() {
        let env = json!([{"name": "ISTIO_META_WORKLOAD_NAME", "value": "reviews"}, {"name": "TOKEN", "value": "x"},
                         {"name": "ISTIO_META_CLUSTER_ID", "value": "east"},
                         {"name": "KEY", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]);
        let spec: PodSpec = serde_json::from_value(json!({"containers": [
            {"name": "istio-proxy", "image": "proxyv2", "env": env, "args": ["--token=x"]},
            {"name": "app", "image": "app", "env": env}]}))
        .unwrap();
        let kept =
            |c: &Container| c.env.iter().flatten().map(|v| (v.name.clone(), v.value.clone())).collect::<Vec<_>>();
        let named = |name: &str, value: &str| (name.to_owned(), Some(value.to_owned()));
        assert_eq!(
            kept(&spec.containers[0]),
            [named("ISTIO_META_WORKLOAD_NAME", "reviews"), named("ISTIO_META_CLUSTER_ID", "east")]
        );
        let pod = Pod { spec: Some(spec.clone()), ..Pod::default() };
        assert_eq!((pod.proxy_env(PROXY_CLUSTER_ID_ENV), pod.proxy_env("TOKEN")), (Some("east"), None));
        assert!(kept(&spec.containers[1]).is_empty(), "only the sidecar's");
        let written = serde_json::to_value(&spec).unwrap();
        assert_eq!(written["containers"][1], json!({"name": "app", "image": "app"}));
    }
}
