//! Agreements as the rest of pactum sees them: validated, typed, with source positions.
//!
//! [`load`] turns one YAML file into an [`Agreement`] and every problem it finds; nothing here
//! compiles or evaluates an expression (that is [`crate::compile()`]'s job), so a file with a
//! broken expression still loads and all its problems are reported together.

mod geography;
mod load;

use std::rc::Rc;

use chrono::{DateTime, Utc};

use crate::diagnostic::SourceFile;
use crate::load::{Expression, ListItem};

pub use crate::load::FileReader;
pub use geography::{Geography, NEAR_KM, Nearest, Outline, Shape};
pub use load::{load, load_with};

/// The counts and durations a rule file chooses are bounded, because what a replay holds and
/// what a report carries grow with them: a sequence's evidence is one event per step, a
/// threshold's its `count` events, an absence watches each of its `keys`, and a window's length
/// decides how many events stay in memory (docs/security.md, "Counts a rule file chooses").
/// Each bound is far above what a treaty writes, and passing it is an error of `pactum check`
/// at the value.
pub mod limits {
    /// Steps of a sequence (its evidence is one event per step).
    pub const MAX_STEPS: usize = 32;
    /// A threshold's `count` (its evidence is that many events).
    pub const MAX_COUNT: u64 = 10_000;
    /// Keys an absence lists under `keys`.
    pub const MAX_KEYS: usize = 10_000;
    /// Items of one of an agreement's `lists`.
    pub const MAX_LIST_ITEMS: usize = 10_000;
    /// Any duration: [`crate::time::MAX_DURATION_DAYS`], which `parse_duration` holds to.
    pub use crate::time::MAX_DURATION_DAYS;
}

/// One agreement file.
#[derive(Debug)]
pub struct Agreement {
    /// Identifier (lowercase letters, digits, `-`).
    pub id: String,
    /// Human title.
    pub title: String,
    /// The file it was loaded from, with its text.
    pub source: Rc<SourceFile>,
    /// SHA-256 of the file's bytes, lowercase hex.
    pub sha256: String,
    /// Declared parties, `(code, name)`, sorted by code.
    pub parties: Vec<(String, String)>,
    /// Declared non-signatories that a term may charge (`others:`: an armed group, a
    /// peacekeeping force), `(code, name)`, sorted by code.
    pub others: Vec<(String, String)>,
    /// When the agreement applies.
    pub effective: Period,
    /// Provenance of the terms.
    pub sources: Vec<String>,
    /// Free text.
    pub description: Option<String>,
    /// Named constant lists, sorted by name.
    pub lists: Vec<(String, Vec<ListItem>)>,
    /// Line and column of each list's name, in the order of `lists` (for warnings about one).
    pub(crate) lists_at: Vec<(u64, u64)>,
    /// Line and column of each item of each list, in the order of `lists` (for errors about
    /// one, such as a kind the vocabulary does not know).
    pub(crate) items_at: Vec<Vec<(u64, u64)>>,
    /// Rhai functions shared by every term.
    pub functions: Option<Expression>,
    /// Named lines, areas, strips and places (`geography:`), prepared.
    pub geography: Rc<Geography>,
    /// The kinds and fields its events carry (`vocabulary:`); empty when it declares none.
    pub vocabulary: Rc<crate::load::vocabulary::Vocabulary>,
    /// The terms, in file order.
    pub terms: Vec<Term>,
    /// Whether loading found no error; [`crate::compile()`] builds no program otherwise.
    pub(crate) valid: bool,
    /// Line and column of the `agreement:` id, for diagnostics about it.
    pub(crate) at: (u64, u64),
}

impl Agreement {
    /// Every code a term may charge: the parties, then the others, each sorted by code. A
    /// violation names those it charges in this order, so that the same parties are always
    /// written the same way (and group into the same incident) whatever order an expression
    /// gave them in.
    pub fn chargeable(&self) -> impl Iterator<Item = &(String, String)> {
        self.parties.iter().chain(&self.others)
    }
}

/// One clause of an agreement, as a rule.
#[derive(Debug)]
pub struct Term {
    /// Identifier, unique within the agreement.
    pub id: String,
    /// Line and column of the id, for diagnostics about the whole term.
    pub(crate) at: (u64, u64),
    /// Citation of the clause, e.g. `"2"` or `"IR-3"`.
    pub article: Option<String>,
    /// Human title.
    pub title: String,
    /// The clause's own words (`text:`), shown with each breach of it.
    pub text: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// How serious a breach is.
    pub severity: Severity,
    /// Who is in breach when the term fires.
    pub breached_by: Breach,
    /// The term's own period, already intersected with the agreement's.
    pub effective: Period,
    /// Provenance of this term.
    pub sources: Vec<String>,
    /// The condition.
    pub when: Expression,
    /// Message template with `{expression}` placeholders.
    pub message: Option<Expression>,
    /// What the term looks for among the events `when` selects (docs/semantics.md).
    pub form: Form,
}

/// What a term looks for among the events its `when` selects.
#[derive(Debug)]
pub enum Form {
    /// Each selected event is a breach on its own.
    Each,
    /// At least `count` selected events with the same key within `within`.
    Threshold(Threshold),
    /// Each selected event must be matched by another event within a time limit.
    Deadline(Deadline),
    /// Selected events must keep coming: no gap longer than `within` per key.
    Absence(Absence),
    /// Selected events matching each step in turn, within a time span.
    Sequence(Sequence),
}

impl Form {
    /// Its `by` key, for the forms that group events by one (threshold, absence, sequence):
    /// their violations have a key, which `breached_by` and the message read as `key`.
    pub fn by(&self) -> Option<&Expression> {
        match self {
            Form::Threshold(t) => t.by.as_ref(),
            Form::Absence(a) => a.by.as_ref(),
            Form::Sequence(q) => q.by.as_ref(),
            Form::Each | Form::Deadline(_) => None,
        }
    }
}

/// `sequence: {within, by, steps}`.
#[derive(Debug)]
pub struct Sequence {
    /// The longest span from the first step's event to the last's.
    pub within: chrono::TimeDelta,
    /// The key every event of a chain shares; absent: one group.
    pub by: Option<Expression>,
    /// One condition per step, in order (at least two).
    pub steps: Vec<Expression>,
}

/// `absence: {within, by, keys}`.
#[derive(Debug)]
pub struct Absence {
    /// The longest allowed gap.
    pub within: chrono::TimeDelta,
    /// The key events are grouped by; absent: one group.
    pub by: Option<Expression>,
    /// Keys expected even if no event has them; empty: the keys seen.
    pub keys: Vec<ListItem>,
}

/// `deadline: {within | before, require}`.
#[derive(Debug)]
pub struct Deadline {
    /// After the trigger (`within`) or before it (`before`), and how long.
    pub window: DeadlineWindow,
    /// What the matching event must satisfy; sees `event` and `trigger`.
    pub require: Expression,
}

/// Which side of its trigger a deadline looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadlineWindow {
    /// An event after the trigger, at most this long after it.
    Within(chrono::TimeDelta),
    /// An event before the trigger, at most this long before it.
    Before(chrono::TimeDelta),
}

/// `threshold: {count, within, by}`.
#[derive(Debug)]
pub struct Threshold {
    /// How many selected events make a breach.
    pub count: u64,
    /// The length of the window.
    pub within: chrono::TimeDelta,
    /// The key events are grouped by; absent: one group.
    pub by: Option<Expression>,
}

/// Who is in breach.
#[derive(Debug, Clone)]
pub enum Breach {
    /// Always the same declared parties or others (one or more, in the agreement's order:
    /// [`Agreement::chargeable`]).
    Parties(Vec<String>),
    /// An expression over the event giving a code (e.g. `event.party`) or a list of codes
    /// (`[event.party, "PKK"]`).
    Expression(Expression),
}

/// How serious a breach is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Least serious.
    Low,
    /// The default.
    Medium,
    /// Serious.
    High,
    /// Most serious.
    Critical,
}

impl Severity {
    /// All severities, most serious first.
    pub const ALL: [Severity; 4] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ];

    /// The lowercase name used in files and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Parses the lowercase name.
    pub fn parse(text: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// A half-open period `[from, until)` in UTC; either end may be open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Period {
    /// First instant included.
    pub from: Option<DateTime<Utc>>,
    /// First instant excluded.
    pub until: Option<DateTime<Utc>>,
}

impl Period {
    /// Whether `time` falls inside the period.
    pub fn contains(&self, time: DateTime<Utc>) -> bool {
        self.from.is_none_or(|from| time >= from) && self.until.is_none_or(|until| time < until)
    }

    /// The part of both periods; `None` when they do not overlap.
    pub fn intersect(&self, other: &Period) -> Option<Period> {
        let from = self.from.max(other.from);
        let until = match (self.until, other.until) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        match (from, until) {
            (Some(from), Some(until)) if from >= until => None,
            _ => Some(Period { from, until }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_instant;

    fn at(text: &str) -> DateTime<Utc> {
        parse_instant(text).unwrap().0
    }

    #[test]
    fn periods_are_half_open_and_intersect() {
        let p = Period {
            from: Some(at("2023-03-19")),
            until: Some(at("2024-01-01")),
        };
        assert!(p.contains(at("2023-03-19")));
        assert!(p.contains(at("2023-12-31T23:59:59Z")));
        assert!(!p.contains(at("2024-01-01")));
        assert!(!p.contains(at("2023-03-18T23:59:59Z")));
        let later = Period {
            from: Some(at("2023-09-20")),
            until: None,
        };
        assert_eq!(
            p.intersect(&later),
            Some(Period {
                from: Some(at("2023-09-20")),
                until: Some(at("2024-01-01"))
            })
        );
        let disjoint = Period {
            from: Some(at("2024-06-01")),
            until: None,
        };
        assert_eq!(p.intersect(&disjoint), None);
        assert_eq!(Period::default().intersect(&later), Some(later));
    }

    fn expression(text: &str, value: &str, line: u64, column: u64, quoted: bool) -> Expression {
        Expression {
            text: value.into(),
            source: SourceFile::new("r.yaml", text),
            line,
            column,
            quoted,
            characters: None,
        }
    }

    #[test]
    fn positions_map_into_plain_quoted_block_and_folded_values() {
        let plain = expression("    when: a && b\n", "a && b", 1, 11, false);
        assert_eq!(plain.locate(1, 6), (1, 16));
        let quoted = expression("    when: \"a && b\"\n", "a && b", 1, 11, true);
        assert_eq!(quoted.locate(1, 6), (1, 17));
        let block = expression(
            "    when: |\n      a &&\n        b\n",
            "a &&\n  b\n",
            2,
            7,
            false,
        );
        assert_eq!(block.locate(2, 3), (3, 9));
        let folded = expression(
            "    when: >\n      aaaa\n      bb\n",
            "aaaa bb\n",
            2,
            7,
            false,
        );
        assert_eq!(folded.locate(1, 2), (2, 8));
        assert_eq!(folded.locate(1, 7), (3, 8));
    }
}
