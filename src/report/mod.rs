//! Reports: building the serialised [`Report`] from a run, and rendering it.
//!
//! The JSON report is the single source: the text and JSON Lines renderings are views of the
//! same [`Report`] value, so they can never disagree. A run's violations go into a
//! [`Collector`] (`store.rs`), which counts them and puts them in the documented order (time,
//! agreement, term, evidence ids) within a memory budget, so the output is byte-identical for
//! the same inputs however the events were read, and a report's memory does not grow with its
//! violations: [`build`] makes the rest of the report, and [`write()`] reads the violations one
//! at a time from a [`ViolationSource`] (a run's [`Collected`], or a saved report's own).

pub mod diff;
mod html;
mod incidents;
mod json;
mod jsontext;
mod markdown;
pub use incidents::INCIDENT_GAP;
pub(crate) mod model;
pub mod outputs;
mod saved;
mod sections;
pub use sections::{PeriodUnit, Rendering};
mod store;
mod text;

use std::borrow::Cow;
use std::io::{self, Write};

pub use json::{RecordView, Release, release};
pub use model::*;
pub use saved::{Saved, SavedViolations, read_saved};
pub use store::{CollectError, Collected, Collector, Released, Tally};
pub use text::plain;

use crate::engine::Program;
use crate::engine::replay::SuspensionReason as EngineReason;
use crate::engine::sink::Violation;
use crate::load::agreement::{Agreement, Nearest, Period, Term};
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

/// Builds the report of a finished run from its outcome and the counts of its violations
/// (`tally`: a [`Collected`]'s or a [`Released`]'s). `Report::violations` is left empty: a
/// report may hold more violations than memory, so [`write()`] reads them from the
/// [`Collected`] (or they were written as they were decided, [`Released`]); [`build_whole`]
/// fills it.
///
/// Fails only when `outcome` names a term `program` does not have (it comes from another
/// program): nothing the run found is left out of a report.
pub fn build(
    program: &Program,
    outcome: &RunOutcome,
    options: RunOptions,
    tally: &Tally,
) -> Result<Report, UnknownTerm> {
    let agreements = program.agreements();

    let mut by_term = Vec::new();
    let mut errors = Vec::new();
    let mut suspended = Vec::new();
    for stats in &outcome.totals.terms {
        let (agreement, term) =
            resolve(agreements, "a term's counts", stats.agreement, stats.term)?;
        by_term.push(TermSummary {
            agreement: agreement.id.clone(),
            term: term.id.clone(),
            title: term.title.clone(),
            text: term.text.clone(),
            severity: term.severity.into(),
            evaluated: stats.evaluated,
            out_of_period: stats.out_of_period,
            violations: stats.violations,
            errors: stats.errors,
            suspended: stats.suspended,
            unkeyed: stats.unkeyed,
            unlocated: stats.unlocated,
        });
        if let Some(at) = &stats.suspension {
            let (reason, state_bytes, all_state_bytes, state_limit_bytes) = match at.reason {
                EngineReason::Budget => (SuspensionReason::Budget, None, None, None),
                EngineReason::State { held, limit } => {
                    (SuspensionReason::State, Some(held), None, Some(limit))
                }
                EngineReason::AllState { held, all, limit } => (
                    SuspensionReason::AllState,
                    Some(held),
                    Some(all),
                    Some(limit),
                ),
            };
            suspended.push(SuspendedTerm {
                agreement: agreement.id.clone(),
                term: term.id.clone(),
                event: at.event.clone(),
                file: at.origin.file.to_string(),
                line: at.origin.line,
                spent: at.spent,
                allowance: at.allowance,
                not_judged: stats.suspended,
                reason,
                state_bytes,
                all_state_bytes,
                state_limit_bytes,
            });
        }
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
                vocabulary: off_vocabulary(&input.stats.conformance, program.vocabulary()),
            })
            .collect(),
        options: Options {
            skip_invalid: options.skip_invalid,
            until: options.until.as_ref().map(format_instant),
            max_delay_s: outcome.max_delay.map(|d| d.num_seconds()),
            incident_gap_s: Some(incidents::INCIDENT_GAP.num_seconds()),
            interrupted: None,
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
            after_until: options.until.map(|_| outcome.totals.after_until),
            violations: tally.violations,
            hypothetical: tally.hypothetical,
            alleged: tally.alleged,
            denied: tally.denied,
            by_term,
            by_party: tally.by_party.clone(),
            shared: tally.shared,
            claims: tally.claims.clone(),
            by_severity: tally.by_severity.clone(),
        },
        violations: Vec::new(),
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
        suspended,
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

/// An input's conformance as the report lists it: unknown kinds, then wrong types, wrong values
/// and missing fields, each by name.
fn off_vocabulary(
    found: &crate::input::conform::Conformance,
    vocabulary: &crate::load::vocabulary::Vocabulary,
) -> Vec<OffVocabulary> {
    use crate::load::vocabulary::{Required, shown};
    let entry =
        |problem, name: &str, declared: Option<String>, tally: &crate::input::conform::Tally| {
            OffVocabulary {
                problem,
                name: name.to_string(),
                declared,
                events: tally.events,
                first_line: tally.first_line,
                first_value: (!tally.first_value.is_empty()
                    && problem != VocabularyProblem::MoreUnknownKinds)
                    .then(|| tally.first_value.clone()),
            }
        };
    let field = |name: &str| vocabulary.fields.get(name);
    let mut out = Vec::new();
    for (kind, tally) in &found.unknown_kinds {
        out.push(entry(VocabularyProblem::UnknownKind, kind, None, tally));
    }
    if found.other_unknown_kinds.events > 0 {
        let tally = &found.other_unknown_kinds;
        out.push(entry(
            VocabularyProblem::MoreUnknownKinds,
            &tally.first_value,
            None,
            tally,
        ));
    }
    for (name, tally) in &found.wrong_type {
        let declared = field(name).map(|f| f.ty.described().to_string());
        out.push(entry(VocabularyProblem::WrongType, name, declared, tally));
    }
    for (name, tally) in &found.wrong_value {
        let declared = field(name).map(|f| {
            format!(
                "one of {}",
                f.values.iter().map(shown).collect::<Vec<_>>().join(", ")
            )
        });
        out.push(entry(VocabularyProblem::WrongValue, name, declared, tally));
    }
    for (name, tally) in &found.missing {
        let declared = field(name).map(|f| match &f.required {
            Required::ForKinds(kinds) => format!("required for {}", kinds.join(", ")),
            _ => "required".to_string(),
        });
        out.push(entry(VocabularyProblem::Missing, name, declared, tally));
    }
    out
}

/// [`build`], with every violation in `Report::violations`: for reports held whole in memory
/// (a scenario's test, a `diff`, the library's users with small logs).
pub fn build_whole(
    program: &Program,
    outcome: &RunOutcome,
    options: RunOptions,
    violations: &Collected<'_>,
) -> Result<Report, BuildError> {
    let mut report = build(program, outcome, options, violations.tally())?;
    report.violations = violations.to_vec()?;
    Ok(report)
}

/// Why [`build_whole`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The outcome names a term the program does not have.
    #[error(transparent)]
    UnknownTerm(#[from] UnknownTerm),
    /// The violations could not be read back from their temporary file.
    #[error("cannot read the violations back: {0}")]
    Io(#[from] io::Error),
}

/// Files an agreement read, `(as named, SHA-256)`, as the report lists them.
fn files(read: &[(String, String)]) -> Vec<model::InputFile> {
    read.iter()
        .map(|(file, sha256)| model::InputFile {
            file: file.clone(),
            sha256: sha256.clone(),
        })
        .collect()
}

pub(super) fn agreement_info(agreement: &Agreement) -> AgreementInfo {
    AgreementInfo {
        id: agreement.id.clone(),
        title: agreement.title.clone(),
        file: agreement.source.name.clone(),
        sha256: agreement.sha256.clone(),
        parties: agreement.parties.iter().cloned().collect(),
        others: agreement.others.iter().cloned().collect(),
        effective: effective(&agreement.effective),
        geography: files(&agreement.geography.files),
        vocabulary: files(&agreement.vocabulary.files),
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
                inside: o.inside.clone(),
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
pub(crate) fn record(agreement: &Agreement, term: &Term, v: Violation) -> ViolationRecord {
    let l = v.location;
    let near = near(agreement, l.lat, l.lon);
    let location = reported(&l).then_some(LocationRecord {
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
        evidence: v.evidence.into_iter().map(evidence_record).collect(),
    }
}

/// The engine's evidence entry as the report's record.
pub(super) fn evidence_record(e: crate::engine::sink::Evidence) -> EvidenceRecord {
    EvidenceRecord {
        id: e.id,
        file: e.origin.file.to_string(),
        line: e.origin.line,
        time: format_instant(&e.time),
        kind: e.kind,
        source: e.source,
        hypothetical: e.hypothetical,
        account: e.account.into_iter().collect(),
        claims: e.claims.into_iter().map(claim_record).collect(),
    }
}

/// The engine's claim as the report's record.
pub(super) fn claim_record(c: crate::event::Claim) -> ClaimRecord {
    ClaimRecord {
        party: c.party,
        says: c.says.into(),
        statement: c.statement,
        source: c.source,
    }
}

/// Whether the events say anything of where a violation took place: a report gives its
/// location only then.
pub(super) fn reported(l: &crate::engine::sink::Location) -> bool {
    l.place.is_some() || l.country.is_some() || l.lat.is_some() || l.lon.is_some()
}

/// Where a position lies in the agreement's geography: its nearest named place and nearest
/// line (border), with the distances, as monitoring reports give them. Distances are rounded
/// to 0.1 km, which is as close as the 1:10m borders allow.
pub(super) fn near(
    agreement: &Agreement,
    lat: Option<f64>,
    lon: Option<f64>,
) -> Option<NearRecord> {
    let (lat, lon) = (lat?, lon?);
    let point = crate::geo::Point::new(lon, lat).ok()?;
    let geography = &agreement.geography;
    let (place, no_place_within_km) =
        match geography.nearest_place_within(point, crate::load::agreement::NEAR_KM) {
            Nearest::Place(name, km) => (Some((name, km)), None),
            Nearest::NoneWithin => (None, Some(crate::load::agreement::NEAR_KM)),
            Nearest::NoPlaces => (None, None),
        };
    let line = geography
        .names()
        .filter_map(|name| match geography.get(name) {
            Some(crate::load::agreement::Shape::Line(line)) => {
                Some((name, line.distance_km(point)))
            }
            _ => None,
        })
        .min_by(|a, b| a.1.total_cmp(&b.1));
    if place.is_none() && no_place_within_km.is_none() && line.is_none() {
        return None;
    }
    let round = |km: f64| (km * 10.0).round() / 10.0;
    Some(NearRecord {
        place: place.map(|(name, _)| name.to_string()),
        place_km: place.map(|(_, km)| round(km)),
        no_place_within_km,
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

/// A report's violations, in the report's order, as often as a writer asks for them: those
/// of a run ([`Collected`]) or of a saved report (`Vec<ViolationRecord>`).
pub trait ViolationSource {
    /// How many there are.
    fn count(&self) -> u64;
    /// Each, in order (reading them back from a temporary file can fail).
    fn records(&self) -> Box<dyn Iterator<Item = io::Result<Cow<'_, ViolationRecord>>> + '_>;
}

impl ViolationSource for Vec<ViolationRecord> {
    fn count(&self) -> u64 {
        self.len() as u64
    }

    fn records(&self) -> Box<dyn Iterator<Item = io::Result<Cow<'_, ViolationRecord>>> + '_> {
        Box::new(self.iter().map(|v| Ok(Cow::Borrowed(v))))
    }
}

/// Writes `report`, whose violations are `violations` (for a saved report, its own:
/// `&report.violations`), in `format`; a format for readers shows it as `rendering` says
/// (JSON ignores it: it stays in UTC).
pub fn write(
    report: &Report,
    violations: &dyn ViolationSource,
    format: Format,
    rendering: Rendering,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Text => text::write(report, violations, rendering, out),
        Format::Markdown => markdown::write(report, violations, rendering, out),
        Format::Html => html::write(report, violations, rendering, out),
        Format::Json => json::write(report, violations, false, out),
        Format::JsonLines => json::write(report, violations, true, out),
    }
}

/// Whether any violation is at or above `severity` (the report's, or an agreement's): from
/// the summary's counts, which every report has, whole or not.
pub fn any_at_or_above(report: &Report, severity: impl Into<Severity>) -> bool {
    let severity = severity.into();
    Severity::ALL
        .iter()
        .any(|s| *s >= severity && report.summary.by_severity.count(*s) > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Sink;
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
        // In memory, and through the temporary file one violation per sorted run: the same.
        let report = whole(&program, &outcome, &sink.0, Collector::DEFAULT_BUDGET);
        assert_eq!(whole(&program, &outcome, &sink.0, 1), report);
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
        let mut collector = Collector::new(&program);
        collector.violation(stray[0].clone()).unwrap();
        let CollectError::UnknownTerm(err) = collector.violation(stray[1].clone()).unwrap_err()
        else {
            panic!("not an unknown term")
        };
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
        assert_eq!(whole(&program, &outcome, &sink.0, 1024).violations.len(), 2);
    }

    /// A writer into a buffer the test keeps.
    #[derive(Clone, Default)]
    struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// A report written as its violations settle is the report written at the end: the same
    /// bytes, in JSON and JSON Lines, when the engine decides violations out of the report's
    /// order at one instant (agreements given as `zeta` then `alpha`, terms `b` then `a`; a
    /// threshold dated at its third event, an absence's gap dated at its due time, decided by
    /// a later event; an absence without `keys:` that sights key `R` late and dates its gap
    /// 02:00 earlier) and when too many are pending for the budget.
    #[test]
    fn a_report_written_as_violations_settle_is_the_report_written_at_the_end() {
        let text = |id: &str| {
            format!(
                "agreement: {id}\ntitle: T\nparties: {{IQ: Iraq}}\nterms:\n\
                 - {{id: b, title: B, breached_by: IQ, when: 'event.kind == \"x\"'}}\n\
                 - {{id: a, title: A, breached_by: IQ, when: 'event.kind == \"x\" || event.kind == \"y\"'}}\n\
                 - {{id: t, title: T, breached_by: IQ, when: 'event.kind == \"y\"', threshold: {{count: 2, within: 2h, by: event.place}}}}\n\
                 - {{id: g, title: G, breached_by: IQ, when: 'event.kind == \"patrol\"', absence: {{within: 3h, by: event.place, keys: [P, Q]}}}}\n\
                 - {{id: h, title: H, breached_by: IQ, when: 'event.kind == \"x\"', absence: {{within: 3h, by: event.place}}}}\n"
            )
        };
        let agreements = ["zeta", "alpha"]
            .map(|id| agreement::load(&format!("{id}.yaml"), &text(id)).0.unwrap());
        let (program, problems) = compile(Vec::from(agreements), &Limits::default());
        let program = program.unwrap_or_else(|| panic!("{problems:?}"));
        let log = "{\"id\":\"e1\",\"time\":\"2024-01-01T00:00:00Z\",\"kind\":\"x\",\"place\":\"P\"}\n\
                   {\"id\":\"e2\",\"time\":\"2024-01-01T01:00:00Z\",\"kind\":\"y\",\"place\":\"P\"}\n\
                   {\"id\":\"e0\",\"time\":\"2024-01-01T01:00:00Z\",\"kind\":\"x\",\"place\":\"Q\"}\n\
                   {\"id\":\"e3\",\"time\":\"2024-01-01T01:30:00Z\",\"kind\":\"y\",\"place\":\"P\"}\n\
                   {\"id\":\"e4\",\"time\":\"2024-01-01T02:00:00Z\",\"kind\":\"patrol\",\"place\":\"P\"}\n\
                   {\"id\":\"e6\",\"time\":\"2024-01-01T04:00:00Z\",\"kind\":\"patrol\",\"place\":\"P\"}\n\
                   {\"id\":\"e7\",\"time\":\"2024-01-01T05:00:00Z\",\"kind\":\"x\",\"place\":\"R\"}\n\
                   {\"id\":\"e5\",\"time\":\"2024-01-01T09:00:00Z\",\"kind\":\"x\",\"place\":\"Q\"}\n";
        // Then a day of events a minute apart, each a violation of several terms.
        let mut log = log.to_string();
        for i in 0..300 {
            let kind = if i % 3 == 0 { "y" } else { "x" };
            log.push_str(&format!(
                "{{\"id\":\"m{i}\",\"time\":\"2024-01-02T{:02}:{:02}:00Z\",\"kind\":\"{kind}\",\"place\":\"P\"}}\n",
                i / 60,
                i % 60,
            ));
        }
        let log = log.as_str();
        let input = || Input {
            name: "log".into(),
            reader: Box::new(log.as_bytes()),
            format: InputFormat::JsonLines,
            // Read again: sorted, so the engine says which instants are settled.
            reopen: Some(Box::new(move || {
                Ok(Box::new(io::Cursor::new(log.as_bytes())) as Box<dyn crate::run::SeekRead>)
            })),
            mapping: None,
        };
        let options = RunOptions::default();
        for format in [Format::Json, Format::JsonLines] {
            let mut collector = Collector::new(&program);
            let outcome = run(&program, vec![input()], options, &mut collector).unwrap();
            let collected = collector.finish().unwrap();
            let report = build(&program, &outcome, options, collected.tally()).unwrap();
            let mut at_the_end = Vec::new();
            write(
                &report,
                &collected,
                format,
                Rendering::default(),
                &mut at_the_end,
            )
            .unwrap();
            assert!(
                collected.tally().violations >= 10,
                "{}",
                collected.tally().violations
            );
            for budget in [Collector::DEFAULT_BUDGET, 1024, 1] {
                let out = Shared::default();
                let lines = format == Format::JsonLines;
                let release = super::release(&program, lines, Box::new(out.clone())).unwrap();
                let mut collector = Collector::releasing(&program, budget, release);
                let outcome = run(&program, vec![input()], options, &mut collector).unwrap();
                let released = collector.finish_released().unwrap();
                let report = build(&program, &outcome, options, released.tally()).unwrap();
                released.end(&report).unwrap();
                assert_eq!(
                    String::from_utf8_lossy(&out.0.lock().unwrap()),
                    String::from_utf8_lossy(&at_the_end),
                    "{format:?}, budget {budget}"
                );
            }
        }
    }

    /// The report of `violations`, collected with `budget` bytes in memory.
    fn whole(
        program: &Program,
        outcome: &RunOutcome,
        violations: &[Violation],
        budget: usize,
    ) -> Report {
        let mut collector = Collector::with_budget(program, budget);
        for v in violations {
            collector.violation(v.clone()).unwrap();
        }
        let collected = collector.finish().unwrap();
        build_whole(program, outcome, RunOptions::default(), &collected).unwrap()
    }
}
