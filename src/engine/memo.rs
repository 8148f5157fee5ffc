//! Remembering what a condition decided for the same field values.
//!
//! A `when` expression is a pure function of the event fields it reads: the sandbox has no
//! clock, no randomness, no IO, and expressions cannot change the event or the lists. So
//! compilation works out which fields an expression can read ([`read_set`]); if the set is
//! known, the outcome for one combination of those values is the outcome for every event with
//! the same combination. Incident logs repeat a few kinds, actors and countries endlessly, so
//! most events are decided by one hash lookup instead of an interpreter run.
//!
//! The memo is exact, never a heuristic: a miss runs the interpreter, errors are remembered
//! with their message, and a term whose keys rarely repeat (it reads coordinates or times)
//! switches the memo off after a trial, which changes speed but never a result. The table is
//! bounded in entries and each key in bytes, so memory stays flat however long the log; and
//! all tables of a thread together hold at most [`MAX_HELD`] bytes (a thousand terms with
//! thirty-two message placeholders each would otherwise be allowed gigabytes): a table that
//! would pass it empties itself first, and remembers nothing more while the others hold it.

use std::cell::Cell;

use rhai::{Dynamic, ImmutableString};
use rustc_hash::FxHashMap;

use crate::event::{Event, FieldHint};

/// What a condition decided for one event.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// It evaluated to this boolean.
    Decided(bool),
    /// It evaluated to something else (the type's name).
    NotBoolean(String),
    /// It failed.
    Failed(Box<crate::engine::stats::Failure>),
}

/// Bytes all memo tables of a thread may hold together.
pub(crate) const MAX_HELD: usize = 64 << 20;

thread_local! {
    /// Bytes the memo tables of this thread hold, by their own estimate ([`Weigh`]).
    static HELD: Cell<usize> = const { Cell::new(0) };
}

/// What a remembered result holds on the heap, in bytes, beyond its own size.
pub(crate) trait Weigh {
    fn heap_bytes(&self) -> usize;
}

impl Weigh for Outcome {
    fn heap_bytes(&self) -> usize {
        match self {
            Outcome::Decided(_) => 0,
            Outcome::NotBoolean(name) => name.len(),
            Outcome::Failed(failure) => failure.heap_bytes(),
        }
    }
}

impl Weigh for crate::engine::stats::Failure {
    fn heap_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.message.len()
            + self.at.as_ref().map_or(0, |at| at.file.len())
    }
}

impl<T: Weigh> Weigh for Box<T> {
    fn heap_bytes(&self) -> usize {
        (**self).heap_bytes()
    }
}

impl<T: Weigh> Weigh for Option<T> {
    fn heap_bytes(&self) -> usize {
        self.as_ref().map_or(0, Weigh::heap_bytes)
    }
}

impl<A: Weigh, B: Weigh> Weigh for Result<A, B> {
    fn heap_bytes(&self) -> usize {
        match self {
            Ok(a) => a.heap_bytes(),
            Err(b) => b.heap_bytes(),
        }
    }
}

impl<A: Weigh, B: Weigh> Weigh for (A, B) {
    fn heap_bytes(&self) -> usize {
        self.0.heap_bytes() + self.1.heap_bytes()
    }
}

impl<T: Weigh> Weigh for Vec<T> {
    fn heap_bytes(&self) -> usize {
        self.capacity() * std::mem::size_of::<T>()
            + self.iter().map(Weigh::heap_bytes).sum::<usize>()
    }
}

impl Weigh for String {
    fn heap_bytes(&self) -> usize {
        self.capacity()
    }
}

impl Weigh for std::rc::Rc<str> {
    fn heap_bytes(&self) -> usize {
        self.len() + 16
    }
}

impl Weigh for bool {
    fn heap_bytes(&self) -> usize {
        0
    }
}

/// A field value as part of a memo key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Part {
    /// The event lacks the field (`has` tells this apart from a `null` value).
    Absent,
    Unit,
    Bool(bool),
    Int(i64),
    /// The bits of the float: two floats Rhai would call equal but whose bits differ (0.0 and
    /// -0.0) only make two entries.
    Float(u64),
    Text(ImmutableString),
}

/// Results remembered for one expression: a condition's [`Outcome`], or the text a message
/// placeholder or a `breached_by` expression gave.
#[derive(Debug)]
pub(crate) struct Memo<T = Outcome> {
    reads: Option<Vec<ImmutableString>>,
    /// Where each field read was found in the last event.
    hints: Vec<FieldHint>,
    table: FxHashMap<Box<[Part]>, T>,
    key: Vec<Part>,
    lookups: u64,
    hits: u64,
    /// Bytes this table holds, as counted in [`HELD`].
    held: usize,
}

impl<T> Drop for Memo<T> {
    fn drop(&mut self) {
        release(self.held);
    }
}

/// Gives back `bytes` a table held.
fn release(bytes: usize) {
    let _ = HELD.try_with(|h| h.set(h.get().saturating_sub(bytes)));
}

impl<T: Clone + Weigh> Memo<T> {
    /// Entries kept per memo before the table is emptied and filled anew.
    const CAPACITY: usize = 1 << 12;
    /// Text in one key, in bytes, beyond which the event is evaluated without the memo: with
    /// the capacity, this bounds a memo's memory (to about 1.5 MiB) whatever the log holds.
    const MAX_KEY_BYTES: usize = 256;
    /// Lookups before the hit rate is judged.
    const TRIAL: u64 = 4096;

    pub(crate) fn new(reads: Option<Vec<ImmutableString>>) -> Self {
        Memo {
            hints: vec![FieldHint::default(); reads.as_ref().map_or(0, Vec::len)],
            reads,
            table: FxHashMap::default(),
            key: Vec::new(),
            lookups: 0,
            hits: 0,
            held: 0,
        }
    }

    /// Empties the table, giving back what it held.
    fn empty(&mut self) {
        self.table.clear();
        release(std::mem::take(&mut self.held));
    }

    /// The outcome for `event`: remembered, or computed by `evaluate` (and remembered).
    #[inline]
    pub(crate) fn outcome(&mut self, event: &Event, evaluate: impl FnOnce() -> T) -> T {
        let Some(reads) = &self.reads else {
            return evaluate();
        };
        // An event with a value that contradicts the vocabulary fails the terms that read it:
        // rare, and judged directly rather than keyed.
        if event.has_nonconforming() {
            return evaluate();
        }
        self.key.clear();
        let mut bytes = 0;
        for (name, hint) in reads.iter().zip(&mut self.hints) {
            let value = event.lookup_hinted(name, hint);
            match value.map_or(Some(Part::Absent), part) {
                Some(part) => {
                    if let Part::Text(text) = &part {
                        bytes += text.len();
                    }
                    self.key.push(part);
                }
                // An array or object value: not worth hashing, evaluate directly.
                None => return evaluate(),
            }
        }
        if bytes > Self::MAX_KEY_BYTES {
            return evaluate();
        }
        self.lookups += 1;
        if let Some(outcome) = self.table.get(self.key.as_slice()) {
            self.hits += 1;
            return outcome.clone();
        }
        // An outcome during which a geography function found the event without a position is
        // not remembered: each such event must be counted (see `crate::expr::spatial`).
        let before = event.unlocated();
        let outcome = evaluate();
        if event.unlocated() != before {
            return outcome;
        }
        if self.lookups == Self::TRIAL && self.hits * 2 < self.lookups {
            // Keys rarely repeat for this term: hashing them is pure overhead.
            self.reads = None;
            self.empty();
            self.table = FxHashMap::default();
            return outcome;
        }
        if self.table.len() >= Self::CAPACITY {
            self.empty();
        }
        let weight = std::mem::size_of::<T>()
            + outcome.heap_bytes()
            + self.key.len() * std::mem::size_of::<Part>()
            + bytes
            + 32;
        let held = HELD.with(Cell::get);
        if held.saturating_add(weight) > MAX_HELD {
            self.empty();
            if HELD.with(Cell::get).saturating_add(weight) > MAX_HELD {
                return outcome;
            }
        }
        HELD.with(|h| h.set(h.get().saturating_add(weight)));
        self.held += weight;
        self.table
            .insert(self.key.clone().into_boxed_slice(), outcome.clone());
        outcome
    }
}

#[inline]
fn part(value: Dynamic) -> Option<Part> {
    if value.is_unit() {
        return Some(Part::Unit);
    }
    if let Ok(b) = value.as_bool() {
        return Some(Part::Bool(b));
    }
    if let Ok(i) = value.as_int() {
        return Some(Part::Int(i));
    }
    if let Ok(f) = value.as_float() {
        return Some(Part::Float(f.to_bits()));
    }
    value.into_immutable_string().ok().map(Part::Text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 12: each table was bounded alone, so a thousand terms with thirty-two
    /// placeholders each could hold gigabytes; all tables of a thread now hold at most
    /// `MAX_HELD` together, and give it back when dropped.
    #[test]
    fn all_tables_of_a_thread_together_hold_at_most_max_held() {
        let mut parser = crate::input::EventParser::new();
        let origin = crate::event::Origin {
            file: "t".into(),
            line: 1,
        };
        let mut memos: Vec<Memo<(String, Option<Box<crate::engine::stats::Failure>>)>> = (0..40)
            .map(|_| Memo::new(Some(vec!["id".into()])))
            .collect();
        let text = "x".repeat(2049);
        let mut evaluated = 0;
        for i in 0..1000 {
            let json = format!(r#"{{"time":"2024-01-01","kind":"k","id":"e{i}"}}"#);
            let event = parser.parse_json(&json, origin.clone()).unwrap();
            for memo in &mut memos {
                let (got, _) = memo.outcome(&event, || {
                    evaluated += 1;
                    (text.clone(), None)
                });
                assert_eq!(got.len(), 2049);
            }
        }
        assert_eq!(evaluated, 40_000, "every event is new to every table");
        let held = HELD.with(Cell::get);
        assert!(held <= MAX_HELD, "{held} > {MAX_HELD}");
        assert!(
            held > MAX_HELD / 2,
            "the budget is used, not wasted: {held}"
        );
        drop(memos);
        assert_eq!(HELD.with(Cell::get), 0);
    }

    #[test]
    fn outcomes_are_remembered_per_values_of_the_fields_read() {
        let mut parser = crate::input::EventParser::new();
        let origin = crate::event::Origin {
            file: "t".into(),
            line: 1,
        };
        let mut event = |json: &str| parser.parse_json(json, origin.clone()).unwrap();
        let mut memo = Memo::new(Some(vec!["kind".into()]));
        let x = crate::engine::stats::Failure {
            part: crate::engine::stats::Part::When,
            kind: crate::engine::stats::FailureKind::Error,
            at: None,
            message: "x".into(),
        };
        let a = event(r#"{"time":"2024-01-01","kind":"a","lat":1}"#);
        let b = event(r#"{"time":"2024-01-02","kind":"a","lat":2}"#);
        let c = event(r#"{"time":"2024-01-02","kind":"c"}"#);
        assert_eq!(
            memo.outcome(&a, || Outcome::Decided(true)),
            Outcome::Decided(true)
        );
        assert_eq!(
            memo.outcome(&b, || panic!("same kind: must be remembered")),
            Outcome::Decided(true)
        );
        assert_eq!(
            memo.outcome(&c, || Outcome::Failed(Box::new(x.clone()))),
            Outcome::Failed(Box::new(x.clone()))
        );
        assert_eq!(
            memo.outcome(&c, || panic!("remembered")),
            Outcome::Failed(Box::new(x.clone()))
        );
    }
}
