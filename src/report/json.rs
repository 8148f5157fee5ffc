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
    EvidenceRecord, NearRecord, REPORT_VERSION, Report, Severity, ViolationRecord, ViolationSource,
};
use crate::engine::Program;
use crate::engine::sink::{Evidence, Violation};
use crate::load::agreement::{Agreement, Term};
use crate::time::format_instant;

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
        Box::new(Lines { out })
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
        Box::new(Json::begin(&head, out)?)
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
        Box::new(Lines { out })
    } else {
        Box::new(Json::begin(&report.parts().0, out)?)
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
}

impl<W: Write> Release for Lines<W> {
    fn violation(&mut self, record: &RecordView<'_>) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, record)?;
        self.out.write_all(b"\n")
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
}

/// What a record printed two arrays deep opens and closes with, around the element.
const NESTING_OPEN: &[u8] = b"[\n  [";
const NESTING_CLOSE: &[u8] = b"\n  ]\n]";

impl<W: Write> Json<W> {
    /// Writes the head: `{`, the fields before `violations`, and its key.
    fn begin(head: &Head<'_>, mut out: W) -> io::Result<Self> {
        let text = serde_json::to_vec_pretty(head)?;
        // `{ … \n}` without its closing line: the violations follow.
        let open = text.strip_suffix(b"\n}").ok_or_else(unexpected)?;
        out.write_all(open)?;
        out.write_all(b",\n  \"violations\": ")?;
        Ok(Json {
            out,
            written: 0,
            buffer: Vec::new(),
        })
    }
}

impl<W: Write> Release for Json<W> {
    fn violation(&mut self, record: &RecordView<'_>) -> io::Result<()> {
        self.out
            .write_all(if self.written == 0 { b"[" } else { b"," })?;
        self.written += 1;
        self.buffer.clear();
        // Printed two arrays deep, the record comes out indented as it stands in the
        // report's array: `[\n  [` + `\n    {…\n    }` + `\n  ]\n]`. The middle is the element.
        serde_json::to_writer_pretty(&mut self.buffer, &[[record]])?;
        let element = self
            .buffer
            .get(NESTING_OPEN.len()..self.buffer.len().saturating_sub(NESTING_CLOSE.len()))
            .ok_or_else(unexpected)?;
        self.out.write_all(element)
    }

    fn end(mut self: Box<Self>, report: &Report) -> io::Result<()> {
        self.out
            .write_all(if self.written == 0 { b"[]" } else { b"\n  ]" })?;
        let (_, tail) = report.parts();
        let text = serde_json::to_vec_pretty(&tail)?;
        // `{\n  "options": … }`: its fields follow the violations.
        let fields = text.strip_prefix(b"{").ok_or_else(unexpected)?;
        self.out.write_all(b",")?;
        self.out.write_all(fields)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }
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
    breached_by: Option<&'a str>,
    time: Cow<'a, str>,
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
    time: Cow<'a, str>,
    kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    hypothetical: bool,
}

impl Serialize for EvidenceList<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        match self {
            EvidenceList::Records(records) => {
                let mut seq = serializer.serialize_seq(Some(records.len()))?;
                for e in *records {
                    seq.serialize_element(&EvidenceView {
                        id: &e.id,
                        file: &e.file,
                        line: e.line,
                        time: Cow::Borrowed(&e.time),
                        kind: &e.kind,
                        source: e.source.as_deref(),
                        hypothetical: e.hypothetical,
                    })?;
                }
                seq.end()
            }
            EvidenceList::Engine(evidence) => {
                let mut seq = serializer.serialize_seq(Some(evidence.len()))?;
                for e in *evidence {
                    seq.serialize_element(&EvidenceView {
                        id: &e.id,
                        file: &e.origin.file,
                        line: e.origin.line,
                        time: Cow::Owned(format_instant(&e.time)),
                        kind: &e.kind,
                        source: e.source.as_deref(),
                        hypothetical: e.hypothetical,
                    })?;
                }
                seq.end()
            }
        }
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
            breached_by: breached_by.as_deref(),
            time: Cow::Borrowed(time),
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
            breached_by: v.breached_by.as_deref(),
            time: Cow::Owned(format_instant(&v.time)),
            message: &v.message,
            location,
            key: v.key.as_deref(),
            in_window: v.in_window,
            evidence: EvidenceList::Engine(&v.evidence),
        }
    }
}
