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
    AST, ASTNode, Engine, Expr, ImmutableString, Module, ParseError, Position, Scope, Stmt, Token,
};

use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::engine::forms::obligations::Settling;
use crate::engine::forms::{self, CompiledForm};
use crate::engine::native::{self, Condition, Dispatch, Fields};
use crate::engine::program::{
    CompiledBreach, CompiledTerm, Engines, MAX_CHAIN, Piece, Plan, Program,
};
use crate::expr::position::{position, position_from};
use crate::expr::reads::call_of;
use crate::expr::sandbox::{self, Limits};
use crate::expr::scope_for;
use crate::expr::template::{MAX_MESSAGE_BYTES, MAX_PLACEHOLDERS, TemplatePart, template_parts};
use crate::load::Expression;
use crate::load::agreement::{self, Agreement, Breach, DeadlineWindow, Form, Term};

/// The most `switch` cases (`=>`) one expression, or the `functions` block, may have. Rhai's
/// optimiser compares every case of a switch with every other as it compiles it, so that
/// checking a switch took time quadratic in its cases (20,000: 5.8 s; 100,000: 129 s); past
/// this limit `check` reports an error instead of compiling it (docs/rules.md, "Limits").
pub const MAX_SWITCH_CASES: usize = 1_000;

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
            let mut main = sandbox::engine(limits);
            let mut operand = sandbox::engine(&operand_limits);
            for engine in [&mut main, &mut operand] {
                crate::expr::spatial::register(engine, agreement.geography.clone());
            }
            Engines { main, operand }
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
    let mut reads = Some(crate::event::FieldSet::default());
    let mut fields = Fields::default();
    for ((index, agreement), engines) in agreements.iter().enumerate().zip(&engines) {
        let errors_before = count_errors(&diagnostics);
        let mut unit = Unit::new(
            &engines.main,
            &natives,
            scope_for(agreement, false),
            "event",
            &mut diagnostics,
        );
        unit.blocks = true;
        unit.parties = agreement.chargeable().map(|(c, _)| c.clone()).collect();
        unit.geography = agreement.geography.clone();
        unit.functions(agreement.functions.as_ref());
        // `unindexed-deadline` warnings, given with the others for an agreement without errors.
        let mut unindexed = Vec::new();
        for (term_index, term) in agreement.terms.iter().enumerate() {
            let when = unit.expression(&term.when, "when");
            // A keyed form's violations have a key: `breached_by` and the message read it as
            // `key` (an absence's gap at the start of the log has no event to read it from).
            let keyed = term.form.by().is_some();
            let (breached_by, message) = unit.with_key(keyed, |unit| {
                let breached_by = match &term.breached_by {
                    Breach::Parties(codes) => Some(CompiledBreach::Parties(codes.clone())),
                    Breach::Expression(e) => unit
                        .expression(e, "breached_by")
                        .map(CompiledBreach::Expression),
                };
                (
                    breached_by,
                    term.message.as_ref().and_then(|m| unit.template(m)),
                )
            });
            let reads_key = keyed
                && (matches!(&breached_by, Some(CompiledBreach::Expression(ast)) if names_key(ast))
                    || message.as_ref().is_some_and(|pieces| {
                        pieces
                            .iter()
                            .any(|p| matches!(p, Piece::Expression(ast, _) if names_key(ast)))
                    }));
            let form = CompiledForm::compile(&term.form, &mut unit);
            if let (Some(when), Some(breached_by), Some(mut form)) = (when, breached_by, form) {
                let (native, dispatch) = unit.native(&term.when, agreement, &mut fields, limits);
                if let (CompiledForm::Deadline(compiled), Form::Deadline(written)) =
                    (&mut form, &term.form)
                {
                    match unit.settling(term, written, agreement, &mut fields, limits) {
                        Ok(settling) => compiled.settle_by(settling),
                        Err(warning) => unindexed.push(warning),
                    }
                }
                terms.push(CompiledTerm {
                    reads_key,
                    agreement: index,
                    term: term_index,
                    period: term.effective,
                    plan: unit.plan(&term.when),
                    dispatch,
                    native,
                    when,
                    breached_by,
                    message,
                    form,
                });
            }
        }
        match (&mut reads, unit.reads.take()) {
            (Some(reads), Some(fields)) => reads.extend(fields),
            (reads, _) => *reads = None,
        }
        let memo_off = std::mem::take(&mut unit.memo_off);
        // The vocabulary's errors, whatever else failed: all problems in one run.
        let written = crate::check::lint::written(agreement, &parser);
        crate::check::vocabulary::agreement(agreement, &written, &mut diagnostics);
        drop(written);
        // Warnings only for an agreement without errors: an expression that does not compile
        // would make a list it names look unused, and the errors come first.
        if agreement.valid && count_errors(&diagnostics) == errors_before {
            crate::check::lint::agreement(agreement, &parser, &mut diagnostics);
            diagnostics.extend(unindexed);
            diagnostics.extend(memo_off);
        }
    }
    let vocabulary = merged_vocabulary(&agreements, &mut diagnostics);
    if let Some(reads) = &mut reads {
        // Declared fields are read to be held to their declarations.
        reads.extend(
            vocabulary
                .fields
                .keys()
                .map(|f| ImmutableString::from(f.as_str())),
        );
    }
    let failed = agreements.iter().any(|a| !a.valid)
        || diagnostics
            .iter()
            .any(|d| d.level == crate::diagnostic::Level::Error);
    let program = (!failed).then_some(Program {
        engines,
        agreements,
        terms,
        reads: reads.map(|mut fields| {
            // What reports take from every event besides its time, kind and id.
            fields.extend(crate::engine::sink::FIELDS_REPORTED.map(ImmutableString::from));
            std::rc::Rc::new(fields)
        }),
        fields,
        max_text: limits.max_string_size,
        term_budget: (limits.max_term_units, limits.max_term_units_per_event),
        vocabulary: std::rc::Rc::new(vocabulary),
    });
    (program, diagnostics)
}

/// The vocabularies of a run's agreements as one: a field two agreements declare differently
/// is an error at the later one's `vocabulary:` (one event log cannot be both).
fn merged_vocabulary(
    agreements: &[Agreement],
    diagnostics: &mut Vec<Diagnostic>,
) -> crate::load::vocabulary::Vocabulary {
    let mut merged = crate::load::vocabulary::Vocabulary::default();
    for agreement in agreements {
        for conflict in merged.merge(&agreement.vocabulary) {
            let here = conflict.second.at.file == agreement.source.name;
            diagnostics.push(conflict.diagnostic(
                here.then_some(&*agreement.source),
                "by another agreement of this run",
                "the agreements of one run judge the same events: give them one vocabulary",
            ));
        }
    }
    merged
}

/// Whether `ast` reads the variable `key`.
fn names_key(ast: &AST) -> bool {
    let mut found = false;
    ast.walk(&mut |path: &[rhai::ASTNode]| {
        if let Some(rhai::ASTNode::Expr(rhai::Expr::Variable(v, ..))) = path.last()
            && v.1 == "key"
        {
            found = true;
        }
        !found
    });
    found
}

fn count_errors(diagnostics: &[Diagnostic]) -> usize {
    diagnostics
        .iter()
        .filter(|d| d.level == crate::diagnostic::Level::Error)
        .count()
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
    /// Whether an expression may be a statement block (`crate::expr::block`): in agreements.
    pub(crate) blocks: bool,
    /// `memo-off` warnings: where an expression the replay would remember by the fields it
    /// reads could read any field (given with the other warnings, for a file without errors).
    memo_off: Vec<Diagnostic>,
    functions: AST,
    function_names: HashSet<(String, usize)>,
    /// The agreement's party codes, for help text.
    parties: Vec<String>,
    /// The agreement's geography, to check the shapes expressions name.
    geography: std::rc::Rc<crate::load::agreement::Geography>,
    /// What the expressions are about, the first name in their scope: `event` in agreements,
    /// `record` in mappings.
    subject: &'static str,
    /// The fields every expression compiled so far can read; `None` once one could read any.
    reads: Option<crate::event::FieldSet>,
    /// The names a mapping's `let` gives that the expressions compiled now see, and those it
    /// gives later (seen only by what comes after them), for help text.
    lets: (Vec<String>, Vec<String>),
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
            blocks: false,
            memo_off: Vec::new(),
            functions: AST::empty(),
            function_names: HashSet::new(),
            parties: Vec::new(),
            geography: std::rc::Rc::default(),
            subject,
            reads: Some(crate::event::FieldSet::default()),
            lets: (Vec::new(), Vec::new()),
        }
    }

    /// Declares the names of a mapping's `let`, in order: none is in scope yet.
    pub(crate) fn lets(&mut self, names: Vec<String>) {
        self.lets = (Vec::new(), names);
    }

    /// Puts the next `let` name in scope, for the expressions compiled from now on.
    pub(crate) fn enter_let(&mut self) {
        if self.lets.1.is_empty() {
            return;
        }
        let name = self.lets.1.remove(0);
        // Not a constant: the optimiser would fold its placeholder value into the expressions.
        self.scope.push(name.clone(), ());
        self.lets.0.push(name);
    }

    /// Compiles the file's `functions` block: every later expression is merged with it.
    pub(crate) fn functions(&mut self, functions: Option<&Expression>) {
        let Some(functions) = functions else {
            return;
        };
        if !self.few_switch_cases(functions, &functions.text, (1, 1)) {
            self.function_names = declared_functions(&functions.text);
            return;
        }
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
                        .with_help(if self.subject == "record" {
                            "compute a value for each record under `let`"
                        } else {
                            "move conditions into a term's `when`"
                        }),
                    );
                }
                self.function_names = ast
                    .iter_functions()
                    .map(|f| (f.name.to_string(), f.params.len()))
                    .collect();
                self.no_built_in_names(functions);
                self.check_calls(&ast, functions, (1, 1));
                if let Err(unbounded) = crate::expr::reads::reads(&ast) {
                    // Merged into every expression, which is then remembered by nothing.
                    self.memo_off(functions, "functions", (1, 1), unbounded);
                }
                self.functions = ast;
            }
            Err(err) => {
                // Calls can still be checked against the functions the block declares.
                self.function_names = declared_functions(&functions.text);
                self.parse_error(functions, "functions", (1, 1), &err);
            }
        }
    }

    /// Whether `text` (at `at` in `expression`) has at most [`MAX_SWITCH_CASES`] `switch` cases
    /// (`=>`, counted by Rhai's tokenizer, before the text is compiled); if not, an error at
    /// the first case past the limit.
    fn few_switch_cases(&mut self, expression: &Expression, text: &str, at: (u64, u64)) -> bool {
        if !text.contains("=>") {
            return true;
        }
        let (tokens, _) = self.engine.lex([&text]);
        let past = tokens
            .take_while(|(token, _)| !matches!(token, Token::EOF))
            .filter(|(token, _)| matches!(token, Token::DoubleArrow))
            .nth(MAX_SWITCH_CASES);
        let Some((_, pos)) = past else {
            return true;
        };
        let (line, column) = position_from(expression, at, pos);
        self.diagnostics.push(
            Diagnostic::error(
                Code::InvalidValue,
                &expression.source,
                line,
                column,
                format!("more than {MAX_SWITCH_CASES} `switch` cases in one expression"),
            )
            .with_help("match a list instead: `event.kind in kinds`, with `kinds` under `lists:`"),
        );
        false
    }

    /// Reports every function of the block that takes the name of a built-in one (whatever
    /// its arity), at its name: Rhai would let it replace the built-in for every call of that
    /// arity, so that `inside` or `contains` silently mean something else in every term (and
    /// `explain` shows the replacement's result). The names are found by Rhai's own tokenizer,
    /// so that a `fn` in a comment or a string is no definition.
    fn no_built_in_names(&mut self, functions: &Expression) {
        let (tokens, _) = self.engine.lex([&functions.text]);
        let mut after_fn = false;
        // The tokenizer gives `EOF` for ever once the text ends.
        for (token, at) in tokens.take_while(|(token, _)| !matches!(token, Token::EOF)) {
            if let (true, Token::Identifier(name)) = (after_fn, &token)
                && self.natives.contains_key(name.as_str())
            {
                let (line, column) = position(functions, at);
                let what = if crate::expr::clean::HELPERS.contains(&name.as_str()) {
                    "a cleaning helper of mappings (docs/inputs.md)"
                } else {
                    "a built-in function"
                };
                self.diagnostics.push(
                    Diagnostic::error(
                        Code::InvalidName,
                        &functions.source,
                        line,
                        column,
                        format!("`{name}` is {what}; choose another name"),
                    )
                    .with_help(
                        "a function may not replace a built-in one: rename it and its calls",
                    ),
                );
            }
            after_fn = matches!(token, Token::Fn);
        }
    }

    /// Runs `compile` with `key` in scope too, for a keyed term's `breached_by` and message.
    fn with_key<T>(&mut self, keyed: bool, compile: impl FnOnce(&mut Self) -> T) -> T {
        if !keyed {
            return compile(self);
        }
        self.scope.push("key", ());
        let result = compile(self);
        self.scope.rewind(self.scope.len() - 1);
        result
    }

    /// Runs `compile` with `trigger` in scope too: a deadline's `require` sees the event that
    /// opened the obligation as `trigger` (the replay's scopes hold it, before `event`; names
    /// are looked up, not placed, so the order need not match).
    fn with_trigger<T>(&mut self, compile: impl FnOnce(&mut Self) -> T) -> T {
        self.scope.push("trigger", ());
        let result = compile(self);
        self.scope.rewind(self.scope.len() - 1);
        result
    }

    /// The tests of a condition judged without the interpreter, and what it can be
    /// dispatched on (see `crate::engine::native`).
    fn native(
        &self,
        when: &Expression,
        agreement: &Agreement,
        fields: &mut Fields,
        limits: &Limits,
    ) -> (Option<Condition>, Option<Dispatch>) {
        let Ok(ast) = self.compile_text(&self.scope, &when.text) else {
            return (None, None);
        };
        let mut cx = self.native_context(agreement, fields, limits);
        native::analyse(&ast, &mut cx)
    }

    /// What the native analyses of an agreement's expressions need to know.
    fn native_context<'c>(
        &self,
        agreement: &'c Agreement,
        fields: &'c mut Fields,
        limits: &Limits,
    ) -> native::Context<'c> {
        native::Context {
            lists: &agreement.lists,
            contains_defined: self.function_names.contains(&("contains".to_string(), 2)),
            fields,
            max_operations: limits.max_operations,
            max_array: limits.max_array_size,
        }
    }

    /// What a deadline's `require` compares, for the replay to file obligations by; or the
    /// `unindexed-deadline` warning saying why it cannot.
    fn settling(
        &self,
        term: &Term,
        deadline: &agreement::Deadline,
        agreement: &Agreement,
        fields: &mut Fields,
        limits: &Limits,
    ) -> Result<Settling, Diagnostic> {
        let require = &deadline.require;
        let mut scope = self.scope.clone();
        scope.push("trigger", ());
        let ast = self
            .compile_text(&scope, &require.text)
            .map_err(|problem| {
                let at = match problem {
                    crate::expr::block::Problem::Syntax(err) => err.position(),
                    crate::expr::block::Problem::Refused(refused) => {
                        refused.first().map_or(Position::NONE, |r| r.at)
                    }
                };
                let (line, column) = position_from(require, (1, 1), at);
                Diagnostic::warning(
                    Code::UnindexedDeadline,
                    &require.source,
                    line,
                    column,
                    format!("term `{}`: `require` could not be analysed", term.id),
                )
            })?;
        let mut cx = self.native_context(agreement, fields, limits);
        crate::check::obligations::analyse(&ast, &mut cx, limits.max_string_size).map_err(
            |unindexed| {
                let (line, column) = position_from(require, (1, 1), unindexed.at);
                let cost = match deadline.window {
                    DeadlineWindow::Within(_) => "every event is tried against every open obligation",
                    DeadlineWindow::Before(_) => {
                        "every trigger is tried against every event of its window"
                    }
                };
                Diagnostic::warning(
                    Code::UnindexedDeadline,
                    &require.source,
                    line,
                    column,
                    format!(
                        "term `{}`: `require` cannot be indexed, so {cost}: {}",
                        term.id, unindexed.why
                    ),
                )
                .with_help("begin `require` with tests of `event` alone, then `event.FIELD == trigger.FIELD`, e.g. `event.kind == \"notice\" && event.ref == trigger.id && …`: an event is then tried only against the obligations whose trigger holds its value")
            },
        )
    }

    /// Decides how to evaluate a condition that compiled cleanly.
    fn plan(&self, when: &Expression) -> Plan {
        let Ok(ast) = self.compile_text(&self.scope, &when.text) else {
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
                        let reads = crate::expr::reads::read_set(&ast);
                        (ast, reads)
                    })
                    .collect(),
            },
            None => Plan::Whole(crate::expr::reads::read_set(&self.functions.merge(&ast))),
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
        if !self.few_switch_cases(expression, text, at) {
            return None;
        }
        match self.compile_text(&self.scope, text) {
            Ok(ast) => {
                let clean = self.check_calls(&ast, expression, at);
                clean.then(|| {
                    // A deadline's `require` is never remembered (it reads `trigger` too); a
                    // mapping's expressions neither.
                    if self.subject == "event"
                        && key != "require"
                        && let Err(unbounded) = crate::expr::reads::reads(&ast)
                    {
                        self.memo_off(expression, key, at, unbounded);
                    }
                    let merged = self.functions.merge(&ast);
                    match (&mut self.reads, crate::expr::reads::read_set(&merged)) {
                        (Some(reads), Some(fields)) => reads.extend(fields),
                        (reads, _) => *reads = None,
                    }
                    merged
                })
            }
            Err(crate::expr::block::Problem::Syntax(err)) => {
                self.parse_error(expression, key, at, &err);
                None
            }
            Err(crate::expr::block::Problem::Refused(refused)) => {
                for refusal in refused {
                    let (line, column) = position_from(expression, at, refusal.at);
                    self.diagnostics.push(
                        Diagnostic::error(
                            Code::InvalidBlock,
                            &expression.source,
                            line,
                            column,
                            format!("invalid block in `{key}`: {}", refusal.message),
                        )
                        .with_help(refusal.help),
                    );
                }
                None
            }
        }
    }

    /// `text` compiled with `scope`: an expression, or a block where this unit allows them.
    fn compile_text(&self, scope: &Scope, text: &str) -> Result<AST, crate::expr::block::Problem> {
        crate::expr::block::compile(self.engine, scope, text, self.blocks)
    }

    /// A `memo-off` warning: `expression` (under `key`; its text starts at `at`) could read
    /// any field, at `unbounded`, so the replay evaluates it afresh on every event.
    fn memo_off(
        &mut self,
        expression: &Expression,
        key: &str,
        at: (u64, u64),
        unbounded: crate::expr::reads::Unbounded,
    ) {
        let (line, column) = position_from(expression, at, unbounded.at);
        let (message, help) = if key == "functions" {
            (
                format!(
                    "the memo is off for every expression of this agreement: in `functions`, {}",
                    unbounded.why
                ),
                "each is evaluated afresh on every event it reaches (slower, never wrong): name each field in the text (`e.FIELD`, `e[\"FIELD\"]`) to have them remembered by the fields' values",
            )
        } else {
            (
                format!("the memo is off for this `{key}`: {}", unbounded.why),
                "it is evaluated afresh on every event it reaches (slower, never wrong): name each field in the text (`event.FIELD`, `event[\"FIELD\"]`) to have it remembered by the fields' values",
            )
        };
        let warning = Diagnostic::warning(Code::MemoOff, &expression.source, line, column, message)
            .with_help(help);
        if !self.memo_off.contains(&warning) {
            self.memo_off.push(warning);
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
                let (lets, later) = &self.lets;
                let lists: Vec<&str> = visible
                    .iter()
                    .copied()
                    .filter(|n| *n != subject && *n != "key" && *n != "trigger")
                    .filter(|n| !lets.iter().any(|l| l == n))
                    .collect();
                let file = if subject == "record" {
                    "mapping"
                } else {
                    "agreement"
                };
                let mut sees = if lists.is_empty() {
                    format!("an expression sees `{subject}` (this {file} has no lists)")
                } else {
                    format!(
                        "an expression sees `{subject}` and the lists: {}",
                        lists.join(", ")
                    )
                };
                if !lets.is_empty() {
                    sees.push_str(&format!(
                        ", and the `let` names it can see: {}",
                        lets.join(", ")
                    ));
                }
                let help = if later.iter().any(|l| l == name) {
                    format!(
                        "`{name}` is given by a later `let`: a `let` sees only those written above it"
                    )
                } else if name == "key" && key != "functions" {
                    "`key` is the key of a term that groups its events `by` (a threshold, an absence, a sequence with `by`): only its `breached_by` and message can read it"
                        .to_string()
                } else if key == "functions" {
                    format!(
                        "functions see only their parameters: pass `{subject}` or a list as an argument"
                    )
                } else if key == "breached_by" {
                    // `il` for `IL`: party codes are case-sensitive (issue 14).
                    match self.parties.iter().find(|p| p.eq_ignore_ascii_case(name)) {
                        Some(code) => format!(
                            "did you mean `{code}`? Party codes are written as declared under `parties`"
                        ),
                        None => format!(
                            "`breached_by` takes a declared party code ({}), a list of them, or an expression such as `event.party`",
                            self.parties.join(", ")
                        ),
                    }
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
            // `when: !(event.kind == "y")`: YAML took `!(event.kind` for a tag, and the
            // condition Rhai sees begins after it (issue 14).
            _ if tagged(expression) => (
                Code::RhaiSyntax,
                format!(
                    "Rhai syntax error in `{key}`: {kind}; YAML read the `!…` before `{}` as a tag, not as Rhai's `not`",
                    expression.text.trim()
                ),
                Some(format!("quote the whole condition: {key}: '!(…)'")),
            ),
            _ => {
                let text = kind.to_string();
                let help = match text.as_str() {
                    "Unexpected '='" => Some("compare with `==` (a single `=` assigns)"),
                    "Unexpected 'and'" | "Unexpected 'or'" | "Unexpected 'not'" => {
                        Some("write `&&` for and, `||` for or, `!` for not")
                    }
                    "Expecting ';' to terminate this statement" if self.blocks => Some(
                        "end the statement before it with `;` (a block's statements are separated by `;`), or close a `{` before it with `}`",
                    ),
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
            if !crate::expr::spatial::NAMING.contains(&call.name.as_str()) || call.args.len() != 2 {
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
                    crate::expr::spatial::unknown_shape_help(name, &names),
                    *pos,
                )),
                Some(
                    shape @ (crate::load::agreement::Shape::Line(_)
                    | crate::load::agreement::Shape::Place(_)),
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
        if message.text.len() > MAX_MESSAGE_BYTES {
            let why = format!(
                "a message may be at most {MAX_MESSAGE_BYTES} bytes; this one is {}",
                message.text.len()
            );
            let help = "say the rest in the term's `description`; a message is one report line";
            self.template_error(message, (1, 1), why, help);
            return None;
        }
        let mut pieces = Vec::new();
        let mut ok = true;
        let mut placeholders = 0;
        for part in template_parts(&message.text) {
            match part {
                TemplatePart::Text(text) => pieces.push(Piece::Text(text)),
                TemplatePart::Placeholder { start, .. } if placeholders == MAX_PLACEHOLDERS => {
                    let why = format!("a message may hold at most {MAX_PLACEHOLDERS} placeholders");
                    let help = "each `{…}` is evaluated for every violation; compute a longer text in one function of `functions`";
                    self.template_error(message, start, why, help);
                    return None;
                }
                TemplatePart::Placeholder { text, start } => {
                    placeholders += 1;
                    match self.compile_at(message, "message", &text, start) {
                        Some(ast) => pieces.push(Piece::Expression(ast, start)),
                        None => ok = false,
                    }
                }
                TemplatePart::Broken { at, message: what } => {
                    let help = match what {
                        "unmatched `}` in message" => "use }} for a literal brace",
                        _ => "write {event.FIELD}; use {{ and }} for literal braces",
                    };
                    self.template_error(message, at, what.into(), help);
                    ok = false;
                }
            }
        }
        ok.then_some(pieces)
    }

    /// An `invalid-value` error at `at` (line, column inside the message as written).
    fn template_error(&mut self, message: &Expression, at: (u64, u64), why: String, help: &str) {
        let (line, column) = message.locate(at.0, at.1);
        self.diagnostics.push(
            Diagnostic::error(Code::InvalidValue, &message.source, line, column, why)
                .with_help(help),
        );
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

/// Whether YAML read a tag just before `expression`'s value: an unquoted value whose line
/// has `!` between the key's colon and the value (`when: !(event.kind == "y")` gives Rhai
/// `== "y")`).
fn tagged(expression: &Expression) -> bool {
    if expression.quoted {
        return false;
    }
    let Some(line) = expression.source.line(expression.line) else {
        return false;
    };
    let start = usize::try_from(expression.column.saturating_sub(1)).unwrap_or(usize::MAX);
    let before: String = line.chars().take(start).collect();
    before
        .rsplit_once(':')
        .is_some_and(|(_, between)| between.trim_start().starts_with('!'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::native::Need;

    /// The field and texts a term can select are found when its `when` tests a field of the
    /// event against texts in an `&&` operand that only tests (native tests) follow, and only
    /// then: anything else is evaluated on every event. The operand with the fewest texts is
    /// chosen; those before it are its guard.
    #[test]
    fn terms_that_test_a_field_against_texts_are_dispatched() {
        let whens = [
            r#"event.kind == "a""#,
            r#""a" == event.kind && event.killed > 1"#,
            r#"event.kind in kinds && event.actor == "PKK""#,
            r#"event.actor in ["b", "c"]"#,
            r#"event.killed > 1 && event.kind == "a""#,
            r#"event.kind != "a""#,
            r#"event["kind"] == "a""#,
            r#"event.kind == "a" || event.kind == "b""#,
            r#"event.targets == 3"#,
            r#"event.actor in mixed && event.kind == "a""#,
            r#"event.place in kinds && event.party == "TR" && ok(event)"#,
            r#"ok(event) && event.kind == "a""#,
        ];
        let terms: String = whens
            .iter()
            .enumerate()
            .map(|(i, w)| format!("  - {{id: t{i}, title: T, breached_by: IQ, when: '{w}'}}\n"))
            .collect();
        let text = format!(
            "agreement: k\ntitle: K\nparties: {{IQ: Iraq}}\nlists:\n  kinds: [a, d]\n  mixed: [a, 1]\nfunctions: 'fn ok(e) {{ true }}'\nterms:\n{terms}"
        );
        let (agreement, problems) = crate::load::agreement::load("k.yaml", &text);
        assert!(problems.is_empty(), "{problems:?}");
        let (program, problems) = compile(vec![agreement.unwrap()], &Limits::default());
        let program = program.unwrap_or_else(|| panic!("{problems:?}"));
        type Found<'a> = Option<(&'a str, Vec<&'a str>, Vec<(&'a str, Need)>)>;
        let name = |field| program.fields.name(field);
        let found: Vec<Found> = program
            .terms
            .iter()
            .map(|t| {
                t.dispatch.as_ref().map(|d| {
                    (
                        name(d.field),
                        d.texts
                            .iter()
                            .map(|s| program.fields.text(d.field, *s))
                            .collect(),
                        d.guard.iter().map(|(f, n)| (name(*f), *n)).collect(),
                    )
                })
            })
            .collect();
        assert_eq!(
            found,
            [
                Some(("kind", vec!["a"], vec![])),
                Some(("kind", vec!["a"], vec![])),
                Some(("actor", vec!["PKK"], vec![("kind", Need::KNOWN)])),
                Some(("actor", vec!["b", "c"], vec![])),
                Some(("kind", vec!["a"], vec![("killed", Need::ORDERED)])),
                None,
                Some(("kind", vec!["a"], vec![])),
                None,
                None,
                None,
                Some(("party", vec!["TR"], vec![("place", Need::KNOWN)])),
                None,
            ]
        );
    }

    /// A switch of more than [`MAX_SWITCH_CASES`] cases is an error at the first case past the
    /// limit, found before the text is compiled (whose cost grows with the square of the cases).
    #[test]
    fn switches_are_limited_in_cases() {
        let when = |cases: usize| {
            let arms: String = (0..cases).map(|i| format!(" \"k{i}\" => true,")).collect();
            format!("switch event.kind {{{arms} _ => false }}")
        };
        let check = |cases: usize| {
            let text = format!(
                "agreement: k\ntitle: K\nparties: {{IQ: Iraq}}\nterms:\n  - {{id: t, title: T, breached_by: IQ, when: '{}'}}\n",
                when(cases)
            );
            let (agreement, problems) = crate::load::agreement::load("k.yaml", &text);
            assert!(problems.is_empty(), "{problems:?}");
            compile(vec![agreement.unwrap()], &Limits::default()).1
        };
        assert!(check(MAX_SWITCH_CASES - 1).is_empty());
        let problems = check(MAX_SWITCH_CASES);
        let [problem] = problems.as_slice() else {
            panic!("{problems:?}")
        };
        assert_eq!(
            problem.message,
            "more than 1000 `switch` cases in one expression"
        );
        // The value's first character is in column 47; the error is at the default's `=>`.
        let arrow = when(MAX_SWITCH_CASES).rfind("=>").unwrap() as u64;
        assert_eq!((problem.line, problem.column), (5, 47 + arrow));
    }

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
        let (agreement, problems) = crate::load::agreement::load("m.yaml", text);
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
