//! The report: pactum's one serialised contract.
//!
//! These types exist only to be written (and read back); engine types are never serialised.
//! Changing a field's meaning or removing one bumps [`REPORT_VERSION`]; adding an optional field
//! does not. docs/report-format.md documents every field.

use std::collections::BTreeMap;

use std::fmt;

use serde::de::{self, Deserializer, Unexpected, Visitor};
use serde::{Deserialize, Serialize};

use crate::load::agreement;

/// Version of the report format described here.
pub const REPORT_VERSION: u32 = 4;

/// A whole replay report.
///
/// Its fields are written in this order: what was applied (versions, agreements), then every
/// violation, then what the run read and counted. A report is written as its violations are
/// decided (`report::Collector`), so what is known only at the end — the inputs' hashes, the
/// counts, the options that depend on the inputs — comes after them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// [`REPORT_VERSION`] at the time of writing.
    pub report_version: u32,
    /// The pactum version that produced it.
    pub pactum_version: String,
    /// The agreements applied, in the order given.
    pub agreements: Vec<AgreementInfo>,
    /// Every violation, by time, agreement, term and evidence ids.
    pub violations: Vec<ViolationRecord>,
    /// Options that change the result.
    pub options: Options,
    /// The event inputs, in the order given.
    pub inputs: Vec<InputInfo>,
    /// Earliest and latest event time judged; absent when no event was.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub period: Option<Span>,
    /// Counts.
    pub summary: Summary,
    /// Lines skipped as invalid (with `--skip-invalid`).
    pub skipped: Vec<Skipped>,
    /// Terms whose expressions failed on some events.
    pub errors: Vec<TermErrors>,
    /// Terms suspended for spending more than their budget over the replay, or for holding
    /// more live state than they may.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suspended: Vec<SuspendedTerm>,
    /// Deadline obligations neither kept nor broken: due after the last event.
    #[serde(default)]
    pub open: Vec<OpenObligation>,
    /// Events that came on a stream after the reorder buffer had moved past their time:
    /// judged on arrival, out of canonical order.
    #[serde(default)]
    pub late: Vec<LateEvent>,
}

/// What a JSON report says before its violations (the fields of [`Report`] before
/// `violations`, borrowed).
#[derive(Serialize)]
pub(super) struct Head<'r> {
    pub report_version: u32,
    pub pactum_version: &'r str,
    pub agreements: &'r [AgreementInfo],
}

/// What a JSON report says after its violations (the fields of [`Report`] after
/// `violations`, borrowed).
#[derive(Serialize)]
pub(super) struct Tail<'r> {
    pub options: &'r Options,
    pub inputs: &'r [InputInfo],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<&'r Span>,
    pub summary: &'r Summary,
    pub skipped: &'r [Skipped],
    pub errors: &'r [TermErrors],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub suspended: &'r [SuspendedTerm],
    pub open: &'r [OpenObligation],
    pub late: &'r [LateEvent],
}

impl Report {
    /// Its parts before and after the violations. Every field named, so that a field added to
    /// `Report` is a compile error here until it is given its place.
    pub(super) fn parts(&self) -> (Head<'_>, Tail<'_>) {
        let Report {
            report_version,
            pactum_version,
            agreements,
            violations: _,
            options,
            inputs,
            period,
            summary,
            skipped,
            errors,
            suspended,
            open,
            late,
        } = self;
        (
            Head {
                report_version: *report_version,
                pactum_version,
                agreements,
            },
            Tail {
                options,
                inputs,
                period: period.as_ref(),
                summary,
                skipped,
                errors,
                suspended,
                open,
                late,
            },
        )
    }
}

/// An event that came too late for canonical order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LateEvent {
    /// Its id.
    pub event: String,
    /// Its input.
    pub file: String,
    /// Its line.
    pub line: u64,
    /// Its time.
    pub time: String,
    /// The latest time already judged when it came.
    pub after: String,
}

/// An obligation still open when the log ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenObligation {
    /// Agreement id.
    pub agreement: String,
    /// Term id.
    pub term: String,
    /// The id of the event that opened it.
    pub trigger: String,
    /// Its input file.
    pub file: String,
    /// Its line.
    pub line: u64,
    /// When the obligation falls due, RFC 3339 UTC.
    pub due: String,
}

/// An agreement applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgreementInfo {
    /// Its id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// The rule file.
    pub file: String,
    /// SHA-256 of the rule file.
    pub sha256: String,
    /// Declared parties, code to name.
    pub parties: BTreeMap<String, String>,
    /// Declared non-signatories its terms may charge (`others:`), code to name (report
    /// version 4; absent when none).
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub others: BTreeMap<String, String>,
    /// Its effective period.
    pub effective: Effective,
    /// The files its geography was read from, as named in the rule file, with their SHA-256.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub geography: Vec<InputFile>,
    /// The vocabulary files it includes, as named in the rule file, with their SHA-256.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub vocabulary: Vec<InputFile>,
    /// Its named shapes, as coordinates, so that a saved report can draw its map.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub shapes: Vec<MapShape>,
}

/// A position's nearest named place and nearest line in an agreement's geography.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NearRecord {
    /// The nearest place.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub place: Option<String>,
    /// Its distance, km (0.1).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub place_km: Option<f64>,
    /// When the geography names places but none within this many km: no place is named.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub no_place_within_km: Option<f64>,
    /// The nearest line (a border).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub line: Option<String>,
    /// Its distance, km (0.1).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub line_km: Option<f64>,
}

/// A named shape of an agreement's geography, to draw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapShape {
    /// Its name in the agreement.
    pub name: String,
    /// `line`, `area`, `strip` or `place`.
    pub kind: String,
    /// Its paths of `[lon, lat]`: a line's parts, an area's rings, a strip's line, a place's
    /// one point.
    pub paths: Vec<Vec<[f64; 2]>>,
    /// A strip's width in km.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub width_km: Option<f64>,
    /// The area a strip is cut to (its `inside`), by name: a map draws the strip on that
    /// side of its line only.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub inside: Option<String>,
}

/// A file an agreement depends on, and the SHA-256 of its bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputFile {
    /// The file, as named.
    pub file: String,
    /// SHA-256 of its bytes.
    pub sha256: String,
}

/// An effective period; an absent end is open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Effective {
    /// First instant included.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub from: Option<String>,
    /// First instant excluded.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub until: Option<String>,
}

/// An event input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputInfo {
    /// As named by the user; `-` is standard input.
    pub file: String,
    /// SHA-256 of its bytes.
    pub sha256: String,
    /// Lines read.
    pub lines: u64,
    /// Events judged.
    pub events: u64,
    /// Lines skipped as invalid.
    pub skipped: u64,
    /// Blank lines.
    pub blank: u64,
    /// The mapping that made its events from its records; absent when its records were the
    /// events.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub mapping: Option<MappingInfo>,
    /// What its events showed against the run's vocabulary: kinds it does not declare, values
    /// that contradict their field's declaration, required fields missing. Absent when every
    /// event conformed, or the run had no vocabulary.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub vocabulary: Vec<OffVocabulary>,
}

/// Events of one input that the run's vocabulary does not describe, of one sort.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OffVocabulary {
    /// What was found.
    pub problem: VocabularyProblem,
    /// The kind (`unknown_kind`; for `more_unknown_kinds`, the first of them), or the field.
    pub name: String,
    /// What the vocabulary declares for the field ("an integer"; "one of …"; "required"); absent
    /// for kinds.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub declared: Option<String>,
    /// Events it was found on.
    pub events: u64,
    /// The line of the first.
    pub first_line: u64,
    /// The first value that contradicts the declaration, as a message shows it (`the text "90"`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub first_value: Option<String>,
}

/// What an [`OffVocabulary`] entry counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VocabularyProblem {
    /// Events of a kind the vocabulary does not declare.
    UnknownKind,
    /// Events of other undeclared kinds, past the hundred listed.
    MoreUnknownKinds,
    /// Values not of the field's declared type.
    WrongType,
    /// Values of the type, but not one of the field's declared values.
    WrongValue,
    /// Events without a field they are declared to have.
    Missing,
}

/// A mapping applied to an input: how its events were derived.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MappingInfo {
    /// The mapping's id.
    pub id: String,
    /// The mapping file, as named on the command line.
    pub file: String,
    /// SHA-256 of the mapping file.
    pub sha256: String,
}

/// Options that change the result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Options {
    /// `--skip-invalid`.
    pub skip_invalid: bool,
    /// `--until`, RFC 3339 UTC; absent when not given.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub until: Option<String>,
    /// `--max-delay` of a stream (standard input), in seconds: which events come too late
    /// depends on it. Absent for files.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub max_delay_s: Option<i64>,
    /// The gap, in seconds, after which a term's next violation for the same key and parties
    /// begins a new incident (`incidents`; docs/semantics.md). Absent in reports before
    /// version 3, read as one day.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub incident_gap_s: Option<i64>,
    /// The signal (`SIGINT`, `SIGTERM`) that ended a stream early: the stream was judged as if
    /// it had ended after the last event read. Absent for a run that read its inputs whole.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub interrupted: Option<String>,
}

/// An incident: a term's consecutive violations for one key and the same parties, none more than
/// the report's incident gap after the one before (docs/semantics.md, "Incidents").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentRecord {
    /// Agreement id.
    pub agreement: String,
    /// Term id.
    pub term: String,
    /// Term title.
    pub title: String,
    /// Term severity.
    pub severity: Severity,
    /// Who is in breach, as its violations say (empty: unattributed).
    #[serde(deserialize_with = "charged::deserialize")]
    pub breached_by: Vec<String>,
    /// The key its violations concern (thresholds and absences).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub key: Option<String>,
    /// The time of its first violation.
    pub first: String,
    /// The time of its last violation.
    pub last: String,
    /// How many violations it groups.
    pub violations: u64,
    /// For a threshold: the most events its window held, and when first.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub peak: Option<PeakRecord>,
    /// The evidence of its first violation: what opened it.
    pub evidence: Vec<EvidenceRecord>,
    /// Closed before its gap had passed, because more incidents were open at once than a
    /// report holds (`MAX_OPEN_INCIDENTS`): a later violation of its term, key and parties may
    /// begin another. Absent when not.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub closed_early: bool,
}

/// The peak of a threshold's incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeakRecord {
    /// The most events the window held at one of its violations.
    pub in_window: u64,
    /// The time of the first violation at which it held that many.
    pub time: String,
}

/// A time span.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Span {
    /// Earliest.
    pub first: String,
    /// Latest.
    pub last: String,
}

/// Counts over the whole replay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Events read (those after `--until` included, which no term judged).
    pub events: u64,
    /// With `--until`: the events read after it, judged by no term (absent without `--until`,
    /// and in reports written before this was counted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_until: Option<u64>,
    /// Violations raised.
    pub violations: u64,
    /// One entry per term of every agreement, in file order.
    pub by_term: Vec<TermSummary>,
    /// Violations per party in breach (`unattributed` when unknown). A violation charged to
    /// several parties counts once for each of them (report version 4), so these may add up to
    /// more than `violations`.
    pub by_party: BTreeMap<String, u64>,
    /// Violations charged to more than one party (absent when none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub shared: u64,
    /// Per party that says something of the evidence (its events' `claims`): the violations
    /// whose evidence it alleges and those whose evidence it denies, each violation counted
    /// once per party and stance (absent when no evidence carries claims).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub claims: BTreeMap<String, ClaimCounts>,
    /// Violations per severity, every severity present.
    pub by_severity: BySeverity,
    /// Violations resting on at least one hypothetical event.
    #[serde(default)]
    pub hypothetical: u64,
    /// Violations resting on at least one event whose `verification` is `alleged` (absent
    /// before report version 3).
    #[serde(default)]
    pub alleged: u64,
    /// Violations resting on at least one event whose `verification` is `denied`.
    #[serde(default)]
    pub denied: u64,
}

/// Counts for one term.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TermSummary {
    /// Agreement id.
    pub agreement: String,
    /// Term id.
    pub term: String,
    /// Term title.
    pub title: String,
    /// The clause's own words, when the term gives them (`text:`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub text: Option<String>,
    /// Term severity.
    pub severity: Severity,
    /// Events judged by the term.
    pub evaluated: u64,
    /// Events outside its effective period.
    pub out_of_period: u64,
    /// Violations raised.
    pub violations: u64,
    /// Events on which one of its expressions failed.
    pub errors: u64,
    /// Events not judged because the term had been suspended (see [`Report::suspended`]).
    #[serde(skip_serializing_if = "is_zero", default)]
    pub suspended: u64,
    /// Threshold terms: selected events whose `by` key was `()`, so counted in no window.
    #[serde(skip_serializing_if = "is_zero", default)]
    pub unkeyed: u64,
    /// Terms using geography: events on which a geography function met no `lat`/`lon` and
    /// gave `()`.
    #[serde(skip_serializing_if = "is_zero", default)]
    pub unlocated: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Violations per severity.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct BySeverity {
    /// Critical.
    pub critical: u64,
    /// High.
    pub high: u64,
    /// Medium.
    pub medium: u64,
    /// Low.
    pub low: u64,
}

impl BySeverity {
    /// The count of `severity`.
    pub fn count(&self, severity: Severity) -> u64 {
        match severity {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
        }
    }

    /// Counts one violation of `severity`.
    pub fn add(&mut self, severity: Severity) {
        let count = match severity {
            Severity::Critical => &mut self.critical,
            Severity::High => &mut self.high,
            Severity::Medium => &mut self.medium,
            Severity::Low => &mut self.low,
        };
        *count += 1;
    }
}

/// How serious a breach is, as a report names it: `critical`, `high`, `medium` or `low`.
///
/// The report's own type rather than the agreement's [`agreement::Severity`]: report types
/// are the one serialised contract, and the loader's types stay free of serde. Reading a saved
/// report with any other name fails, naming the field, rather than counting the violation as
/// some severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Least serious.
    Low,
    /// The default.
    Medium,
    /// Serious.
    High,
    /// Most serious.
    Critical,
}

impl Severity {
    /// All severities, most serious first (the order in which reports count them).
    pub const ALL: [Severity; 4] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ];

    /// The lowercase name a report writes.
    pub fn as_str(self) -> &'static str {
        agreement::Severity::from(self).as_str()
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<agreement::Severity> for Severity {
    fn from(severity: agreement::Severity) -> Self {
        match severity {
            agreement::Severity::Low => Severity::Low,
            agreement::Severity::Medium => Severity::Medium,
            agreement::Severity::High => Severity::High,
            agreement::Severity::Critical => Severity::Critical,
        }
    }
}

impl From<Severity> for agreement::Severity {
    fn from(severity: Severity) -> Self {
        match severity {
            Severity::Low => agreement::Severity::Low,
            Severity::Medium => agreement::Severity::Medium,
            Severity::High => agreement::Severity::High,
            Severity::Critical => agreement::Severity::Critical,
        }
    }
}

/// By hand rather than derived, so that an unknown name says which field it is in (serde's
/// own message only lists the variants): `invalid value: string "urgent", expected a
/// `severity`: critical, high, medium or low`.
impl<'de> Deserialize<'de> for Severity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Name;
        impl Visitor<'_> for Name {
            type Value = Severity;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a `severity`: critical, high, medium or low")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Severity, E> {
                agreement::Severity::parse(text)
                    .map(Severity::from)
                    .ok_or_else(|| E::invalid_value(Unexpected::Str(text), &self))
            }
        }
        deserializer.deserialize_str(Name)
    }
}

/// One violation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ViolationRecord {
    /// Agreement id.
    pub agreement: String,
    /// Term id.
    pub term: String,
    /// Clause citation, if the term gives one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub article: Option<String>,
    /// Term title.
    pub title: String,
    /// How serious the breach is.
    pub severity: Severity,
    /// Who is in breach: declared parties or others, in the agreement's order; empty when it
    /// could not be determined (unattributed). Report version 4; before, one code or null,
    /// which is read as a list of one or none.
    #[serde(deserialize_with = "charged::deserialize")]
    pub breached_by: Vec<String>,
    /// When, RFC 3339 UTC.
    pub time: String,
    /// The rendered message.
    pub message: String,
    /// Where, as the evidence reports it; absent when it says nothing.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub location: Option<LocationRecord>,
    /// For a threshold or absence term with `by`, the key concerned (e.g. a sector).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub key: Option<String>,
    /// For a threshold term, how many selected events its window held when the threshold was
    /// reached; the evidence is the `count` latest of them (report version 2).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub in_window: Option<u64>,
    /// The events the violation rests on.
    pub evidence: Vec<EvidenceRecord>,
}

/// Where a violation took place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocationRecord {
    /// Named place.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub place: Option<String>,
    /// Country code.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub country: Option<String>,
    /// Latitude, WGS84.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub lat: Option<f64>,
    /// Longitude, WGS84.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub lon: Option<f64>,
    /// Where it lies in the agreement's geography (absent without a position or geography).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub near: Option<NearRecord>,
}

/// An event cited as evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceRecord {
    /// Event id.
    pub id: String,
    /// Input file.
    pub file: String,
    /// Line in it.
    pub line: u64,
    /// Event time, RFC 3339 UTC.
    pub time: String,
    /// Event kind.
    pub kind: String,
    /// The event's `source`, if any.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub source: Option<String>,
    /// The event is marked `"hypothetical": true` (invented, as in scenarios); absent otherwise.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub hypothetical: bool,
    /// The event's account, those of `summary`, `reliability`, `verification` and
    /// `casualties` it has (docs/inputs.md); absent when it has none.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub account: BTreeMap<String, String>,
    /// What the parties say of the event (its `claims`), in the order it gives them; absent
    /// when it carries none (report version 4).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub claims: Vec<ClaimRecord>,
}

/// What one party says of an event cited as evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimRecord {
    /// Who says it, by code.
    pub party: String,
    /// `alleges` or `denies`.
    pub says: Stance,
    /// Its words.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub statement: Option<String>,
    /// Where it said them.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub source: Option<String>,
}

/// What a party says of an event: the report's own type, as [`Severity`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stance {
    /// It alleges the event.
    Alleges,
    /// It denies it.
    Denies,
}

impl From<crate::event::Stance> for Stance {
    fn from(stance: crate::event::Stance) -> Self {
        match stance {
            crate::event::Stance::Alleges => Stance::Alleges,
            crate::event::Stance::Denies => Stance::Denies,
        }
    }
}

impl Stance {
    /// The word a report writes.
    pub fn as_str(self) -> &'static str {
        match self {
            Stance::Alleges => "alleges",
            Stance::Denies => "denies",
        }
    }
}

/// Violations whose evidence a party alleges, and those whose evidence it denies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ClaimCounts {
    /// Violations resting on at least one event the party alleges.
    pub alleges: u64,
    /// Violations resting on at least one event the party denies.
    pub denies: u64,
}

/// A line skipped as invalid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    /// Input file.
    pub file: String,
    /// Line.
    pub line: u64,
    /// Column, where known.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub column: Option<u64>,
    /// Why.
    pub reason: String,
}

/// Run-time failures of one term's expressions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TermErrors {
    /// Agreement id.
    pub agreement: String,
    /// Term id.
    pub term: String,
    /// Events on which one of its expressions failed.
    pub count: u64,
    /// The first failure.
    pub first: FirstError,
}

/// A term suspended during the replay — for spending more than its budget, or for holding
/// more live state than it may: it judged no event after `event` and decided nothing at the
/// end of the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuspendedTerm {
    /// Agreement id.
    pub agreement: String,
    /// Term id.
    pub term: String,
    /// The last event it judged: id.
    pub event: String,
    /// Its input file.
    pub file: String,
    /// Its line.
    pub line: u64,
    /// Units the term had spent by then (`docs/security.md`).
    pub spent: u64,
    /// Units it was allowed by then.
    pub allowance: u64,
    /// Events read after it, not judged by the term.
    pub not_judged: u64,
    /// Why it was suspended. Reports written before it was added hold only suspensions for
    /// the budget, which is what reads when it is absent.
    #[serde(default)]
    pub reason: SuspensionReason,
    /// Bytes of live state the term held, as pactum counts them (`docs/security.md`): for a
    /// suspension for its live state; absent for its budget.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub state_bytes: Option<u64>,
    /// Bytes of live state all terms held together: for a suspension for theirs.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub all_state_bytes: Option<u64>,
    /// The limit passed, in the same bytes: one term's (`state`) or all terms' (`all_state`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub state_limit_bytes: Option<u64>,
}

/// Why a term was suspended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuspensionReason {
    /// It spent more units than it was allowed by then (`spent`, `allowance`).
    #[default]
    Budget,
    /// Its live state passed the limit of one term (`state_bytes`, `state_limit_bytes`).
    State,
    /// All terms' live state together passed its limit, and this term held the most
    /// (`state_bytes`, `all_state_bytes`, `state_limit_bytes`).
    AllState,
}

/// The first failure of a term's expressions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FirstError {
    /// Event id.
    pub event: String,
    /// Input file.
    pub file: String,
    /// Line.
    pub line: u64,
    /// What went wrong.
    pub message: String,
}

/// `breached_by` as reports of every version write it: a list of codes (version 4), or one
/// code or `null` (versions 1 to 3).
pub(crate) mod charged {
    use std::fmt;

    use serde::Deserializer;
    use serde::de::{self, SeqAccess, Visitor};

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        struct Charged;
        impl<'de> Visitor<'de> for Charged {
            type Value = Vec<String>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of party codes (or, before report version 4, one code or null)")
            }

            fn visit_str<E: de::Error>(self, code: &str) -> Result<Vec<String>, E> {
                Ok(vec![code.to_string()])
            }

            fn visit_unit<E: de::Error>(self) -> Result<Vec<String>, E> {
                Ok(Vec::new())
            }

            fn visit_none<E: de::Error>(self) -> Result<Vec<String>, E> {
                Ok(Vec::new())
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<String>, A::Error> {
                let mut codes = Vec::new();
                while let Some(code) = seq.next_element::<String>()? {
                    codes.push(code);
                }
                Ok(codes)
            }
        }
        d.deserialize_any(Charged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `breached_by` as reports of versions 1 to 3 wrote it (a code, or `null`) reads as the
    /// list version 4 writes.
    #[test]
    fn breached_by_of_every_version_reads_as_a_list() {
        #[derive(Deserialize)]
        struct One {
            #[serde(deserialize_with = "charged::deserialize")]
            breached_by: Vec<String>,
        }
        let read = |json: &str| {
            serde_json::from_str::<One>(json)
                .map(|o| o.breached_by)
                .map_err(|e| e.to_string())
        };
        assert_eq!(read(r#"{"breached_by": "TR"}"#), Ok(vec!["TR".to_string()]));
        assert_eq!(read(r#"{"breached_by": null}"#), Ok(vec![]));
        assert_eq!(
            read(r#"{"breached_by": ["TR", "PKK"]}"#),
            Ok(vec!["TR".to_string(), "PKK".to_string()])
        );
        assert_eq!(read(r#"{"breached_by": []}"#), Ok(vec![]));
        assert!(read(r#"{"breached_by": 5}"#).is_err_and(|e| {
            e.contains("a list of party codes (or, before report version 4, one code or null)")
        }));
    }
}
