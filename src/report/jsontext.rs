//! JSON text written by hand, byte for byte as serde_json writes it (pretty, two spaces an
//! indent, or compact), for the one record a replay writes hundreds of thousands of times: a
//! violation.
//!
//! Why by hand: through serde, each violation of the benchmark's report cost a fifth of the
//! replay (a time formatted into a new `String`, every key and piece of punctuation a call
//! through the formatter's state). Here a text without anything to escape — nearly every one —
//! is copied between its quotes, a time is written into the buffer digit by digit, and what is
//! rare or intricate (an escaped text, a float, a nested record such as a nearest place) is
//! handed to serde_json itself, so that the two can only differ in layout, which the unit tests
//! below and `tests/golden/` pin.

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::Serialize;

/// A line break and the indentation of the depths a violation reaches, as one copy.
const INDENTS: &[u8] = b"\n                ";

/// Writes JSON into a byte buffer: values, objects and arrays, with serde_json's layout.
pub(super) struct JsonText<'b> {
    out: &'b mut Vec<u8>,
    pretty: bool,
    /// The indentation depth of what is written next.
    depth: usize,
    /// Whether the innermost object or array open has no element yet.
    first: bool,
}

impl<'b> JsonText<'b> {
    /// A writer appending to `out`, at `depth` (pretty: the indentation of the first value's
    /// inner lines is `depth + 1` levels).
    pub(super) fn new(out: &'b mut Vec<u8>, pretty: bool, depth: usize) -> Self {
        JsonText {
            out,
            pretty,
            depth,
            first: true,
        }
    }

    fn newline(&mut self) {
        if self.pretty {
            match INDENTS.get(..1 + 2 * self.depth) {
                Some(indent) => self.out.extend_from_slice(indent),
                None => {
                    self.out.push(b'\n');
                    for _ in 0..self.depth {
                        self.out.extend_from_slice(b"  ");
                    }
                }
            }
        }
    }

    /// Opens an object (`{`) or an array (`[`).
    pub(super) fn open(&mut self, bracket: u8) {
        self.out.push(bracket);
        self.depth += 1;
        self.first = true;
    }

    /// Closes what [`JsonText::open`] opened: `}` or `]`.
    pub(super) fn close(&mut self, bracket: u8) {
        self.depth = self.depth.saturating_sub(1);
        if !self.first {
            self.newline();
        }
        self.out.push(bracket);
        self.first = false;
    }

    /// Starts an element of the array open.
    pub(super) fn element(&mut self) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.newline();
    }

    /// Starts the member `name` of the object open; its value follows.
    pub(super) fn key(&mut self, name: &str) {
        self.element();
        self.text(name);
        self.out
            .extend_from_slice(if self.pretty { b": " } else { b":" });
    }

    /// A text, escaped as serde_json escapes it.
    pub(super) fn text(&mut self, text: &str) {
        // serde_json escapes `"`, `\` and the control characters below U+0020, nothing else.
        if text.bytes().any(|b| matches!(b, 0..0x20 | b'"' | b'\\')) {
            self.serde(text);
        } else {
            self.out.push(b'"');
            self.out.extend_from_slice(text.as_bytes());
            self.out.push(b'"');
        }
    }

    /// A whole number.
    pub(super) fn integer(&mut self, n: u64) {
        self.out
            .extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    }

    /// An instant, as `crate::time::format_instant` writes it.
    pub(super) fn instant(&mut self, time: &DateTime<Utc>) {
        let (year, nanos) = (time.year(), time.nanosecond());
        // Whole seconds of years 0000–9999 (every time of a real log) are written here; a
        // fraction, a leap second or a year of more than four digits through chrono itself.
        let Ok(year) = u32::try_from(year) else {
            return self.text(&crate::time::format_instant(time));
        };
        if nanos != 0 || year > 9999 {
            return self.text(&crate::time::format_instant(time));
        }
        let two = |n: u32| [b'0' + (n / 10 % 10) as u8, b'0' + (n % 10) as u8];
        let mut text = [0u8; 22];
        let parts: [&[u8]; 13] = [
            b"\"",
            &two(year / 100),
            &two(year % 100),
            b"-",
            &two(time.month()),
            b"-",
            &two(time.day()),
            b"T",
            &two(time.hour()),
            b":",
            &two(time.minute()),
            b":",
            &two(time.second()),
        ];
        let mut at = 0;
        for part in parts {
            for &b in part {
                if let Some(slot) = text.get_mut(at) {
                    *slot = b;
                }
                at += 1;
            }
        }
        self.out.extend_from_slice(text.get(..at).unwrap_or(&[]));
        self.out.extend_from_slice(b"Z\"");
    }

    /// Any other value, through serde_json, indented to where it stands.
    pub(super) fn serde<T: Serialize + ?Sized>(&mut self, value: &T) {
        if self.pretty {
            let mut text = Vec::new();
            if serde_json::to_writer_pretty(&mut text, value).is_err() {
                return self.out.extend_from_slice(b"null");
            }
            // A JSON text's only line breaks are its layout's (a string's are escaped): each
            // is followed by the depth this value stands at.
            for &b in &text {
                self.out.push(b);
                if b == b'\n' {
                    for _ in 0..self.depth {
                        self.out.extend_from_slice(b"  ");
                    }
                }
            }
        } else if serde_json::to_writer(&mut *self.out, value).is_err() {
            self.out.extend_from_slice(b"null");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn pretty_and_compact(write: impl Fn(&mut JsonText<'_>)) -> (String, String) {
        let mut pretty = Vec::new();
        write(&mut JsonText::new(&mut pretty, true, 0));
        let mut compact = Vec::new();
        write(&mut JsonText::new(&mut compact, false, 0));
        (
            String::from_utf8_lossy(&pretty).into_owned(),
            String::from_utf8_lossy(&compact).into_owned(),
        )
    }

    #[test]
    fn texts_are_escaped_as_serde_json_escapes_them() {
        for text in [
            "",
            "plain",
            "quote \" here",
            "back\\slash",
            "line\nbreak\ttab\u{1}\u{1f}",
            "\u{7f} del and / slash",
            "Türkiye, Қазақстан, 🙂",
        ] {
            let (pretty, compact) = pretty_and_compact(|w| w.text(text));
            let expected = serde_json::to_string(text).unwrap_or_default();
            assert_eq!(pretty, expected);
            assert_eq!(compact, expected);
        }
    }

    #[test]
    fn instants_are_written_as_format_instant_writes_them() {
        let times = [
            Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 8).single(),
            Utc.with_ymd_and_hms(1, 2, 3, 4, 5, 6).single(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).single(),
            Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0).single(),
            Utc.with_ymd_and_hms(-5, 1, 1, 0, 0, 0).single(),
            Utc.with_ymd_and_hms(2023, 3, 19, 12, 30, 0)
                .single()
                .and_then(|t| t.with_nanosecond(120_000_000)),
            Utc.with_ymd_and_hms(2023, 3, 19, 12, 30, 59)
                .single()
                .and_then(|t| t.with_nanosecond(1_500_000_000)),
        ];
        for time in times.into_iter().flatten() {
            let (pretty, compact) = pretty_and_compact(|w| w.instant(&time));
            let expected =
                serde_json::to_string(&crate::time::format_instant(&time)).unwrap_or_default();
            assert_eq!(pretty, expected, "{time:?}");
            assert_eq!(compact, expected, "{time:?}");
        }
    }

    #[test]
    fn nested_values_are_laid_out_as_serde_json_lays_them_out() {
        let value = serde_json::json!({
            "a": [1, 2.5, {"b": null, "c": []}, {}],
            "d": {"e": "f\ng"},
            "h": []
        });
        let write = |w: &mut JsonText<'_>| {
            w.open(b'{');
            w.key("a");
            w.open(b'[');
            w.element();
            w.integer(1);
            w.element();
            w.serde(&2.5);
            w.element();
            w.open(b'{');
            w.key("b");
            w.serde(&None::<&str>);
            w.key("c");
            w.open(b'[');
            w.close(b']');
            w.close(b'}');
            w.element();
            w.open(b'{');
            w.close(b'}');
            w.close(b']');
            w.key("d");
            w.serde(&serde_json::json!({"e": "f\ng"}));
            w.key("h");
            w.open(b'[');
            w.close(b']');
            w.close(b'}');
        };
        let (pretty, compact) = pretty_and_compact(write);
        assert_eq!(
            pretty,
            serde_json::to_string_pretty(&value).unwrap_or_default()
        );
        assert_eq!(compact, serde_json::to_string(&value).unwrap_or_default());
    }
}
