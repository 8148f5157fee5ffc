//! `threshold: {count, within, by}`: at least `count` selected events with the same key within
//! a sliding window of `within` (docs/semantics.md, "threshold").
//!
//! The state is one window per key: the selected events inside it, oldest first. A violation
//! rests on the events that reach the threshold — the `count` latest of the window — and says
//! how many the window held: what proves the breach, not the whole window, so that a long
//! window does not make every violation repeat it. Keys whose window has emptied are swept now
//! and then, so memory follows the keys still active.

use std::collections::VecDeque;
use std::collections::hash_map::Entry;
use std::rc::Rc;

use chrono::TimeDelta;

use super::{Compiler, Evaluate, Judge, Keyed, SWEEP, SharedKey, Source, live};
use super::{FormOutcome, FormSummary, Key};
use crate::engine::sink::{Evidence, Sink};
use crate::event::Event;
use crate::load::agreement;

/// A threshold, compiled.
pub(crate) struct Threshold {
    count: u64,
    within: TimeDelta,
    by: Option<Source>,
}

impl Threshold {
    pub(super) fn compile(
        form: &agreement::Threshold,
        compiler: &mut dyn Compiler,
    ) -> Option<Self> {
        let by = super::compile_by(compiler, form.by.as_ref())?;
        Some(Threshold {
            count: form.count,
            within: form.within,
            by,
        })
    }

    pub(super) fn summary(&self) -> FormSummary {
        FormSummary::Threshold {
            count: self.count,
            within: self.within,
            keyed: self.by.is_some(),
        }
    }

    /// A selected event counts in the window of its key; a violation could rest on it when it
    /// has a key.
    pub(super) fn outcome(&self, term: &mut impl Evaluate) -> (FormOutcome, bool) {
        let (key, _) = super::explain_key(term, self.by.as_ref());
        let carries = matches!(key, Key::Single | Key::Value(_));
        (FormOutcome::Threshold { key }, carries)
    }

    pub(super) fn state(&self, memo: bool) -> State<'_> {
        State {
            form: self,
            key: Keyed::new(self.by.as_ref(), memo),
            windows: Windows::default(),
        }
    }
}

/// A threshold term's state over a replay. A checkpoint saves the windows
/// (`crate::run::checkpoint`); the rest is the form, and the memo of `by` (rebuilt as it goes).
#[derive(serde::Serialize)]
pub(crate) struct State<'p> {
    #[serde(skip)]
    form: &'p Threshold,
    #[serde(skip)]
    key: Keyed<'p>,
    windows: Windows,
}

/// What [`State`] saves.
#[derive(serde::Deserialize)]
pub(crate) struct Saved {
    windows: Windows,
}

impl State<'_> {
    pub(super) fn restore(&mut self, saved: Saved) {
        self.windows = saved.windows;
    }
}

impl State<'_> {
    /// Its live state, as `forms::live` counts it.
    pub(super) fn held(&self) -> u64 {
        self.windows.held
    }

    #[cfg(test)]
    pub(super) fn recount(&self) -> u64 {
        let windows = self.windows.open.iter();
        windows
            .map(|(key, window)| {
                live::key(key, KEY_HELD) + window.iter().map(|e| live::event(e)).sum::<u64>()
            })
            .sum()
    }

    pub(super) fn fire<S: Sink>(
        &mut self,
        cx: &mut impl Judge,
        event: &Rc<Event>,
        sink: &mut S,
    ) -> Result<(), S::Error> {
        let Some((key, label)) = self.key.key(cx, event) else {
            return Ok(());
        };
        match self
            .windows
            .push(key, event, self.form.within, self.form.count)
        {
            Some((evidence, in_window)) => cx.raise(
                Some(event),
                event.time(),
                Some(evidence),
                label.map(|label| label.to_string()),
                Some(in_window),
                sink,
            ),
            None => Ok(()),
        }
    }
}

/// What a key's window holds besides its events (`forms::live`): its entry in `Windows::open`, the
/// key's block, and the window's smallest buffer.
const KEY_HELD: u64 = live::table_entry::<SharedKey, VecDeque<Rc<Event>>>()
    + live::SHARED_TEXT
    + live::smallest_deque::<Rc<Event>>();

/// The open windows of one threshold term: per key, the selected events inside the window,
/// oldest first.
#[derive(Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct Windows {
    open: rustc_hash::FxHashMap<SharedKey, VecDeque<Rc<Event>>>,
    /// Events pushed since the last sweep of keys whose windows have emptied.
    since_sweep: u64,
    /// The live state of `open`, counted as `forms::live` counts it.
    held: u64,
}

impl Windows {
    /// Adds a selected event (events come in canonical order); when the window holds at least
    /// `count` events, returns the `count` latest (oldest first) and how many it holds.
    fn push(
        &mut self,
        key: SharedKey,
        event: &Rc<Event>,
        within: TimeDelta,
        count: u64,
    ) -> Option<(Vec<Evidence>, u64)> {
        let now = event.time();
        // The window is (now - within, now]: an event exactly `within` before is outside.
        let start = now.checked_sub_signed(within);
        let window = match self.open.entry(key) {
            Entry::Occupied(window) => window.into_mut(),
            Entry::Vacant(vacant) => {
                self.held += live::key(vacant.key(), KEY_HELD);
                vacant.insert(VecDeque::new())
            }
        };
        while window
            .front()
            .is_some_and(|e| start.is_some_and(|start| e.time() <= start))
        {
            if let Some(gone) = window.pop_front() {
                self.held = self.held.saturating_sub(live::event(&gone));
            }
        }
        // In time order: a late event on a stream goes where its time puts it, so that the
        // window still expires from its front.
        let at = window.partition_point(|e| e.time() <= now);
        window.insert(at, event.clone());
        self.held += live::event(event);
        let in_window = window
            .iter()
            .take(at + 1)
            .filter(|e| start.is_none_or(|s| e.time() > s));
        // In order (the usual case) the event goes last, and every event left is in its window.
        let total = if at + 1 == window.len() {
            window.len()
        } else {
            in_window.clone().count()
        };
        let full = (total as u64 >= count).then(|| {
            let reach = usize::try_from(count).unwrap_or(usize::MAX);
            let evidence = if at + 1 == window.len() {
                // In order, the window's last `count` events, read from there: the cost is
                // the evidence's, not the window's (a long window made it quadratic).
                window
                    .range(window.len().saturating_sub(reach)..)
                    .map(|e| Evidence::of(e))
                    .collect()
            } else {
                in_window
                    .skip(total.saturating_sub(reach))
                    .map(|e| Evidence::of(e))
                    .collect()
            };
            (evidence, total as u64)
        });
        self.since_sweep += 1;
        if self.since_sweep >= SWEEP {
            self.since_sweep = 0;
            let held = &mut self.held;
            self.open.retain(|key, window| {
                let open = window
                    .back()
                    .is_some_and(|e| start.is_none_or(|start| e.time() > start));
                if !open {
                    let events: u64 = window.iter().map(|e| live::event(e)).sum();
                    *held = held.saturating_sub(live::key(key, KEY_HELD) + events);
                }
                open
            });
        }
        full
    }
}
