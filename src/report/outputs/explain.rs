//! The JSON of `pactum explain --format json`: how every term judges one event, as data
//! (docs/explain.md).
//!
//! Built from the library's [`Explanation`]; nothing is judged here. The one value computed is
//! `fires`, which says in one field what `selected`, the form and `violation` say together.

use serde::{Deserialize, Serialize};

use crate::engine::explain::{
    Attribution, Call, Chain, Comparison, Condition, Detail, Explanation, FormOutcome, FormSummary,
    InPeriod, Judged, Key, Operand, Side, TermExplanation,
};
use crate::load::agreement::{DeadlineWindow, Period};
use crate::time::{format_duration, format_instant};

/// Version of the explain output described here.
pub const EXPLAIN_VERSION: u32 = 2;

/// What `pactum explain --format json` writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExplainOutput {
    /// [`EXPLAIN_VERSION`] at the time of writing.
    pub explain_version: u32,
    /// The pactum version that produced it.
    pub pactum_version: String,
    /// The event explained.
    pub event: EventRecord,
    /// One per term, agreements in the order given, terms in file order.
    pub terms: Vec<TermRecord>,
}

/// The event explained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventRecord {
    /// Its `id`, or `FILE:LINE` when it has none.
    pub id: String,
    /// Its time, RFC 3339 UTC.
    pub time: String,
    /// Its kind.
    pub kind: String,
    /// Where it was read.
    pub origin: OriginRecord,
}

/// Where an event was read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OriginRecord {
    /// The file as named (`--event` for an event given on the command line, `-` for standard
    /// input).
    pub file: String,
    /// 1-based line.
    pub line: u64,
}

/// How one term judges the event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TermRecord {
    /// Agreement id.
    pub agreement: String,
    /// Term id.
    pub term: String,
    /// The clause it cites; `null` when none.
    pub article: Option<String>,
    /// Its title.
    pub title: String,
    /// Its severity.
    pub severity: String,
    /// Its form and the form's parameters.
    pub form: FormRecord,
    /// Its effective period.
    pub period: PeriodRecord,
    /// `inside`, `before` or `after`.
    pub in_period: String,
    /// How `when` went; `null` outside the period (not judged).
    pub when: Option<WhenRecord>,
    /// In the period, and `when` gave `true`.
    pub selected: bool,
    /// Whether the term fires on the event; `null` for a form whose firing depends on other
    /// events.
    pub fires: Option<bool>,
    /// What the form makes of a selected event; `null` without a form or when not selected.
    pub outcome: Option<OutcomeRecord>,
    /// The violation that would rest on the event; `null` when it cannot carry one.
    pub violation: Option<ExplainedViolation>,
}

/// A term's form, tagged by `type`; durations as rule files write them (`72h`, `60d`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum FormRecord {
    /// No form: each selected event is a violation. (A struct variant, so that a field is
    /// refused here as in the others.)
    Each {},
    /// `threshold`.
    Threshold {
        /// Events that make a breach.
        count: u64,
        /// The window.
        within: String,
        /// Whether it has a `by`.
        by: bool,
    },
    /// `deadline`: exactly one of `within` and `before`.
    Deadline {
        /// After the trigger.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        within: Option<String>,
        /// Before the trigger.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        before: Option<String>,
    },
    /// `absence`.
    Absence {
        /// The longest allowed gap.
        within: String,
        /// Whether it has a `by`.
        by: bool,
    },
    /// `sequence`.
    Sequence {
        /// The longest span of a chain.
        within: String,
        /// How many steps.
        steps: u64,
        /// Whether it has a `by`.
        by: bool,
    },
}

/// A period; `null` ends are open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeriodRecord {
    /// First instant included.
    pub from: Option<String>,
    /// First instant excluded.
    pub until: Option<String>,
}

/// How a term's `when` went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhenRecord {
    /// As written.
    pub text: String,
    /// A sequence without `when`: every event is selected.
    pub implicit: bool,
    /// Always `true`: a `when` in the period is evaluated.
    pub evaluated: bool,
    /// `true` or `false`; `null` when it failed.
    pub result: Option<bool>,
    /// What a `when` that is not a chain gave, when that is not a boolean.
    pub value: Option<String>,
    /// The replay's message for its failure.
    pub error: Option<String>,
    /// For a `when` that is not a chain: its comparison, if it is one.
    pub comparison: Option<ComparisonRecord>,
    /// For a `when` that is not a chain: the function calls in it.
    pub calls: Vec<CallRecord>,
    /// A top-level `&&` or `||` chain.
    pub chain: Option<ChainRecord>,
}

/// A top-level `&&` or `||` chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainRecord {
    /// `&&` or `||`.
    pub operator: String,
    /// The index of the operand that decided; `null` when none stopped the chain.
    pub decided_by: Option<u64>,
    /// The operands in order.
    pub operands: Vec<OperandRecord>,
}

/// One operand of a chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperandRecord {
    /// As written.
    pub text: String,
    /// `false` after the deciding operand (Rhai does not evaluate it).
    pub evaluated: bool,
    /// `true` or `false`; `null` when not evaluated, failed or not a boolean.
    pub result: Option<bool>,
    /// What it gave, when that is not a boolean.
    pub value: Option<String>,
    /// Its failure.
    pub error: Option<String>,
    /// Its comparison, if it is one.
    pub comparison: Option<ComparisonRecord>,
    /// The function calls in it.
    pub calls: Vec<CallRecord>,
}

/// A comparison's sides, evaluated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComparisonRecord {
    /// Written `!(…)`.
    pub negated: bool,
    /// The left side.
    pub left: SideRecord,
    /// `==`, `!=`, `<`, `<=`, `>`, `>=` or `in`.
    pub operator: String,
    /// The right side.
    pub right: SideRecord,
}

/// One side of a comparison: `{"value": …}`, `{"list": …}` or `{"error": …}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum SideRecord {
    /// Its value, as Rhai writes it.
    Value(String),
    /// One of the agreement's lists, by name.
    List(String),
    /// Its failure.
    Error(String),
}

/// A function call and its result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallRecord {
    /// As written.
    pub text: String,
    /// Its value as Rhai writes it; `null` when it failed.
    pub value: Option<String>,
    /// Its failure.
    pub error: Option<String>,
}

/// What a form makes of a selected event; which shape goes with the term's `form.type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OutcomeRecord {
    /// A sequence: its key and the steps the event matches.
    Sequence(SequenceOutcome),
    /// An absence: its key, and whether it is watched.
    Absence(AbsenceOutcome),
    /// A threshold: its key.
    Threshold(ThresholdOutcome),
    /// A deadline: the event is a trigger.
    Deadline(DeadlineOutcome),
}

/// A threshold's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdOutcome {
    /// Its key; `null` without `by`.
    pub key: Option<KeyRecord>,
}

/// A deadline's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeadlineOutcome {
    /// Always `true`: a selected event is a trigger.
    pub trigger: bool,
}

/// An absence's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AbsenceOutcome {
    /// Its key; `null` without `by`.
    pub key: Option<KeyRecord>,
    /// Whether the key is watched (always, without `keys`).
    pub watched: bool,
}

/// A sequence's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SequenceOutcome {
    /// Its key; `null` without `by`.
    pub key: Option<KeyRecord>,
    /// Per step, whether the event matches it; empty when the key is missing or failed.
    pub steps: Vec<StepRecord>,
}

/// An event's key under a form's `by`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRecord {
    /// The key as text; `null` when `by` gave a missing value or failed.
    pub value: Option<String>,
    /// The failure of `by`.
    pub error: Option<String>,
}

/// Whether the event matches one step of a sequence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepRecord {
    /// It matches.
    pub matched: bool,
    /// The step's failure (`matched` is then `false`).
    pub error: Option<String>,
}

/// The violation that would rest on the event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExplainedViolation {
    /// Who is in breach; empty when unattributed (before explain version 2: one code or
    /// `null`).
    #[serde(deserialize_with = "crate::report::model::charged::deserialize")]
    pub breached_by: Vec<String>,
    /// The message.
    pub message: String,
    /// The first failure of `breached_by` or a message placeholder.
    pub failure: Option<String>,
}

/// The explain output of `e`.
pub fn build(e: &Explanation) -> ExplainOutput {
    ExplainOutput {
        explain_version: EXPLAIN_VERSION,
        pactum_version: super::pactum_version(),
        event: EventRecord {
            id: e.id.clone(),
            time: format_instant(&e.time),
            kind: e.kind.clone(),
            origin: OriginRecord {
                file: e.origin.file.to_string(),
                line: e.origin.line,
            },
        },
        terms: e.terms.iter().map(term).collect(),
    }
}

fn term(t: &TermExplanation) -> TermRecord {
    TermRecord {
        agreement: t.agreement.clone(),
        term: t.term.clone(),
        article: t.article.clone(),
        title: t.title.clone(),
        severity: t.severity.as_str().to_string(),
        form: form(&t.form),
        period: period(&t.period),
        in_period: match t.in_period {
            InPeriod::Inside => "inside",
            InPeriod::Before => "before",
            InPeriod::After => "after",
        }
        .to_string(),
        when: t.when.as_ref().map(when),
        selected: t.selected,
        fires: fires(t),
        outcome: t.outcome.as_ref().map(outcome),
        violation: t.violation.as_ref().map(violation),
    }
}

/// A term without a form fires exactly when it selects the event. With a form, a selected
/// event that could carry a violation depends on other events (`None`); one that cannot (no
/// usable key, a key not watched) does not fire.
fn fires(t: &TermExplanation) -> Option<bool> {
    match (&t.form, t.selected, &t.violation) {
        (_, false, _) => Some(false),
        (FormSummary::Each, true, _) => Some(true),
        (_, true, Some(_)) => None,
        (_, true, None) => Some(false),
    }
}

fn form(f: &FormSummary) -> FormRecord {
    match f {
        FormSummary::Each => FormRecord::Each {},
        FormSummary::Threshold {
            count,
            within,
            keyed,
        } => FormRecord::Threshold {
            count: *count,
            within: format_duration(*within),
            by: *keyed,
        },
        FormSummary::Deadline { window } => {
            let (within, before) = match window {
                DeadlineWindow::Within(d) => (Some(format_duration(*d)), None),
                DeadlineWindow::Before(d) => (None, Some(format_duration(*d))),
            };
            FormRecord::Deadline { within, before }
        }
        FormSummary::Absence { within, keyed } => FormRecord::Absence {
            within: format_duration(*within),
            by: *keyed,
        },
        FormSummary::Sequence {
            within,
            steps,
            keyed,
        } => FormRecord::Sequence {
            within: format_duration(*within),
            steps: *steps as u64,
            by: *keyed,
        },
    }
}

fn period(p: &Period) -> PeriodRecord {
    PeriodRecord {
        from: p.from.as_ref().map(format_instant),
        until: p.until.as_ref().map(format_instant),
    }
}

/// `evaluated`, `result`, `value` and `error` of something evaluated (or not).
fn judged(judged: Option<&Judged>) -> (bool, Option<bool>, Option<String>, Option<String>) {
    match judged {
        None => (false, None, None, None),
        Some(Judged::True) => (true, Some(true), None, None),
        Some(Judged::False) => (true, Some(false), None, None),
        Some(Judged::Other(value)) => (true, None, Some(value.clone()), None),
        Some(Judged::Failed(message)) => (true, None, None, Some(message.clone())),
    }
}

fn when(c: &Condition) -> WhenRecord {
    // The `when` as a replay judges it: a value other than a boolean is a failure, and
    // `value` says what it was.
    let (evaluated, result, _, error) = judged(Some(&c.result));
    let (comparison, calls) = detail(&c.detail);
    WhenRecord {
        text: c.text.clone(),
        implicit: c.implicit,
        evaluated,
        result,
        value: c.gave.clone(),
        error,
        comparison,
        calls,
        chain: c.chain.as_ref().map(chain),
    }
}

fn chain(c: &Chain) -> ChainRecord {
    ChainRecord {
        operator: if c.all { "&&" } else { "||" }.to_string(),
        decided_by: c.decided_by.map(|i| i as u64),
        operands: c.operands.iter().map(operand).collect(),
    }
}

fn operand(o: &Operand) -> OperandRecord {
    let (evaluated, result, value, error) = judged(o.result.as_ref());
    let (comparison, calls) = detail(&o.detail);
    OperandRecord {
        text: o.text.clone(),
        evaluated,
        result,
        value,
        error,
        comparison,
        calls,
    }
}

fn detail(d: &Detail) -> (Option<ComparisonRecord>, Vec<CallRecord>) {
    (
        d.comparison.as_ref().map(comparison),
        d.calls.iter().map(call).collect(),
    )
}

fn comparison(c: &Comparison) -> ComparisonRecord {
    ComparisonRecord {
        negated: c.negated,
        left: side(&c.left),
        operator: c.operator.clone(),
        right: side(&c.right),
    }
}

fn side(s: &Side) -> SideRecord {
    match s {
        Side::Value(value) => SideRecord::Value(value.clone()),
        Side::List(name) => SideRecord::List(name.clone()),
        Side::Failed(message) => SideRecord::Error(message.clone()),
    }
}

fn call(c: &Call) -> CallRecord {
    let (value, error) = match &c.result {
        Ok(value) => (Some(value.clone()), None),
        Err(message) => (None, Some(message.clone())),
    };
    CallRecord {
        text: c.text.clone(),
        value,
        error,
    }
}

fn key(k: &Key) -> Option<KeyRecord> {
    match k {
        Key::Single => None,
        Key::Value(value) => Some(KeyRecord {
            value: Some(value.clone()),
            error: None,
        }),
        Key::Missing => Some(KeyRecord {
            value: None,
            error: None,
        }),
        Key::Failed(message) => Some(KeyRecord {
            value: None,
            error: Some(message.clone()),
        }),
    }
}

fn outcome(o: &FormOutcome) -> OutcomeRecord {
    match o {
        FormOutcome::Threshold { key: k } => {
            OutcomeRecord::Threshold(ThresholdOutcome { key: key(k) })
        }
        FormOutcome::Deadline { .. } => OutcomeRecord::Deadline(DeadlineOutcome { trigger: true }),
        FormOutcome::Absence { key: k, watched } => OutcomeRecord::Absence(AbsenceOutcome {
            key: key(k),
            watched: *watched,
        }),
        FormOutcome::Sequence { key: k, steps } => OutcomeRecord::Sequence(SequenceOutcome {
            key: key(k),
            steps: steps
                .iter()
                .map(|step| match step {
                    Ok(matched) => StepRecord {
                        matched: *matched,
                        error: None,
                    },
                    Err(message) => StepRecord {
                        matched: false,
                        error: Some(message.clone()),
                    },
                })
                .collect(),
        }),
    }
}

fn violation(a: &Attribution) -> ExplainedViolation {
    ExplainedViolation {
        breached_by: a.breached_by.clone(),
        message: a.message.clone(),
        failure: a.failure.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shapes that carry no tag of their own read back as what was written, and a field
    /// they do not declare is refused rather than read as another shape.
    #[test]
    fn tagged_and_untagged_shapes_read_back_strictly() {
        let key = Some(KeyRecord {
            value: Some("S01".into()),
            error: None,
        });
        let outcomes = [
            OutcomeRecord::Threshold(ThresholdOutcome { key: None }),
            OutcomeRecord::Deadline(DeadlineOutcome { trigger: true }),
            OutcomeRecord::Absence(AbsenceOutcome {
                key: key.clone(),
                watched: false,
            }),
            OutcomeRecord::Sequence(SequenceOutcome {
                key,
                steps: vec![StepRecord {
                    matched: false,
                    error: Some("step 1 failed".into()),
                }],
            }),
        ];
        for outcome in outcomes {
            let text = serde_json::to_string(&outcome).unwrap();
            assert_eq!(
                serde_json::from_str::<OutcomeRecord>(&text).unwrap(),
                outcome
            );
            let mut with_unknown: serde_json::Value = serde_json::from_str(&text).unwrap();
            with_unknown["by"] = true.into();
            assert!(serde_json::from_value::<OutcomeRecord>(with_unknown).is_err());
        }
        let form = r#"{"type": "deadline", "before": "72h"}"#;
        assert_eq!(
            serde_json::from_str::<FormRecord>(form).unwrap(),
            FormRecord::Deadline {
                within: None,
                before: Some("72h".into())
            }
        );
        for refused in [
            r#"{"type": "each", "count": 3}"#,
            r#"{"type": "later"}"#,
            r#"{"value": "\"TR\"", "list": "parties"}"#,
        ] {
            assert!(
                serde_json::from_str::<FormRecord>(refused).is_err()
                    && serde_json::from_str::<SideRecord>(refused).is_err(),
                "{refused}"
            );
        }
    }
}
