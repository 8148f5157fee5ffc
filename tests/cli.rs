//! The test harness: every test is data, run through the real `pactum` binary, each its own
//! named trial (a `harness = false` target on `libtest-mimic`), so that one can run alone:
//! `cargo test --test cli -- case::replay-skip-invalid` (add `--exact` when the name is a prefix
//! of others); `cargo test --test cli -- --list` lists them all.
//!
//! - `case::NAME`: `tests/cases/NAME.yaml`, one command-line case per file. Its keys:
//!   `description`; `args` (after `pactum`); `files` (name: content, written in a fresh
//!   temporary directory, the case's working directory; `crlf: true` writes them with CRLF
//!   line breaks), `hex_files` (name: bytes in hexadecimal), `copy` (name: a path from the
//!   repository's root), `symlinks` (name: target, as the link holds it), `fifos` (names of
//!   named pipes to make); `stdin`; and what is expected: `exit` (the exact code), `stdout`,
//!   `stderr` (exact text), `stdout_contains`, `stderr_contains` (strings that must appear),
//!   `stdout_excludes`, `stderr_excludes` (strings that must not), `diagnostics` (the JSON
//!   diagnostics, each key named must match), `report` (the JSON report, each key named must
//!   match), `jsonl` (one value per line); `output` (check the file written by `--output`
//!   instead of standard output, which must then be empty); `same_without_memo: true` (again
//!   with `--no-memo`, byte-identical); `then` (further runs in the same directory, in order,
//!   each with `args`, `exit` and optionally `stdout`, `stderr`, `stdout_contains`,
//!   `stderr_contains`: a command and what it left behind checked by the next, as `test
//!   --bless` then `test`); `files_after` (name: the exact text a file must hold after the
//!   last run, `null` for a file that must not exist). Whatever the keys, the JSON of `check`, `explain` and
//!   `diff` (`--format json`) must read back into the library's output type
//!   (`pactum::report::outputs`, which refuses unknown fields), carry its version, write
//!   again to the same bytes, and name no key that docs/report-format.md does not.
//! - `scenario::DIR`: each shipped `scenarios/DIR/scenario.yaml` replayed (through its mapping,
//!   if it names one): the report must be byte-identical across runs, with the memo off, and
//!   rendered again from the saved JSON in every format; with the event lines (CSV: records)
//!   reversed, its violations and open obligations must not change. What each scenario states
//!   is checked by `scenario_coverage` (`pactum test --coverage --min-coverage 100`).
//! - The other trials, one function each, check what no case file can say (the README's and the
//!   guide's commands as written, a closed pipe, a real browser).
//!
//! The trials run in parallel (libtest-mimic's default thread count): each case and scenario
//! works in its own temporary directory and only reads the repository, so none depends on
//! another. Every run of the binary is killed after 60 s and its trial fails, so that a
//! run that blocks (on a FIFO, say) fails the suite instead of hanging it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use libtest_mimic::{Arguments, Completion, Failed, Trial};
use serde::Deserialize;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_pactum");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// How long one run of `pactum` may take before it is killed and the trial fails: a run that
/// blocks (on a FIFO, a device) must fail the suite, not hang it.
/// 60 s: the heaviest cases (the UCDP log under a spent budget) take 10 s alone in a debug
/// build, and twice that with the other trials running on two cores.
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// The repository as an allowed root: the shipped scenarios name `../../rules/`, outside their
/// folders.
fn repository_roots() -> pactum::load::confine::Roots {
    pactum::load::confine::Roots::new(&root(), [root()])
}

/// Reads `pipe` to its end on a thread of its own, so that a full pipe never stalls a child
/// while it is being waited for.
fn drain(mut pipe: impl std::io::Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        pipe.read_to_end(&mut bytes).unwrap();
        bytes
    })
}

fn pactum(dir: &Path, args: &[String], stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = drain(child.stdout.take().unwrap());
    let stderr = drain(child.stderr.take().unwrap());
    let mut input = child.stdin.take().unwrap();
    // A child that exits without reading its input closes the pipe: not the test's failure.
    let _ = input.write_all(stdin.unwrap_or("").as_bytes());
    drop(input);
    finish_within(
        child,
        [stdout, stderr],
        TIMEOUT,
        &format!("`pactum {}`", args.join(" ")),
    )
}

/// Waits for `child`, whose output `pipes` (standard output, then error) are drained on
/// threads, or kills it after `limit` and fails: a run that blocks fails its trial instead of
/// hanging the suite.
fn finish_within(
    mut child: std::process::Child,
    pipes: [std::thread::JoinHandle<Vec<u8>>; 2],
    limit: std::time::Duration,
    what: &str,
) -> Output {
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("{what} did not finish within {} s: killed", limit.as_secs());
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let [stdout, stderr] = pipes;
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    #[allow(dead_code)]
    description: String,
    #[serde(default)]
    files: BTreeMap<String, String>,
    args: Vec<String>,
    #[serde(default)]
    stdin: Option<String>,
    exit: i32,
    #[serde(default)]
    diagnostics: Option<Vec<Value>>,
    #[serde(default)]
    stdout: Option<String>,
    #[serde(default)]
    stdout_contains: Vec<String>,
    #[serde(default)]
    stderr: Option<String>,
    #[serde(default)]
    stderr_contains: Vec<String>,
    /// Strings standard output (or the `output` file) must not contain.
    #[serde(default)]
    stdout_excludes: Vec<String>,
    /// Strings standard error must not contain.
    #[serde(default)]
    stderr_excludes: Vec<String>,
    #[serde(default)]
    report: Option<Value>,
    #[serde(default)]
    jsonl: Option<Vec<Value>>,
    /// Check this file (written by `--output`) instead of standard output.
    #[serde(default)]
    output: Option<String>,
    /// Replay again with `--no-memo` and require byte-identical output.
    #[serde(default)]
    same_without_memo: bool,
    /// Write the files with CRLF line breaks.
    #[serde(default)]
    crlf: bool,
    /// Files given as hexadecimal bytes (for bytes YAML text cannot hold).
    #[serde(default)]
    hex_files: BTreeMap<String, String>,
    /// Files copied from the repository (name in the case's directory: path from the
    /// repository's root), for shipped data too large to write into a case.
    #[serde(default)]
    copy: BTreeMap<String, String>,
    /// Symbolic links made in the case's directory (name: target, as the link holds it).
    #[serde(default)]
    symlinks: BTreeMap<String, String>,
    /// Named pipes (FIFOs) made in the case's directory.
    #[serde(default)]
    fifos: Vec<String>,
    /// Further runs of `pactum` in the same directory, in order, after the case's own.
    #[serde(default)]
    then: Vec<Step>,
    /// Files that must hold exactly this text after the last run (name: content); `null`:
    /// the file must not exist.
    #[serde(default)]
    files_after: BTreeMap<String, Option<String>>,
}

/// A further run of a case (`then`): its arguments and what it must give.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    args: Vec<String>,
    exit: i32,
    #[serde(default)]
    stdout: Option<String>,
    #[serde(default)]
    stderr: Option<String>,
    #[serde(default)]
    stdout_contains: Vec<String>,
    #[serde(default)]
    stderr_contains: Vec<String>,
}

/// `expected` matches `actual` when every key it names matches, recursively; arrays must have
/// the same length and match element by element.
fn matches(expected: &Value, actual: &Value, path: &str, problems: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (key, value) in e {
                match a.get(key) {
                    Some(actual) => matches(value, actual, &format!("{path}.{key}"), problems),
                    None if value.is_null() => {}
                    None => problems.push(format!("{path}.{key}: missing")),
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                problems.push(format!(
                    "{path}: {} elements expected, {} found:\n{}",
                    e.len(),
                    a.len(),
                    serde_json::to_string_pretty(a).unwrap()
                ));
                return;
            }
            for (i, (e, a)) in e.iter().zip(a).enumerate() {
                matches(e, a, &format!("{path}[{i}]"), problems);
            }
        }
        (Value::Number(e), Value::Number(a)) if e.as_f64() == a.as_f64() => {}
        (e, a) if e == a => {}
        (e, a) => problems.push(format!("{path}: expected {e}, found {a}")),
    }
}

/// The command whose versioned JSON output `args` ask for: `check`, `explain` or `diff` with
/// `--format json`.
fn versioned_output(args: &[String]) -> Option<&str> {
    let command = args.first()?.as_str();
    let json = args
        .windows(2)
        .any(|w| matches!(w[0].as_str(), "--format" | "-f") && w[1] == "json")
        || args.iter().any(|a| a == "--format=json");
    (json && matches!(command, "check" | "explain" | "diff")).then_some(command)
}

/// Problems reading `text`, the JSON output of `command`, back into the library's type: it
/// must parse (no unknown field anywhere), carry the current version, write again to the same
/// bytes, and refuse a field it does not know.
fn round_trip(command: &str, text: &str) -> Vec<String> {
    use pactum::report::outputs;
    fn again<T: serde::de::DeserializeOwned + serde::Serialize>(
        text: &str,
    ) -> Result<String, String> {
        let value: T = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let mut with_unknown: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        with_unknown["unknown_field"] = Value::Bool(true);
        if serde_json::from_value::<T>(with_unknown).is_ok() {
            return Err("an unknown field is accepted".into());
        }
        serde_json::to_string_pretty(&value)
            .map(|json| json + "\n")
            .map_err(|e| e.to_string())
    }
    let (written, field, version) = match command {
        "check" => (
            again::<outputs::CheckOutput>(text),
            "check_version",
            outputs::CHECK_VERSION,
        ),
        "explain" => (
            again::<outputs::ExplainOutput>(text),
            "explain_version",
            outputs::EXPLAIN_VERSION,
        ),
        _ => (
            again::<outputs::DiffOutput>(text),
            "diff_version",
            outputs::DIFF_VERSION,
        ),
    };
    let mut problems = Vec::new();
    match written {
        Ok(written) if written != text => problems.push(format!(
            "the {command} output, read and written again, differs:\n{written}"
        )),
        Ok(_) => {}
        Err(e) => problems.push(format!("the {command} output does not read back: {e}")),
    }
    let found: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    if found[field] != version {
        problems.push(format!(
            "{field}: expected {version}, found {}",
            found[field]
        ));
    }
    // Every key written is named in the output's section of docs/report-format.md.
    let doc = std::fs::read_to_string(root().join("docs/report-format.md")).unwrap();
    let heading = format!("\n## The {command} output");
    let start = doc
        .find(&heading)
        .unwrap_or_else(|| panic!("docs/report-format.md lacks `{heading}`"));
    let section = &doc[start + 1..];
    let section = &section[..section.find("\n## ").unwrap_or(section.len())];
    fn keys<'a>(value: &'a Value, found: &mut BTreeSet<&'a str>) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    found.insert(key.as_str());
                    keys(value, found);
                }
            }
            Value::Array(items) => items.iter().for_each(|item| keys(item, found)),
            _ => {}
        }
    }
    let mut written = BTreeSet::new();
    keys(&found, &mut written);
    for key in written {
        let named = [
            format!("`{key}`"),
            format!("`{key}[]"),
            format!(".{key}`"),
            format!("\"{key}\""),
        ];
        if !named.iter().any(|n| section.contains(n.as_str())) {
            problems.push(format!(
                "`{key}` is not documented under `{}` in docs/report-format.md",
                heading.trim()
            ));
        }
    }
    problems
}

fn run_case(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let case: Case =
        serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in &case.files {
        let file = dir.path().join(name);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        let content = if case.crlf {
            content.replace('\n', "\r\n")
        } else {
            content.clone()
        };
        std::fs::write(file, content).unwrap();
    }
    for (name, hex) in &case.hex_files {
        let hex: String = hex.split_whitespace().collect();
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    for (name, from) in &case.copy {
        let file = dir.path().join(name);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::copy(root().join(from), file).unwrap_or_else(|e| panic!("{from}: {e}"));
    }
    for (name, target) in &case.symlinks {
        let link = dir.path().join(name);
        std::fs::create_dir_all(link.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, link).unwrap();
    }
    for name in &case.fifos {
        let fifo = dir.path().join(name);
        std::fs::create_dir_all(fifo.parent().unwrap()).unwrap();
        let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success(), "mkfifo {}", fifo.display());
    }
    let out = pactum(dir.path(), &case.args, case.stdin.as_deref());
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let mut problems = Vec::new();
    let stdout = match &case.output {
        Some(file) => {
            if !stdout.is_empty() {
                problems.push(format!(
                    "stdout should be empty with --output, found:\n{stdout}"
                ));
            }
            std::fs::read_to_string(dir.path().join(file)).unwrap_or_default()
        }
        None => stdout,
    };
    if out.status.code() != Some(case.exit) {
        problems.push(format!(
            "exit {:?}, expected {}",
            out.status.code(),
            case.exit
        ));
    }
    if let Some(want) = &case.stdout
        && *want != stdout
    {
        problems.push(format!(
            "stdout differs:\n--- expected\n{want}--- actual\n{stdout}"
        ));
    }
    if let Some(want) = &case.stderr
        && *want != stderr
    {
        problems.push(format!(
            "stderr differs:\n--- expected\n{want}--- actual\n{stderr}"
        ));
    }
    for want in &case.stdout_contains {
        if !stdout.contains(want.as_str()) {
            problems.push(format!("stdout lacks {want:?}"));
        }
    }
    for want in &case.stderr_contains {
        if !stderr.contains(want.as_str()) {
            problems.push(format!("stderr lacks {want:?}"));
        }
    }
    for unwanted in &case.stdout_excludes {
        if stdout.contains(unwanted.as_str()) {
            problems.push(format!("stdout contains {unwanted:?}"));
        }
    }
    for unwanted in &case.stderr_excludes {
        if stderr.contains(unwanted.as_str()) {
            problems.push(format!("stderr contains {unwanted:?}"));
        }
    }
    if let Some(want) = &case.diagnostics {
        let actual: Value = serde_json::from_str(&stdout).unwrap_or(Value::Null);
        matches(
            &Value::Array(want.clone()),
            &actual["diagnostics"],
            "diagnostics",
            &mut problems,
        );
    }
    if let Some(want) = &case.report {
        match serde_json::from_str::<Value>(&stdout) {
            Ok(actual) => matches(want, &actual, "report", &mut problems),
            Err(e) => problems.push(format!("stdout is not JSON ({e}):\n{stdout}")),
        }
    }
    if let Some(output) = versioned_output(&case.args)
        && !stdout.is_empty()
    {
        problems.extend(round_trip(output, &stdout));
    }
    if let Some(want) = &case.jsonl {
        let lines: Vec<Value> = stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        matches(
            &Value::Array(want.clone()),
            &Value::Array(lines),
            "jsonl",
            &mut problems,
        );
    }
    if case.same_without_memo {
        let mut args = case.args.clone();
        args.insert(1, "--no-memo".into());
        let plain = pactum(dir.path(), &args, case.stdin.as_deref());
        if plain.stdout != out.stdout {
            problems.push(format!(
                "the memo changed the output; without it:\n{}",
                String::from_utf8_lossy(&plain.stdout)
            ));
        }
    }
    let mut stderr = stderr;
    for (i, step) in case.then.iter().enumerate() {
        let out = pactum(dir.path(), &step.args, None);
        let (stdout, err) = (
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        );
        let what = format!("then[{i}] (`pactum {}`)", step.args.join(" "));
        if out.status.code() != Some(step.exit) {
            problems.push(format!(
                "{what}: exit {:?}, expected {}",
                out.status.code(),
                step.exit
            ));
        }
        for (name, want, actual) in [
            ("stdout", &step.stdout, &stdout),
            ("stderr", &step.stderr, &err),
        ] {
            if let Some(want) = want
                && want != actual
            {
                problems.push(format!(
                    "{what}: {name} differs:\n--- expected\n{want}--- actual\n{actual}"
                ));
            }
        }
        for want in &step.stdout_contains {
            if !stdout.contains(want.as_str()) {
                problems.push(format!("{what}: stdout lacks {want:?}"));
            }
        }
        for want in &step.stderr_contains {
            if !err.contains(want.as_str()) {
                problems.push(format!("{what}: stderr lacks {want:?}"));
            }
        }
        stderr.push_str(&format!("[{what}]\n{err}"));
    }
    for (name, want) in &case.files_after {
        let found = std::fs::read_to_string(dir.path().join(name)).ok();
        if found != *want {
            problems.push(format!(
                "{name} after the runs differs:\n--- expected\n{}--- actual\n{}",
                want.as_deref().unwrap_or("(no file)\n"),
                found.as_deref().unwrap_or("(no file)\n")
            ));
        }
    }
    if !problems.is_empty() {
        problems.push(format!("(stderr was:\n{stderr})"));
    }
    problems
}

/// The `*.yaml` files of a folder of the repository, sorted.
fn yaml_files(folder: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(folder))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = Vec::new();

    let cases = yaml_files("tests/cases");
    assert!(cases.len() >= 10, "the case files are missing");
    for path in cases {
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        trials.push(Trial::test(format!("case::{name}"), move || {
            let problems = run_case(&path);
            if problems.is_empty() {
                Ok(())
            } else {
                Err(format!("{}:\n  {}", path.display(), problems.join("\n  ")).into())
            }
        }));
    }

    let mut scenarios: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("scenario.yaml").is_file())
        .collect();
    scenarios.sort();
    assert!(scenarios.len() >= 2, "the shipped scenarios are missing");
    for dir in scenarios {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        trials.push(Trial::test(format!("scenario::{name}"), move || {
            scenario(&dir);
            Ok(())
        }));
    }

    let hostile = yaml_files("tests/hostile");
    assert!(hostile.len() >= 10, "the hostile corpus is missing");
    for path in hostile {
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        trials.push(Trial::test(format!("hostile::{name}"), move || {
            hostile_rule(&path);
            Ok(())
        }));
    }

    let checks: [(&str, fn()); 19] = [
        ("scenario_coverage", scenario_coverage),
        ("readme_ucdp_command", readme_ucdp_command),
        ("readme_tour", readme_tour),
        ("shipped_rules_check", shipped_rules_check),
        ("shipped_mappings_check", shipped_mappings_check),
        (
            "closed_pipe_keeps_the_exit_code",
            closed_pipe_keeps_the_exit_code,
        ),
        (
            "new_scaffolds_pass_check_and_test",
            new_scaffolds_pass_check_and_test,
        ),
        ("guide_examples", guide_examples),
        (
            "every_diagnostic_code_has_a_case",
            every_diagnostic_code_has_a_case,
        ),
        (
            "diff_of_saved_reports_equals_diff_of_rules",
            diff_of_saved_reports_equals_diff_of_rules,
        ),
        (
            "interrupted_stream_keeps_what_was_judged",
            interrupted_stream_keeps_what_was_judged,
        ),
        (
            "killed_stream_resumes_from_its_checkpoint",
            killed_stream_resumes_from_its_checkpoint,
        ),
        (
            "regression_waiting_events_bounded_in_memory",
            regression_waiting_events_bounded_in_memory,
        ),
        (
            "regression_units_do_not_depend_on_the_address_layout",
            regression_units_do_not_depend_on_the_address_layout,
        ),
        (
            "a_burst_of_ten_thousand_is_one_incident",
            a_burst_of_ten_thousand_is_one_incident,
        ),
        ("map_labels_do_not_overlap", map_labels_do_not_overlap),
        (
            "map_keeps_its_view_and_lists_a_far_outlier",
            map_keeps_its_view_and_lists_a_far_outlier,
        ),
        (
            "timeline_colours_stand_for_one_thing_each",
            timeline_colours_stand_for_one_thing_each,
        ),
        (
            "html_has_what_the_markdown_has",
            html_has_what_the_markdown_has,
        ),
    ];
    for (name, check) in checks {
        trials.push(Trial::test(name, move || {
            check();
            Ok(())
        }));
    }
    trials.push(Trial::ignorable_test(
        "html_report_renders_in_chromium",
        html_report_renders_in_chromium,
    ));
    trials.push(Trial::ignorable_test(
        "html_report_passes_axe_in_chromium",
        html_report_passes_axe_in_chromium,
    ));

    libtest_mimic::run(&args, trials).exit();
}

/// Issue 12: a signal during a stream wrote nothing, so everything judged was lost. Now the
/// first SIGINT or SIGTERM ends the stream between lines: the report of the events read is
/// written, marked `interrupted`, the incomplete line after them is dropped and said, and the
/// exit code is 128 plus the signal's number. The signal is sent once pactum has read all it
/// was given (waiting on standard input again, as `/proc/PID/syscall` shows), so the outcome
/// does not depend on timing.
fn interrupted_stream_keeps_what_was_judged() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("rules.yaml"),
        "agreement: s\ntitle: S\nparties: {IQ: Iraq}\nterms:\n  - id: t\n    title: T\n    breached_by: IQ\n    when: event.kind == \"shelling\"\n",
    )
    .unwrap();
    for (signal, code, format) in [("TERM", 143, "json"), ("INT", 130, "text")] {
        let mut child = Command::new(BIN)
            .args([
                "replay",
                "--rules",
                "rules.yaml",
                "--format",
                format,
                "-o",
                "report.out",
                "-",
            ])
            .current_dir(dir.path())
            .env_remove("RUST_LOG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        for i in 0..5 {
            writeln!(
                stdin,
                r#"{{"id":"e{i}","time":"2023-05-01T00:00:0{i}Z","kind":"shelling"}}"#
            )
            .unwrap();
        }
        write!(stdin, r#"{{"id":"partial","ti"#).unwrap();
        stdin.flush().unwrap();
        // Data was there before it waited, so everything written has been read.
        wait_for_stdin(&child);
        let killed = Command::new("kill")
            .args([format!("-{signal}"), child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let output = child.wait_with_output().unwrap();
        drop(stdin);
        assert_eq!(output.status.code(), Some(code), "SIG{signal}");
        assert_eq!(
            String::from_utf8_lossy(&output.stderr),
            format!(
                "warning: interrupted by SIG{signal}: the stream was judged up to the last event read; the incomplete line after it (19 bytes) was not read, and the report says so\n"
            )
        );
        let written = std::fs::read_to_string(dir.path().join("report.out")).unwrap();
        if format == "json" {
            let report: Value = serde_json::from_str(&written).unwrap();
            assert_eq!(report["options"]["interrupted"], "SIGTERM");
            assert_eq!(report["summary"]["events"], 5);
            assert_eq!(report["violations"].as_array().unwrap().len(), 5);
        } else {
            assert!(
                written.contains(
                    "INTERRUPTED by SIGINT: the stream was judged up to the last event read\n"
                ),
                "{written}"
            );
            assert!(written.contains("5 event(s) from 1 input(s)"), "{written}");
        }
    }
}

/// Waits until `child` waits in poll(2) for standard input (syscall 7 on x86_64; ppoll, 73 on
/// aarch64): once it does, it has read and judged all it was given.
fn wait_for_stdin(child: &std::process::Child) {
    let syscall = format!("/proc/{}/syscall", child.id());
    let waiting = (0..2000).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(10));
        std::fs::read_to_string(&syscall).is_ok_and(|s| s.starts_with("7 ") || s.starts_with("73 "))
    });
    assert!(waiting, "pactum never waited on standard input");
}

/// Issue 12: events waiting in a stream's reorder buffer were bounded in time
/// (`--max-delay`), not in memory: 9 lines of 1 MiB of one-entry objects made the buffer hold
/// 644 MiB. Now the events waiting may occupy 48 MiB (as `Event::footprint` counts them; each
/// such line counts some 79 MB): past that the earliest is judged ahead of its time, and an
/// event that then comes with an earlier time is late. Here three such lines come out of
/// order within a minute: before, all three waited and were judged in time order (no late
/// event); now each is judged on arrival, and the second, earlier than the first, is late.
/// The same for a file read through a buffer as long as its lateness.
/// Issue 13: a burst of 10,000 qualifying events for one threshold term (one a minute, a
/// window of an hour, a count of 3) is one incident of 9,998 violations, whose peak is the
/// window's 60 events; the Markdown and HTML reports show the incident before the violations,
/// which are folded away.
fn a_burst_of_ten_thousand_is_one_incident() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("rules.yaml"),
        "agreement: b\ntitle: Burst\nparties: {TR: Türkiye}\nterms:\n  - {id: tempo, title: Tempo, breached_by: TR, when: 'event.kind == \"strike\"', threshold: {count: 3, within: 1h, by: event.sector}}\n",
    )
    .unwrap();
    let start = chrono::DateTime::parse_from_rfc3339("2024-03-01T00:00:00Z").unwrap();
    let mut events = String::new();
    for i in 0..10_000 {
        let time = (start + chrono::TimeDelta::minutes(i)).to_utc();
        events.push_str(&format!(
            "{{\"id\":\"s{i}\",\"time\":\"{}\",\"kind\":\"strike\",\"sector\":\"Zap\"}}\n",
            time.format("%Y-%m-%dT%H:%M:%SZ")
        ));
    }
    std::fs::write(dir.path().join("burst.jsonl"), events).unwrap();
    let replay = |format: &str| {
        let output = Command::new(BIN)
            .args([
                "replay",
                "-q",
                "-r",
                "rules.yaml",
                "-f",
                format,
                "burst.jsonl",
            ])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{format}: {output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let report: Value = serde_json::from_str(&replay("json")).unwrap();
    assert_eq!(report["summary"]["violations"], 9_998);
    let incidents = report["incidents"].as_array().unwrap();
    assert_eq!(incidents.len(), 1);
    let incident = &incidents[0];
    assert_eq!(incident["term"], "tempo");
    assert_eq!(incident["key"], "Zap");
    assert_eq!(incident["first"], "2024-03-01T00:02:00Z");
    assert_eq!(incident["last"], "2024-03-07T22:39:00Z");
    assert_eq!(incident["violations"], 9_998);
    // Within an hour, an hour earlier excluded (docs/semantics.md): the 60 events of minutes
    // m-59 to m, first at minute 59.
    assert_eq!(incident["peak"]["in_window"], 60);
    assert_eq!(incident["peak"]["time"], "2024-03-01T00:59:00Z");
    let opened_by: Vec<&str> = incident["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(opened_by, ["s0", "s1", "s2"]);
    let markdown = replay("markdown");
    let incidents_at = markdown.find("\n## Incidents\n").unwrap();
    let violations_at = markdown.find("\n## Violations\n").unwrap();
    assert!(incidents_at < violations_at);
    assert!(markdown.contains(
        "| 1 | `b/tempo` Tempo | medium | TR | Zap | 2024-03-01T00:02:00Z | 2024-03-07T22:39:00Z | 9998 | 60 events in the window at 2024-03-01T00:59:00Z |"
    ));
    assert!(markdown[violations_at..].starts_with(
        "\n## Violations\n\n<details><summary>9998 violations, one by one</summary>\n"
    ));
    let html = replay("html");
    let incidents_at = html.find("<h2 id=\"incidents\">Incidents</h2>").unwrap();
    let folded_at = html
        .find(
            "<details id=\"violations-one-by-one\"><summary>9998 violations, one by one</summary>",
        )
        .unwrap();
    assert!(incidents_at < folded_at);
    assert!(html.find("id=\"violations\"").unwrap() > folded_at);
    assert_eq!(
        html.matches("<table class=\"sortable\" id=\"incidents\">")
            .count(),
        1
    );
}

fn regression_waiting_events_bounded_in_memory() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("rules.yaml"),
        // The second term reads `x`, so that it is parsed (it fails: the arrays are longer
        // than Rhai allows).
        "agreement: w\ntitle: W\nparties: {IQ: Iraq}\nterms:\n  - {id: t, title: T, breached_by: IQ, when: 'event.kind == \"k\"', threshold: {count: 1, within: 1h}}\n  - {id: x, title: X, breached_by: IQ, when: 'event.x.len() > 0'}\n",
    )
    .unwrap();
    // A line just under the 1 MiB limit: an array of `{"a":0}`.
    let dense = |id: &str, second: u32| {
        let head =
            format!(r#"{{"id":"{id}","time":"2024-01-01T00:00:{second:02}Z","kind":"k","x":["#);
        let mut line = head;
        while line.len() < (1 << 20) - 16 {
            line.push_str(r#"{"a":0},"#);
        }
        line.pop();
        line.push_str("]}");
        line
    };
    let lines = [dense("e2", 20), dense("e1", 10), dense("e3", 30)].join("\n") + "\n";
    std::fs::write(dir.path().join("dense.jsonl"), &lines).unwrap();
    for input in ["-", "dense.jsonl"] {
        let mut child = Command::new(BIN)
            .args(["replay", "-r", "rules.yaml", "-f", "json", input])
            .current_dir(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        if input == "-" {
            stdin.write_all(lines.as_bytes()).unwrap();
        }
        drop(stdin);
        let output = child.wait_with_output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{input}: {output:?}");
        let report: Value = serde_json::from_slice(&output.stdout).unwrap();
        let late: Vec<&str> = report["late"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["event"].as_str().unwrap())
            .collect();
        assert_eq!(late, ["e1"], "{input}");
        let judged: Vec<&str> = report["violations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["evidence"][0]["id"].as_str().unwrap())
            .collect();
        assert_eq!(judged, ["e1", "e2", "e3"], "{input}");
    }
}

/// Issue 12, found while merging: Rhai seeded its hashes from each run's address layout, and
/// what an evaluation allocated (so the units a term was charged) depended on them: one run in
/// twenty of `case::regression-term-budget-bytes` reported 3,100 units more spent. pactum now
/// fixes the seed. The same replay, 24 times (each with its own address layout): one report.
/// (Before the fix, 24 runs differed at least once about seven times in ten.)
fn regression_units_do_not_depend_on_the_address_layout() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("rules.yaml"),
        "agreement: budget\ntitle: Budget\nparties: {IQ: Iraq}\nfunctions: |\n  fn heavy(e) { let s = e.id; s.pad(8000, \"y\"); for i in 0..70 { let t = s + s; } e.id != \"\" }\nterms:\n  - {id: bytes, title: Allocates, breached_by: IQ, when: heavy(event)}\n",
    )
    .unwrap();
    let events: String = (0..700)
        .map(|i| format!("{{\"id\":\"e{i}\",\"time\":\"2024-01-01T00:{:02}:{:02}Z\",\"kind\":\"shelling\"}}\n", i / 60, i % 60))
        .collect();
    std::fs::write(dir.path().join("events.jsonl"), events).unwrap();
    let reports: Vec<Vec<u8>> = (0..6)
        .flat_map(|_| {
            let children: Vec<_> = (0..4)
                .map(|_| {
                    Command::new(BIN)
                        .args(["replay", "-r", "rules.yaml", "-f", "json", "events.jsonl"])
                        .current_dir(dir.path())
                        .stdout(Stdio::piped())
                        .stderr(Stdio::null())
                        .spawn()
                        .unwrap()
                })
                .collect();
            children
                .into_iter()
                .map(|child| child.wait_with_output().unwrap().stdout)
                .collect::<Vec<_>>()
        })
        .collect();
    let first: Value = serde_json::from_slice(&reports[0]).unwrap();
    assert_eq!(
        first["suspended"][0]["term"], "bytes",
        "the term must pass its budget"
    );
    for report in &reports {
        assert!(report == &reports[0], "two runs of one replay differ");
    }
}

/// A stream of `events` synthetic reports for scenarios/stream-checkpoint/agreement.yaml,
/// from a fixed seed: one every 0–4 minutes, one in 40 up to 10 minutes late (with
/// `--max-delay 5m`, some are judged late), an invalid line every 997 lines and a blank one
/// every 499.
fn sector_stream(events: usize) -> Vec<String> {
    const KINDS: &[&str] = &[
        "patrol",
        "patrol",
        "checkpoint_report",
        "troop_movement",
        "armed_presence",
        "artillery",
        "notification",
        "airstrike",
        "drone_strike",
        "armed_clash",
    ];
    const ACTORS: &[&str] = &["TR", "TR", "KRG", "IQ", "IR", "PKK", "PJAK", "KDPI"];
    let mut state: u64 = 0x5EED_2024_1023;
    let mut next = move |n: u64| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) % n
    };
    let start = chrono::DateTime::parse_from_rfc3339("2024-01-01T00:00:00Z").unwrap();
    let mut clock = 0i64;
    let mut lines = Vec::new();
    for n in 1..=events {
        clock += next(240) as i64;
        let late = if next(40) == 0 { next(600) as i64 } else { 0 };
        let time = start + chrono::TimeDelta::seconds(clock - late);
        let actor = ACTORS[next(ACTORS.len() as u64) as usize];
        let party = if actor == "KRG" { "IQ" } else { actor };
        lines.push(format!(
            r#"{{"id":"e{n}","time":"{}","kind":"{}","actor":"{actor}","party":"{party}","sector":"S{:02}","lat":{}.{:03},"lon":{}.{:03}}}"#,
            time.format("%Y-%m-%dT%H:%M:%SZ"),
            KINDS[next(KINDS.len() as u64) as usize],
            1 + next(40),
            36 + next(2),
            next(1000),
            42 + next(4),
            next(1000),
        ));
        if n % 997 == 0 {
            lines.push(r#"{"time": "not a time", "kind": "patrol"}"#.into());
        }
        if n % 499 == 0 {
            lines.push(String::new());
        }
    }
    lines
}

/// `replay - --checkpoint`: a stream killed with SIGKILL and given again from its start
/// resumes from its last checkpoint, and the report is byte for byte the one a run never
/// killed writes — every form of term (scenarios/stream-checkpoint), late events, skipped
/// lines, a run killed twice. The kills come once pactum has judged all it was given (it
/// waits on standard input again), after a number of lines drawn from a fixed seed, so the
/// trial does not depend on timing; benches/kill_resume.py kills at random moments instead.
/// A checkpoint is refused for another stream, and for other rules.
fn killed_stream_resumes_from_its_checkpoint() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let stream = sector_stream(6000);
    let everything = stream.join("\n") + "\n";
    let rules = root().join("scenarios/stream-checkpoint/agreement.yaml");
    let replay = |extra: &[&str]| {
        let mut command = Command::new(BIN);
        command
            .args(["replay", "-r"])
            .arg(&rules)
            .args(["-", "-f", "json", "-o", "report.json", "--max-delay", "5m"])
            .args(["--skip-invalid", "--allow-root"])
            .arg(root())
            .args(extra)
            .current_dir(dir.path())
            .env_remove("RUST_LOG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    };
    let run_to_end = |extra: &[&str]| {
        let mut child = replay(extra).spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(everything.as_bytes()).unwrap();
        drop(stdin);
        let output = child.wait_with_output().unwrap();
        let report = std::fs::read(dir.path().join("report.json")).unwrap();
        (output, report)
    };
    let (output, expected) = run_to_end(&[]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let report: Value = serde_json::from_slice(&expected).unwrap();
    // Worth something only if every form decided something, and lines were late and skipped.
    for term in report["summary"]["by_term"].as_array().unwrap() {
        assert!(term["violations"].as_u64().unwrap() > 0, "{term}");
    }
    assert!(!report["late"].as_array().unwrap().is_empty());
    assert!(!report["skipped"].as_array().unwrap().is_empty());
    let checkpoint = ["--checkpoint", "state", "--checkpoint-every", "250"];
    // Judges the first `lines` lines with `args`, then SIGKILL.
    let kill_after = |args: &[&str], lines: usize| {
        let mut child = replay(args).spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        for line in &stream[..lines] {
            writeln!(stdin, "{line}").unwrap();
        }
        stdin.flush().unwrap();
        wait_for_stdin(&child);
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(
            dir.path().join("state").is_file(),
            "no checkpoint after {lines} lines"
        );
    };
    // The run to the end after kills: it exits 0, writes `expected`, and leaves no
    // checkpoint behind.
    let resumes_to = |args: &[&str], expected: &[u8], what: &str| {
        let (output, report) = run_to_end(args);
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        assert!(report == expected, "the resumed report differs {what}");
        assert!(!dir.path().join("state").exists());
        assert!(!dir.path().join("state.violations").exists());
    };
    let mut draw: u64 = 7;
    for kills in [1, 1, 2, 1, 3] {
        for _ in 0..kills {
            draw = draw.wrapping_mul(6364136223846793005).wrapping_add(1);
            kill_after(
                &checkpoint,
                300 + (draw >> 33) as usize % (stream.len() - 300),
            );
        }
        resumes_to(&checkpoint, &expected, &format!("after {kills} kill(s)"));
    }
    // The plain interpreter's states (every deadline a scan): saved and resumed as well.
    let plain = [
        "--checkpoint",
        "state",
        "--checkpoint-every",
        "250",
        "--no-memo",
    ];
    kill_after(&plain, 2500);
    resumes_to(&plain, &expected, "without the memo");
    // Terms suspended for their live state before the checkpoint stay suspended after it,
    // their state let go.
    let limited = ["--term-state-limit", "100000"];
    let (_, expected_limited) = run_to_end(&limited);
    let suspended: Value = serde_json::from_slice(&expected_limited).unwrap();
    // Some before the kill below (line 4,000), so that the checkpoint holds them suspended.
    let lines: Vec<u64> = suspended["suspended"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["line"].as_u64().unwrap())
        .collect();
    assert!(
        lines.iter().filter(|&&line| line < 3500).count() >= 2,
        "{lines:?}"
    );
    let limited_checkpoint = [
        "--term-state-limit",
        "100000",
        "--checkpoint",
        "state",
        "--checkpoint-every",
        "250",
    ];
    kill_after(&limited_checkpoint, 4000);
    resumes_to(
        &limited_checkpoint,
        &expected_limited,
        "with terms suspended",
    );
    // Two runs on one checkpoint: the second is refused while the first runs.
    let mut first = replay(&checkpoint).spawn().unwrap();
    wait_for_stdin(&first);
    let second = replay(&checkpoint).stdin(Stdio::null()).output().unwrap();
    assert_eq!(second.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&second.stderr),
        "error: state.violations is in use by another run of pactum on the same checkpoint\n"
    );
    first.kill().unwrap();
    first.wait().unwrap();
    // Another stream, or other rules: refused, and the checkpoint kept.
    kill_after(&checkpoint, 1000);
    let mut child = replay(&checkpoint).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let other = everything.replacen("\"e1\"", "\"E1\"", 1);
    // It stops reading at the checkpoint's place.
    let _ = stdin.write_all(other.as_bytes());
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("is not the stream the checkpoint was taken on, from its start"),
        "{stderr}"
    );
    assert!(dir.path().join("state").is_file());
    std::fs::write(
        dir.path().join("other.yaml"),
        "agreement: other\ntitle: O\nparties: {IQ: Iraq}\nterms:\n  - {id: t, title: T, breached_by: IQ, when: 'true'}\n",
    )
    .unwrap();
    let output = Command::new(BIN)
        .args(["replay", "-r", "other.yaml", "-", "--checkpoint", "state"])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr,
        "error: cannot resume from state: taken with other rules, another mapping or other options (--until, --max-delay, --skip-invalid) than this run's\n"
    );
    // SIGINT while the stream before the checkpoint is read again (found in review: it said
    // the stream was another): an interruption, exit 130, the checkpoint kept.
    let mut child = replay(&checkpoint).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for line in &stream[..100] {
        writeln!(stdin, "{line}").unwrap();
    }
    stdin.flush().unwrap();
    wait_for_stdin(&child);
    let signalled = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(signalled.success());
    let output = child.wait_with_output().unwrap();
    drop(stdin);
    assert_eq!(output.status.code(), Some(130), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("warning: interrupted by SIGINT while reading the stream again up to the checkpoint (100 of "),
        "{stderr}"
    );
    assert!(dir.path().join("state").is_file());
}

/// One rule of the hostile corpus (`tests/hostile/`, measured by `benches/hostile.py`)
/// replayed on three events with the memo off: each evaluation ends as its `# expect:` line
/// says (the first words of the term's error, on every event; or `fires`, on every event), or
/// the term is suspended for its live state after the event it names (`suspended for its live
/// state after eN`), the limit of one term lowered to the bytes of its `# limit:` line (the
/// real limit would take hundreds of thousands of events to pass).
fn hostile_rule(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap();
    let expect = text
        .lines()
        .find_map(|l| l.strip_prefix("# expect: "))
        .unwrap_or_else(|| panic!("{}: no `# expect:` line", path.display()));
    let limit = text.lines().find_map(|l| l.strip_prefix("# limit: "));
    let dir = tempfile::tempdir().unwrap();
    let events: String = (0..3)
        .map(|i| {
            format!(
                "{{\"id\":\"e{i}\",\"time\":\"2024-01-01T00:00:0{i}Z\",\"kind\":\"shelling\"}}\n"
            )
        })
        .collect();
    std::fs::write(dir.path().join("events.jsonl"), events).unwrap();
    let limit = limit.map(|bytes| ["--term-state-limit".to_string(), bytes.to_string()]);
    let args: Vec<String> = ["replay", "--no-memo", "--format", "json", "--rules"]
        .iter()
        .map(|s| s.to_string())
        .chain([path.display().to_string(), "events.jsonl".into()])
        .chain(limit.into_iter().flatten())
        .collect();
    let output = pactum(dir.path(), &args, None);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let by_term = &report["summary"]["by_term"][0];
    if let Some(event) = expect.strip_prefix("suspended for its live state after ") {
        let suspended = &report["suspended"][0];
        assert_eq!(
            suspended["reason"],
            "state",
            "{}: {suspended}",
            path.display()
        );
        assert_eq!(suspended["event"], event, "{}: {suspended}", path.display());
        let judged = event.trim_start_matches('e').parse::<u64>().unwrap() + 1;
        assert_eq!(by_term["evaluated"], judged, "{}", path.display());
        assert_eq!(by_term["suspended"], 3 - judged, "{}", path.display());
    } else if expect == "fires" {
        assert_eq!(by_term["violations"], 3, "{}", path.display());
        assert_eq!(
            report["errors"],
            serde_json::json!([]),
            "{}",
            path.display()
        );
    } else {
        let error = &report["errors"][0];
        assert_eq!(error["count"], 3, "{}: {error}", path.display());
        let message = error["first"]["message"].as_str().unwrap();
        assert!(
            message.starts_with(expect),
            "{}: expected `{expect}`, found `{message}`",
            path.display()
        );
    }
}

/// A replay's report in `format`, as text.
fn replay_as(
    dir: &Path,
    rules: &[String],
    events: &[String],
    extra: &[&str],
    format: &str,
) -> (Option<Value>, String) {
    let mut args: Vec<String> = vec!["replay".into(), "--format".into(), format.into()];
    for r in rules {
        args.push("--rules".into());
        args.push(r.clone());
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(events.iter().cloned());
    let out = pactum(dir, &args, None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    (serde_json::from_str(&stdout).ok(), stdout)
}

fn replay_json(dir: &Path, rules: &[String], events: &[String], extra: &[&str]) -> (Value, String) {
    let (report, text) = replay_as(dir, rules, events, extra, "json");
    (report.expect("a JSON report"), text)
}

/// The part of a violation a scenario states: which term, when, by whom, on what evidence.
fn essentials(report: &Value) -> Vec<Value> {
    report["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let mut essential = serde_json::json!({
                "agreement": v["agreement"],
                "term": v["term"],
                "time": v["time"],
                "breached_by": v["breached_by"],
                "evidence": v["evidence"].as_array().unwrap().iter().map(|e| e["id"].clone()).collect::<Vec<_>>(),
            });
            // The key of a keyed form says which sector (say) the violation is about.
            if !v["key"].is_null() {
                essential["key"] = v["key"].clone();
            }
            essential
        })
        .collect()
}

/// Violations per term id, from a report's summary.
fn violations_per_term(report: &Value) -> std::collections::BTreeMap<String, u64> {
    report["summary"]["by_term"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["term"].as_str().unwrap().to_string(),
                t["violations"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// The open obligations of a report, as a scenario states them.
fn open_obligations(report: &Value) -> Vec<Value> {
    report["open"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| serde_json::json!({"agreement": o["agreement"], "term": o["term"], "trigger": o["trigger"], "due": o["due"]}))
        .collect()
}

/// What each scenario states is checked by `pactum test` itself, with clause coverage.
fn scenario_coverage() {
    // Every term of every agreement the scenarios load needs a positive and a negative case.
    let out = pactum(
        &root(),
        &[
            "test".into(),
            // The shipped scenarios name ../../rules/, outside their folders.
            "--allow-root".into(),
            ".".into(),
            "--coverage".into(),
            "--min-coverage".into(),
            "100".into(),
            "--rules".into(),
            "rules".into(),
        ],
        None,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("coverage: 100.0 %"), "{stdout}");
}

/// The options a shipped scenario is replayed with, as `pactum test` replays it: the
/// repository as an allowed root (its agreements may read the shipped maps, in rules/), its
/// mapping, and `--skip-invalid` when it states skipped lines.
fn scenario_options(dir: &Path, scenario: &pactum::scenario::Scenario) -> Vec<String> {
    let mut options: Vec<String> = vec!["--allow-root".into(), root().display().to_string()];
    if let Some(file) = &scenario.map {
        options.extend(["--map".into(), dir.join(file).display().to_string()]);
    }
    if scenario.expect.skipped > 0 {
        options.push("--skip-invalid".into());
    }
    options
}

/// One shipped scenario, beyond what it states: the same report whatever the run, the memo or
/// the line order, and the same bytes rendered again from the saved JSON.
fn scenario(dir: &Path) {
    let path = dir.join("scenario.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let scenario =
        pactum::scenario::load(&path.display().to_string(), &text, &repository_roots()).unwrap();
    let map = scenario_options(dir, &scenario);
    let map: Vec<&str> = map.iter().map(String::as_str).collect();
    let with = |extra: &[&'static str]| -> Vec<&str> {
        map.iter().copied().chain(extra.iter().copied()).collect()
    };
    let (report, bytes) = replay_json(dir, &scenario.rules, &scenario.events, &with(&[]));
    let name = dir.file_name().unwrap().to_string_lossy().to_string();
    let actual = essentials(&report);

    // Every format renders from the saved JSON to the bytes the replay writes, and the
    // Markdown says what a reader needs: inputs with their SHA-256, every violation with
    // its evidence.
    let saved = tempfile::tempdir().unwrap();
    let json_file = saved.path().join("report.json");
    std::fs::write(&json_file, &bytes).unwrap();
    for format in ["text", "markdown", "json", "html"] {
        let (_, direct) = replay_as(dir, &scenario.rules, &scenario.events, &with(&[]), format);
        let rendered = pactum(
            dir,
            &[
                "report".into(),
                json_file.display().to_string(),
                "--format".into(),
                format.into(),
            ],
            None,
        );
        assert_eq!(
            String::from_utf8_lossy(&rendered.stdout),
            direct,
            "{name}: `pactum report --format {format}` differs from the replay's"
        );
        if format == "html" {
            assert_self_contained_html(&direct, &name);
            let rows = report["summary"]["violations"].as_u64().unwrap();
            for n in 1..=rows {
                assert!(
                    direct.contains(&format!("<tr id=\"v{n}\">")),
                    "{name}: row {n}"
                );
            }
            assert!(
                direct.contains("<table class=\"sortable\" id=\"violations\">"),
                "{name}"
            );
            if rows > 0 {
                assert!(
                    direct.contains("<table class=\"sortable\" id=\"periods\">"),
                    "{name}: per-period table"
                );
            }
            if rows > 0 {
                assert!(
                    direct.contains("<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"timeline\""),
                    "{name}"
                );
            }
            // The map: drawn when an agreement has geography, one dot per located violation.
            let shapes = report["agreements"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["shapes"].as_array().is_some_and(|s| !s.is_empty()));
            let located = report["violations"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|v| v["location"]["lat"].is_f64() && v["location"]["lon"].is_f64())
                .count();
            if shapes || located > 0 {
                assert!(direct.contains("id=\"map\""), "{name}: no map");
                // Fit to print (issue 13): a scale bar and a legend of the severities.
                assert!(
                    direct.contains("<g class=\"scale\">"),
                    "{name}: no scale bar"
                );
                assert!(direct.contains("<g class=\"legend\">"), "{name}: no legend");
            }
            // Each dot says its violation's severity, and is coloured by it.
            for v in report["violations"].as_array().unwrap() {
                if v["location"]["lat"].is_f64() && v["location"]["lon"].is_f64() {
                    let severity = v["severity"].as_str().unwrap();
                    assert!(
                        direct.contains(&format!(
                            "<circle class=\"violation\" data-severity=\"{severity}\""
                        )),
                        "{name}: a dot of severity {severity}"
                    );
                }
            }
            // Each located violation is a dot in view or listed under the map (issue 13: the
            // view is fitted to the area of interest, a far outlier listed rather than drawn).
            let map = elements(&direct);
            let listed = map
                .iter()
                .filter(|e| e.name == "li" && e.is_within("outside"))
                .count();
            assert!(listed <= 20, "{name}: {listed} listed outside the map");
            assert_eq!(
                direct.matches("<circle class=\"violation\"").count() + listed,
                located,
                "{name}: one dot per located violation, or a line under the map"
            );
            // Every strip cut to an area is drawn on that side of its line only: clipped to
            // the area (issue 13: strips inside Iraq were drawn into Iran and Türkiye).
            let cut_strips = report["agreements"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|a| a["shapes"].as_array().cloned().unwrap_or_default())
                .filter(|s| s["kind"] == "strip" && s["inside"].is_string())
                .map(|s| s["name"].as_str().unwrap().to_string())
                .collect::<std::collections::BTreeSet<_>>()
                .len();
            assert_eq!(
                direct.matches("clip-path=\"url(#strip-inside-").count(),
                cut_strips,
                "{name}: every strip with `inside` clipped to its area"
            );
        }
        if format == "markdown" {
            for input in report["inputs"].as_array().unwrap() {
                assert!(direct.contains(input["sha256"].as_str().unwrap()), "{name}");
            }
            let sections = direct
                .lines()
                .filter(|l| l.starts_with("### ") && l.contains(" — `"))
                .count();
            assert_eq!(sections as u64, report["summary"]["violations"], "{name}");
            for v in report["violations"].as_array().unwrap() {
                for e in v["evidence"].as_array().unwrap() {
                    let id = e["id"].as_str().unwrap().replace('`', "'");
                    assert!(direct.contains(&format!("`{id}`")), "{name}: {id}");
                }
            }
        }
    }

    // Deterministic: the same bytes again, and the same bytes without the memo.
    let (_, again) = replay_json(dir, &scenario.rules, &scenario.events, &with(&[]));
    assert_eq!(bytes, again, "{name}: two runs differ");
    let (_, plain) = replay_json(
        dir,
        &scenario.rules,
        &scenario.events,
        &with(&["--no-memo"]),
    );
    assert_eq!(bytes, plain, "{name}: the memo changed the report");

    // Order of lines does not matter: reverse every event file (a CSV file's records,
    // its header kept first).
    let shuffled = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (i, events) in scenario.events.iter().enumerate() {
        let file = shuffled.path().join(format!(
            "{i}-{}",
            Path::new(events).file_name().unwrap().to_string_lossy()
        ));
        if events.ends_with(".csv") {
            reverse_csv(&dir.join(events), &file);
        } else {
            let text = std::fs::read_to_string(dir.join(events)).unwrap();
            let mut lines: Vec<&str> = text.lines().collect();
            lines.reverse();
            std::fs::write(&file, lines.join("\n") + "\n").unwrap();
        }
        files.push(file.display().to_string());
    }
    let rules: Vec<String> = scenario
        .rules
        .iter()
        .map(|r| dir.join(r).display().to_string())
        .collect();
    let (reversed, _) = replay_json(dir, &rules, &files, &with(&[]));
    assert_eq!(
        essentials(&reversed),
        actual,
        "{name}: reversed lines give other violations"
    );
    assert_eq!(
        open_obligations(&reversed),
        open_obligations(&report),
        "{name}: reversed lines give other open obligations"
    );
}

/// Writes the records of the CSV file `from` to `to` in reverse order, the header first.
fn reverse_csv(from: &Path, to: &Path) {
    let mut reader = csv::Reader::from_path(from).unwrap();
    let header = reader.byte_headers().unwrap().clone();
    let mut records: Vec<csv::ByteRecord> = reader.byte_records().map(Result::unwrap).collect();
    records.reverse();
    let mut writer = csv::Writer::from_path(to).unwrap();
    writer.write_byte_record(&header).unwrap();
    for record in &records {
        writer.write_byte_record(record).unwrap();
    }
    writer.flush().unwrap();
}

/// The README's command for the UCDP scenario runs as written, from the repository root, and
/// gives the counts per term its scenario states.
fn readme_ucdp_command() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let start = readme
        .find("pactum replay --rules scenarios/ucdp-northern-iraq/")
        .expect("the README shows the UCDP command");
    let mut command = String::new();
    for line in readme[start..].lines() {
        match line.trim().strip_suffix('\\') {
            Some(continued) => command.push_str(continued),
            None => {
                command.push_str(line.trim());
                break;
            }
        }
        command.push(' ');
    }
    let mut args: Vec<String> = command
        .split_whitespace()
        .skip(1)
        .map(str::to_string)
        .collect();
    args.insert(1, "--format".into());
    args.insert(2, "json".into());
    let out = pactum(&root(), &args, None);
    assert_eq!(out.status.code(), Some(0), "{command}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let path = root().join("scenarios/ucdp-northern-iraq/scenario.yaml");
    let scenario = pactum::scenario::load(
        &path.display().to_string(),
        &std::fs::read_to_string(&path).unwrap(),
        &repository_roots(),
    )
    .unwrap();
    assert_eq!(
        Some(violations_per_term(&report)),
        scenario.expect.counts,
        "{command}"
    );
    assert_eq!(report["summary"]["events"], 3056);
}

/// The README's five-minute tour runs as written: its agreement and incidents give the
/// violation line it shows, and the misspelling it shows gives the diagnostic it shows.
fn readme_tour() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let block = |opening: &str, from: usize| -> (String, usize) {
        let start = readme[from..].find(opening).unwrap() + from + opening.len();
        let end = readme[start..].find("```").unwrap() + start;
        (readme[start..end].to_string(), end)
    };
    let (agreement, after) = block("```yaml\n", readme.find("## A five-minute tour").unwrap());
    let (diagnostic, after) = block("```text\n", after);
    let (incidents, after) = block("```json\n", after);
    let (replay, _) = block("```text\n", after);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("my-agreement.yaml"), &agreement).unwrap();
    std::fs::write(dir.path().join("incidents.jsonl"), &incidents).unwrap();

    let out = pactum(
        dir.path(),
        &[
            "replay".into(),
            "--rules".into(),
            "my-agreement.yaml".into(),
            "incidents.jsonl".into(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    let shown = replay.lines().last().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.lines().any(|l| l == shown),
        "README shows {shown:?}, replay gave:\n{stdout}"
    );

    let typo = agreement.replace("event.kind in operations", "event.kind in operation");
    std::fs::write(dir.path().join("my-agreement.yaml"), typo).unwrap();
    let out = pactum(
        dir.path(),
        &["check".into(), "my-agreement.yaml".into()],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let shown: String = diagnostic
        .lines()
        .skip(1)
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(
        stderr.starts_with(&shown),
        "README shows:\n{shown}\ncheck gave:\n{stderr}"
    );
}

/// The shipped agreements are valid.
fn shipped_rules_check() {
    let out = pactum(&root(), &["check".into(), "rules".into()], None);
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "ok: rules/iraq-iran-2023.yaml (iq-ir-border-2023, 10 term(s))\nok: rules/iraq-turkey-2024.yaml (iq-tr-security-2024, 6 term(s))\n"
    );
    assert_eq!(out.status.code(), Some(0));
}

/// The shipped mappings are valid.
fn shipped_mappings_check() {
    let out = pactum(
        &root(),
        &[
            "check".into(),
            "--map".into(),
            "rules/mappings/ucdp-ged.yaml".into(),
        ],
        None,
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "ok: rules/mappings/ucdp-ged.yaml (mapping ucdp-ged, 21 field(s))\n"
    );
    assert_eq!(out.status.code(), Some(0));
}

/// A reader that closes the pipe early (`| head`) does not change the exit code:
/// `--fail-on` still exits 1, and nothing is reported as an error.
fn closed_pipe_keeps_the_exit_code() {
    let dir = root().join("scenarios/ankara-strikes-2024");
    let mut child = Command::new(BIN)
        .args([
            "replay",
            "--rules",
            "../../rules",
            "--fail-on",
            "low",
            "--format",
            "json",
            "events.jsonl",
        ])
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert_eq!(out.status.code(), Some(1));
}

/// `pactum new` writes files that pass `check` and `test` (a scenario with full clause
/// coverage), neutral (no real state's name or code), and never overwrites. (That each names
/// its schema, written beside it, is `tests/schema.rs`'s.)
fn new_scaffolds_pass_check_and_test() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        pactum(dir.path(), &args, None)
    };
    let out = run(&["new", "agreement", "border-deal"]);
    assert_eq!(out.status.code(), Some(0));
    let out = run(&["check", "border-deal.yaml"]);
    assert_eq!(
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).as_ref()
        ),
        (Some(0), "")
    );
    let out = run(&["new", "scenario", "first-strikes"]);
    assert_eq!(out.status.code(), Some(0));
    let out = run(&["test", "--min-coverage", "100", "first-strikes"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    for file in [
        "border-deal.yaml",
        "first-strikes/agreement.yaml",
        "first-strikes/events.jsonl",
        "first-strikes/scenario.yaml",
    ] {
        let text = std::fs::read_to_string(dir.path().join(file)).unwrap();
        for word in [
            "Iraq", "Iran", "Türk", "Turk", "\"IQ\"", "\"TR\"", ": IQ", ": TR",
        ] {
            assert!(!text.contains(word), "{file} names {word}:\n{text}");
        }
    }
    let out = run(&["new", "agreement", "border-deal"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: border-deal.yaml exists; nothing was written\n"
    );
    let out = run(&["new", "scenario", "Bad Name"]);
    assert_eq!(out.status.code(), Some(2));
}

/// Every file and command of docs/guide.md, run as written in one directory, in order: each
/// command's output (stdout, then stderr) must be the text the guide shows under it.
fn guide_examples() {
    let guide = std::fs::read_to_string(root().join("docs/guide.md")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut files = 0;
    let mut commands = 0;
    let mut failures = Vec::new();
    let mut lines = guide.lines();
    while let Some(line) = lines.next() {
        let Some(info) = line.strip_prefix("```") else {
            continue;
        };
        let mut block = Vec::new();
        for inner in lines.by_ref() {
            if inner.starts_with("```") {
                break;
            }
            block.push(inner);
        }
        if let Some(name) = info
            .split_whitespace()
            .find_map(|w| w.strip_prefix("file="))
        {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, block.join("\n") + "\n").unwrap();
            files += 1;
        } else if info == "console" {
            let mut i = 0;
            while i < block.len() {
                let command = block[i]
                    .strip_prefix("$ pactum ")
                    .expect("a `$ pactum …` line");
                let mut expected = Vec::new();
                i += 1;
                while i < block.len() && !block[i].starts_with("$ ") {
                    expected.push(block[i]);
                    i += 1;
                }
                let args: Vec<String> = command.split_whitespace().map(str::to_string).collect();
                let out = pactum(dir.path(), &args, None);
                let shown = format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
                let expected = expected.join("\n") + "\n";
                if shown != expected {
                    failures.push(format!("$ pactum {command}\n{shown}"));
                }
                commands += 1;
            }
        }
    }
    assert!(
        files >= 8 && commands >= 5,
        "{files} files, {commands} commands"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n---\n"));
}

/// Every diagnostic code is exercised by at least one case that asserts its file, line and column (a case's `diagnostics:` entries), and documented in docs/rules.md.
fn every_diagnostic_code_has_a_case() {
    let mut seen = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(root().join("tests/cases")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let case: Value = serde_saphyr::from_str(&text).unwrap();
        for d in case["diagnostics"].as_array().into_iter().flatten() {
            if let (true, true, true, Some(code)) = (
                d["file"].is_string(),
                d["line"].is_u64(),
                d["column"].is_u64(),
                d["code"].as_str(),
            ) {
                seen.insert(code.to_string());
            }
        }
    }
    let rules = std::fs::read_to_string(root().join("docs/rules.md")).unwrap();
    for code in pactum::diagnostic::Code::ALL {
        let code = code.as_str();
        assert!(
            seen.contains(code),
            "no case asserts a `{code}` diagnostic with its position"
        );
        assert!(
            rules.contains(&format!("`{code}`")),
            "docs/rules.md does not list `{code}`"
        );
    }
}

/// `pactum diff` on two saved reports says what it says on the two rule sets, in every
/// format.
fn diff_of_saved_reports_equals_diff_of_rules() {
    let dir = root().join("scenarios/ankara-strikes-2024");
    let saved = tempfile::tempdir().unwrap();
    let old_rules = root()
        .join("rules/iraq-turkey-2024.yaml")
        .display()
        .to_string();
    let new_rules = root()
        .join("rules/drafts/iraq-turkey-2025-redraft.yaml")
        .display()
        .to_string();
    let mut reports = Vec::new();
    for (side, rules) in [("old", &old_rules), ("new", &new_rules)] {
        let file = saved
            .path()
            .join(format!("{side}.json"))
            .display()
            .to_string();
        let out = pactum(
            &dir,
            &[
                "replay".into(),
                "--rules".into(),
                rules.clone(),
                // The draft reads the shipped maps from ../geo.
                "--allow-root".into(),
                root().join("rules").display().to_string(),
                "--format".into(),
                "json".into(),
                "-o".into(),
                file.clone(),
                "events.jsonl".into(),
            ],
            None,
        );
        assert_eq!(out.status.code(), Some(0));
        reports.push(file);
    }
    for format in ["text", "markdown", "json"] {
        let from_reports = pactum(
            &dir,
            &[
                "diff".into(),
                reports[0].clone(),
                reports[1].clone(),
                "--format".into(),
                format.into(),
            ],
            None,
        );
        let from_rules = pactum(
            &dir,
            &[
                "diff".into(),
                "--rules".into(),
                old_rules.clone(),
                "--rules".into(),
                new_rules.clone(),
                "--allow-root".into(),
                root().join("rules").display().to_string(),
                "events.jsonl".into(),
                "--format".into(),
                format.into(),
            ],
            None,
        );
        assert_eq!(from_reports.status.code(), Some(0));
        assert_eq!(from_reports.stdout, from_rules.stdout, "{format}");
        assert!(!from_reports.stdout.is_empty());
    }
}

/// An HTML report is well-formed XML (so that it can be checked, and parsed by any tool) and
/// self-contained: nothing in it is loaded from elsewhere.
fn assert_self_contained_html(html: &str, name: &str) {
    let mut reader = quick_xml::Reader::from_str(html);
    let mut depth = 0i64;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(_)) => depth += 1,
            Ok(quick_xml::events::Event::End(_)) => depth -= 1,
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(err) => panic!(
                "{name}: not well-formed at {}: {err}",
                reader.buffer_position()
            ),
        }
        assert!(depth >= 0, "{name}: an element closed twice");
    }
    assert_eq!(depth, 0, "{name}: unclosed elements");
    for load in ["<link", "@import", " src=", "<iframe", "<object", "<embed"] {
        assert!(!html.contains(load), "{name}: `{load}` in the HTML report");
    }
    // `url(` only for a reference inside the page (a strip's clip path, `url(#…)`).
    assert!(
        html.match_indices("url(")
            .all(|(at, _)| html[at..].starts_with("url(#")),
        "{name}: a `url(` to outside the HTML report"
    );
}

/// The HTML report of the shipped scenario, rendered by a real browser (headless Chromium):
/// the map and the tables are there, with one row per violation, and the script ran. Ignored
/// where Chromium is not installed, unless `PACTUM_REQUIRE_CHROMIUM` is set (`.ci/run`
/// installs Debian's `chromium` and sets it).
fn html_report_renders_in_chromium() -> Result<Completion, Failed> {
    let Some(chromium) = chromium() else {
        return Ok(Completion::ignored_with("no chromium on this machine"));
    };
    // A shipped scenario and the UCDP replay (issue 13's acceptance: each rendered).
    renders_in_chromium(
        chromium,
        &root().join("scenarios/ankara-strikes-2024"),
        &["../../rules".to_string()],
        &["events.jsonl".to_string()],
        &[],
    );
    renders_in_chromium(
        chromium,
        &root(),
        &["scenarios/ucdp-northern-iraq/cross-border.yaml".to_string()],
        &["scenarios/ucdp-northern-iraq/ucdp_ged_iraq_north.csv".to_string()],
        &[
            "--allow-root",
            "rules",
            "--map",
            "rules/mappings/ucdp-ged.yaml",
        ],
    );
    Ok(Completion::Completed)
}

/// Replays `events` under `rules` in `dir` to HTML and checks the page as Chromium draws it:
/// its parts, its landmarks, sorting, the strips' clipping and the labels.
fn renders_in_chromium(
    chromium: &str,
    dir: &Path,
    rules: &[String],
    events: &[String],
    extra: &[&str],
) {
    let (report, _) = replay_as(dir, rules, events, extra, "json");
    let report = report.unwrap();
    let (_, html) = replay_as(dir, rules, events, extra, "html");
    let work = tempfile::tempdir().unwrap();
    let page = work.path().join("report.html");
    // After the report's own script, as a reader would: sort the violations by severity, then
    // by time, and write down each order (issue 13: time was sorted by year alone, severity
    // alphabetically).
    let sorting = "<script>const t=document.getElementById('violations'),h=t.tHead.rows[0].cells;\
const col=i=>[...t.tBodies[0].rows].map(r=>r.cells[i].dataset.sort??r.cells[i].innerText).join(',');\
h[4].click();const sev=col(4);h[1].dispatchEvent(new KeyboardEvent('keydown',{key:'Enter'}));\
const time=col(1);const p=document.createElement('pre');p.id='sorted';\
p.textContent=sev+'|'+time+'|'+h[1].getAttribute('aria-sort');document.body.appendChild(p);</script>\
<script>const q=document.createElement('pre');q.id='labels';q.textContent=[...document.querySelectorAll('#map text.label')]\
.map(t=>{const b=t.getBBox();return [b.x,b.y,b.width,b.height].join(' ')}).join('\\n');document.body.appendChild(q);</script>\
<script>(()=>{const m=document.getElementById('map');m.scrollIntoView();const out=[];\
const probe=(s,c)=>{const b=s.getBBox(),w=+s.getAttribute('stroke-width'),svg=s.ownerSVGElement;const n=[0,0,0,0,0];\
for(let i=0;i<=60;i++)for(let j=0;j<=60;j++){const p=svg.createSVGPoint();p.x=b.x-w/2+(b.width+w)*i/60;p.y=b.y-w/2+(b.height+w)*j/60;\
if(!s.isPointInStroke(p))continue;const q=p.matrixTransform(s.getScreenCTM());\
if(q.x<0||q.y<0||q.x>=innerWidth||q.y>=innerHeight){n[4]++;continue}\
const hit=document.elementsFromPoint(q.x,q.y).includes(s);const k=c.isPointInFill(p)?2:0;n[k]++;if(hit)n[k+1]++}return n};\
for(const s of m.querySelectorAll('path.strip[clip-path]')){const id=s.getAttribute('clip-path').slice(5,-1);\
const c=document.getElementById(id).querySelector('path');const drawn=probe(s,c);\
s.removeAttribute('clip-path');const unclipped=probe(s,c);out.push([id,...drawn,unclipped[1]].join(' '))}\
const r=document.createElement('pre');r.id='clipping';r.textContent=out.join('\\n');document.body.appendChild(r)})()</script></body>";
    std::fs::write(&page, html.replace("</body>", sorting)).unwrap();
    let out = headless_chromium(chromium, &work.path().join("profile"))
        // Tall enough for the whole map in view, for the clipping probe's hit tests.
        .arg("--window-size=1000,1600")
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(dom.contains("id=\"map\""), "no map in the rendered page");
    // The strips as the browser draws them (issue 13: a strip inside Iraq was drawn into Iran
    // and Türkiye): points of a strip's band on the wrong side of its line — outside its
    // `inside` area — are not painted by it (hit tests honour the clip), points on its side
    // are; and the same strip without its clip paints the wrong side (the probe can fail).
    let clipping: Vec<Vec<&str>> = dom
        .split("<pre id=\"clipping\">")
        .nth(1)
        .and_then(|rest| rest.split("</pre>").next())
        .expect("the clipping probe ran")
        .lines()
        .map(|line| line.split(' ').collect())
        .collect();
    assert_eq!(clipping.len(), 2, "the two strips: {clipping:?}");
    for strip in &clipping {
        let n: Vec<u32> = strip[1..].iter().map(|v| v.parse().unwrap()).collect();
        let [
            wrong,
            wrong_painted,
            right,
            right_painted,
            out_of_view,
            unclipped_wrong_painted,
        ] = n[..]
        else {
            panic!("{strip:?}")
        };
        assert!(
            wrong > 100 && right > 100,
            "too few points probed: {strip:?}"
        );
        assert_eq!(out_of_view, 0, "the map out of the window: {strip:?}");
        assert_eq!(wrong_painted, 0, "{}: painted on the wrong side", strip[0]);
        assert_eq!(
            right_painted, right,
            "{}: not painted on its side",
            strip[0]
        );
        assert_eq!(
            unclipped_wrong_painted, wrong,
            "the probe cannot see: {strip:?}"
        );
    }
    // Accessibility (issue 13): one main landmark; the map a group, not an image, so that its
    // links to the violations are reachable; a viewport for small screens.
    assert_eq!(dom.matches("<main>").count(), 1, "no main landmark");
    assert!(
        dom.contains("id=\"map\" role=\"group\""),
        "the map is not a group"
    );
    assert!(dom.contains("name=\"viewport\""), "no viewport");
    assert!(
        dom.contains("id=\"timeline\""),
        "no timeline in the rendered page"
    );
    assert!(dom.contains("id=\"violations\""), "no violations table");
    let violations = report["summary"]["violations"].as_u64().unwrap() as usize;
    assert_eq!(dom.matches("<tr id=\"v").count(), violations);
    assert!(
        dom.contains("class=\"violation\""),
        "no violation on the map"
    );
    // The script ran: it reveals the filter, hidden for readers without JavaScript.
    assert!(dom.contains("id=\"filter\""));
    assert!(!dom.contains("hidden=\"hidden\""), "the script did not run");
    // Sorted by severity's rank, then (from the keyboard) by time as instants, not years.
    let sorted = dom
        .split("<pre id=\"sorted\">")
        .nth(1)
        .and_then(|rest| rest.split("</pre>").next())
        .expect("the sorting script ran");
    let parts: Vec<&str> = sorted.split('|').collect();
    let ranks: Vec<u8> = parts[0].split(',').map(|r| r.parse().unwrap()).collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{ranks:?}");
    assert!(ranks.first() < ranks.last(), "one severity only: {ranks:?}");
    let times: Vec<&str> = parts[1].split(',').collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    assert_eq!(times.len(), violations);
    assert_eq!(parts[2], "ascending");
    // The map's labels as drawn (issue 13): no two overlap, and none is wider than the
    // estimate their placement used (`label_box`), so that labels apart on paper are apart.
    let drawn: Vec<[f64; 4]> = dom
        .split("<pre id=\"labels\">")
        .nth(1)
        .and_then(|rest| rest.split("</pre>").next())
        .expect("the measuring script ran")
        .lines()
        .map(|line| {
            let n: Vec<f64> = line.split(' ').map(|v| v.parse().unwrap()).collect();
            [n[0], n[1], n[0] + n[2], n[1] + n[3]]
        })
        .collect();
    let labels: Vec<Element> = elements(&html)
        .into_iter()
        .filter(|e| e.name == "text" && e.is_within("labels"))
        .collect();
    assert_eq!(drawn.len(), labels.len(), "every label drawn");
    assert!(labels.len() >= 20, "the map's labels: {}", labels.len());
    for (i, (a, label)) in drawn.iter().zip(&labels).enumerate() {
        let estimate = label_box(label);
        assert!(
            a[2] - a[0] <= estimate[2] - estimate[0],
            "{:?} is {} px wide as drawn, more than its estimate {}",
            label.text,
            a[2] - a[0],
            estimate[2] - estimate[0]
        );
        for b in drawn.iter().skip(i + 1) {
            assert!(
                !overlap(a, b),
                "{:?} overlaps another label as drawn",
                label.text
            );
        }
    }
}

/// The Chromium this machine has (`chromium` or `chromium-browser`), or `None`: the browser
/// trials are then skipped, unless `PACTUM_REQUIRE_CHROMIUM` is set (`.ci/run` sets it), where
/// a missing browser fails them rather than passing them unseen.
fn chromium() -> Option<&'static str> {
    let found = ["chromium", "chromium-browser"].into_iter().find(|c| {
        Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    assert!(
        found.is_some() || std::env::var_os("PACTUM_REQUIRE_CHROMIUM").is_none(),
        "PACTUM_REQUIRE_CHROMIUM is set but Chromium is not installed"
    );
    found
}

/// Headless Chromium with a profile of its own (`profile`, a fresh folder, so that trials run
/// side by side), and nothing that reaches out to the network on its own: the trials read local
/// files only.
fn headless_chromium(chromium: &str, profile: &Path) -> Command {
    let mut command = Command::new(chromium);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()));
    command
}

/// The axe-core rules run on the HTML report: WCAG 2.0, 2.1 and 2.2 at levels A and AA, and
/// Deque's best practices.
const AXE_TAGS: &str = "['wcag2a','wcag2aa','wcag21a','wcag21aa','wcag22aa','best-practice']";

/// What the test's copy of a report runs after the report's own script (which has revealed the
/// filter), with `AXE_TAGS` defined before it: every `<details>` opened, so that the violations folded away are checked too; axe
/// on the whole page; then axe on a control of two known faults added to the page (an image
/// without a text alternative, faint text), which must be found, so that a check that finds
/// nothing cannot pass unseen. The outcome goes into the page as JSON (`<` escaped, so that no
/// text ends the element) for `--dump-dom` to bring out; a failure, as `{"error": …}`.
const AXE_RUN: &str = r#"for(const d of document.querySelectorAll('details'))d.open=true;
const opts={runOnly:{type:'tag',values:AXE_TAGS},resultTypes:['violations','incomplete']};
const brief=l=>l.map(v=>({id:v.id,impact:v.impact,help:v.help,
targets:v.nodes.map(n=>n.target.flat(9).join(' '))}));
const put=o=>{const s=document.createElement('script');s.type='application/json';s.id='axe-results';
s.textContent=JSON.stringify(o).replace(/</g,'\\u003c');document.body.appendChild(s)};
(async()=>{const page=await axe.run(document,opts);
const c=document.createElement('div');c.id='axe-control';
c.innerHTML='<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="/><p style="color:#bbb;background:#fff">faint text</p>';
(document.querySelector('main')||document.body).appendChild(c);
const control=await axe.run({include:[['#axe-control']]},opts);
put({version:page.testEngine.version,
rules:new Set([page.passes,page.violations,page.incomplete,page.inapplicable].flat().map(r=>r.id)).size,
violations:brief(page.violations),review:brief(page.incomplete),
control:brief(control.violations)})})().catch(e=>put({error:String(e&&e.stack||e)}));"#;

/// What one run of axe said of a page (the JSON `AXE_RUN` writes); `rules`, how many rules it
/// ran (passed, broken, undecided or without an element to apply to).
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct AxeOutcome {
    error: Option<String>,
    version: String,
    rules: usize,
    violations: Vec<AxeViolation>,
    /// What axe could not decide and leaves to a person (a colour over a drawing, say).
    review: Vec<AxeViolation>,
    control: Vec<AxeViolation>,
}

/// One rule axe found broken (or could not decide), with its elements (CSS selectors).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AxeViolation {
    id: String,
    impact: Option<String>,
    help: String,
    targets: Vec<String>,
}

impl AxeViolation {
    /// Serious and critical violations fail the trial; moderate and minor ones are printed.
    fn fails(&self) -> bool {
        matches!(self.impact.as_deref(), Some("serious" | "critical"))
    }

    /// The rule, its impact and help, and its elements: the first `most` of them (a failure
    /// lists all; what is only printed, a few).
    fn describe(&self, page: &str, most: usize) -> String {
        let mut targets = self.targets.iter().take(most).cloned().collect::<Vec<_>>();
        if self.targets.len() > most {
            targets.push(format!("… {} more", self.targets.len() - most));
        }
        format!(
            "{page}: {} {} ({}), {} element(s): {}",
            self.impact.as_deref().unwrap_or("(no impact)"),
            self.id,
            self.help,
            self.targets.len(),
            targets.join("; ")
        )
    }
}

/// A copy of `html` without any Content-Security-Policy `<meta>`: a policy would (rightly)
/// block the scripts the test injects. Only the test's temporary copy is changed, never the
/// report. Event data is escaped in the report, so every `<meta` in it is markup.
fn without_csp(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find("<meta") {
        let end = start + rest[start..].find('>').expect("a <meta> closed") + 1;
        let tag = &rest[start..end];
        out.push_str(&rest[..start]);
        if !tag.to_ascii_lowercase().contains("content-security-policy") {
            out.push_str(tag);
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Runs `command` to its end, its output collected, or kills it after `limit` and fails: a
/// browser that hangs fails its trial instead of hanging the suite.
fn output_within(mut command: Command, limit: std::time::Duration, what: &str) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = drain(child.stdout.take().unwrap());
    let stderr = drain(child.stderr.take().unwrap());
    finish_within(child, [stdout, stderr], limit, what)
}

/// Loads `html` (a copy, in `work`, beside axe.min.js) in headless Chromium with axe-core run
/// on it, and returns what axe said. The window is a desktop's, 1280 by 1024, whatever
/// Chromium's default (a narrower one overflows the wide tables, which axe then cannot judge
/// for contrast). `--virtual-time-budget` lets the page's asynchronous work
/// (axe's) finish before the DOM is dumped; virtual time only moves on while the page is idle,
/// so a slow machine makes the run slower, not shorter.
fn axe_in_chromium(chromium: &str, work: &Path, name: &str, html: &str) -> AxeOutcome {
    let html = without_csp(html);
    let body = html.rfind("</body>").expect("a </body> in the report");
    let page = work.join(format!("{name}.html"));
    std::fs::write(
        &page,
        format!(
            "{}<script src=\"axe.min.js\"></script><script>const AXE_TAGS={AXE_TAGS};\n{AXE_RUN}</script>{}",
            &html[..body],
            &html[body..]
        ),
    )
    .unwrap();
    let mut command = headless_chromium(chromium, &work.join(format!("profile-{name}")));
    command
        .arg("--window-size=1280,1024")
        .arg("--virtual-time-budget=60000")
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()));
    let out = output_within(
        command,
        std::time::Duration::from_secs(180),
        &format!("Chromium with axe on {name}"),
    );
    let dom = String::from_utf8_lossy(&out.stdout);
    let results = dom
        .split_once("id=\"axe-results\">")
        .and_then(|(_, rest)| rest.split_once("</script>"))
        .map(|(json, _)| json);
    let Some(results) = results else {
        panic!(
            "{name}: axe left no results in the page: its scripts were blocked, failed or did not finish (Chromium's exit {:?}); Chromium said:\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let outcome: AxeOutcome = serde_json::from_str(results)
        .unwrap_or_else(|e| panic!("{name}: axe's results are not as expected: {e}: {results}"));
    if let Some(error) = &outcome.error {
        panic!("{name}: axe failed in the page: {error}");
    }
    outcome
}

/// The HTML report of a replay that gives every section a report can have: a stream with a
/// late event and a line skipped, a term that fails on an event (a rule error), an obligation
/// left open, an incident that folds its violations away.
fn every_section_html() -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("rules.yaml"),
        r#"agreement: a11y
title: Every section
parties: {TR: Türkiye}
terms:
  - {id: limit, title: Limit, severity: critical, breached_by: TR, when: 'event.kind == "strike"', threshold: {count: 2, within: 24h}}
  - {id: casualties, title: Casualties, severity: low, breached_by: TR, when: 'event.kind == "strike" && event.killed > 0'}
  - {id: notified, title: Notified, breached_by: TR, when: 'event.kind == "strike"', deadline: {within: 72h, require: 'event.kind == "notification" && event.ref == trigger.id'}}
"#,
    )
    .unwrap();
    let stream = r#"{"id":"a","time":"2024-10-23T00:00:00Z","kind":"strike","killed":1,"lat":37.1,"lon":43.2}
{"id":"b","time":"2024-10-23T02:00:00Z","kind":"strike"}
not json
{"id":"c","time":"2024-10-23T05:00:00Z","kind":"strike","killed":0}
{"id":"d","time":"2024-10-23T01:00:00Z","kind":"strike","killed":2}
"#;
    let args: Vec<String> = [
        "replay",
        "--rules",
        "rules.yaml",
        "--max-delay",
        "2h",
        "--skip-invalid",
        "--format",
        "html",
        "-",
    ]
    .map(String::from)
    .to_vec();
    let out = pactum(dir.path(), &args, Some(stream));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = String::from_utf8(out.stdout).unwrap();
    for section in [
        "agreements",
        "inputs",
        "summary",
        "incidents",
        "violations-section",
        "open-obligations",
        "rule-errors",
        "skipped-lines",
        "late-events",
    ] {
        assert!(
            html.contains(&format!("<h2 id=\"{section}\">")),
            "every-section: no {section}"
        );
    }
    assert!(html.contains("<details id=\"violations-one-by-one\">"));
    html
}

/// Accessibility: axe-core (`tests/vendor/axe-core/axe.min.js`, vendored so that no network is
/// needed) run in headless Chromium on the HTML report of every shipped scenario (the UCDP
/// replay's among them) and of a replay with every section, checking WCAG 2.0–2.2 A and AA and
/// best practices. Any serious or critical violation fails, each listed with its rule, help
/// and elements; moderate and minor ones are printed, and so is what axe leaves to a person. The trial first makes sure axe is the
/// vendored version and finds the two faults of a control added to each page (an image without
/// `alt`, faint text). Ignored where Chromium is not installed, unless
/// `PACTUM_REQUIRE_CHROMIUM` is set.
fn html_report_passes_axe_in_chromium() -> Result<Completion, Failed> {
    let Some(chromium) = chromium() else {
        return Ok(Completion::ignored_with("no chromium on this machine"));
    };
    let axe = root().join("tests/vendor/axe-core/axe.min.js");
    let header = std::fs::read_to_string(&axe).unwrap();
    let version = header
        .lines()
        .next()
        .and_then(|line| line.strip_prefix("/*! axe v"))
        .expect("axe.min.js begins with its version")
        .trim()
        .to_string();
    let mut pages: Vec<(String, String)> = Vec::new();
    let mut scenarios: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("scenario.yaml").is_file())
        .collect();
    scenarios.sort();
    for dir in scenarios {
        let path = dir.join("scenario.yaml");
        let text = std::fs::read_to_string(&path).unwrap();
        let scenario =
            pactum::scenario::load(&path.display().to_string(), &text, &repository_roots())
                .unwrap();
        let extra = scenario_options(&dir, &scenario);
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        let (_, html) = replay_as(&dir, &scenario.rules, &scenario.events, &extra, "html");
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        pages.push((name, html));
    }
    assert!(
        pages.iter().any(|(name, _)| name == "ucdp-northern-iraq"),
        "the UCDP scenario is missing"
    );
    pages.push(("every-section".into(), every_section_html()));

    let work = tempfile::tempdir().unwrap();
    std::fs::copy(&axe, work.path().join("axe.min.js")).unwrap();
    let mut failures = Vec::new();
    for (name, html) in &pages {
        let outcome = axe_in_chromium(chromium, work.path(), name, html);
        assert_eq!(outcome.version, version, "{name}: not the vendored axe ran");
        let mut control: Vec<&str> = outcome
            .control
            .iter()
            .filter(|v| v.fails())
            .map(|v| v.id.as_str())
            .collect();
        control.sort();
        assert_eq!(
            control,
            ["color-contrast", "image-alt"],
            "{name}: axe missed the control's known faults"
        );
        let (failing, other): (Vec<_>, Vec<_>) = outcome.violations.iter().partition(|v| v.fails());
        println!(
            "axe {version} on {name}: {} rules, {} serious or critical, {} moderate or minor, {} to review",
            outcome.rules,
            failing.len(),
            other.len(),
            outcome.review.len()
        );
        for v in other {
            println!("  {}", v.describe(name, 10));
        }
        for v in &outcome.review {
            println!("  needs review: {}", v.describe(name, 10));
        }
        failures.extend(failing.iter().map(|v| v.describe(name, usize::MAX)));
    }
    assert!(
        failures.is_empty(),
        "axe-core found serious or critical accessibility violations in the HTML report:\n  {}",
        failures.join("\n  ")
    );
    Ok(Completion::Completed)
}

/// An element of an HTML report (well-formed XML): its name, its attributes, its text (its
/// descendants' included), and the `id` and `class` of every element it lies in.
#[derive(Debug)]
struct Element {
    name: String,
    attributes: BTreeMap<String, String>,
    text: String,
    within: Vec<String>,
}

impl Element {
    fn attr(&self, name: &str) -> &str {
        self.attributes.get(name).map(String::as_str).unwrap_or("")
    }

    fn number(&self, name: &str) -> f64 {
        self.attr(name)
            .parse()
            .unwrap_or_else(|_| panic!("{}: `{name}` is not a number: {self:?}", self.name))
    }

    fn has_class(&self, class: &str) -> bool {
        self.attr("class").split(' ').any(|c| c == class)
    }

    /// Whether it lies in an element of this `id` or `class`.
    fn is_within(&self, what: &str) -> bool {
        self.within.iter().any(|w| w.split(' ').any(|c| c == what))
    }
}

/// Every element of an HTML report, in document order.
fn elements(html: &str) -> Vec<Element> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(html);
    let mut all: Vec<Element> = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    loop {
        let event = reader.read_event().unwrap();
        let text = match &event {
            Event::Start(e) | Event::Empty(e) => {
                let attributes = e
                    .attributes()
                    .map(|a| {
                        let a = a.unwrap();
                        (
                            String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                            a.unescape_value().unwrap().into_owned(),
                        )
                    })
                    .collect::<BTreeMap<_, _>>();
                let within = open
                    .iter()
                    .flat_map(|&i| {
                        let a = &all[i].attributes;
                        a.get("id").into_iter().chain(a.get("class")).cloned()
                    })
                    .collect();
                all.push(Element {
                    name: String::from_utf8(e.name().as_ref().to_vec()).unwrap(),
                    attributes,
                    text: String::new(),
                    within,
                });
                if matches!(event, Event::Start(_)) {
                    open.push(all.len() - 1);
                }
                continue;
            }
            Event::End(_) => {
                open.pop();
                continue;
            }
            Event::Text(t) => t.decode().unwrap().into_owned(),
            Event::GeneralRef(r) => match r.resolve_char_ref().unwrap() {
                Some(c) => c.to_string(),
                None => match &*r.decode().unwrap() {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    "quot" => "\"",
                    "apos" => "'",
                    other => panic!("an entity the report does not write: {other}"),
                }
                .to_string(),
            },
            Event::Eof => break,
            _ => continue,
        };
        for &i in &open {
            all[i].text.push_str(&text);
        }
    }
    all
}

/// A map label's box as docs/report-format.md gives the rule (computed here on its own, not
/// with the product's code): per character 0.45 em for `ijlftrI.,:;'|! ()-`, 1.0 for
/// `mwMW` and wide scripts (from U+1100), 0.8 for other capitals, 0.65 for digits, 0.64 for
/// the rest, at 10 px; from 9 px above the baseline to 2.5 below.
fn label_box(e: &Element) -> [f64; 4] {
    let width: f64 = e
        .text
        .chars()
        .map(|c| match c {
            'i' | 'j' | 'l' | 'f' | 't' | 'r' | 'I' | '.' | ',' | ':' | ';' | '\'' | '|' | '!'
            | ' ' | '(' | ')' | '-' => 0.45,
            'm' | 'w' | 'M' | 'W' => 1.0,
            c if c.is_ascii_uppercase() => 0.8,
            c if c.is_ascii_digit() => 0.65,
            c if u32::from(c) >= 0x1100 => 1.0,
            _ => 0.64,
        })
        .sum::<f64>()
        * 10.0;
    let (x, y) = (e.number("x"), e.number("y"));
    let left = match e.attr("text-anchor") {
        "start" => x,
        "middle" => x - width / 2.0,
        "end" => x - width,
        other => panic!("a label anchored `{other}`"),
    };
    [left, y - 9.0, left + width, y + 2.5]
}

fn overlap(a: &[f64; 4], b: &[f64; 4]) -> bool {
    a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3]
}

/// The map's labels in an HTML report, checked: none overlaps another, a place's mark, the
/// legend or the scale bar, all lie on the map, and every place drawn is named — by its
/// label, by a number explained under the map, or in the list of names left out for want of
/// room. Gives the labels' texts and classes, the numbered names and how many are left out.
fn checked_labels(html: &str, name: &str) -> (Vec<(String, String)>, Vec<String>, usize) {
    let all = elements(html);
    let svg = all
        .iter()
        .find(|e| e.name == "svg" && e.attr("id") == "map")
        .unwrap_or_else(|| panic!("{name}: no map"));
    let (width, height) = (svg.number("width"), svg.number("height"));
    let labels: Vec<&Element> = all
        .iter()
        .filter(|e| e.name == "text" && e.is_within("labels"))
        .collect();
    let boxes: Vec<[f64; 4]> = labels.iter().map(|e| label_box(e)).collect();
    for (i, a) in boxes.iter().enumerate() {
        let text = &labels[i].text;
        assert!(
            a[0] >= 0.0 && a[1] >= 0.0 && a[2] <= width && a[3] <= height,
            "{name}: label {text:?} off the map: {a:?}"
        );
        for (j, b) in boxes.iter().enumerate().skip(i + 1) {
            assert!(
                !overlap(a, b),
                "{name}: labels {text:?} {a:?} and {:?} {b:?} overlap",
                labels[j].text
            );
        }
    }
    let fixed: Vec<[f64; 4]> = all
        .iter()
        .filter(|e| e.name == "rect" && (e.is_within("legend") || e.is_within("scale")))
        .map(|e| {
            let (x, y) = (e.number("x"), e.number("y"));
            [x, y, x + e.number("width"), y + e.number("height")]
        })
        .chain(
            all.iter()
                .filter(|e| e.name == "circle" && e.has_class("place"))
                .map(|e| {
                    let (x, y, r) = (e.number("cx"), e.number("cy"), e.number("r"));
                    [x - r, y - r, x + r, y + r]
                }),
        )
        .collect();
    assert!(fixed.len() >= 2, "{name}: no legend or scale bar");
    for (label, a) in labels.iter().zip(&boxes) {
        for b in &fixed {
            assert!(
                !overlap(a, b),
                "{name}: label {:?} {a:?} covers {b:?}",
                label.text
            );
        }
    }
    // The key under the map: "Numbered on the map: 1 A, 2 B." and "Not named … room (…): C, D."
    let key = |prefix: &str| -> Vec<String> {
        all.iter()
            .filter(|e| e.name == "p" && e.has_class("map-key") && e.text.starts_with(prefix))
            .flat_map(|e| {
                let list = e.text.split_once(": ").unwrap().1.trim_end_matches('.');
                list.split(", ").map(str::to_string).collect::<Vec<_>>()
            })
            .collect()
    };
    let numbered = key("Numbered on the map");
    let mut unnamed = key("Not named on the map");
    // "…: C, D and 12 more."
    let mut more = 0;
    if let Some(last) = unnamed.pop() {
        match last.split_once(" and ") {
            Some((name, n)) => {
                more = n.trim_end_matches(" more").parse().unwrap();
                unnamed.push(name.to_string());
            }
            None => unnamed.push(last),
        }
    }
    let callouts: Vec<&str> = labels
        .iter()
        .filter(|e| e.has_class("callout"))
        .map(|e| e.text.as_str())
        .collect();
    let numbers: Vec<String> = (1..=numbered.len()).map(|n| n.to_string()).collect();
    assert_eq!(callouts, numbers, "{name}: each callout once, in order");
    let numbered: Vec<String> = numbered
        .iter()
        .zip(&numbers)
        .map(|(entry, n)| {
            entry
                .strip_prefix(&format!("{n} "))
                .unwrap_or_else(|| panic!("{name}: key entry {entry:?} is not number {n}"))
                .to_string()
        })
        .collect();
    let texts: Vec<(String, String)> = labels
        .iter()
        .filter(|e| !e.has_class("callout"))
        .map(|e| {
            let class = e.attr("class").trim_start_matches("label ").to_string();
            (class, e.text.clone())
        })
        .collect();
    let mut not_found = 0;
    for place in all
        .iter()
        .filter(|e| e.name == "circle" && e.has_class("place"))
    {
        let place = &place.text;
        if !(texts.contains(&("place".to_string(), place.clone()))
            || numbered.contains(place)
            || unnamed.contains(place))
        {
            not_found += 1;
        }
    }
    assert_eq!(
        not_found, more,
        "{name}: places drawn but neither named nor counted as left out"
    );
    (texts, numbered, unnamed.len() + more)
}

/// Issue 13, a map fit to print: the shipped scenarios' maps and a crowded one (forty places
/// within a few km) label every line, strip, area and place without two labels overlapping,
/// by the estimate of their widths that the placement uses (the headless-browser test holds
/// the estimate to the drawn widths).
fn map_labels_do_not_overlap() {
    let shapes: BTreeSet<(String, String)> = [
        ("line", "iq-tr-border"),
        ("line", "iq-ir-border"),
        ("strip", "iq-tr-strip (30 km)"),
        ("strip", "iq-ir-strip (20 km)"),
        ("area", "iraq"),
    ]
    .iter()
    .map(|(c, t)| (c.to_string(), t.to_string()))
    .collect();
    for (name, dir, rules, events, extra) in [
        (
            "ankara-strikes-2024",
            "scenarios/ankara-strikes-2024",
            vec!["../../rules".to_string()],
            vec!["events.jsonl".to_string()],
            vec![],
        ),
        (
            "ucdp-northern-iraq",
            "scenarios/ucdp-northern-iraq",
            vec!["cross-border.yaml".to_string()],
            vec!["ucdp_ged_iraq_north.csv".to_string()],
            vec![
                "--allow-root",
                "../../rules",
                "--map",
                "../../rules/mappings/ucdp-ged.yaml",
            ],
        ),
    ] {
        let (_, html) = replay_as(&root().join(dir), &rules, &events, &extra, "html");
        let (texts, _, _) = checked_labels(&html, name);
        let drawn: BTreeSet<(String, String)> = texts
            .into_iter()
            .filter(|(class, _)| class != "place")
            .collect();
        assert_eq!(drawn, shapes, "{name}: every line, strip and area labelled");
    }

    let dir = tempfile::tempdir().unwrap();
    let places: Vec<String> = (0..40)
        .map(|i| {
            format!(
                "    Place {i:02}: {{lat: {:.3}, lon: {:.3}}}",
                36.0 + f64::from(i % 5) * 0.01,
                44.0 + f64::from(i / 5) * 0.01
            )
        })
        .collect();
    std::fs::write(
        dir.path().join("rules.yaml"),
        format!(
            "agreement: crowd\ntitle: Crowd\nparties: {{XX: Someone}}\ngeography:\n  lines:\n    border: {{line: [[43.5, 36.3], [44.5, 36.3]]}}\n  places:\n{}\nterms:\n  - {{id: t, title: T, breached_by: XX, when: 'event.kind == \"op\"'}}\n",
            places.join("\n")
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("events.jsonl"),
        "{\"id\":\"a\",\"time\":\"2024-01-01T00:00:00Z\",\"kind\":\"op\",\"lat\":36.02,\"lon\":44.03}\n",
    )
    .unwrap();
    let (_, html) = replay_as(
        dir.path(),
        &["rules.yaml".to_string()],
        &["events.jsonl".to_string()],
        &[],
        "html",
    );
    let (texts, numbered, unnamed) = checked_labels(&html, "crowd");
    assert_eq!(
        texts.len() + numbered.len() + unnamed,
        41,
        "crowd: 40 places and a line, each labelled, numbered or left out"
    );
    assert!(texts.contains(&("line".to_string(), "border".to_string())));
    assert!(
        !numbered.is_empty() && unnamed > 0,
        "crowd: forty places within 5 km need numbers, and some have no room even for one: {texts:?}"
    );
}

/// Issue 13: one distant event stretched the map until the area of interest was squeezed into
/// a corner. A violation far from the agreement's shapes and from the others is listed under
/// the map, linked to its row, and the map is the one drawn without it: the same view, the
/// same dots. Many such (more than 20) are a second area of interest: drawn, none listed.
fn map_keeps_its_view_and_lists_a_far_outlier() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("rules.yaml"),
        "agreement: far\ntitle: Far\nparties: {XX: Someone}\ngeography:\n  lines:\n    border: {line: [[44.0, 36.0], [44.5, 36.1], [45.0, 36.0]]}\n  places:\n    Alpha: {lat: 35.9, lon: 44.1}\nterms:\n  - {id: t, title: T, breached_by: XX, when: 'event.kind == \"op\"'}\n",
    )
    .unwrap();
    let event = |i: usize, lat: f64, lon: f64| {
        format!(
            "{{\"id\":\"e{i}\",\"time\":\"2024-01-01T00:{:02}:{:02}Z\",\"kind\":\"op\",\"lat\":{lat},\"lon\":{lon},\"place\":\"P{i}\"}}\n",
            i / 60,
            i % 60
        )
    };
    let near: Vec<String> = [(35.9, 44.2), (35.8, 44.6), (35.6, 44.8), (35.95, 44.4)]
        .iter()
        .enumerate()
        .map(|(i, (lat, lon))| event(i, *lat, *lon))
        .collect();
    std::fs::write(dir.path().join("near.jsonl"), near.concat()).unwrap();
    std::fs::write(
        dir.path().join("far.jsonl"),
        near.concat() + event(4, 51.5, -0.1).as_str(),
    )
    .unwrap();
    let html = |events: &str| {
        replay_as(
            dir.path(),
            &["rules.yaml".to_string()],
            &[events.to_string()],
            &[],
            "html",
        )
        .1
    };
    // The view (the map's size, the scale bar) and the dots (where, linked to which row).
    let drawn = |html: &str| -> Vec<String> {
        elements(html)
            .iter()
            .filter(|e| {
                (e.name == "svg" && e.attr("id") == "map")
                    || (e.name == "circle" && e.has_class("violation"))
                    || (e.name == "a" && e.is_within("map"))
                    || (e.name == "text" && e.is_within("scale"))
            })
            .map(|e| format!("{} {:?} {}", e.name, e.attributes, e.text))
            .collect()
    };
    let (with, without) = (html("far.jsonl"), html("near.jsonl"));
    assert_eq!(drawn(&with), drawn(&without), "the outlier moved the view");
    let scale: Vec<String> = elements(&with)
        .iter()
        .filter(|e| e.name == "text" && e.is_within("scale"))
        .map(|e| e.text.clone())
        .collect();
    assert_eq!(
        scale,
        ["20 km"],
        "the view is not that of the four near ones"
    );
    let all = elements(&with);
    let listed: Vec<&Element> = all
        .iter()
        .filter(|e| e.name == "li" && e.is_within("outside"))
        .collect();
    assert_eq!(listed.len(), 1, "one violation listed outside the map");
    assert_eq!(
        listed[0].text,
        "#5 2024-01-01T00:00:04Z, far/t, medium: P4, 51.5, -0.1 (about 3817 km north-west of the map)"
    );
    let link = all
        .iter()
        .find(|e| e.name == "a" && e.is_within("outside"))
        .unwrap();
    assert_eq!(link.attr("href"), "#v5");
    assert!(with.contains("<tr id=\"v5\">"));
    let heading = all
        .iter()
        .find(|e| e.name == "p" && e.is_within("outside"))
        .unwrap();
    assert_eq!(heading.text, "1 violation outside this view:");
    assert!(!without.contains("class=\"outside\""));

    // A hundred near and twenty-one far: too many to list, so the view takes them in.
    let many: String = (0..100)
        .map(|i| {
            event(
                i,
                35.6 + (i % 10) as f64 * 0.04,
                44.1 + (i / 10) as f64 * 0.08,
            )
        })
        .chain((100..121).map(|i| event(i, 51.5, -0.1 + (i - 100) as f64 * 0.01)))
        .collect();
    std::fs::write(dir.path().join("many.jsonl"), many).unwrap();
    let many = html("many.jsonl");
    assert!(!many.contains("class=\"outside\""), "21 listed");
    assert_eq!(many.matches("<circle class=\"violation\"").count(), 121);
    assert!(many.contains("(121 of 121 drawn)"));
}

/// Issue 13: the timeline's eight colours repeated from the ninth term on. Now the nine terms
/// with the most violations have a colour each and the rest share grey as "other terms",
/// named in the caption: every colour of the legend is distinct, every bar is one of them, and
/// each colour's bars add up to its legend's count. Nine terms or fewer: no grouping.
fn timeline_colours_stand_for_one_thing_each() {
    let dir = tempfile::tempdir().unwrap();
    let run = |terms: usize| -> Vec<Element> {
        let rules: String = (0..terms)
            .map(|i| {
                format!("  - {{id: t{i:02}, title: T, breached_by: XX, when: 'event.kind == \"k{i:02}\"'}}\n")
            })
            .collect();
        std::fs::write(
            dir.path().join("rules.yaml"),
            format!("agreement: many\ntitle: Many\nparties: {{XX: Someone}}\nterms:\n{rules}"),
        )
        .unwrap();
        // Term i is broken i + 1 times, over the first days of January.
        let mut events: Vec<(String, String)> = Vec::new();
        for i in 0..terms {
            for j in 0..=i {
                let time = format!("2024-01-{:02}T00:00:{:02}Z", j % 28 + 1, i);
                events.push((
                    time.clone(),
                    format!("{{\"id\":\"e{i}-{j}\",\"time\":\"{time}\",\"kind\":\"k{i:02}\"}}\n"),
                ));
            }
        }
        events.sort();
        let lines: String = events.into_iter().map(|(_, line)| line).collect();
        std::fs::write(dir.path().join("events.jsonl"), lines).unwrap();
        let (_, html) = replay_as(
            dir.path(),
            &["rules.yaml".to_string()],
            &["events.jsonl".to_string()],
            &[],
            "html",
        );
        elements(&html)
    };
    for terms in [12, 9] {
        let all = run(terms);
        let legend: Vec<(String, String)> = all
            .iter()
            .filter(|e| e.is_within("terms-legend"))
            .collect::<Vec<_>>()
            .chunks(2)
            .map(|pair| (pair[0].attr("fill").to_string(), pair[1].text.clone()))
            .collect();
        let mut expected: Vec<String> = (0..terms.min(9))
            .map(|k| {
                let i = terms - 1 - k;
                format!("many/t{i:02} ({})", i + 1)
            })
            .collect();
        if terms == 12 {
            expected.push("other terms (3 terms, 6 violations)".to_string());
        }
        let texts: Vec<String> = legend.iter().map(|(_, t)| t.clone()).collect();
        assert_eq!(texts, expected, "{terms} terms: the legend");
        let colours: BTreeSet<&str> = legend.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(
            colours.len(),
            legend.len(),
            "{terms} terms: a colour repeats"
        );
        // Each colour's bars add up to its legend's count.
        let mut by_colour: BTreeMap<String, u64> = BTreeMap::new();
        for bar in all
            .iter()
            .filter(|e| e.name == "rect" && e.is_within("timeline") && !e.is_within("terms-legend"))
        {
            let n: u64 = bar.text.rsplit(": ").next().unwrap().parse().unwrap();
            *by_colour.entry(bar.attr("fill").to_string()).or_default() += n;
        }
        for (colour, text) in &legend {
            // "many/t11 (12)"; "other terms (3 terms, 6 violations)".
            let count: u64 = match text.strip_prefix("other terms (") {
                Some(rest) => rest.split(", ").nth(1).unwrap().split(' ').next().unwrap(),
                None => text.rsplit_once(" (").unwrap().1.trim_end_matches(')'),
            }
            .parse()
            .unwrap();
            assert_eq!(by_colour.remove(colour), Some(count), "{terms}: {text}");
        }
        assert!(
            by_colour.is_empty(),
            "bars of no legend's colour: {by_colour:?}"
        );
        let caption = all
            .iter()
            .find(|e| e.name == "figcaption" && e.text.starts_with("Violations per day"))
            .unwrap();
        assert_eq!(
            caption.text.contains(
                "the rest, 3 terms, are drawn together in grey as other terms (so that no two terms share a colour): many/t02 (3), many/t01 (2), many/t00 (1)."
            ),
            terms == 12,
            "{}",
            caption.text
        );
    }
}

/// Issue 13: "the HTML has less than the Markdown" — it had left out periods in force,
/// mappings, blank lines, keys, notes and skipped lines' columns. Every golden report that
/// has both renderings is cut into sections at its `##` and `###` headings (a violation's own
/// `### N.` heading stays in its section: the HTML shows violations as table rows), and every
/// word of a Markdown section must appear in the HTML section of the same title; the HTML may
/// say more (the timeline, the map, the filter).
fn html_has_what_the_markdown_has() {
    let golden = root().join("tests/golden");
    let mut pairs = 0;
    let mut missing: Vec<String> = Vec::new();
    for entry in std::fs::read_dir(&golden).unwrap() {
        let md_path = entry.unwrap().path();
        if md_path.extension().is_none_or(|e| e != "md") {
            continue;
        }
        let html_path = md_path.with_extension("html");
        let Ok(html) = std::fs::read_to_string(&html_path) else {
            continue;
        };
        pairs += 1;
        let markdown = std::fs::read_to_string(&md_path).unwrap();
        let md_sections = markdown_sections(&markdown);
        let html_sections = html_sections(&html);
        for (title, md_words) in &md_sections {
            let Some(html_words) = html_sections
                .iter()
                .find(|(t, _)| t == title)
                .map(|(_, w)| w)
            else {
                missing.push(format!(
                    "{}: no HTML section {title:?} (HTML has {:?})",
                    md_path.display(),
                    html_sections.iter().map(|(t, _)| t).collect::<Vec<_>>()
                ));
                continue;
            };
            let absent: Vec<&String> = md_words.difference(html_words).collect();
            if !absent.is_empty() {
                missing.push(format!(
                    "{}, section {title:?}: the HTML lacks {absent:?}",
                    md_path.display()
                ));
            }
        }
    }
    assert!(
        pairs >= 6,
        "only {pairs} golden reports have both renderings"
    );
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

/// The words of a text, lowercased: runs of letters and digits.
fn words_of(text: &str) -> std::collections::BTreeSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// A Markdown report's sections: (title, words), the text before the first heading titled "".
fn markdown_sections(markdown: &str) -> Vec<(String, std::collections::BTreeSet<String>)> {
    let mut sections = vec![(String::new(), String::new())];
    for line in markdown.lines() {
        let heading = line
            .strip_prefix("## ")
            .or_else(|| line.strip_prefix("### "))
            // A violation's heading (`### 12. TIME — clause`) belongs to its section.
            .filter(|h| {
                h.split_once(". ")
                    .is_none_or(|(n, _)| n.parse::<u32>().is_err())
            });
        match heading {
            Some(title) => sections.push((title.trim().to_string(), String::new())),
            None => {
                let text = &mut sections.last_mut().unwrap().1;
                text.push_str(&markdown_content(line));
                text.push('\n');
            }
        }
    }
    sections
        .into_iter()
        // The document's title (`# Violation report: …`) is the HTML's `<h1>`, in its preamble.
        .map(|(title, text)| (title, words_of(&text)))
        .collect()
}

/// A line of a Markdown report without what is layout rather than content: a list item's
/// label (`**Breached by:**`, where the HTML has a column headed `party`), the `<details>`
/// and `<summary>` tags that fold the violations (the HTML folds them in the same elements),
/// and entities (`&amp;`).
fn markdown_content(line: &str) -> String {
    let mut line = line.to_string();
    while let Some(start) = line.find("**") {
        let Some(end) = line[start + 2..].find(":**") else {
            break;
        };
        line.replace_range(start..start + 2 + end + 3, "");
    }
    for tag in ["<details>", "</details>", "<summary>", "</summary>"] {
        line = line.replace(tag, " ");
    }
    html_text(&line.replace('<', "\u{1}")).replace('\u{1}', "<")
}

/// An HTML report's sections at its `<h2>` and `<h3>` headings: (title, words of the text
/// with its markup removed and its entities decoded), the text before the first titled "".
fn html_sections(html: &str) -> Vec<(String, std::collections::BTreeSet<String>)> {
    let body = &html[html.find("<body").unwrap_or(0)..];
    let mut sections = Vec::new();
    let mut rest = body;
    let mut title = String::new();
    loop {
        let next = ["<h2", "<h3"].iter().filter_map(|tag| rest.find(tag)).min();
        let (text, after) = match next {
            Some(at) => rest.split_at(at),
            None => (rest, ""),
        };
        sections.push((title.clone(), words_of(&html_text(text))));
        if after.is_empty() {
            break;
        }
        let close = after.find("</h").unwrap();
        let open_end = after.find('>').unwrap();
        title = html_text(&after[open_end + 1..close]).trim().to_string();
        rest = &after[close..];
        rest = &rest[rest.find('>').unwrap() + 1..];
    }
    sections
}

/// The text of some markup: tags and the contents of `<style>`, `<script>` dropped,
/// entities decoded.
fn html_text(markup: &str) -> String {
    let mut text = String::new();
    let mut rest = markup;
    while let Some(open) = rest.find('<') {
        text.push_str(&rest[..open]);
        text.push(' ');
        let tail = &rest[open..];
        let skip_to = ["style", "script"]
            .iter()
            .find(|tag| tail.starts_with(&format!("<{tag}")))
            .and_then(|tag| tail.find(&format!("</{tag}>")));
        let end = match skip_to {
            Some(close) => close + tail[close..].find('>').unwrap_or(0),
            None => tail.find('>').unwrap_or(tail.len() - 1),
        };
        rest = &tail[end + 1..];
    }
    text.push_str(rest);
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}
