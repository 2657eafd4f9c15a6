//! `meshlens serve`: the web UI and JSON API over the chosen sources.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;

use axum_server::tls_rustls::RustlsConfig;

use crate::server::access::Access;
use crate::server::listen::{Limits, serve};
use crate::server::{AppState, Clock, World};

use super::source::{check_namespaces, cluster_options, load, mesh_of_live, telemetry};
use super::{LimitArgs, ServeArgs, SourceArgs, say};
use crate::inventory::live::LiveObjects;
use crate::inventory::{DEFAULT_CLUSTER, Inventory};
use crate::k8s::live::{self, Change, LiveError};
use crate::k8s::load::LoadReport;
use crate::server::live::LiveWorld;

/// The cluster's changes as its watches deliver them (closed: the watches ended).
type Changes = tokio::sync::mpsc::UnboundedReceiver<Change>;

/// A new world at most this often: pages refresh every 10 s, and each new world costs a copy of every object.
const WORLD_INTERVAL: Duration = Duration::from_secs(1);

pub fn run(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let tls = match (&args.tls_cert_file, &args.tls_key_file) {
        (Some(cert), Some(key)) => Some(Tls { cert: cert.clone(), key: key.clone() }),
        _ => None,
    };
    let access = access(args, tls.is_some())?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let listening =
        move |addr, _: &AppState| say(&format!("meshlens is serving on {scheme}://{addr}/ (Ctrl-C to stop)"));
    let limits = limits(&args.limits);
    if !args.source.kube {
        let mesh = load(&args.source, &args.namespaces)?;
        let telemetry = telemetry(&mesh, &args.source)?;
        // A live telemetry store without a fixed time answers for "now"; a snapshot for its own time.
        let clock = if args.source.prometheus.is_some() && mesh.time.is_none() {
            Clock::Live
        } else {
            Clock::Fixed(telemetry.at)
        };
        let world = World { inventory: mesh.inventory, index: mesh.index, generation: 0 };
        let state = AppState::new(world, telemetry.backend, telemetry.scrape_labels, clock).with_access(access);
        return run_server(state, args.addr, tls, limits, listening, std::future::pending());
    }
    check_namespaces(&args.namespaces)?;
    // The server listens at once; the world comes with the cluster's first listing (see /readyz).
    let nothing = mesh_of_live(Inventory::new(DEFAULT_CLUSTER, []), None, LoadReport::default(), &[], &args.source)?;
    let telemetry = telemetry(&nothing, &args.source)?;
    let clock = if nothing.time.is_none() { Clock::Live } else { Clock::Fixed(telemetry.at) };
    let state = AppState::new(World::empty(), telemetry.backend, telemetry.scrape_labels, clock).with_access(access);
    state.set_loading("connecting to the Kubernetes API".to_owned());
    // The watches run on their own runtime's thread while the server runs; a lasting failure ends the server.
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    let (failed, failure) = tokio::sync::oneshot::channel();
    let following = follow_cluster(args.source.clone(), args.namespaces.clone(), state.clone());
    runtime.spawn(async move {
        if let Err(e) = following.await {
            let _ = failed.send(e);
        }
    });
    let fatal = async move {
        match failure.await {
            Ok(error) => error,
            Err(_) => std::future::pending().await,
        }
    };
    let served = run_server(state, args.addr, tls, limits, listening, fatal);
    drop(runtime);
    served
}

/// The server limits the flags set.
fn limits(args: &LimitArgs) -> Limits {
    Limits {
        max_connections: args.max_connections as usize,
        max_connections_per_client: args.max_connections_per_client as usize,
        max_header_bytes: args.max_header_bytes as usize,
        first_request_timeout: Duration::from_secs(args.first_request_timeout),
        header_read_timeout: Duration::from_secs(args.header_read_timeout),
        max_connection_age: Duration::from_secs(args.max_connection_age),
        tls_handshake_timeout: Duration::from_secs(args.tls_handshake_timeout),
    }
}

/// Who may use the server: the token, or without one the hosts it answers; a server reachable beyond loopback
/// without a token has to be asked for.
fn access(args: &ServeArgs, tls: bool) -> anyhow::Result<Access> {
    let token = match &args.auth_token_file {
        Some(file) => {
            let token = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
            let token = token.trim();
            if token.len() < 16 {
                anyhow::bail!("the token in {} is shorter than 16 characters: make a long random one", file.display());
            }
            Some(token.to_owned())
        }
        None if !args.addr.ip().is_loopback() && !args.allow_unauthenticated => anyhow::bail!(
            "listening on {} without --auth-token-file would let anyone who reaches it read the mesh: give a token, or --allow-unauthenticated if that is meant",
            args.addr
        ),
        None => None,
    };
    let hosts = args.allow_hosts.iter().map(|h| h.trim().trim_end_matches('.').to_ascii_lowercase()).collect();
    Ok(Access { token, hosts, tls })
}

/// Watches the cluster and serves its world: the first once every kind is listed (the watches' own LIST, so the
/// cluster is listed once at start), then a new one as it changes. Until then `/readyz` says what it waits for;
/// failures that may pass (no answer, 5xx) are retried, a lasting one (a kind the account may not list, no usable
/// kubeconfig, `--strict` and an unreadable object) is returned and ends the server.
async fn follow_cluster(source: SourceArgs, namespaces: Vec<String>, state: AppState) -> anyhow::Result<()> {
    let (send, mut changes) = tokio::sync::mpsc::unbounded_channel();
    let retrying = |e: &LiveError| {
        say(&format!("warning: {e}; trying again"));
        state.set_loading(format!("{e}; trying again"));
        true
    };
    let watched = live::watch_when_reachable(&cluster_options(&source), &namespaces, send, retrying).await?;
    state.set_loading("listing the cluster".to_owned());
    let mut objects = LiveObjects::new(super::source::given_cluster(&source), &watched);
    objects.first_listing(&mut changes, retrying).await?;
    let report = objects.take_report();
    let mut live = LiveWorld::new(objects);
    let world = live.world();
    let mesh = mesh_of_live(world.inventory, Some(world.index), report, &watched.notes, &source)?;
    state.set_world(World { inventory: mesh.inventory, index: mesh.index, generation: 0 });
    keep_current(live, changes, state).await;
    Ok(())
}

/// Swaps in a new world when the cluster changes (at most one a [`WORLD_INTERVAL`]), so pages and the API follow
/// it without a restart and without listing the cluster per request.
async fn keep_current(mut live: LiveWorld, mut changes: Changes, state: AppState) {
    let mut earliest = tokio::time::Instant::now();
    loop {
        match live.objects_mut().next_changes(&mut changes, earliest).await {
            Ok(true) => state.set_world(live.world()),
            Ok(false) => return say("warning: watching the cluster stopped, pages show it as last read"),
            Err(e) => return say(&format!("warning: watching the cluster stopped, pages show it as last read: {e}")),
        }
        earliest = tokio::time::Instant::now() + WORLD_INTERVAL;
    }
}

/// A certificate chain and its key, PEM files.
pub struct Tls {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Serves `state` on `addr` under `limits` until the process ends or `fatal` gives an error; `listening` runs
/// inside the runtime once the address is bound (to say where, and to start what runs beside the server).
pub fn run_server(
    state: AppState,
    addr: SocketAddr,
    tls: Option<Tls>,
    limits: Limits,
    listening: impl FnOnce(SocketAddr, &AppState),
    fatal: impl Future<Output = anyhow::Error>,
) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(async {
        let tls = match tls {
            None => None,
            Some(Tls { cert, key }) => Some(RustlsConfig::from_pem_file(&cert, &key).await.with_context(|| {
                format!("reading the TLS certificate {} and key {}", cert.display(), key.display())
            })?),
        };
        let listener = std::net::TcpListener::bind(addr).with_context(|| format!("listening on {addr}"))?;
        listener.set_nonblocking(true)?;
        listening(listener.local_addr()?, &state);
        tokio::select! {
            served = serve(state, listener, tls, limits) => served.context("serving"),
            error = fatal => Err(error),
        }
    })?;
    Ok(ExitCode::SUCCESS)
}
