//! The command line: raw clap arguments, and one module per command that turns them into work.

mod capture;
mod demo;
mod doctor;
mod graph;
pub mod plugin;
mod rollout;
mod scope;
mod serve;
mod shell;
mod sim;
mod source;
mod status;
mod traffic;
mod workloads;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::terminal::{Newlines, escape};
use crate::time::{parse_duration, parse_go_duration, parse_window};

/// Istio traffic as it really flows through Argo Rollouts: every workload named as telemetry names it, a Rollout
/// as one workload, and the measured canary/stable split beside the intended weight.
#[derive(Debug, Parser)]
#[command(name = "meshlens", version, propagate_version = true)]
pub struct Cli {
    /// Log filter (error, warn, info, debug, trace, or a tracing directive).
    // kube-rs' own request tracing logs every 4xx and 5xx answer as an error: meshlens says what failed itself.
    #[arg(long, global = true, env = "MESHLENS_LOG", default_value = "warn,kube_client::client::builder=off")]
    pub log: String,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List workloads with their pods, revisions and telemetry names.
    Workloads(WorkloadsArgs),
    /// Show one workload: every ReplicaSet (revision) and every pod. NAME may be any name telemetry reports it under.
    Workload(ItemArgs),
    /// The traffic graph, with the measured split of every Rollout beside the weight it asked for.
    Graph(GraphArgs),
    /// Argo Rollouts views.
    Rollout {
        #[command(subcommand)]
        command: RolloutCommand,
    },
    /// Explain what is wrong between the objects, the routing and the telemetry (exit 1 on any error finding).
    Doctor(DoctorArgs),
    /// Write what a live cluster (--kube) and its telemetry (--prometheus) show as a snapshot directory, secrets
    /// left out: objects without env, args or last-applied annotations, and the raw samples of the window.
    Capture(CaptureArgs),
    /// Write a simulated world (objects and telemetry) as a snapshot directory.
    Sim(SimArgs),
    /// Serve the web UI and the JSON API on the chosen sources.
    Serve(ServeArgs),
    /// Serve the web UI on a built-in world: Istio's bookinfo with `reviews` as an Argo Rollout canary.
    Demo(DemoArgs),
    /// Write a shell completion script to stdout (`source <(meshlens completions bash)`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write the manual page, generated from these commands' own help, to stdout (`meshlens man > meshlens.1`).
    Man,
}

#[derive(Debug, Subcommand)]
pub enum RolloutCommand {
    /// The Argo CLI view of a Rollout: status, steps, weights, and the tree of revisions and pods.
    Get(RolloutGetArgs),
    /// Every Rollout, as `kubectl argo rollouts list rollouts`, with the measured canary share and its drift.
    List(RolloutListArgs),
    /// Wait for a Rollout to finish, as `kubectl argo rollouts status` (the command pipelines wait on): exit 0 when
    /// Healthy; exit 1 when Degraded, not found or timed out, as the Argo CLI exits, and with --max-drift when the
    /// measured canary share drifts from the weight asked for.
    Status(RolloutStatusArgs),
}

#[derive(Debug, Args)]
pub struct RolloutStatusArgs {
    pub name: String,
    /// Namespace (optional when the name is unique across namespaces).
    #[arg(short = 'n', long = "namespace", value_name = "NS")]
    pub namespace: Option<String>,
    #[command(flatten)]
    pub source: SourceArgs,
    /// Watch until Healthy or Degraded: the default with --kube; --watch=false answers once. A snapshot never
    /// changes: it answers once, and an explicit --watch=true is refused.
    #[arg(short = 'w', long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub watch: Option<bool>,
    /// How long to watch before giving up (30s, 2m, 1h30m); 0 waits for ever.
    #[arg(short = 't', long, value_name = "DURATION", default_value = "0", value_parser = parse_go_duration)]
    pub timeout: std::time::Duration,
    /// Fail when the canary's share measured over --duration is more than POINTS off the weight the Rollout asks
    /// for (needs telemetry). A watch judges a weight once it has held for the whole window.
    #[arg(long, value_name = "POINTS", value_parser = parse_points)]
    pub max_drift: Option<f64>,
    /// The window --max-drift measures the canary's share over (30s, 5m, 1h; at most 30d).
    #[arg(long, value_name = "DURATION", default_value = "1m", value_parser = parse_window)]
    pub duration: u64,
}

#[derive(Debug, Args)]
pub struct RolloutListArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// The window the canary share is measured over (30s, 5m, 1h; at most 30d).
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_window)]
    pub duration: u64,
    #[arg(short, long, value_enum, default_value = "table")]
    pub output: ListFormat,
}

/// Where objects (and later telemetry) come from.
#[derive(Debug, Clone, Args)]
pub struct SourceArgs {
    /// Read a snapshot directory (k8s/, metrics/, snapshot.yaml). Without a source, the built-in demo world.
    #[arg(long, value_name = "DIR", global = true, conflicts_with = "kube")]
    pub snapshot: Option<PathBuf>,
    /// Read objects from a live cluster (read-only): the kubeconfig's current context, or the in-cluster service
    /// account when run in a pod.
    #[arg(long, global = true)]
    pub kube: bool,
    /// With --kube: this kubeconfig file instead of KUBECONFIG or ~/.kube/config.
    #[arg(long, value_name = "FILE", global = true, requires = "kube")]
    pub kubeconfig: Option<PathBuf>,
    /// With --kube: this kubeconfig context instead of the current one.
    #[arg(long, value_name = "NAME", global = true, requires = "kube")]
    pub context: Option<String>,
    /// With --kube: the time one request to the Kubernetes API may take, its retries of 429, 503 and 504
    /// included (a watch's stream excepted).
    // 30 s: half the minute after which an API server gives up on a request itself (kube-apiserver's
    // --request-timeout), so a server that would still answer is waited for, and one that never will is not.
    #[arg(long, value_name = "DURATION", global = true, default_value = "30s", value_parser = parse_limit, requires = "kube")]
    pub request_timeout: u64,
    /// Evaluate at this time (RFC 3339 or unix seconds) instead of the snapshot's. A negative
    /// unix time takes the `=` form, `--at=-5`: `--at -5` reads `-5` as a flag.
    #[arg(long, value_name = "TIME", global = true)]
    pub at: Option<String>,
    /// Fail (exit 2) when any manifest document cannot be read, instead of warning and going on.
    #[arg(long, global = true)]
    pub strict: bool,
    /// Read telemetry from this PromQL endpoint (Prometheus, VictoriaMetrics, Thanos, Mimir; with any path prefix)
    /// instead of the snapshot's metrics.
    #[arg(long, value_name = "URL", global = true, env = "MESHLENS_PROMETHEUS")]
    pub prometheus: Option<String>,
    /// File holding a bearer token for --prometheus.
    #[arg(long, value_name = "FILE", global = true)]
    pub prometheus_token_file: Option<PathBuf>,
    /// Basic-auth user for --prometheus (password from --prometheus-password-file).
    #[arg(long, value_name = "USER", global = true)]
    pub prometheus_user: Option<String>,
    /// File holding the basic-auth password for --prometheus-user.
    #[arg(long, value_name = "FILE", global = true)]
    pub prometheus_password_file: Option<PathBuf>,
    /// Extra CA certificate (PEM) to trust for --prometheus.
    #[arg(long, value_name = "FILE", global = true)]
    pub prometheus_ca_file: Option<PathBuf>,
    /// Extra header for --prometheus, e.g. `X-Scope-OrgID: tenant` (repeatable).
    #[arg(long, value_name = "NAME: VALUE", global = true)]
    pub prometheus_header: Vec<String>,
    /// Timeout of each telemetry query.
    #[arg(long, value_name = "DURATION", global = true, default_value = "30s")]
    pub prometheus_timeout: String,
    /// Name of the label the scrape configuration puts the pod name in (`kubernetes_pod_name` in older setups).
    #[arg(long, value_name = "LABEL", global = true, default_value = "pod")]
    pub pod_label: String,
    /// Name of the label the scrape configuration puts the pod namespace in.
    #[arg(long, value_name = "LABEL", global = true, default_value = "namespace")]
    pub namespace_label: String,
    /// The Istio cluster ID of the source (`global.multiCluster.clusterName`), which its telemetry names it by,
    /// when its sidecars do not say it themselves (their ISTIO_META_CLUSTER_ID wins). Default: a snapshot's
    /// `cluster:`, else `Kubernetes`.
    #[arg(long, value_name = "ID", global = true, value_parser = parse_cluster_id)]
    pub cluster_id: Option<String>,
}

/// A cluster ID: Istio requires a DNS label-like name; it reaches PromQL only escaped.
fn parse_cluster_id(text: &str) -> Result<String, String> {
    let ok = !text.is_empty()
        && text.len() <= 253
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok { Ok(text.to_owned()) } else { Err(format!("{text:?} is not a cluster ID (letters, digits, '-', '_', '.')")) }
}

/// Which namespaces a list covers.
#[derive(Debug, Clone, Args)]
pub struct ScopeArgs {
    /// Only these namespaces (comma-separated).
    #[arg(
        short = 'n',
        long = "namespace",
        value_name = "NS",
        value_delimiter = ',',
        conflicts_with = "all_namespaces"
    )]
    pub namespaces: Vec<String>,
    /// Every namespace (the default).
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    Table,
    Json,
    /// Kiali's graph JSON.
    Kiali,
    /// Graphviz DOT.
    Dot,
    /// SVG laid out by meshlens (the web page's drawing).
    Svg,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub scope: ScopeArgs,
    #[arg(long = "type", value_enum, default_value = "workload")]
    pub graph_type: crate::graph::GraphType,
    /// The window rates are measured over (30s, 5m, 1h; at most 30d).
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_window)]
    pub duration: u64,
    #[arg(short, long, value_enum, default_value = "table")]
    pub output: GraphFormat,
    /// Also measure p95 on every edge (reads every request-duration histogram series in scope: on a large mesh,
    /// more than the rest of the graph together).
    #[arg(long)]
    pub latency: bool,
    /// Only one node and its neighbours, as Kiali's node graph: workload/NS/NAME, app/NS/NAME[/VERSION] or
    /// service/NS/NAME (the calls addressed to that Service).
    #[arg(long, value_name = "KIND/NS/NAME", conflicts_with = "namespaces")]
    pub focus: Option<crate::graph::Focus>,
    /// Which ambient-mode reports to draw: waypoints' L7, ztunnel's L4, both (total) or none (Kiali's
    /// ambientTraffic).
    #[arg(long, value_enum, default_value_t)]
    pub ambient_traffic: crate::graph::AmbientTraffic,
    /// Draw ambient waypoint proxies as nodes (Kiali's waypoints); false drops them and the L4 legs through them.
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set)]
    pub waypoints: bool,
    /// With -o kiali: the TCP bytes an edge's rate counts, from the caller's side (Kiali's rateTcp).
    #[arg(long, value_enum, default_value_t)]
    pub rate_tcp: crate::graph::render::kiali::TcpRate,
    /// With -o kiali: HTTP edges as requests, or none (Kiali's rateHttp).
    #[arg(long, value_enum, default_value_t)]
    pub rate_http: crate::graph::render::kiali::RequestRate,
    /// With -o kiali: gRPC edges as requests, or none (Kiali's rateGrpc; its message rates are not read).
    #[arg(long, value_enum, default_value_t)]
    pub rate_grpc: crate::graph::render::kiali::RequestRate,
}

#[derive(Debug, Args)]
pub struct CaptureArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// The window of telemetry to keep, ending at --at (default: now). Commands on the snapshot can look at this
    /// window or a shorter one (at most 30d).
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_window)]
    pub duration: u64,
    /// Directory to write (created; must be new or empty).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// The window traffic is judged over (30s, 5m, 1h; at most 30d).
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_window)]
    pub duration: u64,
    /// Points of share a Rollout's canary may be off its weight before it is drift.
    #[arg(long, default_value_t = 5.0, value_parser = parse_points)]
    pub threshold: f64,
    #[arg(short, long, value_enum, default_value = "text")]
    pub output: ItemFormat,
}

fn parse_points(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
        _ => Err(format!("{text:?} is not a number of points between 0 and 100")),
    }
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// With --kube: read and watch only these namespaces (comma-separated); a Role in each is then enough.
    #[arg(short = 'n', long = "namespace", value_name = "NS", value_delimiter = ',', requires = "kube")]
    pub namespaces: Vec<String>,
    /// Address to listen on (loopback unless told otherwise).
    #[arg(long, default_value = "127.0.0.1:20001")]
    pub addr: std::net::SocketAddr,
    /// Require this file's token (trimmed) as `Authorization: Bearer` or a browser sign-in at /login.
    #[arg(long, value_name = "FILE")]
    pub auth_token_file: Option<std::path::PathBuf>,
    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key-file.
    #[arg(long, value_name = "FILE", requires = "tls_key_file")]
    pub tls_cert_file: Option<std::path::PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert_file")]
    pub tls_key_file: Option<std::path::PathBuf>,
    /// Without a token, also answer requests naming this host (a DNS name the server is reached by; loopback
    /// names and IP addresses are always answered). Comma-separated or repeated.
    #[arg(long = "allow-host", value_name = "NAME", value_delimiter = ',')]
    pub allow_hosts: Vec<String>,
    /// Listen beyond loopback without --auth-token-file: anyone who reaches the address can read the mesh.
    #[arg(long)]
    pub allow_unauthenticated: bool,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// What the server allows each client (see the README for why the defaults are what they are).
#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// Connections open at once; more are closed as they arrive, but when the server is full a connection that
    /// has sent no complete request for a second is closed to make room.
    #[arg(long, value_name = "N", default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..=65_536))]
    pub max_connections: u32,
    /// Connections one client address (an IPv6 client: its /64) may hold at once. Behind a port-forward or an
    /// ingress every client shares one address: raise it to --max-connections there.
    // 64: a browser opens at most 6 connections to a host, Prometheus and the Argo analysis provider one or two,
    // so a dozen people behind one NAT fit, while one address holds an eighth of the default 512.
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=65_536))]
    pub max_connections_per_client: u32,
    /// Bytes a request's head (request line and headers) may take; a longer one is answered 431 and closed.
    // 32 KiB: what nginx allows by default (4 buffers of 8k), far above what a browser sends with its cookies.
    #[arg(long, value_name = "BYTES", default_value_t = 32 * 1024, value_parser = clap::value_parser!(u32).range(8192..=1_048_576))]
    pub max_header_bytes: u32,
    /// Time a new connection has to send the first byte of its first request.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_limit)]
    pub first_request_timeout: u64,
    /// Time a request has to send its whole head, once begun (HTTP/1).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_limit)]
    pub header_read_timeout: u64,
    /// Age at which a connection is closed (clients reconnect).
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_limit)]
    pub max_connection_age: u64,
    /// Time a TLS handshake may take.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_limit)]
    pub tls_handshake_timeout: u64,
}

/// A server limit: a duration from one second to a day.
fn parse_limit(text: &str) -> Result<u64, String> {
    parse_duration(text)
        .filter(|s| (1..=86_400).contains(s))
        .ok_or_else(|| format!("{text:?} is not a duration from 1s to 1d (30s, 5m, 1h)"))
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:20001")]
    pub addr: std::net::SocketAddr,
    /// Seconds each step of the Rollout lasts.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(i64).range(5..=3600))]
    pub step_seconds: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ItemFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct WorkloadsArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub scope: ScopeArgs,
    #[arg(short, long, value_enum, default_value = "table")]
    pub output: ListFormat,
}

/// One named object.
#[derive(Debug, Args)]
pub struct ItemArgs {
    pub name: String,
    #[command(flatten)]
    pub options: ItemOptions,
}

/// Where a named object is read from and how it is shown.
#[derive(Debug, Args)]
pub struct ItemOptions {
    /// Namespace (optional when the name is unique across namespaces).
    #[arg(short = 'n', long = "namespace", value_name = "NS")]
    pub namespace: Option<String>,
    #[command(flatten)]
    pub source: SourceArgs,
    /// The window traffic is measured over (30s, 5m, 1h; at most 30d).
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_window)]
    pub duration: u64,
    #[arg(short, long, value_enum, default_value = "text")]
    pub output: ItemFormat,
}

#[derive(Debug, Args)]
pub struct RolloutGetArgs {
    /// A Rollout's name, or `rollout NAME` or `experiment NAME` as the Argo CLI's `get` takes them (with its
    /// aliases `ro`, `rollouts`, `exp`, `experiments`).
    #[arg(value_name = "[KIND] NAME", num_args = 1..=2, required = true)]
    pub target: Vec<String>,
    #[command(flatten)]
    pub options: ItemOptions,
    /// Redraw on every change in the cluster (needs --kube), like `kubectl argo rollouts get rollout --watch`. A
    /// snapshot never changes, and the redrawn view is text: with --snapshot or -o it is refused.
    #[arg(short = 'w', long, requires = "kube", conflicts_with_all = ["snapshot", "output"])]
    pub watch: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NamingArg {
    /// Istio >= 1.22: a Rollout's pods report the Rollout name.
    Rollout,
    /// Istio < 1.22: a Rollout's pods report their ReplicaSet name.
    Replicaset,
    /// Both, as during an Istio upgrade.
    Mixed,
}

#[derive(Debug, Args)]
pub struct SimArgs {
    #[arg(long, value_enum)]
    pub scenario: crate::sim::Scenario,
    /// Seed of every random choice; the same seed gives the same world.
    #[arg(long, default_value_t = crate::sim::DEFAULT_SEED)]
    pub seed: u64,
    /// Which Istio naming generation injected the pods (default: the scenario's).
    #[arg(long, value_enum)]
    pub istio_naming: Option<NamingArg>,
    /// Number of workloads of the `scale` scenario.
    #[arg(long, default_value_t = 1000)]
    pub scale: usize,
    /// A fault to plant in bookinfo (bookinfo-canary and istio-upgrade only), for `doctor` to find.
    #[arg(long, value_enum)]
    pub fault: Option<crate::sim::Fault>,
    /// The cluster ID the simulated mesh was installed with (its sidecars' ISTIO_META_CLUSTER_ID).
    #[arg(long, value_name = "ID", default_value = "Kubernetes", value_parser = parse_cluster_id)]
    pub cluster_id: String,
    /// The moment the snapshot shows (RFC 3339 or unix seconds).
    #[arg(long, value_name = "TIME")]
    pub time: Option<String>,
    /// Directory to write (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// Writes command output to stdout. A closed pipe (`meshlens ... | head`) ends the command quietly.
pub fn out(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()?;
    Ok(())
}

/// Writes a JSON answer, indented, to stdout as it is serialised: a whole-mesh graph is tens of megabytes, never
/// held a second time as text.
pub fn out_json<T: serde::Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    serde_json::to_writer_pretty(&mut stdout, value).map_err(std::io::Error::from)?;
    stdout.write_all(b"\n")?;
    stdout.flush()?;
    Ok(())
}

/// Writes text meant for people (tables, text, DOT) to stdout, with the control characters of the names and values
/// in it shown escaped.
pub fn out_text(text: &str) -> anyhow::Result<()> {
    out(&escape(text, Newlines::Keep))
}

/// Writes a line to stderr (an error, warning, note or progress), control characters shown escaped: warnings
/// quote names from the files and clusters read.
pub fn say(line: &str) {
    eprintln!("{}", escape(line, Newlines::Keep));
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain()
        .any(|e| e.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
}

/// Runs the command; errors print as `error: ...` and exit 2 (usage or input error).
pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Workloads(args) => workloads::list(&args),
        Command::Workload(args) => workloads::show(&args),
        Command::Graph(args) => graph::run(&args),
        Command::Rollout { command: RolloutCommand::Get(args) } => rollout::get(&args),
        Command::Rollout { command: RolloutCommand::List(args) } => rollout::list(&args),
        Command::Rollout { command: RolloutCommand::Status(args) } => status::run(&args),
        Command::Doctor(args) => doctor::run(&args),
        Command::Capture(args) => capture::run(&args),
        Command::Sim(args) => sim::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Demo(args) => demo::run(&args),
        Command::Completions { shell } => shell::completions(shell),
        Command::Man => shell::man(),
    };
    match result {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            say(&format!("error: {err:#}"));
            ExitCode::from(2)
        }
    }
}
