//! What `pactum check` says of a scenario beyond its shape: every event file it names can be
//! opened (the caller opens it), and, given the agreements its rules load, every agreement and
//! term its expectations name exists, every time they state is an instant, `counts` lists
//! every term of the run.
//!
//! Why here and not in [`super::load`]: loading a scenario needs no agreement (`pactum test`
//! replays first and shows what differs), while these are mistakes a reader can be told of
//! before any event is read, at the entry that makes them, with a did-you-mean. `pactum test`
//! would find them too, as a failing diff. It does no IO.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::{Quiet, Stated, StatedOpen};
use crate::diagnostic::{Code, Diagnostic, SourceFile, did_you_mean};
use crate::load::agreement::Agreement;

/// The event files and expectations with their positions; the rest of the file is
/// [`super::load`]'s.
#[derive(Deserialize)]
struct File {
    #[serde(default)]
    events: Vec<Spanned<String>>,
    #[serde(default)]
    expect: Option<Expect>,
}

/// A problem with a file the scenario names, as the caller who opened it says: its code, what
/// is wrong and what to do.
pub type FileProblem = (Code, String, Option<String>);

#[derive(Deserialize)]
struct Expect {
    #[serde(default)]
    violations: Option<Vec<Spanned<Stated>>>,
    #[serde(default)]
    includes: Vec<Spanned<Stated>>,
    #[serde(default)]
    open: Vec<Spanned<StatedOpen>>,
    #[serde(default)]
    counts: Option<Spanned<BTreeMap<String, u64>>>,
    #[serde(default)]
    quiet: Vec<Spanned<Quiet>>,
}

/// Problems of the scenario `text` (named `name`, which [`super::load`] accepted): of each
/// event file it names, as `open` says when given the path as written (the caller opens it),
/// positioned at the path; and of its expectations against `agreements`, the agreements its
/// rules load (none when they do not load).
pub fn check(
    name: &str,
    text: &str,
    agreements: Option<&[Agreement]>,
    open: &mut dyn FnMut(&str) -> Option<FileProblem>,
) -> Vec<Diagnostic> {
    let source = SourceFile::new(name, text);
    let Ok(file) = serde_saphyr::from_str::<File>(text) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for path in &file.events {
        if let Some((code, message, help)) = open(&path.value) {
            let mut d = Diagnostic::error(
                code,
                &source,
                path.referenced.line(),
                path.referenced.column(),
                message,
            );
            d.help = help;
            found.push(d);
        }
    }
    let (Some(expect), Some(agreements)) = (file.expect, agreements) else {
        return found;
    };
    let mut error = |at: &serde_saphyr::Location, message: String, help: Option<String>| {
        let mut d = Diagnostic::error(Code::InvalidValue, &source, at.line(), at.column(), message);
        d.help = help;
        found.push(d);
    };
    let loaded: Vec<&str> = agreements.iter().map(|a| a.id.as_str()).collect();
    // The agreement named `id` and the term `term` of it; the problem in words otherwise.
    let clause = |what: &str, id: &str, term: &str| -> Result<(), (String, Option<String>)> {
        let Some(agreement) = agreements.iter().find(|a| a.id == id) else {
            return Err((
                format!("{what} names agreement `{id}`, which the scenario's rules do not load"),
                Some(match did_you_mean(id, loaded.iter().copied()) {
                    Some(near) => format!("did you mean `{near}`?"),
                    None => format!("they load: {}", loaded.join(", ")),
                }),
            ));
        };
        if agreement.terms.iter().any(|t| t.id == term) {
            return Ok(());
        }
        let terms: Vec<&str> = agreement.terms.iter().map(|t| t.id.as_str()).collect();
        Err((
            format!("{what} names term `{term}`, which agreement `{id}` does not have"),
            Some(match did_you_mean(term, terms.iter().copied()) {
                Some(near) => format!("did you mean `{near}`?"),
                None => format!("its terms: {}", terms.join(", ")),
            }),
        ))
    };
    let instant = |what: &str, time: &str| -> Result<(), (String, Option<String>)> {
        // `why` names the text.
        crate::time::parse_instant(time).map(|_| ()).map_err(|why| {
            (
                format!("{what} is not an instant: {why}"),
                Some(
                    "write an RFC 3339 time with `Z` or an offset, or a date for midnight UTC"
                        .into(),
                ),
            )
        })
    };
    let stated = expect
        .violations
        .iter()
        .flatten()
        .map(|v| ("violations", v))
        .chain(expect.includes.iter().map(|v| ("includes", v)));
    for (key, v) in stated {
        let what = format!("`expect.{key}`");
        for problem in [
            clause(&what, &v.value.agreement, &v.value.term),
            instant(&format!("{what}: `time`"), &v.value.time),
        ] {
            if let Err((message, help)) = problem {
                error(&v.referenced, message, help);
            }
        }
    }
    for o in &expect.open {
        for problem in [
            clause("`expect.open`", &o.value.agreement, &o.value.term),
            instant("`expect.open`: `due`", &o.value.due),
        ] {
            if let Err((message, help)) = problem {
                error(&o.referenced, message, help);
            }
        }
    }
    let all: Vec<&str> = agreements
        .iter()
        .flat_map(|a| a.terms.iter().map(|t| t.id.as_str()))
        .collect();
    let unknown = |term: &str| -> Option<(String, Option<String>)> {
        (!all.contains(&term)).then(|| {
            (
                format!("names term `{term}`, which no agreement of the scenario's rules has"),
                did_you_mean(term, all.iter().copied())
                    .map(|near| format!("did you mean `{near}`?")),
            )
        })
    };
    if let Some(counts) = &expect.counts {
        for term in counts.value.keys() {
            if let Some((message, help)) = unknown(term) {
                error(
                    &counts.referenced,
                    format!("`expect.counts` {message}"),
                    help,
                );
            }
        }
        let missing: Vec<&str> = all
            .iter()
            .copied()
            .filter(|t| !counts.value.contains_key(*t))
            .collect();
        if !missing.is_empty() {
            error(
                &counts.referenced,
                format!(
                    "`expect.counts` lists no `{}`: it states every term of the run, 0 included",
                    missing.join("`, `")
                ),
                Some(format!(
                    "add `{}: 0`",
                    missing.first().copied().unwrap_or("")
                )),
            );
        }
    }
    for q in &expect.quiet {
        for term in &q.value.terms {
            if let Some((message, help)) = unknown(term) {
                error(
                    &q.referenced,
                    format!("`expect.quiet` (event `{}`) {message}", q.value.event),
                    help,
                );
            }
        }
    }
    found
}
