//! `deadline: {within | before, require}`: each selected event (the trigger) must be matched
//! by another event that satisfies `require`, after it (`within`) or before it (`before`)
//! (docs/semantics.md, "deadline").
//!
//! `within`: the state is the obligations waiting, in order of their due time; every event,
//! in the term's period or not, first breaks those overdue before it, then meets those it
//! satisfies. What is still waiting when the log ends is broken if due by then, else *open*
//! (reported as such, neither kept nor broken). `before`: the state is the recent events a
//! later trigger may look back to; a trigger with none satisfying `require` is a breach at once.
//!
//! Both are kept two ways. When the checker found what `require` compares
//! ([`obligations::Settling`]) and the replay is not the plain one, obligations and recent
//! events are filed by those values, so that an event is tried only against what it can settle
//! ([`obligations`]); otherwise every pair is tried, the scan that `--no-memo` keeps as the
//! reference.

use std::collections::VecDeque;
use std::rc::Rc;

use chrono::{DateTime, Utc};

use super::obligations::{self, Obligations, Reach, Recent, Settling, Tried};
use super::{Compiler, Judge, Source};
use super::{FormOutcome, FormSummary};
use crate::engine::native::Values;
use crate::engine::sink::{Evidence, Sink};
use crate::engine::stats::Open;
use crate::event::Event;
use crate::load::agreement::{self, DeadlineWindow};

/// A deadline, compiled.
pub(crate) struct Deadline {
    window: DeadlineWindow,
    /// Sees the candidate as `event` and the trigger as `trigger`.
    require: Source,
    /// What `require` compares, when the checker found it: obligations are filed by it.
    settling: Option<Settling>,
}

impl Deadline {
    /// How many `event.F == trigger.G` pairs its `require` is filed by (1 when it is not
    /// filed): what the scan counts an obligation or a recent event at, as the filed replay
    /// does.
    fn pairs(&self) -> usize {
        self.settling.as_ref().map_or(1, |s| s.pairs.len().max(1))
    }

    pub(super) fn compile(form: &agreement::Deadline, compiler: &mut dyn Compiler) -> Option<Self> {
        let require = compiler.with_trigger(&form.require, "require")?;
        Some(Deadline {
            window: form.window,
            require: Source::new(require, &form.require),
            settling: None,
        })
    }

    /// Files obligations by what the checker found `require` compares.
    pub(crate) fn settle_by(&mut self, settling: Settling) {
        self.settling = Some(settling);
    }

    /// What obligations are filed by, for the tests of [`obligations`].
    #[cfg(test)]
    pub(crate) fn settling(&self) -> Option<&Settling> {
        self.settling.as_ref()
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

    /// A fresh state; `memo` off (the plain replay): the scan, whatever the checker found.
    pub(super) fn state(&self, memo: bool) -> State<'_> {
        let kept = match self.settling.as_ref().filter(|_| memo) {
            Some(settling) => match self.window {
                DeadlineWindow::Within(_) => Kept::Filed(Obligations::new(settling)),
                DeadlineWindow::Before(_) => Kept::Recent(Recent::new(settling)),
            },
            None => Kept::Scan {
                pending: VecDeque::new(),
                recent: VecDeque::new(),
            },
        };
        State {
            form: self,
            kept,
            held: 0,
        }
    }
}

/// What a deadline keeps between events.
#[derive(serde::Serialize)]
enum Kept<'p> {
    /// Every pair tried (the reference).
    Scan {
        /// `within`: triggers waiting for a matching event, in the order they opened.
        pending: VecDeque<(Rc<Event>, DateTime<Utc>)>,
        /// `before`: the recent events a later trigger may look back to, oldest first.
        recent: VecDeque<Rc<Event>>,
    },
    /// `within`: the open obligations, filed.
    Filed(Obligations<'p>),
    /// `before`: the recent events, filed.
    Recent(Recent<'p>),
}

/// A deadline term's state over a replay. A checkpoint saves what it keeps
/// (`crate::run::checkpoint`).
#[derive(serde::Serialize)]
pub(crate) struct State<'p> {
    #[serde(skip)]
    form: &'p Deadline,
    kept: Kept<'p>,
    /// The live state of [`Kept::Scan`], counted as `forms::live` counts it (the filed kinds count
    /// their own).
    held: u64,
}

/// What [`State`] saves, in its order.
#[derive(serde::Deserialize)]
pub(crate) struct Saved {
    kept: SavedKept,
    held: u64,
}

/// What [`Kept`] saves, variant for variant.
#[derive(serde::Deserialize)]
enum SavedKept {
    Scan {
        pending: VecDeque<(Rc<Event>, DateTime<Utc>)>,
        recent: VecDeque<Rc<Event>>,
    },
    Filed(obligations::SavedObligations),
    Recent(obligations::SavedRecent),
}

impl State<'_> {
    /// Restores what was saved; `false` when it was saved by a form of another kind.
    pub(super) fn restore(&mut self, saved: Saved) -> bool {
        self.held = saved.held;
        match (&mut self.kept, saved.kept) {
            (
                Kept::Scan { pending, recent },
                SavedKept::Scan {
                    pending: p,
                    recent: r,
                },
            ) => {
                *pending = p;
                *recent = r;
            }
            (Kept::Filed(open), SavedKept::Filed(saved)) => open.restore(saved),
            (Kept::Recent(kept), SavedKept::Recent(saved)) => kept.restore(saved),
            _ => return false,
        }
        true
    }
}

impl State<'_> {
    /// Its live state, as `forms::live` counts it.
    pub(super) fn held(&self) -> u64 {
        match &self.kept {
            Kept::Scan { .. } => self.held,
            Kept::Filed(open) => open.held(),
            Kept::Recent(recent) => recent.held(),
        }
    }

    #[cfg(test)]
    pub(super) fn recount(&self) -> u64 {
        let pairs = self.form.pairs();
        match &self.kept {
            Kept::Scan { pending, recent } => {
                let pending = pending.iter().map(|(trigger, _)| scanned(trigger, pairs));
                pending.sum::<u64>() + recent.iter().map(|e| scanned_recent(e, pairs)).sum::<u64>()
            }
            Kept::Filed(open) => open.recount(),
            Kept::Recent(recent) => recent.recount(),
        }
    }

    /// For a `within` deadline, on every event (whose fields `values` reads, on the fast
    /// path): breaks the obligations overdue before it, then lets it meet the ones it
    /// satisfies.
    pub(super) fn before<S: Sink>(
        &mut self,
        cx: &mut impl Judge,
        event: &Rc<Event>,
        values: Option<&mut Values<'_, '_, '_>>,
        sink: &mut S,
    ) -> Result<(), S::Error> {
        if !matches!(self.form.window, DeadlineWindow::Within(_)) {
            return Ok(());
        }
        let pairs = self.form.pairs();
        let now = event.time();
        let require = &self.form.require;
        match &mut self.kept {
            Kept::Scan { pending, .. } => {
                while pending.front().is_some_and(|(_, due)| *due < now) {
                    if let Some((trigger, due)) = pending.pop_front() {
                        self.held = self.held.saturating_sub(scanned(&trigger, pairs));
                        broken(cx, &trigger, due, sink)?;
                    }
                }
                if pending.is_empty() {
                    return Ok(());
                }
                let mut failure = None;
                let held = &mut self.held;
                pending.retain(|(trigger, _)| match cx.require(require, event, trigger) {
                    Ok(met) => {
                        if met {
                            *held = held.saturating_sub(scanned(trigger, pairs));
                        }
                        !met
                    }
                    Err(first) => {
                        failure.get_or_insert(first);
                        true
                    }
                });
                cx.restore_event();
                if let Some(failure) = failure {
                    cx.record_error(event, failure);
                }
            }
            Kept::Filed(open) => {
                while let Some((trigger, due)) = open.pop_overdue(now) {
                    broken(cx, &trigger, due, sink)?;
                }
                if open.is_empty() {
                    return Ok(());
                }
                let numbers = match open.reach(event, values) {
                    Reach::Nothing => return Ok(()),
                    Reach::All => open.numbers(),
                    Reach::Listed(numbers) => numbers,
                    Reach::First => {
                        // `require` reads no `trigger`: one answer for every obligation.
                        let numbers = open.numbers();
                        let first = numbers.first().and_then(|n| open.trigger(*n));
                        let answer = first.map(|trigger| cx.require(require, event, &trigger));
                        cx.restore_event();
                        match answer {
                            Some(Ok(true)) => numbers.into_iter().for_each(|n| open.meet(n)),
                            Some(Err(failure)) => cx.record_error(event, failure),
                            Some(Ok(false)) | None => {}
                        }
                        return Ok(());
                    }
                };
                let mut failure = None;
                let mut tried = false;
                for number in numbers {
                    let Some(trigger) = open.trigger(number) else {
                        continue;
                    };
                    tried = true;
                    match cx.require(require, event, &trigger) {
                        Ok(true) => open.meet(number),
                        Ok(false) => {}
                        Err(first) => {
                            failure.get_or_insert(first);
                        }
                    }
                }
                if tried {
                    cx.restore_event();
                }
                if let Some(failure) = failure {
                    cx.record_error(event, failure);
                }
            }
            Kept::Recent(_) => {}
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
        let pairs = self.form.pairs();
        match self.form.window {
            DeadlineWindow::Within(within) => {
                let due = event
                    .time()
                    .checked_add_signed(within)
                    .unwrap_or(DateTime::<Utc>::MAX_UTC);
                match &mut self.kept {
                    Kept::Scan { pending, .. } => {
                        pending.push_back((event.clone(), due));
                        self.held += scanned(event, pairs);
                    }
                    Kept::Filed(open) => open.push(event.clone(), due),
                    Kept::Recent(_) => {}
                }
                Ok(())
            }
            DeadlineWindow::Before(before) => {
                let start = event.time().checked_sub_signed(before);
                let require = &self.form.require;
                let mut kept = false;
                let mut failure = None;
                // Tries one candidate.
                let mut meets = |candidate: &Rc<Event>| match cx.require(require, candidate, event)
                {
                    Ok(true) => {
                        kept = true;
                        Tried::Met
                    }
                    Ok(false) => Tried::NotMet,
                    Err(first) => {
                        failure.get_or_insert(first);
                        Tried::Failed
                    }
                };
                match &mut self.kept {
                    Kept::Scan { recent, .. } => {
                        for candidate in recent
                            .iter()
                            .filter(|r| start.is_none_or(|start| r.time() >= start))
                        {
                            if matches!(meets(candidate), Tried::Met) {
                                break;
                            }
                        }
                    }
                    Kept::Recent(recent) => recent.try_each(event, start, meets),
                    Kept::Filed(_) => {}
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

    /// For a `before` deadline, on every event (whose fields `values` reads, on the fast
    /// path): keeps it for later triggers, and forgets events too old for any of them.
    pub(super) fn after(&mut self, event: &Rc<Event>, values: Option<&mut Values<'_, '_, '_>>) {
        let DeadlineWindow::Before(before) = self.form.window else {
            return;
        };
        let pairs = self.form.pairs();
        let start = event.time().checked_sub_signed(before);
        match &mut self.kept {
            Kept::Scan { recent, .. } => {
                recent.push_back(event.clone());
                self.held += scanned_recent(event, pairs);
                if let Some(start) = start {
                    while recent.front().is_some_and(|r| r.time() < start) {
                        if let Some(gone) = recent.pop_front() {
                            self.held = self.held.saturating_sub(scanned_recent(&gone, pairs));
                        }
                    }
                }
            }
            Kept::Recent(recent) => recent.push(event, values, start),
            Kept::Filed(_) => {}
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
        self.held = 0;
        let pending: Vec<(Rc<Event>, DateTime<Utc>)> = match &mut self.kept {
            Kept::Scan { pending, .. } => std::mem::take(pending).into(),
            Kept::Filed(obligations) => obligations.drain(),
            Kept::Recent(_) => Vec::new(),
        };
        for (trigger, due) in pending {
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

/// What the scan's open obligation holds, counted as the filed one of as many pairs as the
/// term's `require` compares (`Deadline::pairs`), so that `--no-memo` suspends a term where
/// the filed replay does (the scan itself holds less).
fn scanned(trigger: &Event, pairs: usize) -> u64 {
    obligations::obligation_held(pairs) + trigger.footprint()
}

/// What the scan's recent event holds, counted as the filed one (`Deadline::pairs`). The scan keeps
/// every recent event, where the filed replay forgets those its `require` can never accept.
fn scanned_recent(event: &Event, pairs: usize) -> u64 {
    obligations::RECENT_HELD + obligations::recent_filed_held(pairs) + event.footprint()
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
