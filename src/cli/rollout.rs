//! `meshlens rollout get NAME`: the Argo CLI view.

use std::process::ExitCode;

use anyhow::bail;

use crate::k8s::{Kind, MetaExt};
use crate::rollout::{render_rollout, rollout_info};

use super::source::load;
use super::workloads::suggestion;
use super::{ItemArgs, ItemFormat};

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
    match args.output {
        ItemFormat::Text => print!("{}", render_rollout(&info, mesh.now())),
        ItemFormat::Json => println!("{}", serde_json::to_string_pretty(&info)?),
    }
    Ok(ExitCode::SUCCESS)
}
