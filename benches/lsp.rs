//! The language server's answer times: `cargo bench --bench lsp [-- RUNS [TERMS]]`.
//!
//! Issue 14 asks that `pactum lsp` start, and re-check a 1,000-term agreement after a change,
//! each within 200 ms. This starts the release binary RUNS times (11 by default) and measures,
//! as an editor sees them through the pipe:
//!
//! - **startup**: from spawning `pactum lsp` to the `initialize` response;
//! - **re-check**: from sending a `didChange` (the whole text of a generated agreement of
//!   TERMS terms, 1,000 by default, one term's `when` edited each time) to the
//!   `publishDiagnostics` of that version, five changes per run, each waited for.
//!
//! It prints the median and the slowest of each, and whether the median is within 200 ms. A
//! benchmark, not a test: the machine is shared and noisy, so the figures (docs/performance.md)
//! are medians of many samples, and nothing fails on a slow run.

// A benchmark of a process it starts: a failed setup is a bug in the benchmark, and a panic is
// the right report of it.
#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::unwrap_used,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_pactum");

/// An agreement of `terms` terms, the shape of `benches/check_scale.py terms N`; term `edited`
/// compares with `killed > version` so that each version's text differs.
fn agreement(terms: usize, edited: usize, version: i32) -> String {
    let mut text =
        String::from("agreement: scale\ntitle: Scale – Türkiye\nparties: {TR: Türkiye}\nterms:\n");
    for i in 0..terms {
        let bound = if i == edited {
            i64::from(version)
        } else {
            (i % 7) as i64
        };
        text.push_str(&format!(
            "  - id: t{i}\n    title: Term {i} – Türkiye\n    breached_by: TR\n    when: event.kind == \"k{i}\" && event.killed > {bound}\n"
        ));
    }
    text
}

fn read_messages(pipe: impl Read + Send + 'static) -> Receiver<Value> {
    let (send, receive) = channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(pipe);
        loop {
            let mut length = 0;
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 {
                    return;
                }
                let header = header.trim_end();
                if header.is_empty() {
                    break;
                }
                if let Some(value) = header.strip_prefix("Content-Length: ") {
                    length = value.parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            if send.send(serde_json::from_slice(&body).unwrap()).is_err() {
                return;
            }
        }
    });
    receive
}

fn send(input: &mut ChildStdin, message: &Value) {
    let body = serde_json::to_vec(message).unwrap();
    write!(input, "Content-Length: {}\r\n\r\n", body.len()).unwrap();
    input.write_all(&body).unwrap();
    input.flush().unwrap();
}

/// Waits for the message `wanted` picks.
fn wait(messages: &Receiver<Value>, wanted: impl Fn(&Value) -> bool) -> Value {
    loop {
        let message = messages
            .recv_timeout(Duration::from_secs(30))
            .expect("no answer within 30 s");
        if wanted(&message) {
            return message;
        }
    }
}

fn diagnostics_of(version: i32) -> impl Fn(&Value) -> bool {
    move |m| {
        m["method"] == "textDocument/publishDiagnostics" && m["params"]["version"] == json!(version)
    }
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

fn main() {
    let numbers: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let runs = numbers.first().copied().unwrap_or(11);
    let terms = numbers.get(1).copied().unwrap_or(1_000);
    let folder = tempfile::tempdir().unwrap();
    let uri = format!("file://{}/scale.yaml", folder.path().display());
    let mut startups = Vec::new();
    let mut rechecks = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let mut child = Command::new(BIN)
            .arg("lsp")
            .current_dir(folder.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        let messages = read_messages(child.stdout.take().unwrap());
        send(
            &mut input,
            &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}),
        );
        wait(&messages, |m| m["id"] == 1);
        startups.push(started.elapsed());
        send(
            &mut input,
            &json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}),
        );
        send(
            &mut input,
            &json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
                "uri": uri, "languageId": "yaml", "version": 1, "text": agreement(terms, 0, 1)}}}),
        );
        let first = wait(&messages, diagnostics_of(1));
        assert_eq!(
            first["params"]["diagnostics"],
            json!([]),
            "the generated agreement is valid"
        );
        for version in 2..7 {
            let text = agreement(terms, terms / 2, version);
            let started = Instant::now();
            send(
                &mut input,
                &json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
                    "textDocument": {"uri": uri, "version": version},
                    "contentChanges": [{"text": text}]}}),
            );
            wait(&messages, diagnostics_of(version));
            rechecks.push(started.elapsed());
        }
        send(
            &mut input,
            &json!({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}),
        );
        wait(&messages, |m| m["id"] == 2);
        send(&mut input, &json!({"jsonrpc": "2.0", "method": "exit"}));
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(0));
    }
    let (startup_max, recheck_max) = (
        *startups.iter().max().unwrap(),
        *rechecks.iter().max().unwrap(),
    );
    let (startup, recheck) = (median(&mut startups), median(&mut rechecks));
    println!("| what | samples | median ms | slowest ms | median within 200 ms |");
    println!("|---|---:|---:|---:|---|");
    for (what, samples, median, slowest) in [
        (
            "startup (spawn to `initialize` response)",
            startups.len(),
            startup,
            startup_max,
        ),
        (
            &format!("re-check of {terms} terms (`didChange` to `publishDiagnostics`)"),
            rechecks.len(),
            recheck,
            recheck_max,
        ),
    ] {
        let within = if median <= Duration::from_millis(200) {
            "yes"
        } else {
            "no"
        };
        println!(
            "| {what} | {samples} | {} | {} | {within} |",
            ms(median),
            ms(slowest)
        );
    }
}
