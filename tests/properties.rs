//! Property tests over the public library API: what must hold for any input, not just the
//! fixtures. Inputs that are not valid must give diagnostics or errors, never a panic; valid
//! stateless replays must not depend on line order or on the memo.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use pactum::engine::sink::Collect;
use pactum::report::{Collector, Report};
use pactum::{Input, InputFormat, Limits, RunOptions, compile, load::agreement, run};
use proptest::prelude::*;

const RULES: &str = r#"agreement: p
title: Properties
parties: {IQ: Iraq, TR: Türkiye}
lists:
  strikes: [airstrike, artillery]
functions: |
  fn north(e) { e.lat > 37.0 }
terms:
  - {id: a, title: A, breached_by: event.party, when: 'event.kind in strikes && event.country == "IQ"', message: '{event.kind} at {event.place}'}
  - {id: b, title: B, breached_by: TR, when: 'event.actor == "TAF" || north(event)'}
  - {id: c, title: C, breached_by: IQ, when: 'event.has("killed") && event.killed > 1', effective: {from: 2024-01-03}}
"#;

/// One event line from a small vocabulary, with fields present or missing.
fn event_line() -> impl Strategy<Value = String> {
    (
        0u32..5,
        prop::sample::select(vec!["airstrike", "artillery", "statement", "armed_clash"]),
        prop::option::of(prop::sample::select(vec!["TAF", "PKK", "IRGC"])),
        prop::option::of(prop::sample::select(vec!["IQ", "TR", "XX"])),
        prop::option::of(prop::sample::select(vec!["IQ", "IR"])),
        prop::option::of(36.0f64..38.0),
        prop::option::of(0i64..4),
        0u32..3,
    )
        .prop_map(|(day, kind, actor, party, country, lat, killed, id)| {
            let mut line = format!(
                r#"{{"time":"2024-01-0{}T00:00:0{}Z","kind":"{kind}""#,
                day + 1,
                id
            );
            for (key, value) in [("actor", actor), ("party", party), ("country", country)] {
                if let Some(value) = value {
                    line += &format!(r#","{key}":"{value}""#);
                }
            }
            if let Some(lat) = lat {
                line += &format!(r#","lat":{lat}"#);
            }
            if let Some(killed) = killed {
                line += &format!(r#","killed":{killed}"#);
            }
            line += &format!(r#","id":"e{id}","place":"p{day}"}}"#);
            line
        })
}

/// What a replay decided, independent of line numbers: (time, term, party, message, evidence
/// id, event kind) per violation, plus per-term counts.
fn replay(lines: &[String], memo: bool) -> (Vec<String>, Vec<(u64, u64, u64)>) {
    let (agreement, problems) = agreement::load("p.yaml", RULES);
    assert!(problems.is_empty(), "{problems:?}");
    let (program, problems) = compile(vec![agreement.unwrap()], &Limits::default());
    assert!(problems.is_empty(), "{problems:?}");
    let program = program.unwrap();
    let text = lines.join("\n");
    let input = Input {
        name: "log".into(),
        reader: Box::new(text.as_bytes()),
        format: InputFormat::JsonLines,
        reopen: None,
        mapping: None,
    };
    let mut options = RunOptions::default();
    options.memo = memo;
    let mut sink = Collect::default();
    let outcome = run(&program, vec![input], options, &mut sink).unwrap();
    let report = whole(&program, &outcome, options, &sink.0);
    let mut violations: Vec<String> = report
        .violations
        .iter()
        .map(|v| {
            format!(
                "{} {} {:?} {} {} {}",
                v.time, v.term, v.breached_by, v.message, v.evidence[0].id, v.evidence[0].kind
            )
        })
        .collect();
    // Events with one id and one time are indistinguishable here but for their other fields;
    // the multiset is what must not change.
    violations.sort();
    let counts = report
        .summary
        .by_term
        .iter()
        .map(|t| (t.evaluated, t.violations, t.errors))
        .collect();
    (violations, counts)
}

/// `items` in a deterministic shuffled order driven by `seed` (xorshift Fisher–Yates).
fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut state = seed | 1;
    for i in (1..items.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        items.swap(i, (state % (i as u64 + 1)) as usize);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn line_order_and_memo_do_not_change_what_is_found(
        lines in prop::collection::vec(event_line(), 1..60),
        seed in any::<u64>(),
    ) {
        let reference = replay(&lines, false);
        prop_assert_eq!(&replay(&lines, true), &reference);
        let mut shuffled = lines.clone();
        // A deterministic shuffle driven by the seed.
        shuffle(&mut shuffled, seed);
        prop_assert_eq!(&replay(&shuffled, true), &reference);
    }

    #[test]
    fn loading_and_compiling_never_panic(text in "[ -~\n]{0,300}") {
        let (agreement, _) = agreement::load("fuzz.yaml", &text);
        if let Some(agreement) = agreement {
            let _ = compile(vec![agreement], &Limits::default());
        }
    }

    /// Loading, compiling and, when the mutant still compiles, explaining an event by it.
    #[test]
    fn mutated_rule_files_never_panic(
        cut in 0usize..RULES.len(),
        insert in "[ -~\n]{0,12}",
        line in event_line(),
    ) {
        let mut text = RULES.to_string();
        let at = (0..=cut).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
        text.insert_str(at, &insert);
        let (agreement, _) = agreement::load("fuzz.yaml", &text);
        if let Some(agreement) = agreement
            && let (Some(program), _) = compile(vec![agreement], &Limits::default())
        {
            let origin = pactum::event::Origin { file: "log".into(), line: 1 };
            let event = pactum::input::EventParser::new().parse_json(&line, origin).unwrap();
            let _ = pactum::engine::explain::explain(&program, &event);
        }
    }

    #[test]
    fn reading_events_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let (agreement, _) = agreement::load("p.yaml", RULES);
        let (program, _) = compile(vec![agreement.unwrap()], &Limits::default());
        let program = program.unwrap();
        let (mapping, problems) = pactum::input::mapping::load("m.yaml", MAPPING, &Limits::default());
        assert!(problems.is_empty(), "{problems:?}");
        let mapping = std::rc::Rc::new(mapping.unwrap());
        for format in [InputFormat::JsonLines, InputFormat::Yaml, InputFormat::Csv] {
            for mapping in [None, Some(mapping.clone())] {
                let input = Input { name: "f".into(), reader: Box::new(&bytes[..]), format, reopen: None, mapping };
                let mut options = RunOptions::default();
                options.skip_invalid = true;
                let _ = run(&program, vec![input], options, &mut Collect::default());
            }
        }
    }

    /// Each CSV record is named by the line it starts on (counted from the bytes written before
    /// it), and every line of the file is counted, whatever the cells hold (commas, quotes,
    /// line breaks, `\r\n` or `\n` line ends).
    #[test]
    fn csv_records_are_named_by_their_first_line(
        rows in prop::collection::vec(prop::collection::vec("[a,\"\n 1]{0,5}", 2), 0..10),
        crlf in any::<bool>(),
    ) {
        let mut writer = csv::WriterBuilder::new()
            .terminator(if crlf { csv::Terminator::CRLF } else { csv::Terminator::Any(b'\n') })
            .from_writer(Vec::new());
        writer.write_record(["time", "kind", "a", "b"]).unwrap();
        let mut expected = Vec::new();
        for row in &rows {
            writer.flush().unwrap();
            let before = writer.get_ref().iter().filter(|b| **b == b'\n').count() as u64;
            expected.push(before + 1);
            writer.write_record(["2024-01-01", "x", &row[0], &row[1]]).unwrap();
        }
        let bytes = writer.into_inner().unwrap();
        let program = program_of("agreement: c\ntitle: C\nparties: {IQ: Iraq}\nterms:\n  - {id: all, title: All, breached_by: IQ, when: 'true'}\n");
        let input = Input { name: "f.csv".into(), reader: Box::new(&bytes[..]), format: InputFormat::Csv, reopen: None, mapping: None };
        let mut sink = Collect::default();
        let outcome = run(&program, vec![input], RunOptions::default(), &mut sink).unwrap();
        let mut lines: Vec<u64> = sink.0.iter().map(|v| v.evidence[0].origin.line).collect();
        lines.sort_unstable();
        prop_assert_eq!(lines, expected);
        let physical = bytes.iter().filter(|b| **b == b'\n').count() as u64;
        prop_assert_eq!(outcome.inputs[0].stats.lines, physical);
        prop_assert_eq!(outcome.inputs[0].stats.events, rows.len() as u64);
    }
}

/// A mapping that reads fields of every type and fails on some records.
const MAPPING: &str = r#"mapping: p
title: P
lists:
  kinds: {a: airstrike, "1": artillery}
time: {field: time, format: "%Y-%m-%d"}
id: record.id
kind: kinds[record.kind] ?? "statement"
fields:
  lat: record.lat
  north: record.lat > 37.0
  actor: record.actor
"#;

/// The program of a rule file that must be valid.
fn program_of(rules: &str) -> pactum::Program {
    let (agreement, problems) = agreement::load("rules.yaml", rules);
    assert!(problems.is_empty(), "{problems:?}");
    let (program, problems) = compile(vec![agreement.unwrap()], &Limits::default());
    assert!(problems.is_empty(), "{problems:?}");
    program.unwrap()
}

/// Replays `files` (each a list of lines, each file readable again) and builds the report;
/// the same report whether the sorted events are kept in memory or read again through an
/// index.
fn replay_files(program: &pactum::Program, files: &[Vec<String>]) -> pactum::Report {
    let run_with = |in_memory: u64| {
        let inputs = files
            .iter()
            .enumerate()
            .map(|(n, lines)| {
                let bytes = (lines.join("\n") + "\n").into_bytes();
                let again = bytes.clone();
                Input {
                    name: format!("f{n}"),
                    reader: Box::new(std::io::Cursor::new(bytes)),
                    format: InputFormat::JsonLines,
                    reopen: Some(Box::new(move || {
                        Ok(Box::new(std::io::Cursor::new(again.clone()))
                            as Box<dyn pactum::run::SeekRead>)
                    })),
                    mapping: None,
                }
            })
            .collect();
        let mut sink = Collect::default();
        let mut options = RunOptions::default();
        options.in_memory = in_memory;
        let outcome = run(program, inputs, options, &mut sink).unwrap();
        whole(program, &outcome, options, &sink.0)
    };
    let in_memory = run_with(RunOptions::default().in_memory);
    let indexed = run_with(0);
    assert_eq!(
        in_memory, indexed,
        "kept in memory, or read again through the index"
    );
    in_memory
}

const THRESHOLD_RULES: &str = r#"agreement: t
title: Threshold
parties: {TR: Türkiye}
terms:
  - {id: t, title: T, breached_by: TR, when: 'event.kind == "strike"', threshold: {count: 3, within: 2h, by: event.sector}}
"#;

/// (line, id, minute, sector, is a strike) for a random event.
fn threshold_event() -> impl Strategy<Value = (u32, Option<u8>, bool)> {
    (
        0u32..600,
        prop::option::weighted(0.9, 0u8..3),
        prop::bool::weighted(0.8),
    )
}

fn threshold_lines(events: &[(u32, Option<u8>, bool)]) -> Vec<String> {
    events
        .iter()
        .enumerate()
        .map(|(i, (minute, sector, strike))| {
            let mut line = format!(
                r#"{{"id":"e{i}","time":"2024-01-01T{:02}:{:02}:00Z","kind":"{}""#,
                minute / 60,
                minute % 60,
                if *strike { "strike" } else { "other" }
            );
            if let Some(sector) = sector {
                line += &format!(r#","sector":"s{sector}""#);
            }
            line + "}"
        })
        .collect()
}

/// The threshold rule of docs/semantics.md, computed directly: O(n²) over canonical order.
fn oracle(events: &[(u32, Option<u8>, bool)]) -> Vec<(u32, Vec<String>)> {
    let mut order: Vec<usize> = (0..events.len()).collect();
    order.sort_by_key(|&i| events[i].0); // stable: ties keep input order
    let mut found = Vec::new();
    for (position, &i) in order.iter().enumerate() {
        let (minute, sector, strike) = events[i];
        if !strike || sector.is_none() {
            continue;
        }
        let window: Vec<String> = order[..=position]
            .iter()
            .filter(|&&j| {
                let (m, s, st) = events[j];
                st && s == sector && m + 120 > minute
            })
            .map(|&j| format!("e{j}"))
            .collect();
        if window.len() >= 3 {
            // The evidence: the 3 latest of the window, which reach the count; and how many
            // the window held.
            let mut evidence = window[window.len() - 3..].to_vec();
            evidence.push(format!("in_window={}", window.len()));
            found.push((minute, evidence));
        }
    }
    found.sort();
    found
}

/// Replays `files` (each a list of lines), every one re-openable, against the threshold rule:
/// per violation its minute, its evidence ids and `in_window=N`.
fn replay_threshold(files: &[Vec<String>]) -> Vec<(u32, Vec<String>)> {
    let report = replay_files(&program_of(THRESHOLD_RULES), files);
    let mut found: Vec<(u32, Vec<String>)> = report
        .violations
        .iter()
        .map(|v| {
            let mut ids: Vec<String> = v.evidence.iter().map(|e| e.id.clone()).collect();
            ids.push(format!("in_window={}", v.in_window.unwrap_or(0)));
            (minutes(&v.time), ids)
        })
        .collect();
    found.sort();
    found
}

/// Each violation as its minute of the day and its evidence ids, sorted.
fn evidence_by_minute(report: &pactum::Report) -> Vec<(u32, Vec<String>)> {
    let mut found: Vec<(u32, Vec<String>)> = report
        .violations
        .iter()
        .map(|v| {
            (
                minutes(&v.time),
                v.evidence.iter().map(|e| e.id.clone()).collect(),
            )
        })
        .collect();
    found.sort();
    found
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn threshold_follows_its_rule_for_any_line_order_and_split(
        events in prop::collection::vec(threshold_event(), 0..80),
        cut in any::<prop::sample::Index>(),
        seed in any::<u64>(),
    ) {
        let expected = oracle(&events);
        let lines = threshold_lines(&events);
        // As given (mostly out of order: the run reads the events again in order).
        prop_assert_eq!(&replay_threshold(std::slice::from_ref(&lines)), &expected);
        // Split into two files, in order.
        let at = if lines.is_empty() { 0 } else { cut.index(lines.len() + 1) };
        prop_assert_eq!(
            &replay_threshold(&[lines[..at].to_vec(), lines[at..].to_vec()]),
            &expected
        );
        // Sorted by time (read in one pass): a stable sort keeps ties in input order, so the
        // result is the same.
        let mut sorted_lines: Vec<(u32, String)> =
            events.iter().map(|e| e.0).zip(lines.iter().cloned()).collect();
        sorted_lines.sort_by_key(|(minute, _)| *minute);
        let sorted_lines: Vec<String> = sorted_lines.into_iter().map(|(_, l)| l).collect();
        prop_assert_eq!(&replay_threshold(&[sorted_lines]), &expected);
        // Shuffled: the same rule on the new input order (it decides only between events at
        // one instant). The ids stay those of the original events.
        let mut order: Vec<usize> = (0..events.len()).collect();
        shuffle(&mut order, seed);
        let shuffled: Vec<String> = order.iter().map(|&i| lines[i].clone()).collect();
        let renamed: Vec<(u32, Vec<String>)> = oracle(&order.iter().map(|&i| events[i]).collect::<Vec<_>>())
            .into_iter()
            .map(|(minute, ids)| {
                let ids = ids
                    .iter()
                    .map(|id| match id[1..].parse::<usize>() {
                        Ok(n) => format!("e{}", order[n]),
                        Err(_) => id.clone(), // in_window=N
                    })
                    .collect();
                (minute, ids)
            })
            .collect();
        let mut expected_shuffled = renamed;
        expected_shuffled.sort();
        prop_assert_eq!(&replay_threshold(&[shuffled]), &expected_shuffled);
    }
}

const DEADLINE_RULES: &str = r#"agreement: d
title: Deadline
parties: {TR: Türkiye}
terms:
  - {id: within, title: W, breached_by: TR, when: 'event.kind == "op"', deadline: {within: 1h, require: 'event.kind == "notice" && event.ref == trigger.id'}}
  - {id: before, title: B, breached_by: TR, when: 'event.kind == "op"', deadline: {before: 30m, require: 'event.kind == "notice" && event.ref == trigger.id'}}
"#;

/// (id, minute, is an op, the op a notice refers to).
type Timed = (usize, u32, bool, usize);

/// Violations as (minute, term, trigger id) and open obligations as (due minute, trigger id).
type Decided = (Vec<(u32, String, String)>, Vec<(u32, String)>);

fn deadline_events() -> impl Strategy<Value = Vec<Timed>> {
    prop::collection::vec((0u32..300, prop::bool::weighted(0.5), 0usize..40), 0..40).prop_map(
        |raw| {
            raw.into_iter()
                .enumerate()
                .map(|(id, (minute, op, refers))| (id, minute, op, refers))
                .collect()
        },
    )
}

fn deadline_line(&(id, minute, op, refers): &Timed) -> String {
    format!(
        r#"{{"id":"e{id}","time":"2024-01-01T{:02}:{:02}:00Z","kind":"{}","ref":"e{refers}"}}"#,
        minute / 60,
        minute % 60,
        if op { "op" } else { "notice" }
    )
}

/// The deadline rules of docs/semantics.md, computed directly on events in input order.
fn deadline_oracle(events: &[Timed]) -> Decided {
    let mut order: Vec<&Timed> = events.iter().collect();
    order.sort_by_key(|e| e.1);
    let last = order.last().map_or(0, |e| e.1);
    let mut violations = Vec::new();
    let mut open = Vec::new();
    for (position, &&(id, minute, op, _)) in order.iter().enumerate() {
        if !op {
            continue;
        }
        let meets = |r: &&Timed| !r.2 && r.3 == id;
        let after = order[position + 1..]
            .iter()
            .any(|r| meets(r) && r.1 - minute <= 60);
        if !after {
            if minute + 60 <= last {
                violations.push((minute + 60, "within".to_string(), format!("e{id}")));
            } else {
                open.push((minute + 60, format!("e{id}")));
            }
        }
        let before = order[..position]
            .iter()
            .any(|r| meets(r) && minute - r.1 <= 30);
        if !before {
            violations.push((minute, "before".to_string(), format!("e{id}")));
        }
    }
    violations.sort();
    open.sort();
    (violations, open)
}

fn minutes(time: &str) -> u32 {
    time[11..13].parse::<u32>().unwrap() * 60 + time[14..16].parse::<u32>().unwrap()
}

fn replay_deadline(files: &[Vec<String>]) -> Decided {
    let report = replay_files(&program_of(DEADLINE_RULES), files);
    let mut violations: Vec<(u32, String, String)> = report
        .violations
        .iter()
        .map(|v| (minutes(&v.time), v.term.clone(), v.evidence[0].id.clone()))
        .collect();
    violations.sort();
    let mut open: Vec<(u32, String)> = report
        .open
        .iter()
        .map(|o| (minutes(&o.due), o.trigger.clone()))
        .collect();
    open.sort();
    (violations, open)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn deadline_follows_its_rules_for_any_line_order_and_split(
        events in deadline_events(),
        cut in any::<prop::sample::Index>(),
        seed in any::<u64>(),
    ) {
        let lines: Vec<String> = events.iter().map(deadline_line).collect();
        let expected = deadline_oracle(&events);
        prop_assert_eq!(&replay_deadline(std::slice::from_ref(&lines)), &expected);
        let at = if lines.is_empty() { 0 } else { cut.index(lines.len() + 1) };
        prop_assert_eq!(
            &replay_deadline(&[lines[..at].to_vec(), lines[at..].to_vec()]),
            &expected
        );
        // Shuffled: the rules on the new input order (it matters only at one instant).
        let mut shuffled = events.clone();
        shuffle(&mut shuffled, seed);
        let shuffled_lines: Vec<String> = shuffled.iter().map(deadline_line).collect();
        prop_assert_eq!(&replay_deadline(&[shuffled_lines]), &deadline_oracle(&shuffled));
    }
}

const ABSENCE_RULES: &str = r#"agreement: a
title: Absence
parties: {IQ: Iraq}
terms:
  - {id: a, title: A, breached_by: IQ, when: 'event.kind == "patrol"', absence: {within: 45m, by: event.sector, keys: [s0, s1]}}
"#;

/// (id, minute, is a patrol, sector).
type Sighting = (usize, u32, bool, u8);

fn absence_line(&(id, minute, patrol, sector): &Sighting) -> String {
    format!(
        r#"{{"id":"e{id}","time":"2024-01-01T{:02}:{:02}:00Z","kind":"{}","sector":"s{sector}"}}"#,
        minute / 60,
        minute % 60,
        if patrol { "patrol" } else { "other" }
    )
}

/// The absence rule of docs/semantics.md, computed directly: (gap end minute, key, evidence).
fn absence_oracle(events: &[Sighting]) -> Vec<(u32, String, String)> {
    let mut order: Vec<&Sighting> = events.iter().collect();
    order.sort_by_key(|e| e.1);
    let (Some(first), Some(last)) = (order.first(), order.last()) else {
        return Vec::new();
    };
    let (t0, t1) = (first.1, last.1);
    let mut found = Vec::new();
    for key in ["s0", "s1"] {
        let mut points: Vec<(u32, String)> = vec![(t0, String::new())];
        points.extend(
            order
                .iter()
                .filter(|e| e.2 && format!("s{}", e.3) == key)
                .map(|e| (e.1, format!("e{}", e.0))),
        );
        points.push((t1, String::new()));
        for pair in points.windows(2) {
            if pair[1].0 > pair[0].0 + 45 {
                found.push((pair[0].0 + 45, key.to_string(), pair[0].1.clone()));
            }
        }
    }
    found.sort();
    found
}

fn replay_absence(lines: &[String]) -> Vec<(u32, String, String)> {
    let report = replay_files(&program_of(ABSENCE_RULES), &[lines.to_vec()]);
    let mut found: Vec<(u32, String, String)> = report
        .violations
        .iter()
        .map(|v| {
            let evidence = v.evidence.first().map(|e| e.id.clone()).unwrap_or_default();
            (
                minutes(&v.time),
                v.key.clone().unwrap_or_default(),
                evidence,
            )
        })
        .collect();
    found.sort();
    found
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn absence_follows_its_rule_for_any_line_order(
        raw in prop::collection::vec((0u32..400, prop::bool::weighted(0.7), 0u8..3), 0..30),
    ) {
        let events: Vec<Sighting> = raw
            .into_iter()
            .enumerate()
            .map(|(id, (minute, patrol, sector))| (id, minute, patrol, sector))
            .collect();
        let lines: Vec<String> = events.iter().map(absence_line).collect();
        prop_assert_eq!(replay_absence(&lines), absence_oracle(&events));
    }
}

const SEQUENCE_RULES: &str = r#"agreement: q
title: Sequence
parties: {TR: Türkiye}
terms:
  - {id: q, title: Q, breached_by: TR, sequence: {within: 1h, by: event.sector, steps: ['event.kind == "a"', 'event.kind == "b"', 'event.kind == "c"']}}
"#;

/// (id, minute, kind 0..3 for a, b, c, d, sector).
type Step = (usize, u32, u8, u8);

fn sequence_line(&(id, minute, kind, sector): &Step) -> String {
    format!(
        r#"{{"id":"e{id}","time":"2024-01-01T{:02}:{:02}:00Z","kind":"{}","sector":"s{sector}"}}"#,
        minute / 60,
        minute % 60,
        ["a", "b", "c", "d"][kind as usize]
    )
}

/// The sequence rule of docs/semantics.md by brute force: every chain (a, b, c) in canonical
/// order with one key and a span of at most 60 minutes; for each final event, the chain whose
/// positions are latest, from the last step backwards.
fn sequence_oracle(events: &[Step]) -> Vec<(u32, Vec<String>)> {
    let mut order: Vec<&Step> = events.iter().collect();
    order.sort_by_key(|e| e.1);
    let mut found = Vec::new();
    for (k, f) in order.iter().enumerate() {
        if f.2 != 2 {
            continue;
        }
        let mut best: Option<(usize, usize)> = None;
        for j in 0..k {
            for i in 0..j {
                let (a, b) = (order[i], order[j]);
                let valid = a.2 == 0 && b.2 == 1 && a.3 == f.3 && b.3 == f.3 && f.1 - a.1 <= 60;
                if valid && best.is_none_or(|(bi, bj)| (j, i) > (bj, bi)) {
                    best = Some((i, j));
                }
            }
        }
        if let Some((i, j)) = best {
            let ids = [order[i], order[j], f]
                .iter()
                .map(|e| format!("e{}", e.0))
                .collect();
            found.push((f.1, ids));
        }
    }
    found.sort();
    found
}

fn replay_sequence(lines: &[String]) -> Vec<(u32, Vec<String>)> {
    evidence_by_minute(&replay_files(
        &program_of(SEQUENCE_RULES),
        &[lines.to_vec()],
    ))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn sequence_follows_its_rule_for_any_line_order(
        raw in prop::collection::vec((0u32..240, 0u8..4, 0u8..2), 0..30),
    ) {
        let events: Vec<Step> = raw
            .into_iter()
            .enumerate()
            .map(|(id, (minute, kind, sector))| (id, minute, kind, sector))
            .collect();
        let lines: Vec<String> = events.iter().map(sequence_line).collect();
        prop_assert_eq!(replay_sequence(&lines), sequence_oracle(&events));
    }
}

const ALL_FORMS: &str = r#"agreement: all
title: All forms
parties: {TR: Türkiye}
terms:
  - {id: each, title: E, breached_by: TR, when: 'event.kind == "c"'}
  - {id: threshold, title: T, breached_by: TR, when: 'event.kind == "a"', threshold: {count: 3, within: 30m, by: event.sector}}
  - {id: deadline, title: D, breached_by: TR, when: 'event.kind == "a"', deadline: {within: 20m, require: 'event.kind == "b" && event.sector == trigger.sector'}}
  - {id: absence, title: G, breached_by: TR, when: 'event.kind == "b"', absence: {within: 40m, by: event.sector, keys: [s0, s1]}}
  - {id: sequence, title: S, breached_by: TR, sequence: {within: 30m, by: event.sector, steps: ['event.kind == "a"', 'event.kind == "c"']}}
"#;

/// What a replay decided, named by event ids: violations and open obligations, sorted.
fn decided(report: &pactum::Report) -> (Vec<String>, Vec<String>) {
    let mut violations: Vec<String> = report
        .violations
        .iter()
        .map(|v| {
            let ids: Vec<&str> = v.evidence.iter().map(|e| e.id.as_str()).collect();
            format!("{} {} {:?} {}", v.time, v.term, v.key, ids.join(","))
        })
        .collect();
    violations.sort();
    let mut open: Vec<String> = report
        .open
        .iter()
        .map(|o| format!("{} {} {}", o.due, o.term, o.trigger))
        .collect();
    open.sort();
    (violations, open)
}

fn all_forms_program() -> pactum::Program {
    program_of(ALL_FORMS)
}

fn replay_file(program: &pactum::Program, text: &str) -> pactum::Report {
    replay_files(program, &[text.lines().map(str::to_string).collect()])
}

fn replay_stream(
    program: &pactum::Program,
    text: &str,
    max_delay: chrono::TimeDelta,
) -> pactum::Report {
    let input = Input {
        name: "-".into(),
        reader: Box::new(text.as_bytes()),
        format: InputFormat::JsonLines,
        reopen: None,
        mapping: None,
    };
    let mut sink = Collect::default();
    let mut options = RunOptions::default();
    options.max_delay = max_delay;
    let outcome = run(program, vec![input], options, &mut sink).unwrap();
    whole(program, &outcome, options, &sink.0)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn streaming_with_enough_delay_equals_file_replay(
        raw in prop::collection::vec((0u32..300, 0u8..3, 0u8..2), 0..40),
    ) {
        let text: String = raw
            .iter()
            .enumerate()
            .map(|(id, (minute, kind, sector))| {
                format!(
                    "{{\"id\":\"e{id}\",\"time\":\"2024-01-01T{:02}:{:02}:00Z\",\"kind\":\"{}\",\"sector\":\"s{sector}\"}}\n",
                    minute / 60,
                    minute % 60,
                    ["a", "b", "c"][*kind as usize]
                )
            })
            .collect();
        let program = all_forms_program();
        let file = replay_file(&program, &text);
        // The log spans at most 300 minutes: a 6-hour buffer holds any disorder.
        let stream = replay_stream(&program, &text, chrono::TimeDelta::hours(6));
        prop_assert!(stream.late.is_empty());
        prop_assert_eq!(decided(&stream), decided(&file));
        prop_assert_eq!(&stream.summary.by_term, &file.summary.by_term);
    }
}

/// Invalid lines between events, out of order, skipped: the events read again through the
/// index (seeking, or reading on past the skipped lines) are the events kept in memory.
#[test]
fn the_index_reads_past_skipped_lines() {
    let program = all_forms_program();
    // In canonical order: a, b (read on past a skipped line), d (a seek back), c (a seek).
    let text = "{\"id\":\"a\",\"time\":\"2024-01-01T00:05:00Z\",\"kind\":\"a\",\"sector\":\"s0\"}\n\
                not json\n\
                {\"id\":\"b\",\"time\":\"2024-01-01T00:10:00Z\",\"kind\":\"b\",\"sector\":\"s0\"}\n\
                {\"time\":\"2024-01-01\"}\n\
                {\"id\":\"c\",\"time\":\"2024-01-01T00:30:00Z\",\"kind\":\"a\",\"sector\":\"s1\"}\n\
                {\"id\":\"d\",\"time\":\"2024-01-01T00:20:00Z\",\"kind\":\"c\",\"sector\":\"s1\"}\n";
    let run_with = |in_memory: u64| {
        let mut options = RunOptions::default();
        options.skip_invalid = true;
        options.in_memory = in_memory;
        replay_text(&program, text, options)
    };
    let kept = run_with(RunOptions::default().in_memory);
    let indexed = run_with(0);
    assert_eq!(kept.skipped.len(), 2);
    assert_eq!(kept.summary.events, 4);
    assert_eq!(kept, indexed);
    let order: Vec<&str> = kept
        .violations
        .iter()
        .flat_map(|v| v.evidence.iter().map(|e| e.id.as_str()))
        .collect();
    assert!(
        !order.is_empty(),
        "the rules must fire for the comparison to mean something"
    );
}

/// The scan of times reads lines as the events are read: a byte-order mark, `\r\n`, a key
/// written with an escape, other fields before `time`. The scanned order (a reorder buffer as
/// long as the worst lateness) is the sorted one, and no event comes late.
#[test]
fn the_scan_of_times_reads_lines_as_events_are_read() {
    let program = all_forms_program();
    let text = "\u{feff}{\"id\":\"a\",\"t\\u0069me\":\"2024-01-01T03:00:00Z\",\"kind\":\"a\",\"sector\":\"s0\"}\r\n\
                {\"kind\":\"b\",\"sector\":\"s0\",\"id\":\"b\",\"time\":\"2024-01-01T01:00:00+00:00\"}\r\n\
                \r\n\
                {\"id\":\"c\",\"time\":\"2024-01-01\",\"kind\":\"a\",\"sector\":\"s1\"}\n\
                {\"id\":\"d\",\"time\":\"2024-01-01T04:00:00Z\",\"kind\":\"c\",\"sector\":\"s1\"}";
    let run_with = |in_memory: u64| {
        let mut options = RunOptions::default();
        options.in_memory = in_memory;
        replay_text(&program, text, options)
    };
    let scanned = run_with(RunOptions::default().in_memory);
    let indexed = run_with(0);
    assert_eq!(scanned.summary.events, 4);
    assert!(scanned.late.is_empty());
    assert_eq!(scanned.options.max_delay_s, None);
    assert_eq!(scanned, indexed);
}

/// Replays `text` as a JSON Lines file that can be read again, under `options`.
fn replay_text(program: &pactum::Program, text: &str, options: RunOptions) -> pactum::Report {
    let bytes = text.as_bytes().to_vec();
    let again = bytes.clone();
    let input = Input {
        name: "f".into(),
        reader: Box::new(std::io::Cursor::new(bytes)),
        format: InputFormat::JsonLines,
        reopen: Some(Box::new(move || {
            Ok(Box::new(std::io::Cursor::new(again.clone())) as Box<dyn pactum::run::SeekRead>)
        })),
        mapping: None,
    };
    let mut sink = Collect::default();
    let outcome = run(program, vec![input], options, &mut sink).unwrap();
    whole(program, &outcome, options, &sink.0)
}

/// The report of a run's `violations`, collected in memory; the same report, collected one
/// violation per sorted run through the temporary file (`report::store`), must be equal.
fn whole(
    program: &pactum::Program,
    outcome: &pactum::run::RunOutcome,
    options: RunOptions,
    violations: &[pactum::engine::sink::Violation],
) -> Report {
    let collect = |budget| {
        let mut collector = Collector::with_budget(program, budget);
        for v in violations {
            pactum::Sink::violation(&mut collector, v.clone()).unwrap();
        }
        let collected = collector.finish().unwrap();
        pactum::report::build_whole(program, outcome, options, &collected).unwrap()
    };
    let report = collect(Collector::DEFAULT_BUDGET);
    assert_eq!(collect(1), report, "spilled one violation per run");
    assert_eq!(collect(2048), report, "spilled a few violations per run");
    report
}

const INCIDENT_RULES: &str = r#"agreement: i
title: Incidents
parties: {TR: Türkiye}
terms:
  - {id: t, title: T, breached_by: TR, when: 'event.kind == "strike"', threshold: {count: 1, within: 1h, by: event.sector}}
"#;

/// The incidents the rule of docs/semantics.md gives for strikes at `hours` (hour, sector):
/// per sector, strikes in time order, a new incident wherever one comes more than a day
/// after the one before. As (sector, first hour, last hour, violations), sorted.
fn incident_oracle(strikes: &[(u32, u8)]) -> Vec<(String, u32, u32, u64)> {
    let mut found = Vec::new();
    for sector in 0..3u8 {
        let mut hours: Vec<u32> = strikes
            .iter()
            .filter(|(_, s)| *s == sector)
            .map(|(h, _)| *h)
            .collect();
        hours.sort_unstable();
        let mut open: Option<(u32, u32, u64)> = None;
        for hour in hours {
            open = match open {
                Some((first, last, n)) if hour - last <= 24 => Some((first, hour, n + 1)),
                Some((first, last, n)) => {
                    found.push((format!("S{sector}"), first, last, n));
                    Some((hour, hour, 1))
                }
                None => Some((hour, hour, 1)),
            };
        }
        if let Some((first, last, n)) = open {
            found.push((format!("S{sector}"), first, last, n));
        }
    }
    found.sort();
    found
}

fn hour_of(time: &serde_json::Value) -> u32 {
    let time = chrono::DateTime::parse_from_rfc3339(time.as_str().unwrap()).unwrap();
    let start = chrono::DateTime::parse_from_rfc3339("2024-01-01T00:00:00Z").unwrap();
    u32::try_from((time - start).num_hours()).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Incidents follow their rule for strikes over twelve days, and are listed as they
    /// ended; every violation is in exactly one.
    #[test]
    fn incidents_follow_their_rule(
        strikes in prop::collection::vec((0u32..288, 0u8..3), 0..60),
    ) {
        let lines: Vec<String> = strikes
            .iter()
            .enumerate()
            .map(|(i, (hour, sector))| {
                format!(
                    r#"{{"id":"e{i}","time":"2024-01-{:02}T{:02}:00:00Z","kind":"strike","sector":"S{sector}"}}"#,
                    hour / 24 + 1,
                    hour % 24
                )
            })
            .collect();
        let report = replay_files(&program_of(INCIDENT_RULES), &[lines]);
        let mut json = Vec::new();
        pactum::report::write(&report, &report.violations, pactum::report::Format::Json, pactum::report::Rendering::default(), &mut json)
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&json).unwrap();
        let incidents = json["incidents"].as_array().unwrap();
        let mut found: Vec<(String, u32, u32, u64)> = incidents
            .iter()
            .map(|i| {
                (
                    i["key"].as_str().unwrap().to_string(),
                    hour_of(&i["first"]),
                    hour_of(&i["last"]),
                    i["violations"].as_u64().unwrap(),
                )
            })
            .collect();
        let lasts: Vec<u32> = found.iter().map(|f| f.2).collect();
        prop_assert!(lasts.is_sorted(), "listed as they ended: {:?}", lasts);
        found.sort();
        prop_assert_eq!(found, incident_oracle(&strikes));
    }
}
