//! Canonical order as a stage: the events of every input, handed on in the order the engine
//! must judge them (docs/semantics.md, "Canonical order" and "Streams").
//!
//! [`Events`] reads the inputs and yields events one at a time. How it orders them is decided
//! once, before the first event, from what the inputs and the program are:
//!
//! - **As read** — a program without temporal terms judges every event on its own, so order
//!   cannot change a result: inputs are read one after the other and every event passes
//!   straight through.
//! - **Sorted** — a program with temporal terms, and inputs that can all be read again (regular
//!   files). JSON Lines read by no mapping are first scanned for their times alone (no event is
//!   built, nothing hashed): if no event comes more than some span after a later one, and a
//!   reorder buffer that long would hold few enough events (`RunOptions::in_memory` bytes of
//!   input), the inputs are read once through such a buffer, which puts them in canonical
//!   order exactly — the usual case of a file in order, or nearly. Otherwise every input is
//!   read once, recording where each event is and when it happened; the events are kept in
//!   memory while what has been read stays under the budget (then they are sorted and handed
//!   on without reading anything again); beyond it only the index is kept (40 bytes an
//!   event), sorted, and the events are read again in its order, reading on without a seek
//!   where the next event is the next in its file.
//! - **Buffered** — an input that cannot be read again (standard input, a pipe) makes the
//!   inputs a stream: events pass through a reorder buffer and are handed on once an event at
//!   least `max_delay` later has come; an event earlier than one already handed on is *late*,
//!   handed on at once and listed ([`Late`]).
//!
//! Why a stage, and decided up front: the engine must never see an event out of order and then
//! be asked to forget what it decided (a sink cannot un-write a violation); deciding the order
//! before anything is judged keeps the flow one way — readers, then this stage, then the engine.

use std::collections::{BinaryHeap, VecDeque};
use std::io::{BufRead, Seek};
use std::rc::Rc;

use chrono::{DateTime, TimeDelta, Utc};

use super::mapping::{Mapping, Provenance};
use super::{EventReader, InputError, InputFormat, InputStats, Place};
use crate::engine::sink::{PROGRESS_EVERY, Progress};
use crate::event::{Event, Origin};

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
    /// How to read it again, seekably: `None` makes it a stream (see the module's doc).
    pub reopen: Option<Reopen<'a>>,
    /// The mapping that turns its records into events; `None`: its records are events.
    pub mapping: Option<Rc<Mapping>>,
}

/// What one input contributed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
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

/// An event that arrived too late for canonical order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Late {
    /// Its id.
    pub event: String,
    /// Its input and line.
    pub origin: Origin,
    /// Its time.
    pub time: DateTime<Utc>,
    /// The time of the latest event already handed on when it came.
    pub after: DateTime<Utc>,
}

/// How the events reach the engine (see the module's doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// In the order read.
    AsRead,
    /// Sorted into canonical order; every input can be read again. The events are kept in
    /// memory while the bytes read stay under this budget.
    Sorted {
        /// The budget, in bytes of input.
        in_memory: u64,
    },
    /// Through a reorder buffer of this length.
    Buffered(TimeDelta),
}

impl Order {
    /// The order for `inputs` judged by a program with (`temporal`) or without temporal terms:
    /// `max_delay` is the reorder buffer of a stream, `in_memory` the budget of a sort.
    pub fn choose(
        inputs: &[Input<'_>],
        temporal: bool,
        max_delay: TimeDelta,
        in_memory: u64,
    ) -> Order {
        if inputs.iter().any(|i| i.reopen.is_none()) {
            Order::Buffered(max_delay)
        } else if temporal {
            Order::Sorted { in_memory }
        } else {
            Order::AsRead
        }
    }
}

/// Why reading stopped.
#[derive(Debug)]
#[non_exhaustive]
pub enum ReadError {
    /// An invalid record, when invalid records are not skipped.
    Invalid(InputError),
    /// An input could not be read.
    Io {
        /// The input.
        file: String,
        /// The cause.
        source: std::io::Error,
    },
}

/// What reading found besides the events, once every input has been read.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Read {
    /// Per input, in the order given.
    pub inputs: Vec<InputSummary>,
    /// Invalid records skipped, in input order.
    pub skipped: Vec<InputError>,
    /// Events that came too late for the reorder buffer.
    pub late: Vec<Late>,
    /// The reorder buffer, when the inputs were a stream.
    pub max_delay: Option<TimeDelta>,
}

/// What a run needs to know of an input besides its bytes.
struct Source {
    name: String,
    format: InputFormat,
    mapping: Option<Rc<Mapping>>,
    /// The fields the program reads (`None`: all).
    reads: Option<Rc<crate::event::FieldSet>>,
    /// Whether its bytes are hashed on a thread of their own.
    hash_elsewhere: bool,
    /// The run's vocabulary, which its events are held to.
    vocabulary: Option<Rc<crate::load::vocabulary::Vocabulary>>,
}

impl Source {
    fn reader<R: BufRead>(&self, bytes: R) -> EventReader<R> {
        EventReader::new(&self.name, bytes, self.format)
            .with_mapping(self.mapping.clone())
            .reading_only(self.reads.clone())
            .hashing_elsewhere(self.hash_elsewhere)
            .conforming_to(self.vocabulary.clone())
    }

    fn summary(&self, sha256: String, stats: InputStats) -> InputSummary {
        InputSummary {
            name: self.name.clone(),
            sha256,
            stats,
            mapping: self.mapping.as_ref().map(|m| m.provenance().clone()),
        }
    }

    fn io_error(&self) -> impl Fn(std::io::Error) -> ReadError + '_ {
        |source| ReadError::Io {
            file: self.name.clone(),
            source,
        }
    }
}

/// What [`Events::saving`] saves: where the stream's reader is, and what was read from it
/// but not handed on yet (the reorder buffer), or not as an event (the lists).
#[derive(serde::Serialize)]
pub(crate) struct Saving<'e> {
    place: Place,
    records: u64,
    pending: &'e Buffer,
    skipped: &'e [InputError],
    late: &'e [Late],
}

/// What [`Saving`] wrote, read back.
#[derive(serde::Deserialize)]
pub(crate) struct Saved {
    place: Place,
    records: u64,
    pending: Buffer,
    skipped: Vec<InputError>,
    late: Vec<Late>,
}

/// Why a saved state cannot be resumed on the inputs given.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResumeError {
    /// A checkpoint is for one stream read through the reorder buffer.
    #[error("a checkpoint can be resumed only on one stream (standard input alone)")]
    NotAStream,
    /// The stream ended before the place the checkpoint was taken at.
    #[error(
        "the stream ends after {records} record(s), before the checkpoint's place ({saved} records): it is not the stream the checkpoint was taken on, from its start"
    )]
    Shorter {
        /// Records the stream has.
        records: u64,
        /// Records read when the checkpoint was taken.
        saved: u64,
    },
    /// The stream's first bytes are not those read before the checkpoint.
    #[error(
        "the stream's first {bytes} bytes are not those read before the checkpoint: it is not the stream the checkpoint was taken on, from its start"
    )]
    Different {
        /// Bytes read when the checkpoint was taken.
        bytes: u64,
    },
    /// The stream could not be read.
    #[error("cannot read {file}: {source}")]
    Io {
        /// The input.
        file: String,
        /// The cause.
        source: std::io::Error,
    },
}

/// An input being read in the order read: its index, what it is, its reader.
type Reading<'a> = (usize, Source, EventReader<Box<dyn BufRead + 'a>>);

/// The events of every input, in the order chosen.
pub struct Events<'a> {
    order: Order,
    skip_invalid: bool,
    /// Inputs not opened yet, in order.
    waiting: VecDeque<(Source, Box<dyn BufRead + 'a>, Option<Reopen<'a>>)>,
    /// The input being read (as read, or into the buffer), with its index.
    current: Option<Reading<'a>>,
    opened: usize,
    /// Records read, for progress.
    records: u64,
    buffer: Buffer,
    sorted: Option<Sorted<'a>>,
    read: Read,
}

impl<'a> Events<'a> {
    /// Hashes each input's bytes on a thread of its own (`elsewhere`) rather than on the
    /// thread that reads them (see `super::digest`).
    pub fn hashing_elsewhere(mut self, elsewhere: bool) -> Self {
        for (source, _, _) in &mut self.waiting {
            source.hash_elsewhere = elsewhere;
        }
        self
    }

    /// Holds every event to `vocabulary` (default: none), counting what contradicts it per
    /// input (`crate::input::conform`).
    pub fn conforming_to(
        mut self,
        vocabulary: Option<Rc<crate::load::vocabulary::Vocabulary>>,
    ) -> Self {
        for (source, _, _) in &mut self.waiting {
            // A mapped input's events are held to its mapping's vocabulary too.
            source.vocabulary = match (&vocabulary, &source.mapping) {
                (Some(run), Some(mapping)) if !mapping.vocabulary().is_empty() => {
                    let mut merged = crate::load::vocabulary::Vocabulary::clone(run);
                    // A field declared differently by both was refused at load
                    // (`Vocabulary::merge`'s conflicts); the run's declaration is kept.
                    let _ = merged.merge(mapping.vocabulary());
                    Some(Rc::new(merged))
                }
                (None, Some(mapping)) => Some(mapping.vocabulary().clone()),
                (run, _) => run.clone(),
            };
        }
        self
    }

    /// Reads `inputs` in `order`; with `skip_invalid`, invalid records are listed instead of
    /// stopping the run.
    pub fn new(
        inputs: Vec<Input<'a>>,
        order: Order,
        skip_invalid: bool,
        reads: Option<Rc<crate::event::FieldSet>>,
    ) -> Self {
        Events {
            order,
            skip_invalid,
            waiting: inputs
                .into_iter()
                .map(|i| {
                    let source = Source {
                        name: i.name,
                        format: i.format,
                        mapping: i.mapping,
                        reads: reads.clone(),
                        hash_elsewhere: false,
                        vocabulary: None,
                    };
                    (source, i.reader, i.reopen)
                })
                .collect(),
            current: None,
            opened: 0,
            records: 0,
            buffer: Buffer::default(),
            sorted: None,
            read: Read {
                inputs: Vec::new(),
                skipped: Vec::new(),
                late: Vec::new(),
                max_delay: match order {
                    Order::Buffered(max_delay) => Some(max_delay),
                    _ => None,
                },
            },
        }
    }

    /// The next event, `None` when every input is read; `progress` hears how far reading has
    /// come every [`PROGRESS_EVERY`] records.
    pub fn next(
        &mut self,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Option<Rc<Event>>, ReadError> {
        match self.order {
            Order::AsRead => self.next_record(progress),
            Order::Buffered(max_delay) => loop {
                if let Some(event) = self.buffer.release() {
                    return Ok(Some(event));
                }
                match self.next_record(progress)? {
                    Some(event) => {
                        if let Some(late) = self.buffer.take(event, max_delay, &mut self.read.late)
                        {
                            return Ok(Some(late));
                        }
                    }
                    None => return Ok(self.buffer.drain()),
                }
            },
            Order::Sorted { in_memory } => {
                if self.sorted.is_none() {
                    if let Some(window) = self.scan(in_memory)? {
                        // Late by at most `window`: a buffer that long puts the events in
                        // canonical order exactly, as they are read once.
                        self.order = Order::Buffered(window);
                        return self.next(progress);
                    }
                    let sorted = self.index(in_memory, progress)?;
                    self.sorted = Some(sorted);
                }
                match &mut self.sorted {
                    Some(sorted) => sorted.next(progress),
                    None => Ok(None),
                }
            }
        }
    }

    /// Whether the events come in exact canonical order: sorted inputs (a stream's late events
    /// are judged out of order; events read as they come are in no particular order).
    pub fn exact(&self) -> bool {
        match self.order {
            Order::Sorted { .. } => true,
            // A file scanned and read through a buffer as long as its worst lateness, unless
            // the buffer had to hand an event on ahead of its time.
            Order::Buffered(_) => self.read.max_delay.is_none() && !self.buffer.overflowed,
            Order::AsRead => false,
        }
    }

    /// The state to save between two events (`crate::run::checkpoint`): `None` unless the events
    /// are one stream's, read through the reorder buffer — the only inputs a checkpoint is for
    /// (files can be read again from their start).
    /// Whether the inputs are one stream, read through the reorder buffer: what
    /// [`Events::saving`] can save.
    pub(crate) fn is_stream(&self) -> bool {
        matches!(self.order, Order::Buffered(_))
            && self.read.max_delay.is_some()
            && self.waiting.len() + usize::from(self.current.is_some()) == 1
    }

    pub(crate) fn saving(&self) -> Option<Saving<'_>> {
        // The stream's reader, once opened (none before its first record, nor after its end).
        let (0, _, reader) = self.current.as_ref().filter(|_| self.is_stream())? else {
            return None;
        };
        Some(Saving {
            place: reader.place(),
            records: self.records,
            pending: &self.buffer,
            skipped: &self.read.skipped,
            late: &self.read.late,
        })
    }

    /// Continues from a saved state: reads the stream again up to the saved place, without
    /// handing its records on (they were judged before the checkpoint), checks that those
    /// bytes are the ones read before, and puts back the reorder buffer and the lists.
    pub(crate) fn resume(&mut self, saved: Saved) -> Result<(), ResumeError> {
        if !self.is_stream() || self.current.is_some() {
            return Err(ResumeError::NotAStream);
        }
        let Some((source, reader, _)) = self.waiting.pop_front() else {
            return Err(ResumeError::NotAStream);
        };
        let mut reader = source.reader(reader);
        let file = source.name.clone();
        let io = |source: std::io::Error| ResumeError::Io {
            file: file.clone(),
            source,
        };
        while reader.place_records() < saved.place.records {
            if reader.next_record().map_err(&io)?.is_none() {
                return Err(ResumeError::Shorter {
                    records: reader.place_records(),
                    saved: saved.place.records,
                });
            }
        }
        let place = reader.place();
        if place != saved.place {
            return Err(ResumeError::Different {
                bytes: saved.place.bytes,
            });
        }
        self.current = Some((0, source, reader));
        self.opened = 1;
        self.records = saved.records;
        self.buffer = saved.pending;
        self.read.skipped = saved.skipped;
        self.read.late = saved.late;
        Ok(())
    }

    /// Everything reading found besides the events; call after [`Events::next`] gave `None`.
    pub fn finish(self) -> Read {
        self.read
    }

    /// The next valid record of the inputs, in the order read; invalid ones are listed or stop
    /// the run; each input's summary is taken when it ends.
    fn next_record(
        &mut self,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Option<Rc<Event>>, ReadError> {
        loop {
            if self.current.is_none() {
                let Some((source, reader, _)) = self.waiting.pop_front() else {
                    return Ok(None);
                };
                let reader = source.reader(reader);
                self.current = Some((self.opened, source, reader));
                self.opened += 1;
            }
            let Some((index, source, reader)) = &mut self.current else {
                continue;
            };
            match reader.next_record().map_err(source.io_error())? {
                Some(record) => {
                    self.records += 1;
                    if self.records.is_multiple_of(PROGRESS_EVERY) {
                        progress(Progress::Reading {
                            input: *index,
                            offset: reader.offset(),
                            records: self.records,
                        });
                    }
                    match record {
                        // Shared from here on: the buffer and the engine move a pointer,
                        // never the event.
                        Ok(event) => return Ok(Some(Rc::new(event))),
                        Err(invalid) if self.skip_invalid && !invalid.ends_input => {
                            tracing::debug!(%invalid, "skipped");
                            self.read.skipped.push(invalid);
                        }
                        Err(invalid) => return Err(ReadError::Invalid(invalid)),
                    }
                }
                None => {
                    if let Some((_, source, reader)) = self.current.take() {
                        let (stats, sha256) = reader.finish().map_err(source.io_error())?;
                        tracing::info!(file = %source.name, events = stats.events, invalid = stats.invalid, "input read");
                        self.read.inputs.push(source.summary(sha256, stats));
                    }
                }
            }
        }
    }

    /// For JSON Lines read by no mapping, a scan of the lines' times alone (not the events):
    /// how late any event comes after a later one (the most, over the whole input), and how
    /// many events a reorder buffer of that length would hold at once. `Some(lateness)` when
    /// those events fit in `in_memory` bytes of input: then a buffer of that length gives
    /// canonical order exactly, reading and parsing every event once. `None`: the inputs are
    /// of another kind, or too far out of order; they are sorted through the index.
    ///
    /// Nothing is kept in memory per line: the scan finds the lateness and writes each time to
    /// a temporary file (16 bytes a line); only for inputs out of order are the times read back,
    /// to replay the buffer on them with that lateness, given up as soon as it holds more than
    /// the budget allows.
    fn scan(&mut self, in_memory: u64) -> Result<Option<TimeDelta>, ReadError> {
        let plain = self.waiting.iter().all(|(source, _, reopen)| {
            source.format == InputFormat::JsonLines && source.mapping.is_none() && reopen.is_some()
        });
        if !plain {
            return Ok(None);
        }
        let mut newest = i128::MIN;
        let mut lateness = 0i128;
        let mut lines = 0u64;
        // The times are kept on disk as they are read (one run of 16-byte records in a
        // temporary file, `crate::spill`): the second look at them, for inputs out of order,
        // reads them back instead of reading and parsing the inputs again.
        let mut times = crate::spill::Runs::new().ok();
        let bytes = self.scan_times(|time| {
            newest = newest.max(time);
            lateness = lateness.max(newest - time);
            lines += 1;
            if times
                .as_mut()
                .is_some_and(|t| t.push(&time.to_le_bytes()).is_err())
            {
                times = None;
            }
            true
        })?;
        let Some(window) = i64::try_from(lateness).ok().map(TimeDelta::nanoseconds) else {
            return Ok(None);
        };
        if lateness == 0 {
            return Ok(Some(window));
        }
        let per_event = (bytes / lines.max(1)).max(1);
        let limit = usize::try_from(in_memory / per_event).unwrap_or(usize::MAX);
        let mut buffer: BinaryHeap<std::cmp::Reverse<i128>> = BinaryHeap::new();
        let mut newest = i128::MIN;
        let mut fits = true;
        let mut each = |time: i128| {
            buffer.push(std::cmp::Reverse(time));
            newest = newest.max(time);
            while buffer
                .peek()
                .is_some_and(|std::cmp::Reverse(front)| *front <= newest - lateness)
            {
                buffer.pop();
            }
            fits = buffer.len() <= limit;
            fits
        };
        let replayed = match times.map(crate::spill::Runs::finish) {
            Some(Ok(spilled)) => times_again(&spilled, &mut each),
            Some(Err(err)) => Err(err),
            None => Err(std::io::Error::other("no temporary file")),
        };
        if let Err(err) = replayed {
            // The times could not be kept: the inputs are sorted through the index, which
            // needs no look ahead.
            tracing::info!(%err, "the scanned times could not be read back");
            return Ok(None);
        }
        tracing::info!(
            lateness_s = window.num_seconds(),
            fits,
            "scanned the inputs' times"
        );
        Ok(fits.then_some(window))
    }

    /// Hands `each` the time of every line of the waiting inputs that has one, in order, until
    /// it returns `false`; returns the bytes read.
    fn scan_times(&self, mut each: impl FnMut(i128) -> bool) -> Result<u64, ReadError> {
        let mut bytes = 0u64;
        for (source, _, reopen) in &self.waiting {
            let Some(reopen) = reopen else {
                continue;
            };
            // Read through in order: a large buffer (the one `reopen` gives is small, for seeks).
            let reader =
                std::io::BufReader::with_capacity(1 << 16, reopen().map_err(source.io_error())?);
            let mut scan = EventReader::scanning(&source.name, reader);
            while let Some(time) = scan.next_time().map_err(source.io_error())? {
                if let Some(time) = time
                    && !each(nanos(time))
                {
                    return Ok(bytes);
                }
            }
            bytes = bytes.saturating_add(scan.position());
        }
        Ok(bytes)
    }

    /// Reads every input once, keeping its events (while they fit) or where they are; sorts
    /// them into canonical order.
    fn index(
        &mut self,
        in_memory: u64,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Sorted<'a>, ReadError> {
        let mut sources = Vec::new();
        let mut reopens = Vec::new();
        let mut entries = EntrySort::new(in_memory);
        let mut kept: Option<Vec<(Entry, Event)>> = Some(Vec::new());
        let mut kept_held = 0u64;
        let mut yaml: Vec<Vec<Option<Event>>> = Vec::new();
        // Bytes of the inputs already read to their end.
        let mut before = 0u64;
        let mut input = 0;
        while let Some((source, reader, reopen)) = self.waiting.pop_front() {
            let mut reader = source.reader(reader);
            let mut ordinal = 0;
            let mut events_of_yaml = Vec::new();
            while let Some(record) = reader.next_record().map_err(source.io_error())? {
                self.records += 1;
                if self.records.is_multiple_of(PROGRESS_EVERY) {
                    progress(Progress::Reading {
                        input,
                        offset: reader.offset(),
                        records: self.records,
                    });
                }
                let event = match record {
                    Ok(event) => event,
                    Err(invalid) if self.skip_invalid && !invalid.ends_input => {
                        self.read.skipped.push(invalid);
                        continue;
                    }
                    Err(invalid) => return Err(ReadError::Invalid(invalid)),
                };
                let entry = Entry {
                    time: event.time(),
                    input,
                    offset: reader.offset(),
                    line: reader.line(),
                    ordinal,
                };
                ordinal += 1;
                if source.format == InputFormat::Yaml {
                    // A YAML list is parsed whole anyway: its events are kept.
                    events_of_yaml.push(Some(event.clone()));
                }
                match &mut kept {
                    Some(events) => {
                        kept_held += event.footprint();
                        events.push((entry, event));
                    }
                    None => entries.push(entry).map_err(source.io_error())?,
                }
                // Past the budget, forget the events kept: only where they are is remembered.
                // The budget is of the input's bytes, and of what the events occupy: a dense
                // line parses into some 66 times its size.
                if kept.is_some()
                    && (before.saturating_add(reader.offset()) > in_memory || kept_held > MAX_KEPT)
                {
                    tracing::info!(
                        "more than {in_memory} bytes of events, or {MAX_KEPT} bytes of memory: indexing them, to read them again in order"
                    );
                    if let Some(events) = kept.take() {
                        for (entry, _) in events {
                            entries.push(entry).map_err(source.io_error())?;
                        }
                    }
                }
            }
            before = before.saturating_add(reader.offset());
            let (stats, sha256) = reader.finish().map_err(source.io_error())?;
            self.read.inputs.push(source.summary(sha256, stats));
            yaml.push(events_of_yaml);
            sources.push(source);
            reopens.push(reopen);
            input += 1;
        }
        Ok(match kept {
            Some(mut events) => {
                // Stable: equal times keep input order.
                events.sort_by_key(|(entry, _)| entry.time);
                Sorted::InMemory(events.into_iter().map(|(_, event)| event).collect())
            }
            None => {
                let total = entries.len();
                let entries = entries.finish().map_err(|source| ReadError::Io {
                    file: "a temporary file".into(),
                    source,
                })?;
                Sorted::Indexed(Box::new(Indexed {
                    entries,
                    sources,
                    reopens,
                    open: (0..input).map(|_| None).collect(),
                    yaml,
                    done: 0,
                    total,
                }))
            }
        })
    }
}

/// Hands `each` the times a scan kept (16 bytes each, little-endian), in order, until it
/// returns `false`.
fn times_again(
    spilled: &crate::spill::Spilled,
    each: &mut impl FnMut(i128) -> bool,
) -> std::io::Result<()> {
    let mut record = Vec::new();
    for mut run in spilled.runs() {
        while run.next_into(&mut record)? {
            let time = <[u8; 16]>::try_from(record.as_slice())
                .map_err(|_| std::io::Error::other("a time broken in its temporary file"))?;
            if !each(i128::from_le_bytes(time)) {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// Where an event is, to read it again: its time (the sort key), its input, and for JSON Lines
/// and CSV the byte offset and number of its (first) line (for YAML, its place in the list).
#[derive(Clone, Copy)]
struct Entry {
    time: DateTime<Utc>,
    input: usize,
    offset: u64,
    line: u64,
    ordinal: usize,
}

impl Entry {
    /// Canonical order: time, then input order (the order in which entries are made).
    fn order(&self) -> (DateTime<Utc>, usize, usize) {
        (self.time, self.input, self.ordinal)
    }

    /// Its fixed-size encoding in a sorted run.
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.time.timestamp().to_le_bytes());
        out.extend_from_slice(&self.time.timestamp_subsec_nanos().to_le_bytes());
        for n in [
            self.input as u64,
            self.offset,
            self.line,
            self.ordinal as u64,
        ] {
            out.extend_from_slice(&n.to_le_bytes());
        }
    }

    fn decode(bytes: &[u8]) -> std::io::Result<Entry> {
        let broken = || std::io::Error::other("an index entry broken in its temporary file");
        let u64_at = |at: usize| -> std::io::Result<u64> {
            let field = bytes.get(at..at + 8).ok_or_else(broken)?;
            Ok(u64::from_le_bytes(field.try_into().map_err(|_| broken())?))
        };
        let nanos = bytes.get(8..12).ok_or_else(broken)?;
        let nanos = u32::from_le_bytes(nanos.try_into().map_err(|_| broken())?);
        let secs = u64_at(0)? as i64;
        Ok(Entry {
            time: DateTime::from_timestamp(secs, nanos).ok_or_else(broken)?,
            input: usize::try_from(u64_at(12)?).map_err(|_| broken())?,
            offset: u64_at(20)?,
            line: u64_at(28)?,
            ordinal: usize::try_from(u64_at(36)?).map_err(|_| broken())?,
        })
    }
}

/// The index of a log being sorted, within a memory budget: entries in chunks, each sorted and
/// written as one run to a temporary file once the chunk outgrows the budget (an external
/// sort, `crate::spill`), so that the index of a log of any length takes bounded memory; the
/// runs are merged as the events are read again.
struct EntrySort {
    chunk: Vec<Entry>,
    /// Entries a chunk holds before it is written out.
    limit: usize,
    runs: Option<crate::spill::Runs>,
    len: u64,
}

impl EntrySort {
    fn new(budget: u64) -> Self {
        let size = std::mem::size_of::<Entry>() as u64;
        EntrySort {
            chunk: Vec::new(),
            limit: usize::try_from(budget / size).unwrap_or(usize::MAX).max(1),
            runs: None,
            len: 0,
        }
    }

    fn len(&self) -> u64 {
        self.len
    }

    fn push(&mut self, entry: Entry) -> std::io::Result<()> {
        self.chunk.push(entry);
        self.len += 1;
        if self.chunk.len() >= self.limit {
            self.write_chunk()?;
        }
        Ok(())
    }

    fn write_chunk(&mut self) -> std::io::Result<()> {
        self.chunk.sort_unstable_by_key(Entry::order);
        let runs = match &mut self.runs {
            Some(runs) => runs,
            None => self.runs.insert(crate::spill::Runs::new()?),
        };
        runs.write_run(self.chunk.drain(..), |entry, out| {
            entry.encode(out);
            Ok(())
        })
    }

    fn finish(mut self) -> std::io::Result<SortedEntries> {
        if self.runs.is_none() {
            self.chunk.sort_unstable_by_key(Entry::order);
            return Ok(SortedEntries::InMemory(self.chunk.into_iter()));
        }
        self.write_chunk()?;
        let Some(runs) = self.runs.take() else {
            return Ok(SortedEntries::InMemory(Vec::new().into_iter()));
        };
        tracing::info!(
            runs = runs.count(),
            "index sorted in runs written to a temporary file"
        );
        let spilled = runs.finish()?;
        let decode: fn(&[u8]) -> std::io::Result<ByPlace> =
            |bytes| Entry::decode(bytes).map(ByPlace);
        Ok(SortedEntries::Merged(Box::new(Merged::new(
            &spilled, decode,
        ))))
    }
}

/// The index in canonical order.
enum SortedEntries {
    InMemory(std::vec::IntoIter<Entry>),
    Merged(Box<Merged>),
}

impl SortedEntries {
    fn next(&mut self) -> std::io::Result<Option<Entry>> {
        match self {
            SortedEntries::InMemory(entries) => Ok(entries.next()),
            SortedEntries::Merged(merged) => merged.next().transpose().map(|e| e.map(|e| e.0)),
        }
    }
}

/// An index entry ordered by its place in canonical order (total: input and place included).
struct ByPlace(Entry);

impl Ord for ByPlace {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.order().cmp(&other.0.order())
    }
}

impl PartialOrd for ByPlace {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for ByPlace {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}

impl Eq for ByPlace {}

/// The runs of an index merged.
type Merged = crate::spill::Merge<ByPlace, fn(&[u8]) -> std::io::Result<ByPlace>>;

/// Events sorted into canonical order.
enum Sorted<'a> {
    InMemory(VecDeque<Event>),
    Indexed(Box<Indexed<'a>>),
}

impl Sorted<'_> {
    fn next(&mut self, progress: &mut dyn FnMut(Progress)) -> Result<Option<Rc<Event>>, ReadError> {
        match self {
            Sorted::InMemory(events) => Ok(events.pop_front().map(Rc::new)),
            Sorted::Indexed(indexed) => indexed.next(progress),
        }
    }
}

/// An input opened again, to read its events in canonical order.
type Reread<'a> = EventReader<Box<dyn SeekRead + 'a>>;

/// The index of every event, sorted, and the inputs to read them from again.
struct Indexed<'a> {
    entries: SortedEntries,
    sources: Vec<Source>,
    reopens: Vec<Option<Reopen<'a>>>,
    /// Per input, its reader once opened again, and the ordinal of the event it would read
    /// next without seeking.
    open: Vec<Option<(Reread<'a>, usize)>>,
    /// Per input, the events of a YAML list, taken as they are handed on.
    yaml: Vec<Vec<Option<Event>>>,
    done: u64,
    total: u64,
}

impl Indexed<'_> {
    fn next(&mut self, progress: &mut dyn FnMut(Progress)) -> Result<Option<Rc<Event>>, ReadError> {
        let entry = self.entries.next().map_err(|source| ReadError::Io {
            file: "a temporary file".into(),
            source,
        })?;
        let Some(entry) = entry else {
            return Ok(None);
        };
        self.done += 1;
        if self.done.is_multiple_of(PROGRESS_EVERY) {
            progress(Progress::Reordering {
                done: self.done,
                total: self.total,
            });
        }
        let changed = |source: &Source| ReadError::Io {
            file: source.name.clone(),
            source: std::io::Error::other("the file changed while it was read"),
        };
        let Some(source) = self.sources.get(entry.input) else {
            return Ok(None);
        };
        if source.format == InputFormat::Yaml {
            return match self
                .yaml
                .get_mut(entry.input)
                .and_then(|events| events.get_mut(entry.ordinal))
                .and_then(Option::take)
            {
                Some(event) => Ok(Some(Rc::new(event))),
                None => Err(changed(source)),
            };
        }
        let (Some(slot), Some(Some(reopen))) = (
            self.open.get_mut(entry.input),
            self.reopens.get(entry.input),
        ) else {
            return Err(changed(source));
        };
        let (reader, next) = match slot {
            Some(open) => open,
            None => slot.insert((
                source.reader(reopen().map_err(source.io_error())?),
                usize::MAX,
            )),
        };
        // The event right after the last one read from this input (the usual case: a file
        // mostly in order) is read on, without a seek, which would throw the buffer away.
        if *next != entry.ordinal {
            reader
                .seek_to(entry.offset, entry.line)
                .map_err(source.io_error())?;
        }
        *next = entry.ordinal + 1;
        loop {
            match reader.next_record().map_err(source.io_error())? {
                Some(Ok(event)) if reader.offset() == entry.offset => {
                    return Ok(Some(Rc::new(event)));
                }
                // An invalid record between two events: already accounted for when indexing.
                Some(Err(_)) => {}
                // The record was valid, at this place, a moment ago: the file changed under us.
                _ => return Err(changed(source)),
            }
        }
    }
}

/// The reorder buffer of a stream: events not yet handed on, in canonical order (ties in
/// arrival order). A deque kept sorted rather than a heap: a stream is mostly in order, so an
/// event almost always goes at the back, and leaves from the front, without moving the others.
/// Times are compared as whole nanoseconds: exact, and far cheaper per event than date
/// arithmetic.
#[derive(Default, serde::Serialize, serde::Deserialize)]
struct Buffer {
    pending: VecDeque<(i128, Rc<Event>)>,
    /// The latest time seen, less `max_delay`: events up to it can be handed on.
    watermark: Option<i128>,
    /// The latest time handed on.
    handed: Option<i128>,
    /// The same, as an instant.
    handed_time: Option<DateTime<Utc>>,
    /// What the events waiting occupy, as `Event::footprint` counts it.
    held: u64,
    /// Whether an event was ever handed on before its time because the events waiting held
    /// more than [`MAX_WAITING`]: the order is no longer exact.
    overflowed: bool,
}

/// What the events waiting in a reorder buffer may occupy (as `Event::footprint` counts it)
/// before the earliest is handed on ahead of its time: `--max-delay` bounds the wait in time,
/// this in memory, whatever the events' size (9 lines of 1 MiB of one-entry objects had made
/// a stream's buffer hold 644 MiB). docs/security.md, "Events waiting to be judged".
pub(crate) const MAX_WAITING: u64 = 48 << 20;

/// What events a sort keeps in memory may occupy (as `Event::footprint` counts it), besides the
/// input's bytes (`RunOptions::in_memory`), before it indexes them instead.
pub(crate) const MAX_KEPT: u64 = 48 << 20;

/// An instant as nanoseconds since 1970, exactly.
fn nanos(time: DateTime<Utc>) -> i128 {
    i128::from(time.timestamp()) * 1_000_000_000 + i128::from(time.timestamp_subsec_nanos())
}

impl Buffer {
    /// Takes one event: a late one (earlier than one already handed on) is given back, to be
    /// handed on at once, and listed in `late`; any other waits in order.
    fn take(
        &mut self,
        event: Rc<Event>,
        max_delay: TimeDelta,
        late: &mut Vec<Late>,
    ) -> Option<Rc<Event>> {
        let time = nanos(event.time());
        if self.handed.is_some_and(|handed| time < handed) {
            tracing::debug!(event = %event.id(), time = %event.time(), "late event, judged out of order");
            let after = self.handed_time.unwrap_or_else(|| event.time());
            late.push(Late {
                event: event.id(),
                origin: event.origin().clone(),
                time: event.time(),
                after,
            });
            return Some(event);
        }
        let delay = max_delay.num_nanoseconds().map_or(i128::MAX, i128::from);
        let watermark = time.saturating_sub(delay);
        if self.watermark.is_none_or(|w| watermark > w) {
            self.watermark = Some(watermark);
        }
        self.held += event.footprint();
        // After every event of the same time or earlier: ties keep their arrival order.
        if self.pending.back().is_none_or(|(last, _)| *last <= time) {
            self.pending.push_back((time, event));
        } else {
            let at = self.pending.partition_point(|(t, _)| *t <= time);
            self.pending.insert(at, (time, event));
        }
        None
    }

    /// The earliest event waiting, once an event at least `max_delay` later has come, or once
    /// the events waiting hold more than [`MAX_WAITING`].
    fn release(&mut self) -> Option<Rc<Event>> {
        let (front, _) = self.pending.front()?;
        if self.held > MAX_WAITING {
            // Ahead of its time: an event that comes later with an earlier time is late.
            if self.watermark.is_none_or(|watermark| *front > watermark) {
                self.overflowed = true;
            }
        } else if *front > self.watermark? {
            return None;
        }
        let (time, next) = self.pending.pop_front()?;
        self.held = self.held.saturating_sub(next.footprint());
        self.handed = Some(self.handed.map_or(time, |h| h.max(time)));
        self.handed_time = Some(next.time()).max(self.handed_time);
        Some(next)
    }

    /// At the end of the stream: the next event still waiting, in order.
    fn drain(&mut self) -> Option<Rc<Event>> {
        let (_, event) = self.pending.pop_front()?;
        self.held = self.held.saturating_sub(event.footprint());
        Some(event)
    }
}
