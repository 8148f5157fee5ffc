//! `pactum report`: renders a saved JSON report (`replay --format json`) in another format,
//! without replaying.
//!
//! Every rendering works from the `Report` alone, so the JSON report is the single source:
//! rendering it gives the same bytes as the replay that wrote it would have in that format.

use std::path::{Path, PathBuf};

use anyhow::Result;

use pactum::report;

use crate::commands::load::read_report;
use crate::commands::output::{EXIT_INVALID, ReportFormat, write_output};

/// What `pactum report` is given.
#[derive(clap::Args)]
pub struct ReportArgs {
    /// The JSON report (`-` reads standard input).
    report: String,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = ReportFormat::Text)]
    format: ReportFormat,
    /// Write to this file instead of standard output.
    #[arg(long, short = 'o')]
    output: Option<PathBuf>,
}

/// Runs `pactum report`; returns the exit code.
pub fn run(args: ReportArgs) -> Result<u8> {
    render_saved(&args.report, args.format, args.output.as_deref())
}

/// `pactum report`: a saved JSON report rendered in `format`.
fn render_saved(file: &str, format: ReportFormat, output: Option<&Path>) -> Result<u8> {
    let Some(report) = read_report(file)? else {
        return Ok(EXIT_INVALID);
    };
    write_output(output, |out| {
        report::write(&report, &report.violations, format.format(), out)
    })?;
    Ok(0)
}
