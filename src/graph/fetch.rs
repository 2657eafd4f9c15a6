//! Runs a plan's queries one after another (on a couple of cores, parallel queries only compete) and keeps what
//! each cost. Without the request query there is no graph; a failed secondary query becomes a visible warning.

use std::time::Instant;

use crate::telemetry::{Backend, Row, TelemetryError};

use super::QueryStats;
use super::plan::{Part, Plan};

/// The answers of a plan.
#[derive(Debug, Default, Clone)]
pub struct Results {
    pub requests: Vec<Row>,
    pub tcp_sent: Vec<Row>,
    pub tcp_received: Vec<Row>,
    pub latency: Vec<Row>,
    pub revision_requests: Vec<Row>,
    pub revision_latency: Vec<Row>,
    pub warnings: Vec<String>,
    pub stats: QueryStats,
    /// Seconds each query took, in plan order.
    pub seconds_by_part: Vec<(Part, f64)>,
}

impl Results {
    fn rows_mut(&mut self, part: Part) -> &mut Vec<Row> {
        match part {
            Part::Requests => &mut self.requests,
            Part::TcpSent => &mut self.tcp_sent,
            Part::TcpReceived => &mut self.tcp_received,
            Part::Latency => &mut self.latency,
            Part::RevisionRequests => &mut self.revision_requests,
            Part::RevisionLatency => &mut self.revision_latency,
        }
    }
}

pub async fn fetch(backend: &Backend, plan: &Plan) -> Result<Results, TelemetryError> {
    let started = Instant::now();
    let mut results = Results::default();
    for (part, spec) in plan.specs() {
        let name = part.name();
        let part_started = Instant::now();
        let answer = backend.query(spec).await;
        results.seconds_by_part.push((part, part_started.elapsed().as_secs_f64()));
        let answer = match answer {
            Ok(answer) => answer,
            Err(err) if part == Part::Requests => return Err(err),
            Err(err) => {
                results.warnings.push(format!("{name} query failed, that part of the graph is missing: {err}"));
                results.stats.queries += 1;
                continue;
            }
        };
        results.stats.queries += 1;
        results.stats.bytes += answer.bytes;
        results.warnings.extend(answer.warnings.into_iter().map(|w| format!("{name} query: {w}")));
        *results.rows_mut(part) = answer.rows;
    }
    results.stats.seconds = started.elapsed().as_secs_f64();
    Ok(results)
}
