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
use std::fmt;
use std::io;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::{
    AgreementInfo, InputInfo, LateEvent, OpenObligation, Options, Report, Skipped, Span, Summary,
    TermErrors, ViolationRecord, ViolationSource,
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

/// Reads a saved report from `reader`, keeping about `budget` bytes of its violations in
/// memory.
pub fn read_saved<R: io::Read>(reader: R, budget: usize) -> Result<Saved, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_reader(io::BufReader::new(reader));
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

/// The report's map, its violations diverted into the store.
struct ReportSeed<'s> {
    violations: &'s mut SavedViolations,
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
                    map.next_value_seed(ViolationsSeed {
                        store: self.violations,
                    })?;
                }
                "options" => once(&mut map, &mut options, "options")?,
                "inputs" => once(&mut map, &mut inputs, "inputs")?,
                "period" => once(&mut map, &mut period, "period")?,
                "summary" => once(&mut map, &mut summary, "summary")?,
                "skipped" => once(&mut map, &mut skipped, "skipped")?,
                "errors" => once(&mut map, &mut errors, "errors")?,
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
            open: open.unwrap_or_default(),
            late: late.unwrap_or_default(),
        })
    }
}

/// The violations' array, each into the store.
struct ViolationsSeed<'s> {
    store: &'s mut SavedViolations,
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
        while let Some(record) = seq.next_element::<ViolationRecord>()? {
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
}
