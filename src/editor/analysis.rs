//! Completion, hover and go-to-definition at a cursor, from a [`Document`].
//!
//! The cursor is placed first ([`place`]): on a key, in a key being typed, in a value, or in
//! an expression (a term's `when`, `require`, `by`, `steps`, `breached_by`, a `message`'s
//! `{…}`, the `functions` block; a mapping's `functions`, `let`, `time.value`, `id`, `kind`
//! and `fields`). What is offered or
//! shown follows from the place and the text before the cursor.

use super::keys;
use super::outline::Span;
use super::symbols::{BUILTINS, HELPERS, ShapeKind, builtin, helper};
use super::vocabulary::vocabulary;
use super::{Document, Kind};

/// What a completion item is, for the editor's icon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompletionKind {
    /// A key of the file's format.
    Key,
    /// A value the format allows (a severity).
    Value,
    /// A declared party code.
    Party,
    /// A named list.
    List,
    /// A function (the file's own or the sandbox's).
    Function,
    /// A shape of the geography.
    Shape,
    /// An event field.
    Field,
    /// An event kind.
    EventKind,
    /// `event`, `trigger`.
    Variable,
}

/// One completion item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// What is inserted and shown.
    pub label: String,
    /// What it is.
    pub kind: CompletionKind,
    /// A line about it.
    pub detail: String,
    /// The text to insert, when not the label (`title: ` for a key).
    pub insert: Option<String>,
}

/// What hover shows: Markdown, and the span it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hover {
    /// Markdown.
    pub text: String,
    /// The span hovered.
    pub span: Span,
}

/// Where a cursor is.
#[derive(Debug, Clone, PartialEq)]
enum Place {
    /// On the key of `node`.
    Key { node: usize },
    /// Typing a new key (`prefix` so far) under the node at `path`; `present`: keys already
    /// there.
    NewKey {
        path: Vec<String>,
        present: Vec<String>,
    },
    /// In the value of `node`, not an expression; `before`: its text before the cursor.
    Value { node: usize, before: String },
    /// In an expression of `node`; `before`: the expression's text before the cursor on this
    /// line (for a message, inside its `{…}`).
    Expression { node: usize, before: String },
    /// Nowhere the analysis knows.
    Nowhere,
}

/// Whether the value at `path` of a file of `kind` is a Rhai expression.
fn is_expression(kind: Kind, path: &[&str]) -> bool {
    match kind {
        Kind::Agreement => match path {
            ["functions"] => true,
            [.., "steps", "-"] => true,
            [.., last] => matches!(*last, "when" | "require" | "by" | "breached_by" | "message"),
            [] => false,
        },
        Kind::Mapping => matches!(
            path,
            ["id"] | ["kind"] | ["fields", _] | ["let", _] | ["functions"] | ["time", "value"]
        ),
        Kind::Scenario => false,
    }
}

/// Places the cursor at `line` and byte `column`.
fn place(document: &Document, line: usize, column: usize) -> Place {
    let outline = &document.outline;
    let text = outline.line(line);
    let column = column.min(text.len());
    if let Some(node) = outline.value_at(line, column) {
        let Some(n) = outline.node(node) else {
            return Place::Nowhere;
        };
        let path = outline.path(node);
        let before = match n.value {
            Some(v) if v.line == line => text.get(v.start..column).unwrap_or(""),
            _ => text.get(..column).unwrap_or("").trim_start(),
        };
        let first_line = n.value.is_some_and(|v| v.line == line);
        // Inside quotes, the expression as YAML will give it: `\"` in a double-quoted value
        // is a quote.
        let double = before.starts_with('"');
        let before = if first_line {
            before
                .strip_prefix('"')
                .or_else(|| before.strip_prefix('\''))
                .unwrap_or(before)
        } else {
            before
        };
        let before = if double {
            before.replace("\\\"", "\"")
        } else {
            before.to_string()
        };
        let before = before.as_str();
        if n.block && first_line {
            return Place::Nowhere;
        }
        if is_expression(document.kind, &path) {
            if path.last() == Some(&"message") {
                // Only inside a placeholder.
                let open = before.rfind('{');
                let close = before.rfind('}');
                return match open {
                    Some(o) if close.is_none_or(|c| c < o) => Place::Expression {
                        node,
                        before: before.get(o + 1..).unwrap_or("").to_string(),
                    },
                    _ => Place::Value {
                        node,
                        before: before.to_string(),
                    },
                };
            }
            return Place::Expression {
                node,
                before: before.to_string(),
            };
        }
        return Place::Value {
            node,
            before: before.to_string(),
        };
    }
    if let Some(node) = outline.key_at(line, column) {
        return Place::Key { node };
    }
    // A key being typed: spaces, an optional `- `, a word.
    let before = text.get(..column).unwrap_or("");
    let indent = before.len() - before.trim_start_matches(' ').len();
    let rest = before.get(indent..).unwrap_or("");
    let (dash, word) = match rest.strip_prefix("- ") {
        Some(word) => (true, word.trim_start()),
        None => (false, rest),
    };
    if !word.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return Place::Nowhere;
    }
    let parent = outline.parent_at(line, indent + 1);
    let mut path: Vec<String> = outline.path(parent).iter().map(|s| s.to_string()).collect();
    let present = if dash {
        path.push("-".to_string());
        Vec::new()
    } else {
        outline
            .children(parent)
            .filter(|(_, n)| n.line != line)
            .map(|(_, n)| n.name.clone())
            .collect()
    };
    Place::NewKey { path, present }
}

/// The identifier that ends `text` (letters, digits, `_`).
fn trailing_word(text: &str) -> &str {
    let start = text
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphanumeric() || *c == '_')
        .last()
        .map_or(text.len(), |(i, _)| i);
    text.get(start..).unwrap_or("")
}

/// When `before` ends inside a string literal: the text before its opening quote, and what
/// the literal holds so far.
fn open_string(before: &str) -> Option<(&str, &str)> {
    let mut open: Option<usize> = None;
    let mut escaped = false;
    for (i, c) in before.char_indices() {
        match c {
            '\\' if open.is_some() && !escaped => {
                escaped = true;
                continue;
            }
            '"' if !escaped => open = if open.is_some() { None } else { Some(i) },
            _ => {}
        }
        escaped = false;
    }
    let at = open?;
    Some((before.get(..at)?, before.get(at + 1..)?))
}

/// Completion items at `line` and byte `column` of `document`.
pub fn complete(document: &Document, line: usize, column: usize) -> Vec<Completion> {
    match place(document, line, column) {
        Place::NewKey { path, present } => {
            let path: Vec<&str> = path.iter().map(String::as_str).collect();
            keys::keys(document.kind, &path)
                .into_iter()
                .filter(|k| !present.contains(&k.name))
                .map(|k| Completion {
                    insert: Some(format!("{}: ", k.name)),
                    label: k.name,
                    kind: CompletionKind::Key,
                    detail: first_sentence(&k.about),
                })
                .collect()
        }
        Place::Value { node, before } => {
            let path = document.outline.path(node);
            if before.contains(' ') {
                return Vec::new();
            }
            keys::values(document.kind, &path)
                .into_iter()
                .map(|v| Completion {
                    label: v,
                    kind: CompletionKind::Value,
                    detail: String::new(),
                    insert: None,
                })
                .collect()
        }
        Place::Expression { node, before } => expression_completions(document, node, &before),
        Place::Key { .. } | Place::Nowhere => Vec::new(),
    }
}

fn expression_completions(document: &Document, node: usize, before: &str) -> Vec<Completion> {
    let path = document.outline.path(node);
    let symbols = &document.symbols;
    if document.kind == Kind::Mapping {
        return mapping_completions(document, before);
    }
    if document.kind != Kind::Agreement {
        return symbols
            .lists
            .iter()
            .map(|l| list_completion(&l.name.name, &l.items))
            .collect();
    }
    if let Some((head, _)) = open_string(before) {
        let head = head.trim_end();
        let shapes = |only: &[ShapeKind]| -> Vec<Completion> {
            symbols
                .shapes
                .iter()
                .filter(|s| only.is_empty() || only.contains(&s.kind))
                .map(|s| Completion {
                    label: s.name.name.clone(),
                    kind: CompletionKind::Shape,
                    detail: format!("{}: {}", s.kind.as_str(), s.written),
                    insert: None,
                })
                .collect()
        };
        if let Some(call) = head.strip_suffix(',') {
            let call = call.trim_end();
            let function = call
                .rfind('(')
                .and_then(|at| call.get(..at))
                .map(trailing_word)
                .unwrap_or("");
            return match function {
                "inside" => shapes(&[ShapeKind::Area, ShapeKind::Strip]),
                "distance_km" => shapes(&[]),
                _ => Vec::new(),
            };
        }
        if head.ends_with("event.kind ==")
            || head.ends_with("event.kind !=")
            || head.ends_with("trigger.kind ==")
            || head.ends_with("trigger.kind !=")
        {
            return vocabulary(document)
                .kinds
                .into_iter()
                .map(|k| Completion {
                    label: k.name,
                    kind: CompletionKind::EventKind,
                    detail: k.about,
                    insert: None,
                })
                .collect();
        }
        if head.ends_with(".has(") {
            return field_completions(document);
        }
        return Vec::new();
    }
    let word = trailing_word(before);
    let head = before.get(..before.len() - word.len()).unwrap_or("");
    if head.ends_with("event.") || head.ends_with("trigger.") {
        return field_completions(document);
    }
    if head.ends_with('.') {
        return Vec::new();
    }
    let mut items = Vec::new();
    if path.last() == Some(&"breached_by") && head.trim().is_empty() {
        // A party code, or an expression giving one: the file's functions, `event.…`.
        items.extend(symbols.parties.iter().map(|p| Completion {
            label: p.code.name.clone(),
            kind: CompletionKind::Party,
            detail: p.title.clone(),
            insert: None,
        }));
        items.extend(symbols.functions.iter().map(function_completion));
        items.push(Completion {
            label: "event".to_string(),
            kind: CompletionKind::Variable,
            detail: "the event judged".to_string(),
            insert: None,
        });
        return items;
    }
    let lists = symbols
        .lists
        .iter()
        .map(|l| list_completion(&l.name.name, &l.items));
    if head.trim_end().ends_with(" in") || head.trim_end() == "in" {
        return lists.collect();
    }
    items.extend(lists);
    items.extend(symbols.functions.iter().map(function_completion));
    items.extend(BUILTINS.iter().map(|b| Completion {
        label: b.name.to_string(),
        kind: CompletionKind::Function,
        detail: b.signature.to_string(),
        insert: None,
    }));
    let mut variables = vec!["event"];
    if path.contains(&"deadline") {
        variables.push("trigger");
    }
    items.extend(variables.into_iter().map(|v| Completion {
        label: v.to_string(),
        kind: CompletionKind::Variable,
        detail: if v == "event" {
            "the event judged".to_string()
        } else {
            "the event that opened the obligation".to_string()
        },
        insert: None,
    }));
    items
}

/// In a mapping's expression: the lists (alone after `in`), the `let` names, the file's
/// functions, the cleaning helpers and the sandbox's usual functions (not the geography's:
/// a mapping has none), and `record`.
fn mapping_completions(document: &Document, before: &str) -> Vec<Completion> {
    let symbols = &document.symbols;
    let word = trailing_word(before);
    let head = before.get(..before.len() - word.len()).unwrap_or("");
    if head.ends_with('.') || open_string(before).is_some() {
        return Vec::new();
    }
    let lists = symbols
        .lists
        .iter()
        .map(|l| list_completion(&l.name.name, &l.items));
    if head.trim_end().ends_with(" in") || head.trim_end() == "in" {
        return lists.collect();
    }
    let mut items: Vec<Completion> = lists.collect();
    items.extend(symbols.lets.iter().map(|l| Completion {
        label: l.name.name.clone(),
        kind: CompletionKind::Variable,
        detail: format!("let: {}", shorten(&l.written, 60)),
        insert: None,
    }));
    items.extend(symbols.functions.iter().map(function_completion));
    let geographic = ["inside", "distance_km", "nearest_place"];
    items.extend(
        HELPERS
            .iter()
            .chain(BUILTINS.iter().filter(|b| !geographic.contains(&b.name)))
            .map(|b| Completion {
                label: b.name.to_string(),
                kind: CompletionKind::Function,
                detail: b.signature.to_string(),
                insert: None,
            }),
    );
    items.push(Completion {
        label: "record".to_string(),
        kind: CompletionKind::Variable,
        detail: "the record mapped (read-only)".to_string(),
        insert: None,
    });
    items
}

fn function_completion(f: &super::symbols::Function) -> Completion {
    Completion {
        label: f.name.name.clone(),
        kind: CompletionKind::Function,
        detail: f.signature.clone(),
        insert: None,
    }
}

fn list_completion(name: &str, items: &[String]) -> Completion {
    Completion {
        label: name.to_string(),
        kind: CompletionKind::List,
        detail: format!("list: [{}]", shorten(&items.join(", "), 60)),
        insert: None,
    }
}

fn field_completions(document: &Document) -> Vec<Completion> {
    vocabulary(document)
        .fields
        .into_iter()
        .map(|f| Completion {
            label: f.name,
            kind: CompletionKind::Field,
            detail: f.about,
            insert: None,
        })
        .collect()
}

fn shorten(text: &str, most: usize) -> String {
    if text.chars().count() <= most {
        return text.to_string();
    }
    let cut: String = text.chars().take(most).collect();
    format!("{cut}…")
}

fn first_sentence(text: &str) -> String {
    let line = text.lines().next().unwrap_or("");
    match line.find(". ") {
        Some(at) => line.get(..=at).unwrap_or(line).to_string(),
        None => line.to_string(),
    }
}

/// The word at byte `column` of `line`, for hover and definition: its span and text, letters,
/// digits, `_` and `-` (shape names have dashes); and whether it is preceded by `event.` or
/// `trigger.`.
fn word_at(document: &Document, line: usize, column: usize) -> Option<(Span, String, bool)> {
    let text = document.outline.line(line);
    let part = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    let column = column.min(text.len());
    let start = text
        .get(..column)?
        .char_indices()
        .rev()
        .take_while(|(_, c)| part(*c))
        .last()
        .map_or(column, |(i, _)| i);
    let end = column
        + text
            .get(column..)?
            .find(|c: char| !part(c))
            .unwrap_or(text.len() - column);
    if start == end {
        return None;
    }
    let word = text.get(start..end)?.to_string();
    let head = text.get(..start)?;
    let field = head.ends_with("event.") || head.ends_with("trigger.");
    Some((Span { line, start, end }, word, field))
}

/// What hover shows at `line` and byte `column` of `document`.
pub fn hover(document: &Document, line: usize, column: usize) -> Option<Hover> {
    let outline = &document.outline;
    let place = place(document, line, column);
    if let Place::Expression { node, .. } = &place {
        let (span, word, field) = word_at(document, line, column)?;
        let text = if field {
            let name = word.trim_end_matches('-');
            let about = match vocabulary(document).field(name) {
                Some(f) => format!("known field: {}", f.about),
                None => "not a known field: no shipped rule, mapping or scenario uses it (events may carry any field; a missing one reads as `()`)".to_string(),
            };
            format!("**event.{name}**\n\n{about}")
        } else {
            let is_breach = outline.path(*node).last() == Some(&"breached_by");
            describe_name(document, &word, is_breach)?
        };
        return Some(Hover { text, span });
    }
    if let Place::Value { node, .. } = &place
        && outline.path(*node).last() == Some(&"breached_by")
    {
        let (span, word, _) = word_at(document, line, column)?;
        return Some(Hover {
            text: describe_name(document, &word, true)?,
            span,
        });
    }
    // In a term, outside its expressions: the term.
    let node = match &place {
        Place::Key { node } | Place::Value { node, .. } => Some(*node),
        _ => None,
    }?;
    let path = outline.path(node);
    let span = outline.node(node).and_then(|n| n.key.or(n.value))?;
    if let ["terms", "-", key] = path.as_slice()
        && !is_expression(document.kind, &path)
        && (*key == "id" || matches!(place, Place::Value { .. }))
    {
        let term = document
            .symbols
            .terms
            .iter()
            .find(|t| Some(t.node) == outline.node(node).map(|n| n.parent))?;
        let span = match &place {
            Place::Value { .. } => outline.node(node).and_then(|n| n.value).unwrap_or(span),
            _ => span,
        };
        return Some(Hover {
            text: describe_term(term),
            span,
        });
    }
    if let Place::Key { .. } = place {
        let about = keys::describe(document.kind, &path)?;
        return Some(Hover { text: about, span });
    }
    None
}

/// Markdown for a term: title, article, clause text, description, sources.
fn describe_term(term: &super::symbols::Term) -> String {
    let mut out = format!("**{}**", term.id);
    if let Some(article) = &term.article {
        out.push_str(&format!(" (article {article})"));
    }
    if let Some(title) = &term.title {
        out.push_str(&format!(": {title}"));
    }
    if let Some(text) = &term.text {
        out.push_str(&format!("\n\n> {}", text.replace('\n', "\n> ")));
    }
    if let Some(description) = &term.description {
        out.push_str(&format!("\n\n{description}"));
    }
    if !term.sources.is_empty() {
        out.push_str("\n\nSources:");
        for source in &term.sources {
            out.push_str(&format!("\n- {source}"));
        }
    }
    out
}

/// Markdown for a name used in an expression: a list, a function (the file's or the
/// sandbox's), a shape, or (in `breached_by`) a party.
fn describe_name(document: &Document, word: &str, parties: bool) -> Option<String> {
    let symbols = &document.symbols;
    if parties && let Some(party) = symbols.party(word) {
        return Some(format!("**{}**: party, {}", party.code.name, party.title));
    }
    if let Some(list) = symbols.list(word) {
        return Some(format!(
            "**{}**: list of {} item(s)\n\n```yaml\n{}: [{}]\n```",
            list.name.name,
            list.items.len(),
            list.name.name,
            shorten(&list.items.join(", "), 400)
        ));
    }
    if let Some(function) = symbols.function(word) {
        let mut text = format!("```rhai\n{}\n```", function.signature);
        if !function.doc.is_empty() {
            text.push_str(&format!("\n\n{}", function.doc));
        }
        return Some(text);
    }
    if let Some(shape) = symbols.shape(word) {
        return Some(format!(
            "**{}**: {} of the geography\n\n```yaml\n{}: {}\n```",
            shape.name.name,
            shape.kind.as_str(),
            shape.name.name,
            shape.written
        ));
    }
    if document.kind == Kind::Mapping {
        if let Some(value) = symbols.value(word) {
            return Some(format!(
                "**{}**: `let`, computed for each record\n\n```rhai\n{}\n```",
                value.name.name,
                shorten(&value.written, 400)
            ));
        }
        if let Some(b) = helper(word) {
            return Some(format!("```rhai\n{}\n```\n\n{}", b.signature, b.about));
        }
    }
    if let Some(b) = builtin(word) {
        return Some(format!("```rhai\n{}\n```\n\n{}", b.signature, b.about));
    }
    None
}

/// Where the list, function, shape or party named at `line` and byte `column` is defined.
pub fn definition(document: &Document, line: usize, column: usize) -> Option<Span> {
    match place(document, line, column) {
        Place::Expression { .. } => {}
        Place::Value { node, .. } if document.outline.path(node).last() == Some(&"breached_by") => {
        }
        _ => return None,
    }
    let (_, word, field) = word_at(document, line, column)?;
    if field {
        return None;
    }
    let symbols = &document.symbols;
    symbols
        .list(&word)
        .map(|l| l.name.at)
        .or_else(|| symbols.function(&word).map(|f| f.name.at))
        .or_else(|| symbols.shape(&word).map(|s| s.name.at))
        .or_else(|| symbols.party(&word).map(|p| p.code.at))
        .or_else(|| symbols.value(&word).map(|l| l.name.at))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "\
agreement: demo
title: Demo
parties: {IQ: Iraq, TR: Türkiye}
lists:
  strikes: [airstrike, drone_strike]
geography:
  areas:
    iraq: {file: geo/countries.geojson, match: {ISO_A3: IRQ}}
  lines:
    border: {file: geo/borders.geojson}
functions: |
  // True when Türkiye acted.
  fn by_turkey(e) { e.party == \"TR\" }
terms:
  - id: strikes-in-iraq
    article: \"2\"
    title: No strikes – in Iraq
    text: No party shall strike.
    breached_by: TR
    when: event.kind in strikes && inside(event, \"iraq\") && by_turkey(event)
    message: \"{event.kind} at {event.place}\"
";

    fn labels(items: Vec<Completion>) -> Vec<String> {
        items.into_iter().map(|c| c.label).collect()
    }

    fn at(text: &str, line: usize, needle: &str) -> usize {
        text.lines().nth(line).unwrap().find(needle).unwrap()
    }

    #[test]
    fn completion_at_cursors() {
        let d = Document::new("a.yaml", FILE);
        // After `breached_by: `.
        let items = complete(&d, 18, at(FILE, 18, "TR"));
        assert_eq!(labels(items), ["IQ", "TR", "by_turkey", "event"]);
        // After `event.kind in `.
        let column = at(FILE, 19, "strikes &&");
        assert_eq!(labels(complete(&d, 19, column)), ["strikes"]);
        // After `event.`.
        let column = at(FILE, 19, "kind in");
        let fields = labels(complete(&d, 19, column));
        assert!(fields.contains(&"kind".to_string()) && fields.contains(&"country".to_string()));
        // In `inside(event, "`: areas only.
        let column = at(FILE, 19, "iraq\")");
        assert_eq!(labels(complete(&d, 19, column)), ["iraq"]);
        // In a placeholder.
        let column = at(FILE, 20, "place}");
        assert!(labels(complete(&d, 20, column)).contains(&"place".to_string()));
        // A new key in a term.
        let text = format!("{FILE}    sev");
        let d = Document::new("a.yaml", &text);
        let keys = labels(complete(&d, 21, 7));
        assert!(keys.contains(&"severity".to_string()), "{keys:?}");
        assert!(!keys.contains(&"id".to_string()), "{keys:?}");
    }

    #[test]
    fn hover_and_definition() {
        let d = Document::new("a.yaml", FILE);
        let hover_at =
            |line: usize, needle: &str| hover(&d, line, at(FILE, line, needle) + 1).unwrap();
        assert_eq!(
            hover_at(14, "strikes-in-iraq").text,
            "**strikes-in-iraq** (article 2): No strikes – in Iraq\n\n> No party shall strike."
        );
        assert!(
            hover_at(19, "by_turkey")
                .text
                .contains("True when Türkiye acted.")
        );
        assert_eq!(
            hover_at(19, "kind in").text.lines().next(),
            Some("**event.kind**")
        );
        assert!(hover_at(19, "iraq\")").text.starts_with("**iraq**: area"));
        assert!(hover_at(18, "TR").text.contains("Türkiye"));
        let definition_at =
            |line: usize, needle: &str| definition(&d, line, at(FILE, line, needle)).unwrap();
        assert_eq!(
            definition_at(19, "strikes &&"),
            Span {
                line: 4,
                start: 2,
                end: 9
            }
        );
        assert_eq!(
            definition_at(19, "by_turkey"),
            Span {
                line: 12,
                start: 5,
                end: 14
            }
        );
        assert_eq!(
            definition_at(19, "iraq\")"),
            Span {
                line: 7,
                start: 4,
                end: 8
            }
        );
        assert_eq!(
            definition_at(18, "TR"),
            Span {
                line: 2,
                start: 20,
                end: 22
            }
        );
    }

    const MAPPING: &str = "\
mapping: m
title: M
lists:
  kinds: {S: shelling}
functions: |
  fn code(x) { x }
let:
  troops: number(record.troops)
time: {fields: [date, hour], format: \"%d/%m/%Y %H:%M\"}
kind: kinds[record.type]
fields:
  place: trimmed(record.place)
  seen: troops
";

    /// A mapping's expressions (`let` among them) are offered its lists, `let` names and
    /// functions, the cleaning helpers and `record`, not the geography functions it lacks;
    /// hover and go-to-definition know its `let` names and the helpers.
    #[test]
    fn a_mapping_s_expressions_know_its_names_and_the_helpers() {
        let d = Document::new("m.yaml", MAPPING);
        assert_eq!(d.kind, Kind::Mapping);
        let items = labels(complete(&d, 11, at(MAPPING, 11, "trimmed")));
        for wanted in [
            "kinds", "troops", "code", "number", "trimmed", "len", "record",
        ] {
            assert!(items.contains(&wanted.to_string()), "{wanted}: {items:?}");
        }
        assert!(!items.contains(&"inside".to_string()), "{items:?}");
        assert_eq!(
            labels(complete(&d, 7, at(MAPPING, 7, "record"))).len(),
            items.len(),
            "a `let` is an expression too"
        );
        let hover_at =
            |line: usize, needle: &str| hover(&d, line, at(MAPPING, line, needle) + 1).unwrap();
        assert_eq!(
            hover_at(12, "troops").text,
            "**troops**: `let`, computed for each record\n\n```rhai\nnumber(record.troops)\n```"
        );
        assert!(
            hover_at(7, "number")
                .text
                .starts_with("```rhai\nnumber(value[, \",\"])\n```")
        );
        assert_eq!(
            definition(&d, 12, at(MAPPING, 12, "troops")),
            Some(Span {
                line: 7,
                start: 2,
                end: 8
            })
        );
    }
}
