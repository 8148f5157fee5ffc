//! Scenarios as `pactum test` and `pactum test --bless` find and replay them: the scenario
//! files a path means, a scenario's name, and one replay — the files it names read relative to
//! it (and confined to its folder or an allowed root: [`crate::commands::confine`]), run exactly
//! as `pactum replay` would — with what the judge needs besides the report.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use pactum::diagnostic::{Code, Diagnostic};
use pactum::input::EventReader;
use pactum::load::agreement::Period;
use pactum::load::confine::{Refusal, Roots};
use pactum::report::{self, Report};
use pactum::scenario::{self, Scenario};
use pactum::{InputFormat, RunOptions};

use crate::commands::confine;
use crate::commands::inputs::open_inputs;
use crate::commands::load::{load_mapping, load_named_rules};

/// Scenario files: a file as given; a directory holding `scenario.yaml`; or a directory whose
/// subdirectories hold one (sorted by name).
pub(crate) fn scenario_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_file() {
            files.push(path.clone());
        } else if path.join("scenario.yaml").is_file() {
            files.push(path.join("scenario.yaml"));
        } else {
            let mut found: Vec<PathBuf> = fs::read_dir(path)
                .with_context(|| format!("cannot list {}", path.display()))?
                .filter_map(|entry| entry.ok().map(|e| e.path().join("scenario.yaml")))
                .filter(|p| p.is_file())
                .collect();
            found.sort();
            files.extend(found);
        }
    }
    Ok(files)
}

/// A scenario's name: its directory's, or the file's for a loose file.
pub(crate) fn scenario_name(file: &Path) -> String {
    match file.file_name().and_then(|n| n.to_str()) {
        Some("scenario.yaml") => file.parent().and_then(Path::file_name),
        _ => file.file_name(),
    }
    .map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Loads the scenario and its rules, replays its events; a problem is the failure's text.
/// What a replay gives the judge: the report, the id and time of every event read, and each
/// term's period.
pub(crate) type Replayed = (
    Scenario,
    Report,
    HashMap<String, DateTime<Utc>>,
    BTreeMap<(String, String), Period>,
);

pub(crate) fn replay(file: &Path, roots: &Roots) -> std::result::Result<Replayed, String> {
    let name = file.display().to_string();
    let text = fs::read_to_string(file).map_err(|e| format!("cannot read {name}: {e}"))?;
    let scenario = scenario::load(&name, &text, roots).map_err(|d| d.render())?;
    replay_scenario(file, scenario, roots)
}

/// [`replay`] for a scenario already read (`--bless` reads a draft, which may state nothing).
pub(crate) fn replay_scenario(
    file: &Path,
    scenario: Scenario,
    roots: &Roots,
) -> std::result::Result<Replayed, String> {
    let name = file.display().to_string();
    let base = file.parent().unwrap_or(Path::new(""));
    let rules: Vec<PathBuf> = scenario.rules.iter().map(|r| base.join(r)).collect();
    let (program, diagnostics) =
        load_named_rules(&rules, base, roots).map_err(|e| format!("{e:#}"))?;
    let Some(program) = program else {
        let rendered: String = diagnostics.iter().map(|d| d.render()).collect();
        return Err(format!("the rules are invalid:\n{rendered}"));
    };
    let mapping = match &scenario.map {
        Some(map) => {
            let (mapping, diagnostics) = load_mapping(&base.join(map), Some(base), roots);
            match mapping {
                Some(mapping) => Some(Rc::new(mapping)),
                None => {
                    let rendered: String = diagnostics.iter().map(|d| d.render()).collect();
                    return Err(format!("the mapping is invalid:\n{rendered}"));
                }
            }
        }
        None => None,
    };
    let events: Vec<String> = scenario
        .events
        .iter()
        .map(|e| base.join(e).display().to_string())
        .collect();
    // Each event file checked where the scenario's folder allows it, and a regular file, before
    // the replay opens it (again, by name, as `pactum replay` does).
    for (written, path) in scenario.events.iter().zip(&events) {
        if let Err(err) = confine::open(Path::new(path), base, roots) {
            return Err(match Refusal::of(&err) {
                Some(refusal) => {
                    Diagnostic::file_error(Code::FileRefused, &name, refusal.message(written))
                        .with_help(refusal.help())
                        .render()
                }
                None => format!("cannot open {path}: {err}"),
            });
        }
    }
    let mut options = RunOptions::default();
    options.skip_invalid = scenario.expect.skipped > 0;
    let inputs = open_inputs(&events, None, mapping.as_ref()).map_err(|e| format!("{e:#}"))?;
    let mut sink = report::Collector::new(&program);
    let outcome = pactum::run(&program, inputs, options, &mut sink).map_err(|e| match e {
        pactum::run::RunError::Invalid(invalid) => format!("invalid event at {invalid}"),
        other => other.to_string(),
    })?;
    let collected = sink.finish().map_err(|e| e.to_string())?;
    let report =
        report::build_whole(&program, &outcome, options, &collected).map_err(|e| e.to_string())?;
    let ids = event_ids(&events, mapping.as_ref()).map_err(|e| format!("{e:#}"))?;
    let periods = program
        .agreements()
        .iter()
        .flat_map(|a| {
            a.terms
                .iter()
                .map(|t| ((a.id.clone(), t.id.clone()), t.effective))
        })
        .collect();
    Ok((scenario, report, ids, periods))
}

/// The id and time of every valid event of the inputs (for quiet events: one that is not read
/// is a typo, not a negative case; one outside a term's period does not test it).
fn event_ids(
    events: &[String],
    mapping: Option<&Rc<pactum::input::mapping::Mapping>>,
) -> Result<HashMap<String, DateTime<Utc>>> {
    let mut ids = HashMap::new();
    for name in events {
        let file = fs::File::open(name).with_context(|| format!("cannot open {name}"))?;
        let mut reader = EventReader::new(
            name,
            std::io::BufReader::new(file),
            InputFormat::from_name(name),
        )
        .with_mapping(mapping.cloned());
        while let Some(record) = reader.next_record()? {
            if let Ok(event) = record {
                ids.entry(event.id()).or_insert(event.time());
            }
        }
    }
    Ok(ids)
}
