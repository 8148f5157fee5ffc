//! The engine: a compiled [`Program`] judging events, one at a time, into a [`Sink`].
//!
//! - [`program`]: what the compiler produces and the engine runs (terms, plans, engines);
//! - [`replay`]: [`Replay`], which runs every term in its period on each event (visiting only
//!   those the event concerns);
//! - `term`: one term judging one event (its expressions, its violations);
//! - `forms`: the temporal forms, one module each (threshold, deadline, absence, sequence);
//! - `memo`: what an expression gave per values of the fields it reads;
//! - `native`: the common shapes of conditions, judged without the interpreter, and what a
//!   term can be dispatched on; `index`: the terms each event concerns, found by what they
//!   test;
//! - [`sink`]: where violations go; [`explain`]: one event judged step by step, as data.
//!
//! **Invariant:** the engine does no IO, formats no output and keeps no events beyond what
//! an open window, obligation, gap or chain needs: memory follows live state, never the
//! length of the log.

pub mod explain;
pub(crate) mod forms;
pub(crate) mod index;
pub(crate) mod memo;
pub(crate) mod native;
pub mod program;
pub mod replay;
pub mod sink;
pub(crate) mod stats;
pub(crate) mod term;

pub use program::Program;
pub use replay::Replay;
pub use sink::Sink;
