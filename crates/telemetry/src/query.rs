//! Queries as values: what to select, how to aggregate, over which window and at which time. Both backends take a
//! [`QuerySpec`]; only here is PromQL text produced, with every label value quoted and every regex alternative
//! escaped, so no user text is ever pasted into a query.
#![deny(clippy::arithmetic_side_effects)]

use super::labels::Labels;
use std::fmt::Write as _;

/// How a label is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchOp {
    Eq,
    Ne,
    /// Fully anchored RE2 match, as PromQL's `=~`.
    Re,
    Nre,
}

/// One label matcher.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Matcher {
    pub label: String,
    pub op: MatchOp,
    pub value: String,
}

impl Matcher {
    pub fn eq(label: &str, value: &str) -> Matcher {
        Matcher { label: label.into(), op: MatchOp::Eq, value: value.into() }
    }

    pub fn ne(label: &str, value: &str) -> Matcher {
        Matcher { label: label.into(), op: MatchOp::Ne, value: value.into() }
    }

    /// `label` is one of `values` exactly (an escaped regex alternation).
    pub fn one_of<S: AsRef<str>>(label: &str, values: &[S]) -> Matcher {
        let alternatives: Vec<String> = values.iter().map(|v| regex::escape(v.as_ref())).collect();
        Matcher { label: label.into(), op: MatchOp::Re, value: alternatives.join("|") }
    }

    /// `label` is none of `values` (an escaped regex alternation).
    pub fn none_of<S: AsRef<str>>(label: &str, values: &[S]) -> Matcher {
        Matcher { op: MatchOp::Nre, ..Matcher::one_of(label, values) }
    }

    pub fn regex(label: &str, pattern: &str) -> Matcher {
        Matcher { label: label.into(), op: MatchOp::Re, value: pattern.into() }
    }
}

/// What a query computes per group.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Aggregation {
    /// `sum by (group) (rate(selector[range]))`: per-second rate of counters.
    SumRate,
    /// `sum by (group) (rate(selector[range])) > 0`: the groups that counted something in the window. A graph draws
    /// nothing from the others, and at scale a fifth of the edge rows are such (error codes of calls that did not
    /// fail lately, say); Kiali's queries leave them out the same way.
    SumRateAboveZero,
    /// `histogram_quantile(q, sum by (le, group) (rate(selector[range])))` over `_bucket` series.
    Quantile(f64),
}

/// A query: the series (a metric, and alternative matcher sets whose union is selected), the labels to group by,
/// the range window and the evaluation time.
#[derive(Debug, Clone, PartialEq)]
pub struct QuerySpec {
    pub metric: String,
    /// Alternatives: a series is selected when it matches every matcher of any alternative. Empty: all series.
    pub selectors: Vec<Vec<Matcher>>,
    pub group_by: Vec<String>,
    pub range_s: u64,
    /// Evaluation time, unix seconds.
    pub at: i64,
    pub aggregation: Aggregation,
}

/// The evaluation times of a range query: every `step` seconds over `[start, end]` (unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Steps {
    pub start: i64,
    pub end: i64,
    pub step: i64,
}

/// One result row: the group's label values and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Group-by labels present on the result, sorted by name.
    pub labels: Labels,
    pub value: f64,
}

impl Row {
    /// The value of `label`, empty when absent (as PromQL treats missing labels).
    pub fn label(&self, label: &str) -> &str {
        self.labels.get(label).unwrap_or("")
    }
}

impl QuerySpec {
    /// This query as independent queries whose answers, put together, are its answer: one per value of `label`
    /// when every alternative picks plain values of it (`label="a"`, `label=~"a|b"`) and the rows are grouped by it,
    /// so no row sums series of two parts and no series is in two. A server evaluates each query on one core; the
    /// parts use several.
    pub fn shards(&self, label: &str) -> Vec<QuerySpec> {
        let sums = matches!(self.aggregation, Aggregation::SumRate | Aggregation::SumRateAboveZero);
        let grouped = sums && self.group_by.iter().any(|l| l == label);
        let values: Option<Vec<Vec<&str>>> = (self.selectors.iter())
            .map(|alternative| {
                let mut on_label = alternative.iter().filter(|m| m.label == label);
                match (on_label.next(), on_label.next()) {
                    (Some(m), None) => literal_values(m),
                    _ => None,
                }
            })
            .collect();
        let Some(values) = values.filter(|_| grouped) else { return vec![self.clone()] };
        let mut shards: Vec<(&str, QuerySpec)> = Vec::new();
        for (alternative, values) in self.selectors.iter().zip(values) {
            for value in values {
                let picked =
                    alternative.iter().map(|m| if m.label == label { Matcher::eq(label, value) } else { m.clone() });
                let picked: Vec<Matcher> = picked.collect();
                match shards.iter_mut().find(|(v, _)| *v == value) {
                    Some((_, shard)) => shard.selectors.push(picked),
                    None => shards.push((value, QuerySpec { selectors: vec![picked], ..self.clone() })),
                }
            }
        }
        if shards.len() < 2 {
            return vec![self.clone()];
        }
        shards.into_iter().map(|(_, shard)| shard).collect()
    }

    /// The PromQL text of this query.
    pub fn promql(&self) -> String {
        let range = format!("[{}s]", self.range_s);
        let selectors: Vec<String> = if self.selectors.is_empty() {
            vec![self.selector(&[])]
        } else {
            self.selectors.iter().map(|m| self.selector(m)).collect()
        };
        let rates: Vec<String> = selectors.iter().map(|s| format!("rate({s}{range})")).collect();
        let inner = rates.join(" or ");
        match self.aggregation {
            Aggregation::SumRate => format!("sum by ({}) ({inner})", self.group_by.join(", ")),
            Aggregation::SumRateAboveZero => format!("sum by ({}) ({inner}) > 0", self.group_by.join(", ")),
            Aggregation::Quantile(q) => {
                let mut by = vec!["le".to_string()];
                by.extend(self.group_by.iter().cloned());
                format!("histogram_quantile({q}, sum by ({}) ({inner}))", by.join(", "))
            }
        }
    }

    fn selector(&self, matchers: &[Matcher]) -> String {
        selector(&self.metric, matchers)
    }
}

/// The values a matcher selects when it names them plainly: `label="a"`, or `label=~"a|b"` of plain words (a
/// PromQL regex is anchored, so such an alternation selects exactly its words).
fn literal_values(m: &Matcher) -> Option<Vec<&str>> {
    let plain = |v: &str| !v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    match m.op {
        MatchOp::Eq => Some(vec![m.value.as_str()]),
        MatchOp::Re => Some(m.value.split('|').collect::<Vec<_>>()).filter(|values| values.iter().all(|v| plain(v))),
        MatchOp::Ne | MatchOp::Nre => None,
    }
}

/// A series selector: `metric{label="value", ...}`, every value quoted. `metric` may be empty when a `__name__`
/// matcher picks the metrics.
pub fn selector(metric: &str, matchers: &[Matcher]) -> String {
    let mut parts: Vec<String> = Vec::new();
    for m in matchers {
        let op = match m.op {
            MatchOp::Eq => "=",
            MatchOp::Ne => "!=",
            MatchOp::Re => "=~",
            MatchOp::Nre => "!~",
        };
        parts.push(format!("{}{op}{}", m.label, quote(&m.value)));
    }
    format!("{metric}{{{}}}", parts.join(", "))
}

/// A PromQL double-quoted string literal.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len().saturating_add(2));
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether `name` is a valid Prometheus label name (what `group_by` and matchers may use).
pub fn valid_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> QuerySpec {
        QuerySpec {
            metric: "istio_requests_total".into(),
            selectors: vec![
                vec![Matcher::eq("reporter", "source"), Matcher::one_of("source_workload_namespace", &["a", "b.c"])],
                vec![
                    Matcher::eq("reporter", "source"),
                    Matcher::one_of("destination_workload_namespace", &["a", "b.c"]),
                ],
            ],
            group_by: vec!["source_workload".into(), "destination_workload".into()],
            range_s: 600,
            at: 1_795_600_800,
            aggregation: Aggregation::SumRate,
        }
    }

    #[test]
    fn renders_union_of_selectors_summed_by_group() {
        assert_eq!(
            spec().promql(),
            "sum by (source_workload, destination_workload) (rate(istio_requests_total{reporter=\"source\", \
             source_workload_namespace=~\"a|b\\\\.c\"}[600s]) or rate(istio_requests_total{reporter=\"source\", \
             destination_workload_namespace=~\"a|b\\\\.c\"}[600s]))"
        );
    }

    #[test]
    fn leaves_out_groups_of_nothing_on_the_server() {
        let above_zero = QuerySpec { aggregation: Aggregation::SumRateAboveZero, ..spec() };
        assert_eq!(above_zero.promql(), format!("{} > 0", spec().promql()));
        let by_reporter = QuerySpec {
            group_by: vec!["reporter".into()],
            selectors: vec![vec![Matcher::one_of("reporter", &["source", "destination"])]],
            ..above_zero
        };
        let shards = by_reporter.shards("reporter");
        assert_eq!(shards.len(), 2, "a group is in one shard, so each shard may filter its own");
        assert!(shards.iter().all(|s| s.aggregation == Aggregation::SumRateAboveZero));
    }

    #[test]
    fn a_sum_grouped_by_reporter_shards_by_reporter() {
        let side = |ns: &str| Matcher::eq("source_workload_namespace", ns);
        let mut q = spec();
        q.group_by = vec!["reporter".into(), "source_workload".into()];
        q.selectors = vec![
            vec![Matcher::one_of("reporter", &["source", "destination"]), side("a")],
            vec![Matcher::eq("reporter", "source"), side("b")],
        ];
        let shards = q.shards("reporter");
        let selectors: Vec<&Vec<Vec<Matcher>>> = shards.iter().map(|s| &s.selectors).collect();
        assert_eq!(
            selectors,
            [
                &vec![
                    vec![Matcher::eq("reporter", "source"), side("a")],
                    vec![Matcher::eq("reporter", "source"), side("b")]
                ],
                &vec![vec![Matcher::eq("reporter", "destination"), side("a")]],
            ],
            "one query per reporter, each with its alternatives"
        );
        assert!(shards.iter().all(|s| s.group_by == q.group_by && s.metric == q.metric));
        // Not grouped by the label, a quantile, one value only, or a value that is a pattern: one query as it is.
        let mut ungrouped = q.clone();
        ungrouped.group_by = vec!["source_workload".into()];
        let mut quantile = q.clone();
        quantile.aggregation = Aggregation::Quantile(0.95);
        let mut single = q.clone();
        single.selectors = vec![vec![Matcher::eq("reporter", "source")]];
        let mut pattern = q.clone();
        pattern.selectors[1] = vec![Matcher { label: "reporter".into(), op: MatchOp::Re, value: "dest.*".into() }];
        for unsplit in [ungrouped, quantile, single, pattern] {
            assert_eq!(unsplit.shards("reporter"), std::slice::from_ref(&unsplit));
        }
    }

    #[test]
    fn renders_quantiles_and_unfiltered_selectors() {
        let mut s = spec();
        s.selectors = vec![];
        assert_eq!(s.promql(), "sum by (source_workload, destination_workload) (rate(istio_requests_total{}[600s]))");
        let mut q = spec();
        q.aggregation = Aggregation::Quantile(0.95);
        q.selectors = vec![vec![Matcher::eq("reporter", "destination")]];
        assert_eq!(
            q.promql(),
            "histogram_quantile(0.95, sum by (le, source_workload, destination_workload) (rate(istio_requests_total{reporter=\"destination\"}[600s])))"
        );
    }

    #[test]
    fn hostile_values_stay_inside_their_string_literal() {
        assert_eq!(quote(r#"a"} or vector(1) #"#), r#""a\"} or vector(1) #""#);
        assert_eq!(quote("x\\y\nz"), r#""x\\y\nz""#);
        let m = Matcher::one_of("destination_workload", &["a.*", "b|c", "(d)"]);
        assert_eq!(m.value, r"a\.\*|b\|c|\(d\)");
        let re = regex::Regex::new(&format!("^(?:{})$", m.value)).unwrap();
        assert!(re.is_match("b|c") && !re.is_match("abc") && !re.is_match("b"));
    }

    #[test]
    fn label_names_are_checked() {
        assert!(valid_label_name("kubernetes_pod_name"));
        assert!(!valid_label_name("pod-name") && !valid_label_name("9x") && !valid_label_name(""));
    }
}
