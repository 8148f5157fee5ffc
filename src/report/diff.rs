//! Comparing two reports of the same events: what a redrafted agreement would have flagged
//! differently.
//!
//! Negotiators redraft a clause and ask what it would have changed over a past period. Two
//! replays of the same events, under the old and the new rules, give two reports; a violation
//! is identified across them by what it rests on — its time and its evidence (event ids) —
//! since a redraft may rename a term or move it to another agreement. Pairs with the same
//! identity and the same agreement, term, severity and party are unchanged; the rest of the
//! pairs with the same identity are *changed*. Then what is left is paired by term and
//! evidence alone: a deadline shortened from 72 h to 36 h breaks on the same trigger at another
//! time, and is one violation *changed* (its time), not one removed and one added. What is
//! left after both is only in the old report or only in the new one. An agreement whose id
//! alone changed (the same place in both reports' lists, neither id in the other) is
//! *renamed*: its violations compare as if the id had stayed. Works on the versioned [`Report`] only, so saved reports diff the same as
//! fresh replays. A [`Diff`] is not serialised: `pactum diff --format json` writes the versioned
//! [`DiffOutput`](super::outputs::DiffOutput) built from it.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::sections::charged_words;
use super::{Report, Severity, ViolationRecord};

/// What differs between two reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Diff {
    /// The old report's agreements (id and rule-file SHA-256).
    pub old: Vec<(String, String)>,
    /// The new report's agreements.
    pub new: Vec<(String, String)>,
    /// Whether both replays read the same inputs (by SHA-256, in order).
    pub same_inputs: bool,
    /// Violations only the old rules raise.
    pub only_old: Vec<Finding>,
    /// Violations only the new rules raise.
    pub only_new: Vec<Finding>,
    /// Violations on the same evidence whose agreement, term, severity, party or time
    /// changed.
    pub changed: Vec<(Finding, Finding)>,
    /// Agreements whose id alone changed: (old id, new id).
    pub renamed: Vec<(String, String)>,
    /// Violations both raise alike.
    pub unchanged: usize,
}

/// A violation as the diff shows it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    /// When.
    pub time: String,
    /// Evidence event ids.
    pub evidence: Vec<String>,
    /// Agreement id.
    pub agreement: String,
    /// Term id.
    pub term: String,
    /// Severity.
    pub severity: Severity,
    /// Who is in breach (empty: unattributed).
    pub breached_by: Vec<String>,
    /// The message.
    pub message: String,
}

impl Finding {
    fn of(v: &ViolationRecord) -> Self {
        Finding {
            time: v.time.clone(),
            evidence: v.evidence.iter().map(|e| e.id.clone()).collect(),
            agreement: v.agreement.clone(),
            term: v.term.clone(),
            severity: v.severity,
            breached_by: v.breached_by.clone(),
            message: v.message.clone(),
        }
    }

    fn identity(&self) -> Identity {
        (self.time.clone(), self.evidence.clone())
    }

    /// Whether `other` (of the new report) judges alike; `renamed` maps old agreement ids to
    /// new ones.
    fn same_judgement(&self, other: &Finding, renamed: &[(String, String)]) -> bool {
        (
            renamed_to(&self.agreement, renamed),
            &self.term,
            &self.severity,
            &self.breached_by,
        ) == (
            other.agreement.as_str(),
            &other.term,
            &other.severity,
            &other.breached_by,
        )
    }
}

/// The id the old agreement `id` has in the new report.
fn renamed_to<'a>(id: &'a str, renamed: &'a [(String, String)]) -> &'a str {
    renamed
        .iter()
        .find(|(old, _)| old == id)
        .map_or(id, |(_, new)| new.as_str())
}

/// What changed from `old` to `new`, a phrase each: `severity: high → critical`.
pub fn what_changed(old: &Finding, new: &Finding, renamed: &[(String, String)]) -> Vec<String> {
    let mut what = Vec::new();
    let mut field = |name: &str, o: &str, n: &str| {
        if o != n {
            what.push(format!("{name}: {o} → {n}"));
        }
    };
    field("time", &old.time, &new.time);
    field(
        "agreement",
        renamed_to(&old.agreement, renamed),
        &new.agreement,
    );
    field("term", &old.term, &new.term);
    field("severity", old.severity.as_str(), new.severity.as_str());
    field(
        "party",
        &charged_words(&old.breached_by),
        &charged_words(&new.breached_by),
    );
    what
}

/// What identifies a violation across two reports: its time (or, in the second pairing, its
/// term) and its evidence ids.
type Identity = (String, Vec<String>);

/// The findings of one identity: the old report's and the new one's.
type Sides = (Vec<Finding>, Vec<Finding>);

/// Compares `old` with `new`.
pub fn diff(old: &Report, new: &Report) -> Diff {
    let mut by_identity: BTreeMap<Identity, Sides> = BTreeMap::new();
    for v in &old.violations {
        let f = Finding::of(v);
        by_identity.entry(f.identity()).or_default().0.push(f);
    }
    for v in &new.violations {
        let f = Finding::of(v);
        by_identity.entry(f.identity()).or_default().1.push(f);
    }
    // An agreement renamed: at the same place in both lists, each id absent from the other.
    let renamed: Vec<(String, String)> = old
        .agreements
        .iter()
        .zip(&new.agreements)
        .filter(|(o, n)| {
            o.id != n.id
                && !new.agreements.iter().any(|a| a.id == o.id)
                && !old.agreements.iter().any(|a| a.id == n.id)
        })
        .map(|(o, n)| (o.id.clone(), n.id.clone()))
        .collect();
    let mut result = Diff {
        old: old
            .agreements
            .iter()
            .map(|a| (a.id.clone(), a.sha256.clone()))
            .collect(),
        new: new
            .agreements
            .iter()
            .map(|a| (a.id.clone(), a.sha256.clone()))
            .collect(),
        same_inputs: old
            .inputs
            .iter()
            .map(|i| &i.sha256)
            .eq(new.inputs.iter().map(|i| &i.sha256)),
        only_old: Vec::new(),
        only_new: Vec::new(),
        changed: Vec::new(),
        renamed,
        unchanged: 0,
    };
    let renamed = result.renamed.clone();
    let mut left_old = Vec::new();
    let mut left_new = Vec::new();
    for (_, (mut olds, mut news)) in by_identity {
        // Alike first, so that a term renamed beside one that stayed pairs the right way.
        olds.retain(
            |o| match news.iter().position(|n| o.same_judgement(n, &renamed)) {
                Some(i) => {
                    news.remove(i);
                    result.unchanged += 1;
                    false
                }
                None => true,
            },
        );
        let pairs = olds.len().min(news.len());
        let rest_old = olds.split_off(pairs);
        let rest_new = news.split_off(pairs);
        result.changed.extend(olds.into_iter().zip(news));
        left_old.extend(rest_old);
        left_new.extend(rest_new);
    }
    // What is left, paired by term and evidence (its time moved), in time order.
    let mut by_term: BTreeMap<Identity, Sides> = BTreeMap::new();
    for f in left_old {
        by_term
            .entry((f.term.clone(), f.evidence.clone()))
            .or_default()
            .0
            .push(f);
    }
    for f in left_new {
        by_term
            .entry((f.term.clone(), f.evidence.clone()))
            .or_default()
            .1
            .push(f);
    }
    for (_, (mut olds, mut news)) in by_term {
        let pairs = olds.len().min(news.len());
        let rest_old = olds.split_off(pairs);
        let rest_new = news.split_off(pairs);
        result.changed.extend(olds.into_iter().zip(news));
        result.only_old.extend(rest_old);
        result.only_new.extend(rest_new);
    }
    result.changed.sort();
    result.only_old.sort();
    result.only_new.sort();
    result
}

/// The diff as text: a line per finding, `-` only in the old rules, `+` only in the new, `~`
/// changed.
pub fn write_text(d: &Diff, out: &mut dyn Write) -> io::Result<()> {
    summary(d, out)?;
    for f in &d.only_old {
        writeln!(out, "- {}", line(f))?;
    }
    for f in &d.only_new {
        writeln!(out, "+ {}", line(f))?;
    }
    for (o, n) in &d.changed {
        writeln!(out, "~ {}", line(o))?;
        writeln!(
            out,
            "  now {} at {} ({})",
            judgement(n),
            n.time,
            what_changed(o, n, &d.renamed).join("; ")
        )?;
    }
    Ok(())
}

/// The diff as Markdown, for a negotiation brief.
pub fn write_markdown(d: &Diff, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "# What the redraft changes\n")?;
    summary(d, out)?;
    let table = |out: &mut dyn Write, title: &str, findings: &[Finding]| -> io::Result<()> {
        if findings.is_empty() {
            return Ok(());
        }
        writeln!(out, "\n## {title}\n")?;
        writeln!(
            out,
            "| time | term | party | severity | evidence | message |"
        )?;
        writeln!(out, "|---|---|---|---|---|---|")?;
        for f in findings {
            writeln!(
                out,
                "| {} | `{}/{}` | {} | {} | {} | {} |",
                f.time,
                f.agreement,
                f.term,
                charged_words(&f.breached_by),
                f.severity,
                f.evidence
                    .iter()
                    .map(|e| super::markdown::md(e))
                    .collect::<Vec<_>>()
                    .join(", "),
                super::markdown::md(&f.message)
            )?;
        }
        Ok(())
    };
    table(out, "Only under the old rules", &d.only_old)?;
    table(out, "Only under the new rules", &d.only_new)?;
    if !d.changed.is_empty() {
        writeln!(out, "\n## Changed\n")?;
        writeln!(out, "| time | evidence | old | new | what changed |")?;
        writeln!(out, "|---|---|---|---|---|")?;
        for (o, n) in &d.changed {
            writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                o.time,
                o.evidence
                    .iter()
                    .map(|e| super::markdown::md(e))
                    .collect::<Vec<_>>()
                    .join(", "),
                super::markdown::md(&judgement(o)),
                super::markdown::md(&judgement(n)),
                super::markdown::md(&what_changed(o, n, &d.renamed).join("; "))
            )?;
        }
    }
    Ok(())
}

fn summary(d: &Diff, out: &mut dyn Write) -> io::Result<()> {
    let ids = |a: &[(String, String)]| {
        a.iter()
            .map(|(id, _)| id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    writeln!(out, "old rules: {}", ids(&d.old))?;
    writeln!(out, "new rules: {}", ids(&d.new))?;
    for (old, new) in &d.renamed {
        writeln!(out, "renamed: agreement {old} is {new} in the new rules")?;
    }
    if !d.same_inputs {
        writeln!(
            out,
            "warning: the two reports judged different inputs (SHA-256 differ)"
        )?;
    }
    writeln!(
        out,
        "{} only under the old rules, {} only under the new, {} changed, {} unchanged",
        d.only_old.len(),
        d.only_new.len(),
        d.changed.len(),
        d.unchanged
    )
}

fn line(f: &Finding) -> String {
    format!(
        "{} {} [{}]: {}",
        f.time,
        judgement(f),
        f.evidence.join(", "),
        escape(&f.message)
    )
}

fn judgement(f: &Finding) -> String {
    format!(
        "{}/{} {} by {}",
        f.agreement,
        f.term,
        f.severity,
        charged_words(&f.breached_by)
    )
}

/// Event text on one line, inert in a table.
fn escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| match c {
            '|' => vec!['\\', '|'],
            c if c.is_control() => c.escape_default().collect(),
            c => vec![c],
        })
        .collect()
}
