//! `pactum report`: renders a saved JSON report (`replay --format json`) in another format,
//! without replaying.
//!
//! Every rendering works from the `Report` alone, so the JSON report is the single source:
//! rendering it gives the same bytes as the replay that wrote it would have in that format.

use std::path::{Path, PathBuf};

use anyhow::Result;

use pactum::report;

use crate::commands::load::read_report;
use crate::commands::output::{EXIT_INVALID, RenderingArgs, ReportFormat, write_output};

/// What `pactum report` is given.
#[derive(clap::Args)]
pub struct ReportArgs {
    /// The JSON report (`-` reads standard input).
    report: String,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = ReportFormat::Text)]
    format: ReportFormat,
    #[command(flatten)]
    rendering: RenderingArgs,
    /// Write to this file instead of standard output.
    #[arg(long, short = 'o')]
    output: Option<PathBuf>,
    /// Bytes of violations kept in memory while the report is read, the others in a
    /// temporary file (for tests: the output is the same whatever the figure).
    #[arg(long, hide = true, value_name = "BYTES")]
    violations_in_memory: Option<usize>,
}

/// Runs `pactum report`; returns the exit code.
pub fn run(args: ReportArgs) -> Result<u8> {
    let budget = args
        .violations_in_memory
        .unwrap_or(report::Collector::DEFAULT_BUDGET);
    let rendering = args.rendering.rendering(args.format)?;
    render_saved(
        &args.report,
        args.format,
        rendering,
        args.output.as_deref(),
        budget,
    )
}

/// `pactum report`: a saved JSON report rendered in `format`, its violations read as they
/// are written out (a report of any size renders in bounded memory).
fn render_saved(
    file: &str,
    format: ReportFormat,
    rendering: report::Rendering,
    output: Option<&Path>,
    budget: usize,
) -> Result<u8> {
    let Some(saved) = read_report(file, budget)? else {
        return Ok(EXIT_INVALID);
    };
    write_output(output, |out| {
        report::write(
            &saved.report,
            &saved.violations,
            format.format(),
            rendering,
            out,
        )
    })?;
    Ok(0)
}
