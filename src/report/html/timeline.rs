//! The HTML report's timeline: violations per reporting period as stacked bars, a colour per
//! term, with a legend.
//!
//! One job: draw the periods ([`Periods`]) so that each colour stands for one thing. A
//! palette of [`PALETTE`]'s nine well-separated colours goes to the nine terms with the most
//! violations; any further terms are drawn together in grey as "other terms", named in the
//! caption. Why not more colours: past ten or so, hues can no longer be told apart in a
//! legend (and the old palette of eight repeated itself from the ninth term on, so two terms
//! shared a colour). Ranked by violations, then by name, so the same report gives the same
//! colours.

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::report::sections::Periods;

use super::esc;

/// Tableau 10 without its grey, which is kept for the other terms.
const PALETTE: [&str; 9] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22",
    "#17becf",
];

/// The colour of the terms grouped as "other terms".
const OTHER: &str = "#7f7f7f";

/// At most this many of the other terms are named in the caption (then "and N more").
const MAX_OTHERS_NAMED: usize = 30;

/// The terms of the timeline, ranked: the first [`PALETTE`]`.len()` have a colour each.
struct Terms<'p> {
    /// `agreement/term` and its violations, most first, then by name.
    ranked: Vec<(&'p str, u64)>,
    /// Each term's place in `ranked`.
    rank: BTreeMap<&'p str, usize>,
}

impl<'p> Terms<'p> {
    fn of(periods: &'p Periods) -> Terms<'p> {
        let mut totals: BTreeMap<&str, u64> = BTreeMap::new();
        for (term, n) in periods.rows.iter().flat_map(|p| &p.terms) {
            *totals.entry(term.as_str()).or_default() += n;
        }
        let mut ranked: Vec<(&str, u64)> = totals.into_iter().collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let rank = ranked
            .iter()
            .enumerate()
            .map(|(i, (term, _))| (*term, i))
            .collect();
        Terms { ranked, rank }
    }

    /// How many colours are drawn: one per coloured term, and grey when any term is grouped.
    fn colours(&self) -> usize {
        self.ranked
            .len()
            .min(PALETTE.len() + usize::from(self.grouped() > 0))
    }

    /// How many terms are grouped as "other terms".
    fn grouped(&self) -> usize {
        self.ranked.len().saturating_sub(PALETTE.len())
    }

    /// A term's colour slot: its rank, or the last slot (grey) when it is grouped.
    fn slot(&self, term: &str) -> usize {
        self.rank
            .get(term)
            .copied()
            .unwrap_or(usize::MAX)
            .min(PALETTE.len())
    }
}

fn colour(slot: usize) -> &'static str {
    PALETTE.get(slot).copied().unwrap_or(OTHER)
}

/// Violations per period as an SVG bar chart, one colour per term (or grey for the terms
/// grouped), with a legend.
pub(super) fn draw(periods: &Periods, out: &mut dyn Write) -> io::Result<()> {
    let days = &periods.rows;
    let unit = periods.unit.name();
    if days.is_empty() {
        return Ok(());
    }
    let terms = Terms::of(periods);
    let most = days.iter().map(|d| d.total).max().unwrap_or(1).max(1);
    let (bar, gap, height) = (14u64, 4u64, 120u64);
    let width = (days.len() as u64 * (bar + gap) + 40).max(560);
    // Below the bars: the rotated day labels (about 70 px), then the legend.
    let legend = terms.colours() as u64 * 14 + 30;
    writeln!(
        out,
        "<figure><svg xmlns=\"http://www.w3.org/2000/svg\" id=\"timeline\" role=\"img\" width=\"{width}\" height=\"{}\" viewBox=\"0 0 {width} {}\"><title>Violations per {unit}, by term</title>",
        height + 80 + legend,
        height + 80 + legend
    )?;
    for (i, day) in days.iter().enumerate() {
        let x = 30 + i as u64 * (bar + gap);
        // Each colour's count, stacked in the legend's order (grouped terms last).
        let mut stack = vec![0u64; terms.colours()];
        for (term, n) in &day.terms {
            if let Some(count) = stack.get_mut(terms.slot(term)) {
                *count += n;
            }
        }
        let mut y = height + 10;
        for (slot, n) in stack.iter().enumerate().filter(|(_, n)| **n > 0) {
            let h = n * height / most;
            y -= h;
            let name = match terms.ranked.get(slot) {
                Some((term, _)) if slot < PALETTE.len() => esc(term),
                _ => "other terms".to_string(),
            };
            writeln!(
                out,
                "<rect x=\"{x}\" y=\"{y}\" width=\"{bar}\" height=\"{h}\" fill=\"{}\"><title>{} {name}: {n}</title></rect>",
                colour(slot),
                esc(&day.label),
            )?;
        }
        writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" transform=\"rotate(60 {} {})\">{}</text>",
            x,
            height + 22,
            x,
            height + 22,
            esc(&day.label)
        )?;
    }
    writeln!(
        out,
        "<text x=\"0\" y=\"18\">{most}</text><line x1=\"26\" y1=\"10\" x2=\"26\" y2=\"{}\" stroke=\"#999\"/>",
        height + 10
    )?;
    write_legend(&terms, height, out)?;
    writeln!(
        out,
        "</svg><figcaption>Violations per {unit} ({}), by term; every {unit} from the first violation's to the last's, those without one included.{}</figcaption></figure>",
        esc(periods.zone.unwrap_or("UTC")),
        others_words(&terms)
    )
}

/// The legend: a swatch per colour, each term with its violations; grey for the others.
fn write_legend(terms: &Terms<'_>, height: u64, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "<g class=\"terms-legend\">")?;
    for slot in 0..terms.colours() {
        let y = height + 95 + slot as u64 * 14;
        let words = match terms.ranked.get(slot) {
            Some((term, n)) if slot < PALETTE.len() => format!("{} ({n})", esc(term)),
            _ => {
                let others = terms.ranked.iter().skip(PALETTE.len());
                let violations: u64 = others.map(|(_, n)| n).sum();
                format!(
                    "other terms ({}, {})",
                    count(terms.grouped() as u64, "term"),
                    count(violations, "violation")
                )
            }
        };
        writeln!(
            out,
            "<rect x=\"30\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"45\" y=\"{y}\">{words}</text>",
            y - 9,
            colour(slot),
        )?;
    }
    writeln!(out, "</g>")
}

/// "1 term", "3 terms".
fn count(n: u64, thing: &str) -> String {
    format!("{n} {thing}{}", if n == 1 { "" } else { "s" })
}

/// The caption's sentence on the grouped terms, naming them; empty when none is.
fn others_words(terms: &Terms<'_>) -> String {
    if terms.grouped() == 0 {
        return String::new();
    }
    let others: Vec<String> = terms
        .ranked
        .iter()
        .skip(PALETTE.len())
        .take(MAX_OTHERS_NAMED)
        .map(|(term, n)| format!("<code>{}</code> ({n})", esc(term)))
        .collect();
    let more = terms.grouped().saturating_sub(MAX_OTHERS_NAMED);
    format!(
        " The {} terms with the most violations have a colour each; the rest, {}, are drawn together in grey as other terms (so that no two terms share a colour): {}{}.",
        PALETTE.len(),
        count(terms.grouped() as u64, "term"),
        others.join(", "),
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    )
}
