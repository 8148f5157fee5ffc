//! Positions: where a piece of an expression lies in its YAML file, and run-time errors
//! described with those positions instead of the expression-relative ones Rhai gives.

use rhai::{EvalAltResult, Position};

use crate::load::Expression;

pub(crate) fn position(expression: &Expression, pos: Position) -> (u64, u64) {
    position_from(expression, (1, 1), pos)
}

/// Maps a Rhai position inside a piece of text that starts at value-relative `at` to the file.
pub(crate) fn position_from(expression: &Expression, at: (u64, u64), pos: Position) -> (u64, u64) {
    let line = pos.line().map_or(1, |l| l as u64);
    let column = pos.position().map_or(1, |c| c as u64);
    let (value_line, value_column) = if line == 1 {
        (at.0, at.1 + column - 1)
    } else {
        (at.0 + line - 1, column)
    };
    expression.locate(value_line, value_column)
}

/// A place in a rule or mapping file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SourceLocation {
    /// The file, as named.
    pub file: String,
    /// 1-based line.
    pub line: u64,
    /// 1-based column.
    pub column: u64,
}

impl std::fmt::Display for SourceLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// A run-time error in words, on one line, with positions in the rule file rather than in the
/// expression: where the failing expression is, and for an error inside a function, where in
/// the `functions` block it happened and where the function was called. `offset` is where the
/// evaluated text starts inside `here` (a message placeholder starts after its brace).
pub(crate) fn describe(
    err: &EvalAltResult,
    here: &Expression,
    offset: (u64, u64),
    functions: Option<&Expression>,
) -> String {
    describe_at(err, here, offset, functions).0
}

/// [`describe`], and where in `here` the error is: at the call, for an error inside a
/// function.
pub(crate) fn describe_at(
    err: &EvalAltResult,
    here: &Expression,
    offset: (u64, u64),
    functions: Option<&Expression>,
) -> (String, SourceLocation) {
    if let EvalAltResult::ErrorInFunctionCall(name, _, inner, call) = err {
        let inside = describe(inner, functions.unwrap_or(here), (1, 1), functions);
        let call = locate(here, offset, *call);
        return (
            format!("{inside}, in function `{name}` called at {call}"),
            call,
        );
    }
    let mut text = crate::expr::cost::stopped(err).unwrap_or_else(|| err.to_string());
    // Rhai appends " (line L, position C)"; the position in the YAML file replaces it.
    if let Some(cut) = text.rfind(" (line ") {
        text.truncate(cut);
    }
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let at = locate(here, offset, err.position());
    (format!("{text} (at {at})"), at)
}

/// Where a Rhai position in text that starts at `offset` inside `source` is in the file.
pub(crate) fn locate(
    source: &Expression,
    offset: (u64, u64),
    position: Position,
) -> SourceLocation {
    let (line, column) = position_from(source, offset, position);
    SourceLocation {
        file: source.source.name.clone(),
        line,
        column,
    }
}
