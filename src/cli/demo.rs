//! `meshlens demo`: the web UI on a built-in world whose simulator runs live: Istio's bookinfo with `reviews` as an
//! Argo Rollout stepping its canary forward every minute, the observed traffic following.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

use crate::graph::ScrapeLabels;
use crate::server::{AppState, Clock, World};
use crate::sim::live::{self, Pace};
use crate::telemetry::{Backend, MemoryStore};

use super::serve::run_server;
use super::{DemoArgs, say};
use crate::server::listen::Limits;

pub fn run(args: &DemoArgs) -> anyhow::Result<ExitCode> {
    let pace = Pace::with_steps_of(args.step_seconds);
    let started = jiff::Timestamp::now().as_second();
    let history = live::frame(-1, started, pace).map_err(anyhow::Error::msg).context("building the demo world")?;
    let mut history_store = MemoryStore::new();
    live::append(&mut history_store, &history.samples);
    let store = Arc::new(tokio::sync::RwLock::new(history_store));
    let backend = Backend::Memory(store.clone());
    let state = AppState::new(World::new(history.inventory), backend, ScrapeLabels::default(), Clock::Live)
        .with_default_duration(60);
    run_server(
        state,
        args.addr,
        None,
        Limits::default(),
        |addr, state| {
            say(&format!(
                "meshlens demo: Istio's bookinfo, with reviews as an Argo Rollout whose canary takes a step every {} s\n\
             (setWeight 20 → 40 → 60 → promoted, then a new revision). Open http://{addr}/ and click reviews: one\n\
             workload page with every ReplicaSet and pod, and the split measured from telemetry beside the weight\n\
             the Rollout asks for. The graph page refreshes itself when you tick \"refresh\". Ctrl-C stops.\n\
             The static world from the command line: meshlens workloads | meshlens graph -n bookinfo | meshlens rollout get reviews",
                args.step_seconds,
            ));
            let shown = state.clone();
            tokio::spawn(live::run(store, started, pace, move |inventory| shown.set_world(World::new(inventory))));
        },
        std::future::pending(),
    )
}
