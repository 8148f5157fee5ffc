//! One replay over a list of inputs: the loop every front end shares.
//!
//! The pipeline, one way: the inputs' readers → [`Events`], which hands events on in the order
//! the program needs (`input::order`: as read, sorted, or through a stream's reorder buffer) →
//! the [`Replay`] → the sink. Invalid lines stop the run (the default, so that a broken log is
//! never mistaken for a quiet one) or are listed and skipped ([`RunOptions::skip_invalid`]).
//! Every line is accounted for in the outcome: judged, blank, or skipped with its reason.

pub mod checkpoint;

use chrono::TimeDelta;
use thiserror::Error;

pub use crate::input::order::ResumeError;
pub use checkpoint::{Checkpoint, CheckpointError};

use crate::engine::replay::{MAX_STATE, MAX_TERM_STATE, Replay, ReplayTotals};
use crate::engine::{Program, Sink};
use crate::input::InputError;
use crate::input::order::{Events, Order, ReadError};
pub use crate::input::order::{Input, InputSummary, Late, Reopen, SeekRead};

/// Options of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RunOptions {
    /// Record invalid lines and go on, instead of stopping at the first. Default `false`.
    pub skip_invalid: bool,
    /// Remember condition outcomes per field values (the engine's memo). Default `true`.
    /// Changes speed only, never a result: tests replay with it off to prove that.
    pub memo: bool,
    /// The end of the replay (`--until`): events after it are judged by no term, and it is T1
    /// for absences and deadlines (docs/semantics.md). Default: the last event.
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    /// How long an event of a stream (an input that cannot be read again) may come after later
    /// ones and still be judged in canonical order (`--max-delay`). Default 10 minutes.
    pub max_delay: TimeDelta,
    /// Bytes of input whose events a replay that sorts its inputs keeps in memory; beyond it,
    /// only an index is kept and the events are read again in order. Default 8 MiB.
    pub in_memory: u64,
    /// The live state one temporal term may hold — its windows, gaps, chains, obligations —
    /// in bytes as the engine counts them (an upper bound of what they occupy); past it the
    /// term is suspended (docs/security.md, "Live state"). Default [`MAX_TERM_STATE`],
    /// 160 MiB; 0: no limit.
    pub max_term_state: u64,
    /// The live state all terms may hold together; past it the term holding the most is
    /// suspended. Default [`MAX_STATE`], 192 MiB; 0: no limit.
    pub max_state: u64,
    /// Threads the run may use (`--threads`). With two or more, each input's bytes are hashed
    /// on a thread of their own while the run reads and judges on its own; the results, the
    /// digests and the report are the same with any number. Default 1.
    pub threads: usize,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            skip_invalid: false,
            memo: true,
            until: None,
            max_delay: TimeDelta::minutes(10),
            in_memory: 8 << 20,
            max_term_state: MAX_TERM_STATE,
            max_state: MAX_STATE,
            threads: 1,
        }
    }
}

/// Everything a finished run knows, apart from the violations (which went to the sink).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RunOutcome {
    /// Per-term totals.
    pub totals: ReplayTotals,
    /// Per-input counts and hashes, in the order given.
    pub inputs: Vec<InputSummary>,
    /// Lines skipped with `skip_invalid`, in input order.
    pub skipped: Vec<InputError>,
    /// Events of a stream that came later than the reorder buffer could wait for, judged on
    /// arrival.
    pub late: Vec<Late>,
    /// The reorder buffer, when the inputs were a stream (`None`: every input could be read
    /// again, and was judged in exact canonical order).
    pub max_delay: Option<TimeDelta>,
}

/// Why a run stopped.
#[derive(Debug, Error)]
#[non_exhaustive]
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
    /// A checkpoint cannot be resumed on these inputs. (Its words are in the message, not
    /// as a source too: a chain of errors would print them twice.)
    #[error("cannot resume from the checkpoint: {0}")]
    Resume(ResumeError),
    /// A checkpoint cannot be resumed, or taken.
    #[error("checkpoint: {0}")]
    Checkpoint(CheckpointError),
    /// A checkpoint could not be kept.
    #[error("cannot save a checkpoint: {0}")]
    Save(std::io::Error),
}

impl<E> From<ResumeError> for RunError<E> {
    fn from(err: ResumeError) -> Self {
        RunError::Resume(err)
    }
}

impl<E> From<CheckpointError> for RunError<E> {
    fn from(err: CheckpointError) -> Self {
        RunError::Checkpoint(err)
    }
}

/// Where a run keeps its checkpoints ([`run_checkpointed`]).
pub trait Checkpoints<S: Sink> {
    /// Events judged between two checkpoints (at least 1).
    fn every(&self) -> u64;
    /// Keeps `checkpoint` (its bytes) as the latest, in place of the one before. `sink` has
    /// been given every violation decided before it: the caller keeps them with it, since the
    /// run that resumes from it will not decide them again.
    fn save(&mut self, checkpoint: Vec<u8>, sink: &mut S) -> std::io::Result<()>;
}

impl<E> From<ReadError> for RunError<E> {
    fn from(err: ReadError) -> Self {
        match err {
            ReadError::Invalid(invalid) => RunError::Invalid(invalid),
            ReadError::Io { file, source } => RunError::Io { file, source },
        }
    }
}

/// Replays `inputs` against `program`, pushing violations into `sink`.
///
/// A program of stateless terms judges events as they are read. A program with temporal
/// terms judges them in canonical order (time, then input order): inputs that can all be read
/// again are sorted first; otherwise they are a stream, judged through a reorder buffer of
/// [`RunOptions::max_delay`] (docs/semantics.md, "Streams").
pub fn run<S: Sink>(
    program: &Program,
    inputs: Vec<Input<'_>>,
    options: RunOptions,
    sink: &mut S,
) -> Result<RunOutcome, RunError<S::Error>> {
    replay_inputs(program, inputs, options, sink, None)
}

/// [`run`] of one stream (the inputs can be one input without `reopen` only), saving a
/// checkpoint every [`Checkpoints::every`] events judged into `checkpoints`, and resuming
/// from `resume` if given: then the stream must be the one the checkpoint was taken on, from
/// its start (its bytes up to the checkpoint are read again and checked, not judged), and
/// the run decides exactly what the run that took the checkpoint would have decided after it.
/// `fingerprint`: [`checkpoint::fingerprint`] of this run.
pub fn run_checkpointed<S: Sink>(
    program: &Program,
    inputs: Vec<Input<'_>>,
    options: RunOptions,
    sink: &mut S,
    fingerprint: &str,
    resume: Option<Checkpoint>,
    checkpoints: &mut dyn Checkpoints<S>,
) -> Result<RunOutcome, RunError<S::Error>> {
    replay_inputs(
        program,
        inputs,
        options,
        sink,
        Some((fingerprint, resume, checkpoints)),
    )
}

type Checkpointing<'c, S> = (&'c str, Option<Checkpoint>, &'c mut dyn Checkpoints<S>);

fn replay_inputs<S: Sink>(
    program: &Program,
    inputs: Vec<Input<'_>>,
    options: RunOptions,
    sink: &mut S,
    checkpointing: Option<Checkpointing<'_, S>>,
) -> Result<RunOutcome, RunError<S::Error>> {
    let order = Order::choose(
        &inputs,
        program.is_temporal(),
        options.max_delay,
        options.in_memory,
    );
    // Only the fields some expression or the report reads become values; the plain
    // evaluation (`memo` off), the reference, reads every field.
    let reads = if options.memo { program.reads() } else { None };
    let mut events = Events::new(inputs, order, options.skip_invalid, reads)
        .hashing_elsewhere(options.threads >= 2)
        .conforming_to(Some(program.vocabulary().clone()));
    let mut replay = Replay::new(program);
    if !options.memo {
        replay.forget_outcomes();
    }
    replay.until(options.until);
    replay.limit_state(options.max_term_state, options.max_state);
    let mut saving = None;
    if let Some((fingerprint, resume, checkpoints)) = checkpointing {
        if !events.is_stream() {
            return Err(ResumeError::NotAStream.into());
        }
        if let Some(resume) = resume {
            events.resume(resume.events)?;
            if !replay.restore(resume.replay) {
                return Err(CheckpointError::Damaged(
                    "its terms' states do not fit this program's".into(),
                )
                .into());
            }
        }
        saving = Some((fingerprint, checkpoints));
    }
    while let Some(event) = events.next(&mut |progress| sink.progress(progress))? {
        replay.judge(event, sink).map_err(RunError::Sink)?;
        if events.exact()
            && let Some(time) = replay.settled()
        {
            sink.settled(time).map_err(RunError::Sink)?;
        }
        if let Some((fingerprint, checkpoints)) = &mut saving
            && replay.events().is_multiple_of(checkpoints.every().max(1))
            && let Some(state) = events.saving()
        {
            let bytes = checkpoint::encode(fingerprint, &state, &replay.saving())?;
            checkpoints.save(bytes, sink).map_err(RunError::Save)?;
        }
    }
    let read = events.finish();
    Ok(RunOutcome {
        totals: replay.finish(sink).map_err(RunError::Sink)?,
        inputs: read.inputs,
        skipped: read.skipped,
        late: read.late,
        max_delay: read.max_delay,
    })
}
