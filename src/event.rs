//! Events: one incident report, as the engine and rule expressions see it.
//!
//! An event has three typed fields (`time`, `kind`, optional `id`) and any number of free-form
//! fields, held as [`rhai::Dynamic`] values. Making events from text is the input stage's job
//! (`crate::input::parse`); this module is what every stage shares: the event itself, where it
//! came from, and how rule expressions see it.
//!
//! Rule expressions see the event as a registered read-only type: `event.actor` is resolved by
//! an indexer over the event's own fields, and a field the event lacks reads as `()`. Rules
//! cannot change an event, so one event can be judged by every term without being copied.

use std::fmt;
use std::rc::Rc;

use chrono::{DateTime, Utc};
use rhai::{Dynamic, Engine, ImmutableString};

use crate::time::format_instant;

/// Where an event came from: the input's display name and the 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Origin {
    /// The input file as named by the user (`-` for standard input).
    pub file: Rc<str>,
    /// 1-based line of the event's first character.
    pub line: u64,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// One incident report.
///
/// Serialisable only for a checkpoint (`crate::run::checkpoint`), which saves the events the
/// engine's state holds: a private layout, read back by the same version of pactum.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Event {
    time: DateTime<Utc>,
    #[serde(with = "saved::text")]
    kind: ImmutableString,
    #[serde(with = "saved::optional_text")]
    id: Option<ImmutableString>,
    origin: Origin,
    #[serde(with = "saved::fields")]
    fields: Vec<(ImmutableString, Dynamic)>,
    /// How many times a geography function was given this event and found no position: the
    /// functions note it here, on what they were given, so that the replay can count the event
    /// as unlocated for the term that was judging it, and the memo can leave such an outcome
    /// unremembered (each such event must be counted). Counted while one term judges the
    /// event, never across events: not saved.
    #[serde(skip)]
    unlocated: std::cell::Cell<u32>,
}

impl Event {
    /// Notes that a geography function found no position on this event.
    pub(crate) fn note_unlocated(&self) {
        self.unlocated.set(self.unlocated.get().saturating_add(1));
    }

    /// How many times a geography function found no position on this event so far.
    #[inline]
    pub(crate) fn unlocated(&self) -> u32 {
        self.unlocated.get()
    }

    /// When it happened, in UTC.
    pub fn time(&self) -> DateTime<Utc> {
        self.time
    }

    /// What happened (`airstrike`, `armed_clash`, …).
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The event's id: its own `id` field, or `FILE:LINE` when it has none.
    pub fn id(&self) -> String {
        match &self.id {
            Some(id) => id.to_string(),
            None => self.origin.to_string(),
        }
    }

    /// The file and line the event was read from.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// A free-form field, or `None` when the event lacks it.
    pub fn field(&self, name: &str) -> Option<&Dynamic> {
        self.fields
            .iter()
            .find(|(key, _)| key.as_str() == name)
            .map(|(_, value)| value)
    }

    /// A free-form field rendered as text, when it is a string or a number.
    pub fn field_text(&self, name: &str) -> Option<String> {
        let value = self.field(name)?;
        if value.is_string() || value.is_int() || value.is_float() || value.is_bool() {
            Some(value.to_string())
        } else {
            None
        }
    }

    /// A free-form numeric field as `f64`.
    pub fn field_number(&self, name: &str) -> Option<f64> {
        let value = self.field(name)?;
        value
            .as_float()
            .ok()
            .or_else(|| value.as_int().ok().map(|i| i as f64))
    }

    /// `event.NAME`, or `None` when the event has no such field (a field set to `null` is
    /// present, with the value `()`).
    pub(crate) fn lookup(&self, name: &str) -> Option<Dynamic> {
        match name {
            "time" | "kind" | "id" => Some(self.get(name)),
            _ => self.field(name).cloned(),
        }
    }

    /// [`Event::lookup`], starting where the field was found in the last event asked (`hint`),
    /// and leaving there where it is found now. Events parsed one after the other share their
    /// field names' strings position by position (see `Interner`), so in a log of events of one
    /// shape the hint finds the field by one pointer comparison, with no scan of names.
    pub(crate) fn lookup_hinted(&self, name: &str, hint: &mut FieldHint) -> Option<Dynamic> {
        if let Some(value) = self.at_hint(hint) {
            return Some(value.clone());
        }
        if matches!(name, "time" | "kind" | "id") {
            return Some(self.get(name));
        }
        self.field_hinted(name, hint).cloned()
    }

    /// The field where `hint` says the last event had it, if this event has it there too.
    #[inline]
    fn at_hint(&self, hint: &FieldHint) -> Option<&Dynamic> {
        match (&hint.name, self.fields.get(hint.position)) {
            (Some(known), Some((key, value))) if known.ptr_eq(key) => Some(value),
            _ => None,
        }
    }

    /// The free-form field `name` (not `time`, `kind` or `id`), found as
    /// [`Event::lookup_hinted`] finds it, borrowed.
    #[inline]
    pub(crate) fn field_hinted(&self, name: &str, hint: &mut FieldHint) -> Option<&Dynamic> {
        if let Some(value) = self.at_hint(hint) {
            return Some(value);
        }
        let (position, (key, value)) = self
            .fields
            .iter()
            .enumerate()
            .find(|(_, (key, _))| key.as_str() == name)?;
        *hint = FieldHint {
            position,
            name: Some(key.clone()),
        };
        Some(value)
    }

    /// What happened, as expressions see it (`event.kind`).
    #[inline]
    pub(crate) fn kind_text(&self) -> &ImmutableString {
        &self.kind
    }

    /// An event from parts already checked: a kind that is a non-empty string, fields with
    /// distinct names other than `time`, `kind` and `id` (CSV records and mappings build events
    /// this way; JSON goes through [`EventParser`]).
    #[inline]
    pub(crate) fn from_parts(
        time: DateTime<Utc>,
        kind: ImmutableString,
        id: Option<ImmutableString>,
        origin: Origin,
        fields: Vec<(ImmutableString, Dynamic)>,
    ) -> Event {
        Event {
            time,
            kind,
            id,
            origin,
            fields,
            unlocated: std::cell::Cell::new(0),
        }
    }

    /// The value of a field as expressions see it (`time` as RFC 3339 text), `()` when absent.
    pub(crate) fn get(&self, name: &str) -> Dynamic {
        match name {
            "time" => format_instant(&self.time).into(),
            "kind" => self.kind.clone().into(),
            "id" => match &self.id {
                Some(id) => id.clone().into(),
                None => self.origin.to_string().into(),
            },
            _ => self.field(name).cloned().unwrap_or(Dynamic::UNIT),
        }
    }
}

/// A set of field names (the fields a program reads).
pub(crate) type FieldSet = rustc_hash::FxHashSet<ImmutableString>;

/// Where [`Event::lookup_hinted`] found a field last: its position among the fields and the
/// shared string of its name there.
#[derive(Debug, Clone, Default)]
pub(crate) struct FieldHint {
    position: usize,
    name: Option<ImmutableString>,
}

/// The event as a Rhai value: a shared, read-only handle.
#[derive(Debug, Clone)]
pub struct EventHandle(pub Rc<Event>);

/// Registers the `Event` type with a Rhai engine: `event.FIELD` and `event["FIELD"]` read a
/// field (missing fields read as `()`), and nothing can write one.
pub(crate) fn register(engine: &mut Engine) {
    engine
        .register_type_with_name::<EventHandle>("Event")
        .register_indexer_get(|event: &mut EventHandle, name: &str| event.0.get(name))
        .register_fn("has", |event: &mut EventHandle, name: &str| {
            event.0.lookup(name).is_some()
        });
}

/// An event's values as a checkpoint saves them: the kinds of value an input can give (JSON's,
/// with integers apart from floats), each saved exactly, so that a restored event compares,
/// prints and keys as the one saved. Rhai's own serde support is not used: it needs a
/// self-describing format, and reads back `1.0` written as text as it pleases.
pub(crate) mod saved {
    use rhai::{Dynamic, ImmutableString};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    enum Value {
        Unit,
        Bool(bool),
        Int(i64),
        Float(f64),
        Text(String),
        Array(Vec<Value>),
        Map(Vec<(String, Value)>),
    }

    fn value<E: serde::ser::Error>(dynamic: &Dynamic) -> Result<Value, E> {
        if dynamic.is_unit() {
            return Ok(Value::Unit);
        }
        if let Ok(b) = dynamic.as_bool() {
            return Ok(Value::Bool(b));
        }
        if let Ok(i) = dynamic.as_int() {
            return Ok(Value::Int(i));
        }
        if let Ok(f) = dynamic.as_float() {
            return Ok(Value::Float(f));
        }
        if let Some(text) = dynamic.read_lock::<ImmutableString>() {
            return Ok(Value::Text(text.to_string()));
        }
        if let Some(array) = dynamic.read_lock::<rhai::Array>() {
            return array
                .iter()
                .map(value)
                .collect::<Result<_, _>>()
                .map(Value::Array);
        }
        if let Some(map) = dynamic.read_lock::<rhai::Map>() {
            return map
                .iter()
                .map(|(k, v)| Ok((k.to_string(), value(v)?)))
                .collect::<Result<_, _>>()
                .map(Value::Map);
        }
        Err(E::custom(format!(
            "an event value of type {} cannot be saved",
            dynamic.type_name()
        )))
    }

    fn dynamic(value: Value) -> Dynamic {
        match value {
            Value::Unit => Dynamic::UNIT,
            Value::Bool(b) => b.into(),
            Value::Int(i) => i.into(),
            Value::Float(f) => f.into(),
            Value::Text(text) => text.into(),
            Value::Array(items) => items
                .into_iter()
                .map(dynamic)
                .collect::<rhai::Array>()
                .into(),
            Value::Map(entries) => entries
                .into_iter()
                .map(|(k, v)| (k.into(), dynamic(v)))
                .collect::<rhai::Map>()
                .into(),
        }
    }

    pub(crate) mod text {
        use super::*;

        pub(crate) fn serialize<S: Serializer>(
            text: &ImmutableString,
            out: S,
        ) -> Result<S::Ok, S::Error> {
            out.serialize_str(text)
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
            input: D,
        ) -> Result<ImmutableString, D::Error> {
            String::deserialize(input).map(Into::into)
        }
    }

    pub(crate) mod optional_text {
        use super::*;

        pub(crate) fn serialize<S: Serializer>(
            text: &Option<ImmutableString>,
            out: S,
        ) -> Result<S::Ok, S::Error> {
            text.as_ref().map(ImmutableString::as_str).serialize(out)
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
            input: D,
        ) -> Result<Option<ImmutableString>, D::Error> {
            Option::<String>::deserialize(input).map(|text| text.map(Into::into))
        }
    }

    pub(crate) mod fields {
        use super::*;

        pub(crate) fn serialize<S: Serializer>(
            fields: &[(ImmutableString, Dynamic)],
            out: S,
        ) -> Result<S::Ok, S::Error> {
            fields
                .iter()
                .map(|(name, v)| Ok((name.as_str(), value(v)?)))
                .collect::<Result<Vec<_>, S::Error>>()?
                .serialize(out)
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
            input: D,
        ) -> Result<Vec<(ImmutableString, Dynamic)>, D::Error> {
            Ok(Vec::<(String, Value)>::deserialize(input)?
                .into_iter()
                .map(|(name, v)| (name.into(), dynamic(v)))
                .collect())
        }
    }
}
