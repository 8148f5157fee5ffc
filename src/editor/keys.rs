//! Which keys may be written where, and what each means, from the JSON Schemas pactum ships
//! (`crate::schema`, `docs/schema/`): the knowledge the YAML language server gets from the
//! same files, so that the two cannot disagree.
//!
//! A place in a file is a path of keys and `-` for list items ([`super::Outline::path`]); the
//! schema is walked along it through `properties`, `additionalProperties`, `items` and `$ref`,
//! taking every branch of `allOf`, `anyOf`, `oneOf`, `if`/`then`/`else` (a term's keys are
//! those of all its forms).

use std::sync::OnceLock;

use serde_json::Value;

use super::Kind;

/// A key that may be written at a place, with what it means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// The key.
    pub name: String,
    /// The schema's description of it.
    pub about: String,
}

fn schema(kind: Kind) -> Option<&'static Value> {
    static SCHEMAS: [OnceLock<Option<Value>>; 3] =
        [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let index = match kind {
        Kind::Agreement => 0,
        Kind::Mapping => 1,
        Kind::Scenario => 2,
    };
    SCHEMAS
        .get(index)?
        .get_or_init(|| {
            let text = crate::schema::find(kind.as_str())?.text;
            serde_json::from_str(text).ok()
        })
        .as_ref()
}

/// `value` with its `$ref` followed (local references only), and the branches it is made of.
fn branches<'a>(root: &'a Value, value: &'a Value, out: &mut Vec<&'a Value>, depth: usize) {
    if depth > 16 {
        return;
    }
    let value = match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let Some(target) = reference
                .strip_prefix('#')
                .and_then(|pointer| root.pointer(pointer))
            else {
                return;
            };
            branches(root, target, out, depth + 1);
            // Siblings of `$ref` (a description) are kept too.
            value
        }
        None => value,
    };
    out.push(value);
    for combinator in ["allOf", "anyOf", "oneOf"] {
        if let Some(list) = value.get(combinator).and_then(Value::as_array) {
            for branch in list {
                branches(root, branch, out, depth + 1);
            }
        }
    }
    for conditional in ["then", "else"] {
        if let Some(branch) = value.get(conditional) {
            branches(root, branch, out, depth + 1);
        }
    }
}

/// The schemas that describe the value at `path`.
fn at<'a>(root: &'a Value, path: &[&str]) -> Vec<&'a Value> {
    let mut current = Vec::new();
    branches(root, root, &mut current, 0);
    for step in path {
        let mut next = Vec::new();
        for schema in &current {
            let child = if *step == "-" {
                schema.get("items")
            } else {
                schema
                    .get("properties")
                    .and_then(|p| p.get(*step))
                    .or_else(|| schema.get("additionalProperties").filter(|a| a.is_object()))
            };
            if let Some(child) = child {
                branches(root, child, &mut next, 0);
            }
        }
        current = next;
    }
    current
}

/// The description of a schema: its `description`, else its `markdownDescription`.
fn about(schemas: &[&Value]) -> String {
    for field in ["description", "markdownDescription"] {
        if let Some(text) = schemas
            .iter()
            .find_map(|s| s.get(field).and_then(Value::as_str))
        {
            return text.to_string();
        }
    }
    String::new()
}

/// The keys a mapping at `path` of a file of `kind` may have, by name (each once).
pub fn keys(kind: Kind, path: &[&str]) -> Vec<Key> {
    let Some(root) = schema(kind) else {
        return Vec::new();
    };
    let mut keys: Vec<Key> = Vec::new();
    for schema in at(root, path) {
        let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
            continue;
        };
        for (name, property) in properties {
            if keys.iter().any(|k| &k.name == name) {
                continue;
            }
            let mut described = Vec::new();
            branches(root, property, &mut described, 0);
            // The property's own description comes before its type's.
            described.insert(0, property);
            keys.push(Key {
                name: name.clone(),
                about: about(&described),
            });
        }
    }
    keys
}

/// What the schema says of the value at `path`.
pub fn describe(kind: Kind, path: &[&str]) -> Option<String> {
    let root = schema(kind)?;
    // The description written beside the key in its parent comes first.
    let (last, parent) = path.split_last()?;
    for schema in at(root, parent) {
        if let Some(property) = schema.get("properties").and_then(|p| p.get(*last)) {
            let mut described = vec![property];
            branches(root, property, &mut described, 0);
            let text = about(&described);
            if !text.is_empty() {
                return Some(text);
            }
        }
    }
    let text = about(&at(root, path));
    (!text.is_empty()).then_some(text)
}

/// The values the schema allows at `path` when it lists them (`enum`), text ones only.
pub fn values(kind: Kind, path: &[&str]) -> Vec<String> {
    let Some(root) = schema(kind) else {
        return Vec::new();
    };
    let mut values: Vec<String> = Vec::new();
    for schema in at(root, path) {
        for value in schema
            .get("enum")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(text) = value.as_str()
                && !values.iter().any(|v| v == text)
            {
                values.push(text.to_string());
            }
        }
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(kind: Kind, path: &[&str]) -> Vec<String> {
        keys(kind, path).into_iter().map(|k| k.name).collect()
    }

    #[test]
    fn keys_come_from_the_schemas() {
        assert_eq!(
            names(Kind::Agreement, &[]),
            // serde_json's maps are sorted: editors sort completions anyway.
            [
                "agreement",
                "description",
                "effective",
                "functions",
                "geography",
                "lists",
                "others",
                "parties",
                "sources",
                "terms",
                "title",
                "vocabulary",
            ]
        );
        let term = names(Kind::Agreement, &["terms", "-"]);
        for key in [
            "id",
            "breached_by",
            "when",
            "threshold",
            "deadline",
            "sequence",
        ] {
            assert!(term.contains(&key.to_string()), "{key} in {term:?}");
        }
        assert_eq!(
            names(Kind::Agreement, &["terms", "-", "threshold"]),
            ["by", "count", "within"]
        );
        assert!(names(Kind::Agreement, &["geography", "areas", "x"]).contains(&"along".into()));
        assert!(names(Kind::Mapping, &[]).contains(&"fields".into()));
        assert!(names(Kind::Scenario, &["expect"]).contains(&"violations".into()));
        assert_eq!(
            values(Kind::Agreement, &["terms", "-", "severity"]),
            ["critical", "high", "medium", "low"]
        );
        assert!(
            describe(Kind::Agreement, &["terms", "-", "breached_by"])
                .unwrap()
                .starts_with("Who is in breach")
        );
    }
}
