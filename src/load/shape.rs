//! The keys of an agreement or a vocabulary file, checked all at once before the values are
//! read.
//!
//! A typed deserialiser stops at the first key it does not know, so a file with two misspelt
//! keys would need two runs of `check` to show both. This pass reads the YAML as a bare tree
//! of maps, lists and scalars, each with its position, and walks it against the format's keys:
//! every unknown key (with a did-you-mean) and every missing required key is reported in one
//! run, at its own line and column. The typed read that follows ignores unknown keys, so the
//! file's other problems are reported too; a missing required key still stops it, since
//! nothing reliable can be said without it.

use std::collections::BTreeMap;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use crate::diagnostic::{Code, Diagnostic, SourceFile, did_you_mean};

/// A YAML value with only its shape: what the key check needs.
enum Node {
    Map(Vec<(Spanned<Key>, Spanned<Node>)>),
    List(Vec<Spanned<Node>>),
    Scalar,
}

/// A map key, whatever scalar it is written as.
struct Key(String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Key, E> {
                Ok(Key(String::new()))
            }
        }
        d.deserialize_any(KeyVisitor)
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        struct NodeVisitor;
        impl<'de> Visitor<'de> for NodeVisitor {
            type Value = Node;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a YAML value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<Spanned<Key>, Spanned<Node>>()? {
                    entries.push(entry);
                }
                Ok(Node::Map(entries))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Spanned<Node>>()? {
                    items.push(item);
                }
                Ok(Node::List(items))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_none<E: de::Error>(self) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Node, D2::Error> {
                Node::deserialize(d)
            }
        }
        d.deserialize_any(NodeVisitor)
    }
}

/// What a place in the file may hold.
pub(crate) enum Expected {
    /// A map with these keys (name, required, what its value may hold).
    Keys(Vec<(&'static str, bool, Expected)>),
    /// A map whose keys are names of the author's (parties, lists, shapes), each value this.
    Named(Box<Expected>),
    /// A list, each item this.
    Each(Box<Expected>),
    /// Anything (a scalar, or a value the typed read checks).
    Any,
    /// A Rhai expression: a value YAML read as a tag (`when: !event.has("x")`) is an error
    /// here, since the typed read gets what is left of it, or nothing. The name of what it is,
    /// for help (`step`; `None`: from its key).
    Expression(Option<&'static str>),
}

fn keys(list: Vec<(&'static str, bool, Expected)>) -> Expected {
    Expected::Keys(list)
}

fn period() -> Expected {
    keys(vec![
        ("from", false, Expected::Any),
        ("until", false, Expected::Any),
    ])
}

fn agreement() -> Expected {
    use Expected::Any;
    let term = keys(vec![
        ("id", true, Any),
        ("article", false, Any),
        ("title", true, Any),
        ("text", false, Any),
        ("description", false, Any),
        ("severity", false, Any),
        ("breached_by", true, Expected::Expression(None)),
        ("effective", false, period()),
        ("sources", false, Any),
        ("when", false, Expected::Expression(None)),
        ("message", false, Expected::Expression(None)),
        (
            "threshold",
            false,
            keys(vec![
                ("count", true, Any),
                ("within", true, Any),
                ("by", false, Expected::Expression(None)),
            ]),
        ),
        (
            "deadline",
            false,
            keys(vec![
                ("within", false, Any),
                ("before", false, Any),
                ("require", true, Expected::Expression(None)),
            ]),
        ),
        (
            "absence",
            false,
            keys(vec![
                ("within", true, Any),
                ("by", false, Expected::Expression(None)),
                ("keys", false, Any),
            ]),
        ),
        (
            "sequence",
            false,
            keys(vec![
                ("within", true, Any),
                ("by", false, Expected::Expression(None)),
                (
                    "steps",
                    true,
                    Expected::Each(Box::new(Expected::Expression(Some("step")))),
                ),
            ]),
        ),
    ]);
    let source = || [("file", false, Any), ("match", false, Any)];
    let line = keys(source().into_iter().chain([("line", false, Any)]).collect());
    let area = keys(
        source()
            .into_iter()
            .chain([
                ("polygon", false, Any),
                ("along", false, Any),
                ("width_km", false, Any),
                ("inside", false, Any),
            ])
            .collect(),
    );
    let place = keys(vec![("lat", true, Any), ("lon", true, Any)]);
    let geography = keys(vec![
        ("lines", false, Expected::Named(Box::new(line))),
        ("areas", false, Expected::Named(Box::new(area))),
        ("places", false, Expected::Named(Box::new(place))),
        ("gazetteer", false, Any),
    ]);
    keys(vec![
        ("agreement", true, Any),
        ("title", true, Any),
        ("parties", true, Any),
        ("others", false, Any),
        ("effective", false, period()),
        ("sources", false, Any),
        ("description", false, Any),
        ("lists", false, Any),
        ("functions", false, Any),
        ("geography", false, geography),
        ("vocabulary", false, vocabulary_body(false)),
        ("terms", true, Expected::Each(Box::new(term))),
    ])
}

/// The declarations of a vocabulary: inline in an agreement or a mapping (`include` allowed),
/// or a vocabulary file (`vocabulary`, `title`, `description` instead).
pub(crate) fn vocabulary_body(file: bool) -> Expected {
    use Expected::Any;
    let field = keys(vec![
        ("type", true, Any),
        ("values", false, Any),
        ("unit", false, Any),
        ("required", false, Any),
        ("description", false, Any),
    ]);
    let mut allowed = if file {
        vec![
            ("vocabulary", true, Any),
            ("title", true, Any),
            ("description", false, Any),
        ]
    } else {
        vec![("include", false, Any)]
    };
    allowed.push(("kinds", false, Any));
    allowed.push(("fields", false, Expected::Named(Box::new(field))));
    keys(allowed)
}

/// Every unknown and missing key of a vocabulary file, in file order; `None` when the text is
/// not YAML this pass can read.
pub fn vocabulary_keys(source: &SourceFile, text: &str) -> Option<Vec<Diagnostic>> {
    let root: Spanned<Node> = serde_saphyr::from_str(text).ok()?;
    let mut found = Vec::new();
    walk(source, &root, &vocabulary_body(true), true, &mut found);
    found.sort_by_key(|d| (d.line, d.column));
    Some(found)
}

/// Every unknown and missing key of an agreement file, in file order; `None` when the text is
/// not YAML this pass can read (the typed read reports that).
pub(crate) fn check(source: &SourceFile, text: &str) -> Option<Vec<Diagnostic>> {
    let root: Spanned<Node> = serde_saphyr::from_str(text).ok()?;
    let mut found = Vec::new();
    walk(source, &root, &agreement(), true, &mut found);
    found.sort_by_key(|d| (d.line, d.column));
    Some(found)
}

/// Every expression of a mapping file (`let`, `time.value`, `id`, `kind`, `fields`) that YAML
/// read as a tag (`kind: !record.type`), in file order; nothing when the text is not YAML this pass can read (the typed read reports that).
/// Its keys are the typed read's to check.
pub(crate) fn mapping_tags(source: &SourceFile, text: &str) -> Vec<Diagnostic> {
    let Ok(root) = serde_saphyr::from_str::<Spanned<Node>>(text) else {
        return Vec::new();
    };
    let expression = || Expected::Expression(None);
    let mapping = keys(vec![
        ("let", false, Expected::Named(Box::new(expression()))),
        ("time", false, keys(vec![("value", false, expression())])),
        ("id", false, expression()),
        ("kind", false, expression()),
        ("fields", false, Expected::Named(Box::new(expression()))),
    ]);
    let mut found = Vec::new();
    walk(source, &root, &mapping, false, &mut found);
    found.sort_by_key(|d| (d.line, d.column));
    found
}

/// Where the `!` of a tag before `node` is, if YAML read one: its line and column.
fn tag(source: &SourceFile, node: &Spanned<Node>) -> Option<(u64, u64)> {
    let (line, column) = (node.referenced.line(), node.referenced.column());
    let text = source.line(line)?;
    let at = usize::try_from(column.saturating_sub(1)).ok()?;
    // The value's position is at the `!` (the tag read with it), or after the tag: the last
    // word before it.
    let before: String = text.chars().take(at).collect();
    let start = if text.chars().nth(at) == Some('!') {
        at
    } else {
        let word = before.trim_end().rsplit([' ', '{', ',', '[']).next()?;
        if !word.starts_with('!') {
            return None;
        }
        before.trim_end().chars().count() - word.chars().count()
    };
    // A tag follows its key's `:`, a list's `-` or a flow collection's `{`, `[` or `,` on its
    // line; a `!` that starts a line of a block scalar (`when: |`) is text.
    let head: String = text.chars().take(start).collect();
    if !head.trim_end().ends_with([':', '-', '{', '[', ',']) {
        return None;
    }
    Some((line, u64::try_from(start).ok()? + 1))
}

/// Checks `node` against `expected`: with `keys`, every unknown and missing key; always, every
/// expression YAML read as a tag.
fn walk(
    source: &SourceFile,
    node: &Spanned<Node>,
    expected: &Expected,
    keys: bool,
    found: &mut Vec<Diagnostic>,
) {
    match (&node.value, expected) {
        (_, Expected::Expression(what)) => {
            if let Some((line, column)) = tag(source, node) {
                found.push(crate::load::tag_diagnostic(source, line, column, *what));
            }
        }
        (Node::Map(entries), Expected::Keys(allowed)) => {
            let names: Vec<&str> = allowed.iter().map(|(name, _, _)| *name).collect();
            let mut present: BTreeMap<&str, ()> = BTreeMap::new();
            for (key, value) in entries {
                match allowed.iter().find(|(name, _, _)| *name == key.value.0) {
                    Some((name, _, inner)) => {
                        present.insert(name, ());
                        walk(source, value, inner, keys, found);
                    }
                    None if keys => found.push(unknown(source, key, &names)),
                    None => {}
                }
            }
            for (name, required, _) in allowed {
                if keys && *required && !present.contains_key(name) {
                    found.push(Diagnostic::error(
                        Code::MissingKey,
                        source,
                        node.referenced.line(),
                        node.referenced.column(),
                        format!("missing required key `{name}`"),
                    ));
                }
            }
        }
        (Node::Map(entries), Expected::Named(inner)) => {
            for (_, value) in entries {
                walk(source, value, inner, keys, found);
            }
        }
        (Node::List(items), Expected::Each(inner)) => {
            for item in items {
                walk(source, item, inner, keys, found);
            }
        }
        // A value of another shape is the typed read's to report.
        _ => {}
    }
}

fn unknown(source: &SourceFile, key: &Spanned<Key>, names: &[&str]) -> Diagnostic {
    let name = key.value.0.as_str();
    let d = Diagnostic::error(
        Code::UnknownKey,
        source,
        key.referenced.line(),
        key.referenced.column(),
        format!("unknown key `{name}`"),
    );
    match did_you_mean(name, names.iter().copied()) {
        // `by` groups the events of a form; a term without one judges each event alone.
        _ if name == "by" && names.contains(&"threshold") => d.with_help(
            "`by` belongs inside the term's form: `threshold`, `absence` or `sequence` (`threshold: {count: 3, within: 24h, by: event.sector}`); a term without a form judges each event alone",
        ),
        Some(fix) => d.with_help(format!("did you mean `{fix}`?")),
        None => d.with_help(format!("allowed keys here: {}", names.join(", "))),
    }
}
