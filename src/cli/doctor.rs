//! `meshlens doctor`: findings as text or JSON; exit 1 when any is an error.

use std::process::ExitCode;

use anyhow::Context;

use crate::doctor::{Report, diagnose, render::render_text};
use crate::graph::GraphRequest;

use super::scope::selected_namespaces;
use super::source::{load, telemetry};
use super::{DoctorArgs, ItemFormat, out_json, out_text};

pub fn run(args: &DoctorArgs) -> anyhow::Result<ExitCode> {
    let mesh = load(&args.source, &args.scope.namespaces)?;
    let namespaces = selected_namespaces(&args.scope, &mesh.index)?;
    let duration_s = mesh.duration_s(args.duration);
    let telemetry = telemetry(&mesh, &args.source)?;
    let req = GraphRequest::new(telemetry.at, duration_s, telemetry.scrape_labels.clone()).with_namespaces(namespaces);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let report: Report = runtime
        .block_on(diagnose(&telemetry.backend, &mesh.index, &mesh.inventory, &req, args.threshold / 100.0))
        .with_context(|| format!("querying {}", telemetry.backend.describe()))?;
    match args.output {
        ItemFormat::Text => out_text(&render_text(&report))?,
        ItemFormat::Json => out_json(&report)?,
    }
    Ok(if report.has_errors() { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
