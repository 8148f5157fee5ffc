//! Loading: YAML files into validated models, every problem as a [`Diagnostic`].
//!
//! Agreements ([`agreement`]), mappings ([`crate::input::mapping`]) and scenarios
//! ([`crate::scenario`]) are all YAML read by **serde-saphyr** into private mirror types whose
//! values are `Spanned`, then checked. What they share lives here, once: how a YAML error
//! becomes a diagnostic, how a scalar holding an expression becomes an [`Expression`] that
//! knows where each of its characters sits in the file (`scalar`), list items, and the rules
//! for ids and names.
//!
//! Why serde-saphyr: serde_yaml is archived; serde-saphyr is maintained, has no unsafe code, is
//! fuzzed, rejects duplicate keys, has input budgets against hostile YAML, and gives
//! `Spanned<T>` values and line/column for errors — which every diagnostic needs.
//!
//! **Invariant:** loading never compiles or evaluates anything, and opens no file itself
//! (files an agreement names come through a [`agreement::FileReader`] the caller passes);
//! every path a file names is confined to its folder first ([`confine`]).

pub mod agreement;
pub mod confine;
pub(crate) mod scalar;
pub(crate) mod shape;
pub mod vocabulary;

use std::rc::Rc;

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::diagnostic::{Code, Diagnostic, SourceFile, did_you_mean};

/// Reads a file an agreement, a mapping or a scenario names, at a path already resolved and
/// confined ([`confine::Roots::resolve`]): the library opens no file itself.
pub type FileReader<'a> = &'a mut dyn FnMut(&std::path::Path) -> std::io::Result<Vec<u8>>;

/// The kinds of YAML file pactum reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An agreement: `agreement: ID` (and what is not recognisably another kind, so that its
    /// loader says what is wrong with it).
    Agreement,
    /// A mapping file: `mapping: ID`.
    Mapping,
    /// A scenario: `expect`, or `rules` and `events`.
    Scenario,
    /// A vocabulary file: `vocabulary: ID` without `agreement` or `mapping` (which may name
    /// a vocabulary too).
    Vocabulary,
}

/// The kind of the YAML file `text`, by its top-level keys: `agreement` makes an agreement,
/// `mapping` a mapping, `expect` (or `rules` with `events`) a scenario — the keys each loader
/// requires and no other has, which the agreement loader's "this looks like a mapping
/// (scenario) file" help names too. Text that is no YAML mapping is an agreement's, for the
/// agreement loader to report.
pub fn kind_of(text: &str) -> Kind {
    let Ok(keys) =
        serde_saphyr::from_str::<std::collections::BTreeMap<String, serde::de::IgnoredAny>>(text)
    else {
        return Kind::Agreement;
    };
    let has = |key: &str| keys.contains_key(key);
    if has("agreement") {
        Kind::Agreement
    } else if has("mapping") {
        Kind::Mapping
    } else if has("expect") || (has("rules") && has("events")) {
        Kind::Scenario
    } else if has("vocabulary") {
        Kind::Vocabulary
    } else {
        Kind::Agreement
    }
}

/// Collects the diagnostics of one file as it is checked, positioned by its `Spanned` values.
pub(crate) struct Checker {
    pub(crate) source: Rc<SourceFile>,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

impl Checker {
    /// An error at a position of the file.
    pub(crate) fn error_at(
        &mut self,
        code: Code,
        at: serde_saphyr::Location,
        message: String,
    ) -> &mut Diagnostic {
        let d = Diagnostic::error(code, &self.source, at.line(), at.column(), message);
        self.diagnostics.push(d);
        // PANIC SAFETY: an element was pushed on the line above.
        #[allow(clippy::unwrap_used)]
        self.diagnostics.last_mut().unwrap()
    }

    /// An error at a line and column of the file.
    pub(crate) fn error_at_place(
        &mut self,
        code: Code,
        line: u64,
        column: u64,
        message: String,
    ) -> &mut Diagnostic {
        let d = Diagnostic::error(code, &self.source, line, column, message);
        self.diagnostics.push(d);
        // PANIC SAFETY: an element was pushed on the line above.
        #[allow(clippy::unwrap_used)]
        self.diagnostics.last_mut().unwrap()
    }

    pub(crate) fn error<T>(
        &mut self,
        code: Code,
        at: &Spanned<T>,
        message: String,
    ) -> &mut Diagnostic {
        let d = Diagnostic::error(
            code,
            &self.source,
            at.referenced.line(),
            at.referenced.column(),
            message,
        );
        self.diagnostics.push(d);
        // PANIC SAFETY: an element was pushed on the line above.
        #[allow(clippy::unwrap_used)]
        self.diagnostics.last_mut().unwrap()
    }

    pub(crate) fn warning<T>(
        &mut self,
        code: Code,
        at: &Spanned<T>,
        message: String,
    ) -> &mut Diagnostic {
        let d = Diagnostic::warning(
            code,
            &self.source,
            at.referenced.line(),
            at.referenced.column(),
            message,
        );
        self.diagnostics.push(d);
        // PANIC SAFETY: an element was pushed on the line above.
        #[allow(clippy::unwrap_used)]
        self.diagnostics.last_mut().unwrap()
    }
}

#[derive(Deserialize, Clone)]
#[serde(untagged)]
pub(crate) enum Scalar {
    /// `true`, `false`.
    Bool(bool),
    /// A whole number.
    Integer(i64),
    /// Another number.
    Float(f64),
    /// Anything else.
    Text(String),
}

/// Names a list may not take: what expressions already see, and Rhai's keywords (reserved
/// ones included), which would not parse as a variable.
pub(crate) const RESERVED: &[&str] = &[
    "event",
    "trigger",
    "key",
    "true",
    "false",
    "let",
    "const",
    "if",
    "else",
    "switch",
    "do",
    "while",
    "until",
    "loop",
    "for",
    "in",
    "continue",
    "break",
    "return",
    "throw",
    "try",
    "catch",
    "fn",
    "private",
    "import",
    "export",
    "as",
    "global",
    "this",
    "is",
    "var",
    "static",
    "shared",
    "with",
    "goto",
    "exit",
    "match",
    "case",
    "public",
    "protected",
    "new",
    "use",
    "module",
    "package",
    "super",
    "thread",
    "spawn",
    "go",
    "await",
    "async",
    "sync",
    "yield",
    "default",
    "void",
    "null",
    "nil",
    "_",
];

/// The line and column (1-based) of the first tab at or after `line`, outside any comment.
fn first_tab_from(source: &SourceFile, line: u64) -> Option<(u64, u64)> {
    (line.max(1)..=line.max(1) + 1_000).find_map(|n| {
        let text = source.line(n)?;
        let code = text.split(" #").next().unwrap_or(text);
        let at = code.chars().position(|c| c == '\t')?;
        Some((n, u64::try_from(at).ok()? + 1))
    })
}

/// Turns a serde-saphyr error into a diagnostic, recognising the common shapes.
pub(crate) fn yaml_diagnostic(source: &SourceFile, err: &serde_saphyr::Error) -> Diagnostic {
    let (line, column) = err
        .location()
        .map(|l| (l.line(), l.column()))
        .unwrap_or((0, 0));
    let mut message = err.without_snippet().to_string();
    if let Some(at) = message.rfind(" at line ") {
        message.truncate(at);
    }
    // YAML reports a tab where the scalar before it began, often a line above (issue 14):
    // point at the tab itself.
    if message.contains("found a tab")
        && let Some((tab_line, tab_column)) = first_tab_from(source, line)
    {
        return Diagnostic::error(
            Code::YamlSyntax,
            source,
            tab_line,
            tab_column,
            "a tab: YAML indents with spaces only".to_string(),
        )
        .with_help("replace the tab with spaces");
    }
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let key = rest.split('`').next().unwrap_or("");
        let expected: Vec<&str> = rest
            .split_once("expected one of ")
            .or_else(|| rest.split_once("expected "))
            .map(|(_, list)| list.split(", ").map(|s| s.trim_matches('`')).collect())
            .unwrap_or_default();
        let mut d = Diagnostic::error(
            Code::UnknownKey,
            source,
            line,
            column,
            format!("unknown key `{key}`"),
        );
        d = match did_you_mean(key, expected.iter().copied()) {
            // `by` groups the events of a form; a term without one judges each event alone.
            _ if key == "by" && expected.contains(&"threshold") => d.with_help(
                "`by` belongs inside the term's form: `threshold`, `absence` or `sequence` (`threshold: {count: 3, within: 24h, by: event.sector}`); a term without a form judges each event alone",
            ),
            Some(fix) => d.with_help(format!("did you mean `{fix}`?")),
            None => d.with_help(format!("allowed keys here: {}", expected.join(", "))),
        };
        return d;
    }
    if message.starts_with("missing field") {
        let key = message.split('`').nth(1).unwrap_or("").to_string();
        return Diagnostic::error(
            Code::MissingKey,
            source,
            line,
            column,
            format!("missing required key `{key}`"),
        );
    }
    // Some messages address the library's programmer; say what they mean for a rule file.
    let (message, help) = if message.starts_with("multiple YAML documents") {
        (
            "more than one YAML document in the file".to_string(),
            Some(
                "an agreement file holds one agreement: remove the `---` separator or split the file",
            ),
        )
    } else if message.starts_with("mapping values are not allowed") {
        (
            "a `: ` inside a value that is not quoted".to_string(),
            Some("quote the value: message: \"Breach: {event.kind}\""),
        )
    } else if message.starts_with("while scanning a tag") {
        // `when: !event.has("x")`: YAML reads a leading `!` as a tag (issue 14).
        return tag_diagnostic(source, line, column, None);
    } else if message == "expected string scalar"
        && source
            .line(line)
            .and_then(|l| {
                l.chars()
                    .nth(usize::try_from(column.saturating_sub(1)).unwrap_or(usize::MAX))
            })
            .is_some_and(|c| c == '{' || c == '[')
    {
        // `message: {event.party} crossed`: YAML reads `{…}` as a mapping (issue 14).
        (
            "a value starting with `{` or `[` is a YAML mapping or list, not text".to_string(),
            Some("quote the text: message: \"{event.party} crossed the line\""),
        )
    } else if message.starts_with("invalid type: map, expected a party code") {
        // `breached_by: {event.party}`: braces are a message's placeholders, and YAML reads
        // them here as a mapping.
        (
            "`breached_by` is a YAML mapping here (it starts with `{`), not a code, a list or an expression".to_string(),
            Some("write the expression without braces: breached_by: event.party (braces mark placeholders in a `message` only)"),
        )
    } else if message == "expected mapping start" {
        let key = source
            .line(line)
            .and_then(|l| l.split(':').next())
            .map(|k| k.trim().trim_start_matches("- "))
            .unwrap_or("");
        let help = if key == "effective" {
            "write a period as a mapping: effective: {from: 2024-08-15} (and `until:` if it ends)"
        } else {
            "this key takes a mapping: {key: value, …}"
        };
        ("expected a mapping here".to_string(), Some(help))
    } else if let Some(rest) = message.strip_prefix("duplicate mapping key: ") {
        let key = rest.split(',').next().unwrap_or(rest);
        (
            format!("duplicate key `{key}`"),
            Some("each key may appear once in a mapping"),
        )
    } else {
        (message, None)
    };
    let mut d = Diagnostic::error(Code::YamlSyntax, source, line, column, message);
    d.help = help.map(str::to_string);
    d
}

/// A value that YAML read as a tag because it starts with `!` (`when: !event.has("x")`,
/// `message: !{event.kind} happened`, `- !(event.kind == "b")` in a sequence's steps): an
/// error at the `!` (`line`, `column`), whose help writes the value quoted, under its key as
/// found on the line. `what` names the value (`step`); `None`: from the key.
///
/// YAML reads `!…` up to the next space as a tag: a tag it cannot read is a syntax error, one
/// it can (`!event.flag`) is dropped with the text it took, leaving the rest of the value, or
/// none — so the loaders look for a tag before every expression (`shape::tags`).
pub(crate) fn tag_diagnostic(
    source: &SourceFile,
    line: u64,
    column: u64,
    what: Option<&str>,
) -> Diagnostic {
    let text = source.line(line).unwrap_or("");
    let at = usize::try_from(column.saturating_sub(1)).unwrap_or(usize::MAX);
    let before: String = text.chars().take(at).collect();
    let rest: String = text.chars().skip(at).collect();
    // The value as written: up to a comment, and in a flow mapping or list, its closing
    // brackets.
    let mut value = rest.split(" #").next().unwrap_or("").trim_end();
    if before.contains(['{', '[']) {
        value = value.trim_end_matches(['}', ']', ',', ' ']);
    }
    let head = before.trim_end();
    let key = match head.strip_suffix(':') {
        Some(key) => key.rsplit(['{', ',', ' ']).next().unwrap_or("").trim(),
        None if head.ends_with('-') => "-",
        None => "",
    };
    let what = what.unwrap_or(match key {
        "when" | "require" => "condition",
        "message" => "message",
        "-" if parent_key(source, line, before.len() - before.trim_start().len()) == "steps" => {
            "step"
        }
        "-" => "item",
        _ => "value",
    });
    let quoted = format!("'{}'", value.replace('\'', "''"));
    let written = match key {
        "" => quoted,
        "-" => format!("- {quoted}"),
        key => format!("{key}: {quoted}"),
    };
    let message = if key == "message" {
        "a value starting with `!` is a YAML tag, not text"
    } else {
        "a value starting with `!` is a YAML tag, not Rhai's `not`"
    };
    Diagnostic::error(Code::YamlSyntax, source, line, column, message.to_string())
        .with_help(format!("quote the {what}: {written}"))
}

/// The key of the block list whose item's `-` is at `indent` on `line`: the nearest line above
/// that is a key (`steps:`) at that indentation or less.
fn parent_key(source: &SourceFile, line: u64, indent: usize) -> &str {
    (1..line)
        .rev()
        .filter_map(|n| source.line(n))
        .find_map(|text| {
            let code = text.split(" #").next().unwrap_or("").trim_end();
            let own = code.len() - code.trim_start().len();
            let key = code.trim_start().strip_suffix(':')?;
            (own <= indent && !key.starts_with('-') && !code.trim().is_empty()).then_some(key)
        })
        .unwrap_or("")
}

/// A YAML string value as an [`Expression`] that knows where each of its characters is in
/// `source` (shared by agreement and mapping files).
pub(crate) fn expression(source: &Rc<SourceFile>, value: &Spanned<String>) -> Expression {
    // Where the text is written: for an alias (`*when`) or a merge key, the anchored
    // definition, not the place that refers to it.
    let written = &value.defined;
    let offset = written
        .span()
        .byte_offset()
        .and_then(|offset| usize::try_from(offset).ok());
    let quoted = offset
        .and_then(|offset| source.text.get(offset..))
        .and_then(|rest| rest.chars().next())
        .is_some_and(|c| c == '"' || c == '\'');
    // A block that starts with blank lines: its text starts with line breaks, its
    // position with the first written character.
    let leading = value.value.chars().take_while(|c| *c == '\n').count() as u64;
    let line = written.line().saturating_sub(leading).max(1);
    let column = written.column();
    let characters = offset
        .and_then(|offset| scalar::positions(&source.text, offset, line, column, &value.value));
    Expression {
        text: value.value.clone(),
        source: source.clone(),
        line,
        column,
        quoted,
        characters,
    }
}

pub(crate) fn scalar_item(scalar: &Scalar) -> ListItem {
    match scalar {
        Scalar::Bool(b) => ListItem::Bool(*b),
        Scalar::Integer(i) => ListItem::Integer(*i),
        Scalar::Float(f) => ListItem::Float(*f),
        Scalar::Text(t) => ListItem::Text(t.clone()),
    }
}

pub(crate) fn is_id(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !text.starts_with('-')
}

pub(crate) fn suggest_id(text: &str) -> String {
    let mut id = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            id.push(c.to_ascii_lowercase());
        } else if !id.ends_with('-') && !id.is_empty() {
            id.push('-');
        }
    }
    id.trim_end_matches('-').to_string()
}

pub(crate) fn suggest_identifier(text: &str) -> String {
    let id: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    let id = id.trim_matches('_');
    match id.chars().next() {
        Some(c) if c.is_ascii_lowercase() => id.to_string(),
        _ => format!("l{id}"),
    }
}

pub(crate) use crate::event::is_party_code;

pub(crate) fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// An element of a named list.
#[derive(Debug, Clone, PartialEq)]
pub enum ListItem {
    /// A string.
    Text(String),
    /// An integer.
    Integer(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
}

/// A Rhai expression (or script) written as a YAML value, with where it sits in the file.
#[derive(Debug, Clone)]
pub struct Expression {
    /// The expression text, as YAML delivered it.
    pub text: String,
    /// The file it is in.
    pub source: Rc<SourceFile>,
    /// 1-based line of the value's first character.
    pub line: u64,
    /// 1-based column of the value's first character.
    pub column: u64,
    /// Whether the value is a quoted scalar (the column points at the quote).
    pub quoted: bool,
    /// The source position of each character of the text, when YAML moved them about
    /// (escapes, folding); see `scalar.rs`.
    pub(crate) characters: Option<Vec<(u64, u64)>>,
}

impl Expression {
    /// Maps a 1-based position inside the expression text to its position in the YAML file.
    ///
    /// Exact for one-line values and `|` blocks (each line of the text is a line of the file,
    /// at the block's indentation), and for escaped, quoted and folded values through the
    /// character map built at load time. Without a map, a long value that YAML folded into
    /// one line is followed across the file's lines.
    pub fn locate(&self, line: u64, column: u64) -> (u64, u64) {
        let line = line.max(1);
        let column = column.max(1);
        if let Some(characters) = &self.characters {
            let before: usize = self
                .text
                .split('\n')
                .take(usize::try_from(line - 1).unwrap_or(usize::MAX))
                .map(|l| l.chars().count() + 1)
                .sum();
            let index = before + usize::try_from(column - 1).unwrap_or(0);
            if let Some(found) = characters.get(index).or(characters.last()) {
                return *found;
            }
        }
        if self.quoted {
            return if line == 1 {
                (self.line, self.column + column)
            } else {
                (self.line + line - 1, column)
            };
        }
        if line > 1 {
            return (self.line + line - 1, self.column + column - 1);
        }
        // Folded: walk the file's lines while the column lies beyond the current one.
        let mut file_line = self.line;
        let mut start = self.column;
        let mut column = column;
        while let Some(text) = self.source.line(file_line) {
            let skip = usize::try_from(start - 1).unwrap_or(0);
            let length = text
                .chars()
                .skip(skip)
                .collect::<String>()
                .trim_end()
                .chars()
                .count();
            let length = u64::try_from(length).unwrap_or(0);
            let next = self.source.line(file_line + 1).unwrap_or("");
            if column <= length + 1 || next.trim().is_empty() {
                break;
            }
            column -= length + 1;
            file_line += 1;
            let indent = next.chars().take_while(|c| *c == ' ').count();
            start = u64::try_from(indent).unwrap_or(0) + 1;
        }
        (file_line, start + column - 1)
    }
}
