//! The text rendering: what an analyst reads in a terminal. It draws from the report's sections
//! (`sections.rs`) and decides only the layout and how event data is shown ([`plain`]).

use std::borrow::Cow;
use std::io::{self, Write};

use super::sections::{Incident, Piece, Rendering, sections};
use super::{Report, ViolationSource};

pub(super) fn write(
    report: &Report,
    violations: &dyn ViolationSource,
    rendering: Rendering,
    out: &mut dyn Write,
) -> io::Result<()> {
    let s = sections(report, violations, rendering);
    let h = &s.heading;
    write!(
        out,
        "{} agreement(s), {} event(s) from {} input(s)",
        h.agreements, h.events, h.inputs
    )?;
    if let Some(period) = &h.period {
        write!(out, ", {} to {}", period.first, period.last)?;
    }
    writeln!(out)?;
    if let Some(zone) = h.zone_words() {
        writeln!(out, "{zone}")?;
    }
    if let Some(until) = &report.options.until {
        write!(out, "replay ended at {} (--until)", plain(until))?;
        match h.after_until {
            Some(after) => writeln!(out, ": {after} event(s) after it read, judged by no term")?,
            None => writeln!(out)?,
        }
    }
    if let Some(signal) = &report.options.interrupted {
        writeln!(
            out,
            "INTERRUPTED by {}: the stream was judged up to the last event read",
            plain(signal)
        )?;
    }
    for agreement in &s.agreements {
        writeln!(out, "  {}: {}", agreement.id, plain(agreement.title))?;
    }
    for mapping in &s.mappings {
        writeln!(
            out,
            "  events made by mapping {} ({})",
            plain(&mapping.id),
            plain(&mapping.file)
        )?;
    }
    write!(out, "{}", s.tally.words())?;
    if s.tally.hypothetical > 0 {
        write!(
            out,
            "; {} resting on hypothetical events",
            s.tally.hypothetical
        )?;
    }
    write!(out, "{}", plain(&s.tally.verification_words()))?;
    writeln!(out)?;

    let rows: Vec<[String; 6]> = s
        .terms
        .iter()
        .map(|t| {
            [
                t.clause.clone(),
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
    for note in &s.notes {
        writeln!(out, "note: {}", words(&note.terse()))?;
    }

    if !s.parties.is_empty() {
        writeln!(out)?;
        if s.has_claims() {
            let rows: Vec<[String; 4]> = s
                .parties
                .iter()
                .map(|p| {
                    [
                        plain(p.party).into_owned(),
                        p.violations.to_string(),
                        p.alleges.to_string(),
                        p.denies.to_string(),
                    ]
                })
                .collect();
            let header = ["PARTY", "VIOLATIONS", "ALLEGES", "DENIES"].map(String::from);
            table(out, &header, &rows)?;
        } else {
            let rows: Vec<[String; 2]> = s
                .parties
                .iter()
                .map(|p| [plain(p.party).into_owned(), p.violations.to_string()])
                .collect();
            table(out, &["PARTY".into(), "VIOLATIONS".into()], &rows)?;
        }
        if let Some(shared) = s.shared_words() {
            writeln!(out, "note: {shared}")?;
        }
    }

    // On a terminal, incidents are listed only where they group violations: otherwise they
    // would say again, line for line, what the violations below say.
    // Two passes over the violations, none held: the incidents' number and the columns'
    // widths, then their rows.
    let header = ["TERM", "PARTY", "KEY", "FIRST", "LAST", "VIOLATIONS"].map(String::from);
    let row = |i: &Incident| {
        [
            plain(&i.clause).into_owned(),
            plain(&i.party).into_owned(),
            plain(i.key.as_deref().unwrap_or("")).into_owned(),
            i.first.clone(),
            i.last.clone(),
            i.violations.to_string(),
        ]
    };
    let mut widths = Widths::of(&header);
    let incident_count = s.each_incident(&mut |i| {
        widths.widen(&row(i));
        Ok(())
    })?;
    if incident_count < s.violations.count() {
        writeln!(
            out,
            "\nINCIDENTS (a term's violations for one key and the same parties, none more than {} apart)",
            s.incident_gap_words()
        )?;
        widths.line(out, &header)?;
        s.each_incident(&mut |i| widths.line(out, &row(i)))?;
    }

    if s.violations.count() > 0 {
        writeln!(out, "\nVIOLATIONS")?;
        s.each_violation(&mut |v| {
            let evidence: Vec<String> = v
                .evidence
                .iter()
                .map(|e| {
                    let at = plain(&e.at);
                    let mark = match (e.hypothetical, e.verification_mark()) {
                        (true, Some(v)) => format!(" HYPOTHETICAL {v}"),
                        (true, None) => " HYPOTHETICAL".to_string(),
                        (false, Some(v)) => format!(" {v}"),
                        (false, None) => String::new(),
                    };
                    // An event without an id is named by its place: said once. (Compared with
                    // the place as shown, as this rendering always has.)
                    if e.id == at {
                        format!("{at}{mark}")
                    } else {
                        format!("{} ({at}){mark}", plain(e.id))
                    }
                })
                .collect();
            let clause = match v.article {
                Some(article) => format!("{} ({})", v.clause, plain(article)),
                None => v.clause.clone(),
            };
            // One line per violation: the place, unless the message already names it.
            let place = v
                .place
                .filter(|place| !v.message.contains(place))
                .map(|place| format!("  @ {}", plain(place)))
                .unwrap_or_default();
            // The key of a keyed form (the sector of an absence gap, say), unless the message
            // already names it: a gap that opens with the log has no event to describe it.
            let key = v
                .key
                .filter(|key| !v.message.contains(key))
                .map(|key| format!("  key: {}", plain(key)))
                .unwrap_or_default();
            let key = match &v.window {
                Some(window) => format!("{key}  ({window})"),
                None => key,
            };
            writeln!(
                out,
                "{}  {}  {clause}  {}  {}{place}{key}  [{}]",
                v.time,
                v.severity,
                plain(&v.party),
                plain(v.message),
                evidence.join(", ")
            )?;
            // Who alleges beside who denies, a pair a line, under the violation.
            let left: Vec<String> = v
                .claims
                .rows()
                .map(|(a, _)| {
                    a.map_or(String::new(), |a| {
                        plain(&a.words(Some("alleges"))).into_owned()
                    })
                })
                .collect();
            let width = left.iter().map(|l| l.chars().count()).max().unwrap_or(0);
            for (left, (_, denies)) in left.iter().zip(v.claims.rows()) {
                match denies {
                    Some(d) => writeln!(
                        out,
                        "    {left:<width$}  |  {}",
                        plain(&d.words(Some("denies")))
                    )?,
                    None => writeln!(out, "    {left}")?,
                }
            }
            Ok(())
        })?;
    }

    if !s.open.is_empty() {
        writeln!(
            out,
            "\nOPEN OBLIGATIONS (due after the last event: neither kept nor broken)"
        )?;
        for o in &s.open {
            writeln!(
                out,
                "due {}  {}  opened by {} ({})",
                o.due,
                o.clause,
                plain(o.trigger),
                plain(&o.at)
            )?;
        }
    }

    if !s.late.is_empty() {
        writeln!(
            out,
            "\nLATE EVENTS (came after the reorder buffer had moved on: judged out of order)"
        )?;
        for l in &s.late {
            writeln!(
                out,
                "{} ({}) at {}, after {} was judged",
                plain(l.event),
                plain(&l.at),
                l.time,
                l.after
            )?;
        }
    }

    if !s.skipped.is_empty() {
        writeln!(out, "\nSKIPPED LINES ({})", s.skipped.len())?;
        // Escaped like every other line: a reason quotes the line's own text.
        for skipped in &s.skipped {
            writeln!(out, "{}: {}", plain(&skipped.at), plain(skipped.reason))?;
        }
    }

    if !s.off_vocabulary.is_empty() {
        writeln!(
            out,
            "\nDATA OUTSIDE THE VOCABULARY (each with its first line and the events it was found on)"
        )?;
        for o in &s.off_vocabulary {
            writeln!(
                out,
                "{}: {} ({} event(s))",
                plain(&o.at),
                words(&o.what),
                o.events
            )?;
        }
    }

    if !s.errors.is_empty() {
        writeln!(
            out,
            "\nRULE ERRORS (a failing `when` does not fire; a failing `breached_by` leaves the violation unattributed, a failing message part shows ?)"
        )?;
        for e in &s.errors {
            let at = plain(&e.at);
            let first = if e.event == at {
                at
            } else {
                Cow::Owned(format!("{} ({at})", plain(e.event)))
            };
            writeln!(
                out,
                "{}: {} event(s); first {first}: {}",
                e.clause,
                e.count,
                plain(&e.message)
            )?;
        }
    }
    Ok(())
}

/// Words for a terminal: names in backticks, data shown [`plain`].
fn words(pieces: &[Piece<'_>]) -> String {
    pieces
        .iter()
        .map(|piece| match piece {
            Piece::Prose(text) => text.clone(),
            Piece::Data(text) => plain(text),
            Piece::Code(name) => Cow::Owned(format!("`{name}`")),
        })
        .collect()
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
    let mut widths = Widths::of(header);
    for row in rows {
        widths.widen(row);
    }
    for row in std::iter::once(header).chain(rows) {
        widths.line(out, row)?;
    }
    Ok(())
}

/// The widths of a table's columns, so that rows can be printed aligned as they come once
/// every row has been measured (a table of incidents is measured in one pass over the
/// violations and printed in another, never held).
struct Widths<const N: usize>([usize; N]);

impl<const N: usize> Widths<N> {
    fn of(header: &[String; N]) -> Self {
        Widths(header.clone().map(|h| h.chars().count()))
    }

    fn widen(&mut self, row: &[String; N]) {
        for (width, cell) in self.0.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }

    /// The first column left-aligned, the others right-aligned, two spaces apart.
    fn line(&self, out: &mut dyn Write, row: &[String; N]) -> io::Result<()> {
        let mut line = String::new();
        for (i, (cell, width)) in row.iter().zip(self.0).enumerate() {
            if i == 0 {
                line.push_str(&format!("{cell:<width$}"));
            } else {
                line.push_str(&format!("  {cell:>width$}"));
            }
        }
        writeln!(out, "{}", line.trim_end())
    }
}
