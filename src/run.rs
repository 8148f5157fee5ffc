//! One replay over a list of inputs: the loop every front end shares.
//!
//! Reads each input in the order given, hands every event to the [`Replay`], and deals with
//! invalid lines according to [`RunOptions::skip_invalid`]: stop at the first (the default, so
//! that a broken log is never mistaken for a quiet one) or record it and go on. Every line is
//! accounted for in the outcome: judged, blank, or skipped with its reason.

use std::io::{BufRead, Seek};
use std::rc::Rc;

use thiserror::Error;

use crate::engine::Program;
use crate::engine::replay::{Replay, ReplayTotals};
use crate::engine::sink::{PROGRESS_EVERY, Progress, Sink};
use crate::input::mapping::{Mapping, Provenance};
use crate::input::{EventReader, InputError, InputFormat, InputStats};

/// A reader that can also seek: what reading events again in another order needs.
pub trait SeekRead: BufRead + Seek {}
impl<T: BufRead + Seek> SeekRead for T {}

/// Opens an input again from its start.
pub type Reopen<'a> = Box<dyn Fn() -> std::io::Result<Box<dyn SeekRead + 'a>> + 'a>;

/// One event source.
pub struct Input<'a> {
    /// Its display name: the path as the user gave it, or `-`.
    pub name: String,
    /// Its bytes.
    pub reader: Box<dyn BufRead + 'a>,
    /// How it is encoded.
    pub format: InputFormat,
    /// How to read it again, seekably: needed when a program with temporal terms meets events
    /// out of time order (docs/semantics.md, "canonical order"). `None` for a stream.
    pub reopen: Option<Reopen<'a>>,
    /// The mapping that turns its records into events; `None`: its records are events.
    pub mapping: Option<Rc<Mapping>>,
}

/// Options of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOptions {
    /// Record invalid lines and go on, instead of stopping at the first. Default `false`.
    pub skip_invalid: bool,
    /// Remember condition outcomes per field values ([`crate::engine::replay`]). Default `true`.
    /// Changes speed only, never a result: tests replay with it off to prove that.
    pub memo: bool,
    /// The end of the replay (`--until`): events after it are judged by no term, and it is T1
    /// for absences and deadlines (docs/semantics.md). Default: the last event.
    pub until: Option<chrono::DateTime<chrono::Utc>>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            skip_invalid: false,
            memo: true,
            until: None,
        }
    }
}

/// What one input contributed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputSummary {
    /// Display name.
    pub name: String,
    /// SHA-256 of its bytes, lowercase hex.
    pub sha256: String,
    /// Line and event counts.
    pub stats: InputStats,
    /// The mapping its events were made by, if any.
    pub mapping: Option<Provenance>,
}

/// Everything a finished run knows, apart from the violations (which went to the sink).
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutcome {
    /// Per-term totals.
    pub totals: ReplayTotals,
    /// Per-input counts and hashes, in the order given.
    pub inputs: Vec<InputSummary>,
    /// Lines skipped with `skip_invalid`, in input order.
    pub skipped: Vec<InputError>,
    /// Events that came on a stream later than the reorder buffer could wait for, judged on
    /// arrival ([`run_stream`]).
    pub late: Vec<Late>,
}

/// An event that arrived too late for canonical order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Late {
    /// Its id.
    pub event: String,
    /// Its input and line.
    pub origin: crate::event::Origin,
    /// Its time.
    pub time: chrono::DateTime<chrono::Utc>,
    /// The time of the latest event already judged when it came.
    pub after: chrono::DateTime<chrono::Utc>,
}

/// Why a run stopped.
#[derive(Debug, Error)]
pub enum RunError<E> {
    /// An invalid event line, without `skip_invalid`.
    #[error("invalid event at {0}")]
    Invalid(InputError),
    /// An input could not be read.
    #[error("cannot read {file}: {source}")]
    Io {
        /// The input.
        file: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The sink refused a violation.
    #[error("cannot write a violation")]
    Sink(E),
    /// Temporal terms met events out of time order in an input that cannot be read again
    /// (standard input), or with a sink that cannot start over.
    #[error(
        "the events are not in time order, and {file} cannot be read again to put them in order (temporal terms need that): sort the events, or give {file} as a regular file"
    )]
    Unordered {
        /// The input.
        file: String,
    },
}

/// Replays `inputs` against `program`, pushing violations into `sink`.
///
/// A program of stateless terms judges events as they are read. A program with temporal
/// terms judges them in canonical order (time, then input order): inputs already in that
/// order are judged as they are read; otherwise the run starts over, indexes every event,
/// sorts the index and reads the events again in order (`Input::reopen`).
pub fn run<S: Sink>(
    program: &Program,
    inputs: Vec<Input<'_>>,
    options: RunOptions,
    sink: &mut S,
) -> Result<RunOutcome, RunError<S::Error>> {
    let ordered = program.is_temporal();
    let mut reopen = Vec::new();
    let mut readers = Vec::new();
    for input in inputs {
        let source = Source {
            name: input.name,
            format: input.format,
            mapping: input.mapping,
        };
        reopen.push((source.clone(), input.reopen));
        readers.push((source, input.reader));
    }
    match stream(program, readers, options, ordered, sink) {
        Err(RunError::Unordered { file }) => {
            if !sink.rewind() {
                return Err(RunError::Unordered { file });
            }
            reorder(program, reopen, options, sink)
        }
        other => other,
    }
}

fn new_replay(program: &Program, options: RunOptions) -> Replay<'_> {
    let mut replay = Replay::new(program);
    if !options.memo {
        replay.forget_outcomes();
    }
    replay.until(options.until);
    replay
}

/// What a run needs to know of an input besides its bytes.
#[derive(Clone)]
struct Source {
    name: String,
    format: InputFormat,
    mapping: Option<Rc<Mapping>>,
}

impl Source {
    fn reader<R: BufRead>(&self, bytes: R) -> EventReader<R> {
        EventReader::new(&self.name, bytes, self.format).with_mapping(self.mapping.clone())
    }

    fn summary(&self, sha256: String, stats: InputStats) -> InputSummary {
        InputSummary {
            name: self.name.clone(),
            sha256,
            stats,
            mapping: self.mapping.as_ref().map(|m| m.provenance().clone()),
        }
    }
}

type Readers<'a> = Vec<(Source, Box<dyn BufRead + 'a>)>;

/// Reads every input in order and judges each event as it comes; with `ordered`, stops with
/// [`RunError::Unordered`] at the first event earlier than the one before it.
fn stream<S: Sink>(
    program: &Program,
    inputs: Readers<'_>,
    options: RunOptions,
    ordered: bool,
    sink: &mut S,
) -> Result<RunOutcome, RunError<S::Error>> {
    let mut replay = new_replay(program, options);
    let mut summaries = Vec::new();
    let mut skipped = Vec::new();
    let mut last = None;
    let mut records = 0u64;
    for (index, (input, reader)) in inputs.into_iter().enumerate() {
        let name = input.name.clone();
        let io_error = |source| RunError::Io {
            file: name.clone(),
            source,
        };
        let mut reader = input.reader(reader);
        while let Some(record) = reader.next_record().map_err(io_error)? {
            records += 1;
            if records.is_multiple_of(PROGRESS_EVERY) {
                sink.progress(Progress::Reading {
                    input: index,
                    offset: reader.offset(),
                    records,
                });
            }
            match record {
                Ok(event) => {
                    if ordered {
                        if last.is_some_and(|last| event.time() < last) {
                            tracing::info!(file = %name, line = event.origin().line, "events out of time order: reading them again in order");
                            return Err(RunError::Unordered { file: name });
                        }
                        last = Some(event.time());
                    }
                    replay.judge(event, sink).map_err(RunError::Sink)?;
                }
                Err(invalid) if options.skip_invalid => {
                    tracing::debug!(%invalid, "skipped");
                    skipped.push(invalid);
                }
                Err(invalid) => return Err(RunError::Invalid(invalid)),
            }
        }
        let (stats, sha256) = reader.finish().map_err(io_error)?;
        tracing::info!(file = %name, events = stats.events, invalid = stats.invalid, "input read");
        summaries.push(input.summary(sha256, stats));
    }
    Ok(RunOutcome {
        totals: replay.finish(sink).map_err(RunError::Sink)?,
        inputs: summaries,
        skipped,
        late: Vec::new(),
    })
}

/// Where an event is, to read it again: its time (the sort key), its input, and for JSON
/// Lines and CSV the byte offset and number of its (first) line (for YAML, its place in the
/// file's list).
#[derive(Clone, Copy)]
struct Entry {
    time: chrono::DateTime<chrono::Utc>,
    input: usize,
    offset: u64,
    line: u64,
    ordinal: usize,
}

/// Indexes every event of every input, sorts the index into canonical order, and judges the
/// events read again in that order. Memory: the index (40 bytes an event) and the events of
/// YAML inputs; JSON Lines events are read again one at a time.
fn reorder<S: Sink>(
    program: &Program,
    inputs: Vec<(Source, Option<Reopen<'_>>)>,
    options: RunOptions,
    sink: &mut S,
) -> Result<RunOutcome, RunError<S::Error>> {
    let mut readers = Vec::new();
    let mut index: Vec<Entry> = Vec::new();
    let mut yaml_events: Vec<Vec<crate::event::Event>> = Vec::new();
    let mut summaries = Vec::new();
    let mut skipped = Vec::new();
    let mut records = 0u64;
    for (input, (source, reopen)) in inputs.into_iter().enumerate() {
        let name = source.name.clone();
        let format = source.format;
        let io_error = |source| RunError::Io {
            file: name.clone(),
            source,
        };
        let Some(reopen) = reopen else {
            return Err(RunError::Unordered { file: name });
        };
        let mut reader = source.reader(reopen().map_err(io_error)?);
        let mut kept = Vec::new();
        let mut ordinal = 0;
        while let Some(record) = reader.next_record().map_err(io_error)? {
            records += 1;
            if records.is_multiple_of(PROGRESS_EVERY) {
                sink.progress(Progress::Reading {
                    input,
                    offset: reader.offset(),
                    records,
                });
            }
            match record {
                Ok(event) => {
                    index.push(Entry {
                        time: event.time(),
                        input,
                        offset: reader.offset(),
                        line: reader.line(),
                        ordinal,
                    });
                    ordinal += 1;
                    if format == InputFormat::Yaml {
                        kept.push(event);
                    }
                }
                Err(invalid) if options.skip_invalid => skipped.push(invalid),
                Err(invalid) => return Err(RunError::Invalid(invalid)),
            }
        }
        let (stats, sha256) = reader.finish().map_err(io_error)?;
        summaries.push(source.summary(sha256, stats));
        yaml_events.push(kept);
        readers.push((source, reopen));
    }
    // Stable: equal times keep input order.
    index.sort_by_key(|entry| entry.time);

    let mut replay = new_replay(program, options);
    let mut open: Vec<Option<EventReader<Box<dyn SeekRead + '_>>>> =
        readers.iter().map(|_| None).collect();
    let mut taken: Vec<Vec<Option<crate::event::Event>>> = yaml_events
        .into_iter()
        .map(|events| events.into_iter().map(Some).collect())
        .collect();
    let total = index.len() as u64;
    for (done, entry) in index.into_iter().enumerate() {
        let done = done as u64 + 1;
        if done.is_multiple_of(PROGRESS_EVERY) {
            sink.progress(Progress::Reordering { done, total });
        }
        let (Some((source, reopen)), Some(slot)) =
            (readers.get(entry.input), open.get_mut(entry.input))
        else {
            continue;
        };
        let (name, format) = (&source.name, &source.format);
        let io_error = |source| RunError::Io {
            file: name.clone(),
            source,
        };
        let event = if *format == InputFormat::Yaml {
            taken
                .get_mut(entry.input)
                .and_then(|events| events.get_mut(entry.ordinal))
                .and_then(Option::take)
        } else {
            let reader = match slot {
                Some(reader) => reader,
                None => slot.insert(source.reader(reopen().map_err(io_error)?)),
            };
            reader.seek_to(entry.offset, entry.line).map_err(io_error)?;
            match reader.next_record().map_err(io_error)? {
                Some(Ok(event)) => Some(event),
                // The line was valid a moment ago: the file changed under us.
                _ => {
                    return Err(RunError::Io {
                        file: name.clone(),
                        source: std::io::Error::other("the file changed while it was read"),
                    });
                }
            }
        };
        if let Some(event) = event {
            replay.judge(event, sink).map_err(RunError::Sink)?;
        }
    }
    Ok(RunOutcome {
        totals: replay.finish(sink).map_err(RunError::Sink)?,
        inputs: summaries,
        skipped,
        late: Vec::new(),
    })
}

/// An event waiting in the reorder buffer, ordered by time, then arrival.
struct Pending {
    time: chrono::DateTime<chrono::Utc>,
    arrival: u64,
    event: crate::event::Event,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.arrival) == (other.time, other.arrival)
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.time, self.arrival).cmp(&(other.time, other.arrival))
    }
}

/// Replays one stream (standard input) as events arrive, through a reorder buffer.
///
/// An event is judged once an event at least `max_delay` later has arrived (or the stream has
/// ended), so events arriving up to `max_delay` out of order are judged in canonical order. An
/// event earlier than one already judged is *late*: it is judged on arrival, out of order, and
/// listed in the outcome. Memory: the events of the last `max_delay`, and the terms' state.
/// Violations reach `sink` as soon as they are decided.
pub fn run_stream<S: Sink>(
    program: &Program,
    input: Input<'_>,
    options: RunOptions,
    max_delay: chrono::TimeDelta,
    sink: &mut S,
) -> Result<RunOutcome, RunError<S::Error>> {
    let mut replay = new_replay(program, options);
    let source = Source {
        name: input.name,
        format: input.format,
        mapping: input.mapping,
    };
    let name = source.name.clone();
    let io_error = |source| RunError::Io {
        file: name.clone(),
        source,
    };
    let mut reader = source.reader(input.reader);
    let mut buffer = std::collections::BinaryHeap::new();
    let mut arrival = 0u64;
    let mut newest: Option<chrono::DateTime<chrono::Utc>> = None;
    let mut judged: Option<chrono::DateTime<chrono::Utc>> = None;
    let mut skipped = Vec::new();
    let mut late = Vec::new();
    while let Some(record) = reader.next_record().map_err(io_error)? {
        let event = match record {
            Ok(event) => event,
            Err(invalid) if options.skip_invalid => {
                skipped.push(invalid);
                continue;
            }
            Err(invalid) => return Err(RunError::Invalid(invalid)),
        };
        let time = event.time();
        if let Some(after) = judged.filter(|judged| time < *judged) {
            tracing::debug!(event = %event.id(), %time, "late event, judged out of order");
            late.push(Late {
                event: event.id(),
                origin: event.origin().clone(),
                time,
                after,
            });
            replay.judge(event, sink).map_err(RunError::Sink)?;
            continue;
        }
        newest = Some(newest.map_or(time, |newest| newest.max(time)));
        buffer.push(std::cmp::Reverse(Pending {
            time,
            arrival,
            event,
        }));
        arrival += 1;
        let Some(watermark) = newest.and_then(|newest| newest.checked_sub_signed(max_delay)) else {
            continue;
        };
        while buffer
            .peek()
            .is_some_and(|std::cmp::Reverse(next)| next.time <= watermark)
        {
            if let Some(std::cmp::Reverse(next)) = buffer.pop() {
                judged = Some(judged.map_or(next.time, |j| j.max(next.time)));
                replay.judge(next.event, sink).map_err(RunError::Sink)?;
            }
        }
    }
    while let Some(std::cmp::Reverse(next)) = buffer.pop() {
        replay.judge(next.event, sink).map_err(RunError::Sink)?;
    }
    let (stats, sha256) = reader.finish().map_err(io_error)?;
    Ok(RunOutcome {
        totals: replay.finish(sink).map_err(RunError::Sink)?,
        inputs: vec![source.summary(sha256, stats)],
        skipped,
        late,
    })
}
