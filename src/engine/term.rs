//! One term judging one event: evaluating its expressions and raising its violations.
//!
//! [`TermState`] is a term's view of the replay while it judges an event: the program, the
//! agreement's scope (`event` bound to the event), the term's counters and memos. The forms
//! ([`crate::engine::forms`]) call it to evaluate a key, a step or a `require`, to record a
//! failure, and to raise a violation, whose party and message it evaluates. The free functions
//! here are the evaluation steps a replay and `explain` share, so that the two cannot
//! disagree: each failure is described with its place in the rule file.

use std::rc::Rc;

use chrono::{DateTime, Utc};
use rhai::{AST, Dynamic, EvalAltResult, Position, Scope};

use crate::engine::forms::{Evaluate, Judge, SharedKey, Source};
use crate::engine::memo::{Memo, Outcome};
use crate::engine::program::{CompiledBreach, CompiledTerm, Piece, Plan, Program};
use crate::engine::sink::{Evidence, Location, Sink, Violation};
use crate::engine::stats::{Failure, FailureKind, Part, TermError, TermStats};
use crate::event::{Event, EventHandle};
use crate::expr::cost::bounded_text;
use crate::expr::position::{describe_at, locate};
use crate::expr::template::MAX_MESSAGE_BYTES;
use crate::load::Expression;
use crate::load::agreement::Breach;

/// One term's share of the replay state while it judges one event.
pub(crate) struct TermState<'a, 'p> {
    pub(crate) program: &'p Program,
    pub(crate) term: &'p CompiledTerm,
    pub(crate) stats: &'a mut TermStats,
    pub(crate) scope: &'a mut Scope<'static>,
    pub(crate) extras: &'a mut Extras,
    /// The current event as a Rhai value, to restore after evaluating with another.
    pub(crate) handle: &'a Dynamic,
}

impl TermState<'_, '_> {
    /// Whether the term selects `event` (its `when`), counting failures.
    pub(crate) fn select(&mut self, memo: &mut [Memo], event: &Rc<Event>, plain: bool) -> bool {
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
            Outcome::Failed(failure) => {
                record_error(self.stats, event, failure);
                false
            }
        }
    }
}

impl Evaluate for TermState<'_, '_> {
    fn key(&mut self, by: &Source) -> Result<Option<(SharedKey, SharedKey)>, Box<Failure>> {
        key_for(self.program, self.term, self.scope, by)
    }

    fn step(&mut self, i: usize, step: &Source) -> Result<bool, Box<Failure>> {
        step_matches(self.program, self.term, self.scope, i, step)
    }
}

impl Judge for TermState<'_, '_> {
    fn require(
        &mut self,
        require: &Source,
        candidate: &Rc<Event>,
        trigger: &Rc<Event>,
    ) -> Result<bool, Box<Failure>> {
        let (program, term) = (self.program, self.term);
        self.scope
            .set_value("event", Dynamic::from(EventHandle(candidate.clone())));
        self.scope
            .set_value("trigger", Dynamic::from(EventHandle(trigger.clone())));
        match program
            .engine(term)
            .eval_ast_with_scope::<Dynamic>(self.scope, &require.ast)
        {
            Ok(value) => value.as_bool().map_err(|type_name| {
                Box::new(Failure {
                    part: Part::Require,
                    kind: FailureKind::NotBoolean,
                    at: None,
                    message: format!("`require` gave {type_name}, not a boolean"),
                })
            }),
            Err(err) => Err(failed(
                Part::Require,
                "`require` failed: ",
                &err,
                &require.text,
                (1, 1),
                program.functions(term),
            )),
        }
    }

    fn bind_event(&mut self, event: Option<&Rc<Event>>) {
        let bound = match event {
            Some(event) => Dynamic::from(EventHandle(event.clone())),
            None => Dynamic::UNIT,
        };
        self.scope.set_value("event", bound);
    }

    fn restore_event(&mut self) {
        self.scope.set_value("event", self.handle.clone());
    }

    fn record_error(&mut self, event: &Event, failure: Box<Failure>) {
        record_error(self.stats, event, failure);
    }

    fn unkeyed(&mut self) {
        self.stats.unkeyed += 1;
    }

    fn raise<S: Sink>(
        &mut self,
        event: Option<&Event>,
        time: DateTime<Utc>,
        evidence: Option<Vec<Evidence>>,
        key: Option<String>,
        in_window: Option<u64>,
        sink: &mut S,
    ) -> Result<(), S::Error> {
        self.stats.violations += 1;
        let (mut violation, failure) = build(
            self.program,
            self.term,
            self.scope,
            self.extras,
            event,
            key.as_deref(),
        );
        violation.time = time;
        violation.key = key;
        violation.in_window = in_window;
        if let Some(evidence) = evidence {
            violation.evidence = evidence;
        }
        crate::expr::cost::charge_evidence(violation.evidence.len());
        if let (Some(failure), Some(event)) = (failure, event) {
            record_error(self.stats, event, failure);
        }
        sink.violation(violation)
    }

    fn term(&self) -> (usize, usize) {
        (self.term.agreement, self.term.term)
    }
}

/// Counts a failure of one of a term's expressions on `event`; the first is kept.
#[allow(clippy::boxed_local)] // Failures travel boxed (see `Failure`); kept unboxed.
fn record_error(stats: &mut TermStats, event: &Event, failure: Box<Failure>) {
    stats.errors += 1;
    if stats.first_error.is_none() {
        stats.first_error = Some(TermError {
            event: event.id(),
            origin: event.origin().clone(),
            failure: *failure,
        });
    }
}

/// A term's expressions evaluated on the event bound in `scope`, remembering nothing: what
/// `explain` asks a form with.
pub(crate) struct Probe<'a, 'p> {
    pub(crate) program: &'p Program,
    pub(crate) term: &'p CompiledTerm,
    pub(crate) scope: &'a mut Scope<'static>,
}

impl Evaluate for Probe<'_, '_> {
    fn key(&mut self, by: &Source) -> Result<Option<(SharedKey, SharedKey)>, Box<Failure>> {
        key_for(self.program, self.term, self.scope, by)
    }

    fn step(&mut self, i: usize, step: &Source) -> Result<bool, Box<Failure>> {
        step_matches(self.program, self.term, self.scope, i, step)
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
        Err(err) => Outcome::Failed(failed(
            Part::When,
            "",
            &err,
            &program.source(term).when,
            (1, 1),
            program.functions(term),
        )),
    }
}

/// Memos for what a fired term evaluates besides its condition: the party in breach and each
/// message placeholder, with the failure each gave (they are pure like the condition).
pub(crate) struct Extras {
    breach: Memo<(Vec<String>, Option<Box<Failure>>)>,
    pieces: Vec<Memo<(String, Option<Box<Failure>>)>>,
}

impl Extras {
    pub(crate) fn new(term: &CompiledTerm, memo: bool) -> Self {
        let reads = |ast: &AST| {
            if memo {
                crate::expr::reads::read_set(ast)
            } else {
                None
            }
        };
        Extras {
            breach: Memo::new(match &term.breached_by {
                CompiledBreach::Expression(ast) => reads(ast),
                CompiledBreach::Parties(_) => None,
            }),
            pieces: term
                .message
                .iter()
                .flatten()
                .filter_map(|piece| match piece {
                    Piece::Expression(ast, _) => Some(Memo::new(reads(ast))),
                    Piece::Text(_) => None,
                })
                .collect(),
        }
    }
}

/// The message of a `when` that gave something other than a boolean.
pub(crate) fn not_boolean(program: &Program, term: &CompiledTerm, type_name: &str) -> Box<Failure> {
    let at = locate(&program.source(term).when, (1, 1), Position::NONE);
    Box::new(Failure {
        part: Part::When,
        kind: FailureKind::NotBoolean,
        message: format!("`when` gave {type_name}, not a boolean (at {at})"),
        at: Some(at),
    })
}

/// A failure of evaluation, described with its place in the rule file, after `prefix`.
fn failed(
    part: Part,
    prefix: &str,
    err: &EvalAltResult,
    here: &Expression,
    offset: (u64, u64),
    functions: Option<&Expression>,
) -> Box<Failure> {
    let (text, at) = describe_at(err, here, offset, functions);
    Box::new(Failure {
        part,
        kind: FailureKind::Error,
        at: Some(at),
        message: format!("{prefix}{text}"),
    })
}

/// Whether the event bound in `scope` matches step `i` of a sequence term, or the failure.
fn step_matches(
    program: &Program,
    term: &CompiledTerm,
    scope: &mut Scope<'static>,
    i: usize,
    step: &Source,
) -> Result<bool, Box<Failure>> {
    match eval(program, term, scope, &step.ast) {
        Ok(value) => value.as_bool().map_err(|type_name| {
            Box::new(Failure {
                part: Part::Step(i),
                kind: FailureKind::NotBoolean,
                at: None,
                message: format!("step {} gave {type_name}, not a boolean", i + 1),
            })
        }),
        Err(err) => Err(failed(
            Part::Step(i),
            &format!("step {} failed: ", i + 1),
            &err,
            &step.text,
            (1, 1),
            program.functions(term),
        )),
    }
}

/// The key of the event bound in `scope` under a form's `by`: type-tagged (as windows and gaps
/// are filed) and as text; `None` for `()`; or the failure.
fn key_for(
    program: &Program,
    term: &CompiledTerm,
    scope: &mut Scope<'static>,
    by: &Source,
) -> Result<Option<(SharedKey, SharedKey)>, Box<Failure>> {
    match eval(program, term, scope, &by.ast) {
        Ok(value) if value.is_unit() => Ok(None),
        Ok(value) => {
            // A key is state kept per key: its length is bounded like everything kept.
            let (text, whole) = bounded_text(&value, MAX_KEY_BYTES);
            if !whole {
                let at = locate(&by.text, (1, 1), Position::NONE);
                return Err(Box::new(Failure {
                    part: Part::By,
                    kind: FailureKind::Error,
                    message: format!(
                        "`by` failed: its key is longer than {MAX_KEY_BYTES} bytes (at {at})"
                    ),
                    at: Some(at),
                }));
            }
            Ok(Some((
                format!("{}:{text}", value.type_name()).into(),
                text.into(),
            )))
        }
        Err(err) => Err(failed(
            Part::By,
            "`by` failed: ",
            &err,
            &by.text,
            (1, 1),
            program.functions(term),
        )),
    }
}

/// The violation `term` would raise resting on `event` (bound as `event` in `scope`), and
/// the first failure of its `breached_by` or message: evaluated afresh, remembering nothing.
pub(crate) fn violation_for(
    program: &Program,
    term: &CompiledTerm,
    scope: &mut Scope<'static>,
    event: &Event,
) -> (Violation, Option<Box<Failure>>) {
    let mut extras = Extras::new(term, false);
    build(program, term, scope, &mut extras, Some(event), None)
}

/// Bytes of a form's key (the text of what `by` gave).
pub(crate) const MAX_KEY_BYTES: usize = 1024;

/// A message cut to [`MAX_MESSAGE_BYTES`] (at a character boundary, ending with `…`) if it is
/// longer.
fn cut_message(mut message: String) -> String {
    if message.len() <= MAX_MESSAGE_BYTES {
        return message;
    }
    message.truncate(message.floor_char_boundary(MAX_MESSAGE_BYTES - '…'.len_utf8()));
    message.push('…');
    message
}

/// Builds the violation a fired term raises for `event`, with the first failure of its
/// `breached_by` or message, if any.
fn build(
    program: &Program,
    term: &CompiledTerm,
    scope: &mut Scope<'static>,
    extras: &mut Extras,
    event: Option<&Event>,
    key: Option<&str>,
) -> (Violation, Option<Box<Failure>>) {
    // A keyed term whose party or message reads `key` sees the violation's key; what depends on
    // it is not the event's alone, so nothing is remembered by the event.
    let event_alone = if term.reads_key {
        scope.set_value(
            "key",
            key.map_or(Dynamic::UNIT, |k| Dynamic::from(k.to_string())),
        );
        None
    } else {
        event
    };
    // Without a deciding event (an absence with none before the gap), nothing is remembered.
    fn remembered<T: Clone + crate::engine::memo::Weigh>(
        memo: &mut Memo<T>,
        event: Option<&Event>,
        f: impl FnOnce() -> T,
    ) -> T {
        match event {
            Some(event) => memo.outcome(event, f),
            None => f(),
        }
    }
    let source = program.source(term);
    let functions = program.functions(term);
    let (breached_by, mut failure) = match (&term.breached_by, &source.breached_by) {
        (CompiledBreach::Parties(codes), _)
        | (CompiledBreach::Expression(_), Breach::Parties(codes)) => (codes.clone(), None),
        (CompiledBreach::Expression(ast), Breach::Expression(expression)) => {
            remembered(&mut extras.breach, event_alone, || {
                match eval(program, term, scope, ast) {
                    Ok(value) => match charged(program, term, value) {
                        Ok(codes) => (codes, None),
                        Err(why) => {
                            let at = locate(expression, (1, 1), Position::NONE);
                            let why = Failure {
                                part: Part::BreachedBy,
                                kind: FailureKind::NotAParty,
                                message: format!("{why}; the violation is unattributed (at {at})"),
                                at: Some(at),
                            };
                            (Vec::new(), Some(Box::new(why)))
                        }
                    },
                    Err(err) => {
                        let why = failed(
                            Part::BreachedBy,
                            "`breached_by` failed: ",
                            &err,
                            expression,
                            (1, 1),
                            functions,
                        );
                        (Vec::new(), Some(why))
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
                let (text, why) = remembered(memo, event_alone, || {
                    match eval(program, term, scope, ast) {
                        // No placeholder can give more than a whole message holds.
                        Ok(value) if !value.is_unit() => {
                            (bounded_text(&value, MAX_MESSAGE_BYTES + 1).0, None)
                        }
                        Ok(_) => ("?".to_string(), None),
                        Err(err) => (
                            "?".to_string(),
                            Some(failed(
                                Part::Message,
                                "a `message` placeholder failed: ",
                                &err,
                                expression,
                                *offset,
                                functions,
                            )),
                        ),
                    }
                });
                out.push_str(&text);
                if failure.is_none() {
                    failure = why;
                }
                if out.len() > MAX_MESSAGE_BYTES {
                    break;
                }
            }
            cut_message(out)
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
        in_window: None,
    };
    (violation, failure)
}

/// The codes a `breached_by` expression's value charges, in the agreement's order
/// ([`crate::load::agreement::Agreement::chargeable`]), each once: a code, or a list of codes.
/// `()` charges no one (the violation is unattributed), as does `()` in a list; anything else
/// that is not a declared party or other is an error, and then no one is charged: a violation
/// half-attributed would misstate who is in breach.
fn charged(program: &Program, term: &CompiledTerm, value: Dynamic) -> Result<Vec<String>, String> {
    let Some(agreement) = program.agreements.get(term.agreement) else {
        return Ok(Vec::new());
    };
    let rank = |code: &str| agreement.chargeable().position(|(c, _)| c == code);
    let declared = if agreement.others.is_empty() {
        "a declared party"
    } else {
        "a declared party or other"
    };
    let one = |item: &Dynamic, of: Option<usize>| -> Result<Option<usize>, String> {
        if item.is_unit() {
            return Ok(None);
        }
        let code = item.to_string();
        match rank(&code) {
            Some(rank) if item.is_string() => Ok(Some(rank)),
            _ => Err(format!(
                "`breached_by` gave `{code}` ({}){}, not {declared}",
                item.type_name(),
                of.map_or(String::new(), |n| format!(" in a list of {n}")),
            )),
        }
    };
    let mut ranks = match value.clone().into_array() {
        Ok(items) => {
            let n = items.len();
            let mut ranks = Vec::with_capacity(n.min(16));
            for item in &items {
                ranks.extend(one(item, Some(n))?);
            }
            ranks
        }
        Err(_) => one(&value, None)?.into_iter().collect(),
    };
    ranks.sort_unstable();
    ranks.dedup();
    Ok(ranks
        .into_iter()
        .filter_map(|r| agreement.chargeable().nth(r).map(|(c, _)| c.clone()))
        .collect())
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
