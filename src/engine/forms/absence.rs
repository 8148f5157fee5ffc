//! `absence: {within, by, keys}`: selected events must keep coming, with no gap longer than
//! `within` per key (docs/semantics.md, "absence").
//!
//! The clock starts at T0, the later of the log's first event and the term's start; keys
//! listed under `keys` are expected from then, others from their first sighting. The state is,
//! per key, when its current gap began and the event that began it, plus a heap of when each
//! gap ends, so that a gap is reported as soon as time passes its end (on any event), not at
//! the key's next sighting; at the end of the log, gaps longer than `within` are reported too.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::rc::Rc;

use chrono::{DateTime, TimeDelta, Utc};

use super::{Compiler, Evaluate, Judge, Keyed, SharedKey, Source, key_of, live};
use super::{FormOutcome, FormSummary};
use crate::engine::sink::{Evidence, Sink};
use crate::event::Event;
use crate::load::agreement::{self, Period};

/// An absence, compiled.
pub(crate) struct Absence {
    within: TimeDelta,
    by: Option<Source>,
    /// The expected keys, as [`key_of`] writes them, with their text.
    keys: Vec<(String, String)>,
}

impl Absence {
    pub(super) fn compile(form: &agreement::Absence, compiler: &mut dyn Compiler) -> Option<Self> {
        let by = super::compile_by(compiler, form.by.as_ref())?;
        Some(Absence {
            within: form.within,
            by,
            keys: form
                .keys
                .iter()
                .map(|k| {
                    let value = crate::expr::list_value(k);
                    (key_of(&value), value.to_string())
                })
                .collect(),
        })
    }

    pub(super) fn summary(&self) -> FormSummary {
        FormSummary::Absence {
            within: self.within,
            keyed: self.by.is_some(),
        }
    }

    /// Whether a selected event is a sighting of a watched key; a gap it opens could rest on
    /// it when it is.
    pub(super) fn outcome(&self, term: &mut impl Evaluate) -> (FormOutcome, bool) {
        let (key, tagged) = super::explain_key(term, self.by.as_ref());
        let watched = tagged.is_some_and(|tagged| self.watches(&tagged));
        (FormOutcome::Absence { key, watched }, watched)
    }

    /// Whether sightings of `key` (as [`key_of`] writes it) are watched: every key without a
    /// `keys` list, the listed ones with it.
    fn watches(&self, key: &str) -> bool {
        self.keys.is_empty() || self.keys.iter().any(|(expected, _)| expected == key)
    }

    pub(super) fn state(&self, period: Period, memo: bool) -> State<'_> {
        State {
            form: self,
            period,
            key: Keyed::new(self.by.as_ref(), memo),
            start: None,
            last: BTreeMap::new(),
            dues: BinaryHeap::new(),
            held: 0,
        }
    }
}

/// When a key's current gap started, the event that started it (none at T0), the key's text,
/// and whether the gap has been reported already (as soon as time passed its end).
type Since = (DateTime<Utc>, Option<Rc<Event>>, Option<SharedKey>, bool);

/// An absence term's state over a replay. A checkpoint saves the clock, the gaps and their
/// dues (`crate::run::checkpoint`); the rest is the form, and the memo of `by`.
#[derive(serde::Serialize)]
pub(crate) struct State<'p> {
    #[serde(skip)]
    form: &'p Absence,
    #[serde(skip)]
    period: Period,
    #[serde(skip)]
    key: Keyed<'p>,
    /// T0: the later of the log's first event and the term's start; set at the first event.
    start: Option<DateTime<Utc>>,
    /// Per key, its current gap. Ordered, so that gaps found at the end come in key order.
    last: BTreeMap<SharedKey, Since>,
    /// When each key's current gap ends, earliest first. An entry is stale once its key has
    /// moved on (a newer event, or the gap reported); stale entries are skipped when they come
    /// up, so checking costs a heap operation per event, not a scan of every key.
    dues: BinaryHeap<Reverse<(DateTime<Utc>, SharedKey)>>,
    /// The live state of `last` and `dues`, counted as `forms::live` counts it.
    held: u64,
}

/// What [`State`] saves, in its order.
#[derive(serde::Deserialize)]
pub(crate) struct Saved {
    start: Option<DateTime<Utc>>,
    last: BTreeMap<SharedKey, Since>,
    dues: BinaryHeap<Reverse<(DateTime<Utc>, SharedKey)>>,
    held: u64,
}

impl State<'_> {
    pub(super) fn restore(&mut self, saved: Saved) {
        self.start = saved.start;
        self.last = saved.last;
        self.dues = saved.dues;
        self.held = saved.held;
    }

    /// On every event: starts the clock at the first, then reports the gaps whose end the
    /// event's time has passed.
    pub(super) fn before<S: Sink>(
        &mut self,
        cx: &mut impl Judge,
        event: &Event,
        sink: &mut S,
    ) -> Result<(), S::Error> {
        let now = event.time();
        if self.start.is_none() {
            let start = self.period.from.map_or(now, |from| from.max(now));
            self.start = Some(start);
            for (key, label) in &self.form.keys {
                let key = SharedKey::from(key.as_str());
                let since = (start, None, Some(SharedKey::from(label.as_str())), false);
                self.held += gap_held(&key, &since);
                self.last.insert(key.clone(), since);
                self.note_due(&key, start);
            }
        }
        let until = self.period.until;
        while let Some(Reverse((due, _))) = self.dues.peek() {
            if now <= *due {
                break;
            }
            let Some(Reverse((due, key))) = self.dues.pop() else {
                break;
            };
            self.held = self.held.saturating_sub(DUE);
            let Some((since, opened_by, label, reported)) = self.last.get_mut(&key) else {
                continue;
            };
            let current = since.checked_add_signed(self.form.within) == Some(due);
            if !current || *reported || until.is_some_and(|until| due >= until) {
                continue;
            }
            *reported = true;
            let (opened_by, label) = (opened_by.clone(), label.clone());
            gap(cx, opened_by.as_ref(), due, label, sink)?;
        }
        Ok(())
    }

    /// A sighting: ends its key's gap (reporting it if longer than `within`), starts the next.
    pub(super) fn fire<S: Sink>(
        &mut self,
        cx: &mut impl Judge,
        event: &Rc<Event>,
        sink: &mut S,
    ) -> Result<(), S::Error> {
        let Some((key, label)) = self.key.key(cx, event) else {
            return Ok(());
        };
        if !self.form.watches(&key) {
            return Ok(());
        }
        let start = self.start.unwrap_or(event.time());
        // A late event on a stream, older than the key's last sighting, can only make a gap
        // shorter: it is not a new sighting.
        if self
            .last
            .get(&key)
            .is_some_and(|(since, ..)| event.time() < *since)
        {
            return Ok(());
        }
        let (since, opened_by, _, reported) = match self.last.remove(&key) {
            Some(gone) => {
                self.held = self.held.saturating_sub(gap_held(&key, &gone));
                gone
            }
            None => (start, None, label.clone(), false),
        };
        let result = match since.checked_add_signed(self.form.within) {
            Some(end) if event.time() > end && !reported => {
                gap(cx, opened_by.as_ref(), end, label.clone(), sink)
            }
            _ => Ok(()),
        };
        self.note_due(&key, event.time());
        let since = (event.time(), Some(event.clone()), label, false);
        self.held += gap_held(&key, &since);
        self.last.insert(key, since);
        result
    }

    /// At the end of the replay (`end`: T1, the last event or `--until`): the gaps longer than
    /// `within` by then, and not reported yet, in key order.
    /// An absence without `keys:` learns its keys as they are sighted: a key first sighted
    /// late had a gap since the clock started, dated `within` after the start — however long
    /// ago. So the earliest such a term can still date a violation is that instant.
    pub(super) fn earliest(&self) -> Option<DateTime<Utc>> {
        if !self.can_date_back() {
            return None;
        }
        self.start?.checked_add_signed(self.form.within)
    }

    /// Whether it learns its keys (no `keys:`), so that [`State::earliest`] matters.
    pub(super) fn can_date_back(&self) -> bool {
        self.form.keys.is_empty() && self.key.by.is_some()
    }

    pub(super) fn finish<S: Sink>(
        &mut self,
        cx: &mut impl Judge,
        end: Option<DateTime<Utc>>,
        sink: &mut S,
    ) -> Result<(), S::Error> {
        let Some(last) = end else {
            return Ok(());
        };
        let end_of_log = self.period.until.map_or(last, |until| until.min(last));
        self.held = 0;
        for (since, opened_by, label, reported) in std::mem::take(&mut self.last).into_values() {
            if let Some(end) = since.checked_add_signed(self.form.within)
                && end_of_log > end
                && !reported
            {
                gap(cx, opened_by.as_ref(), end, label, sink)?;
            }
        }
        Ok(())
    }

    fn note_due(&mut self, key: &SharedKey, since: DateTime<Utc>) {
        if let Some(due) = since.checked_add_signed(self.form.within) {
            self.dues.push(Reverse((due, key.clone())));
            self.held += DUE;
        }
    }

    /// Its live state, as `forms::live` counts it.
    pub(super) fn held(&self) -> u64 {
        self.held
    }

    #[cfg(test)]
    pub(super) fn recount(&self) -> u64 {
        let gaps: u64 = self
            .last
            .iter()
            .map(|(key, since)| gap_held(key, since))
            .sum();
        gaps + self.dues.len() as u64 * DUE
    }
}

/// What one key's current gap holds: the key, its text for the report, and the event that
/// opened the gap.
fn gap_held(key: &str, (_, opened_by, label, _): &Since) -> u64 {
    // Its entry in `State::last`, and the blocks of the key and its text.
    const KEY: u64 = live::btree_entry::<SharedKey, Since>() + 2 * live::SHARED_TEXT;
    live::key(key, KEY)
        + label.as_ref().map_or(0, |label| label.len() as u64)
        + opened_by.as_ref().map_or(0, |event| live::event(event))
}

/// An entry of `State::dues`. Stale entries stay until their time comes, so they are counted
/// until then.
const DUE: u64 = live::deque_element::<Reverse<(DateTime<Utc>, SharedKey)>>();

/// A gap: a violation dated at its end, resting on the event that opened it, if any (with
/// none, `event` is `()` for `breached_by` and the message).
fn gap<S: Sink>(
    cx: &mut impl Judge,
    opened_by: Option<&Rc<Event>>,
    end: DateTime<Utc>,
    key: Option<SharedKey>,
    sink: &mut S,
) -> Result<(), S::Error> {
    cx.bind_event(opened_by);
    let evidence = Some(opened_by.map(|e| Evidence::of(e)).into_iter().collect());
    let key = key.map(|key| key.to_string());
    let result = cx.raise(opened_by.map(|e| &**e), end, evidence, key, None, sink);
    cx.restore_event();
    result
}
