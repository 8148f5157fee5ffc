//! Judging events: the engine proper.
//!
//! A [`Replay`] takes events one at a time, runs every term whose period covers the event, and
//! pushes each breach into a [`Sink`]. It keeps no events: memory stays flat however long the
//! log. A term whose expression fails on an event (a missing field compared with a number, the
//! operation budget exhausted, …) simply does not fire for that event; the failure is counted
//! for the term, with the first failing event and message, and the replay goes on. One broken
//! term must not hide the breaches of the others.
//!
//! A term that costs more than a term may is suspended: it judges no later event, lets go of
//! its state and decides nothing at the end, and the report says after which event and why.
//! Two things are limited: the units it spends (`Judging::charge`), and the live state its
//! form holds — the windows, gaps, chains and obligations a rule can make grow with the log
//! (`Judging::weigh`, and `Replay::limit_all` for all terms together). Both are counted, not
//! measured, so the same inputs suspend the same term after the same event on every run.

use std::rc::Rc;

use chrono::{DateTime, Utc};
use rhai::{Dynamic, Scope};

use crate::engine::forms::{FormState, SavedForm};
use crate::engine::index::{Index, Periods, members};
use crate::engine::memo::Memo;
use crate::engine::native::Reader;
use crate::engine::program::{Plan, Program};
use crate::engine::sink::Sink;
pub use crate::engine::stats::{Open, Suspension, SuspensionReason, TermError, TermStats};

use crate::engine::term::{Extras, TermState};
use crate::event::{Event, EventHandle};
use crate::expr::cost;

/// Replays events against a compiled [`Program`].
pub struct Replay<'p> {
    program: &'p Program,
    /// One scope per agreement: `event` plus that agreement's lists.
    scopes: Vec<Scope<'static>>,
    /// Per term, in program order.
    terms: Vec<Judging<'p>>,
    /// Evaluate every condition whole, without memo, every term on every event
    /// ([`Replay::forget_outcomes`]).
    plain: bool,
    /// Which terms each event concerns.
    index: Index,
    /// What is counted per period rather than per term.
    periods: Periods,
    /// Reads the fields the native tests and the index read.
    reader: Reader<'p>,
    /// The terms to visit for the event being judged, as bits.
    visit: Vec<u64>,
    /// `--until`.
    until: Option<DateTime<Utc>>,
    events: u64,
    first: Option<DateTime<Utc>>,
    last: Option<DateTime<Utc>>,
    /// The time of the last event the terms judged (not one after `--until`).
    judged: Option<DateTime<Utc>>,
    /// Events read after `--until`, judged by no term.
    after_until: u64,
    /// The terms whose form can date a violation before the event that decides it, by more
    /// than the events in between (see [`Replay::settled`]).
    dating_back: Vec<usize>,
    /// The live state of all terms together, in bytes as `forms::live` counts them: the sum
    /// of their [`Judging::held`].
    held: u64,
    /// The most live state one term may hold, and all terms together (0: no limit).
    state_limits: (u64, u64),
}

/// The live state one term may hold, in bytes as the engine counts them, before it is
/// suspended (docs/security.md, "Live state").
pub const MAX_TERM_STATE: u64 = 160 << 20;

/// The live state all terms of a replay may hold together: past it, the term holding the most
/// is suspended (docs/security.md, "Live state").
pub const MAX_STATE: u64 = 192 << 20;

/// What a replay keeps for one term.
struct Judging<'p> {
    stats: TermStats,
    /// One memo per evaluated part (see [`Plan`]).
    memos: Vec<Memo>,
    /// Memos for `breached_by` and message placeholders.
    extras: Extras,
    /// What its form keeps between events.
    form: FormState<'p>,
    /// Units spent judging events (`expr::cost`), against the term's budget.
    spent: u64,
    /// Once suspended: events read and events in the term's period up to the suspension.
    suspended_after: Option<(u64, u64)>,
    /// Its form's live state after its last visit (`FormState::held`).
    held: u64,
}

/// The totals of a finished replay.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ReplayTotals {
    /// Events judged.
    pub events: u64,
    /// Earliest event time seen.
    pub first: Option<DateTime<Utc>>,
    /// Latest event time seen.
    pub last: Option<DateTime<Utc>>,
    /// Per term, in program order.
    pub terms: Vec<TermStats>,
    /// Obligations neither kept nor broken at the end, in term order then due time.
    pub open: Vec<Open>,
    /// Events read after `--until`, judged by no term (counted in `events`).
    pub after_until: u64,
}

impl<'p> Replay<'p> {
    /// Starts a replay.
    pub fn new(program: &'p Program) -> Self {
        let scopes = program
            .agreements
            .iter()
            .map(|agreement| {
                let mut scope = crate::expr::scope_for(agreement, true);
                // A keyed term's violation key, for its `breached_by` and message.
                scope.push("key", ());
                scope
            })
            .collect();
        let terms = program
            .terms
            .iter()
            .map(|t| Judging {
                stats: TermStats {
                    agreement: t.agreement,
                    term: t.term,
                    ..TermStats::default()
                },
                memos: match &t.plan {
                    Plan::Whole(reads) => vec![Memo::new(reads.clone())],
                    Plan::Chain { operands, .. } => operands
                        .iter()
                        .map(|(_, reads)| Memo::new(reads.clone()))
                        .collect(),
                },
                extras: Extras::new(t, true),
                form: t.form.state(t.period, true),
                spent: 0,
                suspended_after: None,
                held: 0,
            })
            .collect::<Vec<_>>();
        let dating_back = (0..terms.len())
            .filter(|&i| terms.get(i).is_some_and(|t| t.form.can_date_back()))
            .collect();
        Replay {
            program,
            scopes,
            terms,
            plain: false,
            index: Index::new(program),
            periods: Periods::new(program),
            reader: Reader::new(&program.fields, program.max_text),
            visit: Vec::new(),
            until: None,
            events: 0,
            first: None,
            last: None,
            judged: None,
            after_until: 0,
            dating_back,
            held: 0,
            state_limits: (MAX_TERM_STATE, MAX_STATE),
        }
    }

    /// Sets the live state one term may hold and all terms together, in bytes as the engine
    /// counts them (0: no limit); by default [`MAX_TERM_STATE`] and [`MAX_STATE`].
    pub fn limit_state(&mut self, term: u64, all: u64) {
        self.state_limits = (term, all);
    }

    /// Ends the replay at `until`: later events are judged by no term, and `until` is T1 for
    /// absences and deadlines instead of the last event.
    pub fn until(&mut self, until: Option<DateTime<Utc>>) {
        self.until = until;
    }

    /// Evaluates every condition in full on every event, remembering nothing.
    ///
    /// The memo never changes a result; this exists so that tests can show it.
    ///
    /// Chains are evaluated whole too, and every term is judged on every event, with neither
    /// the index nor the native tests: this is the plain interpreter's result, the reference
    /// the fast paths must reproduce.
    pub fn forget_outcomes(&mut self) {
        // Counts kept per period so far become the terms' own, which the plain path keeps.
        self.settle_counts();
        self.plain = true;
        for (term, judging) in self.program.terms.iter().zip(&mut self.terms) {
            judging.extras = Extras::new(term, false);
            judging.form = term.form.state(term.period, false);
            judging.held = 0;
        }
        self.held = 0;
    }

    /// Judges one event under every term and pushes each breach into `sink`.
    pub fn judge<S: Sink>(
        &mut self,
        event: impl Into<Rc<Event>>,
        sink: &mut S,
    ) -> Result<(), S::Error> {
        let event: Rc<Event> = event.into();
        let time = event.time();
        self.events += 1;
        self.first = Some(self.first.map_or(time, |t| t.min(time)));
        self.last = Some(self.last.map_or(time, |t| t.max(time)));
        if self.until.is_some_and(|until| time > until) {
            // After the end of the replay: read and counted, judged by no term (out of every
            // term's period: the fast path counts it so at the end).
            self.after_until += 1;
            if self.plain {
                for judging in &mut self.terms {
                    if judging.suspended_after.is_some() {
                        judging.stats.suspended += 1;
                    } else {
                        judging.stats.out_of_period += 1;
                    }
                }
            }
            return Ok(());
        }
        self.judged = Some(time);
        let handle = Dynamic::from(EventHandle(event.clone()));
        for scope in &mut self.scopes {
            scope.set_value("event", handle.clone());
        }
        if self.plain {
            self.judge_by_every_term(&event, &handle, sink)?;
        } else {
            self.judge_by_index(&event, &handle, sink)?;
        }
        self.limit_all(&event);
        Ok(())
    }

    /// Once all terms' live state passes its limit, after an event every term has judged:
    /// suspends the term holding the most (the first in program order among equals), until
    /// what the others hold is within the limit.
    fn limit_all(&mut self, event: &Event) {
        let (_, limit) = self.state_limits;
        while limit != 0 && self.held > limit {
            let largest = self
                .terms
                .iter()
                .enumerate()
                .filter(|(_, t)| t.suspended_after.is_none())
                .fold(None, |largest, (at, t)| match largest {
                    Some((_, most)) if most >= t.held => largest,
                    _ => Some((at, t.held)),
                });
            let (Some((at, held)), Some(judging)) =
                (largest, largest.and_then(|(at, _)| self.terms.get_mut(at)))
            else {
                return;
            };
            let inside = if self.plain {
                judging.stats.evaluated
            } else {
                self.periods.inside(at)
            };
            let reason = SuspensionReason::AllState {
                held,
                all: self.held,
                limit,
            };
            judging.suspend(self.program, event, self.events, inside, reason);
            judging.held = 0;
            self.held = self.held.saturating_sub(held);
        }
    }

    /// The reference: every term judges the event, its condition evaluated whole by Rhai.
    fn judge_by_every_term<S: Sink>(
        &mut self,
        event: &Rc<Event>,
        handle: &Dynamic,
        sink: &mut S,
    ) -> Result<(), S::Error> {
        let program = self.program;
        let time = event.time();
        let events = self.events;
        for (term, judging) in program.terms.iter().zip(&mut self.terms) {
            if judging.suspended_after.is_some() {
                judging.stats.suspended += 1;
                continue;
            }
            let Some(scope) = self.scopes.get_mut(term.agreement) else {
                continue;
            };
            let before = cost::spent();
            let placed = event.unlocated();
            let mut state = TermState {
                program,
                term,
                stats: &mut judging.stats,
                scope,
                extras: &mut judging.extras,
                handle,
            };
            // Obligations fall due or are met, gaps end, on any event: in the term's period
            // or not.
            judging.form.before(&mut state, event, None, sink)?;
            if term.period.contains(time) {
                state.stats.evaluated += 1;
                if state.select(&mut judging.memos, event, true) {
                    judging.form.fire(&mut state, event, sink)?;
                }
            } else {
                state.stats.out_of_period += 1;
            }
            if event.unlocated() != placed {
                state.stats.unlocated += 1;
            }
            judging.form.after(event, None);
            let inside = judging.stats.evaluated;
            judging.charge(program, event, before, events, inside);
            judging.weigh(
                program,
                event,
                events,
                inside,
                self.state_limits.0,
                &mut self.held,
            );
        }
        Ok(())
    }

    /// Only the terms the event concerns ([`Index`]), in program order, conditions decided by
    /// native tests where they can, else through the memos. Counts per period are kept by
    /// [`Periods`] and given to the terms at the end.
    fn judge_by_index<S: Sink>(
        &mut self,
        event: &Rc<Event>,
        handle: &Dynamic,
        sink: &mut S,
    ) -> Result<(), S::Error> {
        let Replay {
            program,
            scopes,
            terms,
            index,
            periods,
            reader,
            visit,
            events,
            held,
            state_limits,
            ..
        } = self;
        let events = *events;
        let program: &Program = program;
        periods.enter(event.time());
        let mut values = reader.read(event);
        index.select(&mut values, visit);
        for at in members(visit) {
            let (Some(term), Some(judging)) = (program.terms.get(at), terms.get_mut(at)) else {
                continue;
            };
            if judging.suspended_after.is_some() {
                continue;
            }
            let every = term.form.acts_on_every_event();
            let inside = periods.holds(at);
            if !every && !inside {
                continue;
            }
            // Decided by the native tests, when they can, before anything else is set up.
            let decided = if inside && !every {
                match term.native.as_ref().and_then(|n| n.decide(&mut values)) {
                    Some(false) => continue,
                    decided => decided,
                }
            } else {
                None
            };
            let Some(scope) = scopes.get_mut(term.agreement) else {
                continue;
            };
            // What the native tests decided cost no units; what follows may.
            let before = cost::spent();
            let placed = event.unlocated();
            let mut state = TermState {
                program,
                term,
                stats: &mut judging.stats,
                scope,
                extras: &mut judging.extras,
                handle,
            };
            if every {
                judging
                    .form
                    .before(&mut state, event, Some(&mut values), sink)?;
            }
            if inside {
                // A term on the index is visited only when it may select the event; one
                // visited on every event may still be dispatched.
                let excluded = every
                    && term
                        .dispatch
                        .as_ref()
                        .is_some_and(|dispatch| dispatch.excludes(&mut values));
                let fired = !excluded
                    && match decided.or_else(|| {
                        let native = term.native.as_ref().filter(|_| every);
                        native.and_then(|n| n.decide(&mut values))
                    }) {
                        Some(fired) => fired,
                        None => state.select(&mut judging.memos, event, false),
                    };
                if fired {
                    judging.form.fire(&mut state, event, sink)?;
                }
            }
            if event.unlocated() != placed {
                state.stats.unlocated += 1;
            }
            if every {
                judging.form.after(event, Some(&mut values));
            }
            let inside = periods.inside(at);
            judging.charge(program, event, before, events, inside);
            judging.weigh(program, event, events, inside, state_limits.0, held);
        }
        Ok(())
    }

    /// Gives each term the counts the fast path keeps per period: every event was judged by
    /// the term or lay out of its period.
    fn settle_counts(&mut self) {
        if self.plain {
            return;
        }
        for (at, judging) in self.terms.iter_mut().enumerate() {
            let (read, inside) = judging
                .suspended_after
                .unwrap_or((self.events, self.periods.inside(at)));
            judging.stats.evaluated = inside;
            judging.stats.out_of_period = read - inside;
            judging.stats.suspended = self.events - read;
        }
    }

    /// When events come in canonical order: no violation raised from now on (until
    /// [`Replay::finish`]) is dated before this instant, the time of the last event judged.
    ///
    /// Why that holds: a stateless term, a threshold, a sequence and a `before` deadline date
    /// a violation at the event that decides it, never earlier than the events before it; an
    /// absence's gap and a `within` deadline's broken obligation are dated at their due time,
    /// and are decided by the first event after it (their forms see every event) — so a due
    /// time before the last event judged has already been decided. `finish` decides the rest,
    /// dated at or after this instant or at dues no event reached. The exception: an absence
    /// without `keys:` dates the gap of a key first sighted late at `within` after its clock
    /// started, however long ago; while such a term runs, the instant stays there
    /// (`FormState::earliest`), and the violations after it wait.
    pub fn settled(&self) -> Option<DateTime<Utc>> {
        let earliest = self
            .dating_back
            .iter()
            .filter_map(|&i| self.terms.get(i))
            .filter(|t| t.suspended_after.is_none())
            .filter_map(|t| t.form.earliest())
            .min();
        match (self.judged, earliest) {
            (Some(judged), Some(earliest)) => Some(judged.min(earliest)),
            (judged, _) => judged,
        }
    }

    /// Ends the replay: obligations due by the last event's time and not met are broken (pushed
    /// into `sink`); those due later are open. Returns the totals.
    pub fn finish<S: Sink>(mut self, sink: &mut S) -> Result<ReplayTotals, S::Error> {
        let program = self.program;
        self.settle_counts();
        let mut open = Vec::new();
        for (term, judging) in program.terms.iter().zip(&mut self.terms) {
            if judging.suspended_after.is_some() {
                // Its state stopped at the suspension: gaps and deadlines judged now would
                // be judged on events it never saw.
                continue;
            }
            let Some(scope) = self.scopes.get_mut(term.agreement) else {
                continue;
            };
            let handle = Dynamic::UNIT;
            let mut state = TermState {
                program,
                term,
                stats: &mut judging.stats,
                scope,
                extras: &mut judging.extras,
                handle: &handle,
            };
            // T1: the last event, or `--until`.
            judging
                .form
                .finish(&mut state, self.until.or(self.last), &mut open, sink)?;
        }
        Ok(ReplayTotals {
            after_until: self.after_until,
            events: self.events,
            first: self.first,
            last: self.last,
            terms: self
                .terms
                .into_iter()
                .map(|judging| judging.stats)
                .collect(),
            open,
        })
    }
}

/// A replay's state between two events, as a checkpoint saves it (`crate::run::checkpoint`): the
/// counts, each term's statistics, spending and form state. The memos are not saved: they
/// change no result, and fill again as the replay goes on.
#[derive(serde::Serialize)]
pub(crate) struct Saving<'r> {
    events: u64,
    first: Option<DateTime<Utc>>,
    last: Option<DateTime<Utc>>,
    judged: Option<DateTime<Utc>>,
    after_until: u64,
    inside: &'r [u64],
    held: u64,
    terms: Vec<SavingTerm<'r>>,
}

#[derive(serde::Serialize)]
struct SavingTerm<'r> {
    stats: &'r TermStats,
    spent: u64,
    suspended_after: Option<(u64, u64)>,
    held: u64,
    form: &'r FormState<'r>,
}

/// What [`Saving`] wrote, read back.
#[derive(serde::Deserialize)]
pub(crate) struct Saved {
    events: u64,
    first: Option<DateTime<Utc>>,
    last: Option<DateTime<Utc>>,
    judged: Option<DateTime<Utc>>,
    after_until: u64,
    inside: Vec<u64>,
    held: u64,
    terms: Vec<SavedTerm>,
}

#[derive(serde::Deserialize)]
struct SavedTerm {
    stats: TermStats,
    spent: u64,
    suspended_after: Option<(u64, u64)>,
    held: u64,
    form: SavedForm,
}

impl<'p> Replay<'p> {
    /// The state to save between two events.
    pub(crate) fn saving(&self) -> Saving<'_> {
        Saving {
            events: self.events,
            first: self.first,
            last: self.last,
            judged: self.judged,
            after_until: self.after_until,
            inside: self.periods.counts(),
            held: self.held,
            terms: self
                .terms
                .iter()
                .map(|judging| SavingTerm {
                    stats: &judging.stats,
                    spent: judging.spent,
                    suspended_after: judging.suspended_after,
                    held: judging.held,
                    form: &judging.form,
                })
                .collect(),
        }
    }

    /// Puts back a saved state, into a replay of the program that saved it and set up as it
    /// was (`until`, the memo); `false` when the state does not fit this program.
    pub(crate) fn restore(&mut self, saved: Saved) -> bool {
        if saved.terms.len() != self.terms.len() || !self.periods.restore(saved.inside) {
            return false;
        }
        self.events = saved.events;
        self.first = saved.first;
        self.last = saved.last;
        self.judged = saved.judged;
        self.after_until = saved.after_until;
        self.held = saved.held;
        for (judging, saved) in self.terms.iter_mut().zip(saved.terms) {
            if (saved.stats.agreement, saved.stats.term)
                != (judging.stats.agreement, judging.stats.term)
            {
                return false;
            }
            if saved.suspended_after.is_some() {
                // A suspended term let its state go.
                judging.form = FormState::Each;
            } else if !judging.form.restore(saved.form) {
                return false;
            }
            judging.stats = saved.stats;
            judging.spent = saved.spent;
            judging.suspended_after = saved.suspended_after;
            judging.held = saved.held;
        }
        true
    }

    /// Events handed to [`Replay::judge`] so far.
    pub fn events(&self) -> u64 {
        self.events
    }
}

impl Judging<'_> {
    /// Adds what judging `event` cost since `before` (`cost::spent`) to the term's spending,
    /// and suspends the term once it passes its allowance by now: a fixed amount plus an
    /// amount per event read (`events`, this one included). `inside`: the events in the
    /// term's period so far, this one included. Spending is counted as work done, so the
    /// verdict is the same on every run.
    fn charge(&mut self, program: &Program, event: &Event, before: u64, events: u64, inside: u64) {
        let (base, _) = program.term_budget;
        self.spent = self
            .spent
            .saturating_add(cost::spent().wrapping_sub(before));
        if base == 0 || self.spent <= allowance(program, events) {
            return;
        }
        self.suspend(program, event, events, inside, SuspensionReason::Budget);
    }

    /// Counts the term's live state after judging `event` (`all`: every term's, kept as the
    /// sum of theirs), and suspends the term once it holds more than `limit` (0: no limit).
    /// Counted as entries come and go (`forms::live`), so reading it costs nothing.
    #[inline]
    fn weigh(
        &mut self,
        program: &Program,
        event: &Event,
        events: u64,
        inside: u64,
        limit: u64,
        all: &mut u64,
    ) {
        let held = self.form.held();
        if held == self.held {
            // Unchanged (a term without a form always is): nothing to count or decide.
            return;
        }
        *all = all.saturating_sub(self.held).saturating_add(held);
        self.held = held;
        if limit == 0 || held <= limit {
            return;
        }
        self.suspend(
            program,
            event,
            events,
            inside,
            SuspensionReason::State { held, limit },
        );
        *all = all.saturating_sub(held);
        self.held = 0;
    }

    /// Suspends the term after `event` (`events` read, `inside` of them in its period): it
    /// judges no later event, and its state is let go — what it held is what a term must not
    /// keep, and it decides nothing more from it.
    fn suspend(
        &mut self,
        program: &Program,
        event: &Event,
        events: u64,
        inside: u64,
        reason: SuspensionReason,
    ) {
        self.suspended_after = Some((events, inside));
        self.form = FormState::Each;
        self.stats.suspension = Some(Suspension {
            event: event.id(),
            origin: event.origin().clone(),
            spent: self.spent,
            allowance: allowance(program, events),
            reason,
        });
    }
}

/// The units a term may have spent once `events` have been read: a fixed amount plus an amount
/// per event.
fn allowance(program: &Program, events: u64) -> u64 {
    let (base, per_event) = program.term_budget;
    base.saturating_add(per_event.saturating_mul(events))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::sink::Collect;
    use crate::engine::sink::Violation;
    use crate::event::Origin;
    use crate::input::EventParser;
    use crate::{Limits, compile, load::agreement};

    /// Conditions of every shape the memo and the operand-wise chains treat specially.
    const CONDITIONS: &[&str] = &[
        r#"event.kind == "a""#,
        r#"event.kind in kinds && event.actor == "PKK""#,
        r#"event.actor == "PKK" || event.lat > 37.0"#,
        r#"event.lat > 37.0 && event.kind == "a""#,
        r#"event.has("lat") && event.lat >= 36.5"#,
        r#"is_strike(event) && event.country != "IR""#,
        r#"event["actor"] in kinds || !(event.coordinated == true)"#,
        r#"event.targets + 1 > 10 && event.kind == "b""#,
        r#"if event.kind == "a" { event.lat > 37.0 } else { event.actor == "TAF" }"#,
        r#"event.kind.len() > 1 && heavy(event)"#,
        r#"event.tags[0] == "x" || event.kind == "c""#,
        // Dispatched by a field (missing on some events), the rest failing on others.
        r#"event.actor in kinds && event.lat > 37.0"#,
        r#"event.party == "TR" && event.targets > 5"#,
    ];

    fn program() -> Program {
        let terms: String = CONDITIONS
            .iter()
            .enumerate()
            .map(|(i, c)| {
                // Every other term attributes from the event and renders a message whose
                // placeholders can be missing or fail, so that those memos are compared too.
                if i % 2 == 0 {
                    format!("  - {{id: t{i}, title: T, breached_by: IQ, when: '{c}'}}\n")
                } else {
                    format!(
                        "  - {{id: t{i}, title: T, breached_by: event.party, when: '{c}', message: '{{event.kind}} by {{event.actor}}: {{event.lat > 36.0}}'}}\n"
                    )
                }
            })
            .collect();
        let text = format!(
            "agreement: d\ntitle: D\nparties: {{IQ: Iraq, TR: Türkiye}}\nlists:\n  kinds: [a, b, PKK]\nfunctions: |\n  fn is_strike(e) {{ e.kind == \"a\" || e.kind == \"b\" }}\n  fn heavy(e) {{ let n = 0; for i in 0..(e.targets * 300) {{ n += 1; }} n > 10 }}\nterms:\n{terms}"
        );
        let (agreement, problems) = agreement::load("d.yaml", &text);
        assert!(problems.is_empty(), "{problems:?}");
        let (program, problems) = compile(vec![agreement.unwrap()], &Limits::default());
        assert!(problems.is_empty(), "{problems:?}");
        program.unwrap()
    }

    /// Events with few distinct values (so that the memo is used) and some missing fields.
    fn events() -> Vec<Event> {
        let mut parser = EventParser::new();
        let kinds = ["a", "b", "c", "PKK"];
        let actors = ["PKK", "TAF", "KDPI"];
        (0u64..600)
            .map(|n| {
                let h = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 20;
                let mut json = format!(
                    r#"{{"time":"2024-01-01T00:00:{:02}Z","kind":"{}""#,
                    n % 60,
                    kinds[(h % 4) as usize]
                );
                if h % 5 != 0 {
                    json += &format!(r#","actor":"{}""#, actors[((h >> 3) % 3) as usize]);
                }
                if h % 3 != 0 {
                    json += &format!(r#","lat":{}.5"#, 35 + (h >> 5) % 4);
                }
                if h % 7 != 0 {
                    json += &format!(r#","targets":{}"#, (h >> 7) % 30);
                }
                if h % 2 == 0 {
                    json += &format!(r#","coordinated":{}"#, h % 4 == 0);
                }
                if h % 11 == 0 {
                    json += r#","tags":["x","y"]"#;
                }
                if h % 4 != 1 {
                    json += &format!(
                        r#","party":"{}""#,
                        ["IQ", "TR", "XX"][((h >> 9) % 3) as usize]
                    );
                }
                json += "}";
                let origin = Origin {
                    file: "g".into(),
                    line: n + 1,
                };
                parser.parse_json(&json, origin).unwrap()
            })
            .collect()
    }

    fn replay(program: &Program, plain: bool) -> (Vec<Violation>, ReplayTotals) {
        let mut replay = Replay::new(program);
        if plain {
            replay.forget_outcomes();
        }
        let mut sink = Collect::default();
        for event in events() {
            replay.judge(event, &mut sink).unwrap();
        }
        let totals = replay.finish(&mut sink).unwrap();
        (sink.0, totals)
    }

    #[test]
    fn memo_and_chains_give_exactly_what_the_interpreter_gives() {
        let program = program();
        let fast = replay(&program, false);
        let plain = replay(&program, true);
        assert_eq!(fast.1, plain.1, "per-term counts and first errors");
        assert_eq!(fast.0, plain.0, "violations");
        // The test is only worth something if the conditions both fire and fail.
        assert!(
            fast.1.terms.iter().all(|t| t.violations > 0),
            "{:?}",
            fast.1.terms
        );
        assert!(fast.1.terms.iter().filter(|t| t.errors > 0).count() >= 4);
        let attributed = |v: &[Violation]| v.iter().filter(|v| !v.breached_by.is_empty()).count();
        assert!(attributed(&fast.0) > 0 && attributed(&fast.0) < fast.0.len());
        assert!(fast.0.iter().any(|v| v.message.ends_with(": ?")));
        assert!(fast.0.iter().any(|v| v.message.ends_with(": true")));
    }
}

#[cfg(test)]
mod failures {
    use super::*;
    use crate::engine::sink::Collect;
    use crate::engine::stats::{FailureKind, Part};
    use crate::event::Origin;
    use crate::input::EventParser;
    use crate::{Limits, compile, load::agreement};

    /// Each kind of failure, of each expression of a term, is recorded with its part, its
    /// kind and where it is in the rule file (line and column of the failing piece).
    #[test]
    fn failures_say_which_expression_how_and_where() {
        let rules = r#"agreement: f
title: F
parties: {IQ: Iraq}
terms:
  - {id: when-error, title: T, breached_by: IQ, when: 'event.killed > 0'}
  - {id: when-type, title: T, breached_by: IQ, when: 'event.kind'}
  - {id: party, title: T, breached_by: event.kind, when: 'true'}
  - {id: party-error, title: T, breached_by: 'event.killed - 1', when: 'true'}
  - {id: message, title: T, breached_by: IQ, when: 'true', message: 'x {event.killed * 2}'}
  - {id: by, title: T, breached_by: IQ, when: 'true', threshold: {count: 1, within: 1h, by: 'event.killed - 1'}}
  - {id: step, title: T, breached_by: IQ, sequence: {within: 1h, steps: ['event.killed > 1', 'true']}}
  - {id: require, title: T, breached_by: IQ, when: 'true', deadline: {before: 1h, require: 'event.killed > trigger.killed'}}
"#;
        let (agreement, problems) = agreement::load("f.yaml", rules);
        assert!(problems.is_empty(), "{problems:?}");
        // (Some terms repeat others' conditions: warnings, not errors.)
        let (program, _warnings) = compile(vec![agreement.unwrap()], &Limits::default());
        let program = program.unwrap();
        let mut parser = EventParser::new();
        let mut replay = Replay::new(&program);
        let mut sink = Collect::default();
        for (line, json) in [
            r#"{"time": "2024-01-01T00:00:00Z", "kind": "a"}"#,
            r#"{"time": "2024-01-01T00:10:00Z", "kind": "b"}"#,
        ]
        .iter()
        .enumerate()
        {
            let origin = Origin {
                file: "log".into(),
                line: line as u64 + 1,
            };
            replay
                .judge(parser.parse_json(json, origin).unwrap(), &mut sink)
                .unwrap();
        }
        let totals = replay.finish(&mut sink).unwrap();
        type Found = (Part, FailureKind, Option<(u64, u64)>);
        let found: Vec<Found> = totals
            .terms
            .iter()
            .map(|t| {
                let failure = &t.first_error.as_ref().expect("every term fails").failure;
                (
                    failure.part,
                    failure.kind,
                    failure.at.as_ref().map(|at| (at.line, at.column)),
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                // At the operator that met `()`, or at the start of an expression whose value
                // was of the wrong kind.
                (Part::When, FailureKind::Error, Some((5, 69))),
                (Part::When, FailureKind::NotBoolean, Some((6, 55))),
                (Part::BreachedBy, FailureKind::NotAParty, Some((7, 40))),
                (Part::BreachedBy, FailureKind::Error, Some((8, 60))),
                (Part::Message, FailureKind::Error, Some((9, 86))),
                (Part::By, FailureKind::Error, Some((10, 107))),
                (Part::Step(0), FailureKind::Error, Some((11, 88))),
                (Part::Require, FailureKind::Error, Some((12, 106))),
            ]
        );
        // The words say the same, as reports print them.
        let first = totals.terms[0].first_error.as_ref().unwrap();
        assert_eq!(first.failure.to_string(), first.failure.message);
        assert!(
            first.failure.message.ends_with("(at f.yaml:5:69)"),
            "{}",
            first.failure.message
        );
    }
}

#[cfg(test)]
mod live_state {
    use super::*;
    use crate::engine::sink::Collect;
    use crate::event::Origin;
    use crate::input::EventParser;
    use crate::{Limits, compile, load::agreement};

    /// Every form that keeps state, filed and scanned, keyed and not.
    const TERMS: &str = r#"
  - {id: by-sector, title: T, breached_by: IQ, when: 'event.kind == "a"', threshold: {count: 3, within: 1h, by: event.sector}}
  - {id: by-id, title: T, breached_by: IQ, when: 'true', threshold: {count: 2, within: 36500d, by: event.id}}
  - {id: gaps, title: T, breached_by: IQ, when: 'event.kind == "b"', absence: {within: 30m, by: event.sector}}
  - {id: listed, title: T, breached_by: IQ, when: 'event.kind == "c"', absence: {within: 20m, by: event.sector, keys: [s1, s2, s3]}}
  - {id: chain, title: T, breached_by: IQ, sequence: {within: 1h, by: event.sector, steps: ['event.kind == "a"', 'event.kind == "b"']}}
  - {id: filed, title: T, breached_by: IQ, when: 'event.kind == "a"', deadline: {within: 30m, require: 'event.kind == "b" && event.ref == trigger.id'}}
  - {id: scanned, title: T, breached_by: IQ, when: 'event.kind == "c"', deadline: {within: 30m, require: 'event.n > trigger.n'}}
"#;

    /// Look back: the filed replay keeps fewer recent events than the scan.
    const LOOKING_BACK: &str = r#"
  - {id: looks-back, title: T, breached_by: IQ, when: 'event.kind == "b"', deadline: {before: 30m, require: 'event.kind == "a" && event.id == trigger.ref'}}
  - {id: looks-back-scanned, title: T, breached_by: IQ, when: 'event.kind == "b"', deadline: {before: 20m, require: 'event.n < trigger.n'}}
"#;

    fn program(terms: &str) -> Program {
        let text = format!("agreement: s\ntitle: S\nparties: {{IQ: Iraq}}\nterms:{terms}");
        let (agreement, problems) = agreement::load("s.yaml", &text);
        assert!(problems.is_empty(), "{problems:?}");
        let (program, _warnings) = compile(vec![agreement.unwrap()], &Limits::default());
        program.unwrap()
    }

    /// Events of three kinds in ten sectors, with pauses long enough for windows, gaps and
    /// obligations to close, and references to earlier events.
    fn events() -> Vec<Event> {
        let mut parser = EventParser::new();
        let mut second = 0u64;
        (0u64..6000)
            .map(|n| {
                let h = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 20;
                second += if h % 50 == 0 { 3600 } else { h % 90 };
                let time = chrono::DateTime::from_timestamp(1_700_000_000 + second as i64, 0);
                let json = format!(
                    r#"{{"id":"e{n}","time":"{}","kind":"{}","sector":"s{}","ref":"e{}","n":{}}}"#,
                    time.unwrap().to_rfc3339(),
                    ["a", "b", "c"][(h % 3) as usize],
                    (h >> 3) % 10,
                    n.saturating_sub((h >> 7) % 40),
                    (h >> 11) % 100
                );
                let origin = Origin {
                    file: "g".into(),
                    line: n + 1,
                };
                parser.parse_json(&json, origin).unwrap()
            })
            .collect()
    }

    /// What each term's form counts as it goes is what it holds, after every event, with the
    /// memo and without; and the replay's total is their sum.
    #[test]
    fn the_running_count_is_what_the_state_holds() {
        let program = program(&format!("{TERMS}{LOOKING_BACK}"));
        for plain in [false, true] {
            let mut replay = Replay::new(&program);
            if plain {
                replay.forget_outcomes();
            }
            let mut sink = Collect::default();
            let mut most = vec![0; replay.terms.len()];
            for event in events() {
                replay.judge(event, &mut sink).unwrap();
                for (at, judging) in replay.terms.iter().enumerate() {
                    let held = judging.form.held();
                    assert_eq!(held, judging.form.recount(), "term {at}, plain: {plain}");
                    assert_eq!(held, judging.held, "term {at}, plain: {plain}");
                    most[at] = held.max(most[at]);
                }
                let all: u64 = replay.terms.iter().map(|t| t.held).sum();
                assert_eq!(replay.held, all);
            }
            assert!(most.iter().all(|&m| m > 0), "{most:?}");
            assert!(replay.terms.iter().all(|t| t.suspended_after.is_none()));
        }
    }

    fn suspensions(program: &Program, plain: bool, limits: (u64, u64)) -> Vec<Option<Suspension>> {
        let mut replay = Replay::new(program);
        if plain {
            replay.forget_outcomes();
        }
        replay.limit_state(limits.0, limits.1);
        let mut sink = Collect::default();
        for event in events() {
            replay.judge(event, &mut sink).unwrap();
            let all: u64 = replay.terms.iter().map(|t| t.held).sum();
            assert_eq!(replay.held, all);
            assert!(limits.1 == 0 || all <= limits.1);
            for judging in &replay.terms {
                assert!(limits.0 == 0 || judging.held <= limits.0);
                if judging.suspended_after.is_some() {
                    assert_eq!(judging.form.held(), 0, "a suspended term lets its state go");
                }
            }
        }
        let totals = replay.finish(&mut sink).unwrap();
        totals.terms.into_iter().map(|t| t.suspension).collect()
    }

    /// The limits suspend the same terms after the same events with the memo and without:
    /// the term past its own limit, and, past all terms' limit, the one holding the most.
    #[test]
    fn limits_suspend_the_same_terms_with_the_memo_or_without() {
        let program = program(TERMS);
        let limits = (31_000, 60_000);
        // Units are work done, which the memo changes: the rest must not change.
        let without_units = |suspensions: Vec<Option<Suspension>>| -> Vec<_> {
            suspensions
                .into_iter()
                .map(|s| s.map(|s| (s.event, s.origin, s.reason)))
                .collect()
        };
        let fast = suspensions(&program, false, limits);
        assert_eq!(
            without_units(fast.clone()),
            without_units(suspensions(&program, true, limits))
        );
        let reasons: Vec<_> = fast
            .iter()
            .map(|s| s.as_ref().map(|s| std::mem::discriminant(&s.reason)))
            .collect();
        let state = std::mem::discriminant(&SuspensionReason::State { held: 0, limit: 0 });
        let all = std::mem::discriminant(&SuspensionReason::AllState {
            held: 0,
            all: 0,
            limit: 0,
        });
        assert!(reasons.contains(&Some(state)), "{fast:?}");
        assert!(reasons.contains(&Some(all)), "{fast:?}");
        assert!(reasons.contains(&None), "{fast:?}");
        // No limit: nothing suspended.
        let none = suspensions(&program, false, (0, 0));
        assert!(none.iter().all(Option::is_none), "{none:?}");
    }
}
