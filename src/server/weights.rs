//! What each Rollout asked for over time, as a live source saw it: objects only carry the weight of now, so the
//! server notes every change as it swaps in a new world, and charts the intended weight as steps.

use std::collections::BTreeMap;

use crate::graph::history::{IntendedWeight, WeightStep, intended};

use super::world::World;

/// Weight steps by workload `(namespace, name)`, oldest first.
#[derive(Debug, Default)]
pub struct WeightLog(BTreeMap<(String, String), Vec<WeightStep>>);

impl WeightLog {
    /// Notes the weights of every workload with revisions in `world` at `time`, where they changed.
    pub fn record(&mut self, world: &World, time: i64) {
        for w in world.index.workloads().iter().filter(|w| w.has_revisions()) {
            let revisions: Vec<IntendedWeight> = intended(&world.inventory, w)
                .into_iter()
                .map(|(replica_set, role, intended_weight)| IntendedWeight { replica_set, role, intended_weight })
                .collect();
            let steps = self.0.entry((w.id.namespace.clone(), w.id.name.clone())).or_default();
            if steps.last().is_none_or(|last| last.revisions != revisions) {
                steps.push(WeightStep { since: time, revisions });
            }
        }
    }

    /// The steps in effect during `[start, end]`: the one in force at `start`, and every later one.
    pub fn during(&self, namespace: &str, name: &str, start: i64, end: i64) -> Vec<WeightStep> {
        let Some(steps) = self.0.get(&(namespace.to_owned(), name.to_owned())) else { return Vec::new() };
        let first = steps.partition_point(|s| s.since <= start).saturating_sub(1);
        steps.iter().skip(first).filter(|s| s.since <= end).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::TrafficRole;
    use crate::sim::live::{Pace, frame};

    #[test]
    fn steps_are_noted_when_the_weights_change_and_read_back_by_window() {
        let pace = Pace::default();
        let mut log = WeightLog::default();
        for k in 0..3 {
            let world = World::new(frame(k, 0, pace).unwrap().inventory);
            log.record(&world, k * 60);
            log.record(&world, k * 60 + 30);
        }
        let canary = |s: &WeightStep| {
            s.revisions.iter().find(|r| r.role == TrafficRole::Canary).map(|r| r.intended_weight).unwrap_or(0.0)
        };
        let all = log.during("bookinfo", "reviews", 0, 1_000);
        let seen: Vec<(i64, f64)> = all.iter().map(|s| (s.since, canary(s))).collect();
        assert_eq!(seen, [(0, 0.2), (60, 0.4), (120, 0.6)], "one step per change");
        let late = log.during("bookinfo", "reviews", 90, 1_000);
        assert_eq!(
            late.iter().map(|s| s.since).collect::<Vec<_>>(),
            [60, 120],
            "the step in force at the start, then later"
        );
        assert!(log.during("bookinfo", "nope", 0, 1_000).is_empty());
    }
}
