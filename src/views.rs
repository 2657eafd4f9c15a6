//! Text and JSON renderings of workloads for the CLI. Views only read the identity index and inventory.

pub mod table;
pub mod workloads;
