//! Rollout status as users know it: the Argo CLI's phase, steps, SetWeight and ActualWeight, and the tree of
//! revisions, ReplicaSets, pods, Experiments and AnalysisRuns.

pub mod info;
pub mod phase;
pub mod render;
pub mod routes;
pub mod status;
pub mod weights;

pub use info::{RolloutInfo, Strategy, rollout_info};
pub use render::render_rollout;
