//! A PromQL-compatible server over its HTTP API (Prometheus, VictoriaMetrics, Thanos, Mimir): authentication,
//! path prefixes, extra headers, POST for long queries, and errors that name the query instead of an empty graph.

mod decode;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio_util::io::{StreamReader, SyncIoBridge};

use super::query::{QuerySpec, Row, Steps};

/// How to reach the server.
#[derive(Debug, Clone)]
pub struct PrometheusConfig {
    /// Base URL, with any path prefix (`http://host:9090`, `https://mimir/prometheus`).
    pub url: String,
    pub bearer_token: Option<String>,
    pub basic_auth: Option<(String, String)>,
    /// Extra PEM CA certificate to trust.
    pub ca_file: Option<PathBuf>,
    /// Extra headers, e.g. `X-Scope-OrgID` for Mimir and Cortex tenants.
    pub headers: Vec<(String, String)>,
    pub timeout: Duration,
}

impl PrometheusConfig {
    pub fn new(url: &str) -> PrometheusConfig {
        PrometheusConfig {
            url: url.to_owned(),
            bearer_token: None,
            basic_auth: None,
            ca_file: None,
            headers: Vec::new(),
            timeout: Duration::from_secs(30),
        }
    }
}

/// What went wrong talking to the server, always naming the query.
#[derive(Debug, thiserror::Error)]
pub enum PrometheusError {
    #[error("invalid Prometheus configuration: {0}")]
    Config(String),
    #[error("cannot reach {url} for query `{query}`: {message}")]
    Unreachable { url: String, query: String, message: String },
    #[error("query `{query}` timed out after {seconds}s at {url}")]
    Timeout { url: String, query: String, seconds: u64 },
    #[error("{url} answered HTTP {status} to query `{query}`: {message}")]
    Http { url: String, status: u16, query: String, message: String },
    #[error("query `{query}` failed: {error_type}: {message}")]
    Api { query: String, error_type: String, message: String },
    #[error("{url} sent an unreadable answer to query `{query}`: {message}")]
    Garbage { url: String, query: String, message: String },
    #[error("{url} answered query `{query}` with more than {limit} bytes: narrow the query (fewer namespaces)")]
    TooLarge { url: String, query: String, limit: usize },
}

/// The largest answer read. The graph of a 4,000-workload mesh takes answers of tens of megabytes; an answer of
/// gigabytes is a misconfigured or hostile server, and would be held whole before it is parsed.
pub const MAX_ANSWER_BYTES: usize = 1 << 29;

/// A query's result and what it cost.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    pub rows: Vec<Row>,
    /// A range query's rows, by evaluation time (unix seconds).
    pub steps: Vec<(i64, Vec<Row>)>,
    /// Warnings the server attached (partial data, dropped series, ...).
    pub warnings: Vec<String>,
    /// Response body bytes received.
    pub bytes: usize,
    pub elapsed: Duration,
}

/// A client for one server.
#[derive(Clone)]
pub struct Prometheus {
    client: reqwest::Client,
    base: String,
    timeout: Duration,
    auth: Option<Auth>,
}

#[derive(Clone)]
enum Auth {
    Bearer(String),
    Basic(String, String),
}

/// Follows redirects within the server (a path prefix added by a proxy), at most five; a redirect to another
/// host or port is refused, since the custom headers (a tenant, a token in a header) would go along.
fn same_host_redirects(attempt: reqwest::redirect::Attempt<'_>) -> reqwest::redirect::Action {
    let place = |u: &reqwest::Url| (u.scheme().to_owned(), u.host_str().map(str::to_owned), u.port_or_known_default());
    let first = attempt.previous().first().map(place);
    if first.is_some_and(|first| first != place(attempt.url())) {
        let to = attempt.url().host_str().unwrap_or_default().to_owned();
        attempt.error(format!("refused a redirect to another host ({to}): the request's headers would go along"))
    } else if attempt.previous().len() > 5 {
        attempt.error("more than five redirects")
    } else {
        attempt.follow()
    }
}

/// `%40` → `@`: URL user names and passwords are percent-encoded.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b, hex) {
            (b'%', Some(decoded)) => {
                out.push(decoded);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Queries longer than this go in a POST body (URLs have length limits along the way).
const MAX_GET_QUERY: usize = 1500;

impl Prometheus {
    pub fn new(config: &PrometheusConfig) -> Result<Prometheus, PrometheusError> {
        // Credentials in the URL (`https://user:password@host`) become basic auth and are never shown again: the
        // URL is named in every error, page and log line.
        let mut url = reqwest::Url::parse(config.url.trim_end_matches('/')).map_err(|e| {
            PrometheusError::Config(format!(
                "URL {:?}: {e}",
                config.url.split_once('@').map_or(config.url.as_str(), |(_, host)| host)
            ))
        })?;
        let in_url = (!url.username().is_empty()).then(|| {
            let decode = |s: &str| percent_decode(s);
            (decode(url.username()), decode(url.password().unwrap_or_default()))
        });
        let _ = url.set_username("");
        let _ = url.set_password(None);
        let base = url.as_str().trim_end_matches('/').to_owned();
        let mut headers = reqwest::header::HeaderMap::new();
        for (name, value) in &config.headers {
            let name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| PrometheusError::Config(format!("header name {name:?}: {e}")))?;
            let value = reqwest::header::HeaderValue::from_str(value)
                .map_err(|e| PrometheusError::Config(format!("header {name} value: {e}")))?;
            headers.insert(name, value);
        }
        let mut builder = reqwest::Client::builder()
            .default_headers(headers)
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::custom(same_host_redirects));
        if let Some(path) = &config.ca_file {
            let pem =
                std::fs::read(path).map_err(|e| PrometheusError::Config(format!("CA file {}: {e}", path.display())))?;
            let cert = reqwest::Certificate::from_pem(&pem)
                .map_err(|e| PrometheusError::Config(format!("CA file {}: {e}", path.display())))?;
            builder = builder.add_root_certificate(cert);
        }
        let client = builder.build().map_err(|e| PrometheusError::Config(e.to_string()))?;
        let auth = match (&config.bearer_token, &config.basic_auth, &in_url) {
            (Some(token), _, _) => Some(Auth::Bearer(token.trim().to_owned())),
            (None, Some((user, password)), _) | (None, None, Some((user, password))) => {
                Some(Auth::Basic(user.clone(), password.clone()))
            }
            (None, None, None) => None,
        };
        Ok(Prometheus { client, base, timeout: config.timeout, auth })
    }

    pub fn url(&self) -> &str {
        &self.base
    }

    /// Evaluates a query spec at its time.
    pub async fn query(&self, spec: &QuerySpec) -> Result<Answer, PrometheusError> {
        self.instant(&spec.promql(), spec.at).await
    }

    /// Evaluates PromQL text as an instant query at `at` (unix seconds).
    pub async fn instant(&self, promql: &str, at: i64) -> Result<Answer, PrometheusError> {
        self.call("query", promql, &[("time", at.to_string())]).await?.answer()
    }

    /// The raw samples a range selector (`{...}[600s]`) picks at `at`: every series with its name and labels, and
    /// its samples at their exact times.
    pub async fn raw_samples(&self, range_selector: &str, at: i64) -> Result<RawSamples, PrometheusError> {
        self.call("query", range_selector, &[("time", at.to_string())]).await?.raw_samples()
    }

    /// Evaluates a query spec every `step` seconds over `[start, end]`; the answer's `steps` hold the rows of each
    /// time.
    pub async fn query_range(&self, spec: &QuerySpec, steps: Steps) -> Result<Answer, PrometheusError> {
        let Steps { start, end, step } = steps;
        let times = [("start", start.to_string()), ("end", end.to_string()), ("step", step.max(1).to_string())];
        self.call("query_range", &spec.promql(), &times).await?.answer()
    }

    /// One call of the query API (`query` or `query_range`) with its time parameters.
    async fn call(&self, endpoint: &str, promql: &str, times: &[(&str, String)]) -> Result<Reply, PrometheusError> {
        let url = format!("{}/api/v1/{endpoint}", self.base);
        let mut params = vec![("query", promql.to_owned()), ("timeout", format!("{}s", self.timeout.as_secs().max(1)))];
        params.extend(times.iter().cloned());
        let started = Instant::now();
        let mut request = if promql.len() > MAX_GET_QUERY {
            self.client.post(&url).form(&params)
        } else {
            let with_params = reqwest::Url::parse_with_params(&url, &params)
                .map_err(|e| PrometheusError::Config(format!("URL {url:?}: {e}")))?;
            self.client.get(with_params)
        };
        request = match &self.auth {
            Some(Auth::Bearer(token)) => request.bearer_auth(token),
            Some(Auth::Basic(user, password)) => request.basic_auth(user, Some(password)),
            None => request,
        };
        let short = abbreviate(promql);
        let failed = |e: reqwest::Error| {
            if e.is_timeout() {
                PrometheusError::Timeout {
                    url: self.base.clone(),
                    query: short.clone(),
                    seconds: self.timeout.as_secs(),
                }
            } else {
                PrometheusError::Unreachable { url: self.base.clone(), query: short.clone(), message: error_chain(&e) }
            }
        };
        let response = request.send().await.map_err(failed)?;
        let status = response.status();
        let too_large =
            || PrometheusError::TooLarge { url: self.base.clone(), query: short.clone(), limit: MAX_ANSWER_BYTES };
        if response.content_length().is_some_and(|n| n > MAX_ANSWER_BYTES as u64) {
            return Err(too_large());
        }
        if !status.is_success() {
            let body = error_body(response).await.map_err(failed)?;
            return Err(match decode::envelope(&body[..]) {
                Ok(envelope) => PrometheusError::Api {
                    query: short,
                    error_type: envelope.error_type.unwrap_or_else(|| format!("HTTP {}", status.as_u16())),
                    message: envelope.error.unwrap_or_else(|| "no error message".into()),
                },
                Err(_) => PrometheusError::Http {
                    url: self.base.clone(),
                    status: status.as_u16(),
                    query: short,
                    message: String::from_utf8_lossy(body.get(..300).unwrap_or(&body)).trim().to_owned(),
                },
            });
        }
        let (decoded, received, stopped) = decode_streamed(response).await;
        let envelope = match (decoded, stopped) {
            (_, Some(StreamStop::TooLarge)) => return Err(too_large()),
            (_, Some(StreamStop::Transport(e))) => return Err(failed(e)),
            (Err(e), None) => {
                return Err(PrometheusError::Garbage { url: self.base.clone(), query: short, message: e.to_string() });
            }
            (Ok(envelope), None) => envelope,
        };
        if envelope.status != "success" {
            return Err(PrometheusError::Api {
                query: short,
                error_type: envelope.error_type.unwrap_or_else(|| format!("HTTP {}", status.as_u16())),
                message: envelope.error.unwrap_or_else(|| "no error message".into()),
            });
        }
        Ok(Reply { envelope, query: short, url: self.base.clone(), bytes: received, elapsed: started.elapsed() })
    }
}

/// Why reading an answer's body stopped early.
enum StreamStop {
    TooLarge,
    Transport(reqwest::Error),
}

/// The answer decoded on a blocking thread as its chunks arrive, with the bytes received and what stopped the
/// reading early, if anything did (the decoder then only sees a broken stream).
async fn decode_streamed(response: reqwest::Response) -> (Result<decode::Envelope, String>, usize, Option<StreamStop>) {
    let received = Arc::new(AtomicUsize::new(0));
    let stopped: Arc<Mutex<Option<StreamStop>>> = Arc::default();
    let chunks = {
        let (received, stopped) = (received.clone(), stopped.clone());
        response.bytes_stream().map(move |chunk| {
            let stop = |why: StreamStop| {
                *stopped.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(why);
                std::io::Error::other("the answer's body stopped")
            };
            let chunk = chunk.map_err(|e| stop(StreamStop::Transport(e)))?;
            if received.fetch_add(chunk.len(), Ordering::Relaxed).saturating_add(chunk.len()) > MAX_ANSWER_BYTES {
                return Err(stop(StreamStop::TooLarge));
            }
            Ok(chunk)
        })
    };
    let reader = SyncIoBridge::new(StreamReader::new(chunks));
    let decoded = tokio::task::spawn_blocking(move || {
        decode::envelope(std::io::BufReader::with_capacity(1 << 16, reader)).map_err(|e| e.to_string())
    })
    .await
    .unwrap_or_else(|e| Err(format!("the decoder stopped: {e}")));
    let stopped = stopped.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
    (decoded, received.load(Ordering::Relaxed), stopped)
}

/// The start of an error answer's body: enough for its message, never a whole page.
async fn error_body(mut response: reqwest::Response) -> Result<Vec<u8>, reqwest::Error> {
    const ENOUGH: usize = 64 * 1024;
    let mut body = Vec::new();
    while body.len() < ENOUGH
        && let Some(chunk) = response.chunk().await?
    {
        body.extend_from_slice(&chunk);
    }
    body.truncate(ENOUGH);
    Ok(body)
}

/// A successful answer of the query API.
struct Reply {
    envelope: decode::Envelope,
    /// The query, abbreviated for messages.
    query: String,
    url: String,
    bytes: usize,
    elapsed: Duration,
}

/// Every series a range selector picked, as stored.
#[derive(Debug, Default)]
pub struct RawSamples {
    pub series: Vec<RawSeries>,
    pub warnings: Vec<String>,
    /// Response body bytes received.
    pub bytes: usize,
}

/// One series: its metric name, its other labels (sorted by name) and its samples in time order.
#[derive(Debug)]
pub struct RawSeries {
    pub name: String,
    pub labels: Vec<(String, String)>,
    /// (milliseconds since the epoch, value).
    pub samples: Vec<(i64, f64)>,
}

impl Reply {
    fn garbage(&self, message: String) -> PrometheusError {
        PrometheusError::Garbage { url: self.url.clone(), query: self.query.clone(), message }
    }

    /// The decoded result, which must be one of `expected` types.
    fn data(&mut self, expected: &[&str]) -> Result<decode::Data, PrometheusError> {
        let data = self.envelope.data.take().ok_or_else(|| self.garbage("success without data".into()))?;
        if !expected.contains(&data.result_type.as_str()) {
            let wanted = expected.join(" or ");
            return Err(self.garbage(format!("expected a {wanted} result, got {}", data.result_type)));
        }
        Ok(data)
    }

    /// What the server warned about, partial answers included.
    fn warnings(&mut self) -> Vec<String> {
        let envelope = &mut self.envelope;
        let mut warnings = std::mem::take(&mut envelope.warnings);
        warnings.extend(envelope.infos.drain(..).map(|i| format!("info: {i}")));
        if envelope.is_partial {
            warnings.push("the answer is partial: some storage nodes did not respond".into());
        }
        warnings
    }

    fn raw_samples(mut self) -> Result<RawSamples, PrometheusError> {
        let mut series = Vec::new();
        for s in self.data(&["matrix"])?.series {
            let name = s.name.ok_or_else(|| self.garbage("a series without a name".into()))?;
            let labels = s.labels.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
            let samples = s.points.iter().map(|&(t, v)| ((t * 1000.0).round() as i64, v)).collect();
            series.push(RawSeries { name, labels, samples });
        }
        Ok(RawSamples { series, warnings: self.warnings(), bytes: self.bytes })
    }

    /// The rows of a vector, or the rows of each time of a matrix.
    fn answer(mut self) -> Result<Answer, PrometheusError> {
        let data = self.data(&["vector", "matrix"])?;
        let mut by_time: BTreeMap<i64, Vec<Row>> = BTreeMap::new();
        for s in data.series {
            for (t, value) in s.points {
                by_time.entry(t.round() as i64).or_default().push(Row { labels: s.labels.clone(), value });
            }
        }
        let steps = by_time.into_iter().collect();
        Ok(Answer { rows: data.rows, steps, warnings: self.warnings(), bytes: self.bytes, elapsed: self.elapsed })
    }
}

/// A query short enough for a message: long `by (...)` lists collapse to `by (…)`, then the text is cut.
fn abbreviate(query: &str) -> String {
    const MAX: usize = 200;
    let mut short = String::with_capacity(query.len().min(MAX + 40));
    let mut rest = query;
    while let Some((before, after)) = rest.split_once("by (") {
        let Some((inner, tail)) = after.split_once(')') else { break };
        short.push_str(before);
        short.push_str("by (");
        short.push_str(if inner.len() > 40 { "…" } else { inner });
        short.push(')');
        rest = tail;
    }
    short.push_str(rest);
    if short.chars().count() <= MAX {
        return short;
    }
    let head: String = short.chars().take(MAX).collect();
    format!("{head}… ({} characters)", query.len())
}

/// An error with its causes (reqwest hides the interesting part a few levels down).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::abbreviate;

    #[test]
    fn long_queries_keep_their_metric_in_messages() {
        let q = "sum by (reporter, request_protocol, response_code, source_workload, destination_workload) (rate(istio_requests_total{reporter=~\"source|destination\"}[600s]))";
        assert_eq!(abbreviate(q), "sum by (…) (rate(istio_requests_total{reporter=~\"source|destination\"}[600s]))");
        assert_eq!(abbreviate("up"), "up");
        let long = format!("up{{a=~\"{}\"}}", "x|".repeat(200));
        assert!(abbreviate(&long).ends_with(&format!("… ({} characters)", long.len())));
    }
}
