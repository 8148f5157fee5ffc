//! pactum judges event logs against security agreements written as rules.
//!
//! An agreement is a YAML file of terms whose conditions are Rhai expressions over an event
//! (`event.kind == "airstrike" && event.country == "IQ"`). pactum loads and validates the files,
//! compiles every expression once, replays event logs through the terms, and reports each
//! breach with its clause, party, time, place and evidence.
//!
//! The stages run one way and never reach back:
//!
//! 1. [`agreement::load`] — YAML into an [`Agreement`], every problem as a [`Diagnostic`];
//! 2. [`compile()`] — every expression into a Rhai AST in the [`sandbox`], into a [`Program`];
//! 3. [`Replay`] — events judged one by one, violations pushed into a [`Sink`];
//! 4. [`report`] — a [`Report`] built from the run and rendered as text, JSON or JSON Lines.
//!
//! [`run()`] drives stage 3 over a list of inputs (JSON Lines, YAML or CSV). An input may name a
//! [`mapping`] that turns its records, of any shape, into events before they reach stage 3;
//! the replay never knows. The library does no file IO and prints
//! nothing: callers pass text and readers, and decide what to do with the results.
//!
//! ```
//! use pactum::{agreement, compile, run, Input, InputFormat, RunOptions, Limits, sink::Collect};
//!
//! let rules = r#"
//! agreement: demo
//! title: Demo
//! parties: {IQ: Iraq, TR: Türkiye}
//! terms:
//!   - id: no-strikes
//!     title: No strikes inside Iraq
//!     breached_by: TR
//!     when: event.kind == "airstrike" && event.country == "IQ"
//! "#;
//! let (agreement, problems) = agreement::load("demo.yaml", rules);
//! assert!(problems.is_empty());
//! let (program, problems) = compile(vec![agreement.unwrap()], &Limits::default());
//! assert!(problems.is_empty());
//! let program = program.unwrap();
//!
//! let log = "{\"time\":\"2024-10-23\",\"kind\":\"airstrike\",\"country\":\"IQ\"}\n";
//! let input = Input { name: "log.jsonl".into(), reader: Box::new(log.as_bytes()), format: InputFormat::JsonLines, reopen: None, mapping: None };
//! let mut violations = Collect::default();
//! let outcome = run(&program, vec![input], RunOptions::default(), &mut violations).unwrap();
//! assert_eq!(outcome.totals.events, 1);
//! assert_eq!(violations.0.len(), 1);
//! ```

#![deny(missing_docs)]

pub mod check;
pub mod diagnostic;
pub mod engine;
pub mod event;
pub mod expr;
/// Geometry for rules about places: areas, border lines and strips, read from GeoJSON.
pub mod geo;
pub mod input;
pub mod load;
pub mod report;
pub mod run;
pub mod scenario;
pub mod schema;
pub mod time;

pub use check::compile;
pub use diagnostic::Diagnostic;
pub use engine::{Program, Replay, Sink, explain, replay, sink};
pub use expr::{Limits, sandbox};
pub use input::{InputFormat, mapping};
pub use load::agreement::{self, Agreement};
pub use report::Report;
pub use run::{Input, RunOptions, run};

/// Lowercase hexadecimal of a digest.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}
