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
    if let EvalAltResult::ErrorInFunctionCall(name, _, inner, call) = err {
        let inside = describe(inner, functions.unwrap_or(here), (1, 1), functions);
        return format!(
            "{inside}, in function `{name}` called at {}",
            at(here, offset, *call)
        );
    }
    let mut text = err.to_string();
    // Rhai appends " (line L, position C)"; the position in the YAML file replaces it.
    if let Some(cut) = text.rfind(" (line ") {
        text.truncate(cut);
    }
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    format!("{text} (at {})", at(here, offset, err.position()))
}

/// `FILE:LINE:COLUMN` of a Rhai position in text that starts at `offset` inside `source`.
pub(crate) fn at(source: &Expression, offset: (u64, u64), position: Position) -> String {
    let (line, column) = crate::expr::position::position_from(source, offset, position);
    format!("{}:{line}:{column}", source.source.name)
}
