//! `meshlens workloads` and `meshlens workload NAME`.

use std::process::ExitCode;

use anyhow::bail;

use crate::identity::{IdentityIndex, Resolution, Workload};
use crate::views::traffic::{Measured, WorkloadAnswer};
use crate::views::workloads::{workload_text, workloads_table};

use super::scope::suggestion;
use super::source::load;
use super::traffic::measure;
use super::{ItemArgs, ItemFormat, ListFormat, WorkloadsArgs, say};
use super::{out_json, out_text};

pub fn list(args: &WorkloadsArgs) -> anyhow::Result<ExitCode> {
    let mesh = load(&args.source, &args.scope.namespaces)?;
    let namespaces = super::scope::selected_namespaces(&args.scope, &mesh.index)?;
    let selected: Vec<&Workload> = mesh
        .index
        .workloads()
        .iter()
        .filter(|w| namespaces.as_ref().is_none_or(|n| n.contains(&w.id.namespace)))
        .collect();
    match args.output {
        ListFormat::Table => out_text(&workloads_table(&selected))?,
        ListFormat::Json => out_json(&selected)?,
    }
    Ok(ExitCode::SUCCESS)
}

pub fn show(args: &ItemArgs) -> anyhow::Result<ExitCode> {
    let (name, options) = (&args.name, &args.options);
    let mesh = load(&options.source, options.namespace.as_slice())?;
    let found = find(&mesh.index, name, options.namespace.as_deref())?;
    let mut texts = Vec::new();
    let mut values = Vec::new();
    for w in &found {
        let measured = measure(&mesh, &options.source, &w.id, options.duration)?;
        let mut text = workload_text(w);
        if let Some(m) = &measured {
            text.push('\n');
            text.push_str(&m.text());
        }
        texts.push(text);
        values.push(serde_json::to_value(WorkloadAnswer {
            workload: w,
            traffic: measured.as_ref().map(Measured::answer),
        })?);
    }
    match options.output {
        ItemFormat::Text => out_text(&texts.join("\n---\n\n"))?,
        ItemFormat::Json => match values.as_slice() {
            [one] => out_json(one)?,
            many => out_json(many)?,
        },
    }
    Ok(ExitCode::SUCCESS)
}

/// The workloads `name` designates: by workload name first, then by any telemetry name. Several kinds can share a
/// name (Deployment and Rollout `X` during a `workloadRef` migration); all are returned.
fn find<'a>(index: &'a IdentityIndex, name: &str, namespace: Option<&str>) -> anyhow::Result<Vec<&'a Workload>> {
    let in_scope = |w: &&Workload| namespace.is_none_or(|ns| w.id.namespace == ns);
    let by_name: Vec<&Workload> = index.workloads().iter().filter(in_scope).filter(|w| w.id.name == name).collect();
    let found = if by_name.is_empty() {
        let namespaces: Vec<&String> = match namespace {
            Some(ns) => index.namespaces().iter().filter(|n| n.as_str() == ns).collect(),
            None => index.namespaces().iter().collect(),
        };
        let mut aliases = Vec::new();
        for ns in namespaces {
            match index.resolve(&index.cluster, ns, name) {
                Resolution::One(w) | Resolution::ByHashSuffix(w) => aliases.push(w),
                Resolution::Ambiguous(ws) => aliases.extend(ws),
                Resolution::Unknown => {}
            }
        }
        for w in &aliases {
            say(&format!("note: {name:?} is a telemetry name of {}", w.id));
        }
        aliases
    } else {
        by_name
    };
    let namespaces: std::collections::BTreeSet<&str> = found.iter().map(|w| w.id.namespace.as_str()).collect();
    if namespaces.len() > 1 {
        let list: Vec<&str> = namespaces.into_iter().collect();
        bail!("{name:?} names workloads in several namespaces ({}); choose one with -n", list.join(", "));
    }
    if found.is_empty() {
        let candidates = index.workloads().iter().filter(in_scope).map(|w| &w.id.name);
        let place = namespace.map(|ns| format!(" in namespace {ns:?}")).unwrap_or_default();
        bail!("no workload {name:?}{place}{}", suggestion(name, candidates));
    }
    Ok(found)
}
