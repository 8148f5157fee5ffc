//! Where decided violations go.
//!
//! The replay never formats or stores anything itself: it pushes each [`Violation`] into a
//! [`Sink`] the caller chose (a collector that builds a report, a counter in a benchmark, a
//! streaming writer). This keeps the engine free of output formats, as ripgrep's searcher is.

use chrono::{DateTime, Utc};

use crate::event::{CLAIMS, Claim, Event, Origin};

/// One breach of one term, as decided by the engine.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Violation {
    /// Index of the agreement in [`crate::Program::agreements`].
    pub agreement: usize,
    /// Index of the term within that agreement.
    pub term: usize,
    /// When the breach happened (the time of the deciding event).
    pub time: DateTime<Utc>,
    /// Who is in breach: declared parties or others, in the agreement's order; empty when
    /// unknown (unattributed).
    pub breached_by: Vec<String>,
    /// The rendered message (the term's title when it has no message).
    pub message: String,
    /// Where, as reported by the deciding event.
    pub location: Location,
    /// The events the decision rests on.
    pub evidence: Vec<Evidence>,
    /// For a threshold or absence term, the key the violation concerns (its text).
    pub key: Option<String>,
    /// For a threshold term, how many selected events its window held when it was reached
    /// (the evidence is the `count` latest of them).
    pub in_window: Option<u64>,
}

/// Where a violation took place, as far as the events say.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Location {
    /// The `place` field.
    pub place: Option<String>,
    /// The `country` field.
    pub country: Option<String>,
    /// The `lat` field.
    pub lat: Option<f64>,
    /// The `lon` field.
    pub lon: Option<f64>,
}

const PLACE: &str = "place";
const COUNTRY: &str = "country";
const LAT: &str = "lat";
const LON: &str = "lon";
const SOURCE: &str = "source";
const HYPOTHETICAL: &str = "hypothetical";

/// The event fields that are its account of what happened, reported with it as evidence when
/// it has them (docs/inputs.md, "The event's account"): a one-line summary, the reliability of
/// its source, whether it is confirmed, alleged or denied, and the casualties it reports. In
/// the order of their names, as a report writes them.
pub const ACCOUNT: [&str; 4] = ["casualties", "reliability", "summary", "verification"];

/// The event fields a violation reports besides the event's time, kind and id: its place
/// ([`Location::of`]) and each evidence's source, whether it is hypothetical, and its account
/// ([`Evidence::of`]), which read them by these names. A replay parses them whatever the rules
/// read.
pub(crate) const FIELDS_REPORTED: [&str; 11] = [
    PLACE,
    COUNTRY,
    LAT,
    LON,
    SOURCE,
    HYPOTHETICAL,
    ACCOUNT[0],
    ACCOUNT[1],
    ACCOUNT[2],
    ACCOUNT[3],
    CLAIMS,
];

impl Location {
    pub(crate) fn of(event: &Event) -> Self {
        Location {
            place: event.field_text(PLACE),
            country: event.field_text(COUNTRY),
            lat: event.field_number(LAT),
            lon: event.field_number(LON),
        }
    }
}

/// One event cited as evidence.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Evidence {
    /// The event's id.
    pub id: String,
    /// Its file and line.
    pub origin: Origin,
    /// Its time.
    pub time: DateTime<Utc>,
    /// Its kind.
    pub kind: String,
    /// Its `source` field, if any (a URL or a document reference).
    pub source: Option<String>,
    /// Whether the event says it is invented (`"hypothetical": true`), as scenario events
    /// may be: a reader must be able to tell such evidence from reported fact.
    pub hypothetical: bool,
    /// Its account ([`ACCOUNT`]): (field, text) for those of its fields it has, in that order.
    pub account: Vec<(String, String)>,
    /// What the parties say of it (its `claims`), in the order the event gives them.
    pub claims: Vec<Claim>,
}

impl Evidence {
    /// What the event says of its verification (`confirmed`, `alleged`, `denied`, …).
    pub fn verification(&self) -> Option<&str> {
        self.account
            .iter()
            .find(|(field, _)| field == "verification")
            .map(|(_, text)| text.as_str())
    }

    pub(crate) fn of(event: &Event) -> Self {
        // One pass over the event's fields for all that evidence reports of them (a lookup
        // each was a tenth of the benchmark's replay, for 1.2 million evidence entries).
        let mut source = None;
        let mut hypothetical = false;
        let mut account = Vec::new();
        let mut claims = Vec::new();
        for (name, value) in event.fields() {
            match name.as_str() {
                SOURCE => source = text_of(value),
                // Read when the event was (`crate::input`): claims that cannot be are an
                // invalid line, so none is here.
                CLAIMS => claims = Claim::all_of(value).unwrap_or_default(),
                HYPOTHETICAL => hypothetical = value.as_bool() == Ok(true),
                // The names of [`ACCOUNT`].
                "casualties" | "reliability" | "summary" | "verification" => {
                    if let Some(text) = text_of(value) {
                        account.push((name.to_string(), text));
                    }
                }
                _ => {}
            }
        }
        // In the order of the names, as a report writes them ([`ACCOUNT`]).
        account.sort_unstable();
        Evidence {
            id: event.id(),
            origin: event.origin().clone(),
            time: event.time(),
            kind: event.kind().to_string(),
            source,
            hypothetical,
            account,
            claims,
        }
    }
}

/// A field's value as a report gives it, as [`Event::field_text`] does: a text, a number or
/// a boolean as written; nothing for other values.
fn text_of(value: &rhai::Dynamic) -> Option<String> {
    (value.is_string() || value.is_int() || value.is_float() || value.is_bool())
        .then(|| value.to_string())
}

/// Receives violations as the replay decides them.
pub trait Sink {
    /// What can go wrong while taking a violation (writing it out, say).
    type Error;

    /// Takes one violation.
    fn violation(&mut self, violation: Violation) -> Result<(), Self::Error>;

    /// Hears how far the run has come, every [`PROGRESS_EVERY`] records (a progress bar, say).
    /// By default it ignores it.
    fn progress(&mut self, _progress: Progress) {}

    /// Hears that no violation pushed from now on is dated before `time`: the violations
    /// dated earlier are final, and can be put in order and written (a report streamed as
    /// its violations are decided). Said only when events reach the engine in exact canonical
    /// order (sorted inputs; never a stream, whose late events are judged out of order). By
    /// default it ignores it.
    fn settled(&mut self, _time: DateTime<Utc>) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// How many records a run reads between two calls of [`Sink::progress`]: often enough for a
/// bar to move several times a second, rarely enough to cost nothing measurable.
pub const PROGRESS_EVERY: u64 = 4096;

/// How far a run has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Progress {
    /// Reading the inputs in order: input `input` (0-based), at byte `offset` of it; `records`
    /// read in all.
    Reading {
        /// Which input.
        input: usize,
        /// Bytes of that input read so far.
        offset: u64,
        /// Records read so far, every input.
        records: u64,
    },
    /// Judging events again in canonical order, after they came out of order: `done` of
    /// `total` events.
    Reordering {
        /// Events judged.
        done: u64,
        /// Events to judge.
        total: u64,
    },
}

/// Keeps every violation in memory, for reports that sort them.
#[derive(Debug, Default)]
pub struct Collect(pub Vec<Violation>);

impl Sink for Collect {
    type Error = std::convert::Infallible;

    fn violation(&mut self, violation: Violation) -> Result<(), Self::Error> {
        self.0.push(violation);
        Ok(())
    }
}

/// Counts violations and drops them: for benchmarks.
#[derive(Debug, Default)]
pub struct Count(pub u64);

impl Sink for Count {
    type Error = std::convert::Infallible;

    fn violation(&mut self, _: Violation) -> Result<(), Self::Error> {
        self.0 += 1;
        Ok(())
    }
}
