//! `meshlens sim`: writes a simulated world as a snapshot directory.

use std::process::ExitCode;

use crate::sim::{NamingMode, Scenario, SimOptions};

use super::{NamingArg, SimArgs, parse_time};

pub fn run(args: &SimArgs) -> anyhow::Result<ExitCode> {
    let mut opts = SimOptions::new(args.scenario);
    opts.seed = args.seed;
    opts.scale = args.scale;
    opts.naming = args.istio_naming.map(|n| match n {
        NamingArg::Rollout => NamingMode::Rollout,
        NamingArg::Replicaset => NamingMode::ReplicaSet,
        NamingArg::Mixed => NamingMode::Mixed,
    });
    if args.fault.is_some() && !matches!(args.scenario, Scenario::BookinfoCanary | Scenario::IstioUpgrade) {
        anyhow::bail!("--fault is planted in bookinfo: use it with --scenario bookinfo-canary or istio-upgrade");
    }
    opts.fault = args.fault;
    if let Some(time) = &args.time {
        opts.time = parse_time(time)?;
    }
    let world = crate::sim::build(&opts);
    world.write_to(&args.out)?;
    eprintln!(
        "wrote {} objects and their telemetry to {} (snapshot time {})",
        world.objects.len(),
        args.out.display(),
        world.time
    );
    Ok(ExitCode::SUCCESS)
}
