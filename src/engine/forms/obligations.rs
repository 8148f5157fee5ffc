//! A deadline's obligations (`within`) and candidates (`before`) filed by the values its
//! `require` compares, so that an event meets only the obligations it can settle and a trigger
//! looks back only at the events that can meet it (issue 12: the scan made both quadratic).
//!
//! A `require` such as `event.kind == "notification" && event.ref == trigger.id` is true only
//! for pairs whose `event.ref` equals the trigger's `id`. The checker finds such `&&` operands
//! (`event.F == trigger.G`, after simple tests of `event` alone: [`Settling`]); here each open
//! obligation is filed under its trigger's values of the `G`s, and each recent event under its
//! values of the `F`s, so that a lookup of one key replaces a scan of all.
//!
//! Why this changes no result, failures included: for a pair whose values differ, Rhai's `&&`
//! stops at that comparison with `false`, having evaluated only the simple tests before it —
//! which the native tests decide exactly on the event (they answer only where Rhai cannot fail
//! or run out of budget) — and the comparisons before it, of values filed by their exact
//! equality. A value is filed only where Rhai's `==` is plain equality: `()`, a boolean, an
//! integer, a text no longer than the sandbox lets an expression read. A float (Rhai compares
//! numbers within a relative epsilon, which no hash can follow), an array, a map or a long
//! text is filed apart, and every pair with it is evaluated, as in the scan. So is an event
//! whose simple tests the native tests cannot decide. Pairs are evaluated in the scan's order
//! (obligations in the order they opened, candidates in the order they came), so the first
//! failure counted is the scan's. `--no-memo` keeps the scan: `tests/reference.rs` compares.

use std::collections::VecDeque;
use std::rc::Rc;

use chrono::{DateTime, Utc};
use rhai::{Dynamic, ImmutableString};
use rustc_hash::FxHashMap;

use super::{SWEEP, live};
use crate::engine::native::{Condition, Values};
use crate::event::Event;

/// What the checker found in a `require` that lets obligations be filed.
#[derive(Debug)]
pub(crate) struct Settling {
    /// The simple tests of `event` that `require` begins with (all the operands before the
    /// comparisons with `trigger`; possibly none): an event they make false meets nothing.
    pub(crate) prefix: Condition,
    /// `(F, G)` for each operand `event.F == trigger.G`, in order; none when `require` reads
    /// no `trigger` at all.
    pub(crate) pairs: Box<[(ImmutableString, ImmutableString)]>,
    /// Whether `require` reads no `trigger`: its answer is then the same for every
    /// obligation.
    pub(crate) free: bool,
    /// The longest text an expression may read (0: no limit); a longer one is filed apart.
    pub(crate) max_text: usize,
}

impl Settling {
    /// What the simple tests make of the event (the one `values` reads): `Some(false)` — it
    /// meets nothing and fails on nothing; `None` — only Rhai can tell.
    fn admits(&self, values: Option<&mut Values<'_, '_, '_>>) -> Option<bool> {
        values.and_then(|values| self.prefix.decide(values))
    }

    /// The key of an event's values of the fields `event` compares (`candidate`), or of the
    /// trigger's (`!candidate`); `None` when one of them cannot be filed.
    fn key(&self, event: &Event, candidate: bool) -> Option<Key> {
        self.pairs
            .iter()
            .map(|(f, g)| {
                let name = if candidate { f } else { g };
                part(&event.get(name), self.max_text)
            })
            .collect()
    }
}

/// A value as it is filed: only those whose Rhai equality is plain equality.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
enum Part {
    Unit,
    Bool(bool),
    Int(i64),
    Text(#[serde(with = "crate::event::saved::text")] ImmutableString),
}

/// The values of the compared fields, in the order of [`Settling::pairs`].
type Key = Box<[Part]>;

fn part(value: &Dynamic, max_text: usize) -> Option<Part> {
    if value.is_unit() {
        Some(Part::Unit)
    } else if let Ok(b) = value.as_bool() {
        Some(Part::Bool(b))
    } else if let Ok(i) = value.as_int() {
        Some(Part::Int(i))
    } else if value.is_string() {
        let text = value.read_lock::<ImmutableString>()?;
        // Rhai fails on reading a longer text: that failure must happen as in the scan.
        (max_text == 0 || text.len() <= max_text).then(|| Part::Text(text.clone()))
    } else {
        None
    }
}

/// Which obligations an event must be tried against.
pub(crate) enum Reach {
    /// None: it meets nothing, and fails on nothing.
    Nothing,
    /// Every open one, in order (the scan).
    All,
    /// The first open one only: `require` reads no `trigger`, so its answer holds for all.
    First,
    /// These, in the order they opened.
    Listed(Vec<u64>),
}

/// A `within` deadline's open obligations, numbered in the order they opened.
#[derive(serde::Serialize)]
pub(crate) struct Obligations<'p> {
    #[serde(skip)]
    settling: &'p Settling,
    /// The open obligations: trigger and due time.
    open: FxHashMap<u64, (Rc<Event>, DateTime<Utc>)>,
    /// Their numbers in the order they opened; numbers met since are skipped when they come
    /// up.
    order: VecDeque<u64>,
    /// Per key of the trigger's values, the numbers filed under it, in order.
    keyed: FxHashMap<Key, Vec<u64>>,
    /// Numbers whose trigger has a value no key holds: every event tries them.
    apart: Vec<u64>,
    /// Numbers listed in `keyed` and `apart`, open or not.
    listed: usize,
    next: u64,
    /// The live state of the open obligations, counted as `forms::live` counts it.
    held: u64,
    /// What one open obligation holds besides its trigger ([`obligation_held`]).
    filing: u64,
}

/// What an open obligation of a `within` deadline holds besides its trigger (`forms::live`), filed
/// by `pairs` values: its entry in `Obligations::open`; its number in `order` and in the list
/// it is filed in, up to twice more each for the met and broken ones those keep until they are
/// compacted (`Obligations::compact`); and, when its values are unique, an entry of `keyed`
/// with its key and smallest list, up to twice (a key is kept while its list has a number).
pub(crate) const fn obligation_held(pairs: usize) -> u64 {
    let pairs = if pairs == 0 { 1 } else { pairs };
    live::table_entry::<u64, (Rc<Event>, DateTime<Utc>)>()
        + 2 * 3 * live::deque_element::<u64>()
        + 2 * (live::table_entry::<Key, Vec<u64>>()
            + live::block(pairs * size_of::<Part>())
            + live::smallest_deque::<u64>())
}

/// What every recent event of a `before` deadline holds: its place in `Recent::events`.
pub(crate) const RECENT_HELD: u64 = live::deque_element::<(DateTime<Utc>, Option<Rc<Event>>)>();

/// What a recent event that may meet a trigger holds besides [`RECENT_HELD`] and itself, filed
/// by `pairs` values: its number where it is filed, and when its values are unique an entry of
/// `keyed` with its key and smallest list. (Keys whose events all left the window stay until
/// the next sweep: at most [`SWEEP`] of them, a constant not counted.)
pub(crate) const fn recent_filed_held(pairs: usize) -> u64 {
    let pairs = if pairs == 0 { 1 } else { pairs };
    live::deque_element::<u64>()
        + live::table_entry::<Key, VecDeque<u64>>()
        + live::block(pairs * size_of::<Part>())
        + live::smallest_deque::<u64>()
}

/// What [`Obligations`] saves, in its order.
#[derive(serde::Deserialize)]
pub(crate) struct SavedObligations {
    open: FxHashMap<u64, (Rc<Event>, DateTime<Utc>)>,
    order: VecDeque<u64>,
    keyed: FxHashMap<Key, Vec<u64>>,
    apart: Vec<u64>,
    listed: usize,
    next: u64,
    held: u64,
    filing: u64,
}

impl<'p> Obligations<'p> {
    pub(crate) fn restore(&mut self, saved: SavedObligations) {
        self.open = saved.open;
        self.order = saved.order;
        self.keyed = saved.keyed;
        self.apart = saved.apart;
        self.listed = saved.listed;
        self.next = saved.next;
        self.held = saved.held;
        self.filing = saved.filing;
    }

    pub(crate) fn new(settling: &'p Settling) -> Self {
        Obligations {
            settling,
            open: FxHashMap::default(),
            order: VecDeque::new(),
            keyed: FxHashMap::default(),
            apart: Vec::new(),
            listed: 0,
            next: 0,
            held: 0,
            filing: obligation_held(settling.pairs.len()),
        }
    }

    /// Its live state, as `forms::live` counts it.
    pub(crate) fn held(&self) -> u64 {
        self.held
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.open.is_empty()
    }

    /// Opens an obligation.
    pub(crate) fn push(&mut self, trigger: Rc<Event>, due: DateTime<Utc>) {
        let number = self.next;
        self.next += 1;
        if !self.settling.free {
            match self.settling.key(&trigger, false) {
                Some(key) => self.keyed.entry(key).or_default().push(number),
                None => self.apart.push(number),
            }
            self.listed += 1;
        }
        self.order.push_back(number);
        self.held += self.filing + trigger.footprint();
        self.open.insert(number, (trigger, due));
    }

    /// The first open obligation (in the order they opened), if it is due before `now`:
    /// removed.
    pub(crate) fn pop_overdue(&mut self, now: DateTime<Utc>) -> Option<(Rc<Event>, DateTime<Utc>)> {
        while let Some(&number) = self.order.front() {
            match self.open.get(&number) {
                None => {
                    self.order.pop_front();
                }
                Some((_, due)) if *due < now => {
                    self.order.pop_front();
                    let overdue = self.open.remove(&number);
                    if let Some((trigger, _)) = &overdue {
                        let held = self.filing + trigger.footprint();
                        self.held = self.held.saturating_sub(held);
                    }
                    self.compact();
                    return overdue;
                }
                Some(_) => return None,
            }
        }
        None
    }

    /// Which obligations `event` (whose fields `values` reads) must be tried against.
    pub(crate) fn reach(
        &mut self,
        event: &Event,
        values: Option<&mut Values<'_, '_, '_>>,
    ) -> Reach {
        if self.open.is_empty() {
            return Reach::Nothing;
        }
        let admits = self.settling.admits(values);
        if admits == Some(false) {
            return Reach::Nothing;
        }
        if self.settling.free {
            return Reach::First;
        }
        // Simple tests only Rhai can decide may fail whatever the trigger: on every pair.
        let Some(key) = admits.and_then(|_| self.settling.key(event, true)) else {
            return Reach::All;
        };
        let open = &self.open;
        let mut keyed = match self.keyed.get_mut(&key) {
            Some(numbers) => {
                let before = numbers.len();
                numbers.retain(|n| open.contains_key(n));
                self.listed -= before - numbers.len();
                numbers.clone()
            }
            None => Vec::new(),
        };
        if keyed.is_empty() {
            // A key none of whose obligations is open any more is forgotten, so that keys
            // tried after their obligations closed do not pile up.
            self.keyed.remove(&key);
        }
        if !self.apart.is_empty() {
            let before = self.apart.len();
            self.apart.retain(|n| open.contains_key(n));
            self.listed -= before - self.apart.len();
            keyed = merge(&keyed, &self.apart);
        }
        Reach::Listed(keyed)
    }

    /// The numbers of the open obligations, in the order they opened.
    pub(crate) fn numbers(&self) -> Vec<u64> {
        self.order
            .iter()
            .copied()
            .filter(|n| self.open.contains_key(n))
            .collect()
    }

    /// The trigger of an open obligation.
    pub(crate) fn trigger(&self, number: u64) -> Option<Rc<Event>> {
        self.open.get(&number).map(|(trigger, _)| trigger.clone())
    }

    /// An obligation met: removed.
    pub(crate) fn meet(&mut self, number: u64) {
        if let Some((trigger, _)) = self.open.remove(&number) {
            let held = self.filing + trigger.footprint();
            self.held = self.held.saturating_sub(held);
        }
        self.compact();
    }

    /// Once the lists hold more numbers no longer open than open ones, keeps only the open
    /// ones, so that memory follows the open obligations — those met and those broken alike
    /// (before the broken were compacted too, a deadline of an hour whose obligations all
    /// broke kept the number and key of every trigger of the log).
    fn compact(&mut self) {
        let open = self.open.len();
        if self.order.len() > 2 * open + 64 || self.listed > 2 * open + 64 {
            let live = &self.open;
            self.order.retain(|n| live.contains_key(n));
            self.keyed.retain(|_, numbers| {
                numbers.retain(|n| live.contains_key(n));
                !numbers.is_empty()
            });
            self.apart.retain(|n| live.contains_key(n));
            self.listed = self.keyed.values().map(Vec::len).sum::<usize>() + self.apart.len();
        }
    }

    #[cfg(test)]
    pub(crate) fn recount(&self) -> u64 {
        let open = self.open.values();
        open.map(|(trigger, _)| self.filing + trigger.footprint())
            .sum()
    }

    /// How many numbers `order` keeps, and how many keys `keyed` (open obligations or not).
    #[cfg(test)]
    fn filed(&self) -> (usize, usize) {
        (self.order.len(), self.keyed.len())
    }

    /// Every open obligation, in the order they opened; none left.
    pub(crate) fn drain(&mut self) -> Vec<(Rc<Event>, DateTime<Utc>)> {
        let numbers = self.numbers();
        let mut open = std::mem::take(&mut self.open);
        self.order.clear();
        self.keyed.clear();
        self.apart.clear();
        self.listed = 0;
        self.held = 0;
        numbers
            .into_iter()
            .filter_map(|n| open.remove(&n))
            .collect()
    }
}

/// Two ascending lists of numbers as one.
fn merge(a: &[u64], b: &[u64]) -> Vec<u64> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (a.iter().peekable(), b.iter().peekable());
    loop {
        let next = match (i.peek(), j.peek()) {
            (Some(x), Some(y)) if x <= y => i.next(),
            (Some(_), Some(_)) => j.next(),
            (Some(_), None) => i.next(),
            (None, Some(_)) => j.next(),
            (None, None) => break,
        };
        if let Some(n) = next {
            out.push(*n);
        }
    }
    out
}

/// A `before` deadline's recent events: those a later trigger may look back to.
#[derive(serde::Serialize)]
pub(crate) struct Recent<'p> {
    #[serde(skip)]
    settling: &'p Settling,
    /// Every event of the last `before`, in the order they came, numbered from `first`: the
    /// event, or `None` when its simple tests are false (it meets no trigger).
    events: VecDeque<(DateTime<Utc>, Option<Rc<Event>>)>,
    first: u64,
    /// Per key of the events' values, their numbers, in order.
    keyed: FxHashMap<Key, VecDeque<u64>>,
    /// Numbers of events with a value no key holds, or whose simple tests only Rhai can
    /// decide: every trigger tries them.
    apart: VecDeque<u64>,
    since_sweep: u64,
    /// The live state of `events`, counted as `forms::live` counts it.
    held: u64,
    /// What a recent event that may meet a trigger holds where it is filed
    /// ([`recent_filed_held`]).
    filing: u64,
}

/// What [`Recent`] saves, in its order.
#[derive(serde::Deserialize)]
pub(crate) struct SavedRecent {
    events: VecDeque<(DateTime<Utc>, Option<Rc<Event>>)>,
    first: u64,
    keyed: FxHashMap<Key, VecDeque<u64>>,
    apart: VecDeque<u64>,
    since_sweep: u64,
    held: u64,
    filing: u64,
}

impl<'p> Recent<'p> {
    pub(crate) fn restore(&mut self, saved: SavedRecent) {
        self.events = saved.events;
        self.first = saved.first;
        self.keyed = saved.keyed;
        self.apart = saved.apart;
        self.since_sweep = saved.since_sweep;
        self.held = saved.held;
        self.filing = saved.filing;
    }

    pub(crate) fn new(settling: &'p Settling) -> Self {
        Recent {
            settling,
            events: VecDeque::new(),
            first: 0,
            keyed: FxHashMap::default(),
            apart: VecDeque::new(),
            since_sweep: 0,
            held: 0,
            filing: recent_filed_held(settling.pairs.len()),
        }
    }

    #[cfg(test)]
    pub(crate) fn recount(&self) -> u64 {
        let events = self.events.iter();
        events.map(|(_, event)| self.held_by(event.as_ref())).sum()
    }

    /// What one recent event holds: `None`, one that meets no trigger, of which only the time
    /// is kept.
    fn held_by(&self, event: Option<&Rc<Event>>) -> u64 {
        RECENT_HELD + event.map_or(0, |event| self.filing + event.footprint())
    }

    /// Its live state, as `forms::live` counts it.
    pub(crate) fn held(&self) -> u64 {
        self.held
    }

    /// Keeps an event (whose fields `values` reads) for later triggers, and forgets those
    /// before `start`, as the scan does: from the oldest, as long as they are older.
    pub(crate) fn push(
        &mut self,
        event: &Rc<Event>,
        values: Option<&mut Values<'_, '_, '_>>,
        start: Option<DateTime<Utc>>,
    ) {
        let number = self.first + self.events.len() as u64;
        let kept = match self.settling.admits(values) {
            Some(false) => None,
            decided => {
                match decided.and_then(|_| self.settling.key(event, true)) {
                    Some(key) => self.keyed.entry(key).or_default().push_back(number),
                    None => self.apart.push_back(number),
                }
                Some(event.clone())
            }
        };
        self.held += self.held_by(kept.as_ref());
        self.events.push_back((event.time(), kept));
        if let Some(start) = start {
            while self.events.front().is_some_and(|(time, _)| *time < start) {
                if let Some((_, gone)) = self.events.pop_front() {
                    self.held = self.held.saturating_sub(self.held_by(gone.as_ref()));
                }
                self.first += 1;
            }
        }
        let first = self.first;
        while self.apart.front().is_some_and(|n| *n < first) {
            self.apart.pop_front();
        }
        self.since_sweep += 1;
        if self.since_sweep >= SWEEP {
            self.since_sweep = 0;
            self.keyed.retain(|_, numbers| {
                while numbers.front().is_some_and(|n| *n < first) {
                    numbers.pop_front();
                }
                !numbers.is_empty()
            });
        }
    }

    /// Tries `trigger` against the events that can meet it, at or after `start`, in the
    /// order they came, until `meets` says one does.
    ///
    /// When `require` reads no `trigger` ([`Settling::free`]), an event's answer is the same
    /// for every trigger: one that does not meet a trigger meets none, and is forgotten once
    /// tried, so that each event is tried once in all rather than once per trigger in its
    /// window. (One whose `require` failed is tried again by the next trigger, as the scan
    /// tries it, so that the failures counted are the same.)
    pub(crate) fn try_each(
        &mut self,
        trigger: &Event,
        start: Option<DateTime<Utc>>,
        mut meets: impl FnMut(&Rc<Event>) -> Tried,
    ) {
        let Recent {
            settling,
            events,
            first,
            keyed,
            apart,
            held,
            filing,
            ..
        } = self;
        let (first, free, len) = (*first, settling.free, events.len() as u64);
        let key = settling.key(trigger, false);
        {
            // Tries the event numbered `n`, when it lies at or after `start` and may meet a
            // trigger; whether the search is over.
            let mut try_number = |n: u64| {
                let at = n.checked_sub(first).and_then(|at| usize::try_from(at).ok());
                let Some((time, slot)) = at.and_then(|at| events.get_mut(at)) else {
                    return false;
                };
                if start.is_some_and(|start| *time < start) {
                    return false;
                }
                let Some(event) = slot.as_ref() else {
                    return false;
                };
                match meets(event) {
                    Tried::Met => true,
                    Tried::NotMet => {
                        if free {
                            // Counted from now on as an event that meets no trigger (its
                            // number may stay in a list behind a failing one until that is
                            // forgotten: a few bytes not counted meanwhile).
                            *held = held.saturating_sub(*filing + event.footprint());
                            *slot = None;
                        }
                        false
                    }
                    Tried::Failed => false,
                }
            };
            let Some(key) = &key else {
                for n in first..first + len {
                    if try_number(n) {
                        return;
                    }
                }
                return;
            };
            let empty = VecDeque::new();
            let keyed = match keyed.get_mut(key) {
                Some(numbers) => {
                    while numbers.front().is_some_and(|n| *n < first) {
                        numbers.pop_front();
                    }
                    &*numbers
                }
                None => &empty,
            };
            // Both lists ascend: merged, they are the order the events came.
            let (mut i, mut j) = (keyed.iter().peekable(), apart.iter().peekable());
            loop {
                let next = match (i.peek(), j.peek()) {
                    (Some(x), Some(y)) if x <= y => i.next(),
                    (Some(_), Some(_)) | (None, Some(_)) => j.next(),
                    (Some(_), None) => i.next(),
                    (None, None) => break,
                };
                if next.is_some_and(|n| try_number(*n)) {
                    break;
                }
            }
        }
        if free && let Some(key) = &key {
            // The events forgotten at the front of the lists leave them, so that the next
            // trigger does not pass over them again.
            let forgotten = |n: &u64| {
                let at = n.checked_sub(first).and_then(|at| usize::try_from(at).ok());
                at.and_then(|at| events.get(at))
                    .is_none_or(|(_, slot)| slot.is_none())
            };
            if let Some(numbers) = keyed.get_mut(key) {
                while numbers.front().is_some_and(forgotten) {
                    numbers.pop_front();
                }
            }
            while apart.front().is_some_and(forgotten) {
                apart.pop_front();
            }
        }
    }
}

/// What trying one event against a trigger gave ([`Recent::try_each`]).
pub(crate) enum Tried {
    /// It meets the trigger: the search is over.
    Met,
    /// It does not.
    NotMet,
    /// `require` failed on it.
    Failed,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::forms::CompiledForm;
    use crate::engine::native::Reader;
    use crate::event::Origin;
    use crate::input::EventParser;
    use crate::{Limits, compile, load::agreement};

    /// Obligations that all break keep no number or key behind them, nor do keys tried once
    /// their obligations closed: a deadline of an hour kept every trigger's key before.
    #[test]
    fn what_closed_obligations_were_filed_by_is_forgotten() {
        let rules = "agreement: o\ntitle: O\nparties: {IQ: Iraq}\nterms:\n  - {id: t, title: T, breached_by: IQ, when: 'true', deadline: {within: 1h, require: 'event.ref == trigger.id'}}\n";
        let (agreement, problems) = agreement::load("o.yaml", rules);
        assert!(problems.is_empty(), "{problems:?}");
        let (program, problems) = compile(vec![agreement.unwrap()], &Limits::default());
        assert!(problems.is_empty(), "{problems:?}");
        let program = program.unwrap();
        let CompiledForm::Deadline(deadline) = &program.terms[0].form else {
            panic!("a deadline");
        };
        let mut open = Obligations::new(deadline.settling().expect("filed"));
        let mut parser = EventParser::new();
        let mut event = |line: u64, json: String| {
            let origin = Origin {
                file: "log".into(),
                line,
            };
            Rc::new(parser.parse_json(&json, origin).unwrap())
        };
        let at = |second: u64| {
            chrono::DateTime::from_timestamp(1_700_000_000 + second as i64, 0).unwrap()
        };
        for n in 0..10_000 {
            let trigger = event(
                n,
                format!(r#"{{"id":"t{n}","time":"2024-01-01T00:00:00Z","kind":"k"}}"#),
            );
            open.push(trigger, at(n));
        }
        while open.pop_overdue(at(20_000)).is_some() {}
        let (order, keyed) = open.filed();
        assert!(
            order <= 64 && keyed <= 64,
            "{order} numbers, {keyed} keys kept"
        );
        let before = keyed;
        // A key tried after its obligations closed is forgotten (with many open, the lists
        // are not compacted).
        let mut reader = Reader::new(&program.fields, program.max_text);
        for n in 0..1000 {
            let trigger = event(
                n,
                r#"{"id":"x","time":"2024-01-01T00:00:00Z","kind":"k"}"#.into(),
            );
            open.push(trigger, at(90_000));
        }
        for n in 0..100 {
            let trigger = event(
                n,
                format!(r#"{{"id":"u{n}","time":"2024-01-01T00:00:00Z","kind":"k"}}"#),
            );
            open.push(trigger, at(90_000));
            let number = open.numbers().last().copied().unwrap();
            open.meet(number);
            let candidate = event(
                n,
                format!(r#"{{"time":"2024-01-01T00:00:00Z","kind":"k","ref":"u{n}"}}"#),
            );
            let _ = open.reach(&candidate, Some(&mut reader.read(&candidate)));
        }
        let (_, keyed) = open.filed();
        assert!(keyed <= before + 1, "{keyed} keys kept, {before} before");
    }
}
