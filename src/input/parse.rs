//! Parsing events: JSON (or YAML) records straight into [`Event`]s.
//!
//! Parsing goes straight from JSON (or YAML) into [`rhai::Dynamic`] values through a serde
//! seed, never through a generic `serde_json::Value` tree: that intermediate tree alone costs
//! more than the whole evaluation of a stateless rule set. Field names and short string values
//! repeat from one event to the next, so they are interned and shared by reference count; the
//! interner is bounded, so memory does not grow with the log.

use std::fmt;
use std::rc::Rc;

use chrono::{DateTime, Utc};
use rhai::{Array, Dynamic, ImmutableString, Map};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::event::{Event, FieldSet, Origin};
use crate::time::parse_instant;

/// What kind of problem makes an input record invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum Invalid {
    /// Longer than the limit of a line, a record or a YAML file.
    TooLarge,
    /// Not UTF-8.
    Encoding,
    /// Not JSON, YAML or CSV as the input's format requires.
    Syntax,
    /// A record whose fields do not make an event: `time` or `kind` missing, empty or of the
    /// wrong type, a field given twice, a CSV record with the wrong number of cells.
    Event,
    /// The mapping could not make an event of the record (an expression failed, or gave no
    /// time).
    Mapping,
    /// A CSV header that cannot name the cells (a column without a name, a required column
    /// missing): nothing after it is read.
    Header,
}

/// Why an event record was rejected. The reader adds the file and line.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventError {
    /// What kind of problem.
    pub kind: Invalid,
    /// What is wrong, in words.
    pub reason: String,
    /// 1-based column within the line, where known.
    pub column: Option<u64>,
}

/// Turns records into [`Event`]s, sharing repeated names and values between them.
///
/// One parser is used per replay; its interner is bounded, so memory does not grow with the
/// length of the log.
#[derive(Debug, Default)]
pub struct EventParser {
    interner: Interner,
    only: Only,
}

/// The top-level fields a replay can read, and which positions of the last record's names
/// were left unread.
///
/// Why: turning a value no expression reads into a Rhai value is the larger part of parsing
/// (a nested object becomes a map of shared strings, then is freed unread: 18 % of a stateless
/// replay of the benchmark's events, whose `attributes` no rule reads). A field outside the set
/// is still parsed through the same `deserialize_any` paths as every value — so a line is
/// valid, invalid or a duplicate exactly as before — but builds nothing, and the event holds
/// `()` under its name.
#[derive(Debug, Default)]
struct Only {
    /// `None`: every field is read.
    fields: Option<Rc<FieldSet>>,
    /// Per position of `Interner::names`: whether the name there is left unread.
    unread: Vec<bool>,
}

impl Only {
    /// Whether the field `name` at `position` is left unread; `repeated`: the previous
    /// record had this name at this position (so its answer stands).
    fn unread(&mut self, name: &ImmutableString, position: usize, repeated: bool) -> bool {
        let Some(fields) = &self.fields else {
            return false;
        };
        if repeated && let Some(unread) = self.unread.get(position) {
            return *unread;
        }
        let unread = !fields.contains(name);
        self.unread.truncate(position);
        if self.unread.len() == position {
            self.unread.push(unread);
        }
        unread
    }
}

impl EventParser {
    /// A parser with an empty interner.
    pub fn new() -> Self {
        Self::default()
    }

    /// Turns into values only the top-level fields in `fields` (with `time`, `kind` and `id`,
    /// which are always read); the others hold `()`. `None`: every field.
    pub(crate) fn reading_only(&mut self, fields: Option<Rc<FieldSet>>) {
        self.only = Only {
            fields,
            unread: Vec::new(),
        };
    }

    /// Parses one JSON object (one line of a JSON Lines file).
    pub fn parse_json(&mut self, text: &str, origin: Origin) -> Result<Event, EventError> {
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let record = RecordSeed {
            interner: &mut self.interner,
            only: &mut self.only,
        }
        .deserialize(&mut deserializer)
        .and_then(|record| deserializer.end().map(|()| record));
        match record {
            Ok(record) => record.into_event(origin),
            Err(err) => Err(EventError {
                kind: json_kind(&err),
                reason: json_reason(&err),
                column: Some(err.column() as u64).filter(|c| *c > 0),
            }),
        }
    }

    /// Parses one JSON object into a map of its fields, for a mapping to turn into an event
    /// (no field is required; a duplicated field is an error, as for events).
    pub fn parse_json_record(&mut self, text: &str) -> Result<Map, EventError> {
        let mut deserializer = serde_json::Deserializer::from_str(text);
        MapSeed {
            interner: &mut self.interner,
        }
        .deserialize(&mut deserializer)
        .and_then(|record| deserializer.end().map(|()| record))
        .map_err(|err| EventError {
            kind: json_kind(&err),
            reason: json_reason(&err),
            column: Some(err.column() as u64).filter(|c| *c > 0),
        })
    }

    /// Converts one record already parsed from another format (a YAML list item) into a map of
    /// its fields, for a mapping.
    pub fn value_record(&mut self, value: serde_json::Value) -> Result<Map, EventError> {
        MapSeed {
            interner: &mut self.interner,
        }
        .deserialize(value)
        .map_err(|err| EventError {
            kind: json_kind(&err),
            reason: err.to_string(),
            column: None,
        })
    }

    /// A shared copy of a short string that repeats from record to record (CSV cells).
    pub(crate) fn intern(&mut self, text: &str) -> ImmutableString {
        self.interner.get(text)
    }

    /// Converts one record already parsed from another format (a YAML list item).
    pub fn parse_value(
        &mut self,
        value: serde_json::Value,
        origin: Origin,
    ) -> Result<Event, EventError> {
        RecordSeed {
            interner: &mut self.interner,
            only: &mut self.only,
        }
        .deserialize(value)
        .map_err(|err| EventError {
            kind: json_kind(&err),
            reason: err.to_string(),
            column: None,
        })
        .and_then(|record| record.into_event(origin))
    }
}

/// A syntax error, or a valid document that is not an event record (not an object, a field
/// given twice).
fn json_kind(err: &serde_json::Error) -> Invalid {
    match err.classify() {
        serde_json::error::Category::Data => Invalid::Event,
        _ => Invalid::Syntax,
    }
}

/// serde_json appends " at line L column C" to its messages; the reader reports the position
/// itself, with the file name, so the suffix is cut.
fn json_reason(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(at) => text.get(..at).unwrap_or(&text).to_string(),
        None => text,
    }
}

/// A record before its required fields are checked.
struct Record {
    /// The parsed instant, or why the value is not one.
    time: Option<Result<DateTime<Utc>, String>>,
    kind: Option<Dynamic>,
    id: Option<Dynamic>,
    fields: Vec<(ImmutableString, Dynamic)>,
}

impl Record {
    fn into_event(self, origin: Origin) -> Result<Event, EventError> {
        let fail = |reason: String| EventError {
            kind: Invalid::Event,
            reason,
            column: None,
        };
        let time = match self.time {
            None => return Err(fail("missing required field `time`".into())),
            Some(time) => time.map_err(fail)?,
        };
        let kind = match self.kind {
            None => return Err(fail("missing required field `kind`".into())),
            Some(value) => match value.into_immutable_string() {
                Ok(kind) if !kind.trim().is_empty() => kind,
                Ok(_) => return Err(fail("field `kind` is empty".into())),
                Err(ty) => {
                    return Err(fail(format!(
                        "field `kind` must be a string, not {}",
                        type_word(ty)
                    )));
                }
            },
        };
        let id = match self.id {
            None => None,
            Some(value) if value.is_string() => value.into_immutable_string().ok(),
            Some(value) if value.is_int() => Some(value.to_string().into()),
            Some(value) => {
                return Err(fail(format!(
                    "field `id` must be a string or an integer, not {}",
                    type_word(value.type_name())
                )));
            }
        };
        Ok(Event::from_parts(time, kind, id, origin, self.fields))
    }
}

fn type_word(rhai_type: &str) -> &str {
    match rhai_type {
        "i64" => "a number",
        "f64" => "a number",
        "bool" => "a boolean",
        "()" => "null",
        "array" => "an array",
        "map" => "an object",
        other => other,
    }
}

/// Shares repeated short strings (field names, kinds, actor names) between events.
///
/// Field names also go through a positional cache: the events of a log mostly repeat the same
/// names in the same order, so the name at position `i` is compared with the previous record's
/// name at `i` (one comparison, no hashing) before the table is asked. Reusing the previous
/// record's strings keeps a field's name the same shared string from event to event, which lets
/// [`Event::lookup_hinted`] find a field by pointer.
#[derive(Debug, Default)]
struct Interner {
    strings: rustc_hash::FxHashMap<Box<str>, ImmutableString>,
    /// The top-level field names of the last record, in input order.
    names: Vec<ImmutableString>,
    /// `names` is exactly the names of the last record, and that record was read whole (so its
    /// names are distinct).
    names_whole: bool,
}

impl Interner {
    /// Strings longer than this are not worth a lookup: free text rarely repeats.
    const MAX_LEN: usize = 48;
    /// A bound on the table, so that a log of unique values cannot grow it without end.
    const MAX_ENTRIES: usize = 8192;

    fn get(&mut self, text: &str) -> ImmutableString {
        if text.len() > Self::MAX_LEN {
            return text.into();
        }
        if let Some(shared) = self.strings.get(text) {
            return shared.clone();
        }
        let shared = ImmutableString::from(text);
        if self.strings.len() < Self::MAX_ENTRIES {
            self.strings.insert(text.into(), shared.clone());
        }
        shared
    }

    /// The top-level field name at `position` of the record being read, and whether it is the
    /// previous record's name at that position.
    fn name(&mut self, position: usize, text: &str) -> (ImmutableString, bool) {
        if let Some(previous) = self.names.get(position)
            && previous.as_str() == text
        {
            return (previous.clone(), true);
        }
        let name = self.get(text);
        self.names.truncate(position);
        self.names.push(name.clone());
        (name, false)
    }
}

struct RecordSeed<'a> {
    interner: &'a mut Interner,
    only: &'a mut Only,
}

impl<'de> DeserializeSeed<'de> for RecordSeed<'_> {
    type Value = Record;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Record, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RecordSeed<'_> {
    type Value = Record;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an event object such as {\"time\": \"2024-10-23\", \"kind\": \"airstrike\"}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Record, A::Error> {
        let mut record = Record {
            time: None,
            kind: None,
            id: None,
            // Room for as many fields as the last record had: events of a log mostly share a
            // shape, and growing the vector field by field would reallocate it four times.
            fields: Vec::with_capacity(self.interner.names.len()),
        };
        // Duplicate names are found by a scan while the record is small and by a set once it
        // is not, so that a line with thousands of fields still reads in linear time. No search
        // at all while the names repeat the previous record's (read whole, so distinct) in order:
        // the common case of a log whose events all have the same shape.
        let mut names: Option<rustc_hash::FxHashSet<ImmutableString>> = None;
        let mut as_before = std::mem::take(&mut self.interner.names_whole);
        let mut position = 0;
        while let Some((key, repeated)) = map.next_key_seed(NameSeed {
            interner: self.interner,
            position,
        })? {
            position += 1;
            as_before &= repeated;
            if key.as_str() == "time" {
                // Parsed where it lies in the input: no string is built for it.
                if record.time.is_some() {
                    return Err(de::Error::custom("duplicate field `time`"));
                }
                record.time = Some(map.next_value_seed(TimeSeed)?);
                continue;
            }
            // Ids are unique: sharing them would only fill the interner.
            let shared = key.as_str() != "id";
            let value = if key.as_str() != "kind"
                && key.as_str() != "id"
                && self.only.unread(&key, position - 1, repeated)
            {
                map.next_value_seed(Unread)?;
                Dynamic::UNIT
            } else {
                map.next_value_seed(ValueSeed {
                    interner: self.interner,
                    shared,
                })?
            };
            let slot = match key.as_str() {
                "kind" => &mut record.kind,
                "id" => &mut record.id,
                _ => {
                    let duplicate = match &mut names {
                        Some(names) => !names.insert(key.clone()),
                        None if as_before => false,
                        None => record.fields.iter().any(|(k, _)| *k == key),
                    };
                    if duplicate {
                        return Err(de::Error::custom(format!("duplicate field `{key}`")));
                    }
                    record.fields.push((key, value));
                    if names.is_none() && record.fields.len() >= 32 {
                        names = Some(record.fields.iter().map(|(k, _)| k.clone()).collect());
                    }
                    continue;
                }
            };
            if slot.is_some() {
                return Err(de::Error::custom(format!("duplicate field `{key}`")));
            }
            *slot = Some(value);
        }
        self.interner.names.truncate(position);
        self.interner.names_whole = true;
        Ok(record)
    }
}

/// A whole record as a map of its fields (for a mapping): an object, with distinct names.
struct MapSeed<'a> {
    interner: &'a mut Interner,
}

impl<'de> DeserializeSeed<'de> for MapSeed<'_> {
    type Value = Map;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Map, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for MapSeed<'_> {
    type Value = Map;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a record object such as {\"date\": \"2024-10-23\", \"type\": 1}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Map, A::Error> {
        let mut record = Map::new();
        while let Some(key) = map.next_key_seed(StrSeed {
            interner: self.interner,
        })? {
            let value = map.next_value_seed(ValueSeed {
                interner: self.interner,
                shared: true,
            })?;
            if record.insert(key.as_str().into(), value).is_some() {
                return Err(de::Error::custom(format!("duplicate field `{key}`")));
            }
        }
        Ok(record)
    }
}

/// A top-level field name: through the positional cache, with whether it repeats the previous
/// record's name at this position.
struct NameSeed<'a> {
    interner: &'a mut Interner,
    position: usize,
}

impl<'de> DeserializeSeed<'de> for NameSeed<'_> {
    type Value = (ImmutableString, bool);

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for NameSeed<'_> {
    type Value = (ImmutableString, bool);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(self.interner.name(self.position, v))
    }
}

/// The time of a JSON object, without parsing the rest: its first `time` key's value, as an
/// event's (`None` if it has none, or not a valid one, or the text is not an object). For text
/// that makes a valid event, the event's time: the same decoding of keys, the same
/// [`TimeSeed`].
pub(crate) fn time_of(text: &str) -> Option<DateTime<Utc>> {
    match flat_time_of(text) {
        Some(time) => time,
        None => decoded_time_of(text),
    }
}

/// [`time_of`] for the usual line, quickly: a flat object (no nested object or list before its
/// `time`) with no escape anywhere, so that every string's bytes are what they decode to and a
/// key can be compared as written. `None` for any other line: then JSON decoding decides.
fn flat_time_of(text: &str) -> Option<Option<DateTime<Utc>>> {
    let bytes = text.as_bytes();
    if memchr::memchr(b'\\', bytes).is_some() {
        return None;
    }
    let skip = |mut at: usize| {
        while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
            at += 1;
        }
        at
    };
    // The string that opens at `at`: its text and where it ends (after the closing quote).
    let string = |at: usize| -> Option<(&str, usize)> {
        let rest = bytes.get(at + 1..)?;
        let len = memchr::memchr(b'"', rest)?;
        Some((text.get(at + 1..at + 1 + len)?, at + len + 2))
    };
    let mut at = skip(0);
    if bytes.get(at) != Some(&b'{') {
        return None;
    }
    at += 1;
    loop {
        at = skip(at);
        match bytes.get(at) {
            Some(b'}') => return Some(None),
            Some(b'"') => {}
            _ => return None,
        }
        let (key, end) = string(at)?;
        at = skip(end);
        if bytes.get(at) != Some(&b':') {
            return None;
        }
        at = skip(at + 1);
        if key == "time" {
            if bytes.get(at) != Some(&b'"') {
                return None;
            }
            let (value, _) = string(at)?;
            return Some(parse_instant(value).ok().map(|(time, _)| time));
        }
        // Skip the value: a string, or a number, `true`, `false` or `null`.
        match bytes.get(at) {
            Some(b'"') => at = string(at)?.1,
            Some(b'{' | b'[') | None => return None,
            Some(_) => {
                while bytes
                    .get(at)
                    .is_some_and(|b| !matches!(b, b',' | b'}') && !b.is_ascii_whitespace())
                {
                    at += 1;
                }
            }
        }
        at = skip(at);
        match bytes.get(at) {
            Some(b',') => at += 1,
            Some(b'}') => return Some(None),
            _ => return None,
        }
    }
}

/// [`time_of`] by decoding the JSON: keys with escapes, nested values.
fn decoded_time_of(text: &str) -> Option<DateTime<Utc>> {
    struct TimeOf;
    impl<'de> Visitor<'de> for TimeOf {
        type Value = Option<DateTime<Utc>>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut time = None;
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                if key == "time" && time.is_none() {
                    time = Some(map.next_value_seed(TimeSeed)?.ok());
                } else {
                    map.next_value_seed(Unread)?;
                }
            }
            Ok(time.flatten())
        }
    }
    let mut deserializer = serde_json::Deserializer::from_str(text);
    deserializer.deserialize_map(TimeOf).ok().flatten()
}

/// The `time` field: parsed straight from the input text.
struct TimeSeed;

impl<'de> DeserializeSeed<'de> for TimeSeed {
    type Value = Result<DateTime<Utc>, String>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl TimeSeed {
    fn not_text(what: &str) -> Result<DateTime<Utc>, String> {
        Err(format!(
            "field `time` must be a string (RFC 3339 time or YYYY-MM-DD date), not {what}"
        ))
    }
}

impl<'de> Visitor<'de> for TimeSeed {
    type Value = Result<DateTime<Utc>, String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a time")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(parse_instant(v)
            .map(|(time, _)| time)
            .map_err(|why| format!("field `time`: {why}")))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Self::not_text("a boolean"))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Self::not_text("a number"))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Self::not_text("a number"))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Self::not_text("a number"))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Self::not_text("null"))
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Self::not_text("null"))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<de::IgnoredAny>()?.is_some() {}
        Ok(Self::not_text("an array"))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map
            .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
            .is_some()
        {}
        Ok(Self::not_text("an object"))
    }
}

struct StrSeed<'a> {
    interner: &'a mut Interner,
}

impl<'de> DeserializeSeed<'de> for StrSeed<'_> {
    type Value = ImmutableString;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<ImmutableString, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for StrSeed<'_> {
    type Value = ImmutableString;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<ImmutableString, E> {
        Ok(self.interner.get(v))
    }
}

/// Any JSON value, straight into a Rhai value.
struct ValueSeed<'a> {
    interner: &'a mut Interner,
    /// Share strings through the interner; off for values that never repeat (`time`, `id`).
    shared: bool,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Dynamic;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Dynamic, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Dynamic;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Dynamic, E> {
        Ok(Dynamic::from_bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Dynamic, E> {
        Ok(Dynamic::from_int(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Dynamic, E> {
        // Integers beyond i64 keep their magnitude as a float rather than failing the event.
        Ok(match i64::try_from(v) {
            Ok(v) => Dynamic::from_int(v),
            Err(_) => Dynamic::from_float(v as f64),
        })
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Dynamic, E> {
        Ok(Dynamic::from_float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Dynamic, E> {
        Ok(if self.shared {
            self.interner.get(v).into()
        } else {
            v.into()
        })
    }

    fn visit_unit<E: de::Error>(self) -> Result<Dynamic, E> {
        Ok(Dynamic::UNIT)
    }

    fn visit_none<E: de::Error>(self) -> Result<Dynamic, E> {
        Ok(Dynamic::UNIT)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Dynamic, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Dynamic, A::Error> {
        let mut items = Array::new();
        while let Some(item) = seq.next_element_seed(ValueSeed {
            interner: self.interner,
            shared: true,
        })? {
            items.push(item);
        }
        Ok(items.into())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Dynamic, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key_seed(StrSeed {
            interner: self.interner,
        })? {
            let value = map.next_value_seed(ValueSeed {
                interner: self.interner,
                shared: true,
            })?;
            object.insert(key.as_str().into(), value);
        }
        Ok(object.into())
    }
}

/// A value no expression reads: parsed through `deserialize_any` like every other value, so
/// that it is accepted or rejected exactly as [`ValueSeed`] would (a number out of range, a
/// bad escape, nesting too deep), but nothing is built.
struct Unread;

impl<'de> DeserializeSeed<'de> for Unread {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Unread {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Unread)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_key_seed(Unread)?.is_some() {
            map.next_value_seed(Unread)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scan of times gives every valid event's own time, by the quick path or by decoding,
    /// and the quick path gives up on what it cannot read as written.
    #[test]
    fn the_time_of_a_line_is_the_time_of_its_event() {
        let lines = [
            r#"{"id":"a","time":"2024-01-01T01:00:00Z","kind":"x"}"#,
            r#"{ "time" : "2024-01-01T01:00:00+02:00" , "kind":"x"}"#,
            r#"{"n":1.5e3,"b":true,"z":null,"time":"2024-01-01","kind":"x"}"#,
            r#"{"x":"a,b}\"","time":"2024-03-01","kind":"x"}"#,
            r#"{"x":"a,b}","time":"2024-03-02","kind":"x"}"#,
            r#"{"meta":{"time":"1999-01-01"},"time":"2024-01-05","kind":"x"}"#,
            r#"{"t\u0069me":"2024-01-06","kind":"x"}"#,
            r#"{"kind":"x","time":"2024-01-07T23:59:59.123456789Z"}"#,
        ];
        let mut parser = EventParser::new();
        for line in lines {
            let origin = Origin {
                file: "t".into(),
                line: 1,
            };
            let event = parser.parse_json(line, origin).unwrap();
            assert_eq!(time_of(line), Some(event.time()), "{line}");
            assert_eq!(decoded_time_of(line), Some(event.time()), "{line}");
            if let Some(quick) = flat_time_of(line) {
                assert_eq!(quick, Some(event.time()), "{line}");
            }
        }
        // Escapes and nested values: decoded, not read as written.
        assert_eq!(flat_time_of(lines[3]), None);
        assert_eq!(flat_time_of(lines[5]), None);
        assert_eq!(flat_time_of(lines[6]), None);
        assert!(flat_time_of(lines[0]).is_some() && flat_time_of(lines[4]).is_some());
        // Lines that are no event give no time, or one that orders nothing wrongly.
        assert_eq!(time_of(r#"{"kind":"x"}"#), None);
        assert_eq!(time_of(r#"{"time":5,"kind":"x"}"#), None);
        assert_eq!(time_of("not json"), None);
    }

    fn origin() -> Origin {
        Origin {
            file: "log.jsonl".into(),
            line: 7,
        }
    }

    #[test]
    fn fields_are_typed_and_missing_ones_read_as_unit() {
        let mut parser = EventParser::new();
        let event = parser
            .parse_json(
                r#"{"time":"2024-10-23T21:00:00+03:00","kind":"airstrike","targets":32,"lat":37.17,"pos":{"x":[1,2]}}"#,
                origin(),
            )
            .unwrap();
        assert_eq!(event.get("time").to_string(), "2024-10-23T18:00:00Z");
        assert_eq!(event.get("targets").as_int(), Ok(32));
        assert_eq!(event.get("lat").as_float(), Ok(37.17));
        assert!(event.get("actor").is_unit());
        assert!(event.get("pos").is_map());
        assert_eq!(event.id(), "log.jsonl:7");
    }

    #[test]
    fn records_without_time_or_kind_are_rejected_with_the_reason() {
        let mut parser = EventParser::new();
        let cases = [
            (r#"{"kind":"x"}"#, "missing required field `time`"),
            (r#"{"time":"2024-01-01"}"#, "missing required field `kind`"),
            (r#"{"time":5,"kind":"x"}"#, "field `time` must be a string"),
            (
                r#"{"time":"yesterday","kind":"x"}"#,
                "field `time`: `yesterday` is not a date",
            ),
            (
                r#"{"time":"2024-01-01","kind":"x","a":1,"a":2}"#,
                "duplicate field `a`",
            ),
            (
                r#"[1,2]"#,
                "invalid type: sequence, expected an event object",
            ),
            (
                r#"{"time":"2024-01-01","kind":"x"} trailing"#,
                "trailing characters",
            ),
        ];
        for (line, want) in cases {
            let err = parser.parse_json(line, origin()).unwrap_err();
            assert!(err.reason.starts_with(want), "{line}: got {:?}", err.reason);
        }
    }
}
