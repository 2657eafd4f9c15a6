//! meshlens as a kubectl plugin: kubectl runs `kubectl-meshlens` (krew's name for it) for `kubectl meshlens ...`
//! and passes every argument after the plugin name, so `-n`, `--context` and `--kubeconfig` are meshlens' own; run
//! under that name, a command that can read a live cluster reads it unless a source is named.

use std::ffi::OsString;
use std::path::Path;

use clap::CommandFactory;

use super::Cli;

/// The name kubectl finds a plugin by.
pub const PLUGIN_NAME: &str = "kubectl-meshlens";

/// The arguments to parse: as given, with `--kube` added when run as the kubectl plugin and the command reads a
/// source but names none (neither `--kube` nor `--snapshot`).
pub fn arguments(given: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut args: Vec<OsString> = given.into_iter().collect();
    let as_plugin =
        args.first().and_then(|program| Path::new(program).file_stem()).is_some_and(|stem| stem == PLUGIN_NAME);
    let names_source = args
        .iter()
        .skip(1)
        .filter_map(|a| a.to_str())
        .any(|a| a == "--kube" || a == "--snapshot" || a.starts_with("--snapshot=") || a == "-h" || a == "--help");
    if as_plugin && !names_source && reads_a_source(args.get(1..).unwrap_or_default()) {
        args.push("--kube".into());
    }
    args
}

/// Whether the (sub)command the arguments name takes `--kube`.
fn reads_a_source(args: &[OsString]) -> bool {
    let mut command = Cli::command();
    let mut words = args.iter().filter_map(|a| a.to_str()).filter(|a| !a.starts_with('-'));
    while let Some(next) = words.next().and_then(|word| command.find_subcommand(word).cloned()) {
        command = next;
    }
    command.get_arguments().any(|arg| arg.get_id() == "kube")
}

#[cfg(test)]
mod tests {
    use super::arguments;
    use std::ffi::OsString;

    fn args(line: &str) -> Vec<String> {
        let given: Vec<OsString> = line.split(' ').map(OsString::from).collect();
        arguments(given).into_iter().map(|a| a.into_string().unwrap()).collect()
    }

    #[test]
    fn as_the_plugin_a_command_reads_the_live_cluster_unless_a_source_is_named() {
        assert_eq!(
            args("/usr/bin/kubectl-meshlens workloads -n shop"),
            ["/usr/bin/kubectl-meshlens", "workloads", "-n", "shop", "--kube"]
        );
        assert_eq!(args("kubectl-meshlens rollout get reviews").last().unwrap(), "--kube");
        assert_eq!(args("kubectl-meshlens workloads --snapshot d").last().unwrap(), "d");
        assert_eq!(args("kubectl-meshlens workloads --kube").iter().filter(|a| *a == "--kube").count(), 1);
        // Commands without a source, and help, stay as given.
        assert_eq!(args("kubectl-meshlens sim --scenario scale --out d").last().unwrap(), "d");
        assert_eq!(args("kubectl-meshlens completions bash").last().unwrap(), "bash");
        assert_eq!(args("kubectl-meshlens --help").last().unwrap(), "--help");
        // As meshlens, nothing changes.
        assert_eq!(args("meshlens workloads").last().unwrap(), "workloads");
    }
}
