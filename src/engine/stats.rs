//! What a replay counts and leaves open, per term: the numbers a report is built from.
//!
//! Kept apart from [`crate::engine::replay`] so that the forms and the term evaluation, which
//! fill them, need not know the replay loop.

use chrono::{DateTime, Utc};

use crate::engine::sink::Evidence;
use crate::event::Origin;

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
