//! `pactum schema KIND`: prints the JSON Schema of a kind of file, for editors.
//!
//! The kinds and the schemas are the library's table (`pactum::schema::SCHEMAS`), whose texts
//! are the shipped files embedded; this command prints the embedded text, so the shipped file
//! and the command's output are the same bytes by construction.

use std::io::{self, Write};

use anyhow::{Result, bail};
use clap::builder::{PossibleValue, PossibleValuesParser};

use crate::commands::output::unless_pipe_closed;

/// What `pactum schema` is given.
#[derive(clap::Args)]
pub struct SchemaArgs {
    /// The kind of file.
    #[arg(value_parser = schema_kinds())]
    kind: String,
}

/// The kinds `pactum schema` takes: every entry of the library's table, with its summary.
fn schema_kinds() -> PossibleValuesParser {
    PossibleValuesParser::new(
        pactum::schema::SCHEMAS
            .iter()
            .map(|schema| PossibleValue::new(schema.kind).help(schema.about)),
    )
}

/// Runs `pactum schema`; returns the exit code.
pub fn run(args: SchemaArgs) -> Result<u8> {
    print_schema(&args.kind)
}

/// Writes the schema of `kind` to standard output as it is shipped, byte for byte.
fn print_schema(kind: &str) -> Result<u8> {
    let Some(schema) = pactum::schema::find(kind) else {
        bail!("no schema for `{kind}`");
    };
    let stdout = io::stdout();
    let mut out = stdout.lock();
    unless_pipe_closed(
        out.write_all(schema.text.as_bytes())
            .and_then(|()| out.flush()),
    )?;
    Ok(0)
}
