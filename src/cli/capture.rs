//! `meshlens capture`: writes what a live cluster and its telemetry show now (or at `--at`) as a snapshot
//! directory, with secrets left out, for later reading with `--snapshot`.

use crate::terminal::{Newlines, escape};
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};

use crate::capture::samples::{Progress, Window, write_window};
use crate::k8s::document::Format;
use crate::k8s::load::Loader;
use crate::snapshot::{self, SnapshotMeta};
use crate::telemetry::Prometheus;
use crate::time::format_duration;

use super::source::{check_namespaces, prometheus_config, read_cluster};
use super::{CaptureArgs, say};

pub fn run(args: &CaptureArgs) -> anyhow::Result<ExitCode> {
    let source = &args.source;
    if source.snapshot.is_some() {
        bail!(
            "capture reads a live cluster (--kube) and its telemetry (--prometheus); a snapshot is already a capture"
        );
    }
    if !source.kube {
        bail!("capture reads a live cluster: give --kube (and --prometheus for its telemetry)");
    }
    let namespaces = &args.scope.namespaces;
    check_namespaces(namespaces)?;
    let range_s = args.duration;
    let duration = format_duration(range_s);
    if source.at.is_some() {
        say("note: --at sets the telemetry window; the objects are read as they are now");
    }
    let at = match &source.at {
        Some(at) => crate::time::parse_time(at)?,
        None => jiff::Timestamp::now(),
    };
    refuse_to_mix(&args.out)?;
    let prometheus = match &source.prometheus {
        Some(url) => Some(Prometheus::new(&prometheus_config(url, source)?)?),
        None => None,
    };
    let status = Status { terminal: std::io::stderr().is_terminal() };
    let out = snapshot::Writer::create(&args.out)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;

    status.update("reading the cluster…");
    let read = read_cluster(source, namespaces)?;
    for note in &read.notes {
        status.line(&format!("note: {note}"));
    }
    // The objects are written as meshlens decodes them: the fields it reads, nothing else.
    let mut loader = Loader::new();
    loader.add_values("the Kubernetes API", read.objects);
    let (objects, report) = loader.finish();
    for problem in &report.problems {
        status.line(&format!("warning: {problem} (not captured)"));
    }
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    let mut manifests = Vec::with_capacity(objects.len());
    for object in &objects {
        *kinds.entry(object.kind().as_str()).or_default() += 1;
        manifests.push(object.to_manifest().with_context(|| format!("writing {}", object.describe()))?);
    }
    out.manifests(&snapshot::manifest_files(&manifests, Format::Yaml)?)?;
    let kinds: Vec<String> = kinds.iter().map(|(kind, n)| format!("{n} {kind}")).collect();
    status.line(&format!(
        "objects: {} ({}), each with only the fields meshlens reads",
        manifests.len(),
        kinds.join(", ")
    ));

    match &prometheus {
        Some(prometheus) => {
            let (path, file) = out.compressed_metrics_file("istio.om")?;
            let window = Window { at: at.as_second(), range_s };
            let (file, summary) = runtime
                .block_on(write_window(prometheus, namespaces, window, file, |p| match p {
                    Progress::Planned { batches, series } => {
                        status.update(&format!("telemetry: about {series} series, in {batches} fetches per metric…"))
                    }
                    Progress::Fetched { family, batch, batches, samples } => {
                        status.update(&format!("telemetry: {family} {batch}/{batches}, {samples} samples so far…"))
                    }
                }))
                .with_context(|| format!("capturing telemetry from {} into {}", prometheus.url(), path.display()))?;
            let written = file.finish().and_then(|buffered| buffered.into_inner().map_err(|e| e.into_error()));
            written.with_context(|| format!("writing {}", path.display()))?;
            for warning in &summary.warnings {
                status.line(&format!("warning: {warning}"));
            }
            status.line(&format!(
                "telemetry: {} samples of {} series over {} ending {at} ({} queries, {:.1} MB received, {:.1} MB written)",
                summary.samples,
                summary.series,
                duration,
                summary.queries,
                summary.bytes as f64 / 1e6,
                std::fs::metadata(&path).map_or(0, |m| m.len()) as f64 / 1e6
            ));
        }
        None => status.line("note: no --prometheus: the snapshot holds objects only"),
    }
    let window = prometheus.is_some().then(|| duration.clone());
    out.meta(&SnapshotMeta { time: Some(at), cluster: source.cluster_id.clone(), window })?;
    status.line(&format!(
        "wrote {}: read it with `meshlens graph --snapshot {} --duration {}`",
        args.out.display(),
        args.out.display(),
        duration
    ));
    Ok(ExitCode::SUCCESS)
}

/// A capture goes to a new or empty directory: files of an older one would be read back with it.
fn refuse_to_mix(dir: &Path) -> anyhow::Result<()> {
    if std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some()) {
        bail!("{} already holds files: capture into a new or empty directory", dir.display());
    }
    Ok(())
}

/// Progress on stderr: one line redrawn in place on a terminal, only the finished steps otherwise.
struct Status {
    terminal: bool,
}

impl Status {
    fn update(&self, text: &str) {
        if self.terminal {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K{}", escape(text, Newlines::Escape));
            let _ = err.flush();
        }
    }

    fn line(&self, text: &str) {
        let clear = if self.terminal { "\r\x1b[2K" } else { "" };
        eprintln!("{clear}{}", escape(text, Newlines::Keep));
    }
}
