//! `pactum diff`: compares two reports of the same events, from two versions of the rules
//! (replaying the events twice) or from two saved JSON reports, and writes what differs.
//!
//! The comparison (violations matched by their evidence) and its renderings are the
//! library's (`pactum::report::diff`); this command only gets the two reports.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use clap::ValueEnum;

use pactum::RunOptions;
use pactum::report;
use pactum::run::RunError;

use crate::commands::confine::RootArgs;
use crate::commands::inputs::open_inputs;
use crate::commands::load::{load_program, read_report};
use crate::commands::output::{EXIT_INVALID, say, unless_pipe_closed};
use pactum::load::confine::Roots;

/// What `pactum diff` is given.
#[derive(clap::Args)]
pub struct DiffArgs {
    /// The old rules, then the new (a file or a directory each).
    #[arg(long = "rules", short = 'r', num_args = 1)]
    rules: Vec<PathBuf>,
    /// Event files (with --rules), or two JSON reports (without).
    #[arg(required = true)]
    files: Vec<String>,
    /// A mapping file for the events (docs/inputs.md).
    #[arg(long, value_name = "FILE")]
    map: Option<PathBuf>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = DiffFormat::Text)]
    format: DiffFormat,
    /// Replaying: skip invalid event lines (listed in each report), as `replay --skip-invalid`.
    #[arg(long)]
    skip_invalid: bool,
    /// Replaying: end both replays at this instant, as `replay --until`.
    #[arg(long, value_parser = crate::commands::replay::parse_until)]
    until: Option<chrono::DateTime<chrono::Utc>>,
    /// Exit 1 when the two reports differ (a violation only in one, or changed), 0 when not,
    /// as `git diff --exit-code` does.
    #[arg(long)]
    exit_code: bool,
    #[command(flatten)]
    roots: RootArgs,
}

/// `--exit-code`: the reports differ.
const EXIT_DIFFERENT: u8 = 1;

#[derive(Clone, Copy, ValueEnum)]
enum DiffFormat {
    Text,
    Json,
    Markdown,
}

/// Runs `pactum diff`; returns the exit code.
pub fn run(args: DiffArgs) -> Result<u8> {
    let mut options = RunOptions::default();
    options.skip_invalid = args.skip_invalid;
    options.until = args.until;
    if args.rules.is_empty() && (args.skip_invalid || args.until.is_some()) {
        bail!(
            "--skip-invalid and --until apply to replays (--rules OLD --rules NEW EVENTS…): two saved reports were made with their own options"
        );
    }
    let d = diff(
        &args.rules,
        &args.files,
        args.map.as_deref(),
        args.format,
        options,
        &args.roots.roots()?,
    )?;
    Ok(match d {
        None => EXIT_INVALID,
        Some(true) if args.exit_code => EXIT_DIFFERENT,
        Some(_) => 0,
    })
}

/// `pactum diff`: two reports of the same events, from two rule sets or two saved files,
/// compared and written; whether they differ, or `None` (said on stderr) when one cannot be
/// made.
fn diff(
    rules: &[PathBuf],
    files: &[String],
    map: Option<&Path>,
    format: DiffFormat,
    options: RunOptions,
    roots: &Roots,
) -> Result<Option<bool>> {
    let (old, new) = match (rules, files) {
        ([], [old, new]) => {
            let budget = report::Collector::DEFAULT_BUDGET;
            let (Some(old_report), Some(new_report)) =
                (read_report(old, budget)?, read_report(new, budget)?)
            else {
                return Ok(None);
            };
            // Compared whole: `diff` pairs every violation of one with those of the other.
            let (old_report, new_report) = (old_report.into_whole()?, new_report.into_whole()?);
            // Violations are matched by their evidence, whose meaning the format's version
            // sets (version 2 cut a threshold's to the events that reach it; version 3 added
            // incidents and left evidence as it was): reports of version 1 and a later one
            // would differ where nothing did.
            let evidence_of = |version: u32| version.min(2);
            if evidence_of(old_report.report_version) != evidence_of(new_report.report_version) {
                say!(
                    "error: {old} is a report of format version {} and {new} of version {}: their evidence is not comparable",
                    old_report.report_version,
                    new_report.report_version
                );
                say!(
                    "  = help: replay both with this pactum (`pactum diff --rules OLD --rules NEW EVENTS…`), or compare reports written by one version"
                );
                return Ok(None);
            }
            (old_report, new_report)
        }
        ([old, new], _) => {
            // One after the other: an invalid event stops the first, and is said once.
            let Some(old) = replay_report(old, files, map, options, roots)? else {
                return Ok(None);
            };
            let Some(new) = replay_report(new, files, map, options, roots)? else {
                return Ok(None);
            };
            (old, new)
        }
        _ => bail!(
            "give --rules OLD --rules NEW and the event files, or two JSON reports (OLD.json NEW.json)"
        ),
    };
    let d = report::diff::diff(&old, &new);
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let written = match format {
        DiffFormat::Text => report::diff::write_text(&d, &mut out),
        DiffFormat::Markdown => report::diff::write_markdown(&d, &mut out),
        DiffFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report::outputs::diff::build(&d))
                // `From` keeps an IO error's kind (a closed pipe ends quietly).
                .map_err(io::Error::from)
                .and_then(|()| writeln!(out))
        }
    }
    .and_then(|()| out.flush());
    unless_pipe_closed(written)?;
    Ok(Some(
        !(d.only_old.is_empty() && d.only_new.is_empty() && d.changed.is_empty()),
    ))
}

/// The report of replaying `events` under `rules`, or `None` (said on stderr) when the rules,
/// the mapping or an event is invalid.
fn replay_report(
    rules: &Path,
    events: &[String],
    map: Option<&Path>,
    options: RunOptions,
    roots: &Roots,
) -> Result<Option<report::Report>> {
    let Some((program, mapping)) = load_program(&[rules.to_path_buf()], map, "compared", roots)?
    else {
        return Ok(None);
    };
    let inputs = open_inputs(events, None, mapping.as_ref())?;
    let mut sink = report::Collector::new(&program);
    match pactum::run(&program, inputs, options, &mut sink) {
        Ok(outcome) => {
            let collected = sink.finish()?;
            Ok(Some(report::build_whole(
                &program, &outcome, options, &collected,
            )?))
        }
        Err(RunError::Invalid(invalid)) => {
            say!("error: invalid event at {invalid}");
            if !invalid.ends_input {
                say!(
                    "  = help: fix the line, or pass --skip-invalid to skip such lines and list them in each report"
                );
            }
            Ok(None)
        }
        Err(err) => Err(err.into()),
    }
}
