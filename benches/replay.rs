//! Replay throughput and memory: `cargo bench --bench replay [-- EVENTS] [five|mixed|strip|scaling|dump]`
//! (`scaling`: 5 to 1,000 generated terms, speed against the 5-term one; `scaling:N`: all the
//! events against N terms only, for a profiler).
//!
//! Generates a log of synthetic incident reports on the fly (no file, so the input itself takes
//! no memory), replays it against `benches/five-terms.yaml` (five stateless terms) on one
//! thread, and prints events per second and the peak resident memory. The log is replayed
//! twice, at a tenth of the length and at full length: peak memory that does not grow between
//! the two shows that memory does not depend on the length of the log. A third run at full
//! length evaluates every condition in full (the memo off), to show what the memo is worth;
//! its violation count must equal the second run's.

// A benchmark over data it generates itself: an index out of range or a failed setup is a bug
// in the benchmark, and a panic is the right report of it.
#![allow(clippy::indexing_slicing, clippy::expect_used, clippy::panic)]

use std::io::{self, BufRead, BufReader, Read};
use std::time::Instant;

use pactum::engine::sink::Count;
use pactum::{Input, InputFormat, Limits, RunOptions, compile, load::agreement, run};

const KINDS: [&str; 12] = [
    "airstrike",
    "drone_strike",
    "artillery",
    "armed_clash",
    "armed_presence",
    "patrol",
    "statement",
    "relocation",
    "cross_border_attack",
    "protest",
    "arrest",
    "notification",
];
const ACTORS: [&str; 10] = [
    "KDPI",
    "PAK",
    "Komala",
    "PJAK",
    "PKK",
    "IRGC",
    "TAF",
    "IQ-BorderGuard",
    "Peshmerga",
    "unknown",
];
const PLACES: [(&str, f64, f64); 6] = [
    ("Metina", 37.1677, 43.2721),
    ("Zap", 37.0702, 43.6564),
    ("Gara", 37.0105, 43.4188),
    ("Asos", 37.3308, 43.0585),
    ("Qandil", 36.5411, 44.9961),
    ("Koya", 36.0829, 44.6287),
];

/// An endless-looking reader producing `remaining` JSON Lines events, deterministically.
struct Generator {
    remaining: u64,
    n: u64,
    line: Vec<u8>,
    at: usize,
}

impl Generator {
    fn new(events: u64) -> Self {
        Generator {
            remaining: events,
            n: 0,
            line: Vec::new(),
            at: 0,
        }
    }

    fn refill(&mut self) {
        let n = self.n;
        self.n += 1;
        self.remaining -= 1;
        // A cheap deterministic mix, so every term sees a realistic share of matches.
        let h = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 17;
        let kind = KINDS[(h % 12) as usize];
        let actor = ACTORS[((h >> 5) % 10) as usize];
        let (place, lat, lon) = PLACES[((h >> 9) % 6) as usize];
        // Reported coordinates scatter around the named place, as real ones do. Formatted from
        // integers: float formatting would cost the generator more than pactum's parsing.
        let lat = (lat * 10_000.0) as u64 + (h >> 20) % 2000 - 1000;
        let lon = (lon * 10_000.0) as u64 + (h >> 31) % 2000 - 1000;
        let country = if (h >> 13).is_multiple_of(4) {
            "IR"
        } else {
            "IQ"
        };
        let party = match actor {
            "IRGC" => "IR",
            "TAF" => "TR",
            _ => "IQ",
        };
        // One year, in time order: 1,000,000 events are one every 31.5 seconds.
        let at = n * 63 / 2;
        let day = at / 86_400;
        let second = at % 86_400;
        let (month, day) = month_day(day % 365);
        // Written piece by piece (numbers with `itoa`): `format!` cost the generator a tenth of
        // the measured time, which is not pactum's.
        let mut digits = itoa::Buffer::new();
        let line = &mut self.line;
        line.clear();
        line.extend_from_slice(br#"{"id":"ev-"#);
        line.extend_from_slice(digits.format(n).as_bytes());
        line.extend_from_slice(br#"","time":"2023-"#);
        padded(line, month, 2);
        line.push(b'-');
        padded(line, day, 2);
        line.push(b'T');
        padded(line, second / 3600, 2);
        line.push(b':');
        padded(line, (second / 60) % 60, 2);
        line.push(b':');
        padded(line, second % 60, 2);
        line.push(b'Z');
        for (name, value) in [
            ("kind", kind),
            ("actor", actor),
            ("party", party),
            ("country", country),
            ("place", place),
        ] {
            line.extend_from_slice(br#"",""#);
            line.extend_from_slice(name.as_bytes());
            line.extend_from_slice(br#"":""#);
            line.extend_from_slice(value.as_bytes());
        }
        line.extend_from_slice(br#"","sector":"S"#);
        padded(line, (h >> 25) % 40, 2);
        line.extend_from_slice(br#"","lat":"#);
        line.extend_from_slice(digits.format(lat / 10_000).as_bytes());
        line.push(b'.');
        padded(line, lat % 10_000, 4);
        line.extend_from_slice(br#","lon":"#);
        line.extend_from_slice(digits.format(lon / 10_000).as_bytes());
        line.push(b'.');
        padded(line, lon % 10_000, 4);
        line.extend_from_slice(br#","targets":"#);
        line.extend_from_slice(digits.format(h % 40).as_bytes());
        line.extend_from_slice(br#","source":"https://example.org/reports/"#);
        line.extend_from_slice(digits.format(n).as_bytes());
        line.extend_from_slice(b"\"}\n");
        self.at = 0;
    }
}

impl Read for Generator {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let mut written = 0;
        while written < out.len() {
            if self.at == self.line.len() {
                if self.remaining == 0 {
                    break;
                }
                self.refill();
            }
            let n = (self.line.len() - self.at).min(out.len() - written);
            out[written..written + n].copy_from_slice(&self.line[self.at..self.at + n]);
            self.at += n;
            written += n;
        }
        Ok(written)
    }
}

/// `n` in `width` decimal digits, zero-padded (`n` is below `10^width`).
fn padded(line: &mut Vec<u8>, n: u64, width: u32) {
    for place in (0..width).rev() {
        line.push(b'0' + ((n / 10u64.pow(place)) % 10) as u8);
    }
}

/// Month and day of day `n` (0-based) of 2023.
fn month_day(mut n: u64) -> (u64, u64) {
    for (month, days) in [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        .into_iter()
        .enumerate()
    {
        if n < days {
            return (month as u64 + 1, n + 1);
        }
        n -= days;
    }
    (12, 31)
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let events: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    // Any other argument (cargo passes `--bench`) picks the agreements whose file name holds it.
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a.parse::<u64>().is_err() && !a.starts_with("--"))
        .collect();
    // `dump` writes the generated log to standard output instead, for end-to-end runs of the
    // command line on the same events.
    if only.iter().any(|o| o == "dump") {
        let mut out = io::stdout().lock();
        io::copy(&mut Generator::new(events), &mut out).expect("stdout");
        return;
    }
    // What the generator itself costs: it is inside every time measured below.
    let start = Instant::now();
    let mut reader = BufReader::with_capacity(1 << 16, Generator::new(events));
    let mut bytes = 0;
    loop {
        let buffer = reader.fill_buf().expect("generated");
        if buffer.is_empty() {
            break;
        }
        let n = buffer.len();
        bytes += n;
        reader.consume(n);
    }
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "generator alone: {events} events ({} MB) in {seconds:.3} s, included in the times below",
        bytes / 1_000_000
    );
    for (file, label, runs) in [
        (
            "five-terms.yaml",
            "5 stateless terms",
            vec![(events / 10, true), (events, true), (events, false)],
        ),
        (
            "mixed-terms.yaml",
            "stateless, numeric, threshold, absence and sequence terms",
            vec![(events / 10, true), (events, true)],
        ),
        (
            "strip-term.yaml",
            "one containment test per event in the Iraq–Türkiye 30 km strip",
            vec![(events / 10, true), (events, true)],
        ),
    ] {
        if only.is_empty() || only.iter().any(|o| file.contains(o.as_str())) {
            bench(file, label, &runs);
        }
    }
    // Many terms: how speed follows the number of terms (issue 11: 1,000 terms at no less than a
    // quarter of the 5-term speed is the goal). Only when asked: it is slow.
    if only.iter().any(|o| o == "scaling") {
        terms(events, &[5, 50, 500, 1000], true);
    }
    if let Some(n) = only.iter().find_map(|o| o.strip_prefix("scaling:")) {
        terms(
            events,
            &[n.parse().expect("scaling:N, a number of terms")],
            false,
        );
    }
    // The strip term alone: events parsed ahead (untimed, in chunks), then only the judging
    // timed — the term's Rhai condition and its containment test, and the violations built.
    // Last, because its chunks of parsed events raise the process's peak memory.
    if only.is_empty() || only.iter().any(|o| o == "strip") {
        term_only("strip-term.yaml", events);
    }
}

/// The benchmark agreement `benches/FILE`, loaded (with its geography) and compiled.
/// An agreement of `n` stateless terms of the shapes real rules use, in turn: a kind and an
/// actor in lists of their own (so that the agreement has `n / 2` lists), a numeric bound with
/// an equality, two equalities, a place in a list with an equality; each also needs a rare
/// number of targets.
fn terms_agreement(n: usize) -> String {
    let mut lists = String::new();
    let mut terms = String::new();
    for i in 0..n {
        let kinds = [KINDS[i % 12], KINDS[(i + 5) % 12]];
        let actors = [ACTORS[i % 10], ACTORS[(i + 3) % 10]];
        let when = match i % 4 {
            0 => {
                lists += &format!(
                    "  kinds_{i}: [{}, {}]\n  actors_{i}: [{}, {}]\n",
                    kinds[0], kinds[1], actors[0], actors[1]
                );
                format!("event.kind in kinds_{i} && event.actor in actors_{i}")
            }
            1 => format!(
                "event.lat > {}.{} && event.kind == \"{}\"",
                36 + i % 2,
                i % 10,
                kinds[0]
            ),
            2 => format!(
                "event.actor == \"{}\" && event.country == \"IQ\"",
                actors[1]
            ),
            _ => {
                lists += &format!(
                    "  places_{i}: [{}, {}]\n",
                    PLACES[i % 6].0,
                    PLACES[(i + 1) % 6].0
                );
                format!("event.place in places_{i} && event.party == \"TR\"")
            }
        };
        // Breaches are rare, as in real logs: a term fires on about one event in forty it
        // would otherwise select, so that judging, not building violations, is measured.
        terms += &format!(
            "  - {{id: t{i}, title: T{i}, breached_by: IQ, when: '{when} && event.targets > 38'}}\n"
        );
    }
    format!(
        "agreement: many\ntitle: Many terms\nparties: {{IQ: Iraq}}\nlists:\n{lists}terms:\n{terms}"
    )
}

/// Replays `events` events (fewer for more terms when `scaled`) against each number of
/// generated terms and prints each speed against the first's.
fn terms(events: u64, sizes: &[usize], scaled: bool) {
    println!("terms benchmark: stateless terms of the usual shapes, one thread");
    let mut first = None;
    for &n in sizes {
        let text = terms_agreement(n);
        let (agreement, problems) = agreement::load("many.yaml", &text);
        assert!(problems.is_empty(), "{problems:?}");
        let (program, problems) = compile(vec![agreement.expect("loads")], &Limits::default());
        assert!(
            problems
                .iter()
                .all(|p| p.level != pactum::diagnostic::Level::Error),
            "{problems:?}"
        );
        let program = program.expect("compiles");
        let count = if scaled {
            (events * 5 / n as u64).clamp(10_000, events)
        } else {
            events
        };
        let input = Input {
            name: "generated".into(),
            reader: Box::new(BufReader::with_capacity(1 << 16, Generator::new(count))),
            format: InputFormat::JsonLines,
            reopen: None,
            mapping: None,
        };
        let mut sink = Count::default();
        let start = Instant::now();
        run(&program, vec![input], RunOptions::default(), &mut sink).expect("replay");
        let rate = count as f64 / start.elapsed().as_secs_f64();
        let base = *first.get_or_insert(rate);
        println!(
            "{n:>5} terms  {count:>9} events  {rate:>9.0} events/s  {:>5.3} of the 5-term speed  {:>8} violations",
            rate / base,
            sink.0
        );
    }
}

fn program(file: &str) -> pactum::Program {
    let path = format!("{}/benches/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("the benchmark agreement");
    // The benchmark agreements name the shipped maps, in ../rules/geo.
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let roots = pactum::load::confine::Roots::new(&root, [root.clone()]);
    let (agreement, problems) =
        agreement::load_with(&path, &text, &roots, &mut |p| std::fs::read(p));
    assert!(problems.is_empty(), "{problems:?}");
    let (program, problems) = compile(vec![agreement.expect("loads")], &Limits::default());
    assert!(problems.is_empty(), "{problems:?}");
    program.expect("compiles")
}

fn bench(file: &str, label: &str, runs: &[(u64, bool)]) {
    let program = program(file);

    println!("replay benchmark: {label} ({file}), one thread");
    for &(n, memo) in runs {
        let reader: Box<dyn BufRead> =
            Box::new(BufReader::with_capacity(1 << 16, Generator::new(n)));
        let input = Input {
            name: "generated".into(),
            reader,
            format: InputFormat::JsonLines,
            reopen: None,
            mapping: None,
        };
        let mut sink = Count::default();
        let start = Instant::now();
        let mut options = RunOptions::default();
        options.memo = memo;
        let outcome = run(&program, vec![input], options, &mut sink).expect("replay");
        let seconds = start.elapsed().as_secs_f64();
        assert_eq!(outcome.totals.events, n);
        println!(
            "{n:>9} events  {seconds:>7.3} s  {:>9.0} events/s  {:>8} violations  peak RSS {} KiB{}",
            n as f64 / seconds,
            sink.0,
            peak_rss_kib().map_or("?".into(), |k| k.to_string()),
            if memo { "" } else { "  (memo off)" },
        );
    }
}

/// Times only `Replay::judge` over `events` events, parsed ahead in chunks of 100,000 so that
/// neither reading nor parsing JSON is in the figure.
fn term_only(file: &str, events: u64) {
    let program = program(file);
    let mut reader = BufReader::with_capacity(1 << 16, Generator::new(events));
    let mut parser = pactum::input::EventParser::new();
    let mut replay = pactum::Replay::new(&program);
    let mut sink = Count::default();
    let mut judged = 0u64;
    let mut seconds = 0.0;
    let mut line = String::new();
    let input: std::rc::Rc<str> = "generated".into();
    loop {
        let mut chunk = Vec::with_capacity(100_000);
        while chunk.len() < 100_000 {
            line.clear();
            if reader.read_line(&mut line).expect("generated") == 0 {
                break;
            }
            let origin = pactum::event::Origin {
                file: input.clone(),
                line: judged + chunk.len() as u64 + 1,
            };
            chunk.push(parser.parse_json(line.trim_end(), origin).expect("valid"));
        }
        if chunk.is_empty() {
            break;
        }
        judged += chunk.len() as u64;
        let start = Instant::now();
        for event in chunk {
            replay.judge(event, &mut sink).expect("judged");
        }
        seconds += start.elapsed().as_secs_f64();
    }
    println!(
        "term only ({file}): {judged} events judged in {seconds:.3} s: {:.0} containment tests/s through the term, {} violations",
        judged as f64 / seconds,
        sink.0
    );
}
