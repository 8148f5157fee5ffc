//! What is known of events for one file: the fields an expression may read and the kinds it
//! may compare, each with what is known of it.
//!
//! Completion after `event.`, hover over `event.FIELD`, and the kinds offered inside
//! `event.kind == "…"` all ask [`vocabulary`] and nothing else. A file that declares an event
//! vocabulary (`vocabulary:`, docs/rules.md "Vocabularies", read by the caller into
//! [`Document::declared`]) gets its declared fields, with their types, units and descriptions,
//! and its declared kinds. A file without one gets what `check`'s `unknown-field` warning
//! knows (the fields of the shipped vocabularies, `crate::check::lint::known_fields`) and the
//! kinds the file itself compares (`event.kind == "x"`) or names through its lists
//! (`event.kind in LIST`).

use super::Document;
use crate::check::lint::known_fields;

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

/// The known fields and kinds of `document`'s events: those it declares, when the caller read
/// its vocabulary ([`Document::declaring`]); else the fields of the `unknown-field` warning and
/// the kinds the document compares or lists.
pub fn vocabulary(document: &Document) -> Vocabulary {
    if let Some(declared) = &document.declared {
        return declared_vocabulary(declared, &document.name);
    }
    let fields = known_fields()
        .iter()
        .map(|name| Field {
            name: name.clone(),
            about: if ALWAYS.contains(&name.as_str()) {
                "every event has it: text".to_string()
            } else {
                "a field of the shipped vocabularies (this file declares none: events are free-form)".to_string()
            },
        })
        .collect();
    Vocabulary {
        fields,
        kinds: kinds_of(document),
    }
}

/// A declared vocabulary as completion and hover show it: the built-in fields, then the
/// declared ones with their declaration; the declared kinds with what each stands for.
fn declared_vocabulary(declared: &crate::load::vocabulary::Vocabulary, name: &str) -> Vocabulary {
    // Where a field is declared, as the document names the file: relative to its folder.
    let folder = crate::load::confine::folder_of(name);
    let relative = |file: &str| {
        std::path::Path::new(file)
            .strip_prefix(folder)
            .map_or_else(|_| file.to_string(), |p| p.display().to_string())
    };
    let mut fields: Vec<Field> = ALWAYS
        .iter()
        .map(|name| Field {
            name: (*name).to_string(),
            about: "every event has it: text".to_string(),
        })
        .collect();
    for (name, field) in &declared.fields {
        let mut about = format!(
            "{}, declared at {}:{}:{}",
            field.described(&format!("event.{name}")),
            relative(&field.at.file),
            field.at.line,
            field.at.column
        );
        if let Some(description) = &field.description {
            about = format!("{description} ({about})");
        }
        fields.push(Field {
            name: name.clone(),
            about,
        });
    }
    let kinds = declared
        .kinds
        .iter()
        .map(|(name, kind)| EventKind {
            name: name.clone(),
            about: match &kind.description {
                Some(d) => format!("{d} (a declared kind)"),
                None => "a declared kind".to_string(),
            },
        })
        .collect();
    Vocabulary { fields, kinds }
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

    #[test]
    fn a_declared_vocabulary_is_what_is_offered() {
        let (declared, problems) = crate::load::vocabulary::load_file(
            "v.yaml",
            "vocabulary: v\ntitle: V\nkinds: {shelling: Artillery fire}\nfields:\n  tanks: {type: integer, unit: tanks, description: Tanks seen}\n",
        );
        assert!(problems.is_empty(), "{problems:?}");
        let document = Document::new("a.yaml", "agreement: a\n")
            .declaring(std::rc::Rc::new(declared.unwrap()));
        let v = vocabulary(&document);
        let names: Vec<&str> = v.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["time", "kind", "id", "tanks"]);
        assert_eq!(
            v.field("tanks").unwrap().about,
            "Tanks seen (`event.tanks` is an integer (tanks), declared at v.yaml:5:3)"
        );
        assert_eq!(v.kinds.len(), 1);
        assert_eq!(v.kinds[0].about, "Artillery fire (a declared kind)");
    }
}
