//! `meshlens demo`: the workloads and the Rollout view of the built-in bookinfo canary.

use std::process::ExitCode;

use crate::identity::IdentityIndex;
use crate::k8s::Kind;
use crate::rollout::{render_rollout, rollout_info};
use crate::views::workloads::workloads_table;

use crate::sim::{Scenario, SimOptions};

use super::source::objects_of;

pub fn run() -> anyhow::Result<ExitCode> {
    let world = crate::sim::build(&SimOptions::new(Scenario::BookinfoCanary));
    let (inventory, _) = objects_of(&world)?;
    let time = world.time;
    let index = IdentityIndex::build(&inventory);
    let workloads: Vec<_> = index.workloads().iter().collect();
    println!("Workloads of the built-in world (Istio bookinfo; reviews is an Argo Rollout at 20% canary):\n");
    print!("{}", workloads_table(&workloads));
    if let Some(r) = inventory.find(Kind::Rollout, "bookinfo", "reviews")
        && let Some(info) = rollout_info(&inventory, r)
    {
        println!("\n$ meshlens rollout get reviews -n bookinfo\n");
        print!("{}", render_rollout(&info, time));
    }
    println!(
        "\nWrite this world to disk with `meshlens sim --scenario bookinfo-canary --out DIR` and read it back with --snapshot DIR."
    );
    Ok(ExitCode::SUCCESS)
}
