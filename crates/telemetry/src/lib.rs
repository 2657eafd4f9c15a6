//! Telemetry as values: [`QuerySpec`]s answered by a PromQL server over HTTP or by an in-memory store with the same
//! semantics, and the OpenMetrics format samples are stored in.

pub mod functions;
pub mod interner;
pub mod istio;
pub mod labels;
pub mod memory;
pub mod openmetrics;
pub mod prometheus;
pub mod query;

pub use memory::MemoryStore;
pub use prometheus::{Answer, Prometheus, PrometheusConfig, PrometheusError};
pub use query::{Aggregation, MatchOp, Matcher, QuerySpec, Row, Steps};

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::RwLock;

/// Where query answers come from.
#[derive(Clone)]
pub enum Backend {
    Prometheus(Prometheus),
    /// Shared so a live simulator can keep appending while views read.
    Memory(Arc<RwLock<MemoryStore>>),
}

/// Why a query has no answer.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error(transparent)]
    Prometheus(#[from] PrometheusError),
    #[error("query `{query}`: {error}")]
    Memory { query: String, error: memory::QueryError },
}

impl Backend {
    /// Whether independent queries are answered side by side: a server evaluates each on a core of its own, while
    /// the in-memory store answers on the caller's thread, where a query split in parts only scans its series
    /// once per part.
    pub fn answers_in_parallel(&self) -> bool {
        matches!(self, Backend::Prometheus(_))
    }

    /// Answers one query.
    pub async fn query(&self, spec: &QuerySpec) -> Result<Answer, TelemetryError> {
        match self {
            Backend::Prometheus(p) => Ok(p.query(spec).await?),
            Backend::Memory(store) => {
                let started = Instant::now();
                let rows = store
                    .read()
                    .await
                    .query(spec)
                    .map_err(|error| TelemetryError::Memory { query: spec.promql(), error })?;
                Ok(Answer { rows, steps: Vec::new(), warnings: Vec::new(), bytes: 0, elapsed: started.elapsed() })
            }
        }
    }

    /// Evaluates `spec` every `step` seconds over `[start, end]` (its `at` is ignored): the rows of each time.
    pub async fn query_range(&self, spec: &QuerySpec, times: Steps) -> Result<Vec<(i64, Vec<Row>)>, TelemetryError> {
        match self {
            Backend::Prometheus(p) => Ok(p.query_range(spec, times).await?.steps),
            Backend::Memory(store) => {
                let store = store.read().await;
                let mut steps = Vec::new();
                let (mut at, end, step) = (times.start, times.end, times.step);
                while at <= end {
                    let spec = QuerySpec { at, ..spec.clone() };
                    let rows =
                        store.query(&spec).map_err(|error| TelemetryError::Memory { query: spec.promql(), error })?;
                    if !rows.is_empty() {
                        steps.push((at, rows));
                    }
                    at += step.max(1);
                }
                Ok(steps)
            }
        }
    }

    /// A short description for messages (`Prometheus at URL`, `snapshot metrics`).
    pub fn describe(&self) -> String {
        match self {
            Backend::Prometheus(p) => format!("Prometheus at {}", p.url()),
            Backend::Memory(_) => "in-memory samples".into(),
        }
    }
}
