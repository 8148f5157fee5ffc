//! The temporal forms: what a term looks for among the events its `when` selects.
//!
//! A term without a form raises a violation for each selected event. A term with one —
//! [`threshold`], [`deadline`], [`absence`], [`sequence`] — keeps state between events and
//! decides from several. Each form is one module that owns everything about it after loading:
//! its compiled parameters (built through [`Compiler`], so that forms never depend on the
//! compiler), its state over a replay, what it does on every event and on the events its term
//! selects, what it reports when the replay ends (violations, open obligations), and what it
//! tells `explain` about one event.
//!
//! Why two enums and not a trait object: the engine hands violations to a generic
//! [`Sink`], which a trait object cannot take, and a closed set lets `match` prove that every
//! form is handled. The state of a term is built *from* its compiled form and keeps a reference
//! to it ([`CompiledForm::state`]), so a state can never meet another form's parameters: each
//! `match` below has one arm per form, and none for impossible pairs.

pub(crate) mod absence;
pub(crate) mod deadline;
pub(crate) mod live;
pub(crate) mod obligations;
pub(crate) mod sequence;
pub(crate) mod threshold;

use std::rc::Rc;

use chrono::{DateTime, TimeDelta, Utc};
use rhai::{AST, Dynamic, ImmutableString};

use crate::engine::memo::Memo;
use crate::engine::native::Values;
use crate::engine::sink::{Evidence, Sink};
use crate::engine::stats::{Failure, Open};
use crate::event::Event;
use crate::load::Expression;
use crate::load::agreement::{DeadlineWindow, Form, Period};

/// Keys are swept for emptied windows or chains every this many events, so that memory
/// follows the keys still active, not every key ever seen.
const SWEEP: u64 = 4096;

/// What a form needs of the compiler: its expressions compiled in the agreement's sandbox,
/// with every problem reported as a diagnostic. `None`: it did not compile (and was reported).
pub(crate) trait Compiler {
    /// Compiles one expression (`key` names it in diagnostics: `by`, `steps`, …).
    fn expression(&mut self, expression: &Expression, key: &str) -> Option<AST>;
    /// Compiles one expression that also sees `trigger` (a deadline's `require`).
    fn with_trigger(&mut self, expression: &Expression, key: &str) -> Option<AST>;
}

/// Compiles a form's optional `by`: `Some(None)` without one, `None` when it fails.
fn compile_by(compiler: &mut dyn Compiler, by: Option<&Expression>) -> Option<Option<Source>> {
    match by {
        Some(by) => compiler
            .expression(by, "by")
            .map(|ast| Some(Source::new(ast, by))),
        None => Some(None),
    }
}

/// What a form asks of its term to evaluate its own expressions on the event bound as `event`
/// (in a replay, and in `explain`). Failures are described with their place in the rule file.
pub(crate) trait Evaluate {
    /// The event's key under `by`: type-tagged (as [`key_of`] writes it) and as text; `None`
    /// for `()`; or the failure.
    fn key(&mut self, by: &Source) -> Result<Option<(SharedKey, SharedKey)>, Box<Failure>>;
    /// Whether the event matches step `i` (0-based) of a sequence, or the failure.
    fn step(&mut self, i: usize, step: &Source) -> Result<bool, Box<Failure>>;
}

/// What a form asks of its term during a replay: its expressions evaluated, failures counted,
/// and violations raised (with the term's party and message, into the sink).
pub(crate) trait Judge: Evaluate {
    /// Whether `candidate` meets the obligation `trigger` opened (a deadline's `require`, with
    /// `event` bound to the candidate and `trigger` to the trigger), or the failure. Leaves
    /// `event` bound to the candidate: [`Judge::restore_event`] binds it back.
    fn require(
        &mut self,
        require: &Source,
        candidate: &Rc<Event>,
        trigger: &Rc<Event>,
    ) -> Result<bool, Box<Failure>>;
    /// Binds `event` to another event, or to `()`, to raise a violation resting on it.
    fn bind_event(&mut self, event: Option<&Rc<Event>>);
    /// Binds `event` to the event being judged again.
    fn restore_event(&mut self);
    /// Counts a failure of one of the term's expressions on `event` (the first is kept).
    fn record_error(&mut self, event: &Event, failure: Box<Failure>);
    /// Counts a selected event whose key was `()`.
    fn unkeyed(&mut self);
    /// Raises a violation dated `time`, decided by `event` (bound as `event`; `None`: decided
    /// by no event), resting on `evidence` (by default the deciding event), about `key`, with
    /// the number of events `in_window` (a threshold).
    fn raise<S: Sink>(
        &mut self,
        event: Option<&Event>,
        time: DateTime<Utc>,
        evidence: Option<Vec<Evidence>>,
        key: Option<String>,
        in_window: Option<u64>,
        sink: &mut S,
    ) -> Result<(), S::Error>;
    /// The term's agreement and its index in it.
    fn term(&self) -> (usize, usize);
}

/// A compiled expression with its text, for messages that point into the rule file.
pub(crate) struct Source {
    pub(crate) ast: AST,
    pub(crate) text: Expression,
}

impl Source {
    fn new(ast: AST, text: &Expression) -> Self {
        Source {
            ast,
            text: text.clone(),
        }
    }
}

/// A term's form, compiled.
pub(crate) enum CompiledForm {
    /// Each selected event is a violation.
    Each,
    Threshold(threshold::Threshold),
    Deadline(deadline::Deadline),
    Absence(absence::Absence),
    Sequence(sequence::Sequence),
}

impl CompiledForm {
    /// Compiles a loaded form; `None` when one of its expressions does not compile.
    pub(crate) fn compile(form: &Form, compiler: &mut dyn Compiler) -> Option<Self> {
        Some(match form {
            Form::Each => CompiledForm::Each,
            Form::Threshold(t) => {
                CompiledForm::Threshold(threshold::Threshold::compile(t, compiler)?)
            }
            Form::Deadline(d) => CompiledForm::Deadline(deadline::Deadline::compile(d, compiler)?),
            Form::Absence(a) => CompiledForm::Absence(absence::Absence::compile(a, compiler)?),
            Form::Sequence(q) => CompiledForm::Sequence(sequence::Sequence::compile(q, compiler)?),
        })
    }

    /// Whether the form depends on the order of events.
    pub(crate) fn is_temporal(&self) -> bool {
        !matches!(self, CompiledForm::Each)
    }

    /// Whether the form acts on every event, selected or not, in its term's period or not
    /// (`before` and `after`: obligations fall due, gaps end, a deadline's `before` window
    /// keeps recent events). The others act only on the events their term selects, so an
    /// event their term cannot select needs no visit.
    pub(crate) fn acts_on_every_event(&self) -> bool {
        match self {
            CompiledForm::Deadline(_) | CompiledForm::Absence(_) => true,
            CompiledForm::Each | CompiledForm::Threshold(_) | CompiledForm::Sequence(_) => false,
        }
    }

    /// The form and its parameters, for `explain`.
    pub(crate) fn summary(&self) -> FormSummary {
        match self {
            CompiledForm::Each => FormSummary::Each,
            CompiledForm::Threshold(form) => form.summary(),
            CompiledForm::Deadline(form) => form.summary(),
            CompiledForm::Absence(form) => form.summary(),
            CompiledForm::Sequence(form) => form.summary(),
        }
    }

    /// What the form makes of one selected event (bound as `event` in `scope`), computed as a
    /// replay computes it, and whether a violation could rest on that event. `None` without a
    /// form (a violation rests on every selected event).
    pub(crate) fn outcome(&self, term: &mut impl Evaluate) -> Option<(FormOutcome, bool)> {
        Some(match self {
            CompiledForm::Each => return None,
            CompiledForm::Threshold(form) => form.outcome(term),
            CompiledForm::Deadline(form) => form.outcome(),
            CompiledForm::Absence(form) => form.outcome(term),
            CompiledForm::Sequence(form) => form.outcome(term),
        })
    }

    /// A fresh state for one replay of a term in `period`; `memo`: remember what `by` and
    /// steps gave per values of the fields they read.
    pub(crate) fn state<'p>(&'p self, period: Period, memo: bool) -> FormState<'p> {
        match self {
            CompiledForm::Each => FormState::Each,
            CompiledForm::Threshold(form) => FormState::Threshold(form.state(memo)),
            CompiledForm::Deadline(form) => FormState::Deadline(form.state(memo)),
            CompiledForm::Absence(form) => FormState::Absence(form.state(period, memo)),
            CompiledForm::Sequence(form) => FormState::Sequence(form.state(memo)),
        }
    }
}

/// What one term's form keeps between events, built from the form by
/// [`CompiledForm::state`]. Serialised only into a checkpoint (`crate::run::checkpoint`), which
/// [`FormState::restore`] reads back into a state the same program built.
#[derive(serde::Serialize)]
pub(crate) enum FormState<'p> {
    Each,
    Threshold(threshold::State<'p>),
    Deadline(deadline::State<'p>),
    Absence(absence::State<'p>),
    Sequence(sequence::State<'p>),
}

/// What [`FormState`] saves, variant for variant.
#[derive(serde::Deserialize)]
pub(crate) enum SavedForm {
    Each,
    Threshold(threshold::Saved),
    Deadline(deadline::Saved),
    Absence(absence::Saved),
    Sequence(sequence::Saved),
}

impl FormState<'_> {
    /// Puts back what a checkpoint saved; `false` when it was saved by a form of another kind
    /// (a checkpoint of another program).
    pub(crate) fn restore(&mut self, saved: SavedForm) -> bool {
        match (self, saved) {
            (FormState::Each, SavedForm::Each) => {}
            (FormState::Threshold(state), SavedForm::Threshold(saved)) => state.restore(saved),
            (FormState::Deadline(state), SavedForm::Deadline(saved)) => {
                return state.restore(saved);
            }
            (FormState::Absence(state), SavedForm::Absence(saved)) => state.restore(saved),
            (FormState::Sequence(state), SavedForm::Sequence(saved)) => state.restore(saved),
            _ => return false,
        }
        true
    }

    /// On every event, in the term's period or not, before the term judges it: obligations
    /// fall due or are met, gaps whose end has passed are reported. `values` reads the
    /// event's fields for the native tests (the fast path; `None` on the plain one).
    pub(crate) fn before<S: Sink>(
        &mut self,
        cx: &mut impl Judge,
        event: &Rc<Event>,
        values: Option<&mut Values<'_, '_, '_>>,
        sink: &mut S,
    ) -> Result<(), S::Error> {
        match self {
            FormState::Deadline(state) => state.before(cx, event, values, sink),
            FormState::Absence(state) => state.before(cx, event, sink),
            FormState::Each | FormState::Threshold(_) | FormState::Sequence(_) => Ok(()),
        }
    }

    /// On an event the term selected.
    pub(crate) fn fire<S: Sink>(
        &mut self,
        cx: &mut impl Judge,
        event: &Rc<Event>,
        sink: &mut S,
    ) -> Result<(), S::Error> {
        match self {
            FormState::Each => cx.raise(Some(event), event.time(), None, None, None, sink),
            FormState::Threshold(state) => state.fire(cx, event, sink),
            FormState::Deadline(state) => state.fire(cx, event, sink),
            FormState::Absence(state) => state.fire(cx, event, sink),
            FormState::Sequence(state) => state.fire(cx, event, sink),
        }
    }

    /// On every event, after the term judged it (`values` as for [`FormState::before`]).
    pub(crate) fn after(&mut self, event: &Rc<Event>, values: Option<&mut Values<'_, '_, '_>>) {
        match self {
            FormState::Deadline(state) => state.after(event, values),
            FormState::Each
            | FormState::Threshold(_)
            | FormState::Absence(_)
            | FormState::Sequence(_) => {}
        }
    }

    /// The earliest a violation this form raises from now on can be dated, when that can be
    /// before the next event's time (`None`: never — see [`crate::engine::Replay::settled`]).
    pub(crate) fn earliest(&self) -> Option<DateTime<Utc>> {
        match self {
            FormState::Absence(state) => state.earliest(),
            FormState::Each
            | FormState::Threshold(_)
            | FormState::Deadline(_)
            | FormState::Sequence(_) => None,
        }
    }

    /// The bytes of live state it holds, as `forms::live` counts them: what the limits on live
    /// state are held to (docs/security.md, "Live state").
    pub(crate) fn held(&self) -> u64 {
        match self {
            FormState::Each => 0,
            FormState::Threshold(state) => state.held(),
            FormState::Deadline(state) => state.held(),
            FormState::Absence(state) => state.held(),
            FormState::Sequence(state) => state.held(),
        }
    }

    /// [`FormState::held`] counted again from what the state holds now, for the tests that
    /// hold the running count to it.
    #[cfg(test)]
    pub(crate) fn recount(&self) -> u64 {
        match self {
            FormState::Each => 0,
            FormState::Threshold(state) => state.recount(),
            FormState::Deadline(state) => state.recount(),
            FormState::Absence(state) => state.recount(),
            FormState::Sequence(state) => state.recount(),
        }
    }

    /// Whether [`FormState::earliest`] can ever be `Some`: only such forms are asked.
    pub(crate) fn can_date_back(&self) -> bool {
        match self {
            FormState::Absence(state) => state.can_date_back(),
            FormState::Each
            | FormState::Threshold(_)
            | FormState::Deadline(_)
            | FormState::Sequence(_) => false,
        }
    }

    /// At the end of the replay (`end`: T1, the last event's time or `--until`): what is
    /// decided by then goes to `sink`, obligations not yet due to `open`.
    pub(crate) fn finish<S: Sink>(
        &mut self,
        cx: &mut impl Judge,
        end: Option<DateTime<Utc>>,
        open: &mut Vec<Open>,
        sink: &mut S,
    ) -> Result<(), S::Error> {
        match self {
            FormState::Deadline(state) => state.finish(cx, end, open, sink),
            FormState::Absence(state) => state.finish(cx, end, sink),
            FormState::Each | FormState::Threshold(_) | FormState::Sequence(_) => Ok(()),
        }
    }
}

/// A term's form, as written.
#[derive(Debug, Clone, PartialEq)]
pub enum FormSummary {
    /// No form: each selected event is a violation.
    Each,
    /// `threshold: {count, within}`.
    Threshold {
        /// Events that make a breach.
        count: u64,
        /// The window.
        within: TimeDelta,
        /// Whether events are grouped by a `by` key.
        keyed: bool,
    },
    /// `deadline`.
    Deadline {
        /// After the trigger (`within`) or before it (`before`).
        window: DeadlineWindow,
    },
    /// `absence: {within}`.
    Absence {
        /// The longest allowed gap.
        within: TimeDelta,
        /// Whether events are grouped by a `by` key.
        keyed: bool,
    },
    /// `sequence: {within, steps}`.
    Sequence {
        /// The longest span of a chain.
        within: TimeDelta,
        /// How many steps.
        steps: usize,
        /// Whether events are grouped by a `by` key.
        keyed: bool,
    },
}

/// What a term's form makes of an event its `when` selects.
#[derive(Debug, Clone, PartialEq)]
pub enum FormOutcome {
    /// Counts in the window of its key.
    Threshold {
        /// The key.
        key: Key,
    },
    /// A trigger: opens an obligation (`within`) or needs an earlier event (`before`).
    Deadline {
        /// Which side of the trigger the required event lies.
        window: DeadlineWindow,
    },
    /// A sighting of its key.
    Absence {
        /// The key.
        key: Key,
        /// Whether the key is watched (always, without `keys`).
        watched: bool,
    },
    /// Takes part in chains of its key, at the steps it matches.
    Sequence {
        /// The key.
        key: Key,
        /// Per step: matched, or the failure; empty when the key is unusable.
        steps: Vec<Result<bool, String>>,
    },
}

/// An event's key under a form's `by`.
#[derive(Debug, Clone, PartialEq)]
pub enum Key {
    /// The form has no `by`: all events share one group.
    Single,
    /// The key, as text.
    Value(String),
    /// `by` gave `()`: the event is grouped with nothing (counted as unkeyed).
    Missing,
    /// `by` failed.
    Failed(String),
}

/// A key as windows and gaps are filed under: its type and its value, so that `1` and `"1"`
/// differ.
pub(crate) fn key_of(value: &Dynamic) -> String {
    format!("{}:{value}", value.type_name())
}

/// The fields an expression reads, when the memo is on.
fn reads(ast: &AST, memo: bool) -> Option<Vec<ImmutableString>> {
    if memo {
        crate::expr::reads::read_set(ast)
    } else {
        None
    }
}

/// A key as a form files its state under it, or its text: shared, because the memo hands
/// out the same key for every event of that key (a copy of a string each time had been 4 %
/// of the benchmark's replay).
pub(crate) type SharedKey = Rc<str>;

/// What a form's `by` gave: the key (type-tagged, and its text), `None` for `()`, or the
/// failure.
type KeyOutcome = Result<Option<(SharedKey, SharedKey)>, Box<Failure>>;

/// A form's `by`, with what it gave per values of the fields it reads.
struct Keyed<'p> {
    by: Option<&'p Source>,
    /// The key (type-tagged, and its text), `None` for `()`, or the failure.
    memo: Memo<KeyOutcome>,
}

impl<'p> Keyed<'p> {
    fn new(by: Option<&'p Source>, memo: bool) -> Self {
        Keyed {
            by,
            memo: Memo::new(by.and_then(|by| reads(&by.ast, memo))),
        }
    }

    /// The key of a selected event (type-tagged, and its text for the report; no text without
    /// `by`), or `None` when it has none (counted as unkeyed) or `by` fails (counted as an
    /// error).
    fn key(
        &mut self,
        cx: &mut impl Judge,
        event: &Event,
    ) -> Option<(SharedKey, Option<SharedKey>)> {
        let Some(by) = self.by else {
            // Without `by`, one group, and no key to name in the report.
            return Some((SharedKey::from(""), None));
        };
        match self.memo.outcome(event, || cx.key(by)) {
            Ok(Some((key, label))) => Some((key, Some(label))),
            Ok(None) => {
                cx.unkeyed();
                None
            }
            Err(failure) => {
                cx.record_error(event, failure);
                None
            }
        }
    }
}

/// The key of the event as `explain` shows it, and as it is filed (`None` when the event has
/// no usable key).
fn explain_key(term: &mut impl Evaluate, by: Option<&Source>) -> (Key, Option<String>) {
    let Some(by) = by else {
        return (Key::Single, Some(String::new()));
    };
    match term.key(by) {
        Ok(Some((tagged, text))) => (Key::Value(text.to_string()), Some(tagged.to_string())),
        Ok(None) => (Key::Missing, None),
        Err(failure) => (Key::Failed(failure.message), None),
    }
}
