//! `meshlens demo`: the web UI on the built-in bookinfo canary, with the commands to try beside it.

use std::process::ExitCode;

use clap::Parser;

use super::{Cli, Command, DemoArgs, serve};

pub fn run(args: &DemoArgs) -> anyhow::Result<ExitCode> {
    eprintln!(
        "meshlens demo: Istio's bookinfo, with reviews as an Argo Rollout sending 20% of its traffic to a canary.\n\
         Open http://{}/ and click reviews to see its one workload page: every ReplicaSet, every pod, and the\n\
         split measured from telemetry beside the weight the Rollout asked for.\n\
         The same world from the command line (no server needed):\n  \
         meshlens workloads\n  meshlens graph -n bookinfo\n  meshlens rollout get reviews\n",
        args.addr
    );
    let addr = args.addr.to_string();
    let cli = Cli::try_parse_from(["meshlens", "serve", "--addr", addr.as_str()])?;
    let Command::Serve(serve_args) = cli.command else { anyhow::bail!("the demo's serve arguments did not parse") };
    serve::run(&serve_args)
}
