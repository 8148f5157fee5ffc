//! The JSON of `pactum check`, `pactum explain` and `pactum diff`: versioned output types
//! beside the report's own.
//!
//! Like the [`Report`](super::Report), these types exist only to be written (and read back);
//! each is built from the library's values by a `build` function, and no engine type derives
//! `Serialize`. Each output carries its own version (`check_version`, `explain_version`,
//! `diff_version`): changing a field's meaning or removing one bumps it; adding an optional
//! field does not. docs/report-format.md documents every field.
//!
//! The types refuse unknown fields when read, so that reading an output back (as the tests do)
//! finds any field written but not declared here. A reader in another language should ignore
//! fields it does not know, as a later version of the same number may add some.

pub mod check;
pub mod diff;
pub mod explain;

pub use check::{CHECK_VERSION, CheckOutput};
pub use diff::{DIFF_VERSION, DiffOutput};
pub use explain::{EXPLAIN_VERSION, ExplainOutput};

/// The pactum version that writes an output.
fn pactum_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
