//! `pactum check`: validates agreement files and a mapping file, and prints every problem
//! found (as rustc-style text or as the versioned JSON of
//! `pactum::report::outputs::check`), or what each valid file holds.
//!
//! The library gives every problem as a `Diagnostic`, all of them in one run; this command
//! only decides how to show them and the exit code: 0 when every file is valid (warnings
//! allowed), 2 otherwise.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::ValueEnum;

use pactum::diagnostic::Level;
use pactum::report;

use crate::commands::confine::RootArgs;
use crate::commands::load::{load_mapping, load_rules};
use crate::commands::output::{EXIT_INVALID, print_diagnostics, say, unless_pipe_closed};
use pactum::load::confine::Roots;

/// What `pactum check` is given.
#[derive(clap::Args)]
pub struct CheckArgs {
    /// Agreement files, or directories meaning every *.yaml and *.yml in them.
    #[arg(required_unless_present = "map")]
    paths: Vec<PathBuf>,
    /// A mapping file to validate as well (docs/inputs.md).
    #[arg(long, value_name = "FILE")]
    map: Option<PathBuf>,
    /// How to print problems.
    #[arg(long, value_enum, default_value_t = DiagnosticFormat::Human)]
    format: DiagnosticFormat,
    #[command(flatten)]
    roots: RootArgs,
}

#[derive(Clone, Copy, ValueEnum)]
enum DiagnosticFormat {
    Human,
    Json,
}

/// Runs `pactum check`; returns the exit code.
pub fn run(args: CheckArgs) -> Result<u8> {
    check(
        &args.paths,
        args.map.as_deref(),
        args.format,
        &args.roots.roots()?,
    )
}

fn check(
    paths: &[PathBuf],
    map: Option<&Path>,
    format: DiagnosticFormat,
    roots: &Roots,
) -> Result<u8> {
    let (program, mut diagnostics) = if paths.is_empty() {
        (None, Vec::new())
    } else {
        load_rules(paths, roots)?
    };
    let (mapping, found) = match map {
        Some(path) => load_mapping(path, None, roots),
        None => (None, Vec::new()),
    };
    diagnostics.extend(found);
    let valid = (paths.is_empty() || program.is_some()) && (map.is_none() || mapping.is_some());
    let errors = diagnostics
        .iter()
        .filter(|d| d.level == Level::Error)
        .count();
    let warnings = diagnostics.len() - errors;
    match format {
        DiagnosticFormat::Human => {
            print_diagnostics(&diagnostics);
            if valid {
                let stdout = io::stdout();
                let mut out = stdout.lock();
                let agreements = program.as_ref().map_or(&[][..], |p| p.agreements());
                let written = agreements
                    .iter()
                    .try_for_each(|agreement| {
                        writeln!(
                            out,
                            "ok: {} ({}, {} term(s))",
                            agreement.source.name,
                            agreement.id,
                            agreement.terms.len()
                        )
                    })
                    .and_then(|()| match &mapping {
                        Some(mapping) => writeln!(
                            out,
                            "ok: {} (mapping {}, {} field(s))",
                            mapping.provenance().file,
                            mapping.provenance().id,
                            mapping.field_names().count()
                        ),
                        None => Ok(()),
                    });
                unless_pipe_closed(written)?;
                // Valid, but the warnings above deserve a count as well as errors do.
                if warnings > 0 {
                    say!("0 error(s), {warnings} warning(s)");
                }
            } else {
                say!("{errors} error(s), {warnings} warning(s)");
            }
        }
        DiagnosticFormat::Json => {
            let document = report::outputs::check::build(&diagnostics);
            let stdout = io::stdout();
            let mut out = stdout.lock();
            let written = serde_json::to_writer_pretty(&mut out, &document)
                .map_err(io::Error::from)
                .and_then(|()| writeln!(out));
            unless_pipe_closed(written)?;
        }
    }
    Ok(if valid { 0 } else { EXIT_INVALID })
}
