//! meshlens: names every workload the way Istio telemetry does, shows Argo Rollouts as one workload with its
//! revisions, and sets the traffic split it measures beside the weight the Rollout asked for.

pub mod capture;
pub mod cli;
pub mod server;
pub mod views;

// The lower crates, under the names their modules had: the application, its tests and benchmarks name
// `meshlens::graph`, `meshlens::k8s` and the others as before.
pub use meshlens_engine::{doctor, graph, identity, inventory, rollout, routing_model, terminal, time};
pub use meshlens_k8s as k8s;
pub use meshlens_sim as sim;
pub use meshlens_snapshot as snapshot;
pub use meshlens_telemetry as telemetry;
