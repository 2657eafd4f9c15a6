//! The annotations meshlens reads, by name. Objects keep no other: annotations are where tools park whole
//! manifests (`kubectl.kubernetes.io/last-applied-configuration`, `kapp.k14s.io/original`) and templates with
//! secrets (`vault.hashicorp.com/agent-inject-template-*`), and a capture writes what objects keep.

/// The Rollout revision, on ReplicaSets, Experiments and AnalysisRuns.
pub const ROLLOUT_REVISION: &str = "rollout.argoproj.io/revision";
/// A Deployment's revision, on its ReplicaSets.
pub const DEPLOYMENT_REVISION: &str = "deployment.kubernetes.io/revision";
/// The Experiment template a ReplicaSet was created for.
pub const EXPERIMENT_TEMPLATE: &str = "experiment.argoproj.io/template-name";
/// When Argo Rollouts scales an old ReplicaSet down.
pub const SCALE_DOWN_DEADLINE: &str = "scale-down-deadline";
/// Set on pods Istio injected a sidecar into.
pub const SIDECAR_STATUS: &str = "sidecar.istio.io/status";
/// `enabled` on pods whose traffic ztunnel redirects (ambient mode).
pub const AMBIENT_REDIRECTION: &str = "ambient.istio.io/redirection";

const READ: [&str; 6] = [
    ROLLOUT_REVISION,
    DEPLOYMENT_REVISION,
    EXPERIMENT_TEMPLATE,
    SCALE_DOWN_DEADLINE,
    SIDECAR_STATUS,
    AMBIENT_REDIRECTION,
];

/// Whether meshlens reads the annotation `key`.
pub fn is_read(key: &str) -> bool {
    READ.contains(&key)
}
