//! `pactum new`: writes a starting agreement or scenario, with comments that say what each
//! part is for. What it writes passes `pactum check` (and a scenario passes `pactum test`,
//! with full clause coverage): a test runs both on the output, so the templates cannot rot.
//!
//! The example is an invented ceasefire between two invented states, so that nothing in it
//! reads as a claim about a real conflict. Each YAML file's first line names its JSON Schema
//! for editors (`# yaml-language-server: $schema=KIND.schema.json`), and the schema is written
//! beside it: a file written anywhere by an installed binary has neither the repository's
//! `docs/schema/` nor a published address to point at, and a schema beside it works offline and
//! is the one of the pactum that wrote it (`pactum schema KIND` prints the same bytes).

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

/// One file `pactum new` writes.
struct File {
    path: PathBuf,
    text: String,
    /// A schema the files beside it name: one already there with the same bytes is kept (two
    /// agreements in one folder share it), one that differs is left as it is, with a note.
    shared: bool,
}

impl File {
    fn new(path: PathBuf, text: String) -> Self {
        File {
            path,
            text,
            shared: false,
        }
    }

    /// The schema of `kind`, in `dir`, under the name the files' `$schema` lines give.
    fn schema(dir: &Path, kind: &str) -> Self {
        File {
            path: dir.join(format!("{kind}.schema.json")),
            text: pactum::schema::find(kind).map_or_else(String::new, |s| s.text.to_string()),
            shared: true,
        }
    }
}

/// Writes the files; refuses to overwrite any (a schema already there is kept).
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
    let files: Vec<File> = match kind {
        Kind::Agreement => vec![
            File::new(dir.join(format!("{name}.yaml")), agreement(name)),
            File::schema(dir, "agreement"),
        ],
        Kind::Scenario => {
            let at = dir.join(name);
            vec![
                File::new(at.join("agreement.yaml"), agreement(name)),
                File::new(at.join("events.jsonl"), EVENTS.to_string()),
                File::new(at.join("scenario.yaml"), scenario(name)),
                File::new(at.join("README.md"), readme(name)),
                File::schema(&at, "agreement"),
                File::schema(&at, "scenario"),
            ]
        }
    };
    if let Some(existing) = files.iter().find(|f| !f.shared && f.path.exists()) {
        say!(
            "error: {} exists; nothing was written",
            existing.path.display()
        );
        return Ok(EXIT_INVALID);
    }
    for file in &files {
        let path = &file.path;
        if file.shared && path.exists() {
            let same = fs::read(path).is_ok_and(|bytes| bytes == file.text.as_bytes());
            if !same {
                let kind = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .and_then(|n| n.strip_suffix(".schema.json"))
                    .unwrap_or("KIND");
                say!(
                    "note: {} differs from this pactum's schema and was left as it is (`pactum schema {kind} > {}` replaces it)",
                    path.display(),
                    path.display()
                );
            }
            continue;
        }
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        fs::write(path, &file.text).with_context(|| format!("cannot write {}", path.display()))?;
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
        r#"# yaml-language-server: $schema=agreement.schema.json
# {name}: an agreement's terms as rules (docs/guide.md walks through every part).
# The example is an invented ceasefire between two invented states: replace it with yours.
agreement: {name}
title: "{name} (edit: the agreement's title)"
parties:
  # Codes for the parties: who can be in breach.
  NORTH: Republic of Northland
  SOUTH: Southland Federation
effective: {{from: 2025-03-01}}
sources:
  - "https://example.org/where-the-terms-are-reported"
lists:
  fire_kinds: [shelling, airstrike, drone_strike]
terms:
  - id: no-fire-across-the-line
    article: "1"
    title: Neither party fires into the other's territory
    description: >-
      Say which clause this is and what breaks it.
    severity: high
    # A party code, or an expression giving one: here the party that fired.
    breached_by: event.party
    when: event.kind in fire_kinds && event.country != event.party
    message: "{{event.party}} {{event.kind}} at {{event.place}}, across the line"
"#
    )
}

const EVENTS: &str = r#"{"id": "shelling-1", "time": "2025-03-02T22:00:00+02:00", "kind": "shelling", "party": "NORTH", "country": "SOUTH", "place": "Lowfield"}
{"id": "drone-1", "time": "2025-03-03T06:30:00Z", "kind": "drone_strike", "party": "SOUTH", "country": "NORTH", "place": "Ridgeway"}
{"id": "range-practice", "time": "2025-03-04", "kind": "shelling", "party": "NORTH", "country": "NORTH", "place": "Highmoor range"}
"#;

fn scenario(name: &str) -> String {
    format!(
        r#"# yaml-language-server: $schema=scenario.schema.json
title: "{name} (edit: what this scenario replays)"
description: >-
  Which events, under which rules, and what they must give.
rules: [agreement.yaml]
events: [events.jsonl]
expect:
  violations:
    # Northland shells a village in Southland: Northland breaches the term (positive case).
    - {{agreement: {name}, term: no-fire-across-the-line, time: "2025-03-02T20:00:00Z", breached_by: NORTH, evidence: [shelling-1]}}
    # A Southland drone strike in Northland: Southland does.
    - {{agreement: {name}, term: no-fire-across-the-line, time: "2025-03-03T06:30:00Z", breached_by: SOUTH, evidence: [drone-1]}}
  quiet:
    # Firing on one's own range must not (negative case).
    - {{event: range-practice, terms: [no-fire-across-the-line], why: "inside Northland, by Northland"}}
  skipped: 0
"#
    )
}

fn readme(name: &str) -> String {
    format!(
        "# Scenario: {name}\n\nWhat it replays, where each event comes from, and why each expected violation (and\neach quiet event) is expected.\n\nRun it: `pactum test --coverage {name}`\n"
    )
}
