//! `sequence: {within, by, steps}`: selected events matching each step in turn, with one key,
//! the whole chain within `within` (docs/semantics.md, "sequence").
//!
//! The state is, per key and per step but the last, the events that matched the step within
//! the last `within`, with their position in canonical order. An event matching the last step
//! completes the chain that ends latest; events too old to start any chain are dropped as
//! they age out, and keys without any are swept now and then.

use std::collections::VecDeque;
use std::collections::hash_map::Entry;
use std::rc::Rc;

use chrono::TimeDelta;

use super::{Compiler, Evaluate, Judge, Keyed, SWEEP, SharedKey, Source, live};
use super::{FormOutcome, FormSummary, Key};
use crate::engine::memo::Memo;
use crate::engine::sink::{Evidence, Sink};
use crate::engine::stats::Failure;
use crate::event::Event;
use crate::load::agreement;

/// A sequence, compiled.
pub(crate) struct Sequence {
    within: TimeDelta,
    by: Option<Source>,
    steps: Vec<Source>,
}

impl Sequence {
    pub(super) fn compile(form: &agreement::Sequence, compiler: &mut dyn Compiler) -> Option<Self> {
        let by = super::compile_by(compiler, form.by.as_ref());
        let steps: Vec<Option<Source>> = form
            .steps
            .iter()
            .map(|step| {
                compiler
                    .expression(step, "steps")
                    .map(|ast| Source::new(ast, step))
            })
            .collect();
        let steps: Option<Vec<Source>> = steps.into_iter().collect();
        Some(Sequence {
            within: form.within,
            by: by?,
            steps: steps?,
        })
    }

    pub(super) fn summary(&self) -> FormSummary {
        FormSummary::Sequence {
            within: self.within,
            steps: self.steps.len(),
            keyed: self.by.is_some(),
        }
    }

    /// The steps a selected event matches (none evaluated without a usable key, as in a
    /// replay); a violation could rest on it when it has a key and matches the last step.
    pub(super) fn outcome(&self, term: &mut impl Evaluate) -> (FormOutcome, bool) {
        let (key, tagged) = super::explain_key(term, self.by.as_ref());
        let steps: Vec<Result<bool, String>> = match tagged {
            Some(_) => self
                .steps
                .iter()
                .enumerate()
                .map(|(i, step)| term.step(i, step).map_err(|failure| failure.message))
                .collect(),
            None => Vec::new(),
        };
        let carries =
            matches!(key, Key::Single | Key::Value(_)) && matches!(steps.last(), Some(Ok(true)));
        (FormOutcome::Sequence { key, steps }, carries)
    }

    pub(super) fn state(&self, memo: bool) -> State<'_> {
        State {
            form: self,
            key: Keyed::new(self.by.as_ref(), memo),
            steps: self
                .steps
                .iter()
                .map(|step| Memo::new(super::reads(&step.ast, memo)))
                .collect(),
            chains: Chains::default(),
        }
    }
}

/// A sequence term's state over a replay. A checkpoint saves the chains
/// (`crate::run::checkpoint`); the memos are rebuilt as it goes.
#[derive(serde::Serialize)]
pub(crate) struct State<'p> {
    #[serde(skip)]
    form: &'p Sequence,
    #[serde(skip)]
    key: Keyed<'p>,
    /// Per step: matched or not, or the failure.
    #[serde(skip)]
    steps: Vec<Memo<Result<bool, Box<Failure>>>>,
    chains: Chains,
}

/// What [`State`] saves.
#[derive(serde::Deserialize)]
pub(crate) struct Saved {
    chains: Chains,
}

impl State<'_> {
    pub(super) fn restore(&mut self, saved: Saved) {
        self.chains = saved.chains;
    }
}

impl State<'_> {
    /// Its live state, as `forms::live` counts it.
    pub(super) fn held(&self) -> u64 {
        self.chains.held
    }

    #[cfg(test)]
    pub(super) fn recount(&self) -> u64 {
        let chains = self.chains.open.iter();
        chains
            .map(|(key, queues)| {
                let events = queues.iter().flatten().map(|(_, e)| live::event(e));
                key_held(key, queues.len()) + events.sum::<u64>()
            })
            .sum()
    }

    pub(super) fn fire<S: Sink>(
        &mut self,
        cx: &mut impl Judge,
        event: &Rc<Event>,
        sink: &mut S,
    ) -> Result<(), S::Error> {
        let Some((key, label)) = self.key.key(cx, event) else {
            return Ok(());
        };
        let (within, count) = (self.form.within, self.form.steps.len());
        let matched = self.matched(cx, event);
        let chain = if matched.last() == Some(&true) {
            self.chains.find(&key, event, within, count)
        } else {
            None
        };
        self.chains.add(key, event, &matched, within);
        match chain {
            Some(mut chain) => {
                chain.push(Evidence::of(event));
                cx.raise(
                    Some(event),
                    event.time(),
                    Some(chain),
                    label.map(|label| label.to_string()),
                    None,
                    sink,
                )
            }
            None => Ok(()),
        }
    }

    /// Which steps `event` matches; a step that fails counts as not matched and is recorded
    /// once.
    fn matched(&mut self, cx: &mut impl Judge, event: &Event) -> Vec<bool> {
        let mut failure = None;
        let mut matched = Vec::with_capacity(self.form.steps.len());
        for (i, (step, memo)) in self
            .form
            .steps
            .iter()
            .zip(self.steps.iter_mut())
            .enumerate()
        {
            let outcome = memo.outcome(event, || cx.step(i, step));
            matched.push(outcome.unwrap_or_else(|first| {
                failure.get_or_insert(first);
                false
            }));
        }
        if let Some(message) = failure {
            cx.record_error(event, message);
        }
        matched
    }
}

/// What a key's chains hold besides their events: the key, and a queue for each step but the
/// last.
fn key_held(key: &str, queues: usize) -> u64 {
    // Its entry in `Chains::open` and the key's block; each queue's place in the vector of
    // queues, the vector's rounding, and the queue's smallest buffer.
    const KEY: u64 = live::table_entry::<SharedKey, Vec<StepQueue>>() + live::SHARED_TEXT;
    const QUEUE: u64 =
        size_of::<StepQueue>() as u64 + live::block(0) + live::smallest_deque::<(u64, Rc<Event>)>();
    live::key(key, KEY) + queues as u64 * QUEUE
}

/// The events that matched one step, with their position in canonical order.
type StepQueue = VecDeque<(u64, Rc<Event>)>;

/// Per key and per step but the last, the selected events that matched the step within the
/// last `within`, in canonical order (with their position in it).
#[derive(Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct Chains {
    open: rustc_hash::FxHashMap<SharedKey, Vec<StepQueue>>,
    /// Position of the next event in canonical order.
    next: u64,
    since_sweep: u64,
    /// The live state of `open`, counted as `forms::live` counts it.
    held: u64,
}

impl Chains {
    /// The chain ending at `event` (which matches the last step), choosing for each earlier
    /// step, from the last backwards, the latest event before the next one chosen; `None` if
    /// there is none within `within`.
    fn find(
        &self,
        key: &str,
        event: &Event,
        within: TimeDelta,
        steps: usize,
    ) -> Option<Vec<Evidence>> {
        let start = event.time().checked_sub_signed(within);
        let queues = self.open.get(key)?;
        let mut before = self.next;
        let mut chain = Vec::with_capacity(steps);
        for step in (0..steps.saturating_sub(1)).rev() {
            let queue = queues.get(step)?;
            // Positions ascend: the events before `before` are the queue up to this point, found
            // by halving rather than by walking back over the later ones (a frequent step after
            // a rare one had made each chain cost the events since the rare one).
            let end = queue.partition_point(|(position, _)| *position < before);
            let (position, event) = queue
                .range(..end)
                .rev()
                .find(|(_, e)| start.is_none_or(|start| e.time() >= start))?;
            before = *position;
            chain.push(Evidence::of(event));
        }
        chain.reverse();
        Some(chain)
    }

    /// Files `event` under each earlier step it matches, for later chains, and forgets events
    /// too old to start any chain.
    fn add(&mut self, key: SharedKey, event: &Rc<Event>, matched: &[bool], within: TimeDelta) {
        let position = self.next;
        self.next += 1;
        let start = event.time().checked_sub_signed(within);
        let earlier = matched.len().saturating_sub(1);
        let queues = match self.open.entry(key) {
            Entry::Occupied(queues) => queues.into_mut(),
            Entry::Vacant(vacant) => {
                self.held += key_held(vacant.key(), earlier);
                vacant.insert(vec![VecDeque::new(); earlier])
            }
        };
        for (queue, matched) in queues.iter_mut().zip(matched) {
            while queue
                .front()
                .is_some_and(|(_, e)| start.is_some_and(|start| e.time() < start))
            {
                if let Some((_, gone)) = queue.pop_front() {
                    self.held = self.held.saturating_sub(live::event(&gone));
                }
            }
            if *matched {
                queue.push_back((position, event.clone()));
                self.held += live::event(event);
            }
        }
        self.since_sweep += 1;
        if self.since_sweep >= SWEEP {
            self.since_sweep = 0;
            let held = &mut self.held;
            self.open.retain(|key, queues| {
                let open = queues.iter().any(|queue| {
                    queue
                        .back()
                        .is_some_and(|(_, e)| start.is_none_or(|start| e.time() >= start))
                });
                if !open {
                    let events: u64 = queues.iter().flatten().map(|(_, e)| live::event(e)).sum();
                    *held = held.saturating_sub(key_held(key, queues.len()) + events);
                }
                open
            });
        }
    }
}
