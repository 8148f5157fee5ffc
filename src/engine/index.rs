//! Which terms an event concerns: terms found by what they test, not each tried on every event.
//!
//! A term that can only select events whose field holds one of some texts (its [`Dispatch`])
//! is filed under each of those texts; for each event, one lookup per such field and guard
//! (the field's value, as the number of the text it equals, indexes the terms filed under it)
//! finds the terms to visit, and the others cost nothing. A term is visited on every event
//! when its form acts on every event (a deadline, an absence: see
//! `CompiledForm::acts_on_every_event`) or when nothing dispatches it. The terms to visit come
//! out as a set of bits in program order, so that a replay visits them in the order it always
//! did and a sink receives an event's violations in term order.
//!
//! A term not visited is not counted either: what a replay counts per term and event — judged,
//! or out of the term's period — is counted per distinct period instead ([`Periods`]) and given
//! to each term at the end. A visited term counts only what visiting finds (violations,
//! failures, events without a position), exactly as before.

use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap;

use crate::engine::native::{Admits, Dispatch, Field, Need, Values};
use crate::engine::program::Program;
use crate::load::agreement::Period;

/// Terms filed by the texts of the field they are dispatched on.
pub(crate) struct Index {
    /// Terms visited on every event, as bits.
    always: Box<[u64]>,
    groups: Vec<Group>,
}

/// What the fields read before the dispatching operand must hold (see [`Dispatch::guard`]).
type Guard = Box<[(Field, Need)]>;

/// The terms dispatched on one field with one guard.
struct Group {
    field: Field,
    guard: Guard,
    /// Per text (by its symbol's number), the terms that test for it, in program order.
    by_text: Vec<Vec<u32>>,
    /// Every term of the group, for an event the guard or the value leaves undecided.
    members: Vec<u32>,
}

impl Index {
    pub(crate) fn new(program: &Program) -> Self {
        let words = program.terms.len().div_ceil(64);
        let mut always = vec![0u64; words].into_boxed_slice();
        let mut groups: Vec<Group> = Vec::new();
        let mut by_key: FxHashMap<(Field, Guard), usize> = FxHashMap::default();
        for (at, term) in program.terms.iter().enumerate() {
            let dispatch = term
                .dispatch
                .as_ref()
                .filter(|_| !term.form.acts_on_every_event());
            let (Some(dispatch), Ok(number)) = (dispatch, u32::try_from(at)) else {
                set(&mut always, at);
                continue;
            };
            let key = (dispatch.field, dispatch.guard.clone());
            let group = *by_key.entry(key).or_insert_with(|| {
                groups.push(Group {
                    field: dispatch.field,
                    guard: dispatch.guard.clone(),
                    by_text: Vec::new(),
                    members: Vec::new(),
                });
                groups.len() - 1
            });
            if let Some(group) = groups.get_mut(group) {
                group.add(number, dispatch);
            }
        }
        Index { always, groups }
    }

    /// Sets in `visit` the bits of the terms to visit for the event.
    #[inline]
    pub(crate) fn select(&self, values: &mut Values<'_, '_, '_>, visit: &mut Vec<u64>) {
        visit.clear();
        visit.extend_from_slice(&self.always);
        for group in &self.groups {
            let terms: &[u32] = if !Dispatch::guarded(&group.guard, values) {
                &group.members
            } else {
                match Dispatch::admits(group.field, values) {
                    Admits::Text(text) => {
                        group.by_text.get(text.index()).map_or(&[], Vec::as_slice)
                    }
                    Admits::Nothing => &[],
                    Admits::Unknown => &group.members,
                }
            };
            for &term in terms {
                set(visit, term as usize);
            }
        }
    }
}

impl Group {
    fn add(&mut self, term: u32, dispatch: &Dispatch) {
        for text in &dispatch.texts {
            let at = text.index();
            if self.by_text.len() <= at {
                self.by_text.resize_with(at + 1, Vec::new);
            }
            if let Some(terms) = self.by_text.get_mut(at)
                // A list may name a text twice.
                && terms.last() != Some(&term)
            {
                terms.push(term);
            }
        }
        self.members.push(term);
    }
}

fn set(bits: &mut [u64], at: usize) {
    if let Some(word) = bits.get_mut(at / 64) {
        *word |= 1 << (at % 64);
    }
}

/// The numbers of the bits set, in increasing order.
pub(crate) fn members(bits: &[u64]) -> impl Iterator<Item = usize> + '_ {
    bits.iter().enumerate().flat_map(|(at, &word)| {
        let mut rest = word;
        std::iter::from_fn(move || {
            if rest == 0 {
                return None;
            }
            let bit = rest.trailing_zeros() as usize;
            rest &= rest - 1;
            Some(at * 64 + bit)
        })
    })
}

/// What a replay counts per term and event, counted per distinct period: how many of the
/// events judged fell inside it. A term's events out of its period are the others.
pub(crate) struct Periods {
    distinct: Vec<Period>,
    /// Per term, its period's place in `distinct`.
    of_term: Vec<usize>,
    /// Per distinct period, the events inside it so far.
    inside: Vec<u64>,
    /// Per distinct period, whether the event being judged is inside it.
    now: Vec<bool>,
}

impl Periods {
    /// Per distinct period, the events inside it so far (for a checkpoint).
    pub(crate) fn counts(&self) -> &[u64] {
        &self.inside
    }

    /// Puts back [`Periods::counts`]; `false` when they are not this program's.
    pub(crate) fn restore(&mut self, counts: Vec<u64>) -> bool {
        if counts.len() != self.inside.len() {
            return false;
        }
        self.inside = counts;
        true
    }

    pub(crate) fn new(program: &Program) -> Self {
        let mut distinct: Vec<Period> = Vec::new();
        let mut places = FxHashMap::default();
        let of_term = program
            .terms
            .iter()
            .map(|term| {
                let key = (term.period.from, term.period.until);
                *places.entry(key).or_insert_with(|| {
                    distinct.push(term.period);
                    distinct.len() - 1
                })
            })
            .collect();
        Periods {
            inside: vec![0; distinct.len()],
            now: vec![false; distinct.len()],
            distinct,
            of_term,
        }
    }

    /// Counts an event at `time` in each period that holds it.
    #[inline]
    pub(crate) fn enter(&mut self, time: DateTime<Utc>) {
        for ((period, inside), now) in self
            .distinct
            .iter()
            .zip(&mut self.inside)
            .zip(&mut self.now)
        {
            *now = period.contains(time);
            *inside += u64::from(*now);
        }
    }

    /// Whether the event being judged lies in term `term`'s period.
    #[inline]
    pub(crate) fn holds(&self, term: usize) -> bool {
        self.of_term
            .get(term)
            .and_then(|&place| self.now.get(place))
            .copied()
            .unwrap_or(false)
    }

    /// Of the events judged so far, how many lay in term `term`'s period.
    pub(crate) fn inside(&self, term: usize) -> u64 {
        self.of_term
            .get(term)
            .and_then(|&place| self.inside.get(place))
            .copied()
            .unwrap_or(0)
    }
}
