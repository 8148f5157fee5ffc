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
    /// [`Event::footprint`], once computed (0: not yet; a footprint is never 0).
    footprint: std::cell::Cell<u64>,
    /// The fields whose values contradict the run's vocabulary (`crate::input::conform`):
    /// an expression that reads one fails, rather than compare a value of the wrong type.
    /// `None` for almost every event.
    #[serde(default)]
    nonconforming: Option<Box<[(String, Nonconformity)]>>,
}

/// The type a field's values must have.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    /// A string.
    Text,
    /// An integer or a float.
    Number,
    /// An integer (a float is not one, even `90.0`).
    Integer,
    /// `true` or `false`.
    Boolean,
    /// A string that is an RFC 3339 instant or a date (`2024-03-14`).
    Time,
    /// A list (a JSON array).
    List,
    /// An object (a JSON object).
    Object,
}

impl FieldType {
    /// Every type, as written.
    pub const ALL: [FieldType; 7] = [
        FieldType::Text,
        FieldType::Number,
        FieldType::Integer,
        FieldType::Boolean,
        FieldType::Time,
        FieldType::List,
        FieldType::Object,
    ];

    /// As written in a vocabulary: `text`, `number`, …
    pub fn name(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Number => "number",
            FieldType::Integer => "integer",
            FieldType::Boolean => "boolean",
            FieldType::Time => "time",
            FieldType::List => "list",
            FieldType::Object => "object",
        }
    }

    /// As a sentence names it: "text", "a number", "an integer", …
    pub fn described(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Number => "a number",
            FieldType::Integer => "an integer",
            FieldType::Boolean => "a boolean",
            FieldType::Time => "a time",
            FieldType::List => "a list",
            FieldType::Object => "an object",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<FieldType> {
        FieldType::ALL.into_iter().find(|t| t.name() == text)
    }

    /// Whether `value` (not `()`, which is a value not reported) is of this type.
    pub fn admits(self, value: &Dynamic) -> bool {
        match self {
            FieldType::Text => value.is_string(),
            FieldType::Number => value.is_int() || value.is_float(),
            FieldType::Integer => value.is_int(),
            FieldType::Boolean => value.is_bool(),
            FieldType::Time => value
                .read_lock::<rhai::ImmutableString>()
                .is_some_and(|text| crate::time::parse_instant(&text).is_ok()),
            FieldType::List => value.is_array(),
            FieldType::Object => value.is_map(),
        }
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How a field's value contradicts its declaration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Nonconformity {
    /// The value is not of the declared type.
    Type(FieldType),
    /// The value is of the type but not one of the declared values.
    Value,
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

    /// Every field, in the order read.
    pub(crate) fn fields(&self) -> impl Iterator<Item = (&ImmutableString, &Dynamic)> {
        self.fields.iter().map(|(name, value)| (name, value))
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
            footprint: std::cell::Cell::new(0),
            nonconforming: None,
        }
    }

    /// Marks the fields whose values contradict the vocabulary (none: unmarks).
    pub(crate) fn mark_nonconforming(&mut self, fields: Vec<(String, Nonconformity)>) {
        self.nonconforming = (!fields.is_empty()).then(|| fields.into_boxed_slice());
    }

    /// How field `name`'s value contradicts the vocabulary, if it does.
    #[inline]
    pub(crate) fn nonconformity(&self, name: &str) -> Option<Nonconformity> {
        let marked = self.nonconforming.as_ref()?;
        marked
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, how)| *how)
    }

    /// Whether some field's value contradicts the vocabulary.
    #[inline]
    pub(crate) fn has_nonconforming(&self) -> bool {
        self.nonconforming.is_some()
    }

    /// `event.NAME` as an expression reads it: the value, or the failure of reading a value
    /// that contradicts the vocabulary ("the field `tanks` is the text "90", not an integer").
    pub(crate) fn read(&self, name: &str) -> Result<Dynamic, Box<rhai::EvalAltResult>> {
        if self.nonconforming.is_some()
            && let Some(how) = self.nonconformity(name)
        {
            return Err(self.nonconforming_message(name, how).into());
        }
        Ok(self.get(name))
    }

    /// Why reading field `name` fails.
    pub(crate) fn nonconforming_message(&self, name: &str, how: Nonconformity) -> String {
        let value = self.field(name).map_or_else(|| "()".to_string(), described);
        match how {
            Nonconformity::Type(ty) => format!(
                "the field `{name}` is {value}, not {} as the vocabulary declares",
                ty.described()
            ),
            Nonconformity::Value => format!(
                "the field `{name}` is {value}, not one of the values the vocabulary declares"
            ),
        }
    }

    /// The bytes this event occupies in memory, at most: what a term's state is charged for
    /// holding it (docs/security.md, "Live state"). An upper bound by construction — every
    /// string counted as its own allocation even when it is shared, every map as sparse as
    /// a B-tree can be — because the limits on live state must hold for the worst event an
    /// input can make, not the usual one. Computed on first asking, then remembered: the
    /// state charges it when it takes the event and refunds it when it lets the event go,
    /// and the two must agree.
    pub(crate) fn footprint(&self) -> u64 {
        let known = self.footprint.get();
        if known != 0 {
            return known;
        }
        let fields: u64 = self
            .fields
            .iter()
            .map(|(name, value)| footprint::text(name) + footprint::value(value))
            .sum();
        let bytes = footprint::block(size_of::<Event>() + footprint::RC_COUNTS)
            + footprint::buffer::<(ImmutableString, Dynamic)>(self.fields.capacity())
            + fields
            + footprint::text(&self.kind)
            + self.id.as_ref().map_or(0, footprint::text)
            + self.nonconforming.as_ref().map_or(0, |marked| {
                footprint::buffer::<(String, Nonconformity)>(marked.len())
                    + marked
                        .iter()
                        .map(|(name, _)| footprint::block(name.len()))
                        .sum::<u64>()
            });
        self.footprint.set(bytes);
        bytes
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

/// The memory model of [`Event::footprint`]: what each value parsed from an input occupies on
/// the heap, at most, with the allocator's overhead.
///
/// Why a model and not the allocator's own count: the count must be the same on every run and
/// machine (it decides when a term is suspended), and it must be charged to the state that
/// holds the event, whoever allocated it. Measured against it (docs/security.md, "Live
/// state"): 1 MiB lines of every shape the parser builds — long texts, arrays of numbers, of
/// empty arrays, of one-entry objects, objects of many keys, records of many fields — each
/// occupy less than the model says.
pub(crate) mod footprint {
    use std::collections::BTreeMap;

    use rhai::{Dynamic, Identifier, ImmutableString};

    /// What the allocator adds to a block: an 8-byte header, the whole rounded up to 16, and
    /// never less than 32 (glibc's malloc on 64 bits).
    const HEADER: usize = 8;
    const ALIGN: usize = 16;
    const SMALLEST: usize = 32;
    /// A reference count's counters (strong and weak) before the value it shares.
    pub(crate) const RC_COUNTS: usize = 16;
    /// Texts up to this long are kept inline in a small string (`Identifier`).
    const INLINE: usize = 23;
    /// A B-tree node holds up to 11 entries, and every node but the root at least 5 (std's
    /// `BTreeMap`, whose `B` is 6); an internal node adds 12 pointers to its children.
    const NODE_ENTRIES: u64 = 11;
    const NODE_MIN_ENTRIES: u64 = 5;

    /// One heap block of `bytes`, as the allocator takes it.
    pub(crate) const fn block(bytes: usize) -> u64 {
        let taken = bytes.saturating_add(HEADER + ALIGN - 1) / ALIGN * ALIGN;
        if taken < SMALLEST {
            SMALLEST as u64
        } else {
            taken as u64
        }
    }

    /// A block of `bytes` plus a text of any length: at most this much more than the text.
    pub(crate) const fn block_with_text(bytes: usize) -> u64 {
        (bytes + HEADER + ALIGN - 1) as u64
    }

    /// A vector's buffer of `capacity` elements of `T` (none when empty).
    pub(super) fn buffer<T>(capacity: usize) -> u64 {
        if capacity == 0 {
            0
        } else {
            block(capacity.saturating_mul(size_of::<T>()))
        }
    }

    /// A shared text (`ImmutableString`: a small string behind a reference count), and the
    /// text's own block when it is too long to be kept inline. A text shared by several
    /// events (field names and repeated values are) is held once but counted in each.
    pub(super) fn text(text: &ImmutableString) -> u64 {
        block(RC_COUNTS + size_of::<Identifier>()) + inline_or_block(text.len())
    }

    /// A small string's text: inline up to [`INLINE`] bytes, else a block of its own.
    fn inline_or_block(len: usize) -> u64 {
        if len > INLINE { block(len) } else { 0 }
    }

    /// What a value owns on the heap besides itself (a `Dynamic` is counted where it lies:
    /// in the fields, an array's buffer, a map's node).
    pub(super) fn value(value: &Dynamic) -> u64 {
        // The usual values first: a field no expression reads is `()`, most others texts.
        if value.is_unit() {
            0
        } else if let Ok(text) = value.as_immutable_string_ref() {
            self::text(&text)
        } else if value.is_float() || value.is_int() || value.is_bool() || value.is_char() {
            0
        } else if let Ok(array) = value.as_array_ref() {
            block(size_of::<rhai::Array>())
                + buffer::<Dynamic>(array.capacity())
                + array.iter().map(self::value).sum::<u64>()
        } else if let Ok(map) = value.as_map_ref() {
            let entries: u64 = map
                .iter()
                .map(|(key, value)| inline_or_block(key.len()) + self::value(value))
                .sum();
            block(size_of::<rhai::Map>()) + nodes(&map) + entries
        } else {
            // Nothing an input makes (a mapping's expressions could make a function pointer,
            // within the sandbox's sizes): a generous fixed amount.
            block(1024)
        }
    }

    /// The nodes of a map: at most one for every 5 entries, and the root.
    fn nodes<K, V>(map: &BTreeMap<K, V>) -> u64 {
        let entries = map.len() as u64;
        if entries == 0 {
            return 0;
        }
        let leaf = 8 + NODE_ENTRIES as usize * (size_of::<K>() + size_of::<V>()) + 4;
        let internal = leaf + (NODE_ENTRIES as usize + 1) * 8;
        (1 + entries / NODE_MIN_ENTRIES) * block(internal)
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

/// A value as a message shows it: its type and, shortened, itself ("the text "90"").
pub(crate) fn described(value: &Dynamic) -> String {
    let shorten = |text: &str| {
        let shown: String = text.chars().take(40).collect();
        let more = if text.chars().nth(40).is_some() {
            "…"
        } else {
            ""
        };
        format!("{shown:?}{more}")
    };
    if let Some(text) = value.read_lock::<ImmutableString>() {
        format!("the text {}", shorten(&text))
    } else if let Ok(i) = value.as_int() {
        format!("the number {i}")
    } else if let Ok(f) = value.as_float() {
        format!("the number {f:?}")
    } else if let Ok(b) = value.as_bool() {
        format!("the boolean {b}")
    } else if value.is_array() {
        "a list".to_string()
    } else if value.is_map() {
        "an object".to_string()
    } else if value.is_unit() {
        "`()`".to_string()
    } else {
        format!("a {}", value.type_name())
    }
}

/// Whether `text` is a party's code: an uppercase letter, then uppercase letters, digits, `-`
/// or `_` (`IQ`, `IQ-KRG`). Agreements declare parties by it, and events' claims name them by
/// it, so it lives with the events, which every stage reads.
pub(crate) fn is_party_code(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// The event field that carries its claims ([`Claim`]).
pub const CLAIMS: &str = "claims";

/// The most claims one event may carry: enough for every party to a dispute and its
/// spokesmen, few enough that no event can make a violation's evidence large.
pub const MAX_CLAIMS: usize = 32;

/// What one party says of an event: that it alleges it (blames someone, reports it as a
/// breach) or denies it, with its own words and where they were said. An event carries its
/// claims as a list under `claims` (docs/inputs.md, "Claims"): `[{party: IQ, says: alleges,
/// statement: "…", source: "…"}, {party: TR, says: denies}]`. A report shows a violation's
/// claims side by side and counts them per party.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Claim {
    /// Who says it, by code (`IQ`), as agreements name parties.
    pub party: String,
    /// What it says.
    pub says: Stance,
    /// Its words, if the event gives them.
    pub statement: Option<String>,
    /// Where it said them (a URL, a document), if the event gives it.
    pub source: Option<String>,
}

/// What a party says of an event.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Stance {
    /// It alleges the event: says it happened and who is to blame.
    Alleges,
    /// It denies the event, or its part in it.
    Denies,
}

impl Stance {
    /// The word an event and a report use.
    pub fn as_str(self) -> &'static str {
        match self {
            Stance::Alleges => "alleges",
            Stance::Denies => "denies",
        }
    }
}

impl Claim {
    /// The claims of an event's `claims` value, or why it is not a list of claims: each is an
    /// object with a `party` code and `says` (`alleges` or `denies`), and optionally a
    /// `statement` and a `source`, all text. Read when the event is (an event whose claims
    /// cannot be read is an invalid line), so that no claim is dropped from a report unsaid.
    pub fn all_of(value: &Dynamic) -> Result<Vec<Claim>, String> {
        let Some(items) = value.read_lock::<rhai::Array>() else {
            return Err(format!(
                "`claims` is {}, not a list of claims ({{party: IQ, says: alleges}})",
                described(value)
            ));
        };
        if items.len() > MAX_CLAIMS {
            return Err(format!(
                "`claims` has {} claims; an event carries at most {MAX_CLAIMS}",
                items.len()
            ));
        }
        items
            .iter()
            .enumerate()
            .map(|(i, item)| Claim::of(item, i))
            .collect()
    }

    /// The claim `item`, the `i`th of the list (from 0).
    fn of(item: &Dynamic, i: usize) -> Result<Claim, String> {
        const KEYS: [&str; 4] = ["party", "says", "statement", "source"];
        let Some(map) = item.read_lock::<rhai::Map>() else {
            return Err(format!(
                "`claims[{i}]` is {}, not a claim ({{party: IQ, says: alleges}})",
                described(item)
            ));
        };
        if let Some(key) = map.keys().find(|k| !KEYS.contains(&k.as_str())) {
            let hint = crate::diagnostic::did_you_mean(key, KEYS)
                .map_or(String::new(), |fix| format!(" (did you mean `{fix}`?)"));
            return Err(format!(
                "`claims[{i}]` has `{key}`{hint}; a claim has `party`, `says`, `statement` and `source`"
            ));
        }
        let text = |key: &str| -> Result<Option<String>, String> {
            match map.get(key) {
                None => Ok(None),
                Some(v) if v.is_unit() => Ok(None),
                Some(v) => v
                    .read_lock::<ImmutableString>()
                    .map(|t| Some(t.to_string()))
                    .ok_or_else(|| format!("`claims[{i}].{key}` is {}, not text", described(v))),
            }
        };
        let party = text("party")?.ok_or_else(|| {
            format!("`claims[{i}].party` is missing: say who claims it, by code (`IQ`)")
        })?;
        if !is_party_code(&party) {
            return Err(format!(
                "`claims[{i}].party` is {party:?}: a claim names its party by code, as agreements do (`IQ`, `TR`)"
            ));
        }
        let says = match text("says")?.as_deref() {
            Some("alleges") => Stance::Alleges,
            Some("denies") => Stance::Denies,
            Some(other) => {
                return Err(format!(
                    "`claims[{i}].says` is {other:?}, not `alleges` or `denies`"
                ));
            }
            None => {
                return Err(format!(
                    "`claims[{i}].says` is missing: `alleges` or `denies`"
                ));
            }
        };
        Ok(Claim {
            party,
            says,
            statement: text("statement")?,
            source: text("source")?,
        })
    }
}

/// The event as a Rhai value: a shared, read-only handle.
#[derive(Debug, Clone)]
pub struct EventHandle(pub Rc<Event>);

/// Registers the `Event` type with a Rhai engine: `event.FIELD` and `event["FIELD"]` read a
/// field (missing fields read as `()`), and nothing can write one.
pub(crate) fn register(engine: &mut Engine) {
    engine
        .register_type_with_name::<EventHandle>("Event")
        .register_indexer_get(|event: &mut EventHandle, name: &str| event.0.read(name))
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
        // What a mapping's expression can make besides (`record.name[0]`, `blob(2)`).
        Char(char),
        Blob(Vec<u8>),
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
        if let Ok(c) = dynamic.as_char() {
            return Ok(Value::Char(c));
        }
        if let Some(blob) = dynamic.read_lock::<rhai::Blob>() {
            return Ok(Value::Blob(blob.to_vec()));
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
            Value::Char(c) => c.into(),
            Value::Blob(bytes) => Dynamic::from_blob(bytes),
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
