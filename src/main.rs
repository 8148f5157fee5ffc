//! The `pactum` command line: parses the arguments and hands each command to its module in
//! `commands/`, which alone knows about paths, terminals and exit codes.
//!
//! Exit codes: 0 success (no violation at or above `--fail-on`), 1 a violation at or above
//! `--fail-on`, 2 invalid rules, invalid input or a usage error. A closed pipe on standard
//! output (`pactum replay … | head`) ends the program quietly with the code it would have had.
//!
//! Here live only the command line's grammar (`Cli`, `Command`: each subcommand wraps its
//! command's arguments), the logging set-up, the end of a run (an error said on stderr, a
//! broken pipe a quiet end) and the dispatch.

use std::io;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

mod commands;

/// Counts each thread's allocations, so that one evaluation of a rule expression can be held
/// to its byte budget (`pactum::expr::cost`).
#[global_allocator]
static ALLOCATOR: pactum::expr::cost::CountingAllocator = pactum::expr::cost::CountingAllocator;

use commands::output::{EXIT_INVALID, say};
use commands::{check, diff, explain, lsp, new, replay, report, schema, test};

/// Judge event logs against security agreements written as rules.
#[derive(Parser)]
#[command(name = "pactum", version, about, long_about = None)]
struct Cli {
    /// More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides it.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate agreement, mapping and scenario files: YAML shape, keys, parties, ids, every Rhai
    /// expression, and what a scenario names and states.
    ///
    /// Exit 0 when every file is valid (warnings allowed), 2 otherwise.
    Check(check::CheckArgs),
    /// Replay event logs against agreements and report every violation.
    Replay(replay::ReplayArgs),
    /// Run scenarios (`scenario.yaml`: rules, events, the outcome they must give) and say which
    /// hold; with --coverage, which clauses they exercise.
    ///
    /// Exit 0 when every scenario holds (and coverage reaches --min-coverage), 1 otherwise.
    Test(test::TestArgs),
    /// Write a new agreement or scenario that passes `check` and `test`, to start from.
    New(new::NewArgs),
    /// Render a saved JSON report (`replay --format json`) in another format, without replaying.
    ///
    /// The JSON report is the single source: rendering it gives the same bytes as the replay
    /// that wrote it would have in that format.
    Report(report::ReportArgs),
    /// Compare two versions of an agreement over the same events: violations only under the
    /// old rules, only under the new, and changed (same evidence, other term, severity or
    /// party).
    ///
    /// `pactum diff --rules OLD --rules NEW EVENTS...` replays the events twice;
    /// `pactum diff OLD.json NEW.json` compares two saved reports.
    Diff(diff::DiffArgs),
    /// Print the JSON Schema (draft 2020-12) of a kind of file, for editors.
    ///
    /// The schema is the file shipped as docs/schema/KIND.schema.json. A YAML file whose
    /// first line is `# yaml-language-server: $schema=PATH` gets completion, hover help and
    /// validation in editors that run the YAML language server (docs/rules.md).
    Schema(schema::SchemaArgs),
    /// Show, for one event, whether each term fires on it and why (docs/explain.md).
    ///
    /// Exit 0 whatever the terms make of the event; 2 for invalid rules, an invalid event, or an
    /// id not found.
    Explain(explain::ExplainArgs),
    /// Run a language server on standard input and output, for editors: `pactum check`'s
    /// diagnostics as you type, completion, hover and go-to-definition (docs/rules.md).
    ///
    /// Exit 0 after the client's `shutdown` and `exit`, 1 when it exits without `shutdown`.
    Lsp(lsp::LspArgs),
}

fn main() -> ExitCode {
    // Before anything uses Rhai (docs/security.md: the same report on every run).
    pactum::expr::sandbox::fix_hashing_seed();
    let cli = Cli::parse();
    init_logging(cli.verbose);
    match execute(cli.command) {
        Ok(code) => ExitCode::from(code),
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            say!("error: {err:#}");
            ExitCode::from(EXIT_INVALID)
        }
    }
}

fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .with_ansi(io::IsTerminal::is_terminal(&io::stderr()))
        .without_time()
        .init();
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Hands the command to its module.
fn execute(command: Command) -> Result<u8> {
    match command {
        Command::Check(args) => check::run(args),
        Command::Replay(args) => replay::run(args),
        Command::Test(args) => test::run(args),
        Command::New(args) => new::run(args),
        Command::Report(args) => report::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Schema(args) => schema::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Lsp(args) => lsp::run(args),
    }
}
