//! Shell integration generated from the command definitions themselves, so it never falls behind them: completion
//! scripts (clap_complete) and the manual page (clap_mangen).

use std::io::Write;
use std::process::ExitCode;

use clap::CommandFactory;

use super::Cli;

/// `meshlens completions SHELL`: the completion script for `shell`.
pub fn completions(shell: clap_complete::Shell) -> anyhow::Result<ExitCode> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "meshlens", &mut script);
    std::io::stdout().lock().write_all(&script)?;
    Ok(ExitCode::SUCCESS)
}

/// `meshlens man`: the manual page, in roff.
pub fn man() -> anyhow::Result<ExitCode> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut page)?;
    std::io::stdout().lock().write_all(&page)?;
    Ok(ExitCode::SUCCESS)
}
