//! `pactum report`: renders a saved JSON report (`replay --format json`) in another format,
//! without replaying.
//!
//! Every rendering works from the `Report` alone, so the JSON report is the single source:
//! rendering it gives the same bytes as the replay that wrote it would have in that format.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use pactum::report;

use crate::commands::load::read_report;
use crate::commands::output::{EXIT_INVALID, ReportFormat, unless_pipe_closed};

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
    match output {
        Some(path) => {
            let file = fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            let mut out = BufWriter::new(file);
            report::write(&report, &report.violations, format.format(), &mut out)?;
            out.flush()?;
        }
        None => {
            let stdout = io::stdout();
            let mut out = BufWriter::new(stdout.lock());
            let written = report::write(&report, &report.violations, format.format(), &mut out)
                .and_then(|()| out.flush());
            unless_pipe_closed(written)?;
        }
    }
    Ok(0)
}
