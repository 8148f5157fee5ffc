//! The harness of pactum's fuzz targets: one function per target, each taking the fuzzer's
//! bytes. The same file is compiled into the main crate's `tests/fuzz_corpus.rs`, which replays
//! the committed corpus through it on stable Rust.
#[path = "harness.rs"]
mod harness;
pub use harness::*;
