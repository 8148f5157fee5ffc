//! CSV records with their positions: what the event reader needs from a CSV file.
//!
//! Parsing is csv-core's (RFC 4180: a quoted cell may hold commas, doubled quotes and line
//! breaks). csv-core is the parser inside the `csv` crate; it is used directly because the
//! reader needs what `csv::Reader` keeps to itself: the raw bytes of each record (an error
//! names the line and column of the offending cell, which may lie on a later line than the
//! record's first when an earlier cell spans lines), the blank lines it skips (every line is
//! accounted for), and a bound on the size of one record (a quote left open would otherwise
//! swallow the rest of the file into memory).
//!
//! Lines end with `\n` or `\r\n`; the `\r` of a `\r\n` is not part of the last cell. Blank
//! lines between records are skipped and counted. Nothing here knows about events: the
//! reader turns cells into fields.

use std::io::{self, BufRead};

/// The largest record accepted, in bytes (1 MiB, the limit of a JSON Lines line).
pub const MAX_RECORD_BYTES: usize = super::MAX_LINE_BYTES;

/// One record as read: where it starts and its raw bytes; its cells are in the parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Placed {
    /// 1-based line of its first character.
    pub line: u64,
    /// Byte offset of its first character (the start of that line).
    pub offset: u64,
    /// It exceeded [`MAX_RECORD_BYTES`]: its cells and raw bytes were dropped.
    pub too_long: bool,
}

/// Reads CSV records one at a time from a [`BufRead`], counting lines as it goes.
pub(super) struct CsvParser {
    core: csv_core::Reader,
    /// Unescaped cell contents of the last record, back to back.
    output: Vec<u8>,
    /// Where each cell of the last record ends in `output`.
    ends: Vec<usize>,
    /// Cells in `output`/`ends`.
    cells: usize,
    /// The last record's bytes as written, from its first character to its line break.
    raw: Vec<u8>,
    /// Bytes consumed so far.
    position: u64,
    /// Line breaks consumed so far.
    newlines: u64,
    /// Bytes consumed since the last line break (the last line has no break).
    partial: bool,
}

impl CsvParser {
    /// A parser at the start of an input.
    pub(super) fn new() -> Self {
        CsvParser {
            core: Self::core(),
            output: vec![0; 1024],
            ends: vec![0; 64],
            cells: 0,
            raw: Vec::new(),
            position: 0,
            newlines: 0,
            partial: false,
        }
    }

    fn core() -> csv_core::Reader {
        // `\n` alone ends a record, so that a lone `\r` (which the default would also take)
        // cannot end one on a line the counting does not see; `\r\n` is handled in `read`.
        csv_core::ReaderBuilder::new()
            .terminator(csv_core::Terminator::Any(b'\n'))
            .build()
    }

    /// Continues at byte `offset`, the start of line `line` (reading a record again).
    pub(super) fn restart(&mut self, offset: u64, line: u64) {
        self.core = Self::core();
        self.position = offset;
        self.newlines = line.saturating_sub(1);
        self.partial = false;
    }

    /// Lines consumed so far, the last one counted even without its line break.
    pub(super) fn lines(&self) -> u64 {
        self.newlines + u64::from(self.partial)
    }

    /// Reads the next record. Returns the blank lines skipped before it and the record, or
    /// `None` at the end of the input.
    pub(super) fn read(&mut self, reader: &mut impl BufRead) -> io::Result<(u64, Option<Placed>)> {
        use csv_core::ReadRecordResult as Read;
        self.raw.clear();
        let mut blank = 0;
        let mut start: Option<(u64, u64)> = None;
        let mut too_long = false;
        let (mut outlen, mut endlen) = (0, 0);
        loop {
            let available = match reader.fill_buf() {
                Ok(available) => available,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(err),
            };
            let (result, nin, nout, nend) = self.core.read_record(
                available,
                self.output.get_mut(outlen..).unwrap_or_default(),
                self.ends.get_mut(endlen..).unwrap_or_default(),
            );
            let mut rest = available.get(..nin).unwrap_or_default();
            if start.is_none() {
                // csv-core skips empty lines before a record: they are blank lines.
                let skipped = rest.iter().take_while(|b| **b == b'\n').count();
                if skipped > 0 {
                    blank += skipped as u64;
                    self.newlines += skipped as u64;
                    self.position += skipped as u64;
                    self.partial = false;
                    rest = rest.get(skipped..).unwrap_or_default();
                }
                if !rest.is_empty() {
                    start = Some((self.position, self.newlines + 1));
                }
            }
            if !rest.is_empty() {
                self.newlines += memchr::memchr_iter(b'\n', rest).count() as u64;
                self.partial = rest.last() != Some(&b'\n');
                // A byte-order mark is consumed with the first record but is no character of
                // it: columns are counted without it.
                let content = if self.position == 0 {
                    rest.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(rest)
                } else {
                    rest
                };
                self.position += rest.len() as u64;
                if !too_long && self.raw.len() + content.len() > MAX_RECORD_BYTES {
                    too_long = true;
                    self.raw.clear();
                }
                if !too_long {
                    self.raw.extend_from_slice(content);
                }
            }
            reader.consume(nin);
            if too_long
                && let Some((offset, line)) = start
                && self.position - offset > super::MAX_SKIPPED_LINE_BYTES
            {
                // A record with no end in sight: not CSV (`/dev/zero`); reading stops.
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "the record at line {line} is longer than the limit of {MAX_RECORD_BYTES} bytes and does not end within {} bytes: the input cannot be read as CSV",
                        super::MAX_SKIPPED_LINE_BYTES
                    ),
                ));
            }
            outlen += nout;
            endlen += nend;
            match result {
                Read::InputEmpty => {}
                Read::OutputFull => {
                    if too_long || self.output.len() >= MAX_RECORD_BYTES {
                        too_long = true;
                        self.raw.clear();
                        outlen = 0;
                    } else {
                        self.output.resize(self.output.len() * 2, 0);
                    }
                }
                Read::OutputEndsFull => {
                    if too_long || self.ends.len() >= MAX_RECORD_BYTES {
                        too_long = true;
                        self.raw.clear();
                        endlen = 0;
                    } else {
                        self.ends.resize(self.ends.len() * 2, 0);
                    }
                }
                Read::Record => break,
                Read::End => return Ok((blank, None)),
            }
        }
        let (offset, line) = start.unwrap_or((self.position, self.newlines + 1));
        self.cells = if too_long { 0 } else { endlen };
        // `\r\n`: the `\r` ends the last cell's bytes but belongs to the line break.
        if self.raw.ends_with(b"\r\n")
            && let Some(last) = self.cells.checked_sub(1).and_then(|i| self.ends.get_mut(i))
            && self.output.get(last.saturating_sub(1)) == Some(&b'\r')
        {
            *last -= 1;
        }
        Ok((
            blank,
            Some(Placed {
                line,
                offset,
                too_long,
            }),
        ))
    }

    /// Consumes the rest of the input, counting its lines (an input whose header is invalid).
    pub(super) fn skip_rest(&mut self, reader: &mut impl BufRead) -> io::Result<()> {
        loop {
            let available = match reader.fill_buf() {
                Ok(available) => available,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(err),
            };
            if available.is_empty() {
                return Ok(());
            }
            self.newlines += memchr::memchr_iter(b'\n', available).count() as u64;
            self.partial = available.last() != Some(&b'\n');
            let n = available.len();
            self.position += n as u64;
            reader.consume(n);
        }
    }

    /// The cells of the last record, as bytes.
    pub(super) fn cells(&self) -> impl Iterator<Item = &[u8]> {
        let mut start = 0;
        self.ends.iter().take(self.cells).map(move |&end| {
            let cell = self.output.get(start..end).unwrap_or_default();
            start = end;
            cell
        })
    }

    /// The number of cells of the last record.
    pub(super) fn len(&self) -> usize {
        self.cells
    }

    /// The last record's bytes as written.
    pub(super) fn raw(&self) -> &[u8] {
        &self.raw
    }
}

/// Where cell `index` (0-based) of a record starts: lines after the record's first line, and
/// the 1-based column (in characters) on that line. `None` when the record has fewer cells.
/// `raw` is the record as written, which csv-core has already parsed: the scan only follows
/// its quotes to find the separators.
pub(super) fn cell_position(raw: &[u8], index: usize) -> Option<(u64, u64)> {
    #[derive(PartialEq)]
    enum State {
        Start,
        Plain,
        Quoted,
        QuoteInQuoted,
    }
    let text = String::from_utf8_lossy(raw);
    let (mut line, mut column) = (0u64, 1u64);
    let mut cell = 0;
    let mut state = State::Start;
    for c in text.chars() {
        if state == State::Start && cell == index {
            return Some((line, column));
        }
        state = match (state, c) {
            (State::Quoted, '"') => State::QuoteInQuoted,
            (State::Quoted, _) => State::Quoted,
            (State::QuoteInQuoted, '"') | (State::Start, '"') => State::Quoted,
            (_, ',') => {
                cell += 1;
                State::Start
            }
            (_, '\n') => return None,
            (_, _) => State::Plain,
        };
        if c == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    // The last cell is empty and ends the input without a line break.
    (state == State::Start && cell == index).then_some((line, column))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(bytes: &[u8]) -> Vec<(u64, u64, u64, Vec<String>)> {
        let mut parser = CsvParser::new();
        let mut reader = bytes;
        let mut found = Vec::new();
        loop {
            let (blank, placed) = parser.read(&mut reader).unwrap();
            let Some(placed) = placed else {
                break;
            };
            let cells = parser
                .cells()
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect();
            found.push((placed.line, placed.offset, blank, cells));
        }
        found
    }

    #[test]
    fn records_know_their_line_offset_and_the_blank_lines_before_them() {
        let csv = b"a,b\r\n\r\n1,\"x\r\ny\"\n\n\n2,\"q\"\"\"\r\n3,z";
        assert_eq!(
            records(csv),
            vec![
                (1, 0, 0, vec!["a".into(), "b".into()]),
                // `\r\n` alone is a record of one empty cell: the reader calls it blank.
                (2, 5, 0, vec!["".into()]),
                (3, 7, 0, vec!["1".into(), "x\r\ny".into()]),
                (7, 18, 2, vec!["2".into(), "q\"".into()]),
                (8, 27, 0, vec!["3".into(), "z".into()]),
            ]
        );
    }

    #[test]
    fn lines_are_counted_to_the_end() {
        let mut parser = CsvParser::new();
        let mut reader: &[u8] = b"\xEF\xBB\xBFa\n\n\nb\n\n";
        let mut blanks = 0;
        while let (blank, Some(_)) = parser.read(&mut reader).unwrap() {
            blanks += blank;
        }
        let (blank, none) = parser.read(&mut reader).unwrap();
        assert!(none.is_none());
        assert_eq!((parser.lines(), blanks, blank), (5, 2, 0));
    }

    #[test]
    fn cells_are_found_across_quotes_and_lines() {
        let raw = "id,\"a, \"\"b\"\"\nc\",é,x\"y,\n".as_bytes();
        assert_eq!(cell_position(raw, 0), Some((0, 1)));
        assert_eq!(cell_position(raw, 1), Some((0, 4)));
        assert_eq!(cell_position(raw, 2), Some((1, 4)));
        assert_eq!(cell_position(raw, 3), Some((1, 6)));
        assert_eq!(cell_position(raw, 4), Some((1, 10)));
        assert_eq!(cell_position(raw, 5), None);
    }

    #[test]
    fn an_overlong_record_is_dropped_and_the_next_one_read() {
        let mut csv = b"a,\"".to_vec();
        csv.extend(std::iter::repeat_n(b'x', MAX_RECORD_BYTES + 10));
        csv.extend_from_slice(b"\"\nb,c\n");
        let mut parser = CsvParser::new();
        let mut reader = csv.as_slice();
        let (_, first) = parser.read(&mut reader).unwrap();
        assert_eq!(first.map(|p| (p.line, p.too_long)), Some((1, true)));
        let (_, second) = parser.read(&mut reader).unwrap();
        assert_eq!(second.map(|p| (p.line, p.too_long)), Some((2, false)));
        assert_eq!(parser.len(), 2);
    }
}
