//! The editor schemas (`docs/schema/*.schema.json`) held to the binary and to the loaders.
//!
//! - `pactum schema KIND` prints the shipped file, byte for byte, for every kind of the
//!   library's table, and every shipped schema file is a kind of that table.
//! - The schemas are valid JSON Schema 2020-12, and every property a rule author can write has
//!   a `description` (the editor's hover help).
//! - Every shipped agreement and mapping file validates against its schema, and the shipped
//!   files in `rules/` name their schema in their first line, by a path that resolves.
//! - `tests/schema/documents.yaml`: documents that must be accepted or rejected, each judged by
//!   the schema and by `pactum check` alike.
//! - Every agreement or mapping file written by a command-line case (`tests/cases/`) that
//!   `pactum check` accepts is accepted by the schema; one it refuses only for unknown or
//!   missing keys is refused by the schema too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde::Deserialize;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_pactum");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn pactum(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

/// The shipped schema of `kind`, read from its file (not the binary's copy).
fn schema(kind: &str) -> Value {
    let schema = pactum::schema::find(kind).unwrap();
    serde_json::from_slice(&std::fs::read(root().join(schema.path)).unwrap()).unwrap()
}

fn validator(kind: &str) -> jsonschema::Validator {
    jsonschema::draft202012::new(&schema(kind)).unwrap()
}

/// What the schema says against `document`, one line per error; empty when it is valid.
fn problems(validator: &jsonschema::Validator, document: &Value) -> Vec<String> {
    validator
        .iter_errors(document)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// A YAML document as the editor's validator sees it: JSON values.
fn json_of(yaml: &str) -> Value {
    serde_saphyr::from_str(yaml).unwrap()
}

/// The kind of a YAML file by its top-level key, as `pactum check` tells them apart.
fn kind_of(document: &Value) -> Option<&'static str> {
    if document.get("agreement").is_some() {
        Some("agreement")
    } else if document.get("mapping").is_some() {
        Some("mapping")
    } else if document.get("expect").is_some() {
        Some("scenario")
    } else if document.get("vocabulary").is_some() {
        Some("vocabulary")
    } else {
        None
    }
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    files
}

#[test]
fn schema_command_prints_the_shipped_files() {
    for schema in pactum::schema::SCHEMAS {
        let out = pactum(&root(), &["schema", schema.kind]);
        assert_eq!(out.status.code(), Some(0), "pactum schema {}", schema.kind);
        assert_eq!(String::from_utf8_lossy(&out.stderr), "");
        let shipped = std::fs::read(root().join(schema.path)).unwrap();
        assert!(
            out.stdout == shipped,
            "pactum schema {} differs from {}",
            schema.kind,
            schema.path
        );
    }
    // Every shipped schema is a kind the command knows.
    let mut shipped: Vec<String> = std::fs::read_dir(root().join("docs/schema"))
        .unwrap()
        .map(|e| format!("docs/schema/{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    shipped.sort();
    let mut known: Vec<String> = pactum::schema::SCHEMAS
        .iter()
        .map(|s| s.path.to_string())
        .collect();
    known.sort();
    assert_eq!(shipped, known);

    let out = pactum(&root(), &["schema", "rules"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("possible values: agreement"));
}

/// Collects, at `at`, the properties declared without a `description`, through every place a
/// schema declares what an author may write (not through `if`/`then`/`else`, which only
/// constrain what is declared elsewhere).
fn undescribed(schema: &Value, at: &str, missing: &mut Vec<String>) {
    let Some(object) = schema.as_object() else {
        return;
    };
    if let Some(properties) = object.get("properties").and_then(Value::as_object) {
        for (name, property) in properties {
            let path = format!("{at}/properties/{name}");
            if property
                .get("description")
                .and_then(Value::as_str)
                .is_none()
            {
                missing.push(path.clone());
            }
            undescribed(property, &path, missing);
        }
    }
    // The values of a map (`parties`, `lists`, `fields`) are written by the author too.
    if let Some(values) = object.get("additionalProperties").filter(|v| v.is_object()) {
        let path = format!("{at}/additionalProperties");
        if values.get("description").is_none() {
            missing.push(path.clone());
        }
        undescribed(values, &path, missing);
    }
    if let Some(items) = object.get("items").filter(|v| v.is_object()) {
        undescribed(items, &format!("{at}/items"), missing);
    }
    if let Some(items) = object.get("prefixItems").and_then(Value::as_array) {
        for (i, item) in items.iter().enumerate() {
            let path = format!("{at}/prefixItems/{i}");
            if item.get("description").is_none() {
                missing.push(path.clone());
            }
            undescribed(item, &path, missing);
        }
    }
    if let Some(defs) = object.get("$defs").and_then(Value::as_object) {
        for (name, def) in defs {
            undescribed(def, &format!("{at}/$defs/{name}"), missing);
        }
    }
}

#[test]
fn schemas_are_draft_2020_12_and_describe_every_property() {
    for kind in pactum::schema::SCHEMAS.iter().map(|s| s.kind) {
        let schema = schema(kind);
        assert_eq!(
            schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{kind}"
        );
        if let Err(e) = jsonschema::meta::validate(&schema) {
            panic!("{kind}: not a valid schema: {e}");
        }
        assert!(schema["description"].is_string(), "{kind}");
        let mut missing = Vec::new();
        undescribed(&schema, "#", &mut missing);
        assert!(missing.is_empty(), "{kind}: no description at {missing:#?}");
    }
}

#[test]
fn shipped_files_are_valid() {
    let mut files: Vec<PathBuf> = yaml_files(&root().join("rules"));
    files.extend(yaml_files(&root().join("rules/mappings")));
    files.extend(yaml_files(&root().join("rules/vocabularies")));
    files.extend(yaml_files(&root().join("rules/mappings/vocabularies")));
    let mut scenarios: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    scenarios.sort();
    for dir in &scenarios {
        files.extend(yaml_files(dir));
    }
    let validators: BTreeMap<&str, jsonschema::Validator> = pactum::schema::SCHEMAS
        .iter()
        .map(|s| (s.kind, validator(s.kind)))
        .collect();
    let mut checked: BTreeMap<&str, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for file in &files {
        let document = json_of(&std::fs::read_to_string(file).unwrap());
        let Some(kind) = kind_of(&document) else {
            continue;
        };
        *checked.entry(kind).or_default() += 1;
        let found = problems(&validators[kind], &document);
        if !found.is_empty() {
            failures.push(format!("{}: {}", file.display(), found.join("; ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // rules/ holds two agreements, the scenarios at least two more, rules/mappings/ one mapping.
    assert!(checked["agreement"] >= 4, "{checked:?}");
    assert!(checked["mapping"] >= 1, "{checked:?}");
    assert!(checked["scenario"] >= 4, "{checked:?}");
    assert!(checked["vocabulary"] >= 2, "{checked:?}");
}

/// The shipped files in `rules/` open with the editor's header, whose relative path leads
/// to their schema.
#[test]
fn shipped_rules_name_their_schema() {
    let mut files: Vec<PathBuf> = yaml_files(&root().join("rules"));
    files.extend(yaml_files(&root().join("rules/mappings")));
    files.extend(yaml_files(&root().join("rules/vocabularies")));
    files.extend(yaml_files(&root().join("rules/mappings/vocabularies")));
    assert!(files.len() >= 3);
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let kind = kind_of(&json_of(&text)).unwrap();
        let first = text.lines().next().unwrap_or("");
        let relative = first
            .strip_prefix("# yaml-language-server: $schema=")
            .unwrap_or_else(|| {
                panic!(
                    "{}: the first line is not the schema header: {first:?}",
                    file.display()
                )
            });
        let named = file
            .parent()
            .unwrap()
            .join(relative)
            .canonicalize()
            .unwrap();
        let expected = root()
            .join(pactum::schema::find(kind).unwrap().path)
            .canonicalize()
            .unwrap();
        assert_eq!(named, expected, "{}", file.display());
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    kind: String,
    /// What the document is about, for failure messages.
    about: String,
    /// Whether the loader (and so the schema) accepts it.
    valid: bool,
    /// For an invalid document: the instance path (JSON pointer) of a schema error.
    #[serde(default)]
    at: Option<String>,
    document: String,
}

/// Runs `pactum check` on one document, in a directory of its own; true when it is valid.
fn loader_accepts(kind: &str, text: &str) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("doc.yaml"), text).unwrap();
    let args: &[&str] = if kind == "mapping" {
        &["check", "--map", "doc.yaml"]
    } else {
        &["check", "doc.yaml"]
    };
    let out = pactum(dir.path(), args);
    (
        out.status.code() == Some(0),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn documents_are_judged_as_the_loaders_judge_them() {
    let path = root().join("tests/schema/documents.yaml");
    let documents: Vec<Document> =
        serde_saphyr::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(documents.len() >= 10);
    let validators: BTreeMap<&str, jsonschema::Validator> = pactum::schema::SCHEMAS
        .iter()
        .map(|s| (s.kind, validator(s.kind)))
        .collect();
    let mut failures = Vec::new();
    for d in &documents {
        let found = problems(&validators[d.kind.as_str()], &json_of(&d.document));
        let (loaded, diagnostics) = loader_accepts(&d.kind, &d.document);
        if loaded != d.valid {
            failures.push(format!(
                "{}: pactum check says valid = {loaded}, the case {}:\n{diagnostics}",
                d.about, d.valid
            ));
        }
        if d.valid && !found.is_empty() {
            failures.push(format!("{}: the schema refuses it: {found:?}", d.about));
        }
        if !d.valid {
            match &d.at {
                _ if found.is_empty() => {
                    failures.push(format!("{}: the schema accepts it", d.about));
                }
                Some(at) if !found.iter().any(|f| f.starts_with(&format!("{at}: "))) => {
                    failures.push(format!(
                        "{}: no schema error at {at}, but {found:?}",
                        d.about
                    ));
                }
                _ => {}
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[derive(Deserialize)]
struct Case {
    #[serde(default)]
    files: BTreeMap<String, String>,
}

#[test]
fn schemas_accept_what_the_case_files_load() {
    let validators: BTreeMap<&str, jsonschema::Validator> = pactum::schema::SCHEMAS
        .iter()
        .map(|s| (s.kind, validator(s.kind)))
        .collect();
    let (mut accepted, mut refused) = (0, 0);
    let mut failures = Vec::new();
    for case in yaml_files(&root().join("tests/cases")) {
        let text = std::fs::read_to_string(&case).unwrap();
        let Ok(parsed) = serde_saphyr::from_str::<Case>(&text) else {
            continue;
        };
        let dir = tempfile::tempdir().unwrap();
        for (name, content) in &parsed.files {
            let file = dir.path().join(name);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(file, content).unwrap();
        }
        for (name, content) in &parsed.files {
            if !(name.ends_with(".yaml") || name.ends_with(".yml")) {
                continue;
            }
            // Broken YAML is the loader's to report: there is nothing for a schema to see.
            let Ok(document) = serde_saphyr::from_str::<Value>(content) else {
                continue;
            };
            let Some(kind) = kind_of(&document) else {
                continue;
            };
            // Vocabulary files are read through the agreements that include them; their loader
            // is the library's.
            if kind == "vocabulary" {
                let found = problems(&validators[kind], &document);
                let (_, diagnostics) = pactum::load::vocabulary::load_file(name, content);
                let codes: Vec<&str> = diagnostics
                    .iter()
                    .filter(|d| d.level == pactum::diagnostic::Level::Error)
                    .map(|d| d.code.as_str())
                    .collect();
                let at = format!("{}: {name}", case.display());
                if codes.is_empty() {
                    accepted += 1;
                    if !found.is_empty() {
                        failures.push(format!("{at}: loads, but the schema refuses it: {found:?}"));
                    }
                } else if codes
                    .iter()
                    .all(|c| *c == "unknown-key" || *c == "missing-key")
                {
                    refused += 1;
                    if found.is_empty() {
                        failures.push(format!(
                            "{at}: refused by the loader ({codes:?}), accepted by the schema"
                        ));
                    }
                }
                continue;
            }
            // Scenarios are read by `pactum test`; their loader is the library's.
            if kind == "scenario" {
                let found = problems(&validators[kind], &document);
                if pactum::scenario::load(name, content, &pactum::load::confine::Roots::none())
                    .is_ok()
                {
                    accepted += 1;
                    if !found.is_empty() {
                        failures.push(format!(
                            "{}: {name}: loads, but the schema refuses it: {found:?}",
                            case.display()
                        ));
                    }
                }
                continue;
            }
            let args: Vec<&str> = if kind == "mapping" {
                vec!["check", "--format", "json", "--map", name]
            } else {
                vec!["check", "--format", "json", name]
            };
            let out = pactum(dir.path(), &args);
            let found = problems(&validators[kind], &document);
            let at = format!("{}: {name}", case.display());
            if out.status.code() == Some(0) {
                accepted += 1;
                if !found.is_empty() {
                    failures.push(format!("{at}: loads, but the schema refuses it: {found:?}"));
                }
                continue;
            }
            let report: Value = serde_json::from_slice(&out.stdout).unwrap();
            let codes: Vec<&str> = report["diagnostics"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["level"] == "error")
                .filter_map(|d| d["code"].as_str())
                .collect();
            if !codes.is_empty()
                && codes
                    .iter()
                    .all(|c| *c == "unknown-key" || *c == "missing-key")
            {
                refused += 1;
                if found.is_empty() {
                    failures.push(format!(
                        "{at}: refused by pactum check ({codes:?}), accepted by the schema"
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(accepted >= 20 && refused >= 2, "{accepted} {refused}");
}

/// What `pactum new` writes names its schema in its first line, by a path beside it that holds
/// this pactum's schema (the shipped bytes), and validates against it.
#[test]
fn new_files_name_their_schema_beside_them() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        pactum(dir.path(), &["new", "scenario", "demo"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        pactum(dir.path(), &["new", "agreement", "loose"])
            .status
            .code(),
        Some(0)
    );
    let mut files = yaml_files(&dir.path().join("demo"));
    files.extend(yaml_files(dir.path()));
    assert_eq!(files.len(), 3, "{files:?}");
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let document = json_of(&text);
        let kind = kind_of(&document).unwrap();
        let first = text.lines().next().unwrap_or("");
        assert_eq!(
            first,
            format!("# yaml-language-server: $schema={kind}.schema.json"),
            "{}",
            file.display()
        );
        let beside = file.parent().unwrap().join(format!("{kind}.schema.json"));
        assert_eq!(
            std::fs::read_to_string(&beside).unwrap(),
            pactum::schema::find(kind).unwrap().text,
            "{}",
            beside.display()
        );
        let found = problems(&validator(kind), &document);
        assert!(found.is_empty(), "{}: {found:?}", file.display());
    }
}
