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
    let cli = Cli::parse();
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

/// Prints the error chain on stderr, one cause per line.
fn report(e: &anyhow::Error) {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "heapscope: error: {e}");
    for cause in e.chain().skip(1) {
        let _ = writeln!(err, "  caused by: {cause}");
    }
}
