//! The JSON Schemas of the files pactum reads, for editors: one table entry per kind of file.
//!
//! A YAML file that names its schema in a `# yaml-language-server: $schema=…` comment gets
//! completion, hover help and validation as it is typed, in any editor that runs the YAML
//! language server (docs/rules.md, "Editor support"). The schemas are hand-written JSON
//! (draft 2020-12) under `docs/schema/`, embedded here with `include_str!` so that `pactum
//! schema KIND` prints the shipped file byte for byte: an editor pointed at the file and a user
//! who asks the binary get the same schema. They are hand-written because the loaders' serde
//! types wrap their values in `serde_saphyr::Spanned`, which no schema generator knows; the
//! tests hold them to the loaders instead (docs/architecture.md).

/// One kind of file pactum reads, with its schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schema {
    /// The kind's name, as `pactum schema KIND` takes it.
    pub kind: &'static str,
    /// What files of this kind hold, in a line (`pactum schema --help`).
    pub about: &'static str,
    /// Where the schema is shipped, from the repository's root.
    pub path: &'static str,
    /// The schema (JSON Schema draft 2020-12): the bytes of the shipped file.
    pub text: &'static str,
}

/// One entry of [`SCHEMAS`]: the kind's name gives the shipped file, which is embedded.
macro_rules! schema {
    ($kind:literal, $about:literal) => {
        Schema {
            kind: $kind,
            about: $about,
            path: concat!("docs/schema/", $kind, ".schema.json"),
            text: include_str!(concat!("../docs/schema/", $kind, ".schema.json")),
        }
    };
}

/// Every kind of file with a schema. A new kind is one entry here and its file
/// `docs/schema/KIND.schema.json`; the command line and the tests take their list from here.
pub const SCHEMAS: &[Schema] = &[
    schema!(
        "agreement",
        "agreement files: parties, periods, terms (docs/rules.md)"
    ),
    schema!(
        "mapping",
        "mapping files: records of another shape to events (docs/inputs.md)"
    ),
    schema!(
        "scenario",
        "scenario files: rules, events and the outcome they must give (docs/testing.md)"
    ),
    schema!(
        "vocabulary",
        "vocabulary files: the kinds and fields of events, with types (docs/rules.md)"
    ),
];

/// The schema of the kind named `kind`.
pub fn find(kind: &str) -> Option<&'static Schema> {
    SCHEMAS.iter().find(|schema| schema.kind == kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::RESERVED;
    use crate::load::agreement::Severity;
    use serde_json::Value;

    fn parsed(kind: &str) -> Value {
        serde_json::from_str(find(kind).unwrap().text).unwrap()
    }

    fn strings(value: &Value) -> Vec<String> {
        value
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    }

    /// The names a hand-written schema repeats from the code must stay the code's: a word
    /// added to `RESERVED`, or a severity, would otherwise be missed by editors.
    #[test]
    fn schemas_repeat_the_loaders_names() {
        let reserved: Vec<String> = RESERVED.iter().map(|s| s.to_string()).collect();
        let agreement = parsed("agreement");
        assert_eq!(
            strings(&agreement["$defs"]["reservedName"]["enum"]),
            reserved
        );
        let mapping = parsed("mapping");
        let mut with_record = vec!["record".to_string()];
        with_record.extend(reserved);
        assert_eq!(
            strings(&mapping["$defs"]["reservedName"]["enum"]),
            with_record
        );
        let severities: Vec<String> = Severity::ALL
            .iter()
            .map(|s| s.as_str().to_string())
            .collect();
        assert_eq!(
            strings(&agreement["$defs"]["term"]["properties"]["severity"]["enum"]),
            severities
        );
    }

    #[test]
    fn every_kind_is_found_by_its_name() {
        for schema in SCHEMAS {
            assert_eq!(find(schema.kind), Some(schema));
            assert!(
                schema
                    .path
                    .ends_with(&format!("/{}.schema.json", schema.kind))
            );
        }
        assert_eq!(find("scenarios"), None);
    }
}
