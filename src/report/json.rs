//! The JSON and JSON Lines renderings, written in three parts — what comes before the
//! violations, each violation, what comes after — so that a replay can write its report as
//! the violations are decided, holding none of them ([`Release`]).
//!
//! The bytes are exactly serde_json's pretty printing of the whole [`Report`] (two spaces an
//! indent): the head and the tail are serialised as objects of their own and joined, each
//! violation is serialised on its own and indented to its place in the array. A saved report
//! written again goes through the same parts ([`write`]), so the two paths cannot differ,
//! and `tests/golden/` pins the bytes.

use std::borrow::Cow;
use std::io::{self, Write};

use serde::Serialize;

use super::model::Head;
use super::{
    ClaimRecord, EvidenceRecord, NearRecord, REPORT_VERSION, Report, Severity, ViolationRecord,
    ViolationSource,
};
use crate::engine::Program;
use crate::engine::sink::{Evidence, Violation};
use crate::load::agreement::{Agreement, Term};
use crate::time::format_instant;

use super::IncidentRecord;
use super::incidents::{INCIDENT_GAP, Incidents, Seen};
use super::jsontext::JsonText;
use crate::time::parse_instant;
use chrono::{DateTime, Utc};

/// Writes a report's violations as they are released, in the report's order, then the rest
/// of the report once it is known.
pub trait Release {
    /// Writes the next violation.
    fn violation(&mut self, record: &RecordView<'_>) -> io::Result<()>;
    /// Writes the rest of `report` (its violations were those released) and flushes.
    fn end(self: Box<Self>, report: &Report) -> io::Result<()>;
}

/// A [`Release`] writing the report of a run of `program` as JSON (`lines`: JSON Lines) to
/// `out`, what comes before the violations written at once. (The other formats open with
/// counts: their violations cannot be written as they settle.)
pub fn release<'w>(
    program: &Program,
    lines: bool,
    out: Box<dyn Write + 'w>,
) -> io::Result<Box<dyn Release + 'w>> {
    // A buffer of a known type: serde's small writes are inlined copies.
    let out = io::BufWriter::with_capacity(64 << 10, out);
    Ok(if lines {
        Box::new(Lines {
            out,
            buffer: Vec::new(),
        })
    } else {
        // As `build` will say them.
        let agreements: Vec<_> = program
            .agreements()
            .iter()
            .map(super::agreement_info)
            .collect();
        let head = Head {
            report_version: REPORT_VERSION,
            pactum_version: env!("CARGO_PKG_VERSION"),
            agreements: &agreements,
        };
        Box::new(Json::begin(&head, out, INCIDENT_GAP)?)
    })
}

/// Writes `report` with `violations` as JSON (`lines`: JSON Lines).
pub(super) fn write(
    report: &Report,
    violations: &dyn ViolationSource,
    lines: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    // serde writes many small pieces (a key, a colon, an indentation): into a buffer of a
    // known type, each is a copy the compiler inlines, not a call through `dyn Write`.
    let out = io::BufWriter::with_capacity(64 << 10, out);
    let mut release: Box<dyn Release> = if lines {
        Box::new(Lines {
            out,
            buffer: Vec::new(),
        })
    } else {
        Box::new(Json::begin(&report.parts().0, out, incident_gap(report))?)
    };
    for violation in violations.records() {
        let violation = violation?;
        release.violation(&RecordView::of_record(&violation))?;
    }
    release.end(report)
}

/// JSON Lines: one violation a line, nothing else.
struct Lines<W: Write> {
    out: W,
    /// Reused for each violation's text.
    buffer: Vec<u8>,
}

impl<W: Write> Release for Lines<W> {
    fn violation(&mut self, record: &RecordView<'_>) -> io::Result<()> {
        self.buffer.clear();
        record.write(&mut JsonText::new(&mut self.buffer, false, 0));
        self.buffer.push(b'\n');
        self.out.write_all(&self.buffer)
    }

    fn end(mut self: Box<Self>, _: &Report) -> io::Result<()> {
        self.out.flush()
    }
}

/// The whole report as one JSON document.
struct Json<W: Write> {
    out: W,
    /// Violations written so far.
    written: u64,
    /// Reused for each violation's own serialisation.
    buffer: Vec<u8>,
    /// The incidents of the violations written, grouped as they come.
    incidents: Incidents,
    /// The closed incidents' text, to follow the violations.
    closed: ClosedIncidents,
}

/// Closed incidents as the report's array elements, in memory up to [`ClosedIncidents::HELD`]
/// bytes and in an anonymous temporary file beyond: a report's memory does not grow with its
/// incidents any more than with its violations.
#[derive(Default)]
struct ClosedIncidents {
    text: Vec<u8>,
    spilled: Option<std::fs::File>,
    count: u64,
    /// The first error met (an incident is closed where no error can be returned).
    failed: Option<io::Error>,
}

impl ClosedIncidents {
    const HELD: usize = 4 << 20;

    fn add(&mut self, incident: &IncidentRecord) {
        self.text
            .extend_from_slice(if self.count == 0 { b"[" } else { b"," });
        self.count += 1;
        let mut text = JsonText::new(&mut self.text, true, 2);
        text.element();
        text.serde(incident);
        if self.text.len() >= Self::HELD && self.failed.is_none() {
            let spilled = match self.spilled.take() {
                Some(file) => Ok(file),
                None => tempfile::tempfile(),
            };
            match spilled.and_then(|mut file| file.write_all(&self.text).map(|()| file)) {
                Ok(file) => self.spilled = Some(file),
                Err(err) => self.failed = Some(err),
            }
            self.text.clear();
        }
    }

    /// Writes `"incidents": [...]` to `out`.
    fn write_to(self, out: &mut dyn Write) -> io::Result<()> {
        use std::io::{Seek, SeekFrom};
        if let Some(err) = self.failed {
            return Err(err);
        }
        out.write_all(b"\n  \"incidents\": ")?;
        if self.count == 0 {
            return out.write_all(b"[]");
        }
        if let Some(mut file) = self.spilled {
            file.seek(SeekFrom::Start(0))?;
            io::copy(&mut file, out)?;
        }
        out.write_all(&self.text)?;
        out.write_all(b"\n  ]")
    }
}

impl<W: Write> Json<W> {
    /// Writes the head: `{`, the fields before `violations`, and its key.
    /// `gap`: the incident gap (`Options::incident_gap_s`).
    fn begin(head: &Head<'_>, mut out: W, gap: chrono::TimeDelta) -> io::Result<Self> {
        let text = serde_json::to_vec_pretty(head)?;
        // `{ … \n}` without its closing line: the violations follow.
        let open = text.strip_suffix(b"\n}").ok_or_else(unexpected)?;
        out.write_all(open)?;
        out.write_all(b",\n  \"violations\": ")?;
        Ok(Json {
            out,
            written: 0,
            buffer: Vec::new(),
            incidents: Incidents::new(gap),
            closed: ClosedIncidents::default(),
        })
    }
}

impl<W: Write> Release for Json<W> {
    fn violation(&mut self, record: &RecordView<'_>) -> io::Result<()> {
        self.out
            .write_all(if self.written == 0 { b"[" } else { b"," })?;
        self.written += 1;
        self.buffer.clear();
        // The element stands in the report's array, two levels deep.
        let mut text = JsonText::new(&mut self.buffer, true, 2);
        text.element();
        record.write(&mut text);
        self.out.write_all(&self.buffer)?;
        let closed = &mut self.closed;
        record.incident(&mut self.incidents, &mut |incident| closed.add(&incident));
        Ok(())
    }

    fn end(mut self: Box<Self>, report: &Report) -> io::Result<()> {
        self.out
            .write_all(if self.written == 0 { b"[]" } else { b"\n  ]" })?;
        let Json {
            mut out,
            incidents,
            mut closed,
            ..
        } = *self;
        incidents.finish(&mut |incident| closed.add(&incident));
        out.write_all(b",")?;
        closed.write_to(&mut out)?;
        let (_, tail) = report.parts();
        let text = serde_json::to_vec_pretty(&tail)?;
        // `{\n  "options": … }`: its fields follow the incidents.
        let fields = text.strip_prefix(b"{").ok_or_else(unexpected)?;
        out.write_all(b",")?;
        out.write_all(fields)?;
        out.write_all(b"\n")?;
        out.flush()
    }
}

/// The incident gap a report was written with: one day before version 3 said it.
pub(super) fn incident_gap(report: &Report) -> chrono::TimeDelta {
    report
        .options
        .incident_gap_s
        .and_then(chrono::TimeDelta::try_seconds)
        .unwrap_or(INCIDENT_GAP)
}

fn unexpected() -> io::Error {
    io::Error::other("serde_json wrote an object that does not start with `{` and end with `}`")
}

/// A violation as the report writes it, borrowed: from a saved report's record, or straight
/// from the engine's violation and its term, so that a report written as violations settle
/// copies no text into a record first (a record is about a dozen allocations). Serialises to
/// exactly the bytes of the [`ViolationRecord`] it stands for: the same fields, names, order
/// and omissions (`tests/golden.rs` compares every shipped scenario's report written both
/// ways, and [`RecordView::of_record`] names every field of the record, so that a field added
/// to it is a compile error here until the view has it).
#[derive(Serialize)]
pub struct RecordView<'a> {
    agreement: &'a str,
    term: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    article: Option<&'a str>,
    title: &'a str,
    severity: Severity,
    breached_by: &'a [String],
    time: TimeView<'a>,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<LocationView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    in_window: Option<u64>,
    evidence: EvidenceList<'a>,
}

#[derive(Serialize)]
struct LocationView<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    place: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    country: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lat: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lon: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    near: Option<Cow<'a, NearRecord>>,
}

/// A time as a report writes it: a saved report's text, or the engine's instant (written
/// without a `String` of its own).
enum TimeView<'a> {
    Text(&'a str),
    Instant(DateTime<Utc>),
}

impl TimeView<'_> {
    fn write(&self, text: &mut JsonText<'_>) {
        match self {
            TimeView::Text(time) => text.text(time),
            TimeView::Instant(time) => text.instant(time),
        }
    }
}

impl Serialize for TimeView<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            TimeView::Text(time) => serializer.serialize_str(time),
            TimeView::Instant(time) => serializer.serialize_str(&format_instant(time)),
        }
    }
}

/// The evidence of a [`RecordView`]: a record's, or the engine's, each serialised as an
/// [`EvidenceRecord`] is.
enum EvidenceList<'a> {
    Records(&'a [EvidenceRecord]),
    Engine(&'a [Evidence]),
}

#[derive(Serialize)]
struct EvidenceView<'a> {
    id: &'a str,
    file: &'a str,
    line: u64,
    time: TimeView<'a>,
    kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    hypothetical: bool,
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "as_map")]
    account: Vec<(&'a str, &'a str)>,
    /// Rare: made for the few events that carry claims.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    claims: Vec<ClaimRecord>,
}

/// An account's (field, text) pairs as the JSON object a report writes.
fn as_map<S: serde::Serializer>(pairs: &[(&str, &str)], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_map(pairs.iter().copied())
}

impl<'a> EvidenceList<'a> {
    /// Each entry as the report writes it, from a record or from the engine's evidence.
    fn views(&self) -> impl Iterator<Item = EvidenceView<'a>> + '_ {
        let (records, engine): (&'a [EvidenceRecord], &'a [Evidence]) = match *self {
            EvidenceList::Records(records) => (records, &[]),
            EvidenceList::Engine(evidence) => (&[], evidence),
        };
        let records = records.iter().map(|e| EvidenceView {
            id: &e.id,
            file: &e.file,
            line: e.line,
            time: TimeView::Text(&e.time),
            kind: &e.kind,
            source: e.source.as_deref(),
            hypothetical: e.hypothetical,
            account: e
                .account
                .iter()
                .map(|(f, t)| (f.as_str(), t.as_str()))
                .collect(),
            claims: e.claims.clone(),
        });
        let engine = engine.iter().map(|e| EvidenceView {
            id: &e.id,
            file: &e.origin.file,
            line: e.origin.line,
            time: TimeView::Instant(e.time),
            kind: &e.kind,
            source: e.source.as_deref(),
            hypothetical: e.hypothetical,
            // Made in the order of the names, as a record's map keeps them.
            account: e
                .account
                .iter()
                .map(|(f, t)| (f.as_str(), t.as_str()))
                .collect(),
            claims: e.claims.iter().cloned().map(super::claim_record).collect(),
        });
        records.chain(engine)
    }
}

impl Serialize for EvidenceList<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.views())
    }
}

impl RecordView<'_> {
    /// Writes the record: the bytes serde_json writes of it (`Serialize`, which the tests
    /// compare with this), without serde's calls per key and piece of punctuation.
    fn write(&self, text: &mut JsonText<'_>) {
        text.open(b'{');
        text.key("agreement");
        text.text(self.agreement);
        text.key("term");
        text.text(self.term);
        if let Some(article) = self.article {
            text.key("article");
            text.text(article);
        }
        text.key("title");
        text.text(self.title);
        text.key("severity");
        text.text(self.severity.as_str());
        text.key("breached_by");
        text.open(b'[');
        for code in self.breached_by {
            text.element();
            text.text(code);
        }
        text.close(b']');
        text.key("time");
        self.time.write(text);
        text.key("message");
        text.text(self.message);
        if let Some(location) = &self.location {
            text.key("location");
            text.open(b'{');
            if let Some(place) = location.place {
                text.key("place");
                text.text(place);
            }
            if let Some(country) = location.country {
                text.key("country");
                text.text(country);
            }
            if let Some(lat) = location.lat {
                text.key("lat");
                text.serde(&lat);
            }
            if let Some(lon) = location.lon {
                text.key("lon");
                text.serde(&lon);
            }
            if let Some(near) = &location.near {
                text.key("near");
                text.serde(near);
            }
            text.close(b'}');
        }
        if let Some(key) = self.key {
            text.key("key");
            text.text(key);
        }
        if let Some(in_window) = self.in_window {
            text.key("in_window");
            text.integer(in_window);
        }
        text.key("evidence");
        text.open(b'[');
        for e in self.evidence.views() {
            text.element();
            e.write(text);
        }
        text.close(b']');
        text.close(b'}');
    }
}

impl RecordView<'_> {
    /// Hands this violation to `incidents` (in a saved report, a violation whose time is not
    /// one is placed at the start of time: its incident says so).
    pub(super) fn incident(
        &self,
        incidents: &mut Incidents,
        closed: &mut dyn FnMut(IncidentRecord),
    ) {
        let time = match &self.time {
            TimeView::Instant(time) => Some(*time),
            TimeView::Text(text) => parse_instant(text).ok().map(|(time, _)| time),
        };
        let evidence = || match &self.evidence {
            EvidenceList::Records(records) => records.to_vec(),
            EvidenceList::Engine(evidence) => evidence
                .iter()
                .cloned()
                .map(super::evidence_record)
                .collect(),
        };
        let seen = Seen {
            agreement: self.agreement,
            term: self.term,
            title: self.title,
            severity: self.severity,
            breached_by: self.breached_by,
            key: self.key,
            time: time.unwrap_or(DateTime::<Utc>::MIN_UTC),
            in_window: self.in_window,
        };
        incidents.push(&seen, evidence, closed);
    }
}

impl EvidenceView<'_> {
    fn write(&self, text: &mut JsonText<'_>) {
        text.open(b'{');
        text.key("id");
        text.text(self.id);
        text.key("file");
        text.text(self.file);
        text.key("line");
        text.integer(self.line);
        text.key("time");
        self.time.write(text);
        text.key("kind");
        text.text(self.kind);
        if let Some(source) = self.source {
            text.key("source");
            text.text(source);
        }
        if self.hypothetical {
            text.key("hypothetical");
            text.serde(&true);
        }
        if !self.account.is_empty() {
            text.key("account");
            text.open(b'{');
            for (field, said) in &self.account {
                text.key(field);
                text.text(said);
            }
            text.close(b'}');
        }
        if !self.claims.is_empty() {
            text.key("claims");
            text.serde(&self.claims);
        }
        text.close(b'}');
    }
}

impl<'a> RecordView<'a> {
    /// A saved report's record.
    pub fn of_record(record: &'a ViolationRecord) -> Self {
        let ViolationRecord {
            agreement,
            term,
            article,
            title,
            severity,
            breached_by,
            time,
            message,
            location,
            key,
            in_window,
            evidence,
        } = record;
        RecordView {
            agreement,
            term,
            article: article.as_deref(),
            title,
            severity: *severity,
            breached_by,
            time: TimeView::Text(time),
            message,
            location: location.as_ref().map(|l| LocationView {
                place: l.place.as_deref(),
                country: l.country.as_deref(),
                lat: l.lat,
                lon: l.lon,
                near: l.near.as_ref().map(Cow::Borrowed),
            }),
            key: key.as_deref(),
            in_window: *in_window,
            evidence: EvidenceList::Records(evidence),
        }
    }

    /// The engine's violation `v` of `term` of `agreement`, as [`super::record`] would make
    /// its record.
    pub(super) fn of(agreement: &'a Agreement, term: &'a Term, v: &'a Violation) -> Self {
        let l = &v.location;
        let location = super::reported(l).then(|| LocationView {
            place: l.place.as_deref(),
            country: l.country.as_deref(),
            lat: l.lat,
            lon: l.lon,
            near: super::near(agreement, l.lat, l.lon).map(Cow::Owned),
        });
        RecordView {
            agreement: &agreement.id,
            term: &term.id,
            article: term.article.as_deref(),
            title: &term.title,
            severity: term.severity.into(),
            breached_by: &v.breached_by,
            time: TimeView::Instant(v.time),
            message: &v.message,
            location,
            key: v.key.as_deref(),
            in_window: v.in_window,
            evidence: EvidenceList::Engine(&v.evidence),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{EvidenceRecord, LocationRecord};

    fn evidence(id: &str, time: &str, source: Option<&str>, hypothetical: bool) -> EvidenceRecord {
        EvidenceRecord {
            id: id.to_string(),
            file: "scenarios/a \"b\"/events.jsonl".to_string(),
            line: 18_446_744_073_709_551_615,
            time: time.to_string(),
            kind: "drone_strike".to_string(),
            source: source.map(str::to_string),
            hypothetical,
            account: if hypothetical {
                [
                    ("summary", "a \"quoted\" summary"),
                    ("verification", "alleged"),
                ]
                .into_iter()
                .map(|(f, t)| (f.to_string(), t.to_string()))
                .collect()
            } else {
                std::collections::BTreeMap::new()
            },
            claims: if hypothetical {
                vec![
                    crate::report::ClaimRecord {
                        party: "IQ".into(),
                        says: crate::report::Stance::Alleges,
                        statement: Some("a \"breach\"\nof sovereignty".into()),
                        source: None,
                    },
                    crate::report::ClaimRecord {
                        party: "TR".into(),
                        says: crate::report::Stance::Denies,
                        statement: None,
                        source: Some("https://example.org/ü".into()),
                    },
                ]
            } else {
                Vec::new()
            },
        }
    }

    /// Records with every optional part present and absent, and texts that need escaping.
    fn records() -> Vec<ViolationRecord> {
        let full = ViolationRecord {
            agreement: "iq-ir-2023".to_string(),
            term: "t\u{1}".to_string(),
            article: Some("Art. 2 \\ §1".to_string()),
            title: "Türkiye's \"strikes\"\n".to_string(),
            severity: Severity::Critical,
            breached_by: vec!["TR".to_string()],
            time: "2023-03-19T12:30:00.120Z".to_string(),
            message: "🙂 tab\there".to_string(),
            location: Some(LocationRecord {
                place: Some("Zap".to_string()),
                country: Some("IQ".to_string()),
                lat: Some(37.06908),
                lon: Some(-0.0),
                near: Some(NearRecord {
                    place: Some("Metina".to_string()),
                    place_km: Some(1.5),
                    no_place_within_km: None,
                    line: Some("iq-tr \"border\"".to_string()),
                    line_km: Some(1e-7),
                }),
            }),
            key: Some("S22".to_string()),
            in_window: Some(0),
            evidence: vec![
                evidence("e1", "2024-01-01T00:00:08Z", Some("https://x/\"y\""), true),
                evidence("", "", None, false),
            ],
        };
        let bare = ViolationRecord {
            article: None,
            breached_by: Vec::new(),
            location: None,
            key: None,
            in_window: None,
            evidence: Vec::new(),
            ..full.clone()
        };
        let located = ViolationRecord {
            location: Some(LocationRecord {
                place: None,
                country: None,
                lat: Some(1e300),
                lon: None,
                near: None,
            }),
            ..bare.clone()
        };
        let nowhere = ViolationRecord {
            location: Some(LocationRecord {
                place: None,
                country: None,
                lat: None,
                lon: None,
                near: None,
            }),
            ..bare.clone()
        };
        vec![full, bare, located, nowhere]
    }

    #[test]
    fn a_record_is_written_as_serde_json_writes_it() {
        for record in records() {
            let view = RecordView::of_record(&record);
            let mut compact = Vec::new();
            view.write(&mut JsonText::new(&mut compact, false, 0));
            assert_eq!(
                String::from_utf8_lossy(&compact),
                serde_json::to_string(&view).unwrap_or_default()
            );
            let mut pretty = Vec::new();
            view.write(&mut JsonText::new(&mut pretty, true, 0));
            assert_eq!(
                String::from_utf8_lossy(&pretty),
                serde_json::to_string_pretty(&view).unwrap_or_default()
            );
            // And as the report's own type serialises: the view stands for it.
            assert_eq!(
                serde_json::to_string(&view).unwrap_or_default(),
                serde_json::to_string(&record).unwrap_or_default()
            );
        }
    }
}
