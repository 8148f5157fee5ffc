//! Statement blocks: an expression-valued key written as a small program (issue 14).
//!
//! `when`, `require`, a sequence's steps, a form's `by`, `breached_by` and message placeholders
//! are Rhai expressions; each may also be a block of statements — `let` and `const` bindings,
//! `if`/`else`, `switch`, loops, nested `{ … }` — whose value is that of its last statement:
//!
//! ```text
//! let cap = if event.zone == "A" { 75 } else { 450 };
//! event.kind == "inspection" && event.tanks > cap
//! ```
//!
//! A text is compiled as an expression first, exactly as before blocks existed, so that every
//! expression keeps its AST (the native tests, the `&&` plan and `explain` read its shape) and
//! its errors. Only a text Rhai cannot read as an expression is read as a block; when neither
//! reading works, the error reported is that of the reading that got further, so `let` on its
//! own is no longer "Unexpected 'let'" but the block's own error where it is.
//!
//! A block runs in the same sandbox as an expression (the same engine, limits and budget; a
//! loop stops at the operation limit). What a block adds is checked here, before any event is
//! read ([`Refusal`]):
//!
//! - **Nothing leaks between evaluations.** The replay evaluates every expression of an
//!   agreement in one scope that it keeps from event to event, and Rhai keeps a top-level `let`
//!   in the scope it is given. A block's statements are therefore wrapped in one inner block
//!   ([`wrap`]), whose variables Rhai removes when it ends, however it ends.
//! - **The names an expression reads stay what they are.** A block may not bind again, or
//!   assign to, a name of its scope (`event`, `trigger`, `key`, a list; `record` in a mapping):
//!   `let event = …` would make every later `event.FIELD` read something else, and an
//!   assignment to `event` would change what the next term sees. `let e = event;` (a new name
//!   for the event) is allowed, and the checks follow it ([`aliases`]).
//! - **Helpers are the agreement's `functions`.** A block may not define a function (`fn`):
//!   the agreement's `functions:` are compiled once, checked and positioned, and a block calls
//!   them. Closures stay refused by the sandbox (a closure could carry a value from one
//!   evaluation to the next).
//! - **A block gives a value.** One that ends with a statement that gives none (`let`, a loop,
//!   an assignment) would give `()` on every event.

use rhai::{AST, ASTFlags, ASTNode, Engine, Expr, Module, ParseError, Position, Scope, Stmt};

/// Why an expression-valued key's text does not compile.
pub(crate) enum Problem {
    /// Rhai cannot read it, as an expression or as a block: the error of the reading that got
    /// further.
    Syntax(ParseError),
    /// A block that does what no expression may: every such place.
    Refused(Vec<Refusal>),
}

/// A place where a block does what no expression may, and what to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    /// Where, in the block's text.
    pub(crate) at: Position,
    pub(crate) message: String,
    pub(crate) help: String,
}

/// Compiles `text` for `engine` with the names of `scope` visible: as an expression, or, when
/// `blocks` allows it and Rhai cannot read it as one, as a statement block (wrapped so that its
/// variables end with it, [`wrap`]).
pub(crate) fn compile(
    engine: &Engine,
    scope: &Scope,
    text: &str,
    blocks: bool,
) -> Result<AST, Problem> {
    let first = match engine.compile_expression_with_scope(scope, text) {
        Ok(ast) => return Ok(ast),
        Err(err) => err,
    };
    if !blocks {
        return Err(Problem::Syntax(first));
    }
    match engine.compile_with_scope(scope, text) {
        // `event.kind = "x"` is a comparison with one `=` far more often than a program: the
        // expression's error (at the `=`, with its help) says so.
        Ok(ast) if matches!(ast.statements(), [Stmt::Assignment(..)]) => {
            Err(Problem::Syntax(first))
        }
        Ok(ast) => {
            let refused = refusals(engine, scope, text, &ast);
            if refused.is_empty() {
                Ok(wrap(&ast))
            } else {
                Err(Problem::Refused(refused))
            }
        }
        Err(second) if place(second.position()) > place(first.position()) => {
            Err(Problem::Syntax(second))
        }
        Err(_) => Err(Problem::Syntax(first)),
    }
}

/// Whether `ast` is a block (compiled by [`compile`] from statements), not an expression.
pub(crate) fn is_block(ast: &AST) -> bool {
    matches!(ast.statements(), [Stmt::Block(..)])
}

/// A position as a comparable (line, column); `NONE` first.
fn place(pos: Position) -> (usize, usize) {
    (pos.line().unwrap_or(0), pos.position().unwrap_or(0))
}

/// The statements of `ast` as one inner block. Rhai keeps the variables a script declares at
/// its top level in the scope it runs in (so that a caller can read them); the replay's scope
/// lives from event to event, so a top-level `let` would pile up there (and, after
/// `Limits::max_variables` events, fail). Variables declared in an inner block are removed
/// when it ends, returned from or failed. Offsets of variables stay valid: the block pushes
/// nothing of its own.
fn wrap(ast: &AST) -> AST {
    let statements: Vec<Stmt> = ast.statements().to_vec();
    let start = statements.first().map_or(Position::NONE, Stmt::position);
    let block = rhai::StmtBlock::new(statements, start, Position::NONE);
    AST::new([Stmt::Block(Box::new(block))], Module::new())
}

/// What a name of the scope is, for messages.
fn what(name: &str, scope: &Scope) -> String {
    match name {
        "event" => "the event judged".into(),
        "trigger" => "the event that opened the obligation".into(),
        "key" => "the violation's key".into(),
        "record" => "the record mapped".into(),
        _ if scope.is_constant(name) == Some(true) => "one of the agreement's lists".into(),
        _ => format!("`{name}`"),
    }
}

/// The variable an assignment's target starts from: `x` of `x`, `x.a`, `x[0].b`.
fn root(target: &Expr) -> Option<(&str, Position)> {
    match target {
        Expr::Variable(v, _, pos) => Some((v.1.as_str(), *pos)),
        Expr::Index(x, ..) | Expr::Dot(x, ..) => root(&x.lhs),
        _ => None,
    }
}

/// Every place in a block (compiled as statements) that binds or assigns a name of `scope`,
/// defines a function, or where the block ends without a value.
fn refusals(engine: &Engine, scope: &Scope, text: &str, ast: &AST) -> Vec<Refusal> {
    let mut refused = bindings(engine, scope, text);
    ast.walk(&mut |path: &[ASTNode]| {
        if let Some(ASTNode::Stmt(stmt @ Stmt::Assignment(x))) = path.last()
            && let Some((name, _)) = root(&x.1.lhs)
            && scope.contains(name)
        {
            refused.push(Refusal {
                at: stmt.position(),
                message: format!(
                    "a block cannot assign to `{name}`: `{name}` is {} here, and expressions only read it",
                    what(name, scope)
                ),
                help: if x.0.is_op_assignment() {
                    "bind the value computed to a new name: `let n = …;`".into()
                } else {
                    "to compare, write `==` (a single `=` assigns); to keep a value, bind a new name: `let n = …;`".into()
                },
            });
        }
        true
    });
    refused.extend(functions(engine, text, ast));
    if let Some(last) = ast.statements().last() {
        let statement = match last {
            Stmt::Var(_, flags, _) if flags.contains(ASTFlags::CONSTANT) => Some("`const`"),
            Stmt::Var(..) => Some("`let`"),
            Stmt::While(..) | Stmt::Do(..) | Stmt::For(..) => Some("a loop"),
            Stmt::Assignment(..) => Some("an assignment"),
            _ => None,
        };
        if let Some(statement) = statement {
            refused.push(Refusal {
                at: last.position(),
                message: format!(
                    "the block ends with {statement}, which gives no value: a block's value is that of its last statement"
                ),
                help: "end the block with the expression whose value it gives: `let t = event.tanks; t > 75`".into(),
            });
        }
    }
    refused.sort_by_key(|r| place(r.at));
    refused
}

/// A refusal at each name of `scope` that the block binds again: after `let` or `const`, as a
/// `for` loop's variable or counter, as `catch`'s variable. Found by Rhai's tokenizer, as
/// written: the optimiser drops a binding nothing uses (an empty loop), which would still be
/// a name read as something else by whoever extends the block.
fn bindings(engine: &Engine, scope: &Scope, text: &str) -> Vec<Refusal> {
    use rhai::Token;
    let (tokens, _) = engine.lex([&text]);
    let tokens: Vec<(Token, Position)> = tokens
        .take_while(|(token, _)| !matches!(token, Token::EOF))
        .collect();
    let mut refused = Vec::new();
    for (i, (token, _)) in tokens.iter().enumerate() {
        let how = match token {
            Token::Let => "`let`",
            Token::Const => "`const`",
            Token::For => "a `for` loop",
            Token::Catch => "`catch`",
            _ => continue,
        };
        // The names bound: `let x`, `for x`, `for (x, i)`, `catch (x)`.
        let names = tokens
            .iter()
            .skip(i + 1)
            .take_while(|(t, _)| {
                matches!(t, Token::Identifier(_) | Token::LeftParen | Token::Comma)
            })
            .filter_map(|(t, at)| match t {
                Token::Identifier(name) => Some((name.as_str(), *at)),
                _ => None,
            })
            .take(if matches!(token, Token::For) { 2 } else { 1 });
        for (name, at) in names {
            if scope.contains(name) {
                refused.push(Refusal {
                    at,
                    message: format!(
                        "a block cannot bind `{name}` again ({how}): `{name}` is {} here",
                        what(name, scope)
                    ),
                    help: if matches!(name, "event" | "trigger" | "record") {
                        format!("choose another name; a new name for `{name}` is fine: `let e = {name};`")
                    } else {
                        "choose another name".into()
                    },
                });
            }
        }
    }
    refused
}

/// A refusal at each `fn` of a block that defines functions (found by Rhai's tokenizer, so
/// that a `fn` in a string is none).
fn functions(engine: &Engine, text: &str, ast: &AST) -> Vec<Refusal> {
    if ast.iter_fn_def().next().is_none() {
        return Vec::new();
    }
    let (tokens, _) = engine.lex([&text]);
    let mut refused = Vec::new();
    let mut after_fn: Option<Position> = None;
    for (token, at) in tokens.take_while(|(token, _)| !matches!(token, rhai::Token::EOF)) {
        if let (Some(fn_at), rhai::Token::Identifier(name)) = (after_fn, &token) {
            refused.push(Refusal {
                at: fn_at,
                message: format!("a block cannot define a function (`fn {name}`)"),
                help: "define it under the agreement's `functions:` and call it here (a function sees only its arguments: pass `event`)".into(),
            });
        }
        after_fn = matches!(token, rhai::Token::Fn).then_some(at);
    }
    refused
}

/// The names that certainly hold one of `subjects` (`event`, `trigger`) in `ast`: bound once,
/// by `let` or `const`, to a subject or to another such name, and never assigned. The checks
/// of fields (`crate::check::vocabulary`, the `unknown-field` and `type-mismatch` warnings)
/// read `e.FIELD` through them as they read `event.FIELD`. Each is returned with the subject it
/// holds.
pub(crate) fn aliases(ast: &AST, subjects: &[&'static str]) -> Vec<(String, &'static str)> {
    // Every binding of a name (with what it is bound to, if a variable), and every assignment.
    let mut bound: Vec<(String, Option<String>)> = Vec::new();
    let mut assigned: Vec<String> = Vec::new();
    ast.walk(&mut |path: &[ASTNode]| {
        match path.last() {
            Some(ASTNode::Stmt(Stmt::Var(x, ..))) => {
                let value = match &x.1 {
                    Expr::Variable(v, ..) => Some(v.1.to_string()),
                    _ => None,
                };
                bound.push((x.0.name.to_string(), value));
            }
            Some(ASTNode::Stmt(Stmt::For(x, _))) => {
                bound.push((x.0.name.to_string(), None));
                if let Some(counter) = &x.1 {
                    bound.push((counter.name.to_string(), None));
                }
            }
            Some(ASTNode::Stmt(Stmt::TryCatch(x, _))) => {
                if let Expr::Variable(v, ..) = &x.expr {
                    bound.push((v.1.to_string(), None));
                }
            }
            Some(ASTNode::Stmt(Stmt::Assignment(x))) => {
                if let Some((name, _)) = root(&x.1.lhs) {
                    assigned.push(name.to_string());
                }
            }
            _ => {}
        }
        true
    });
    let once = |name: &str| {
        bound.iter().filter(|(n, _)| n == name).count() == 1 && !assigned.iter().any(|n| n == name)
    };
    let mut found: Vec<(String, &'static str)> = Vec::new();
    // Each round finds at least one more alias, or ends.
    loop {
        let before = found.len();
        for (name, value) in &bound {
            let Some(value) = value else { continue };
            if found.iter().any(|(n, _)| n == name) || !once(name) {
                continue;
            }
            let holds = subjects
                .iter()
                .find(|s| **s == value.as_str())
                .copied()
                .or_else(|| {
                    found
                        .iter()
                        .find(|(n, _)| n == value)
                        .map(|(_, subject)| *subject)
                });
            if let Some(subject) = holds {
                found.push((name.clone(), subject));
            }
        }
        if found.len() == before {
            return found;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::sandbox::{self, Limits};

    fn scope() -> Scope<'static> {
        let mut scope = Scope::new();
        scope.push_constant("kinds", rhai::Array::new());
        scope.push("event", ());
        scope
    }

    fn refused(text: &str) -> Vec<String> {
        let engine = sandbox::engine(&Limits::default());
        match compile(&engine, &scope(), text, true) {
            Err(Problem::Refused(all)) => all.into_iter().map(|r| r.message).collect(),
            Err(Problem::Syntax(err)) => vec![format!("syntax: {err}")],
            Ok(_) => Vec::new(),
        }
    }

    /// The scope a replay keeps from event to event is as long after a block as before: its
    /// `let`s end with it, however it ends.
    #[test]
    fn a_block_leaves_nothing_in_the_scope() {
        let engine = sandbox::engine(&Limits::default());
        let mut scope = scope();
        for text in [
            "let a = 1; let b = a + 1; b == 2",
            "let a = 1; if a == 1 { return true; } false",
            "let a = 1; throw \"stop\"",
            "let s = \"x\"; loop { s += s; }  ; true",
        ] {
            let ast = match compile(&engine, &scope, text, true) {
                Ok(ast) => ast,
                Err(Problem::Refused(r)) => panic!("{text}: {r:?}"),
                Err(Problem::Syntax(e)) => panic!("{text}: {e}"),
            };
            assert!(is_block(&ast), "{text}");
            let before = scope.len();
            for _ in 0..300 {
                let _ = engine.eval_ast_with_scope::<rhai::Dynamic>(&mut scope, &ast);
                assert_eq!(scope.len(), before, "{text}");
            }
        }
    }

    #[test]
    fn an_expression_stays_an_expression() {
        let engine = sandbox::engine(&Limits::default());
        let ast = compile(&engine, &scope(), "if true { 1 } else { 2 }", true)
            .ok()
            .unwrap();
        assert!(!is_block(&ast));
        // Without blocks, `let` is the expression's error.
        let Err(Problem::Syntax(err)) = compile(&engine, &scope(), "let a = 1; a", false) else {
            panic!("compiled")
        };
        assert_eq!(err.0.to_string(), "Unexpected 'let'");
    }

    #[test]
    fn a_block_reads_its_names_and_defines_no_function() {
        assert_eq!(
            refused("let event = 1; event == 1"),
            ["a block cannot bind `event` again (`let`): `event` is the event judged here"]
        );
        assert_eq!(
            refused("const kinds = []; true"),
            [
                "a block cannot bind `kinds` again (`const`): `kinds` is one of the agreement's lists here"
            ]
        );
        assert_eq!(
            refused("for event in [1] { } true"),
            ["a block cannot bind `event` again (a `for` loop): `event` is the event judged here"]
        );
        assert_eq!(
            refused("let x = 1; event.kind = \"a\"; true"),
            [
                "a block cannot assign to `event`: `event` is the event judged here, and expressions only read it"
            ]
        );
        assert_eq!(
            refused("fn f(x) { x } f(1) == 1"),
            ["a block cannot define a function (`fn f`)"]
        );
        assert_eq!(
            refused("let t = event.tanks;"),
            [
                "the block ends with `let`, which gives no value: a block's value is that of its last statement"
            ]
        );
        assert!(refused("let e = event; let n = 0; n += 1; e.kind == \"a\" && n == 1").is_empty());
    }

    #[test]
    fn aliases_are_names_bound_once_to_the_event() {
        let engine = sandbox::parser(&Limits::default());
        let mut scope = scope();
        scope.push("trigger", ());
        let found = |text: &str| {
            let ast = compile(&engine, &scope, text, true).ok().unwrap();
            aliases(&ast, &["event", "trigger"])
        };
        assert_eq!(
            found("let e = event; let f = e; let t = trigger; f.a == t.b"),
            [
                ("e".to_string(), "event"),
                ("f".to_string(), "event"),
                ("t".to_string(), "trigger")
            ]
        );
        // Bound twice, or assigned: not certain.
        assert!(found("let e = event; let e = 1; e == 1").is_empty());
        assert!(found("let e = event; e = 1; e == 1").is_empty());
    }
}
