//! `meshlens serve`: the web UI and JSON API over the chosen sources.

use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::Context;

use crate::server::{AppState, Clock, World, serve};

use super::ServeArgs;
use super::source::{load, telemetry};

pub fn run(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let mesh = load(&args.source)?;
    let telemetry = telemetry(&mesh, &args.source)?;
    // A live telemetry store without a fixed time answers for "now"; a snapshot for its own time.
    let clock =
        if args.source.prometheus.is_some() && mesh.time.is_none() { Clock::Live } else { Clock::Fixed(telemetry.at) };
    let world = World { inventory: mesh.inventory, index: mesh.index };
    let mut state = AppState::new(world, telemetry.backend, telemetry.scrape_labels, clock);
    if let Some(file) = &args.auth_token_file {
        let token = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        let token = token.trim();
        if token.len() < 16 {
            anyhow::bail!("the token in {} is shorter than 16 characters: make a long random one", file.display());
        }
        state = state.with_auth_token(token.to_owned());
    }
    run_server(state, args.addr, |addr, _| eprintln!("meshlens is serving on http://{addr}/ (Ctrl-C to stop)"))
}

/// Serves `state` on `addr` until the process ends; `listening` runs inside the runtime once the address is bound
/// (to say where, and to start what runs beside the server).
pub fn run_server(
    state: AppState,
    addr: SocketAddr,
    listening: impl FnOnce(SocketAddr, &AppState),
) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("listening on {addr}"))?;
        listening(listener.local_addr()?, &state);
        serve(state, listener).await.context("serving")
    })?;
    Ok(ExitCode::SUCCESS)
}
