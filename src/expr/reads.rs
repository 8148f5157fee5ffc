//! What an expression can read and call, found by walking its AST, and which characters of
//! its text are quoted: the memo keys on the fields read, the checker checks calls, the
//! warnings and `explain` scan text.

use rhai::{AST, ASTNode, Expr, FnCallExpr, ImmutableString, Position, Stmt};

/// The event fields an expression (with the functions merged into its AST) can read, or
/// `None` when that cannot be known: an index with a computed key (`event[name]`) or `has`
/// with a computed name could read any field.
///
/// Property names of other values (`#{a: 1}.a`) are included too: a superset only makes keys
/// longer, never results wrong.
pub(crate) fn read_set(ast: &AST) -> Option<Vec<ImmutableString>> {
    let mut reads: Vec<ImmutableString> = Vec::new();
    let mut known = true;
    ast.walk(&mut |path: &[ASTNode]| {
        let constant = |e: &Expr| match e {
            Expr::StringConstant(s, _) => Some(s.clone()),
            _ => None,
        };
        let mut read = None;
        if let Some((call, _, _)) = path.last().and_then(crate::expr::reads::call_of) {
            match call.name.as_str() {
                // `has` reads the field it names; a computed name could be any field.
                "has" => match call.args.last().and_then(constant) {
                    Some(name) => read = Some(name),
                    None => known = false,
                },
                // Function pointers can call `has` (or an indexer) with computed arguments.
                "Fn" | "call" | "curry" => known = false,
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
            Some(ASTNode::Expr(Expr::DynamicConstant(value, _))) if value.is_fnptr() => {
                known = false;
            }
            Some(ASTNode::Expr(Expr::Index(x, _, _))) => match constant(&x.rhs) {
                Some(name) => read = Some(name),
                // Indexing by number (arrays, strings) cannot reach a field by name.
                None if matches!(x.rhs, Expr::IntegerConstant(..)) => {}
                None => known = false,
            },
            _ => {}
        }
        if let Some(name) = read
            && !reads.contains(&name)
        {
            reads.push(name);
        }
        known
    });
    known.then(|| {
        reads.sort();
        reads
    })
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
}
