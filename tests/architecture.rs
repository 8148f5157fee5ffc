//! The architecture's invariants that a test can hold (docs/architecture.md).
//!
//! - **No import cycles.** At every level of the module tree, the children of one module (each
//!   with everything inside it) import one another in one direction only: `check` may use
//!   `engine`, then `engine` must not use `check`, neither directly nor through a third
//!   sibling. References are read from the library's source (`use crate::…`, `super::…` and
//!   `crate::…` paths in code; comments and `#[cfg(test)]` modules left out, since tests may
//!   build what they test from anywhere). A child using its parent's own items is not a
//!   cycle.
//! - **The stages' order.** The top-level modules follow the order docs/architecture.md
//!   gives (`STAGES` below): a module uses only modules listed before it.
//! - **The binary stays outside.** Nothing in the library names the command line's crates.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The top-level modules, each allowed to use only those before it (docs/architecture.md,
/// "Code map"). Modules on one line share a layer and may not use each other.
const STAGES: &[&[&str]] = &[
    &["diagnostic", "time", "geo", "spill"],
    &["event"],
    &["load", "schema"],
    &["expr"],
    &["engine"],
    &["check"],
    &["input"],
    &["run"],
    &["report"],
    &["scenario"],
    &["editor"],
];

/// A reference from one place in the source to a module path.
struct Reference {
    from: Vec<String>,
    to: Vec<String>,
    at: String,
}

fn library_files(root: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, files);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&root.join("src"), &mut files);
    // The binary: src/main.rs and src/commands/ are the `pactum` crate, not the library.
    files.retain(|f| {
        let rel = f.strip_prefix(root.join("src")).unwrap();
        rel != Path::new("main.rs") && !rel.starts_with("commands")
    });
    files.sort();
    files
}

/// The module a file defines: `src/a/b.rs` and `src/a/b/mod.rs` are `a::b`.
fn module_of(root: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(root.join("src")).unwrap();
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// The code of a file without comments and without its `#[cfg(test)]` module.
fn code(text: &str) -> Vec<(usize, String)> {
    let mut lines = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("#[cfg(test)]") {
            break;
        }
        if trimmed.starts_with("//") {
            continue;
        }
        let line = match line.find("//") {
            // A `//` inside a string (a URL) is rare in this code; cutting there only drops
            // a reference that a later line repeats.
            Some(at) => &line[..at],
            None => line,
        };
        lines.push((n + 1, line.to_string()));
    }
    lines
}

/// Every path written after `crate::`, `super::` or `self::`, with `{a, b::c}` groups
/// expanded: `crate::x::{y, z::w}` gives `crate::x::y` and `crate::x::z::w`.
fn paths(text: &str) -> Vec<String> {
    fn ident(s: &str) -> usize {
        s.find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(s.len())
    }
    fn expand(prefix: String, rest: &str, out: &mut Vec<String>) -> usize {
        // `rest` starts just after a `::`.
        let mut used = 0;
        let rest_trim = rest.trim_start();
        used += rest.len() - rest_trim.len();
        if let Some(inner) = rest_trim.strip_prefix('{') {
            used += 1;
            let mut offset = 0;
            loop {
                let item = &inner[offset..];
                let trimmed = item.trim_start();
                offset += item.len() - trimmed.len();
                if trimmed.starts_with('}') {
                    offset += 1;
                    break;
                }
                if trimmed.is_empty() {
                    break;
                }
                let consumed = expand_item(prefix.clone(), &inner[offset..], out);
                offset += consumed.max(1);
                let after = &inner[offset..];
                let t = after.trim_start();
                offset += after.len() - t.len();
                if t.starts_with(',') {
                    offset += 1;
                }
            }
            return used + offset;
        }
        used + expand_item(prefix, rest_trim, out)
    }
    fn expand_item(prefix: String, rest: &str, out: &mut Vec<String>) -> usize {
        if rest.starts_with('{') {
            return expand(prefix, rest, out);
        }
        let n = ident(rest);
        if n == 0 {
            out.push(prefix);
            return 0;
        }
        let name = &rest[..n];
        let path = if name == "self" {
            prefix.clone()
        } else {
            format!("{prefix}::{name}")
        };
        let after = &rest[n..];
        if let Some(next) = after.strip_prefix("::") {
            n + 2 + expand(path, next, out)
        } else {
            out.push(path);
            n
        }
    }
    let mut out = Vec::new();
    let mut at = 0;
    while at < text.len() {
        let rest = &text[at..];
        let found = ["crate::", "super::", "self::"]
            .iter()
            .filter_map(|k| rest.find(k).map(|i| (i, *k)))
            .min();
        let Some((i, keyword)) = found else { break };
        let start = at + i;
        // Only whole words: `mycrate::` is not `crate::`.
        let before = text[..start].chars().last();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            at = start + keyword.len();
            continue;
        }
        let head = keyword.trim_end_matches("::").to_string();
        let consumed = expand(head, &text[start + keyword.len()..], &mut out);
        at = start + keyword.len() + consumed.max(1);
    }
    out
}

fn references(root: &Path, modules: &BTreeSet<Vec<String>>) -> Vec<Reference> {
    let mut found = Vec::new();
    for file in library_files(root) {
        let module = module_of(root, &file);
        let is_mod_file = file
            .file_name()
            .is_some_and(|n| n == "mod.rs" || n == "lib.rs");
        let text = std::fs::read_to_string(&file).unwrap();
        let rel = file.strip_prefix(root).unwrap().display().to_string();
        for (line, code) in code(&text) {
            for path in paths(&code) {
                let mut segments: Vec<&str> = path.split("::").collect();
                let mut target: Vec<String> = match segments.first().copied() {
                    Some("crate") => Vec::new(),
                    Some("self") => {
                        if is_mod_file {
                            module.clone()
                        } else {
                            module[..module.len() - 1].to_vec()
                        }
                    }
                    Some("super") => {
                        // `super` of `a::b` (in a/b.rs or a/b/mod.rs) is `a`.
                        let mut m = module.clone();
                        m.pop();
                        m
                    }
                    _ => continue,
                };
                segments.remove(0);
                while segments.first() == Some(&"super") {
                    target.pop();
                    segments.remove(0);
                }
                for s in segments {
                    let mut next = target.clone();
                    next.push(s.to_string());
                    if modules.contains(&next) {
                        target = next;
                    } else {
                        break;
                    }
                }
                found.push(Reference {
                    from: module.clone(),
                    to: target,
                    at: format!("{rel}:{line}"),
                });
            }
        }
    }
    found
}

fn modules(root: &Path) -> BTreeSet<Vec<String>> {
    library_files(root)
        .iter()
        .map(|f| module_of(root, f))
        .collect()
}

/// The sibling edges: for a reference from `a::x::…` to `a::y::…`, the edge `x → y` among
/// the children of `a`.
fn sibling_edges(refs: &[Reference]) -> BTreeMap<Vec<String>, BTreeMap<(String, String), String>> {
    let mut graphs: BTreeMap<Vec<String>, BTreeMap<(String, String), String>> = BTreeMap::new();
    for r in refs {
        let common = r.from.iter().zip(&r.to).take_while(|(a, b)| a == b).count();
        let (Some(from), Some(to)) = (r.from.get(common), r.to.get(common)) else {
            // One is inside the other: a parent and its child.
            continue;
        };
        graphs
            .entry(r.from[..common].to_vec())
            .or_default()
            .entry((from.clone(), to.clone()))
            .or_insert_with(|| r.at.clone());
    }
    graphs
}

/// A cycle in a graph, as the nodes along it, if there is one.
fn cycle(edges: &BTreeMap<(String, String), String>) -> Option<Vec<String>> {
    let nodes: BTreeSet<&String> = edges.keys().flat_map(|(a, b)| [a, b]).collect();
    let mut state: BTreeMap<&String, u8> = BTreeMap::new();
    fn visit<'a>(
        node: &'a String,
        edges: &'a BTreeMap<(String, String), String>,
        state: &mut BTreeMap<&'a String, u8>,
        stack: &mut Vec<&'a String>,
    ) -> Option<Vec<String>> {
        state.insert(node, 1);
        stack.push(node);
        for (a, b) in edges.keys() {
            if a != node {
                continue;
            }
            match state.get(b).copied().unwrap_or(0) {
                1 => {
                    let from = stack.iter().position(|n| *n == b).unwrap();
                    let mut path: Vec<String> =
                        stack[from..].iter().map(|s| s.to_string()).collect();
                    path.push(b.clone());
                    return Some(path);
                }
                0 => {
                    if let Some(found) = visit(b, edges, state, stack) {
                        return Some(found);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(node, 2);
        None
    }
    for node in nodes {
        if state.get(node).copied().unwrap_or(0) == 0 {
            let mut stack = Vec::new();
            if let Some(found) = visit(node, edges, &mut state, &mut stack) {
                return Some(found);
            }
        }
    }
    None
}

#[test]
fn no_import_cycles_at_any_level() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let modules = modules(&root);
    let refs = references(&root, &modules);
    assert!(
        refs.len() > 100,
        "too few references found: the scanner is broken"
    );
    let mut problems = Vec::new();
    for (parent, edges) in sibling_edges(&refs) {
        if let Some(path) = cycle(&edges) {
            let via: Vec<String> = path
                .windows(2)
                .map(|w| {
                    let at = &edges[&(w[0].clone(), w[1].clone())];
                    format!("  {} → {} ({at})", w[0], w[1])
                })
                .collect();
            let parent = if parent.is_empty() {
                "crate".to_string()
            } else {
                format!("crate::{}", parent.join("::"))
            };
            problems.push(format!(
                "cycle among the children of {parent}:\n{}",
                via.join("\n")
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn top_level_modules_use_only_earlier_stages() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let modules = modules(&root);
    let layer = |name: &str| STAGES.iter().position(|l| l.contains(&name));
    let top: BTreeSet<&String> = modules.iter().filter_map(|m| m.first()).collect();
    for name in &top {
        assert!(
            layer(name).is_some(),
            "src/{name}: a top-level module the stages in tests/architecture.rs (and docs/architecture.md) do not place"
        );
    }
    let mut problems = BTreeSet::new();
    for r in references(&root, &modules) {
        let (Some(from), Some(to)) = (r.from.first(), r.to.first()) else {
            continue;
        };
        if from == to {
            continue;
        }
        if layer(to) >= layer(from) {
            problems.insert(format!(
                "{from} uses {to}, a later or equal stage ({})",
                r.at
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{}",
        problems.into_iter().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn the_scanner_reads_grouped_and_relative_paths() {
    let found = paths("use crate::engine::{program::{CompiledTerm, Program}, sink::Sink};");
    assert_eq!(
        found,
        [
            "crate::engine::program::CompiledTerm",
            "crate::engine::program::Program",
            "crate::engine::sink::Sink"
        ]
    );
    assert_eq!(
        paths("let x = super::key_of(&v); crate::expr::reads::read_set(a)"),
        ["super::key_of", "crate::expr::reads::read_set"]
    );
    assert_eq!(
        paths("use super::{self, Compiler};"),
        ["super", "super::Compiler"]
    );
    assert!(paths("mycrate::x").is_empty());
    // A cycle is found, and none where there is none.
    let edges = |pairs: &[(&str, &str)]| -> BTreeMap<(String, String), String> {
        pairs
            .iter()
            .map(|(a, b)| ((a.to_string(), b.to_string()), String::new()))
            .collect()
    };
    assert_eq!(
        cycle(&edges(&[("a", "b"), ("b", "c"), ("c", "a")])),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    assert_eq!(cycle(&edges(&[("a", "b"), ("b", "c"), ("a", "c")])), None);
}

#[test]
fn the_library_names_no_command_line_crate() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for file in library_files(&root) {
        let text = std::fs::read_to_string(&file).unwrap();
        for (line, code) in code(&text) {
            for name in [
                "clap::",
                "anyhow::",
                "indicatif::",
                "tracing_subscriber::",
                "quick_xml::",
            ] {
                assert!(
                    !code.contains(name),
                    "{}:{line}: the library uses `{name}`, a crate of the command line",
                    file.display()
                );
            }
        }
    }
}
