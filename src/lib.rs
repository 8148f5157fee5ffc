//! pactum judges event logs against security agreements written as rules.
//!
//! An agreement is a YAML file of terms whose conditions are Rhai expressions over an event
//! (`event.kind == "airstrike" && event.country == "IQ"`). pactum loads and validates the files,
//! compiles every expression once, replays event logs through the terms, and reports each
//! breach with its clause, party, time, place and evidence.
//!
//! The stages run one way, each a module that uses only those before it (checked by
//! `tests/architecture.rs`; docs/architecture.md):
//!
//! 1. [`load`] — YAML into an [`Agreement`] ([`load::agreement::load`]), every problem as a
//!    [`Diagnostic`];
//! 2. [`check`] — every expression compiled once in the [`expr::sandbox`], into the engine's
//!    [`Program`] ([`compile()`]), plus warnings for likely mistakes;
//! 3. [`input`] — events read from JSON Lines, YAML or CSV (through a [`input::mapping`] for
//!    records of another shape), handed on in the order the program needs
//!    ([`input::order`]);
//! 4. [`engine`] — each event judged by every term ([`Replay`]), violations pushed into a
//!    [`Sink`]; [`engine::explain`] tells, for one event, why each term fires or not;
//! 5. [`report`] — a versioned [`Report`] built from the run, rendered as text, JSON, JSON
//!    Lines, Markdown or HTML.
//!
//! [`run()`] drives 3 and 4 over a list of inputs. The library does no file IO and prints
//! nothing: callers pass text and readers, and decide what to do with the results. The
//! `pactum` command line is built on it, behind the default `cli` feature; a program that only
//! needs the library depends on it with `default-features = false`.
//!
//! ```
//! use pactum::engine::sink::Collect;
//! use pactum::load::agreement;
//! use pactum::{Input, InputFormat, Limits, RunOptions, compile, run};
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
//! let input = Input {
//!     name: "log.jsonl".into(),
//!     reader: Box::new(log.as_bytes()),
//!     format: InputFormat::JsonLines,
//!     reopen: None,
//!     mapping: None,
//! };
//! let mut violations = Collect::default();
//! let outcome = run(&program, vec![input], RunOptions::default(), &mut violations).unwrap();
//! assert_eq!(outcome.totals.events, 1);
//! assert_eq!(violations.0.len(), 1);
//! assert_eq!(violations.0[0].breached_by, ["TR"]);
//! ```

#![deny(missing_docs)]

pub mod check;
pub mod diagnostic;
pub mod editor;
pub mod engine;
pub mod event;
pub mod expr;
pub mod geo;
pub mod input;
pub mod load;
pub mod report;
pub mod run;
pub mod scenario;
pub mod schema;
mod spill;
pub mod time;

pub use check::compile;
pub use diagnostic::Diagnostic;
pub use engine::{Program, Replay, Sink};
pub use expr::Limits;
pub use input::InputFormat;
pub use load::agreement::Agreement;
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
