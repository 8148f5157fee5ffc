//! `pactum new`: writes a starting agreement or scenario, with comments that say what each
//! part is for. What it writes passes `pactum check` (and a scenario passes `pactum test`,
//! with full clause coverage): a test runs both on the output, so the templates cannot rot.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::commands::output::{EXIT_INVALID, say};

/// What `pactum new` is given.
#[derive(clap::Args)]
pub struct NewArgs {
    /// What to write.
    #[arg(value_enum)]
    kind: Kind,
    /// Its name: lowercase letters, digits and '-'.
    name: String,
    /// Where to write it (default: the current directory).
    #[arg(long)]
    dir: Option<PathBuf>,
}

/// What `pactum new` writes.
#[derive(Clone, Copy, clap::ValueEnum)]
enum Kind {
    /// An agreement file, `NAME.yaml`.
    Agreement,
    /// A scenario directory, `NAME/`, with its own agreement, events and README.
    Scenario,
}

/// Runs `pactum new`; returns the exit code.
pub fn run(args: NewArgs) -> Result<u8> {
    new(args.kind, &args.name, &args.dir.unwrap_or_default())
}

/// Writes the files; refuses to overwrite any.
fn new(kind: Kind, name: &str, dir: &Path) -> Result<u8> {
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-');
    if !valid {
        say!("error: `{name}` is not a name: use lowercase letters, digits and '-'");
        return Ok(EXIT_INVALID);
    }
    let files: Vec<(PathBuf, String)> = match kind {
        Kind::Agreement => vec![(dir.join(format!("{name}.yaml")), agreement(name))],
        Kind::Scenario => {
            let at = dir.join(name);
            vec![
                (at.join("agreement.yaml"), agreement(name)),
                (at.join("events.jsonl"), EVENTS.to_string()),
                (at.join("scenario.yaml"), scenario(name)),
                (at.join("README.md"), readme(name)),
            ]
        }
    };
    if let Some((existing, _)) = files.iter().find(|(path, _)| path.exists()) {
        say!("error: {} exists; nothing was written", existing.display());
        return Ok(EXIT_INVALID);
    }
    for (path, text) in &files {
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    match kind {
        Kind::Agreement => println!(
            "next: edit it, then `pactum check {}`",
            dir.join(format!("{name}.yaml")).display()
        ),
        Kind::Scenario => println!(
            "next: edit it, then `pactum test --coverage {}`",
            dir.join(name).display()
        ),
    }
    Ok(0)
}

fn agreement(name: &str) -> String {
    format!(
        r#"# {name}: an agreement's terms as rules (docs/guide.md walks through every part).
agreement: {name}
title: "{name} (edit: the agreement's title)"
parties:
  # Codes for the parties: who can be in breach.
  IQ: Republic of Iraq
  TR: Republic of Türkiye
effective: {{from: 2024-08-15}}
sources:
  - "https://example.org/where-the-terms-are-reported"
lists:
  strike_kinds: [airstrike, drone_strike, artillery]
terms:
  - id: no-strikes-inside-iraq
    article: "1"
    title: No Turkish strike inside Iraq
    description: >-
      Say which clause this is and what breaks it.
    severity: high
    breached_by: TR
    when: event.party == "TR" && event.kind in strike_kinds && event.country == "IQ"
    message: "Turkish {{event.kind}} at {{event.place}}"
"#
    )
}

const EVENTS: &str = r#"{"id": "strike-1", "time": "2024-09-02T22:00:00+03:00", "kind": "airstrike", "party": "TR", "country": "IQ", "place": "Gara"}
{"id": "strike-in-turkey", "time": "2024-09-03", "kind": "airstrike", "party": "TR", "country": "TR", "place": "Hakkari"}
"#;

fn scenario(name: &str) -> String {
    format!(
        r#"title: "{name} (edit: what this scenario replays)"
description: >-
  Which events, under which rules, and what they must give.
rules: [agreement.yaml]
events: [events.jsonl]
expect:
  violations:
    # A Turkish strike inside Iraq breaches the term (positive case).
    - {{agreement: {name}, term: no-strikes-inside-iraq, time: "2024-09-02T19:00:00Z", breached_by: TR, evidence: [strike-1]}}
  quiet:
    # A strike inside Türkiye must not (negative case).
    - {{event: strike-in-turkey, terms: [no-strikes-inside-iraq], why: "inside Türkiye"}}
  skipped: 0
"#
    )
}

fn readme(name: &str) -> String {
    format!(
        "# Scenario: {name}\n\nWhat it replays, where each event comes from, and why each expected violation (and\neach quiet event) is expected.\n\nRun it: `pactum test --coverage {name}`\n"
    )
}
