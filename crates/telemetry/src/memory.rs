//! An in-memory time-series store that evaluates [`QuerySpec`]s with Prometheus 2.x semantics over samples loaded
//! from OpenMetrics files (or appended live), so offline use needs no server and answers like one.
#![deny(clippy::arithmetic_side_effects)]

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Arc;

use regex::Regex;
use rustc_hash::FxHashMap;

use super::functions::{bucket_quantile, extrapolated_rate};
use super::interner::Interner;
use super::labels::{self, LabelTable, LabelTableFull};
use super::openmetrics;
use super::query::{Aggregation, MatchOp, Matcher, QuerySpec, Row};

type Labels = Box<[(Arc<str>, Arc<str>)]>;

struct Series {
    metric: Arc<str>,
    /// Sorted by label name; the metric name is not among them.
    labels: Labels,
    /// `(unix ms, value)` in time order.
    samples: Vec<(i64, f64)>,
}

/// Samples by series, indexed by metric name.
#[derive(Default)]
pub struct MemoryStore {
    series: Vec<Series>,
    by_metric: HashMap<Arc<str>, Vec<usize>>,
    /// Series by a hash of their metric and labels (the labels are kept once, in `series`).
    by_key: FxHashMap<u64, Vec<usize>>,
    strings: Interner,
    newest_ms: Option<i64>,
    samples: usize,
    out_of_order: usize,
}

/// Series texts remembered while loading: more than a histogram's buckets, which a file cycles through by time.
const RECENT_SERIES: usize = 64;

/// Why samples could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{source_name}: {error}")]
    Parse { source_name: String, error: openmetrics::ParseError },
    #[error("{source_name}: line {line}: sample has no timestamp (snapshot metrics need one)")]
    NoTimestamp { source_name: String, line: usize },
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// Loads OpenMetrics (timestamps in seconds) a line at a time: memory follows the samples kept, not the
    /// input's size. Returns the number of samples read.
    pub fn load_openmetrics(&mut self, source_name: &str, input: impl std::io::BufRead) -> Result<usize, LoadError> {
        let mut count: usize = 0;
        let mut missing_ts = None;
        // A file holds each series' samples together (a histogram's buckets cycle by time): a line whose series
        // text was seen a few lines ago is looked up by that text, not parsed again.
        let mut recent: FxHashMap<u64, (String, usize)> = FxHashMap::default();
        openmetrics::parse_lines(input, |line| {
            let Some(ts) = line.timestamp else {
                missing_ts.get_or_insert(count.saturating_add(1));
                return Ok(());
            };
            let t_ms = (ts * 1000.0).round() as i64;
            let text_hash = rustc_hash::FxBuildHasher.hash_one(line.series_text);
            let index = match recent.get(&text_hash) {
                Some((text, index)) if text == line.series_text => *index,
                _ => {
                    let (name, labels) = line.series()?;
                    let index = self.series_index(name, labels.iter().map(|(k, v)| (*k, v.as_str())));
                    if recent.len() >= RECENT_SERIES {
                        recent.clear();
                    }
                    recent.insert(text_hash, (line.series_text.to_owned(), index));
                    index
                }
            };
            self.push_sample(index, t_ms, line.value);
            count = count.saturating_add(1);
            Ok(())
        })
        .map_err(|error| LoadError::Parse { source_name: source_name.to_owned(), error })?;
        if let Some(line) = missing_ts {
            return Err(LoadError::NoTimestamp { source_name: source_name.to_owned(), line });
        }
        Ok(count)
    }

    /// Appends one sample (the live simulator feeds the store this way). Samples older than the series' newest are
    /// ignored, as Prometheus rejects out-of-order samples.
    pub fn append<'a>(
        &mut self,
        metric: &str,
        labels: impl IntoIterator<Item = (&'a str, &'a str)>,
        t_ms: i64,
        value: f64,
    ) {
        let index = self.series_index(metric, labels);
        self.push_sample(index, t_ms, value);
    }

    fn series_index<'a>(&mut self, metric: &str, labels: impl IntoIterator<Item = (&'a str, &'a str)>) -> usize {
        let mut pairs: Vec<(Arc<str>, Arc<str>)> = labels
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (self.strings.get(k), self.strings.get(v)))
            .collect();
        pairs.sort();
        let name = self.strings.get(metric);
        let key = rustc_hash::FxBuildHasher.hash_one((&name, &pairs));
        let same = |s: &Series| s.metric == name && *s.labels == *pairs;
        let candidates = self.by_key.entry(key).or_default();
        if let Some(&i) = candidates.iter().find(|&&i| self.series.get(i).is_some_and(same)) {
            return i;
        }
        let index = self.series.len();
        candidates.push(index);
        self.series.push(Series { metric: name.clone(), labels: pairs.into_boxed_slice(), samples: Vec::new() });
        self.by_metric.entry(name).or_default().push(index);
        index
    }

    fn push_sample(&mut self, index: usize, t_ms: i64, value: f64) {
        let Some(Series { samples, .. }) = self.series.get_mut(index) else { return };
        if samples.last().is_some_and(|(t, _)| *t >= t_ms) {
            self.out_of_order = self.out_of_order.saturating_add(1);
            return;
        }
        samples.push((t_ms, value));
        self.samples = self.samples.saturating_add(1);
        self.newest_ms = Some(self.newest_ms.map_or(t_ms, |n| n.max(t_ms)));
    }

    /// The newest sample time (unix ms): the default evaluation time of a snapshot without `snapshot.yaml`.
    pub fn newest_ms(&self) -> Option<i64> {
        self.newest_ms
    }

    /// Samples ignored because their series already had one at or after their time (Prometheus refuses them too).
    pub fn out_of_order(&self) -> usize {
        self.out_of_order
    }

    pub fn series_count(&self) -> usize {
        self.series.len()
    }

    pub fn sample_count(&self) -> usize {
        self.samples
    }

    /// Evaluates a query.
    pub fn query(&self, spec: &QuerySpec) -> Result<Vec<Row>, QueryError> {
        let alternatives: Vec<Vec<Compiled<'_>>> = spec
            .selectors
            .iter()
            .map(|alt| alt.iter().map(Compiled::new).collect::<Result<Vec<_>, _>>())
            .collect::<Result<_, _>>()?;
        // Saturating: a window reaching past the range of timestamps holds every sample there is, and never wraps.
        let end = spec.at.saturating_mul(1000);
        let range_ms = i64::try_from(spec.range_s).unwrap_or(i64::MAX).saturating_mul(1000);
        let start = end.saturating_sub(range_ms);
        let le_group = matches!(spec.aggregation, Aggregation::Quantile(_));
        let mut groups: HashMap<GroupKey, Group> = HashMap::new();
        let candidates = self.by_metric.get(spec.metric.as_str()).map(Vec::as_slice).unwrap_or_default();
        for series in candidates.iter().filter_map(|&i| self.series.get(i)) {
            let selected =
                alternatives.is_empty() || alternatives.iter().any(|alt| alt.iter().all(|m| m.matches(&series.labels)));
            if !selected {
                continue;
            }
            let from = series.samples.partition_point(|(t, _)| *t < start);
            let to = series.samples.partition_point(|(t, _)| *t <= end);
            let Some(rate) = series.samples.get(from..to).and_then(|window| extrapolated_rate(window, start, end))
            else {
                continue;
            };
            let key: Vec<Option<Arc<str>>> = spec.group_by.iter().map(|g| label(&series.labels, g).cloned()).collect();
            let group = groups.entry(key).or_default();
            if le_group {
                let Some(le) = label(&series.labels, "le").and_then(|le| parse_le(le)) else { continue };
                match group.buckets.iter_mut().find(|(bound, _)| *bound == le) {
                    Some(bucket) => bucket.1 += rate,
                    None => group.buckets.push((le, rate)),
                }
            } else {
                group.sum += rate;
            }
        }
        let mut table = LabelTable::default();
        let above_zero_only = spec.aggregation == Aggregation::SumRateAboveZero;
        let groups: Vec<(Vec<(u32, u32)>, f64)> = groups
            .into_iter()
            .filter(|(_, group)| !above_zero_only || group.sum > 0.0)
            .map(|(key, Group { sum, mut buckets })| {
                let mut pairs: Vec<(u32, u32)> = (spec.group_by.iter().zip(key))
                    .filter_map(|(name, value)| value.map(|v| Ok((table.id(name)?, table.id(&v)?))))
                    .collect::<Result<_, LabelTableFull>>()?;
                table.sort(&mut pairs);
                pairs.dedup_by_key(|(name, _)| *name);
                let value = match spec.aggregation {
                    Aggregation::SumRate | Aggregation::SumRateAboveZero => sum,
                    Aggregation::Quantile(q) => bucket_quantile(q, &mut buckets),
                };
                Ok((pairs, value))
            })
            .collect::<Result<_, LabelTableFull>>()?;
        let strings = table.finish();
        let mut rows: Vec<Row> = (groups.into_iter())
            .map(|(pairs, value)| Row { labels: labels::Labels::new(strings.clone(), pairs.into()), value })
            .collect();
        rows.sort_by(|a, b| a.labels.cmp(&b.labels));
        Ok(rows)
    }
}

/// Why the store cannot answer a query.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("invalid regex: {0}")]
    Regex(#[from] regex::Error),
    #[error(transparent)]
    TooManyStrings(#[from] LabelTableFull),
}

/// Group-by label values of a series (`None`: the label is absent).
type GroupKey = Vec<Option<Arc<str>>>;

/// What a group accumulates: the summed rate, or per-bound bucket rates for quantiles.
#[derive(Default)]
struct Group {
    sum: f64,
    buckets: Vec<(f64, f64)>,
}

/// The series the previous sample of a file belonged to.
fn label<'a>(labels: &'a Labels, name: &str) -> Option<&'a Arc<str>> {
    labels.binary_search_by(|(k, _)| (**k).cmp(name)).ok().and_then(|i| labels.get(i)).map(|(_, value)| value)
}

fn parse_le(le: &str) -> Option<f64> {
    match le {
        "+Inf" | "Inf" | "+inf" | "inf" => Some(f64::INFINITY),
        _ => le.parse().ok(),
    }
}

/// A matcher ready to test series: regexes compiled and fully anchored.
struct Compiled<'a> {
    matcher: &'a Matcher,
    regex: Option<Regex>,
}

impl<'a> Compiled<'a> {
    fn new(matcher: &'a Matcher) -> Result<Compiled<'a>, regex::Error> {
        let regex = match matcher.op {
            MatchOp::Re | MatchOp::Nre => Some(Regex::new(&format!("^(?:{})$", matcher.value))?),
            MatchOp::Eq | MatchOp::Ne => None,
        };
        Ok(Compiled { matcher, regex })
    }

    /// As PromQL: a missing label has the empty value.
    fn matches(&self, labels: &Labels) -> bool {
        let value = label(labels, &self.matcher.label).map(|v| &**v).unwrap_or("");
        match (self.matcher.op, &self.regex) {
            (MatchOp::Eq, _) => value == self.matcher.value,
            (MatchOp::Ne, _) => value != self.matcher.value,
            (MatchOp::Re, Some(re)) => re.is_match(value),
            (MatchOp::Nre, Some(re)) => !re.is_match(value),
            (_, None) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
# TYPE req counter
req_total{code=\"200\",ns=\"a\",pod=\"p1\"} 0 0
req_total{code=\"200\",ns=\"a\",pod=\"p1\"} 300 300
req_total{code=\"200\",ns=\"a\",pod=\"p1\"} 600 600
req_total{code=\"500\",ns=\"a\",pod=\"p1\"} 0 0
req_total{code=\"500\",ns=\"a\",pod=\"p1\"} 60 600
req_total{code=\"200\",ns=\"b\",pod=\"p2\"} 0 0
req_total{code=\"200\",ns=\"b\",pod=\"p2\"} 1200 600
# TYPE lat histogram
lat_bucket{le=\"10\",ns=\"a\"} 0 0
lat_bucket{le=\"10\",ns=\"a\"} 300 600
lat_bucket{le=\"+Inf\",ns=\"a\"} 0 0
lat_bucket{le=\"+Inf\",ns=\"a\"} 600 600
# EOF
";

    fn store() -> MemoryStore {
        let mut s = MemoryStore::new();
        assert_eq!(s.load_openmetrics("test.om", TEXT.as_bytes()).unwrap(), 11);
        s
    }

    fn spec(group_by: &[&str], selectors: Vec<Vec<Matcher>>) -> QuerySpec {
        QuerySpec {
            metric: "req_total".into(),
            selectors,
            group_by: group_by.iter().map(|g| g.to_string()).collect(),
            range_s: 600,
            at: 600,
            aggregation: Aggregation::SumRate,
        }
    }

    #[test]
    fn sums_rates_by_group() {
        let rows = store().query(&spec(&["ns"], vec![])).unwrap();
        let got: Vec<(String, f64)> = rows.iter().map(|r| (r.label("ns").to_string(), r.value)).collect();
        assert_eq!(got, vec![("a".to_string(), 1.1), ("b".to_string(), 2.0)]);
    }

    #[test]
    fn selector_alternatives_are_a_union_without_double_counting() {
        let alts = vec![vec![Matcher::eq("ns", "a")], vec![Matcher::regex("pod", "p.")]];
        let rows = store().query(&spec(&[], alts)).unwrap();
        assert_eq!(rows.len(), 1);
        assert!((rows[0].value - 3.1).abs() < 1e-12, "{}", rows[0].value);
        let none = store().query(&spec(&["ns"], vec![vec![Matcher::eq("ns", "zzz")]])).unwrap();
        assert!(none.is_empty());
        let missing_label_is_empty = store().query(&spec(&[], vec![vec![Matcher::eq("absent", "")]])).unwrap();
        assert_eq!(missing_label_is_empty.len(), 1);
    }

    #[test]
    fn quantiles_from_buckets() {
        let mut q = spec(&["ns"], vec![]);
        q.metric = "lat_bucket".into();
        q.aggregation = Aggregation::Quantile(0.5);
        let rows = store().query(&q).unwrap();
        assert_eq!(rows.len(), 1);
        assert!((rows[0].value - 10.0).abs() < 1e-12, "{}", rows[0].value);
    }

    #[test]
    fn bad_regex_is_an_error_and_missing_timestamps_are_refused() {
        assert!(store().query(&spec(&[], vec![vec![Matcher::regex("ns", "(")]])).is_err());
        let err = MemoryStore::new().load_openmetrics("x.om", "a_total 1\n".as_bytes()).unwrap_err();
        assert!(err.to_string().contains("no timestamp"), "{err}");
    }
}
