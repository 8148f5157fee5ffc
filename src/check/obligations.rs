//! What a deadline's `require` compares, found before any event is read, so that the replay can
//! file obligations by it (`engine::forms::obligations`) instead of trying every event against
//! every open obligation.
//!
//! The shape looked for is an `&&` chain: simple tests of `event` alone (those the native tests
//! judge: a field compared with a value, in a list of texts), then one or more comparisons
//! `event.F == trigger.G` (either way round), then anything. A pair whose compared values
//! differ is then certainly `false` without error, so only the obligations whose trigger holds
//! the event's values need trying. A `require` that reads no `trigger` is as good: its answer
//! is the same for every obligation. Anything else is left to the scan, and `pactum check`
//! says so (`unindexed-deadline`), naming the operand that stops the analysis and why: on a
//! long log such a term costs time in proportion to the events times the open obligations.

use rhai::{AST, ASTNode, Expr, ImmutableString, Position, Stmt};

use crate::engine::forms::obligations::Settling;
use crate::engine::native::{self, Context};

/// Why a `require` cannot be filed: where, and what to say.
pub(crate) struct Unindexed {
    pub(crate) at: Position,
    pub(crate) why: String,
}

/// The operands a `require` is analysed into: its top-level `&&` chain, or itself.
fn operands(ast: &AST) -> Option<Vec<Expr>> {
    match ast.statements() {
        [Stmt::Expr(expr)] => Some(match expr.as_ref() {
            Expr::And(operands, _) => operands.to_vec(),
            other => vec![other.clone()],
        }),
        // A comparison standing alone is a statement.
        [Stmt::FnCall(call, at)] => Some(vec![Expr::FnCall(call.clone(), *at)]),
        _ => None,
    }
}

/// Analyses a `require` compiled with `trigger` in scope (`max_text`: the longest text an
/// expression may read).
pub(crate) fn analyse(
    ast: &AST,
    cx: &mut Context<'_>,
    max_text: usize,
) -> Result<Settling, Unindexed> {
    let Some(operands) = operands(ast) else {
        let why = if crate::expr::block::is_block(ast) {
            "it is a block of statements, and only an expression's `&&` chain is analysed"
        } else {
            "`require` is not one expression"
        };
        return Err(Unindexed {
            at: Position::NONE,
            why: why.into(),
        });
    };
    let reads_trigger = |e: &Expr| {
        let mut found = false;
        e.walk(&mut Vec::new(), &mut |path: &[ASTNode]| {
            if let Some(ASTNode::Expr(Expr::Variable(v, ..))) = path.last()
                && v.1 == "trigger"
            {
                found = true;
            }
            !found
        });
        found
    };
    let before = operands.iter().take_while(|e| !reads_trigger(e)).count();
    let pairs: Vec<(ImmutableString, ImmutableString)> =
        operands.iter().skip(before).map_while(equality).collect();
    let free = before == operands.len();
    if pairs.is_empty() && !free {
        let at = operands.get(before).map_or(Position::NONE, start);
        return Err(Unindexed {
            at,
            why: "this operand reads `trigger` but is not `event.FIELD == trigger.FIELD`, and no such comparison comes before it".into(),
        });
    }
    // Every operand before the comparisons must be a simple test, so that a pair whose values
    // differ is false without error; with none, the simple tests at the head only filter.
    let head = if free {
        operands
            .iter()
            .take_while(|e| native::is_test(e, cx))
            .count()
    } else {
        before
    };
    let slice = operands.get(..head).unwrap_or_default();
    // What Rhai spends on the comparisons, at most, with the tests: kept well within budget.
    let extra = 8 * pairs.len() as u64 + 4;
    match native::all_of(slice, extra, cx) {
        Some(prefix) => Ok(Settling {
            prefix,
            pairs: pairs.into_boxed_slice(),
            free,
            max_text,
        }),
        None => {
            let at = slice
                .iter()
                .find(|e| !native::is_test(e, cx))
                .map_or(Position::NONE, start);
            Err(Unindexed {
                at,
                why: "this operand comes before the comparison with `trigger` and is not a simple test of `event` (a field compared with a value, or in a list of texts)".into(),
            })
        }
    }
}

/// Where an operand begins (an operator's position is its own, not its left side's).
fn start(expr: &Expr) -> Position {
    match expr {
        Expr::FnCall(call, _) if call.op_token.is_some() => call
            .args
            .first()
            .map_or_else(|| expr.start_position(), start),
        _ => expr.start_position(),
    }
}

/// `(F, G)` for an operand `event.F == trigger.G` or `trigger.G == event.F`.
fn equality(expr: &Expr) -> Option<(ImmutableString, ImmutableString)> {
    let Expr::FnCall(call, _) = expr else {
        return None;
    };
    if call.name != "==" || call.op_token.is_none() {
        return None;
    }
    let [a, b] = call.args.as_slice() else {
        return None;
    };
    match (field(a, "event"), field(b, "trigger")) {
        (Some(f), Some(g)) => Some((f, g)),
        _ => Some((field(b, "event")?, field(a, "trigger")?)),
    }
}

/// The field `VARIABLE.NAME` or `VARIABLE["NAME"]` reads.
fn field(expr: &Expr, variable: &str) -> Option<ImmutableString> {
    let (Expr::Dot(x, ..) | Expr::Index(x, ..)) = expr else {
        return None;
    };
    let Expr::Variable(v, ..) = &x.lhs else {
        return None;
    };
    if v.1 != variable {
        return None;
    }
    match (expr, &x.rhs) {
        (Expr::Dot(..), Expr::Property(property, _)) => Some(property.2.clone()),
        (Expr::Index(..), Expr::StringConstant(name, _)) => Some(name.clone()),
        _ => None,
    }
}
