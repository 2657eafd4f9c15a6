//! Simulated requests between pods and the Istio metrics a Prometheus scraping every proxy would store for
//! them: with sidecars both reporters, per-pod scrape labels, request counters by response code, a
//! destination-side duration histogram, and TCP byte and connection counters; in ambient mode the L4 counters of
//! the ztunnels at both ends and the L7 reports of the waypoint in front of a Service.

use std::collections::BTreeMap;
use std::io::{self, Write};

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use meshlens_telemetry::openmetrics::{MetricType, Writer};

use meshlens_engine::graph::Reporter;
use meshlens_engine::identity::workload::ZTUNNEL_APP;
use meshlens_engine::routing_model::{Routed, ServiceRef};

use super::cluster::{Dataplane, SimPod, SimService};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Protocol {
    Http,
    Grpc,
    Tcp,
}

impl Protocol {
    fn as_str(self) -> &'static str {
        match self {
            Protocol::Http => "http",
            Protocol::Grpc => "grpc",
            Protocol::Tcp => "tcp",
        }
    }
}

/// How a destination revision answers.
#[derive(Debug, Clone, Copy)]
pub struct Behaviour {
    /// Share of requests answered with a 5xx (gRPC: `UNAVAILABLE`).
    pub error_ratio: f64,
    /// Median latency in milliseconds.
    pub latency_ms: f64,
}

impl Behaviour {
    pub fn ok(latency_ms: f64) -> Behaviour {
        Behaviour { error_ratio: 0.0, latency_ms }
    }
}

/// A destination of a route: some pods, the share of the route's traffic they get, and how they answer.
pub struct Target<'a> {
    pub pods: &'a [usize],
    pub weight: f64,
    pub behaviour: Behaviour,
}

impl<'a> Target<'a> {
    /// All of a route's traffic to these pods.
    pub fn all(pods: &'a [usize], behaviour: Behaviour) -> Self {
        Target { pods, weight: 1.0, behaviour }
    }
}

/// Requests (or, for TCP, connections) from one pod to another through one Service.
#[derive(Debug, Clone)]
struct Flow {
    src: usize,
    dst: usize,
    /// The Service the caller addressed.
    called: usize,
    /// The Service whose endpoint the call reached: `called`, or the backend a route chose.
    service: usize,
    protocol: Protocol,
    /// Requests per second (TCP: connections per second).
    rate: f64,
    behaviour: Behaviour,
    /// TCP bytes per connection: (request, response).
    bytes: (f64, f64),
    /// Unix seconds `(from, to]` the flow runs.
    active: (i64, i64),
    reported: Reported,
}

/// How calls failed in the caller's proxy: the HTTP status and Envoy's response flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Failed {
    code: u16,
    flag: &'static str,
}

/// Which proxies report a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Reported {
    Both,
    /// A mirrored copy: the destination serves it, the caller's proxy drops the answer and counts nothing.
    DestinationOnly,
    /// Failed in the caller's proxy with this response code and flag, never reaching a pod.
    FailedAtSource(Failed),
}

/// When samples are taken (every `step` seconds in `(start, end]`) and which duration buckets the histogram has.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub start: i64,
    pub end: i64,
    pub step: i64,
    /// Upper bounds (ms) of the destination-side duration histogram; empty: no histogram.
    pub buckets: &'static [f64],
}

impl Window {
    fn times(&self) -> impl Iterator<Item = i64> + '_ {
        (1..=(self.end - self.start) / self.step).map(|k| self.start + k * self.step)
    }
}

/// Duration histogram bucket bounds (ms). Istio's defaults have 19; a few keep snapshots small.
pub const BUCKETS: &[f64] = &[5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 1000.0, 5000.0];
/// Fewer buckets for large meshes.
pub const FEW_BUCKETS: &[f64] = &[10.0, 50.0, 250.0, 1000.0];
const MAX_BUCKETS: usize = 8;

/// Traffic from some pods to a Service: `rate` requests/s (connections/s for TCP) spread evenly over the sources,
/// split over the targets by weight and evenly over each target's ready pods.
pub struct Route<'a> {
    protocol: Protocol,
    sources: &'a [usize],
    service: usize,
    rate: f64,
    targets: &'a [Target<'a>],
    active: (i64, i64),
    bytes: (f64, f64),
}

impl<'a> Route<'a> {
    pub fn new(protocol: Protocol, sources: &'a [usize], service: usize, rate: f64, targets: &'a [Target<'a>]) -> Self {
        Route { protocol, sources, service, rate, targets, active: (i64::MIN, i64::MAX), bytes: (0.0, 0.0) }
    }

    /// Only between these unix seconds, `(from, to]`.
    pub fn during(self, from: i64, to: i64) -> Self {
        Route { active: (from, to), ..self }
    }

    /// TCP bytes per connection, request and response.
    pub fn bytes_per_connection(self, request: f64, response: f64) -> Self {
        Route { bytes: (request, response), ..self }
    }
}

/// All flows of a scenario.
#[derive(Default)]
pub struct Traffic {
    flows: Vec<Flow>,
}

impl Traffic {
    /// Adds a route's flows. Unready pods get nothing, as Services only send to ready endpoints.
    pub fn add(&mut self, pods: &[SimPod], route: Route<'_>) {
        let total_weight: f64 = route.targets.iter().map(|t| t.weight).sum();
        if route.sources.is_empty() || total_weight <= 0.0 {
            return;
        }
        for target in route.targets {
            let ready: Vec<usize> = target.pods.iter().copied().filter(|&p| pods[p].ready).collect();
            if ready.is_empty() {
                continue;
            }
            let per_pair = route.rate * (target.weight / total_weight) / (route.sources.len() * ready.len()) as f64;
            for &src in route.sources {
                for &dst in &ready {
                    self.flows.push(Flow {
                        src,
                        dst,
                        called: route.service,
                        service: route.service,
                        protocol: route.protocol,
                        rate: per_pair,
                        behaviour: target.behaviour,
                        bytes: route.bytes,
                        active: route.active,
                        reported: Reported::Both,
                    });
                }
            }
        }
    }
}

/// Calls from some pods to a Service whose destinations the mesh's routing decides.
pub struct Call<'a> {
    pub protocol: Protocol,
    pub sources: &'a [usize],
    /// The Service called.
    pub service: usize,
    /// Requests per second, spread evenly over the sources.
    pub rate: f64,
    /// Unix seconds `(from, to]`.
    pub active: (i64, i64),
}

impl Traffic {
    /// Adds `call` as `routed` sends it (see [`meshlens_engine::routing_model`]); `behaviour` says how each pod answers.
    pub fn add_routed(
        &mut self,
        call: &Call<'_>,
        routed: &Routed<usize>,
        services: &[SimService],
        behaviour: &dyn Fn(usize) -> Behaviour,
    ) {
        let service_index =
            |s: &ServiceRef| services.iter().position(|x| x.namespace == s.namespace && x.name == s.name);
        let per_source = call.rate / call.sources.len().max(1) as f64;
        let mut add = |src: usize, dst: usize, service: usize, share: f64, behaviour: Behaviour, reported| {
            self.flows.push(Flow {
                src,
                dst,
                called: call.service,
                service,
                protocol: call.protocol,
                rate: per_source * share,
                behaviour,
                bytes: (0.0, 0.0),
                active: call.active,
                reported,
            });
        };
        for &src in call.sources {
            for (shares, reported) in [(&routed.shares, Reported::Both), (&routed.mirrored, Reported::DestinationOnly)]
            {
                for s in shares {
                    if let Some(service) = service_index(&s.service) {
                        add(src, s.pod, service, s.share, behaviour(s.pod), reported);
                    }
                }
            }
            for f in &routed.failures {
                if let Some(service) = service_index(&f.service) {
                    let failed = Behaviour { error_ratio: 1.0, latency_ms: 1.0 };
                    let how = Failed { code: f.code, flag: f.flag };
                    add(src, src, service, f.share, failed, Reported::FailedAtSource(how));
                }
            }
        }
    }
}

/// What one flow carried in one scrape interval.
#[derive(Debug, Clone, Copy, Default)]
struct Tick {
    requests: u64,
    errors: u64,
    /// Cumulative count per bucket bound (requests at or under each bound).
    buckets: [u64; MAX_BUCKETS],
    latency_sum: f64,
}

/// Which series a flow adds to: who reports, the proxy that reports it (its scrape labels), both ends as
/// telemetry names them, the Service, protocol and code.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct SeriesKey {
    reporter: Reporter,
    /// The pod whose proxy reports: the sidecar's own pod, a ztunnel, a waypoint.
    by: usize,
    src: usize,
    dst: usize,
    service: usize,
    /// `Tcp` for L4 reports, whatever the application protocol.
    protocol: Protocol,
    /// How calls failed in the caller's proxy.
    failure: Option<Failed>,
}

/// Bytes per request (sent, received) of an HTTP or gRPC call as ztunnel counts them at L4.
const L4_BYTES_PER_REQUEST: (f64, f64) = (420.0, 1_850.0);
/// Requests an HTTP connection carries before it is closed, as ztunnel counts connections at L4.
const REQUESTS_PER_CONNECTION: f64 = 20.0;

/// The series every flow adds to, by the proxies that see it: each end's sidecar reports the call as it is; an
/// ambient end's ztunnel reports the connection (L4) to the waypoint in front of the called Service if it has one,
/// else to the other end; the waypoint reports the call (L7), naming the Service its route chose.
fn series_of(traffic: &Traffic, pods: &[SimPod], services: &[SimService]) -> BTreeMap<SeriesKey, Vec<usize>> {
    let identities = identities(pods);
    let ztunnels: BTreeMap<&str, usize> = (pods.iter().enumerate())
        .filter(|(_, p)| p.dataplane == Dataplane::Proxy && p.app == ZTUNNEL_APP)
        .map(|(i, p)| (p.node, i))
        .collect();
    let mut series: BTreeMap<SeriesKey, Vec<usize>> = BTreeMap::new();
    for (i, f) in traffic.flows.iter().enumerate() {
        let failure = match f.reported {
            Reported::FailedAtSource(how) => Some(how),
            _ => None,
        };
        let (src, dst) = (identities[f.src], identities[f.dst]);
        let waypoints = &services[f.called].waypoint;
        let waypoint = (pods[f.dst].dataplane == Dataplane::Ambient && !waypoints.is_empty())
            .then(|| identities[waypoints[(f.src + f.dst) % waypoints.len()]]);
        let mut add = |reporter, by, (src, dst), service, protocol| {
            let key = SeriesKey { reporter, by, src, dst, service, protocol, failure };
            series.entry(key).or_default().push(i);
        };
        let l4_peer = waypoint.unwrap_or(dst);
        if f.reported != Reported::DestinationOnly {
            match pods[f.src].dataplane {
                Dataplane::Sidecar => add(Reporter::Source, f.src, (f.src, dst), f.service, f.protocol),
                Dataplane::Ambient => {
                    if let Some(&ztunnel) = ztunnels.get(pods[f.src].node) {
                        add(Reporter::Source, ztunnel, (src, l4_peer), f.called, Protocol::Tcp);
                    }
                }
                Dataplane::Proxy => {}
            }
        }
        if f.reported == Reported::Both || f.reported == Reported::DestinationOnly {
            if let Some(waypoint) = waypoint {
                add(Reporter::Waypoint, waypoint, (src, dst), f.service, f.protocol);
            }
            match pods[f.dst].dataplane {
                Dataplane::Sidecar => add(Reporter::Destination, f.dst, (src, f.dst), f.service, f.protocol),
                Dataplane::Ambient => {
                    if let Some(&ztunnel) = ztunnels.get(pods[f.dst].node) {
                        add(Reporter::Destination, ztunnel, (waypoint.unwrap_or(src), dst), f.called, Protocol::Tcp);
                    }
                }
                Dataplane::Proxy => {}
            }
        }
    }
    series
}

/// Writes the metrics of `traffic` over `window` as OpenMetrics.
pub fn write_metrics<W: Write>(
    out: W,
    pods: &[SimPod],
    services: &[SimService],
    traffic: &Traffic,
    window: Window,
    seed: u64,
) -> io::Result<W> {
    let times: Vec<i64> = window.times().collect();
    let ticks = simulate(traffic, pods, &times, window, seed);
    let series = series_of(traffic, pods, services);
    let ctx =
        Context { buckets: &window.buckets[..window.buckets.len().min(MAX_BUCKETS)], pods, services, times: &times };
    let mut w = Writer::new(out);

    w.family("istio_requests", MetricType::Counter, "Requests observed by the Istio proxies.")?;
    for (key, flows) in series.iter().filter(|(k, _)| k.protocol != Protocol::Tcp) {
        for errors in [false, true] {
            let values = cumulative(&times, flows, &ticks, |_, t| {
                (if errors { t.errors } else { t.requests - t.errors }) as f64
            });
            let labels = ctx.labels(key, Some(errors));
            ctx.write_counter(&mut w, "istio_requests_total", &labels, key.by, &values)?;
        }
    }

    if !ctx.buckets.is_empty() {
        w.family(
            "istio_request_duration_milliseconds",
            MetricType::Histogram,
            "Request durations observed by the Istio proxies.",
        )?;
        let server_side = |k: &SeriesKey| {
            k.protocol != Protocol::Tcp && matches!(k.reporter, Reporter::Destination | Reporter::Waypoint)
        };
        for (key, flows) in series.iter().filter(|(k, _)| server_side(k)) {
            let labels = ctx.labels(key, None);
            ctx.write_histogram(&mut w, &labels, key.by, flows, &ticks)?;
        }
    }

    let tcp = [
        ("istio_tcp_sent_bytes", "Bytes sent in responses over TCP connections."),
        ("istio_tcp_received_bytes", "Bytes received in requests over TCP connections."),
        ("istio_tcp_connections_opened", "TCP connections opened."),
        ("istio_tcp_connections_closed", "TCP connections closed."),
    ];
    for (family, help) in tcp {
        w.family(family, MetricType::Counter, help)?;
        for (key, flows) in series.iter().filter(|(k, _)| k.protocol == Protocol::Tcp) {
            // A TCP flow's ticks count connections; an HTTP or gRPC flow's (reported at L4) count requests.
            let per_tick = |f: usize| {
                let flow = &traffic.flows[f];
                let (request, response, connections) = match flow.protocol {
                    Protocol::Tcp => (flow.bytes.0, flow.bytes.1, 1.0),
                    _ => (L4_BYTES_PER_REQUEST.0, L4_BYTES_PER_REQUEST.1, 1.0 / REQUESTS_PER_CONNECTION),
                };
                match family {
                    "istio_tcp_sent_bytes" => response,
                    "istio_tcp_received_bytes" => request,
                    _ => connections,
                }
            };
            let values = cumulative(&times, flows, &ticks, |f, t| t.requests as f64 * per_tick(f));
            let values: Vec<Option<f64>> = values.into_iter().map(|v| v.map(f64::round)).collect();
            let labels = ctx.labels(key, None);
            ctx.write_counter(&mut w, &format!("{family}_total"), &labels, key.by, &values)?;
        }
    }
    w.finish()
}

/// For every pod, the lowest index of a pod with the same telemetry identity: pods of one workload (and
/// revision labels) are one peer in telemetry.
fn identities(pods: &[SimPod]) -> Vec<usize> {
    let mut first: std::collections::HashMap<(&str, &str, &str, &str, &str), usize> = Default::default();
    pods.iter()
        .enumerate()
        .map(|(i, p)| {
            let key = (
                p.namespace.as_str(),
                p.workload.as_str(),
                p.canonical_revision.as_str(),
                p.app.as_str(),
                p.version.as_str(),
            );
            *first.entry(key).or_insert(i)
        })
        .collect()
}

fn response_code(protocol: Protocol, error: bool) -> &'static str {
    match (protocol, error) {
        (_, false) => "200",
        (Protocol::Grpc, true) => "200",
        (_, true) => "500",
    }
}

/// Draws what every flow carried in every interval: request counts rounded stochastically around the rate (with
/// a slow wave so graphs move), errors at the flow's ratio, latencies from a Weibull shape around the median.
fn simulate(traffic: &Traffic, pods: &[SimPod], times: &[i64], window: Window, seed: u64) -> Vec<Vec<Tick>> {
    let step = window.step;
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_7aff_1c00);
    let mut round = |x: f64| -> u64 {
        let u: f64 = rng.random();
        (x + u).floor().max(0.0) as u64
    };
    traffic
        .flows
        .iter()
        .enumerate()
        .map(|(i, f)| {
            times
                .iter()
                .map(|&t| {
                    let alive = pods[f.src].created <= t - step && pods[f.dst].created <= t - step;
                    if !alive || t <= f.active.0 || t > f.active.1 {
                        return Tick::default();
                    }
                    let wave = 1.0 + 0.08 * (t as f64 / 600.0 * std::f64::consts::TAU + i as f64 * 0.7).sin();
                    let requests = round(f.rate * step as f64 * wave);
                    let errors = round(requests as f64 * f.behaviour.error_ratio).min(requests);
                    // Weibull(k=2) with the given median: F(x) = 1 - exp(-(x/λ)²), mean = λ·Γ(1.5).
                    let lambda = f.behaviour.latency_ms / std::f64::consts::LN_2.sqrt();
                    let mut buckets = [0u64; MAX_BUCKETS];
                    for (b, le) in buckets.iter_mut().zip(window.buckets.iter().copied().take(MAX_BUCKETS)) {
                        let share = 1.0 - (-(le / lambda).powi(2)).exp();
                        // Nearest-integer rounding keeps buckets cumulative (monotone in the bound).
                        *b = (requests as f64 * share).round() as u64;
                    }
                    Tick { requests, errors, buckets, latency_sum: requests as f64 * lambda * 0.886_226_925 }
                })
                .collect()
        })
        .collect()
}

/// Running totals of `value` over the ticks of `flows`; `None` before the series' first event.
fn cumulative(
    times: &[i64],
    flows: &[usize],
    ticks: &[Vec<Tick>],
    value: impl Fn(usize, &Tick) -> f64,
) -> Vec<Option<f64>> {
    let mut total = 0.0;
    let mut started = false;
    (0..times.len())
        .map(|k| {
            let add: f64 = flows.iter().map(|&f| value(f, &ticks[f][k])).sum();
            total += add;
            started |= add > 0.0;
            started.then_some(total)
        })
        .collect()
}

struct Context<'a> {
    buckets: &'a [f64],
    pods: &'a [SimPod],
    services: &'a [SimService],
    times: &'a [i64],
}

impl Context<'_> {
    /// The Istio labels of a series plus the scrape labels of the pod that reports it.
    /// `failed`: the series of failed requests (`None` for series without a response code).
    fn labels(&self, key: &SeriesKey, failed: Option<bool>) -> Vec<(String, String)> {
        let (src, dst) = (&self.pods[key.src], &self.pods[key.dst]);
        let svc = &self.services[key.service];
        let reporter = key.reporter.as_label();
        // A sidecar caller cannot tell; ztunnel and waypoints speak mutual TLS (HBONE) on every hop.
        let by_ambient_proxy = self.pods[key.by].dataplane == Dataplane::Proxy;
        let security = if key.reporter != Reporter::Source || by_ambient_proxy { "mutual_tls" } else { "unknown" };
        let nobody = SimPod::nobody();
        let dst = if key.failure.is_some() { &nobody } else { dst };
        let mut labels: Vec<(String, String)> = [
            ("reporter", reporter),
            ("source_workload", &src.workload),
            ("source_workload_namespace", &src.namespace),
            ("source_principal", &src.principal),
            ("source_app", &src.app),
            ("source_version", &src.version),
            ("source_canonical_service", &src.canonical_service),
            ("source_canonical_revision", &src.canonical_revision),
            ("source_cluster", &src.cluster),
            ("destination_workload", &dst.workload),
            ("destination_workload_namespace", &dst.namespace),
            ("destination_principal", &dst.principal),
            ("destination_app", &dst.app),
            ("destination_version", &dst.version),
            ("destination_service", &svc.host),
            ("destination_service_name", &svc.name),
            ("destination_service_namespace", &svc.namespace),
            ("destination_canonical_service", &dst.canonical_service),
            ("destination_canonical_revision", &dst.canonical_revision),
            // A call that failed before the metadata exchange falls back to the endpoint's cluster: the caller's.
            ("destination_cluster", if key.failure.is_some() { &src.cluster } else { &dst.cluster }),
            ("request_protocol", key.protocol.as_str()),
            ("response_flags", key.failure.map_or("-", |f| f.flag)),
            ("connection_security_policy", security),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        if let Some(failed) = failed {
            let code = match key.failure {
                Some(how) => how.code.to_string(),
                None => response_code(key.protocol, failed).to_owned(),
            };
            labels.push(("response_code".into(), code));
            if key.protocol == Protocol::Grpc {
                // gRPC failures answer HTTP 200 with a non-OK status (14: UNAVAILABLE).
                let status = if failed { "14" } else { "0" };
                labels.push(("grpc_response_status".into(), status.into()));
            }
        }
        labels.extend(self.pods[key.by].scrape_labels.iter().cloned());
        labels.sort();
        labels
    }

    fn write_counter<W: Write>(
        &self,
        w: &mut Writer<W>,
        name: &str,
        labels: &[(String, String)],
        pod: usize,
        values: &[Option<f64>],
    ) -> io::Result<()> {
        let labels: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        for (k, value) in values.iter().enumerate() {
            if let Some(v) = value
                && self.times[k] >= self.pods[pod].created
            {
                w.sample(name, &labels, *v, self.times[k] * 1000)?;
            }
        }
        Ok(())
    }

    fn write_histogram<W: Write>(
        &self,
        w: &mut Writer<W>,
        labels: &[(String, String)],
        pod: usize,
        flows: &[usize],
        ticks: &[Vec<Tick>],
    ) -> io::Result<()> {
        let counts = cumulative(self.times, flows, ticks, |_, t| t.requests as f64);
        let sums = cumulative(self.times, flows, ticks, |_, t| t.latency_sum);
        let buckets: Vec<Vec<Option<f64>>> =
            (0..self.buckets.len()).map(|b| cumulative(self.times, flows, ticks, |_, t| t.buckets[b] as f64)).collect();
        let base: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let bounds: Vec<String> = self.buckets.iter().map(|b| b.to_string()).chain(["+Inf".to_string()]).collect();
        for (k, count) in counts.iter().enumerate() {
            let Some(count) = count else { continue };
            let t = self.times[k];
            if t < self.pods[pod].created {
                continue;
            }
            let t = t * 1000;
            for (b, le) in bounds.iter().enumerate() {
                let value = if b < self.buckets.len() { buckets[b][k].unwrap_or(0.0) } else { *count };
                let mut with_le = base.clone();
                with_le.push(("le", le));
                w.sample("istio_request_duration_milliseconds_bucket", &with_le, value, t)?;
            }
            w.sample("istio_request_duration_milliseconds_count", &base, *count, t)?;
            w.sample("istio_request_duration_milliseconds_sum", &base, sums[k].unwrap_or(0.0), t)?;
        }
        Ok(())
    }
}
