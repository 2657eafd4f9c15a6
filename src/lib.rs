//! meshlens: names every workload the way Istio telemetry does, shows Argo Rollouts as one workload with its
//! revisions, and sets the traffic split it measures beside the weight the Rollout asked for.

pub mod capture;
pub mod cli;
pub mod doctor;
pub mod graph;
pub mod identity;
pub mod inventory;
pub mod rollout;
pub mod routing_model;
pub mod server;
pub mod sim;
pub mod snapshot;
pub mod terminal;
pub mod views;

// The lower crates, under the names their modules had: the application and its tests name `meshlens::k8s` and
// `meshlens::telemetry` as before.
pub use meshlens_k8s as k8s;
pub use meshlens_telemetry as telemetry;
