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
//!
//! What it shows comes from the report's sections (`sections.rs`), derived there once for
//! every rendering; this module decides only the Markdown and its escaping.

use std::io::{self, Write};

use super::sections::{Piece, Rendering, Violation, sections};
use super::{Report, ViolationSource};

pub(super) fn write(
    report: &Report,
    violations: &dyn ViolationSource,
    rendering: Rendering,
    out: &mut dyn Write,
) -> io::Result<()> {
    let s = sections(report, violations, rendering);
    let h = &s.heading;
    let titles: Vec<String> = h.titles.iter().map(|t| md(t)).collect();
    writeln!(out, "# Violation report: {}", titles.join("; "))?;
    writeln!(out)?;
    writeln!(
        out,
        "pactum {}, report format {}.",
        md(h.pactum_version),
        h.report_version
    )?;
    match &h.period {
        Some(period) => writeln!(
            out,
            "Events from **{}** to **{}**: {}, {} violation(s).",
            period.first,
            period.last,
            h.events_judged(),
            h.violations
        )?,
        None => writeln!(out, "No event was judged.")?,
    }
    if let Some(zone) = h.zone_words() {
        writeln!(out, "{zone}")?;
    }
    if !s.options.is_empty() {
        let options: Vec<String> = s.options.iter().map(|o| words(o)).collect();
        writeln!(out, "Options: {}.", options.join("; "))?;
    }
    // A table of contents: the sections this report has, linked by the anchors Markdown
    // renderers give headings.
    let mut contents = vec![
        "[Agreements](#agreements)",
        "[Inputs](#inputs)",
        "[Summary](#summary)",
        "[Incidents](#incidents)",
        "[Violations](#violations)",
    ];
    for (present, link) in [
        (!s.open.is_empty(), "[Open obligations](#open-obligations)"),
        (!s.errors.is_empty(), "[Rule errors](#rule-errors)"),
        (
            !s.off_vocabulary.is_empty(),
            "[Data outside the vocabulary](#data-outside-the-vocabulary)",
        ),
        (!s.skipped.is_empty(), "[Skipped lines](#skipped-lines)"),
        (!s.late.is_empty(), "[Late events](#late-events)"),
    ] {
        if present {
            contents.push(link);
        }
    }
    writeln!(out, "\nContents: {}.", contents.join(" · "))?;

    writeln!(out, "\n## Agreements\n")?;
    writeln!(out, "| id | title | rule file | SHA-256 | in force |")?;
    writeln!(out, "|---|---|---|---|---|")?;
    for a in &s.agreements {
        writeln!(
            out,
            "| `{}` | {} | {} | `{}` | {} |",
            code(a.id),
            cell(a.title),
            cell(a.file),
            a.sha256,
            a.in_force
        )?;
        for g in a.geography {
            writeln!(
                out,
                "| | geography | {} | `{}` | |",
                cell(&g.file),
                g.sha256
            )?;
        }
        for v in a.vocabulary {
            writeln!(
                out,
                "| | vocabulary | {} | `{}` | |",
                cell(&v.file),
                v.sha256
            )?;
        }
    }

    writeln!(out, "\n## Inputs\n")?;
    writeln!(
        out,
        "| file | SHA-256 | lines | events | skipped | blank | mapping |"
    )?;
    writeln!(out, "|---|---|---:|---:|---:|---:|---|")?;
    for i in s.inputs {
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
    writeln!(out, "{}.", s.tally.words())?;
    for sentence in s.tally.evidence_sentences() {
        writeln!(out, "{sentence}")?;
    }
    writeln!(out, "\n### By term\n")?;
    writeln!(
        out,
        "| term | severity | judged | out of period | violations | errors |"
    )?;
    writeln!(out, "|---|---|---:|---:|---:|---:|")?;
    for t in &s.terms {
        writeln!(
            out,
            "| `{}` {} | {} | {} | {} | {} | {} |",
            code(&t.clause),
            cell(t.title),
            t.severity,
            t.evaluated,
            t.out_of_period,
            t.violations,
            t.errors
        )?;
    }
    if !s.notes.is_empty() {
        writeln!(out)?;
        for note in &s.notes {
            writeln!(out, "- {}", words(&note.words()))?;
        }
    }
    if !s.parties.is_empty() {
        writeln!(out, "\n### By party\n")?;
        if s.has_claims() {
            writeln!(out, "| party | violations | alleges | denies |")?;
            writeln!(out, "|---|---:|---:|---:|")?;
            for p in &s.parties {
                writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    cell(p.party),
                    p.violations,
                    p.alleges,
                    p.denies
                )?;
            }
        } else {
            writeln!(out, "| party | violations |")?;
            writeln!(out, "|---|---:|")?;
            for p in &s.parties {
                writeln!(out, "| {} | {} |", cell(p.party), p.violations)?;
            }
        }
        if let Some(shared) = s.shared_words() {
            writeln!(out, "\n{shared}")?;
        }
    }
    let periods = s.periods()?;
    if !periods.rows.is_empty() {
        let unit = periods.unit.name();
        writeln!(out, "\n### By {unit}\n")?;
        writeln!(out, "{}\n", periods.words())?;
        writeln!(out, "| {unit} | violations | change | parties | terms |")?;
        writeln!(out, "|---|---:|---:|---|---|")?;
        for period in &periods.rows {
            let parties: Vec<String> = period
                .parties
                .iter()
                .map(|(party, n)| format!("{} {n}", cell(party)))
                .collect();
            let terms: Vec<String> = period
                .terms
                .iter()
                .map(|(term, n)| format!("`{}` {n}", code(term)))
                .collect();
            writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                period.label,
                period.total,
                period.change_words(),
                parties.join(", "),
                terms.join(", ")
            )?;
        }
        // The party × term matrix, as missions print it: per period, a row per party in
        // breach, a column per term, and the party's change from the period before.
        writeln!(out, "\n### Parties and terms, by {unit}\n")?;
        writeln!(
            out,
            "Each party's violations of each term per {unit}, for the {unit}s in which it was in breach or had been the {unit} before; the change is from its violations the {unit} before.\n"
        )?;
        let columns: Vec<String> = periods
            .terms
            .iter()
            .map(|t| format!(" `{}` |", code(t)))
            .collect();
        writeln!(
            out,
            "| {unit} | party |{} total | change |",
            columns.concat()
        )?;
        writeln!(
            out,
            "|---|---|{}---:|---:|",
            "---:|".repeat(periods.terms.len())
        )?;
        for (label, row) in periods.matrix_rows() {
            let counts: Vec<String> = row.counts.iter().map(|n| format!(" {n} |")).collect();
            writeln!(
                out,
                "| {label} | {} |{} {} | {} |",
                cell(&row.party),
                counts.concat(),
                row.total,
                row.change_words()
            )?;
        }
    }

    // Two passes over the violations: the number of incidents, then their rows; none held.
    let incident_count = s.incident_count()?;
    writeln!(out, "\n## Incidents\n")?;
    writeln!(
        out,
        "A term's violations for one key and the same parties, none more than {} after the one before; listed as they ended.\n",
        s.incident_gap_words()
    )?;
    if incident_count == 0 {
        writeln!(out, "None.")?;
    } else {
        writeln!(
            out,
            "| # | term | severity | party | key | first | last | violations | peak | opened by |"
        )?;
        writeln!(out, "|---:|---|---|---|---|---|---|---:|---|---|")?;
        s.each_incident(&mut |i| {
            writeln!(
                out,
                "| {} | `{}` {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                i.number,
                code(&i.clause),
                cell(&i.title),
                i.severity,
                cell(&i.party),
                i.key.as_deref().map(cell).unwrap_or_default(),
                i.first,
                i.last,
                i.violations,
                i.peak.as_deref().map(cell).unwrap_or_default(),
                cell(&i.opened_by.join(", "))
            )
        })?;
    }

    writeln!(out, "\n## Violations\n")?;
    let count = s.violations.count();
    if count == 0 {
        writeln!(out, "None.")?;
    }
    // Incidents come first; where they group violations, the violations one by one are
    // folded away (a burst of a threshold is one incident and thousands of violations).
    let folded = (incident_count) < count;
    if folded {
        writeln!(
            out,
            "<details><summary>{count} violations, one by one</summary>\n"
        )?;
    }
    s.each_violation(&mut |v| violation(out, v))?;
    if folded {
        writeln!(out, "\n</details>")?;
    }

    if !s.open.is_empty() {
        writeln!(
            out,
            "\n## Open obligations\n\nDue after the last event: neither kept nor broken.\n"
        )?;
        writeln!(out, "| term | opened by | due |")?;
        writeln!(out, "|---|---|---|")?;
        for o in &s.open {
            writeln!(
                out,
                "| `{}` | `{}` ({}) | {} |",
                code(&o.clause),
                code(o.trigger),
                cell(&o.at),
                cell(&o.due)
            )?;
        }
    }
    if !s.errors.is_empty() {
        writeln!(
            out,
            "\n## Rule errors\n\nA failing `when` does not fire; a failing `breached_by` leaves the violation unattributed; a failing message part shows `?`.\n"
        )?;
        writeln!(out, "| term | events | first | message |")?;
        writeln!(out, "|---|---:|---|---|")?;
        for e in &s.errors {
            writeln!(
                out,
                "| `{}` | {} | `{}` ({}) | {} |",
                code(&e.clause),
                e.count,
                code(e.event),
                cell(&e.at),
                cell(&e.message)
            )?;
        }
    }
    if !s.off_vocabulary.is_empty() {
        writeln!(
            out,
            "\n## Data outside the vocabulary\n\nEvents the vocabulary does not describe: a term that reads a value contradicting its declaration fails on that event (rule errors).\n"
        )?;
        writeln!(out, "| first | found | events |")?;
        writeln!(out, "|---|---|---:|")?;
        for o in &s.off_vocabulary {
            writeln!(
                out,
                "| {} | {} | {} |",
                cell(&o.at),
                words(&o.what),
                o.events
            )?;
        }
    }
    if !s.skipped.is_empty() {
        writeln!(out, "\n## Skipped lines\n")?;
        writeln!(out, "| where | reason |")?;
        writeln!(out, "|---|---|")?;
        for k in &s.skipped {
            writeln!(out, "| {} | {} |", cell(&k.at), cell(k.reason))?;
        }
    }
    if !s.late.is_empty() {
        writeln!(
            out,
            "\n## Late events\n\nCame on a stream after the reorder buffer had passed their time: judged on arrival.\n"
        )?;
        writeln!(out, "| event | where | time |")?;
        writeln!(out, "|---|---|---|")?;
        for l in &s.late {
            writeln!(
                out,
                "| `{}` | {} | {} |",
                code(l.event),
                cell(&l.at),
                cell(&l.time)
            )?;
        }
    }
    Ok(())
}

/// One violation, as a numbered section.
fn violation(out: &mut dyn Write, v: &Violation<'_>) -> io::Result<()> {
    let clause = match v.article {
        Some(article) => format!("{} ({})", md(v.title), md(article)),
        None => md(v.title),
    };
    writeln!(
        out,
        "### {}. {} — `{}`\n",
        v.number,
        v.time,
        code(&v.clause)
    )?;
    writeln!(out, "- **Clause:** {clause}")?;
    if let Some(text) = v.clause_text {
        writeln!(out, "- **Clause text:** “{}”", md(text))?;
    }
    writeln!(out, "- **Breached by:** {}", md(&v.party))?;
    writeln!(out, "- **Severity:** {}", v.severity)?;
    writeln!(out, "- **When:** {}", v.time)?;
    let mut parts = Vec::new();
    parts.extend(v.place.map(md));
    parts.extend(v.coordinates.clone());
    parts.extend(v.country.map(md));
    parts.extend(v.near.iter().map(|w| md(w)));
    if !parts.is_empty() {
        writeln!(out, "- **Where:** {}", parts.join(" · "))?;
    }
    if let Some(key) = v.key {
        writeln!(out, "- **Key:** {}", md(key))?;
    }
    if let Some(window) = &v.window {
        writeln!(out, "- **Window:** {window}")?;
    }
    writeln!(out, "- **Message:** {}", md(v.message))?;
    writeln!(out, "- **Evidence:**")?;
    for e in &v.evidence {
        let mut mark = if e.hypothetical {
            " **HYPOTHETICAL**".to_string()
        } else {
            String::new()
        };
        if let Some(verification) = e.verification_mark() {
            mark.push_str(&format!(" **{verification}**"));
        }
        let account = e.account_words();
        if !account.is_empty() {
            mark.push_str(&format!(" — {}", md(&account)));
        }
        let source = e
            .source
            .map(|s| format!(", source: {}", link(s)))
            .unwrap_or_default();
        writeln!(
            out,
            "  - `{}` ({}), {} {}{source}{mark}",
            code(e.id),
            md(&e.at),
            md(e.kind),
            e.time
        )?;
    }
    if !v.claims.is_empty() {
        // Side by side: who alleges beside who denies.
        writeln!(out, "\n| alleges | denies |")?;
        writeln!(out, "|---|---|")?;
        for (alleges, denies) in v.claims.rows() {
            let said = |s: Option<&super::sections::Said<'_>>| {
                s.map_or(String::new(), |s| cell(&s.words(None)))
            };
            writeln!(out, "| {} | {} |", said(alleges), said(denies))?;
        }
    }
    writeln!(out)
}

/// Words for Markdown: names in code spans, data escaped.
fn words(pieces: &[Piece<'_>]) -> String {
    pieces
        .iter()
        .map(|piece| match piece {
            Piece::Prose(text) => text.to_string(),
            Piece::Data(text) => md(text),
            Piece::Code(name) => format!("`{}`", code(name)),
        })
        .collect()
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
