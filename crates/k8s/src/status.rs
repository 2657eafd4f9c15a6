//! The status words users know from `kubectl get pods` and the Argo Rollouts CLI, derived from object status.

use super::apps::ReplicaSet;
use super::core::{ContainerStatus, Pod};

/// A pod's status as `kubectl get pods` and `kubectl argo rollouts get` show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodStatus {
    /// STATUS column: the phase, or the reason a container is waiting or terminated.
    pub reason: String,
    /// `ready/total` containers.
    pub ready: String,
    pub restarts: i32,
}

/// Node reason Kubernetes gives pods on an unreachable node.
const NODE_UNREACHABLE: &str = "NodeLost";

pub fn pod_status(pod: &Pod) -> PodStatus {
    let spec = pod.spec.as_ref();
    let status = pod.status.as_ref();
    let total = spec.map_or(0, |s| s.containers.len());
    let mut reason = status.and_then(|s| s.reason.clone()).filter(|r| !r.is_empty());
    let phase = status.and_then(|s| s.phase.clone()).unwrap_or_default();
    let mut reason_text = reason.take().unwrap_or(phase);
    let mut restarts = 0;
    let mut ready = 0;

    let init_containers = spec.and_then(|s| s.init_containers.as_deref()).unwrap_or_default();
    let init_statuses = status.and_then(|s| s.init_container_statuses.as_deref()).unwrap_or_default();
    let mut initializing = false;
    for (i, c) in init_statuses.iter().enumerate() {
        restarts += c.restart_count;
        let sidecar =
            init_containers.iter().any(|ic| ic.name == c.name && ic.restart_policy.as_deref() == Some("Always"));
        let state = c.state.as_ref();
        let terminated = state.and_then(|s| s.terminated.as_ref());
        let waiting = state.and_then(|s| s.waiting.as_ref());
        if let Some(t) = terminated {
            if t.exit_code == 0 {
                continue;
            }
            reason_text = match t.reason.as_deref().filter(|r| !r.is_empty()) {
                Some(r) => format!("Init:{r}"),
                None if t.signal.unwrap_or(0) != 0 => {
                    format!("Init:Signal:{}", t.signal.unwrap_or(0))
                }
                None => format!("Init:ExitCode:{}", t.exit_code),
            };
        } else if sidecar && c.started == Some(true) {
            if c.ready {
                continue;
            }
            reason_text = format!("Init:{i}/{}", init_containers.len());
        } else if let Some(r) =
            waiting.and_then(|w| w.reason.as_deref()).filter(|r| !r.is_empty() && *r != "PodInitializing")
        {
            reason_text = format!("Init:{r}");
        } else {
            reason_text = format!("Init:{i}/{}", init_containers.len());
        }
        initializing = true;
        break;
    }

    if !initializing {
        restarts = 0;
        let mut has_running = false;
        let statuses: &[ContainerStatus] = status.and_then(|s| s.container_statuses.as_deref()).unwrap_or_default();
        for c in statuses.iter().rev() {
            restarts += c.restart_count;
            let state = c.state.as_ref();
            let waiting =
                state.and_then(|s| s.waiting.as_ref()).and_then(|w| w.reason.clone()).filter(|r| !r.is_empty());
            let terminated = state.and_then(|s| s.terminated.as_ref());
            if let Some(w) = waiting {
                reason_text = w;
            } else if let Some(t) = terminated {
                reason_text = match t.reason.as_deref().filter(|r| !r.is_empty()) {
                    Some(r) => r.to_owned(),
                    None if t.signal.unwrap_or(0) != 0 => {
                        format!("Signal:{}", t.signal.unwrap_or(0))
                    }
                    None => format!("ExitCode:{}", t.exit_code),
                };
            } else if c.ready && state.is_some_and(|s| s.running.is_some()) {
                has_running = true;
                ready += 1;
            }
        }
        if reason_text == "Completed" && has_running {
            reason_text = "Running".into();
        }
    }

    if pod.metadata.deletion_timestamp.is_some() {
        let unreachable = status.and_then(|s| s.reason.as_deref()) == Some(NODE_UNREACHABLE);
        reason_text = if unreachable { "Unknown" } else { "Terminating" }.into();
    }
    PodStatus { reason: reason_text, ready: format!("{ready}/{total}"), restarts }
}

/// Whether the pod's `Ready` condition is true: it receives traffic through Services.
pub fn pod_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// The Argo CLI's health of a ReplicaSet: Progressing, ReplicaFailure, ScaledDown or Healthy.
pub fn replica_set_health(rs: &ReplicaSet) -> &'static str {
    let generation = rs.metadata.generation.unwrap_or(0);
    let status = rs.status.as_ref();
    let observed = status.and_then(|s| s.observed_generation).unwrap_or(0);
    let desired = rs.spec.as_ref().and_then(|s| s.replicas);
    if generation > observed {
        return "Progressing";
    }
    let failure = status
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "ReplicaFailure" && c.status == "True"));
    if failure {
        return "ReplicaFailure";
    }
    let available = status.and_then(|s| s.available_replicas).unwrap_or(0);
    if desired.is_some_and(|d| available < d) {
        return "Progressing";
    }
    if desired == Some(0) {
        return "ScaledDown";
    }
    "Healthy"
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(v: serde_json::Value) -> Pod {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn waiting_container_reason_wins_over_phase() {
        let p = pod(json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a"}]},
            "status": {"phase": "Pending", "containerStatuses": [{"name": "a", "image": "i", "imageID": "",
                "ready": false, "restartCount": 2, "state": {"waiting": {"reason": "ImagePullBackOff"}}}]}}));
        assert_eq!(pod_status(&p), PodStatus { reason: "ImagePullBackOff".into(), ready: "0/1".into(), restarts: 2 });
        assert!(!pod_ready(&p));
    }

    #[test]
    fn running_ready_containers_are_counted() {
        let p = pod(
            json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a"}, {"name": "istio-proxy"}]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
              "containerStatuses": [
                {"name": "a", "image": "i", "imageID": "", "ready": true, "restartCount": 0, "state": {"running": {}}},
                {"name": "istio-proxy", "image": "i", "imageID": "", "ready": true, "restartCount": 1, "state": {"running": {}}}]}}),
        );
        assert_eq!(pod_status(&p), PodStatus { reason: "Running".into(), ready: "2/2".into(), restarts: 1 });
        assert!(pod_ready(&p));
    }

    #[test]
    fn failing_init_container_is_shown() {
        let p = pod(
            json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a"}], "initContainers": [{"name": "init"}]},
            "status": {"phase": "Pending", "initContainerStatuses": [{"name": "init", "image": "i", "imageID": "",
                "ready": false, "restartCount": 3, "state": {"terminated": {"exitCode": 1}}}]}}),
        );
        assert_eq!(pod_status(&p).reason, "Init:ExitCode:1");
        assert_eq!(pod_status(&p).restarts, 3);
    }

    #[test]
    fn replica_set_health_follows_the_argo_cli() {
        let rs = |replicas: i32, available: i32, generation: i64, observed: i64| -> ReplicaSet {
            serde_json::from_value(json!({"metadata": {"name": "r", "generation": generation},
                "spec": {"replicas": replicas, "selector": {}},
                "status": {"replicas": available, "availableReplicas": available, "observedGeneration": observed}}))
            .unwrap()
        };
        assert_eq!(replica_set_health(&rs(3, 3, 1, 1)), "Healthy");
        assert_eq!(replica_set_health(&rs(3, 1, 1, 1)), "Progressing");
        assert_eq!(replica_set_health(&rs(0, 0, 2, 2)), "ScaledDown");
        assert_eq!(replica_set_health(&rs(3, 3, 2, 1)), "Progressing");
    }
}
