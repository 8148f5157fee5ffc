//! `pactum check`: validates agreement, mapping and scenario files, and prints every problem
//! found (as rustc-style text or as the versioned JSON of
//! `pactum::report::outputs::check`), or what each valid file holds.
//!
//! The library gives every problem as a `Diagnostic`, all of them in one run; this command
//! decides which files are what, how to show the problems and the exit code: 0 when every file
//! is valid (warnings allowed), 2 otherwise.
//!
//! Each file given (or found in a directory given) is checked as what its top-level keys say
//! it is ([`pactum::load::kind_of`]), so that the folder `pactum new scenario` writes can be
//! checked as a whole: the agreements together (as a replay would load them), each mapping,
//! and each scenario with what it names — its rules, its mapping, its event files (found and
//! allowed, not read) and its expectations against the agreements its rules load. A file that
//! two of them name (an agreement a scenario shares with the folder, or with another scenario)
//! is reported once, under the first name it was checked by. A directory of scenario folders
//! (`scenarios/`) means their `scenario.yaml` files, as for `pactum test`.

use std::collections::BTreeSet;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::ValueEnum;

use pactum::diagnostic::{Code, Diagnostic, Level};
use pactum::load::Kind;
use pactum::load::confine::{Refusal, Roots};
use pactum::report;
use pactum::scenario;

use crate::commands::confine::{self, RootArgs};
use crate::commands::load::{
    load_mapping, load_named_rules, load_rules, peek_text, read_text, rule_files,
    vocabulary_conflicts,
};
use crate::commands::output::{EXIT_INVALID, print_diagnostics, say, unless_pipe_closed};
use crate::commands::scenarios::scenario_files;

/// What `pactum check` is given.
#[derive(clap::Args)]
pub struct CheckArgs {
    /// Agreement, mapping and scenario files, each checked as what its keys say it is, or
    /// directories meaning every *.yaml and *.yml in them.
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

/// What a run found: every diagnostic, in the order found; what each valid file holds, one
/// line each; and the files already checked (by their real path), whose problems and lines are
/// not given twice.
#[derive(Default)]
struct Found {
    diagnostics: Vec<Diagnostic>,
    lines: Vec<String>,
    checked: BTreeSet<PathBuf>,
    listed: BTreeSet<PathBuf>,
}

impl Found {
    /// Problems found in files other than those checked before.
    fn add_new(&mut self, diagnostics: Vec<Diagnostic>) {
        let fresh: Vec<Diagnostic> = diagnostics
            .into_iter()
            .filter(|d| !self.checked.contains(&real(Path::new(&d.file))))
            .collect();
        self.diagnostics.extend(fresh);
    }

    /// A valid file's line, unless that file has one already.
    fn list(&mut self, file: &str, line: String) {
        if self.listed.insert(real(Path::new(file))) {
            self.lines.push(line);
        }
    }
}

/// A file's real path, to know it under two names (`a/../rules/x.yaml`, `rules/x.yaml`).
fn real(path: &Path) -> PathBuf {
    fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

fn check(
    paths: &[PathBuf],
    map: Option<&Path>,
    format: DiagnosticFormat,
    roots: &Roots,
) -> Result<u8> {
    let files = files_of(paths)?;
    let (mut agreements, mut mappings, mut scenarios) = (Vec::new(), Vec::new(), Vec::new());
    let mut vocabularies = Vec::new();
    for file in files {
        // A file that cannot be read (or never ends: /dev/zero) is the agreement loader's to
        // report, as before.
        let kind = peek_text(&file).map_or(Kind::Agreement, |t| pactum::load::kind_of(&t));
        match kind {
            Kind::Agreement => agreements.push(file),
            Kind::Mapping => mappings.push(file),
            Kind::Scenario => scenarios.push(file),
            Kind::Vocabulary => vocabularies.push(file),
        }
    }
    mappings.extend(map.map(Path::to_path_buf));
    let mut found = Found::default();
    let mut valid = true;
    // Vocabulary files first: an agreement that includes one shows its problems again.
    for file in &vocabularies {
        valid &= check_vocabulary(file, roots, &mut found);
    }
    let mut rules = None;
    if !agreements.is_empty() {
        let (program, diagnostics) = load_rules(&agreements, roots)?;
        found.add_new(diagnostics);
        found.checked.extend(agreements.iter().map(|f| real(f)));
        match program {
            Some(program) => {
                for a in program.agreements() {
                    found.list(&a.source.name, agreement_line(a));
                }
                rules = Some(program);
            }
            None => valid = false,
        }
    }
    for path in &mappings {
        if found.checked.contains(&real(path)) {
            continue;
        }
        let (mapping, diagnostics) = load_mapping(path, None, roots);
        found.add_new(diagnostics);
        found.checked.insert(real(path));
        match mapping {
            Some(mapping) => {
                // The rules given with it judge its events: one vocabulary for both.
                let conflicts = rules
                    .as_ref()
                    .map(|program| vocabulary_conflicts(program, &mapping))
                    .unwrap_or_default();
                if conflicts.is_empty() {
                    found.list(&mapping.provenance().file, mapping_line(&mapping));
                } else {
                    found.diagnostics.extend(conflicts);
                    valid = false;
                }
            }
            None => valid = false,
        }
    }
    for file in &scenarios {
        valid &= check_scenario(file, roots, &mut found)?;
    }
    let diagnostics = found.diagnostics;
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
                let written = found
                    .lines
                    .iter()
                    .try_for_each(|line| writeln!(out, "{line}"));
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

/// The files `paths` mean: a file as given; a directory's `*.yaml` and `*.yml` files (sorted);
/// a directory with none, whose subdirectories hold a `scenario.yaml`, those scenarios (as
/// `pactum test` finds them: `pactum check scenarios`). A file named twice comes once.
fn files_of(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        let yaml = |p: &Path| p.extension().is_some_and(|e| e == "yaml" || e == "yml");
        let holds_yaml = fs::read_dir(path).is_ok_and(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .any(|p| p.is_file() && yaml(&p))
        });
        if path.is_dir() && !holds_yaml {
            let scenarios = scenario_files(std::slice::from_ref(path))?;
            if !scenarios.is_empty() {
                files.extend(scenarios);
                continue;
            }
        }
        files.extend(rule_files(std::slice::from_ref(path))?);
    }
    // A file given twice (by name and in its directory) is one file, checked once.
    let mut seen = BTreeSet::new();
    files.retain(|f| seen.insert(real(f)));
    Ok(files)
}

/// Checks a vocabulary file on its own (agreements and mappings check the ones they include);
/// true when it is valid.
fn check_vocabulary(file: &Path, roots: &Roots, found: &mut Found) -> bool {
    let name = file.display().to_string();
    let text = match read_text(&name, file, None, roots) {
        Ok(text) => text,
        Err(d) => {
            found.diagnostics.push(d);
            return false;
        }
    };
    let (vocabulary, diagnostics) = pactum::load::vocabulary::load_file(&name, &text);
    let valid = !diagnostics.iter().any(|d| d.level == Level::Error);
    found.diagnostics.extend(diagnostics);
    found.checked.insert(real(file));
    match vocabulary {
        Some(v) if valid => {
            found.list(
                &name,
                format!(
                    "ok: {name} (vocabulary, {} kind(s), {} field(s))",
                    v.kinds.len(),
                    v.fields.len()
                ),
            );
            true
        }
        _ => false,
    }
}

fn agreement_line(agreement: &pactum::Agreement) -> String {
    format!(
        "ok: {} ({}, {} term(s))",
        agreement.source.name,
        agreement.id,
        agreement.terms.len()
    )
}

fn mapping_line(mapping: &pactum::input::mapping::Mapping) -> String {
    format!(
        "ok: {} (mapping {}, {} field(s))",
        mapping.provenance().file,
        mapping.provenance().id,
        mapping.field_names().count()
    )
}

/// Checks a scenario file as `pactum test` would read it, without replaying: the file, its
/// rules (compiled together), its mapping, that its event files are there and allowed, and
/// its expectations against its rules. True when all of it is valid.
fn check_scenario(file: &Path, roots: &Roots, found: &mut Found) -> Result<bool> {
    let name = file.display().to_string();
    let text = match read_text(&name, file, None, roots) {
        Ok(text) => text,
        Err(d) => {
            found.diagnostics.push(d);
            return Ok(false);
        }
    };
    found.checked.insert(real(file));
    let scenario = match scenario::load(&name, &text, roots) {
        Ok(scenario) => scenario,
        Err(d) => {
            found.diagnostics.push(d);
            return Ok(false);
        }
    };
    let base = file.parent().unwrap_or(Path::new(""));
    let mut valid = true;
    let rules: Vec<PathBuf> = scenario.rules.iter().map(|r| base.join(r)).collect();
    let program = match rule_files(&rules) {
        Ok(files) => {
            let (program, diagnostics) = load_named_rules(&rules, base, roots)?;
            found.add_new(diagnostics);
            found.checked.extend(files.iter().map(|f| real(f)));
            program
        }
        Err(e) => {
            found
                .diagnostics
                .push(Diagnostic::file_error(Code::Io, &name, format!("{e:#}")));
            None
        }
    };
    match &program {
        Some(program) => {
            for a in program.agreements() {
                found.list(&a.source.name, agreement_line(a));
            }
        }
        None => valid = false,
    }
    if let Some(map) = &scenario.map {
        let path = base.join(map);
        let (mapping, diagnostics) = load_mapping(&path, Some(base), roots);
        found.add_new(diagnostics);
        found.checked.insert(real(&path));
        match mapping {
            Some(mapping) => found.list(&mapping.provenance().file, mapping_line(&mapping)),
            None => valid = false,
        }
    }
    // Each event file there, allowed and a regular file, as the replay would open it (not read:
    // a log may be long, and `pactum test` reads it); the expectations against the rules.
    let mut open = |written: &str| -> Option<scenario::expectations::FileProblem> {
        let err = confine::open(&base.join(written), base, roots).err()?;
        Some(match Refusal::of(&err) {
            Some(refusal) => (
                Code::FileRefused,
                refusal.message(written),
                Some(refusal.help().to_string()),
            ),
            None => (
                Code::Io,
                format!("cannot open the event file `{written}`: {err}"),
                None,
            ),
        })
    };
    let problems = scenario::expectations::check(
        &name,
        &text,
        program.as_ref().map(|p| p.agreements()),
        &mut open,
    );
    valid &= problems.is_empty();
    found.diagnostics.extend(problems);
    if valid {
        found.list(
            &name,
            format!(
                "ok: {name} (scenario, {} agreement(s), {} event file(s))",
                program.as_ref().map_or(0, |p| p.agreements().len()),
                scenario.events.len()
            ),
        );
    }
    Ok(valid)
}
