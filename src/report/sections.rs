//! The sections of a report as readers see them: the one model that the text, Markdown and
//! HTML renderings draw from.
//!
//! A [`Report`] is data; a rendering for readers shows facts derived from it — counts per
//! severity, violations per day, the period an agreement is in force, notes about terms that
//! met events without a position or a key, `FILE:LINE` places, where a violation lies and
//! what the map draws. [`sections`] derives each of them once, with the words that say them,
//! so that the renderings cannot disagree and a new report field is added here and then drawn
//! by each renderer. A renderer reads the report through this model alone and decides only
//! the markup and the escaping of its medium, and which sections it shows in what order: a
//! terminal summary and a published document are not laid out alike, which is why this is a
//! struct of sections rather than one list that every renderer walks in the same order.
//!
//! Text from event data, rule files or a saved report stays as it is here (`&str`): only a
//! renderer knows how to make it inert in its medium. A sentence that mixes pactum's words
//! with such text or with names is [`Words`], pieces that a renderer escapes or marks up each
//! in its own way.

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, SecondsFormat};
use chrono_tz::Tz;
use std::io;

use super::{
    InputFile, InputInfo, MapShape, MappingInfo, OffVocabulary, Report, Severity, Span,
    SuspendedTerm, SuspensionReason, ViolationRecord, ViolationSource, VocabularyProblem,
};

/// Why a term was suspended, in words: "suspended after this event, …".
fn suspended_for(s: &SuspendedTerm) -> String {
    // A saved report could lack a figure its reason comes with: shown as `?`.
    let bytes = |n: Option<u64>| n.map_or_else(|| "?".to_string(), |n| n.to_string());
    match s.reason {
        SuspensionReason::Budget => format!(
            "having spent {} units against an allowance of {} by then",
            s.spent, s.allowance
        ),
        SuspensionReason::State => format!(
            "its live state holding {} bytes against a limit of {} for one term",
            bytes(s.state_bytes),
            bytes(s.state_limit_bytes)
        ),
        SuspensionReason::AllState => format!(
            "holding {} bytes of live state, the most of any term, when all terms held {} against a limit of {}",
            bytes(s.state_bytes),
            bytes(s.all_state_bytes),
            bytes(s.state_limit_bytes)
        ),
    }
}

/// How a report is shown to readers: chosen by whoever renders it (`--period`,
/// `--timezone`), not part of the report, whose JSON stays in UTC and counts nothing per
/// period — so that one saved report can be read by missions that keep other calendars.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rendering {
    /// The length of the reporting periods; `None`: chosen from the violations' span
    /// ([`PeriodUnit::for_span`]).
    pub period: Option<PeriodUnit>,
    /// The time zone that times are shown in and periods begin in; `None`: UTC, as the
    /// report gives them.
    pub zone: Option<Tz>,
}

impl Rendering {
    /// `time` (an instant of the report: RFC 3339, UTC) as shown: in [`Rendering::zone`]
    /// with its offset there. A date without a time, or text that is not an instant (a saved
    /// report may hold anything), is shown as it is.
    pub fn time<'a>(&self, time: &'a str) -> Cow<'a, str> {
        let Some(zone) = self.zone else {
            return Cow::Borrowed(time);
        };
        match crate::time::parse_instant(time) {
            Ok((instant, crate::time::Precision::Time)) => Cow::Owned(
                instant
                    .with_timezone(&zone)
                    .to_rfc3339_opts(SecondsFormat::AutoSi, true),
            ),
            _ => Cow::Borrowed(time),
        }
    }

    /// The calendar day of `time` where periods are counted: in the zone, else UTC.
    fn date(&self, time: &str) -> Option<NaiveDate> {
        let (instant, _) = crate::time::parse_instant(time).ok()?;
        Some(match self.zone {
            Some(zone) => instant.with_timezone(&zone).date_naive(),
            None => instant.date_naive(),
        })
    }
}

/// Builds the sections of `report`, whose violations are `violations` (read by
/// [`Sections::each_violation`] and [`Sections::periods`], as a rendering needs them), shown
/// as `rendering` says.
pub fn sections<'r>(
    report: &'r Report,
    violations: &'r dyn ViolationSource,
    rendering: Rendering,
) -> Sections<'r> {
    let s = &report.summary;
    let time = move |t: &'r str| rendering.time(t);
    Sections {
        rendering,
        heading: Heading {
            titles: report.agreements.iter().map(|a| a.title.as_str()).collect(),
            pactum_version: &report.pactum_version,
            report_version: report.report_version,
            agreements: report.agreements.len(),
            inputs: report.inputs.len(),
            events: s.events,
            after_until: s.after_until,
            violations: s.violations,
            period: report.period.as_ref().map(|p: &'r Span| Times {
                first: time(&p.first),
                last: time(&p.last),
            }),
            zone: rendering.zone.map(|z| z.name()),
        },
        options: options(report),
        agreements: report
            .agreements
            .iter()
            .map(|a| Agreement {
                id: &a.id,
                title: &a.title,
                file: &a.file,
                sha256: &a.sha256,
                in_force: in_force(a.effective.from.as_deref(), a.effective.until.as_deref()),
                geography: &a.geography,
                vocabulary: &a.vocabulary,
            })
            .collect(),
        inputs: &report.inputs,
        mappings: mappings(&report.inputs),
        tally: Tally {
            violations: s.violations,
            by_severity: Severity::ALL.map(|severity| (severity, s.by_severity.count(severity))),
            hypothetical: s.hypothetical,
            alleged: s.alleged,
            denied: s.denied,
            shared: s.shared,
        },
        terms: s
            .by_term
            .iter()
            .map(|t| Term {
                clause: clause(&t.agreement, &t.term),
                title: &t.title,
                severity: t.severity,
                evaluated: t.evaluated,
                out_of_period: t.out_of_period,
                violations: t.violations,
                errors: t.errors,
            })
            .collect(),
        notes: s
            .by_term
            .iter()
            .flat_map(|t| {
                [
                    (NoteKind::Unlocated, t.unlocated),
                    (NoteKind::Unkeyed, t.unkeyed),
                ]
                .into_iter()
                .filter(|(_, count)| *count > 0)
                .map(|(kind, count)| Note {
                    clause: clause(&t.agreement, &t.term),
                    count,
                    kind,
                })
            })
            .collect(),
        parties: party_rows(s),
        violations,
        incident_gap: super::json::incident_gap(report),
        clause_texts: report
            .summary
            .by_term
            .iter()
            .filter_map(|t| Some(((t.agreement.as_str(), t.term.as_str()), t.text.as_deref()?)))
            .collect(),
        shapes: shapes(report),
        open: report
            .open
            .iter()
            .map(|o| Open {
                clause: clause(&o.agreement, &o.term),
                trigger: &o.trigger,
                at: at(&o.file, o.line),
                due: time(&o.due),
            })
            .collect(),
        errors: report
            .errors
            .iter()
            .map(|e| RuleError {
                clause: clause(&e.agreement, &e.term),
                count: e.count,
                event: &e.first.event,
                at: at(&e.first.file, e.first.line),
                message: Cow::Borrowed(&e.first.message),
            })
            // A suspended term reads as an error of the term over the events it left.
            .chain(report.suspended.iter().map(|s| RuleError {
                clause: clause(&s.agreement, &s.term),
                count: s.not_judged,
                event: &s.event,
                at: at(&s.file, s.line),
                message: Cow::Owned(format!(
                    "suspended after this event, {} (docs/security.md); the {} later event(s) were not judged by this term",
                    suspended_for(s),
                    s.not_judged
                )),
            }))
            .collect(),
        skipped: report
            .skipped
            .iter()
            .map(|k| SkippedLine {
                at: match k.column {
                    Some(column) => format!("{}:{}:{column}", k.file, k.line),
                    None => at(&k.file, k.line),
                },
                reason: &k.reason,
            })
            .collect(),
        late: report
            .late
            .iter()
            .map(|l| Late {
                event: &l.event,
                at: at(&l.file, l.line),
                time: time(&l.time),
                after: time(&l.after),
            })
            .collect(),
        off_vocabulary: report
            .inputs
            .iter()
            .flat_map(|input| {
                input.vocabulary.iter().map(|o| OffVocabularyLine {
                    at: at(&input.file, o.first_line),
                    what: off_vocabulary(o),
                    events: o.events,
                })
            })
            .collect(),
    }
}

/// What an input's entry of data outside the vocabulary says, in words.
fn off_vocabulary(o: &OffVocabulary) -> Words<'_> {
    fn first(v: &Option<String>) -> Words<'_> {
        match v {
            Some(v) => vec![prose(", first "), Piece::Data(v.as_str())],
            None => Vec::new(),
        }
    }
    let name = Piece::Code(Cow::Borrowed(o.name.as_str()));
    let declared = Piece::Data(o.declared.as_deref().unwrap_or("declared"));
    let mut words = match o.problem {
        VocabularyProblem::UnknownKind => {
            vec![prose("kind "), name, prose(" is not in the vocabulary")]
        }
        VocabularyProblem::MoreUnknownKinds => vec![
            prose("more kinds not in the vocabulary, past the 100 listed, the first "),
            name,
        ],
        VocabularyProblem::WrongType | VocabularyProblem::WrongValue => {
            let mut w = vec![
                prose("field "),
                name,
                prose(" is not "),
                declared,
                prose(" as declared"),
            ];
            w.extend(first(&o.first_value));
            w
        }
        VocabularyProblem::Missing => {
            vec![prose("field "), name, prose(" is missing: "), declared]
        }
    };
    words.shrink_to_fit();
    words
}

impl Sections<'_> {
    /// Violations per reporting period (UTC), the unit chosen from their span ([`PeriodUnit`]),
    /// and within a period per party and per `agreement/term`: two passes over the violations.
    pub fn periods(&self) -> io::Result<Periods> {
        periods(self.violations, self.rendering)
    }

    /// Calls `each` with the violations' incidents (`super::incidents`), in the order they
    /// ended, numbered from 1, and returns how many there are: one pass over the violations.
    /// Neither the incidents nor the violations are held, only the incidents still open; a
    /// rendering that needs their number before their rows counts them in a pass of its own
    /// ([`Sections::incident_count`]).
    pub fn each_incident(
        &self,
        each: &mut dyn FnMut(&Incident) -> io::Result<()>,
    ) -> io::Result<u64> {
        let mut grouping = super::incidents::Incidents::new(self.incident_gap);
        let mut number = 0_u64;
        // The grouping hands closed incidents to a callback that cannot fail: the first
        // failure of `each` is kept, and no incident is rendered after it.
        let mut failed: Option<io::Error> = None;
        let mut render = |record: super::IncidentRecord| {
            if failed.is_none() {
                number += 1;
                if let Err(e) = each(&incident(number, record, self.rendering)) {
                    failed = Some(e);
                }
            }
        };
        for record in self.violations.records() {
            let record = record?;
            super::RecordView::of_record(&record).incident(&mut grouping, &mut render);
        }
        grouping.finish(&mut render);
        match failed {
            Some(e) => Err(e),
            None => Ok(number),
        }
    }

    /// The number of incidents: a pass over the violations.
    pub fn incident_count(&self) -> io::Result<u64> {
        self.each_incident(&mut |_| Ok(()))
    }

    /// The incident gap in words: "1 day", "6 hours", "90 seconds".
    pub fn incident_gap_words(&self) -> String {
        let seconds = self.incident_gap.num_seconds();
        let (n, unit) = if seconds % 86_400 == 0 {
            (seconds / 86_400, "day")
        } else if seconds % 3_600 == 0 {
            (seconds / 3_600, "hour")
        } else {
            (seconds, "second")
        };
        format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
    }

    /// Calls `each` with every violation, in the report's order, numbered from 1.
    pub fn each_violation(
        &self,
        each: &mut dyn FnMut(&Violation<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
        for (i, record) in self.violations.records().enumerate() {
            let record = record?;
            let mut section = violation(i + 1, &record, self.rendering);
            section.clause_text = self
                .clause_texts
                .get(&(record.agreement.as_str(), record.term.as_str()))
                .copied();
            each(&section)?;
        }
        Ok(())
    }
}

/// The section of incident `number` (from 1).
fn incident(number: u64, r: super::IncidentRecord, rendering: Rendering) -> Incident {
    Incident {
        number,
        clause: clause(&r.agreement, &r.term),
        title: r.title,
        severity: r.severity,
        party: charged_words(&r.breached_by),
        key: r.key,
        first: rendering.time(&r.first).into_owned(),
        last: rendering.time(&r.last).into_owned(),
        violations: r.violations,
        peak: r.peak.map(|p| {
            format!(
                "{} events in the window at {}",
                p.in_window,
                rendering.time(&p.time)
            )
        }),
        opened_by: r
            .evidence
            .iter()
            .map(|e| format!("{} ({})", e.id, at(&e.file, e.line)))
            .collect(),
    }
}

/// The section of one violation, `number` in the report.
fn violation(number: usize, v: &ViolationRecord, rendering: Rendering) -> Violation<'_> {
    let location = v.location.as_ref();
    let lat = location.and_then(|l| l.lat);
    let lon = location.and_then(|l| l.lon);
    Violation {
        number,
        clause_text: None,
        time: rendering.time(&v.time),
        clause: clause(&v.agreement, &v.term),
        article: v.article.as_deref(),
        title: &v.title,
        severity: v.severity,
        party: charged_words(&v.breached_by),
        message: &v.message,
        place: location.and_then(|l| l.place.as_deref()),
        coordinates: lat.zip(lon).map(|(lat, lon)| format!("{lat}, {lon}")),
        country: location.and_then(|l| l.country.as_deref()),
        near: location.map(|l| near(l.near.as_ref())).unwrap_or_default(),
        position: lon
            .zip(lat)
            .filter(|(lon, lat)| lon.is_finite() && lat.is_finite()),
        key: v.key.as_deref(),
        window: v
            .in_window
            .filter(|n| *n > v.evidence.len() as u64)
            .map(|n| {
                format!(
                    "the latest {} of {n} events in the window",
                    v.evidence.len()
                )
            }),
        evidence: v
            .evidence
            .iter()
            .map(|e| Evidence {
                id: &e.id,
                at: at(&e.file, e.line),
                time: rendering.time(&e.time),
                kind: &e.kind,
                source: e.source.as_deref(),
                hypothetical: e.hypothetical,
                account: e
                    .account
                    .iter()
                    .map(|(f, t)| (f.as_str(), t.as_str()))
                    .collect(),
            })
            .collect(),
        claims: Claims::of(v),
    }
}

/// What every rendering shows of a report, derived once. `'r` is the report's lifetime.
pub struct Sections<'r> {
    /// How it is shown: its times' zone, its periods' length.
    pub rendering: Rendering,
    /// What was judged, by which pactum.
    pub heading: Heading<'r>,
    /// The options that changed the result, each as a phrase.
    pub options: Vec<Words<'r>>,
    /// The agreements applied, in the order given.
    pub agreements: Vec<Agreement<'r>>,
    /// The event inputs, in the order given (shown as they are: nothing to derive).
    pub inputs: &'r [InputInfo],
    /// The mappings that made the inputs' events, each once, in the order of the inputs.
    pub mappings: Vec<&'r MappingInfo>,
    /// The counts of violations.
    pub tally: Tally,
    /// One row per term of every agreement, in file order.
    pub terms: Vec<Term<'r>>,
    /// Events that terms judged, but not the way the rule author meant: in term order, the
    /// unlocated before the unkeyed of each term.
    pub notes: Vec<Note>,
    /// Per party in breach or claiming something of the evidence, by party code: what it is
    /// charged with and what it says.
    pub parties: Vec<PartyRow<'r>>,
    /// Every violation, in the report's order: read one at a time
    /// ([`Sections::each_violation`]), since a report may hold more than memory.
    pub violations: &'r dyn ViolationSource,
    /// The gap that ends an incident ([`Sections::incidents`]).
    pub incident_gap: chrono::TimeDelta,
    /// Each term's own words, by (agreement, term), for the terms that give them.
    pub clause_texts: BTreeMap<(&'r str, &'r str), &'r str>,
    /// The agreements' named shapes to draw, each once (two agreements often name the same
    /// country).
    pub shapes: Vec<&'r MapShape>,
    /// Deadline obligations due after the last event.
    pub open: Vec<Open<'r>>,
    /// Terms whose expressions failed on some events.
    pub errors: Vec<RuleError<'r>>,
    /// Lines skipped as invalid.
    pub skipped: Vec<SkippedLine<'r>>,
    /// Events that came too late on a stream.
    pub late: Vec<Late<'r>>,
    /// What the inputs' events showed against the run's vocabulary, input by input.
    pub off_vocabulary: Vec<OffVocabularyLine<'r>>,
}

/// One party's line of the report's counts.
#[derive(Debug, Clone, PartialEq)]
pub struct PartyRow<'r> {
    /// Its code (`unattributed` for violations charged to no one).
    pub party: &'r str,
    /// Violations charged to it (a violation shared by several counts for each).
    pub violations: u64,
    /// Violations whose evidence it alleges, and those whose evidence it denies.
    pub alleges: u64,
    pub denies: u64,
}

impl Sections<'_> {
    /// Whether any evidence carries claims: only then do the party tables show them.
    pub fn has_claims(&self) -> bool {
        self.parties.iter().any(|p| p.alleges + p.denies > 0)
    }

    /// `3 violations are charged to more than one party: each counts once for every party
    /// it charges.`; nothing when none is.
    pub fn shared_words(&self) -> Option<String> {
        match self.tally.shared {
            0 => None,
            1 => Some(
                "1 violation is charged to more than one party: it counts once for every party it charges.".into(),
            ),
            n => Some(format!(
                "{n} violations are charged to more than one party: each counts once for every party it charges."
            )),
        }
    }
}

/// The party rows of a summary: every party charged or claiming, by code.
fn party_rows(s: &super::Summary) -> Vec<PartyRow<'_>> {
    let mut rows: BTreeMap<&str, PartyRow<'_>> = BTreeMap::new();
    fn row(party: &str) -> PartyRow<'_> {
        PartyRow {
            party,
            violations: 0,
            alleges: 0,
            denies: 0,
        }
    }
    for (party, count) in &s.by_party {
        rows.entry(party).or_insert_with(|| row(party)).violations = *count;
    }
    for (party, claims) in &s.claims {
        let entry = rows.entry(party).or_insert_with(|| row(party));
        entry.alleges = claims.alleges;
        entry.denies = claims.denies;
    }
    rows.into_values().collect()
}

/// Events of one input that the vocabulary does not describe, of one sort.
#[derive(Debug)]
pub struct OffVocabularyLine<'r> {
    /// `FILE:LINE` of the first.
    pub at: String,
    /// What was found.
    pub what: Words<'r>,
    /// On how many events.
    pub events: u64,
}

/// What was judged, by which pactum.
#[derive(Debug)]
pub struct Heading<'r> {
    pub titles: Vec<&'r str>,
    pub pactum_version: &'r str,
    pub report_version: u32,
    pub agreements: usize,
    pub inputs: usize,
    pub events: u64,
    /// Of `events`, those read after `--until`, judged by no term (when counted).
    pub after_until: Option<u64>,
    pub violations: u64,
    /// The first and last event time judged; none when no event was.
    pub period: Option<Times<'r>>,
    /// The time zone times are shown in, when not UTC (`Asia/Baghdad`).
    pub zone: Option<&'static str>,
}

/// The first and last of some times, as shown.
#[derive(Debug)]
pub struct Times<'r> {
    pub first: Cow<'r, str>,
    pub last: Cow<'r, str>,
}

impl Heading<'_> {
    /// "Times are shown in Asia/Baghdad, …", when they are not in UTC.
    pub fn zone_words(&self) -> Option<String> {
        self.zone.map(|zone| {
            format!(
                "Times are shown in {zone}, with their offset from UTC; the JSON report gives them in UTC."
            )
        })
    }

    /// "28 event(s) judged", or, with events after `--until`, "28 event(s) read, 16 judged":
    /// what the reader must not take for events the terms saw.
    pub fn events_judged(&self) -> String {
        match self.after_until {
            Some(after) if after > 0 => format!(
                "{} event(s) read, {} judged",
                self.events,
                self.events.saturating_sub(after)
            ),
            _ => format!("{} event(s) judged", self.events),
        }
    }
}

/// An agreement applied.
#[derive(Debug)]
pub struct Agreement<'r> {
    pub id: &'r str,
    pub title: &'r str,
    pub file: &'r str,
    pub sha256: &'r str,
    /// When it is in force: `FROM to UNTIL`, `from FROM`, `until UNTIL` or `always`.
    pub in_force: String,
    pub geography: &'r [InputFile],
    /// The vocabulary files it includes.
    pub vocabulary: &'r [InputFile],
}

/// The counts of violations.
#[derive(Debug)]
pub struct Tally {
    pub violations: u64,
    /// Per severity, most serious first, every severity present.
    pub by_severity: [(Severity, u64); 4],
    /// Those resting on hypothetical evidence. Each rendering words this count its own way
    /// ("resting on hypothetical events", "rest on evidence marked hypothetical", "rest on
    /// hypothetical evidence"): the sentences differ in each medium's published output, so
    /// they stay with the renderers.
    pub hypothetical: u64,
    /// Those resting on evidence whose verification is `alleged`, and `denied`: counted apart,
    /// as hypothetical ones are.
    pub alleged: u64,
    pub denied: u64,
    /// Those charged to more than one party.
    pub shared: u64,
}

impl Tally {
    /// `; 2 rest on alleged evidence, 1 on denied`: empty when none.
    pub fn verification_words(&self) -> String {
        match (self.alleged, self.denied) {
            (0, 0) => String::new(),
            (a, 0) => format!("; {a} rest on alleged evidence"),
            (0, d) => format!("; {d} rest on denied evidence"),
            (a, d) => format!("; {a} rest on alleged evidence, {d} on denied"),
        }
    }

    /// The summary's sentences after [`Tally::words`], the same in every document: how many
    /// rest on hypothetical evidence, and on alleged or denied.
    pub fn evidence_sentences(&self) -> Vec<String> {
        let mut sentences = Vec::new();
        if self.hypothetical > 0 {
            sentences.push(format!(
                "{} of them rest on evidence marked hypothetical (invented to exercise a term).",
                self.hypothetical
            ));
        }
        if let Some(words) = self.verification_words().strip_prefix("; ") {
            sentences.push(format!("Of them, {words} (as their events say)."));
        }
        sentences
    }

    /// `14 violation(s): 3 critical, 6 high, 2 medium, 3 low`.
    pub fn words(&self) -> String {
        let counts: Vec<String> = self
            .by_severity
            .iter()
            .map(|(severity, count)| format!("{count} {severity}"))
            .collect();
        format!("{} violation(s): {}", self.violations, counts.join(", "))
    }
}

/// One term's counts.
#[derive(Debug)]
pub struct Term<'r> {
    /// `agreement/term`.
    pub clause: String,
    pub title: &'r str,
    pub severity: Severity,
    pub evaluated: u64,
    pub out_of_period: u64,
    pub violations: u64,
    pub errors: u64,
}

/// Events a term judged, but not the way its author meant.
#[derive(Debug)]
pub struct Note {
    /// `agreement/term`.
    pub clause: String,
    pub count: u64,
    pub kind: NoteKind,
}

/// What a [`Note`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteKind {
    /// Events without `lat`/`lon` met by a geography function, which gave `()`.
    Unlocated,
    /// Selected events whose threshold key was `()`: counted in no window.
    Unkeyed,
}

impl Note {
    /// The note as a document says it (Markdown, HTML): a sentence.
    pub fn words(&self) -> Words<'_> {
        let clause = Piece::Code(Cow::Borrowed(&self.clause));
        match self.kind {
            NoteKind::Unlocated => vec![
                clause,
                prose(format!(": {} event(s) without a position (", self.count)),
                code("lat"),
                prose("/"),
                code("lon"),
                prose(") for its geography."),
            ],
            NoteKind::Unkeyed => vec![
                clause,
                prose(format!(
                    ": {} selected event(s) whose key was missing, in no group.",
                    self.count
                )),
            ],
        }
    }

    /// The note as a terminal line says it: shorter, in the rule author's terms (`()`), with
    /// the clause as plain text like every id in the text rendering.
    pub fn terse(&self) -> Words<'_> {
        match self.kind {
            NoteKind::Unlocated => vec![
                prose(format!("{}: {} event(s) without ", self.clause, self.count)),
                code("lat"),
                prose("/"),
                code("lon"),
                prose(": its geography functions gave ()"),
            ],
            NoteKind::Unkeyed => vec![prose(format!(
                "{}: {} selected event(s) whose key was (): in no group",
                self.clause, self.count
            ))],
        }
    }
}

/// The length of the reporting periods violations are counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PeriodUnit {
    /// A calendar day.
    Day,
    /// An ISO 8601 week, from Monday.
    Week,
    /// A calendar month.
    Month,
    /// A quarter of the year, from January, April, July or October.
    Quarter,
    /// A calendar year.
    Year,
}

impl PeriodUnit {
    /// Every unit, shortest first.
    pub const ALL: [PeriodUnit; 5] = [
        PeriodUnit::Day,
        PeriodUnit::Week,
        PeriodUnit::Month,
        PeriodUnit::Quarter,
        PeriodUnit::Year,
    ];

    /// Its name: `day`, `week`, `month`, `quarter`, `year`.
    pub fn name(self) -> &'static str {
        match self {
            PeriodUnit::Day => "day",
            PeriodUnit::Week => "week",
            PeriodUnit::Month => "month",
            PeriodUnit::Quarter => "quarter",
            PeriodUnit::Year => "year",
        }
    }

    /// How many periods of this unit a span of `days` days touches, at most.
    fn periods_in(self, days: i64) -> i64 {
        let shortest = match self {
            PeriodUnit::Day => 1,
            PeriodUnit::Week => 7,
            PeriodUnit::Month => 28,
            PeriodUnit::Quarter => 89,
            PeriodUnit::Year => 365,
        };
        days / shortest + 2
    }

    /// The unit named `name` ([`PeriodUnit::name`]).
    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|unit| unit.name() == name)
    }

    /// The unit for violations spread over `days`: a table and a timeline of at most about
    /// sixty rows or bars for a span up to two months, a year or ten years, and a row a
    /// year beyond.
    fn for_span(days: i64) -> Self {
        match days {
            ..=62 => PeriodUnit::Day,
            63..=366 => PeriodUnit::Week,
            367..=3653 => PeriodUnit::Month,
            _ => PeriodUnit::Year,
        }
    }

    /// The first day of the period holding `date`.
    fn start(self, date: NaiveDate) -> NaiveDate {
        match self {
            PeriodUnit::Day => date,
            PeriodUnit::Week => date.week(chrono::Weekday::Mon).first_day(),
            PeriodUnit::Month => date.with_day(1).unwrap_or(date),
            PeriodUnit::Quarter => {
                NaiveDate::from_ymd_opt(date.year(), (date.month0() / 3) * 3 + 1, 1).unwrap_or(date)
            }
            PeriodUnit::Year => NaiveDate::from_ymd_opt(date.year(), 1, 1).unwrap_or(date),
        }
    }

    /// The first day of the period after the one starting at `start`.
    fn next(self, start: NaiveDate) -> Option<NaiveDate> {
        match self {
            PeriodUnit::Day => start.succ_opt(),
            PeriodUnit::Week => start.checked_add_days(chrono::Days::new(7)),
            PeriodUnit::Month => start.checked_add_months(chrono::Months::new(1)),
            PeriodUnit::Quarter => start.checked_add_months(chrono::Months::new(3)),
            PeriodUnit::Year => start.checked_add_months(chrono::Months::new(12)),
        }
    }

    /// The period starting at `start`, as missions write it: `2024-03-05`, `2024-W10`,
    /// `2024-03`, `2024-Q1`, `2024`.
    fn label(self, start: NaiveDate) -> String {
        match self {
            PeriodUnit::Day => start.format("%Y-%m-%d").to_string(),
            PeriodUnit::Week => {
                let week = start.iso_week();
                format!("{}-W{:02}", week.year(), week.week())
            }
            PeriodUnit::Month => start.format("%Y-%m").to_string(),
            PeriodUnit::Quarter => format!("{}-Q{}", start.year(), start.month0() / 3 + 1),
            PeriodUnit::Year => start.format("%Y").to_string(),
        }
    }
}

/// The reporting periods of a report's violations: every period from the first violation's to
/// the last's, those without a violation included (a time axis, not a list of dates).
#[derive(Debug)]
pub struct Periods {
    pub unit: PeriodUnit,
    /// The unit the reader asked for (`--period`), if any: `unit` unless it would have given
    /// more than [`MAX_PERIODS`] periods.
    pub asked: Option<PeriodUnit>,
    /// The zone their days begin in, when not UTC.
    pub zone: Option<&'static str>,
    pub rows: Vec<Period>,
    /// Every `agreement/term` with a violation, in order: the columns of each period's
    /// matrix.
    pub terms: Vec<String>,
}

impl Periods {
    /// What the periods are, in words: "Every week from the first violation's to the
    /// last's (UTC, the unit chosen from their span); the change is from the week before."
    pub fn words(&self) -> String {
        let unit = self.unit.name();
        format!(
            "Every {unit} from the first violation's to the last's ({}, {}); the change is from the {unit} before.",
            self.zone.unwrap_or("UTC"),
            match self.asked {
                Some(asked) if asked == self.unit => "the unit chosen by the reader".to_string(),
                Some(asked) => format!(
                    "per {} as more than {MAX_PERIODS} {}s would have been too many rows",
                    unit,
                    asked.name()
                ),
                None => "the unit chosen from their span".to_string(),
            }
        )
    }

    /// The rows of the party × term matrix, with their period's label: the periods in which
    /// some party is in breach, or was in the period before.
    pub fn matrix_rows(&self) -> impl Iterator<Item = (&str, &MatrixRow)> {
        self.rows
            .iter()
            .flat_map(|p| p.matrix.iter().map(move |row| (p.label.as_str(), row)))
    }
}

/// One reporting period's violations.
#[derive(Debug)]
pub struct Period {
    /// `2024-03-05`, `2024-W10`, `2024-03`, `2024-Q1` or `2024`; `unknown` for violations
    /// whose time a saved report does not give as a time.
    pub label: String,
    pub total: u64,
    /// The change from the period before (none for the first).
    pub change: Option<i64>,
    /// Per party in breach (`unattributed` when none), by code.
    pub parties: Vec<(String, u64)>,
    /// Per `agreement/term`, in order.
    pub terms: Vec<(String, u64)>,
    /// The party × term matrix: a row per party in breach in this period or the one before
    /// (so that a party's fall to none shows), by code.
    pub matrix: Vec<MatrixRow>,
}

/// One party's violations in a period, per term ([`Periods::terms`]), with the change from
/// its violations in the period before.
#[derive(Debug)]
pub struct MatrixRow {
    pub party: String,
    /// Per column of [`Periods::terms`].
    pub counts: Vec<u64>,
    pub total: u64,
    /// The change from the party's violations in the period before (none for the first).
    pub change: Option<i64>,
}

impl MatrixRow {
    /// The change as missions print it: `+3`, `−2`, `=`; empty for the first period.
    pub fn change_words(&self) -> String {
        change_words(self.change)
    }
}

/// A change from the period before as missions print it: `+3`, `−2`, `=`; empty for none.
fn change_words(change: Option<i64>) -> String {
    match change {
        None => String::new(),
        Some(0) => "=".to_string(),
        Some(n) if n > 0 => format!("+{n}"),
        Some(n) => format!("−{}", n.unsigned_abs()),
    }
}

impl Period {
    /// The change from the period before as missions print it: `+3`, `−2`, `=`; empty for
    /// the first.
    pub fn change_words(&self) -> String {
        change_words(self.change)
    }
}

/// One incident (`super::IncidentRecord`), as readers see it.
#[derive(Debug)]
pub struct Incident {
    /// Its number in the report, from 1.
    pub number: u64,
    /// `agreement/term`.
    pub clause: String,
    pub title: String,
    pub severity: Severity,
    /// The party in breach, or `unattributed`.
    pub party: String,
    pub key: Option<String>,
    pub first: String,
    pub last: String,
    pub violations: u64,
    /// For a threshold: its peak, in words.
    pub peak: Option<String>,
    /// The events its first violation rests on: `ID (FILE:LINE)`.
    pub opened_by: Vec<String>,
}

/// One violation.
#[derive(Debug)]
pub struct Violation<'r> {
    /// Its number in the report, from 1.
    pub number: usize,
    pub time: Cow<'r, str>,
    /// `agreement/term`.
    pub clause: String,
    pub article: Option<&'r str>,
    /// The clause's own words, when its term gives them (`summary.by_term[].text`).
    pub clause_text: Option<&'r str>,
    pub title: &'r str,
    pub severity: Severity,
    /// The party in breach, or `unattributed`.
    pub party: String,
    pub message: &'r str,
    pub place: Option<&'r str>,
    /// `LAT, LON`, when the evidence gives both.
    pub coordinates: Option<String>,
    pub country: Option<&'r str>,
    /// Where it lies in the agreement's geography, as phrases ([`near`]).
    pub near: Vec<String>,
    /// `(lon, lat)`, finite: a point to draw on a map.
    pub position: Option<(f64, f64)>,
    pub key: Option<&'r str>,
    /// For a threshold whose window held more events than its evidence: how many.
    pub window: Option<String>,
    pub evidence: Vec<Evidence<'r>>,
    /// What the parties say of its evidence, those who allege beside those who deny.
    pub claims: Claims<'r>,
}

/// The claims of a violation's evidence, in two columns: who alleges, who denies. Each in
/// the order of the evidence and of its claims.
#[derive(Debug, Default)]
pub struct Claims<'r> {
    pub alleges: Vec<Said<'r>>,
    pub denies: Vec<Said<'r>>,
}

/// One party's claim, as shown.
#[derive(Debug)]
pub struct Said<'r> {
    pub party: &'r str,
    pub statement: Option<&'r str>,
    pub source: Option<&'r str>,
    /// The id of the event it is said of, when the violation rests on several.
    pub event: Option<&'r str>,
}

impl<'r> Claims<'r> {
    fn of(v: &'r ViolationRecord) -> Self {
        let mut claims = Claims::default();
        for e in &v.evidence {
            for c in &e.claims {
                let said = Said {
                    party: &c.party,
                    statement: c.statement.as_deref(),
                    source: c.source.as_deref(),
                    event: (v.evidence.len() > 1).then_some(e.id.as_str()),
                };
                match c.says {
                    super::Stance::Alleges => claims.alleges.push(said),
                    super::Stance::Denies => claims.denies.push(said),
                }
            }
        }
        claims
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.alleges.is_empty() && self.denies.is_empty()
    }

    /// Side by side, a row per pair: the `i`th who alleges beside the `i`th who denies.
    pub fn rows(&self) -> impl Iterator<Item = (Option<&Said<'r>>, Option<&Said<'r>>)> {
        let n = self.alleges.len().max(self.denies.len());
        (0..n).map(|i| (self.alleges.get(i), self.denies.get(i)))
    }
}

impl Said<'_> {
    /// `IQ alleges: “words” (source)` (`says`: the verb, or nothing where a column heading
    /// says it): in plain words, each renderer escaping them.
    pub fn words(&self, says: Option<&str>) -> String {
        let mut text = self.party.to_string();
        if let Some(says) = says {
            text.push(' ');
            text.push_str(says);
        }
        if let Some(statement) = self.statement {
            text.push_str(&format!(": “{statement}”"));
        }
        if let Some(source) = self.source {
            text.push_str(&format!(" ({source})"));
        }
        if let Some(event) = self.event {
            text.push_str(&format!(" [of {event}]"));
        }
        text
    }
}

/// An event cited as evidence.
#[derive(Debug)]
pub struct Evidence<'r> {
    pub id: &'r str,
    /// `FILE:LINE`.
    pub at: String,
    pub time: Cow<'r, str>,
    pub kind: &'r str,
    pub source: Option<&'r str>,
    pub hypothetical: bool,
    /// The event's account (`summary`, `reliability`, `verification`, `casualties`), those it
    /// has, in that order of names.
    pub account: Vec<(&'r str, &'r str)>,
}

impl Evidence<'_> {
    /// The account in words: `verification: alleged; summary: …`; empty when none.
    pub fn account_words(&self) -> String {
        self.account
            .iter()
            .map(|(field, said)| format!("{field}: {said}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// `ALLEGED` or `DENIED` when the event says so: marked as hypothetical evidence is.
    pub fn verification_mark(&self) -> Option<&'static str> {
        match self
            .account
            .iter()
            .find(|(field, _)| *field == "verification")
        {
            Some((_, "alleged")) => Some("ALLEGED"),
            Some((_, "denied")) => Some("DENIED"),
            _ => None,
        }
    }
}

/// An obligation still open when the log ends.
#[derive(Debug)]
pub struct Open<'r> {
    /// `agreement/term`.
    pub clause: String,
    /// The id of the event that opened it.
    pub trigger: &'r str,
    /// `FILE:LINE` of that event.
    pub at: String,
    pub due: Cow<'r, str>,
}

/// A term whose expressions failed.
#[derive(Debug)]
pub struct RuleError<'r> {
    /// `agreement/term`.
    pub clause: String,
    pub count: u64,
    /// The id of the first event it failed on.
    pub event: &'r str,
    /// `FILE:LINE` of that event.
    pub at: String,
    pub message: Cow<'r, str>,
}

/// A line skipped as invalid.
#[derive(Debug)]
pub struct SkippedLine<'r> {
    /// `FILE:LINE`, or `FILE:LINE:COLUMN` where the column is known.
    pub at: String,
    pub reason: &'r str,
}

/// An event that came too late on a stream.
#[derive(Debug)]
pub struct Late<'r> {
    pub event: &'r str,
    /// `FILE:LINE`.
    pub at: String,
    pub time: Cow<'r, str>,
    pub after: Cow<'r, str>,
}

/// A phrase of pactum's own words around names and data, each piece rendered by its medium.
pub type Words<'a> = Vec<Piece<'a>>;

/// A piece of [`Words`].
#[derive(Debug, Clone, PartialEq)]
pub enum Piece<'a> {
    /// pactum's own words, without markup: shown as they are.
    Prose(Cow<'a, str>),
    /// Text from event data, rule files or a saved report: escaped for the medium.
    Data(&'a str),
    /// A name shown as code: an option, a field, an `agreement/term`.
    Code(Cow<'a, str>),
}

fn prose<'a>(text: impl Into<Cow<'a, str>>) -> Piece<'a> {
    Piece::Prose(text.into())
}

fn code(name: &'static str) -> Piece<'static> {
    Piece::Code(Cow::Borrowed(name))
}

/// The party shown when `breached_by` gave none.
const UNATTRIBUTED: &str = "unattributed";

/// The codes a violation charges, or [`UNATTRIBUTED`] alone when it charges none: what is
/// counted per party.
pub(crate) fn charged_or_unattributed(codes: &[String]) -> impl Iterator<Item = &str> {
    let none = codes.is_empty().then_some(UNATTRIBUTED);
    codes.iter().map(String::as_str).chain(none)
}

/// Who is in breach, in words: `IL, SY`, or `unattributed`.
pub(crate) fn charged_words(codes: &[String]) -> String {
    if codes.is_empty() {
        UNATTRIBUTED.to_string()
    } else {
        codes.join(", ")
    }
}

fn clause(agreement: &str, term: &str) -> String {
    format!("{agreement}/{term}")
}

fn at(file: &str, line: u64) -> String {
    format!("{file}:{line}")
}

/// The options that change the result, as phrases.
fn options(report: &Report) -> Vec<Words<'_>> {
    let o = &report.options;
    let mut options = Vec::new();
    if o.skip_invalid {
        options.push(vec![
            prose("invalid lines skipped and listed ("),
            code("--skip-invalid"),
            prose(")"),
        ]);
    }
    if let Some(until) = &o.until {
        options.push(vec![
            prose("replay ended at "),
            Piece::Data(until),
            prose(" ("),
            code("--until"),
            match report.summary.after_until {
                Some(after) => prose(format!(
                    "): {after} event(s) after it read, judged by no term"
                )),
                None => prose(")"),
            },
        ]);
    }
    if let Some(signal) = &o.interrupted {
        options.push(vec![
            prose("interrupted by "),
            Piece::Data(signal),
            prose(": the stream was judged up to the last event read"),
        ]);
    }
    if let Some(delay) = o.max_delay_s {
        options.push(vec![
            prose(format!("a stream, events allowed {delay} s out of order (")),
            code("--max-delay"),
            prose(")"),
        ]);
    }
    options
}

/// When an agreement is in force, in words.
fn in_force(from: Option<&str>, until: Option<&str>) -> String {
    match (from, until) {
        (Some(from), Some(until)) => format!("{from} to {until}"),
        (Some(from), None) => format!("from {from}"),
        (None, Some(until)) => format!("until {until}"),
        (None, None) => "always".into(),
    }
}

/// One line per mapping: one mapping usually serves every input.
fn mappings(inputs: &[InputInfo]) -> Vec<&MappingInfo> {
    // Through a set, as `shapes`: a saved report may name any number of inputs.
    let mut seen = std::collections::HashSet::new();
    inputs
        .iter()
        .filter_map(|i| i.mapping.as_ref())
        .filter(|m| seen.insert((m.id.as_str(), m.file.as_str())))
        .collect()
}

/// The most reporting periods a report lists. The violations' times decide the span, and a
/// log's times may be anything from year 0 to 9999: `--period day` over them would be 3.65
/// million rows. The limit holds a year per row over any span RFC 3339 can write.
const MAX_PERIODS: i64 = 20_000;

/// Violations per reporting period, and within a period per party and per `agreement/term`:
/// a pass for the span (which chooses the unit, unless the reader did and it gives at most
/// [`MAX_PERIODS`] periods), a pass to count. Counts are held per period, party and term,
/// never per violation.
fn periods(violations: &dyn ViolationSource, rendering: Rendering) -> io::Result<Periods> {
    let (mut first, mut last) = (None::<NaiveDate>, None::<NaiveDate>);
    for v in violations.records() {
        if let Some(date) = rendering.date(&v?.time) {
            first = Some(first.map_or(date, |f| f.min(date)));
            last = Some(last.map_or(date, |l| l.max(date)));
        }
    }
    let days = first
        .zip(last)
        .map_or(0, |(first, last)| (last - first).num_days());
    let unit = match rendering.period {
        Some(asked) => PeriodUnit::ALL
            .into_iter()
            .find(|unit| *unit >= asked && unit.periods_in(days) <= MAX_PERIODS)
            .unwrap_or(PeriodUnit::Year),
        None => PeriodUnit::for_span(days),
    };
    // Per period start (`None`: no time): (party, term) → violations, each violation once for
    // every party it charges; and term → violations, and all violations, each counted once.
    #[derive(Default)]
    struct Cells {
        by_party: BTreeMap<(String, String), u64>,
        by_term: BTreeMap<String, u64>,
        total: u64,
    }
    let mut counted: BTreeMap<Option<NaiveDate>, Cells> = BTreeMap::new();
    let mut terms: std::collections::BTreeSet<String> = Default::default();
    for v in violations.records() {
        let v = v?;
        let date = rendering.date(&v.time);
        let term = clause(&v.agreement, &v.term);
        if !terms.contains(&term) {
            terms.insert(term.clone());
        }
        let cells = counted
            .entry(date.map(|date| unit.start(date)))
            .or_default();
        cells.total += 1;
        *cells.by_term.entry(term.clone()).or_default() += 1;
        for party in charged_or_unattributed(&v.breached_by) {
            *cells
                .by_party
                .entry((party.to_string(), term.clone()))
                .or_default() += 1;
        }
    }
    let terms: Vec<String> = terms.into_iter().collect();
    let row = |label: String, cells: Cells, before: Option<&Period>| {
        let mut parties: BTreeMap<String, u64> = BTreeMap::new();
        let mut matrix: BTreeMap<String, Vec<u64>> = BTreeMap::new();
        let (by_term, total) = (cells.by_term, cells.total);
        for ((party, term), count) in cells.by_party {
            *parties.entry(party.clone()).or_default() += count;
            let row = matrix.entry(party).or_insert_with(|| vec![0; terms.len()]);
            // `terms` holds every term counted, so the column is always found.
            if let Some(cell) = terms
                .iter()
                .position(|t| *t == term)
                .and_then(|column| row.get_mut(column))
            {
                *cell += count;
            }
        }
        // A party in breach in the period before and not in this one keeps its row.
        if let Some(before) = before {
            for (party, _) in &before.parties {
                matrix
                    .entry(party.clone())
                    .or_insert_with(|| vec![0; terms.len()]);
            }
        }
        let matrix = matrix
            .into_iter()
            .map(|(party, counts)| {
                let total: u64 = counts.iter().sum();
                let change = before.map(|b| {
                    let was = b
                        .parties
                        .iter()
                        .find(|(p, _)| *p == party)
                        .map_or(0, |(_, n)| *n);
                    total as i64 - was as i64
                });
                MatrixRow {
                    party,
                    counts,
                    total,
                    change,
                }
            })
            .collect();
        Period {
            label,
            total,
            change: before.map(|b| total as i64 - b.total as i64),
            parties: parties.into_iter().collect(),
            terms: by_term.into_iter().collect(),
            matrix,
        }
    };
    let unknown = counted.remove(&None);
    let mut rows: Vec<Period> = Vec::new();
    if let (Some(first), Some(last)) = (first, last) {
        let (mut start, end) = (unit.start(first), unit.start(last));
        loop {
            let cells = counted.remove(&Some(start)).unwrap_or_default();
            let period = row(unit.label(start), cells, rows.last());
            rows.push(period);
            match unit.next(start) {
                Some(next) if next <= end => start = next,
                _ => break,
            }
        }
    }
    if let Some(cells) = unknown {
        rows.push(row("unknown".to_string(), cells, None));
    }
    Ok(Periods {
        unit,
        asked: rendering.period,
        zone: rendering.zone.map(|z| z.name()),
        rows,
        terms,
    })
}

/// "12.3 km from Metina", "4.1 km from the line iq-tr-border": where a position lies.
fn near(near: Option<&super::NearRecord>) -> Vec<String> {
    let Some(near) = near else {
        return Vec::new();
    };
    let mut words = Vec::new();
    if let (Some(place), Some(km)) = (&near.place, near.place_km) {
        words.push(format!("{km:.1} km from {place}"));
    }
    if let Some(km) = near.no_place_within_km {
        words.push(format!("no named place within {km:.0} km"));
    }
    if let (Some(line), Some(km)) = (&near.line, near.line_km) {
        words.push(format!("{km:.1} km from the line {line}"));
    }
    words
}

/// The agreements' shapes, each distinct one once, in order. Found through a set (a saved
/// report may hold any number of shapes: comparing each with every earlier one would take
/// time in their square); coordinates compare as numbers do, `-0.0` as `0.0`.
fn shapes(report: &Report) -> Vec<&MapShape> {
    let bits = |v: f64| if v == 0.0 { 0 } else { v.to_bits() };
    let mut seen = std::collections::HashSet::new();
    report
        .agreements
        .iter()
        .flat_map(|a| &a.shapes)
        .filter(|shape| {
            let paths: Vec<Vec<[u64; 2]>> = shape
                .paths
                .iter()
                .map(|path| path.iter().map(|[x, y]| [bits(*x), bits(*y)]).collect())
                .collect();
            seen.insert((shape.name.as_str(), shape.kind.as_str(), paths))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        let violation = |time: &str, term: &str| {
            format!(
                r#"{{"agreement": "a", "term": "{term}", "title": "T", "severity": "high",
                "breached_by": null, "time": "{time}", "message": "m", "evidence": []}}"#
            )
        };
        let text = format!(
            r#"{{"report_version": 1, "pactum_version": "0.1.0", "agreements": [],
            "inputs": [], "options": {{"skip_invalid": true, "until": "2024-02-01T00:00:00Z"}},
            "summary": {{"events": 3, "violations": 3,
              "by_term": [{{"agreement": "a", "term": "x", "title": "X", "severity": "low",
                "evaluated": 3, "out_of_period": 0, "violations": 2, "errors": 0,
                "unkeyed": 1, "unlocated": 2}}],
              "by_party": {{"unattributed": 3}},
              "by_severity": {{"critical": 0, "high": 3, "medium": 0, "low": 0}}}},
            "violations": [{}, {}, {}], "skipped": [], "errors": []}}"#,
            violation("2024-01-01T10:00:00Z", "y"),
            violation("2024-01-01T11:00:00Z", "x"),
            violation("2024-01-03T00:00:00.250Z", "x"),
        );
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn derived_facts() {
        let report = report();
        let s = sections(&report, &report.violations, Rendering::default());
        assert_eq!(
            s.tally.words(),
            "3 violation(s): 0 critical, 3 high, 0 medium, 0 low"
        );
        let periods = s.periods().unwrap();
        assert_eq!(periods.unit, PeriodUnit::Day);
        let days: Vec<String> = periods
            .rows
            .iter()
            .map(|d| format!("{} {} {} {:?}", d.label, d.total, d.change_words(), d.terms))
            .collect();
        assert_eq!(
            days,
            [
                r#"2024-01-01 2  [("a/x", 1), ("a/y", 1)]"#,
                r#"2024-01-02 0 −2 []"#,
                r#"2024-01-03 1 +1 [("a/x", 1)]"#,
            ]
        );
        let notes: Vec<(NoteKind, u64)> = s.notes.iter().map(|n| (n.kind, n.count)).collect();
        assert_eq!(notes, [(NoteKind::Unlocated, 2), (NoteKind::Unkeyed, 1)]);
        let mut seen = Vec::new();
        s.each_violation(&mut |v| {
            seen.push((v.number, v.party.to_string()));
            Ok(())
        })
        .unwrap();
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[2].0, 3);
        assert_eq!(seen[0].1, "unattributed");
        assert_eq!(s.options.len(), 2);
        assert_eq!(
            s.options[1],
            vec![
                prose("replay ended at "),
                Piece::Data("2024-02-01T00:00:00Z"),
                prose(" ("),
                code("--until"),
                prose(")"),
            ]
        );
        assert_eq!(in_force(None, None), "always");
        assert_eq!(in_force(Some("A"), None), "from A");
    }
}
