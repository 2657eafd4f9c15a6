//! Runs a plan's queries, a few at a time, and keeps what they cost. Against a server, a query grouped by reporter
//! runs as one query per reporter: a Prometheus evaluates a query on one core, and the parts of a graph's largest
//! query then use the cores it has (Kiali runs its queries one after another). Without the request query there is
//! no graph; a failed secondary query becomes a visible warning.

use std::time::Instant;

use futures::StreamExt;

use meshlens_telemetry::{Backend, QuerySpec, Row, TelemetryError};

use super::QueryStats;
use super::plan::{Part, Plan};

/// At most this many queries of one graph are in flight at once against a server (the in-memory store answers
/// one at a time: interleaved, its answers only cost more memory). More than the cores of a small Prometheus: while
/// it evaluates one query it is sending another's answer, and meshlens decoding a third. (The 4,000-workload graph
/// against a 2-core Prometheus fetched in 5.1 s one at a time, 3.6–4.1 s two, 3.2–3.6 s four, 3.1–3.5 s six.)
const CONCURRENT_QUERIES: usize = 4;

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

/// Runs every query of `plan`.
pub async fn fetch(backend: &Backend, plan: &Plan) -> Result<Results, TelemetryError> {
    fetch_queries(backend, plan.queries(backend.answers_in_parallel())).await
}

/// Runs `queries` (parts of a plan, [`Plan::queries`]), a few at a time, their rows put together by part.
pub async fn fetch_queries(backend: &Backend, queries: Vec<(Part, QuerySpec)>) -> Result<Results, TelemetryError> {
    let started = Instant::now();
    let at_once = if backend.answers_in_parallel() { CONCURRENT_QUERIES } else { 1 };
    let mut answers = futures::stream::iter(queries.into_iter().map(|(part, spec)| async move {
        let started = Instant::now();
        tracing::trace!(part = part.name(), query = %spec.promql(), "query sent");
        let answer = backend.query(&spec).await;
        if let Ok(a) = &answer {
            let seconds = started.elapsed().as_secs_f64();
            tracing::debug!(part = part.name(), seconds, bytes = a.bytes, rows = a.rows.len(), "query answered");
        }
        (part, answer)
    }))
    .buffered(at_once);
    let mut results = Results::default();
    // In plan order: a failed request query ends the graph at once, and the queries still running with it.
    while let Some((part, answer)) = answers.next().await {
        let name = part.name();
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
        results.rows_mut(part).extend(answer.rows);
    }
    results.stats.seconds = started.elapsed().as_secs_f64();
    Ok(results)
}
