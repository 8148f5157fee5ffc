//! Reading event logs: JSON Lines (streamed) and YAML lists, from any [`BufRead`].
//!
//! The reader accounts for every line: each one becomes an event, a blank line, or an
//! [`InputError`] naming the file, line, column and reason. Lines are read with a hard length
//! limit, so one runaway line cannot exhaust memory, and the bytes are hashed as they pass so
//! that the report can name the exact input (SHA-256) without reading it twice. The reader never
//! opens files: callers hand it a reader and a display name.

use std::fmt;
use std::io::{self, BufRead, Read};
use std::rc::Rc;

use serde_saphyr::Spanned;
use sha2::{Digest, Sha256};

use crate::event::{Event, EventParser, Origin};

/// The longest JSON Lines line accepted, in bytes (1 MiB). Real incident reports are a few
/// hundred bytes; anything longer is almost certainly not one line of an event log.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// The largest YAML event file accepted, in bytes (64 MiB); YAML is for hand-written logs.
pub const MAX_YAML_BYTES: u64 = 64 << 20;

/// How an input is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// One JSON object per line.
    JsonLines,
    /// A YAML list of objects.
    Yaml,
}

impl InputFormat {
    /// The format a file name implies: `.yaml`/`.yml` are YAML, everything else JSON Lines.
    pub fn from_name(name: &str) -> Self {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".yaml") || lower.ends_with(".yml") {
            InputFormat::Yaml
        } else {
            InputFormat::JsonLines
        }
    }
}

/// A line that is not a valid event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// The input as named by the user.
    pub file: String,
    /// 1-based line.
    pub line: u64,
    /// 1-based column, where known.
    pub column: Option<u64>,
    /// Why it was rejected.
    pub reason: String,
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
pub struct InputStats {
    /// Lines read (for YAML, the file's lines).
    pub lines: u64,
    /// Events read.
    pub events: u64,
    /// Blank lines (JSON Lines only).
    pub blank: u64,
    /// Lines rejected.
    pub invalid: u64,
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
}

impl<R: BufRead> EventReader<R> {
    /// A reader over `reader`, reported as `name`.
    pub fn new(name: &str, reader: R, format: InputFormat) -> Self {
        EventReader {
            reader: Hashing {
                inner: reader,
                hasher: Sha256::new(),
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
        }
    }

    /// The byte offset of the line the last record came from (JSON Lines), for reading it
    /// again with [`EventReader::seek_to`].
    pub fn offset(&self) -> u64 {
        self.record_offset
    }

    /// The line number of the last line read.
    pub fn line(&self) -> u64 {
        self.stats.lines
    }

    /// The next record: `Ok(None)` at the end, `Err` only when the input cannot be read at all.
    pub fn next_record(&mut self) -> io::Result<Option<Record>> {
        let record = match self.format {
            InputFormat::JsonLines => self.next_json()?,
            InputFormat::Yaml => self.next_yaml()?,
        };
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

    /// Reads whatever is left (so the hash covers the whole input) and returns the SHA-256.
    pub fn finish(mut self) -> io::Result<(InputStats, String)> {
        io::copy(&mut self.reader, &mut io::sink())?;
        let digest = self.reader.hasher.finalize();
        Ok((self.stats, crate::hex(&digest)))
    }

    fn next_json(&mut self) -> io::Result<Option<Record>> {
        loop {
            if self.done {
                return Ok(None);
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
            if too_long {
                return Ok(Some(Err(self.error(
                    line,
                    None,
                    format!("line is longer than the limit of {MAX_LINE_BYTES} bytes"),
                ))));
            }
            let mut bytes = self.buffer.as_slice();
            if line == 1 {
                bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            }
            let text = match std::str::from_utf8(bytes) {
                Ok(text) => text,
                Err(err) => {
                    // One line: the position's line is always 1 within it.
                    let (_, column) = crate::diagnostic::utf8_position(bytes, err.valid_up_to());
                    return Ok(Some(Err(self.error(
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
            let record = self
                .parser
                .parse_json(text, origin)
                .map_err(|err| InputError {
                    file: self.name.to_string(),
                    line,
                    column: err.column,
                    reason: err.reason,
                });
            return Ok(Some(record));
        }
    }

    /// Reads one line into `buffer`, without its line break. Returns the bytes consumed and
    /// whether the line exceeded [`MAX_LINE_BYTES`] (its content is then dropped).
    fn read_line(&mut self) -> io::Result<(usize, bool)> {
        self.buffer.clear();
        let mut consumed = 0;
        let mut too_long = false;
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
            if !too_long {
                if self.buffer.len() + chunk.len() > MAX_LINE_BYTES {
                    too_long = true;
                    self.buffer.clear();
                } else {
                    self.buffer.extend_from_slice(chunk);
                }
            }
            let take = found.unwrap_or(available.len());
            self.reader.consume(take);
            consumed += take;
            if found.is_some() {
                break;
            }
        }
        if self.buffer.last() == Some(&b'\r') {
            self.buffer.pop();
        }
        Ok((consumed, too_long))
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
                vec![Err(self.error(
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
                        vec![Err(self.error(
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

    fn parse_yaml(&mut self, text: &str) -> Vec<Record> {
        let items: Vec<Spanned<serde_json::Value>> = match serde_saphyr::from_str(text) {
            Ok(items) => items,
            Err(err) => {
                let (line, column) = err
                    .location()
                    .map(|l| (l.line(), Some(l.column())))
                    .unwrap_or((1, None));
                let mut reason = err.without_snippet().to_string();
                if let Some(at) = reason.rfind(" at line ") {
                    reason.truncate(at);
                }
                return vec![Err(self.error(
                    line,
                    column,
                    format!(
                        "not a YAML list of events: {reason}; a YAML file is read whole, so none of its events was read"
                    ),
                ))];
            }
        };
        items
            .into_iter()
            .map(|item| {
                let line = item.referenced.line();
                let origin = Origin {
                    file: self.name.clone(),
                    line,
                };
                self.parser
                    .parse_value(item.value, origin)
                    .map_err(|err| InputError {
                        file: self.name.to_string(),
                        line,
                        column: Some(item.referenced.column()),
                        reason: err.reason,
                    })
            })
            .collect()
    }

    fn error(&self, line: u64, column: Option<u64>, reason: String) -> InputError {
        InputError {
            file: self.name.to_string(),
            line,
            column,
            reason,
        }
    }
}

impl<R: BufRead + io::Seek> EventReader<R> {
    /// Moves to the line at byte `offset`, numbered `line`, so that the next record is read
    /// from there (JSON Lines). Hashing stops meaning anything after a seek: this is for
    /// reading again lines already counted and hashed.
    pub fn seek_to(&mut self, offset: u64, line: u64) -> io::Result<()> {
        self.reader.inner.seek(io::SeekFrom::Start(offset))?;
        self.position = offset;
        self.stats.lines = line.saturating_sub(1);
        self.done = false;
        Ok(())
    }
}

/// A reader that hashes every byte consumed through it.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
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
        if let Ok(available) = self.inner.fill_buf()
            && let Some(bytes) = available.get(..amount)
        {
            self.hasher.update(bytes);
        }
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
                invalid: 0
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
