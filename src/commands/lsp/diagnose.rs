//! Diagnostics as the user types: `pactum check`'s own loading and compiling run on an open
//! file's current text, on a thread of their own, and published when they are still current.
//!
//! An agreement is loaded and compiled as `pactum check FILE` would (the geography files it
//! names read from its folder, confined: `commands::load::load_agreement`); a mapping as
//! `pactum check --map FILE`; a scenario as `pactum test` reads it, then the rule, mapping and
//! event files it names are loaded (or opened) as a run would, a problem in one shown at the
//! path that names it. Files other than the open one are read from disk.
//!
//! Why a thread: a check of a large file takes tens of milliseconds, and hover and completion
//! must not wait for it. Why no queue: a file's text that arrives while a check runs replaces
//! any text of that file still waiting, so that a burst of keystrokes costs one check after the
//! running one, and a result is published only if no newer text of its file has arrived nor
//! the file been closed (the test is made under the lock the main loop takes to close a file,
//! so that a stale result never follows the clearing of a closed one). A check that panics
//! becomes one diagnostic; the thread goes on.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;

use lsp_server::{Message, Notification};
use lsp_types::{
    DiagnosticSeverity, NumberOrString, PublishDiagnosticsParams, Uri,
    notification::Notification as _,
};

use pactum::diagnostic::{Code, Diagnostic, Level, SourceFile};
use pactum::editor::{Kind, Outline, diagnostic_span};
use pactum::load::confine::{Refusal, Roots};
use pactum::{Limits, compile};

use super::position::{Encoding, Lines};
use crate::commands::confine;
use crate::commands::load::{MAX_RULE_BYTES, load_agreement, load_mapping, load_named_rules};

/// One file's text to check.
pub struct Job {
    /// The file.
    pub uri: Uri,
    /// Its path, when it is a file on disk.
    pub path: Option<PathBuf>,
    /// The version the client gave the text.
    pub version: Option<i32>,
    /// The text.
    pub text: String,
}

#[derive(Default)]
struct Queue {
    /// Texts waiting, one per file (the latest).
    waiting: HashMap<String, (u64, Job)>,
    /// Each open file's latest generation: a result of an older one is stale.
    latest: HashMap<String, u64>,
    next: u64,
    closed: bool,
}

/// The checking thread and what it shares with the main loop.
pub struct Checker {
    shared: Arc<(Mutex<Queue>, Condvar)>,
    thread: Option<thread::JoinHandle<()>>,
}

fn lock(shared: &(Mutex<Queue>, Condvar)) -> MutexGuard<'_, Queue> {
    shared
        .0
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Checker {
    /// Starts the thread, which publishes through `sender` positions in `encoding`.
    pub fn start(
        send: impl Fn(Message) + Send + 'static,
        encoding: Encoding,
        roots: Roots,
    ) -> std::io::Result<Checker> {
        let shared: Arc<(Mutex<Queue>, Condvar)> = Arc::default();
        let theirs = shared.clone();
        let thread = thread::Builder::new()
            .name("pactum-lsp-check".into())
            .spawn(move || work(&theirs, &send, encoding, &roots))?;
        Ok(Checker {
            shared,
            thread: Some(thread),
        })
    }

    /// Queues a file's text, replacing any text of it still waiting.
    pub fn check(&self, job: Job) {
        let mut queue = lock(&self.shared);
        queue.next += 1;
        let generation = queue.next;
        let key = job.uri.as_str().to_string();
        queue.latest.insert(key.clone(), generation);
        queue.waiting.insert(key, (generation, job));
        self.shared.1.notify_one();
    }

    /// Forgets a closed file and clears its diagnostics (under the lock: no result of it is
    /// published after).
    pub fn close(&self, uri: &Uri, send: &dyn Fn(Message)) {
        let mut queue = lock(&self.shared);
        let key = uri.as_str();
        queue.waiting.remove(key);
        queue.latest.remove(key);
        send(publish(uri.clone(), Vec::new(), None));
        drop(queue);
    }
}

impl Drop for Checker {
    fn drop(&mut self) {
        lock(&self.shared).closed = true;
        self.shared.1.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn publish(uri: Uri, diagnostics: Vec<lsp_types::Diagnostic>, version: Option<i32>) -> Message {
    Message::Notification(Notification::new(
        lsp_types::notification::PublishDiagnostics::METHOD.to_string(),
        PublishDiagnosticsParams {
            uri,
            diagnostics,
            version,
        },
    ))
}

fn work(
    shared: &(Mutex<Queue>, Condvar),
    send: &dyn Fn(Message),
    encoding: Encoding,
    roots: &Roots,
) {
    loop {
        let jobs: Vec<(u64, Job)> = {
            let mut queue = lock(shared);
            while queue.waiting.is_empty() && !queue.closed {
                queue = shared
                    .1
                    .wait(queue)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
            }
            if queue.closed {
                return;
            }
            queue.waiting.drain().map(|(_, job)| job).collect()
        };
        for (generation, job) in jobs {
            // A newer text of this file may have come meanwhile: skip the older one.
            if lock(shared).latest.get(job.uri.as_str()) != Some(&generation) {
                continue;
            }
            let found = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                diagnose(&job, roots)
            }))
            .unwrap_or_else(|_| {
                vec![Diagnostic::file_error(
                    Code::Io,
                    &name_of(&job),
                    "pactum could not check this file (an internal error; please report it with the file)".to_string(),
                )]
            });
            let lines = Lines::new(&job.text);
            let converted = found
                .iter()
                .map(|d| to_protocol(d, &name_of(&job), &lines, encoding))
                .collect();
            let queue = lock(shared);
            if queue.latest.get(job.uri.as_str()) == Some(&generation) {
                send(publish(job.uri.clone(), converted, job.version));
            }
            drop(queue);
        }
    }
}

/// The name diagnostics give the file: its path, else its URI.
fn name_of(job: &Job) -> String {
    job.path
        .as_ref()
        .map_or_else(|| job.uri.as_str().to_string(), |p| p.display().to_string())
}

/// Every diagnostic `pactum check` (or, for a scenario, `pactum test`) gives the job's text.
pub fn diagnose(job: &Job, roots: &Roots) -> Vec<Diagnostic> {
    let name = name_of(job);
    if job.text.len() as u64 > MAX_RULE_BYTES {
        return vec![Diagnostic::file_error(
            Code::Io,
            &name,
            format!(
                "more than the {} MiB a rule or mapping file may have",
                MAX_RULE_BYTES >> 20
            ),
        )];
    }
    let outline = Outline::new(&job.text);
    match Kind::of(&name, &job.text, &outline) {
        // A YAML file that is none of pactum's: left alone.
        None => Vec::new(),
        Some(Kind::Agreement) => {
            let (agreement, mut found) = match &job.path {
                Some(_) => load_agreement(&name, &job.text, roots),
                // A file not saved yet has no folder to read geography files from.
                None => pactum::load::agreement::load(&name, &job.text),
            };
            if let Some(agreement) = agreement {
                let (_, compiled) = compile(vec![agreement], &Limits::default());
                found.extend(compiled);
            }
            found
        }
        Some(Kind::Mapping) => pactum::input::mapping::load(&name, &job.text, &Limits::default()).1,
        Some(Kind::Scenario) => scenario(job, &name, &outline, roots),
    }
}

/// A scenario's own problems, then those of the files it names.
fn scenario(job: &Job, name: &str, outline: &Outline, roots: &Roots) -> Vec<Diagnostic> {
    let scenario = match pactum::scenario::load(name, &job.text, roots) {
        Ok(scenario) => scenario,
        Err(problem) => return vec![problem],
    };
    let Some(path) = &job.path else {
        return Vec::new();
    };
    let base = path.parent().unwrap_or(Path::new(""));
    let source = SourceFile::new(name, job.text.as_str());
    let mut found = Vec::new();
    // Where the scenario writes a path, to put a problem of that file there.
    let at = |section: &str, written: &str| -> (u64, u64) {
        let Some((index, node)) = outline.find(&[section]) else {
            return (0, 0);
        };
        let spans = std::iter::once((index, node.value))
            .chain(outline.children(index).map(|(i, n)| (i, n.value)));
        for (_, span) in spans {
            let Some(span) = span else { continue };
            let text = outline.line(span.line);
            if let Some(column) = text.get(span.start..span.end).and_then(|v| v.find(written)) {
                let before = text.get(..span.start + column).unwrap_or("");
                return (span.line as u64 + 1, before.chars().count() as u64 + 1);
            }
        }
        (0, 0)
    };
    let mut report = |section: &str, written: &str, what: &str, problems: Vec<Diagnostic>| {
        let errors: Vec<&Diagnostic> = problems
            .iter()
            .filter(|d| d.level == Level::Error)
            .collect();
        let Some(first) = errors.first() else {
            return;
        };
        let (line, column) = at(section, written);
        found.push(
            Diagnostic::error(
                first.code,
                &source,
                line,
                column,
                format!(
                    "{what} `{written}` is invalid: {} error(s), the first at line {}, column {}: {}",
                    errors.len(),
                    first.line,
                    first.column,
                    first.message
                ),
            )
            .with_help("open it to see every problem, or run `pactum check` on it"),
        );
    };
    for rules in &scenario.rules {
        match load_named_rules(&[base.join(rules)], base, roots) {
            Ok((_, problems)) => report("rules", rules, "the rule file", problems),
            Err(err) => report(
                "rules",
                rules,
                "the rule file",
                vec![Diagnostic::file_error(Code::Io, rules, format!("{err:#}"))],
            ),
        }
    }
    if let Some(map) = &scenario.map {
        let (_, problems) = load_mapping(&base.join(map), Some(base), roots);
        report("map", map, "the mapping", problems);
    }
    for events in &scenario.events {
        if let Err(err) = confine::open(&base.join(events), base, roots) {
            let (line, column) = at("events", events);
            found.push(match Refusal::of(&err) {
                Some(refusal) => Diagnostic::error(
                    Code::FileRefused,
                    &source,
                    line,
                    column,
                    refusal.message(events),
                )
                .with_help(refusal.help()),
                None => Diagnostic::error(
                    Code::Io,
                    &source,
                    line,
                    column,
                    format!("cannot open the event file `{events}`: {err}"),
                ),
            });
        }
    }
    found
}

/// A diagnostic as the protocol has it: the word at its place underlined, its code, its help
/// after the message. One about another file says which, at the start of this one.
pub fn to_protocol(
    d: &Diagnostic,
    name: &str,
    lines: &Lines<'_>,
    encoding: Encoding,
) -> lsp_types::Diagnostic {
    let here = d.file == name;
    let span = if here {
        let index = usize::try_from(d.line.saturating_sub(1)).unwrap_or(usize::MAX);
        diagnostic_span(lines.line(index), d.line, d.column)
    } else {
        diagnostic_span("", 0, 0)
    };
    let mut message = if here {
        d.message.clone()
    } else {
        format!("{}: {}", d.location(), d.message)
    };
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    lsp_types::Diagnostic {
        range: lines.range(span, encoding),
        severity: Some(match d.level {
            Level::Error => DiagnosticSeverity::ERROR,
            Level::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(d.code.as_str().to_string())),
        source: Some("pactum".to_string()),
        message,
        ..lsp_types::Diagnostic::default()
    }
}
