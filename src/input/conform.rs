//! Events held to the run's vocabulary, as they are read.
//!
//! `check` holds the rules to the vocabulary; this holds the data to it. Each event read is
//! looked over once, on the reading thread: a kind the vocabulary does not declare, a value of
//! the wrong type or outside a field's declared values, a required field missing — each is
//! counted for its input (the report lists them, with the first line of each), and a field
//! whose value contradicts its declaration is marked on the event, so that a term that reads it
//! fails on that event (counted as the term's error, with the reason) instead of comparing a
//! value of the wrong type and being silently `false`.
//!
//! Why at reading and not in the engine: what the data is does not depend on the term that
//! reads it, and an input's account must cover every event, whichever terms judge it. Memory
//! stays bounded: at most [`MAX_LISTED`] distinct unknown kinds are listed per input (the others
//! are counted together), and the fields are the vocabulary's, which is bounded.

use std::collections::BTreeMap;
use std::rc::Rc;

use rhai::Dynamic;

use crate::event::{Event, Nonconformity, described};
use crate::load::vocabulary::{Required, Vocabulary};

/// The most distinct unknown kinds listed for one input; the rest are counted as one entry.
pub const MAX_LISTED: usize = 100;

/// How often something was found in one input, and where first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Tally {
    /// Events it was found on.
    pub events: u64,
    /// The line of the first.
    pub first_line: u64,
    /// The first value, as a message shows it (`the text "90"`); empty where there is none.
    pub first_value: String,
}

impl Tally {
    fn add(&mut self, line: u64, value: impl FnOnce() -> String) {
        if self.events == 0 {
            self.first_line = line;
            self.first_value = value();
        }
        self.events += 1;
    }
}

/// What one input's events showed against the vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Conformance {
    /// Kinds the vocabulary does not declare, by kind (at most [`MAX_LISTED`]).
    pub unknown_kinds: BTreeMap<String, Tally>,
    /// Events of other unknown kinds, past the [`MAX_LISTED`] listed.
    pub other_unknown_kinds: Tally,
    /// Fields whose value is not of the declared type, by field.
    pub wrong_type: BTreeMap<String, Tally>,
    /// Fields whose value is not one of the declared values, by field.
    pub wrong_value: BTreeMap<String, Tally>,
    /// Required fields missing, by field.
    pub missing: BTreeMap<String, Tally>,
}

impl Conformance {
    /// Whether every event conformed.
    pub fn is_empty(&self) -> bool {
        self.unknown_kinds.is_empty()
            && self.other_unknown_kinds.events == 0
            && self.wrong_type.is_empty()
            && self.wrong_value.is_empty()
            && self.missing.is_empty()
    }
}

/// A vocabulary, ready to look events over.
#[derive(Debug, Clone)]
pub(crate) struct Conformer {
    vocabulary: Rc<Vocabulary>,
    /// The fields some kind requires, so that an event is not checked against every field.
    required: Vec<String>,
}

impl Conformer {
    /// `None` for an empty vocabulary: nothing to hold events to.
    pub(crate) fn new(vocabulary: Rc<Vocabulary>) -> Option<Conformer> {
        if vocabulary.is_empty() {
            return None;
        }
        let required = vocabulary
            .fields
            .iter()
            .filter(|(_, f)| f.required != Required::No)
            .map(|(name, _)| name.clone())
            .collect();
        Some(Conformer {
            vocabulary,
            required,
        })
    }

    /// Looks `event` over: counts what it finds in `found` and marks on the event the fields
    /// that contradict their declarations.
    pub(crate) fn conform(&self, event: &mut Event, found: &mut Conformance) {
        conform(&self.vocabulary, &self.required, event, found);
    }
}

fn conform(
    vocabulary: &Vocabulary,
    required: &[String],
    event: &mut Event,
    found: &mut Conformance,
) {
    let line = event.origin().line;
    let kind = event.kind();
    if !vocabulary.knows_kind(kind) {
        let known = found.unknown_kinds.len();
        match found.unknown_kinds.get_mut(kind) {
            Some(tally) => tally.add(line, String::new),
            None if known < MAX_LISTED => {
                let mut tally = Tally::default();
                tally.add(line, String::new);
                found.unknown_kinds.insert(kind.to_string(), tally);
            }
            None => found.other_unknown_kinds.add(line, || kind.to_string()),
        }
    }
    let mut marked: Vec<(String, Nonconformity)> = Vec::new();
    for (name, value) in event.fields() {
        let Some(field) = vocabulary.fields.get(name.as_str()) else {
            continue;
        };
        // `null`: not reported, like an absent field.
        if value.is_unit() {
            continue;
        }
        let how = if !field.ty.admits(value) {
            Nonconformity::Type(field.ty)
        } else if !field.allows(value) {
            Nonconformity::Value
        } else {
            continue;
        };
        let tallies = match how {
            Nonconformity::Type(_) => &mut found.wrong_type,
            Nonconformity::Value => &mut found.wrong_value,
        };
        tally(tallies, name, line, value);
        marked.push((name.to_string(), how));
    }
    for name in required {
        let Some(field) = vocabulary.fields.get(name) else {
            continue;
        };
        if field.required.of(kind) && event.field(name).is_none_or(Dynamic::is_unit) {
            found
                .missing
                .entry(name.clone())
                .or_default()
                .add(line, String::new);
        }
    }
    if !marked.is_empty() {
        event.mark_nonconforming(marked);
    }
}

fn tally(tallies: &mut BTreeMap<String, Tally>, name: &str, line: u64, value: &Dynamic) {
    match tallies.get_mut(name) {
        Some(tally) => tally.add(line, String::new),
        None => {
            let mut tally = Tally::default();
            tally.add(line, || described(value));
            tallies.insert(name.to_string(), tally);
        }
    }
}
