//! Positions between the protocol and pactum: the protocol counts a line's characters in the
//! encoding the client and server agreed on at `initialize` (UTF-16 code units unless both
//! take UTF-8), pactum in bytes ([`pactum::editor::Span`]) or, in diagnostics, in characters.
//! "Türkiye" is 7 UTF-16 units and 8 bytes; "–" is 1 unit and 3 bytes.

use lsp_types::{Position, Range};

use pactum::editor::Span;

/// How the protocol counts a line's characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 code units: bytes.
    Utf8,
    /// UTF-16 code units: the protocol's default.
    Utf16,
}

impl Encoding {
    /// The encoding to use given the client's `positionEncodings` (utf-8 when offered).
    pub fn choose(offered: &[String]) -> Encoding {
        if offered.iter().any(|e| e == "utf-8") {
            Encoding::Utf8
        } else {
            Encoding::Utf16
        }
    }

    /// Its name in the protocol.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Utf16 => "utf-16",
        }
    }

    /// The protocol's count of the first `byte` bytes of `line`.
    pub fn units(self, line: &str, byte: usize) -> u32 {
        let byte = byte.min(line.len());
        let count = match self {
            Encoding::Utf8 => byte,
            Encoding::Utf16 => line
                .char_indices()
                .take_while(|(i, _)| *i < byte)
                .map(|(_, c)| c.len_utf16())
                .sum(),
        };
        u32::try_from(count).unwrap_or(u32::MAX)
    }

    /// The byte of `line` the protocol's `units` point at: at most the line's end, and never
    /// inside a character.
    pub fn byte(self, line: &str, units: u32) -> usize {
        let units = usize::try_from(units).unwrap_or(usize::MAX);
        let mut counted = 0;
        for (i, c) in line.char_indices() {
            if counted >= units {
                return i;
            }
            counted += match self {
                Encoding::Utf8 => c.len_utf8(),
                Encoding::Utf16 => c.len_utf16(),
            };
            if counted > units {
                // Inside the character: the protocol should not, but the start is safest.
                return i;
            }
        }
        line.len()
    }
}

/// A text's lines, split once, for converting many positions.
pub struct Lines<'a>(Vec<&'a str>);

impl<'a> Lines<'a> {
    /// Splits `text`.
    pub fn new(text: &'a str) -> Lines<'a> {
        Lines(
            text.split('\n')
                .map(|l| l.strip_suffix('\r').unwrap_or(l))
                .collect(),
        )
    }

    /// Line `n` (empty past the end).
    pub fn line(&self, n: usize) -> &'a str {
        self.0.get(n).copied().unwrap_or("")
    }

    /// A span as a protocol range.
    pub fn range(&self, span: Span, encoding: Encoding) -> Range {
        let line = self.line(span.line);
        let number = u32::try_from(span.line).unwrap_or(u32::MAX);
        Range {
            start: Position::new(number, encoding.units(line, span.start)),
            end: Position::new(number, encoding.units(line, span.end)),
        }
    }

    /// A protocol position as a line and a byte in it.
    pub fn byte(&self, position: Position, encoding: Encoding) -> (usize, usize) {
        let line = usize::try_from(position.line).unwrap_or(usize::MAX);
        (line, encoding.byte(self.line(line), position.character))
    }
}

/// The byte offset in `text` of a protocol position (at most the text's end).
pub fn offset(text: &str, position: Position, encoding: Encoding) -> usize {
    let mut start = 0;
    for _ in 0..position.line {
        match text.get(start..).and_then(|rest| rest.find('\n')) {
            Some(at) => start += at + 1,
            None => return text.len(),
        }
    }
    let rest = text.get(start..).unwrap_or("");
    let line = rest.split('\n').next().unwrap_or("");
    let line = line.strip_suffix('\r').unwrap_or(line);
    start + encoding.byte(line, position.character)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_ascii_text_counts_in_either_encoding() {
        let line = "TR: Türkiye – 🙂x";
        let x = line.find('x').unwrap();
        assert_eq!(x, 4 + 8 + 1 + 3 + 1 + 4);
        assert_eq!(Encoding::Utf8.units(line, x), 21);
        // T ü r k i y e = 7 units; – = 1; 🙂 = 2.
        assert_eq!(Encoding::Utf16.units(line, x), 4 + 7 + 1 + 1 + 1 + 2);
        assert_eq!(Encoding::Utf16.byte(line, 16), x);
        assert_eq!(Encoding::Utf8.byte(line, 21), x);
        // Past the end: the end; inside a character: its start.
        assert_eq!(Encoding::Utf16.byte(line, 99), line.len());
        assert_eq!(Encoding::Utf8.byte(line, 6), 5);
        assert_eq!(
            Encoding::choose(&["utf-16".into(), "utf-8".into()]),
            Encoding::Utf8
        );
        assert_eq!(Encoding::choose(&[]), Encoding::Utf16);
    }

    #[test]
    fn offsets_of_positions() {
        let text = "a: Türkiye\r\nb: –x\n";
        let at = offset(text, Position::new(1, 4), Encoding::Utf16);
        assert_eq!(text.get(at..), Some("x\n"));
        assert_eq!(
            offset(text, Position::new(5, 0), Encoding::Utf16),
            text.len()
        );
    }
}
