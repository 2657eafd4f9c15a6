//! Workload identity as Istio telemetry sees it: naming rules, top-level controllers, revisions and roles, and the
//! reverse index from telemetry names back to workloads.

pub mod index;
pub mod naming;
pub mod owners;
pub mod roles;
pub mod workload;

pub use index::{IdentityIndex, Resolution};
pub use workload::{PodEntry, ReplicaSetEntry, Role, Workload, WorkloadId, roles_text};
