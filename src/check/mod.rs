//! Checking: agreements compiled once, before any event is read, and looked over for likely
//! mistakes.
//!
//! [`compile()`] parses every expression in the sandbox, checks every name and call, and
//! builds the engine's [`crate::engine::Program`]; it returns every problem as a
//! [`crate::Diagnostic`] positioned in the YAML file, and no program when there is an error.
//! For each agreement that compiled cleanly it then runs the warnings of `lint` (sound: a
//! warning only where the text makes the mistake certain). The mapping loader compiles its
//! expressions through the same `compile::Unit`.

pub(crate) mod compile;
pub(crate) mod lint;
pub(crate) mod obligations;
pub(crate) mod vocabulary;

pub use compile::compile;
