//! A YAML event file as a list of items, each item its own unit.
//!
//! Why a module of its own: serde reads a YAML list in one go, so one item it cannot read (a
//! key given twice, a `.nan`, a key that is a list, an alias to no anchor) fails the whole list,
//! and none of the good items would be judged. The file is first read whole — the common case,
//! in which items may also share anchors. Only when that fails is the text cut into its
//! top-level items along the YAML parser's events, and each item read alone (at its own
//! line and column), so that a bad item is one invalid record and the others are events. A
//! problem that no single item holds (the YAML is malformed, it is not a list, it has more than
//! one document) still concerns the whole file: [`items`] returns it as the file's error.
//!
//! An item read alone uses no alias at all (an anchor may be in another item, and what aliases
//! expand to is bounded only for the file as a whole): when the file holds a bad item, an item
//! with an alias is reported as an invalid item of its own.

use serde_saphyr::Spanned;
use serde_saphyr::granit_parser::{Event, Options, Parser};

/// One item of the list: where it starts and what it holds.
pub(super) struct Item {
    /// 1-based line of the item's first character.
    pub line: u64,
    /// 1-based column of the item's first character.
    pub column: u64,
    /// The item as a JSON value, or why it cannot be read.
    pub value: Result<serde_json::Value, Problem>,
}

/// Why an item, or the whole file, cannot be read, and where.
#[derive(Debug)]
pub(super) struct Problem {
    /// 1-based line.
    pub line: u64,
    /// 1-based column, where known.
    pub column: Option<u64>,
    /// What is wrong, in words.
    pub reason: String,
}

/// The items of a YAML list of events, each read alone when the list as a whole cannot be;
/// `Err` when the text is not a list of items at all.
pub(super) fn items(text: &str) -> Result<Vec<Item>, Problem> {
    let whole = match serde_saphyr::from_str::<Vec<Spanned<serde_json::Value>>>(text) {
        Ok(items) => {
            return Ok(items
                .into_iter()
                .map(|item| Item {
                    line: item.referenced.line(),
                    column: item.referenced.column(),
                    value: Ok(item.value),
                })
                .collect());
        }
        Err(err) => problem(&err, 0),
    };
    let Some(pieces) = cut(text) else {
        return Err(whole);
    };
    Ok(pieces
        .into_iter()
        .map(|piece| {
            let line = piece.line as u64;
            // Indented as in the file, so that columns (and a block mapping's indentation) hold.
            let mut alone = " ".repeat(piece.column);
            alone.push_str(text.get(piece.bytes).unwrap_or(""));
            Item {
                line,
                column: piece.column as u64 + 1,
                value: serde_saphyr::from_str_with_options::<serde_json::Value>(
                    &alone,
                    alone_options(),
                )
                .map_err(|err| problem(&err, line - 1)),
            }
        })
        .collect())
}

/// How an item read alone is read: without aliases. The whole file's budget of nodes bounds
/// what aliases may expand to; items read one by one would each get that budget anew, so a
/// file of many items each expanding just under it could be made to hold gigabytes (issue 12,
/// found in review). Without aliases, what the items hold is what their text holds.
fn alone_options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_aliases = 0;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options
}

/// A serde-saphyr error in words, its lines moved down by `lines`.
fn problem(err: &serde_saphyr::Error, lines: u64) -> Problem {
    let (line, column) = err
        .location()
        .map(|l| (l.line() + lines, Some(l.column())))
        .unwrap_or((lines + 1, None));
    let mut reason = err.without_snippet().to_string();
    if let Some(at) = reason.rfind(" at line ") {
        reason.truncate(at);
    }
    // The library's message addresses its programmer; say what it means for an event file.
    if let Some(rest) = reason.strip_prefix("duplicate mapping key: ") {
        let key = rest.split(',').next().unwrap_or(rest);
        reason = format!("duplicate key `{key}`");
    }
    Problem {
        line,
        column,
        reason,
    }
}

/// Where one top-level item lies in the text.
struct Piece {
    /// 1-based line.
    line: usize,
    /// 0-based column, in characters.
    column: usize,
    bytes: std::ops::Range<usize>,
}

/// The top-level items of a one-document YAML list, by the parser's events; `None` when the
/// text is not that (a syntax error, another kind of node, several documents).
fn cut(text: &str) -> Option<Vec<Piece>> {
    let mut pieces = Vec::new();
    let mut documents = 0;
    let mut lists = 0;
    // Collections open: 1 inside the list, more inside an item.
    let mut depth = 0usize;
    let mut current: Option<Piece> = None;
    // An alias to no anchor is the problem of the item that holds it, not of the file.
    let mut options = Options::default();
    options.emit_unresolved_aliases = true;
    for next in Parser::new_from_str_with_options(text, options) {
        let (event, span) = next.ok()?;
        let (start, end) = (span.start.byte_offset()?, span.end.byte_offset()?);
        let opens = matches!(event, Event::SequenceStart(..) | Event::MappingStart(..));
        let closes = matches!(event, Event::SequenceEnd | Event::MappingEnd);
        let node = opens
            || matches!(
                event,
                Event::Scalar(..) | Event::Alias(..) | Event::UnresolvedAlias(..)
            );
        match event {
            Event::DocumentStart(..) => {
                documents += 1;
                if documents > 1 {
                    return None;
                }
                continue;
            }
            Event::SequenceStart(..) if depth == 0 => {
                lists += 1;
                if lists > 1 {
                    return None;
                }
                depth = 1;
                continue;
            }
            _ if depth == 0 && node => return None,
            _ => {}
        }
        if depth == 0 {
            continue;
        }
        if node && depth == 1 {
            current = Some(Piece {
                line: span.start.line(),
                column: span.start.col(),
                bytes: start..end,
            });
        } else if let Some(piece) = &mut current {
            piece.bytes.end = piece.bytes.end.max(end);
        }
        if opens {
            depth += 1;
        } else if closes {
            depth -= 1;
        }
        if depth == 1 && (node || closes) {
            pieces.extend(current.take());
        }
    }
    Some(pieces)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Vec<Result<(u64, u64, String), String>> {
        items(text)
            .unwrap()
            .into_iter()
            .map(|item| match item.value {
                Ok(value) => Ok((item.line, item.column, value.to_string())),
                Err(p) => Err(format!("{}:{:?}: {}", p.line, p.column, p.reason)),
            })
            .collect()
    }

    #[test]
    fn each_item_is_read_alone_when_the_list_cannot_be() {
        let text = "# log\n- {a: 1}\n-   b: 2\n    c: [3, 4]\n- {d: 1, d: 2}\n- \"text\"\n\n- 5\n- *nowhere\n";
        assert_eq!(
            read(text),
            vec![
                Ok((2, 3, r#"{"a":1}"#.to_string())),
                Ok((3, 5, r#"{"b":2,"c":[3,4]}"#.to_string())),
                Err("5:Some(10): duplicate key `d`".to_string()),
                Ok((6, 3, r#""text""#.to_string())),
                Ok((8, 3, "5".to_string())),
                Err("9:Some(3): alias references unknown anchor".to_string()),
            ]
        );
    }

    #[test]
    fn items_start_where_the_whole_read_says() {
        let text = "- {a: 1}\n-   b: 2\n    c: 3\n- x\n";
        let whole: Vec<_> = items(text)
            .unwrap()
            .iter()
            .map(|i| (i.line, i.column))
            .collect();
        let alone: Vec<_> = cut(text)
            .unwrap()
            .iter()
            .map(|p| (p.line as u64, p.column as u64 + 1))
            .collect();
        assert_eq!(whole, alone);
    }

    #[test]
    fn what_no_item_holds_concerns_the_file() {
        for text in [
            "a: 1\n",
            "- {a: 1}\n- [unclosed\n- {b: 2}\n",
            "- {a: 1}\n---\n- {b: 2}\n",
        ] {
            assert!(items(text).is_err(), "{text:?}");
        }
    }
}
