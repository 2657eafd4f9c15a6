//! `meshlens serve`: the web UI and JSON API over the chosen sources.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;

use axum_server::tls_rustls::RustlsConfig;

use crate::server::auth::Access;
use crate::server::listen::{Limits, serve};
use crate::server::{AppState, Clock, World};

use super::source::{Mesh, cluster_options, load, mesh_of_live, telemetry};
use super::{ServeArgs, say};
use crate::inventory::DEFAULT_CLUSTER;
use crate::inventory::live::LiveObjects;
use crate::k8s::live::{self, Change};
use crate::server::live::LiveWorld;

/// The cluster's changes as its watches deliver them (closed: the watches ended).
type Changes = tokio::sync::mpsc::UnboundedReceiver<Change>;

/// A new world at most this often: pages refresh every 10 s, and each new world costs a copy of every object.
const WORLD_INTERVAL: Duration = Duration::from_secs(1);

pub fn run(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let (mesh, cluster) = if args.source.kube {
        let (mesh, following) = follow_cluster(args)?;
        (mesh, Some(following))
    } else {
        (load(&args.source, &args.namespaces)?, None)
    };
    let telemetry = telemetry(&mesh, &args.source)?;
    // A live telemetry store without a fixed time answers for "now"; a snapshot for its own time.
    let live = args.source.prometheus.is_some() || args.source.kube;
    let clock = if live && mesh.time.is_none() { Clock::Live } else { Clock::Fixed(telemetry.at) };
    let world = World { inventory: mesh.inventory, index: mesh.index, generation: 0 };
    let tls = match (&args.tls_cert_file, &args.tls_key_file) {
        (Some(cert), Some(key)) => Some(Tls { cert: cert.clone(), key: key.clone() }),
        _ => None,
    };
    let access = access(args, tls.is_some())?;
    let state = AppState::new(world, telemetry.backend, telemetry.scrape_labels, clock).with_access(access);
    let scheme = if tls.is_some() { "https" } else { "http" };
    // The watch keeps running on its own runtime's thread while the server runs.
    let _watching = cluster.map(|Following { runtime, live, changes }| {
        runtime.spawn(keep_current(live, changes, state.clone()));
        runtime
    });
    let limits = Limits {
        max_connections: args.limits.max_connections as usize,
        first_request_timeout: Duration::from_secs(args.limits.first_request_timeout),
        header_read_timeout: Duration::from_secs(args.limits.header_read_timeout),
        max_connection_age: Duration::from_secs(args.limits.max_connection_age),
        tls_handshake_timeout: Duration::from_secs(args.limits.tls_handshake_timeout),
    };
    run_server(state, args.addr, tls, limits, move |addr, _| {
        say(&format!("meshlens is serving on {scheme}://{addr}/ (Ctrl-C to stop)"));
    })
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

/// A cluster being watched: the runtime its watches run on, its world and the changes still to apply.
struct Following {
    runtime: tokio::runtime::Runtime,
    live: LiveWorld,
    changes: Changes,
}

/// Starts watching the cluster and waits until every kind is listed, which gives the first world: the watches'
/// own LIST, so the cluster is listed once at start. An error before that (a kind the account may not list, an
/// unreachable server) ends the command.
fn follow_cluster(args: &ServeArgs) -> anyhow::Result<(Mesh, Following)> {
    super::source::check_namespaces(&args.namespaces)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    let (send, mut changes) = tokio::sync::mpsc::unbounded_channel();
    let options = cluster_options(&args.source);
    let watched =
        runtime.block_on(async { live::watch(&live::connect(&options).await?, &args.namespaces, send).await })?;
    let mut objects = LiveObjects::new(DEFAULT_CLUSTER, &watched);
    while !objects.ready() {
        match runtime.block_on(changes.recv()) {
            Some(change) => objects.apply(change)?,
            None => anyhow::bail!("watching the cluster ended before its first read"),
        }
    }
    let report = objects.take_report();
    let mut live = LiveWorld::new(objects);
    let world = live.world();
    let mesh = mesh_of_live(world.inventory, Some(world.index), report, &watched.notes, &args.source)?;
    Ok((mesh, Following { runtime, live, changes }))
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

/// Serves `state` on `addr` under `limits` until the process ends; `listening` runs inside the runtime once the
/// address is bound (to say where, and to start what runs beside the server).
pub fn run_server(
    state: AppState,
    addr: SocketAddr,
    tls: Option<Tls>,
    limits: Limits,
    listening: impl FnOnce(SocketAddr, &AppState),
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
        serve(state, listener, tls, limits).await.context("serving")
    })?;
    Ok(ExitCode::SUCCESS)
}
