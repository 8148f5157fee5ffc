//! Event vocabularies: the kinds of event and the fields a body of data carries, with types.
//!
//! Events are free-form: any field, any value. That freedom is what lets pactum read the
//! shapes real exporters write, and it is also how data goes wrong unseen — a kind spelt
//! `mortor` that no term judges, a number quoted as `"90"` that no cap compares. A vocabulary
//! says what the data should be: `check` holds every `event.FIELD` and every kind or value an
//! expression compares to it (`crate::check`), and the replay counts, per input, the events
//! whose kind it does not know and the values that contradict their field's type
//! (`crate::input::conform`), and fails the terms that read such a value instead of letting a
//! comparison be silently `false`.
//!
//! An agreement declares one inline (`vocabulary: {kinds: …, fields: …}`), names a vocabulary
//! file several agreements share (`vocabulary: FILE`, or `include: [FILE, …]` beside inline
//! declarations), or both; a mapping names the vocabulary of the events it makes. Files are
//! resolved and confined as geography files are. What one run applies is the union of its
//! agreements' and mappings' vocabularies ([`Vocabulary::merge`]): a field declared twice must
//! be declared alike, since one event cannot be two things.
//!
//! Why declarations and not inference: the data is what is in doubt. A vocabulary inferred
//! from a log would learn the typo along with the rest.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use rhai::Dynamic;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;
use sha2::{Digest, Sha256};

use crate::diagnostic::{Code, Diagnostic, SourceFile, did_you_mean};
use crate::load::confine::{Refusal, Roots};
use crate::load::{
    Checker, FileReader, ListItem, Scalar, is_identifier, scalar_item, yaml_diagnostic,
};

/// The fields every event has, whatever its vocabulary: they are not declared.
pub const BUILT_IN_FIELDS: &[&str] = &["time", "kind", "id"];

/// The most kinds, fields or values one vocabulary may declare: a bound on what `check` and the
/// replay hold for it.
pub const MAX_DECLARED: usize = 10_000;

/// The most vocabulary files one `include:` may name (each is read whole, up to the limit of a
/// file an agreement names).
pub const MAX_INCLUDES: usize = 64;

pub use crate::event::FieldType;

/// Where something was declared: a file, line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    /// The file, as named (an agreement, a mapping or a vocabulary file).
    pub file: String,
    /// 1-based line.
    pub line: u64,
    /// 1-based column.
    pub column: u64,
}

impl fmt::Display for Declared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// A kind of event the data may report.
#[derive(Debug, Clone, PartialEq)]
pub struct Kind {
    /// What it stands for.
    pub description: Option<String>,
    /// Where it was declared.
    pub at: Declared,
}

/// When a field must be present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Required {
    /// It may be absent.
    No,
    /// Every event has it.
    Always,
    /// Events of these kinds have it.
    ForKinds(Vec<String>),
}

impl Required {
    /// Whether an event of `kind` must have the field.
    pub fn of(&self, kind: &str) -> bool {
        match self {
            Required::No => false,
            Required::Always => true,
            Required::ForKinds(kinds) => kinds.iter().any(|k| k == kind),
        }
    }
}

/// A field the data may carry.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The type of its values.
    pub ty: FieldType,
    /// The values it may take, when it is an enumeration (empty: any value of its type).
    pub values: Vec<ListItem>,
    /// The unit of its numbers (`km`, `people`), for readers.
    pub unit: Option<String>,
    /// When it must be present.
    pub required: Required,
    /// What it holds.
    pub description: Option<String>,
    /// Where it was declared.
    pub at: Declared,
}

impl Field {
    /// Whether `value` is one of the field's values (always, when it declares none).
    pub fn allows(&self, value: &Dynamic) -> bool {
        self.values.is_empty() || self.values.iter().any(|item| item_is(item, value))
    }

    /// "`kind` is text", "`killed` is an integer (people)", "`verification` is one of …".
    pub fn described(&self, name: &str) -> String {
        let unit = self
            .unit
            .as_ref()
            .map_or(String::new(), |u| format!(" ({u})"));
        if self.values.is_empty() {
            format!("`{name}` is {}{unit}", self.ty.described())
        } else {
            format!(
                "`{name}` is one of {}{unit}",
                self.values.iter().map(shown).collect::<Vec<_>>().join(", ")
            )
        }
    }
}

/// A list item as an expression would write it: `"alleged"`, `3`, `true`.
pub fn shown(item: &ListItem) -> String {
    match item {
        ListItem::Text(t) => format!("{t:?}"),
        ListItem::Integer(i) => i.to_string(),
        ListItem::Float(f) => format!("{f:?}"),
        ListItem::Bool(b) => b.to_string(),
    }
}

fn item_is(item: &ListItem, value: &Dynamic) -> bool {
    match item {
        ListItem::Text(t) => value
            .read_lock::<rhai::ImmutableString>()
            .is_some_and(|v| v.as_str() == t),
        ListItem::Integer(i) => value.as_int().is_ok_and(|v| v == *i),
        ListItem::Float(f) => value.as_float().is_ok_and(|v| v == *f),
        ListItem::Bool(b) => value.as_bool().is_ok_and(|v| v == *b),
    }
}

/// What a body of event data carries: its kinds and its fields.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Vocabulary {
    /// The kinds of event, by name; empty: any kind (the vocabulary says nothing of kinds).
    pub kinds: BTreeMap<String, Kind>,
    /// The declared fields, by name (`time`, `kind` and `id` are built in, never declared).
    pub fields: BTreeMap<String, Field>,
    /// The vocabulary files read, `(file as named, SHA-256)`, in the order first read.
    pub files: Vec<(String, String)>,
}

/// Two declarations of one field that disagree, found when vocabularies are merged.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    /// The field.
    pub field: String,
    /// The declaration kept (the first).
    pub first: Field,
    /// The one that disagrees with it.
    pub second: Field,
}

impl Conflict {
    /// The conflict as an error at the second declaration (`source`: its file's text, when
    /// the caller has it, for the quoted line); `whose` says where the first comes from ("by
    /// another agreement of this run"), `help` why one must give way.
    pub fn diagnostic(&self, source: Option<&SourceFile>, whose: &str, help: &str) -> Diagnostic {
        let at = &self.second.at;
        let blank;
        let source = match source {
            Some(source) => source,
            None => {
                blank = SourceFile::new(at.file.clone(), "");
                &blank
            }
        };
        Diagnostic::error(
            Code::VocabularyConflict,
            source,
            at.line,
            at.column,
            format!(
                "field `{}` is declared as {} here, and as {} at {} ({whose})",
                self.field,
                declaration(&self.second),
                declaration(&self.first),
                self.first.at
            ),
        )
        .with_help(help)
    }
}

impl Vocabulary {
    /// Whether it declares nothing.
    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty() && self.fields.is_empty()
    }

    /// Whether `name` is a field events may carry: built in or declared.
    pub fn knows_field(&self, name: &str) -> bool {
        BUILT_IN_FIELDS.contains(&name) || self.fields.contains_key(name)
    }

    /// Whether `kind` is one the vocabulary declares (every kind is, when it declares none).
    pub fn knows_kind(&self, kind: &str) -> bool {
        self.kinds.is_empty() || self.kinds.contains_key(kind)
    }

    /// The declared field nearest to `name`, for a did-you-mean.
    pub fn nearest_field(&self, name: &str) -> Option<&str> {
        did_you_mean(
            name,
            BUILT_IN_FIELDS
                .iter()
                .copied()
                .chain(self.fields.keys().map(String::as_str)),
        )
    }

    /// The declared kind nearest to `kind`, for a did-you-mean.
    pub fn nearest_kind(&self, kind: &str) -> Option<&str> {
        did_you_mean(kind, self.kinds.keys().map(String::as_str))
    }

    /// Adds `other`'s declarations to these. A kind declared by both is kept once; a field
    /// declared by both must have the same type, values and requirement, else it is a
    /// [`Conflict`] (and the first declaration is kept).
    pub fn merge(&mut self, other: &Vocabulary) -> Vec<Conflict> {
        let mut conflicts = Vec::new();
        for (name, kind) in &other.kinds {
            self.kinds
                .entry(name.clone())
                .or_insert_with(|| kind.clone());
        }
        for (name, field) in &other.fields {
            match self.fields.get(name) {
                None => {
                    self.fields.insert(name.clone(), field.clone());
                }
                Some(first) => {
                    if first.ty != field.ty
                        || first.values != field.values
                        || first.required != field.required
                    {
                        conflicts.push(Conflict {
                            field: name.clone(),
                            first: first.clone(),
                            second: field.clone(),
                        });
                    }
                }
            }
        }
        for file in &other.files {
            if !self.files.contains(file) {
                self.files.push(file.clone());
            }
        }
        conflicts
    }
}

/// `vocabulary:` in an agreement or a mapping: a file, or declarations (with files included).
pub(crate) enum VocabularySpec {
    /// `vocabulary: FILE`.
    File(String),
    /// `vocabulary: {include: …, kinds: …, fields: …}`.
    Inline(Box<VocabularyBody>),
}

impl<'de> Deserialize<'de> for VocabularySpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct SpecVisitor;
        impl<'de> Visitor<'de> for SpecVisitor {
            type Value = VocabularySpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a vocabulary file's name, or a map of `include`, `kinds` and `fields`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<VocabularySpec, E> {
                Ok(VocabularySpec::File(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<VocabularySpec, A::Error> {
                VocabularyBody::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|body| VocabularySpec::Inline(Box::new(body)))
            }
        }
        d.deserialize_any(SpecVisitor)
    }
}

/// The declarations of a vocabulary, inline or in a file.
#[derive(Deserialize, Default)]
pub(crate) struct VocabularyBody {
    #[serde(default)]
    include: Option<Spanned<Files>>,
    #[serde(default)]
    kinds: Option<Spanned<Kinds>>,
    #[serde(default, deserialize_with = "entries")]
    fields: Vec<(Spanned<String>, Spanned<FieldFile>)>,
}

/// A vocabulary file: an id and a title, then the declarations.
#[derive(Deserialize)]
struct VocabularyFile {
    vocabulary: Spanned<String>,
    title: Spanned<String>,
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
    #[serde(default)]
    kinds: Option<Spanned<Kinds>>,
    #[serde(default, deserialize_with = "entries")]
    fields: Vec<(Spanned<String>, Spanned<FieldFile>)>,
}

/// `include: FILE` or `include: [FILE, …]`.
pub(crate) struct Files(Vec<Spanned<String>>);

impl<'de> Deserialize<'de> for Files {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct FilesVisitor;
        impl<'de> Visitor<'de> for FilesVisitor {
            type Value = Files;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a vocabulary file's name or a list of them")
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Files, E> {
                Err(E::custom(
                    "`include` is a list of files: write `include: [FILE]`",
                ))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Files, A::Error> {
                let mut files = Vec::new();
                while let Some(file) = seq.next_element::<Spanned<String>>()? {
                    files.push(file);
                }
                Ok(Files(files))
            }
        }
        d.deserialize_any(FilesVisitor)
    }
}

/// `kinds: [a, b]` or `kinds: {a: what a is, b: …}`.
pub(crate) struct Kinds(Vec<(Spanned<String>, Option<String>)>);

impl<'de> Deserialize<'de> for Kinds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KindsVisitor;
        impl<'de> Visitor<'de> for KindsVisitor {
            type Value = Kinds;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of kinds, or a map of each kind to what it stands for")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Kinds, A::Error> {
                let mut kinds = Vec::new();
                while let Some(kind) = seq.next_element::<Spanned<String>>()? {
                    kinds.push((kind, None));
                }
                Ok(Kinds(kinds))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Kinds, A::Error> {
                let mut kinds = Vec::new();
                while let Some(entry) = map.next_entry::<Spanned<String>, Option<String>>()? {
                    kinds.push(entry);
                }
                Ok(Kinds(kinds))
            }
        }
        d.deserialize_any(KindsVisitor)
    }
}

/// A field's declaration: `killed: integer`, or a map.
pub(crate) enum FieldFile {
    Type(String),
    Full(Box<FieldMap>),
}

#[derive(Deserialize)]
pub(crate) struct FieldMap {
    #[serde(rename = "type")]
    ty: Spanned<String>,
    #[serde(default)]
    values: Option<Spanned<Vec<Spanned<Scalar>>>>,
    #[serde(default)]
    unit: Option<String>,
    #[serde(default)]
    required: Option<Spanned<RequiredFile>>,
    #[serde(default)]
    description: Option<String>,
}

impl<'de> Deserialize<'de> for FieldFile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct FieldVisitor;
        impl<'de> Visitor<'de> for FieldVisitor {
            type Value = FieldFile;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a type (`text`, `integer`, …) or a map with `type`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<FieldFile, E> {
                Ok(FieldFile::Type(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<FieldFile, A::Error> {
                FieldMap::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|m| FieldFile::Full(Box::new(m)))
            }
        }
        d.deserialize_any(FieldVisitor)
    }
}

/// `required: true`, `false`, or a list of kinds.
pub(crate) enum RequiredFile {
    Bool(bool),
    Kinds(Vec<Spanned<String>>),
}

impl<'de> Deserialize<'de> for RequiredFile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct RequiredVisitor;
        impl<'de> Visitor<'de> for RequiredVisitor {
            type Value = RequiredFile;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("`true`, `false` or a list of kinds")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<RequiredFile, E> {
                Ok(RequiredFile::Bool(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RequiredFile, A::Error> {
                let mut kinds = Vec::new();
                while let Some(kind) = seq.next_element::<Spanned<String>>()? {
                    kinds.push(kind);
                }
                Ok(RequiredFile::Kinds(kinds))
            }
        }
        d.deserialize_any(RequiredVisitor)
    }
}

/// Field declarations in file order, each with its name's place.
type FieldEntries = Vec<(Spanned<String>, Spanned<FieldFile>)>;

/// A map's entries in file order (a `HashMap` would lose it, and diagnostics must come in the
/// file's order).
fn entries<'de, D: Deserializer<'de>>(d: D) -> Result<FieldEntries, D::Error> {
    struct EntriesVisitor;
    impl<'de> Visitor<'de> for EntriesVisitor {
        type Value = FieldEntries;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a map of field names to their declarations")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(entry) = map.next_entry()? {
                out.push(entry);
            }
            Ok(out)
        }
    }
    d.deserialize_map(EntriesVisitor)
}

/// Reads an agreement's or a mapping's `vocabulary:` into a [`Vocabulary`]: its inline
/// declarations and the files it names (each read once, through `reader`, at a path confined
/// as [`Roots::resolve`] confines it). Problems are added to `checker`'s diagnostics, at their
/// place in the file that has them.
pub(crate) fn vocabulary(
    checker: &mut Checker,
    spec: &Spanned<VocabularySpec>,
    roots: &Roots,
    reader: FileReader,
) -> Vocabulary {
    let mut out = Vocabulary::default();
    match &spec.value {
        VocabularySpec::File(file) => {
            let file = Spanned {
                value: file.clone(),
                referenced: spec.referenced,
                defined: spec.defined,
            };
            include(checker, &file, roots, reader, &mut out);
        }
        VocabularySpec::Inline(body) => {
            if let Some(files) = &body.include {
                if let Some(extra) = files.value.0.get(MAX_INCLUDES) {
                    checker.error(
                        Code::InvalidValue,
                        extra,
                        format!("more than {MAX_INCLUDES} vocabulary files included"),
                    );
                }
                // Each file once, and at most MAX_INCLUDES: a hostile list cannot make the
                // loader read one file thousands of times.
                let mut seen = std::collections::HashSet::new();
                for file in files.value.0.iter().take(MAX_INCLUDES) {
                    if seen.insert(file.value.as_str()) {
                        include(checker, file, roots, reader, &mut out);
                    }
                }
            }
            let mut own = Vocabulary::default();
            declarations(checker, body.kinds.as_ref(), &body.fields, &mut own);
            for conflict in out.merge(&own) {
                conflicting(checker, &conflict, None);
            }
        }
    }
    out
}

/// Reads the vocabulary file `file` names and merges it into `into`.
fn include(
    checker: &mut Checker,
    file: &Spanned<String>,
    roots: &Roots,
    reader: FileReader,
    into: &mut Vocabulary,
) {
    let path = match roots.resolve(&checker.source.name, &file.value) {
        Ok(path) => path,
        Err(refusal) => {
            checker
                .error(Code::FileRefused, file, refusal.message(&file.value))
                .help = Some(refusal.help().into());
            return;
        }
    };
    let bytes = match reader(&path) {
        Ok(bytes) => bytes,
        Err(err) => {
            match Refusal::of(&err) {
                Some(refusal) => {
                    checker
                        .error(Code::FileRefused, file, refusal.message(&file.value))
                        .help = Some(refusal.help().into());
                }
                None => {
                    checker
                        .error(
                            Code::Io,
                            file,
                            format!("cannot read {}: {err}", path.display()),
                        )
                        .help = Some(format!(
                        "paths are relative to the file that names them, {}",
                        checker.source.name
                    ));
                }
            }
            return;
        }
    };
    let sha256 = crate::hex(&Sha256::digest(&bytes));
    // Diagnostics inside the vocabulary file name it as the naming file's folder sees it.
    let name = crate::load::confine::folder_of(&checker.source.name)
        .join(&file.value)
        .display()
        .to_string();
    let Ok(text) = String::from_utf8(bytes) else {
        checker.error(
            Code::InvalidValue,
            file,
            format!("{} is not UTF-8 text", file.value),
        );
        return;
    };
    let (vocabulary, diagnostics) = load_file(&name, &text);
    let errors = diagnostics
        .iter()
        .filter(|d| d.level == crate::diagnostic::Level::Error)
        .count();
    checker.diagnostics.extend(diagnostics);
    if errors > 0 {
        // Each problem is shown in the vocabulary file; this line says which file named it.
        checker.error(
            Code::InvalidValue,
            file,
            format!(
                "the vocabulary {} has {errors} error(s), shown at their place in it",
                file.value
            ),
        );
    }
    let Some(mut vocabulary) = vocabulary else {
        return;
    };
    vocabulary.files.insert(0, (file.value.clone(), sha256));
    for conflict in into.merge(&vocabulary) {
        conflicting(checker, &conflict, Some(file));
    }
}

/// Loads a vocabulary file from its name and text: the vocabulary when its YAML has the right
/// shape, and every problem found.
pub fn load_file(name: &str, text: &str) -> (Option<Vocabulary>, Vec<Diagnostic>) {
    let source = SourceFile::new(name, text);
    let keys = crate::load::shape::vocabulary_keys(&source, text).unwrap_or_default();
    let file: VocabularyFile = match serde_saphyr::from_str(text) {
        Ok(file) => file,
        Err(_) if !keys.is_empty() => return (None, keys),
        Err(err) => return (None, vec![yaml_diagnostic(&source, &err)]),
    };
    let mut checker = Checker {
        source,
        diagnostics: keys,
    };
    if !crate::load::is_id(&file.vocabulary.value) {
        checker.error(
            Code::InvalidName,
            &file.vocabulary,
            format!(
                "vocabulary id `{}` must be lowercase letters, digits and '-'",
                file.vocabulary.value
            ),
        );
    }
    if file.title.value.trim().is_empty() {
        checker.error(Code::InvalidValue, &file.title, "the title is empty".into());
    }
    let mut vocabulary = Vocabulary::default();
    declarations(
        &mut checker,
        file.kinds.as_ref(),
        &file.fields,
        &mut vocabulary,
    );
    (Some(vocabulary), checker.diagnostics)
}

/// Checks and adds the kinds and fields of one body of declarations.
fn declarations(
    checker: &mut Checker,
    kinds: Option<&Spanned<Kinds>>,
    fields: &[(Spanned<String>, Spanned<FieldFile>)],
    into: &mut Vocabulary,
) {
    let file = checker.source.name.clone();
    let at = |line: u64, column: u64| Declared {
        file: file.clone(),
        line,
        column,
    };
    if let Some(kinds) = kinds {
        if kinds.value.0.is_empty() {
            checker.error(
                Code::InvalidValue,
                kinds,
                "`kinds` is empty: leave it out to allow every kind".into(),
            );
        }
        for (name, description) in &kinds.value.0 {
            if name.value.trim().is_empty() {
                checker.error(Code::InvalidValue, name, "a kind is empty".into());
                continue;
            }
            if into.kinds.len() >= MAX_DECLARED {
                checker.error(
                    Code::InvalidValue,
                    name,
                    format!("more than {MAX_DECLARED} kinds"),
                );
                break;
            }
            if into.kinds.contains_key(&name.value) {
                checker.error(
                    Code::DuplicateId,
                    name,
                    format!("kind `{}` is declared twice", name.value),
                );
                continue;
            }
            into.kinds.insert(
                name.value.clone(),
                Kind {
                    description: description.clone(),
                    at: at(name.referenced.line(), name.referenced.column()),
                },
            );
        }
    }
    let mut seen: HashMap<&str, u64> = HashMap::new();
    for (name, spec) in fields {
        let here = at(name.referenced.line(), name.referenced.column());
        if BUILT_IN_FIELDS.contains(&name.value.as_str()) {
            checker
                .error(
                    Code::InvalidName,
                    name,
                    format!("`{}` is built in: every event has it", name.value),
                )
                .help = Some(
                "`time` is a time, `kind` and `id` are text; declare the kinds under `kinds`"
                    .into(),
            );
            continue;
        }
        if !is_field_name(&name.value) {
            checker.error(
                Code::InvalidName,
                name,
                format!(
                    "field name `{}` is not one an expression can read as `event.NAME` (letters, digits, '_', not starting with a digit)",
                    name.value
                ),
            );
        }
        if let Some(first) = seen.get(name.value.as_str()) {
            checker
                .error(
                    Code::DuplicateId,
                    name,
                    format!("field `{}` is declared twice", name.value),
                )
                .help = Some(format!("the first is on line {first}"));
            continue;
        }
        seen.insert(&name.value, name.referenced.line());
        if into.fields.len() >= MAX_DECLARED {
            checker.error(
                Code::InvalidValue,
                name,
                format!("more than {MAX_DECLARED} fields"),
            );
            break;
        }
        if let Some(field) = field(checker, spec, here, into) {
            into.fields.insert(name.value.clone(), field);
        }
    }
}

/// One field's declaration, checked.
fn field(
    checker: &mut Checker,
    spec: &Spanned<FieldFile>,
    at: Declared,
    vocabulary: &Vocabulary,
) -> Option<Field> {
    let type_at = |ty: &Spanned<String>| Spanned {
        value: ty.value.clone(),
        referenced: ty.referenced,
        defined: ty.defined,
    };
    let (ty, map) = match &spec.value {
        FieldFile::Type(ty) => (
            Spanned {
                value: ty.clone(),
                referenced: spec.referenced,
                defined: spec.defined,
            },
            None,
        ),
        FieldFile::Full(map) => (type_at(&map.ty), Some(map)),
    };
    let Some(field_type) = FieldType::parse(&ty.value) else {
        let names: Vec<&str> = FieldType::ALL.iter().map(|t| t.name()).collect();
        let d = checker.error(
            Code::InvalidValue,
            &ty,
            format!("`{}` is not a field type", ty.value),
        );
        d.help = Some(match did_you_mean(&ty.value, names.iter().copied()) {
            Some(fix) => format!("did you mean `{fix}`? (types: {})", names.join(", ")),
            None => format!("types: {}", names.join(", ")),
        });
        return None;
    };
    let mut field = Field {
        ty: field_type,
        values: Vec::new(),
        unit: None,
        required: Required::No,
        description: None,
        at,
    };
    let Some(map) = map else {
        return Some(field);
    };
    field.unit = map.unit.clone();
    field.description = map.description.clone();
    if let Some(values) = &map.values {
        if !matches!(
            field_type,
            FieldType::Text | FieldType::Integer | FieldType::Number
        ) {
            checker.error(
                Code::InvalidValue,
                values,
                format!(
                    "`values` lists what text or numbers may be; a field of type {} has none",
                    field_type.name()
                ),
            );
        }
        if values.value.is_empty() {
            checker.error(
                Code::InvalidValue,
                values,
                "`values` is empty: no value would be allowed".into(),
            );
        }
        if values.value.len() > MAX_DECLARED {
            checker.error(
                Code::InvalidValue,
                values,
                format!("more than {MAX_DECLARED} values"),
            );
        }
        for value in &values.value {
            let item = scalar_item(&value.value);
            let dynamic: Dynamic = match &item {
                ListItem::Text(t) => t.clone().into(),
                ListItem::Integer(i) => (*i).into(),
                ListItem::Float(f) => (*f).into(),
                ListItem::Bool(b) => (*b).into(),
            };
            if !field_type.admits(&dynamic) {
                checker.error(
                    Code::InvalidValue,
                    value,
                    format!(
                        "{} is not {}, the field's type",
                        shown(&item),
                        field_type.described()
                    ),
                );
            } else if field.values.contains(&item) {
                checker.error(
                    Code::DuplicateId,
                    value,
                    format!("{} is listed twice", shown(&item)),
                );
            } else {
                field.values.push(item);
            }
        }
    }
    if let Some(required) = &map.required {
        field.required = match &required.value {
            RequiredFile::Bool(false) => Required::No,
            RequiredFile::Bool(true) => Required::Always,
            RequiredFile::Kinds(kinds) => {
                for kind in kinds {
                    if !vocabulary.kinds.is_empty() && !vocabulary.kinds.contains_key(&kind.value) {
                        let d = checker.error(
                            Code::UnknownValue,
                            kind,
                            format!("`{}` is not one of the vocabulary's kinds", kind.value),
                        );
                        if let Some(fix) = vocabulary.nearest_kind(&kind.value) {
                            d.help = Some(format!("did you mean `{fix}`?"));
                        }
                    }
                }
                Required::ForKinds(kinds.iter().map(|k| k.value.clone()).collect())
            }
        };
    }
    Some(field)
}

/// Whether `event.NAME` reads a field called `name`.
fn is_field_name(name: &str) -> bool {
    is_identifier(name)
        || (name
            .chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_alphanumeric() || c == '_'))
}

/// Reports a field declared in two ways: at the second declaration when it is in the
/// checker's file, else at the `include` that brought it.
fn conflicting(checker: &mut Checker, conflict: &Conflict, included: Option<&Spanned<String>>) {
    let (second, first) = (&conflict.second, &conflict.first);
    let d = match included {
        None => checker.error_at_place(
            Code::VocabularyConflict,
            second.at.line,
            second.at.column,
            format!(
                "field `{}` is declared again, differently: {} here, {} at {}",
                conflict.field,
                declaration(second),
                declaration(first),
                first.at
            ),
        ),
        Some(file) => checker.error(
            Code::VocabularyConflict,
            file,
            format!(
                "field `{}` is declared differently: {} at {}, {} at {}",
                conflict.field,
                declaration(second),
                second.at,
                declaration(first),
                first.at
            ),
        ),
    };
    d.help =
        Some("one event cannot be both: declare the field once, in the vocabulary both use".into());
}

/// A field's type, values and requirement, in words.
pub fn declaration(field: &Field) -> String {
    let mut out = field.ty.described().to_string();
    if !field.values.is_empty() {
        out += &format!(
            " of {}",
            field
                .values
                .iter()
                .map(shown)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    match &field.required {
        Required::No => {}
        Required::Always => out += ", required",
        Required::ForKinds(kinds) => out += &format!(", required for {}", kinds.join(", ")),
    }
    out
}

/// Only the `vocabulary:` of a file's text, read as the file's loader reads it (the files it
/// includes through `reader`, confined): for an editor, which needs the vocabulary of a file
/// being typed without loading the rest. Empty when the text is no YAML with one, or it has
/// errors.
pub fn declared_in(name: &str, text: &str, roots: &Roots, reader: FileReader) -> Vocabulary {
    #[derive(Deserialize)]
    struct Declares {
        #[serde(default)]
        agreement: Option<de::IgnoredAny>,
        #[serde(default)]
        mapping: Option<de::IgnoredAny>,
        #[serde(default)]
        vocabulary: Option<Spanned<VocabularySpec>>,
    }
    // A vocabulary file's own `vocabulary:` is its id, not a declaration.
    let Ok(Declares {
        agreement,
        mapping,
        vocabulary: Some(spec),
    }) = serde_saphyr::from_str::<Declares>(text)
    else {
        return Vocabulary::default();
    };
    if agreement.is_none() && mapping.is_none() {
        return Vocabulary::default();
    }
    let mut checker = Checker {
        source: SourceFile::new(name, text),
        diagnostics: Vec::new(),
    };
    vocabulary(&mut checker, &spec, roots, reader)
}
