//! One replay over a list of inputs: the loop every front end shares.
//!
//! Reads each input in the order given, hands every event to the [`Replay`], and deals with
//! invalid lines according to [`RunOptions::skip_invalid`]: stop at the first (the default, so
//! that a broken log is never mistaken for a quiet one) or record it and go on. Every line is
//! accounted for in the outcome: judged, blank, or skipped with its reason.

use std::io::BufRead;

use thiserror::Error;

use crate::compile::Program;
use crate::input::{EventReader, InputError, InputFormat, InputStats};
use crate::replay::{Replay, ReplayTotals};
use crate::sink::Sink;

/// One event source.
pub struct Input<'a> {
    /// Its display name: the path as the user gave it, or `-`.
    pub name: String,
    /// Its bytes.
    pub reader: Box<dyn BufRead + 'a>,
    /// How it is encoded.
    pub format: InputFormat,
}

/// Options of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOptions {
    /// Record invalid lines and go on, instead of stopping at the first. Default `false`.
    pub skip_invalid: bool,
    /// Remember condition outcomes per field values ([`crate::replay`]). Default `true`.
    /// Changes speed only, never a result: tests replay with it off to prove that.
    pub memo: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            skip_invalid: false,
            memo: true,
        }
    }
}

/// What one input contributed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputSummary {
    /// Display name.
    pub name: String,
    /// SHA-256 of its bytes, lowercase hex.
    pub sha256: String,
    /// Line and event counts.
    pub stats: InputStats,
}

/// Everything a finished run knows, apart from the violations (which went to the sink).
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutcome {
    /// Per-term totals.
    pub totals: ReplayTotals,
    /// Per-input counts and hashes, in the order given.
    pub inputs: Vec<InputSummary>,
    /// Lines skipped with `skip_invalid`, in input order.
    pub skipped: Vec<InputError>,
}

/// Why a run stopped.
#[derive(Debug, Error)]
pub enum RunError<E> {
    /// An invalid event line, without `skip_invalid`.
    #[error("invalid event at {0}")]
    Invalid(InputError),
    /// An input could not be read.
    #[error("cannot read {file}: {source}")]
    Io {
        /// The input.
        file: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The sink refused a violation.
    #[error("cannot write a violation")]
    Sink(E),
}

/// Replays `inputs`, in order, against `program`, pushing violations into `sink`.
pub fn run<S: Sink>(
    program: &Program,
    inputs: Vec<Input<'_>>,
    options: RunOptions,
    sink: &mut S,
) -> Result<RunOutcome, RunError<S::Error>> {
    let mut replay = Replay::new(program);
    if !options.memo {
        replay.forget_outcomes();
    }
    let mut summaries = Vec::new();
    let mut skipped = Vec::new();
    for input in inputs {
        let name = input.name;
        let io_error = |source| RunError::Io {
            file: name.clone(),
            source,
        };
        let mut reader = EventReader::new(&name, input.reader, input.format);
        while let Some(record) = reader.next_record().map_err(io_error)? {
            match record {
                Ok(event) => replay.judge(event, sink).map_err(RunError::Sink)?,
                Err(invalid) if options.skip_invalid => {
                    tracing::debug!(%invalid, "skipped");
                    skipped.push(invalid);
                }
                Err(invalid) => return Err(RunError::Invalid(invalid)),
            }
        }
        let (stats, sha256) = reader.finish().map_err(io_error)?;
        tracing::info!(file = %name, events = stats.events, invalid = stats.invalid, "input read");
        summaries.push(InputSummary {
            name,
            sha256,
            stats,
        });
    }
    Ok(RunOutcome {
        totals: replay.finish(),
        inputs: summaries,
        skipped,
    })
}
