//! The OpenMetrics text format of snapshot `metrics/` files: written by the simulator (and captures), read by the
//! in-memory store. The files are exactly what `promtool tsdb create-blocks-from openmetrics` accepts: timestamps
//! in seconds, the samples of each series in time order, families not interleaved, `# EOF` last.
#![deny(clippy::arithmetic_side_effects)]

use std::fmt::Write as _;
use std::io::{self, BufRead, Read, Write};

/// The metric types meshlens writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricType {
    Counter,
    Gauge,
    Histogram,
}

impl MetricType {
    fn as_str(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
        }
    }
}

/// Streams metric families to a writer.
pub struct Writer<W: Write> {
    out: W,
    line: String,
}

impl<W: Write> Writer<W> {
    pub fn new(out: W) -> Writer<W> {
        Writer { out, line: String::new() }
    }

    /// Starts a family. Every sample until the next family must belong to it.
    pub fn family(&mut self, name: &str, kind: MetricType, help: &str) -> io::Result<()> {
        writeln!(self.out, "# TYPE {name} {}", kind.as_str())?;
        writeln!(self.out, "# HELP {name} {}", help.replace('\\', "\\\\").replace('\n', "\\n"))
    }

    /// Writes one sample; `name` is the full sample name (`istio_requests_total`, `..._bucket`). Timestamps are
    /// milliseconds, as Prometheus stores them, written as seconds with the fraction only when there is one.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64, timestamp_ms: i64) -> io::Result<()> {
        self.line.clear();
        self.line.push_str(name);
        if !labels.is_empty() {
            self.line.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.line.push(',');
                }
                self.line.push_str(k);
                self.line.push_str("=\"");
                escape_into(&mut self.line, v);
                self.line.push('"');
            }
            self.line.push('}');
        }
        self.line.push(' ');
        format_value(&mut self.line, value);
        let (seconds, millis) = (timestamp_ms.div_euclid(1000), timestamp_ms.rem_euclid(1000));
        let _ = match millis {
            0 => write!(self.line, " {seconds}"),
            _ => write!(self.line, " {seconds}.{millis:03}"),
        };
        self.line.push('\n');
        self.out.write_all(self.line.as_bytes())
    }

    /// Ends the exposition with `# EOF` and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.write_all(b"# EOF\n")?;
        self.out.flush()?;
        Ok(self.out)
    }
}

fn escape_into(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

fn format_value(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
    } else if v.fract() == 0.0 && v.abs() < 9.0e15 {
        let _ = write!(out, "{}", v as i64);
    } else {
        let _ = write!(out, "{v}");
    }
}

/// One sample as read from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample<'a> {
    pub name: &'a str,
    pub labels: Labels<'a>,
    pub value: f64,
    /// Seconds since the epoch; `None` when the line has no timestamp.
    pub timestamp: Option<f64>,
}

/// A line that is not valid OpenMetrics.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

/// The longest line read: an Istio series line is a few kilobytes; anything past this is not a sample.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// Reads every sample of `input` in order, a line at a time (never the whole input), handing each to `each`.
/// Stops at `# EOF`. A line longer than [`MAX_LINE_BYTES`], one that is not UTF-8, or a read that fails (a
/// truncated or oversized gzip stream) is an error naming the line.
pub fn parse(input: impl BufRead, mut each: impl FnMut(Sample<'_>)) -> Result<(), ParseError> {
    parse_lines(input, |line| {
        let (name, labels) = line.series()?;
        each(Sample { name, labels, value: line.value, timestamp: line.timestamp });
        Ok(())
    })
}

/// A sample line with its series (metric name and label set) still as written: the samples of a series follow
/// one another in a file, so a reader that compares `series_text` with the previous line's parses each series
/// once, not once per sample.
#[derive(Debug, Clone, Copy)]
pub struct Line<'a> {
    /// The name and label set as written (`name{a="1",b="2"}`), not yet checked.
    pub series_text: &'a str,
    pub value: f64,
    /// Seconds since the epoch; `None` when the line has no timestamp.
    pub timestamp: Option<f64>,
}

impl<'a> Line<'a> {
    /// The metric name and labels (values unescaped), checked.
    pub fn series(&self) -> Result<(&'a str, Labels<'a>), String> {
        let name_end = self.series_text.find('{').unwrap_or(self.series_text.len());
        let (name, rest) = self.series_text.split_at_checked(name_end).ok_or("a sample needs a value")?;
        if !valid_name(name) {
            return Err(format!("invalid metric name {name:?}"));
        }
        match rest.strip_prefix('{') {
            Some(body) => Ok((name, parse_labels(body)?.0)),
            None => Ok((name, Vec::new())),
        }
    }
}

/// As [`parse`], handing each sample line with its series unparsed; an error `each` returns (from
/// [`Line::series`]) stops the reading and names the line.
pub fn parse_lines(
    mut input: impl BufRead,
    mut each: impl FnMut(Line<'_>) -> Result<(), String>,
) -> Result<(), ParseError> {
    let mut buf = Vec::with_capacity(4096);
    let mut number = 0usize;
    loop {
        number = number.saturating_add(1);
        let fail = |message: String| ParseError { line: number, message };
        buf.clear();
        let limit = u64::try_from(MAX_LINE_BYTES).unwrap_or(u64::MAX).saturating_add(1);
        let read = (&mut input).take(limit).read_until(b'\n', &mut buf).map_err(|e| fail(e.to_string()))?;
        if read == 0 {
            return Ok(());
        }
        if buf.len() > MAX_LINE_BYTES {
            return Err(fail(format!("longer than {MAX_LINE_BYTES} bytes")));
        }
        let line = std::str::from_utf8(&buf).map_err(|_| fail("not UTF-8 text".into()))?;
        let line = line.trim_end_matches(['\n', '\r']);
        if line == "# EOF" {
            return Ok(());
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        each(split_line(line).map_err(fail)?).map_err(fail)?;
    }
}

/// Splits a sample line into its series text, value and timestamp; the series is checked by [`Line::series`].
fn split_line(line: &str) -> Result<Line<'_>, String> {
    let name_end = line.find(['{', ' ']).ok_or("a sample needs a value")?;
    let series_end = match line.as_bytes().get(name_end) {
        Some(b'{') => label_set_end(line, name_end).ok_or("unterminated label set")?,
        _ => name_end,
    };
    let (series_text, rest) = line.split_at_checked(series_end).ok_or("a sample needs a value")?;
    let mut fields = rest.split_ascii_whitespace();
    let value = fields.next().ok_or("a sample needs a value")?;
    let value = parse_number(value).ok_or_else(|| format!("invalid value {value:?}"))?;
    let timestamp = match fields.next() {
        Some(ts) => Some(ts.parse::<f64>().map_err(|_| format!("invalid timestamp {ts:?}"))?),
        None => None,
    };
    Ok(Line { series_text, value, timestamp })
}

/// The byte just past the `}` closing the label set that opens at `open`, skipping quoted values (and the
/// escapes in them).
fn label_set_end(line: &str, open: usize) -> Option<usize> {
    let (mut quoted, mut escaped) = (false, false);
    for (i, &b) in line.as_bytes().iter().enumerate().skip(open) {
        match (quoted, escaped, b) {
            (true, true, _) => escaped = false,
            (true, false, b'\\') => escaped = true,
            (_, false, b'"') => quoted = !quoted,
            (false, _, b'}') => return i.checked_add(1),
            _ => {}
        }
    }
    None
}

/// Label pairs as read: names borrow the text, values are unescaped.
type Labels<'a> = Vec<(&'a str, String)>;

fn parse_labels(mut body: &str) -> Result<(Labels<'_>, &str), String> {
    let mut labels = Vec::new();
    loop {
        body = body.trim_start_matches([' ', ',']);
        if let Some(after) = body.strip_prefix('}') {
            return Ok((labels, after));
        }
        let (key, value_text) = body.split_once('=').ok_or("unterminated label set")?;
        let key = key.trim();
        if !valid_name(key) {
            return Err(format!("invalid label name {key:?}"));
        }
        let quoted = value_text.strip_prefix('"').ok_or_else(|| format!("label {key} needs a quoted value"))?;
        let mut value = String::new();
        let mut chars = quoted.char_indices();
        let rest = loop {
            match chars.next() {
                None => return Err(format!("unterminated value of label {key}")),
                Some((_, '"')) => break chars.as_str(),
                Some((_, '\\')) => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, c @ ('\\' | '"'))) => value.push(c),
                    _ => return Err(format!("invalid escape in label {key}")),
                },
                Some((_, c)) => value.push(c),
            }
        };
        labels.push((key, value));
        body = rest;
    }
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// A sample value: a float, or `+Inf`, `-Inf`, `NaN` as Prometheus spells them (in files and in API answers).
pub(crate) fn parse_number(s: &str) -> Option<f64> {
    match s {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        _ => s.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_samples_read_back() {
        let mut w = Writer::new(Vec::new());
        w.family("istio_requests", MetricType::Counter, "Requests.").unwrap();
        w.sample("istio_requests_total", &[("pod", "a-1"), ("weird", "q\"b\\n\nx")], 12.0, 100_000).unwrap();
        w.sample("istio_requests_total", &[], 0.25, 130_042).unwrap();
        let text = String::from_utf8(w.finish().unwrap()).unwrap();
        assert!(text.contains("istio_requests_total{pod=\"a-1\",weird=\"q\\\"b\\\\n\\nx\"} 12 100\n"), "{text}");
        assert!(text.ends_with("# EOF\n"));
        let mut read = Vec::new();
        let owned = |labels: Labels<'_>| labels.into_iter().map(|(k, v)| (k.to_owned(), v)).collect::<Vec<_>>();
        parse(text.as_bytes(), |s| read.push((s.name.to_owned(), owned(s.labels), s.value, s.timestamp))).unwrap();
        assert_eq!(read.len(), 2);
        let expected = [("pod", "a-1"), ("weird", "q\"b\\n\nx")].map(|(k, v)| (k.to_owned(), v.to_owned()));
        assert_eq!(read[0].1, expected);
        assert_eq!((read[1].2, read[1].3), (0.25, Some(130.042)));
    }

    #[test]
    fn broken_lines_name_their_line() {
        let err = parse("# TYPE x counter\nx_total{a=\"1} 3\n".as_bytes(), |_| {}).unwrap_err();
        assert_eq!(err.line, 2);
        let err = parse("x_total{a=\"1\"} three\n".as_bytes(), |_| {}).unwrap_err();
        assert!(err.message.contains("invalid value"), "{err}");
        assert!(parse("9bad 1\n".as_bytes(), |_| {}).is_err());
        // A stream of zeros (`/dev/zero`, a compression bomb) ends at the line limit, having read that much.
        let mut zeros = std::io::repeat(0).take(1 << 30);
        let err = parse(std::io::BufReader::new(&mut zeros), |_| {}).unwrap_err();
        assert_eq!((err.line, err.message.as_str()), (1, "longer than 65536 bytes"));
        assert!(zeros.limit() > (1 << 30) - (1 << 20), "read little of it");
        let err = parse(&b"a 1 1\n\xff\xfe 2\n"[..], |_| {}).unwrap_err();
        assert_eq!((err.line, err.message.as_str()), (2, "not UTF-8 text"));
    }

    #[test]
    fn a_lines_series_text_ends_at_its_label_sets_closing_brace() {
        let mut seen = Vec::new();
        let text = "a{x=\"}\",y=\"q\\\"}\"} 1 2\nb 3\n";
        parse_lines(text.as_bytes(), |line| {
            seen.push((line.series_text.to_owned(), line.series()?.1.len(), line.value));
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, [("a{x=\"}\",y=\"q\\\"}\"}".to_owned(), 2, 1.0), ("b".to_owned(), 0, 3.0)]);
        // A series the reader rejects stops the reading at its line.
        let err = parse_lines("ok 1\nbad{x=1} 2\n".as_bytes(), |line| line.series().map(drop)).unwrap_err();
        assert_eq!(err.line, 2, "{err}");
    }

    #[test]
    fn special_values_and_eof() {
        let mut seen = Vec::new();
        parse("a_bucket{le=\"+Inf\"} +Inf 1\nb NaN\n# EOF\nignored 1\n".as_bytes(), |s| seen.push(s.value)).unwrap();
        assert_eq!(seen.len(), 2);
        assert!(seen[0].is_infinite() && seen[1].is_nan());
    }
}
