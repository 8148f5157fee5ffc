//! A run's violations on their way to the report: counted as they come, put in the report's
//! order, and kept within a memory budget however many there are.
//!
//! The engine decides violations in the order of its events and terms; the report lists them
//! in canonical order (time, agreement, term, evidence ids, evidence places, key). Holding them
//! all until the end made a report's memory grow with the number of violations (about 1.5 KB
//! each: 840 MB for the benchmark's 567,604). [`Collector`] counts each violation as it comes
//! (the summary's figures by party, severity and hypothetical evidence), then takes one of two
//! ways:
//!
//! - **Released as they settle** ([`Collector::releasing`], for a JSON or JSON Lines report
//!   to a file): when events come in exact canonical order the engine says, after each one,
//!   before which instant no violation can still come ([`Sink::settled`]); the violations
//!   dated before it are sorted and written at once. Only the unsettled ones are held — most
//!   are dated at the last event judged.
//! - **Sorted in runs**: the violations are kept in a chunk; past [`Collector::DEFAULT_BUDGET`]
//!   bytes the chunk is sorted and written to an anonymous temporary file as one run (an
//!   external merge sort, `crate::spill`). [`Collected`] hands them out in order as often as a
//!   writer asks (the HTML page walks them several times), merging the runs as it reads them.
//!   Readers' formats that open with counts (text, Markdown, HTML), standard output and streams
//!   take this way; so does a releasing collector when more than the budget stays unsettled
//!   (a stream, whose instants are never settled, or too many violations at one instant),
//!   writing them at the end after those already released, all earlier.
//!
//! Why both: settling writes each violation once and holds nothing, but needs exact order and
//! a report whose counts can come last; the runs bound memory for any order and any format,
//! and cost nothing below the budget, where everything stays in memory. The runs hold each
//! violation in `postcard`, a private layout read back only by the process that wrote it, and
//! merge with ties to the earlier run, so the order is the one a stable sort of all violations
//! gives: byte-identical reports whatever the way or the budget (`tests/golden.rs` runs every
//! shipped scenario both ways, and with a budget of one byte).

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::io;
use std::rc::Rc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{BySeverity, Release, UnknownTerm, ViolationRecord, record, resolve};
use crate::engine::Program;
use crate::engine::sink::{Evidence, Location, Sink, Violation};
use crate::event::{Claim, Origin, Stance};
use crate::spill::{Merge, Runs, Spilled as SpilledRuns};

/// Why a violation could not be collected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CollectError {
    /// It names a term the program does not have.
    #[error(transparent)]
    UnknownTerm(#[from] UnknownTerm),
    /// The temporary file that holds sorted runs could not be written.
    #[error("cannot write violations to a temporary file: {0}")]
    Spill(#[source] io::Error),
    /// The report being written as violations are decided could not be written.
    #[error("cannot write the report: {0}")]
    Write(#[source] io::Error),
    /// A violation dated before an instant the engine had said was settled: a fault of the
    /// engine, reported rather than written out of order.
    #[error("a violation dated {time} came after {settled} was settled")]
    Unsettled {
        /// The violation's time.
        time: DateTime<Utc>,
        /// The instant said to be settled.
        settled: DateTime<Utc>,
    },
}

/// Counts over every violation, whatever their order: the report's summary.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Tally {
    /// Violations.
    pub violations: u64,
    /// Per party in breach (`unattributed` when unknown).
    pub by_party: BTreeMap<String, u64>,
    /// Per severity.
    pub by_severity: BySeverity,
    /// Resting on at least one hypothetical event.
    pub hypothetical: u64,
    /// Resting on at least one event whose verification is `alleged`.
    pub alleged: u64,
    /// Resting on at least one event whose verification is `denied`.
    pub denied: u64,
    /// Charged to more than one party.
    pub shared: u64,
    /// Per party that claims something of the evidence: violations alleged, denied.
    pub claims: BTreeMap<String, super::ClaimCounts>,
}

/// Takes a run's violations (a [`Sink`]); [`Collector::finish`] gives them back in order.
pub struct Collector<'p> {
    program: &'p Program,
    /// Per agreement, per term: the place of `(agreement id, term id)` among all such pairs
    /// in text order (equal pairs, equal places), so that ordering compares two numbers.
    ranks: Vec<Vec<u32>>,
    tally: Tally,
    chunk: Vec<Ranked>,
    chunk_bytes: usize,
    budget: usize,
    spill: Option<Runs>,
    /// When the report is written as violations are decided: where they go.
    live: Option<Live<'p>>,
}

/// A collector's writing of violations as they settle.
struct Live<'p> {
    release: Box<dyn Release + 'p>,
    /// Violations not settled yet (most are dated at the last event judged).
    pending: Vec<Ranked>,
    pending_bytes: usize,
    /// The latest instant said to be settled; every violation before it is written.
    settled: Option<DateTime<Utc>>,
    /// Writing as violations settle: until more than the budget is pending (no instant is
    /// ever settled for a stream, or too many violations share one instant); from then on
    /// they are collected and sorted like any others, and written at the end, after those
    /// already written (all earlier).
    active: bool,
}

/// A violation and the place of its term in the order.
struct Ranked {
    rank: u32,
    violation: Violation,
}

impl<'p> Collector<'p> {
    /// Bytes of violations (estimated) kept in memory before a sorted run is written out.
    pub const DEFAULT_BUDGET: usize = 16 << 20;

    /// A collector for the violations of a run of `program`.
    pub fn new(program: &'p Program) -> Self {
        Self::with_budget(program, Self::DEFAULT_BUDGET)
    }

    /// A collector that keeps about `budget` bytes of violations in memory (tests give it a
    /// tiny one to run every report through the temporary file).
    pub fn with_budget(program: &'p Program, budget: usize) -> Self {
        let agreements = program.agreements();
        let mut pairs: Vec<(&str, &str)> = agreements
            .iter()
            .flat_map(|a| a.terms.iter().map(|t| (a.id.as_str(), t.id.as_str())))
            .collect();
        pairs.sort_unstable();
        pairs.dedup();
        let ranks = agreements
            .iter()
            .map(|a| {
                a.terms
                    .iter()
                    .map(|t| {
                        let place = pairs.partition_point(|p| *p < (a.id.as_str(), t.id.as_str()));
                        u32::try_from(place).unwrap_or(u32::MAX)
                    })
                    .collect()
            })
            .collect();
        Collector {
            program,
            ranks,
            tally: Tally::default(),
            chunk: Vec::new(),
            chunk_bytes: 0,
            budget,
            spill: None,
            live: None,
        }
    }

    /// A collector that writes the violations through `release` as they settle
    /// ([`Sink::settled`]), holding only those not settled yet; [`Collector::finish_released`]
    /// ends it.
    pub fn releasing(program: &'p Program, budget: usize, release: Box<dyn Release + 'p>) -> Self {
        let mut collector = Self::with_budget(program, budget);
        collector.live = Some(Live {
            release,
            pending: Vec::new(),
            pending_bytes: 0,
            settled: None,
            active: true,
        });
        collector
    }

    /// Ends the intake of a collector made by [`Collector::releasing`]: every violation
    /// written, in the report's order; what remains is the report's end.
    pub fn finish_released(mut self) -> Result<Released<'p>, CollectError> {
        let Some(mut live) = self.live.take() else {
            return Err(CollectError::Write(io::Error::other(
                "the collector was not made to release its violations",
            )));
        };
        if live.active {
            sort(&mut live.pending);
            for ranked in live.pending.drain(..) {
                release(self.program, live.release.as_mut(), &ranked)?;
            }
        }
        let collected = self.finish()?;
        {
            use super::ViolationSource;
            for record in collected.records() {
                let record = record.map_err(CollectError::Spill)?;
                live.release
                    .violation(&super::RecordView::of_record(&record))
                    .map_err(CollectError::Write)?;
            }
        }
        Ok(Released {
            tally: collected.tally,
            release: live.release,
        })
    }

    /// The counts so far.
    pub fn tally(&self) -> &Tally {
        &self.tally
    }

    /// Ends the intake: the violations, in the report's order.
    pub fn finish(mut self) -> Result<Collected<'p>, CollectError> {
        sort(&mut self.chunk);
        let spill = match self.spill.take() {
            None => None,
            Some(mut runs) => {
                write_run(&mut runs, &self.chunk).map_err(CollectError::Spill)?;
                self.chunk = Vec::new();
                Some(runs.finish().map_err(CollectError::Spill)?)
            }
        };
        Ok(Collected {
            program: self.program,
            tally: self.tally,
            memory: self.chunk,
            spill,
        })
    }

    /// Keeps a violation to be sorted, writing a sorted run past the budget.
    fn collect(&mut self, ranked: Ranked) -> Result<(), CollectError> {
        self.chunk_bytes += estimate(&ranked.violation);
        self.chunk.push(ranked);
        if self.chunk_bytes > self.budget {
            self.spill_chunk().map_err(CollectError::Spill)?;
        }
        Ok(())
    }

    fn spill_chunk(&mut self) -> io::Result<()> {
        sort(&mut self.chunk);
        let runs = match &mut self.spill {
            Some(runs) => runs,
            None => self.spill.insert(Runs::new()?),
        };
        write_run(runs, &self.chunk)?;
        self.chunk.clear();
        self.chunk_bytes = 0;
        Ok(())
    }
}

impl Sink for Collector<'_> {
    type Error = CollectError;

    fn violation(&mut self, violation: Violation) -> Result<(), CollectError> {
        let agreements = self.program.agreements();
        let (_, term) = resolve(
            agreements,
            "a violation",
            violation.agreement,
            violation.term,
        )?;
        let rank = self
            .ranks
            .get(violation.agreement)
            .and_then(|terms| terms.get(violation.term))
            .copied()
            .unwrap_or(u32::MAX);
        let tally = &mut self.tally;
        tally.violations += 1;
        // A violation charged to several counts once for each of them.
        for party in super::sections::charged_or_unattributed(&violation.breached_by) {
            match tally.by_party.get_mut(party) {
                Some(count) => *count += 1,
                None => {
                    tally.by_party.insert(party.to_string(), 1);
                }
            }
        }
        tally.by_severity.add(term.severity.into());
        if violation
            .evidence
            .iter()
            .any(|e| e.verification() == Some("alleged"))
        {
            tally.alleged += 1;
        }
        if violation
            .evidence
            .iter()
            .any(|e| e.verification() == Some("denied"))
        {
            tally.denied += 1;
        }
        if violation.evidence.iter().any(|e| e.hypothetical) {
            tally.hypothetical += 1;
        }
        if violation.breached_by.len() > 1 {
            tally.shared += 1;
        }
        count_claims(&mut tally.claims, &violation.evidence);
        let ranked = Ranked { rank, violation };
        if let Some(live) = &mut self.live
            && live.active
        {
            if let Some(settled) = live.settled
                && ranked.violation.time < settled
            {
                return Err(CollectError::Unsettled {
                    time: ranked.violation.time,
                    settled,
                });
            }
            live.pending_bytes += estimate(&ranked.violation);
            live.pending.push(ranked);
            if live.pending_bytes > self.budget {
                // Too many unsettled: collected from here on, and written at the end.
                tracing::info!(
                    pending = live.pending.len(),
                    "violations unsettled past the budget: sorted and written at the end"
                );
                live.active = false;
                let pending = std::mem::take(&mut live.pending);
                for ranked in pending {
                    self.collect(ranked)?;
                }
            }
            return Ok(());
        }
        self.collect(ranked)
    }

    fn settled(&mut self, time: DateTime<Utc>) -> Result<(), CollectError> {
        let Some(live) = &mut self.live else {
            return Ok(());
        };
        if !live.active || live.settled.is_some_and(|settled| time <= settled) {
            return Ok(());
        }
        live.settled = Some(time);
        if !live.pending.iter().any(|r| r.violation.time < time) {
            return Ok(());
        }
        sort(&mut live.pending);
        let ready = live.pending.partition_point(|r| r.violation.time < time);
        for ranked in live.pending.drain(..ready) {
            live.pending_bytes = live
                .pending_bytes
                .saturating_sub(estimate(&ranked.violation));
            release(self.program, live.release.as_mut(), &ranked)?;
        }
        Ok(())
    }
}

/// Writes a settled violation through `release`, straight from the engine's violation.
fn release(
    program: &Program,
    release: &mut dyn Release,
    ranked: &Ranked,
) -> Result<(), CollectError> {
    let v = &ranked.violation;
    let (agreement, term) = resolve(program.agreements(), "a violation", v.agreement, v.term)?;
    release
        .violation(&super::RecordView::of(agreement, term, v))
        .map_err(CollectError::Write)
}

/// The report's record of a collected violation.
fn record_of(program: &Program, v: Violation) -> io::Result<ViolationRecord> {
    let (agreement, term) = resolve(program.agreements(), "a violation", v.agreement, v.term)
        .map_err(io::Error::other)?;
    Ok(record(agreement, term, v))
}

/// A run's violations, all written ([`Collector::finish_released`]): the counts, and the
/// report's end to write.
pub struct Released<'p> {
    tally: Tally,
    release: Box<dyn Release + 'p>,
}

impl Released<'_> {
    /// The counts.
    pub fn tally(&self) -> &Tally {
        &self.tally
    }

    /// Writes the rest of `report`, built from this run.
    pub fn end(self, report: &super::Report) -> io::Result<()> {
        self.release.end(report)
    }
}

/// The most parties whose claims a report counts one by one (`summary.claims`).
pub const MAX_CLAIM_PARTIES: usize = 1024;

/// Where the claims of the parties past [`MAX_CLAIM_PARTIES`] are counted: lowercase, so no
/// party's code (uppercase) can be it.
pub const OTHER_CLAIM_PARTIES: &str = "other parties";

/// Counts what each party says of a violation's evidence: once per party and stance, however
/// many of its events say it.
fn count_claims(counts: &mut BTreeMap<String, super::ClaimCounts>, evidence: &[Evidence]) {
    let mut said: Vec<(&str, Stance)> = evidence
        .iter()
        .flat_map(|e| e.claims.iter().map(|c| (c.party.as_str(), c.says)))
        .collect();
    said.sort_unstable();
    said.dedup();
    for (party, says) in said {
        // The parties come from the events, not the agreements: past MAX_CLAIM_PARTIES of them
        // the rest are counted together, so that a log naming a new party on every line cannot
        // grow the count with its length.
        let party = if counts.contains_key(party) || counts.len() < MAX_CLAIM_PARTIES {
            party
        } else {
            OTHER_CLAIM_PARTIES
        };
        let count = match counts.get_mut(party) {
            Some(count) => count,
            None => counts.entry(party.to_string()).or_default(),
        };
        match says {
            Stance::Alleges => count.alleges += 1,
            Stance::Denies => count.denies += 1,
        }
    }
}

/// Roughly the bytes a violation holds in memory.
fn estimate(v: &Violation) -> usize {
    let text = |s: &Option<String>| s.as_ref().map_or(0, String::len);
    std::mem::size_of::<Ranked>()
        + v.message.len()
        + v.breached_by
            .iter()
            .map(|c| c.capacity() + std::mem::size_of::<String>())
            .sum::<usize>()
        + text(&v.key)
        + text(&v.location.place)
        + text(&v.location.country)
        + v.evidence
            .iter()
            .map(|e| {
                std::mem::size_of::<Evidence>()
                    + e.id.len()
                    + e.kind.len()
                    + text(&e.source)
                    + e.claims
                        .iter()
                        .map(|c| {
                            std::mem::size_of::<Claim>()
                                + c.party.len()
                                + text(&c.statement)
                                + text(&c.source)
                        })
                        .sum::<usize>()
            })
            .sum::<usize>()
}

/// The report's order: time, then agreement and term ids, then the evidence's ids, then its
/// files and lines (one id used by two events), then the key. Instants compare as instants:
/// their text does not sort (`…00.250Z` < `…00Z`).
fn canonical(a: &Ranked, b: &Ranked) -> Ordering {
    let (x, y) = (&a.violation, &b.violation);
    (x.time, a.rank)
        .cmp(&(y.time, b.rank))
        .then_with(|| {
            x.evidence
                .iter()
                .map(|e| &e.id)
                .cmp(y.evidence.iter().map(|e| &e.id))
        })
        .then_with(|| {
            x.evidence
                .iter()
                .map(|e| (&*e.origin.file, e.origin.line))
                .cmp(y.evidence.iter().map(|e| (&*e.origin.file, e.origin.line)))
        })
        .then_with(|| x.key.cmp(&y.key))
}

/// Stable: violations equal in every part of the order stay in the order decided.
fn sort(chunk: &mut [Ranked]) {
    chunk.sort_by(canonical);
}

/// A violation as a run holds it.
#[derive(Serialize, Deserialize)]
struct Spilled<'a> {
    agreement: u32,
    term: u32,
    rank: u32,
    time: (i64, u32),
    breached_by: Vec<Cow<'a, str>>,
    message: Cow<'a, str>,
    place: Option<Cow<'a, str>>,
    country: Option<Cow<'a, str>>,
    lat: Option<f64>,
    lon: Option<f64>,
    key: Option<Cow<'a, str>>,
    in_window: Option<u64>,
    evidence: Vec<SpilledEvidence<'a>>,
}

#[derive(Serialize, Deserialize)]
struct SpilledEvidence<'a> {
    id: Cow<'a, str>,
    file: Cow<'a, str>,
    line: u64,
    time: (i64, u32),
    kind: Cow<'a, str>,
    source: Option<Cow<'a, str>>,
    hypothetical: bool,
    account: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    claims: Vec<SpilledClaim<'a>>,
}

#[derive(Serialize, Deserialize)]
struct SpilledClaim<'a> {
    party: Cow<'a, str>,
    says: Stance,
    statement: Option<Cow<'a, str>>,
    source: Option<Cow<'a, str>>,
}

fn instant(time: &DateTime<Utc>) -> (i64, u32) {
    (time.timestamp(), time.timestamp_subsec_nanos())
}

fn text(s: &Option<String>) -> Option<Cow<'_, str>> {
    s.as_deref().map(Cow::Borrowed)
}

/// Writes `chunk`, sorted, as one run, each violation in its postcard encoding.
fn write_run(runs: &mut Runs, chunk: &[Ranked]) -> io::Result<()> {
    runs.write_run(chunk, |Ranked { rank, violation: v }, out| {
        let index = |i: usize| u32::try_from(i).map_err(io::Error::other);
        let record = Spilled {
            agreement: index(v.agreement)?,
            term: index(v.term)?,
            rank: *rank,
            time: instant(&v.time),
            breached_by: v
                .breached_by
                .iter()
                .map(|c| Cow::Borrowed(c.as_str()))
                .collect(),
            message: Cow::Borrowed(&v.message),
            place: text(&v.location.place),
            country: text(&v.location.country),
            lat: v.location.lat,
            lon: v.location.lon,
            key: text(&v.key),
            in_window: v.in_window,
            evidence: v
                .evidence
                .iter()
                .map(|e| SpilledEvidence {
                    id: Cow::Borrowed(&e.id),
                    file: Cow::Borrowed(&e.origin.file),
                    line: e.origin.line,
                    time: instant(&e.time),
                    kind: Cow::Borrowed(&e.kind),
                    source: text(&e.source),
                    hypothetical: e.hypothetical,
                    account: e
                        .account
                        .iter()
                        .map(|(f, t)| (Cow::Borrowed(f.as_str()), Cow::Borrowed(t.as_str())))
                        .collect(),
                    claims: e
                        .claims
                        .iter()
                        .map(|c| SpilledClaim {
                            party: Cow::Borrowed(&c.party),
                            says: c.says,
                            statement: text(&c.statement),
                            source: text(&c.source),
                        })
                        .collect(),
                })
                .collect(),
        };
        let encoded =
            postcard::to_extend(&record, std::mem::take(out)).map_err(io::Error::other)?;
        *out = encoded;
        Ok(())
    })
}

/// Decodes the violations of the runs, one after another; the file name last decoded is
/// shared by the next evidence from the same file.
fn decoder() -> impl FnMut(&[u8]) -> io::Result<Canonical> {
    let mut last: Option<Rc<str>> = None;
    move |bytes| {
        let record: Spilled<'_> = postcard::from_bytes(bytes).map_err(io::Error::other)?;
        let time = |(secs, nanos): (i64, u32)| {
            DateTime::from_timestamp(secs, nanos)
                .ok_or_else(|| io::Error::other("a time out of range in the temporary file"))
        };
        let mut evidence = Vec::with_capacity(record.evidence.len());
        for e in record.evidence {
            let file = match &last {
                Some(file) if **file == *e.file => Rc::clone(file),
                _ => Rc::from(&*e.file),
            };
            last = Some(Rc::clone(&file));
            evidence.push(Evidence {
                id: e.id.into_owned(),
                origin: Origin { file, line: e.line },
                time: time(e.time)?,
                kind: e.kind.into_owned(),
                source: e.source.map(Cow::into_owned),
                hypothetical: e.hypothetical,
                account: e
                    .account
                    .into_iter()
                    .map(|(f, t)| (f.into_owned(), t.into_owned()))
                    .collect(),
                claims: e
                    .claims
                    .into_iter()
                    .map(|c| Claim {
                        party: c.party.into_owned(),
                        says: c.says,
                        statement: c.statement.map(Cow::into_owned),
                        source: c.source.map(Cow::into_owned),
                    })
                    .collect(),
            });
        }
        Ok(Canonical(Ranked {
            rank: record.rank,
            violation: Violation {
                agreement: record.agreement as usize,
                term: record.term as usize,
                time: time(record.time)?,
                breached_by: record
                    .breached_by
                    .into_iter()
                    .map(Cow::into_owned)
                    .collect(),
                message: record.message.into_owned(),
                location: Location {
                    place: record.place.map(Cow::into_owned),
                    country: record.country.map(Cow::into_owned),
                    lat: record.lat,
                    lon: record.lon,
                },
                evidence,
                key: record.key.map(Cow::into_owned),
                in_window: record.in_window,
            },
        }))
    }
}

/// A violation ordered as the report lists it (for the merge of runs, which puts equal ones
/// from the earlier run first).
struct Canonical(Ranked);

impl Ord for Canonical {
    fn cmp(&self, other: &Self) -> Ordering {
        canonical(&self.0, &other.0)
    }
}

impl PartialOrd for Canonical {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Canonical {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Canonical {}

/// A run's violations in the report's order, as often as asked.
pub struct Collected<'p> {
    program: &'p Program,
    tally: Tally,
    /// Everything, when nothing was written out.
    memory: Vec<Ranked>,
    /// Otherwise the sorted runs.
    spill: Option<SpilledRuns>,
}

impl Collected<'_> {
    /// The counts.
    pub fn tally(&self) -> &Tally {
        &self.tally
    }

    /// Every violation's record, in order: for a report held whole in memory (a scenario's
    /// test, a `diff`).
    pub fn to_vec(&self) -> io::Result<Vec<ViolationRecord>> {
        use super::ViolationSource;
        self.records().map(|r| r.map(Cow::into_owned)).collect()
    }
}

impl super::ViolationSource for Collected<'_> {
    fn count(&self) -> u64 {
        self.tally.violations
    }

    fn records(&self) -> Box<dyn Iterator<Item = io::Result<Cow<'_, ViolationRecord>>> + '_> {
        match &self.spill {
            None => {
                Box::new(self.memory.iter().map(|ranked| {
                    record_of(self.program, ranked.violation.clone()).map(Cow::Owned)
                }))
            }
            Some(spilled) => {
                let program = self.program;
                Box::new(Merge::new(spilled, decoder()).map(move |next| {
                    next.and_then(|Canonical(ranked)| record_of(program, ranked.violation))
                        .map(Cow::Owned)
                }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A log whose every event names a new party in its claims counts at most
    /// `MAX_CLAIM_PARTIES` of them one by one, the rest together.
    #[test]
    fn claims_are_counted_for_a_bounded_number_of_parties() {
        let evidence = |party: String| Evidence {
            id: String::new(),
            origin: Origin {
                file: Rc::from("e.jsonl"),
                line: 1,
            },
            time: DateTime::<Utc>::UNIX_EPOCH,
            kind: "x".into(),
            source: None,
            hypothetical: false,
            account: Vec::new(),
            claims: vec![Claim {
                party,
                says: Stance::Alleges,
                statement: None,
                source: None,
            }],
        };
        let mut counts = BTreeMap::new();
        for i in 0..MAX_CLAIM_PARTIES + 10 {
            count_claims(&mut counts, &[evidence(format!("P{i}"))]);
        }
        count_claims(&mut counts, &[evidence("P0".into())]);
        assert_eq!(counts.len(), MAX_CLAIM_PARTIES + 1);
        assert_eq!(counts.get(OTHER_CLAIM_PARTIES).map(|c| c.alleges), Some(10));
        assert_eq!(counts.get("P0").map(|c| c.alleges), Some(2));
    }
}
