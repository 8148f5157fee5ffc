//! What is known of events for one file: the fields an expression may read and the kinds it
//! may compare, each with what is known of it.
//!
//! Completion after `event.`, hover over `event.FIELD`, and the kinds offered inside
//! `event.kind == "…"` all ask [`vocabulary`] and nothing else. Today it knows what pactum
//! already knows: the fields of `check`'s `unknown-field` warning (`KNOWN_FIELDS` in
//! `src/check/lint.rs`: the fields every event has, the shipped rules' convention, the shipped
//! mappings and scenarios), and the kinds the file itself compares (`event.kind == "x"`) or
//! names through its lists (`event.kind in LIST`). When agreements declare event vocabularies
//! (kinds and fields with types, issue 14), [`vocabulary`] is the one function to change: build
//! the [`Vocabulary`] from the declaration, with each field's type in [`Field::about`].

use super::Document;
use crate::check::lint::KNOWN_FIELDS;

/// An event field an expression may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The field's name (`event.NAME`).
    pub name: String,
    /// What is known of it, in a sentence (its type, once vocabularies declare it).
    pub about: String,
}

/// An event kind (`event.kind`'s value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventKind {
    /// The kind.
    pub name: String,
    /// Where the file names it.
    pub about: String,
}

/// What is known of the events one file judges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vocabulary {
    /// Known fields, in a stable order.
    pub fields: Vec<Field>,
    /// Known kinds, in the order the file names them.
    pub kinds: Vec<EventKind>,
}

impl Vocabulary {
    /// The field named `name`.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// Fields every event has: text.
const ALWAYS: &[&str] = &["time", "kind", "id"];

/// The known fields and kinds of `document`'s events. **The place to plug in event
/// vocabularies**: today the fields of the `unknown-field` warning and the kinds the document
/// compares or lists.
pub fn vocabulary(document: &Document) -> Vocabulary {
    let fields = KNOWN_FIELDS
        .iter()
        .map(|name| Field {
            name: (*name).to_string(),
            about: if ALWAYS.contains(name) {
                "every event has it: text".to_string()
            } else {
                "a field the shipped rules, mappings and scenarios use (no type is declared: events are free-form)".to_string()
            },
        })
        .collect();
    Vocabulary {
        fields,
        kinds: kinds_of(document),
    }
}

/// The kinds `document` compares with `event.kind` (`==`, `!=`) or names through a list
/// (`event.kind in LIST`), each once.
fn kinds_of(document: &Document) -> Vec<EventKind> {
    let mut kinds: Vec<EventKind> = Vec::new();
    let mut add = |name: &str, about: String| {
        if !name.is_empty() && !kinds.iter().any(|k| k.name == name) {
            kinds.push(EventKind {
                name: name.to_string(),
                about,
            });
        }
    };
    let outline = &document.outline;
    for (_, node) in outline.nodes() {
        let Some(value) = node.value else { continue };
        let mut text = outline.text(value).to_string();
        for n in node.line + 1..=node.value_end {
            text.push('\n');
            text.push_str(outline.line(n));
        }
        for (at, _) in text.match_indices("event.kind") {
            let rest = text
                .get(at + "event.kind".len()..)
                .unwrap_or("")
                .trim_start();
            if let Some(rest) = rest.strip_prefix("==").or_else(|| rest.strip_prefix("!=")) {
                if let Some(literal) = string_literal(rest.trim_start()) {
                    add(
                        literal,
                        "compared with `event.kind` in this file".to_string(),
                    );
                }
            } else if let Some(rest) = rest.strip_prefix("in ") {
                let name: String = rest
                    .trim_start()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if let Some(list) = document.symbols.list(&name) {
                    for item in &list.items {
                        add(
                            item,
                            format!("an item of the list `{name}`, matched against `event.kind`"),
                        );
                    }
                }
            }
        }
    }
    kinds
}

/// The text of the string literal `"…"` at the start of `text`.
fn string_literal(text: &str) -> Option<&str> {
    let inner = text.strip_prefix('"')?;
    inner.get(..inner.find('"')?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_comparisons_and_listed_kinds() {
        let text = "\
lists:
  strikes: [airstrike, drone_strike]
  actors: [PKK]
terms:
  - {id: a, when: 'event.kind == \"shelling\" && event.actor in actors'}
  - {id: b, when: event.kind in strikes}
";
        let document = Document::new("a.yaml", text);
        let v = vocabulary(&document);
        let kinds: Vec<&str> = v.kinds.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(kinds, ["shelling", "airstrike", "drone_strike"]);
        assert!(v.field("kind").is_some());
        assert!(v.field("origin_country").is_some());
        assert!(v.field("force").is_none());
    }
}
