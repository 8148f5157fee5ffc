//! The JSON of `pactum check --format json`: every problem found, as data.

use serde::{Deserialize, Serialize};

use crate::diagnostic::{Diagnostic, Level};

/// Version of the check output described here.
pub const CHECK_VERSION: u32 = 1;

/// What `pactum check --format json` writes: every diagnostic of every file checked, errors and
/// warnings, in the order they were found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckOutput {
    /// [`CHECK_VERSION`] at the time of writing.
    pub check_version: u32,
    /// The pactum version that produced it.
    pub pactum_version: String,
    /// Every problem found; empty when every file is valid and nothing deserves a warning.
    pub diagnostics: Vec<DiagnosticRecord>,
}

/// One problem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiagnosticRecord {
    /// `error` or `warning`.
    pub level: String,
    /// The stable code (`unknown-key`, docs/rules.md).
    pub code: String,
    /// What is wrong.
    pub message: String,
    /// The file as named on the command line (or in the rule file, for a geography file).
    pub file: String,
    /// 1-based line; 0 when the problem concerns the whole file.
    pub line: u64,
    /// 1-based column, in characters; 0 when unknown.
    pub column: u64,
    /// A likely fix; `null` when none is known.
    pub help: Option<String>,
}

/// The check output of `diagnostics`.
pub fn build(diagnostics: &[Diagnostic]) -> CheckOutput {
    CheckOutput {
        check_version: CHECK_VERSION,
        pactum_version: super::pactum_version(),
        diagnostics: diagnostics.iter().map(record).collect(),
    }
}

fn record(d: &Diagnostic) -> DiagnosticRecord {
    DiagnosticRecord {
        level: match d.level {
            Level::Error => "error",
            Level::Warning => "warning",
        }
        .to_string(),
        code: d.code.as_str().to_string(),
        message: d.message.clone(),
        file: d.file.clone(),
        line: d.line,
        column: d.column,
        help: d.help.clone(),
    }
}
