//! The compiled program: what the engine runs.
//!
//! [`crate::compile()`] turns agreements into a [`Program`]; the engine only reads it. It lives
//! with the engine rather than with the compiler so that the dependency runs one way: the
//! compiler knows the engine's types (it builds them), the engine never knows the compiler.

use rhai::{AST, Engine, ImmutableString};

use crate::engine::forms::CompiledForm;
use crate::engine::native::{Condition, Dispatch, Fields};
use crate::load::Expression;
use crate::load::agreement::{Agreement, Period};

/// Agreements compiled and ready to judge events.
pub struct Program {
    /// One pair of engines per agreement, in the same order: an agreement's engine knows its
    /// own geography (`inside`, `distance_km`, …), so no agreement can see another's areas.
    pub(crate) engines: Vec<Engines>,
    pub(crate) agreements: Vec<Agreement>,
    pub(crate) terms: Vec<CompiledTerm>,
    /// The top-level event fields that any expression of the program, or a report, can read
    /// (the input parses only these into values); `None` when an expression could read any
    /// field (`event[name]` with a computed name).
    pub(crate) reads: Option<std::rc::Rc<crate::event::FieldSet>>,
    /// The fields the terms' native tests read, and the texts they compare them with.
    pub(crate) fields: Fields,
    /// The longest text an expression may read (`Limits::max_string_size`; 0: no limit).
    pub(crate) max_text: usize,
    /// What one term may spend over a replay: units in all, and units per event read
    /// (`Limits::max_term_units`, `Limits::max_term_units_per_event`).
    pub(crate) term_budget: (u64, u64),
    /// The agreements' vocabularies merged: what the run holds its events to (empty: none).
    pub(crate) vocabulary: std::rc::Rc<crate::load::vocabulary::Vocabulary>,
}

impl std::fmt::Debug for Program {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Program")
            .field("agreements", &self.agreements.len())
            .field("terms", &self.terms.len())
            .finish()
    }
}

/// The sandboxed engines of one agreement.
pub(crate) struct Engines {
    pub(crate) main: Engine,
    /// The same sandbox with an operation budget of a [`MAX_CHAIN`]th of the whole (see
    /// [`Plan::Chain`]).
    pub(crate) operand: Engine,
}

impl Program {
    /// The engine that runs a term's expressions.
    #[allow(clippy::indexing_slicing)]
    pub(crate) fn engine(&self, term: &CompiledTerm) -> &Engine {
        // PANIC SAFETY: `compile` builds one Engines per agreement, and terms index agreements.
        &self.engines[term.agreement].main
    }

    /// The engine that runs one operand of a term's `&&`/`||` chain.
    #[allow(clippy::indexing_slicing)]
    pub(crate) fn operand_engine(&self, term: &CompiledTerm) -> &Engine {
        // PANIC SAFETY: as for `engine`.
        &self.engines[term.agreement].operand
    }

    /// The top-level event fields the program can read (`None`: any).
    pub(crate) fn reads(&self) -> Option<std::rc::Rc<crate::event::FieldSet>> {
        self.reads.clone()
    }

    /// The agreements' vocabularies, merged: what the events are held to (empty when no
    /// agreement declares one).
    pub fn vocabulary(&self) -> &std::rc::Rc<crate::load::vocabulary::Vocabulary> {
        &self.vocabulary
    }

    /// The agreements, in the order they were given.
    pub fn agreements(&self) -> &[Agreement] {
        &self.agreements
    }

    /// The agreement term a compiled term was built from.
    #[allow(clippy::indexing_slicing)]
    pub(crate) fn source(&self, term: &CompiledTerm) -> &crate::load::agreement::Term {
        // PANIC SAFETY: `compile` builds each CompiledTerm from these very indices, and the
        // agreements are never changed afterwards.
        &self.agreements[term.agreement].terms[term.term]
    }

    /// Whether some term depends on the order of events (a threshold, …): such a program is
    /// fed events in canonical order (docs/semantics.md).
    pub fn is_temporal(&self) -> bool {
        self.terms.iter().any(|t| t.form.is_temporal())
    }

    /// The `functions` block of a compiled term's agreement, if it has one.
    pub(crate) fn functions(&self, term: &CompiledTerm) -> Option<&Expression> {
        self.agreements
            .get(term.agreement)
            .and_then(|a| a.functions.as_ref())
    }
}

/// One term, ready to run.
pub(crate) struct CompiledTerm {
    /// Index into [`Program::agreements`].
    pub agreement: usize,
    /// Index into that agreement's terms.
    pub term: usize,
    pub period: Period,
    pub when: AST,
    /// How `when` is evaluated: whole, or operand by operand (see `crate::engine::memo`).
    pub plan: Plan,
    /// What the term's `when` tests a field against texts with (`event.kind == "x" && …`,
    /// `event.actor in list && …`): on an event whose field holds none of those texts the
    /// term selects nothing, with no error hidden, so the replay need not visit it (see
    /// [`Dispatch`]). `None`: every event is judged.
    pub dispatch: Option<Dispatch>,
    /// `when`, as far as it can be judged without the interpreter (see
    /// `crate::engine::native`).
    pub native: Option<Condition>,
    pub breached_by: CompiledBreach,
    pub message: Option<Vec<Piece>>,
    pub form: CompiledForm,
    /// Whether `breached_by` or the message reads `key` (a keyed form's violation's key):
    /// they are then evaluated with it bound, and never remembered by the event alone.
    pub reads_key: bool,
}

/// The longest `&&`/`||` chain evaluated operand by operand.
///
/// Each operand runs with a budget of `(max_operations - 64) / MAX_CHAIN` operations, so that
/// operands evaluated one by one can never succeed where the whole expression would have run
/// out of operations: an operand that exceeds its share makes the whole expression run instead.
pub(crate) const MAX_CHAIN: usize = 8;

/// How a condition is evaluated.
pub(crate) enum Plan {
    /// As one expression, memoised on the fields it reads.
    Whole(Option<Vec<ImmutableString>>),
    /// A top-level `&&` (`all: true`) or `||` chain, operand by operand, each memoised on its
    /// own fields, so that a cheap, repetitive operand decides most events alone.
    Chain {
        all: bool,
        operands: Vec<(AST, Option<Vec<ImmutableString>>)>,
    },
}

pub(crate) enum CompiledBreach {
    /// Declared codes, in the agreement's order.
    Parties(Vec<String>),
    Expression(AST),
}

/// A part of a message template.
pub(crate) enum Piece {
    Text(String),
    /// A placeholder, with where its text starts inside the message (line, column).
    Expression(AST, (u64, u64)),
}
