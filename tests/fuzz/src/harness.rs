//! What each fuzz target does with the fuzzer's bytes (docs/security.md, "Fuzzing").
//!
//! Compiled twice: into the `pactum-fuzz` package, whose `fuzz_targets/` call these functions
//! under libFuzzer, and into the main crate's `tests/fuzz_corpus.rs`, which feeds them every
//! file of the committed corpus on stable Rust. A finding is a panic: pactum's own (user input
//! must never panic), or one of the checks here (a differential run that disagrees).
//!
//! - [`agreement`]: an agreement file, loaded (its geography's files read from a small fixed
//!   GeoJSON) and compiled with the default limits.
//! - [`events`]: an event file (JSON Lines, YAML or CSV, by the first byte) replayed against a
//!   small fixed agreement, stateless or temporal, with or without `skip_invalid`, read again or
//!   as a stream; the memo on and off must decide the same, and a stream with a reorder buffer
//!   longer than the log must decide what the sorted file does.
//! - [`mapping`]: CSV through the shipped UCDP mapping, or a mapping file over fixed CSV rows.
//! - [`scenario`]: a scenario file loaded, then judged against a fixed report.
//! - [`saved_report`]: a saved JSON report read and rendered in every format; what pactum
//!   writes as JSON must read back and write the same bytes.
//! - [`conditions`]: a generated agreement ([`Case`], structure-aware through `arbitrary`):
//!   conditions of comparisons, `in`, `&&`, `||`, `!`, built-ins and arithmetic, under every
//!   form, replayed on a few events: the memo on and off must decide the same, and the events
//!   shuffled (sorted from a file, or through a stream's reorder buffer) must decide what they
//!   decide in order (docs/semantics.md: events at distinct times, any order of lines).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    dead_code
)]

use std::fmt::Write as _;
use std::io::Cursor;
use std::rc::Rc;

use arbitrary::{Arbitrary, Unstructured};
use chrono::TimeDelta;
use pactum::engine::sink::Collect;
use pactum::input::mapping::Mapping;
use pactum::load::confine::Roots;
use pactum::run::{RunError, RunOutcome};
use pactum::{Input, InputFormat, Limits, Program, RunOptions, compile, load::agreement, run};

/// The GeoJSON every file an agreement names reads as: a line, an area and places, with the
/// properties the shipped rules match on.
const GEOJSON: &str = r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"a":"IRQ","b":"TUR","name":"border"},"geometry":{"type":"LineString","coordinates":[[42.0,37.0],[44.0,37.2],[45.0,37.1]]}},
{"type":"Feature","properties":{"ISO_A3":"IRQ","name":"iraq"},"geometry":{"type":"Polygon","coordinates":[[[42.0,36.0],[45.0,36.0],[45.0,38.0],[42.0,38.0],[42.0,36.0]]]}},
{"type":"Feature","properties":{"name":"Zakho"},"geometry":{"type":"Point","coordinates":[42.68,37.14]}},
{"type":"Feature","properties":{"name":"Erbil"},"geometry":{"type":"Point","coordinates":[44.01,36.19]}}
]}"#;

/// Loads an agreement from text, its files read as [`GEOJSON`].
fn load_agreement(name: &str, text: &str) -> Option<pactum::Agreement> {
    let (agreement, _) = agreement::load_with(name, text, &Roots::none(), &mut |_| {
        Ok(GEOJSON.as_bytes().to_vec())
    });
    agreement
}

/// Loads and compiles an agreement that must be valid (the harness's own).
fn program_of(text: &str) -> Program {
    let (agreement, problems) =
        agreement::load_with("fixed.yaml", text, &Roots::none(), &mut |_| {
            Ok(GEOJSON.as_bytes().to_vec())
        });
    let agreement = agreement.unwrap_or_else(|| panic!("{problems:?}"));
    let (program, problems) = compile(vec![agreement], &Limits::default());
    program.unwrap_or_else(|| panic!("{problems:?}"))
}

// ---------------------------------------------------------------------------------------------
// (a) agreement loader and compiler

/// An agreement file, loaded and compiled.
pub fn agreement(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Some(agreement) = load_agreement("fuzz.yaml", &text) {
        let _ = compile(vec![agreement], &Limits::default());
    }
}

// ---------------------------------------------------------------------------------------------
// Runs, compared

/// What a run decided: its violations in the order the sink got them and its outcome, or the
/// error that stopped it (as text).
type Decided = Result<(Vec<pactum::engine::sink::Violation>, RunOutcome), String>;

/// One input of `bytes`: read again (`file`) or a stream.
fn input(
    name: &str,
    bytes: Vec<u8>,
    format: InputFormat,
    file: bool,
    mapping: Option<Rc<Mapping>>,
) -> Input<'static> {
    let reopen: Option<pactum::run::Reopen<'static>> = if file {
        let again = bytes.clone();
        Some(Box::new(move || {
            Ok(Box::new(Cursor::new(again.clone())) as Box<dyn pactum::run::SeekRead>)
        }))
    } else {
        None
    };
    Input {
        name: name.into(),
        reader: Box::new(Cursor::new(bytes)),
        format,
        reopen,
        mapping,
    }
}

fn replay(program: &Program, inputs: Vec<Input<'static>>, options: RunOptions) -> Decided {
    let mut sink = Collect::default();
    match run(program, inputs, options, &mut sink) {
        Ok(outcome) => Ok((sink.0, outcome)),
        Err(RunError::Invalid(invalid)) => Err(format!("invalid: {invalid}")),
        Err(err) => Err(format!("{err:?}")),
    }
}

/// The memo on and off must decide exactly the same (tests/reference.rs, `--no-memo`).
fn same_without_memo(
    program: &Program,
    inputs: &dyn Fn() -> Vec<Input<'static>>,
    options: RunOptions,
    with_memo: &Decided,
) {
    let mut plain = options;
    plain.memo = false;
    let without = replay(program, inputs(), plain);
    if *with_memo != without {
        panic!(
            "the memo changed the result\n--- with the memo:\n{with_memo:#?}\n--- without:\n{without:#?}"
        );
    }
}

/// `text` with every `line: N` made `line: _`: what two orders of the same lines share.
fn without_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("line: ") {
        let (before, after) = rest.split_at(at + "line: ".len());
        out += before;
        out += "_";
        rest = after.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    out + rest
}

/// What a run decided that does not depend on the order of lines: violations in report order
/// (a program without a form judges events as read), per-term counts (not which failure came
/// first), open obligations; line numbers left out.
fn orderless(decided: &Decided) -> Result<(Vec<String>, String, String), String> {
    // Which invalid line stops a run depends on the order read.
    let (violations, outcome) = decided.as_ref().map_err(|_| "stopped".to_string())?;
    let mut violations: Vec<String> = violations
        .iter()
        .map(|v| without_lines(&format!("{v:?}")))
        .collect();
    violations.sort();
    let totals = &outcome.totals;
    let counts = totals
        .terms
        .iter()
        .map(|t| {
            format!(
                "{}.{}: evaluated {} out {} violations {} errors {} unkeyed {} unlocated {} suspended {}\n",
                t.agreement,
                t.term,
                t.evaluated,
                t.out_of_period,
                t.violations,
                t.errors,
                t.unkeyed,
                t.unlocated,
                t.suspended
            )
        })
        .collect::<String>()
        + format!("{} events, {:?} to {:?}", totals.events, totals.first, totals.last).as_str();
    let open = without_lines(&format!("{:?}", totals.open));
    Ok((violations, counts, open))
}

// ---------------------------------------------------------------------------------------------
// (b) the event parser

const EVENT_RULES: &str = r#"agreement: ev
title: Events
parties: {IQ: Iraq, TR: Türkiye}
lists:
  strikes: [airstrike, clash]
  groups: [PKK, KDPI, "5"]
geography:
  areas:
    zone: {polygon: [[42.0, 36.0], [45.0, 36.0], [45.0, 38.0], [42.0, 38.0], [42.0, 36.0]]}
terms:
  - {id: kinds, title: Kinds, breached_by: event.party, when: 'event.kind in strikes && event.country == "IQ"', message: '{event.kind} at {event.place} by {event.actor}'}
  - {id: numbers, title: Numbers, breached_by: TR, when: 'event.has("n") && event.n > 2 || event.lat >= 37.0'}
  - {id: groups, title: Groups, breached_by: IQ, when: '!(event.actor in groups) && event.kind != "patrol"', effective: {from: 2024-01-02}}
  - {id: where, title: Where, breached_by: IQ, when: 'inside(event, "zone") || event["x y"] == 1'}
"#;

const EVENT_FORMS: &str = r#"  - {id: window, title: Window, breached_by: TR, when: 'event.kind in strikes', threshold: {count: 2, within: 1h, by: event.actor}}
  - {id: answer, title: Answer, breached_by: IQ, when: 'event.kind == "request"', deadline: {within: 2h, require: 'event.kind == "reply" && event.ref == trigger.id'}}
  - {id: notice, title: Notice, breached_by: TR, when: 'event.kind == "airstrike"', deadline: {before: 1h, require: 'event.kind == "notice"'}}
  - {id: posts, title: Posts, breached_by: IQ, when: 'event.kind == "patrol"', absence: {within: 3h, by: event.sector, keys: [S1, S2]}}
  - {id: chain, title: Chain, breached_by: TR, sequence: {within: 1d, by: event.actor, steps: ['event.kind == "warning"', 'event.kind == "airstrike"']}}
"#;

thread_local! {
    static EVENT_PROGRAMS: [Program; 2] = [
        program_of(EVENT_RULES),
        program_of(&format!("{EVENT_RULES}{EVENT_FORMS}")),
    ];
}

/// The options the first byte chooses (the rest of it: see [`events`]).
fn options_of(mode: u8) -> RunOptions {
    let mut options = RunOptions::default();
    options.skip_invalid = mode & 0b100 != 0;
    if mode & 0b10_0000 != 0 {
        // The index path: nothing kept in memory, every event read again in order.
        options.in_memory = 0;
    }
    options
}

/// An event file. The first byte chooses: bits 0–1 the format (JSON Lines, YAML, CSV), bit 2
/// `skip_invalid`, bit 3 a stream (else a file read again), bit 4 the temporal agreement, bit 5
/// nothing sorted in memory, bit 6 the rest split into two inputs.
pub fn events(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let format = match mode & 0b11 {
        0 | 3 => InputFormat::JsonLines,
        1 => InputFormat::Yaml,
        _ => InputFormat::Csv,
    };
    let file = mode & 0b1000 == 0;
    let temporal = mode & 0b1_0000 != 0;
    let options = options_of(mode);
    let parts: Vec<Vec<u8>> = if mode & 0b100_0000 != 0 {
        let (a, b) = rest.split_at(rest.len() / 2);
        vec![a.to_vec(), b.to_vec()]
    } else {
        vec![rest.to_vec()]
    };
    let inputs = |file: bool| {
        parts
            .iter()
            .enumerate()
            .map(|(i, bytes)| input(&format!("in{i}"), bytes.clone(), format, file, None))
            .collect::<Vec<_>>()
    };
    EVENT_PROGRAMS.with(|programs| {
        let program = &programs[usize::from(temporal)];
        let decided = replay(program, inputs(file), options);
        if let Ok((_, outcome)) = &decided {
            let read: u64 = outcome.inputs.iter().map(|i| i.stats.events).sum();
            assert_eq!(outcome.totals.events, read, "events judged and read differ");
            if format == InputFormat::JsonLines {
                for i in &outcome.inputs {
                    let s = &i.stats;
                    assert_eq!(
                        s.lines,
                        s.events + s.blank + s.invalid,
                        "a JSON Lines input's lines not all accounted for: {s:?}"
                    );
                }
            }
        }
        same_without_memo(program, &|| inputs(file), options, &decided);
        // A stream whose reorder buffer is longer than the log decides what the file does
        // (docs/semantics.md, "Streams").
        if file
            && let Ok((_, outcome)) = &decided
            && let (Some(first), Some(last)) = (outcome.totals.first, outcome.totals.last)
        {
            let mut streamed = options;
            streamed.max_delay = (last - first) + TimeDelta::seconds(1);
            let stream = replay(program, inputs(false), streamed);
            let (violations, outcome) = decided.as_ref().unwrap();
            let same = match &stream {
                // Both in canonical order: exactly the same.
                Ok((v, o)) if temporal => {
                    v == violations && o.totals == outcome.totals && o.skipped == outcome.skipped && o.late.is_empty()
                }
                // A file judged as read, the stream in canonical order: the same but for the
                // order of violations and which failure came first.
                Ok((_, o)) => orderless(&stream) == orderless(&decided) && o.skipped == outcome.skipped,
                Err(_) => false,
            };
            if !same {
                panic!(
                    "a stream decided otherwise than the file\n--- file:\n{decided:#?}\n--- stream:\n{stream:#?}"
                );
            }
        }
    });
}

// ---------------------------------------------------------------------------------------------
// (c) CSV and mappings

const UCDP_MAPPING: &str = include_str!("../../../rules/mappings/ucdp-ged.yaml");
const UCDP_VOCABULARY: &str = include_str!("../../../rules/mappings/vocabularies/ucdp-ged.yaml");
const UCDP_CSV: &str =
    include_str!("../../../scenarios/ucdp-northern-iraq/ucdp_ged_iraq_north.csv");

const MAPPED_RULES: &str = r#"agreement: mapped
title: Mapped
parties: {IQ: Iraq, TR: Türkiye, IR: Iran}
terms:
  - {id: strikes, title: Strikes, breached_by: event.party, when: 'event.kind == "state_based" && event.country == "IQ"', message: '{event.actor} at {event.place}: {event.killed}'}
  - {id: deaths, title: Deaths, breached_by: IQ, when: 'event.has("killed") && event.killed > 10'}
  - {id: window, title: Window, breached_by: TR, when: 'event.actor == "TAF"', threshold: {count: 2, within: 7d, by: event.place}}
"#;

thread_local! {
    static MAPPED: (Program, Rc<Mapping>, String) = {
        // The shipped mapping names its vocabulary, read here from the embedded copy.
        let (mapping, problems) = pactum::input::mapping::load_with(
            "ucdp-ged.yaml",
            UCDP_MAPPING,
            &Limits::default(),
            &pactum::load::confine::Roots::none(),
            &mut |path| {
                if path.ends_with("vocabularies/ucdp-ged.yaml") {
                    Ok(UCDP_VOCABULARY.as_bytes().to_vec())
                } else {
                    Err(std::io::Error::other(format!("not embedded: {}", path.display())))
                }
            },
        );
        let mapping = mapping.unwrap_or_else(|| panic!("{problems:?}"));
        // The header and a few rows of the shipped extract.
        let rows: String = UCDP_CSV.lines().take(6).map(|l| format!("{l}\n")).collect();
        (program_of(MAPPED_RULES), Rc::new(mapping), rows)
    };
}

/// CSV and a mapping. The first byte chooses: bit 0 the fuzzed bytes are a mapping file over
/// fixed rows (else CSV through the shipped UCDP mapping), bit 2 `skip_invalid`, bit 3 a
/// stream, bit 5 nothing sorted in memory.
pub fn mapping(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let options = options_of(mode);
    let file = mode & 0b1000 == 0;
    MAPPED.with(|(program, ucdp, rows)| {
        let (mapping, csv) = if mode & 1 == 0 {
            (ucdp.clone(), rest.to_vec())
        } else {
            let text = String::from_utf8_lossy(rest);
            let (mapping, _) = pactum::input::mapping::load("fuzz.yaml", &text, &Limits::default());
            let Some(mapping) = mapping else {
                return;
            };
            (Rc::new(mapping), rows.as_bytes().to_vec())
        };
        let inputs = || {
            vec![input(
                "in.csv",
                csv.clone(),
                InputFormat::Csv,
                file,
                Some(mapping.clone()),
            )]
        };
        let decided = replay(program, inputs(), options);
        same_without_memo(program, &inputs, options, &decided);
    });
}

// ---------------------------------------------------------------------------------------------
// (d) scenarios

thread_local! {
    /// A report to judge scenarios against: three events, two violations.
    static REPORT: pactum::Report = {
        let program = program_of(&format!("{EVENT_RULES}{EVENT_FORMS}"));
        let log = concat!(
            r#"{"id":"a","time":"2024-01-03T00:00:00Z","kind":"airstrike","country":"IQ","party":"TR","actor":"TAF"}"#, "\n",
            r#"{"id":"b","time":"2024-01-03T00:30:00Z","kind":"airstrike","country":"IQ","party":"TR","actor":"TAF"}"#, "\n",
            r#"{"id":"c","time":"2024-01-03T01:00:00Z","kind":"patrol","sector":"S1"}"#, "\n",
        );
        let options = RunOptions::default();
        let mut sink = Collect::default();
        let outcome = run(&program, vec![input("log.jsonl", log.as_bytes().to_vec(), InputFormat::JsonLines, true, None)], options, &mut sink).unwrap();
        let mut collector = pactum::report::Collector::new(&program);
        for v in sink.0 {
            pactum::Sink::violation(&mut collector, v).unwrap();
        }
        let collected = collector.finish().unwrap();
        pactum::report::build_whole(&program, &outcome, options, &collected).unwrap()
    };
}

/// A scenario file, loaded and judged against a fixed report.
pub fn scenario(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(scenario) =
        pactum::scenario::load("scenarios/fuzz/scenario.yaml", &text, &Roots::none())
    else {
        return;
    };
    REPORT.with(|report| {
        let events = [
            ("a", "2024-01-03T00:00:00Z"),
            ("b", "2024-01-03T00:30:00Z"),
            ("c", "2024-01-03T01:00:00Z"),
        ]
        .into_iter()
        .map(|(id, t)| (id.to_string(), pactum::time::parse_instant(t).unwrap().0))
        .collect();
        let verdict = pactum::scenario::judge(&scenario, report, &events, &Default::default());
        let mut coverage = pactum::scenario::Coverage::default();
        coverage.add("fuzz", report, &verdict);
        let _ = coverage.percent();
    });
}

// ---------------------------------------------------------------------------------------------
// (e) saved reports

const FORMATS: [pactum::report::Format; 5] = [
    pactum::report::Format::Text,
    pactum::report::Format::Json,
    pactum::report::Format::JsonLines,
    pactum::report::Format::Markdown,
    pactum::report::Format::Html,
];

/// A saved report, read (its violations past 0 or 64 KiB to a temporary file, by the first
/// byte) and written in every format; its JSON must read back and write the same bytes.
pub fn saved_report(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let budget = if mode & 1 == 0 { 64 << 10 } else { 0 };
    let Ok(saved) = pactum::report::read_saved(rest, budget) else {
        return;
    };
    let mut json = Vec::new();
    for format in FORMATS {
        let mut out = Vec::new();
        let written = pactum::report::write(
            &saved.report,
            &saved.violations,
            format,
            pactum::report::Rendering::default(),
            &mut out,
        );
        if format == pactum::report::Format::Json && written.is_ok() {
            json = out;
        } else if format != pactum::report::Format::JsonLines {
            // Readers' formats again with a period and a zone: times a saved report holds
            // (any text) pass through the zone's conversion and the quarters' calendar.
            let rendering = pactum::report::Rendering {
                period: Some(pactum::report::PeriodUnit::Quarter),
                zone: "Asia/Baghdad".parse().ok(),
            };
            let _ = pactum::report::write(
                &saved.report,
                &saved.violations,
                format,
                rendering,
                &mut std::io::sink(),
            );
        }
    }
    if json.is_empty() {
        return;
    }
    let again = pactum::report::read_saved(&json[..], budget).unwrap_or_else(|e| {
        panic!(
            "pactum's own JSON does not read back: {e}\n{}",
            String::from_utf8_lossy(&json)
        )
    });
    let mut twice = Vec::new();
    pactum::report::write(
        &again.report,
        &again.violations,
        pactum::report::Format::Json,
        pactum::report::Rendering::default(),
        &mut twice,
    )
    .unwrap();
    if json != twice {
        panic!(
            "a saved report written twice differs\n--- once:\n{}\n--- twice:\n{}",
            String::from_utf8_lossy(&json),
            String::from_utf8_lossy(&twice)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// (f) generated conditions, replayed differentially

/// An event field the generated conditions read.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Field {
    Kind,
    Actor,
    Party,
    N,
    Lat,
    Lon,
    Sector,
    Country,
    Tags,
    Missing,
    Id,
    Time,
}

impl Field {
    fn name(self) -> &'static str {
        match self {
            Field::Kind => "kind",
            Field::Actor => "actor",
            Field::Party => "party",
            Field::N => "n",
            Field::Lat => "lat",
            Field::Lon => "lon",
            Field::Sector => "sector",
            Field::Country => "country",
            Field::Tags => "tags",
            Field::Missing => "missing",
            Field::Id => "id",
            Field::Time => "time",
        }
    }
}

/// A text literal.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Text {
    Airstrike,
    Patrol,
    Clash,
    Pkk,
    Taf,
    Iq,
    Tr,
    S1,
    Five,
    Empty,
    Odd(u8),
}

impl Text {
    fn value(self) -> &'static str {
        match self {
            Text::Airstrike => "airstrike",
            Text::Patrol => "patrol",
            Text::Clash => "clash",
            Text::Pkk => "PKK",
            Text::Taf => "TAF",
            Text::Iq => "IQ",
            Text::Tr => "TR",
            Text::S1 => "S1",
            Text::Five => "5",
            Text::Empty => "",
            Text::Odd(i) => [
                "é", "{", "}", "{{", " ", "PKK ", "pkk", "5.0", "1e3", "Zakho", "\\\\", "\\\"",
            ][usize::from(i) % 12],
        }
    }

    fn render(self) -> String {
        format!("\"{}\"", self.value())
    }
}

/// A literal.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Lit {
    Int(i8),
    Float(i8, u8),
    Text(Text),
    Bool(bool),
    Unit,
    Big(i64),
}

impl Lit {
    fn render(self) -> String {
        match self {
            Lit::Int(i) => i.to_string(),
            Lit::Float(a, b) => format!(
                "{}{}.{}",
                if a < 0 { "-" } else { "" },
                a.unsigned_abs(),
                b % 10
            ),
            Lit::Text(t) => t.render(),
            Lit::Bool(b) => b.to_string(),
            Lit::Unit => "()".into(),
            Lit::Big(i) => i.to_string(),
        }
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum ListName {
    Strikes,
    Groups,
    Mixed,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum TextFn {
    Contains,
    StartsWith,
    EndsWith,
}

/// A value: an event's field, a literal, arithmetic, a call.
#[derive(Arbitrary, Debug, Clone)]
pub enum Operand {
    Field(Field),
    Lit(Lit),
    Index(Field),
    Trigger(Field),
    Distance(bool),
    Nearest,
    Item(ListName, u8),
    Arith(Box<Operand>, Arith, Box<Operand>),
    Neg(Box<Operand>),
    Abs(Box<Operand>),
    Floor(Box<Operand>),
    Len(Box<Operand>),
    Lower(Box<Operand>),
    ToText(Box<Operand>),
    If(Box<Expr>, Box<Operand>, Box<Operand>),
}

/// A condition.
#[derive(Arbitrary, Debug, Clone)]
pub enum Expr {
    Bool(bool),
    Cmp(Operand, Cmp, Operand),
    InLits(Operand, Vec<Lit>),
    InList(Operand, ListName),
    InText(Operand, Text),
    Has(Field),
    Inside,
    North,
    Heavy,
    TextCall(Operand, TextFn, Text),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
}

/// Beyond this depth a condition renders as `true` and a value as `1`: the sandbox's own
/// depth limit is tested elsewhere (tests/hostile/).
const DEPTH: usize = 10;

/// Where an expression is rendered: `trigger` exists only in a deadline's `require`.
#[derive(Clone, Copy)]
struct Scope {
    trigger: bool,
}

impl Operand {
    fn simple(&self) -> bool {
        matches!(
            self,
            Operand::Field(_)
                | Operand::Lit(_)
                | Operand::Index(_)
                | Operand::Trigger(_)
                | Operand::Item(..)
        )
    }

    fn render(&self, scope: Scope, depth: usize) -> String {
        if depth > DEPTH {
            return "1".into();
        }
        let sub = |o: &Operand| {
            let text = o.render(scope, depth + 1);
            if o.simple() {
                text
            } else {
                format!("({text})")
            }
        };
        match self {
            Operand::Field(f) => format!("event.{}", f.name()),
            Operand::Lit(l) => l.render(),
            Operand::Index(f) => format!("event[\"{}\"]", f.name()),
            Operand::Trigger(f) if scope.trigger => format!("trigger.{}", f.name()),
            Operand::Trigger(f) => format!("event.{}", f.name()),
            Operand::Distance(place) => {
                format!(
                    "distance_km(event, \"{}\")",
                    if *place { "Zakho" } else { "border" }
                )
            }
            Operand::Nearest => "nearest_place(event)".into(),
            Operand::Item(list, i) => format!("{}[{}]", list.render(), i % 5),
            Operand::Arith(a, op, b) => {
                let op = match op {
                    Arith::Add => "+",
                    Arith::Sub => "-",
                    Arith::Mul => "*",
                    Arith::Div => "/",
                    Arith::Rem => "%",
                };
                format!("{} {op} {}", sub(a), sub(b))
            }
            Operand::Neg(a) => format!("-{}", sub(a)),
            Operand::Abs(a) => format!("{}.abs()", sub(a)),
            Operand::Floor(a) => format!("{}.floor()", sub(a)),
            Operand::Len(a) => format!("{}.len()", sub(a)),
            Operand::Lower(a) => format!("{}.to_lower()", sub(a)),
            Operand::ToText(a) => format!("{}.to_string()", sub(a)),
            Operand::If(c, a, b) => format!(
                "if {} {{ {} }} else {{ {} }}",
                c.render(scope, depth + 1),
                a.render(scope, depth + 1),
                b.render(scope, depth + 1)
            ),
        }
    }
}

impl ListName {
    fn render(self) -> &'static str {
        match self {
            ListName::Strikes => "strikes",
            ListName::Groups => "groups",
            ListName::Mixed => "mixed",
        }
    }
}

impl Expr {
    fn render(&self, scope: Scope, depth: usize) -> String {
        if depth > DEPTH {
            return "true".into();
        }
        let operand = |o: &Operand| {
            let text = o.render(scope, depth + 1);
            if o.simple() {
                text
            } else {
                format!("({text})")
            }
        };
        // `&&` and `||` bind looser than every other operator: only a mix of them, or an
        // `if`, needs parentheses (so that the engine's native shapes stay as a rule's author
        // writes them).
        let child = |e: &Expr, within_and: bool| {
            let text = e.render(scope, depth + 1);
            match e {
                Expr::Or(..) if within_and => format!("({text})"),
                Expr::If(..) => format!("({text})"),
                _ => text,
            }
        };
        match self {
            Expr::Bool(b) => b.to_string(),
            Expr::Cmp(a, op, b) => {
                let op = match op {
                    Cmp::Eq => "==",
                    Cmp::Ne => "!=",
                    Cmp::Lt => "<",
                    Cmp::Le => "<=",
                    Cmp::Gt => ">",
                    Cmp::Ge => ">=",
                };
                format!("{} {op} {}", operand(a), operand(b))
            }
            Expr::InLits(a, items) => format!(
                "{} in [{}]",
                operand(a),
                items
                    .iter()
                    .take(6)
                    .map(|l| l.render())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Expr::InList(a, list) => format!("{} in {}", operand(a), list.render()),
            Expr::InText(a, text) => format!("{} in {}", operand(a), text.render()),
            Expr::Has(f) => format!("event.has(\"{}\")", f.name()),
            Expr::Inside => "inside(event, \"zone\")".into(),
            Expr::North => "north(event)".into(),
            Expr::Heavy => "heavy(event)".into(),
            Expr::TextCall(a, f, text) => {
                let f = match f {
                    TextFn::Contains => "contains",
                    TextFn::StartsWith => "starts_with",
                    TextFn::EndsWith => "ends_with",
                };
                format!("{}.{f}({})", operand(a), text.render())
            }
            Expr::Not(e) => format!("!({})", e.render(scope, depth + 1)),
            Expr::And(a, b) => format!("{} && {}", child(a, true), child(b, true)),
            Expr::Or(a, b) => format!("{} || {}", child(a, false), child(b, false)),
            Expr::If(c, a, b) => format!(
                "if {} {{ {} }} else {{ {} }}",
                c.render(scope, depth + 1),
                a.render(scope, depth + 1),
                b.render(scope, depth + 1)
            ),
        }
    }
}

/// A duration of a form.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Duration {
    Seconds(u8),
    Minutes(u8),
    Hours(u8),
    Day,
}

impl Duration {
    fn render(self) -> String {
        match self {
            Duration::Seconds(s) => format!("{}s", u32::from(s) + 1),
            Duration::Minutes(m) => format!("{}m", u32::from(m) + 1),
            Duration::Hours(h) => format!("{}h", u32::from(h % 48) + 1),
            Duration::Day => "1d".into(),
        }
    }
}

/// A term's form.
#[derive(Arbitrary, Debug, Clone)]
pub enum Form {
    None,
    Threshold {
        count: u8,
        within: Duration,
        by: Option<Operand>,
    },
    Within {
        within: Duration,
        require: Expr,
    },
    Before {
        before: Duration,
        require: Expr,
    },
    Absence {
        within: Duration,
        by: Option<Operand>,
        keys: bool,
    },
    Sequence {
        within: Duration,
        by: Option<Operand>,
        steps: Vec<Expr>,
    },
}

/// One term.
#[derive(Arbitrary, Debug, Clone)]
pub struct TermSpec {
    when: Expr,
    form: Form,
    party: bool,
    message: Vec<Operand>,
    period: Option<(u8, u8)>,
}

/// The value of one field of a generated event.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Value {
    Text(Text),
    Int(i8),
    Float(i8, u8),
    Bool(bool),
    Null,
    TextNumber(i8),
    List(Text, Text),
}

impl Value {
    fn json(self) -> String {
        match self {
            Value::Text(t) => t.render(),
            Value::Int(i) => i.to_string(),
            Value::Float(a, b) => format!(
                "{}{}.{}",
                if a < 0 { "-" } else { "" },
                a.unsigned_abs(),
                b % 10
            ),
            Value::Bool(b) => b.to_string(),
            Value::Null => "null".into(),
            Value::TextNumber(i) => format!("\"{i}\""),
            Value::List(a, b) => format!("[{}, {}]", a.render(), b.render()),
        }
    }
}

/// One generated event: some fields, and where it falls in its slot of 17 minutes.
#[derive(Arbitrary, Debug, Clone)]
pub struct EventSpec {
    offset: u8,
    kind: Text,
    fields: Vec<(Field, Value)>,
}

/// A generated agreement and log, and how to replay them.
#[derive(Arbitrary, Debug, Clone)]
pub struct Case {
    terms: Vec<TermSpec>,
    events: Vec<EventSpec>,
    shuffle: u64,
    until: Option<u8>,
    index: bool,
}

/// The fixed events every case replays: at distinct times, with fields of every type, missing
/// and `null`. The generated ones follow.
const FIXED_EVENTS: [&str; 8] = [
    r#""kind":"airstrike","actor":"TAF","party":"TR","country":"IQ","lat":37.1,"lon":43.2,"n":3,"sector":"S1""#,
    r#""kind":"patrol","actor":"PKK","party":"IQ","sector":"S2","n":0"#,
    r#""kind":"clash","actor":"5","lat":36.5,"lon":44.0,"n":"3","tags":["a","b"]"#,
    r#""kind":"warning","actor":"TAF","party":"TR","country":"IQ","lat":37.0,"lon":42.7"#,
    r#""kind":"airstrike","actor":null,"country":"IR","n":5.0,"lat":38.5,"lon":45.5"#,
    r#""kind":"request","actor":"KDPI","party":"IQ","n":true"#,
    r#""kind":"patrol","actor":"PKK","party":"IQ","sector":"S1","n":1,"lat":"37.1""#,
    r#""kind":"airstrike","actor":"TAF","party":"TR","country":"IQ","lat":37.15,"lon":42.68,"sector":"S2""#,
];

const GENERATED_RULES: &str = r#"agreement: g
title: Generated
parties: {IQ: Iraq, TR: Türkiye}
lists:
  strikes: [airstrike, clash]
  groups: [PKK, KDPI, "5"]
  mixed: [airstrike, 5, 1.5, true]
functions: |
  fn north(e) { e.lat > 37.0 }
  fn heavy(e) { e.has("n") && e.n > 2 }
geography:
  lines:
    border: {line: [[42.0, 37.0], [44.0, 37.2], [45.0, 37.1]]}
  areas:
    zone: {polygon: [[42.0, 36.0], [45.0, 36.0], [45.0, 38.0], [42.0, 38.0], [42.0, 36.0]]}
  places:
    Zakho: {lat: 37.14, lon: 42.68}
    Erbil: {lat: 36.19, lon: 44.01}
terms:
"#;

/// A YAML block scalar holding `text`, indented for a term's key.
fn block(text: &str) -> String {
    format!("|-\n        {text}")
}

impl Case {
    /// The agreement file.
    pub fn agreement(&self) -> String {
        let event = Scope { trigger: false };
        let mut text = String::from(GENERATED_RULES);
        for (i, term) in self.terms.iter().take(4).enumerate() {
            let _ = writeln!(text, "  - id: t{i}\n    title: T{i}");
            let _ = writeln!(
                text,
                "    breached_by: {}",
                if term.party { "event.party" } else { "IQ" }
            );
            let when = block(&term.when.render(event, 0));
            let by = |by: &Option<Operand>| match by {
                Some(by) => format!(
                    "\n      by: {}",
                    block(&by.render(event, 0)).replace("\n        ", "\n          ")
                ),
                None => String::new(),
            };
            match &term.form {
                Form::None => {
                    let _ = writeln!(text, "    when: {when}");
                }
                Form::Threshold {
                    count,
                    within,
                    by: key,
                } => {
                    let _ = writeln!(
                        text,
                        "    when: {when}\n    threshold:\n      count: {}\n      within: {}{}",
                        count % 4 + 1,
                        within.render(),
                        by(key)
                    );
                }
                Form::Within { within, require }
                | Form::Before {
                    before: within,
                    require,
                } => {
                    let kind = if matches!(term.form, Form::Within { .. }) {
                        "within"
                    } else {
                        "before"
                    };
                    let require = require.render(Scope { trigger: true }, 0);
                    let _ = writeln!(
                        text,
                        "    when: {when}\n    deadline:\n      {kind}: {}\n      require: {}",
                        within.render(),
                        block(&require).replace("\n        ", "\n          ")
                    );
                }
                Form::Absence {
                    within,
                    by: key,
                    keys,
                } => {
                    let _ = writeln!(
                        text,
                        "    when: {when}\n    absence:\n      within: {}{}{}",
                        within.render(),
                        by(key),
                        if *keys && key.is_some() {
                            "\n      keys: [S1, S2, S3]"
                        } else {
                            ""
                        }
                    );
                }
                Form::Sequence {
                    within,
                    by: key,
                    steps,
                } => {
                    let _ = writeln!(
                        text,
                        "    sequence:\n      within: {}{}\n      steps:",
                        within.render(),
                        by(key)
                    );
                    for step in steps.iter().take(3) {
                        let _ = writeln!(
                            text,
                            "        - {}",
                            block(&step.render(event, 0)).replace("\n        ", "\n          ")
                        );
                    }
                    if steps.is_empty() {
                        let _ = writeln!(
                            text,
                            "        - {}",
                            block(&term.when.render(event, 0))
                                .replace("\n        ", "\n          ")
                        );
                    }
                }
            }
            if !term.message.is_empty() {
                let placeholders: String = term
                    .message
                    .iter()
                    .take(4)
                    .map(|o| format!(" {{{}}}", o.render(event, 0)))
                    .collect();
                let _ = writeln!(
                    text,
                    "    message: {}",
                    block(&format!("T{i}:{placeholders}"))
                );
            }
            if let Some((from, until)) = term.period {
                let _ = writeln!(
                    text,
                    "    effective: {{from: \"2024-01-01T{:02}:{:02}:00Z\", until: \"2024-01-01T{:02}:{:02}:00Z\"}}",
                    from / 60 % 4,
                    from % 60,
                    4 + until / 60 % 4,
                    until % 60
                );
            }
        }
        text
    }

    /// The events, one JSON line each, in order of time.
    pub fn lines(&self) -> Vec<String> {
        let generated = self.events.iter().take(6).map(|e| {
            let mut fields = format!(",\"kind\":{}", e.kind.render());
            let mut named = vec!["kind", "id", "time"];
            for (field, value) in e.fields.iter().take(6) {
                if !named.contains(&field.name()) {
                    named.push(field.name());
                    let _ = write!(fields, ",\"{}\":{}", field.name(), value.json());
                }
            }
            (e.offset % 17, fields)
        });
        FIXED_EVENTS
            .iter()
            .map(|f| (0, format!(",{f}")))
            .chain(generated)
            .enumerate()
            .map(|(i, (offset, fields))| {
                let minute = i as u32 * 17 + u32::from(offset);
                format!(
                    "{{\"id\":\"e{i}\",\"time\":\"2024-01-01T{:02}:{:02}:00Z\"{fields}}}",
                    minute / 60,
                    minute % 60
                )
            })
            .collect()
    }
}

/// `items` in an order driven by `seed` (xorshift Fisher–Yates, as tests/properties.rs).
fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut state = seed | 1;
    for i in (1..items.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        items.swap(i, (state % (i as u64 + 1)) as usize);
    }
}

/// Generated conditions: see [`Case`].
pub fn conditions(data: &[u8]) {
    let Ok(case) = Case::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    if case.terms.is_empty() {
        return;
    }
    check_case(&case);
}

/// Replays a case every way and compares.
pub fn check_case(case: &Case) {
    let text = case.agreement();
    let Some(agreement) = load_agreement("g.yaml", &text) else {
        return;
    };
    let (program, _) = compile(vec![agreement], &Limits::default());
    let Some(program) = program else {
        return;
    };
    let lines = case.lines();
    let log = |lines: &[String]| (lines.join("\n") + "\n").into_bytes();
    let mut options = RunOptions::default();
    options.until = case.until.map(|m| {
        pactum::time::parse_instant(&format!("2024-01-01T{:02}:{:02}:00Z", m / 60 % 4, m % 60))
            .unwrap()
            .0
    });
    let in_order = || {
        vec![input(
            "log.jsonl",
            log(&lines),
            InputFormat::JsonLines,
            true,
            None,
        )]
    };
    let decided = replay(&program, in_order(), options);
    same_without_memo(&program, &in_order, options, &decided);
    report_of(&program, &decided, options);

    let mut shuffled = lines.clone();
    shuffle(&mut shuffled, case.shuffle);
    let mut sorting = options;
    if case.index {
        sorting.in_memory = 0;
    }
    let from_file = replay(
        &program,
        vec![input(
            "log.jsonl",
            log(&shuffled),
            InputFormat::JsonLines,
            true,
            None,
        )],
        sorting,
    );
    let mut streaming = options;
    streaming.max_delay = TimeDelta::days(1);
    let from_stream = replay(
        &program,
        vec![input(
            "log.jsonl",
            log(&shuffled),
            InputFormat::JsonLines,
            false,
            None,
        )],
        streaming,
    );
    let expected = orderless(&decided);
    for (how, got) in [
        ("sorted from a file", &from_file),
        ("through a stream's buffer", &from_stream),
    ] {
        let got = orderless(got);
        if got != expected {
            panic!(
                "shuffled events {how} decided otherwise\n{text}\n--- in order:\n{expected:#?}\n--- shuffled:\n{got:#?}\n--- lines in order:\n{}\n",
                lines.join("\n")
            );
        }
    }
}

/// Builds the report of a run and renders it in every format.
fn report_of(program: &Program, decided: &Decided, options: RunOptions) {
    let Ok((violations, outcome)) = decided else {
        return;
    };
    let mut collector = pactum::report::Collector::new(program);
    for v in violations {
        pactum::Sink::violation(&mut collector, v.clone()).unwrap();
    }
    let collected = collector.finish().unwrap();
    let report = pactum::report::build(program, outcome, options, collected.tally()).unwrap();
    for format in FORMATS {
        pactum::report::write(
            &report,
            &collected,
            format,
            pactum::report::Rendering::default(),
            &mut std::io::sink(),
        )
        .unwrap();
    }
}
