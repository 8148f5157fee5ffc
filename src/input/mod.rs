//! Reading event logs: JSON Lines and CSV (streamed) and YAML lists, from any [`BufRead`].
//!
//! The reader accounts for every line: each one becomes an event, a blank line, or an
//! [`InputError`] naming the file, line, column and reason (a CSV record spanning several lines
//! is one event or one error, named by its first line; its header is a line of its own). Lines
//! and records are read with a hard length limit, so one runaway line cannot exhaust memory,
//! and the bytes are hashed as they pass so that the report can name the exact input (SHA-256)
//! without reading it twice. The reader never opens files: callers hand it a reader and a
//! display name.
//!
//! With a [`Mapping`], each record (a JSON object, a YAML item, a CSV row) is handed to it as a
//! map and the mapping makes the event; a record it cannot map is an invalid line like any
//! other. Without one, a record is an event as it stands.

use chrono::{DateTime, Utc};
use std::fmt;
use std::io::{self, BufRead, Read};
use std::rc::Rc;

use digest::InputDigest;

use rhai::{Dynamic, ImmutableString, Map};

use crate::event::{Event, Origin};
use crate::input::mapping::{Mapper, Mapping, MappingError};
pub use parse::{EventError, EventParser, Invalid};

pub mod conform;
mod csv;
mod digest;
pub mod mapping;
pub mod order;
pub mod parse;
mod yaml;

pub use csv::MAX_RECORD_BYTES;

/// The longest JSON Lines line accepted, in bytes (1 MiB). Real incident reports are a few
/// hundred bytes; anything longer is almost certainly not one line of an event log.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// The most bytes of an over-long line read (and dropped) looking for its end, with
/// `--skip-invalid` (64 MiB): past that the input is taken not to be lines at all (`/dev/zero`,
/// a binary file) and the read ends with an error, instead of going on without bound.
pub const MAX_SKIPPED_LINE_BYTES: u64 = 64 << 20;

/// The largest YAML event file accepted, in bytes (64 MiB); YAML is for hand-written logs.
pub const MAX_YAML_BYTES: u64 = 64 << 20;

/// How an input is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// One JSON object per line.
    JsonLines,
    /// A YAML list of objects.
    Yaml,
    /// Comma-separated values, the first row naming the columns.
    Csv,
}

impl InputFormat {
    /// The format a file name implies: `.yaml`/`.yml` are YAML, `.csv` CSV, everything else
    /// JSON Lines.
    pub fn from_name(name: &str) -> Self {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".yaml") || lower.ends_with(".yml") {
            InputFormat::Yaml
        } else if lower.ends_with(".csv") {
            InputFormat::Csv
        } else {
            InputFormat::JsonLines
        }
    }
}

/// A line that is not a valid event.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct InputError {
    /// What kind of problem.
    pub kind: Invalid,
    /// The input as named by the user.
    pub file: String,
    /// 1-based line.
    pub line: u64,
    /// 1-based column, where known.
    pub column: Option<u64>,
    /// Why it was rejected.
    pub reason: String,
    /// Whether the input cannot be read past it (a line with no end in sight, a YAML file
    /// that is not a list of items): the run stops here even when invalid records are skipped.
    pub ends_input: bool,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.column {
            Some(column) => write!(f, "{}:{}:{}: {}", self.file, self.line, column, self.reason),
            None => write!(f, "{}:{}: {}", self.file, self.line, self.reason),
        }
    }
}

impl std::error::Error for InputError {}

/// What a reader yields for each non-blank record.
pub type Record = Result<Event, InputError>;

/// Counts kept for one input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct InputStats {
    /// Lines read (for YAML, the file's lines; for CSV, every physical line, the header's and
    /// those inside multi-line records included).
    pub lines: u64,
    /// Events read.
    pub events: u64,
    /// Blank lines (JSON Lines and CSV).
    pub blank: u64,
    /// Lines (CSV: records, or the header) rejected.
    pub invalid: u64,
    /// What the events showed against the run's vocabulary ([`conform`]).
    pub conformance: conform::Conformance,
}

/// Where a reader is in its input ([`EventReader::place`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Place {
    pub(crate) records: u64,
    pub(crate) bytes: u64,
    pub(crate) sha256: String,
}

/// Reads events from one input.
pub struct EventReader<R: BufRead> {
    reader: Hashing<R>,
    name: Rc<str>,
    format: InputFormat,
    parser: EventParser,
    buffer: Vec<u8>,
    /// YAML records, parsed at the first call.
    pending: Option<std::vec::IntoIter<Record>>,
    stats: InputStats,
    done: bool,
    /// Bytes consumed so far (JSON Lines).
    position: u64,
    /// Where the line of the last record starts.
    record_offset: u64,
    /// The number of that line.
    record_line: u64,
    /// The bytes read of an over-long line whose rest is still to be passed over (JSON Lines).
    overlong: Option<u64>,
    /// CSV parsing state.
    csv: Option<Box<CsvState>>,
    /// Turns records into events, when a mapping was given.
    mapper: Option<Mapper>,
    /// Holds the events to the run's vocabulary, when it has one.
    conformer: Option<conform::Conformer>,
}

/// What a CSV input needs besides the bytes: the parser and the header once read.
struct CsvState {
    parser: csv::CsvParser,
    header: Option<Header>,
}

/// A CSV file's header: the column names, and where the event's own parts are (without a
/// mapping).
struct Header {
    names: Vec<ImmutableString>,
    time: Option<usize>,
    kind: Option<usize>,
    id: Option<usize>,
}

impl<R: BufRead> EventReader<R> {
    /// A reader over `reader`, reported as `name`.
    pub fn new(name: &str, reader: R, format: InputFormat) -> Self {
        EventReader {
            reader: Hashing {
                inner: reader,
                digest: InputDigest::new(false),
                on: true,
                consumed: 0,
            },
            name: name.into(),
            format,
            parser: EventParser::new(),
            buffer: Vec::new(),
            pending: None,
            stats: InputStats::default(),
            done: false,
            position: 0,
            record_offset: 0,
            record_line: 0,
            overlong: None,
            csv: (format == InputFormat::Csv).then(|| {
                Box::new(CsvState {
                    parser: csv::CsvParser::new(),
                    header: None,
                })
            }),
            mapper: None,
            conformer: None,
        }
    }

    /// Holds each event to `vocabulary` (default: none): what contradicts it is counted in
    /// the stats and marked on the event ([`conform`]).
    pub fn conforming_to(
        mut self,
        vocabulary: Option<Rc<crate::load::vocabulary::Vocabulary>>,
    ) -> Self {
        self.conformer = vocabulary.and_then(conform::Conformer::new);
        self
    }

    /// Has `mapping` make the events from the records (default: none, records are events).
    pub fn with_mapping(mut self, mapping: Option<Rc<Mapping>>) -> Self {
        self.mapper = mapping.map(Mapper::new);
        self
    }

    /// Hashes the bytes on a thread of its own (`elsewhere`) rather than as they are read:
    /// the same digest, off the reading thread ([`digest`]).
    pub(crate) fn hashing_elsewhere(mut self, elsewhere: bool) -> Self {
        if elsewhere && self.reader.on {
            self.reader.digest = InputDigest::new(true);
        }
        self
    }

    /// Turns into values only the top-level fields in `fields` (`None`: all), leaving the
    /// others `()`: for a replay whose program reads no other field. A mapped input's records
    /// are read whole (the mapping's expressions read them).
    pub(crate) fn reading_only(mut self, fields: Option<Rc<crate::event::FieldSet>>) -> Self {
        if self.mapper.is_none() {
            self.parser.reading_only(fields);
        }
        self
    }

    /// The byte offset of the line the last record starts on (JSON Lines, CSV), for reading it
    /// again with [`EventReader::seek_to`].
    pub fn offset(&self) -> u64 {
        self.record_offset
    }

    /// The number of the line the last record starts on (JSON Lines, CSV).
    pub fn line(&self) -> u64 {
        self.record_line
    }

    /// The next record: `Ok(None)` at the end, `Err` only when the input cannot be read at all.
    pub fn next_record(&mut self) -> io::Result<Option<Record>> {
        let mut record = match self.format {
            InputFormat::JsonLines => self.next_json()?,
            InputFormat::Yaml => self.next_yaml()?,
            InputFormat::Csv => self.next_csv()?,
        };
        // An event's claims are read here, whatever its format, so that one that cannot be
        // read is an invalid line with its reason rather than dropped from a report unsaid.
        if let Some(Ok(event)) = &record
            && let Some(claims) = event.field(crate::event::CLAIMS)
            && let Err(reason) = crate::event::Claim::all_of(claims)
        {
            let line = event.origin().line;
            record = Some(Err(self.error(Invalid::Event, line, None, reason)));
        }
        if let (Some(conformer), Some(Ok(event))) = (&self.conformer, &mut record) {
            conformer.conform(event, &mut self.stats.conformance);
        }
        match &record {
            Some(Ok(_)) => self.stats.events += 1,
            Some(Err(_)) => self.stats.invalid += 1,
            None => {}
        }
        Ok(record)
    }

    /// Counts so far.
    pub fn stats(&self) -> &InputStats {
        &self.stats
    }

    /// Records given so far (events and invalid records), the bytes consumed to read them,
    /// and those bytes' SHA-256: where a checkpoint was taken in this input, and what the input
    /// was up to there.
    pub(crate) fn place_records(&self) -> u64 {
        self.stats.events + self.stats.invalid
    }

    pub(crate) fn place(&self) -> Place {
        Place {
            records: self.stats.events + self.stats.invalid,
            bytes: self.reader.consumed,
            // Should the hashing thread have stopped, the place names no digest, and a run
            // resumed from it finds the input different: a refusal, never a wrong resume.
            sha256: self
                .reader
                .digest
                .peek()
                .unwrap_or_else(|err| format!("unavailable: {err}")),
        }
    }

    /// Reads whatever is left (so the hash covers the whole input) and returns the SHA-256.
    pub fn finish(mut self) -> io::Result<(InputStats, String)> {
        // A CSV file whose header is invalid was not read further: its lines still count.
        if let Some(csv) = &mut self.csv {
            csv.parser.skip_rest(&mut self.reader)?;
            self.stats.lines = csv.parser.lines();
        }
        io::copy(&mut self.reader, &mut io::sink())?;
        let sha256 = self.reader.digest.finish()?;
        Ok((self.stats, sha256))
    }

    /// A reader of JSON Lines that only looks for each line's time (see [`Self::next_time`]),
    /// without hashing: a scan before the events are read.
    pub(crate) fn scanning(name: &str, reader: R) -> Self {
        let mut scan = EventReader::new(name, reader, InputFormat::JsonLines);
        scan.reader.on = false;
        scan
    }

    /// The time of the next line of JSON Lines: `Ok(None)` at the end, `Some(None)` for a line
    /// without one (blank, too long, not UTF-8, no valid `time`). Lines are read exactly as
    /// [`Self::next_record`] reads them, and a line that makes a valid event gives that event's
    /// time: the scan decides how to order events it has not parsed.
    pub(crate) fn next_time(&mut self) -> io::Result<Option<Option<DateTime<Utc>>>> {
        // A line with no end in sight ends the scan; reading the events stops at it too.
        if !self.discard_rest()? {
            return Ok(None);
        }
        let (read, too_long) = self.read_line()?;
        self.position += read as u64;
        if read == 0 {
            return Ok(None);
        }
        self.stats.lines += 1;
        if too_long {
            return Ok(Some(None));
        }
        Ok(Some(
            std::str::from_utf8(without_bom(&self.buffer, self.stats.lines))
                .ok()
                .and_then(parse::time_of),
        ))
    }

    /// Bytes read so far.
    pub(crate) fn position(&self) -> u64 {
        self.position
    }

    fn next_json(&mut self) -> io::Result<Option<Record>> {
        loop {
            if self.done {
                return Ok(None);
            }
            if !self.discard_rest()? {
                self.done = true;
                return Ok(Some(Err(self.fatal(
                    Invalid::TooLarge,
                    self.stats.lines,
                    None,
                    format!(
                        "line is longer than the limit of {MAX_LINE_BYTES} bytes, and no line break comes within {MAX_SKIPPED_LINE_BYTES} bytes of its start: the input cannot be read as lines"
                    ),
                ))));
            }
            self.record_offset = self.position;
            let (read, too_long) = self.read_line()?;
            self.position += read as u64;
            if read == 0 {
                self.done = true;
                return Ok(None);
            }
            self.stats.lines += 1;
            let line = self.stats.lines;
            self.record_line = line;
            if too_long {
                return Ok(Some(Err(self.error(
                    Invalid::TooLarge,
                    line,
                    None,
                    format!("line is longer than the limit of {MAX_LINE_BYTES} bytes"),
                ))));
            }
            let bytes = without_bom(&self.buffer, line);
            let text = match std::str::from_utf8(bytes) {
                Ok(text) => text,
                Err(err) => {
                    // One line: the position's line is always 1 within it.
                    let (_, column) = crate::diagnostic::utf8_position(bytes, err.valid_up_to());
                    return Ok(Some(Err(self.error(
                        Invalid::Encoding,
                        line,
                        Some(column),
                        "invalid UTF-8".to_string(),
                    ))));
                }
            };
            if text.trim().is_empty() {
                self.stats.blank += 1;
                continue;
            }
            let origin = Origin {
                file: self.name.clone(),
                line,
            };
            let invalid = |kind, column, reason| InputError {
                kind,
                file: self.name.to_string(),
                line,
                column,
                reason,
                ends_input: false,
            };
            let record = match &mut self.mapper {
                None => self
                    .parser
                    .parse_json(text, origin)
                    .map_err(|err| invalid(err.kind, err.column, err.reason)),
                Some(mapper) => match self.parser.parse_json_record(text) {
                    Ok(record) => mapper.apply(record, origin).map_err(|err| {
                        let column = err
                            .field
                            .as_deref()
                            .and_then(|f| json_value_column(text, f));
                        invalid(Invalid::Mapping, column, err.reason)
                    }),
                    Err(err) => Err(invalid(err.kind, err.column, err.reason)),
                },
            };
            return Ok(Some(record));
        }
    }

    /// Reads one line into `buffer`, without its line break. Returns the bytes consumed and
    /// whether the line exceeded [`MAX_LINE_BYTES`]. An over-long line is given up as soon as
    /// it passes the limit: its content is dropped and the rest of it is left unread, for
    /// [`Self::discard_rest`] to pass over before the next line (an input that is one endless
    /// line, such as `/dev/zero`, is then not read to its end first).
    fn read_line(&mut self) -> io::Result<(usize, bool)> {
        self.buffer.clear();
        let mut consumed = 0;
        loop {
            let available = match self.reader.fill_buf() {
                Ok(available) => available,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(err),
            };
            if available.is_empty() {
                break;
            }
            let (chunk, found) = match memchr::memchr(b'\n', available) {
                Some(at) => (available.get(..at).unwrap_or(&[]), Some(at + 1)),
                None => (available, None),
            };
            let take = found.unwrap_or(available.len());
            if self.buffer.len() + chunk.len() > MAX_LINE_BYTES {
                self.buffer.clear();
                self.reader.consume(take);
                consumed += take;
                if found.is_none() {
                    self.overlong = Some(consumed as u64);
                }
                return Ok((consumed, true));
            }
            self.buffer.extend_from_slice(chunk);
            self.reader.consume(take);
            consumed += take;
            if found.is_some() {
                break;
            }
        }
        if self.buffer.last() == Some(&b'\r') {
            self.buffer.pop();
        }
        Ok((consumed, false))
    }

    /// Passes over the rest of an over-long line (to its line break, or the end of the input),
    /// reading at most [`MAX_SKIPPED_LINE_BYTES`] of it in all; `false` when it has not ended by
    /// then: the input is not lines, and cannot be read further.
    fn discard_rest(&mut self) -> io::Result<bool> {
        let Some(mut read) = self.overlong.take() else {
            return Ok(true);
        };
        loop {
            let available = match self.reader.fill_buf() {
                Ok(available) => available,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(err),
            };
            if available.is_empty() {
                return Ok(true);
            }
            let (take, found) = match memchr::memchr(b'\n', available) {
                Some(at) => (at + 1, true),
                None => (available.len(), false),
            };
            self.reader.consume(take);
            self.position += take as u64;
            read += take as u64;
            if found {
                return Ok(true);
            }
            if read > MAX_SKIPPED_LINE_BYTES {
                self.overlong = Some(read);
                return Ok(false);
            }
        }
    }

    fn next_yaml(&mut self) -> io::Result<Option<Record>> {
        if self.pending.is_none() {
            let mut bytes = Vec::new();
            (&mut self.reader)
                .take(MAX_YAML_BYTES + 1)
                .read_to_end(&mut bytes)?;
            self.stats.lines = bytes.split(|b| *b == b'\n').count() as u64
                - u64::from(bytes.last() == Some(&b'\n') || bytes.is_empty());
            let records = if bytes.len() as u64 > MAX_YAML_BYTES {
                vec![Err(self.fatal(Invalid::TooLarge,
                    1,
                    None,
                    format!("YAML event file is larger than the limit of {MAX_YAML_BYTES} bytes; use JSON Lines"),
                ))]
            } else {
                match std::str::from_utf8(&bytes) {
                    Ok(text) => self.parse_yaml(text),
                    Err(err) => {
                        let (line, column) =
                            crate::diagnostic::utf8_position(&bytes, err.valid_up_to());
                        vec![Err(self.fatal(Invalid::Encoding,
                            line,
                            Some(column),
                            "invalid UTF-8; a YAML file is read whole, so none of its events was read".into(),
                        ))]
                    }
                }
            };
            self.pending = Some(records.into_iter());
        }
        Ok(self.pending.as_mut().and_then(Iterator::next))
    }

    /// The records of a YAML list: one per item, a bad item an invalid record of its own; a
    /// file that is not a list of items is one error that ends the input.
    fn parse_yaml(&mut self, text: &str) -> Vec<Record> {
        let items = match yaml::items(text) {
            Ok(items) => items,
            Err(problem) => {
                return vec![Err(self.fatal(Invalid::Syntax,
                    problem.line,
                    problem.column,
                    format!(
                        "not a YAML list of events: {}; a YAML file is read whole, so none of its events was read",
                        problem.reason
                    ),
                ))];
            }
        };
        items
            .into_iter()
            .map(|item| {
                let line = item.line;
                let origin = Origin {
                    file: self.name.clone(),
                    line,
                };
                let invalid = |kind, reason| InputError {
                    kind,
                    file: self.name.to_string(),
                    line,
                    column: Some(item.column),
                    reason,
                    ends_input: false,
                };
                let value = match item.value {
                    Ok(value) => value,
                    Err(problem) => {
                        return Err(InputError {
                            line: problem.line,
                            column: problem.column,
                            ..invalid(
                                Invalid::Syntax,
                                format!("invalid YAML item: {}", problem.reason),
                            )
                        });
                    }
                };
                match &mut self.mapper {
                    None => self
                        .parser
                        .parse_value(value, origin)
                        .map_err(|err| invalid(err.kind, err.reason)),
                    Some(mapper) => match self.parser.value_record(value) {
                        Ok(record) => mapper
                            .apply(record, origin)
                            .map_err(|err| invalid(Invalid::Mapping, err.reason)),
                        Err(err) => Err(invalid(err.kind, err.reason)),
                    },
                }
            })
            .collect()
    }

    fn next_csv(&mut self) -> io::Result<Option<Record>> {
        // Taken out while a record is read, so that the reader's other fields stay free.
        let Some(mut csv) = self.csv.take() else {
            return Ok(None);
        };
        let record = self.read_csv(&mut csv);
        self.csv = Some(csv);
        record
    }

    fn read_csv(&mut self, csv: &mut CsvState) -> io::Result<Option<Record>> {
        loop {
            if self.done {
                return Ok(None);
            }
            let placed = match self.next_row(csv)? {
                None => {
                    self.done = true;
                    return Ok(None);
                }
                Some(placed) => placed,
            };
            let Some(header) = &csv.header else {
                // The first row names the columns; without it no record can be read.
                match placed.and_then(|line| self.header(csv, line)) {
                    Ok(header) => {
                        csv.header = Some(header);
                        continue;
                    }
                    Err(mut err) => {
                        err.reason.push_str("; no record of this file was read");
                        self.done = true;
                        return Ok(Some(Err(err)));
                    }
                }
            };
            let line = match placed {
                Ok(line) => line,
                Err(err) => return Ok(Some(Err(err))),
            };
            return Ok(Some(self.csv_record(&csv.parser, header, line)));
        }
    }

    /// Reads the next row that is not blank, checked for its size and its UTF-8; gives its
    /// line, or why it cannot be read.
    fn next_row(&mut self, csv: &mut CsvState) -> io::Result<Option<Result<u64, InputError>>> {
        loop {
            let (blank, placed) = csv.parser.read(&mut self.reader)?;
            self.stats.blank += blank;
            self.stats.lines = csv.parser.lines();
            let Some(placed) = placed else {
                return Ok(None);
            };
            self.record_offset = placed.offset;
            self.record_line = placed.line;
            let line = placed.line;
            if placed.too_long {
                return Ok(Some(Err(self.error(
                    Invalid::TooLarge,
                    line,
                    None,
                    format!("record is longer than the limit of {MAX_RECORD_BYTES} bytes"),
                ))));
            }
            let raw = csv.parser.raw();
            if let Err(err) = std::str::from_utf8(raw) {
                let (down, column) = crate::diagnostic::utf8_position(raw, err.valid_up_to());
                return Ok(Some(Err(self.at(
                    Invalid::Encoding,
                    line,
                    Some((down - 1, column)),
                    "invalid UTF-8".into(),
                ))));
            }
            // Spaces alone on a line: a blank line, as in JSON Lines.
            if raw.iter().all(u8::is_ascii_whitespace) {
                self.stats.blank += 1;
                continue;
            }
            return Ok(Some(Ok(line)));
        }
    }

    /// The error for a CSV cell: at the record's line, with the column when the cell starts on
    /// that line; a cell further down (after a cell that spans lines) is named in the reason.
    fn at(&self, kind: Invalid, line: u64, cell: Option<(u64, u64)>, reason: String) -> InputError {
        match cell {
            Some((0, column)) => self.error(kind, line, Some(column), reason),
            Some((down, column)) => self.error(
                kind,
                line,
                None,
                format!(
                    "{reason} (in the cell at line {}, column {column})",
                    line + down
                ),
            ),
            None => self.error(kind, line, None, reason),
        }
    }

    /// Reads the header row: distinct, non-empty names; `time` and `kind` among them unless a
    /// mapping makes the events (which then needs its time column).
    fn header(&mut self, csv: &CsvState, line: u64) -> Result<Header, InputError> {
        let raw = csv.parser.raw();
        let mut names: Vec<ImmutableString> = Vec::with_capacity(csv.parser.len());
        for (index, cell) in csv.parser.cells().enumerate() {
            let name = String::from_utf8_lossy(cell);
            let name = name.trim();
            let place = csv::cell_position(raw, index);
            if name.is_empty() {
                return Err(self.at(
                    Invalid::Header,
                    line,
                    place,
                    format!("column {} of the header has no name", index + 1),
                ));
            }
            if let Some(first) = names.iter().position(|n| n.as_str() == name) {
                return Err(self.at(
                    Invalid::Header,
                    line,
                    place,
                    format!(
                        "column `{name}` appears twice in the header (columns {} and {})",
                        first + 1,
                        index + 1
                    ),
                ));
            }
            names.push(self.parser.intern(name));
        }
        let find = |wanted: &str| names.iter().position(|n| n.as_str() == wanted);
        let columns = || {
            names
                .iter()
                .map(ImmutableString::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let required: Vec<&str> = match &self.mapper {
            None => vec!["time", "kind"],
            Some(mapper) => mapper
                .mapping()
                .time_fields()
                .iter()
                .map(String::as_str)
                .collect(),
        };
        for wanted in required {
            if find(wanted).is_none() {
                let why = if self.mapper.is_some() {
                    "which the mapping reads the time from"
                } else {
                    "which every event needs (or give a mapping with --map)"
                };
                return Err(self.error(
                    Invalid::Header,
                    line,
                    None,
                    format!(
                        "the header has no `{wanted}` column, {why}; its columns are: {}",
                        columns()
                    ),
                ));
            }
        }
        let own = self.mapper.is_none();
        Ok(Header {
            time: find("time").filter(|_| own),
            kind: find("kind").filter(|_| own),
            id: find("id").filter(|_| own),
            names,
        })
    }

    /// One CSV record: an event as it stands, or the map a mapping turns into one.
    fn csv_record(&mut self, parser: &csv::CsvParser, header: &Header, line: u64) -> Record {
        let raw = parser.raw();
        let cell_at = |index: usize| csv::cell_position(raw, index);
        if parser.len() != header.names.len() {
            let (count, expected) = (parser.len(), header.names.len());
            let mut reason = format!("the record has {count} cell(s) and the header {expected}");
            if raw.iter().filter(|b| **b == b'\n').count() > 1 {
                reason.push_str(": it spans several lines; is a quote left open?");
            }
            let place = (count > expected).then(|| cell_at(expected)).flatten();
            return Err(self.at(Invalid::Event, line, place, reason));
        }
        let mut cells: Vec<&str> = Vec::with_capacity(parser.len());
        for cell in parser.cells() {
            match std::str::from_utf8(cell) {
                Ok(cell) => cells.push(cell),
                Err(_) => {
                    return Err(self.error(Invalid::Encoding, line, None, "invalid UTF-8".into()));
                }
            }
        }
        let origin = Origin {
            file: self.name.clone(),
            line,
        };
        if let Some(mapper) = &mut self.mapper {
            let mut record = Map::new();
            for (name, cell) in header.names.iter().zip(&cells) {
                if !cell.is_empty() {
                    record.insert(name.as_str().into(), typed(cell, &mut self.parser));
                }
            }
            return mapper.apply(record, origin).map_err(|err: MappingError| {
                let place = err
                    .field
                    .as_deref()
                    .and_then(|field| header.names.iter().position(|n| n.as_str() == field))
                    .and_then(cell_at);
                self.at(Invalid::Mapping, line, place, err.reason)
            });
        }
        let cell = |index: Option<usize>| index.and_then(|i| cells.get(i)).copied().unwrap_or("");
        let time_text = cell(header.time);
        if time_text.trim().is_empty() {
            return Err(self.at(
                Invalid::Event,
                line,
                header.time.and_then(cell_at),
                "field `time` is empty".into(),
            ));
        }
        let time = match crate::time::parse_instant(time_text) {
            Ok((time, _)) => time,
            Err(why) => {
                return Err(self.at(
                    Invalid::Event,
                    line,
                    header.time.and_then(cell_at),
                    format!("field `time`: {why}"),
                ));
            }
        };
        let kind = cell(header.kind);
        if kind.trim().is_empty() {
            return Err(self.at(
                Invalid::Event,
                line,
                header.kind.and_then(cell_at),
                "field `kind` is empty".into(),
            ));
        }
        let kind = self.parser.intern(kind);
        let id = Some(cell(header.id))
            .filter(|id| !id.is_empty())
            .map(ImmutableString::from);
        let own = [header.time, header.kind, header.id];
        let mut fields = Vec::with_capacity(header.names.len());
        for (index, (name, cell)) in header.names.iter().zip(&cells).enumerate() {
            if !cell.is_empty() && !own.contains(&Some(index)) {
                fields.push((name.clone(), typed(cell, &mut self.parser)));
            }
        }
        Ok(Event::from_parts(time, kind, id, origin, fields))
    }

    fn error(&self, kind: Invalid, line: u64, column: Option<u64>, reason: String) -> InputError {
        InputError {
            kind,
            file: self.name.to_string(),
            line,
            column,
            reason,
            ends_input: false,
        }
    }

    /// An error after which the input cannot be read: the run stops even with `skip_invalid`.
    fn fatal(&self, kind: Invalid, line: u64, column: Option<u64>, reason: String) -> InputError {
        InputError {
            ends_input: true,
            ..self.error(kind, line, column, reason)
        }
    }
}

impl<R: BufRead + io::Seek> EventReader<R> {
    /// Moves to the line at byte `offset`, numbered `line`, so that the next record is read
    /// from there (JSON Lines, CSV). Hashing stops meaning anything after a seek: this is for
    /// reading again lines already counted and hashed.
    pub fn seek_to(&mut self, offset: u64, line: u64) -> io::Result<()> {
        // A CSV record is read by its header's names: read the header first, once.
        if let Some(csv) = &mut self.csv
            && csv.header.is_none()
        {
            self.reader.inner.seek(io::SeekFrom::Start(0))?;
            csv.parser.restart(0, 1);
            self.done = false;
            self.next_record()?;
        }
        self.reader.inner.seek(io::SeekFrom::Start(offset))?;
        self.position = offset;
        self.overlong = None;
        self.stats.lines = line.saturating_sub(1);
        if let Some(csv) = &mut self.csv {
            csv.parser.restart(offset, line);
        }
        self.done = false;
        Ok(())
    }
}

/// The bytes of line number `line` of JSON Lines, without the byte-order mark a file's first
/// line may start with: what both the events and the scan of times decode.
fn without_bom(bytes: &[u8], line: u64) -> &[u8] {
    if line == 1 {
        bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
    } else {
        bytes
    }
}

/// A CSV cell as a value: an integer, a float, or text. An integer written with leading zeros
/// (`007`, a P-code, a time such as `0930`) stays text: as a number it would lose them.
fn typed(cell: &str, parser: &mut EventParser) -> Dynamic {
    let digits = cell.strip_prefix(['+', '-']).unwrap_or(cell);
    let numeric = |b: u8| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E');
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if digits.len() > 1 && digits.starts_with('0') {
            return parser.intern(cell).into();
        }
        if let Ok(int) = cell.parse::<i64>() {
            return Dynamic::from_int(int);
        }
    }
    // A number too large for a float (`1e999`) stays text, as JSON input refuses it: an
    // infinite coordinate would be no position at all.
    if digits.bytes().any(|b| b.is_ascii_digit())
        && cell.bytes().all(numeric)
        && let Ok(float) = cell.parse::<f64>()
        && float.is_finite()
    {
        return Dynamic::from_float(float);
    }
    parser.intern(cell).into()
}

/// The 1-based character column where the value of `field` starts on a JSON line (the first
/// `"field":` on it), for an error about that value.
fn json_value_column(text: &str, field: &str) -> Option<u64> {
    let quoted = format!("\"{field}\"");
    let mut from = 0;
    while let Some(found) = text.get(from..)?.find(&quoted) {
        let after = from + found + quoted.len();
        let rest = text.get(after..)?;
        let trimmed = rest.trim_start();
        if let Some(value) = trimmed.strip_prefix(':') {
            let start = text.len() - value.trim_start().len();
            return Some(text.get(..start)?.chars().count() as u64 + 1);
        }
        from = after;
    }
    None
}

/// A reader that hashes every byte consumed through it.
struct Hashing<R> {
    inner: R,
    digest: InputDigest,
    /// Off for a scan of times, which reads the bytes a second time.
    on: bool,
    /// Bytes consumed so far.
    consumed: u64,
}

impl<R: BufRead> Read for Hashing<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        if let (Some(target), Some(source)) = (out.get_mut(..n), available.get(..n)) {
            target.copy_from_slice(source);
        }
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Hashing<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        if self.on
            && let Ok(available) = self.inner.fill_buf()
            && let Some(bytes) = available.get(..amount)
        {
            self.digest.update(bytes);
        }
        self.consumed += amount as u64;
        self.inner.consume(amount);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(name: &str, bytes: &[u8]) -> (Vec<Result<String, String>>, InputStats, String) {
        let mut reader = EventReader::new(name, bytes, InputFormat::from_name(name));
        let mut records = Vec::new();
        while let Some(record) = reader.next_record().unwrap() {
            records.push(record.map(|e| e.id()).map_err(|e| e.to_string()));
        }
        let (stats, sha256) = reader.finish().unwrap();
        (records, stats, sha256)
    }

    /// Each invalid record says what kind of problem it has, besides where and in words.
    #[test]
    fn invalid_records_have_a_kind() {
        let kinds = |name: &str, bytes: &[u8]| -> Vec<(u64, Invalid)> {
            let mut reader = EventReader::new(name, bytes, InputFormat::from_name(name));
            let mut found = Vec::new();
            while let Some(record) = reader.next_record().unwrap() {
                if let Err(e) = record {
                    found.push((e.line, e.kind));
                }
            }
            found
        };
        let long = format!(
            "{{\"time\":\"2024-01-01\",\"kind\":\"{}\"}}\n",
            "a".repeat(MAX_LINE_BYTES)
        );
        let mut log = b"{\"time\":\"2024-01-01\",\"kind\":\"a\"}\n{\"time\": \n[1]\n{\"time\":\"2024-01-01\"}\n{\"time\":\"x\",\"kind\":\"a\"}\n{\"kind\":\"a\",\"kind\":\"b\",\"time\":\"2024-01-01\"}\n\xff\n".to_vec();
        log.extend_from_slice(long.as_bytes());
        assert_eq!(
            kinds("log.jsonl", &log),
            [
                (2, Invalid::Syntax),
                (3, Invalid::Event),
                (4, Invalid::Event),
                (5, Invalid::Event),
                (6, Invalid::Event),
                (7, Invalid::Encoding),
                (8, Invalid::TooLarge),
            ]
        );
        assert_eq!(
            kinds(
                "log.csv",
                b"time,kind\n2024-01-01,a,extra\n,a\n2024-01-01,\n"
            ),
            [
                (2, Invalid::Event),
                (3, Invalid::Event),
                (4, Invalid::Event)
            ]
        );
        assert_eq!(
            kinds("log.csv", b"time,,kind\n2024-01-01,x,a\n"),
            [(1, Invalid::Header)]
        );
        assert_eq!(
            kinds("log.yaml", b"- {time: 2024-01-01\n"),
            [(1, Invalid::Syntax)]
        );
    }

    #[test]
    fn every_line_is_an_event_a_blank_or_an_error() {
        let log = b"\xEF\xBB\xBF{\"time\":\"2024-01-01\",\"kind\":\"a\"}\r\n\n   \n{\"time\":\"2024-01-02\",\"kind\":\"b\",\"id\":\"x\"}";
        let (records, stats, sha256) = read_all("log.jsonl", log);
        assert_eq!(
            records,
            vec![Ok("log.jsonl:1".to_string()), Ok("x".to_string())]
        );
        assert_eq!(
            stats,
            InputStats {
                lines: 4,
                events: 2,
                blank: 2,
                invalid: 0,
                conformance: Default::default(),
            }
        );
        // Computed independently with `printf '<the bytes above>' | sha256sum`: the hash
        // covers every byte, the BOM and the line breaks included.
        assert_eq!(
            sha256,
            "006939645107e60b400768759999c6262d56807439efbdf5e9c16504e94459e0"
        );
    }

    #[test]
    fn invalid_utf8_names_its_column() {
        let (records, ..) = read_all(
            "log.jsonl",
            b"{\"time\":\"2024-01-01\",\"kind\":\"\xff\"}\n",
        );
        assert_eq!(
            records,
            vec![Err("log.jsonl:1:30: invalid UTF-8".to_string())]
        );
    }

    #[test]
    fn an_overlong_line_is_rejected_and_the_next_one_read() {
        let mut log = vec![b'x'; MAX_LINE_BYTES + 10];
        log.extend_from_slice(b"\n{\"time\":\"2024-01-01\",\"kind\":\"a\"}\n");
        let (records, stats, _) = read_all("log.jsonl", &log);
        assert_eq!(
            records,
            vec![
                Err(format!(
                    "log.jsonl:1: line is longer than the limit of {MAX_LINE_BYTES} bytes"
                )),
                Ok("log.jsonl:2".to_string())
            ]
        );
        assert_eq!((stats.lines, stats.invalid, stats.events), (2, 1, 1));
    }

    #[test]
    fn yaml_lists_give_each_item_its_line() {
        let yaml = b"- {time: 2024-01-01, kind: a}\n- time: 2024-01-02\n  kind: b\n- kind: c\n";
        let (records, stats, _) = read_all("log.yaml", yaml);
        assert_eq!(
            records,
            vec![
                Ok("log.yaml:1".to_string()),
                Ok("log.yaml:2".to_string()),
                Err("log.yaml:4:3: missing required field `time`".to_string())
            ]
        );
        assert_eq!((stats.lines, stats.events, stats.invalid), (4, 2, 1));
        let (records, ..) = read_all("bad.yaml", b"time: 2024-01-01\n");
        assert_eq!(records.len(), 1);
        assert!(
            records[0]
                .as_ref()
                .unwrap_err()
                .starts_with("bad.yaml:1:1: not a YAML list of events")
        );
    }
}
