//! The Markdown rendering: a document for readers (diplomats, monitors, journalists) that
//! says what was judged, against what, and what was found, and lets anyone reproduce it.
//!
//! It follows what monitoring missions publish (OSCE SMM daily reports, UNIFIL reports on the
//! Blue Line): the agreements and the period covered, the inputs with their SHA-256, counts per
//! term, per party and per day, then each violation with its clause, party, time, place,
//! message and evidence (event ids with `FILE:LINE`, sources). It is rendered from the
//! versioned [`Report`] only, so a saved JSON report renders to the same bytes
//! (`pactum report REPORT.json --format markdown`). Event data is untrusted: every piece of it
//! is escaped so that it cannot add headings, links, tables or HTML to the document.

use std::io::{self, Write};

use super::{Report, ViolationRecord};

pub(super) fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let s = &report.summary;
    let titles: Vec<String> = report.agreements.iter().map(|a| md(&a.title)).collect();
    writeln!(out, "# Violation report: {}", titles.join("; "))?;
    writeln!(out)?;
    writeln!(
        out,
        "pactum {}, report format {}.",
        md(&report.pactum_version),
        report.report_version
    )?;
    match &report.period {
        Some(period) => writeln!(
            out,
            "Events from **{}** to **{}**: {} event(s) judged, {} violation(s).",
            period.first, period.last, s.events, s.violations
        )?,
        None => writeln!(out, "No event was judged.")?,
    }
    let mut options = Vec::new();
    if report.options.skip_invalid {
        options.push("invalid lines skipped and listed (`--skip-invalid`)".to_string());
    }
    if let Some(until) = &report.options.until {
        options.push(format!("replay ended at {} (`--until`)", md(until)));
    }
    if let Some(delay) = report.options.max_delay_s {
        options.push(format!(
            "a stream, events allowed {delay} s out of order (`--max-delay`)"
        ));
    }
    if !options.is_empty() {
        writeln!(out, "Options: {}.", options.join("; "))?;
    }

    writeln!(out, "\n## Agreements\n")?;
    writeln!(out, "| id | title | rule file | SHA-256 | in force |")?;
    writeln!(out, "|---|---|---|---|---|")?;
    for a in &report.agreements {
        let period = match (&a.effective.from, &a.effective.until) {
            (Some(from), Some(until)) => format!("{from} to {until}"),
            (Some(from), None) => format!("from {from}"),
            (None, Some(until)) => format!("until {until}"),
            (None, None) => "always".into(),
        };
        writeln!(
            out,
            "| `{}` | {} | {} | `{}` | {period} |",
            code(&a.id),
            cell(&a.title),
            cell(&a.file),
            a.sha256
        )?;
        for g in &a.geography {
            writeln!(
                out,
                "| | geography | {} | `{}` | |",
                cell(&g.file),
                g.sha256
            )?;
        }
    }

    writeln!(out, "\n## Inputs\n")?;
    writeln!(
        out,
        "| file | SHA-256 | lines | events | skipped | blank | mapping |"
    )?;
    writeln!(out, "|---|---|---:|---:|---:|---:|---|")?;
    for i in &report.inputs {
        let mapping = i
            .mapping
            .as_ref()
            .map(|m| format!("`{}` ({}, `{}`)", code(&m.id), cell(&m.file), m.sha256))
            .unwrap_or_default();
        writeln!(
            out,
            "| {} | `{}` | {} | {} | {} | {} | {mapping} |",
            cell(&i.file),
            i.sha256,
            i.lines,
            i.events,
            i.skipped,
            i.blank
        )?;
    }

    writeln!(out, "\n## Summary\n")?;
    let sev = &s.by_severity;
    writeln!(
        out,
        "{} violation(s): {} critical, {} high, {} medium, {} low.",
        s.violations, sev.critical, sev.high, sev.medium, sev.low
    )?;
    if s.hypothetical > 0 {
        writeln!(
            out,
            "{} of them rest on evidence marked hypothetical (invented to exercise a term).",
            s.hypothetical
        )?;
    }
    writeln!(out, "\n### By term\n")?;
    writeln!(
        out,
        "| term | severity | judged | out of period | violations | errors |"
    )?;
    writeln!(out, "|---|---|---:|---:|---:|---:|")?;
    for t in &s.by_term {
        writeln!(
            out,
            "| `{}/{}` {} | {} | {} | {} | {} | {} |",
            code(&t.agreement),
            code(&t.term),
            cell(&t.title),
            cell(t.severity.as_str()),
            t.evaluated,
            t.out_of_period,
            t.violations,
            t.errors
        )?;
    }
    let notes: Vec<String> = s
        .by_term
        .iter()
        .flat_map(|t| {
            let mut notes = Vec::new();
            if t.unlocated > 0 {
                notes.push(format!(
                    "`{}/{}`: {} event(s) without a position (`lat`/`lon`) for its geography.",
                    code(&t.agreement),
                    code(&t.term),
                    t.unlocated
                ));
            }
            if t.unkeyed > 0 {
                notes.push(format!(
                    "`{}/{}`: {} selected event(s) whose key was missing, in no group.",
                    code(&t.agreement),
                    code(&t.term),
                    t.unkeyed
                ));
            }
            notes
        })
        .collect();
    if !notes.is_empty() {
        writeln!(out)?;
        for note in notes {
            writeln!(out, "- {note}")?;
        }
    }
    if !s.by_party.is_empty() {
        writeln!(out, "\n### By party\n")?;
        writeln!(out, "| party | violations |")?;
        writeln!(out, "|---|---:|")?;
        for (party, count) in &s.by_party {
            writeln!(out, "| {} | {count} |", cell(party))?;
        }
    }
    if !report.violations.is_empty() {
        writeln!(out, "\n### By day\n")?;
        writeln!(out, "| day (UTC) | violations | terms |")?;
        writeln!(out, "|---|---:|---|")?;
        for (day, terms) in super::per_day(&report.violations) {
            let total: u64 = terms.values().sum();
            let listed: Vec<String> = terms
                .iter()
                .map(|(term, n)| format!("`{}` {n}", code(term)))
                .collect();
            writeln!(out, "| {day} | {total} | {} |", listed.join(", "))?;
        }
    }

    writeln!(out, "\n## Violations\n")?;
    if report.violations.is_empty() {
        writeln!(out, "None.")?;
    }
    for (n, v) in report.violations.iter().enumerate() {
        violation(out, n + 1, v)?;
    }

    if !report.open.is_empty() {
        writeln!(
            out,
            "\n## Open obligations\n\nDue after the last event: neither kept nor broken.\n"
        )?;
        writeln!(out, "| term | opened by | due |")?;
        writeln!(out, "|---|---|---|")?;
        for o in &report.open {
            writeln!(
                out,
                "| `{}/{}` | `{}` ({}:{}) | {} |",
                code(&o.agreement),
                code(&o.term),
                code(&o.trigger),
                cell(&o.file),
                o.line,
                cell(&o.due)
            )?;
        }
    }
    if !report.errors.is_empty() {
        writeln!(
            out,
            "\n## Rule errors\n\nA failing `when` does not fire; a failing `breached_by` leaves the violation unattributed; a failing message part shows `?`.\n"
        )?;
        writeln!(out, "| term | events | first | message |")?;
        writeln!(out, "|---|---:|---|---|")?;
        for e in &report.errors {
            writeln!(
                out,
                "| `{}/{}` | {} | `{}` ({}:{}) | {} |",
                code(&e.agreement),
                code(&e.term),
                e.count,
                code(&e.first.event),
                cell(&e.first.file),
                e.first.line,
                cell(&e.first.message)
            )?;
        }
    }
    if !report.skipped.is_empty() {
        writeln!(out, "\n## Skipped lines\n")?;
        writeln!(out, "| where | reason |")?;
        writeln!(out, "|---|---|")?;
        for k in &report.skipped {
            let at = match k.column {
                Some(column) => format!("{}:{}:{column}", k.file, k.line),
                None => format!("{}:{}", k.file, k.line),
            };
            writeln!(out, "| {} | {} |", cell(&at), cell(&k.reason))?;
        }
    }
    if !report.late.is_empty() {
        writeln!(
            out,
            "\n## Late events\n\nCame on a stream after the reorder buffer had passed their time: judged on arrival.\n"
        )?;
        writeln!(out, "| event | where | time |")?;
        writeln!(out, "|---|---|---|")?;
        for l in &report.late {
            writeln!(
                out,
                "| `{}` | {}:{} | {} |",
                code(&l.event),
                cell(&l.file),
                l.line,
                cell(&l.time)
            )?;
        }
    }
    Ok(())
}

/// One violation, as a numbered section.
fn violation(out: &mut dyn Write, n: usize, v: &ViolationRecord) -> io::Result<()> {
    let clause = match &v.article {
        Some(article) => format!("{} ({})", md(&v.title), md(article)),
        None => md(&v.title),
    };
    writeln!(
        out,
        "### {n}. {} — `{}/{}`\n",
        v.time,
        code(&v.agreement),
        code(&v.term)
    )?;
    writeln!(out, "- **Clause:** {clause}")?;
    writeln!(
        out,
        "- **Breached by:** {}",
        v.breached_by.as_deref().map_or("unattributed".into(), md)
    )?;
    writeln!(out, "- **Severity:** {}", md(v.severity.as_str()))?;
    writeln!(out, "- **When:** {}", v.time)?;
    if let Some(location) = &v.location {
        let mut parts = Vec::new();
        if let Some(place) = &location.place {
            parts.push(md(place));
        }
        if let (Some(lat), Some(lon)) = (location.lat, location.lon) {
            parts.push(format!("{lat}, {lon}"));
        }
        if let Some(country) = &location.country {
            parts.push(md(country));
        }
        parts.extend(near_words(location.near.as_ref()).iter().map(|w| md(w)));
        if !parts.is_empty() {
            writeln!(out, "- **Where:** {}", parts.join(" · "))?;
        }
    }
    if let Some(key) = &v.key {
        writeln!(out, "- **Key:** {}", md(key))?;
    }
    writeln!(out, "- **Message:** {}", md(&v.message))?;
    writeln!(out, "- **Evidence:**")?;
    for e in &v.evidence {
        let mark = if e.hypothetical {
            " **HYPOTHETICAL**"
        } else {
            ""
        };
        let source = e
            .source
            .as_deref()
            .map(|s| format!(", source: {}", link(s)))
            .unwrap_or_default();
        writeln!(
            out,
            "  - `{}` ({}:{}), {} {}{source}{mark}",
            code(&e.id),
            md(&e.file),
            e.line,
            md(&e.kind),
            e.time
        )?;
    }
    writeln!(out)
}

/// "12.3 km from Metina", "4.1 km from the line iq-tr-border": where a position lies.
pub(super) fn near_words(near: Option<&super::NearRecord>) -> Vec<String> {
    let Some(near) = near else {
        return Vec::new();
    };
    let mut words = Vec::new();
    if let (Some(place), Some(km)) = (&near.place, near.place_km) {
        words.push(format!("{km:.1} km from {place}"));
    }
    if let (Some(line), Some(km)) = (&near.line, near.line_km) {
        words.push(format!("{km:.1} km from the line {line}"));
    }
    words
}

/// Text from event data or rule files, made inert: Markdown punctuation is escaped, control
/// characters are shown escaped, and `<` cannot open HTML.
pub(super) fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '|' | '!' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            c if c.is_control() => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    out
}

/// A source: an autolink when it is a plain web address (escapes do not apply inside one),
/// escaped text otherwise.
fn link(text: &str) -> String {
    let web = text.starts_with("https://") || text.starts_with("http://");
    let plain = !text
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>');
    if web && plain {
        format!("<{text}>")
    } else {
        md(text)
    }
}

/// Text inside a table cell: as [`md`] (which escapes `|` and line breaks).
fn cell(text: &str) -> String {
    md(text)
}

/// Text inside backticks: a backtick would close the code span, so it is replaced.
fn code(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '`' => '\'',
            // A pipe ends a table cell even inside a code span.
            '|' => '¦',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect()
}
