//! What a capture leaves out of the objects it writes: whatever may hold a secret and meshlens does not read, so a
//! snapshot can be attached to a bug report. Every container's `env`, `envFrom`, `command` and `args` (pods, and
//! every pod template at any depth: Deployments, ReplicaSets, Rollouts, StatefulSets, DaemonSets, Jobs, CronJobs'
//! job templates, Experiments), `managedFields`, and the `kubectl.kubernetes.io/last-applied-configuration`
//! annotation, which repeats the manifest with its env values.
//!
//! One value is kept: the `ISTIO_META_WORKLOAD_NAME` of the `istio-proxy` sidecar, the workload name the injector
//! gave the proxy. Telemetry carries the same name in every series, and meshlens needs it to know which naming
//! generation a pod reports under.

use serde_json::{Map, Value};

use crate::identity::index::{PROXY_CONTAINER, PROXY_WORKLOAD_NAME_ENV};

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// Fields of a pod spec that hold containers.
const CONTAINER_LISTS: [&str; 3] = ["containers", "initContainers", "ephemeralContainers"];
/// Container fields that may carry secrets and that meshlens does not read.
const CONTAINER_SECRETS: [&str; 3] = ["envFrom", "command", "args"];

/// What was removed from a set of objects.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Removed {
    /// Environment variables (entries of `env`) dropped.
    pub env_vars: usize,
    pub last_applied: usize,
}

/// Removes what may hold secrets from `object`, at any depth.
pub fn redact(object: &mut Value, removed: &mut Removed) {
    match object {
        Value::Object(map) => {
            map.remove("managedFields");
            if let Some(Value::Object(annotations)) = map.get_mut("annotations")
                && annotations.remove(LAST_APPLIED).is_some()
            {
                removed.last_applied += 1;
            }
            for list in CONTAINER_LISTS {
                if let Some(Value::Array(containers)) = map.get_mut(list) {
                    containers.iter_mut().filter_map(Value::as_object_mut).for_each(|c| redact_container(c, removed));
                }
            }
            map.values_mut().for_each(|v| redact(v, removed));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| redact(v, removed)),
        _ => {}
    }
}

fn redact_container(container: &mut Map<String, Value>, removed: &mut Removed) {
    for field in CONTAINER_SECRETS {
        container.remove(field);
    }
    let is_proxy = container.get("name").is_some_and(|n| n == PROXY_CONTAINER);
    let Some(Value::Array(env)) = container.remove("env") else { return };
    let before = env.len();
    let kept: Vec<Value> = env
        .into_iter()
        .filter(|var| is_proxy && var["name"] == PROXY_WORKLOAD_NAME_ENV && var["value"].is_string())
        .map(|var| serde_json::json!({"name": PROXY_WORKLOAD_NAME_ENV, "value": var["value"]}))
        .collect();
    removed.env_vars += before - kept.len();
    if !kept.is_empty() {
        container.insert("env".into(), Value::Array(kept));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn container(name: &str) -> Value {
        json!({"name": name, "image": "app:1", "command": ["/app"], "args": ["--password=hunter2"],
               "envFrom": [{"secretRef": {"name": "db"}}],
               "env": [{"name": "DB_PASSWORD", "value": "hunter2"},
                       {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "t", "key": "k"}}},
                       {"name": "ISTIO_META_WORKLOAD_NAME", "value": "reviews"}]})
    }

    #[test]
    fn pod_templates_at_any_depth_lose_their_env_but_the_proxy_keeps_its_workload_name() {
        let mut cron = json!({
            "kind": "CronJob",
            "metadata": {"name": "nightly", "managedFields": [{"manager": "kubectl"}],
                         "annotations": {LAST_APPLIED: "{\"env\": \"hunter2\"}", "keep": "me"}},
            "spec": {"jobTemplate": {"spec": {"template": {"spec": {
                "initContainers": [container("init")],
                "containers": [container("app"), container("istio-proxy")]}}}}}
        });
        let mut removed = Removed::default();
        redact(&mut cron, &mut removed);
        let text = cron.to_string();
        assert!(!text.contains("hunter2") && !text.contains("secretRef") && !text.contains("managedFields"), "{text}");
        assert_eq!(removed, Removed { env_vars: 8, last_applied: 1 });
        let spec = &cron["spec"]["jobTemplate"]["spec"]["template"]["spec"];
        assert_eq!(spec["containers"][1]["env"], json!([{"name": "ISTIO_META_WORKLOAD_NAME", "value": "reviews"}]));
        assert!(spec["containers"][0].get("env").is_none() && spec["initContainers"][0].get("args").is_none());
        assert_eq!(spec["containers"][0]["image"], "app:1");
        assert_eq!(cron["metadata"]["annotations"], json!({"keep": "me"}));
    }
}
