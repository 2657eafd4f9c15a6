//! `meshlens rollout get` and `rollout list`: the Argo CLI's views of Rollouts and Experiments.

use std::process::ExitCode;

use anyhow::bail;

use crate::k8s::argo::{Experiment, Rollout};
use crate::k8s::{Kind, Resource};
use crate::rollout::info::experiment_info;
use crate::rollout::{render_rollout, rollout_info};

use super::scope::suggestion;
use super::source::{Mesh, load};
use super::traffic::{measure, workload_graph};
use super::{ItemFormat, ItemOptions, ListFormat, RolloutGetArgs, RolloutListArgs, say};
use super::{out, out_json, out_text};
use crate::identity::WorkloadId;
use crate::inventory::Inventory;
use crate::inventory::live::LiveObjects;
use crate::k8s::live;
use crate::rollout::RolloutInfo;
use crate::terminal::{Newlines, escape};
use crate::views::rollouts::{ExperimentAnswer, RolloutRow, rollouts_table};
use crate::views::traffic::{Measured, RolloutAnswer};

pub fn get(args: &RolloutGetArgs) -> anyhow::Result<ExitCode> {
    let target = Target::of(&args.target)?;
    if args.watch {
        return watch(target, &args.options);
    }
    match target {
        Target::Rollout(name) => show(name, &args.options),
        Target::Experiment(name) => show_experiment(name, &args.options),
    }
}

/// What `rollout get` shows: a Rollout, or an Experiment as the Argo CLI's `get experiment`.
#[derive(Clone, Copy)]
enum Target<'a> {
    Rollout(&'a str),
    Experiment(&'a str),
}

impl Target<'_> {
    /// `NAME` (a Rollout), or the Argo CLI's `rollout NAME` and `experiment NAME` with their aliases.
    fn of(words: &[String]) -> anyhow::Result<Target<'_>> {
        match words {
            [name] => Ok(Target::Rollout(name)),
            [kind, name] => match kind.as_str() {
                "rollout" | "ro" | "rollouts" => Ok(Target::Rollout(name)),
                "experiment" | "exp" | "experiments" => Ok(Target::Experiment(name)),
                other => bail!("rollout get {other} {name}: {other:?} is not a kind it shows (rollout or experiment)"),
            },
            _ => bail!("rollout get takes NAME, rollout NAME or experiment NAME"),
        }
    }

    /// The text view of the target in `inv`, with ages relative to `now`.
    fn text(self, inv: &Inventory, namespace: Option<&str>, now: jiff::Timestamp) -> anyhow::Result<String> {
        Ok(match self {
            Target::Rollout(name) => render_rollout(&argo_view(inv, name, namespace)?, now),
            Target::Experiment(name) => experiment_view(inv, name, namespace)?.text(now),
        })
    }
}

/// `meshlens rollout list`: every Rollout of the chosen namespaces, with what one workload graph over them measured.
pub fn list(args: &RolloutListArgs) -> anyhow::Result<ExitCode> {
    let mesh = load(&args.source, &args.scope.namespaces)?;
    let selected = super::scope::selected_namespaces(&args.scope, &mesh.index)?;
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

fn show(name: &str, options: &ItemOptions) -> anyhow::Result<ExitCode> {
    let mesh = load(&options.source, options.namespace.as_slice())?;
    let inv = &mesh.inventory;
    let info = argo_view(inv, name, options.namespace.as_deref())?;
    let measured = measure(&mesh, &options.source, &rollout_id(&mesh, &info), options.duration)?;
    match options.output {
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

fn show_experiment(name: &str, options: &ItemOptions) -> anyhow::Result<ExitCode> {
    let mesh = load(&options.source, options.namespace.as_slice())?;
    let view = experiment_view(&mesh.inventory, name, options.namespace.as_deref())?;
    match options.output {
        ItemFormat::Text => out_text(&view.text(mesh.now()))?,
        ItemFormat::Json => out_json(&view)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Redraws the Argo view whenever the cluster changes, until interrupted.
fn watch(target: Target, options: &ItemOptions) -> anyhow::Result<ExitCode> {
    let cluster = super::source::cluster_options(&options.source);
    let namespace = options.namespace.as_deref();
    let namespaces = Vec::from_iter(namespace.map(str::to_owned));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let (send, mut changes) = tokio::sync::mpsc::unbounded_channel();
        let watched = live::watch(&live::connect(&cluster).await?, &namespaces, send).await?;
        let mut objects = LiveObjects::new(super::source::given_cluster(&options.source), &watched);
        while objects.next_changes(&mut changes, tokio::time::Instant::now()).await? {
            if !objects.ready() {
                continue;
            }
            let view = target
                .text(&objects.inventory(), namespace, jiff::Timestamp::now())
                .unwrap_or_else(|e| format!("{e:#}\n"));
            // Clear the screen and draw from the top, as the Argo CLI does.
            out(&format!("\x1b[2J\x1b[H{}", escape(&view, Newlines::Keep)))?;
        }
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The workload a Rollout is in the mesh's index: what its traffic is measured as.
pub fn rollout_id(mesh: &Mesh, info: &RolloutInfo) -> WorkloadId {
    WorkloadId {
        cluster: mesh.index.cluster.clone(),
        namespace: info.namespace.clone(),
        name: info.name.clone(),
        kind: Kind::Rollout.into(),
    }
}

/// Why a name given on the command line is not one object of the kind asked for.
#[derive(Debug, thiserror::Error)]
pub enum Lookup {
    #[error("no {kind} {name:?}{place}{suggestion}")]
    Missing { kind: Kind, name: String, place: String, suggestion: String },
    #[error("{kind} {name:?} exists in several namespaces ({namespaces}); choose one with -n")]
    Ambiguous { kind: Kind, name: String, namespaces: String },
}

/// The one `K` named `name` (in `namespace` when given).
fn locate<'a, K: Resource>(inv: &'a Inventory, name: &str, namespace: Option<&str>) -> Result<&'a K, Lookup> {
    let all = inv.all::<K>();
    let matches: Vec<&K> = (all.iter().map(|o| &**o))
        .filter(|o| o.metadata().name_str() == name)
        .filter(|o| namespace.is_none_or(|want| want == o.metadata().namespace_str()))
        .collect();
    match matches.as_slice() {
        [one] => Ok(one),
        [] => {
            let names: Vec<String> = all.iter().map(|o| o.metadata().name_str().to_owned()).collect();
            let place = namespace.map(|ns| format!(" in namespace {ns:?}")).unwrap_or_default();
            let suggestion = suggestion(name, names.iter());
            Err(Lookup::Missing { kind: K::KIND, name: name.to_owned(), place, suggestion })
        }
        many => {
            let namespaces: Vec<&str> = many.iter().map(|o| o.metadata().namespace_str()).collect();
            Err(Lookup::Ambiguous { kind: K::KIND, name: name.to_owned(), namespaces: namespaces.join(", ") })
        }
    }
}

/// The Argo view of Rollout `name`.
pub fn argo_view(inv: &Inventory, name: &str, namespace: Option<&str>) -> Result<RolloutInfo, Lookup> {
    let rollout = locate::<Rollout>(inv, name, namespace).map_err(|err| match err {
        Lookup::Missing { kind, name, place, .. } if locate::<Experiment>(inv, &name, namespace).is_ok() => {
            let suggestion = format!("; {name:?} is an Experiment: rollout get experiment {name}");
            Lookup::Missing { kind, name, place, suggestion }
        }
        other => other,
    })?;
    let found = inv.find(Kind::Rollout, rollout.metadata.namespace_str(), name);
    let vanished = || Lookup::Missing {
        kind: Kind::Rollout,
        name: name.to_owned(),
        place: String::new(),
        suggestion: String::new(),
    };
    found.and_then(|r| rollout_info(inv, r)).ok_or_else(vanished)
}

/// The Argo view of Experiment `name`.
fn experiment_view(inv: &Inventory, name: &str, namespace: Option<&str>) -> Result<ExperimentAnswer, Lookup> {
    let experiment = locate::<Experiment>(inv, name, namespace)?;
    Ok(ExperimentAnswer::new(experiment.metadata.namespace_str(), experiment_info(inv, experiment)))
}
