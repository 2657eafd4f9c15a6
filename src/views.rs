//! Text and JSON renderings of workloads and their traffic, for the CLI and the server.

pub mod rollouts;
pub mod traffic;
pub mod workloads;
