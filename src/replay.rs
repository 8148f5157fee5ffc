//! Judging events: the engine proper.
//!
//! A [`Replay`] takes events one at a time, runs every term whose period covers the event, and
//! pushes each breach into a [`Sink`]. It keeps no events: memory stays flat however long the
//! log. A term whose expression fails on an event (a missing field compared with a number, the
//! operation budget exhausted, …) simply does not fire for that event; the failure is counted
//! for the term, with the first failing event and message, and the replay goes on. One broken
//! term must not hide the breaches of the others.

use std::rc::Rc;

use chrono::{DateTime, Utc};
use rhai::{AST, Dynamic, EvalAltResult, Position, Scope};

use crate::agreement::DeadlineWindow;
use crate::agreement::{Breach, Expression, Form};
use crate::compile::{CompiledBreach, CompiledForm, CompiledTerm, Piece, Plan, Program};
use crate::event::{Event, EventHandle, Origin};
use crate::memo::{Memo, Outcome};
use crate::sink::{Evidence, Location, Sink, Violation};

/// What happened to one term over a replay.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TermStats {
    /// Index of the agreement.
    pub agreement: usize,
    /// Index of the term within the agreement.
    pub term: usize,
    /// Events the term judged.
    pub evaluated: u64,
    /// Events outside the term's effective period, not judged.
    pub out_of_period: u64,
    /// Violations it raised.
    pub violations: u64,
    /// Events on which one of its expressions failed to evaluate.
    pub errors: u64,
    /// Selected events whose `by` key was `()`: not grouped, not counted in any window.
    pub unkeyed: u64,
    /// Events on which a geography function met no position (`lat`/`lon`) and gave `()`.
    pub unlocated: u64,
    /// The first such failure.
    pub first_error: Option<TermError>,
}

/// A condition that failed on an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermError {
    /// The event's id.
    pub event: String,
    /// Its file and line.
    pub origin: Origin,
    /// What went wrong, with the position in the rule file.
    pub message: String,
}

/// Replays events against a compiled [`Program`].
pub struct Replay<'p> {
    program: &'p Program,
    /// One scope per agreement: `event` plus that agreement's lists.
    scopes: Vec<Scope<'static>>,
    stats: Vec<TermStats>,
    /// Per term, one memo per evaluated part (see [`Plan`]).
    memos: Vec<Vec<Memo>>,
    /// Per term, memos for `breached_by` and message placeholders.
    extras: Vec<Extras>,
    /// Per term, what its form keeps between events.
    forms: Vec<FormState>,
    /// Evaluate every condition whole, without memo ([`Replay::forget_outcomes`]).
    plain: bool,
    /// `--until`.
    until: Option<DateTime<Utc>>,
    events: u64,
    first: Option<DateTime<Utc>>,
    last: Option<DateTime<Utc>>,
}

/// The totals of a finished replay.
#[derive(Debug, Clone, PartialEq)]
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
}

impl<'p> Replay<'p> {
    /// Starts a replay.
    pub fn new(program: &'p Program) -> Self {
        let scopes = program
            .agreements
            .iter()
            .map(|agreement| {
                // `trigger` last, as `require` was compiled (`Unit::with_trigger`).
                let mut scope = crate::compile::scope_for(agreement);
                scope.push("trigger", ());
                scope
            })
            .collect();
        let stats = program
            .terms
            .iter()
            .map(|t| TermStats {
                agreement: t.agreement,
                term: t.term,
                ..TermStats::default()
            })
            .collect();
        let memos = program
            .terms
            .iter()
            .map(|t| {
                let watch = || program.unlocated(t).clone();
                match &t.plan {
                    Plan::Whole(reads) => vec![Memo::new(reads.clone()).watching(watch())],
                    Plan::Chain { operands, .. } => operands
                        .iter()
                        .map(|(_, reads)| Memo::new(reads.clone()).watching(watch()))
                        .collect(),
                }
            })
            .collect();
        Replay {
            program,
            scopes,
            stats,
            memos,
            extras: program
                .terms
                .iter()
                .map(|t| Extras::new(program, t, true))
                .collect(),
            forms: program
                .terms
                .iter()
                .map(|t| FormState::new(&t.form))
                .collect(),
            plain: false,
            until: None,
            events: 0,
            first: None,
            last: None,
        }
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
    /// Chains are evaluated whole too: this is the plain interpreter's result, the reference
    /// the memo and the operand-wise evaluation must reproduce.
    pub fn forget_outcomes(&mut self) {
        self.plain = true;
        let program = self.program;
        self.extras = program
            .terms
            .iter()
            .map(|t| Extras::new(program, t, false))
            .collect();
    }

    /// Judges one event under every term and pushes each breach into `sink`.
    pub fn judge<S: Sink>(&mut self, event: Event, sink: &mut S) -> Result<(), S::Error> {
        let time = event.time();
        self.events += 1;
        self.first = Some(self.first.map_or(time, |t| t.min(time)));
        self.last = Some(self.last.map_or(time, |t| t.max(time)));
        if self.until.is_some_and(|until| time > until) {
            // After the end of the replay: read and counted, judged by no term.
            for stats in &mut self.stats {
                stats.out_of_period += 1;
            }
            return Ok(());
        }
        let event = Rc::new(event);
        let handle = Dynamic::from(EventHandle(event.clone()));
        for scope in &mut self.scopes {
            scope.set_value("event", handle.clone());
        }
        let program = self.program;
        let terms = program
            .terms
            .iter()
            .zip(&mut self.stats)
            .zip(&mut self.memos)
            .zip(&mut self.extras)
            .zip(&mut self.forms);
        for ((((term, stats), memo), extras), form) in terms {
            // An absence term's clock starts at the first event of the log, or at the term's
            // start if later; expected keys wait from then.
            if let (CompiledForm::Absence { keys, within, .. }, FormState::Absence(gaps)) =
                (&term.form, &mut *form)
                && gaps.start.is_none()
            {
                let start = term.period.from.map_or(time, |from| from.max(time));
                gaps.start = Some(start);
                for (key, label) in keys {
                    gaps.last
                        .insert(key.clone(), (start, None, Some(label.clone()), false));
                    gaps.note_due(key, start, *within);
                }
            }
            let Some(scope) = self.scopes.get_mut(term.agreement) else {
                continue;
            };
            let unlocated = program.unlocated(term);
            let placed = unlocated.get();
            let mut state = TermState {
                program,
                term,
                stats,
                scope,
                extras,
                handle: &handle,
            };
            // Obligations fall due, or are met, on any event: in the term's period or not.
            match (&term.form, &mut *form) {
                (
                    CompiledForm::Deadline {
                        window: DeadlineWindow::Within(_),
                        require,
                    },
                    FormState::Deadline(obligations),
                ) => state.settle(obligations, require, &event, sink)?,
                // A gap is reported as soon as time passes its end, not at the key's next event.
                (CompiledForm::Absence { within, .. }, FormState::Absence(gaps)) => {
                    state.overdue(gaps, *within, time, sink)?;
                }
                _ => {}
            }
            if term.period.contains(time) {
                state.stats.evaluated += 1;
                let fired = state.select(memo, &event, self.plain);
                if fired {
                    state.fire(form, &event, sink)?;
                }
            } else {
                state.stats.out_of_period += 1;
            }
            if unlocated.get() != placed {
                state.stats.unlocated += 1;
            }
            if let (
                CompiledForm::Deadline {
                    window: DeadlineWindow::Before(before),
                    ..
                },
                FormState::Deadline(obligations),
            ) = (&term.form, form)
            {
                obligations.remember(&event, *before);
            }
        }
        Ok(())
    }

    /// Ends the replay: obligations due by the last event's time and not met are broken (pushed
    /// into `sink`); those due later are open. Returns the totals.
    pub fn finish<S: Sink>(mut self, sink: &mut S) -> Result<ReplayTotals, S::Error> {
        let program = self.program;
        let mut open = Vec::new();
        let terms = program
            .terms
            .iter()
            .zip(&mut self.stats)
            .zip(&mut self.extras)
            .zip(&mut self.forms);
        for (((term, stats), extras), form) in terms {
            let Some(scope) = self.scopes.get_mut(term.agreement) else {
                continue;
            };
            let handle = Dynamic::UNIT;
            let mut state = TermState {
                program,
                term,
                stats,
                scope,
                extras,
                handle: &handle,
            };
            // T1: the last event, or the term's end if earlier.
            if let (CompiledForm::Absence { within, .. }, FormState::Absence(gaps), Some(last)) =
                (&term.form, &mut *form, self.until.or(self.last))
            {
                let end_of_log = term.period.until.map_or(last, |until| until.min(last));
                for (since, opened_by, label, reported) in
                    std::mem::take(&mut gaps.last).into_values()
                {
                    if let Some(end) = since.checked_add_signed(*within)
                        && end_of_log > end
                        && !reported
                    {
                        state.gap(opened_by.as_ref(), end, label, sink)?;
                    }
                }
            }
            let FormState::Deadline(obligations) = form else {
                continue;
            };
            for (trigger, due) in std::mem::take(&mut obligations.pending) {
                if self.until.or(self.last).is_some_and(|last| due <= last) {
                    state.broken(&trigger, due, sink)?;
                } else {
                    open.push(Open {
                        agreement: term.agreement,
                        term: term.term,
                        trigger: Evidence::of(&trigger),
                        due,
                    });
                }
            }
        }
        Ok(ReplayTotals {
            events: self.events,
            first: self.first,
            last: self.last,
            terms: self.stats,
            open,
        })
    }
}

/// An obligation neither kept nor broken when the log ends: its deadline lies after the last
/// event.
#[derive(Debug, Clone, PartialEq)]
pub struct Open {
    /// Index of the agreement.
    pub agreement: usize,
    /// Index of the term within the agreement.
    pub term: usize,
    /// The event that opened the obligation.
    pub trigger: Evidence,
    /// When it falls due.
    pub due: DateTime<Utc>,
}

/// One term's share of the replay state while it judges one event.
struct TermState<'a, 'p> {
    program: &'p Program,
    term: &'p CompiledTerm,
    stats: &'a mut TermStats,
    scope: &'a mut Scope<'static>,
    extras: &'a mut Extras,
    /// The current event as a Rhai value, to restore after evaluating with another.
    handle: &'a Dynamic,
}

impl TermState<'_, '_> {
    /// Whether the term selects `event` (its `when`), counting failures.
    fn select(&mut self, memo: &mut [Memo], event: &Rc<Event>, plain: bool) -> bool {
        let (program, term) = (self.program, self.term);
        let outcome = if plain {
            evaluate(program.engine(term), program, term, self.scope, &term.when)
        } else {
            decide(program, term, self.scope, memo, event)
        };
        match outcome {
            Outcome::Decided(fired) => fired,
            Outcome::NotBoolean(type_name) => {
                record_error(self.stats, event, not_boolean(program, term, &type_name));
                false
            }
            Outcome::Failed(message) => {
                record_error(self.stats, event, message);
                false
            }
        }
    }

    /// Which steps of a sequence `event` matches; a step that fails counts as not matched and
    /// is recorded once.
    fn steps(&mut self, steps: &[AST], event: &Event) -> Vec<bool> {
        let (program, term) = (self.program, self.term);
        let mut failure = None;
        let mut matched = Vec::with_capacity(steps.len());
        for (i, (step, memo)) in steps.iter().zip(self.extras.steps.iter_mut()).enumerate() {
            let scope = &mut *self.scope;
            let outcome = memo.outcome(event, || step_matches(program, term, scope, i, step));
            matched.push(outcome.unwrap_or_else(|message| {
                failure.get_or_insert(message);
                false
            }));
        }
        if let Some(message) = failure {
            record_error(self.stats, event, message);
        }
        matched
    }

    /// Reports the gaps of an absence term whose end time `now` has passed (within the term's
    /// period), each once.
    fn overdue<S: Sink>(
        &mut self,
        gaps: &mut Gaps,
        within: chrono::TimeDelta,
        now: DateTime<Utc>,
        sink: &mut S,
    ) -> Result<(), S::Error> {
        let until = self.term.period.until;
        while let Some(std::cmp::Reverse((due, _))) = gaps.dues.peek() {
            if now <= *due {
                break;
            }
            let Some(std::cmp::Reverse((due, key))) = gaps.dues.pop() else {
                break;
            };
            let Some((since, opened_by, label, reported)) = gaps.last.get_mut(&key) else {
                continue;
            };
            let current = since.checked_add_signed(within) == Some(due);
            if !current || *reported || until.is_some_and(|until| due >= until) {
                continue;
            }
            *reported = true;
            let (opened_by, label) = (opened_by.clone(), label.clone());
            self.gap(opened_by.as_ref(), due, label, sink)?;
        }
        Ok(())
    }

    /// A gap in an absence term: a violation dated at its end, resting on the event that
    /// opened it, if any.
    fn gap<S: Sink>(
        &mut self,
        opened_by: Option<&Rc<Event>>,
        end: DateTime<Utc>,
        key: Option<String>,
        sink: &mut S,
    ) -> Result<(), S::Error> {
        let bound = match opened_by {
            Some(event) => Dynamic::from(EventHandle(event.clone())),
            None => Dynamic::UNIT,
        };
        self.scope.set_value("event", bound);
        let evidence = Some(opened_by.map(|e| Evidence::of(e)).into_iter().collect());
        let result = self.violation_on(opened_by.map(|e| &**e), end, evidence, key, sink);
        self.scope.set_value("event", self.handle.clone());
        result
    }

    /// What a selected event does under the term's form.
    fn fire<S: Sink>(
        &mut self,
        form: &mut FormState,
        event: &Rc<Event>,
        sink: &mut S,
    ) -> Result<(), S::Error> {
        let term = self.term;
        match (&term.form, form) {
            (CompiledForm::Each, _) => self.violation(event, event.time(), None, sink),
            (CompiledForm::Threshold { count, within, by }, FormState::Threshold(windows)) => {
                let Some((key, label)) = self.key(by.as_ref(), event) else {
                    return Ok(());
                };
                match windows.push(key, event, *within, *count) {
                    Some(window) => {
                        self.violation_on(Some(event), event.time(), Some(window), label, sink)
                    }
                    None => Ok(()),
                }
            }
            (CompiledForm::Sequence { within, by, steps }, FormState::Sequence(chains)) => {
                let Some((key, label)) = self.key(by.as_ref(), event) else {
                    return Ok(());
                };
                let matched = self.steps(steps, event);
                let chain = if matched.last() == Some(&true) {
                    chains.find(&key, event, *within, steps.len())
                } else {
                    None
                };
                chains.add(key, event, &matched, *within);
                match chain {
                    Some(mut chain) => {
                        chain.push(Evidence::of(event));
                        self.violation_on(Some(event), event.time(), Some(chain), label, sink)
                    }
                    None => Ok(()),
                }
            }
            (CompiledForm::Absence { within, by, keys }, FormState::Absence(gaps)) => {
                let Some((key, label)) = self.key(by.as_ref(), event) else {
                    return Ok(());
                };
                // With a `keys` list, only those keys are watched.
                if !keys.is_empty() && !keys.iter().any(|(k, _)| *k == key) {
                    return Ok(());
                }
                let start = gaps.start.unwrap_or(event.time());
                // A late event on a stream, older than the key's last sighting, can only make
                // a gap shorter: it is not a new sighting.
                if gaps
                    .last
                    .get(&key)
                    .is_some_and(|(since, ..)| event.time() < *since)
                {
                    return Ok(());
                }
                let (since, opened_by, _, reported) =
                    gaps.last
                        .remove(&key)
                        .unwrap_or((start, None, label.clone(), false));
                let result = match since.checked_add_signed(*within) {
                    Some(end) if event.time() > end && !reported => {
                        self.gap(opened_by.as_ref(), end, label.clone(), sink)
                    }
                    _ => Ok(()),
                };
                gaps.note_due(&key, event.time(), *within);
                gaps.last
                    .insert(key, (event.time(), Some(event.clone()), label, false));
                result
            }
            (CompiledForm::Deadline { window, require }, FormState::Deadline(obligations)) => {
                match window {
                    DeadlineWindow::Within(within) => {
                        let due = event
                            .time()
                            .checked_add_signed(*within)
                            .unwrap_or(DateTime::<Utc>::MAX_UTC);
                        obligations.pending.push_back((event.clone(), due));
                        Ok(())
                    }
                    DeadlineWindow::Before(before) => {
                        let start = event.time().checked_sub_signed(*before);
                        let candidates: Vec<Rc<Event>> = obligations
                            .recent
                            .iter()
                            .filter(|r| start.is_none_or(|start| r.time() >= start))
                            .cloned()
                            .collect();
                        let mut kept = false;
                        let mut failure = None;
                        for candidate in &candidates {
                            match self.require(require, candidate, event) {
                                Ok(true) => {
                                    kept = true;
                                    break;
                                }
                                Ok(false) => {}
                                Err(message) => {
                                    failure.get_or_insert(message);
                                }
                            }
                        }
                        self.scope.set_value("event", self.handle.clone());
                        if let Some(message) = failure {
                            record_error(self.stats, event, message);
                        }
                        if kept {
                            Ok(())
                        } else {
                            self.violation(event, event.time(), None, sink)
                        }
                    }
                }
            }
            // `FormState::new` builds each term's state from its form: the pairs above are the
            // only ones that occur.
            _ => Ok(()),
        }
    }

    /// For a `within` deadline, on every event: breaks the obligations overdue before it, then
    /// lets it meet the ones it satisfies.
    fn settle<S: Sink>(
        &mut self,
        obligations: &mut Obligations,
        require: &AST,
        event: &Rc<Event>,
        sink: &mut S,
    ) -> Result<(), S::Error> {
        let now = event.time();
        while obligations
            .pending
            .front()
            .is_some_and(|(_, due)| *due < now)
        {
            if let Some((trigger, due)) = obligations.pending.pop_front() {
                self.broken(&trigger, due, sink)?;
            }
        }
        if obligations.pending.is_empty() {
            return Ok(());
        }
        let mut failure = None;
        let mut waiting = std::collections::VecDeque::with_capacity(obligations.pending.len());
        for (trigger, due) in std::mem::take(&mut obligations.pending) {
            match self.require(require, event, &trigger) {
                Ok(true) => {}
                Ok(false) => waiting.push_back((trigger, due)),
                Err(message) => {
                    failure.get_or_insert(message);
                    waiting.push_back((trigger, due));
                }
            }
        }
        obligations.pending = waiting;
        self.scope.set_value("event", self.handle.clone());
        if let Some(message) = failure {
            record_error(self.stats, event, message);
        }
        Ok(())
    }

    /// Whether `candidate` meets the obligation `trigger` opened: `require` with `event` bound
    /// to the candidate and `trigger` to the trigger. Leaves `event` bound to the candidate.
    fn require(
        &mut self,
        require: &AST,
        candidate: &Rc<Event>,
        trigger: &Rc<Event>,
    ) -> Result<bool, String> {
        let (program, term) = (self.program, self.term);
        self.scope
            .set_value("event", Dynamic::from(EventHandle(candidate.clone())));
        self.scope
            .set_value("trigger", Dynamic::from(EventHandle(trigger.clone())));
        let source = match &program.source(term).form {
            Form::Deadline(d) => Some(&d.require),
            _ => None,
        };
        let describe_err = |err: &EvalAltResult| match source {
            Some(source) => format!(
                "`require` failed: {}",
                describe(err, source, (1, 1), program.functions(term))
            ),
            None => format!("`require` failed: {err}"),
        };
        match program
            .engine(term)
            .eval_ast_with_scope::<Dynamic>(self.scope, require)
        {
            Ok(value) => value
                .as_bool()
                .map_err(|type_name| format!("`require` gave {type_name}, not a boolean")),
            Err(err) => Err(describe_err(&err)),
        }
    }

    /// An obligation opened by `trigger` and not met by `due`: a violation dated `due`.
    fn broken<S: Sink>(
        &mut self,
        trigger: &Rc<Event>,
        due: DateTime<Utc>,
        sink: &mut S,
    ) -> Result<(), S::Error> {
        self.scope
            .set_value("event", Dynamic::from(EventHandle(trigger.clone())));
        let result = self.violation(trigger, due, None, sink);
        self.scope.set_value("event", self.handle.clone());
        result
    }

    /// Raises a violation of the term, with `event` (bound in the scope) as the deciding event.
    fn violation<S: Sink>(
        &mut self,
        event: &Event,
        time: DateTime<Utc>,
        evidence: Option<Vec<Evidence>>,
        sink: &mut S,
    ) -> Result<(), S::Error> {
        self.violation_on(Some(event), time, evidence, None, sink)
    }

    /// Raises a violation, possibly without a deciding event (an absence with nothing before
    /// its gap): then `event` is `()` for `breached_by` and the message, whose failures are not
    /// counted (there is no event to blame).
    fn violation_on<S: Sink>(
        &mut self,
        event: Option<&Event>,
        time: DateTime<Utc>,
        evidence: Option<Vec<Evidence>>,
        key: Option<String>,
        sink: &mut S,
    ) -> Result<(), S::Error> {
        self.stats.violations += 1;
        let (mut violation, failure) =
            build(self.program, self.term, self.scope, self.extras, event);
        violation.time = time;
        violation.key = key;
        if let Some(evidence) = evidence {
            violation.evidence = evidence;
        }
        if let (Some(message), Some(event)) = (failure, event) {
            record_error(self.stats, event, message);
        }
        sink.violation(violation)
    }

    /// The key of a selected event under `by` (type-tagged, and its text for the report; no
    /// text without `by`), or `None` when it has none (counted as unkeyed) or `by` fails
    /// (counted as an error).
    fn key(&mut self, by: Option<&AST>, event: &Event) -> Option<(String, Option<String>)> {
        let (program, term) = (self.program, self.term);
        let Some(ast) = by else {
            // Without `by`, one group, and no key to name in the report.
            return Some((String::new(), None));
        };
        let scope = &mut *self.scope;
        let outcome = self
            .extras
            .by
            .outcome(event, || key_for(program, term, scope, ast));
        match outcome {
            Ok(Some((key, label))) => Some((key, Some(label))),
            Ok(None) => {
                self.stats.unkeyed += 1;
                None
            }
            Err(message) => {
                record_error(self.stats, event, message);
                None
            }
        }
    }
}

/// The events that matched one step, with their position in canonical order.
type StepQueue = std::collections::VecDeque<(u64, Rc<Event>)>;

/// The state of one sequence term: per key and per step but the last, the selected events
/// that matched the step within the last `within`, in canonical order (with their position in
/// it).
#[derive(Default)]
struct Chains {
    open: rustc_hash::FxHashMap<String, Vec<StepQueue>>,
    /// Position of the next event in canonical order.
    next: u64,
    since_sweep: u64,
}

impl Chains {
    /// The chain ending at `event` (which matches the last step), choosing for each earlier
    /// step, from the last backwards, the latest event before the next one chosen; `None` if
    /// there is none within `within` (docs/semantics.md, "sequence").
    fn find(
        &self,
        key: &str,
        event: &Event,
        within: chrono::TimeDelta,
        steps: usize,
    ) -> Option<Vec<Evidence>> {
        let start = event.time().checked_sub_signed(within);
        let queues = self.open.get(key)?;
        let mut before = self.next;
        let mut chain = Vec::with_capacity(steps);
        for step in (0..steps.saturating_sub(1)).rev() {
            let (position, event) = queues.get(step)?.iter().rev().find(|(position, e)| {
                *position < before && start.is_none_or(|start| e.time() >= start)
            })?;
            before = *position;
            chain.push(Evidence::of(event));
        }
        chain.reverse();
        Some(chain)
    }

    /// Files `event` under each earlier step it matches, for later chains, and forgets events
    /// too old to start any chain.
    fn add(&mut self, key: String, event: &Rc<Event>, matched: &[bool], within: chrono::TimeDelta) {
        let position = self.next;
        self.next += 1;
        let start = event.time().checked_sub_signed(within);
        let earlier = matched.len().saturating_sub(1);
        let queues = self
            .open
            .entry(key)
            .or_insert_with(|| vec![std::collections::VecDeque::new(); earlier]);
        for (queue, matched) in queues.iter_mut().zip(matched) {
            while queue
                .front()
                .is_some_and(|(_, e)| start.is_some_and(|start| e.time() < start))
            {
                queue.pop_front();
            }
            if *matched {
                queue.push_back((position, event.clone()));
            }
        }
        self.since_sweep += 1;
        if self.since_sweep >= Windows::SWEEP {
            self.since_sweep = 0;
            self.open.retain(|_, queues| {
                queues.iter().any(|queue| {
                    queue
                        .back()
                        .is_some_and(|(_, e)| start.is_none_or(|start| e.time() >= start))
                })
            });
        }
    }
}

/// What a term keeps between events: the state of its form (nothing without one). Built from
/// the form, so each term's state always matches its form.
enum FormState {
    Each,
    Threshold(Windows),
    Deadline(Obligations),
    Absence(Gaps),
    Sequence(Chains),
}

impl FormState {
    fn new(form: &CompiledForm) -> Self {
        match form {
            CompiledForm::Each => FormState::Each,
            CompiledForm::Threshold { .. } => FormState::Threshold(Windows::default()),
            CompiledForm::Deadline { .. } => FormState::Deadline(Obligations::default()),
            CompiledForm::Absence { .. } => FormState::Absence(Gaps::default()),
            CompiledForm::Sequence { .. } => FormState::Sequence(Chains::default()),
        }
    }
}

/// The state of one absence term: per key, when its last selected event came (or the start),
/// that event, and the key's text. Ordered, so that gaps found at the end come in key order.
#[derive(Default)]
struct Gaps {
    /// T0: the later of the log's first event and the term's start; set at the first event.
    start: Option<DateTime<Utc>>,
    last: std::collections::BTreeMap<String, Since>,
    /// When each key's current gap ends, earliest first. An entry is stale once its key has
    /// moved on (a newer event, or the gap reported); stale entries are skipped when they come
    /// up, so checking costs a heap operation per event, not a scan of every key.
    dues: std::collections::BinaryHeap<std::cmp::Reverse<(DateTime<Utc>, String)>>,
}

/// When a key's current gap started, the event that started it (none at T0), the key's text,
/// and whether the gap has been reported already (as soon as time passed its end).
type Since = (DateTime<Utc>, Option<Rc<Event>>, Option<String>, bool);

impl Gaps {
    fn note_due(&mut self, key: &str, since: DateTime<Utc>, within: chrono::TimeDelta) {
        if let Some(due) = since.checked_add_signed(within) {
            self.dues.push(std::cmp::Reverse((due, key.to_string())));
        }
    }
}

/// The obligations of one deadline term.
#[derive(Default)]
struct Obligations {
    /// `within`: triggers waiting for a matching event, in order of their due time.
    pending: std::collections::VecDeque<(Rc<Event>, DateTime<Utc>)>,
    /// `before`: the recent events a later trigger may look back to, oldest first.
    recent: std::collections::VecDeque<Rc<Event>>,
}

impl Obligations {
    /// Keeps `event` for later triggers of a `before` deadline, and forgets events too old
    /// for any of them.
    fn remember(&mut self, event: &Rc<Event>, before: chrono::TimeDelta) {
        self.recent.push_back(event.clone());
        if let Some(start) = event.time().checked_sub_signed(before) {
            while self.recent.front().is_some_and(|r| r.time() < start) {
                self.recent.pop_front();
            }
        }
    }
}

/// Evaluates `term`'s condition on `event`, through its memos.
///
/// A chain is evaluated operand by operand with Rhai's own short-circuit rule; as soon as an
/// operand does not give a plain boolean, the whole expression is evaluated instead, so that
/// errors and their messages are exactly those of the interpreter.
fn decide(
    program: &Program,
    term: &CompiledTerm,
    scope: &mut Scope<'static>,
    memos: &mut [Memo],
    event: &Event,
) -> Outcome {
    let whole = |scope: &mut Scope<'static>| {
        evaluate(program.engine(term), program, term, scope, &term.when)
    };
    match &term.plan {
        Plan::Whole(_) => match memos.first_mut() {
            Some(memo) => memo.outcome(event, || whole(scope)),
            None => whole(scope),
        },
        Plan::Chain { all, operands } => {
            for ((ast, _), memo) in operands.iter().zip(memos.iter_mut()) {
                let operand = || evaluate(program.operand_engine(term), program, term, scope, ast);
                match memo.outcome(event, operand) {
                    // `false` ends an `&&` chain, `true` an `||` chain.
                    Outcome::Decided(value) if value != *all => return Outcome::Decided(value),
                    Outcome::Decided(_) => {}
                    Outcome::NotBoolean(_) | Outcome::Failed(_) => return whole(scope),
                }
            }
            Outcome::Decided(*all)
        }
    }
}

/// Evaluates a condition (a `when`, or one operand of it: positions are the `when`'s) into an
/// [`Outcome`], failures described with their place in the rule file.
pub(crate) fn evaluate(
    engine: &rhai::Engine,
    program: &Program,
    term: &CompiledTerm,
    scope: &mut Scope<'static>,
    ast: &AST,
) -> Outcome {
    match engine.eval_ast_with_scope::<Dynamic>(scope, ast) {
        Ok(value) => match value.as_bool() {
            Ok(fired) => Outcome::Decided(fired),
            Err(type_name) => Outcome::NotBoolean(type_name.to_string()),
        },
        Err(err) => Outcome::Failed(describe(
            &err,
            &program.source(term).when,
            (1, 1),
            program.functions(term),
        )),
    }
}

fn record_error(stats: &mut TermStats, event: &Event, message: String) {
    stats.errors += 1;
    if stats.first_error.is_none() {
        stats.first_error = Some(TermError {
            event: event.id(),
            origin: event.origin().clone(),
            message,
        });
    }
}

/// The open windows of one threshold term: per key, the selected events inside the window,
/// oldest first (docs/semantics.md, "threshold").
#[derive(Default)]
struct Windows {
    open: rustc_hash::FxHashMap<String, std::collections::VecDeque<Rc<Event>>>,
    /// Events pushed since the last sweep of keys whose windows have emptied.
    since_sweep: u64,
}

impl Windows {
    /// Keys swept for empty windows every this many events, so that memory follows the keys
    /// still active, not every key ever seen.
    const SWEEP: u64 = 4096;
    /// The most events a threshold violation cites: the latest of its window.
    const MAX_EVIDENCE: usize = 100;

    /// Adds a selected event (events come in canonical order); returns the window's events
    /// when it holds at least `count`.
    fn push(
        &mut self,
        key: String,
        event: &Rc<Event>,
        within: chrono::TimeDelta,
        count: u64,
    ) -> Option<Vec<Evidence>> {
        let now = event.time();
        // The window is (now - within, now]: an event exactly `within` before is outside.
        let start = now.checked_sub_signed(within);
        let window = self.open.entry(key).or_default();
        while window
            .front()
            .is_some_and(|e| start.is_some_and(|start| e.time() <= start))
        {
            window.pop_front();
        }
        // In time order: a late event on a stream goes where its time puts it, so that the
        // window still expires from its front.
        let at = window.partition_point(|e| e.time() <= now);
        window.insert(at, event.clone());
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
            // At most the last MAX_EVIDENCE events: a long window must not make every
            // violation carry (and the report repeat) thousands of events.
            in_window
                .skip(total.saturating_sub(Self::MAX_EVIDENCE))
                .map(|e| Evidence::of(e))
                .collect()
        });
        self.since_sweep += 1;
        if self.since_sweep >= Self::SWEEP {
            self.since_sweep = 0;
            self.open.retain(|_, window| {
                window
                    .back()
                    .is_some_and(|e| start.is_none_or(|start| e.time() > start))
            });
        }
        full
    }
}

/// Memos for what a fired term evaluates besides its condition: the party in breach and each
/// message placeholder, with the failure each gave (they are pure like the condition).
struct Extras {
    breach: Memo<(Option<String>, Option<String>)>,
    pieces: Vec<Memo<(String, Option<String>)>>,
    /// A form's `by`: the key (type-tagged, and its text), `None` for `()`, or the failure.
    by: Memo<Result<Option<(String, String)>, String>>,
    /// A sequence's steps: matched or not, or the failure.
    steps: Vec<Memo<Result<bool, String>>>,
}

impl Extras {
    fn new(program: &Program, term: &CompiledTerm, memo: bool) -> Self {
        let reads = |ast: &AST| {
            if memo {
                crate::memo::read_set(ast)
            } else {
                None
            }
        };
        let watch = program.unlocated(term);
        Extras {
            breach: Memo::new(match &term.breached_by {
                CompiledBreach::Expression(ast) => reads(ast),
                CompiledBreach::Party(_) => None,
            })
            .watching(watch.clone()),
            pieces: term
                .message
                .iter()
                .flatten()
                .filter_map(|piece| match piece {
                    Piece::Expression(ast, _) => {
                        Some(Memo::new(reads(ast)).watching(watch.clone()))
                    }
                    Piece::Text(_) => None,
                })
                .collect(),
            by: Memo::new(match &term.form {
                CompiledForm::Threshold { by: Some(ast), .. }
                | CompiledForm::Absence { by: Some(ast), .. }
                | CompiledForm::Sequence { by: Some(ast), .. } => reads(ast),
                _ => None,
            })
            .watching(watch.clone()),
            steps: match &term.form {
                CompiledForm::Sequence { steps, .. } => steps
                    .iter()
                    .map(|ast| Memo::new(reads(ast)).watching(watch.clone()))
                    .collect(),
                _ => Vec::new(),
            },
        }
    }
}

/// The message of a `when` that gave something other than a boolean.
pub(crate) fn not_boolean(program: &Program, term: &CompiledTerm, type_name: &str) -> String {
    format!(
        "`when` gave {type_name}, not a boolean (at {})",
        at(&program.source(term).when, (1, 1), Position::NONE)
    )
}

/// Whether the event bound in `scope` matches step `i` of a sequence term, or the failure.
pub(crate) fn step_matches(
    program: &Program,
    term: &CompiledTerm,
    scope: &mut Scope<'static>,
    i: usize,
    step: &AST,
) -> Result<bool, String> {
    match eval(program, term, scope, step) {
        Ok(value) => value
            .as_bool()
            .map_err(|type_name| format!("step {} gave {type_name}, not a boolean", i + 1)),
        Err(err) => {
            let source = match &program.source(term).form {
                Form::Sequence(q) => q.steps.get(i),
                _ => None,
            };
            Err(match source {
                Some(step) => format!(
                    "step {} failed: {}",
                    i + 1,
                    describe(&err, step, (1, 1), program.functions(term))
                ),
                None => format!("step {} failed: {err}", i + 1),
            })
        }
    }
}

/// The key of the event bound in `scope` under a form's `by`: type-tagged (as windows and gaps
/// are filed) and as text; `None` for `()`; or the failure.
pub(crate) fn key_for(
    program: &Program,
    term: &CompiledTerm,
    scope: &mut Scope<'static>,
    by: &AST,
) -> Result<Option<(String, String)>, String> {
    match eval(program, term, scope, by) {
        Ok(value) if value.is_unit() => Ok(None),
        Ok(value) => Ok(Some((crate::compile::key_of(&value), value.to_string()))),
        Err(err) => {
            let source = match &program.source(term).form {
                Form::Threshold(t) => t.by.as_ref(),
                Form::Absence(a) => a.by.as_ref(),
                Form::Sequence(q) => q.by.as_ref(),
                _ => None,
            };
            Err(match source {
                Some(by) => format!(
                    "`by` failed: {}",
                    describe(&err, by, (1, 1), program.functions(term))
                ),
                None => format!("`by` failed: {err}"),
            })
        }
    }
}

/// The violation `term` would raise resting on `event` (bound as `event` in `scope`), and
/// the first failure of its `breached_by` or message: evaluated afresh, remembering nothing.
pub(crate) fn violation_for(
    program: &Program,
    term: &CompiledTerm,
    scope: &mut Scope<'static>,
    event: &Event,
) -> (Violation, Option<String>) {
    let mut extras = Extras::new(program, term, false);
    build(program, term, scope, &mut extras, Some(event))
}

/// Builds the violation a fired term raises for `event`, with the first failure of its
/// `breached_by` or message, if any.
fn build(
    program: &Program,
    term: &CompiledTerm,
    scope: &mut Scope<'static>,
    extras: &mut Extras,
    event: Option<&Event>,
) -> (Violation, Option<String>) {
    // Without a deciding event (an absence with none before the gap), nothing is remembered.
    fn remembered<T: Clone>(memo: &mut Memo<T>, event: Option<&Event>, f: impl FnOnce() -> T) -> T {
        match event {
            Some(event) => memo.outcome(event, f),
            None => f(),
        }
    }
    let source = program.source(term);
    let functions = program.functions(term);
    let (breached_by, mut failure) = match (&term.breached_by, &source.breached_by) {
        (CompiledBreach::Party(code), _) | (CompiledBreach::Expression(_), Breach::Party(code)) => {
            (Some(code.clone()), None)
        }
        (CompiledBreach::Expression(ast), Breach::Expression(expression)) => {
            remembered(&mut extras.breach, event, || {
                match eval(program, term, scope, ast) {
                    Ok(value) if value.is_unit() => (None, None),
                    Ok(value) => {
                        let code = value.to_string();
                        let declared = program
                            .agreements
                            .get(term.agreement)
                            .is_some_and(|a| a.parties.iter().any(|(c, _)| *c == code));
                        if declared {
                            (Some(code), None)
                        } else {
                            let why = format!(
                                "`breached_by` gave `{code}` ({}), not a declared party; the violation is unattributed (at {})",
                                value.type_name(),
                                at(expression, (1, 1), Position::NONE)
                            );
                            (None, Some(why))
                        }
                    }
                    Err(err) => {
                        let why = format!(
                            "`breached_by` failed: {}",
                            describe(&err, expression, (1, 1), functions)
                        );
                        (None, Some(why))
                    }
                }
            })
        }
    };
    let message = match (&term.message, &source.message) {
        (Some(pieces), Some(expression)) => {
            let mut out = String::new();
            let mut memos = extras.pieces.iter_mut();
            for piece in pieces {
                let Piece::Expression(ast, offset) = piece else {
                    if let Piece::Text(text) = piece {
                        out.push_str(text);
                    }
                    continue;
                };
                // One memo per placeholder, in order (`Extras::new`).
                let Some(memo) = memos.next() else {
                    continue;
                };
                let (text, why) =
                    remembered(memo, event, || match eval(program, term, scope, ast) {
                        Ok(value) if !value.is_unit() => (value.to_string(), None),
                        Ok(_) => ("?".to_string(), None),
                        Err(err) => (
                            "?".to_string(),
                            Some(format!(
                                "a `message` placeholder failed: {}",
                                describe(&err, expression, *offset, functions)
                            )),
                        ),
                    });
                out.push_str(&text);
                if failure.is_none() {
                    failure = why;
                }
            }
            out
        }
        _ => source.title.clone(),
    };
    let violation = Violation {
        agreement: term.agreement,
        term: term.term,
        time: event.map(Event::time).unwrap_or_default(),
        breached_by,
        message,
        location: event.map(Location::of).unwrap_or_default(),
        evidence: event.map(Evidence::of).into_iter().collect(),
        key: None,
    };
    (violation, failure)
}

pub(crate) fn eval(
    program: &Program,
    term: &CompiledTerm,
    scope: &mut Scope<'static>,
    ast: &AST,
) -> Result<Dynamic, Box<EvalAltResult>> {
    program
        .engine(term)
        .eval_ast_with_scope::<Dynamic>(scope, ast)
}

/// A run-time error in words, on one line, with positions in the rule file rather than in the
/// expression: where the failing expression is, and for an error inside a function, where in
/// the `functions` block it happened and where the function was called. `offset` is where the
/// evaluated text starts inside `here` (a message placeholder starts after its brace).
pub(crate) fn describe(
    err: &EvalAltResult,
    here: &Expression,
    offset: (u64, u64),
    functions: Option<&Expression>,
) -> String {
    if let EvalAltResult::ErrorInFunctionCall(name, _, inner, call) = err {
        let inside = describe(inner, functions.unwrap_or(here), (1, 1), functions);
        return format!(
            "{inside}, in function `{name}` called at {}",
            at(here, offset, *call)
        );
    }
    let mut text = err.to_string();
    // Rhai appends " (line L, position C)"; the position in the YAML file replaces it.
    if let Some(cut) = text.rfind(" (line ") {
        text.truncate(cut);
    }
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    format!("{text} (at {})", at(here, offset, err.position()))
}

/// `FILE:LINE:COLUMN` of a Rhai position in text that starts at `offset` inside `source`.
fn at(source: &Expression, offset: (u64, u64), position: Position) -> String {
    let (line, column) = crate::compile::position_from(source, offset, position);
    format!("{}:{line}:{column}", source.source.name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventParser;
    use crate::sink::Collect;
    use crate::{Limits, agreement, compile};

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
        let attributed = |v: &[Violation]| v.iter().filter(|v| v.breached_by.is_some()).count();
        assert!(attributed(&fast.0) > 0 && attributed(&fast.0) < fast.0.len());
        assert!(fast.0.iter().any(|v| v.message.ends_with(": ?")));
        assert!(fast.0.iter().any(|v| v.message.ends_with(": true")));
    }
}
