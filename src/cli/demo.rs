//! `meshlens demo`: the built-in bookinfo canary seen through the same commands a user runs.

use std::process::ExitCode;

use clap::Parser;

use super::out;
use super::{Cli, run};

/// The commands the demo runs, in order, with what each shows.
const STEPS: [(&str, &[&str]); 3] = [
    ("Every workload, named as Istio telemetry names it (reviews is an Argo Rollout):", &["workloads"]),
    ("The traffic graph, with the split the reviews canary really gets:", &["graph", "-n", "bookinfo,istio-system"]),
    (
        "The Argo CLI view of the Rollout, with the measured split beside it:",
        &["rollout", "get", "reviews", "-n", "bookinfo"],
    ),
];

pub fn run_demo() -> anyhow::Result<ExitCode> {
    for (i, (title, args)) in STEPS.iter().enumerate() {
        if i > 0 {
            out("\n")?;
        }
        out(&format!("== {title}\n$ meshlens {}\n\n", args.join(" ")))?;
        let cli = Cli::try_parse_from(std::iter::once("meshlens").chain(args.iter().copied()))?;
        let code = run(cli);
        if code != ExitCode::SUCCESS {
            return Ok(code);
        }
    }
    out(
        "\nWrite this world to disk with `meshlens sim --scenario bookinfo-canary --out DIR` and read it back with --snapshot DIR.\n",
    )?;
    Ok(ExitCode::SUCCESS)
}
