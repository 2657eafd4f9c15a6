//! `meshlens rollout get NAME`: the Argo CLI view.

use std::process::ExitCode;

use crate::k8s::Kind;
use crate::k8s::argo::Rollout;
use crate::rollout::{render_rollout, rollout_info};

use super::source::load;
use super::traffic::{measure, workload_graph};
use super::workloads::suggestion;
use super::{ItemArgs, ItemFormat, ListFormat, RolloutGetArgs, RolloutListArgs, say};
use super::{out, out_json, out_text};
use crate::identity::{WorkloadId, WorkloadKind};
use crate::inventory::DEFAULT_CLUSTER;
use crate::inventory::Inventory;
use crate::inventory::live::LiveObjects;
use crate::k8s::live;
use crate::rollout::RolloutInfo;
use crate::terminal::{Newlines, escape};
use crate::views::rollouts::{RolloutRow, rollouts_table};
use crate::views::traffic::{Measured, RolloutAnswer};

pub fn get(args: &RolloutGetArgs) -> anyhow::Result<ExitCode> {
    if args.watch {
        return watch(&args.item);
    }
    show(&args.item)
}

/// `meshlens rollout list`: every Rollout of the chosen namespaces, with what one workload graph over them measured.
pub fn list(args: &RolloutListArgs) -> anyhow::Result<ExitCode> {
    let mesh = load(&args.source, &args.scope.namespaces)?;
    let selected = super::graph::selected_namespaces(&args.scope, &mesh.index)?;
    let inv = &mesh.inventory;
    let infos: Vec<RolloutInfo> = (inv.all::<Rollout>().iter())
        .filter(|r| selected.as_ref().is_none_or(|n| n.contains(r.metadata.namespace_str())))
        .filter_map(|r| inv.find(Kind::Rollout, r.metadata.namespace_str(), r.metadata.name_str()))
        .filter_map(|r| rollout_info(inv, r))
        .collect();
    let namespaces = infos.iter().map(|i| i.namespace.clone()).collect();
    let graph = if infos.is_empty() { None } else { workload_graph(&mesh, &args.source, namespaces, args.duration)? };
    let rows: Vec<RolloutRow> = infos.iter().map(|info| RolloutRow::new(info, graph.as_ref())).collect();
    match args.output {
        ListFormat::Json => out_json(&rows)?,
        ListFormat::Table if rows.is_empty() => say("No rollouts found."),
        ListFormat::Table => out_text(&rollouts_table(&rows, selected.is_none_or(|n| n.len() > 1)))?,
    }
    Ok(ExitCode::SUCCESS)
}

fn show(args: &ItemArgs) -> anyhow::Result<ExitCode> {
    let mesh = load(&args.source, args.namespace.as_slice())?;
    let inv = &mesh.inventory;
    let (namespace, info) = argo_view(inv, &args.name, args.namespace.as_deref())?;
    let id = WorkloadId {
        cluster: mesh.index.cluster.clone(),
        namespace: namespace.clone(),
        name: args.name.clone(),
        kind: WorkloadKind::Rollout,
    };
    let measured = measure(&mesh, &args.source, &id, args.duration)?;
    match args.output {
        ItemFormat::Text => {
            out_text(&render_rollout(&info, mesh.now()))?;
            if let Some(m) = &measured {
                out_text(&format!("\n{}\n", m.text()))?;
            }
        }
        ItemFormat::Json => {
            let answer =
                RolloutAnswer { info: &info, observed_split: measured.as_ref().map(Measured::answer), history: None };
            out_json(&answer)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Redraws the Argo view whenever the cluster changes, until interrupted.
fn watch(args: &ItemArgs) -> anyhow::Result<ExitCode> {
    let options = super::source::cluster_options(&args.source);
    let (name, namespace) = (args.name.clone(), args.namespace.clone());
    let namespaces = Vec::from_iter(namespace.clone());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let (send, mut changes) = tokio::sync::mpsc::unbounded_channel();
        let watched = live::watch(&live::connect(&options).await?, &namespaces, send).await?;
        let mut objects = LiveObjects::new(DEFAULT_CLUSTER, &watched);
        while objects.next_changes(&mut changes, tokio::time::Instant::now()).await? {
            if !objects.ready() {
                continue;
            }
            let inventory = objects.inventory();
            let view = argo_view(&inventory, &name, namespace.as_deref())
                .map_or_else(|e| format!("{e:#}\n"), |(_, info)| render_rollout(&info, jiff::Timestamp::now()));
            // Clear the screen and draw from the top, as the Argo CLI does.
            out(&format!("\x1b[2J\x1b[H{}", escape(&view, Newlines::Keep)))?;
        }
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Why a Rollout named on the command line is not one Rollout of the objects read.
#[derive(Debug, thiserror::Error)]
pub enum Lookup {
    #[error("no Rollout {name:?}{place}{suggestion}")]
    Missing { name: String, place: String, suggestion: String },
    #[error("Rollout {name:?} exists in several namespaces ({namespaces}); choose one with -n")]
    Ambiguous { name: String, namespaces: String },
}

/// The namespace and Argo view of Rollout `name`.
pub fn argo_view(inv: &Inventory, name: &str, namespace: Option<&str>) -> Result<(String, RolloutInfo), Lookup> {
    let matches: Vec<&str> = inv
        .all::<Rollout>()
        .iter()
        .filter(|r| r.metadata.name_str() == name)
        .map(|r| r.metadata.namespace_str())
        .filter(|ns| namespace.is_none_or(|want| want == *ns))
        .collect();
    let info = match matches.as_slice() {
        [ns] => inv.find(Kind::Rollout, ns, name).and_then(|r| rollout_info(inv, r)),
        [] => None,
        many => return Err(Lookup::Ambiguous { name: name.to_owned(), namespaces: many.join(", ") }),
    };
    let Some(info) = info else {
        let names: Vec<String> = inv.all::<Rollout>().iter().map(|r| r.metadata.name_str().to_owned()).collect();
        let place = namespace.as_ref().map(|ns| format!(" in namespace {ns:?}")).unwrap_or_default();
        return Err(Lookup::Missing { name: name.to_owned(), place, suggestion: suggestion(name, names.iter()) });
    };
    Ok((info.namespace.clone(), info))
}
