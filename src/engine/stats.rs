//! What a replay counts and leaves open, per term: the numbers a report is built from.
//!
//! Kept apart from [`crate::engine::replay`] so that the forms and the term evaluation, which
//! fill them, need not know the replay loop.

use chrono::{DateTime, Utc};

use crate::engine::sink::Evidence;
use crate::event::Origin;
use crate::expr::position::SourceLocation;

/// What happened to one term over a replay.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
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
    /// Events not judged because the term had been suspended (see [`TermStats::suspension`]);
    /// `evaluated + out_of_period + suspended` is every event read.
    pub suspended: u64,
    /// The event after which the term was suspended — for spending more than its budget over
    /// the replay, or for holding more live state than it may — and why; it judged no later
    /// event and decided nothing at the end.
    pub suspension: Option<Suspension>,
}

/// A term stopped during a replay: after which event, why, and the units it had spent against
/// the units it was allowed by then.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Suspension {
    /// The event's id.
    pub event: String,
    /// Its file and line.
    pub origin: Origin,
    /// Units spent by the term up to and including that event.
    pub spent: u64,
    /// Units it was allowed by then.
    pub allowance: u64,
    /// Why it was suspended.
    pub reason: SuspensionReason,
}

/// Why a term was suspended (docs/security.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum SuspensionReason {
    /// It spent more units than it was allowed by then ([`Suspension::spent`],
    /// [`Suspension::allowance`]).
    Budget,
    /// Its live state passed the limit of one term.
    State {
        /// Bytes of live state it held, as the engine counts them.
        held: u64,
        /// The limit of one term, in the same bytes.
        limit: u64,
    },
    /// All terms' live state together passed the program's limit, and it held the most.
    AllState {
        /// Bytes of live state it held.
        held: u64,
        /// Bytes all terms held together.
        all: u64,
        /// The limit of all terms together.
        limit: u64,
    },
}

/// One of a term's expressions that failed on an event.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct TermError {
    /// The event's id.
    pub event: String,
    /// Its file and line.
    pub origin: Origin,
    /// What failed, how, and where in the rule file.
    pub failure: Failure,
}

/// Which expression of a term failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum Part {
    /// The condition, `when`.
    When,
    /// `breached_by`.
    BreachedBy,
    /// A placeholder of `message`.
    Message,
    /// A form's `by`.
    By,
    /// A sequence's step (0-based).
    Step(usize),
    /// A deadline's `require`.
    Require,
}

/// How an expression failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum FailureKind {
    /// Its evaluation stopped with an error (a missing field ordered, a limit reached, …).
    Error,
    /// It gave a value of another type than a boolean, where a boolean is needed.
    NotBoolean,
    /// `breached_by` gave a value that is not a declared party: the violation is unattributed.
    NotAParty,
}

/// An expression that failed on an event: which, how, where in the rule file, and in words.
///
/// Inside the engine a failure travels boxed (`Box<Failure>`): outcomes that are almost
/// always a plain boolean stay small in the memo's tables and on the hot path.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Failure {
    /// Which expression.
    pub part: Part,
    /// How.
    pub kind: FailureKind,
    /// Where in the rule file (the expression, or the call that failed inside a function);
    /// `None` where only the expression as a whole is known.
    pub at: Option<SourceLocation>,
    /// In words, with the position: what reports print.
    pub message: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// An obligation neither kept nor broken when the log ends: its deadline lies after the last
/// event.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
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
