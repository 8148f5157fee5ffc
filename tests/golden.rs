//! Golden reports: every shipped scenario replayed in every format must give the bytes
//! committed in `tests/golden/` (runs listed in `tests/golden/runs.yaml`).
//!
//! Why: the restructuring of the code (issue 10) must keep every report byte-identical; the
//! other tests check what reports say, this one that nothing else about them moved.
//! `PACTUM_BLESS=1` writes the files again, for a change of output that is intended.
//!
//! Each (run, format) is its own trial (a `harness = false` target on `libtest-mimic`), named
//! `golden::NAME.FORMAT`: `cargo test --test golden -- golden::readme.html` runs one. They run
//! in parallel: each writes only its own file, and only when blessing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use libtest_mimic::{Arguments, Failed, Trial};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Runs {
    runs: Vec<Run>,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Run {
    name: String,
    dir: String,
    formats: Vec<String>,
    args: Vec<String>,
    #[serde(default)]
    stdin: Option<String>,
}

/// Where a variant given `-o` writes: replaced by a file in a fresh temporary directory.
const OUTPUT: &str = "{output}";

fn extension(format: &str) -> &str {
    match format {
        "text" => "txt",
        "markdown" => "md",
        other => other,
    }
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let golden = root.join("tests/golden");
    let runs: Runs =
        serde_saphyr::from_str(&std::fs::read_to_string(golden.join("runs.yaml")).unwrap())
            .unwrap();
    let mut trials = Vec::new();
    for run in runs.runs {
        for format in &run.formats {
            let name = format!("golden::{}.{format}", run.name);
            let has_violations = run
                .args
                .first()
                .is_some_and(|a| a == "replay" || a == "report");
            // The same report when the violations go through the temporary file, one per
            // sorted run (the external sort of `report::store`): the same bytes. And JSON
            // written to a file (`-o`), as the violations settle (`Collector::releasing`), or,
            // with a budget of one byte, collected, sorted and written at the end.
            let variants: &[(&str, &[&str])] = match format.as_str() {
                _ if !has_violations => &[],
                "json" | "jsonl" => &[
                    ("spilled", &["--violations-in-memory", "1"]),
                    ("file", &["-o", OUTPUT]),
                    (
                        "file.spilled",
                        &["-o", OUTPUT, "--violations-in-memory", "1"],
                    ),
                ],
                _ => &[("spilled", &["--violations-in-memory", "1"])],
            };
            // A replay with one thread and with two (the input hashed and the report written
            // on threads of their own): the same bytes, whatever the machine's cores.
            let threads: &[(&str, &[&str])] = match format.as_str() {
                _ if run.args.first().is_none_or(|a| a != "replay") => &[],
                "json" | "jsonl" => &[
                    ("threads1", &["--threads", "1"]),
                    ("file.threads2", &["-o", OUTPUT, "--threads", "2"]),
                ],
                _ => &[("threads1", &["--threads", "1"])],
            };
            const PLAIN: (&str, &[&str]) = ("", &[]);
            for (variant, extra) in std::iter::once(&PLAIN).chain(variants).chain(threads) {
                let (root, golden, run, format) =
                    (root.clone(), golden.clone(), run.clone(), format.clone());
                let name = match *variant {
                    "" => name.clone(),
                    variant => format!("{name}.{variant}"),
                };
                trials.push(Trial::test(name, move || {
                    check(&root, &golden, &run, &format, extra)
                }));
            }
        }
    }
    libtest_mimic::run(&Arguments::from_args(), trials).exit();
}

/// Replays `run` in `format` and compares the output with its golden file (or writes it, with
/// `PACTUM_BLESS` set).
fn check(
    root: &Path,
    golden: &Path,
    run: &Run,
    format: &str,
    extra: &[&str],
) -> Result<(), Failed> {
    let dir = root.join(&run.dir);
    let scratch = tempfile::tempdir().unwrap();
    let output = scratch.path().join("report");
    let extra: Vec<String> = extra
        .iter()
        .map(|a| match *a {
            OUTPUT => output.display().to_string(),
            other => other.to_string(),
        })
        .collect();
    let mut child = Command::new(env!("CARGO_BIN_EXE_pactum"))
        .args(&run.args)
        .args(["--format", format])
        .args(&extra)
        .current_dir(&dir)
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = match &run.stdin {
        Some(file) => std::fs::read(dir.join(file)).unwrap(),
        None => Vec::new(),
    };
    let mut pipe = child.stdin.take().unwrap();
    pipe.write_all(&stdin).unwrap();
    drop(pipe);
    let mut out = child.wait_with_output().unwrap();
    if extra.iter().any(|a| *a == output.display().to_string()) {
        assert!(out.stdout.is_empty(), "with -o, nothing on standard output");
        out.stdout = std::fs::read(&output).unwrap_or_default();
        // Nothing left beside it but the report.
        let left: Vec<_> = std::fs::read_dir(scratch.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left.len(), 1, "files left beside the report: {left:?}");
    }
    let file = golden.join(format!("{}.{}", run.name, extension(format)));
    if out.status.code() != Some(0) {
        return Err(format!(
            "{}: exit {:?}: {}",
            file.display(),
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    if std::env::var_os("PACTUM_BLESS").is_some() {
        // Only the plain run writes: the others compare with what it wrote.
        if extra.is_empty() {
            std::fs::write(&file, &out.stdout).unwrap();
        }
        return Ok(());
    }
    // A missing golden file is a failure, even for an empty output.
    let want = std::fs::read(&file)
        .map_err(|e| format!("{}: {e} (PACTUM_BLESS=1 writes it)", file.display()))?;
    if want != out.stdout {
        let want = String::from_utf8_lossy(&want);
        let got = String::from_utf8_lossy(&out.stdout);
        let line = want
            .lines()
            .zip(got.lines())
            .position(|(a, b)| a != b)
            .map_or(want.lines().count().min(got.lines().count()), |n| n);
        return Err(format!(
            "{} differs from line {}:\n  expected: {:?}\n  found:    {:?}",
            file.display(),
            line + 1,
            want.lines().nth(line).unwrap_or("(end)"),
            got.lines().nth(line).unwrap_or("(end)"),
        )
        .into());
    }
    Ok(())
}
