//! `pactum test --bless`: a scenario's expectations written from a replay, as an edit of the
//! scenario's own text.
//!
//! Why an edit of the text rather than the scenario serialised again: a scenario is written by
//! hand, with comments that say why each violation is expected, a title, a description and keys
//! in its author's order, and a serialiser would keep none of it. [`bless`] touches only what a
//! replay decides — `violations` (or `counts`, in a scenario that states counts) and `open`
//! under `expect` — and within them an entry the replay still gives keeps its line, as written,
//! with the comment lines above it. A removed entry goes with the comments above it; where an
//! entry is replaced by one of the same clause (agreement and term: a changed time, party or
//! evidence), the new one inherits them. New entries are written one a line, in flow style, as
//! the shipped scenarios are. A scenario with no `expect` gets one at its end.
//!
//! The edit works on lines: `expect` is a block mapping at the top level, its keys one
//! indentation deeper; an entry is a `- ` item with its continuation lines (under `counts`, a
//! `term: n` line) and the comment lines above it. A value this model does not recognise (a
//! flow list with entries, an entry that does not read back on its own) is written again as a
//! block, which a note says; an `expect` that is not a block is refused. Whatever the path, the
//! text is read back and compared with what was meant — the replay's values where they were
//! written, everything else as it was — before it is returned: an edit that reads back as
//! anything else is an error, never a file. It does no IO: the command line reads and writes
//! the file.

use std::collections::BTreeMap;

use super::{Scenario, Stated, StatedOpen, load_draft, stated};
use crate::diagnostic::Diagnostic;
use crate::load::confine::Roots;
use crate::report::Report;

/// A scenario's text with its expectations written from a replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blessed {
    /// The new text: the old one, byte for byte, when the expectations were the replay's.
    pub text: String,
    /// What the edit could not keep, in words (comments inside a value written again).
    pub notes: Vec<String>,
}

/// Why a scenario's expectations cannot be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BlessError {
    /// The file is not a scenario (even one without expectations).
    #[error("the scenario file is invalid")]
    Invalid(Box<Diagnostic>),
    /// `expect` holds something other than a block mapping.
    #[error(
        "`expect` (line {line}) is not written as a block, one key a line: write it so and bless again"
    )]
    NotABlock {
        /// Its line, from 1.
        line: usize,
    },
    /// The edited text would not read back as meant: nothing may be written.
    #[error("the edited scenario does not read back as the replay's ({0}); nothing was written")]
    Unsound(String),
}

/// What a replay decides of a scenario, as the scenario states it.
struct Found {
    violations: Vec<Stated>,
    open: Vec<StatedOpen>,
    /// Violations per term, in the report's order of terms.
    counts: Vec<(String, u64)>,
}

impl Found {
    fn of(report: &Report) -> Self {
        Found {
            violations: report.violations.iter().map(stated).collect(),
            open: report.open.iter().map(StatedOpen::from).collect(),
            counts: report
                .summary
                .by_term
                .iter()
                .map(|t| (t.term.clone(), t.violations))
                .collect(),
        }
    }
}

/// One edit of the lines: `start..end` replaced by `lines`; `order` breaks ties between edits
/// at one place (the lower comes first in the file).
struct Edit {
    start: usize,
    end: usize,
    order: usize,
    lines: Vec<String>,
}

/// Writes `report`'s violations (or counts, when the scenario states `counts`) and open
/// obligations into the scenario `text` (named `name`, its paths confined to `roots` as
/// [`super::load`] confines them), keeping the rest of the text as it is.
pub fn bless(
    name: &str,
    text: &str,
    roots: &Roots,
    report: &Report,
) -> Result<Blessed, BlessError> {
    let old = load_draft(name, text, roots).map_err(|d| BlessError::Invalid(Box::new(d)))?;
    let found = Found::of(report);
    let writes_counts = old.expect.counts.is_some();
    let writes_violations = old.expect.violations.is_some() || !writes_counts;

    let crlf = text.contains("\r\n");
    let plain = if crlf {
        text.replace("\r\n", "\n")
    } else {
        text.to_string()
    };
    let mut lines: Vec<String> = plain.split('\n').map(str::to_string).collect();
    let mut final_newline = lines.last().is_some_and(String::is_empty);
    if final_newline {
        lines.pop();
    }
    let mut notes = Vec::new();
    let mut edits = Vec::new();
    match find_expect(&lines)? {
        None => {
            let mut block = vec!["expect:".to_string()];
            block.extend(list_block(
                2,
                "violations",
                &found.violations,
                flow_violation,
            ));
            if !found.open.is_empty() {
                block.extend(list_block(2, "open", &found.open, flow_open));
            }
            edits.push(Edit {
                start: lines.len(),
                end: lines.len(),
                order: 0,
                lines: block,
            });
            final_newline = true;
        }
        Some(at) => {
            let end = block_end(&lines, at);
            let child = (at + 1..end)
                .filter_map(|i| lines.get(i))
                .find(|l| !is_blank_or_comment(l))
                .map_or(2, |l| indent(l));
            let children = children(&lines, at + 1, end, child);
            let region = |key: &str| children.iter().find(|c| c.0 == key).map(|c| (c.1, c.2));
            // Where the open obligations go when `open` is not there yet: after the last value
            // written, or first in the block.
            let mut after = at + 1;
            if writes_violations {
                let new = match region("violations") {
                    Some((start, stop)) => {
                        let stated = old.expect.violations.clone().unwrap_or_default();
                        after = after.max(stop);
                        let lines = edit_list(
                            lines.get(start..stop).unwrap_or(&[]),
                            child,
                            "violations",
                            &stated,
                            &found.violations,
                            &Style {
                                render: flow_violation,
                                parse: parse_violation,
                                same_clause: |a, b| a.agreement == b.agreement && a.term == b.term,
                            },
                            &mut notes,
                        );
                        Edit {
                            start,
                            end: stop,
                            order: 0,
                            lines,
                        }
                    }
                    None => Edit {
                        start: at + 1,
                        end: at + 1,
                        order: 0,
                        lines: list_block(child, "violations", &found.violations, flow_violation),
                    },
                };
                edits.push(new);
            }
            if writes_counts {
                let Some((start, stop)) = region("counts") else {
                    return Err(BlessError::Unsound(
                        "`counts` is not a key of the `expect` block".into(),
                    ));
                };
                after = after.max(stop);
                let stated = old.expect.counts.clone().unwrap_or_default();
                edits.push(Edit {
                    start,
                    end: stop,
                    order: 0,
                    lines: edit_counts(
                        lines.get(start..stop).unwrap_or(&[]),
                        child,
                        &stated,
                        &found.counts,
                        &mut notes,
                    ),
                });
            }
            // The events judged, when the scenario states them.
            if let (Some(_), Some((start, _))) = (old.expect.events, region("events")) {
                let line = lines.get(start).map_or("", String::as_str);
                let Some(line) = renumber(line, child, report.summary.events) else {
                    return Err(BlessError::Unsound(
                        "`events` is not a number on its line".into(),
                    ));
                };
                edits.push(Edit {
                    start,
                    end: start + 1,
                    order: 0,
                    lines: vec![line],
                });
            }
            match region("open") {
                Some((start, stop)) => {
                    let lines = edit_list(
                        lines.get(start..stop).unwrap_or(&[]),
                        child,
                        "open",
                        &old.expect.open,
                        &found.open,
                        &Style {
                            render: flow_open,
                            parse: parse_open,
                            same_clause: |a, b| a.agreement == b.agreement && a.term == b.term,
                        },
                        &mut notes,
                    );
                    edits.push(Edit {
                        start,
                        end: stop,
                        order: 1,
                        lines,
                    });
                }
                None if !found.open.is_empty() => edits.push(Edit {
                    start: after,
                    end: after,
                    order: 1,
                    lines: list_block(child, "open", &found.open, flow_open),
                }),
                None => {}
            }
        }
    }
    // Later edits first, so that the places of the earlier ones stay where they were.
    edits.sort_by_key(|e| std::cmp::Reverse((e.start, e.order)));
    for edit in edits {
        lines.splice(edit.start..edit.end, edit.lines);
    }
    let mut new = lines.join("\n");
    if final_newline {
        new.push('\n');
    }
    if crlf {
        new = new.replace('\n', "\r\n");
    }

    let mut meant = old;
    if writes_violations {
        meant.expect.violations = Some(found.violations);
    }
    if writes_counts {
        meant.expect.counts = Some(found.counts.into_iter().collect());
    }
    meant.expect.open = found.open;
    if meant.expect.events.is_some() {
        meant.expect.events = Some(report.summary.events);
    }
    let read = load_draft(name, &new, roots).map_err(|d| BlessError::Unsound(d.message))?;
    if read != meant {
        return Err(BlessError::Unsound(unsound(&read, &meant)));
    }
    Ok(Blessed { text: new, notes })
}

/// What of `read` differs from `meant`, in words.
fn unsound(read: &Scenario, meant: &Scenario) -> String {
    let parts = [
        (
            "violations",
            read.expect.violations != meant.expect.violations,
        ),
        ("counts", read.expect.counts != meant.expect.counts),
        ("open", read.expect.open != meant.expect.open),
        ("quiet", read.expect.quiet != meant.expect.quiet),
        ("includes", read.expect.includes != meant.expect.includes),
    ];
    let differ: Vec<&str> = parts.iter().filter(|p| p.1).map(|p| p.0).collect();
    if differ.is_empty() {
        "a key outside `expect` changed".into()
    } else {
        format!("`{}` differ", differ.join("`, `"))
    }
}

/// The spaces a line begins with.
fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn is_blank_or_comment(line: &str) -> bool {
    let t = line.trim_start();
    t.is_empty() || t.starts_with('#')
}

/// A plain key at exactly `at` spaces, and what follows its colon.
fn key_at(line: &str, at: usize) -> Option<(&str, &str)> {
    if indent(line) != at {
        return None;
    }
    let rest = line.get(at..)?;
    let colon = rest.find(':')?;
    let (key, after) = (rest.get(..colon)?, rest.get(colon + 1..)?);
    let plain = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    (plain && (after.is_empty() || after.starts_with(' '))).then_some((key, after))
}

/// What follows a key's colon, when it is only a comment (or nothing): the comment, with the
/// spaces before it.
fn only_comment(after: &str) -> Option<&str> {
    let t = after.trim_start();
    (t.is_empty() || t.starts_with('#')).then_some(after.trim_end())
}

/// The line of the top-level key `expect`, if there is one; refused when its value is not a
/// block.
fn find_expect(lines: &[String]) -> Result<Option<usize>, BlessError> {
    for (i, line) in lines.iter().enumerate() {
        if let Some(("expect", after)) = key_at(line, 0) {
            return match only_comment(after) {
                Some(_) => Ok(Some(i)),
                None => Err(BlessError::NotABlock { line: i + 1 }),
            };
        }
    }
    Ok(None)
}

/// The end (exclusive) of the block mapping under the top-level key on line `at`: before the
/// next line at the top level, and before the blank and comment lines that precede it (they
/// belong to what follows).
fn block_end(lines: &[String], at: usize) -> usize {
    let mut end = (at + 1..lines.len())
        .find(|&i| {
            lines
                .get(i)
                .is_some_and(|l| !is_blank_or_comment(l) && indent(l) == 0)
        })
        .unwrap_or(lines.len());
    while end > at + 1
        && lines
            .get(end - 1)
            .is_some_and(|l| l.trim().is_empty() || (is_blank_or_comment(l) && indent(l) == 0))
    {
        end -= 1;
    }
    end
}

/// The keys of a block mapping at `child` spaces within `start..end`: (key, its first line,
/// the end of its value). A value ends before the blank lines and the comment lines no deeper
/// than the keys that precede the next key.
fn children(
    lines: &[String],
    start: usize,
    end: usize,
    child: usize,
) -> Vec<(String, usize, usize)> {
    let starts: Vec<(String, usize)> = (start..end)
        .filter_map(|i| {
            let line = lines.get(i)?;
            if is_blank_or_comment(line) {
                return None;
            }
            key_at(line, child).map(|(key, _)| (key.to_string(), i))
        })
        .collect();
    let mut found = Vec::new();
    for (n, (key, first)) in starts.iter().enumerate() {
        let mut stop = starts.get(n + 1).map_or(end, |next| next.1);
        while stop > first + 1
            && lines.get(stop - 1).is_some_and(|l| {
                l.trim().is_empty() || (is_blank_or_comment(l) && indent(l) <= child)
            })
        {
            stop -= 1;
        }
        found.push((key.clone(), *first, stop));
    }
    found
}

/// How entries of one list are written, read and paired.
struct Style<T> {
    /// One entry in flow style.
    render: fn(&T) -> String,
    /// One `- ` item's text (its indentation removed) read back, as the loader reads it.
    parse: fn(&str) -> Option<T>,
    /// Whether two entries are of one clause: a replaced entry gives its comments to one
    /// of its clause.
    same_clause: fn(&T, &T) -> bool,
}

/// A list under `key`, at `at` spaces, written anew: its entries one a line.
fn list_block<T>(at: usize, key: &str, entries: &[T], render: fn(&T) -> String) -> Vec<String> {
    let pad = " ".repeat(at);
    if entries.is_empty() {
        return vec![format!("{pad}{key}: []")];
    }
    let mut lines = vec![format!("{pad}{key}:")];
    lines.extend(entries.iter().map(|e| format!("{pad}  - {}", render(e))));
    lines
}

/// One item of a block list: the blank and comment lines above it, and its own lines.
struct Item {
    lead: Vec<String>,
    body: Vec<String>,
}

/// The items of the block list in `lines` (the key's line excluded), at the indentation of the
/// first; and the blank and comment lines after the last. `None` when a line is neither.
fn items(lines: &[String]) -> Option<(usize, Vec<Item>, Vec<String>)> {
    let at = lines
        .iter()
        .find(|l| !is_blank_or_comment(l))
        .map_or(0, |l| indent(l));
    let mut items: Vec<Item> = Vec::new();
    let mut pending = Vec::new();
    for line in lines {
        if is_blank_or_comment(line) {
            pending.push(line.clone());
            continue;
        }
        let rest = line.get(at..).unwrap_or("");
        if indent(line) == at && (rest == "-" || rest.starts_with("- ")) {
            items.push(Item {
                lead: std::mem::take(&mut pending),
                body: vec![line.clone()],
            });
        } else if indent(line) > at {
            let item = items.last_mut()?;
            item.body.append(&mut pending);
            item.body.push(line.clone());
        } else {
            return None;
        }
    }
    Some((at, items, pending))
}

/// The lines of the list `key` (its key's line first), edited from `stated` to `found`: an
/// entry both hold keeps its lines and the comments above them; the others are written anew.
/// A list the line model cannot follow is written again, and `notes` says so.
fn edit_list<T: Clone + Ord + std::hash::Hash>(
    lines: &[String],
    child: usize,
    key: &str,
    stated: &[T],
    found: &[T],
    style: &Style<T>,
    notes: &mut Vec<String>,
) -> Vec<String> {
    let (head, rest) = match lines.split_first() {
        Some((head, rest)) => (head.as_str(), rest),
        None => ("", &[][..]),
    };
    let prefix = " ".repeat(indent(head));
    let after = key_at(head, child).map_or("", |(_, after)| after);
    // The key's own comment, and whether its value is an empty flow list (`key: []`).
    let (comment, modelled) = match only_comment(after) {
        Some(comment) => (comment.to_string(), items(rest)),
        None => match after.trim_start().strip_prefix("[]").and_then(only_comment) {
            Some(comment) if rest.iter().all(|l| is_blank_or_comment(l)) => (
                comment.to_string(),
                Some((child + 2, Vec::new(), rest.to_vec())),
            ),
            _ => (String::new(), None),
        },
    };
    // Each item read back alone must give the entry the loader read, in order.
    let modelled = modelled.and_then(|(at, items, tail)| {
        let values: Option<Vec<T>> = items
            .iter()
            .map(|item| {
                let text: Vec<&str> = item
                    .body
                    .iter()
                    .map(|l| l.get(at.min(indent(l))..).unwrap_or(""))
                    .collect();
                (style.parse)(&text.join("\n"))
            })
            .collect();
        values
            .filter(|v| v.as_slice() == stated)
            .map(|values| (at, items, values, tail))
    });
    let Some((at, items, values, tail)) = modelled else {
        notes.push(format!(
            "`expect.{key}` was written again as a block list: comments inside it were not kept"
        ));
        return list_block(child, key, found, style.render);
    };
    if found.is_empty() {
        let mut out = vec![format!("{prefix}{key}: []{comment}")];
        out.extend(tail);
        return out;
    }
    // The key's line as it was, unless its value was `[]`.
    let mut out = if only_comment(after).is_some() {
        vec![head.to_string()]
    } else {
        vec![format!("{prefix}{key}:{comment}")]
    };
    let pad = " ".repeat(if items.is_empty() { child + 2 } else { at });
    let mut used = vec![false; items.len()];
    for op in similar::capture_diff_slices(similar::Algorithm::Myers, &values, found) {
        let (tag, old, new) = op.as_tag_tuple();
        match tag {
            similar::DiffTag::Equal => {
                for item in items.get(old).unwrap_or(&[]) {
                    out.extend(item.lead.iter().cloned());
                    out.extend(item.body.iter().cloned());
                }
            }
            similar::DiffTag::Delete => {}
            similar::DiffTag::Insert | similar::DiffTag::Replace => {
                for entry in found.get(new).unwrap_or(&[]) {
                    // A replaced entry's comments go to the first new entry of its clause.
                    let heir = old.clone().find(|&i| {
                        !used.get(i).copied().unwrap_or(true)
                            && values.get(i).is_some_and(|v| (style.same_clause)(v, entry))
                    });
                    if let Some(i) = heir {
                        if let Some(u) = used.get_mut(i) {
                            *u = true;
                        }
                        if let Some(item) = items.get(i) {
                            out.extend(item.lead.iter().cloned());
                        }
                    }
                    out.push(format!("{pad}- {}", (style.render)(entry)));
                }
            }
        }
    }
    out.extend(tail);
    out
}

/// The lines of `counts` (its key's line first), edited from `stated` to `found`: a term
/// both hold keeps its line (its count changed if it did, its comment kept), a term no longer
/// in the run goes with the comments above it, a new one is added at the end.
fn edit_counts(
    lines: &[String],
    child: usize,
    stated: &BTreeMap<String, u64>,
    found: &[(String, u64)],
    notes: &mut Vec<String>,
) -> Vec<String> {
    let rewrite = |notes: &mut Vec<String>| {
        let pad = " ".repeat(child);
        if found.is_empty() {
            return vec![format!("{pad}counts: {{}}")];
        }
        notes.push(
            "`expect.counts` was written again as a block: comments inside it were not kept"
                .to_string(),
        );
        let mut out = vec![format!("{pad}counts:")];
        out.extend(
            found
                .iter()
                .map(|(term, n)| format!("{pad}  {}: {n}", scalar(term))),
        );
        out
    };
    let Some((head, rest)) = lines.split_first() else {
        return rewrite(notes);
    };
    let after = key_at(head, child).map_or("", |(_, after)| after);
    if only_comment(after).is_none() || found.is_empty() {
        return rewrite(notes);
    }
    let at = rest
        .iter()
        .find(|l| !is_blank_or_comment(l))
        .map_or(child + 2, |l| indent(l));
    // Each entry: the comments above it, its term, the text before and after its count.
    let mut entries: Vec<(Vec<String>, String, String)> = Vec::new();
    let mut pending = Vec::new();
    for line in rest {
        if is_blank_or_comment(line) {
            pending.push(line.clone());
            continue;
        }
        let (Some((term, _)), Some(n)) = (key_at(line, at), stated_number(line, at)) else {
            return rewrite(notes);
        };
        // The number read must be the loader's.
        if stated.get(term) != Some(&n) {
            return rewrite(notes);
        }
        entries.push((std::mem::take(&mut pending), term.to_string(), line.clone()));
    }
    if entries.len() != stated.len() {
        return rewrite(notes);
    }
    let found_map: BTreeMap<&str, u64> = found.iter().map(|(t, n)| (t.as_str(), *n)).collect();
    let mut out = vec![head.clone()];
    for (lead, term, line) in &entries {
        if let Some(n) = found_map.get(term.as_str()) {
            out.extend(lead.iter().cloned());
            out.push(renumber(line, at, *n).unwrap_or_else(|| line.clone()));
        }
    }
    let pad = " ".repeat(at);
    for (term, n) in found {
        if !stated.contains_key(term) {
            out.push(format!("{pad}{}: {n}", scalar(term)));
        }
    }
    out.extend(pending);
    out
}

/// The number of the line `key: number  # comment` at `at` spaces.
fn stated_number(line: &str, at: usize) -> Option<u64> {
    let (_, value) = key_at(line, at)?;
    let digits: String = value
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    renumber(line, at, 0)?;
    digits.parse().ok()
}

/// The line `key: number  # comment` at `at` spaces with the number `n` instead, the rest as
/// it was; `None` when the line is not that.
fn renumber(line: &str, at: usize, n: u64) -> Option<String> {
    let (_, value) = key_at(line, at)?;
    let digits = value.trim_start();
    let number: String = digits.chars().take_while(char::is_ascii_digit).collect();
    let suffix = digits.get(number.len()..)?;
    if number.is_empty() || only_comment(suffix).is_none() {
        return None;
    }
    let before = line.get(..line.len() - digits.len())?;
    Some(format!("{before}{n}{suffix}"))
}

fn parse_violation(text: &str) -> Option<Stated> {
    let mut one: Vec<Stated> = serde_saphyr::from_str(text).ok()?;
    (one.len() == 1)
        .then(|| one.pop())
        .flatten()
        .map(Stated::canonical)
}

fn parse_open(text: &str) -> Option<StatedOpen> {
    let mut one: Vec<StatedOpen> = serde_saphyr::from_str(text).ok()?;
    (one.len() == 1)
        .then(|| one.pop())
        .flatten()
        .map(StatedOpen::canonical)
}

/// A violation as the shipped scenarios write one: `{agreement: …, term: …, time: "…",
/// breached_by: …, evidence: […], key: "…"}`.
fn flow_violation(v: &Stated) -> String {
    let mut parts = vec![
        format!("agreement: {}", scalar(&v.agreement)),
        format!("term: {}", scalar(&v.term)),
        format!("time: {}", quoted(&v.time)),
    ];
    match v.breached_by.as_slice() {
        [] => {}
        [party] => parts.push(format!("breached_by: {}", scalar(party))),
        parties => {
            let parties: Vec<String> = parties.iter().map(|p| scalar(p)).collect();
            parts.push(format!("breached_by: [{}]", parties.join(", ")));
        }
    }
    let evidence: Vec<String> = v.evidence.iter().map(|e| scalar(e)).collect();
    parts.push(format!("evidence: [{}]", evidence.join(", ")));
    if let Some(key) = &v.key {
        parts.push(format!("key: {}", quoted(key)));
    }
    format!("{{{}}}", parts.join(", "))
}

/// An open obligation: `{agreement: …, term: …, trigger: …, due: "…"}`.
fn flow_open(o: &StatedOpen) -> String {
    format!(
        "{{agreement: {}, term: {}, trigger: {}, due: {}}}",
        scalar(&o.agreement),
        scalar(&o.term),
        scalar(&o.trigger),
        quoted(&o.due)
    )
}

/// A text as a plain YAML scalar when it reads back as that text in a flow collection (an
/// id: letters, digits, `-`, `_`, `.`, `/`, not a word YAML reads as a boolean or null),
/// quoted otherwise.
fn scalar(text: &str) -> String {
    let plain = text
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
        && !matches!(
            text.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n"
        );
    if plain {
        text.to_string()
    } else {
        quoted(text)
    }
}

/// A text as a double-quoted YAML scalar (JSON's escapes are YAML's).
fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| format!("\"{text}\""))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Whatever an id holds, the line written reads back as the same violation.
    #[test]
    fn written_entries_read_back() {
        let odd = [
            "plain-id",
            "yes",
            "No",
            "null",
            "2024-01-01",
            "12",
            "with space",
            "a: b",
            "#hash",
            "[x]",
            "quote\"s and 'single'",
            "tab\there",
            "",
            "ünïcode",
            "-dash",
        ];
        for text in odd {
            let v = Stated {
                agreement: text.into(),
                term: text.into(),
                time: "2024-01-01T00:00:00Z".into(),
                breached_by: vec![text.into()],
                evidence: vec![text.into(), "b".into()],
                key: Some(text.into()),
            };
            let line = format!("- {}", flow_violation(&v));
            assert_eq!(parse_violation(&line), Some(v), "{line}");
            let o = StatedOpen {
                agreement: text.into(),
                term: text.into(),
                trigger: text.into(),
                due: "2024-01-01T00:00:00Z".into(),
            };
            let line = format!("- {}", flow_open(&o));
            assert_eq!(parse_open(&line), Some(o), "{line}");
        }
    }

    #[test]
    fn counts_lines_keep_their_comments() {
        assert_eq!(
            renumber("    a-term: 18   # note", 4, 7).as_deref(),
            Some("    a-term: 7   # note")
        );
        assert_eq!(stated_number("  events: 3056", 2), Some(3056));
        assert_eq!(stated_number("  events: many", 2), None);
        assert_eq!(renumber("  events: 12x", 2, 1), None);
    }
}
