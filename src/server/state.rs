//! What every handler reads: the loaded objects with their identity index, the telemetry backend, and the clock
//! that says what "now" is (a snapshot's time, or the wall clock for live sources).

use std::sync::{Arc, Mutex, RwLock};

use tokio::sync::Semaphore;

use crate::graph::ScrapeLabels;
use crate::telemetry::Backend;

use super::access::{Access, Sessions};
use super::cache::GraphCache;
use super::weights::WeightLog;
use super::world::World;
use crate::graph::history::WeightStep;

/// Seconds between refreshes of the graph page (its auto-refresh); live requests for "now" are rounded to it.
pub const REFRESH_STEP_S: i64 = 10;

/// The evaluation time of requests that do not give one.
#[derive(Debug, Clone, Copy)]
pub enum Clock {
    /// A snapshot: its time.
    Fixed(i64),
    /// A live source: the wall clock.
    Live,
}

impl Clock {
    /// Unix seconds of "now".
    pub fn now(self) -> i64 {
        match self {
            Clock::Fixed(at) => at,
            Clock::Live => jiff::Timestamp::now().as_second(),
        }
    }
}

/// Shared by every handler; cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    world: RwLock<Arc<World>>,
    graphs: GraphCache,
    /// Graphs computed at once, each on a blocking thread, so requests for small pages and `/healthz` stay fast.
    computing: Semaphore,
    telemetry: Backend,
    scrape_labels: ScrapeLabels,
    clock: Clock,
    default_duration_s: u64,
    /// Intended weights as worlds came and went.
    weights: Mutex<WeightLog>,
    /// Who may use the server.
    access: Access,
    sessions: Sessions,
    /// Why the world is not loaded yet (none once it is).
    loading: RwLock<Option<String>>,
}

impl AppState {
    pub fn new(world: World, telemetry: Backend, scrape_labels: ScrapeLabels, clock: Clock) -> AppState {
        let mut log = WeightLog::default();
        log.record(&world, clock.now());
        let (world, weights) = (RwLock::new(Arc::new(world)), Mutex::new(log));
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        AppState(Arc::new(Inner {
            world,
            graphs: GraphCache::default(),
            computing: Semaphore::new(cores),
            telemetry,
            scrape_labels,
            clock,
            default_duration_s: 600,
            weights,
            access: Access::default(),
            sessions: Sessions::default(),
            loading: RwLock::new(None),
        }))
    }

    /// Says the world is not loaded yet, and why (until the next [`AppState::set_world`]).
    pub fn set_loading(&self, why: String) {
        *self.0.loading.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(why);
    }

    /// Why the world is not loaded yet; none once it is.
    pub fn loading(&self) -> Option<String> {
        self.0.loading.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// Says who may use the server (see [`super::auth`]).
    pub fn with_access(mut self, access: Access) -> AppState {
        if let Some(inner) = Arc::get_mut(&mut self.0) {
            inner.access = access;
        }
        self
    }

    pub fn access(&self) -> &Access {
        &self.0.access
    }

    pub fn sessions(&self) -> &Sessions {
        &self.0.sessions
    }

    /// Sets the window of requests that do not give one (the live demo moves in minutes, not tens of them).
    pub fn with_default_duration(mut self, seconds: u64) -> AppState {
        if let Some(inner) = Arc::get_mut(&mut self.0) {
            inner.default_duration_s = seconds;
        }
        self
    }

    /// Seconds of the window of requests that do not give one.
    pub fn default_duration_s(&self) -> u64 {
        self.0.default_duration_s
    }

    /// The current world (a request keeps the one it started with).
    pub fn world(&self) -> Arc<World> {
        self.0.world.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// Replaces the world, for live sources, noting the weights it asks for.
    pub fn set_world(&self, mut world: World) {
        self.0.weights.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).record(&world, self.now());
        let mut current = self.0.world.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        world.generation = current.generation.wrapping_add(1);
        *current = Arc::new(world);
        *self.0.loading.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
    }

    pub fn graphs(&self) -> &GraphCache {
        &self.0.graphs
    }

    pub fn computing(&self) -> &Semaphore {
        &self.0.computing
    }

    /// The intended weights of a workload during `[start, end]`, as far as this server has seen them.
    pub fn weight_steps(&self, namespace: &str, name: &str, start: i64, end: i64) -> Vec<WeightStep> {
        self.0.weights.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).during(namespace, name, start, end)
    }

    /// Where telemetry comes from (an empty in-memory store when the source has none).
    pub fn telemetry(&self) -> &Backend {
        &self.0.telemetry
    }

    pub fn scrape_labels(&self) -> &ScrapeLabels {
        &self.0.scrape_labels
    }

    /// Unix seconds of "now".
    pub fn now(&self) -> i64 {
        self.0.clock.now()
    }

    /// The evaluation time of a request that gives none: a snapshot's time, or now rounded down to
    /// [`REFRESH_STEP_S`] on a live source.
    pub fn request_time(&self) -> i64 {
        match self.0.clock {
            Clock::Fixed(at) => at,
            Clock::Live => {
                let now = self.0.clock.now();
                now - now.rem_euclid(REFRESH_STEP_S)
            }
        }
    }
}
