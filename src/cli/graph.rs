//! `meshlens graph`: the traffic graph in a table, our JSON, Kiali's JSON or Graphviz DOT.

use std::process::ExitCode;

use anyhow::Context;

use crate::graph::GraphRequest;
use crate::graph::render::kiali::{Rates, render_kiali};
use crate::graph::render::{dot::render_dot, svg::render_svg, table::render_table};

use super::source::{load, telemetry};
use super::{GraphArgs, GraphFormat, ScopeArgs, say};
use super::{out, out_json, out_text};

pub fn run(args: &GraphArgs) -> anyhow::Result<ExitCode> {
    // A node graph reads its focus' namespace, as `-n` would.
    let scope = match &args.focus {
        Some(focus) => ScopeArgs { namespaces: vec![focus.namespace().to_owned()], ..args.scope.clone() },
        None => args.scope.clone(),
    };
    let mesh = load(&args.source, &scope.namespaces)?;
    let namespaces = super::scope::selected_namespaces(&scope, &mesh.index)?;
    let duration_s = mesh.duration_s(args.duration);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let telemetry = telemetry(&mesh, &args.source)?;
    let req = GraphRequest::new(telemetry.at, duration_s, telemetry.scrape_labels.clone())
        .with_type(args.graph_type)
        .with_namespaces(namespaces)
        .with_edge_latency(args.latency)
        .with_focus(args.focus.clone())
        .with_ambient(crate::graph::Ambient { traffic: args.ambient_traffic, waypoints: args.waypoints });
    let graph = runtime
        .block_on(crate::graph::graph(&telemetry.backend, &mesh.index, &mesh.inventory, &req))
        .with_context(|| format!("querying {}", telemetry.backend.describe()))?;
    if args.output != GraphFormat::Table {
        for w in &graph.warnings {
            say(&format!("warning: {w}"));
        }
    }
    match args.output {
        GraphFormat::Table => out_text(&render_table(&graph))?,
        GraphFormat::Json => out_json(&graph)?,
        GraphFormat::Kiali => {
            let rates = Rates { tcp: args.rate_tcp, http: args.rate_http, grpc: args.rate_grpc };
            out_json(&render_kiali(&graph, req.at, duration_s, rates))?
        }
        GraphFormat::Dot => out_text(&render_dot(&graph))?,
        GraphFormat::Svg => out(&render_svg(&graph))?,
    }
    Ok(ExitCode::SUCCESS)
}
