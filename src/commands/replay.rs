//! `pactum replay`: loads the rules (and a mapping), replays the event inputs through them,
//! writes the report, and turns what it holds into the exit code (`--fail-on`).
//!
//! Standard input alone is a stream: events are judged as they come (`--max-delay`), and JSON
//! Lines output is written as each violation is decided, through the command line's
//! [`CliSink`]. Whatever the format, what the report holds besides violations (terms that
//! failed, late events, skipped lines) is also said on stderr.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::ValueEnum;

use pactum::RunOptions;
use pactum::load::agreement::Severity;
use pactum::report::{self, Format};
use pactum::run::RunError;

use crate::commands::background::BackgroundWriter;
use crate::commands::checkpoint;
use crate::commands::confine::RootArgs;
use crate::commands::inputs::{InputFormatArg, open_inputs};
use crate::commands::interrupt;
use crate::commands::load::load_program;
use crate::commands::output::{
    EXIT_INVALID, EXIT_VIOLATIONS, Pending, RenderingArgs, ReportFormat, open_output, say,
    unless_pipe_closed, write_output,
};
use crate::commands::sink::{Bar, CliSink};

/// What `pactum replay` is given.
#[derive(clap::Args)]
pub struct ReplayArgs {
    /// Agreement file, or a directory meaning every *.yaml and *.yml in it. Repeatable.
    #[arg(long = "rules", short = 'r', required = true)]
    rules: Vec<PathBuf>,
    /// Event files (JSON Lines; YAML lists for .yaml/.yml; CSV for .csv); `-` reads standard
    /// input.
    #[arg(required = true)]
    events: Vec<String>,
    /// Report format.
    #[arg(long, short = 'f', value_enum, default_value_t = ReportFormat::Text)]
    format: ReportFormat,
    #[command(flatten)]
    rendering: RenderingArgs,
    /// Write the report to this file instead of standard output.
    #[arg(long, short = 'o')]
    output: Option<PathBuf>,
    /// Exit 1 when a violation at or above this severity is found.
    #[arg(long, value_enum)]
    fail_on: Option<SeverityArg>,
    /// Skip invalid event lines, listing each in the report, instead of stopping at the first.
    #[arg(long)]
    skip_invalid: bool,
    /// A mapping file that turns the records of every input into events (docs/inputs.md).
    #[arg(long, value_name = "FILE")]
    map: Option<PathBuf>,
    /// Format of the event inputs; by default from the extension (.yaml/.yml: YAML, .csv: CSV,
    /// else JSON Lines).
    #[arg(long, value_enum)]
    input_format: Option<InputFormatArg>,
    /// Reading standard input alone: how long an event may come after later ones and still
    /// be judged in time order (it waits that long in a reorder buffer). Later events are
    /// judged on arrival and listed as late.
    #[arg(long, value_parser = parse_delay, default_value = "10m")]
    max_delay: chrono::TimeDelta,
    /// End the replay at this instant (YYYY-MM-DD for 00:00 UTC, or RFC 3339): later
    /// events are judged by no term, and absences and deadlines are judged up to it.
    #[arg(long, value_parser = parse_until)]
    until: Option<chrono::DateTime<chrono::Utc>>,
    /// Evaluate every condition in full (for tests: results are the same, only slower).
    #[arg(long, hide = true)]
    no_memo: bool,
    /// Bytes of violations kept in memory before a sorted run of them is written to a
    /// temporary file (for tests: the report is the same whatever the figure).
    #[arg(long, hide = true, value_name = "BYTES")]
    violations_in_memory: Option<usize>,
    /// The live state one temporal term may hold, in bytes as the engine counts them, before
    /// it is suspended (for tests: the limit of docs/security.md made small; 0: none).
    #[arg(long, hide = true, value_name = "BYTES")]
    term_state_limit: Option<u64>,
    /// The live state all terms may hold together (for tests, as `--term-state-limit`).
    #[arg(long, hide = true, value_name = "BYTES")]
    state_limit: Option<u64>,
    /// Threads to use. With 2 or more, each input is hashed, and a JSON or JSON Lines report
    /// written to a file, on threads of their own beside the one that reads and judges the
    /// events. The report is the same with any number. Default: the number of cores.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
    /// No progress bar (one is shown on a terminal when a replay runs over a second).
    #[arg(long, short = 'q')]
    quiet: bool,
    /// Reading standard input alone: keep the replay's state in FILE (and the violations
    /// decided in FILE.violations), so that a run killed or restarted, given the same stream
    /// from its start, resumes from the last checkpoint. Both files are removed once the
    /// stream has ended and the report is written. The report is written at the end, never
    /// as violations are decided.
    #[arg(long, value_name = "FILE")]
    checkpoint: Option<PathBuf>,
    /// With --checkpoint: events judged between two checkpoints.
    #[arg(long, value_name = "EVENTS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    checkpoint_every: u64,
    #[command(flatten)]
    roots: RootArgs,
}

#[derive(Clone, Copy, ValueEnum)]
enum SeverityArg {
    Low,
    Medium,
    High,
    Critical,
}

fn parse_delay(text: &str) -> std::result::Result<chrono::TimeDelta, String> {
    if text.trim() == "0" || text.trim() == "0s" {
        return Ok(chrono::TimeDelta::zero());
    }
    pactum::time::parse_duration(text)
}

pub(crate) fn parse_until(
    text: &str,
) -> std::result::Result<chrono::DateTime<chrono::Utc>, String> {
    pactum::time::parse_instant(text).map(|(time, _)| time)
}

/// Runs `pactum replay`; returns the exit code.
pub fn run(args: ReplayArgs) -> Result<u8> {
    // Before anything is read: a rendering JSON cannot show is the command line's mistake.
    let rendering = args.rendering.rendering(args.format)?;
    let Some((program, mapping)) = load_program(
        &args.rules,
        args.map.as_deref(),
        "replayed",
        &args.roots.roots()?,
    )?
    else {
        return Ok(EXIT_INVALID);
    };
    if args.events.iter().filter(|e| *e == "-").count() > 1 {
        bail!("standard input (`-`) can be read only once");
    }
    let inputs = open_inputs(&args.events, args.input_format, mapping.as_ref())?;
    let mut options = RunOptions::default();
    options.skip_invalid = args.skip_invalid;
    options.memo = !args.no_memo;
    options.until = args.until;
    options.max_delay = args.max_delay;
    options.max_term_state = args.term_state_limit.unwrap_or(options.max_term_state);
    options.max_state = args.state_limit.unwrap_or(options.max_state);
    options.threads = match args.threads {
        Some(threads) => usize::from(threads),
        None => std::thread::available_parallelism().map_or(1, usize::from),
    };
    let format = args.format.format();
    // Standard input alone is a stream: events are judged as they come, and JSON Lines output
    // is written as each violation is decided.
    let streaming = args.events == ["-"];
    if streaming {
        // A stream may run for days: a signal ends it as if it had ended, and what was
        // judged is reported (`interrupt`).
        interrupt::install().context("cannot install the signal handlers")?;
    }
    if args.checkpoint.is_some() && !streaming {
        bail!(
            "--checkpoint is for a stream (standard input alone, `-`): a file is replayed again from its start"
        );
    }
    // A checkpointed stream's violations are kept in its journal, and written at the end: a
    // violation written as it is decided could not be taken back when the run resumes from a
    // checkpoint before it.
    let live = streaming && format == Format::JsonLines && args.checkpoint.is_none();
    // A JSON or JSON Lines report to a file is written as its violations settle, into a
    // temporary file renamed over the path at the end: nothing is held. Other formats open
    // with counts, and standard output gets nothing from a run that fails: those reports are
    // written once the run is over.
    let budget = args
        .violations_in_memory
        .unwrap_or(report::Collector::DEFAULT_BUDGET);
    let mut pending = None;
    let collector = match &args.output {
        Some(path) if !live && matches!(format, Format::Json | Format::JsonLines) => {
            let (file, out) = Pending::create(path)?;
            pending = Some(file);
            let lines = format == Format::JsonLines;
            let out: Box<dyn std::io::Write> = if options.threads >= 2 {
                Box::new(BackgroundWriter::new(out).context("cannot start a thread")?)
            } else {
                Box::new(out)
            };
            let release = report::release(&program, lines, out)?;
            report::Collector::releasing(&program, budget, release)
        }
        _ => report::Collector::with_budget(&program, budget),
    };
    let mut sink = CliSink {
        program: &program,
        collector,
        live: if live {
            Some(open_output(args.output.as_deref())?)
        } else {
            None
        },
        worst: None,
        bar: if args.quiet || streaming {
            None
        } else {
            Bar::new(&args.events)
        },
        journal: None,
    };
    let result = match &args.checkpoint {
        None => pactum::run(&program, inputs, options, &mut sink),
        Some(path) => {
            let fingerprint = pactum::run::checkpoint::fingerprint(
                &program,
                mapping.as_ref().map(|m| m.provenance().sha256.as_str()),
                &options,
            );
            // The violations decided before the checkpoint, as if decided now.
            let (resume, journal) = checkpoint::open(path, &fingerprint, &mut |violation| {
                pactum::Sink::violation(&mut sink, violation)
            })?;
            sink.journal = Some(journal);
            let mut saver = checkpoint::Saver {
                path: path.clone(),
                every: args.checkpoint_every,
            };
            pactum::run::run_checkpointed(
                &program,
                inputs,
                options,
                &mut sink,
                &fingerprint,
                resume,
                &mut saver,
            )
        }
    };
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(RunError::Invalid(invalid)) => {
            say!("error: invalid event at {invalid}");
            if invalid.ends_input {
                say!("  = help: the input cannot be read past this, even with --skip-invalid");
            } else {
                say!(
                    "  = help: fix the line, or pass --skip-invalid to skip such lines and list them in the report"
                );
            }
            return Ok(EXIT_INVALID);
        }
        Err(RunError::Io { file, source }) => {
            return Err(anyhow::Error::new(source).context(format!("cannot read {file}")));
        }
        Err(RunError::Resume(pactum::run::ResumeError::Shorter { records, saved }))
            if interrupt::received().is_some() =>
        {
            // The stream ended because a signal ended it, while the part before the
            // checkpoint was being read again: nothing was judged, and the checkpoint stays.
            let (signal, code) = interrupt::received().unwrap_or(("a signal", 130));
            say!(
                "warning: interrupted by {signal} while reading the stream again up to the checkpoint ({records} of {saved} records): nothing judged; the checkpoint is kept"
            );
            return Ok(code);
        }
        Err(RunError::Sink(err)) => {
            unless_pipe_closed(Err(err))?;
            return Ok(0);
        }
        Err(other) => return Err(other.into()),
    };
    // The bar goes before the report is written.
    drop(sink.bar.take());
    let live = sink.live.is_some();
    let worst_live = sink.worst;
    let report = match pending {
        Some(file) => {
            let released = sink.collector.finish_released()?;
            let report = interrupted(report::build(
                &program,
                &outcome,
                options,
                released.tally(),
            )?);
            released.end(&report)?;
            file.commit()?;
            report
        }
        None => {
            let violations = sink.collector.finish()?;
            let report = interrupted(report::build(
                &program,
                &outcome,
                options,
                violations.tally(),
            )?);
            if !live {
                write_output(args.output.as_deref(), |out| {
                    report::write(&report, &violations, format, rendering, out)
                })?;
            }
            report
        }
    };
    // Whatever the format, say on stderr what the report holds besides violations: a term
    // that fails on every event must not pass unnoticed behind a quiet exit code.
    if !report.errors.is_empty() {
        let events: u64 = report.errors.iter().map(|e| e.count).sum();
        say!(
            "warning: {} term(s) failed on {events} event(s) in all; see the report's rule errors",
            report.errors.len()
        );
    }
    for s in &report.suspended {
        let why = match s.reason {
            report::SuspensionReason::Budget => "spent more than its budget".to_string(),
            report::SuspensionReason::State => format!(
                "held more live state than one term may ({} bytes; the limit is {})",
                s.state_bytes.unwrap_or_default(),
                s.state_limit_bytes.unwrap_or_default()
            ),
            report::SuspensionReason::AllState => format!(
                "held the most live state ({} bytes) when all terms held more than they may together ({} bytes; the limit is {})",
                s.state_bytes.unwrap_or_default(),
                s.all_state_bytes.unwrap_or_default(),
                s.state_limit_bytes.unwrap_or_default()
            ),
        };
        say!(
            "warning: term {}/{} {why} and was suspended after {} ({}:{}); it did not judge the {} later event(s)",
            s.agreement,
            s.term,
            s.event,
            s.file,
            s.line,
            s.not_judged
        );
    }
    if !report.late.is_empty() {
        say!(
            "warning: {} event(s) came later than --max-delay allows and were judged out of time order; see the report's late events",
            report.late.len()
        );
    }
    if !report.skipped.is_empty() {
        say!(
            "warning: {} invalid input line(s) skipped; see the report's skipped lines",
            report.skipped.len()
        );
    }
    let threshold = args.fail_on.map(|s| match s {
        SeverityArg::Low => Severity::Low,
        SeverityArg::Medium => Severity::Medium,
        SeverityArg::High => Severity::High,
        SeverityArg::Critical => Severity::Critical,
    });
    let reached = |severity| {
        report::any_at_or_above(&report, severity) || worst_live.is_some_and(|w| w >= severity)
    };
    // The stream has ended and its report is written: a later run starts afresh. (Ended by a
    // signal, it may be restarted: the checkpoint stays.)
    if let Some(path) = &args.checkpoint
        && interrupt::received().is_none()
    {
        checkpoint::remove(path)?;
    }
    if let Some((signal, code)) = interrupt::received() {
        let dropped = interrupt::dropped();
        let partial = if dropped > 0 {
            format!("; the incomplete line after it ({dropped} bytes) was not read")
        } else {
            String::new()
        };
        let said = if live { "" } else { ", and the report says so" };
        say!(
            "warning: interrupted by {signal}: the stream was judged up to the last event read{partial}{said}"
        );
        return Ok(code);
    }
    Ok(match threshold {
        Some(severity) if reached(severity) => EXIT_VIOLATIONS,
        _ => 0,
    })
}

/// `report`, marked interrupted if a signal ended the stream (`interrupt`).
fn interrupted(mut report: report::Report) -> report::Report {
    if let Some((signal, _)) = interrupt::received() {
        report.options.interrupted = Some(signal.to_string());
    }
    report
}
