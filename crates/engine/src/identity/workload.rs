//! The workload model every view shares: one workload per top-level controller, with all its ReplicaSets
//! (revisions) and pods, and every name it can carry in telemetry.

use std::collections::BTreeSet;
use std::fmt;

use meshlens_k8s::{Kind, KindName};
use serde::Serialize;

/// A workload's identity: `(cluster, namespace, name, kind)`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct WorkloadId {
    pub cluster: String,
    pub namespace: String,
    pub name: String,
    /// The top-level controller's kind; custom controllers keep their kind name.
    pub kind: KindName,
}

impl fmt::Display for WorkloadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
    }
}

/// A role a ReplicaSet (and its pods) plays in a progressive rollout, as the Argo CLI and Flagger name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Stable,
    Canary,
    Active,
    Preview,
    Ping,
    Pong,
    /// Flagger's `-primary` Deployment, which serves stable traffic.
    Primary,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Stable => "stable",
            Role::Canary => "canary",
            Role::Active => "active",
            Role::Preview => "preview",
            Role::Ping => "ping",
            Role::Pong => "pong",
            Role::Primary => "primary",
        }
    }
}

/// Roles joined the way the Argo CLI prints them (`stable,active`).
pub fn roles_text(roles: &[Role]) -> String {
    roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(",")
}

/// One ReplicaSet of a workload: a revision of a Rollout or Deployment, or an Experiment's template.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplicaSetEntry {
    pub name: String,
    pub hash: Option<String>,
    pub revision: Option<u64>,
    pub roles: Vec<Role>,
    /// Pods the ReplicaSet wants (`spec.replicas`).
    pub replicas: i32,
    pub ready_replicas: i32,
    pub available_replicas: i32,
    /// The Argo CLI's health word: Healthy, Progressing, ScaledDown, ReplicaFailure.
    pub status: String,
    /// Istio's canonical revision of the ReplicaSet's pods, when their labels set one (most Rollouts do not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub canonical_revision: Option<String>,
    /// The Experiment this ReplicaSet runs a template of, for experiment ReplicaSets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub experiment: Option<String>,
    /// The name Istio < 1.22 gave this ReplicaSet's pods in telemetry, when it differs from the workload name.
    #[serde(skip)]
    pub legacy_telemetry_name: Option<String>,
}

/// One pod of a workload.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodEntry {
    pub name: String,
    /// The name this pod's sidecar reports: what the injected proxy says when the pod shows it, else what
    /// current Istio computes.
    pub telemetry_name: String,
    /// The kind that goes with `telemetryName`, as Istio computes it.
    pub telemetry_kind: KindName,
    pub replica_set: Option<String>,
    pub hash: Option<String>,
    pub roles: Vec<Role>,
    pub phase: String,
    /// `kubectl get pod`'s STATUS word (Running, ImagePullBackOff, ...).
    pub status: String,
    pub ready: bool,
    pub ready_containers: String,
    pub restarts: i32,
    pub node: Option<String>,
    /// Whether the pod carries an Istio sidecar (or was admitted to the ambient mesh).
    pub in_mesh: bool,
    /// Whether the pod carries an Istio sidecar, which reports L7 for it; an ambient pod's L7 is reported only by
    /// a waypoint, if it has one.
    pub sidecar: bool,
}

/// A workload with everything it owns.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Workload {
    #[serde(flatten)]
    pub id: WorkloadId,
    pub api_version: String,
    /// Istio's canonical service of the workload's pods.
    pub app: String,
    /// Istio's canonical revision of the workload's pods.
    pub version: String,
    /// Every name the workload can appear under in telemetry (both naming generations and overrides).
    pub telemetry_names: BTreeSet<String>,
    /// The controller object is not in the inventory; the workload is known from its pods and owner references.
    pub inferred: bool,
    /// For a Rollout with `workloadRef`: the Deployment its pod template comes from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_from: Option<String>,
    pub replica_sets: Vec<ReplicaSetEntry>,
    pub pods: Vec<PodEntry>,
    /// One of Istio's ambient proxies, which carry others' traffic rather than the application's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ambient_proxy: Option<AmbientProxy>,
}

/// Istio's ambient data plane, as its pods are labelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum AmbientProxy {
    /// A waypoint: pods Istio deploys for a Gateway of class `istio-waypoint`, labelled
    /// `gateway.istio.io/managed: istio.io-mesh-controller` and with the Gateway's name.
    Waypoint,
    /// The node proxy: pods labelled `app: ztunnel` (Istio's chart; Kiali leaves `app="ztunnel"` series out).
    Ztunnel,
}

/// The `app` label of ztunnel's pods, which its telemetry carries as a scrape label.
pub const ZTUNNEL_APP: &str = "ztunnel";

impl Workload {
    /// Whether the workload is rolled out in revisions whose traffic split meshlens measures.
    pub fn has_revisions(&self) -> bool {
        matches!(self.id.kind.known(), Some(Kind::Rollout | Kind::Canary))
    }

    pub fn is_waypoint(&self) -> bool {
        self.ambient_proxy == Some(AmbientProxy::Waypoint)
    }

    pub fn ready_pods(&self) -> usize {
        self.pods.iter().filter(|p| p.ready).count()
    }
}
