//! Why each term fires, or not, on one event: the library half of `pactum explain`.
//!
//! A replay says which terms fired. Someone writing or reading a rule also needs to know why
//! one did not: the event lay outside the term's period, one condition of its `when` was false,
//! or an expression failed. [`explain`] judges one event by every term of a program and returns
//! each step of that judgement as data: the period; the `when`, and for a top-level `&&`/`||`
//! chain each operand in Rhai's order up to the one that decides; the two sides of a
//! comparison; the results of function calls; and, for a term with a form, what the form makes
//! of the event (its key, the steps it matches, whether it is a trigger).
//!
//! Nothing is judged differently from a replay: the result of `when`, the party and the message
//! come from the replay's own functions ([`crate::engine::replay`]) on the program's own engines, with
//! the same positioned messages for failures, so an explanation cannot disagree with a replay.
//! Operands, sides and calls are pieces of the same text, evaluated on the same engine and shown
//! beside that result (expressions are pure: evaluating a piece alone changes nothing). Whether
//! a term with a form fires depends on other events; an explanation says whether this event
//! takes part, and leaves the rest to `pactum replay`.
//!
//! The module formats nothing: the command line renders the text and the JSON
//! (docs/explain.md).

use std::rc::Rc;

use chrono::{DateTime, Utc};
use rhai::{AST, ASTNode, Dynamic, Engine, Expr, Module, Position, Scope, Stmt};

pub use crate::engine::forms::{FormOutcome, FormSummary, Key};
use crate::engine::memo::Outcome;
use crate::engine::program::{CompiledTerm, Program};
use crate::engine::term::{Probe, eval, evaluate, not_boolean, violation_for};
use crate::event::{Event, EventHandle, Origin};
use crate::expr::position::describe;
use crate::expr::sandbox::{self, Limits};
use crate::expr::scope_for;
use crate::load::agreement::{Period, Severity};

/// What one event meets under every term of a program.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Explanation {
    /// The event's id: its own `id`, or `FILE:LINE`.
    pub id: String,
    /// Where it was read.
    pub origin: Origin,
    /// When it happened.
    pub time: DateTime<Utc>,
    /// What happened.
    pub kind: String,
    /// One per term, in program order: agreements as given, terms in file order.
    pub terms: Vec<TermExplanation>,
}

/// How one term judges the event.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TermExplanation {
    /// The agreement's id.
    pub agreement: String,
    /// The term's id.
    pub term: String,
    /// The clause it cites.
    pub article: Option<String>,
    /// Its title.
    pub title: String,
    /// Its severity.
    pub severity: Severity,
    /// Its form and the form's parameters.
    pub form: FormSummary,
    /// Its effective period (the agreement's, narrowed by its own).
    pub period: Period,
    /// Where the event lies against that period.
    pub in_period: InPeriod,
    /// How `when` went; `None` when the event lies outside the period (not judged).
    pub when: Option<Condition>,
    /// Whether the term selects the event: in its period, and `when` gave `true`. For a term
    /// without a form, whether it fires.
    pub selected: bool,
    /// What the form makes of a selected event (`None` without a form, or when not selected).
    pub outcome: Option<FormOutcome>,
    /// The party and the message of a violation resting on this event: for a term without a
    /// form, the one it raises; with a form, the one raised should the form fire on this event
    /// (a threshold, the last step of a sequence), for this trigger (a deadline) or for the gap
    /// this sighting opens (an absence). `None` when the event cannot carry one.
    pub violation: Option<Attribution>,
}

/// Where an event lies against a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InPeriod {
    /// Inside: the event is judged.
    Inside,
    /// Before its start.
    Before,
    /// At or after its end.
    After,
}

/// What an expression gave.
#[derive(Debug, Clone, PartialEq)]
pub enum Judged {
    /// `true`.
    True,
    /// `false`.
    False,
    /// Another value, as Rhai would write it (text in quotes).
    Other(String),
    /// It failed: the message a replay gives, with the position in the rule file.
    Failed(String),
}

/// How a condition went.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The condition as written.
    pub text: String,
    /// The term has no `when` (a sequence may leave it out): every event is selected.
    pub implicit: bool,
    /// Its result, exactly as a replay gets it (a value other than a boolean is a failure).
    pub result: Judged,
    /// A top-level `&&` or `||` chain, operand by operand.
    pub chain: Option<Chain>,
    /// Otherwise, the parts of the condition as a whole.
    pub detail: Detail,
    /// What a condition that is not a chain gave when that is not a boolean (a replay counts
    /// it as a failure).
    pub gave: Option<String>,
}

/// A top-level `&&` or `||` chain.
#[derive(Debug, Clone, PartialEq)]
pub struct Chain {
    /// `&&` (`true`) or `||` (`false`).
    pub all: bool,
    /// The operands in order; those after the deciding one are not evaluated.
    pub operands: Vec<Operand>,
    /// The operand that decided: the first `false` of an `&&` chain, the first `true` of an
    /// `||` chain, or the first that failed or gave something else. `None` when every operand
    /// was evaluated and none stopped the chain (all true for `&&`, all false for `||`).
    pub decided_by: Option<usize>,
}

/// One operand of a chain.
#[derive(Debug, Clone, PartialEq)]
pub struct Operand {
    /// As written.
    pub text: String,
    /// What it gave; `None` when the chain was decided before it (Rhai does not evaluate it).
    pub result: Option<Judged>,
    /// Its parts (empty when not evaluated).
    pub detail: Detail,
}

/// The parts of a condition worth showing: a comparison's sides, function calls' results.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Detail {
    /// `left OP right` (`in` included), possibly under a `!`.
    pub comparison: Option<Comparison>,
    /// The outermost function calls in it (not the condition itself), in order.
    pub calls: Vec<Call>,
}

/// The two sides of a comparison, evaluated.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Written as `!(left OP right)`.
    pub negated: bool,
    /// The left side's value.
    pub left: Side,
    /// `==`, `!=`, `<`, `<=`, `>`, `>=` or `in`.
    pub operator: String,
    /// The right side's value.
    pub right: Side,
}

/// One side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Side {
    /// Its value, as Rhai would write it.
    Value(String),
    /// One of the agreement's lists, by name (its items are in the rule file).
    List(String),
    /// It failed.
    Failed(String),
}

/// A function call and its result.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// As written.
    pub text: String,
    /// Its value as Rhai would write it, or the failure.
    pub result: Result<String, String>,
}

/// Who would be in breach, and what the violation would say.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribution {
    /// Who is in breach; empty for an unattributed violation.
    pub breached_by: Vec<String>,
    /// The message.
    pub message: String,
    /// The first failure of `breached_by` or a message placeholder, as a replay counts it.
    pub failure: Option<String>,
}

/// Judges `event` by every term of `program` and explains each judgement.
pub fn explain(program: &Program, event: &Event) -> Explanation {
    // Expressions are read again as written (the compiled ones had constants folded in) to
    // find their operands and sides; they are run on the program's engines.
    let parser = sandbox::parser(&Limits::default());
    let handle = Dynamic::from(EventHandle(Rc::new(event.clone())));
    let mut scopes: Vec<Scope<'static>> = program
        .agreements
        .iter()
        .map(|agreement| {
            // As the replay's scopes: `event`, the lists, then `trigger`.
            let mut scope = scope_for(agreement, true);
            scope.push("key", ());
            scope.set_value("event", handle.clone());
            scope
        })
        .collect();
    let terms = program
        .terms
        .iter()
        .filter_map(|term| {
            let scope = scopes.get_mut(term.agreement)?;
            Some(explain_term(program, &parser, term, scope, event))
        })
        .collect();
    Explanation {
        id: event.id(),
        origin: event.origin().clone(),
        time: event.time(),
        kind: event.kind().to_string(),
        terms,
    }
}

fn explain_term(
    program: &Program,
    parser: &Engine,
    term: &CompiledTerm,
    scope: &mut Scope<'static>,
    event: &Event,
) -> TermExplanation {
    let source = program.source(term);
    let agreement = program
        .agreements
        .get(term.agreement)
        .map_or(String::new(), |a| a.id.clone());
    let time = event.time();
    let in_period = if term.period.contains(time) {
        InPeriod::Inside
    } else if term.period.from.is_some_and(|from| time < from) {
        InPeriod::Before
    } else {
        InPeriod::After
    };
    let mut explanation = TermExplanation {
        agreement,
        term: source.id.clone(),
        article: source.article.clone(),
        title: source.title.clone(),
        severity: source.severity,
        form: term.form.summary(),
        period: term.period,
        in_period,
        when: None,
        selected: false,
        outcome: None,
        violation: None,
    };
    if in_period != InPeriod::Inside {
        return explanation;
    }
    let condition = condition(program, parser, term, scope);
    explanation.selected = condition.result == Judged::True;
    explanation.when = Some(condition);
    if !explanation.selected {
        return explanation;
    }
    // The form says what it makes of the event, and whether a violation could rest on it.
    let carries = match term.form.outcome(&mut Probe {
        program,
        term,
        scope,
    }) {
        Some((outcome, carries)) => {
            explanation.outcome = Some(outcome);
            carries
        }
        None => true,
    };
    if carries {
        let (violation, failure) = violation_for(program, term, scope, event);
        explanation.violation = Some(Attribution {
            breached_by: violation.breached_by,
            message: violation.message,
            failure: failure.map(|failure| failure.message),
        });
    }
    explanation
}

/// The `when` of a term on the event bound in `scope`.
fn condition(
    program: &Program,
    parser: &Engine,
    term: &CompiledTerm,
    scope: &mut Scope<'static>,
) -> Condition {
    let when = &program.source(term).when;
    let result = match evaluate(program.engine(term), program, term, scope, &term.when) {
        Outcome::Decided(true) => Judged::True,
        Outcome::Decided(false) => Judged::False,
        Outcome::NotBoolean(type_name) => {
            Judged::Failed(not_boolean(program, term, &type_name).message)
        }
        Outcome::Failed(failure) => Judged::Failed(failure.message),
    };
    let source = program.source(term);
    let mut condition = Condition {
        // The loader writes `true` at the term's id for a sequence without `when`.
        implicit: (when.line, when.column) == source.at && when.text == "true",
        text: when.text.clone(),
        result,
        chain: None,
        detail: Detail::default(),
        gave: None,
    };
    let Ok(ast) = parser.compile_expression_with_scope(scope, &when.text) else {
        return condition;
    };
    let root = match ast.statements() {
        [Stmt::Expr(expr)] => Some(expr.as_ref().clone()),
        [Stmt::FnCall(call, pos)] => Some(Expr::FnCall(call.clone(), *pos)),
        _ => None,
    };
    let Some(root) = root else {
        return condition;
    };
    let pieces = Pieces {
        program,
        term,
        text: &when.text,
        functions: term.when.clone_functions_only(),
    };
    match &root {
        Expr::And(operands, _) | Expr::Or(operands, _) => {
            let all = matches!(root, Expr::And(..));
            condition.chain = Some(pieces.chain(all, operands, scope));
        }
        other => {
            if let Judged::Other(value) = pieces.judge(other, scope) {
                condition.gave = Some(value);
            }
            condition.detail = pieces.detail(other, scope);
        }
    }
    condition
}

/// Pieces of one term's `when`, evaluated on the term's engine with its functions.
struct Pieces<'a> {
    program: &'a Program,
    term: &'a CompiledTerm,
    /// The `when` as written: positions in the pieces are positions in it.
    text: &'a str,
    functions: AST,
}

impl Pieces<'_> {
    fn chain(&self, all: bool, operands: &[Expr], scope: &mut Scope<'static>) -> Chain {
        let starts: Vec<Option<usize>> = operands
            .iter()
            .map(|operand| offset(self.text, leftmost(operand)))
            .collect();
        let mut chain = Chain {
            all,
            operands: Vec::with_capacity(operands.len()),
            decided_by: None,
        };
        for (i, operand) in operands.iter().enumerate() {
            let end = starts.get(i + 1).copied().flatten();
            let text = starts
                .get(i)
                .copied()
                .flatten()
                .map_or(String::new(), |start| operand_text(self.text, start, end));
            if chain.decided_by.is_some() {
                chain.operands.push(Operand {
                    text,
                    result: None,
                    detail: Detail::default(),
                });
                continue;
            }
            let result = self.judge(operand, scope);
            // `false` ends an `&&` chain, `true` an `||` chain; anything else ends it too.
            let goes_on = matches!(
                (&result, all),
                (Judged::True, true) | (Judged::False, false)
            );
            if !goes_on {
                chain.decided_by = Some(i);
            }
            chain.operands.push(Operand {
                text,
                result: Some(result),
                detail: self.detail(operand, scope),
            });
        }
        chain
    }

    /// What an expression of the `when` gives.
    fn judge(&self, expr: &Expr, scope: &mut Scope<'static>) -> Judged {
        match self.value(expr, scope) {
            Ok(value) => match value.as_bool() {
                Ok(true) => Judged::True,
                Ok(false) => Judged::False,
                Err(_) => Judged::Other(shown(&value)),
            },
            Err(message) => Judged::Failed(message),
        }
    }

    /// Evaluates an expression of the `when`, failures described as the replay describes them.
    fn value(&self, expr: &Expr, scope: &mut Scope<'static>) -> Result<Dynamic, String> {
        let alone = AST::new([Stmt::Expr(Box::new(expr.clone()))], Module::new());
        let ast = self.functions.merge(&alone);
        eval(self.program, self.term, scope, &ast).map_err(|err| {
            let source = self.program.source(self.term);
            describe(
                &err,
                &source.when,
                (1, 1),
                self.program.functions(self.term),
            )
        })
    }

    fn detail(&self, expr: &Expr, scope: &mut Scope<'static>) -> Detail {
        let (negated, inner) = match expr {
            Expr::FnCall(call, _) if call.name == "!" && call.op_token.is_some() => {
                match call.args.as_slice() {
                    [inner] => (true, inner),
                    _ => (false, expr),
                }
            }
            _ => (false, expr),
        };
        let comparison = self.comparison(inner, scope).map(|mut c| {
            c.negated = negated;
            c
        });
        let mut calls = Vec::new();
        for call in outermost_calls(expr) {
            let Some(text) =
                offset(self.text, call.position()).and_then(|at| call_text(self.text, at))
            else {
                continue;
            };
            calls.push(Call {
                text,
                result: self.value(&call, scope).map(|v| shown(&v)),
            });
        }
        Detail { comparison, calls }
    }

    fn comparison(&self, expr: &Expr, scope: &mut Scope<'static>) -> Option<Comparison> {
        let Expr::FnCall(call, pos) = expr else {
            return None;
        };
        let [first, second] = call.args.as_slice() else {
            return None;
        };
        let name = call.name.as_str();
        let (left, operator, right) =
            if call.op_token.is_some() && ["==", "!=", "<", "<=", ">", ">="].contains(&name) {
                (first, name, second)
            } else if is_in(call, *pos) {
                // `x in list` is Rhai's `contains(list, x)`.
                (second, "in", first)
            } else {
                return None;
            };
        let mut side = |expr: &Expr| match expr {
            Expr::Variable(v, ..) if is_list(self.program, self.term, &v.1) => {
                Side::List(v.1.to_string())
            }
            _ => match self.value(expr, scope) {
                Ok(value) => Side::Value(shown(&value)),
                Err(message) => Side::Failed(message),
            },
        };
        Some(Comparison {
            negated: false,
            left: side(left),
            operator: operator.to_string(),
            right: side(right),
        })
    }
}

/// Whether `name` is one of the lists of the term's agreement.
fn is_list(program: &Program, term: &CompiledTerm, name: &str) -> bool {
    program
        .agreements
        .get(term.agreement)
        .is_some_and(|a| a.lists.iter().any(|(list, _)| list == name))
}

/// Whether a call to `contains` was written `x in list`: the operator comes after `x`, where
/// a call `contains(list, x)` starts with its name.
fn is_in(call: &rhai::FnCallExpr, pos: Position) -> bool {
    call.name == "contains"
        && call.op_token.is_none()
        && call
            .args
            .get(1)
            .is_some_and(|needle| before(leftmost(needle), pos))
}

fn before(a: Position, b: Position) -> bool {
    let key = |p: Position| (p.line().unwrap_or(0), p.position().unwrap_or(0));
    key(a) < key(b)
}

/// The function calls in `expr` worth a result of their own: written as calls (not operators,
/// not `in`), not inside another such call or a block (whose evaluation depends on a branch),
/// and not `expr` itself.
fn outermost_calls(expr: &Expr) -> Vec<Expr> {
    // A call of its own: a function called by name, below the top of the walk.
    let is_call = |node: &ASTNode, depth: usize| match node {
        ASTNode::Expr(Expr::FnCall(call, pos)) => {
            depth > 0 && call.op_token.is_none() && !is_in(call, *pos)
        }
        _ => false,
    };
    // Inside a block, evaluation depends on a branch.
    let is_block = |node: &ASTNode| matches!(node, ASTNode::Stmt(_) | ASTNode::Expr(Expr::Stmt(_)));
    let mut calls = Vec::new();
    let mut path = Vec::new();
    // The walk visits every node (returning `false` would end it): a call is kept when no
    // node above it is a call or a block.
    expr.walk(&mut path, &mut |path: &[ASTNode]| {
        let Some((node, above)) = path.split_last() else {
            return true;
        };
        let enclosed = above
            .iter()
            .enumerate()
            .any(|(depth, n)| is_call(n, depth) || is_block(n));
        if !enclosed
            && is_call(node, above.len())
            && let ASTNode::Expr(call) = node
        {
            calls.push((*call).clone());
        }
        true
    });
    calls
}

/// The leftmost position written in an expression: where its text starts (an operator call
/// is positioned at its operator).
fn leftmost(expr: &Expr) -> Position {
    let mut first = expr.start_position();
    let mut path = Vec::new();
    expr.walk(&mut path, &mut |path: &[ASTNode]| {
        if let Some(node) = path.last() {
            let pos = node.position();
            if !pos.is_none() && (first.is_none() || before(pos, first)) {
                first = pos;
            }
        }
        true
    });
    first
}

/// The byte offset of a Rhai position (1-based line and character) in `text`.
fn offset(text: &str, pos: Position) -> Option<usize> {
    let line = pos.line()?;
    let column = pos.position()?;
    let start: usize = text
        .split('\n')
        .take(line.checked_sub(1)?)
        .map(|l| l.len() + 1)
        .sum();
    let rest = text.get(start..)?;
    let within = rest
        .char_indices()
        .nth(column.checked_sub(1)?)
        .map_or(rest.len(), |(at, _)| at);
    Some(start + within)
}

/// An operand's text: from its start to the next operand's, without the operator between them
/// and without the closing parentheses of a group it ends.
fn operand_text(text: &str, start: usize, end: Option<usize>) -> String {
    let piece = match end {
        Some(end) => text.get(start..end),
        None => text.get(start..),
    }
    .unwrap_or("");
    // Between two operands: the closing parentheses of groups the first ends, the operator,
    // and the opening parentheses of groups the next begins.
    let mut piece = piece.trim_end_matches(|c: char| c == '(' || c.is_whitespace());
    piece = piece
        .strip_suffix("&&")
        .or_else(|| piece.strip_suffix("||"))
        .unwrap_or(piece)
        .trim_end();
    let mut balance = paren_balance(piece);
    while balance < 0 {
        match piece.strip_suffix(')') {
            Some(shorter) => {
                piece = shorter.trim_end();
                balance += 1;
            }
            None => break,
        }
    }
    piece.to_string()
}

/// Opening minus closing parentheses outside quoted text.
fn paren_balance(text: &str) -> i64 {
    crate::expr::reads::with_quotes(text)
        .map(|(c, quoted)| match (c, quoted) {
            ('(', false) => 1,
            (')', false) => -1,
            _ => 0,
        })
        .sum()
}

/// A call's text: from its name at `start` to its closing parenthesis.
fn call_text(text: &str, start: usize) -> Option<String> {
    let rest = text.get(start..)?;
    let open = rest.find('(')?;
    let mut depth = 0;
    let mut at = 0;
    for (c, quoted) in crate::expr::reads::with_quotes(rest) {
        let here = at;
        at += c.len_utf8();
        if here < open || quoted {
            continue;
        }
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return rest.get(..at).map(str::to_string);
                }
            }
            _ => {}
        }
    }
    None
}

/// The longest a value is shown: an explanation is read, not a dump of the event.
const MAX_SHOWN: usize = 200;

/// A value as Rhai would write it, text in double quotes with its control characters escaped
/// (event data must not start lines of its own in the output).
fn shown(value: &Dynamic) -> String {
    let text = if value.is_unit() {
        "()".to_string()
    } else if let Ok(text) = value.clone().into_immutable_string() {
        quoted(&text)
    } else if let Ok(c) = value.as_char() {
        quoted(&c.to_string())
    } else if value.is_array() {
        let items = value.clone().into_array().unwrap_or_default();
        let items: Vec<String> = items.iter().map(shown).collect();
        format!("[{}]", items.join(", "))
    } else if value.is_map() {
        let map = value.clone().try_cast::<rhai::Map>().unwrap_or_default();
        let entries: Vec<String> = map
            .iter()
            .map(|(k, v)| format!("{}: {}", k, shown(v)))
            .collect();
        format!("#{{{}}}", entries.join(", "))
    } else if let Some(event) = value.read_lock::<EventHandle>() {
        format!("<event {}>", event.0.id())
    } else if value.is_bool() || value.is_int() || value.is_float() {
        value.to_string()
    } else {
        format!("<{}>", value.type_name())
    };
    if text.chars().count() > MAX_SHOWN {
        let cut: String = text.chars().take(MAX_SHOWN - 1).collect();
        format!("{cut}…")
    } else {
        text
    }
}

fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| format!("{text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operands_are_cut_from_the_text_as_written() {
        let text = "(a == 1 && b) && !(c) && (\n  d || e\n)";
        assert_eq!(operand_text(text, 1, Some(11)), "a == 1");
        assert_eq!(operand_text(text, 11, Some(17)), "b");
        assert_eq!(operand_text(text, 17, Some(29)), "!(c)");
        assert_eq!(operand_text(text, 29, None), "d || e");
        assert_eq!(paren_balance("f(\")\")"), 0);
        assert_eq!(
            call_text("x && inside(e, \"a)\") == true", 5).as_deref(),
            Some("inside(e, \"a)\")")
        );
        assert_eq!(offset("ab\ncd é", Position::new(2, 4)), Some(6));
    }

    #[derive(serde::Deserialize)]
    struct Scenario {
        rules: Vec<String>,
        events: Vec<String>,
        #[serde(default)]
        map: Option<String>,
    }

    /// Terms that fail on many events in many ways, judged beside each scenario's own.
    const PROBE: &str = r#"
agreement: probe
title: Probe
parties: {IQ: Iraq, TR: Türkiye}
functions: |
  fn north(e) { e.lat > 37.0 }
terms:
  - {id: casualties, title: C, breached_by: TR, when: 'event.kind != "x" && event.killed > 0'}
  - {id: north, title: N, breached_by: IQ, when: 'event.actor == "TAF" || north(event)'}
  - {id: count, title: C, breached_by: TR, when: 'event.targets + 1'}
  - {id: party, title: P, breached_by: 'event.party + event.targets', when: 'event.kind != "x"', message: '{event.targets * 2} at {event.place}'}
"#;

    /// An explanation cannot disagree with a replay: on every event of every shipped scenario
    /// (every fifth of a large one), a term without a form fires in the explanation exactly
    /// when a replay of that event raises its violation, with the same party and message; a
    /// term is judged exactly when the replay evaluates it; a failure is the one the replay
    /// counts, word for word; and every violation a term with a form raises in a replay of the
    /// whole log rests on an event whose explanation selects it, lets a violation rest on it
    /// and gives the same party, message and key.
    #[test]
    fn explanations_agree_with_the_replay_on_every_shipped_scenario() {
        use crate::engine::sink::Collect;
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let mut checked = 0;
        let mut fired = 0;
        let mut failed = 0;
        let mut formed = 0;
        for entry in std::fs::read_dir(&root).unwrap() {
            let dir = entry.unwrap().path();
            let Ok(text) = std::fs::read_to_string(dir.join("scenario.yaml")) else {
                continue;
            };
            let scenario: Scenario = serde_saphyr::from_str(&text).unwrap();
            let mut agreements = Vec::new();
            for rules in &scenario.rules {
                let path = dir.join(rules);
                let name = path.display().to_string();
                let text = std::fs::read_to_string(&path).unwrap();
                let (agreement, problems) = crate::load::agreement::load_with(
                    &name,
                    &text,
                    // The shipped agreements may read the shipped maps from rules/geo.
                    &crate::load::confine::Roots::new(
                        std::path::Path::new(env!("CARGO_MANIFEST_DIR")),
                        [std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))],
                    ),
                    &mut |p| std::fs::read(p),
                );
                assert!(problems.is_empty(), "{problems:?}");
                agreements.push(agreement.unwrap());
            }
            agreements.push(crate::load::agreement::load("probe.yaml", PROBE).0.unwrap());
            let (program, problems) = crate::compile(agreements, &Limits::default());
            assert!(problems.is_empty(), "{problems:?}");
            let program = program.unwrap();
            let mapping = scenario.map.as_ref().map(|map| {
                let path = dir.join(map);
                let text = std::fs::read_to_string(&path).unwrap();
                // The shipped mapping reads its vocabulary beside it.
                let roots = crate::load::confine::Roots::new(
                    std::path::Path::new(env!("CARGO_MANIFEST_DIR")),
                    [std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))],
                );
                Rc::new(
                    crate::input::mapping::load_with(
                        &path.display().to_string(),
                        &text,
                        &Limits::default(),
                        &roots,
                        &mut |p| std::fs::read(p),
                    )
                    .0
                    .unwrap(),
                )
            });
            let mut all = Vec::new();
            for events in &scenario.events {
                let file = std::fs::File::open(dir.join(events)).unwrap();
                let mut reader = crate::input::EventReader::new(
                    events,
                    std::io::BufReader::new(file),
                    crate::InputFormat::from_name(events),
                )
                .with_mapping(mapping.clone());
                let mut n = 0;
                while let Some(record) = reader.next_record().unwrap() {
                    // A record a scenario skips (its `skipped`) is no event to explain.
                    let Ok(event) = record else { continue };
                    all.push(event.clone());
                    n += 1;
                    if events.ends_with(".csv") && n % 5 != 0 {
                        continue;
                    }
                    let explanation = explain(&program, &event);
                    let mut replay = crate::Replay::new(&program);
                    let mut sink = Collect::default();
                    replay.judge(event.clone(), &mut sink).unwrap();
                    let totals = replay.finish(&mut sink).unwrap();
                    for ((term, stats), explained) in program
                        .terms
                        .iter()
                        .zip(&totals.terms)
                        .zip(&explanation.terms)
                    {
                        let what = format!(
                            "{}/{} on {}",
                            explained.agreement,
                            explained.term,
                            event.id()
                        );
                        assert_eq!(
                            explained.in_period == InPeriod::Inside,
                            stats.evaluated == 1,
                            "{what}"
                        );
                        let when_failure = match explained.when.as_ref().map(|w| &w.result) {
                            Some(Judged::Failed(message)) => Some(message.clone()),
                            _ => None,
                        };
                        if let Some(message) = &when_failure {
                            failed += 1;
                            assert_eq!(
                                stats.first_error.as_ref().map(|e| &e.failure.message),
                                Some(message),
                                "{what}"
                            );
                        }
                        if term.form.is_temporal() {
                            continue;
                        }
                        let raised: Vec<_> = sink
                            .0
                            .iter()
                            .filter(|v| v.agreement == term.agreement && v.term == term.term)
                            .collect();
                        assert_eq!(explained.selected, raised.len() == 1, "{what}");
                        if let (Some(v), [raised]) = (&explained.violation, raised.as_slice()) {
                            fired += 1;
                            assert_eq!(v.breached_by, raised.breached_by, "{what}");
                            assert_eq!(v.message, raised.message, "{what}");
                            if when_failure.is_none() {
                                assert_eq!(
                                    v.failure.as_ref(),
                                    stats.first_error.as_ref().map(|e| &e.failure.message),
                                    "{what}"
                                );
                            }
                        }
                    }
                    checked += 1;
                }
            }
            // Terms with a form decide from several events: replay the whole log (in
            // canonical order) and ask the form, on the event each violation rests on, what
            // it makes of it. The explanation must select it, let a violation rest on it, and
            // give that violation's party, message and key.
            all.sort_by_key(Event::time);
            let mut replay = crate::Replay::new(&program);
            let mut sink = Collect::default();
            for event in &all {
                replay.judge(event.clone(), &mut sink).unwrap();
            }
            replay.finish(&mut sink).unwrap();
            for violation in &sink.0 {
                let Some(term) = program
                    .terms
                    .iter()
                    .find(|t| t.agreement == violation.agreement && t.term == violation.term)
                else {
                    continue;
                };
                let Some(deciding) = violation.evidence.last() else {
                    // A gap from the start of the log rests on no event.
                    continue;
                };
                if !term.form.is_temporal() {
                    continue;
                }
                let event = all.iter().find(|e| *e.origin() == deciding.origin).unwrap();
                let explanation = explain(&program, event);
                let explained = explanation
                    .terms
                    .iter()
                    .find(|t| {
                        program.agreements[term.agreement].id == t.agreement
                            && program.source(term).id == t.term
                    })
                    .unwrap();
                let what = format!(
                    "{}/{} on {}",
                    explained.agreement,
                    explained.term,
                    event.id()
                );
                assert!(explained.selected, "{what}");
                let attribution = explained.violation.as_ref().expect(&what);
                assert_eq!(attribution.breached_by, violation.breached_by, "{what}");
                assert_eq!(attribution.message, violation.message, "{what}");
                let key = match &explained.outcome {
                    Some(FormOutcome::Threshold { key })
                    | Some(FormOutcome::Absence { key, .. })
                    | Some(FormOutcome::Sequence { key, .. }) => match key {
                        Key::Value(text) => Some(text.clone()),
                        _ => None,
                    },
                    _ => None,
                };
                assert_eq!(key, violation.key, "{what}");
                formed += 1;
            }
        }
        assert!(
            checked > 600 && fired > 50 && failed > 100 && formed >= 10,
            "{checked} events, {fired} fired, {failed} failed, {formed} form violations"
        );
    }

    #[test]
    fn values_are_shown_as_rhai_writes_them() {
        assert_eq!(shown(&Dynamic::UNIT), "()");
        assert_eq!(shown(&Dynamic::from("a\nb")), "\"a\\nb\"");
        assert_eq!(shown(&Dynamic::from_int(3)), "3");
        let array: rhai::Array = vec![Dynamic::from("x"), Dynamic::from_bool(true)];
        assert_eq!(shown(&Dynamic::from_array(array)), "[\"x\", true]");
    }
}
