//! The live demo: the bookinfo canary advancing on the wall clock. Every frame the reviews Rollout takes its next
//! step (setWeight 20 → 40 → 60, then promotion to 100, then a new revision starts at 20); the objects are swapped in
//! and the frame's telemetry is appended to the in-memory store sample by sample as its time comes, so the observed
//! split follows the weights the way a scraped mesh would.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::RwLock;

use meshlens_engine::inventory::Inventory;
use meshlens_telemetry::MemoryStore;
use meshlens_telemetry::openmetrics;

use super::scenarios::bookinfo::Progress;
use super::{DEFAULT_SEED, World, bookinfo_frame};

/// The canary weights of one cycle; 100 is the promotion.
const WEIGHTS: [u32; 4] = [20, 40, 60, 100];

/// How the demo moves.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// Seconds each step lasts.
    pub frame_s: i64,
    /// Seconds between samples (the scrape interval).
    pub step_s: i64,
    /// Seconds of history (at the first step) simulated before the start, so graphs are never empty.
    pub history_s: i64,
}

impl Pace {
    /// Steps of `frame_s` seconds, scraped about six times each (at most every 5 s).
    pub fn with_steps_of(frame_s: i64) -> Pace {
        Pace { frame_s, step_s: (frame_s / 6).clamp(1, 5), history_s: 600 }
    }
}

impl Default for Pace {
    fn default() -> Pace {
        Pace::with_steps_of(60)
    }
}

/// The Rollout's progress in frame `k` (0 is the first after the start).
pub fn progress(k: i64, pace: Pace) -> Progress {
    let k = k.max(0);
    let cycle = u32::try_from(k / WEIGHTS.len() as i64).unwrap_or(u32::MAX);
    let step = (k % WEIGHTS.len() as i64) as usize;
    // The canary's pods started with its cycle.
    Progress { cycle, canary_weight: WEIGHTS[step], canary_age_s: (step as i64 + 1) * pace.frame_s }
}

/// One sample to append when its time comes.
pub struct TimedSample {
    pub metric: String,
    pub labels: Vec<(String, String)>,
    pub t_ms: i64,
    pub value: f64,
}

/// One frame: its objects, and its samples in time order.
pub struct Frame {
    pub inventory: Inventory,
    pub samples: Vec<TimedSample>,
}

/// Builds frame `k` of a demo that started at `started` (unix seconds); frame -1 is the history before it.
pub fn frame(k: i64, started: i64, pace: Pace) -> Result<Frame, String> {
    let (start, end, progress) = if k < 0 {
        (
            started - pace.history_s,
            started,
            Progress { canary_age_s: pace.history_s + pace.frame_s, ..progress(0, pace) },
        )
    } else {
        (started + k * pace.frame_s, started + (k + 1) * pace.frame_s, progress(k, pace))
    };
    let time = jiff::Timestamp::from_second(end).map_err(|e| e.to_string())?;
    let world: World = bookinfo_frame(DEFAULT_SEED, time, progress, start, pace.step_s);
    let (inventory, _) = world.inventory().map_err(|e| e.to_string())?;
    let text = world.write_metrics(Vec::new()).map_err(|e| e.to_string())?;
    let mut samples = Vec::new();
    openmetrics::parse(&text[..], |s| {
        if let Some(t) = s.timestamp {
            let labels = s.labels.iter().map(|(k, v)| ((*k).to_owned(), v.to_string())).collect();
            samples.push(TimedSample {
                metric: s.name.to_owned(),
                labels,
                t_ms: (t * 1000.0).round() as i64,
                value: s.value,
            });
        }
    })
    .map_err(|e| e.to_string())?;
    samples.sort_by_key(|s| s.t_ms);
    Ok(Frame { inventory, samples })
}

/// Appends `samples` with a time at or before `now_ms` to `store`; returns how many.
pub async fn append_due(store: &RwLock<MemoryStore>, samples: &[TimedSample], now_ms: i64) -> usize {
    let due = samples.partition_point(|s| s.t_ms <= now_ms);
    append(&mut *store.write().await, &samples[..due]);
    due
}

/// Appends `samples` to `store`.
pub fn append(store: &mut MemoryStore, samples: &[TimedSample]) {
    for s in samples {
        store.append(&s.metric, s.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())), s.t_ms, s.value);
    }
}

/// Runs the demo forever from `started` (its history, frame -1, already fed): one frame per `pace.frame_s`, handing
/// every frame's objects to `show` and feeding its samples into `store` as the wall clock reaches them.
pub async fn run(store: Arc<RwLock<MemoryStore>>, started: i64, pace: Pace, show: impl Fn(Inventory)) {
    for k in 0.. {
        let frame = match frame(k, started, pace) {
            Ok(frame) => frame,
            Err(e) => {
                tracing::error!(frame = k, error = %e, "the live demo could not build its next step; it stops here");
                return;
            }
        };
        show(frame.inventory);
        let mut fed = 0;
        while fed < frame.samples.len() {
            let now_ms = jiff::Timestamp::now().as_millisecond();
            fed += append_due(&store, &frame.samples[fed..], now_ms).await;
            if fed < frame.samples.len() {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rollout_steps_then_starts_a_new_revision() {
        let pace = Pace::default();
        let weights: Vec<(u32, u32)> = (0..6).map(|k| progress(k, pace)).map(|p| (p.cycle, p.canary_weight)).collect();
        assert_eq!(weights, [(0, 20), (0, 40), (0, 60), (0, 100), (1, 20), (1, 40)]);
    }
}
