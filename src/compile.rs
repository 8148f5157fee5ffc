//! Compiling agreements: every expression is parsed and checked once, before any event is read.
//!
//! The result, a [`Program`], holds one [`rhai::AST`] per expression and the sandboxed engine
//! that runs them. Compilation reports every problem as a [`Diagnostic`] positioned in the YAML
//! file (not inside the expression): syntax errors, variables that do not exist (the engine runs
//! with strict variables, and the only names in scope are `event` and the agreement's lists),
//! and calls to functions that neither the sandbox nor the file's `functions` block defines
//! (Rhai would only find those at run time, on the first event that reaches them).

use std::collections::{HashMap, HashSet};

use rhai::{
    AST, ASTNode, Array, Dynamic, Engine, Expr, FnCallExpr, Module, ParseError, Position, Scope,
    Stmt,
};

use crate::agreement::{Agreement, Breach, Expression, ListItem};
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::engine::forms::{self, CompiledForm};
use crate::engine::program::{
    CompiledBreach, CompiledTerm, Engines, MAX_CHAIN, Piece, Plan, Program,
};
use crate::sandbox::{self, Limits};

/// Compiles agreements, returning the program when there were no errors, and every diagnostic.
///
/// Agreement ids must be distinct across all the files of one run.
pub fn compile(agreements: Vec<Agreement>, limits: &Limits) -> (Option<Program>, Vec<Diagnostic>) {
    let operand_limits = Limits {
        max_operations: limits.max_operations.saturating_sub(64) / MAX_CHAIN as u64,
        ..*limits
    };
    let engines: Vec<Engines> = agreements
        .iter()
        .map(|agreement| {
            let unlocated = std::rc::Rc::new(std::cell::Cell::new(0));
            let mut main = sandbox::engine(limits);
            let mut operand = sandbox::engine(&operand_limits);
            for engine in [&mut main, &mut operand] {
                crate::spatial::register(engine, agreement.geography.clone(), unlocated.clone());
            }
            Engines {
                main,
                operand,
                unlocated,
            }
        })
        .collect();
    let natives = match engines.first() {
        Some(first) => native_functions(&first.main),
        None => HashMap::new(),
    };
    let mut diagnostics = Vec::new();
    let mut terms = Vec::new();
    let mut ids: HashMap<&str, &str> = HashMap::new();
    for agreement in &agreements {
        if let Some(first) = ids.insert(&agreement.id, &agreement.source.name) {
            let (line, column) = agreement.at;
            diagnostics.push(
                Diagnostic::error(
                    Code::DuplicateId,
                    &agreement.source,
                    line,
                    column,
                    format!("agreement id `{}` is also used by {first}", agreement.id),
                )
                .with_help("each agreement given to one run needs its own id"),
            );
        }
    }
    let parser = sandbox::parser(limits);
    for ((index, agreement), engines) in agreements.iter().enumerate().zip(&engines) {
        let errors_before = count_errors(&diagnostics);
        let mut unit = Unit::new(
            &engines.main,
            &natives,
            scope_for(agreement),
            "event",
            &mut diagnostics,
        );
        unit.parties = agreement.parties.iter().map(|(c, _)| c.clone()).collect();
        unit.geography = agreement.geography.clone();
        unit.functions(agreement);
        for (term_index, term) in agreement.terms.iter().enumerate() {
            let when = unit.expression(&term.when, "when");
            let breached_by = match &term.breached_by {
                Breach::Party(code) => Some(CompiledBreach::Party(code.clone())),
                Breach::Expression(e) => unit
                    .expression(e, "breached_by")
                    .map(CompiledBreach::Expression),
            };
            let message = term.message.as_ref().and_then(|m| unit.template(m));
            let form = CompiledForm::compile(&term.form, &mut unit);
            if let (Some(when), Some(breached_by), Some(form)) = (when, breached_by, form) {
                terms.push(CompiledTerm {
                    agreement: index,
                    term: term_index,
                    period: term.effective,
                    plan: unit.plan(&term.when),
                    when,
                    breached_by,
                    message,
                    form,
                });
            }
        }
        // Warnings only for an agreement without errors: an expression that does not compile
        // would make a list it names look unused, and the errors come first.
        if agreement.valid && count_errors(&diagnostics) == errors_before {
            crate::lint::agreement(agreement, &parser, &mut diagnostics);
        }
    }
    let failed = agreements.iter().any(|a| !a.valid)
        || diagnostics
            .iter()
            .any(|d| d.level == crate::diagnostic::Level::Error);
    let program = (!failed).then_some(Program {
        engines,
        agreements,
        terms,
    });
    (program, diagnostics)
}

fn count_errors(diagnostics: &[Diagnostic]) -> usize {
    diagnostics
        .iter()
        .filter(|d| d.level == crate::diagnostic::Level::Error)
        .count()
}

/// The names every expression of an agreement can see: `event` and the agreement's lists.
pub(crate) fn scope_for(agreement: &Agreement) -> Scope<'static> {
    let mut scope = Scope::new();
    scope.push("event", ());
    for (name, items) in &agreement.lists {
        let array: Array = items.iter().map(list_value).collect();
        scope.push_constant(name.clone(), array);
    }
    scope
}

/// A list element as a Rhai value.
pub(crate) fn list_value(item: &ListItem) -> Dynamic {
    match item {
        ListItem::Text(t) => Dynamic::from(t.clone()),
        ListItem::Integer(i) => Dynamic::from_int(*i),
        ListItem::Float(f) => Dynamic::from_float(*f),
        ListItem::Bool(b) => Dynamic::from_bool(*b),
    }
}

/// Name and arity of every function the sandbox provides.
pub(crate) fn native_functions(engine: &Engine) -> HashMap<String, HashSet<usize>> {
    let mut known: HashMap<String, HashSet<usize>> = HashMap::new();
    for (name, arity) in engine.collect_fn_metadata(
        None,
        |info| Some((info.metadata.name.to_string(), info.metadata.num_params)),
        true,
    ) {
        known.entry(name).or_default().insert(arity);
    }
    // Keywords the language itself implements.
    for (name, arity) in [("type_of", 1), ("is_def_fn", 2), ("Fn", 1)] {
        known.entry(name.to_string()).or_default().insert(arity);
    }
    known
}

/// Compiles the expressions of one file, collecting diagnostics positioned in it.
pub(crate) struct Unit<'a> {
    engine: &'a Engine,
    natives: &'a HashMap<String, HashSet<usize>>,
    scope: Scope<'static>,
    diagnostics: &'a mut Vec<Diagnostic>,
    functions: AST,
    function_names: HashSet<(String, usize)>,
    /// The agreement's party codes, for help text.
    parties: Vec<String>,
    /// The agreement's geography, to check the shapes expressions name.
    geography: std::rc::Rc<crate::agreement::Geography>,
    /// What the expressions are about, the first name in their scope: `event` in agreements,
    /// `record` in mappings.
    subject: &'static str,
}

impl<'a> Unit<'a> {
    /// A unit whose expressions see `scope`, in which `subject` is what they are about; no
    /// functions, no parties.
    pub(crate) fn new(
        engine: &'a Engine,
        natives: &'a HashMap<String, HashSet<usize>>,
        scope: Scope<'static>,
        subject: &'static str,
        diagnostics: &'a mut Vec<Diagnostic>,
    ) -> Self {
        Unit {
            engine,
            natives,
            scope,
            diagnostics,
            functions: AST::empty(),
            function_names: HashSet::new(),
            parties: Vec::new(),
            geography: std::rc::Rc::default(),
            subject,
        }
    }

    fn functions(&mut self, agreement: &Agreement) {
        let Some(functions) = &agreement.functions else {
            return;
        };
        match self.engine.compile(&functions.text) {
            Ok(ast) => {
                if let Some(stmt) = ast.statements().first() {
                    let (line, column) = position(functions, stmt.position());
                    self.diagnostics.push(
                        Diagnostic::error(
                            Code::InvalidValue,
                            &functions.source,
                            line,
                            column,
                            "`functions` may hold only `fn` definitions".into(),
                        )
                        .with_help("move conditions into a term's `when`"),
                    );
                }
                self.function_names = ast
                    .iter_functions()
                    .map(|f| (f.name.to_string(), f.params.len()))
                    .collect();
                self.check_calls(&ast, functions, (1, 1));
                self.functions = ast;
            }
            Err(err) => {
                // Calls can still be checked against the functions the block declares.
                self.function_names = declared_functions(&functions.text);
                self.parse_error(functions, "functions", (1, 1), &err);
            }
        }
    }

    /// Runs `compile` with `trigger` in scope too: a deadline's `require` sees the event that
    /// opened the obligation as `trigger`, after the names every expression sees (the replay's
    /// scopes end with it as well).
    fn with_trigger<T>(&mut self, compile: impl FnOnce(&mut Self) -> T) -> T {
        self.scope.push("trigger", ());
        let result = compile(self);
        self.scope.rewind(self.scope.len() - 1);
        result
    }

    /// Decides how to evaluate a condition that compiled cleanly.
    fn plan(&self, when: &Expression) -> Plan {
        let Ok(ast) = self
            .engine
            .compile_expression_with_scope(&self.scope, &when.text)
        else {
            return Plan::Whole(None);
        };
        let chain = match ast.statements() {
            [Stmt::Expr(expr)] => match expr.as_ref() {
                Expr::And(operands, _) => Some((true, operands)),
                Expr::Or(operands, _) => Some((false, operands)),
                _ => None,
            },
            _ => None,
        };
        match chain.filter(|(_, operands)| operands.len() <= MAX_CHAIN) {
            Some((all, operands)) => Plan::Chain {
                all,
                operands: operands
                    .iter()
                    .map(|operand| {
                        let alone =
                            AST::new([Stmt::Expr(Box::new(operand.clone()))], Module::new());
                        let ast = self.functions.merge(&alone);
                        let reads = crate::engine::memo::read_set(&ast);
                        (ast, reads)
                    })
                    .collect(),
            },
            None => Plan::Whole(crate::engine::memo::read_set(&self.functions.merge(&ast))),
        }
    }

    /// Compiles one expression, merged with the agreement's functions.
    pub(crate) fn expression(&mut self, expression: &Expression, key: &str) -> Option<AST> {
        self.compile_at(expression, key, &expression.text, (1, 1))
    }

    /// Compiles `text`, which starts at value-relative position `at` of `expression`.
    fn compile_at(
        &mut self,
        expression: &Expression,
        key: &str,
        text: &str,
        at: (u64, u64),
    ) -> Option<AST> {
        match self.engine.compile_expression_with_scope(&self.scope, text) {
            Ok(ast) => {
                let clean = self.check_calls(&ast, expression, at);
                clean.then(|| self.functions.merge(&ast))
            }
            Err(err) => {
                self.parse_error(expression, key, at, &err);
                None
            }
        }
    }

    fn parse_error(
        &mut self,
        expression: &Expression,
        key: &str,
        at: (u64, u64),
        err: &ParseError,
    ) {
        let (line, column) = position_from(expression, at, err.position());
        let kind = &err.0;
        let (code, message, help) = match kind.as_ref() {
            rhai::ParseErrorType::VariableUndefined(name) => {
                let visible: Vec<&str> = self.scope.iter_raw().map(|(n, _, _)| n).collect();
                let subject = self.subject;
                let lists: Vec<&str> = visible.iter().copied().filter(|n| *n != subject).collect();
                let file = if subject == "record" {
                    "mapping"
                } else {
                    "agreement"
                };
                let sees = if lists.is_empty() {
                    format!("an expression sees `{subject}` (this {file} has no lists)")
                } else {
                    format!(
                        "an expression sees `{subject}` and the lists: {}",
                        lists.join(", ")
                    )
                };
                let help = if key == "functions" {
                    "functions see only their parameters: pass `event` or a list as an argument"
                        .to_string()
                } else if key == "breached_by" {
                    format!(
                        "`breached_by` takes a declared party code ({}) or an expression such as `event.party`",
                        self.parties.join(", ")
                    )
                } else {
                    match did_you_mean(name, visible.iter().copied()) {
                        Some(fix) => format!("did you mean `{fix}`?"),
                        // `[PKK, KDPI]`: names where text was meant.
                        None if name.chars().next().is_some_and(char::is_uppercase) => {
                            format!(
                                "to compare with the text `{name}`, quote it: \"{name}\"; {sees}"
                            )
                        }
                        None => sees,
                    }
                };
                (
                    Code::UnknownVariable,
                    format!("unknown variable `{name}` in `{key}`"),
                    Some(help),
                )
            }
            _ => {
                let text = kind.to_string();
                let help = match text.as_str() {
                    "Unexpected '='" => Some("compare with `==` (a single `=` assigns)"),
                    "Unexpected 'and'" | "Unexpected 'or'" | "Unexpected 'not'" => {
                        Some("write `&&` for and, `||` for or, `!` for not")
                    }
                    _ if text.starts_with("Invalid character") => Some(
                        "text is written in double quotes: \"IQ\" (single quotes hold one character)",
                    ),
                    _ => None,
                };
                (
                    Code::RhaiSyntax,
                    format!("Rhai syntax error in `{key}`: {kind}"),
                    help.map(str::to_string),
                )
            }
        };
        let mut d = Diagnostic::error(code, &expression.source, line, column, message);
        d.help = help;
        self.diagnostics.push(d);
    }

    /// Reports calls to functions that do not exist; returns whether there were none.
    fn check_calls(&mut self, ast: &AST, expression: &Expression, at: (u64, u64)) -> bool {
        let mut unknown: Vec<(String, usize, Position)> = Vec::new();
        ast.walk(&mut |path: &[ASTNode]| {
            let Some((call, method, pos)) = path.last().and_then(call_of) else {
                return true;
            };
            if call.op_token.is_none() {
                let name = call.name.to_string();
                // A native method takes its object as the first argument; a script function
                // called as a method sees it as `this` instead.
                let arity = call.args.len() + usize::from(method);
                let native = self.natives.get(&name).is_some_and(|a| a.contains(&arity));
                let scripted = self
                    .function_names
                    .contains(&(name.clone(), call.args.len()));
                if !native && !scripted {
                    unknown.push((name, arity, pos));
                }
            }
            true
        });
        let mut clean = unknown.is_empty();
        clean &= self.check_shapes(ast, expression, at);
        for (name, arity, pos) in unknown {
            let (line, column) = position_from(expression, at, pos);
            let mut candidates: Vec<&str> = self.natives.keys().map(String::as_str).collect();
            candidates.extend(self.function_names.iter().map(|(n, _)| n.as_str()));
            let same_name = self.natives.contains_key(&name)
                || self.function_names.iter().any(|(n, _)| *n == name);
            let help = if self.function_names.contains(&(name.clone(), arity)) {
                Some(format!(
                    "`{name}` takes the value as an argument: call it as `{name}(…)`; a function called as a method (`x.{name}()`) sees `x` as `this`"
                ))
            } else if same_name {
                Some(format!("`{name}` exists, but not with {arity} argument(s)"))
            } else {
                did_you_mean(&name, candidates).map(|fix| format!("did you mean `{fix}`?"))
            };
            let mut d = Diagnostic::error(
                Code::UnknownFunction,
                &expression.source,
                line,
                column,
                format!("unknown function `{name}` with {arity} argument(s)"),
            );
            d.help = help;
            self.diagnostics.push(d);
        }
        clean
    }

    /// Reports shape names, written as text, that the agreement's geography does not hold
    /// (`inside(event, "iq-tr-strp")`), or that name the wrong kind of shape for the function;
    /// returns whether there were none. A computed name is checked when it is evaluated.
    fn check_shapes(&mut self, ast: &AST, expression: &Expression, at: (u64, u64)) -> bool {
        let mut wrong: Vec<(String, Option<String>, Position)> = Vec::new();
        ast.walk(&mut |path: &[ASTNode]| {
            let Some((call, _, pos)) = path.last().and_then(call_of) else {
                return true;
            };
            if call.name == "nearest_place" && !self.geography.has_places() {
                wrong.push((
                    "`nearest_place` needs places, and this agreement's geography names none"
                        .into(),
                    Some("name them under `geography:` as `places:` or a `gazetteer:` file".into()),
                    pos,
                ));
                return true;
            }
            if !crate::spatial::NAMING.contains(&call.name.as_str()) || call.args.len() != 2 {
                return true;
            }
            let Some(Expr::StringConstant(name, pos)) = call.args.get(1) else {
                return true;
            };
            let names: Vec<&str> = self.geography.names().collect();
            match self.geography.get(name) {
                // Declared, but its own error is already reported where it is declared.
                None if self.geography.failed(name) => {}
                None => wrong.push((
                    if names.is_empty() {
                        format!("no shape named `{name}`: this agreement's geography names none")
                    } else {
                        format!("no shape named `{name}` in this agreement's geography")
                    },
                    crate::spatial::unknown_shape_help(name, &names),
                    *pos,
                )),
                Some(
                    shape @ (crate::agreement::Shape::Line(_) | crate::agreement::Shape::Place(_)),
                ) if call.name == "inside" => {
                    wrong.push((
                        format!(
                            "`inside` needs an area or a strip, and `{name}` is {}",
                            shape.kind()
                        ),
                        Some(format!(
                            "for a line or a place, use `distance_km(event, \"{name}\")`"
                        )),
                        *pos,
                    ));
                }
                Some(_) => {}
            }
            true
        });
        let clean = wrong.is_empty();
        for (message, help, pos) in wrong {
            let (line, column) = position_from(expression, at, pos);
            let mut d = Diagnostic::error(
                Code::UnknownShape,
                &expression.source,
                line,
                column,
                message,
            );
            d.help = help;
            self.diagnostics.push(d);
        }
        clean
    }

    /// Splits a message template into text and `{expression}` pieces and compiles each one.
    fn template(&mut self, message: &Expression) -> Option<Vec<Piece>> {
        let mut pieces = Vec::new();
        let mut ok = true;
        for part in template_parts(&message.text) {
            match part {
                TemplatePart::Text(text) => pieces.push(Piece::Text(text)),
                TemplatePart::Placeholder { text, start } => {
                    match self.compile_at(message, "message", &text, start) {
                        Some(ast) => pieces.push(Piece::Expression(ast, start)),
                        None => ok = false,
                    }
                }
                TemplatePart::Broken { at, message: what } => {
                    let (line, column) = message.locate(at.0, at.1);
                    let help = match what {
                        "unmatched `}` in message" => "use }} for a literal brace",
                        _ => "write {event.FIELD}; use {{ and }} for literal braces",
                    };
                    self.diagnostics.push(
                        Diagnostic::error(
                            Code::InvalidValue,
                            &message.source,
                            line,
                            column,
                            what.into(),
                        )
                        .with_help(help),
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(pieces)
    }
}

impl forms::Compiler for Unit<'_> {
    fn expression(&mut self, expression: &Expression, key: &str) -> Option<AST> {
        Unit::expression(self, expression, key)
    }

    fn with_trigger(&mut self, expression: &Expression, key: &str) -> Option<AST> {
        Unit::with_trigger(self, |unit| unit.expression(expression, key))
    }
}

/// A part of a message template, as written.
pub(crate) enum TemplatePart {
    /// Literal text (`{{` and `}}` already made single braces).
    Text(String),
    /// The text of a `{expression}` and where it starts inside the message (line, column).
    Placeholder { text: String, start: (u64, u64) },
    /// A brace that opens or closes nothing, or an empty placeholder, at a position inside
    /// the message.
    Broken {
        at: (u64, u64),
        message: &'static str,
    },
}

/// Splits a message template into its parts; the compiler, the warnings and `explain` read
/// placeholders the same way.
pub(crate) fn template_parts(message: &str) -> Vec<TemplatePart> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let (mut line, mut column) = (1u64, 1u64);
    let mut chars = message.chars().peekable();
    while let Some(c) = chars.next() {
        let here = (line, column);
        advance(&mut line, &mut column, c);
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                advance(&mut line, &mut column, '{');
                text.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                advance(&mut line, &mut column, '}');
                text.push('}');
            }
            '{' => {
                let start = (line, column);
                let mut depth = 1;
                let mut source = String::new();
                for c in chars.by_ref() {
                    advance(&mut line, &mut column, c);
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        _ => {}
                    }
                    if depth == 0 {
                        break;
                    }
                    source.push(c);
                }
                if depth != 0 || source.trim().is_empty() {
                    parts.push(TemplatePart::Broken {
                        at: here,
                        message: if depth != 0 {
                            "unclosed `{` in message"
                        } else {
                            "empty `{}` in message"
                        },
                    });
                    continue;
                }
                if !text.is_empty() {
                    parts.push(TemplatePart::Text(std::mem::take(&mut text)));
                }
                parts.push(TemplatePart::Placeholder {
                    text: source,
                    start,
                });
            }
            '}' => parts.push(TemplatePart::Broken {
                at: here,
                message: "unmatched `}` in message",
            }),
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        parts.push(TemplatePart::Text(text));
    }
    parts
}

/// `(name, arity)` of every `fn name(a, b)` in a functions block that does not compile, so that
/// calls to them are not reported as unknown as well.
fn declared_functions(text: &str) -> HashSet<(String, usize)> {
    let mut found = HashSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("fn ") {
        rest = rest.get(at + 3..).unwrap_or("");
        let name: String = rest
            .trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let params = rest
            .split_once('(')
            .and_then(|(_, after)| after.split_once(')'))
            .map(|(inside, _)| inside.split(',').filter(|p| !p.trim().is_empty()).count());
        if let (false, Some(params)) = (name.is_empty(), params) {
            found.insert((name, params));
        }
    }
    found
}

/// The function called at an AST node, whether it is called as a method (`x.f()`), and its
/// position. A call is an expression node, or a statement node when it stands
/// alone (the root of an expression, a bare call in a function body): both must be seen.
pub(crate) fn call_of<'a>(node: &ASTNode<'a>) -> Option<(&'a FnCallExpr, bool, Position)> {
    match node {
        ASTNode::Expr(Expr::FnCall(call, pos)) | ASTNode::Stmt(Stmt::FnCall(call, pos)) => {
            Some((call, false, *pos))
        }
        ASTNode::Expr(Expr::MethodCall(call, pos)) => Some((call, true, *pos)),
        _ => None,
    }
}

fn advance(line: &mut u64, column: &mut u64, c: char) {
    if c == '\n' {
        *line += 1;
        *column = 1;
    } else {
        *column += 1;
    }
}

fn position(expression: &Expression, pos: Position) -> (u64, u64) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn functions_of_a_broken_block_are_still_known() {
        let found = declared_functions("fn a(x, y) { x +\n}\nfn b() { }\nfn  c(e) { e.kind ==  }");
        let want: HashSet<(String, usize)> = [("a", 2), ("b", 0), ("c", 1)]
            .into_iter()
            .map(|(n, a)| (n.to_string(), a))
            .collect();
        assert_eq!(found, want);
    }

    #[test]
    fn a_message_splits_into_text_and_placeholders() {
        let text = "agreement: m\ntitle: M\nparties: {IQ: Iraq}\nterms:\n  - {id: a, title: A, breached_by: IQ, when: 'true', message: 'x {event.kind} {{y}} {event.place}!'}\n";
        let (agreement, problems) = crate::agreement::load("m.yaml", text);
        assert!(problems.is_empty());
        let (program, problems) = compile(vec![agreement.unwrap()], &Limits::default());
        assert!(problems.is_empty(), "{problems:?}");
        let program = program.unwrap();
        let pieces = program.terms[0].message.as_ref().unwrap();
        let shape: Vec<String> = pieces
            .iter()
            .map(|p| match p {
                Piece::Text(t) => format!("text {t:?}"),
                Piece::Expression(_, at) => format!("expression at {at:?}"),
            })
            .collect();
        assert_eq!(
            shape,
            [
                "text \"x \"",
                "expression at (1, 4)",
                "text \" {y} \"",
                "expression at (1, 23)",
                "text \"!\""
            ]
        );
    }
}
