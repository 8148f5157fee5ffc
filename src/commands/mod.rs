//! The commands of the `pactum` binary, one module each, and what several of them share.
//!
//! Each command's module owns its arguments (a `clap::Args` struct, which `main.rs` wraps in
//! its subcommand) and a `run` that takes them and returns the exit code, so that a command is
//! read, changed and tested in one file, and `main.rs` only parses and dispatches. What more
//! than one command needs lives in a shared module with one job: [`output`] (exit codes,
//! stderr, where output goes), [`load`] (rule files, mappings, saved reports), [`confine`]
//! (`--allow-root`, and opening the files those name), [`inputs`]
//! (event inputs), [`sink`] (a replay's violations and progress bar), [`scenarios`] (scenario files found
//! and replayed, for `test`, `test --bless` and `check`) and [`bless`] (`test --bless`:
//! scenarios' expectations written from their replays). Nothing here imports
//! from `main.rs`.

pub mod check;
pub mod diff;
pub mod explain;
pub mod lsp;
pub mod new;
pub mod replay;
pub mod report;
pub mod schema;
pub mod test;

pub mod background;
pub mod bless;
pub mod checkpoint;
pub mod confine;
pub mod inputs;
pub mod interrupt;
pub mod load;
pub mod output;
pub mod scenarios;
pub mod sink;
