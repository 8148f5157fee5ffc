//! The text rendering: what an analyst reads in a terminal.

use std::borrow::Cow;
use std::io::{self, Write};

use super::Report;

pub(super) fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let s = &report.summary;
    let inputs = report.inputs.len();
    write!(
        out,
        "{} agreement(s), {} event(s) from {inputs} input(s)",
        report.agreements.len(),
        s.events
    )?;
    if let Some(period) = &report.period {
        write!(out, ", {} to {}", period.first, period.last)?;
    }
    writeln!(out)?;
    for agreement in &report.agreements {
        writeln!(out, "  {}: {}", agreement.id, plain(&agreement.title))?;
    }
    // One line per mapping (one mapping usually serves every input).
    let mut mappings: Vec<(&str, &str)> = Vec::new();
    for mapping in report.inputs.iter().filter_map(|i| i.mapping.as_ref()) {
        if !mappings.contains(&(mapping.id.as_str(), mapping.file.as_str())) {
            mappings.push((&mapping.id, &mapping.file));
        }
    }
    for (id, file) in mappings {
        writeln!(
            out,
            "  events made by mapping {} ({})",
            plain(id),
            plain(file)
        )?;
    }
    let sev = &s.by_severity;
    write!(
        out,
        "{} violation(s): {} critical, {} high, {} medium, {} low",
        s.violations, sev.critical, sev.high, sev.medium, sev.low
    )?;
    if s.hypothetical > 0 {
        write!(out, "; {} resting on hypothetical events", s.hypothetical)?;
    }
    writeln!(out)?;

    let rows: Vec<[String; 6]> = s
        .by_term
        .iter()
        .map(|t| {
            [
                format!("{}/{}", t.agreement, t.term),
                t.severity.to_string(),
                t.evaluated.to_string(),
                t.out_of_period.to_string(),
                t.violations.to_string(),
                t.errors.to_string(),
            ]
        })
        .collect();
    let header = [
        "TERM",
        "SEVERITY",
        "JUDGED",
        "OUT OF PERIOD",
        "VIOLATIONS",
        "ERRORS",
    ]
    .map(str::to_string);
    writeln!(out)?;
    table(out, &header, &rows)?;
    // Events a term could not place or group: judged, but not the way the rule author meant.
    for t in &s.by_term {
        if t.unlocated > 0 {
            writeln!(
                out,
                "note: {}/{}: {} event(s) without `lat`/`lon`: its geography functions gave ()",
                t.agreement, t.term, t.unlocated
            )?;
        }
        if t.unkeyed > 0 {
            writeln!(
                out,
                "note: {}/{}: {} selected event(s) whose key was (): in no group",
                t.agreement, t.term, t.unkeyed
            )?;
        }
    }

    if !s.by_party.is_empty() {
        writeln!(out)?;
        let rows: Vec<[String; 2]> = s
            .by_party
            .iter()
            .map(|(party, count)| [plain(party).into_owned(), count.to_string()])
            .collect();
        table(out, &["PARTY".into(), "VIOLATIONS".into()], &rows)?;
    }

    if !report.violations.is_empty() {
        writeln!(out, "\nVIOLATIONS")?;
        for v in &report.violations {
            let evidence: Vec<String> = v
                .evidence
                .iter()
                .map(|e| {
                    let at = format!("{}:{}", plain(&e.file), e.line);
                    let mark = if e.hypothetical { " HYPOTHETICAL" } else { "" };
                    if e.id == at {
                        format!("{at}{mark}")
                    } else {
                        format!("{} ({at}){mark}", plain(&e.id))
                    }
                })
                .collect();
            let clause = match &v.article {
                Some(article) => format!("{}/{} ({})", v.agreement, v.term, plain(article)),
                None => format!("{}/{}", v.agreement, v.term),
            };
            // The place, unless the message already names it.
            let place = v
                .location
                .as_ref()
                .and_then(|l| l.place.as_deref())
                .filter(|place| !v.message.contains(place))
                .map(|place| format!("  @ {}", plain(place)))
                .unwrap_or_default();
            // The key of a keyed form (the sector of an absence gap, say), unless the message
            // already names it: a gap that opens with the log has no event to describe it.
            let key = v
                .key
                .as_deref()
                .filter(|key| !v.message.contains(key))
                .map(|key| format!("  key: {}", plain(key)))
                .unwrap_or_default();
            writeln!(
                out,
                "{}  {}  {clause}  {}  {}{place}{key}  [{}]",
                v.time,
                v.severity,
                plain(v.breached_by.as_deref().unwrap_or("unattributed")),
                plain(&v.message),
                evidence.join(", ")
            )?;
        }
    }

    if !report.open.is_empty() {
        writeln!(
            out,
            "\nOPEN OBLIGATIONS (due after the last event: neither kept nor broken)"
        )?;
        for o in &report.open {
            writeln!(
                out,
                "due {}  {}/{}  opened by {} ({}:{})",
                o.due,
                o.agreement,
                o.term,
                plain(&o.trigger),
                plain(&o.file),
                o.line
            )?;
        }
    }

    if !report.late.is_empty() {
        writeln!(
            out,
            "\nLATE EVENTS (came after the reorder buffer had moved on: judged out of order)"
        )?;
        for l in &report.late {
            writeln!(
                out,
                "{} ({}:{}) at {}, after {} was judged",
                plain(&l.event),
                plain(&l.file),
                l.line,
                l.time,
                l.after
            )?;
        }
    }

    if !report.skipped.is_empty() {
        writeln!(out, "\nSKIPPED LINES ({})", report.skipped.len())?;
        for skipped in &report.skipped {
            match skipped.column {
                Some(c) => writeln!(
                    out,
                    "{}:{}:{c}: {}",
                    skipped.file, skipped.line, skipped.reason
                )?,
                None => writeln!(out, "{}:{}: {}", skipped.file, skipped.line, skipped.reason)?,
            }
        }
    }

    if !report.errors.is_empty() {
        writeln!(
            out,
            "\nRULE ERRORS (a failing `when` does not fire; a failing `breached_by` leaves the violation unattributed, a failing message part shows ?)"
        )?;
        for e in &report.errors {
            let at = format!("{}:{}", plain(&e.first.file), e.first.line);
            let first = if e.first.event == at {
                at
            } else {
                format!("{} ({at})", plain(&e.first.event))
            };
            writeln!(
                out,
                "{}/{}: {} event(s); first {first}: {}",
                e.agreement,
                e.term,
                e.count,
                plain(&e.first.message)
            )?;
        }
    }
    Ok(())
}

/// Event data shown as it is, except control characters: a line break or a terminal escape
/// in a field must not start a line of its own or recolour the terminal.
pub fn plain(text: &str) -> Cow<'_, str> {
    if text.chars().any(char::is_control) {
        Cow::Owned(
            text.chars()
                .map(|c| {
                    if c.is_control() {
                        c.escape_default().collect()
                    } else {
                        c.to_string()
                    }
                })
                .collect(),
        )
    } else {
        Cow::Borrowed(text)
    }
}

/// Writes rows under a header; the first column is left-aligned, the others right-aligned.
fn table<const N: usize>(
    out: &mut dyn Write,
    header: &[String; N],
    rows: &[[String; N]],
) -> io::Result<()> {
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for row in std::iter::once(header).chain(rows) {
        let mut line = String::new();
        for (i, (cell, width)) in row.iter().zip(widths).enumerate() {
            if i == 0 {
                line.push_str(&format!("{cell:<width$}"));
            } else {
                line.push_str(&format!("  {cell:>width$}"));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}
