//! The `heapscope` binary: parses arguments, opens files, calls the libraries, reports errors.
//!
//! Exit codes: 0 success (also when the output pipe is closed early), 2 error.

mod args;
mod commands;
mod progress;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    let limits = heapscope_cpython::runtime::Limits { interpreters: cli.max_interpreters, threads: cli.max_threads };
    heapscope_cpython::runtime::set_limits(limits);
    progress::init(cli.quiet, cli.progress_delay_ms.map(std::time::Duration::from_millis));
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let result = match &cli.command {
        Command::Info(a) => commands::info::run(a, &mut out),
        Command::Stacks(a) => commands::stacks::run(a, &mut out),
        Command::Summary(a) => commands::summary::run(a, &mut out),
        Command::Show(a) => commands::show::run(a, commands::show::What::Show, &mut out),
        Command::Refs(a) => commands::show::run(a, commands::show::What::Refs, &mut out),
        Command::Referrers(a) => commands::show::run(a, commands::show::What::Referrers, &mut out),
        Command::Garbage(a) => commands::garbage::run(a, &mut out),
        Command::Retained(a) => commands::alive::retained(a, &mut out),
        Command::Tasks(a) => commands::tasks::run(a, &mut out),
        Command::Top(a) => commands::alive::top(a, &mut out),
        Command::Path(a) => commands::alive::path(a, &mut out),
        Command::Leaks(a) => commands::alive::leaks(a, &mut out),
        Command::Cycles(a) => commands::alive::cycles(a, &mut out),
        Command::Waste(a) => commands::waste::run(a, &mut out),
        Command::Memory(a) => commands::memory::run(a, &mut out),
        Command::Diff(a) => commands::diff::run(a, &mut out),
        Command::Index(a) => commands::index::run(a, &mut out),
        Command::Query(a) => commands::query::run(a, &mut out),
        Command::Export(a) => commands::export::run(a, &mut out),
        Command::Report(a) => commands::report::run(a, &mut out),
    }
    .and_then(|()| out.flush().map_err(Into::into));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            report(&e);
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<io::Error>().is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe))
}

/// A command line clap could not parse, or `--help` / `--version`: help and version go to stdout (exit 0) as clap
/// prints them; a usage error goes to stderr with the `heapscope: error:` prefix of every other error, exit 2.
fn usage_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
    }
    let text = e.render().to_string();
    let text = text.strip_prefix("error: ").unwrap_or(&text);
    let _ = write!(io::stderr().lock(), "heapscope: error: {text}");
    ExitCode::from(2)
}

/// Prints the error chain on stderr, one cause per line; a cause whose text the line before already holds (an error
/// that prints its source, and also returns it as its source) is not repeated.
fn report(e: &anyhow::Error) {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "heapscope: error: {e}");
    let mut previous = e.to_string();
    for cause in e.chain().skip(1) {
        let text = cause.to_string();
        if !previous.contains(&text) {
            let _ = writeln!(err, "  caused by: {text}");
        }
        previous = text;
    }
}
