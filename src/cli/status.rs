//! `meshlens rollout status NAME`: waits on a Rollout as `kubectl argo rollouts status` does, prints the same
//! lines and ends as it ends. Its failures exit 1, written `Error: ...`, as the Argo CLI's do: the one command
//! where meshlens follows another tool's exit codes rather than its own 2 for bad input, because pipelines written
//! for the Argo CLI read them. Arguments that do not fit together are still refused with meshlens' 2.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::bail;
use tokio::time::Instant;

use crate::inventory::Inventory;
use crate::inventory::live::LiveObjects;
use crate::k8s::Kind;
use crate::k8s::live::{self, LiveError};
use crate::k8s::load::LoadReport;
use crate::rollout::RolloutInfo;
use crate::rollout::status::{CanaryDrift, StatusFailure, is_final, once_line, verdict, watch_line};
use crate::views::rollouts::canary_drift;

use super::rollout::{Lookup, argo_view, rollout_id};
use super::source::{check_namespaces, cluster_options, load, mesh_of_live};
use super::traffic::{measure, measure_now};
use super::{RolloutStatusArgs, out_text, say};

/// How often a watch measures the split again while a weight holds.
const REMEASURE: Duration = Duration::from_secs(15);

pub fn run(args: &RolloutStatusArgs) -> anyhow::Result<ExitCode> {
    let live = args.source.kube;
    if args.watch == Some(true) && !live {
        bail!("--watch needs --kube: a snapshot (or the demo world) never changes, and is answered once");
    }
    if args.max_drift.is_some() && live && args.source.prometheus.is_none() {
        bail!("--max-drift measures the split: give --prometheus with --kube");
    }
    let outcome = if live { follow(args, args.watch.unwrap_or(true)) } else { once(args) };
    match outcome {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(err) => {
            say(&format!("Error: {err:#}"));
            Ok(ExitCode::FAILURE)
        }
    }
}

/// The Argo view of the Rollout, a missing one in the Argo CLI's words.
fn find(inv: &Inventory, args: &RolloutStatusArgs) -> anyhow::Result<RolloutInfo> {
    match argo_view(inv, &args.name, args.namespace.as_deref()) {
        Ok(info) => Ok(info),
        Err(Lookup::Missing { .. }) => Err(StatusFailure::NotFound(args.name.clone()).into()),
        Err(other) => Err(other.into()),
    }
}

/// A snapshot or the demo world: one answer.
fn once(args: &RolloutStatusArgs) -> anyhow::Result<()> {
    let mesh = load(&args.source, args.namespace.as_slice())?;
    let info = find(&mesh.inventory, args)?;
    out_text(&format!("{}\n", once_line(&info)))?;
    verdict(&info, false)?;
    let Some(max) = args.max_drift else { return Ok(()) };
    if !mesh.has_telemetry(&args.source) {
        bail!("--max-drift measures the split, and this snapshot holds no telemetry");
    }
    let measured = measure(&mesh, &args.source, &rollout_id(&mesh, &info), args.duration)?;
    judge(canary_drift(&info, measured.as_ref().map(|m| &m.node)), max)
}

/// Prints a measured drift and fails beyond `max`; without a measured share there is nothing to judge.
fn judge(drift: Option<CanaryDrift>, max: f64) -> anyhow::Result<()> {
    match drift {
        Some(drift) => {
            out_text(&format!("{}\n", drift.line()))?;
            Ok(drift.judge(max)?)
        }
        None => {
            say("note: no canary share was measured to hold against --max-drift");
            Ok(())
        }
    }
}

/// A live cluster: answers once, or watches until Healthy, Degraded or the timeout. Unlike the Argo CLI's, whose
/// timeout starts once its caches are synced, `--timeout` counts from the start: a pipeline step ends by it even
/// when the API server never answers.
fn follow(args: &RolloutStatusArgs, watch: bool) -> anyhow::Result<()> {
    let namespaces = Vec::from_iter(args.namespace.clone());
    check_namespaces(&namespaces)?;
    let deadline = (watch && !args.timeout.is_zero()).then(|| Instant::now() + args.timeout);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let following = follow_until(args, &namespaces, watch, deadline);
        match deadline {
            Some(deadline) => match tokio::time::timeout_at(deadline, following).await {
                Ok(outcome) => outcome,
                Err(_) => Err(StatusFailure::TimedOut.into()),
            },
            None => following.await,
        }
    })
}

/// [`follow`] within its deadline. A watch waits through failures that may pass (each said once), as its deadline
/// bounds the wait; a single answer fails on the first.
async fn follow_until(
    args: &RolloutStatusArgs,
    namespaces: &[String],
    watch: bool,
    deadline: Option<Instant>,
) -> anyhow::Result<()> {
    let mut said = String::new();
    let mut retrying = |e: &LiveError| {
        let line = format!("note: {e}; trying again{}", if deadline.is_some() { " until --timeout" } else { "" });
        if watch && line != said {
            say(&line);
            said = line;
        }
        watch
    };
    let (send, mut changes) = tokio::sync::mpsc::unbounded_channel();
    let watched = live::watch_when_reachable(&cluster_options(&args.source), namespaces, send, &mut retrying).await?;
    let mut objects = LiveObjects::new(super::source::given_cluster(&args.source), &watched);
    objects.first_listing(&mut changes, &mut retrying).await?;
    let mut info = find(&objects.inventory(), args)?;
    if !watch {
        out_text(&format!("{}\n", once_line(&info)))?;
        verdict(&info, false)?;
        return match args.max_drift {
            Some(max) => judge(measure_live(&objects, &info, args).await?, max),
            None => Ok(()),
        };
    }
    let mut drift = args.max_drift.map(|max| DriftWatch::new(max, Duration::from_secs(args.duration)));
    let mut shown = String::new();
    loop {
        let line = watch_line(&info);
        if line != shown {
            out_text(&format!("{line}\n"))?;
            shown = line;
        }
        if is_final(&info) {
            return Ok(verdict(&info, true)?);
        }
        if let Some(drift) = &mut drift
            && drift.due(&info)
        {
            let measured = measure_live(&objects, &info, args).await?;
            drift.judge(&info, measured)?;
        }
        let wake = drift.as_ref().map(|d| d.next_due);
        tokio::select! {
            more = objects.next_changes(&mut changes, Instant::now()) => {
                if !more? {
                    bail!("the watch of the cluster ended");
                }
            }
            () = sleep_until(wake) => {}
        }
        // A Rollout deleted while watched is waited for, as the Argo CLI's watch does.
        if let Ok(now) = argo_view(&objects.inventory(), &args.name, Some(&info.namespace)) {
            info = now;
        }
    }
}

/// Sleeps until `when`; for ever without one.
async fn sleep_until(when: Option<Instant>) {
    match when {
        Some(when) => tokio::time::sleep_until(when).await,
        None => std::future::pending().await,
    }
}

/// Measures the Rollout's canary drift on the objects a watch holds now.
async fn measure_live(
    objects: &LiveObjects,
    info: &RolloutInfo,
    args: &RolloutStatusArgs,
) -> anyhow::Result<Option<CanaryDrift>> {
    let inventory = objects.namespace_inventory(&info.namespace).unwrap_or_else(|| objects.inventory());
    let mesh = mesh_of_live(inventory, None, LoadReport::default(), &[], &args.source)?;
    let measured = measure_now(&mesh, &args.source, &rollout_id(&mesh, info), args.duration).await?;
    Ok(canary_drift(info, measured.as_ref().map(|m| &m.node)))
}

/// When a watch holds the measured split against `--max-drift`: a weight is judged once the watch has seen it hold
/// for the whole window, so that the share measured is that weight's alone, then again every [`REMEASURE`].
struct DriftWatch {
    max: f64,
    window: Duration,
    /// The step and weight last seen, and since when.
    holding: Option<(Option<i32>, Option<i32>)>,
    next_due: Instant,
    /// Whether the drift of the weight held was printed.
    printed: bool,
}

impl DriftWatch {
    fn new(max: f64, window: Duration) -> DriftWatch {
        DriftWatch { max, window, holding: None, next_due: Instant::now() + window, printed: false }
    }

    /// Whether to measure now; a new step or weight starts the wait for a whole window again.
    fn due(&mut self, info: &RolloutInfo) -> bool {
        let now = Instant::now();
        let weight = Some((info.step, info.set_weight));
        if self.holding != weight {
            self.holding = weight;
            self.next_due = now + self.window;
            self.printed = false;
        }
        now >= self.next_due
    }

    /// Judges a measurement: the first of a weight is printed, and any beyond the limit ends the watch.
    fn judge(&mut self, info: &RolloutInfo, drift: Option<CanaryDrift>) -> anyhow::Result<()> {
        self.next_due = Instant::now() + REMEASURE;
        let Some(drift) = drift else { return Ok(()) };
        if !self.printed {
            out_text(&format!("{}\n", drift.line()))?;
            self.printed = true;
        }
        drift.judge(self.max).map_err(|failure| {
            let at = info.step.map(|s| format!(" at step {s}")).unwrap_or_default();
            anyhow::Error::new(failure).context(format!("{} {:?}{at}", Kind::Rollout, info.name))
        })
    }
}
