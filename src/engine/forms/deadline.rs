//! `deadline: {within | before, require}`: each selected event (the trigger) must be matched
//! by another event that satisfies `require`, after it (`within`) or before it (`before`)
//! (docs/semantics.md, "deadline").
//!
//! `within`: the state is the obligations waiting, in order of their due time; every event,
//! in the term's period or not, first breaks those overdue before it, then meets those it
//! satisfies. What is still waiting when the log ends is broken if due by then, else *open*
//! (reported as such, neither kept nor broken). `before`: the state is the recent events a
//! later trigger may look back to; a trigger with none satisfying `require` is a breach at once.

use std::collections::VecDeque;
use std::rc::Rc;

use chrono::{DateTime, Utc};

use super::{Compiler, Judge, Source};
use super::{FormOutcome, FormSummary};
use crate::engine::sink::{Evidence, Sink};
use crate::engine::stats::Open;
use crate::event::Event;
use crate::load::agreement::{self, DeadlineWindow};

/// A deadline, compiled.
pub(crate) struct Deadline {
    window: DeadlineWindow,
    /// Sees the candidate as `event` and the trigger as `trigger`.
    require: Source,
}

impl Deadline {
    pub(super) fn compile(form: &agreement::Deadline, compiler: &mut dyn Compiler) -> Option<Self> {
        let require = compiler.with_trigger(&form.require, "require")?;
        Some(Deadline {
            window: form.window,
            require: Source::new(require, &form.require),
        })
    }

    pub(super) fn summary(&self) -> FormSummary {
        FormSummary::Deadline {
            window: self.window,
        }
    }

    /// Every selected event is a trigger, and a violation could rest on it.
    pub(super) fn outcome(&self) -> (FormOutcome, bool) {
        (
            FormOutcome::Deadline {
                window: self.window,
            },
            true,
        )
    }

    pub(super) fn state(&self) -> State<'_> {
        State {
            form: self,
            pending: VecDeque::new(),
            recent: VecDeque::new(),
        }
    }
}

/// A deadline term's state over a replay.
pub(crate) struct State<'p> {
    form: &'p Deadline,
    /// `within`: triggers waiting for a matching event, in order of their due time.
    pending: VecDeque<(Rc<Event>, DateTime<Utc>)>,
    /// `before`: the recent events a later trigger may look back to, oldest first.
    recent: VecDeque<Rc<Event>>,
}

impl State<'_> {
    /// For a `within` deadline, on every event: breaks the obligations overdue before it,
    /// then lets it meet the ones it satisfies.
    pub(super) fn before<S: Sink>(
        &mut self,
        cx: &mut impl Judge,
        event: &Rc<Event>,
        sink: &mut S,
    ) -> Result<(), S::Error> {
        if !matches!(self.form.window, DeadlineWindow::Within(_)) {
            return Ok(());
        }
        let now = event.time();
        while self.pending.front().is_some_and(|(_, due)| *due < now) {
            if let Some((trigger, due)) = self.pending.pop_front() {
                broken(cx, &trigger, due, sink)?;
            }
        }
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut failure = None;
        let mut waiting = VecDeque::with_capacity(self.pending.len());
        for (trigger, due) in std::mem::take(&mut self.pending) {
            match cx.require(&self.form.require, event, &trigger) {
                Ok(true) => {}
                Ok(false) => waiting.push_back((trigger, due)),
                Err(first) => {
                    failure.get_or_insert(first);
                    waiting.push_back((trigger, due));
                }
            }
        }
        self.pending = waiting;
        cx.restore_event();
        if let Some(failure) = failure {
            cx.record_error(event, failure);
        }
        Ok(())
    }

    /// A trigger: opens an obligation (`within`), or is a breach unless a recent event meets
    /// it (`before`).
    pub(super) fn fire<S: Sink>(
        &mut self,
        cx: &mut impl Judge,
        event: &Rc<Event>,
        sink: &mut S,
    ) -> Result<(), S::Error> {
        match self.form.window {
            DeadlineWindow::Within(within) => {
                let due = event
                    .time()
                    .checked_add_signed(within)
                    .unwrap_or(DateTime::<Utc>::MAX_UTC);
                self.pending.push_back((event.clone(), due));
                Ok(())
            }
            DeadlineWindow::Before(before) => {
                let start = event.time().checked_sub_signed(before);
                let candidates: Vec<Rc<Event>> = self
                    .recent
                    .iter()
                    .filter(|r| start.is_none_or(|start| r.time() >= start))
                    .cloned()
                    .collect();
                let mut kept = false;
                let mut failure = None;
                for candidate in &candidates {
                    match cx.require(&self.form.require, candidate, event) {
                        Ok(true) => {
                            kept = true;
                            break;
                        }
                        Ok(false) => {}
                        Err(first) => {
                            failure.get_or_insert(first);
                        }
                    }
                }
                cx.restore_event();
                if let Some(failure) = failure {
                    cx.record_error(event, failure);
                }
                if kept {
                    Ok(())
                } else {
                    cx.raise(Some(event), event.time(), None, None, None, sink)
                }
            }
        }
    }

    /// For a `before` deadline, on every event: keeps it for later triggers, and forgets
    /// events too old for any of them.
    pub(super) fn after(&mut self, event: &Rc<Event>) {
        let DeadlineWindow::Before(before) = self.form.window else {
            return;
        };
        self.recent.push_back(event.clone());
        if let Some(start) = event.time().checked_sub_signed(before) {
            while self.recent.front().is_some_and(|r| r.time() < start) {
                self.recent.pop_front();
            }
        }
    }

    /// At the end of the replay (`end`: T1): obligations due by then are broken, the others
    /// open.
    pub(super) fn finish<S: Sink>(
        &mut self,
        cx: &mut impl Judge,
        end: Option<DateTime<Utc>>,
        open: &mut Vec<Open>,
        sink: &mut S,
    ) -> Result<(), S::Error> {
        for (trigger, due) in std::mem::take(&mut self.pending) {
            if end.is_some_and(|end| due <= end) {
                broken(cx, &trigger, due, sink)?;
            } else {
                let (agreement, term) = cx.term();
                open.push(Open {
                    agreement,
                    term,
                    trigger: Evidence::of(&trigger),
                    due,
                });
            }
        }
        Ok(())
    }
}

/// An obligation opened by `trigger` and not met by `due`: a violation dated `due`.
fn broken<S: Sink>(
    cx: &mut impl Judge,
    trigger: &Rc<Event>,
    due: DateTime<Utc>,
    sink: &mut S,
) -> Result<(), S::Error> {
    cx.bind_event(Some(trigger));
    let result = cx.raise(Some(trigger), due, None, None, None, sink);
    cx.restore_event();
    result
}
