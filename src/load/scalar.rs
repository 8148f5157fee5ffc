//! Where each character of a YAML scalar's value sits in the file.
//!
//! serde-saphyr gives the position of a value's first character; a Rhai error gives a position
//! inside the value. For plain text on one line and for `|` blocks the two map by arithmetic,
//! but escapes (`\"`, `''`) and line folding (plain or quoted text over several lines, `>`
//! blocks) move characters around. This module re-reads the scalar's source the way YAML does,
//! recording where each value character came from, and keeps the result only when the text it
//! rebuilds equals the value serde-saphyr produced: a style it does not model falls back to the
//! arithmetic instead of giving a wrong position.

/// The source positions, `(line, column)`, of each character of a scalar's value.
pub(super) fn positions(
    text: &str,
    start: usize,
    line: u64,
    column: u64,
    value: &str,
) -> Option<Vec<(u64, u64)>> {
    // Line breaks are `\n` from here on: a CRLF file folds like any other. Read lazily: the
    // scanner goes only as far as the scalar does (a copy of the rest of the file for each
    // expression made `check` quadratic in the file's length).
    let rest = text.get(start..)?;
    // Blank lines opening a block come before `start`: they are the value's first characters.
    let leading = value.chars().take_while(|c| *c == '\n').count();
    let value = value.get(leading..)?;
    let line = line + leading as u64;
    let style = match rest.chars().next()? {
        '"' => Style::Double,
        '\'' => Style::Single,
        _ if folded_block(text, start) => Style::Folded,
        _ => Style::Plain,
    };
    let mut scanner = Scanner {
        chars: CrLf(rest.chars().peekable()).peekable(),
        line,
        column,
        out: String::new(),
        at: (0..leading as u64)
            .map(|i| (line - leading as u64 + i, column))
            .collect(),
    };
    scanner.scan(style, column);
    let wanted = value.trim_end_matches('\n');
    let got = scanner.out.trim_end_matches('\n');
    (got == wanted).then_some(scanner.at)
}

#[derive(Clone, Copy, PartialEq)]
enum Style {
    Plain,
    Double,
    Single,
    Folded,
}

/// Whether the scalar starting at `start` is the content of a `>` block: only blanks precede
/// it on its line, and the previous non-blank line ends with a `>` header.
fn folded_block(text: &str, start: usize) -> bool {
    let Some(before) = text.get(..start) else {
        return false;
    };
    let line_start = before.rfind('\n').map_or(0, |at| at + 1);
    if !before.get(line_start..).unwrap_or("").trim().is_empty() {
        return false;
    }
    let header = before
        .get(..line_start)
        .unwrap_or("")
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    let header = match header.find(" #") {
        Some(at) => header.get(..at).unwrap_or(header),
        None => header,
    };
    let indicator = header
        .trim_end()
        .rsplit([' ', ':', '-'])
        .next()
        .unwrap_or("");
    indicator.starts_with('>')
        && indicator
            .chars()
            .skip(1)
            .all(|c| c == '-' || c == '+' || c.is_ascii_digit())
}

/// Characters with each `\r\n` read as one `\n`.
#[derive(Clone)]
struct CrLf<'a>(std::iter::Peekable<std::str::Chars<'a>>);

impl Iterator for CrLf<'_> {
    type Item = char;

    fn next(&mut self) -> Option<char> {
        let c = self.0.next()?;
        if c == '\r' && self.0.peek() == Some(&'\n') {
            return self.0.next();
        }
        Some(c)
    }
}

struct Scanner<'a> {
    chars: std::iter::Peekable<CrLf<'a>>,
    line: u64,
    column: u64,
    out: String,
    at: Vec<(u64, u64)>,
}

impl Scanner<'_> {
    fn next(&mut self) -> Option<char> {
        let c = self.chars.next()?;
        if c == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
        Some(c)
    }

    fn emit(&mut self, c: char, at: (u64, u64)) {
        self.out.push(c);
        self.at.push(at);
    }

    /// Drops trailing blanks already emitted (YAML strips them before a line break).
    fn trim_emitted(&mut self) {
        while self.out.ends_with([' ', '\t']) {
            self.out.pop();
            self.at.pop();
        }
    }

    /// After a line break inside a scalar: skips blank lines and indentation, then emits the
    /// fold (one space, or one line break per blank line). Returns false at the end of input.
    fn fold(&mut self, at: (u64, u64), indent: Option<u64>) -> bool {
        let mut breaks = 0;
        loop {
            while matches!(self.chars.peek(), Some(' ' | '\t')) {
                if indent.is_some_and(|i| self.column > i) {
                    break;
                }
                self.next();
            }
            if self.chars.peek() == Some(&'\n') {
                self.next();
                breaks += 1;
                continue;
            }
            break;
        }
        if self.chars.peek().is_none() {
            return false;
        }
        // A block ends at the first line indented less than its content.
        if indent.is_some_and(|i| self.column < i) {
            return false;
        }
        if breaks == 0 {
            self.emit(' ', at);
        }
        for _ in 0..breaks {
            self.emit('\n', at);
        }
        true
    }

    fn scan(&mut self, style: Style, column: u64) {
        if matches!(style, Style::Double | Style::Single) {
            self.next();
        }
        let indent = (style == Style::Folded).then_some(column);
        while let Some(&c) = self.chars.peek() {
            let here = (self.line, self.column);
            match (style, c) {
                (Style::Double, '"') | (Style::Single, '\'')
                    if {
                        self.next();
                        !(style == Style::Single && self.chars.peek() == Some(&'\''))
                    } =>
                {
                    return;
                }
                (Style::Single, '\'') => {
                    self.next();
                    self.emit('\'', here);
                }
                (Style::Double, '\\') => {
                    self.next();
                    let Some(escaped) = self.next() else { return };
                    let decoded = match escaped {
                        '\n' => {
                            while matches!(self.chars.peek(), Some(' ' | '\t')) {
                                self.next();
                            }
                            continue;
                        }
                        'x' | 'u' | 'U' => {
                            let digits = match escaped {
                                'x' => 2,
                                'u' => 4,
                                _ => 8,
                            };
                            let hex: String = (0..digits).filter_map(|_| self.next()).collect();
                            u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32)
                        }
                        '0' => Some('\0'),
                        'a' => Some('\u{7}'),
                        'b' => Some('\u{8}'),
                        't' | '\t' => Some('\t'),
                        'n' => Some('\n'),
                        'v' => Some('\u{b}'),
                        'f' => Some('\u{c}'),
                        'r' => Some('\r'),
                        'e' => Some('\u{1b}'),
                        'N' => Some('\u{85}'),
                        '_' => Some('\u{a0}'),
                        'L' => Some('\u{2028}'),
                        'P' => Some('\u{2029}'),
                        other => Some(other),
                    };
                    match decoded {
                        Some(d) => self.emit(d, here),
                        None => return,
                    }
                }
                (_, '\n') => {
                    self.trim_emitted();
                    self.next();
                    let kept = self.at.len();
                    if !self.fold(here, indent) {
                        return;
                    }
                    // A plain scalar ends where a line no longer continues it.
                    if style == Style::Plain && self.ends_plain() {
                        while self.at.len() > kept {
                            self.at.pop();
                            self.out.pop();
                        }
                        return;
                    }
                }
                (Style::Plain, '#') if self.out.ends_with([' ', '\t']) => return,
                (Style::Plain, ':') if matches!(self.peek2(), Some(' ' | '\n') | None) => return,
                _ => {
                    self.next();
                    self.emit(c, here);
                }
            }
        }
    }

    fn peek2(&self) -> Option<char> {
        let mut ahead = self.chars.clone();
        ahead.next();
        ahead.next()
    }

    /// Whether the line now reached starts a new YAML entry rather than continuing the scalar.
    fn ends_plain(&self) -> bool {
        let rest: String = self.chars.clone().take_while(|c| *c != '\n').collect();
        rest.starts_with("- ") || rest.starts_with('#') || rest.contains(": ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, value: &str) -> Vec<(u64, u64)> {
        let start = text.find("when: ").unwrap() + 6;
        let start = start
            + text[start..]
                .find(|c: char| c != '\n' && c != ' ' && c != '>')
                .unwrap();
        let (line, column) = {
            let before = &text[..start];
            let line = before.matches('\n').count() as u64 + 1;
            let column = before.rsplit('\n').next().unwrap().chars().count() as u64 + 1;
            (line, column)
        };
        positions(text, start, line, column, value).unwrap()
    }

    #[test]
    fn escapes_and_doubled_quotes_keep_their_source_columns() {
        let at = check("when: \"a \\\"b\\\" c\"\n", "a \"b\" c");
        assert_eq!(at[6], (1, 16), "the `c` after two escaped quotes");
        let at = check("when: 'it''s x'\n", "it's x");
        assert_eq!(at[5], (1, 14));
    }

    #[test]
    fn folded_lines_map_to_their_own_lines() {
        let at = check(
            "- when: >\n    aa\n    bb\n\n    cc\n- next\n",
            "aa bb\ncc\n",
        );
        assert_eq!(at[3], (3, 5), "`bb` is on line 3");
        assert_eq!(at[6], (5, 5), "`cc` after a blank line is on line 5");
        let at = check("when: aa &&\n  bb\nnext: 1\n", "aa && bb");
        assert_eq!(at[6], (2, 3));
        let at = check("when: \"aa &&\n  bb\"\n", "aa && bb");
        assert_eq!(at[6], (2, 3));
    }

    #[test]
    fn styles_it_does_not_model_give_no_map() {
        assert_eq!(positions("when: a\n", 6, 1, 7, "something else"), None);
    }
}
