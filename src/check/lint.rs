//! Warnings: likely mistakes in an agreement that loads and compiles.
//!
//! A file that passes every check can still say something its author did not mean: a
//! comparison that never holds because its two sides are of different types, a condition
//! Rhai reduces to `false`, a term pasted twice, a list nothing reads, a field name one letter
//! off. These are warnings, not errors: the file is replayed as written and `pactum check`
//! exits 0, but the author is shown where to look (docs/rules.md, "Warnings").
//!
//! The checks are sound: they warn only where the mistake is certain from the text. A field's
//! type is known only for `time`, `kind` and `id` (always text); events are free-form
//! otherwise. The one guess, the did-you-mean for fields, speaks only when a name is one or
//! two edits from a field the shipped vocabularies declare ([`known_fields`]), in an agreement
//! that declares none of its own.
//!
//! Expressions are parsed as written, without Rhai's optimiser (which folds constants and puts
//! each list's values where its name was), and never evaluated.

use std::collections::{HashMap, HashSet};

use rhai::{AST, ASTNode, Engine, Expr, FnCallExpr, OptimizationLevel, Position, Scope, Stmt};

use crate::diagnostic::{Code, Diagnostic};
use crate::expr::position::position_from;
use crate::expr::reads::{call_of, with_quotes};
use crate::expr::scope_for;
use crate::expr::template::{TemplatePart, template_parts};
use crate::load::agreement::{Agreement, Breach, DeadlineWindow, Form, Term};
use crate::load::vocabulary::{FieldType, Vocabulary};
use crate::load::{Expression, ListItem};

/// The shipped vocabularies (`rules/vocabularies/`), compiled in: the event fields pactum knows
/// of. A name close to one of their fields, and not one itself, is likely a misspelling of it —
/// in an agreement that declares no vocabulary of its own (one that does is held to its own,
/// `crate::check::vocabulary`). Tests hold the shipped mappings and scenarios to them.
const SHIPPED_VOCABULARIES: [(&str, &str); 2] = [
    (
        "rules/vocabularies/border-incidents.yaml",
        include_str!("../../rules/vocabularies/border-incidents.yaml"),
    ),
    (
        "rules/mappings/vocabularies/ucdp-ged.yaml",
        include_str!("../../rules/mappings/vocabularies/ucdp-ged.yaml"),
    ),
];

/// Every field of the shipped vocabularies, and those every event has, sorted.
pub(crate) fn known_fields() -> &'static [String] {
    static KNOWN: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    KNOWN.get_or_init(|| {
        let mut known: Vec<String> = crate::load::vocabulary::BUILT_IN_FIELDS
            .iter()
            .map(|f| f.to_string())
            .collect();
        for (name, text) in SHIPPED_VOCABULARIES {
            if let (Some(vocabulary), _) = crate::load::vocabulary::load_file(name, text) {
                known.extend(vocabulary.fields.into_keys());
            }
        }
        known.sort();
        known.dedup();
        known
    })
}

/// Fields whose type is known whatever the event: text.
const TEXT_FIELDS: &[&str] = &["time", "kind", "id"];

/// An unquoted expression on one line ends where YAML sees ` #`: the rest is a comment. That
/// is often meant (`when: event.kind == "x"  # strikes only`), but a comment that reads as
/// more of the expression (`when: event.kind in kinds #&& event.party == "TR"`, an operator,
/// a field, a closing bracket) means the condition was cut in half and `check` would pass
/// it (issue 14).
fn cut_by_comment(w: &Written, found: &mut Vec<Diagnostic>) {
    let e = w.expression;
    if e.quoted || e.text.contains('\n') {
        return;
    }
    let Some(line) = e.source.line(e.line) else {
        return;
    };
    let start = usize::try_from(e.column.saturating_sub(1)).unwrap_or(usize::MAX);
    let rest: String = line.chars().skip(start).collect();
    let Some(after) = rest.strip_prefix(e.text.as_str()) else {
        return;
    };
    let Some(comment) = after.trim_start().strip_prefix('#') else {
        return;
    };
    let comment = comment.trim_start();
    let continues = [
        "&&", "||", "==", "!=", ">", "<", ")", "]", ".", "+", "-", "*", "/", "in ",
    ]
    .iter()
    .any(|start| comment.starts_with(start))
        || comment.contains("event.")
        || comment.contains("trigger.");
    if !continues {
        return;
    }
    let column = e.column
        + u64::try_from(e.text.chars().count()).unwrap_or(0)
        + u64::try_from(after.len() - after.trim_start().len()).unwrap_or(0);
    found.push(
        Diagnostic::warning(
            Code::CutByComment,
            &e.source,
            e.line,
            column,
            format!(
                "`{}` ends here: YAML reads ` #` and the rest of the line as a comment, and the rest looks like more of the expression",
                w.key
            ),
        )
        .with_help(format!(
            "if the rest belongs to the `{}`, delete the ` #`; a `#` meant inside it needs the whole value quoted",
            w.key
        )),
    );
}

/// Finds the likely mistakes of one agreement (which compiled without error) and adds a
/// warning for each, in the order of their positions in the file.
pub(crate) fn agreement(agreement: &Agreement, parser: &Engine, diagnostics: &mut Vec<Diagnostic>) {
    let mut found = Vec::new();
    let written = written(agreement, parser);
    for w in &written {
        let mut mismatched = false;
        if w.condition {
            mismatched = mismatches(agreement, w, &mut found);
        }
        if w.key == "when" && !mismatched {
            constant_false(agreement, parser, w, &mut found);
        }
        // With a vocabulary, a field it lacks is an error (`crate::check::vocabulary`).
        if w.key != "functions" && agreement.vocabulary.is_empty() {
            fields(w, &mut found);
        }
        cut_by_comment(w, &mut found);
    }
    unused_lists(agreement, &written, &mut found);
    duplicates(agreement, &mut found);
    found.sort_by_key(|d| (d.line, d.column));
    diagnostics.extend(found);
}

/// One expression of an agreement, parsed as written.
pub(crate) struct Written<'a> {
    pub(crate) expression: &'a Expression,
    /// The key it is written under (`when`, `message`, `require`, …).
    pub(crate) key: &'static str,
    /// Where its text starts inside the value (a message placeholder starts after its brace).
    pub(crate) at: (u64, u64),
    pub(crate) ast: AST,
    /// Whether it decides something (`when`, `require`, a step): a comparison in it that
    /// never holds is a mistake.
    condition: bool,
    /// The names a block binds to `event` or `trigger` (`let e = event;`), each with the one
    /// it holds: their fields are read as the subject's (`crate::expr::block::aliases`).
    pub(crate) aliases: Vec<(String, &'static str)>,
}

/// Names that certainly hold an event.
type Aliases = [(String, &'static str)];

/// Every expression of the agreement that parses, with the functions block as a script.
pub(crate) fn written<'a>(agreement: &'a Agreement, parser: &Engine) -> Vec<Written<'a>> {
    let scope = scope_for(agreement, false);
    let with_trigger = scope_for(agreement, true);
    // A keyed term's `breached_by` and message may read `key` (`compile`).
    let mut with_key = scope_for(agreement, false);
    with_key.push("key", ());
    let mut out = Vec::new();
    let mut add = |expression: &'a Expression,
                   key: &'static str,
                   text: &str,
                   at: (u64, u64),
                   scope: &Scope,
                   condition: bool| {
        if let Ok(ast) = crate::expr::block::compile(parser, scope, text, true) {
            out.push(Written {
                expression,
                key,
                at,
                aliases: crate::expr::block::aliases(&ast, &["event", "trigger"]),
                ast,
                condition,
            });
        }
    };
    for term in &agreement.terms {
        add(&term.when, "when", &term.when.text, (1, 1), &scope, true);
        let outcome_scope = if term.form.by().is_some() {
            &with_key
        } else {
            &scope
        };
        if let Breach::Expression(e) = &term.breached_by {
            add(e, "breached_by", &e.text, (1, 1), outcome_scope, false);
        }
        if let Some(message) = &term.message {
            for part in template_parts(&message.text) {
                if let TemplatePart::Placeholder { text, start } = part {
                    add(message, "message", &text, start, outcome_scope, false);
                }
            }
        }
        match &term.form {
            Form::Each => {}
            Form::Threshold(t) => {
                if let Some(by) = &t.by {
                    add(by, "by", &by.text, (1, 1), &scope, false);
                }
            }
            Form::Absence(a) => {
                if let Some(by) = &a.by {
                    add(by, "by", &by.text, (1, 1), &scope, false);
                }
            }
            Form::Sequence(q) => {
                if let Some(by) = &q.by {
                    add(by, "by", &by.text, (1, 1), &scope, false);
                }
                for step in &q.steps {
                    add(step, "steps", &step.text, (1, 1), &scope, true);
                }
            }
            Form::Deadline(d) => {
                add(
                    &d.require,
                    "require",
                    &d.require.text,
                    (1, 1),
                    &with_trigger,
                    true,
                );
            }
        }
    }
    if let Some(functions) = &agreement.functions
        && let Ok(ast) = parser.compile(&functions.text)
    {
        out.push(Written {
            expression: functions,
            key: "functions",
            at: (1, 1),
            ast,
            condition: false,
            aliases: Vec::new(),
        });
    }
    out
}

/// The type of a value, where the text makes it certain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Type {
    Text,
    Number,
    Bool,
    Unit,
}

impl Type {
    fn one(self) -> &'static str {
        match self {
            Type::Text => "text",
            Type::Number => "a number",
            Type::Bool => "a boolean",
            Type::Unit => "`()`",
        }
    }

    fn many(self) -> &'static str {
        match self {
            Type::Text => "text",
            Type::Number => "numbers",
            Type::Bool => "booleans",
            Type::Unit => "`()`",
        }
    }

    fn of_item(item: &ListItem) -> Type {
        match item {
            ListItem::Text(_) => Type::Text,
            ListItem::Integer(_) | ListItem::Float(_) => Type::Number,
            ListItem::Bool(_) => Type::Bool,
        }
    }
}

/// One side of a comparison whose type is certain: a literal, or a field that is always text.
struct Side {
    /// As it reads in the expression.
    shown: String,
    ty: Type,
    /// The field it reads (`event.kind`), if it is one.
    field: Option<String>,
    /// For a literal, its value without quotes (for help text).
    raw: String,
    /// For a field, what makes its type certain: "always text" (built in), "declared an
    /// integer" (the agreement's vocabulary).
    certain: String,
}

impl Side {
    fn of(expr: &Expr, vocabulary: &Vocabulary, aliases: &Aliases) -> Option<Side> {
        let literal = |shown: String, raw: String, ty| {
            Some(Side {
                shown,
                ty,
                field: None,
                raw,
                certain: String::new(),
            })
        };
        match expr {
            Expr::StringConstant(s, _) => {
                literal(format!("{:?}", s.as_str()), s.to_string(), Type::Text)
            }
            Expr::CharConstant(c, _) => literal(format!("{c:?}"), c.to_string(), Type::Text),
            Expr::IntegerConstant(i, _) => literal(i.to_string(), i.to_string(), Type::Number),
            Expr::FloatConstant(f, _) => literal(f.to_string(), f.to_string(), Type::Number),
            Expr::BoolConstant(b, _) => literal(b.to_string(), b.to_string(), Type::Bool),
            Expr::Unit(_) => literal("()".into(), "()".into(), Type::Unit),
            _ => {
                let (subject, name, _) = field_read(expr, aliases)?;
                let shown = match expr {
                    Expr::Index(..) => format!("{subject}[{name:?}]"),
                    _ => format!("{subject}.{name}"),
                };
                let (ty, certain) = if TEXT_FIELDS.contains(&name.as_str()) {
                    (Type::Text, "always text".to_string())
                } else {
                    // A declared field's type is certain too: a value of another type fails
                    // the term that reads it (`crate::input::conform`).
                    let declared = vocabulary.fields.get(&name)?;
                    let ty = match declared.ty {
                        FieldType::Text | FieldType::Time => Type::Text,
                        FieldType::Number | FieldType::Integer => Type::Number,
                        FieldType::Boolean => Type::Bool,
                        FieldType::List | FieldType::Object => return None,
                    };
                    (ty, format!("declared {}", declared.ty.described()))
                };
                Some(Side {
                    field: Some(shown.clone()),
                    shown,
                    ty,
                    raw: String::new(),
                    certain,
                })
            }
        }
    }

    /// "`event.kind` is always text", "`5` is a number".
    fn described(&self) -> String {
        match &self.field {
            Some(field) => format!("`{field}` is {}", self.certain),
            None => format!("`{}` is {}", self.shown, self.ty.one()),
        }
    }
}

/// `event.NAME` or `event["NAME"]` (or `trigger.…`, or through a name a block binds to
/// either): the subject as written, the field name and where the name is written.
fn field_read<'e>(expr: &'e Expr, aliases: &Aliases) -> Option<(&'e str, String, Position)> {
    let (x, by_index) = match expr {
        Expr::Dot(x, ..) => (x, false),
        Expr::Index(x, ..) => (x, true),
        _ => return None,
    };
    let subject = subject(&x.lhs, aliases)?;
    match (&x.rhs, by_index) {
        (Expr::Property(p, pos), false) => Some((subject, p.2.to_string(), *pos)),
        (Expr::StringConstant(name, pos), true) => Some((subject, name.to_string(), *pos)),
        _ => None,
    }
}

/// `event` or `trigger`, or a name bound to one of them, when `expr` is that variable.
fn subject<'e>(expr: &'e Expr, aliases: &Aliases) -> Option<&'e str> {
    match expr {
        Expr::Variable(v, ..)
            if v.1 == "event" || v.1 == "trigger" || aliases.iter().any(|(a, _)| *a == v.1) =>
        {
            Some(v.1.as_str())
        }
        _ => None,
    }
}

const COMPARISONS: &[&str] = &["==", "!=", "<", "<=", ">", ">="];

/// Warns of comparisons and `in` tests whose result the types of their sides decide; returns
/// whether there was one.
fn mismatches(agreement: &Agreement, w: &Written, found: &mut Vec<Diagnostic>) -> bool {
    let mut warnings: Vec<(Position, String, String)> = Vec::new();
    w.ast.walk(&mut |path: &[ASTNode]| {
        let Some((call, false, pos)) = path.last().and_then(call_of) else {
            return true;
        };
        if let Some(warning) = comparison(call, &agreement.vocabulary, &w.aliases)
            .or_else(|| membership(agreement, call, &w.aliases))
        {
            warnings.push((pos, warning.0, warning.1));
        }
        true
    });
    let any = !warnings.is_empty();
    for (pos, message, help) in warnings {
        let (line, column) = position_from(w.expression, w.at, pos);
        found.push(
            Diagnostic::warning(
                Code::TypeMismatch,
                &w.expression.source,
                line,
                column,
                message,
            )
            .with_help(help),
        );
    }
    any
}

/// `a OP b` with sides of certain and different types: the message and help.
fn comparison(
    call: &FnCallExpr,
    vocabulary: &Vocabulary,
    aliases: &Aliases,
) -> Option<(String, String)> {
    let op = call.name.as_str();
    if call.op_token.is_none() || !COMPARISONS.contains(&op) {
        return None;
    }
    let [left, right] = call.args.as_slice() else {
        return None;
    };
    let (left, right) = (
        Side::of(left, vocabulary, aliases)?,
        Side::of(right, vocabulary, aliases)?,
    );
    // A declared field may be absent, so `()` is a value it can have.
    let declared = |side: &Side| side.field.is_some() && side.certain.starts_with("declared");
    if (declared(&left) && right.ty == Type::Unit) || (declared(&right) && left.ty == Type::Unit) {
        return None;
    }
    // Ordering `()` fails at run time (the sandbox refuses it) rather than giving false.
    let ordering = !matches!(op, "==" | "!=");
    if left.ty == right.ty || (ordering && (left.ty == Type::Unit || right.ty == Type::Unit)) {
        return None;
    }
    // An order between a text, a number and a boolean fails at run time (the sandbox's rule,
    // issue 14); an equality is merely never true.
    let verdict = if ordering {
        "an error on every event"
    } else if op == "!=" {
        "always true"
    } else {
        "never true"
    };
    let message = format!(
        "{} and {}: `{} {op} {}` is {verdict}",
        left.described(),
        right.described(),
        left.shown,
        right.shown
    );
    let (field, literal, side) = match (&left.field, &right.field) {
        (Some(field), None) => (Some(field), &right, &left),
        (None, Some(field)) => (Some(field), &left, &right),
        _ => (None, &left, &left),
    };
    let help = match field {
        Some(field) if side.certain.starts_with("declared") => {
            let example = match side.ty {
                Type::Number if literal.raw.parse::<f64>().is_ok() => {
                    format!(", as in `{field} {op} {}`", literal.raw)
                }
                Type::Text => format!(", as in `{field} {op} \"{}\"`", literal.raw),
                _ => String::new(),
            };
            format!(
                "the agreement's vocabulary says `{field}` is {}: compare it with a value of that type{example}",
                side.certain.trim_start_matches("declared ")
            )
        }
        Some(field) if field.ends_with(".time") => format!(
            "`{field}` is RFC 3339 text in UTC: compare it with text, as in `{field} >= \"2024-01-01T00:00:00Z\"`"
        ),
        Some(field) if literal.ty == Type::Unit => {
            format!("`{field}` always has a value: it is never `()`")
        }
        Some(field) => format!("to compare with text, quote the value: `{field} {op} \"{}\"`", literal.raw),
        None => "both sides are fixed values of different types: compare a value of the event with one of them".into(),
    };
    Some((message, help))
}

/// `x in LIST` (Rhai's `contains(LIST, x)`) where `x` has a certain type that no item of the
/// list (a literal array, or one of the agreement's lists) has.
fn membership(
    agreement: &Agreement,
    call: &FnCallExpr,
    aliases: &Aliases,
) -> Option<(String, String)> {
    if call.name != "contains" || call.op_token.is_some() {
        return None;
    }
    let [list, needle] = call.args.as_slice() else {
        return None;
    };
    let needle = Side::of(needle, &agreement.vocabulary, aliases)?;
    let (shown, types): (String, Vec<Type>) = match list {
        Expr::Variable(v, ..) => {
            let (name, items) = agreement.lists.iter().find(|(name, _)| *name == v.1)?;
            (name.clone(), items.iter().map(Type::of_item).collect())
        }
        Expr::Array(items, _) => {
            let sides: Option<Vec<Side>> = items
                .iter()
                .map(|item| Side::of(item, &agreement.vocabulary, aliases))
                .collect();
            let sides = sides?;
            let shown = sides
                .iter()
                .map(|s| s.shown.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            (format!("[{shown}]"), sides.iter().map(|s| s.ty).collect())
        }
        _ => return None,
    };
    if types.is_empty() || types.contains(&needle.ty) {
        return None;
    }
    let mut kinds: Vec<&str> = Vec::new();
    for ty in &types {
        if !kinds.contains(&ty.many()) {
            kinds.push(ty.many());
        }
    }
    let message = format!(
        "{} and `{shown}` holds only {}: `{} in {shown}` is never true",
        needle.described(),
        kinds.join(" and "),
        needle.shown
    );
    let help = format!(
        "write the list's items as {} (text is written in quotes)",
        needle.ty.many()
    );
    Some((message, help))
}

/// Warns when Rhai's optimiser reduces a term's `when` to `false`.
fn constant_false(
    agreement: &Agreement,
    parser: &Engine,
    w: &Written,
    found: &mut Vec<Diagnostic>,
) {
    let scope = scope_for(agreement, false);
    let optimised = parser.optimize_ast(&scope, w.ast.clone(), OptimizationLevel::Simple);
    let is_false = |expr: &Expr| match expr {
        Expr::BoolConstant(false, _) => true,
        Expr::DynamicConstant(value, _) => value.as_bool() == Ok(false),
        _ => false,
    };
    let never = match optimised.statements() {
        [Stmt::Expr(expr)] => is_false(expr),
        _ => false,
    };
    if !never {
        return;
    }
    let term = agreement
        .terms
        .iter()
        .find(|t| std::ptr::eq(&t.when, w.expression))
        .map_or(String::new(), |t| format!("term `{}` ", t.id));
    let (line, column) = position_from(w.expression, w.at, Position::NONE);
    found.push(
        Diagnostic::warning(
            Code::NeverFires,
            &w.expression.source,
            line,
            column,
            format!("this `when` is always false: {term}can never fire"),
        )
        .with_help("Rhai reduces the condition to `false` before any event is read: look for `false &&` or a comparison of two fixed values"),
    );
}

/// Warns of `event.NAME` (and `event["NAME"]`, `event.has("NAME")`, `trigger.NAME`) where
/// NAME is not a known field but is one or two edits from one.
fn fields(w: &Written, found: &mut Vec<Diagnostic>) {
    let mut reads: Vec<(String, Position)> = Vec::new();
    w.ast.walk(&mut |path: &[ASTNode]| {
        if let Some(ASTNode::Expr(expr)) = path.last() {
            if let Some((_, name, pos)) = field_read(expr, &w.aliases) {
                reads.push((name, pos));
            }
            // `event.has("NAME")`.
            if let Expr::Dot(x, ..) = expr
                && subject(&x.lhs, &w.aliases).is_some()
                && let Expr::MethodCall(call, _) = &x.rhs
                && call.name == "has"
                && let [Expr::StringConstant(name, pos)] = call.args.as_slice()
            {
                reads.push((name.to_string(), *pos));
            }
        }
        true
    });
    for (name, pos) in reads {
        let Some(known) = likely_field(&name) else {
            continue;
        };
        let (line, column) = position_from(w.expression, w.at, pos);
        found.push(
            Diagnostic::warning(
                Code::UnknownField,
                &w.expression.source,
                line,
                column,
                format!("unknown field `{name}` in `{}`", w.key),
            )
            .with_help(format!(
                "did you mean `{known}`? (events may carry any field, but no shipped vocabulary declares `{name}`; an agreement can declare its own, docs/rules.md \"Vocabularies\")"
            )),
        );
    }
}

/// The known field `name` is likely a misspelling of: not known itself, and one edit away from
/// it (two for names of five characters or more, where two edits still leave most of the
/// word).
fn likely_field(name: &str) -> Option<&'static str> {
    let known = known_fields();
    if known.iter().any(|k| k == name) {
        return None;
    }
    known
        .iter()
        .map(|known| (strsim::osa_distance(name, known), known.as_str()))
        .filter(|(distance, known)| {
            let shorter = name.chars().count().min(known.chars().count());
            *distance == 1 || (*distance == 2 && shorter >= 5)
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, known)| known)
}

/// Warns of lists no expression names.
fn unused_lists(agreement: &Agreement, written: &[Written], found: &mut Vec<Diagnostic>) {
    let mut used: HashSet<String> = HashSet::new();
    for w in written {
        w.ast.walk(&mut |path: &[ASTNode]| {
            if let Some(ASTNode::Expr(Expr::Variable(v, ..))) = path.last() {
                used.insert(v.1.to_string());
            }
            true
        });
    }
    for ((name, _), (line, column)) in agreement.lists.iter().zip(&agreement.lists_at) {
        if used.contains(name) {
            continue;
        }
        found.push(
            Diagnostic::warning(
                Code::UnusedList,
                &agreement.source,
                *line,
                *column,
                format!("list `{name}` is never used"),
            )
            .with_help(format!(
                "no expression of this agreement names it: remove it, or use it (`event.kind in {name}`)"
            )),
        );
    }
}

/// Warns of a term with the same `when` (up to spacing) and the same form as an earlier term
/// of the agreement, in an overlapping period: each event it selects is judged twice.
fn duplicates(agreement: &Agreement, found: &mut Vec<Diagnostic>) {
    let signatures: Vec<(String, String)> = agreement
        .terms
        .iter()
        .map(|t| (normalised(&t.when.text), form_signature(&t.form)))
        .collect();
    // The earlier terms of each signature: a term is compared only with those, not with every
    // earlier term (which made `check` quadratic in the number of terms).
    let mut earlier: HashMap<&(String, String), Vec<&Term>> = HashMap::new();
    for (term, signature) in agreement.terms.iter().zip(&signatures) {
        let same = earlier.entry(signature).or_default();
        let first = same
            .iter()
            .find(|earlier| earlier.effective.intersect(&term.effective).is_some())
            .copied();
        same.push(term);
        let Some(first) = first else {
            continue;
        };
        found.push(
            Diagnostic::warning(
                Code::DuplicateTerm,
                &agreement.source,
                term.at.0,
                term.at.1,
                format!(
                    "term `{}` repeats term `{}`: the same `when`, the same form, and periods that overlap",
                    term.id, first.id
                ),
            )
            .with_help(format!(
                "term `{}` is on line {}: an event both select is a violation of each; remove one, or make their conditions or periods differ",
                first.id, first.at.0
            )),
        );
    }
}

/// A form's parameters as text, expressions normalised: equal for the same form.
fn form_signature(form: &Form) -> String {
    let by = |by: &Option<Expression>| by.as_ref().map(|e| normalised(&e.text));
    match form {
        Form::Each => "each".into(),
        Form::Threshold(t) => format!("threshold {} {} {:?}", t.count, t.within, by(&t.by)),
        Form::Deadline(d) => {
            let window = match d.window {
                DeadlineWindow::Within(w) => format!("within {w}"),
                DeadlineWindow::Before(b) => format!("before {b}"),
            };
            format!("deadline {window} {}", normalised(&d.require.text))
        }
        Form::Absence(a) => format!("absence {} {:?} {:?}", a.within, by(&a.by), a.keys),
        Form::Sequence(q) => {
            let steps: Vec<String> = q.steps.iter().map(|s| normalised(&s.text)).collect();
            format!("sequence {} {:?} {steps:?}", q.within, by(&q.by))
        }
    }
}

/// An expression's text with the spacing that does not change its meaning taken out: spaces
/// and line breaks go, except one between two word characters (`x in y`), and quoted text is
/// kept as it is.
fn normalised(text: &str) -> String {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for (c, quoted) in with_quotes(text) {
        if !quoted && c.is_whitespace() {
            space = true;
            continue;
        }
        if !quoted && space && out.chars().last().is_some_and(word) && word(c) {
            out.push(' ');
        }
        space = false;
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spacing_does_not_make_terms_differ() {
        assert_eq!(
            normalised("event.kind  ==\"a\" &&\n  x in  y"),
            normalised("event.kind == \"a\" && x in y")
        );
        assert_ne!(normalised("x == \"a b\""), normalised("x == \"a  b\""));
        assert_ne!(normalised("x in y"), normalised("xin y"));
    }

    #[test]
    fn only_close_names_are_suggested() {
        assert_eq!(likely_field("kindd"), Some("kind"));
        assert_eq!(likely_field("evnt_kind"), None);
        assert_eq!(likely_field("actr"), Some("actor"));
        assert_eq!(likely_field("orgin_country"), Some("origin_country"));
        assert_eq!(likely_field("kind"), None, "a known field");
        assert_eq!(likely_field("notification"), None, "far from every field");
        assert_eq!(likely_field("sectr"), Some("sector"));
    }

    /// The shipped vocabularies load without a problem, and declare what the warnings know.
    #[test]
    fn shipped_vocabularies_load_cleanly() {
        for (name, text) in SHIPPED_VOCABULARIES {
            let (vocabulary, problems) = crate::load::vocabulary::load_file(name, text);
            assert!(problems.is_empty(), "{name}: {problems:?}");
            assert!(vocabulary.unwrap().fields.len() >= 20, "{name}");
        }
        assert!(known_fields().iter().any(|k| k == "verification"));
        assert!(known_fields().iter().any(|k| k == "where_prec"));
    }

    /// Every `fields:` key of every shipped mapping is known, so that a rule reading one is
    /// never told it misspelt it.
    #[test]
    fn known_fields_include_every_shipped_mapping_field() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut mappings = 0;
        for entry in std::fs::read_dir(root.join("rules/mappings")).unwrap() {
            let path = entry.unwrap().path();
            if !path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let name = path.display().to_string();
            let roots = crate::load::confine::Roots::new(root, [root.to_path_buf()]);
            let (mapping, problems) = crate::input::mapping::load_with(
                &name,
                &text,
                &crate::Limits::default(),
                &roots,
                &mut |p| std::fs::read(p),
            );
            assert!(problems.is_empty(), "{}: {problems:?}", path.display());
            for field in mapping.unwrap().field_names() {
                assert!(
                    known_fields().iter().any(|k| k == field),
                    "{}: field `{field}` is in no shipped vocabulary",
                    path.display()
                );
            }
            mappings += 1;
        }
        assert!(mappings >= 1, "no shipped mapping found");
    }

    /// Every field of the shipped scenarios' events is known, or declared by an agreement of
    /// the scenario's own folder with a vocabulary (whose terms are held to it instead of the
    /// warning's names: `scenarios/golan-limitation-zones/`).
    #[test]
    fn known_fields_include_every_shipped_scenario_field() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = 0;
        for entry in std::fs::read_dir(root.join("scenarios")).unwrap() {
            let folder = entry.unwrap().path();
            let path = folder.join("events.jsonl");
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let mut declared: Vec<String> = Vec::new();
            for file in std::fs::read_dir(&folder).unwrap() {
                let file = file.unwrap().path();
                let Ok(rules) = std::fs::read_to_string(&file) else {
                    continue;
                };
                if file.extension().is_some_and(|e| e == "yaml") && rules.contains("\nagreement:") {
                    let name = file.display().to_string();
                    if let (Some(agreement), _) = crate::load::agreement::load(&name, &rules) {
                        declared.extend(agreement.vocabulary.fields.keys().cloned());
                    }
                }
            }
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let value: serde_json::Value = serde_json::from_str(line).unwrap();
                for field in value.as_object().unwrap().keys() {
                    assert!(
                        known_fields().iter().any(|k| k == field) || declared.contains(field),
                        "{}: field `{field}` is in no shipped vocabulary",
                        path.display()
                    );
                }
            }
            files += 1;
        }
        assert!(files >= 2, "no shipped scenario found");
    }
}
