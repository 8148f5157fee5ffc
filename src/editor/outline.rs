//! A tolerant outline of a YAML file: its keys, list items and scalar values, each with where
//! it is, read line by line from indentation.
//!
//! An editor asks about a file while it is being typed, and a file being typed is rarely valid
//! YAML (`breached_by: ` with nothing after it yet, a quote not closed): serde-saphyr, which the
//! loaders use, stops at the first error and gives nothing. The outline never fails: every line
//! is placed by its indentation, a line it cannot read is left out, and what it could read stays
//! usable for completion, hover and go-to-definition. It reads the block style the shipped files
//! use (keys, `- ` items, plain, quoted and `|`/`>` scalars, comments) and one-line flow
//! mappings (`- {id: a, title: A}`); anything else is kept as a scalar's text. It is no YAML
//! parser: `pactum check`, through the loaders, stays the authority on what a file means.
//!
//! Positions are 0-based lines and byte offsets in the line; the caller converts them to what
//! its protocol counts.

/// Where a piece of text is: a line and the bytes `start..end` of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// 0-based line.
    pub line: usize,
    /// First byte, in the line.
    pub start: usize,
    /// Byte after the last, in the line.
    pub end: usize,
}

/// One key (with its value or children), or one list item.
#[derive(Debug, Clone)]
pub struct Node {
    /// The key's name, unquoted (empty for a list item and for the root).
    pub name: String,
    /// Where the key is written (`None` for a list item and for the root).
    pub key: Option<Span>,
    /// The value written on the key's (or item's) own line, without a comment; for a quoted
    /// value, its quotes included.
    pub value: Option<Span>,
    /// Whether the value is a `|` or `>` block, whose text is on the lines after the key's.
    pub block: bool,
    /// The last line of the value: the key's own line, or the last line of a block, of a
    /// plain or quoted value that goes on over several lines.
    pub value_end: usize,
    /// Whether this is a list item (`- …`).
    pub item: bool,
    /// The line of the key or of the item's dash.
    pub line: usize,
    /// The last line of the node, its children included.
    pub end: usize,
    /// The column (bytes) of the key or of the item's dash.
    pub indent: usize,
    /// The node this one belongs to (the root is its own parent).
    pub parent: usize,
    /// Keys and items inside, in file order.
    pub children: Vec<usize>,
    /// Whether the node came from a one-line flow mapping (`{a: 1}`).
    pub flow: bool,
}

/// A file's outline: node 0 is the root.
#[derive(Debug, Clone)]
pub struct Outline {
    nodes: Vec<Node>,
    lines: Vec<String>,
}

/// The root's index.
pub const ROOT: usize = 0;

impl Outline {
    /// Reads `text`.
    pub fn new(text: &str) -> Outline {
        let lines: Vec<String> = text
            .split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l).to_string())
            .collect();
        let mut outline = Outline {
            nodes: vec![Node {
                name: String::new(),
                key: None,
                value: None,
                block: false,
                value_end: 0,
                item: false,
                line: 0,
                end: 0,
                indent: 0,
                parent: ROOT,
                children: Vec::new(),
                flow: false,
            }],
            lines: Vec::new(),
        };
        outline.read(&lines);
        outline.lines = lines;
        outline
    }

    /// The node at `index`.
    pub fn node(&self, index: usize) -> Option<&Node> {
        self.nodes.get(index)
    }

    /// Every node, the root first, then in file order.
    pub fn nodes(&self) -> impl Iterator<Item = (usize, &Node)> {
        self.nodes.iter().enumerate()
    }

    /// The text of 0-based line `line`, without its line break.
    pub fn line(&self, line: usize) -> &str {
        self.lines.get(line).map_or("", String::as_str)
    }

    /// The text of a span.
    pub fn text(&self, span: Span) -> &str {
        self.line(span.line).get(span.start..span.end).unwrap_or("")
    }

    /// The children of `index`.
    pub fn children(&self, index: usize) -> impl Iterator<Item = (usize, &Node)> {
        self.nodes
            .get(index)
            .map_or(&[][..], |n| n.children.as_slice())
            .iter()
            .filter_map(|&c| self.nodes.get(c).map(|n| (c, n)))
    }

    /// The child of `index` named `name`.
    pub fn child(&self, index: usize, name: &str) -> Option<(usize, &Node)> {
        self.children(index)
            .find(|(_, n)| !n.item && n.name == name)
    }

    /// The node reached from the root through `names` (keys only).
    pub fn find(&self, names: &[&str]) -> Option<(usize, &Node)> {
        let mut at = (ROOT, self.nodes.first()?);
        for name in names {
            at = self.child(at.0, name)?;
        }
        Some(at)
    }

    /// The path from the root to `index`: each key's name, `-` for a list item.
    pub fn path(&self, index: usize) -> Vec<&str> {
        let mut path = Vec::new();
        let mut at = index;
        while at != ROOT {
            let Some(node) = self.nodes.get(at) else {
                break;
            };
            path.push(if node.item { "-" } else { node.name.as_str() });
            at = node.parent;
        }
        path.reverse();
        path
    }

    /// The value of `index` as YAML gives it, approximately: unquoted, a block's lines joined
    /// (kept for `|`, folded for `>`), a plain value's lines folded; `None` without a value.
    pub fn scalar(&self, index: usize) -> Option<String> {
        let node = self.nodes.get(index)?;
        let first = self.text(node.value?);
        let mut lines: Vec<&str> = Vec::new();
        if !node.block {
            lines.push(first);
        }
        for n in node.line + 1..=node.value_end {
            lines.push(self.line(n).trim());
        }
        if node.block {
            let separator = if first.starts_with('|') { "\n" } else { " " };
            let text = lines
                .iter()
                .map(|l| l.trim_end())
                .collect::<Vec<_>>()
                .join(separator);
            return Some(text.trim().to_string());
        }
        let joined = lines.join(" ");
        let joined = joined.trim();
        Some(unquote(joined))
    }

    /// The scalars of a sequence value: the items of a flow sequence `[a, b]` written on the
    /// key's line, or each `- item`'s value.
    pub fn items(&self, index: usize) -> Vec<String> {
        let Some(node) = self.nodes.get(index) else {
            return Vec::new();
        };
        if let Some(value) = node.value {
            let text = self.text(value).trim();
            if let Some(inner) = text.strip_prefix('[') {
                let inner = inner.strip_suffix(']').unwrap_or(inner);
                return split_flow(inner)
                    .into_iter()
                    .map(|(start, end)| unquote(inner.get(start..end).unwrap_or("").trim()))
                    .filter(|s| !s.is_empty())
                    .collect();
            }
        }
        self.children(index)
            .filter(|(_, n)| n.item)
            .filter_map(|(i, _)| self.scalar(i))
            .collect()
    }

    /// The deepest node whose key is at `(line, column)`.
    pub fn key_at(&self, line: usize, column: usize) -> Option<usize> {
        self.nodes
            .iter()
            .enumerate()
            .rev()
            .find(|(_, n)| {
                n.key
                    .is_some_and(|k| k.line == line && k.start <= column && column <= k.end)
            })
            .map(|(i, _)| i)
    }

    /// The deepest node whose value holds `(line, column)`: on the key's line from the value's
    /// start to the line's end, or on a line the value goes on to.
    pub fn value_at(&self, line: usize, column: usize) -> Option<usize> {
        self.nodes
            .iter()
            .enumerate()
            .rev()
            .find(|(_, n)| match n.value {
                Some(v) if v.line == line => {
                    let limit = if n.flow { v.end } else { self.line(line).len() };
                    v.start <= column && column <= limit.max(v.end)
                }
                Some(_) => line > n.line && line <= n.value_end,
                None => false,
            })
            .map(|(i, _)| i)
    }

    /// The innermost key or item whose children a new key written at `(line, column)` would
    /// join: from the last node written before that line, the nearest enclosing one indented
    /// less than `column` that can hold keys (an item, or a key without a value of its own).
    pub fn parent_at(&self, line: usize, column: usize) -> usize {
        let last = self
            .nodes
            .iter()
            .enumerate()
            .rev()
            .find(|(i, n)| *i != ROOT && !n.flow && n.line < line)
            .map_or(ROOT, |(i, _)| i);
        self.open_parent(last, column)
    }

    /// The nearest ancestor of `index` (itself included) that a key at `column` nests in.
    fn open_parent(&self, index: usize, column: usize) -> usize {
        let mut at = index;
        while at != ROOT {
            let Some(node) = self.nodes.get(at) else {
                return ROOT;
            };
            if node.indent < column && (node.item || node.value.is_none()) {
                return at;
            }
            at = node.parent;
        }
        ROOT
    }

    fn push(&mut self, mut node: Node) -> usize {
        let index = self.nodes.len();
        node.end = node.end.max(node.line);
        let parent = node.parent;
        let line = node.end;
        self.nodes.push(node);
        if let Some(p) = self.nodes.get_mut(parent) {
            p.children.push(index);
        }
        self.extend(parent, line);
        index
    }

    /// Makes `index` and its ancestors reach `line`.
    fn extend(&mut self, index: usize, line: usize) {
        let mut at = index;
        loop {
            let Some(node) = self.nodes.get_mut(at) else {
                return;
            };
            node.end = node.end.max(line);
            if at == ROOT {
                return;
            }
            at = node.parent;
        }
    }

    fn read(&mut self, lines: &[String]) {
        // Open nodes, innermost last.
        let mut stack: Vec<usize> = vec![ROOT];
        // A value that goes on over the next lines: its node, and whether it is a block (or
        // an open quote), which takes any line more indented than its key.
        let mut open_value: Option<usize> = None;
        for (number, raw) in lines.iter().enumerate() {
            let indent = raw.len() - raw.trim_start_matches(' ').len();
            let content = raw.get(indent..).unwrap_or("");
            let blank = content.trim().is_empty();
            if let Some(owner) = open_value {
                let owner_indent = self.nodes.get(owner).map_or(0, |n| n.indent);
                let open_quote = self
                    .nodes
                    .get(owner)
                    .and_then(|n| n.value)
                    .map(|v| self.quote_open(lines, v, number))
                    .unwrap_or(false);
                if blank || indent > owner_indent || open_quote {
                    if !blank {
                        if let Some(node) = self.nodes.get_mut(owner) {
                            node.value_end = number;
                        }
                        self.extend(owner, number);
                    }
                    continue;
                }
                open_value = None;
            }
            if blank || content.starts_with('#') {
                continue;
            }
            if content.starts_with("---") || content.starts_with("...") {
                continue;
            }
            // Close what this line's indentation ends. A `- ` at its key's own indentation
            // (`terms:\n- id: a`) is still inside the key.
            let dash = content == "-" || content.starts_with("- ");
            while let Some(&top) = stack.last() {
                if top == ROOT {
                    break;
                }
                let Some(node) = self.nodes.get(top) else {
                    break;
                };
                let keeps = node.indent < indent
                    || (node.indent == indent && dash && !node.item && node.value.is_none());
                if keeps {
                    break;
                }
                stack.pop();
            }
            let parent = stack.last().copied().unwrap_or(ROOT);
            let mut at = indent;
            let mut parent = parent;
            let mut rest = content;
            // Items, possibly nested on one line (`- - a`).
            while rest == "-" || rest.starts_with("- ") {
                let item = self.push(Node {
                    name: String::new(),
                    key: None,
                    value: None,
                    block: false,
                    value_end: number,
                    item: true,
                    line: number,
                    end: number,
                    indent: at,
                    parent,
                    children: Vec::new(),
                    flow: false,
                });
                stack.push(item);
                parent = item;
                let after = rest.get(1..).unwrap_or("");
                let spaces = after.len() - after.trim_start_matches(' ').len();
                at += 1 + spaces;
                rest = after.get(spaces..).unwrap_or("");
            }
            if rest.is_empty() || rest.starts_with('#') {
                continue;
            }
            match split_key(rest) {
                Some((key_start, key_end, name, value)) => {
                    let value_span = value.map(|(s, e)| Span {
                        line: number,
                        start: at + s,
                        end: at + e,
                    });
                    let value_text = value.and_then(|(s, e)| rest.get(s..e)).unwrap_or("").trim();
                    let block = is_block_indicator(value_text);
                    let index = self.push(Node {
                        name,
                        key: Some(Span {
                            line: number,
                            start: at + key_start,
                            end: at + key_end,
                        }),
                        value: value_span,
                        block,
                        value_end: number,
                        item: false,
                        line: number,
                        end: number,
                        indent: at,
                        parent,
                        children: Vec::new(),
                        flow: false,
                    });
                    stack.push(index);
                    if let Some(span) = value_span {
                        if value_text.starts_with('{') {
                            self.flow_pairs(index, span, raw);
                        }
                        open_value = Some(index);
                    }
                }
                None => {
                    // A scalar item (`- IQ`, `- {id: a}`), or a line being typed.
                    if parent != ROOT
                        && let Some(node) = self.nodes.get(parent)
                        && node.item
                        && node.value.is_none()
                        && node.children.is_empty()
                    {
                        let span = Span {
                            line: number,
                            start: at,
                            end: at + trim_comment(rest).len(),
                        };
                        if let Some(node) = self.nodes.get_mut(parent) {
                            node.value = Some(span);
                        }
                        if rest.starts_with('{') {
                            self.flow_pairs(parent, span, raw);
                        }
                        open_value = Some(parent);
                    }
                }
            }
        }
    }

    /// Whether a quoted value that starts at `value` is still open before line `number`.
    fn quote_open(&self, lines: &[String], value: Span, number: usize) -> bool {
        let Some(first) = lines.get(value.line).and_then(|l| l.get(value.start..)) else {
            return false;
        };
        let quote = match first.chars().next() {
            Some(q @ ('"' | '\'')) => q,
            _ => return false,
        };
        let mut text = first.get(1..).unwrap_or("").to_string();
        for line in lines.iter().take(number).skip(value.line + 1) {
            text.push('\n');
            text.push_str(line);
        }
        closing_quote(&text, quote).is_none()
    }

    /// The pairs of a one-line flow mapping `{a: 1, b: 2}` at `span`, as children of `parent`.
    fn flow_pairs(&mut self, parent: usize, span: Span, line: &str) {
        let number = span.line;
        let Some(text) = line.get(span.start..span.end) else {
            return;
        };
        let Some(inner) = text.strip_prefix('{') else {
            return;
        };
        let Some(inner) = inner.strip_suffix('}') else {
            return;
        };
        for (start, end) in split_flow(inner) {
            let Some(pair) = inner.get(start..end) else {
                continue;
            };
            let lead = pair.len() - pair.trim_start().len();
            let pair = pair.trim();
            let base = span.start + 1 + start + lead;
            if let Some((key_start, key_end, name, value)) = split_key(pair) {
                self.push(Node {
                    name,
                    key: Some(Span {
                        line: number,
                        start: base + key_start,
                        end: base + key_end,
                    }),
                    value: value.map(|(s, e)| Span {
                        line: number,
                        start: base + s,
                        end: base + e,
                    }),
                    block: false,
                    value_end: number,
                    item: false,
                    line: number,
                    end: number,
                    indent: base,
                    parent,
                    children: Vec::new(),
                    flow: true,
                });
            }
        }
    }
}

/// `key: value` at the start of `text`: the key's bytes, its unquoted name, and the value's
/// bytes (comment and trailing spaces left out) when there is one.
#[allow(clippy::type_complexity)]
fn split_key(text: &str) -> Option<(usize, usize, String, Option<(usize, usize)>)> {
    let first = text.chars().next()?;
    let (key_start, key_end, name, after) = match first {
        '"' | '\'' => {
            let close = closing_quote(text.get(1..)?, first)? + 1;
            let name = unquote(text.get(..=close)?);
            (1, close, name, close + 1)
        }
        '{' | '[' | '#' | '&' | '*' | '!' | '|' | '>' | '%' | '@' | '`' => return None,
        _ => {
            let colon = text
                .char_indices()
                .find(|&(i, c)| {
                    c == ':'
                        && text
                            .get(i + 1..)
                            .is_some_and(|r| r.is_empty() || r.starts_with(' '))
                })
                .map(|(i, _)| i)?;
            let name = text.get(..colon)?;
            if name.contains(" #") {
                return None;
            }
            let trimmed = name.trim_end();
            (0, trimmed.len(), trimmed.to_string(), colon)
        }
    };
    let rest = text.get(after..)?;
    let rest = rest.strip_prefix(':')?;
    let lead = rest.len() - rest.trim_start().len();
    let value = trim_comment(rest.get(lead..).unwrap_or(""));
    let start = after + 1 + lead;
    let value = (!value.is_empty()).then_some((start, start + value.len()));
    Some((key_start, key_end, name, value))
}

/// `text` without a ` #` comment (outside quotes) and trailing spaces.
fn trim_comment(text: &str) -> &str {
    let mut quote: Option<char> = None;
    let mut previous = ' ';
    for (i, c) in text.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if (c == '"' || c == '\'')
                && (i == 0
                    || previous == ' '
                    || previous == '{'
                    || previous == '['
                    || previous == ',') =>
            {
                quote = Some(c);
            }
            None if c == '#' && (i == 0 || previous == ' ' || previous == '\t') => {
                return text.get(..i).unwrap_or(text).trim_end();
            }
            None => {}
        }
        previous = c;
    }
    text.trim_end()
}

/// Where the quote `quote` that closes `text` (which follows an opening one) is.
fn closing_quote(text: &str, quote: char) -> Option<usize> {
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if quote == '"' && c == '\\' {
            chars.next();
        } else if c == quote {
            if quote == '\'' && chars.peek().is_some_and(|&(_, n)| n == '\'') {
                chars.next();
                continue;
            }
            return Some(i);
        }
    }
    None
}

/// Whether a value is a block scalar's indicator: `|`, `>`, with `-`, `+` or a digit.
fn is_block_indicator(value: &str) -> bool {
    let mut chars = value.chars();
    matches!(chars.next(), Some('|' | '>'))
        && chars.all(|c| c == '-' || c == '+' || c.is_ascii_digit())
}

/// The byte ranges of the comma-separated parts of a flow collection's inside, commas inside
/// quotes and nested brackets left alone.
fn split_flow(inner: &str) -> Vec<(usize, usize)> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut start = 0;
    for (i, c) in inner.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '"' | '\'' => quote = Some(c),
                '{' | '[' => depth += 1,
                '}' | ']' => depth = depth.saturating_sub(1),
                ',' if depth == 0 => {
                    parts.push((start, i));
                    start = i + 1;
                }
                _ => {}
            },
        }
    }
    if inner.get(start..).is_some_and(|r| !r.trim().is_empty()) {
        parts.push((start, inner.len()));
    }
    parts
}

/// A scalar's text without its quotes (`''` and the usual escapes of `"…"` read).
pub fn unquote(text: &str) -> String {
    if let Some(inner) = text
        .strip_prefix('\'')
        .map(|t| t.strip_suffix('\'').unwrap_or(t))
    {
        return inner.replace("''", "'");
    }
    if let Some(inner) = text
        .strip_prefix('"')
        .map(|t| t.strip_suffix('"').unwrap_or(t))
    {
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some(other) => out.push(other),
                    None => {}
                }
            } else {
                out.push(c);
            }
        }
        return out;
    }
    text.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "\
# yaml-language-server: $schema=x
agreement: demo   # the id
parties: {IQ: Iraq, TR: Türkiye}
lists:
  kinds: [airstrike, \"drone, strike\"]
  more:
    - a
    - 'b'
terms:
  - id: one
    title: \"Türkiye – one\"
    when: event.kind in kinds
      && event.country == \"IQ\"
    description: >-
      Folded
      text.
  - {id: two, title: Two, breached_by: TR, when: 'event.kind == \"x\"'}
";

    #[test]
    fn keys_items_and_values_are_placed() {
        let o = Outline::new(FILE);
        let (agreement, node) = o.find(&["agreement"]).unwrap();
        assert_eq!(o.scalar(agreement).as_deref(), Some("demo"));
        assert_eq!(
            node.key,
            Some(Span {
                line: 1,
                start: 0,
                end: 9
            })
        );
        let (parties, _) = o.find(&["parties"]).unwrap();
        let codes: Vec<&str> = o.children(parties).map(|(_, n)| n.name.as_str()).collect();
        assert_eq!(codes, ["IQ", "TR"]);
        let (tr, _) = o.child(parties, "TR").unwrap();
        assert_eq!(o.scalar(tr).as_deref(), Some("Türkiye"));
        let (kinds, _) = o.find(&["lists", "kinds"]).unwrap();
        assert_eq!(o.items(kinds), ["airstrike", "drone, strike"]);
        let (more, _) = o.find(&["lists", "more"]).unwrap();
        assert_eq!(o.items(more), ["a", "b"]);
        let (terms, _) = o.find(&["terms"]).unwrap();
        let items: Vec<usize> = o.children(terms).map(|(i, _)| i).collect();
        assert_eq!(items.len(), 2);
        let (when, node) = o.child(items[0], "when").unwrap();
        assert_eq!(node.value_end, 12);
        assert_eq!(
            o.scalar(when).as_deref(),
            Some("event.kind in kinds && event.country == \"IQ\"")
        );
        assert_eq!(o.path(when), ["terms", "-", "when"]);
        let (title, _) = o.child(items[0], "title").unwrap();
        assert_eq!(o.scalar(title).as_deref(), Some("Türkiye – one"));
        let (description, _) = o.child(items[0], "description").unwrap();
        assert_eq!(o.scalar(description).as_deref(), Some("Folded text."));
        let (when, node) = o.child(items[1], "when").unwrap();
        assert!(node.flow);
        assert_eq!(o.scalar(when).as_deref(), Some("event.kind == \"x\""));
        assert_eq!(
            o.value_at(12, 8),
            Some(o.child(items[0], "when").unwrap().0)
        );
    }

    #[test]
    fn a_file_being_typed_still_has_an_outline() {
        let o = Outline::new("terms:\n  - id: a\n    breached_by: \n    when: \"event.\n");
        let (terms, _) = o.find(&["terms"]).unwrap();
        let (item, _) = o.children(terms).next().unwrap();
        assert!(o.child(item, "breached_by").is_some());
        assert_eq!(o.parent_at(4, 4), item);
        assert_eq!(o.parent_at(4, 0), ROOT);
        assert_eq!(o.parent_at(4, 2), terms);
    }
}
