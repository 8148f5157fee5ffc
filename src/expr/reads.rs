//! What an expression can read and call, found by walking its AST, and which characters of
//! its text are quoted: the memo keys on the fields read, the checker checks calls, the
//! warnings and `explain` scan text.

use rhai::{AST, ASTNode, Expr, FnCallExpr, ImmutableString, Position, Stmt};

/// The event fields an expression (with the functions merged into its AST) can read, or
/// `None` when that cannot be known: an index with a computed key (`event[name]`) or `has`
/// with a computed name could read any field.
///
/// Property names of other values (`#{a: 1}.a`) are included too: a superset only makes keys
/// longer, never results wrong. So are those of a block's local names (`let e = event;
/// e.tanks` reads `tanks`), whatever they hold: a field is read by name, through `.`, `[…]`,
/// `has` or the geography functions, and every name written is counted, whoever holds the
/// value.
pub(crate) fn read_set(ast: &AST) -> Option<Vec<ImmutableString>> {
    reads(ast).ok()
}

/// Why the fields an expression reads cannot be known, and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unbounded {
    /// The place that could read any field.
    pub(crate) at: Position,
    /// What it is, in words.
    pub(crate) why: &'static str,
}

/// [`read_set`], or the first place that makes it unknowable.
pub(crate) fn reads(ast: &AST) -> Result<Vec<ImmutableString>, Unbounded> {
    let tables = tables(ast);
    let mut reads: Vec<ImmutableString> = Vec::new();
    let mut unbounded: Option<Unbounded> = None;
    ast.walk(&mut |path: &[ASTNode]| {
        let constant = |e: &Expr| match e {
            Expr::StringConstant(s, _) => Some(s.clone()),
            _ => None,
        };
        let mut read = None;
        if let Some((call, _, pos)) = path.last().and_then(crate::expr::reads::call_of) {
            match call.name.as_str() {
                // `has` reads the field it names; a computed name could be any field.
                "has" => match call.args.last().and_then(constant) {
                    Some(name) => read = Some(name),
                    None => {
                        unbounded = Some(Unbounded {
                            at: pos,
                            why: "`has` with a computed name could test any field",
                        });
                    }
                },
                // Function pointers can call `has` (or an indexer) with computed arguments.
                "Fn" | "call" | "curry" => {
                    unbounded = Some(Unbounded {
                        at: pos,
                        why: "a function pointer (`Fn`, `call`, `curry`) could read any field",
                    });
                }
                // The geography functions read the event's position.
                name if crate::expr::spatial::FUNCTIONS
                    .iter()
                    .any(|(f, _)| *f == name) =>
                {
                    for field in ["lat", "lon"] {
                        let field = ImmutableString::from(field);
                        if !reads.contains(&field) {
                            reads.push(field);
                        }
                    }
                }
                _ => {}
            }
        }
        match path.last() {
            Some(ASTNode::Expr(Expr::Property(p, _))) => read = Some(p.2.clone()),
            // A function pointer the optimiser made constant (`Fn("has")`).
            Some(ASTNode::Expr(Expr::DynamicConstant(value, pos))) if value.is_fnptr() => {
                unbounded = Some(Unbounded {
                    at: *pos,
                    why: "a function pointer (`Fn`, `call`, `curry`) could read any field",
                });
            }
            Some(ASTNode::Expr(Expr::Index(x, ..))) => match constant(&x.rhs) {
                Some(name) => read = Some(name),
                // Indexing by number (arrays, strings) cannot reach a field by name.
                None if matches!(x.rhs, Expr::IntegerConstant(..)) => {}
                // Nor indexing a table written in the text (a list, a map, `const t = #{…}`):
                // what it gives is one of its values, whose fields are read by name again.
                None if is_table(&x.lhs, &tables) => {}
                None => {
                    unbounded = Some(Unbounded {
                        at: x.rhs.position(),
                        why: "an index that is computed (`x[name]`) could read any field",
                    });
                }
            },
            _ => {}
        }
        if let Some(name) = read
            && !reads.contains(&name)
        {
            reads.push(name);
        }
        unbounded.is_none()
    });
    match unbounded {
        Some(unbounded) => Err(unbounded),
        None => {
            reads.sort();
            Ok(reads)
        }
    }
}

/// A value written in the text, or a name bound once to one (see [`tables`]).
fn is_table(expr: &Expr, tables: &[ImmutableString]) -> bool {
    match expr {
        Expr::Map(..) | Expr::Array(..) | Expr::DynamicConstant(..) | Expr::StringConstant(..) => {
            true
        }
        Expr::Variable(v, ..) => tables.contains(&v.1),
        _ => false,
    }
}

/// The names of a block that certainly hold a value written in its text (a map, an array, a
/// text, a constant the optimiser made): bound once, by `let` or `const`, to one, never
/// assigned as a whole and no function's parameter. Indexing one with a computed key reads no
/// event field (`const sides = #{north: "SY"}; sides[event.side]`).
fn tables(ast: &AST) -> Vec<ImmutableString> {
    let mut bound: Vec<(ImmutableString, bool)> = Vec::new();
    let mut assigned: Vec<ImmutableString> = Vec::new();
    ast.walk(&mut |path: &[ASTNode]| {
        match path.last() {
            Some(ASTNode::Stmt(Stmt::Var(x, ..))) => {
                bound.push((x.0.name.clone(), is_table(&x.1, &[])));
            }
            Some(ASTNode::Stmt(Stmt::For(x, _))) => {
                bound.push((x.0.name.clone(), false));
                if let Some(counter) = &x.1 {
                    bound.push((counter.name.clone(), false));
                }
            }
            Some(ASTNode::Stmt(Stmt::TryCatch(x, _))) => {
                if let Expr::Variable(v, ..) = &x.expr {
                    bound.push((v.1.clone(), false));
                }
            }
            Some(ASTNode::Stmt(Stmt::Assignment(x))) => {
                if let Expr::Variable(v, ..) = &x.1.lhs {
                    assigned.push(v.1.clone());
                }
            }
            _ => {}
        }
        true
    });
    for function in ast.iter_fn_def() {
        bound.extend(function.params.iter().map(|p| (p.clone(), false)));
    }
    let mut tables: Vec<ImmutableString> = Vec::new();
    for (name, table) in &bound {
        if *table
            && !assigned.contains(name)
            && bound.iter().filter(|(n, _)| n == name).count() == 1
        {
            tables.push(name.clone());
        }
    }
    tables
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

/// The characters of Rhai source, each with whether it lies inside quoted text (a string, a
/// character or a backtick string, its quotes included), so that scanners of expression text
/// skip what is not code.
pub(crate) fn with_quotes(text: &str) -> impl Iterator<Item = (char, bool)> + '_ {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    text.chars().map(move |c| match quote {
        Some(q) => {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            (c, true)
        }
        None => {
            if matches!(c, '"' | '\'' | '`') {
                quote = Some(c);
                (c, true)
            } else {
                (c, false)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(expression: &str) -> Option<Vec<String>> {
        let engine = crate::expr::sandbox::engine(&crate::Limits::default());
        let mut scope = rhai::Scope::new();
        scope.push("event", ());
        let ast = engine
            .compile_expression_with_scope(&scope, expression)
            .unwrap();
        read_set(&ast).map(|r| r.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn the_fields_an_expression_reads_are_known_unless_computed() {
        assert_eq!(
            reads(r#"event.kind == "a" && event["actor"] in ["x"] && event.has("lat")"#),
            Some(vec!["actor".into(), "kind".into(), "lat".into()])
        );
        assert_eq!(reads(r#"event.tags[0] == "a""#), Some(vec!["tags".into()]));
        // The optimiser folds constant keys, so only a key read from the data is unknowable.
        assert_eq!(
            reads(r#"event["ki" + "nd"] == "a""#),
            Some(vec!["kind".into()])
        );
        assert_eq!(reads(r#"event[event.key] == "a""#), None);
        assert_eq!(reads(r#"event.has(event.key)"#), None);
    }

    fn block_reads(text: &str) -> Result<Vec<String>, &'static str> {
        let engine = crate::expr::sandbox::engine(&crate::Limits::default());
        let mut scope = rhai::Scope::new();
        scope.push("event", ());
        let ast = crate::expr::block::compile(&engine, &scope, text, true)
            .ok()
            .unwrap();
        super::reads(&ast)
            .map(|r| r.iter().map(|s| s.to_string()).collect())
            .map_err(|u| u.why)
    }

    /// In a block, every field written by name is read, whoever holds the event (`let e =
    /// event; e.tanks`), in every branch; a computed index is unknowable unless what is indexed
    /// is a table written in the text.
    #[test]
    fn a_block_reads_every_field_it_names_in_every_branch() {
        assert_eq!(
            block_reads(
                "let e = event; if e.kind == \"a\" { e.tanks > 1 } else { event[\"guns\"] > 2 }"
            ),
            Ok(vec!["guns".into(), "kind".into(), "tanks".into()])
        );
        assert_eq!(
            block_reads(
                "const sides = #{north: \"SY\"}; let t = [1, 2]; let i = 1; sides[event.side] + t[i]"
            ),
            Ok(vec!["side".into()])
        );
        assert_eq!(
            block_reads("let e = event; let f = \"tanks\"; e[f] > 1"),
            Err("an index that is computed (`x[name]`) could read any field")
        );
        // A table bound twice, or a name a function takes, may hold the event.
        assert!(block_reads("let t = #{}; let t = event; t[event.k] == 1").is_err());
        assert!(block_reads("let t = #{}; t = event; t[event.k] == 1").is_err());
    }
}
