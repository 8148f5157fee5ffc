//! The fast paths against the reference: a replay visits only the terms each event concerns
//! (the index), decides conditions by native tests or memos, and counts per period instead of
//! per term; the plain interpreter (`RunOptions::memo` off, the CLI's `--no-memo`) judges every
//! term on every event with Rhai alone. They must agree exactly — the violations in the order
//! they reach the sink, every per-term count, every first failure, the report — on the shipped
//! scenarios and on generated agreements of many terms over generated logs: terms dispatched
//! by a field (first or after a guard), terms that cannot be, terms with periods, temporal
//! forms, missing fields, numbers written as text, `||` chains.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};

use pactum::engine::sink::Collect;
use pactum::{Input, InputFormat, Limits, RunOptions, compile, load::agreement, run};
use proptest::prelude::*;

const KINDS: [&str; 5] = ["airstrike", "patrol", "statement", "clash", "arrest"];
const ACTORS: [&str; 4] = ["PKK", "TAF", "IRGC", "KDPI"];
const PARTIES: [&str; 3] = ["IQ", "TR", "IR"];

/// One term's `when`, of shape `shape`, with constants picked by `a` and `b`.
fn when(shape: usize, a: usize, b: usize) -> String {
    let kind = |i: usize| KINDS[i % KINDS.len()];
    let actor = |i: usize| ACTORS[i % ACTORS.len()];
    match shape % 21 {
        0 => format!(r#"event.kind == "{}""#, kind(a)),
        1 => "event.kind in strikes".into(),
        2 => format!(r#"event.actor in ["{}", "{}"]"#, actor(a), actor(b)),
        3 => format!("event.lat > 36.{}", a % 10),
        4 => format!("event.n >= {}", a % 6),
        5 => format!("3{}.5 < event.lat", 6 + a % 2),
        6 => format!(r#"event.kind == "{}" && event.n > {}"#, kind(a), b % 5),
        7 => format!(
            r#"event.lat > 36.{} && event.kind == "{}""#,
            a % 10,
            kind(b)
        ),
        8 => format!(
            r#"event.place in places && event.party == "{}""#,
            PARTIES[a % 3]
        ),
        9 => format!(
            r#"event.actor == "{}" || event.lat > 37.{}"#,
            actor(a),
            b % 10
        ),
        10 => format!(r#"!(event.actor in groups) && event.kind == "{}""#, kind(a)),
        11 => format!(r#"event.actor != "{}" && event.kind in strikes"#, actor(a)),
        12 => format!(r#"event.has("n") && event.n > {}"#, a % 5),
        13 => format!(r#"event.kind == "{}" && north(event)"#, kind(a)),
        14 => format!(r#"event["country"] == "IQ" && event.n < {}"#, a % 5),
        15 => format!(r#"event.kind in mixed && event.actor == "{}""#, actor(a)),
        16 => format!("event.n == {}", a % 6),
        17 => format!("event.n != {}.0 && event.actor in groups", a % 6),
        18 => format!(
            "event.kind in strikes && event.actor in groups && event.lat > 36.{} && event.n < {}",
            a % 10,
            b % 6
        ),
        19 => format!(
            r#"event.sector == "S{}" && event.kind == "{}""#,
            a % 3,
            kind(b)
        ),
        _ => format!(
            r#"event.n > {} && event.actor == "{}" && event.lat.floor() == 36.0"#,
            a % 4,
            actor(b)
        ),
    }
}

/// A term: its shape and constants, its period and its form (most often none).
type TermSpec = (usize, usize, usize, u8, u8);

fn agreement_text(terms: &[TermSpec]) -> String {
    let mut text = String::from(
        "agreement: g\ntitle: Generated\nparties: {IQ: Iraq, TR: Türkiye, IR: Iran}\nlists:\n  strikes: [airstrike, clash]\n  groups: [PKK, KDPI, \"5\"]\n  places: [Zap, Gara]\n  mixed: [airstrike, 5]\nfunctions: |\n  fn north(e) { e.lat > 37.0 }\nterms:\n",
    );
    for (i, &(shape, a, b, period, form)) in terms.iter().enumerate() {
        let when = when(shape, a, b);
        let period = match period % 6 {
            1 => ", effective: {from: 2024-01-01T02:00:00Z}",
            2 => ", effective: {until: 2024-01-01T05:00:00Z}",
            3 => ", effective: {from: 2024-01-01T01:00:00Z, until: 2024-01-01T03:30:00Z}",
            _ => "",
        };
        let party = if i % 2 == 0 { "IQ" } else { "event.party" };
        let message = if i % 3 == 0 {
            ", message: '{event.kind} by {event.actor}: {event.n + 1}'"
        } else {
            ""
        };
        let form = match form % 12 {
            1 => format!(", when: '{when}', threshold: {{count: 2, within: 1h, by: event.actor}}"),
            2 => format!(", when: '{when}', absence: {{within: 90m}}"),
            3 => format!(
                ", when: '{when}', deadline: {{within: 1h, require: 'event.kind == \"patrol\"'}}"
            ),
            4 => {
                format!(", sequence: {{within: 2h, steps: ['{when}', 'event.kind == \"arrest\"']}}")
            }
            // Deadlines filed by what `require` compares (texts, numbers, floats, arrays, long
            // texts, missing fields; failures after the comparison), and one that is not.
            5 => format!(
                ", when: '{when}', deadline: {{within: 1h, require: 'event.kind == \"patrol\" && event.sector == trigger.sector'}}"
            ),
            6 => format!(
                ", when: '{when}', deadline: {{before: 1h, require: 'event.actor == trigger.actor && event.n > 1'}}"
            ),
            7 => format!(
                ", when: '{when}', deadline: {{within: 90m, require: 'event.lat > 36.5 && event.n == trigger.n && event.place == trigger.place'}}"
            ),
            8 => format!(
                ", when: '{when}', deadline: {{before: 2h, require: 'event.kind in strikes && trigger.sector == event.sector'}}"
            ),
            9 => format!(
                ", when: '{when}', deadline: {{before: 30m, require: 'event.kind == \"clash\"'}}"
            ),
            10 => format!(
                ", when: '{when}', deadline: {{within: 1h, require: 'event.country != trigger.country'}}"
            ),
            _ => format!(", when: '{when}'"),
        };
        text += &format!(
            "  - {{id: t{i}, title: T{i}, breached_by: {party}{form}{period}{message}}}\n"
        );
    }
    text
}

/// An event: minute of the day, then the choice of each field's value (the last choices of
/// each are missing, `null`, a value of another type, or one Rhai cannot read).
type EventSpec = (u16, usize, usize, usize, usize, usize, usize, usize, usize);

fn event_line(
    n: usize,
    &(minute, kind, actor, party, place, lat, num, country, sector): &EventSpec,
) -> String {
    let mut line = format!(
        r#"{{"id":"e{n}","time":"2024-01-01T{:02}:{:02}:00Z","kind":"{}""#,
        minute / 60,
        minute % 60,
        KINDS[kind % KINDS.len()]
    );
    let mut field = |name: &str, value: Option<String>| {
        if let Some(value) = value {
            line += &format!(r#","{name}":{value}"#);
        }
    };
    let text = |t: &str| Some(format!("\"{t}\""));
    field(
        "actor",
        match actor % 9 {
            i @ 0..4 => text(ACTORS[i]),
            4 => None,
            5 => Some("null".into()),
            6 => Some("5".into()),
            7 => text("5"),
            // Longer than the sandbox lets an expression read: Rhai fails on it.
            _ => text(&"PKK".repeat(6000)),
        },
    );
    field(
        "party",
        match party % 4 {
            i @ 0..3 => text(PARTIES[i]),
            _ => None,
        },
    );
    field(
        "place",
        match place % 5 {
            0 => text("Zap"),
            1 => text("Gara"),
            2 => text("Asos"),
            3 => None,
            _ => Some("[\"Zap\"]".into()),
        },
    );
    field(
        "lat",
        match lat % 8 {
            0 => Some("36.2".into()),
            1 => Some("36.9".into()),
            2 => Some("37".into()),
            3 => Some("37.4".into()),
            4 => text("37.1"),
            5 => None,
            6 => Some("null".into()),
            _ => Some("37.0".into()),
        },
    );
    field(
        "n",
        match num % 9 {
            0 => Some("0".into()),
            1 => Some("1".into()),
            2 => Some("3".into()),
            3 => Some("5".into()),
            4 => Some("5.0".into()),
            5 => text("3"),
            6 => None,
            7 => Some("true".into()),
            _ => Some("null".into()),
        },
    );
    field(
        "country",
        match country % 3 {
            0 => text("IQ"),
            1 => text("IR"),
            _ => None,
        },
    );
    field(
        "sector",
        match sector % 4 {
            0 => text("S1"),
            1 => text("S2"),
            2 => Some("1".into()),
            _ => None,
        },
    );
    line + "}"
}

/// Everything a run decided, in the order the sink received the violations.
#[derive(Debug, PartialEq)]
struct Decided {
    violations: Vec<pactum::engine::sink::Violation>,
    outcome: pactum::run::RunOutcome,
    report: pactum::Report,
}

fn replay(program: &pactum::Program, inputs: Vec<Input>, options: RunOptions) -> Decided {
    let mut sink = Collect::default();
    let outcome = run(program, inputs, options, &mut sink).unwrap();
    let mut collector = pactum::report::Collector::new(program);
    for v in &sink.0 {
        pactum::Sink::violation(&mut collector, v.clone()).unwrap();
    }
    let collected = collector.finish().unwrap();
    let report = pactum::report::build_whole(program, &outcome, options, &collected).unwrap();
    Decided {
        violations: sink.0,
        outcome,
        report,
    }
}

/// The fast run and the plain run of the same inputs.
fn both(
    program: &pactum::Program,
    inputs: impl Fn() -> Vec<Input<'static>>,
    until: Option<&str>,
) -> (Decided, Decided) {
    let mut options = RunOptions::default();
    options.until = until.map(|t| pactum::time::parse_instant(t).unwrap().0);
    both_with(program, inputs, options)
}

/// [`both`] with given options.
fn both_with(
    program: &pactum::Program,
    inputs: impl Fn() -> Vec<Input<'static>>,
    mut options: RunOptions,
) -> (Decided, Decided) {
    let fast = replay(program, inputs(), options);
    options.memo = false;
    let plain = replay(program, inputs(), options);
    (fast, plain)
}

fn lines_input(lines: &[String]) -> Vec<Input<'static>> {
    let text = lines.join("\n") + "\n";
    vec![Input {
        name: "log".into(),
        reader: Box::new(std::io::Cursor::new(text.into_bytes())),
        format: InputFormat::JsonLines,
        reopen: None,
        mapping: None,
    }]
}

fn term() -> impl Strategy<Value = TermSpec> {
    (0usize..21, 0usize..12, 0usize..12, 0u8..6, 0u8..12)
}

fn event() -> impl Strategy<Value = EventSpec> {
    (
        0u16..480,
        0usize..5,
        0usize..9,
        0usize..4,
        0usize..5,
        0usize..8,
        0usize..9,
        0usize..3,
        0usize..4,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Generated agreements of up to 150 terms over generated logs.
    #[test]
    fn the_fast_paths_decide_what_the_interpreter_decides(
        terms in prop::collection::vec(term(), 1..150),
        mut events in prop::collection::vec(event(), 1..120),
        until in prop::option::weighted(0.2, Just("2024-01-01T06:00:00Z")),
    ) {
        let text = agreement_text(&terms);
        let (agreement, problems) = agreement::load("g.yaml", &text);
        prop_assert!(problems.is_empty(), "{problems:?}\n{text}");
        let (program, problems) = compile(vec![agreement.unwrap()], &Limits::default());
        let program = program.unwrap_or_else(|| panic!("{problems:?}\n{text}"));
        events.sort_by_key(|e| e.0);
        let lines: Vec<String> = events.iter().enumerate().map(|(n, e)| event_line(n, e)).collect();
        let (fast, plain) = both(&program, || lines_input(&lines), until);
        prop_assert_eq!(fast, plain, "{}", text);
    }
}

/// The bench's agreement of many terms, at the sizes where the index matters.
#[test]
fn many_terms_of_every_shape_decide_what_the_interpreter_decides() {
    let terms: Vec<TermSpec> = (0..400)
        .map(|i| {
            (
                i % 21,
                i * 7 % 12,
                i * 5 % 11,
                (i / 21 % 6) as u8,
                (i / 7 % 12) as u8,
            )
        })
        .collect();
    let text = agreement_text(&terms);
    let (agreement, problems) = agreement::load("g.yaml", &text);
    assert!(problems.is_empty(), "{problems:?}");
    let (program, _) = compile(vec![agreement.unwrap()], &Limits::default());
    let program = program.unwrap();
    let lines: Vec<String> = (0..2000usize)
        .map(|n| {
            let h = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 20;
            let pick = |shift: u32| (h >> shift) as usize;
            let spec = (
                (n * 480 / 2000) as u16,
                pick(0),
                pick(3),
                pick(6),
                pick(9),
                pick(12),
                pick(15),
                pick(18),
                pick(21),
            );
            event_line(n, &spec)
        })
        .collect();
    let (fast, plain) = both(&program, || lines_input(&lines), None);
    // Worth something only if terms fire and fail.
    let terms = &fast.outcome.totals.terms;
    let firing = terms.iter().filter(|t| t.violations > 0).count();
    assert!(firing > 150, "{firing}");
    assert!(terms.iter().filter(|t| t.errors > 0).count() > 50);
    assert!(terms.iter().any(|t| t.out_of_period > 0));
    assert_eq!(fast, plain);
}

/// Every shipped scenario, through the library.
#[test]
fn the_shipped_scenarios_decide_what_the_interpreter_decides() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("scenario.yaml").exists())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 4, "{dirs:?}");
    for dir in dirs {
        let path = dir.join("scenario.yaml");
        let text = std::fs::read_to_string(&path).unwrap();
        // The shipped scenarios name the repository's rules/, outside their folder.
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let roots = pactum::load::confine::Roots::new(&root, [root.clone()]);
        let scenario = pactum::scenario::load(&path.display().to_string(), &text, &roots).unwrap();
        let agreements = scenario
            .rules
            .iter()
            .map(|rules| {
                let path = dir.join(rules);
                let text = std::fs::read_to_string(&path).unwrap();
                let (agreement, problems) =
                    agreement::load_with(&path.display().to_string(), &text, &roots, &mut |p| {
                        std::fs::read(p)
                    });
                assert!(problems.is_empty(), "{problems:?}");
                agreement.unwrap()
            })
            .collect();
        let (program, _) = compile(agreements, &Limits::default());
        let program = program.unwrap();
        let mapping = scenario.map.as_ref().map(|map| {
            let path = dir.join(map);
            let text = std::fs::read_to_string(&path).unwrap();
            // The shipped mapping reads its vocabulary beside it.
            let repository = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
            let roots = pactum::load::confine::Roots::new(&repository, [repository.clone()]);
            let (mapping, problems) = pactum::input::mapping::load_with(
                &path.display().to_string(),
                &text,
                &Limits::default(),
                &roots,
                &mut |p| std::fs::read(p),
            );
            assert!(problems.is_empty(), "{problems:?}");
            std::rc::Rc::new(mapping.unwrap())
        });
        let inputs = || {
            scenario
                .events
                .iter()
                .map(|events| {
                    let path = dir.join(events);
                    Input {
                        name: events.clone(),
                        reader: Box::new(std::io::Cursor::new(std::fs::read(&path).unwrap())),
                        format: if events.ends_with(".csv") {
                            InputFormat::Csv
                        } else {
                            InputFormat::JsonLines
                        },
                        reopen: None,
                        mapping: mapping.clone(),
                    }
                })
                .collect()
        };
        // A scenario that states skipped lines is replayed as `pactum test` replays it.
        let mut options = RunOptions::default();
        options.skip_invalid = scenario.expect.skipped > 0;
        let (fast, plain) = both_with(&program, inputs, options);
        assert!(!fast.violations.is_empty(), "{}", dir.display());
        assert_eq!(fast, plain, "{}", dir.display());
    }
}
