//! Resolves the source flags into loaded objects and an evaluation time: the one place commands get a mesh from.

use anyhow::{Context, bail};

use crate::identity::IdentityIndex;
use crate::inventory::Inventory;
use crate::k8s::document::Format;
use crate::k8s::load::{LoadReport, Loader};
use crate::sim::{self, Scenario, SimOptions};

use super::{SourceArgs, parse_time};

/// A loaded mesh.
pub struct Mesh {
    pub inventory: Inventory,
    pub index: IdentityIndex,
    /// The evaluation time: `--at`, else the snapshot's time, else now.
    pub time: jiff::Timestamp,
}

/// Loads what the source flags name. Without `--snapshot`, the built-in demo world.
pub fn load(args: &SourceArgs) -> anyhow::Result<Mesh> {
    let (inventory, report, snapshot_time) = match &args.snapshot {
        Some(dir) => {
            let snap = crate::snapshot::load(dir)?;
            (snap.inventory, snap.report, snap.meta.time)
        }
        None => {
            let (inventory, report, time) = demo_world()?;
            (inventory, report, Some(time))
        }
    };
    report_problems(&report, args.strict)?;
    let time = match &args.at {
        Some(at) => parse_time(at)?,
        None => snapshot_time.unwrap_or_else(jiff::Timestamp::now),
    };
    let index = IdentityIndex::build(&inventory);
    Ok(Mesh { inventory, index, time })
}

/// The bookinfo canary, simulated in memory and read back through the same parser snapshots go through.
pub fn demo_world() -> anyhow::Result<(Inventory, LoadReport, jiff::Timestamp)> {
    let world = sim::build(&SimOptions::new(Scenario::BookinfoCanary));
    let mut loader = Loader::new();
    for (file, text) in world.manifests().context("rendering the demo world")? {
        loader.add_text(&format!("demo:k8s/{file}"), &text, Format::Yaml);
    }
    let (objects, report) = loader.finish();
    Ok((Inventory::new(crate::inventory::DEFAULT_CLUSTER, objects), report, world.time))
}

/// Prints what could not be read (and what was skipped) to stderr; with `strict`, any problem is an error.
fn report_problems(report: &LoadReport, strict: bool) -> anyhow::Result<()> {
    for problem in &report.problems {
        eprintln!("warning: {problem}");
    }
    for duplicate in &report.duplicates {
        eprintln!("warning: duplicate {duplicate}");
    }
    if report.skipped_total() > 0 {
        let kinds: Vec<String> = report.skipped.iter().map(|(k, n)| format!("{k} ×{n}")).collect();
        eprintln!(
            "note: skipped {} document(s) of kinds meshlens does not read: {}",
            report.skipped_total(),
            kinds.join(", ")
        );
    }
    if strict && !report.problems.is_empty() {
        bail!("{} manifest document(s) could not be read (see warnings above)", report.problems.len());
    }
    Ok(())
}
