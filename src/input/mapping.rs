//! Mapping files: how records of a foreign shape (UCDP GED, ACLED, a monitoring mission's CSV)
//! become pactum events.
//!
//! A mapping is a stage of its own between reading and judging. The reader hands it each
//! record as a read-only map, `record` (a CSV row's typed cells, a JSON object's fields), and
//! gets back an [`Event`] or a [`MappingError`] that the reader reports like any invalid line.
//! The engine judges events and never learns that a mapping made them; the report names the
//! mapping (file and SHA-256) beside each input it was applied to, so it says how its events
//! were derived.
//!
//! A mapping file is validated like an agreement file, all problems in one run, each a
//! [`Diagnostic`] at its line and column: the YAML's shape (unknown keys with a did-you-mean),
//! names, the time format (tried on a sample instant), and every expression compiled in the
//! rules' sandbox (Rhai syntax errors positioned inside the YAML value, unknown variables and
//! functions). An expression sees `record`, the file's `lists` and the values its `let` gives
//! (each `let` only those above it), and may call the file's `functions` and the cleaning
//! helpers (`number`, `trimmed`, …: `crate::expr::clean`); it cannot change `record` or a
//! `let`, and what a field's expression gives is not seen by another.
//!
//! A record is mapped in a fixed order: its time read from its time fields (`time.field`, or
//! `time.fields` joined by one space), then each `let` in the order written, then the time
//! from `time.value` when that is where it comes from, then `kind`, `id` and the fields. The
//! first that fails makes the record unmappable, and the reason names it (`let.NAME`,
//! `fields.NAME`, the time fields) with its place in the mapping file.

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use rhai::{AST, Array, Dynamic, Engine, ImmutableString, Map, Scope};
use serde::Deserialize;
use serde_saphyr::Spanned;
use sha2::{Digest, Sha256};

use crate::check::compile::{Unit, native_functions};
use crate::diagnostic::{Code, Diagnostic, Level, SourceFile};
use crate::event::{Event, Origin};
use crate::expr::list_value;
use crate::expr::sandbox::{self, Limits};
use crate::load::vocabulary::Vocabulary;
use crate::load::{self, Expression, Scalar};
use crate::time::{TimeFormat, TimeFormatError};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    mapping: Spanned<String>,
    title: Spanned<String>,
    // For the file's readers: checked to be text, not used by the replay.
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    sources: Vec<String>,
    #[serde(default)]
    lists: HashMap<Spanned<String>, Constant>,
    /// Rhai `fn` definitions every expression may call.
    #[serde(default)]
    functions: Option<Spanned<String>>,
    /// Named values computed for each record, in the order written.
    #[serde(default, rename = "let")]
    lets: HashMap<Spanned<String>, Spanned<String>>,
    time: Spanned<TimeFile>,
    #[serde(default)]
    id: Option<Spanned<String>>,
    kind: Spanned<String>,
    #[serde(default)]
    fields: HashMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    vocabulary: Option<Spanned<crate::load::vocabulary::VocabularySpec>>,
}

/// `time:`: exactly one of `field`, `fields` and `value` says where the time is read.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TimeFile {
    #[serde(default)]
    field: Option<Spanned<String>>,
    #[serde(default)]
    fields: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    value: Option<Spanned<String>>,
    #[serde(default)]
    format: Option<Spanned<String>>,
    #[serde(default)]
    offset: Option<Spanned<String>>,
}

/// A named constant: a list (an array in expressions) or a table (a map from text).
#[derive(Deserialize)]
#[serde(untagged)]
enum Constant {
    List(Vec<Scalar>),
    Table(BTreeMap<String, Scalar>),
}

/// The names an event's own parts take; a mapping gives them through `time`, `kind` and `id`.
const OWN: [&str; 3] = ["time", "kind", "id"];

/// A mapping, validated and compiled, ready to turn records into events.
pub struct Mapping {
    provenance: Provenance,
    /// The mapping's title.
    pub title: String,
    engine: Engine,
    lists: Vec<(String, Dynamic)>,
    /// The file's `functions`, where run-time errors inside them are placed.
    functions: Option<Expression>,
    /// Each `let`, in the order written: its name and expression.
    lets: Vec<(String, Compiled)>,
    time: TimeSource,
    time_format: TimeFormat,
    id: Option<Compiled>,
    kind: Compiled,
    fields: Vec<(ImmutableString, Compiled)>,
    vocabulary: Rc<Vocabulary>,
}

impl std::fmt::Debug for Mapping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mapping")
            .field("provenance", &self.provenance)
            .field("fields", &self.fields.len())
            .finish()
    }
}

/// Where a record's time is read from.
enum TimeSource {
    /// The text of one field (`field:`), or of several joined by one space (`fields:`).
    Fields(Vec<String>),
    /// What an expression gives (`value:`).
    Value(Compiled),
}

/// One expression, compiled, with its key and where it is written.
struct Compiled {
    /// `kind`, `id`, `fields.NAME`, `let.NAME` or `time.value`.
    key: String,
    ast: AST,
    expression: Expression,
}

/// Which mapping made an input's events: what the report records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    /// The mapping's id (`mapping:`).
    pub id: String,
    /// The mapping file as named by the user.
    pub file: String,
    /// SHA-256 of the file's bytes, lowercase hex.
    pub sha256: String,
}

/// Why a record could not be mapped. The reader adds the file and line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingError {
    /// What went wrong, with the position in the mapping file where an expression failed.
    pub reason: String,
    /// The record's field at fault, when one is (the time field), so that the reader can give
    /// its column.
    pub field: Option<String>,
}

impl Mapping {
    /// The kinds and fields of the events it makes (`vocabulary:`); empty when it declares
    /// none.
    pub fn vocabulary(&self) -> &Rc<Vocabulary> {
        &self.vocabulary
    }

    /// Which mapping this is.
    pub fn provenance(&self) -> &Provenance {
        &self.provenance
    }

    /// The record fields the time is read from (none when an expression gives it).
    pub fn time_fields(&self) -> &[String] {
        match &self.time {
            TimeSource::Fields(fields) => fields,
            TimeSource::Value(_) => &[],
        }
    }

    /// The mapping's event fields, in file order.
    pub fn field_names(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|(name, _)| name.as_str())
    }
}

/// Applies a mapping, record after record (one per reader: it keeps the expressions' scope).
pub struct Mapper {
    mapping: Rc<Mapping>,
    scope: Scope<'static>,
}

impl Mapper {
    /// A mapper for `mapping`.
    pub fn new(mapping: Rc<Mapping>) -> Self {
        let mut scope = Scope::new();
        for (name, value) in &mapping.lists {
            scope.push_constant_dynamic(name.clone(), value.clone());
        }
        Mapper { mapping, scope }
    }

    /// The mapping applied.
    pub fn mapping(&self) -> &Mapping {
        &self.mapping
    }

    /// Turns one record into an event: its time read from the time fields (or `time.value`)
    /// in the declared format, the `let` values, `kind` (a non-empty string), `id` (a
    /// string, an integer, or `()` for the default `FILE:LINE`), and each field whose
    /// expression does not give `()`.
    pub fn apply(&mut self, record: Map, origin: Origin) -> Result<Event, MappingError> {
        /// A time read from the record's fields, or one an expression gives after the `let`s.
        enum Pending<'m> {
            Read(chrono::DateTime<chrono::Utc>),
            Value(&'m Compiled),
        }
        let mapping = Rc::clone(&self.mapping);
        let pending = match &mapping.time {
            TimeSource::Fields(fields) => {
                Pending::Read(time_of(&mapping.time_format, fields, &record)?)
            }
            TimeSource::Value(compiled) => Pending::Value(compiled),
        };
        let lists = mapping.lists.len();
        self.scope.rewind(lists);
        // A constant: a method that would change `record` fails instead.
        self.scope.push_constant("record", record);
        for (name, compiled) in &mapping.lets {
            let value = self.eval(compiled)?;
            // A constant too: later expressions read it, none changes it.
            self.scope.push_constant_dynamic(name.as_str(), value);
        }
        let time = match pending {
            Pending::Read(time) => time,
            Pending::Value(compiled) => {
                let value = self.eval(compiled)?;
                // An integer (`20181225`, `1700000000`) is read by its digits, as a time field's.
                if !(value.is_string() || value.is_int()) {
                    return Err(gave(compiled, type_word(value.type_name())));
                }
                mapping
                    .time_format
                    .parse(&value.to_string())
                    .map_err(|why| {
                        let (line, column) = compiled.expression.locate(1, 1);
                        MappingError {
                            reason: format!(
                                "mapping `{}`: {why} (at {}:{line}:{column})",
                                compiled.key, compiled.expression.source.name
                            ),
                            field: None,
                        }
                    })?
            }
        };
        let kind = self.eval(&mapping.kind)?;
        let kind = match kind.into_immutable_string() {
            Ok(kind) if !kind.trim().is_empty() => kind,
            Ok(_) => return Err(gave(&mapping.kind, "an empty string")),
            Err(ty) => return Err(gave(&mapping.kind, type_word(ty))),
        };
        let id = match &mapping.id {
            None => None,
            Some(compiled) => {
                let value = self.eval(compiled)?;
                if value.is_unit() {
                    None
                } else if value.is_string() || value.is_int() {
                    Some(ImmutableString::from(value.to_string()))
                } else {
                    return Err(gave(compiled, type_word(value.type_name())));
                }
            }
        };
        let mut fields = Vec::with_capacity(mapping.fields.len());
        for (name, compiled) in &mapping.fields {
            let value = self.eval(compiled)?;
            if !value.is_unit() {
                fields.push((name.clone(), value));
            }
        }
        Ok(Event::from_parts(time, kind, id, origin, fields))
    }

    fn eval(&mut self, compiled: &Compiled) -> Result<Dynamic, MappingError> {
        self.mapping
            .engine
            .eval_ast_with_scope::<Dynamic>(&mut self.scope, &compiled.ast)
            .map_err(|err| MappingError {
                reason: format!(
                    "mapping `{}` failed: {}",
                    compiled.key,
                    crate::expr::position::describe(
                        &err,
                        &compiled.expression,
                        (1, 1),
                        self.mapping.functions.as_ref()
                    )
                ),
                field: None,
            })
    }
}

fn gave(compiled: &Compiled, what: &str) -> MappingError {
    let e = &compiled.expression;
    let (line, column) = e.locate(1, 1);
    let key = &compiled.key;
    let need = match key.as_str() {
        "kind" => "a non-empty string",
        "time.value" => "text (or an integer) to read as a time",
        _ => "a string, an integer or `()`",
    };
    MappingError {
        reason: format!(
            "mapping `{key}` gave {what}, not {need} (at {}:{line}:{column})",
            e.source.name
        ),
        field: None,
    }
}

fn type_word(rhai_type: &str) -> &str {
    match rhai_type {
        "i64" => "an integer",
        "f64" => "a number",
        "bool" => "a boolean",
        "()" => "nothing (`()`)",
        "array" => "an array",
        "map" => "a map",
        "string" => "a string",
        other => other,
    }
}

/// The record's time: its time field read in the mapping's format, or its time fields'
/// texts joined by one space.
fn time_of(
    format: &TimeFormat,
    fields: &[String],
    record: &Map,
) -> Result<chrono::DateTime<chrono::Utc>, MappingError> {
    let one = fields.len() == 1;
    let which = if one {
        "the mapping's time field"
    } else {
        "one of the mapping's time fields"
    };
    let fail = |field: &str, reason: String| MappingError {
        reason,
        field: Some(field.to_string()),
    };
    let mut parts: Vec<String> = Vec::with_capacity(fields.len());
    for field in fields {
        let value = match record.get(field.as_str()) {
            None => {
                return Err(fail(
                    field,
                    format!("the record has no `{field}` ({which})"),
                ));
            }
            Some(value) if value.is_unit() => {
                return Err(fail(field, format!("`{field}` ({which}) is empty")));
            }
            Some(value) => value,
        };
        // A CSV cell such as 20181225 or 2018 is typed as an integer: its digits are the text.
        if !(value.is_string() || value.is_int()) {
            return Err(fail(
                field,
                format!(
                    "`{field}` ({which}) is {}, not text",
                    type_word(value.type_name())
                ),
            ));
        }
        let text = value.to_string();
        if !one && text.trim().is_empty() {
            return Err(fail(field, format!("`{field}` ({which}) is empty")));
        }
        parts.push(if one { text } else { text.trim().to_string() });
    }
    let first = fields.first().map_or("", String::as_str);
    format.parse(&parts.join(" ")).map_err(|why| {
        let named = if one {
            format!("`{first}` (the mapping's time field)")
        } else {
            format!(
                "{} (the mapping's time fields, joined by a space)",
                together(fields)
            )
        };
        fail(first, format!("{named}: {why}"))
    })
}

/// Names quoted and joined as a sentence says them: "`a` and `b`", "`a`, `b` and `c`".
fn together(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => quoted.concat(),
    }
}

/// Loads and compiles one mapping file from its name and text.
///
/// Returns the mapping when there is no error, and every diagnostic found either way. A mapping
/// that names a vocabulary file needs [`load_with`].
pub fn load(name: &str, text: &str, limits: &Limits) -> (Option<Mapping>, Vec<Diagnostic>) {
    let roots = crate::load::confine::Roots::none();
    load_with(name, text, limits, &roots, &mut |path| {
        Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            format!(
                "this caller reads no files (use `mapping::load_with`), so {} cannot be read",
                path.display()
            ),
        ))
    })
}

/// [`load`] for a mapping that may name a vocabulary file: `reader` reads it, at a path
/// resolved against the mapping's folder and confined as an agreement's files are.
pub fn load_with(
    name: &str,
    text: &str,
    limits: &Limits,
    roots: &crate::load::confine::Roots,
    reader: crate::load::FileReader,
) -> (Option<Mapping>, Vec<Diagnostic>) {
    let source = SourceFile::new(name, text);
    // An expression YAML read as a tag (`kind: !record.type`) reaches the typed read as what is
    // left of it, or as nothing: the tag is the problem to show.
    let tags = crate::load::shape::mapping_tags(&source, text);
    if !tags.is_empty() {
        return (None, tags);
    }
    let file: MappingFile = match serde_saphyr::from_str(text) {
        Ok(file) => file,
        Err(err) => {
            let mut d = load::yaml_diagnostic(&source, &err);
            if d.message.contains("untagged enum Constant") {
                d.message =
                    "a list is a YAML list of values, or a table from text to values".into();
                d.help = Some(
                    "write `states: [Government of Turkey, Government of Iran]` or `codes: {Government of Turkey: TR}`; values are text, numbers or booleans".into(),
                );
            }
            if d.message == "unknown key `agreement`" {
                d.help = Some(
                    "this looks like an agreement file: give it to `--rules`, and a mapping file (`mapping: ID`, `time`, `kind`, `fields`) to `--map`"
                        .into(),
                );
            }
            return (None, vec![d]);
        }
    };
    let mut diagnostics = Vec::new();
    let mut error = |code: Code, line: u64, column: u64, message: String, help: Option<String>| {
        let mut d = Diagnostic::error(code, &source, line, column, message);
        d.help = help;
        diagnostics.push(d);
    };
    let at = |s: &Spanned<String>| (s.referenced.line(), s.referenced.column());

    let (line, column) = at(&file.mapping);
    if !load::is_id(&file.mapping.value) {
        error(
            Code::InvalidName,
            line,
            column,
            format!(
                "mapping id `{}` must be lowercase letters, digits and '-'",
                file.mapping.value
            ),
            Some(format!("try `{}`", load::suggest_id(&file.mapping.value))),
        );
    }
    if file.title.value.trim().is_empty() {
        let (line, column) = at(&file.title);
        error(
            Code::InvalidValue,
            line,
            column,
            "the title is empty".into(),
            None,
        );
    }

    let mut lists: Vec<(String, Dynamic)> = Vec::new();
    let mut named: Vec<_> = file.lists.iter().collect();
    named.sort_by(|a, b| a.0.value.cmp(&b.0.value));
    for (name, constant) in named {
        let reserved = name.value == "record" || load::RESERVED.contains(&name.value.as_str());
        if !load::is_identifier(&name.value) || reserved {
            let why = if reserved {
                "is `record` or a Rhai keyword"
            } else {
                "is not a lowercase identifier (letters, digits, '_')"
            };
            let (line, column) = at(name);
            error(
                Code::InvalidName,
                line,
                column,
                format!("list name `{}` {why}", name.value),
                Some(format!(
                    "try `{}_list`",
                    load::suggest_identifier(&name.value)
                )),
            );
        }
        let value = match constant {
            Constant::List(items) => Dynamic::from_array(
                items
                    .iter()
                    .map(|item| list_value(&load::scalar_item(item)))
                    .collect::<Array>(),
            ),
            Constant::Table(entries) => Dynamic::from_map(
                entries
                    .iter()
                    .map(|(key, item)| (key.as_str().into(), list_value(&load::scalar_item(item))))
                    .collect::<Map>(),
            ),
        };
        lists.push((name.value.clone(), value));
    }

    // Each `let`, in file order: its name is checked here, its expression compiled below.
    let mut lets: Vec<(&Spanned<String>, &Spanned<String>)> = file.lets.iter().collect();
    lets.sort_by_key(|(name, _)| (name.referenced.line(), name.referenced.column()));
    for (name, _) in &lets {
        let (line, column) = at(name);
        let reserved = name.value == "record" || load::RESERVED.contains(&name.value.as_str());
        let list = file.lists.keys().any(|l| l.value == name.value);
        let (why, help) = if reserved {
            (
                "is `record`, `event`, `trigger`, `key` or a Rhai keyword",
                format!("try `{}_value`", load::suggest_identifier(&name.value)),
            )
        } else if !load::is_identifier(&name.value) {
            (
                "is not a lowercase identifier (letters, digits, '_')",
                format!("try `{}`", load::suggest_identifier(&name.value)),
            )
        } else if list {
            (
                "is also the name of a list",
                "rename one of them: a name in an expression means one thing".to_string(),
            )
        } else {
            continue;
        };
        error(
            Code::InvalidName,
            line,
            column,
            format!("`let` name `{}` {why}", name.value),
            Some(help),
        );
    }

    let time = &file.time.value;
    let (time_line, time_column) = (file.time.referenced.line(), file.time.referenced.column());
    let sources: Vec<(&str, (u64, u64))> = [
        time.field.as_ref().map(|f| ("field", at(f))),
        time.fields.as_ref().map(|f| {
            let place = (f.referenced.line(), f.referenced.column());
            ("fields", place)
        }),
        time.value.as_ref().map(|v| ("value", at(v))),
    ]
    .into_iter()
    .flatten()
    .collect();
    match sources.as_slice() {
        [] => error(
            Code::MissingKey,
            time_line,
            time_column,
            "`time` needs `field`, `fields` or `value`: where the record's time is read".into(),
            Some(
                "`time: {field: date}`, `time: {fields: [date, hour], format: \"%Y-%m-%d %H:%M\"}` or `time: {value: EXPRESSION}`"
                    .into(),
            ),
        ),
        [_] => {}
        [(first, _), (second, (line, column)), ..] => error(
            Code::InvalidValue,
            *line,
            *column,
            format!("`time` takes one of `field`, `fields` and `value`, not both `{first}` and `{second}`"),
            Some(format!("keep `{first}` or `{second}`")),
        ),
    }
    if let Some(field) = &time.field
        && field.value.trim().is_empty()
    {
        let (line, column) = at(field);
        error(
            Code::InvalidValue,
            line,
            column,
            "`field` names the record's field that holds the time".into(),
            None,
        );
    }
    if let Some(fields) = &time.fields {
        if fields.value.is_empty() {
            error(
                Code::InvalidValue,
                fields.referenced.line(),
                fields.referenced.column(),
                "`fields` names the record's fields that hold the time: one or more".into(),
                Some("`fields: [date, hour]` reads `date`, a space, then `hour`".into()),
            );
        }
        for (index, field) in fields.value.iter().enumerate() {
            let (line, column) = at(field);
            if field.value.trim().is_empty() {
                error(
                    Code::InvalidValue,
                    line,
                    column,
                    "each of `fields` names a record's field that holds part of the time".into(),
                    None,
                );
            } else if fields
                .value
                .iter()
                .take(index)
                .any(|f| f.value == field.value)
            {
                error(
                    Code::InvalidValue,
                    line,
                    column,
                    format!("`{}` is named twice in `fields`", field.value),
                    None,
                );
            }
        }
    }
    let time_format = match TimeFormat::new(
        time.format.as_ref().map(|f| f.value.as_str()),
        time.offset.as_ref().map(|o| o.value.as_str()),
    ) {
        Ok(format) => Some(format),
        Err(err) => {
            let (key, why) = match err {
                TimeFormatError::Format(why) => (time.format.as_ref(), why),
                TimeFormatError::Offset(why) => {
                    (time.offset.as_ref().or(time.format.as_ref()), why)
                }
            };
            let (line, column) = key.map_or((time_line, time_column), at);
            error(Code::InvalidValue, line, column, why, None);
            None
        }
    };

    let mut fields: Vec<(&Spanned<String>, &Spanned<String>)> = file.fields.iter().collect();
    // File order: events carry their fields in the order the author wrote them.
    fields.sort_by_key(|(name, _)| (name.referenced.line(), name.referenced.column()));
    for (name, _) in &fields {
        let (line, column) = at(name);
        if OWN.contains(&name.value.as_str()) {
            error(
                Code::InvalidName,
                line,
                column,
                format!(
                    "`{}` is not a field: it is a part of every event",
                    name.value
                ),
                Some(format!(
                    "give the event's {} with the top-level `{}:` key",
                    name.value, name.value
                )),
            );
        } else if !is_field_name(&name.value) {
            error(
                Code::InvalidName,
                line,
                column,
                format!(
                    "field name `{}` is not an identifier (letters, digits, '_'; not starting with a digit)",
                    name.value
                ),
                Some(format!(
                    "try `{}`, which rules can read as `event.{}`",
                    load::suggest_identifier(&name.value),
                    load::suggest_identifier(&name.value)
                )),
            );
        }
    }

    // Compile every expression, all problems reported: `record` and the lists in scope, then
    // each `let` for what follows it; the functions merged into each.
    let mut engine = sandbox::engine(limits);
    crate::expr::clean::register(&mut engine);
    let natives = native_functions(&engine);
    let functions = file
        .functions
        .as_ref()
        .map(|f| load::expression(&source, f));
    let mut scope = Scope::new();
    for (name, value) in &lists {
        scope.push_constant_dynamic(name.clone(), value.clone());
    }
    // Not a constant here: the optimiser would fold its placeholder value into the expressions.
    scope.push("record", ());
    let mut compiled_diagnostics = Vec::new();
    let (compiled_lets, time_value, id, kind, compiled_fields) = {
        let mut unit = Unit::new(
            &engine,
            &natives,
            scope,
            "record",
            &mut compiled_diagnostics,
        );
        unit.functions(functions.as_ref());
        unit.lets(lets.iter().map(|(name, _)| name.value.clone()).collect());
        let compile = |unit: &mut Unit, value: &Spanned<String>, key: &str| {
            let expression = load::expression(&source, value);
            if expression.text.trim().is_empty() {
                return None;
            }
            unit.expression(&expression, key).map(|ast| Compiled {
                key: key.to_string(),
                ast,
                expression,
            })
        };
        let mut compiled_lets: Vec<Option<(String, Compiled)>> = Vec::with_capacity(lets.len());
        for (name, value) in &lets {
            let compiled = compile(&mut unit, value, &format!("let.{}", name.value));
            compiled_lets.push(compiled.map(|c| (name.value.clone(), c)));
            unit.enter_let();
        }
        let time_value = time
            .value
            .as_ref()
            .map(|v| compile(&mut unit, v, "time.value"));
        let mut compile = |value: &Spanned<String>, key: &str| compile(&mut unit, value, key);
        let id = file.id.as_ref().map(|id| compile(id, "id"));
        let kind = compile(&file.kind, "kind");
        let compiled_fields: Vec<Option<(ImmutableString, Compiled)>> = fields
            .iter()
            .map(|(name, value)| {
                compile(value, &format!("fields.{}", name.value))
                    .map(|c| (ImmutableString::from(name.value.as_str()), c))
            })
            .collect();
        (compiled_lets, time_value, id, kind, compiled_fields)
    };
    for (key, value) in lets
        .iter()
        .map(|(n, v)| (format!("let.{}", n.value), Some(*v)))
        .chain([
            ("time.value".to_string(), time.value.as_ref()),
            ("kind".to_string(), Some(&file.kind)),
            ("id".to_string(), file.id.as_ref()),
        ])
        .chain(
            fields
                .iter()
                .map(|(n, v)| (format!("fields.{}", n.value), Some(*v))),
        )
    {
        if let Some(value) = value
            && value.value.trim().is_empty()
        {
            let (line, column) = at(value);
            error(
                Code::InvalidValue,
                line,
                column,
                format!("`{key}` is empty: give a Rhai expression over `record`"),
                None,
            );
        }
    }
    diagnostics.extend(compiled_diagnostics);

    // The vocabulary of the events it makes: every field it writes must be one it declares.
    let mut checker = crate::load::Checker {
        source: source.clone(),
        diagnostics: Vec::new(),
    };
    let vocabulary = match &file.vocabulary {
        Some(spec) => crate::load::vocabulary::vocabulary(&mut checker, spec, roots, reader),
        None => Vocabulary::default(),
    };
    diagnostics.extend(checker.diagnostics);
    if !vocabulary.is_empty() {
        for (name, _) in &fields {
            if vocabulary.knows_field(&name.value) {
                continue;
            }
            let (line, column) = at(name);
            let d = Diagnostic::error(
                Code::UndeclaredField,
                &source,
                line,
                column,
                format!("field `{}` is not in the mapping's vocabulary", name.value),
            );
            diagnostics.push(match vocabulary.nearest_field(&name.value) {
                Some(fix) => d.with_help(format!("did you mean `{fix}`?")),
                None => d.with_help(
                    "declare it in the vocabulary (with its type), or leave it out of `fields`",
                ),
            });
        }
    }

    let failed = diagnostics.iter().any(|d| d.level == Level::Error);
    let source = match (&time.field, &time.fields, time_value) {
        (Some(field), None, None) => Some(TimeSource::Fields(vec![field.value.clone()])),
        (None, Some(fields), None) => Some(TimeSource::Fields(
            fields.value.iter().map(|f| f.value.clone()).collect(),
        )),
        (None, None, Some(compiled)) => compiled.map(TimeSource::Value),
        _ => None,
    };
    let mapping = match (
        failed,
        (time_format, source),
        kind,
        id,
        compiled_fields.into_iter().collect::<Option<Vec<_>>>(),
        compiled_lets.into_iter().collect::<Option<Vec<_>>>(),
    ) {
        (false, (Some(time_format), Some(time)), Some(kind), id, Some(fields), Some(lets))
            if id.as_ref().is_none_or(Option::is_some) =>
        {
            Some(Mapping {
                provenance: Provenance {
                    id: file.mapping.value.clone(),
                    file: name.to_string(),
                    sha256: crate::hex(&Sha256::digest(text.as_bytes())),
                },
                title: file.title.value.clone(),
                engine,
                lists,
                functions,
                lets,
                time,
                time_format,
                id: id.flatten(),
                kind,
                fields,
                vocabulary: Rc::new(vocabulary),
            })
        }
        _ => None,
    };
    (mapping, diagnostics)
}

/// A name rules can read as `event.NAME`.
fn is_field_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    const UCDP: &str = r#"mapping: demo
title: Demo
lists:
  actors: {"Government of Turkey": TAF, PKK: PKK}
  states: [Government of Turkey, Government of Iran]
time: {field: date_start, format: "%Y-%m-%d"}
id: '"ucdp-" + record.id'
kind: |
  if record.type_of_violence == 1 { "state_based" } else { "other" }
fields:
  actor: actors[record.side_a]
  state: record.side_a in states
  killed: record.best
"#;

    fn record(pairs: &[(&str, Dynamic)]) -> Map {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), v.clone()))
            .collect()
    }

    fn origin() -> Origin {
        Origin {
            file: "ged.csv".into(),
            line: 2,
        }
    }

    #[test]
    fn a_record_becomes_an_event() {
        let (mapping, problems) = load("m.yaml", UCDP, &Limits::default());
        assert_eq!(problems, vec![]);
        let mut mapper = Mapper::new(Rc::new(mapping.unwrap()));
        let event = mapper
            .apply(
                record(&[
                    ("id", Dynamic::from_int(145567)),
                    ("date_start", "1990-01-01".into()),
                    ("type_of_violence", Dynamic::from_int(1)),
                    ("side_a", "Government of Turkey".into()),
                ]),
                origin(),
            )
            .unwrap();
        assert_eq!(event.id(), "ucdp-145567");
        assert_eq!(event.kind(), "state_based");
        assert_eq!(
            crate::time::format_instant(&event.time()),
            "1990-01-01T00:00:00Z"
        );
        assert_eq!(event.field_text("actor").as_deref(), Some("TAF"));
        assert_eq!(event.field_text("state").as_deref(), Some("true"));
        assert!(event.field("killed").is_none(), "`()` leaves the field out");
    }

    #[test]
    fn records_that_cannot_be_mapped_say_why_and_where() {
        let (mapping, _) = load("m.yaml", UCDP, &Limits::default());
        let mut mapper = Mapper::new(Rc::new(mapping.unwrap()));
        let err = mapper
            .apply(record(&[("date_start", "01/01/1990".into())]), origin())
            .unwrap_err();
        assert_eq!(err.field.as_deref(), Some("date_start"));
        assert!(
            err.reason.contains("does not match the format `%Y-%m-%d`"),
            "{}",
            err.reason
        );
        let err = mapper
            .apply(
                record(&[
                    ("date_start", "1990-01-01".into()),
                    ("id", Dynamic::from_int(1)),
                ]),
                origin(),
            )
            .unwrap_err();
        assert_eq!(
            err.reason,
            "mapping `fields.actor` failed: Data type incorrect: () (expecting string) (at m.yaml:11:17)"
        );
    }

    #[test]
    fn record_is_read_only() {
        let text = "mapping: m\ntitle: M\ntime: {field: t}\nkind: 'record.remove(\"t\")'\nfields:\n  t: record.t\n";
        let (mapping, problems) = load("m.yaml", text, &Limits::default());
        assert_eq!(problems, vec![]);
        let mut mapper = Mapper::new(Rc::new(mapping.unwrap()));
        let err = mapper
            .apply(record(&[("t", "2024-01-01".into())]), origin())
            .unwrap_err();
        assert_eq!(
            err.reason,
            "mapping `kind` failed: Non-pure method 'remove' cannot be called on constant (at m.yaml:4:15)"
        );
    }
}
