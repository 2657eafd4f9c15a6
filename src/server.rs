//! The HTTP API and the web pages, over one loaded world: the graph, one page per workload with all its pods, and
//! every Rollout's split. Handlers only read shared state; nothing lists a cluster per request.

pub mod access;
pub mod admission;
pub mod api;
pub mod auth;
pub mod cache;
pub mod error;
pub mod listen;
pub mod live;
pub mod metrics;
pub mod pages;
pub mod params;
pub mod ready;
pub mod routes;
pub mod state;
pub mod weights;
pub mod world;

pub use routes::router;
pub use state::{AppState, Clock};
pub use world::World;
