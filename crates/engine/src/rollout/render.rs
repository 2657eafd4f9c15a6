//! Prints a [`RolloutInfo`] exactly as `kubectl argo rollouts get rollout --no-color` does, so users recognise it.

use std::fmt::Write;

use crate::identity::roles_text;
use crate::terminal::table::{self, render};
use crate::time::human_duration;

use super::info::{AnalysisRunInfo, ExperimentInfo, ImageInfo, ReplicaSetInfo, RolloutInfo, Strategy};
use meshlens_k8s::Kind;

const ICON_ROLLOUT: &str = "⟳";
const ICON_REVISION: &str = "#";
const ICON_REPLICA_SET: &str = "⧉";
const ICON_POD: &str = "□";
const ICON_EXPERIMENT: &str = "Σ";
const ICON_ANALYSIS: &str = "α";
const ICON_JOB: &str = "⊞";

/// The header and tree. Ages are relative to `now`.
pub fn render_rollout(info: &RolloutInfo, now: jiff::Timestamp) -> String {
    render_rollout_with_ages(info, now, &age_since(now))
}

/// [`render_rollout`] with the AGE column computed by `age` (tests compare with goldens taken at another time).
pub fn render_rollout_with_ages(
    info: &RolloutInfo,
    now: jiff::Timestamp,
    age: &dyn Fn(Option<jiff::Timestamp>) -> String,
) -> String {
    let mut out = String::new();
    let mut field = |label: &str, value: &str| table::field(&mut out, label, value);
    field("Name:", &info.name);
    field("Namespace:", &info.namespace);
    field("Status:", &format!("{} {}", rollout_icon(&info.phase), info.phase));
    if !info.message.is_empty() {
        field("Message:", &info.message);
    }
    field("Strategy:", info.strategy.as_str());
    if info.strategy == Strategy::Canary {
        let step = match (info.step, info.steps) {
            (Some(step), Some(steps)) => format!("{step}/{steps}"),
            _ => String::new(),
        };
        field("  Step:", &step);
        field("  SetWeight:", &info.set_weight.map(|w| w.to_string()).unwrap_or_default());
        field("  ActualWeight:", &info.actual_weight.map(|w| w.to_string()).unwrap_or_default());
    }
    for (i, image) in info.images.iter().enumerate() {
        field(if i == 0 { "Images:" } else { "" }, &image_text(image));
    }
    out.push_str("Replicas:\n");
    let r = &info.replicas;
    for (label, value) in [("  Desired:", r.desired), ("  Current:", r.current), ("  Updated:", r.updated)]
        .into_iter()
        .chain([("  Ready:", r.ready), ("  Available:", r.available)])
    {
        table::field(&mut out, label, value);
    }
    out.push('\n');
    out.push_str(&tree(info, now, age));
    out
}

/// An Experiment as `kubectl argo rollouts get experiment --no-color` prints it: a header, then its tree. Ages are
/// computed by `age`.
pub fn render_experiment(
    exp: &ExperimentInfo,
    namespace: &str,
    images: &[ImageInfo],
    now: jiff::Timestamp,
    age: &dyn Fn(Option<jiff::Timestamp>) -> String,
) -> String {
    let mut out = String::new();
    let mut field = |label: &str, value: &str| table::field(&mut out, label, value);
    field("Name:", &exp.name);
    field("Namespace:", namespace);
    field("Status:", &format!("{} {}", analysis_icon(&exp.status), exp.status));
    if !exp.message.is_empty() {
        field("Message:", &exp.message);
    }
    for (i, image) in images.iter().enumerate() {
        field(if i == 0 { "Images:" } else { "" }, &image_text(image));
    }
    out.push('\n');
    let mut tree = Tree::new(now, age);
    tree.experiment(exp, "", "");
    out.push_str(&render(&tree.rows));
    out
}

/// The AGE column as the Argo CLI prints it: the time since `created`, relative to `now`.
pub fn age_since(now: jiff::Timestamp) -> impl Fn(Option<jiff::Timestamp>) -> String {
    move |created| created.map(|c| human_duration(now.duration_since(c).as_secs())).unwrap_or_default()
}

fn image_text(image: &ImageInfo) -> String {
    if image.tags.is_empty() { image.image.clone() } else { format!("{} ({})", image.image, image.tags.join(", ")) }
}

struct Tree<'a> {
    now: jiff::Timestamp,
    age: &'a dyn Fn(Option<jiff::Timestamp>) -> String,
    rows: Vec<Vec<String>>,
}

impl<'a> Tree<'a> {
    /// A tree with the column headers only.
    fn new(now: jiff::Timestamp, age: &'a dyn Fn(Option<jiff::Timestamp>) -> String) -> Tree<'a> {
        Tree { now, age, rows: vec![["NAME", "KIND", "STATUS", "AGE", "INFO"].map(String::from).to_vec()] }
    }

    fn row(
        &mut self,
        name: String,
        kind: Kind,
        icon: &str,
        status: &str,
        created: Option<jiff::Timestamp>,
        info: String,
    ) {
        let age = (self.age)(created);
        self.rows.push(vec![name, kind.to_string(), format!("{icon} {status}"), age, info]);
    }

    fn replica_set(&mut self, rs: &ReplicaSetInfo, prefix: &str, child_prefix: &str) {
        let mut info = roles_text(&rs.roles);
        if let Some(deadline) = &rs.scale_down_deadline {
            let delay = match deadline.parse::<jiff::Timestamp>() {
                Ok(d) if d < self.now => "passed".to_owned(),
                Ok(d) => human_duration(d.duration_since(self.now).as_secs()),
                Err(_) => String::new(),
            };
            info = [info, format!("delay:{delay}")].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(",");
        }
        let name = format!("{prefix}{ICON_REPLICA_SET} {}", rs.name);
        self.row(name, Kind::ReplicaSet, replica_set_icon(&rs.status), &rs.status, rs.created, info);
        for (i, pod) in rs.pods.iter().enumerate() {
            let (pod_prefix, _) = prefixes(i + 1 == rs.pods.len(), child_prefix);
            let mut info = format!("ready:{}", pod.ready);
            if pod.restarts > 0 {
                let _ = write!(info, ",restarts:{}", pod.restarts);
            }
            let name = format!("{pod_prefix}{ICON_POD} {}", pod.name);
            self.row(name, Kind::Pod, pod_icon(&pod.status), &pod.status, pod.created, info);
        }
    }

    fn experiment(&mut self, exp: &ExperimentInfo, prefix: &str, child_prefix: &str) {
        let name = format!("{prefix}{ICON_EXPERIMENT} {}", exp.name);
        self.row(name, Kind::Experiment, analysis_icon(&exp.status), &exp.status, exp.created, String::new());
        let total = exp.replica_sets.len() + exp.analysis_runs.len();
        for (i, rs) in exp.replica_sets.iter().enumerate() {
            let (p, c) = prefixes(i + 1 == total, child_prefix);
            self.replica_set(rs, &p, &c);
        }
        for (i, run) in exp.analysis_runs.iter().enumerate() {
            let (p, c) = prefixes(exp.replica_sets.len() + i + 1 == total, child_prefix);
            self.analysis_run(run, &p, &c);
        }
    }

    fn analysis_run(&mut self, run: &AnalysisRunInfo, prefix: &str, child_prefix: &str) {
        let counts = [("✔", run.successful), ("✖", run.failed), ("?", run.inconclusive), ("⚠", run.error)];
        let info = counts.iter().filter(|(_, n)| *n > 0).map(|(i, n)| format!("{i} {n}")).collect::<Vec<_>>().join(",");
        let name = format!("{prefix}{ICON_ANALYSIS} {}", run.name);
        self.row(name, Kind::AnalysisRun, analysis_icon(&run.status), &run.status, run.created, info);
        for (i, job) in run.jobs.iter().enumerate() {
            let (p, _) = prefixes(i + 1 == run.jobs.len(), child_prefix);
            let name = format!("{p}{ICON_JOB} {}", job.name);
            self.row(name, Kind::Job, analysis_icon(&job.status), &job.status, job.created, String::new());
        }
    }
}

fn tree(info: &RolloutInfo, now: jiff::Timestamp, age: &dyn Fn(Option<jiff::Timestamp>) -> String) -> String {
    let mut t = Tree::new(now, age);
    let name = format!("{ICON_ROLLOUT} {}", info.name);
    t.row(name, Kind::Rollout, rollout_icon(&info.phase), &info.phase, info.created, String::new());
    for (i, rev) in info.revisions.iter().enumerate() {
        let (prefix, sub) = prefixes(i + 1 == info.revisions.len(), "");
        t.rows.push(vec![format!("{prefix}{ICON_REVISION} revision:{}", rev.revision), String::new(), String::new()]);
        let total = rev.replica_sets.len() + rev.experiments.len() + rev.analysis_runs.len();
        let mut n = 0;
        let mut next = || {
            n += 1;
            prefixes(n == total, &sub)
        };
        for rs in &rev.replica_sets {
            let (p, c) = next();
            t.replica_set(rs, &p, &c);
        }
        for exp in &rev.experiments {
            let (p, c) = next();
            t.experiment(exp, &p, &c);
        }
        for run in &rev.analysis_runs {
            let (p, c) = next();
            t.analysis_run(run, &p, &c);
        }
    }
    render(&t.rows)
}

/// Tree drawing for a child: its own prefix and the prefix its children continue with.
fn prefixes(is_last: bool, parent: &str) -> (String, String) {
    if is_last {
        (format!("{parent}└──"), format!("{parent}   "))
    } else {
        (format!("{parent}├──"), format!("{parent}│  "))
    }
}

fn rollout_icon(status: &str) -> &'static str {
    match status {
        "Progressing" => "◌",
        "Error" | "InvalidSpec" => "⚠",
        "Paused" => "॥",
        "Healthy" => "✔",
        "Degraded" => "✖",
        "Unknown" => "?",
        "ScaledDown" => "•",
        _ => " ",
    }
}

fn replica_set_icon(status: &str) -> &'static str {
    match status {
        "Progressing" => "◌",
        "Healthy" => "✔",
        "ReplicaFailure" => "✖",
        "ScaledDown" => "•",
        _ => " ",
    }
}

fn pod_icon(status: &str) -> &'static str {
    if status.starts_with("Init:") {
        return "◌";
    }
    if status.starts_with("Signal:") || status.starts_with("ExitCode:") {
        return "✖";
    }
    if status.ends_with("Error") || status.starts_with("Err") {
        return "⚠";
    }
    match status {
        "Pending" | "Terminating" | "ContainerCreating" => "◌",
        "Running" | "Completed" => "✔",
        "Failed" | "InvalidImageName" | "CrashLoopBackOff" => "✖",
        "ImagePullBackOff" | "RegistryUnavailable" => "⚠",
        "Unknown" => "?",
        _ => " ",
    }
}

fn analysis_icon(status: &str) -> &'static str {
    match status {
        "Successful" => "✔",
        "Inconclusive" => "?",
        "Failed" => "✖",
        "Error" => "⚠",
        "Running" => "◌",
        "Pending" => "◷",
        _ => " ",
    }
}
