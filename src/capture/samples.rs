//! The raw samples of a window, as stored: read from a PromQL server with range selectors (`{...}[600s]` evaluated
//! at the window's end returns every sample of every selected series) and written as OpenMetrics, so the snapshot's
//! in-memory engine answers the queries of that window as the server did.
//!
//! A large mesh holds millions of samples in a window, so series are fetched in batches of destination namespaces
//! sized from a first count; each answer is written out before the next is asked for.

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::telemetry::istio::{family, label, metric};
use crate::telemetry::openmetrics::{MetricType, Writer};
use crate::telemetry::query::selector;
use crate::telemetry::{Matcher, Prometheus, PrometheusError};

/// The label batches are cut along: every Istio series has it (`unknown` when the destination is not known).
const BATCH_LABEL: &str = label::DESTINATION_WORKLOAD_NAMESPACE;
const SOURCE_NAMESPACE: &str = label::SOURCE_WORKLOAD_NAMESPACE;
/// Series (requests, TCP, histogram counts) per fetch; the matching histogram buckets are about 20 times more.
const BATCH_SERIES: f64 = 2000.0;

/// A metric family meshlens reads, with the sample names it is stored under.
struct Family {
    name: &'static str,
    kind: MetricType,
    help: &'static str,
    samples: &'static [&'static str],
}

const FAMILIES: [Family; 4] = [
    Family { name: family::REQUESTS, kind: MetricType::Counter, help: "Requests.", samples: &[metric::REQUESTS] },
    Family {
        name: family::DURATION,
        kind: MetricType::Histogram,
        help: "Request durations.",
        samples: &[metric::DURATION_BUCKETS, metric::DURATION_COUNT, metric::DURATION_SUM],
    },
    Family { name: family::TCP_SENT, kind: MetricType::Counter, help: "Bytes sent.", samples: &[metric::TCP_SENT] },
    Family {
        name: family::TCP_RECEIVED,
        kind: MetricType::Counter,
        help: "Bytes received.",
        samples: &[metric::TCP_RECEIVED],
    },
];

/// The window: `range_s` seconds ending at `at` (unix seconds).
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub at: i64,
    pub range_s: u64,
}

/// How far a capture has come.
#[derive(Debug, Clone, Copy)]
pub enum Progress<'a> {
    /// Series were counted: this many fetches per family will follow.
    Planned {
        batches: usize,
        series: usize,
    },
    Fetched {
        family: &'a str,
        batch: usize,
        batches: usize,
        samples: usize,
    },
}

/// What a capture wrote.
#[derive(Debug, Default)]
pub struct Summary {
    pub queries: usize,
    pub series: usize,
    pub samples: usize,
    pub bytes: usize,
    /// Warnings the server attached (partial answers), with the query they came from.
    pub warnings: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error(transparent)]
    Prometheus(#[from] PrometheusError),
    #[error("writing samples: {0}")]
    Write(#[from] io::Error),
}

/// Writes every sample of the window of the families meshlens reads, of series with either end in `namespaces`
/// (every series when empty), as one OpenMetrics stream.
pub async fn write_window<W: Write>(
    prometheus: &Prometheus,
    namespaces: &[String],
    window: Window,
    out: W,
    mut progress: impl FnMut(Progress),
) -> Result<(W, Summary), CaptureError> {
    let mut summary = Summary::default();
    let batches = batches(prometheus, namespaces, window, &mut summary).await?;
    let counted = batches.iter().map(|b| b.series).sum::<f64>() as usize;
    progress(Progress::Planned { batches: batches.len(), series: counted });
    let range = format!("[{}s]", window.range_s);
    let mut w = Writer::new(out);
    for family in &FAMILIES {
        w.family(family.name, family.kind, family.help)?;
        for (i, batch) in batches.iter().enumerate() {
            let mut matchers = vec![Matcher::one_of("__name__", family.samples)];
            matchers.extend(batch.matchers.iter().cloned());
            let answer = prometheus.raw_samples(&format!("{}{range}", selector("", &matchers)), window.at).await?;
            summary.queries += 1;
            summary.bytes += answer.bytes;
            summary.warnings.extend(answer.warnings.into_iter().map(|w| format!("{}: {w}", family.name)));
            for series in &answer.series {
                let labels: Vec<(&str, &str)> = series.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                for &(t_ms, value) in &series.samples {
                    w.sample(&series.name, &labels, value, t_ms)?;
                }
                summary.samples += series.samples.len();
            }
            summary.series += answer.series.len();
            progress(Progress::Fetched {
                family: family.name,
                batch: i + 1,
                batches: batches.len(),
                samples: summary.samples,
            });
        }
    }
    Ok((w.finish()?, summary))
}

/// One fetch: the matchers that pick its series, and how many series it was counted to hold.
struct Batch {
    matchers: Vec<Matcher>,
    series: f64,
}

/// Cuts the selected series into batches of destination namespaces of about [`BATCH_SERIES`] series each. With
/// `namespaces`, two sides: series whose destination is in them, and series whose source is in them and whose
/// destination is not (so no series is fetched twice).
async fn batches(
    prometheus: &Prometheus,
    namespaces: &[String],
    window: Window,
    summary: &mut Summary,
) -> Result<Vec<Batch>, CaptureError> {
    let sides: Vec<Vec<Matcher>> = if namespaces.is_empty() {
        vec![Vec::new()]
    } else {
        vec![
            vec![Matcher::one_of(BATCH_LABEL, namespaces)],
            vec![Matcher::one_of(SOURCE_NAMESPACE, namespaces), Matcher::none_of(BATCH_LABEL, namespaces)],
        ]
    };
    let mut batches = Vec::new();
    for side in sides {
        // Counted one metric at a time: `count_over_time` drops the name, and series of two metrics would collide.
        let mut by_namespace: BTreeMap<String, f64> = BTreeMap::new();
        for name in [metric::REQUESTS, metric::DURATION_COUNT, metric::TCP_SENT, metric::TCP_RECEIVED] {
            let series = format!("{}[{}s]", selector(name, &side), window.range_s);
            let answer =
                prometheus.instant(&format!("count by ({BATCH_LABEL}) (count_over_time({series}))"), window.at).await?;
            summary.queries += 1;
            for row in &answer.rows {
                *by_namespace.entry(row.label(BATCH_LABEL).to_owned()).or_default() += row.value;
            }
        }
        let mut current: (Vec<&str>, f64) = (Vec::new(), 0.0);
        for (namespace, &series) in &by_namespace {
            if !current.0.is_empty() && current.1 + series > BATCH_SERIES {
                batches.push(batch(&side, std::mem::take(&mut current)));
            }
            current.0.push(namespace);
            current.1 += series;
        }
        if !current.0.is_empty() {
            batches.push(batch(&side, current));
        }
    }
    Ok(batches)
}

fn batch(side: &[Matcher], (namespaces, series): (Vec<&str>, f64)) -> Batch {
    let mut matchers = side.to_vec();
    matchers.push(Matcher::one_of(BATCH_LABEL, &namespaces));
    Batch { matchers, series }
}
