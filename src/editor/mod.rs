//! What an editor asks of a rule, mapping or scenario file as it is typed: what is at a
//! cursor, what may be written there, what a name means and where it is defined.
//!
//! `pactum lsp` (the binary's `commands/lsp/`) speaks the Language Server Protocol and runs
//! `pactum check`'s own loaders and compiler for diagnostics; this module answers the rest,
//! from the text alone. A file being typed is seldom valid, so nothing here goes through the
//! loaders: an [`outline::Outline`] reads keys, items and values from indentation and never
//! fails, [`symbols`] finds what the file defines (parties, lists, functions, shapes, terms),
//! [`keys`] knows which keys may go where from the JSON Schemas `pactum schema` ships (one
//! source for editors with and without the language server), and [`vocabulary`] what is known
//! of events' fields and kinds. [`analysis`] puts them together: [`analysis::complete`],
//! [`analysis::hover`], [`analysis::definition`].
//!
//! **Invariant:** no IO and no protocol types: positions are 0-based lines and byte offsets in
//! the line ([`outline::Span`]), which the server converts to the protocol's encoding.

pub mod analysis;
pub mod keys;
pub mod outline;
pub mod symbols;
pub mod vocabulary;

pub use analysis::{Completion, CompletionKind, Hover, complete, definition, hover};
pub use outline::{Outline, Span};
pub use symbols::Symbols;

/// The kinds of file pactum reads, told apart by their keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An agreement (`agreement:`, `terms:`).
    Agreement,
    /// A mapping file (`mapping:`, docs/inputs.md).
    Mapping,
    /// A scenario (`rules:`, `events:`, `expect:`; docs/testing.md).
    Scenario,
}

impl Kind {
    /// The kind of the file named `name` with `text`: by its top-level keys, then by the
    /// schema its first lines name, then by its name (`scenario.yaml`); `None` for a YAML
    /// file that is none of pactum's (an editor's server leaves it alone).
    pub fn of(name: &str, text: &str, outline: &Outline) -> Option<Kind> {
        let has = |key: &str| outline.find(&[key]).is_some();
        if has("agreement") || has("terms") || has("parties") {
            return Some(Kind::Agreement);
        }
        if has("mapping") {
            return Some(Kind::Mapping);
        }
        if has("expect") {
            return Some(Kind::Scenario);
        }
        let head: String = text.lines().take(3).collect::<Vec<_>>().join("\n");
        for kind in [Kind::Agreement, Kind::Mapping, Kind::Scenario] {
            if head.contains(&format!("{}.schema.json", kind.as_str())) {
                return Some(kind);
            }
        }
        if name.ends_with("scenario.yaml") {
            return Some(Kind::Scenario);
        }
        None
    }

    /// The kind's name, as `pactum schema KIND` takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Agreement => "agreement",
            Kind::Mapping => "mapping",
            Kind::Scenario => "scenario",
        }
    }
}

/// One file as an editor holds it: its text read into an outline, its kind and what it
/// defines.
#[derive(Debug, Clone)]
pub struct Document {
    /// Agreement, mapping or scenario.
    pub kind: Kind,
    /// Keys, items and values with their places.
    pub outline: Outline,
    /// What the file defines.
    pub symbols: Symbols,
    /// The event vocabulary it declares (`vocabulary:`, with the files it includes), when the
    /// caller read it ([`Document::declaring`]); `None`: not read, or none declared.
    pub declared: Option<std::rc::Rc<crate::load::vocabulary::Vocabulary>>,
    /// The file's name, as given: where the files it names are said to be, relative to it.
    pub name: String,
}

impl Document {
    /// The document with the vocabulary it declares, read by the caller (which may open the
    /// files it includes: this module does no IO).
    pub fn declaring(mut self, declared: std::rc::Rc<crate::load::vocabulary::Vocabulary>) -> Self {
        self.declared = (!declared.is_empty()).then_some(declared);
        self
    }

    /// Reads the file named `name` (its kind may depend on it) with `text`.
    pub fn new(name: &str, text: &str) -> Document {
        let outline = Outline::new(text);
        // A file of no known kind is read as an agreement, the most common.
        let kind = Kind::of(name, text, &outline).unwrap_or(Kind::Agreement);
        let symbols = Symbols::of(&outline);
        Document {
            kind,
            outline,
            symbols,
            declared: None,
            name: name.to_string(),
        }
    }
}

/// The span to underline for a diagnostic at 1-based `line` and `column` (in characters, as
/// [`crate::Diagnostic`] counts them), `source` being that line's text: the word, number,
/// quoted text or run of punctuation that starts there, else the one character; the whole line
/// for column 0, the file's start for line 0.
pub fn diagnostic_span(source: &str, line: u64, column: u64) -> Span {
    let Some(index) = usize::try_from(line).ok().and_then(|l| l.checked_sub(1)) else {
        return Span {
            line: 0,
            start: 0,
            end: 0,
        };
    };
    let source = source.strip_suffix('\r').unwrap_or(source);
    if column == 0 {
        let start = source.len() - source.trim_start().len();
        return Span {
            line: index,
            start,
            end: source.len(),
        };
    }
    let skip = usize::try_from(column - 1).unwrap_or(usize::MAX);
    let start = source
        .char_indices()
        .nth(skip)
        .map_or(source.len(), |(i, _)| i);
    let rest = source.get(start..).unwrap_or("");
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '-' || c == '.';
    let length = match rest.chars().next() {
        None => 0,
        Some(q @ ('"' | '\'')) => rest
            .char_indices()
            .skip(1)
            .find(|&(_, c)| c == q)
            .map_or(rest.len(), |(i, c)| i + c.len_utf8()),
        Some(c) if word(c) => rest.find(|c: char| !word(c)).unwrap_or(rest.len()),
        Some(c) => c.len_utf8(),
    };
    Span {
        line: index,
        start,
        end: start + length,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diagnostic_underlines_the_word_at_its_column() {
        let text = "    breached_by: Türkiye – x";
        // `Türkiye` starts at character 18 (1-based), byte 17.
        assert_eq!(
            diagnostic_span(text, 2, 18),
            Span {
                line: 1,
                start: 17,
                end: 25
            }
        );
        // `–` is one character of three bytes, not a word.
        assert_eq!(
            diagnostic_span(text, 2, 26),
            Span {
                line: 1,
                start: 26,
                end: 29
            }
        );
        assert_eq!(
            diagnostic_span(text, 0, 0),
            Span {
                line: 0,
                start: 0,
                end: 0
            }
        );
        assert_eq!(
            diagnostic_span(text, 2, 0),
            Span {
                line: 1,
                start: 4,
                end: 31
            }
        );
    }

    #[test]
    fn kinds_are_told_by_keys_then_schema_then_name() {
        let kind = |name: &str, text: &str| Kind::of(name, text, &Outline::new(text));
        assert_eq!(kind("a.yaml", "agreement: x\n"), Some(Kind::Agreement));
        assert_eq!(kind("a.yaml", "mapping: x\n"), Some(Kind::Mapping));
        assert_eq!(
            kind("a.yaml", "title: x\nexpect: {}\n"),
            Some(Kind::Scenario)
        );
        assert_eq!(kind("x/scenario.yaml", "title: x\n"), Some(Kind::Scenario));
        let schema = "# yaml-language-server: $schema=mapping.schema.json\n";
        assert_eq!(kind("m.yaml", schema), Some(Kind::Mapping));
        assert_eq!(kind("ci.yaml", "on: push\njobs: {}\n"), None);
    }
}
