//! Reading a saved JSON report as it streams, its violations kept within a memory budget, so
//! that `pactum report` renders a report of any size (a replay of 10,000,000 events writes
//! 4.6 GB) in the memory a replay takes.
//!
//! The report's fields are read as serde would read [`Report`] (any order, unknown fields
//! ignored, a field given twice or a required one missing an error, each with its line and
//! column), except `violations`: each is read on its own and kept in memory until the budget
//! is reached, after which the kept ones are written to an anonymous temporary file
//! (`crate::spill`) as one run. They are in the report's order already, so reading them back
//! is reading the runs one after the other: no sort, no merge. The temporary file holds each
//! violation as compact JSON, the report's own encoding of it (read back only by this process).

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;
use std::io;
use std::rc::Rc;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::{
    AgreementInfo, InputInfo, LateEvent, OpenObligation, Options, Report, Skipped, Span, Summary,
    SuspendedTerm, TermErrors, ViolationRecord, ViolationSource,
};
use crate::spill::{Runs, Spilled};

/// A saved report read: everything but its violations, and its violations.
pub struct Saved {
    /// The report, `violations` left empty: they are in [`Saved::violations`].
    pub report: Report,
    /// Its violations, in the report's order.
    pub violations: SavedViolations,
}

/// The violations of a saved report, in its order.
pub struct SavedViolations {
    /// Those read since the last run was written.
    memory: Vec<ViolationRecord>,
    memory_bytes: usize,
    budget: usize,
    runs: Option<Runs>,
    written: Option<Spilled>,
    count: u64,
}

/// The bytes of a saved report held in memory besides its violations (agreements and their
/// shapes, inputs, counts, skipped lines, …): the bound a whole report had when it was read
/// whole.
const MAX_HELD_BYTES: u64 = 2 << 30;
/// The bytes of one violation of a saved report: a violation is a few hundred bytes; one
/// larger than this is not pactum's.
const MAX_VIOLATION_BYTES: u64 = 64 << 20;
/// The bytes of a whole saved report: its violations past the budget go to a temporary file,
/// so this bounds the disk a report can fill (a replay of 10,000,000 events with a violation on
/// every other one writes about 4.6 GB).
const MAX_REPORT_BYTES: u64 = 64 << 30;

/// Reads a saved report from `reader`, keeping about `budget` bytes of its violations in
/// memory. Whatever the file says, what it takes is bounded: at most 2 GiB of memory besides
/// the violations, 64 MiB for any one violation, 64 GiB in all (an IO error says which was
/// exceeded).
pub fn read_saved<R: io::Read>(reader: R, budget: usize) -> Result<Saved, serde_json::Error> {
    read_within(reader, budget, MAX_HELD_BYTES, MAX_VIOLATION_BYTES)
}

fn read_within<R: io::Read>(
    reader: R,
    budget: usize,
    held: u64,
    per_violation: u64,
) -> Result<Saved, serde_json::Error> {
    let allowance = Allowance::new(held, "a report may hold besides its violations");
    let metered = Metered {
        inner: reader,
        allowance: allowance.clone(),
        total: MAX_REPORT_BYTES,
    };
    let mut deserializer = serde_json::Deserializer::from_reader(io::BufReader::new(metered));
    let mut violations = SavedViolations {
        memory: Vec::new(),
        memory_bytes: 0,
        budget,
        runs: None,
        written: None,
        count: 0,
    };
    let report = ReportSeed {
        violations: &mut violations,
        allowance,
        per_violation,
    }
    .deserialize(&mut deserializer)?;
    deserializer.end()?;
    if let Some(runs) = violations.runs.take() {
        violations.written = Some(runs.finish().map_err(serde_json::Error::io)?);
    }
    Ok(Saved { report, violations })
}

impl Saved {
    /// The report with its violations in `Report::violations` (for reports compared whole,
    /// as `diff` does).
    pub fn into_whole(self) -> io::Result<Report> {
        let mut report = self.report;
        report.violations = self
            .violations
            .records()
            .map(|r| r.map(Cow::into_owned))
            .collect::<io::Result<_>>()?;
        Ok(report)
    }
}

impl SavedViolations {
    fn push(&mut self, record: ViolationRecord) -> io::Result<()> {
        self.count += 1;
        self.memory_bytes += size(&record);
        self.memory.push(record);
        if self.memory_bytes > self.budget {
            let runs = match &mut self.runs {
                Some(runs) => runs,
                None => self.runs.insert(Runs::new()?),
            };
            runs.write_run(self.memory.drain(..), |record, out| {
                serde_json::to_writer(out, &record).map_err(io::Error::other)
            })?;
            self.memory_bytes = 0;
        }
        Ok(())
    }
}

/// Roughly the bytes a record holds in memory.
fn size(record: &ViolationRecord) -> usize {
    std::mem::size_of::<ViolationRecord>()
        + record.message.len()
        + record.title.len()
        + record
            .evidence
            .iter()
            .map(|e| {
                std::mem::size_of_val(e) + e.id.len() + e.file.len() + e.time.len() + e.kind.len()
            })
            .sum::<usize>()
}

impl ViolationSource for SavedViolations {
    fn count(&self) -> u64 {
        self.count
    }

    fn records(&self) -> Box<dyn Iterator<Item = io::Result<Cow<'_, ViolationRecord>>> + '_> {
        let written = self
            .written
            .iter()
            .flat_map(|spilled| spilled.runs())
            .flat_map(|mut run| {
                let mut buffer = Vec::new();
                std::iter::from_fn(move || match run.next_into(&mut buffer) {
                    Ok(true) => Some(
                        serde_json::from_slice::<ViolationRecord>(&buffer)
                            .map(Cow::Owned)
                            .map_err(io::Error::other),
                    ),
                    Ok(false) => None,
                    Err(err) => Some(Err(err)),
                })
            });
        Box::new(written.chain(self.memory.iter().map(|r| Ok(Cow::Borrowed(r)))))
    }
}

/// How many more bytes the reader may give, and what is exceeded when it may give none:
/// shared by the reader and the seeds, which set it for the part being read (read-ahead
/// charges a few KiB of the next part to the one before: nothing at these sizes).
#[derive(Clone)]
struct Allowance(Rc<Cell<Part>>);

/// The part of a report being read: the bytes it may still take, of how many, and what it is.
#[derive(Clone, Copy)]
struct Part {
    left: u64,
    limit: u64,
    what: &'static str,
}

impl Allowance {
    fn new(limit: u64, what: &'static str) -> Self {
        Allowance(Rc::new(Cell::new(Part {
            left: limit,
            limit,
            what,
        })))
    }

    fn set(&self, limit: u64, what: &'static str) {
        self.0.set(Part {
            left: limit,
            limit,
            what,
        });
    }
}

/// A reader that charges every byte it gives to its [`Allowance`], and to the whole report's
/// `total` (an error, not an early end, so that a report too large is said to be, not read as
/// cut short).
struct Metered<R> {
    inner: R,
    allowance: Allowance,
    total: u64,
}

impl<R: io::Read> io::Read for Metered<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.total = self.total.checked_sub(read as u64).ok_or_else(|| {
            io::Error::other(format!(
                "more than the {} GiB a report may have",
                MAX_REPORT_BYTES >> 30
            ))
        })?;
        let mut part = self.allowance.0.get();
        part.left = part.left.checked_sub(read as u64).ok_or_else(|| {
            let limit = match part.limit {
                n if n >= 1 << 30 => format!("{} GiB", n >> 30),
                n if n >= 1 << 20 => format!("{} MiB", n >> 20),
                n => format!("{n} bytes"),
            };
            io::Error::other(format!("more than the {limit} {}", part.what))
        })?;
        self.allowance.0.set(part);
        Ok(read)
    }
}

/// The report's map, its violations diverted into the store.
struct ReportSeed<'s> {
    violations: &'s mut SavedViolations,
    allowance: Allowance,
    per_violation: u64,
}

impl<'de> DeserializeSeed<'de> for ReportSeed<'_> {
    type Value = Report;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Report, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ReportSeed<'_> {
    type Value = Report;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("struct Report")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Report, A::Error> {
        let mut report_version: Option<u32> = None;
        let mut pactum_version: Option<String> = None;
        let mut agreements: Option<Vec<AgreementInfo>> = None;
        let mut violations = false;
        let mut options: Option<Options> = None;
        let mut inputs: Option<Vec<InputInfo>> = None;
        let mut period: Option<Option<Span>> = None;
        let mut summary: Option<Summary> = None;
        let mut skipped: Option<Vec<Skipped>> = None;
        let mut errors: Option<Vec<TermErrors>> = None;
        let mut suspended: Option<Vec<SuspendedTerm>> = None;
        let mut open: Option<Vec<OpenObligation>> = None;
        let mut late: Option<Vec<LateEvent>> = None;
        fn once<'de, A: MapAccess<'de>, T: serde::Deserialize<'de>>(
            map: &mut A,
            slot: &mut Option<T>,
            name: &'static str,
        ) -> Result<(), A::Error> {
            if slot.is_some() {
                return Err(de::Error::duplicate_field(name));
            }
            *slot = Some(map.next_value()?);
            Ok(())
        }
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match &*key {
                "report_version" => once(&mut map, &mut report_version, "report_version")?,
                "pactum_version" => once(&mut map, &mut pactum_version, "pactum_version")?,
                "agreements" => once(&mut map, &mut agreements, "agreements")?,
                "violations" => {
                    if violations {
                        return Err(de::Error::duplicate_field("violations"));
                    }
                    violations = true;
                    // The violations are charged one by one, not to what the report holds.
                    let held = self.allowance.0.get();
                    map.next_value_seed(ViolationsSeed {
                        store: &mut *self.violations,
                        allowance: self.allowance.clone(),
                        per_violation: self.per_violation,
                    })?;
                    self.allowance.0.set(held);
                }
                "options" => once(&mut map, &mut options, "options")?,
                "inputs" => once(&mut map, &mut inputs, "inputs")?,
                "period" => once(&mut map, &mut period, "period")?,
                "summary" => once(&mut map, &mut summary, "summary")?,
                "skipped" => once(&mut map, &mut skipped, "skipped")?,
                "errors" => once(&mut map, &mut errors, "errors")?,
                "suspended" => once(&mut map, &mut suspended, "suspended")?,
                "open" => once(&mut map, &mut open, "open")?,
                "late" => once(&mut map, &mut late, "late")?,
                _ => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        let missing = de::Error::missing_field;
        if !violations {
            return Err(missing("violations"));
        }
        Ok(Report {
            report_version: report_version.ok_or_else(|| missing("report_version"))?,
            pactum_version: pactum_version.ok_or_else(|| missing("pactum_version"))?,
            agreements: agreements.ok_or_else(|| missing("agreements"))?,
            violations: Vec::new(),
            options: options.ok_or_else(|| missing("options"))?,
            inputs: inputs.ok_or_else(|| missing("inputs"))?,
            period: period.flatten(),
            summary: summary.ok_or_else(|| missing("summary"))?,
            skipped: skipped.ok_or_else(|| missing("skipped"))?,
            errors: errors.ok_or_else(|| missing("errors"))?,
            suspended: suspended.unwrap_or_default(),
            open: open.unwrap_or_default(),
            late: late.unwrap_or_default(),
        })
    }
}

/// The violations' array, each into the store.
struct ViolationsSeed<'s> {
    store: &'s mut SavedViolations,
    allowance: Allowance,
    per_violation: u64,
}

impl<'de> DeserializeSeed<'de> for ViolationsSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ViolationsSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        loop {
            self.allowance
                .set(self.per_violation, "one violation of a report may have");
            let Some(record) = seq.next_element::<ViolationRecord>()? else {
                break;
            };
            self.store.push(record).map_err(de::Error::custom)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The violations come back in the report's order whatever the budget: all in memory, all
    /// in runs, or runs then those still in memory; the rest of the report as serde reads it.
    #[test]
    fn violations_read_back_in_order_whatever_the_budget() {
        let violation = |i: usize| {
            format!(
                r#"{{"agreement": "a", "term": "t", "title": "T", "severity": "low", "breached_by": null,
                   "time": "2024-01-01T00:00:{i:02}Z", "message": "m{i}", "evidence": []}}"#
            )
        };
        let violations: Vec<String> = (0..10).map(violation).collect();
        let text = format!(
            r#"{{"report_version": 2, "pactum_version": "0", "agreements": [],
               "violations": [{}], "options": {{"skip_invalid": false}}, "inputs": [],
               "summary": {{"events": 0, "violations": 10, "by_term": [], "by_party": {{}},
                           "by_severity": {{"critical": 0, "high": 0, "medium": 0, "low": 10}}}},
               "skipped": [], "errors": [], "unknown": [1, 2]}}"#,
            violations.join(", ")
        );
        let whole: Report = serde_json::from_str(&text).unwrap();
        let one = size(&whole.violations[0]);
        for budget in [0, one, 3 * one + 1, usize::MAX] {
            let saved = read_saved(text.as_bytes(), budget).unwrap();
            assert_eq!(saved.violations.count(), 10);
            let read = saved.into_whole().unwrap();
            assert_eq!(read, whole, "budget {budget}");
        }
        // A field twice, or one missing, is refused as serde would.
        let twice = text.replacen(r#""inputs": [],"#, r#""inputs": [], "inputs": [],"#, 1);
        let err = read_saved(twice.as_bytes(), 0).err().unwrap();
        assert!(
            err.to_string().starts_with("duplicate field `inputs`"),
            "{err}"
        );
        let without = text.replacen(r#""skipped": [],"#, "", 1);
        let err = read_saved(without.as_bytes(), 0).err().unwrap();
        assert!(
            err.to_string().starts_with("missing field `skipped`"),
            "{err}"
        );
    }

    /// What a hostile report file can make the reader hold is bounded: a violation too large
    /// (a message of 100 KiB against 64 KiB allowed), or too much besides the violations (a
    /// `pactum_version` of 100 KiB), is an IO error naming the limit, and a report within
    /// them reads.
    #[test]
    fn a_report_cannot_make_the_reader_hold_more_than_its_limits() {
        let report = |version: &str, message: &str| {
            format!(
                r#"{{"report_version": 2, "pactum_version": "{version}", "agreements": [],
                   "violations": [{{"agreement": "a", "term": "t", "title": "T",
                     "severity": "low", "breached_by": null, "time": "2024-01-01T00:00:00Z",
                     "message": "{message}", "evidence": []}}],
                   "options": {{"skip_invalid": false}}, "inputs": [],
                   "summary": {{"events": 0, "violations": 1, "by_term": [], "by_party": {{}},
                               "by_severity": {{"critical": 0, "high": 0, "medium": 0, "low": 1}}}},
                   "skipped": [], "errors": []}}"#
            )
        };
        let big = "x".repeat(100 << 10);
        let read = |text: String| read_within(text.as_bytes(), 0, 64 << 10, 64 << 10);
        assert!(read(report("0", "m")).is_ok());
        // serde_json adds where it stopped: " at line L column C".
        let said = |err: serde_json::Error| {
            assert!(err.is_io(), "{err}");
            let text = err.to_string();
            text.split(" at line ")
                .next()
                .unwrap_or_default()
                .to_string()
        };
        assert_eq!(
            said(read(report("0", &big)).err().unwrap()),
            "more than the 65536 bytes one violation of a report may have"
        );
        assert_eq!(
            said(read(report(&big, "m")).err().unwrap()),
            "more than the 65536 bytes a report may hold besides its violations"
        );
    }
}
