//! `pactum test --bless`: writes each scenario's expectations from its replay, and shows what
//! changed as a unified diff.
//!
//! The library's [`pactum::scenario::bless`] edits a scenario's text; this module replays each
//! scenario as `pactum test` does, writes the edited text in place of the file (a temporary file
//! beside it, synced and renamed over it, so that a run stopped at any point leaves the earlier
//! file whole), and judges what it wrote as `pactum test` would. A scenario that cannot be
//! replayed cleanly (its file, rules, mapping or events invalid, or a term failing on an event)
//! is not written: expectations written from a failed replay would state its failure.

use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use pactum::load::confine::Roots;
use pactum::scenario::{self, bless::BlessError};

use crate::commands::output::{EXIT_INVALID, EXIT_VIOLATIONS, Pending, say};
use crate::commands::scenarios::{replay_scenario, scenario_files, scenario_name};

/// What became of one scenario.
enum Outcome {
    /// Written; the diff.
    Blessed(String),
    /// Its expectations were the replay's already.
    Unchanged,
    /// Not written, and why.
    NotBlessed(Vec<String>),
}

/// Blesses the scenarios under `paths`; returns the exit code: 0 when each was written or
/// already held and holds, 1 when one written still fails on what `--bless` does not write
/// (a quiet event that fires, an included violation missing, skipped lines), 2 when one could
/// not be written.
pub fn bless(paths: &[PathBuf], roots: &Roots) -> Result<u8> {
    let files = scenario_files(paths)?;
    if files.is_empty() {
        let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        say!("error: no scenario.yaml under {}", shown.join(", "));
        return Ok(EXIT_INVALID);
    }
    let mut out = String::new();
    let (mut blessed, mut unchanged, mut refused, mut failing) = (0, 0, 0, 0);
    for file in &files {
        let name = scenario_name(file);
        let (outcome, summary, failures) = bless_one(file, roots)?;
        match &outcome {
            Outcome::Blessed(diff) => {
                blessed += 1;
                let _ = writeln!(out, "blessed {name}{summary}");
                out.push_str(diff);
            }
            Outcome::Unchanged => {
                unchanged += 1;
                let _ = writeln!(
                    out,
                    "unchanged {name}{summary}: its expectations are the replay's"
                );
            }
            Outcome::NotBlessed(why) => {
                refused += 1;
                let _ = writeln!(
                    out,
                    "NOT BLESSED {name}: {} was left as it was",
                    file.display()
                );
                list(&mut out, why);
            }
        }
        if !failures.is_empty() {
            failing += 1;
            let _ = writeln!(
                out,
                "FAIL {name}: what --bless does not write does not hold"
            );
            list(&mut out, &failures);
        }
    }
    let _ = write!(
        out,
        "{} scenario(s): {blessed} blessed, {unchanged} unchanged, {refused} not blessed",
        files.len()
    );
    if failing > 0 {
        let _ = write!(out, ", {failing} failing");
    }
    out.push('\n');
    print!("{out}");
    Ok(if refused > 0 {
        EXIT_INVALID
    } else if failing > 0 {
        EXIT_VIOLATIONS
    } else {
        0
    })
}

/// Paragraphs as `pactum test` lists failures: `  - ` before each, its lines indented.
fn list(out: &mut String, paragraphs: &[String]) {
    for paragraph in paragraphs {
        for (i, line) in paragraph.lines().enumerate() {
            let lead = if i == 0 { "  - " } else { "    " };
            let _ = writeln!(out, "{lead}{line}");
        }
    }
}

/// Blesses one scenario: what became of it, the replay's counts (as `pactum test` shows
/// them), and what still fails in the file as it now is.
fn bless_one(file: &Path, roots: &Roots) -> Result<(Outcome, String, Vec<String>)> {
    let refuse = |why: String| Ok((Outcome::NotBlessed(vec![why]), String::new(), Vec::new()));
    let name = file.display().to_string();
    let text = match fs::read_to_string(file) {
        Ok(text) => text,
        Err(e) => return refuse(format!("cannot read {name}: {e}")),
    };
    let draft = match scenario::load_draft(&name, &text, roots) {
        Ok(draft) => draft,
        Err(d) => return refuse(d.render()),
    };
    let (_, report, events, periods) = match replay_scenario(file, draft, roots) {
        Ok(replayed) => replayed,
        Err(why) => return refuse(why),
    };
    let summary = format!(
        "  ({} events, {} violations)",
        report.summary.events, report.summary.violations
    );
    if !report.errors.is_empty() {
        let why: Vec<String> = report
            .errors
            .iter()
            .map(|e| {
                format!(
                    "rule errors: {}/{} failed on {} event(s), first {}: {}",
                    e.agreement, e.term, e.count, e.first.event, e.first.message
                )
            })
            .collect();
        return Ok((Outcome::NotBlessed(why), summary, Vec::new()));
    }
    let blessed = match scenario::bless::bless(&name, &text, roots, &report) {
        Ok(blessed) => blessed,
        Err(BlessError::Invalid(d)) => return refuse(d.render()),
        Err(e) => return refuse(e.to_string()),
    };
    let outcome = if blessed.text == text {
        Outcome::Unchanged
    } else {
        if let Err(err) = write(file, &blessed.text) {
            return Ok((
                Outcome::NotBlessed(vec![format!("{err:#}")]),
                summary,
                Vec::new(),
            ));
        }
        // Line breaks are kept as they were (CRLF stays CRLF): the diff shows the lines.
        let (old, new) = (
            text.replace("\r\n", "\n"),
            blessed.text.replace("\r\n", "\n"),
        );
        let mut diff = similar::TextDiff::from_lines(&old, &new)
            .unified_diff()
            .context_radius(3)
            .header(&name, &name)
            .to_string();
        for note in &blessed.notes {
            let _ = writeln!(diff, "note: {note}");
        }
        Outcome::Blessed(diff)
    };
    // Judged as `pactum test` judges the file now written.
    let failures = match scenario::load(&name, &blessed.text, roots) {
        Ok(scenario) => scenario::judge(&scenario, &report, &events, &periods).failures,
        Err(d) => vec![d.render()],
    };
    Ok((outcome, summary, failures))
}

/// Writes `text` in place of `file` (of the file a link names, so that the link stays): a
/// temporary file beside it with its permissions, synced, then renamed over it.
fn write(file: &Path, text: &str) -> Result<()> {
    let target =
        fs::canonicalize(file).with_context(|| format!("cannot write {}", file.display()))?;
    let permissions = fs::metadata(&target)
        .with_context(|| format!("cannot write {}", file.display()))?
        .permissions();
    let (pending, mut out) = Pending::create(&target)?;
    pending.set_permissions(permissions)?;
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .with_context(|| format!("cannot write {}", file.display()))?;
    out.into_inner()
        .map_err(|e| e.into_error())
        .and_then(|f| f.sync_all())
        .with_context(|| format!("cannot write {}", file.display()))?;
    pending.commit()
}
