//! The fuzz corpus as regression tests: every file of `tests/fuzz/corpus/TARGET/` through the
//! fuzz targets' own harness (`tests/fuzz/src/harness.rs`), on stable Rust and without
//! cargo-fuzz. A file that once made a target panic, or a differential run disagree, stays in
//! the corpus and fails here if it comes back. docs/security.md, "Fuzzing", says how the corpus
//! is grown and minimized.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "fuzz/src/harness.rs"]
mod harness;

use std::path::Path;

/// Feeds every file of the target's corpus to `target`, naming the file that fails.
fn replay(name: &str, target: fn(&[u8])) {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz/corpus")
        .join(name);
    let mut files: Vec<_> = std::fs::read_dir(&folder)
        .unwrap_or_else(|e| panic!("{}: {e}", folder.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} is empty", folder.display());
    for file in files {
        let data = std::fs::read(&file).unwrap();
        let outcome = std::panic::catch_unwind(|| target(&data));
        assert!(outcome.is_ok(), "{} fails", file.display());
    }
}

#[test]
fn agreement() {
    replay("agreement", harness::agreement);
}

#[test]
fn events() {
    replay("events", harness::events);
}

#[test]
fn mapping() {
    replay("mapping", harness::mapping);
}

#[test]
fn scenario() {
    replay("scenario", harness::scenario);
}

#[test]
fn saved_report() {
    replay("saved_report", harness::saved_report);
}

#[test]
fn conditions() {
    replay("conditions", harness::conditions);
}
