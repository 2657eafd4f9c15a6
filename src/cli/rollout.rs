//! `meshlens rollout get NAME`: the Argo CLI view.

use std::process::ExitCode;

use anyhow::bail;

use crate::k8s::{Kind, MetaExt};
use crate::rollout::{render_rollout, rollout_info};

use super::out;
use super::source::load;
use super::traffic::measure;
use super::workloads::suggestion;
use super::{ItemArgs, ItemFormat};
use crate::identity::{WorkloadId, WorkloadKind};

pub fn get(args: &ItemArgs) -> anyhow::Result<ExitCode> {
    let mesh = load(&args.source)?;
    let inv = &mesh.inventory;
    let matches: Vec<&str> = inv
        .rollouts
        .iter()
        .filter(|r| r.metadata.name_str() == args.name)
        .map(|r| r.metadata.namespace_str())
        .filter(|ns| args.namespace.as_deref().is_none_or(|want| want == *ns))
        .collect();
    let namespace = match matches.as_slice() {
        [ns] => ns.to_string(),
        [] => {
            let names: Vec<String> = inv.rollouts.iter().map(|r| r.metadata.name_str().to_owned()).collect();
            let place = args.namespace.as_ref().map(|ns| format!(" in namespace {ns:?}")).unwrap_or_default();
            bail!("no Rollout {:?}{place}{}", args.name, suggestion(&args.name, names.iter()));
        }
        many => bail!("Rollout {:?} exists in several namespaces ({}); choose one with -n", args.name, many.join(", ")),
    };
    let Some(r) = inv.find(Kind::Rollout, &namespace, &args.name) else { bail!("Rollout {:?} vanished", args.name) };
    let Some(info) = rollout_info(inv, r) else { bail!("Rollout {:?} vanished", args.name) };
    let id = WorkloadId {
        cluster: mesh.index.cluster.clone(),
        namespace: namespace.clone(),
        name: args.name.clone(),
        kind: WorkloadKind::Rollout,
    };
    let measured = measure(&mesh, &args.source, &id, &args.duration)?;
    match args.output {
        ItemFormat::Text => {
            out(&render_rollout(&info, mesh.now()))?;
            if let Some(m) = &measured {
                out(&format!("\n{}\n", m.text()))?;
            }
        }
        ItemFormat::Json => {
            let mut value = serde_json::to_value(&info)?;
            if let Some(m) = &measured {
                value["observedSplit"] = m.json();
            }
            out(&format!("{}\n", serde_json::to_string_pretty(&value)?))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
