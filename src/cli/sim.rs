//! `meshlens sim`: writes a simulated world as a snapshot directory.

use std::process::ExitCode;

use clap::ValueEnum;

use crate::sim::{NamingMode, SimOptions};

use super::{NamingArg, SimArgs, say};
use crate::time::parse_time;

pub fn run(args: &SimArgs) -> anyhow::Result<ExitCode> {
    let mut opts = SimOptions::new(args.scenario);
    opts.seed = args.seed;
    opts.scale = args.scale;
    opts.naming = args.istio_naming.map(|n| match n {
        NamingArg::Rollout => NamingMode::Rollout,
        NamingArg::Replicaset => NamingMode::ReplicaSet,
        NamingArg::Mixed => NamingMode::Mixed,
    });
    if let Some(fault) = args.fault
        && !fault.scenarios().contains(&args.scenario)
    {
        let name = |v: Option<clap::builder::PossibleValue>| v.map(|v| v.get_name().to_owned()).unwrap_or_default();
        let scenarios: Vec<String> = fault.scenarios().iter().map(|s| name(s.to_possible_value())).collect();
        anyhow::bail!(
            "--fault {} cannot be planted in {}: use it with --scenario {}",
            name(fault.to_possible_value()),
            name(args.scenario.to_possible_value()),
            scenarios.join(" or ")
        );
    }
    opts.fault = args.fault;
    opts.cluster_id = args.cluster_id.clone();
    if let Some(time) = &args.time {
        opts.time = parse_time(time)?;
    }
    let world = crate::sim::build(&opts);
    world.write_to(&args.out)?;
    say(&format!(
        "wrote {} objects and their telemetry to {} (snapshot time {})",
        world.objects.len(),
        args.out.display(),
        world.time
    ));
    Ok(ExitCode::SUCCESS)
}
