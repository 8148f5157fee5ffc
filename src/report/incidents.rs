//! Incidents: a term's consecutive violations for one key and the same parties, grouped into the
//! episodes a monitoring mission reports (docs/semantics.md, "Incidents").
//!
//! A violation joins the open incident of its term, key and parties when it comes no more than
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

/// The gap that ends an incident: a day without a violation of its term, key and parties.
pub const INCIDENT_GAP: TimeDelta = TimeDelta::days(1);

/// The most incidents open at once. A log whose every violation has a key of its own (a
/// threshold `by: event.id`, say) opens one per violation within the gap; past this many, the
/// incident whose last violation is oldest is closed before its gap has passed, and says so
/// (`closed_early`), so that memory stays bounded whatever the log.
pub const MAX_OPEN_INCIDENTS: usize = 1 << 16;

/// A violation, as much of it as incidents need.
pub(super) struct Seen<'a> {
    pub agreement: &'a str,
    pub term: &'a str,
    pub title: &'a str,
    pub severity: Severity,
    /// Who is in breach (empty: unattributed).
    pub breached_by: &'a [String],
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
    /// One entry per open incident: a time no later than its last violation's, its seq and
    /// slot. An entry is not moved when its incident's last violation is: when it comes up
    /// with a time older than the incident's last, it is put back at that time. So the heap
    /// holds the open incidents, not their violations.
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
        let charged = seen.breached_by.iter().map(|code| Some(code.as_str()));
        let parts = [Some(seen.agreement), Some(seen.term), seen.key];
        // The parties last, each prefixed by its length too: the same parties in the same
        // (the agreement's) order are the same group, and no party is one with a longer name.
        for part in parts.into_iter().chain(charged) {
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
        let open = match open {
            Some((_, open)) => {
                open.record.violations += 1;
                open.last = seen.time;
                open
            }
            None => {
                let open = Open {
                    seq: self.next_seq,
                    record: IncidentRecord {
                        agreement: seen.agreement.to_string(),
                        term: seen.term.to_string(),
                        title: seen.title.to_string(),
                        severity: seen.severity,
                        breached_by: seen.breached_by.to_vec(),
                        key: seen.key.map(str::to_string),
                        first: format_instant(&seen.time),
                        last: String::new(),
                        violations: 1,
                        peak: None,
                        evidence: evidence(),
                        closed_early: false,
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
                self.due.push(Reverse((open.last, open.seq, slot)));
                if let Some(place) = self.slots.get_mut(slot) {
                    *place = Some(open);
                }
                if self.by_group.len() > MAX_OPEN_INCIDENTS {
                    self.close_oldest(closed);
                }
                let Some(Some(open)) = self.slots.get_mut(slot) else {
                    // Closed at once: it was the oldest (its violation came earliest).
                    return;
                };
                open
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
    }

    /// Closes every incident still open, in order: the report's violations are all read.
    pub(super) fn finish(mut self, closed: &mut dyn FnMut(IncidentRecord)) {
        self.close_before(DateTime::<Utc>::MAX_UTC, closed);
    }

    /// Closes the incidents whose last violation is before `before`, in the order of their
    /// last violations.
    fn close_before(&mut self, before: DateTime<Utc>, closed: &mut dyn FnMut(IncidentRecord)) {
        while self
            .due
            .peek()
            .is_some_and(|Reverse((last, _, _))| *last < before)
        {
            self.close_next(false, closed);
        }
    }

    /// Closes the open incident whose last violation is oldest, before its gap has passed.
    fn close_oldest(&mut self, closed: &mut dyn FnMut(IncidentRecord)) {
        let open = self.by_group.len();
        while self.by_group.len() == open && !self.due.is_empty() {
            self.close_next(true, closed);
        }
    }

    /// Takes the heap's first entry: closes its incident when the entry's time is the
    /// incident's last violation's, else puts it back at that time.
    fn close_next(&mut self, early: bool, closed: &mut dyn FnMut(IncidentRecord)) {
        let Some(Reverse((due, seq, slot))) = self.due.pop() else {
            return;
        };
        let Some(open) = self.slots.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        if open.last > due {
            self.due.push(Reverse((open.last, seq, slot)));
            return;
        }
        if let Some(mut open) = self.slots.get_mut(slot).and_then(Option::take) {
            self.free.push(slot);
            self.by_group.remove(&open.group);
            open.record.last = format_instant(&open.last);
            open.record.closed_early = early;
            closed(open.record);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(key: &str, second: i64) -> Seen<'_> {
        Seen {
            agreement: "a",
            term: "t",
            title: "T",
            severity: Severity::High,
            breached_by: Box::leak(Box::new(["TR".to_string()])),
            key: Some(key),
            time: DateTime::<Utc>::UNIX_EPOCH + TimeDelta::seconds(second),
            in_window: None,
        }
    }

    /// A burst of one incident's violations holds one entry, not one per violation.
    #[test]
    fn an_incident_holds_one_entry_whatever_its_violations() {
        let mut incidents = Incidents::new(INCIDENT_GAP);
        let mut closed = Vec::new();
        for second in 0..100_000 {
            incidents.push(&seen("S1", second), Vec::new, &mut |i| closed.push(i));
        }
        assert_eq!(incidents.due.len(), 1);
        incidents.finish(&mut |i| closed.push(i));
        assert_eq!(closed.len(), 1);
        assert_eq!(closed.first().map(|i| i.violations), Some(100_000));
    }

    /// Past the most open incidents, the oldest is closed early and says so; none is lost.
    #[test]
    fn too_many_open_incidents_close_the_oldest_early() {
        let mut incidents = Incidents::new(INCIDENT_GAP);
        let mut closed = Vec::new();
        let keys: Vec<String> = (0..=MAX_OPEN_INCIDENTS).map(|k| format!("k{k}")).collect();
        for (second, key) in keys.iter().enumerate() {
            incidents.push(&seen(key, second as i64), Vec::new, &mut |i| closed.push(i));
        }
        assert_eq!(incidents.by_group.len(), MAX_OPEN_INCIDENTS);
        assert_eq!(closed.len(), 1);
        assert_eq!(closed.first().and_then(|i| i.key.as_deref()), Some("k0"));
        assert!(closed.first().is_some_and(|i| i.closed_early));
        incidents.finish(&mut |i| closed.push(i));
        assert_eq!(closed.len(), MAX_OPEN_INCIDENTS + 1);
        assert_eq!(closed.iter().filter(|i| i.closed_early).count(), 1);
    }
}
