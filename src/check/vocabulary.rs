//! Expressions held to their agreement's vocabulary (`crate::load::vocabulary`).
//!
//! With a vocabulary, what an expression reads of an event and what it compares it with can be
//! checked before any event is read: every `event.FIELD` (and `event["FIELD"]`,
//! `event.has("FIELD")`, `trigger.FIELD`) must be a field the vocabulary declares or one every
//! event has; every kind compared with `event.kind` — a literal, an item of a list it is
//! tested against with `in` — must be a kind it declares; and so for the values of a field it
//! declares as an enumeration. A misspelt field or kind is then an error at its place, with the
//! nearest declared name, instead of a condition that silently never holds.
//!
//! Functions are held to it too: a parameter that some call passes `event` or `trigger` (or a
//! parameter bound so, through other functions) is read as an event inside the function. So
//! are the names a statement block binds to either (`let e = event; e.tanks > 75`).
//!
//! Sound, like the warnings: only names written in the text are checked. A computed field name
//! (`event[name]`) or a kind built at run time cannot be, and is left to the replay, which
//! counts events whose values contradict their declarations (`crate::input::conform`).

use std::collections::{BTreeSet, HashMap, HashSet};

use rhai::{ASTNode, Expr, FnCallExpr, Position};

use crate::check::lint::Written;
use crate::diagnostic::{Code, Diagnostic};
use crate::expr::position::position_from;
use crate::expr::reads::call_of;
use crate::load::ListItem;
use crate::load::agreement::Agreement;
use crate::load::vocabulary::{Vocabulary, shown};

/// Adds an error for every field, kind and value the agreement's expressions name that its
/// vocabulary does not declare. Does nothing for an agreement without a vocabulary.
pub(crate) fn agreement(agreement: &Agreement, written: &[Written], found: &mut Vec<Diagnostic>) {
    let vocabulary = &agreement.vocabulary;
    if vocabulary.is_empty() {
        return;
    }
    let bound = event_parameters(written);
    let mut problems: Vec<Problem> = Vec::new();
    for w in written {
        let subjects = Subjects::of(w, &bound);
        w.ast.walk(&mut |path: &[ASTNode]| {
            visit(agreement, w, &subjects, path, &mut problems);
            true
        });
    }
    let mut seen: BTreeSet<(u64, u64)> = BTreeSet::new();
    let mut diagnostics: Vec<Diagnostic> = problems
        .iter()
        .map(|problem| problem.diagnostic(agreement, vocabulary))
        .filter(|d| seen.insert((d.line, d.column)))
        .collect();
    diagnostics.sort_by_key(|d| (d.line, d.column));
    found.extend(diagnostics);
}

/// Which variables hold an event, by place: `event` and `trigger` in an expression; in the
/// functions block, each function's parameters that calls bind to an event, within the
/// function's body (Rhai gives no path from a node to its function, but each body's span).
struct Subjects {
    everywhere: HashSet<String>,
    functions: Vec<FunctionSubjects>,
}

/// A function body's span (first and last line and column) and the parameters in it that
/// hold an event.
type FunctionSubjects = ((usize, usize), (usize, usize), HashSet<String>);

impl Subjects {
    fn of(w: &Written, bound: &HashMap<String, BTreeSet<usize>>) -> Subjects {
        if w.key != "functions" {
            // And the names a block binds to either (`let e = event;`).
            let aliases = w.aliases.iter().map(|(name, _)| name.clone());
            return Subjects {
                everywhere: ["event", "trigger"]
                    .map(String::from)
                    .into_iter()
                    .chain(aliases)
                    .collect(),
                functions: Vec::new(),
            };
        }
        let functions = w
            .ast
            .iter_fn_def()
            .filter_map(|def| {
                let indices = bound.get(def.name.as_str())?;
                let names: HashSet<String> = def
                    .params
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| indices.contains(i))
                    .map(|(_, p)| p.to_string())
                    .collect();
                Some((
                    place(def.body.start_position()),
                    place(def.body.end_position()),
                    names,
                ))
            })
            .collect();
        Subjects {
            everywhere: HashSet::new(),
            functions,
        }
    }

    /// Whether `name`, at `pos`, holds an event.
    fn holds_event(&self, name: &str, pos: Position) -> bool {
        if self.everywhere.contains(name) {
            return true;
        }
        let at = place(pos);
        self.functions
            .iter()
            .any(|(start, end, names)| *start <= at && at <= *end && names.contains(name))
    }
}

/// A position as a comparable (line, column).
fn place(pos: Position) -> (usize, usize) {
    (pos.line().unwrap_or(0), pos.position().unwrap_or(0))
}

/// A name the vocabulary does not declare, and where it is written.
enum Problem {
    /// A field read, at a place in an expression.
    Field { name: String, at: (u64, u64) },
    /// A value compared with a field (a kind with `kind`), at a place in an expression.
    Value {
        field: String,
        value: ListItem,
        at: (u64, u64),
    },
    /// An item of the agreement's list `list`, tested against `field` with `in`.
    Item {
        field: String,
        list: String,
        value: ListItem,
        at: (u64, u64),
        used: (u64, u64),
    },
}

impl Problem {
    fn diagnostic(&self, agreement: &Agreement, vocabulary: &Vocabulary) -> Diagnostic {
        let source = &agreement.source;
        match self {
            Problem::Field { name, at } => {
                let d = Diagnostic::error(
                    Code::UndeclaredField,
                    source,
                    at.0,
                    at.1,
                    format!("field `{name}` is not in the agreement's vocabulary"),
                );
                match vocabulary.nearest_field(name) {
                    Some(fix) => d.with_help(format!("did you mean `{fix}`?")),
                    None => d.with_help(format!(
                        "declare it under `vocabulary: fields:` (with its type), or use one of: {}",
                        declared_fields(vocabulary)
                    )),
                }
            }
            Problem::Value { field, value, at } => {
                value_diagnostic(agreement, vocabulary, field, value, *at, None)
            }
            Problem::Item {
                field,
                list,
                value,
                at,
                used,
            } => value_diagnostic(
                agreement,
                vocabulary,
                field,
                value,
                *at,
                Some((list.as_str(), *used)),
            ),
        }
    }
}

fn value_diagnostic(
    agreement: &Agreement,
    vocabulary: &Vocabulary,
    field: &str,
    value: &ListItem,
    at: (u64, u64),
    list: Option<(&str, (u64, u64))>,
) -> Diagnostic {
    let (what, nearest, declared) = if field == "kind" {
        let text = match value {
            ListItem::Text(t) => t.clone(),
            other => shown(other),
        };
        (
            format!("`{text}` is not a kind in the agreement's vocabulary"),
            vocabulary.nearest_kind(&text).map(str::to_string),
            preview(vocabulary.kinds.keys().cloned().collect()),
        )
    } else {
        let values = vocabulary
            .fields
            .get(field)
            .map(|f| f.values.iter().map(shown).collect::<Vec<_>>())
            .unwrap_or_default();
        let nearest = match value {
            ListItem::Text(t) => vocabulary.fields.get(field).and_then(|f| {
                crate::diagnostic::did_you_mean(
                    t,
                    f.values.iter().filter_map(|v| match v {
                        ListItem::Text(t) => Some(t.as_str()),
                        _ => None,
                    }),
                )
                .map(|fix| format!("{fix:?}"))
            }),
            _ => None,
        };
        (
            format!(
                "{} is not a value of `{field}` in the agreement's vocabulary",
                shown(value)
            ),
            nearest,
            preview(values),
        )
    };
    let message = match list {
        Some((name, used)) => format!(
            "{what} (list `{name}` is tested against `event.{field}` on line {})",
            used.0
        ),
        None => what,
    };
    let d = Diagnostic::error(Code::UnknownValue, &agreement.source, at.0, at.1, message);
    match nearest {
        Some(fix) => d.with_help(format!("did you mean `{fix}`?")),
        None => d.with_help(format!("the vocabulary declares: {declared}")),
    }
}

/// The first names of a list, for help text.
fn preview(names: Vec<String>) -> String {
    const SHOWN: usize = 12;
    let more = names.len().saturating_sub(SHOWN);
    let mut out = names.into_iter().take(SHOWN).collect::<Vec<_>>().join(", ");
    if more > 0 {
        out += &format!(" and {more} more");
    }
    out
}

fn declared_fields(vocabulary: &Vocabulary) -> String {
    preview(
        crate::load::vocabulary::BUILT_IN_FIELDS
            .iter()
            .map(|f| f.to_string())
            .chain(vocabulary.fields.keys().cloned())
            .collect(),
    )
}

/// Looks at one node: a field read, a comparison, a membership test.
fn visit(
    agreement: &Agreement,
    w: &Written,
    subjects: &Subjects,
    path: &[ASTNode],
    problems: &mut Vec<Problem>,
) {
    let vocabulary = &agreement.vocabulary;
    let place = |pos: Position| position_from(w.expression, w.at, pos);
    if let Some(ASTNode::Expr(expr)) = path.last() {
        if let Some((name, pos)) = field_of(expr, subjects)
            && !vocabulary.knows_field(&name)
        {
            problems.push(Problem::Field {
                name,
                at: place(pos),
            });
        }
        // `event.has("NAME")`.
        if let Expr::Dot(x, ..) = expr
            && is_subject(&x.lhs, subjects)
            && let Expr::MethodCall(call, _) = &x.rhs
            && call.name == "has"
            && let [Expr::StringConstant(name, pos)] = call.args.as_slice()
            && !vocabulary.knows_field(name)
        {
            problems.push(Problem::Field {
                name: name.to_string(),
                at: place(*pos),
            });
        }
    }
    let Some((call, false, pos)) = path.last().and_then(call_of) else {
        return;
    };
    if call.op_token.is_some()
        && matches!(call.name.as_str(), "==" | "!=")
        && let [left, right] = call.args.as_slice()
    {
        for (field, other) in [(left, right), (right, left)] {
            let Some((name, _)) = field_of(field, subjects) else {
                continue;
            };
            if let Some((value, at)) = literal(other)
                && !admitted(vocabulary, &name, &value)
            {
                problems.push(Problem::Value {
                    field: name,
                    value,
                    at: place(at),
                });
            }
        }
    }
    membership(agreement, call, subjects, place(pos), &place, problems);
}

/// `NEEDLE in LIST` (Rhai's `contains(LIST, NEEDLE)`) with a field as the needle: each item
/// of a literal array or of the agreement's list must be a value the field may take.
fn membership(
    agreement: &Agreement,
    call: &FnCallExpr,
    subjects: &Subjects,
    used: (u64, u64),
    place: &dyn Fn(Position) -> (u64, u64),
    problems: &mut Vec<Problem>,
) {
    if call.name != "contains" || call.op_token.is_some() {
        return;
    }
    let [list, needle] = call.args.as_slice() else {
        return;
    };
    let Some((field, _)) = field_of(needle, subjects) else {
        return;
    };
    let vocabulary = &agreement.vocabulary;
    match list {
        Expr::Variable(v, ..) => {
            let Some((at, (name, items))) = agreement
                .lists
                .iter()
                .enumerate()
                .find(|(_, (name, _))| *name == v.1)
            else {
                return;
            };
            let places = agreement.items_at.get(at);
            for (i, item) in items.iter().enumerate() {
                if admitted(vocabulary, &field, item) {
                    continue;
                }
                let at = places
                    .and_then(|p| p.get(i))
                    .copied()
                    .unwrap_or(agreement.lists_at.get(at).copied().unwrap_or((1, 1)));
                problems.push(Problem::Item {
                    field: field.clone(),
                    list: name.clone(),
                    value: item.clone(),
                    at,
                    used,
                });
            }
        }
        Expr::Array(items, _) => {
            for item in items.iter() {
                if let Some((value, at)) = literal(item)
                    && !admitted(vocabulary, &field, &value)
                {
                    problems.push(Problem::Value {
                        field: field.clone(),
                        value,
                        at: place(at),
                    });
                }
            }
        }
        _ => {}
    }
}

/// Whether `value` may be compared with `field` without naming what the vocabulary lacks: a
/// declared kind for `kind`, a declared value for an enumerated field. Values of another type
/// are the `type-mismatch` warning's to report.
fn admitted(vocabulary: &Vocabulary, field: &str, value: &ListItem) -> bool {
    if field == "kind" {
        return match value {
            ListItem::Text(kind) => vocabulary.knows_kind(kind),
            _ => true,
        };
    }
    let Some(declared) = vocabulary.fields.get(field) else {
        return true;
    };
    if declared.values.is_empty() {
        return true;
    }
    let same_type = declared.values.iter().any(|v| {
        std::mem::discriminant(v) == std::mem::discriminant(value)
            || matches!(
                (v, value),
                (ListItem::Integer(_), ListItem::Float(_))
                    | (ListItem::Float(_), ListItem::Integer(_))
            )
    });
    !same_type || declared.values.contains(value)
}

/// A literal's value and where it is written.
fn literal(expr: &Expr) -> Option<(ListItem, Position)> {
    match expr {
        Expr::StringConstant(s, pos) => Some((ListItem::Text(s.to_string()), *pos)),
        Expr::CharConstant(c, pos) => Some((ListItem::Text(c.to_string()), *pos)),
        Expr::IntegerConstant(i, pos) => Some((ListItem::Integer(*i), *pos)),
        Expr::FloatConstant(f, pos) => Some((ListItem::Float(**f), *pos)),
        Expr::BoolConstant(b, pos) => Some((ListItem::Bool(*b), *pos)),
        _ => None,
    }
}

/// `S.NAME` or `S["NAME"]` where `S` is one of `subjects`: the name and where it is written.
fn field_of(expr: &Expr, subjects: &Subjects) -> Option<(String, Position)> {
    let (x, by_index) = match expr {
        Expr::Dot(x, ..) => (x, false),
        Expr::Index(x, ..) => (x, true),
        _ => return None,
    };
    if !is_subject(&x.lhs, subjects) {
        return None;
    }
    match (&x.rhs, by_index) {
        (Expr::Property(p, pos), false) => Some((p.2.to_string(), *pos)),
        (Expr::StringConstant(name, pos), true) => Some((name.to_string(), *pos)),
        _ => None,
    }
}

fn is_subject(expr: &Expr, subjects: &Subjects) -> bool {
    matches!(expr, Expr::Variable(v, _, pos) if subjects.holds_event(v.1.as_str(), *pos))
}

/// For each function of the agreement, the positions of its parameters that some call passes
/// an event: `event` or `trigger` from an expression, or a parameter so bound from another
/// function (followed until nothing changes).
fn event_parameters(written: &[Written]) -> HashMap<String, BTreeSet<usize>> {
    let mut bound: HashMap<String, BTreeSet<usize>> = HashMap::new();
    let note =
        |call: &FnCallExpr, subjects: &Subjects, bound: &mut HashMap<String, BTreeSet<usize>>| {
            let mut changed = false;
            for (i, arg) in call.args.iter().enumerate() {
                if is_subject(arg, subjects) {
                    changed |= bound.entry(call.name.to_string()).or_default().insert(i);
                }
            }
            changed
        };
    for w in written.iter().filter(|w| w.key != "functions") {
        let subjects = Subjects::of(w, &bound);
        w.ast.walk(&mut |path: &[ASTNode]| {
            if let Some((call, false, _)) = path.last().and_then(call_of) {
                note(call, &subjects, &mut bound);
            }
            true
        });
    }
    let Some(functions) = written.iter().find(|w| w.key == "functions") else {
        return bound;
    };
    // Each round binds at least one more parameter, or ends: at most as many rounds as there
    // are parameters.
    loop {
        let subjects = Subjects::of(functions, &bound);
        let mut changed = false;
        functions.ast.walk(&mut |path: &[ASTNode]| {
            if let Some((call, false, _)) = path.last().and_then(call_of) {
                changed |= note(call, &subjects, &mut bound);
            }
            true
        });
        if !changed {
            return bound;
        }
    }
}
