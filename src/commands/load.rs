//! Reading the files the commands are given, other than events: rule files and directories of
//! them, the geography files agreements name, mapping files, and saved JSON reports.
//!
//! The library opens no file: it takes text and a reader for geography. This is where paths
//! become text, where a file that cannot be read or is not UTF-8 becomes a diagnostic like
//! any other problem in it, and where a hostile rule file is kept from loading an arbitrary
//! file into memory. Files that rule, mapping and scenario files name are opened through
//! [`confine::open`]; those the command line names are opened as they are.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use anyhow::{Context, Result, bail};

use pactum::diagnostic::{Code, Diagnostic, SourceFile};
use pactum::input::mapping::{self, Mapping};
use pactum::load::agreement;
use pactum::load::confine::{Refusal, Roots, folder_of};
use pactum::report;
use pactum::{Agreement, Limits, Program, compile};

use crate::commands::confine;
use crate::commands::output::{print_diagnostics, say};

/// The largest GeoJSON file an agreement may name: Natural Earth's 1:10m countries of the whole
/// world are 24 MiB, so 64 MiB leaves room while keeping a hostile rule file from loading an
/// arbitrary file into memory.
const MAX_GEOGRAPHY_BYTES: u64 = 64 << 20;

/// The largest rule or mapping file: hand-written YAML; the shipped ones are a few KiB.
pub const MAX_RULE_BYTES: u64 = 16 << 20;

/// Reads a file an agreement's geography names (an agreement in `folder`), refusing one out of
/// the folder and the roots, one that is not a regular file, and one too large to be a map.
fn read_geography(path: &Path, folder: &Path, roots: &Roots) -> io::Result<Vec<u8>> {
    read_at_most(
        confine::open(path, folder, roots)?,
        MAX_GEOGRAPHY_BYTES,
        "a file an agreement names",
    )
}

/// A file an agreement or a mapping names (a vocabulary file), read as its geography files are:
/// confined to `folder` (or a root), at most as many bytes.
pub fn read_included(path: &Path, folder: &Path, roots: &Roots) -> io::Result<Vec<u8>> {
    read_geography(path, folder, roots)
}

/// Everything `reader` gives, refusing more than `limit` bytes. The size is checked on the
/// bytes read, not on what the file system says: a device or a pipe (`/dev/zero`) reports no
/// size and never ends.
fn read_at_most(reader: impl io::Read, limit: u64, what: &str) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    reader.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(io::Error::other(format!(
            "more than the {} MiB {what} may have",
            limit >> 20
        )));
    }
    Ok(bytes)
}

/// Expands directories into the `*.yaml` and `*.yml` files directly inside them, sorted by name.
pub(crate) fn rule_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = fs::read_dir(path)
                .with_context(|| format!("cannot list {}", path.display()))?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
                .collect();
            if found.is_empty() {
                bail!("{} holds no *.yaml or *.yml agreement file", path.display());
            }
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

/// The text of a file named on the command line, read as a rule file is (at most the bytes a
/// rule file may have), for telling its kind; `None` when it cannot be had (its loader then
/// says why).
pub(crate) fn peek_text(path: &Path) -> Option<String> {
    let file = fs::File::open(path).ok()?;
    let bytes = read_at_most(file, MAX_RULE_BYTES, "a rule or mapping file").ok()?;
    String::from_utf8(bytes).ok()
}

/// Loads and compiles rule files named on the command line; returns the program (when
/// valid) and every diagnostic. The files their geography names are confined.
pub fn load_rules(paths: &[PathBuf], roots: &Roots) -> Result<(Option<Program>, Vec<Diagnostic>)> {
    load_rule_files(rule_files(paths)?, None, roots)
}

/// [`load_rules`] for rule files (or directories of them) a scenario in `folder` names: each
/// file is confined too.
pub fn load_named_rules(
    paths: &[PathBuf],
    folder: &Path,
    roots: &Roots,
) -> Result<(Option<Program>, Vec<Diagnostic>)> {
    load_rule_files(rule_files(paths)?, Some(folder), roots)
}

/// Loads and compiles `files`; `named_in`: the folder of the file that names them, if not the
/// command line.
fn load_rule_files(
    files: Vec<PathBuf>,
    named_in: Option<&Path>,
    roots: &Roots,
) -> Result<(Option<Program>, Vec<Diagnostic>)> {
    let mut diagnostics = Vec::new();
    let mut agreements: Vec<Agreement> = Vec::new();
    let mut complete = true;
    let mut shared = std::collections::HashSet::new();
    for file in files {
        let name = file.display().to_string();
        let text = match read_text(&name, &file, named_in, roots) {
            Ok(text) => text,
            Err(problem) => {
                diagnostics.push(problem);
                complete = false;
                continue;
            }
        };
        let (agreement, found) = load_agreement(&name, &text, roots);
        // A vocabulary file several agreements include is checked with each: its problems are
        // shown once.
        for d in found {
            if d.file == name
                || shared.insert((d.file.clone(), d.line, d.column, d.message.clone()))
            {
                diagnostics.push(d);
            }
        }
        match agreement {
            Some(agreement) => agreements.push(agreement),
            None => complete = false,
        }
    }
    let (program, found) = compile(agreements, &Limits::default());
    diagnostics.extend(found);
    Ok((program.filter(|_| complete), diagnostics))
}

/// Loads one agreement from its text (`name`: its path as the user named it), reading the
/// geography files it names from its folder (or `roots`), confined.
pub fn load_agreement(
    name: &str,
    text: &str,
    roots: &Roots,
) -> (Option<Agreement>, Vec<Diagnostic>) {
    // Geography files are named relative to the agreement file; the library resolves the path
    // and refuses one out of the folder, the command line reads it.
    let folder = folder_of(name);
    agreement::load_with(name, text, roots, &mut |path| {
        read_geography(path, folder, roots)
    })
}

/// Loads and compiles a mapping file; returns the mapping (when valid) and every diagnostic.
/// `named_in`: the folder of the scenario that names it, if not the command line.
pub fn load_mapping(
    path: &Path,
    named_in: Option<&Path>,
    roots: &Roots,
) -> (Option<Mapping>, Vec<Diagnostic>) {
    let name = path.display().to_string();
    match read_text(&name, path, named_in, roots) {
        // A vocabulary file is named relative to the mapping, as an agreement's files are.
        Ok(text) => {
            let folder = folder_of(&name);
            mapping::load_with(&name, &text, &Limits::default(), roots, &mut |path| {
                read_geography(path, folder, roots)
            })
        }
        Err(problem) => (None, vec![problem]),
    }
}

/// A rule file's text, or the diagnostic that says why it cannot be had (for bytes that are
/// not UTF-8: where the first bad one is). A file another names (in the folder `named_in`) is
/// confined.
pub(crate) fn read_text(
    name: &str,
    path: &Path,
    named_in: Option<&Path>,
    roots: &Roots,
) -> std::result::Result<String, Diagnostic> {
    let file = match named_in {
        Some(folder) => confine::open(path, folder, roots),
        None => fs::File::open(path),
    };
    let bytes = file
        .and_then(|file| read_at_most(file, MAX_RULE_BYTES, "a rule or mapping file"))
        .map_err(|e| match Refusal::of(&e) {
            Some(refusal) => Diagnostic::file_error(Code::FileRefused, name, refusal.message(name))
                .with_help(refusal.help()),
            None => Diagnostic::file_error(Code::Io, name, format!("cannot read the file: {e}")),
        })?;
    String::from_utf8(bytes).map_err(|e| {
        let text = String::from_utf8_lossy(e.as_bytes());
        let (line, column) =
            pactum::diagnostic::utf8_position(e.as_bytes(), e.utf8_error().valid_up_to());
        Diagnostic::error(
            Code::YamlSyntax,
            &SourceFile::new(name, text.as_ref()),
            line,
            column,
            "the file is not UTF-8 (invalid byte)".into(),
        )
        .with_help("save the file as UTF-8")
    })
}

/// Loads and compiles the rules and the mapping (if any), printing every diagnostic; `None`
/// (said on stderr, with what was not done) when either is invalid.
pub fn load_program(
    rules: &[PathBuf],
    map: Option<&Path>,
    not_done: &str,
    roots: &Roots,
) -> Result<Option<(Program, Option<Rc<Mapping>>)>> {
    let (program, diagnostics) = load_rules(rules, roots)?;
    print_diagnostics(&diagnostics);
    let (mapping, found) = match map {
        Some(path) => load_mapping(path, None, roots),
        None => (None, Vec::new()),
    };
    print_diagnostics(&found);
    let Some(program) = program else {
        say!("error: the rules are invalid; nothing was {not_done}");
        return Ok(None);
    };
    if map.is_some() && mapping.is_none() {
        say!("error: the mapping is invalid; nothing was {not_done}");
        return Ok(None);
    }
    if let Some(mapping) = &mapping {
        let conflicts = vocabulary_conflicts(&program, mapping);
        if !conflicts.is_empty() {
            print_diagnostics(&conflicts);
            say!("error: the mapping's vocabulary contradicts the rules'; nothing was {not_done}");
            return Ok(None);
        }
    }
    Ok(Some((program, mapping.map(Rc::new))))
}

/// The fields the mapping's vocabulary declares otherwise than the rules' (one event cannot be
/// both), as errors at the mapping's declarations.
pub fn vocabulary_conflicts(program: &Program, mapping: &Mapping) -> Vec<Diagnostic> {
    let mut merged = pactum::load::vocabulary::Vocabulary::clone(program.vocabulary());
    merged
        .merge(mapping.vocabulary())
        .into_iter()
        .map(|conflict| {
            conflict.diagnostic(
                None,
                "by the rules",
                "the rules judge the events the mapping makes: give them one vocabulary",
            )
        })
        .collect()
}

/// A saved JSON report, or `None` (said on stderr) when it is not one this pactum reads.
pub fn read_report(file: &str, budget: usize) -> Result<Option<report::Saved>> {
    let reader: Box<dyn io::Read> = if file == "-" {
        Box::new(io::stdin())
    } else {
        Box::new(fs::File::open(file).with_context(|| format!("cannot read {file}"))?)
    };
    let saved = match report::read_saved(reader, budget) {
        Ok(saved) => saved,
        Err(err) if err.is_io() => {
            return Err(anyhow::Error::new(io::Error::from(err)))
                .with_context(|| format!("cannot read {file}"));
        }
        Err(err) => {
            say!(
                "error: {file}:{}:{}: not a pactum JSON report: {err}",
                err.line(),
                err.column()
            );
            return Ok(None);
        }
    };
    // Version 2 only added a field (a threshold's `in_window`) and cut its evidence to the
    // events that reach it: a version 1 report reads and renders as it was written.
    if !(1..=report::REPORT_VERSION).contains(&saved.report.report_version) {
        say!(
            "error: {file} is a report of format version {}; this pactum reads versions 1 to {}",
            saved.report.report_version,
            report::REPORT_VERSION
        );
        return Ok(None);
    }
    Ok(Some(saved))
}
