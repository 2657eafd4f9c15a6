//! What meshlens knows of a mesh, from objects and telemetry to answers: the objects of one moment indexed
//! (inventory), how they route (routing_model), Istio's name for every workload (identity), the traffic graph with
//! the measured split, a Rollout's view as the Argo CLI shows it, the doctor's findings, and text made safe for a
//! terminal. No I/O of its own beyond the queries it hands the telemetry crate.

pub mod doctor;
pub mod graph;
pub mod identity;
pub mod inventory;
pub mod rollout;
pub mod routing_model;
pub mod terminal;
pub mod time;
