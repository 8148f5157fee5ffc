//! What a file defines, with where: parties, lists, functions, shapes and terms, a mapping's
//! `let` names, read from its outline (so a file that does not load yet still has them), and
//! the functions the sandbox gives every expression (and a mapping's, its cleaning helpers).

use super::outline::{Outline, Span};

/// A named thing and where its name is written.
#[derive(Debug, Clone, PartialEq)]
pub struct Named {
    /// The name.
    pub name: String,
    /// Where the name is written (the key; for a function, the name after `fn`).
    pub at: Span,
}

/// A party: its code and name.
#[derive(Debug, Clone, PartialEq)]
pub struct Party {
    /// The code and where it is declared.
    pub code: Named,
    /// The party's name.
    pub title: String,
}

/// A named list and its items as written.
#[derive(Debug, Clone, PartialEq)]
pub struct List {
    /// The name and where it is declared.
    pub name: Named,
    /// The items (text as written, unquoted).
    pub items: Vec<String>,
}

/// A function of the file's `functions` block.
#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    /// The name and where it is written.
    pub name: Named,
    /// `fn name(a, b)`.
    pub signature: String,
    /// The `//` comment lines just above it.
    pub doc: String,
}

/// A named value of a mapping's `let`.
#[derive(Debug, Clone, PartialEq)]
pub struct Let {
    /// The name and where it is declared.
    pub name: Named,
    /// Its expression as written.
    pub written: String,
}

/// What a shape of the geography is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShapeKind {
    /// Under `lines:`.
    Line,
    /// Under `areas:`, from a file or a polygon.
    Area,
    /// Under `areas:`, a strip `along` a line.
    Strip,
    /// Under `places:`.
    Place,
}

impl ShapeKind {
    /// `line`, `area`, `strip`, `place`.
    pub fn as_str(self) -> &'static str {
        match self {
            ShapeKind::Line => "line",
            ShapeKind::Area => "area",
            ShapeKind::Strip => "strip",
            ShapeKind::Place => "place",
        }
    }
}

/// A named shape of `geography:`.
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    /// The name and where it is declared.
    pub name: Named,
    /// Line, area, strip or place.
    pub kind: ShapeKind,
    /// Its definition as written (`{file: geo/borders.geojson, match: {a: IRQ, b: TUR}}`).
    pub written: String,
}

/// A term: what hover shows of it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Term {
    /// The term's id (empty when not written yet).
    pub id: String,
    /// The outline node of the term's item.
    pub node: usize,
    /// The article it stands for.
    pub article: Option<String>,
    /// Its title.
    pub title: Option<String>,
    /// The clause's own words (`text:`).
    pub text: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Where it comes from.
    pub sources: Vec<String>,
}

/// Everything a file defines.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Symbols {
    /// `parties:`.
    pub parties: Vec<Party>,
    /// `lists:`.
    pub lists: Vec<List>,
    /// `functions:`.
    pub functions: Vec<Function>,
    /// `geography:` lines, areas, strips and places.
    pub shapes: Vec<Shape>,
    /// `terms:`.
    pub terms: Vec<Term>,
    /// A mapping's `let:`.
    pub lets: Vec<Let>,
}

impl Symbols {
    /// What `outline`'s file defines.
    pub fn of(outline: &Outline) -> Symbols {
        let mut symbols = Symbols::default();
        let named = |index: usize| -> Option<Named> {
            let node = outline.node(index)?;
            Some(Named {
                name: node.name.clone(),
                at: node.key?,
            })
        };
        // The parties, then those who did not sign but can be charged (`others`): a term
        // charges either by code.
        for key in ["parties", "others"] {
            if let Some((parties, _)) = outline.find(&[key]) {
                for (i, _) in outline.children(parties) {
                    if let Some(code) = named(i) {
                        let title = outline.scalar(i).unwrap_or_default();
                        symbols.parties.push(Party { code, title });
                    }
                }
            }
        }
        if let Some((lists, _)) = outline.find(&["lists"]) {
            for (i, node) in outline.children(lists) {
                if let Some(name) = named(i) {
                    let items = if node
                        .children
                        .iter()
                        .any(|c| outline.node(*c).is_some_and(|n| !n.item))
                    {
                        // A mapping's table (`codes: {Government of Turkey: TR}`): its keys.
                        outline.children(i).map(|(_, n)| n.name.clone()).collect()
                    } else {
                        outline.items(i)
                    };
                    symbols.lists.push(List { name, items });
                }
            }
        }
        if let Some((functions, _)) = outline.find(&["functions"]) {
            symbols.functions = functions_of(outline, functions);
        }
        if let Some((lets, _)) = outline.find(&["let"]) {
            for (i, _) in outline.children(lets) {
                if let Some(name) = named(i) {
                    let written = outline.scalar(i).unwrap_or_default();
                    symbols.lets.push(Let { name, written });
                }
            }
        }
        for (section, kind) in [
            ("lines", ShapeKind::Line),
            ("areas", ShapeKind::Area),
            ("places", ShapeKind::Place),
        ] {
            let Some((shapes, _)) = outline.find(&["geography", section]) else {
                continue;
            };
            for (i, node) in outline.children(shapes) {
                let Some(name) = named(i) else { continue };
                let kind = if kind == ShapeKind::Area && outline.child(i, "along").is_some() {
                    ShapeKind::Strip
                } else {
                    kind
                };
                let written = match node.value {
                    Some(span) => outline.text(span).to_string(),
                    None => outline
                        .children(i)
                        .filter_map(|(c, n)| {
                            Some(format!(
                                "{}: {}",
                                n.name,
                                outline.text(outline.node(c)?.value?)
                            ))
                        })
                        .collect::<Vec<_>>()
                        .join(", "),
                };
                symbols.shapes.push(Shape {
                    name,
                    kind,
                    written,
                });
            }
        }
        if let Some((terms, _)) = outline.find(&["terms"]) {
            for (i, node) in outline.children(terms) {
                if !node.item {
                    continue;
                }
                let scalar = |key: &str| outline.child(i, key).and_then(|(c, _)| outline.scalar(c));
                symbols.terms.push(Term {
                    id: scalar("id").unwrap_or_default(),
                    node: i,
                    article: scalar("article"),
                    title: scalar("title"),
                    text: scalar("text"),
                    description: scalar("description"),
                    sources: outline
                        .child(i, "sources")
                        .map(|(c, _)| outline.items(c))
                        .unwrap_or_default(),
                });
            }
        }
        symbols
    }

    /// The list named `name`.
    pub fn list(&self, name: &str) -> Option<&List> {
        self.lists.iter().find(|l| l.name.name == name)
    }

    /// The function named `name`.
    pub fn function(&self, name: &str) -> Option<&Function> {
        self.functions.iter().find(|f| f.name.name == name)
    }

    /// The `let` named `name`.
    pub fn value(&self, name: &str) -> Option<&Let> {
        self.lets.iter().find(|l| l.name.name == name)
    }

    /// The shape named `name`.
    pub fn shape(&self, name: &str) -> Option<&Shape> {
        self.shapes.iter().find(|s| s.name.name == name)
    }

    /// The party whose code is `code`.
    pub fn party(&self, code: &str) -> Option<&Party> {
        self.parties.iter().find(|p| p.code.name == code)
    }
}

/// The `fn NAME(ARGS)` of a `functions` block, each with the `//` lines above it.
fn functions_of(outline: &Outline, index: usize) -> Vec<Function> {
    let Some(node) = outline.node(index) else {
        return Vec::new();
    };
    let Some(value) = node.value else {
        return Vec::new();
    };
    let first = if node.block { node.line + 1 } else { node.line };
    let mut found = Vec::new();
    let mut doc: Vec<&str> = Vec::new();
    for number in first..=node.value_end {
        let line = outline.line(number);
        let from = if number == value.line && !node.block {
            value.start
        } else {
            0
        };
        let code = line.get(from..).unwrap_or("");
        let trimmed = code.trim_start();
        if let Some(comment) = trimmed.strip_prefix("//") {
            doc.push(comment.trim());
            continue;
        }
        let mut search = 0;
        while let Some(at) = code.get(search..).and_then(|rest| rest.find("fn ")) {
            let fn_at = search + at;
            search = fn_at + 3;
            // `fn` as a word of its own.
            if code
                .get(..fn_at)
                .and_then(|b| b.chars().last())
                .is_some_and(|c| c.is_alphanumeric() || c == '_')
            {
                continue;
            }
            let after = code.get(fn_at + 3..).unwrap_or("");
            let lead = after.len() - after.trim_start().len();
            let name_start = fn_at + 3 + lead;
            let rest = code.get(name_start..).unwrap_or("");
            let length = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            if length == 0 {
                continue;
            }
            let name = rest.get(..length).unwrap_or("").to_string();
            let arguments = rest
                .get(length..)
                .and_then(|r| r.trim_start().strip_prefix('('))
                .and_then(|r| r.split(')').next())
                .unwrap_or("");
            found.push(Function {
                signature: format!("fn {name}({})", arguments.trim()),
                name: Named {
                    name,
                    at: Span {
                        line: number,
                        start: from + name_start,
                        end: from + name_start + length,
                    },
                },
                doc: doc.join(" "),
            });
        }
        if !trimmed.is_empty() {
            doc.clear();
        }
    }
    found
}

/// A function every expression may call: its name, how it is called and what it gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Builtin {
    /// The name.
    pub name: &'static str,
    /// How it is called.
    pub signature: &'static str,
    /// What it gives.
    pub about: &'static str,
}

/// The functions of the sandbox an author reaches for (docs/rules.md, "Expressions";
/// docs/geography.md): the geography functions pactum adds, and the usual ones of Rhai's
/// packages. Not every function the sandbox has: Rhai's packages have hundreds.
pub const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "inside",
        signature: "inside(event, \"AREA\")",
        about: "whether the event's position (`lat`, `lon`) is inside the area or strip; `()` without a position",
    },
    Builtin {
        name: "distance_km",
        signature: "distance_km(event, \"NAME\")",
        about: "great-circle distance in km from the event's position to the line, area, strip or place; `()` without a position",
    },
    Builtin {
        name: "nearest_place",
        signature: "nearest_place(event[, km])",
        about: "the name of the place nearest the event within `km` (default 25 km); `()` when none is that near",
    },
    Builtin {
        name: "contains",
        signature: "text.contains(\"part\")",
        about: "whether a text contains a text, or an array an item",
    },
    Builtin {
        name: "starts_with",
        signature: "text.starts_with(\"prefix\")",
        about: "whether a text starts with another",
    },
    Builtin {
        name: "ends_with",
        signature: "text.ends_with(\"suffix\")",
        about: "whether a text ends with another",
    },
    Builtin {
        name: "to_lower",
        signature: "text.to_lower()",
        about: "the text in lower case",
    },
    Builtin {
        name: "to_upper",
        signature: "text.to_upper()",
        about: "the text in upper case",
    },
    Builtin {
        name: "len",
        signature: "value.len()",
        about: "the length of a text (characters), an array or a map",
    },
    Builtin {
        name: "split",
        signature: "text.split(\",\")",
        about: "the parts of a text between a separator, as an array",
    },
    Builtin {
        name: "parse_int",
        signature: "parse_int(text)",
        about: "the integer a text writes (an error if it writes none): for numbers written as text",
    },
    Builtin {
        name: "parse_float",
        signature: "parse_float(text)",
        about: "the number a text writes (an error if it writes none): for numbers written as text",
    },
    Builtin {
        name: "abs",
        signature: "abs(number)",
        about: "the absolute value",
    },
    Builtin {
        name: "floor",
        signature: "number.floor()",
        about: "the largest whole number not above it (a float)",
    },
    Builtin {
        name: "round",
        signature: "number.round()",
        about: "the nearest whole number (a float)",
    },
    Builtin {
        name: "to_int",
        signature: "number.to_int()",
        about: "a float as an integer",
    },
    Builtin {
        name: "type_of",
        signature: "type_of(value)",
        about: "the value's type: \"string\", \"i64\", \"f64\", \"bool\", \"()\", \"array\", \"map\"",
    },
];

/// The built-in function named `name`.
pub fn builtin(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.name == name)
}

/// The cleaning helpers a mapping's expressions may call besides the sandbox's functions
/// (docs/inputs.md, "Cleaning helpers"; `crate::expr::clean`).
pub const HELPERS: &[Builtin] = &[
    Builtin {
        name: "number",
        signature: "number(value[, \",\"])",
        about: "the number a text writes as people write it (`\"1,200\"` → 1200, `\" 3.5 \"` → 3.5; with `\",\"`, a decimal comma: `\"1.200,5\"`); a number as it is; `()` for `()` or blank text; an error for any other text (`\"about 12\"`)",
    },
    Builtin {
        name: "is_blank",
        signature: "is_blank(value)",
        about: "whether the value is `()` or text of spaces only",
    },
    Builtin {
        name: "blank_to_unit",
        signature: "blank_to_unit(value)",
        about: "`()` for a blank value (`()`, or text of spaces only), else the value",
    },
    Builtin {
        name: "trimmed",
        signature: "trimmed(value)",
        about: "text without its leading and trailing spaces (Rhai's `trim` trims in place and gives `()`); any other value as it is",
    },
    Builtin {
        name: "collapse_spaces",
        signature: "collapse_spaces(value)",
        about: "text trimmed, each run of spaces, tabs and line breaks inside it made one space; any other value as it is",
    },
];

/// The cleaning helper named `name`.
pub fn helper(name: &str) -> Option<&'static Builtin> {
    HELPERS.iter().find(|b| b.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_defines_parties_lists_functions_shapes_and_terms() {
        let text = "\
parties: {IQ: Iraq, TR: Türkiye}
lists:
  kinds: [airstrike, shelling]
geography:
  lines:
    border: {file: geo/borders.geojson, match: {a: IRQ, b: TUR}}
  areas:
    iraq: {file: geo/countries.geojson, match: {ISO_A3: IRQ}}
    strip:
      along: border
      width_km: 30
  places:
    Metina: {lat: 37.1, lon: 43.2}
functions: |
  // True when Türkiye acted.
  fn by_turkey(e) { e.party == \"TR\" }
  fn near(e, km) { distance_km(e, \"border\") < km }
terms:
  - id: one
    article: \"2\"
    title: One
    text: The clause.
    sources: [a, b]
";
        let symbols = Symbols::of(&Outline::new(text));
        assert_eq!(symbols.party("TR").unwrap().title, "Türkiye");
        assert_eq!(
            symbols.list("kinds").unwrap().items,
            ["airstrike", "shelling"]
        );
        let by_turkey = symbols.function("by_turkey").unwrap();
        assert_eq!(by_turkey.signature, "fn by_turkey(e)");
        assert_eq!(by_turkey.doc, "True when Türkiye acted.");
        assert_eq!(
            by_turkey.name.at,
            Span {
                line: 15,
                start: 5,
                end: 14
            }
        );
        assert_eq!(symbols.function("near").unwrap().doc, "");
        let kinds: Vec<(&str, ShapeKind)> = symbols
            .shapes
            .iter()
            .map(|s| (s.name.name.as_str(), s.kind))
            .collect();
        assert_eq!(
            kinds,
            [
                ("border", ShapeKind::Line),
                ("iraq", ShapeKind::Area),
                ("strip", ShapeKind::Strip),
                ("Metina", ShapeKind::Place)
            ]
        );
        assert_eq!(
            symbols.shape("strip").unwrap().written,
            "along: border, width_km: 30"
        );
        let term = &symbols.terms[0];
        assert_eq!(term.id, "one");
        assert_eq!(term.article.as_deref(), Some("2"));
        assert_eq!(term.text.as_deref(), Some("The clause."));
        assert_eq!(term.sources, ["a", "b"]);
    }

    /// Every built-in offered is a function the sandbox has.
    #[test]
    fn builtins_are_sandbox_functions() {
        let mut engine = crate::expr::sandbox::engine(&crate::Limits::default());
        crate::expr::spatial::register(&mut engine, std::rc::Rc::default());
        let known = crate::check::compile::native_functions(&engine);
        for builtin in BUILTINS {
            assert!(known.contains_key(builtin.name), "{}", builtin.name);
        }
    }
}
