//! Incidents: a term's consecutive violations for one key and one party, grouped into the
//! episodes a monitoring mission reports (docs/semantics.md, "Incidents").
//!
//! A violation joins the open incident of its term, key and party when it comes no more than
//! the gap after that incident's last violation; otherwise it opens a new one. Violations are
//! read in the report's order — by time — so an incident is closed, and handed on, as soon as
//! a violation comes more than the gap after its last one: memory holds the open incidents
//! only, never the violations or the closed incidents. With one gap for the whole report, the
//! incidents close in the order of their last violations (ties: the order they opened in),
//! which is the order of the report's `incidents`.
//!
//! Why derived, not decided by the engine: an incident is a way of reading violations, not a
//! finding of its own; deriving it from the violations' stream lets a saved report of any
//! version be read as incidents, by the same code that writes them.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use chrono::{DateTime, TimeDelta, Utc};

use super::{EvidenceRecord, IncidentRecord, PeakRecord, Severity};
use crate::time::format_instant;

/// The gap that ends an incident: a day without a violation of its term, key and party.
pub const INCIDENT_GAP: TimeDelta = TimeDelta::days(1);

/// A violation, as much of it as incidents need.
pub(super) struct Seen<'a> {
    pub agreement: &'a str,
    pub term: &'a str,
    pub title: &'a str,
    pub severity: Severity,
    pub breached_by: Option<&'a str>,
    pub key: Option<&'a str>,
    pub time: DateTime<Utc>,
    pub in_window: Option<u64>,
}

/// An incident still open.
struct Open {
    /// Its place in the order incidents opened in (ties of closing are broken by it).
    seq: u64,
    record: IncidentRecord,
    last: DateTime<Utc>,
    /// Its entry in [`Incidents::by_group`].
    group: Box<str>,
}

/// Groups violations into incidents as they are read (see the module's doc).
pub(super) struct Incidents {
    gap: TimeDelta,
    /// Open incidents, in slots reused once closed.
    slots: Vec<Option<Open>>,
    free: Vec<usize>,
    /// Each group's (agreement, term, key, party) open incident, by slot.
    by_group: HashMap<Box<str>, usize>,
    /// Every open incident's last violation time, with its seq and slot; an entry whose
    /// incident has moved on (a later last) or closed is passed over when it comes up.
    due: BinaryHeap<Reverse<(DateTime<Utc>, u64, usize)>>,
    next_seq: u64,
    /// The group of the violation read, made in place for the lookup.
    group: String,
}

impl Incidents {
    pub(super) fn new(gap: TimeDelta) -> Self {
        Incidents {
            gap,
            slots: Vec::new(),
            free: Vec::new(),
            by_group: HashMap::new(),
            due: BinaryHeap::new(),
            next_seq: 0,
            group: String::new(),
        }
    }

    /// Reads the next violation of the report; `evidence` is asked for only when it opens an
    /// incident. Incidents it closes go to `closed`, in order.
    pub(super) fn push(
        &mut self,
        seen: &Seen<'_>,
        evidence: impl FnOnce() -> Vec<EvidenceRecord>,
        closed: &mut dyn FnMut(IncidentRecord),
    ) {
        let before = seen
            .time
            .checked_sub_signed(self.gap)
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        self.close_before(before, closed);
        // Each part prefixed by its length, so that no texts run into another group's; an
        // absent key or party differs from an empty one.
        self.group.clear();
        for part in [
            Some(seen.agreement),
            Some(seen.term),
            seen.key,
            seen.breached_by,
        ] {
            match part {
                Some(part) => {
                    self.group.push_str(itoa::Buffer::new().format(part.len()));
                    self.group.push(':');
                    self.group.push_str(part);
                }
                None => self.group.push('-'),
            }
        }
        let open = self
            .by_group
            .get(self.group.as_str())
            .copied()
            .and_then(|slot| Some(slot).zip(self.slots.get_mut(slot)?.as_mut()));
        let (slot, open) = match open {
            Some((slot, open)) => {
                open.record.violations += 1;
                open.last = seen.time;
                (slot, open)
            }
            None => {
                let open = Open {
                    seq: self.next_seq,
                    record: IncidentRecord {
                        agreement: seen.agreement.to_string(),
                        term: seen.term.to_string(),
                        title: seen.title.to_string(),
                        severity: seen.severity,
                        breached_by: seen.breached_by.map(str::to_string),
                        key: seen.key.map(str::to_string),
                        first: format_instant(&seen.time),
                        last: String::new(),
                        violations: 1,
                        peak: None,
                        evidence: evidence(),
                    },
                    last: seen.time,
                    group: self.group.as_str().into(),
                };
                self.next_seq += 1;
                let slot = match self.free.pop() {
                    Some(slot) => slot,
                    None => {
                        self.slots.push(None);
                        self.slots.len() - 1
                    }
                };
                self.by_group.insert(open.group.clone(), slot);
                let Some(place) = self.slots.get_mut(slot) else {
                    return;
                };
                (slot, place.insert(open))
            }
        };
        if let Some(in_window) = seen.in_window
            && open
                .record
                .peak
                .as_ref()
                .is_none_or(|p| in_window > p.in_window)
        {
            open.record.peak = Some(PeakRecord {
                in_window,
                time: format_instant(&seen.time),
            });
        }
        self.due.push(Reverse((open.last, open.seq, slot)));
    }

    /// Closes every incident still open, in order: the report's violations are all read.
    pub(super) fn finish(mut self, closed: &mut dyn FnMut(IncidentRecord)) {
        self.close_before(DateTime::<Utc>::MAX_UTC, closed);
    }

    /// Closes the incidents whose last violation is before `before`, in the order of their
    /// last violations.
    fn close_before(&mut self, before: DateTime<Utc>, closed: &mut dyn FnMut(IncidentRecord)) {
        while let Some(Reverse((last, seq, slot))) = self.due.peek().copied() {
            if last >= before {
                break;
            }
            self.due.pop();
            let current = self
                .slots
                .get(slot)
                .and_then(Option::as_ref)
                .is_some_and(|open| open.seq == seq && open.last == last);
            if !current {
                continue;
            }
            if let Some(mut open) = self.slots.get_mut(slot).and_then(Option::take) {
                self.free.push(slot);
                self.by_group.remove(&open.group);
                open.record.last = format_instant(&open.last);
                closed(open.record);
            }
        }
    }
}
