//! Reports: building the serialised [`Report`] from a run, and rendering it.
//!
//! The JSON report is the single source: the text and JSON Lines renderings are views of the
//! same [`Report`] value, so they can never disagree. Violations are sorted here, once, into
//! the documented order (time, agreement, term, evidence ids), which makes the output
//! byte-identical for the same inputs however the events were read.

pub mod diff;
mod html;
mod markdown;
mod model;
pub mod outputs;
mod sections;
mod text;

use std::collections::BTreeMap;
use std::io::{self, Write};

pub use model::*;
pub use text::plain;

use crate::engine::Program;
use crate::engine::sink::Violation;
use crate::load::agreement::{Agreement, Period, Term};
use crate::run::{RunOptions, RunOutcome};
use crate::time::format_instant;

/// A violation, a term's counts or an open obligation of a run names a term that the program
/// given to [`build`] does not have.
///
/// The engine names a term by indices into [`Program::agreements`]; the report needs its ids.
/// Indices that do not resolve mean that a run's results were reported against another
/// program: an error the caller must handle, never an entry left out of the report.
///
/// Why an error rather than a type that cannot hold a bad index: such a type (a term
/// reference tied to its program by a lifetime or a brand) would be the engine's
/// `sink::Violation`, which every sink, `explain` and the benchmarks receive; the report is
/// where the indices are resolved, once each, and where a bad one is caught.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{what} names term {term} of agreement {agreement}, which the program does not have (a run reported against another program)"
)]
pub struct UnknownTerm {
    /// What named it: `a violation`, `a term's counts` or `an open obligation`.
    pub what: &'static str,
    /// The index of the agreement.
    pub agreement: usize,
    /// The index of the term within it.
    pub term: usize,
}

/// The agreement and term at these indices of `agreements`.
fn resolve<'p>(
    agreements: &'p [Agreement],
    what: &'static str,
    agreement: usize,
    term: usize,
) -> Result<(&'p Agreement, &'p Term), UnknownTerm> {
    agreements
        .get(agreement)
        .and_then(|a| a.terms.get(term).map(|t| (a, t)))
        .ok_or(UnknownTerm {
            what,
            agreement,
            term,
        })
}

/// Builds the report of a finished run from its outcome and the violations it raised.
///
/// Fails only when `outcome` or `violations` name a term `program` does not have (they come
/// from another program): nothing the run found is left out of a report.
pub fn build(
    program: &Program,
    outcome: &RunOutcome,
    options: RunOptions,
    violations: Vec<Violation>,
) -> Result<Report, UnknownTerm> {
    let agreements = program.agreements();
    let mut violations = violations
        .into_iter()
        .map(|v| {
            let (agreement, term) = resolve(agreements, "a violation", v.agreement, v.term)?;
            Ok((agreement, term, v))
        })
        .collect::<Result<Vec<_>, UnknownTerm>>()?;
    // Sorted on the instants themselves: their text does not sort (`…00.250Z` < `…00Z`).
    // Ties (one id used by two events) fall to the evidence's file and line, so the order
    // never depends on the order in which the events were read.
    violations.sort_by(|(a_agreement, a_term, a), (b_agreement, b_term, b)| {
        (a.time, &a_agreement.id, &a_term.id)
            .cmp(&(b.time, &b_agreement.id, &b_term.id))
            .then_with(|| {
                a.evidence
                    .iter()
                    .map(|e| &e.id)
                    .cmp(b.evidence.iter().map(|e| &e.id))
            })
            .then_with(|| {
                a.evidence
                    .iter()
                    .map(|e| (&e.origin.file, e.origin.line))
                    .cmp(b.evidence.iter().map(|e| (&e.origin.file, e.origin.line)))
            })
            .then_with(|| a.key.cmp(&b.key))
    });
    let records: Vec<ViolationRecord> = violations
        .into_iter()
        .map(|(agreement, term, v)| record(agreement, term, v))
        .collect();

    let mut by_party: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_severity = BySeverity::default();
    for record in &records {
        let party = record
            .breached_by
            .clone()
            .unwrap_or_else(|| "unattributed".into());
        *by_party.entry(party).or_default() += 1;
        by_severity.add(record.severity);
    }

    let mut by_term = Vec::new();
    let mut errors = Vec::new();
    for stats in &outcome.totals.terms {
        let (agreement, term) =
            resolve(agreements, "a term's counts", stats.agreement, stats.term)?;
        by_term.push(TermSummary {
            agreement: agreement.id.clone(),
            term: term.id.clone(),
            title: term.title.clone(),
            severity: term.severity.into(),
            evaluated: stats.evaluated,
            out_of_period: stats.out_of_period,
            violations: stats.violations,
            errors: stats.errors,
            unkeyed: stats.unkeyed,
            unlocated: stats.unlocated,
        });
        if let Some(first) = &stats.first_error {
            errors.push(TermErrors {
                agreement: agreement.id.clone(),
                term: term.id.clone(),
                count: stats.errors,
                first: FirstError {
                    event: first.event.clone(),
                    file: first.origin.file.to_string(),
                    line: first.origin.line,
                    message: first.failure.message.clone(),
                },
            });
        }
    }

    let open = outcome
        .totals
        .open
        .iter()
        .map(|o| {
            let (agreement, term) = resolve(agreements, "an open obligation", o.agreement, o.term)?;
            Ok(OpenObligation {
                agreement: agreement.id.clone(),
                term: term.id.clone(),
                trigger: o.trigger.id.clone(),
                file: o.trigger.origin.file.to_string(),
                line: o.trigger.origin.line,
                due: format_instant(&o.due),
            })
        })
        .collect::<Result<_, UnknownTerm>>()?;

    Ok(Report {
        report_version: REPORT_VERSION,
        pactum_version: env!("CARGO_PKG_VERSION").to_string(),
        agreements: agreements.iter().map(agreement_info).collect(),
        inputs: outcome
            .inputs
            .iter()
            .map(|input| InputInfo {
                file: input.name.clone(),
                sha256: input.sha256.clone(),
                lines: input.stats.lines,
                events: input.stats.events,
                skipped: input.stats.invalid,
                blank: input.stats.blank,
                mapping: input.mapping.as_ref().map(|m| MappingInfo {
                    id: m.id.clone(),
                    file: m.file.clone(),
                    sha256: m.sha256.clone(),
                }),
            })
            .collect(),
        options: Options {
            skip_invalid: options.skip_invalid,
            until: options.until.as_ref().map(format_instant),
            max_delay_s: outcome.max_delay.map(|d| d.num_seconds()),
        },
        period: match (outcome.totals.first, outcome.totals.last) {
            (Some(first), Some(last)) => Some(Span {
                first: format_instant(&first),
                last: format_instant(&last),
            }),
            _ => None,
        },
        summary: Summary {
            events: outcome.totals.events,
            violations: records.len() as u64,
            hypothetical: records
                .iter()
                .filter(|r| r.evidence.iter().any(|e| e.hypothetical))
                .count() as u64,
            by_term,
            by_party,
            by_severity,
        },
        violations: records,
        skipped: outcome
            .skipped
            .iter()
            .map(|s| Skipped {
                file: s.file.clone(),
                line: s.line,
                column: s.column,
                reason: s.reason.clone(),
            })
            .collect(),
        errors,
        open,
        late: outcome
            .late
            .iter()
            .map(|l| LateEvent {
                event: l.event.clone(),
                file: l.origin.file.to_string(),
                line: l.origin.line,
                time: format_instant(&l.time),
                after: format_instant(&l.after),
            })
            .collect(),
    })
}

fn agreement_info(agreement: &Agreement) -> AgreementInfo {
    AgreementInfo {
        id: agreement.id.clone(),
        title: agreement.title.clone(),
        file: agreement.source.name.clone(),
        sha256: agreement.sha256.clone(),
        parties: agreement.parties.iter().cloned().collect(),
        effective: effective(&agreement.effective),
        geography: agreement
            .geography
            .files
            .iter()
            .map(|(file, sha256)| model::InputFile {
                file: file.clone(),
                sha256: sha256.clone(),
            })
            .collect(),
        shapes: agreement
            .geography
            .outlines()
            .iter()
            .map(|(name, o)| model::MapShape {
                name: name.clone(),
                kind: o.kind.to_string(),
                paths: o
                    .paths
                    .iter()
                    .map(|path| path.iter().map(|p| [p.lon, p.lat]).collect())
                    .collect(),
                width_km: o.width_km,
            })
            .collect(),
    }
}

fn effective(period: &Period) -> Effective {
    Effective {
        from: period.from.as_ref().map(format_instant),
        until: period.until.as_ref().map(format_instant),
    }
}

/// The report's record of one violation (for writers that stream violations as they come);
/// an error when `agreements` (the program's) have no such term.
pub fn violation_record(
    agreements: &[Agreement],
    v: Violation,
) -> Result<ViolationRecord, UnknownTerm> {
    let (agreement, term) = resolve(agreements, "a violation", v.agreement, v.term)?;
    Ok(record(agreement, term, v))
}

/// The record of a violation of `term`, resolved.
fn record(agreement: &Agreement, term: &Term, v: Violation) -> ViolationRecord {
    let l = v.location;
    let near = near(agreement, l.lat, l.lon);
    let location = (l.place.is_some() || l.country.is_some() || l.lat.is_some() || l.lon.is_some())
        .then_some(LocationRecord {
            place: l.place,
            country: l.country,
            lat: l.lat,
            lon: l.lon,
            near,
        });
    ViolationRecord {
        agreement: agreement.id.clone(),
        term: term.id.clone(),
        article: term.article.clone(),
        title: term.title.clone(),
        severity: term.severity.into(),
        breached_by: v.breached_by,
        time: format_instant(&v.time),
        message: v.message,
        location,
        key: v.key,
        in_window: v.in_window,
        evidence: v
            .evidence
            .into_iter()
            .map(|e| EvidenceRecord {
                id: e.id,
                file: e.origin.file.to_string(),
                line: e.origin.line,
                time: format_instant(&e.time),
                kind: e.kind,
                source: e.source,
                hypothetical: e.hypothetical,
            })
            .collect(),
    }
}

/// Where a position lies in the agreement's geography: its nearest named place and nearest
/// line (border), with the distances, as monitoring reports give them. Distances are rounded
/// to 0.1 km, which is as close as the 1:10m borders allow.
fn near(agreement: &Agreement, lat: Option<f64>, lon: Option<f64>) -> Option<NearRecord> {
    let (lat, lon) = (lat?, lon?);
    let point = crate::geo::Point::new(lon, lat).ok()?;
    let geography = &agreement.geography;
    let place = geography.nearest_place(point);
    let line = geography
        .names()
        .filter_map(|name| match geography.get(name) {
            Some(crate::load::agreement::Shape::Line(line)) => {
                Some((name, line.distance_km(point)))
            }
            _ => None,
        })
        .min_by(|a, b| a.1.total_cmp(&b.1));
    if place.is_none() && line.is_none() {
        return None;
    }
    let round = |km: f64| (km * 10.0).round() / 10.0;
    Some(NearRecord {
        place: place.map(|(name, _)| name.to_string()),
        place_km: place.map(|(_, km)| round(km)),
        line: line.map(|(name, _)| name.to_string()),
        line_km: line.map(|(_, km)| round(km)),
    })
}

/// The renderings of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A readable summary and one line per violation.
    Text,
    /// The whole report as one JSON document.
    Json,
    /// One violation per line.
    JsonLines,
    /// A Markdown document for readers (docs/report-format.md).
    Markdown,
    /// One self-contained HTML file for readers (docs/report-format.md).
    Html,
}

/// Writes `report` in `format`.
pub fn write(report: &Report, format: Format, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Text => text::write(report, out),
        Format::Markdown => markdown::write(report, out),
        Format::Html => html::write(report, out),
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, report)?;
            writeln!(out)
        }
        Format::JsonLines => {
            for violation in &report.violations {
                serde_json::to_writer(&mut *out, violation)?;
                writeln!(out)?;
            }
            Ok(())
        }
    }
}

/// Whether any violation is at or above `severity` (the report's, or an agreement's).
pub fn any_at_or_above(report: &Report, severity: impl Into<Severity>) -> bool {
    let severity = severity.into();
    report.violations.iter().any(|v| v.severity >= severity)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Input, InputFormat, Limits, compile, engine::sink::Collect, load::agreement, run};

    fn agreement(id: &str) -> Agreement {
        let text = format!(
            "agreement: {id}\ntitle: T\nparties: {{IQ: Iraq}}\nterms:\n  - {{id: b, title: B, severity: low, breached_by: IQ, when: 'event.kind == \"x\"'}}\n  - {{id: a, title: A, severity: critical, breached_by: IQ, when: 'event.kind == \"x\"'}}\n"
        );
        agreement::load(&format!("{id}.yaml"), &text).0.unwrap()
    }

    #[test]
    fn violations_are_ordered_by_time_agreement_term_and_evidence() {
        let (program, problems) = compile(
            vec![agreement("zeta"), agreement("alpha")],
            &Limits::default(),
        );
        // The two terms share their condition on purpose (a duplicate-term warning), so that
        // only their ids order their violations.
        assert!(
            problems
                .iter()
                .all(|p| p.level == crate::diagnostic::Level::Warning),
            "{problems:?}"
        );
        let program = program.unwrap();
        let log = "{\"id\":\"e2\",\"time\":\"2024-01-02\",\"kind\":\"x\"}\n\
                   {\"id\":\"e1b\",\"time\":\"2024-01-01\",\"kind\":\"x\"}\n\
                   {\"id\":\"e1a\",\"time\":\"2024-01-01\",\"kind\":\"x\"}\n";
        let input = Input {
            name: "log".into(),
            reader: Box::new(log.as_bytes()),
            format: InputFormat::JsonLines,
            reopen: None,
            mapping: None,
        };
        let mut sink = Collect::default();
        let options = RunOptions::default();
        let outcome = run(&program, vec![input], options, &mut sink).unwrap();
        let report = build(&program, &outcome, options, sink.0).unwrap();
        let order: Vec<String> = report
            .violations
            .iter()
            .map(|v| {
                format!(
                    "{} {}/{} {}",
                    &v.time[..10],
                    v.agreement,
                    v.term,
                    v.evidence[0].id
                )
            })
            .collect();
        assert_eq!(
            order,
            [
                "2024-01-01 alpha/a e1a",
                "2024-01-01 alpha/a e1b",
                "2024-01-01 alpha/b e1a",
                "2024-01-01 alpha/b e1b",
                "2024-01-01 zeta/a e1a",
                "2024-01-01 zeta/a e1b",
                "2024-01-01 zeta/b e1a",
                "2024-01-01 zeta/b e1b",
                "2024-01-02 alpha/a e2",
                "2024-01-02 alpha/b e2",
                "2024-01-02 zeta/a e2",
                "2024-01-02 zeta/b e2",
            ]
        );
        assert_eq!(
            report.summary.by_severity,
            BySeverity {
                critical: 6,
                high: 0,
                medium: 0,
                low: 6
            }
        );
        assert!(any_at_or_above(&report, Severity::Critical));
        assert!(any_at_or_above(&report, agreement::Severity::High));
        assert_eq!(
            report.agreements[0].id, "zeta",
            "agreements stay in the order given"
        );
    }

    #[test]
    fn a_violation_of_a_term_the_program_lacks_is_an_error_not_left_out() {
        let (program, _) = compile(vec![agreement("alpha")], &Limits::default());
        let program = program.unwrap();
        let input = Input {
            name: "log".into(),
            reader: Box::new(&b"{\"id\":\"e1\",\"time\":\"2024-01-01\",\"kind\":\"x\"}\n"[..]),
            format: InputFormat::JsonLines,
            reopen: None,
            mapping: None,
        };
        let mut sink = Collect::default();
        let options = RunOptions::default();
        let outcome = run(&program, vec![input], options, &mut sink).unwrap();
        assert_eq!(sink.0.len(), 2);
        // Term 2 of agreement 0, and agreement 1: neither exists in this program.
        let mut stray = sink.0.clone();
        stray[1].term = 2;
        let err = build(&program, &outcome, options, stray.clone()).unwrap_err();
        assert_eq!(
            err,
            UnknownTerm {
                what: "a violation",
                agreement: 0,
                term: 2
            }
        );
        assert_eq!(
            err.to_string(),
            "a violation names term 2 of agreement 0, which the program does not have (a run reported against another program)"
        );
        let mut other = sink.0[0].clone();
        other.agreement = 1;
        assert!(violation_record(program.agreements(), other).is_err());
        assert!(violation_record(program.agreements(), sink.0[0].clone()).is_ok());
        assert_eq!(
            build(&program, &outcome, options, sink.0)
                .unwrap()
                .violations
                .len(),
            2
        );
    }
}
