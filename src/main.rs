//! The `pactum` command line: the only place that knows about paths, terminals and exit codes.
//!
//! Exit codes: 0 success (no violation at or above `--fail-on`), 1 a violation at or above
//! `--fail-on`, 2 invalid rules, invalid input or a usage error. A closed pipe on standard
//! output (`pactum replay … | head`) ends the program quietly with the code it would have had.

use std::fs;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::rc::Rc;

use anyhow::{Context, Result, bail};
use clap::builder::{PossibleValue, PossibleValuesParser};
use clap::{Parser, Subcommand, ValueEnum};

use pactum::agreement::{self, Severity};
use pactum::diagnostic::{Code, Diagnostic, Level, SourceFile};
use pactum::mapping::{self, Mapping};
use pactum::report::{self, Format};
use pactum::run::RunError;
use pactum::run::run_stream;
use pactum::{Agreement, Input, InputFormat, Limits, Program, RunOptions, compile, run};

/// Judge event logs against security agreements written as rules.
#[derive(Parser)]
#[command(name = "pactum", version, about, long_about = None)]
struct Cli {
    /// More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides it.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate agreement files: YAML shape, keys, parties, ids and every Rhai expression.
    ///
    /// Exit 0 when every file is valid (warnings allowed), 2 otherwise.
    Check {
        /// Agreement files, or directories meaning every *.yaml and *.yml in them.
        #[arg(required_unless_present = "map")]
        paths: Vec<PathBuf>,
        /// A mapping file to validate as well (docs/inputs.md).
        #[arg(long, value_name = "FILE")]
        map: Option<PathBuf>,
        /// How to print problems.
        #[arg(long, value_enum, default_value_t = DiagnosticFormat::Human)]
        format: DiagnosticFormat,
    },
    /// Replay event logs against agreements and report every violation.
    Replay {
        /// Agreement file, or a directory meaning every *.yaml and *.yml in it. Repeatable.
        #[arg(long = "rules", short = 'r', required = true)]
        rules: Vec<PathBuf>,
        /// Event files (JSON Lines; YAML lists for .yaml/.yml; CSV for .csv); `-` reads standard
        /// input.
        #[arg(required = true)]
        events: Vec<String>,
        /// Report format.
        #[arg(long, short = 'f', value_enum, default_value_t = ReportFormat::Text)]
        format: ReportFormat,
        /// Write the report to this file instead of standard output.
        #[arg(long, short = 'o')]
        output: Option<PathBuf>,
        /// Exit 1 when a violation at or above this severity is found.
        #[arg(long, value_enum)]
        fail_on: Option<SeverityArg>,
        /// Skip invalid event lines, listing each in the report, instead of stopping at the first.
        #[arg(long)]
        skip_invalid: bool,
        /// A mapping file that turns the records of every input into events (docs/inputs.md).
        #[arg(long, value_name = "FILE")]
        map: Option<PathBuf>,
        /// Format of the event inputs; by default from the extension (.yaml/.yml: YAML, .csv: CSV,
        /// else JSON Lines).
        #[arg(long, value_enum)]
        input_format: Option<InputFormatArg>,
        /// Reading standard input alone: how long an event may come after later ones and still
        /// be judged in time order (it waits that long in a reorder buffer). Later events are
        /// judged on arrival and listed as late.
        #[arg(long, value_parser = parse_delay, default_value = "10m")]
        max_delay: chrono::TimeDelta,
        /// End the replay at this instant (YYYY-MM-DD for 00:00 UTC, or RFC 3339): later
        /// events are judged by no term, and absences and deadlines are judged up to it.
        #[arg(long, value_parser = parse_until)]
        until: Option<chrono::DateTime<chrono::Utc>>,
        /// Evaluate every condition in full (for tests: results are the same, only slower).
        #[arg(long, hide = true)]
        no_memo: bool,
        /// No progress bar (one is shown on a terminal when a replay runs over a second).
        #[arg(long, short = 'q')]
        quiet: bool,
    },
    /// Run scenarios (`scenario.yaml`: rules, events, the outcome they must give) and say which
    /// hold; with --coverage, which clauses they exercise.
    ///
    /// Exit 0 when every scenario holds (and coverage reaches --min-coverage), 1 otherwise.
    Test {
        /// Scenario files, directories holding a scenario.yaml, or directories of such
        /// directories.
        #[arg(default_value = "scenarios")]
        paths: Vec<PathBuf>,
        /// How to print the results.
        #[arg(long, value_enum, default_value_t = commands::test::TestFormat::Text)]
        format: commands::test::TestFormat,
        /// Also report, per agreement and term, how many scenarios fire it (positive case) and
        /// name it for a quiet event (negative case).
        #[arg(long)]
        coverage: bool,
        /// Fail when fewer than this percentage of terms have both a positive and a negative case.
        #[arg(long, value_name = "PERCENT")]
        min_coverage: Option<f64>,
        /// Agreements the coverage must include whether or not a scenario loads them (a file or
        /// a directory of them; repeatable): a new agreement with no scenario counts as 0 %.
        #[arg(long = "rules", short = 'r', value_name = "PATH")]
        rules: Vec<PathBuf>,
    },
    /// Write a new agreement or scenario that passes `check` and `test`, to start from.
    New {
        /// What to write.
        #[arg(value_enum)]
        kind: commands::new::Kind,
        /// Its name: lowercase letters, digits and '-'.
        name: String,
        /// Where to write it (default: the current directory).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Render a saved JSON report (`replay --format json`) in another format, without replaying.
    ///
    /// The JSON report is the single source: rendering it gives the same bytes as the replay
    /// that wrote it would have in that format.
    Report {
        /// The JSON report (`-` reads standard input).
        report: String,
        /// Output format.
        #[arg(long, short = 'f', value_enum, default_value_t = ReportFormat::Text)]
        format: ReportFormat,
        /// Write to this file instead of standard output.
        #[arg(long, short = 'o')]
        output: Option<PathBuf>,
    },
    /// Compare two versions of an agreement over the same events: violations only under the
    /// old rules, only under the new, and changed (same evidence, other term, severity or
    /// party).
    ///
    /// `pactum diff --rules OLD --rules NEW EVENTS...` replays the events twice;
    /// `pactum diff OLD.json NEW.json` compares two saved reports.
    Diff {
        /// The old rules, then the new (a file or a directory each).
        #[arg(long = "rules", short = 'r', num_args = 1)]
        rules: Vec<PathBuf>,
        /// Event files (with --rules), or two JSON reports (without).
        #[arg(required = true)]
        files: Vec<String>,
        /// A mapping file for the events (docs/inputs.md).
        #[arg(long, value_name = "FILE")]
        map: Option<PathBuf>,
        /// Output format.
        #[arg(long, short = 'f', value_enum, default_value_t = DiffFormat::Text)]
        format: DiffFormat,
    },
    /// Print the JSON Schema (draft 2020-12) of a kind of file, for editors.
    ///
    /// The schema is the file shipped as docs/schema/KIND.schema.json. A YAML file whose
    /// first line is `# yaml-language-server: $schema=PATH` gets completion, hover help and
    /// validation in editors that run the YAML language server (docs/rules.md).
    Schema {
        /// The kind of file.
        #[arg(value_parser = schema_kinds())]
        kind: String,
    },
    /// Show, for one event, whether each term fires on it and why (docs/explain.md).
    ///
    /// Exit 0 whatever the terms make of the event; 2 for invalid rules, an invalid event, or an
    /// id not found.
    Explain(commands::explain::ExplainArgs),
}

/// The kinds `pactum schema` takes: every entry of the library's table, with its summary.
fn schema_kinds() -> PossibleValuesParser {
    PossibleValuesParser::new(
        pactum::schema::SCHEMAS
            .iter()
            .map(|schema| PossibleValue::new(schema.kind).help(schema.about)),
    )
}

#[derive(Clone, Copy, ValueEnum)]
enum ExplainFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum DiagnosticFormat {
    Human,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum ReportFormat {
    Text,
    Json,
    Jsonl,
    Markdown,
    Html,
}

impl ReportFormat {
    fn format(self) -> Format {
        match self {
            ReportFormat::Text => Format::Text,
            ReportFormat::Json => Format::Json,
            ReportFormat::Jsonl => Format::JsonLines,
            ReportFormat::Markdown => Format::Markdown,
            ReportFormat::Html => Format::Html,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum DiffFormat {
    Text,
    Json,
    Markdown,
}

#[derive(Clone, Copy, ValueEnum)]
enum SeverityArg {
    Low,
    Medium,
    High,
    Critical,
}

#[derive(Clone, Copy, ValueEnum)]
enum InputFormatArg {
    Jsonl,
    Yaml,
    Csv,
}

/// Writes a line to stderr. Unlike `eprintln!`, a closed stderr is not a panic: there is
/// nobody left to tell.
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = ::std::io::Write::write_fmt(&mut ::std::io::stderr().lock(), format_args!("{}\n", format_args!($($arg)*)));
    }};
}

/// Writes text to stderr as it is (it ends with its own line break).
macro_rules! say_raw {
    ($($arg:tt)*) => {{
        let _ = write!(io::stderr().lock(), $($arg)*);
    }};
}

mod commands;

const EXIT_VIOLATIONS: u8 = 1;
const EXIT_INVALID: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    match execute(cli.command) {
        Ok(code) => ExitCode::from(code),
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            say!("error: {err:#}");
            ExitCode::from(EXIT_INVALID)
        }
    }
}

fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .with_ansi(io::IsTerminal::is_terminal(&io::stderr()))
        .without_time()
        .init();
}

/// A reader that stops reading (`| head`) is not an error: the exit code stays the one the
/// run earned (`--fail-on` included).
fn unless_pipe_closed(written: io::Result<()>) -> io::Result<()> {
    match written {
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

fn execute(command: Command) -> Result<u8> {
    match command {
        Command::Check { paths, map, format } => check(&paths, map.as_deref(), format),
        Command::Replay {
            rules,
            events,
            format,
            output,
            fail_on,
            skip_invalid,
            map,
            input_format,
            max_delay,
            until,
            no_memo,
            quiet,
        } => replay(ReplayArgs {
            rules,
            events,
            format,
            output,
            fail_on,
            skip_invalid,
            map,
            input_format,
            max_delay,
            until,
            no_memo,
            quiet,
        }),
        Command::Test {
            paths,
            format,
            coverage,
            min_coverage,
            rules,
        } => commands::test::test(
            &paths,
            &rules,
            format,
            coverage || min_coverage.is_some(),
            min_coverage,
        ),
        Command::New { kind, name, dir } => {
            commands::new::new(kind, &name, &dir.unwrap_or_default())
        }
        Command::Schema { kind } => print_schema(&kind),
        Command::Diff {
            rules,
            files,
            map,
            format,
        } => diff(&rules, &files, map.as_deref(), format),
        Command::Report {
            report,
            format,
            output,
        } => render_saved(&report, format, output.as_deref()),
        Command::Explain(args) => commands::explain::explain(args),
    }
}

/// Writes the schema of `kind` to standard output as it is shipped, byte for byte.
fn print_schema(kind: &str) -> Result<u8> {
    let Some(schema) = pactum::schema::find(kind) else {
        bail!("no schema for `{kind}`");
    };
    let stdout = io::stdout();
    let mut out = stdout.lock();
    unless_pipe_closed(
        out.write_all(schema.text.as_bytes())
            .and_then(|()| out.flush()),
    )?;
    Ok(0)
}

/// The largest GeoJSON file an agreement may name: Natural Earth's 1:10m countries of the whole
/// world are 24 MiB, so 64 MiB leaves room while keeping a hostile rule file from loading an
/// arbitrary file into memory.
const MAX_GEOGRAPHY_BYTES: u64 = 64 << 20;

/// Reads a file an agreement's geography names, refusing one too large to be a map. The size
/// is checked on the bytes read, not on what the file system says: a device or a pipe
/// (`/dev/zero`) reports no size and never ends.
fn read_geography(path: &Path) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let file = fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(MAX_GEOGRAPHY_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_GEOGRAPHY_BYTES {
        return Err(io::Error::other(format!(
            "more than the {} MiB a geography file may have",
            MAX_GEOGRAPHY_BYTES >> 20
        )));
    }
    Ok(bytes)
}

/// The buffer of a file read again in canonical order (see the reopen closure in `inputs`).
const REREAD_BUFFER: usize = 4 << 10;

/// Expands directories into the `*.yaml` and `*.yml` files directly inside them, sorted by name.
fn rule_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = fs::read_dir(path)
                .with_context(|| format!("cannot list {}", path.display()))?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
                .collect();
            if found.is_empty() {
                bail!("{} holds no *.yaml or *.yml agreement file", path.display());
            }
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

/// Loads and compiles rule files; returns the program (when valid) and every diagnostic.
fn load_rules(paths: &[PathBuf]) -> Result<(Option<Program>, Vec<Diagnostic>)> {
    let mut diagnostics = Vec::new();
    let mut agreements: Vec<Agreement> = Vec::new();
    let mut complete = true;
    for file in rule_files(paths)? {
        let name = file.display().to_string();
        let text = match read_text(&name, &file) {
            Ok(text) => text,
            Err(problem) => {
                diagnostics.push(problem);
                complete = false;
                continue;
            }
        };
        // Geography files are named relative to the agreement file; the library resolves
        // the path and the command line reads it.
        let (agreement, found) = agreement::load_with(&name, &text, &mut read_geography);
        diagnostics.extend(found);
        match agreement {
            Some(agreement) => agreements.push(agreement),
            None => complete = false,
        }
    }
    let (program, found) = compile(agreements, &Limits::default());
    diagnostics.extend(found);
    Ok((program.filter(|_| complete), diagnostics))
}

/// Loads and compiles a mapping file; returns the mapping (when valid) and every diagnostic.
fn load_mapping(path: &Path) -> (Option<Mapping>, Vec<Diagnostic>) {
    let name = path.display().to_string();
    match read_text(&name, path) {
        Ok(text) => mapping::load(&name, &text, &Limits::default()),
        Err(problem) => (None, vec![problem]),
    }
}

/// A rule file's text, or the diagnostic that says why it cannot be had (for bytes that are
/// not UTF-8: where the first bad one is).
fn read_text(name: &str, path: &Path) -> std::result::Result<String, Diagnostic> {
    let bytes = fs::read(path).map_err(|e| {
        Diagnostic::file_error(Code::Io, name, format!("cannot read the file: {e}"))
    })?;
    String::from_utf8(bytes).map_err(|e| {
        let text = String::from_utf8_lossy(e.as_bytes());
        let (line, column) =
            pactum::diagnostic::utf8_position(e.as_bytes(), e.utf8_error().valid_up_to());
        Diagnostic::error(
            Code::YamlSyntax,
            &SourceFile::new(name, text.as_ref()),
            line,
            column,
            "the file is not UTF-8 (invalid byte)".into(),
        )
        .with_help("save the file as UTF-8")
    })
}

fn print_diagnostics(diagnostics: &[Diagnostic]) {
    for d in diagnostics {
        say_raw!("{}", d.render());
    }
}

fn check(paths: &[PathBuf], map: Option<&Path>, format: DiagnosticFormat) -> Result<u8> {
    let (program, mut diagnostics) = if paths.is_empty() {
        (None, Vec::new())
    } else {
        load_rules(paths)?
    };
    let (mapping, found) = match map {
        Some(path) => load_mapping(path),
        None => (None, Vec::new()),
    };
    diagnostics.extend(found);
    let valid = (paths.is_empty() || program.is_some()) && (map.is_none() || mapping.is_some());
    let errors = diagnostics
        .iter()
        .filter(|d| d.level == Level::Error)
        .count();
    let warnings = diagnostics.len() - errors;
    match format {
        DiagnosticFormat::Human => {
            print_diagnostics(&diagnostics);
            if valid {
                let stdout = io::stdout();
                let mut out = stdout.lock();
                let agreements = program.as_ref().map_or(&[][..], |p| p.agreements());
                let written = agreements
                    .iter()
                    .try_for_each(|agreement| {
                        writeln!(
                            out,
                            "ok: {} ({}, {} term(s))",
                            agreement.source.name,
                            agreement.id,
                            agreement.terms.len()
                        )
                    })
                    .and_then(|()| match &mapping {
                        Some(mapping) => writeln!(
                            out,
                            "ok: {} (mapping {}, {} field(s))",
                            mapping.provenance().file,
                            mapping.provenance().id,
                            mapping.field_names().count()
                        ),
                        None => Ok(()),
                    });
                unless_pipe_closed(written)?;
                // Valid, but the warnings above deserve a count as well as errors do.
                if warnings > 0 {
                    say!("0 error(s), {warnings} warning(s)");
                }
            } else {
                say!("{errors} error(s), {warnings} warning(s)");
            }
        }
        DiagnosticFormat::Json => {
            let list: Vec<serde_json::Value> = diagnostics.iter().map(diagnostic_json).collect();
            let stdout = io::stdout();
            let mut out = stdout.lock();
            let document = serde_json::json!({ "diagnostics": list });
            let written = serde_json::to_writer_pretty(&mut out, &document)
                .map_err(io::Error::from)
                .and_then(|()| writeln!(out));
            unless_pipe_closed(written)?;
        }
    }
    Ok(if valid { 0 } else { EXIT_INVALID })
}

fn diagnostic_json(d: &Diagnostic) -> serde_json::Value {
    serde_json::json!({
        "level": match d.level { Level::Error => "error", Level::Warning => "warning" },
        "code": d.code.as_str(),
        "message": d.message,
        "file": d.file,
        "line": d.line,
        "column": d.column,
        "help": d.help,
    })
}

/// Where the replay's violations go: kept for the report, or written at once (a stream to
/// JSON Lines).
struct CliSink<'p> {
    program: &'p Program,
    collected: Vec<pactum::sink::Violation>,
    live: Option<Box<dyn Write>>,
    /// The most serious violation written live (for `--fail-on`: nothing is collected then).
    worst: Option<Severity>,
    /// The progress bar, when stderr is a terminal and `--quiet` was not given.
    bar: Option<Bar>,
}

/// A progress bar on stderr for long replays: shown only once a replay has run about a second,
/// drawn at most a few times a second (indicatif limits it), and cleared at the end.
struct Bar {
    started: std::time::Instant,
    /// The size of each input in bytes (0 for standard input), to turn offsets into a share.
    sizes: Vec<u64>,
    shown: Option<indicatif::ProgressBar>,
    violations: u64,
}

impl Bar {
    /// A bar for `inputs`, when stderr is a terminal.
    fn new(inputs: &[String]) -> Option<Bar> {
        use std::io::IsTerminal;
        io::stderr().is_terminal().then(|| Bar {
            started: std::time::Instant::now(),
            sizes: inputs
                .iter()
                .map(|name| fs::metadata(name).map_or(0, |m| m.len()))
                .collect(),
            shown: None,
            violations: 0,
        })
    }

    fn update(&mut self, progress: pactum::sink::Progress) {
        let elapsed = self.started.elapsed();
        if elapsed < std::time::Duration::from_secs(1) {
            return;
        }
        let bar = self.shown.get_or_insert_with(|| {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:30} {percent:>3}% {msg} [{elapsed}]")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
        let rate = |n: u64| n as f64 / elapsed.as_secs_f64().max(1e-9);
        match progress {
            pactum::sink::Progress::Reading {
                input,
                offset,
                records,
            } => {
                let total: u64 = self.sizes.iter().sum();
                let before: u64 = self.sizes.iter().take(input).sum();
                bar.set_length(total.max(1));
                bar.set_position(before + offset);
                bar.set_message(format!(
                    "{records} events read, {:.0} events/s, {} violations so far",
                    rate(records),
                    self.violations
                ));
            }
            pactum::sink::Progress::Reordering { done, total } => {
                bar.set_length(total.max(1));
                bar.set_position(done);
                bar.set_message(format!(
                    "judging in time order: {done} of {total} events, {} violations so far",
                    self.violations
                ));
            }
        }
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        if let Some(bar) = &self.shown {
            bar.finish_and_clear();
        }
    }
}

impl pactum::Sink for CliSink<'_> {
    type Error = io::Error;

    fn violation(&mut self, violation: pactum::sink::Violation) -> io::Result<()> {
        match &mut self.live {
            None => {
                self.collected.push(violation);
                Ok(())
            }
            Some(out) => {
                if let Some(record) = report::violation_record(self.program.agreements(), violation)
                {
                    self.worst = self.worst.max(Severity::parse(&record.severity));
                    serde_json::to_writer(&mut *out, &record)?;
                    writeln!(out)?;
                    // Whoever reads the stream sees each violation when it is decided.
                    out.flush()?;
                }
                Ok(())
            }
        }
    }

    fn rewind(&mut self) -> bool {
        self.collected.clear();
        if let Some(bar) = &mut self.bar {
            bar.violations = 0;
        }
        self.live.is_none()
    }

    fn progress(&mut self, progress: pactum::sink::Progress) {
        if let Some(bar) = &mut self.bar {
            bar.violations = self.collected.len() as u64;
            bar.update(progress);
        }
    }
}

fn open_output(path: Option<&Path>) -> Result<Box<dyn Write>> {
    Ok(match path {
        Some(path) => Box::new(BufWriter::new(
            fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(BufWriter::new(io::stdout())),
    })
}

struct ReplayArgs {
    rules: Vec<PathBuf>,
    events: Vec<String>,
    format: ReportFormat,
    output: Option<PathBuf>,
    fail_on: Option<SeverityArg>,
    skip_invalid: bool,
    map: Option<PathBuf>,
    input_format: Option<InputFormatArg>,
    max_delay: chrono::TimeDelta,
    until: Option<chrono::DateTime<chrono::Utc>>,
    no_memo: bool,
    quiet: bool,
}

fn parse_delay(text: &str) -> std::result::Result<chrono::TimeDelta, String> {
    if text.trim() == "0" || text.trim() == "0s" {
        return Ok(chrono::TimeDelta::zero());
    }
    pactum::time::parse_duration(text)
}

fn parse_until(text: &str) -> std::result::Result<chrono::DateTime<chrono::Utc>, String> {
    pactum::time::parse_instant(text).map(|(time, _)| time)
}

/// Opens event inputs (`-` is standard input) with the format each needs, and a way to read
/// each regular file again.
fn open_inputs(
    events: &[String],
    format_arg: Option<InputFormatArg>,
    mapping: Option<&Rc<Mapping>>,
) -> Result<Vec<Input<'static>>> {
    let mut inputs = Vec::new();
    for name in events {
        let reader: Box<dyn BufRead> = if name == "-" {
            Box::new(BufReader::with_capacity(1 << 16, io::stdin()))
        } else {
            let file = fs::File::open(name).with_context(|| format!("cannot open {name}"))?;
            Box::new(BufReader::with_capacity(1 << 16, file))
        };
        let format = input_format(format_arg, name);
        // A regular file can be read again, in another order, if temporal terms need it; a
        // pipe or a device (`/dev/stdin`, `<(…)`) cannot.
        let regular = name != "-" && fs::metadata(name).is_ok_and(|m| m.is_file());
        let reopen: Option<pactum::run::Reopen> = regular.then(|| {
            let path = name.clone();
            Box::new(move || {
                let file = fs::File::open(&path)?;
                // Read again means read out of order: every seek throws the buffer away, so a
                // small one (a few events' worth) keeps each jump to one short read. 64 KiB
                // here made a shuffled 300,000-line replay spend seconds copying buffers.
                Ok(Box::new(BufReader::with_capacity(REREAD_BUFFER, file))
                    as Box<dyn pactum::run::SeekRead>)
            }) as pactum::run::Reopen
        });
        inputs.push(Input {
            name: name.clone(),
            reader,
            format,
            reopen,
            mapping: mapping.cloned(),
        });
    }
    Ok(inputs)
}

/// `pactum diff`: two reports of the same events, from two rule sets or two saved files.
fn diff(rules: &[PathBuf], files: &[String], map: Option<&Path>, format: DiffFormat) -> Result<u8> {
    let (old, new) = match (rules, files) {
        ([], [old, new]) => {
            let (Some(old), Some(new)) = (read_report(old)?, read_report(new)?) else {
                return Ok(EXIT_INVALID);
            };
            (old, new)
        }
        ([old, new], _) => {
            let (Some(old), Some(new)) = (
                replay_report(old, files, map)?,
                replay_report(new, files, map)?,
            ) else {
                return Ok(EXIT_INVALID);
            };
            (old, new)
        }
        _ => bail!(
            "give --rules OLD --rules NEW and the event files, or two JSON reports (OLD.json NEW.json)"
        ),
    };
    let d = report::diff::diff(&old, &new);
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let written = match format {
        DiffFormat::Text => report::diff::write_text(&d, &mut out),
        DiffFormat::Markdown => report::diff::write_markdown(&d, &mut out),
        DiffFormat::Json => serde_json::to_writer_pretty(&mut out, &d)
            .map_err(io::Error::other)
            .and_then(|()| writeln!(out)),
    }
    .and_then(|()| out.flush());
    unless_pipe_closed(written)?;
    Ok(0)
}

/// The report of replaying `events` under `rules`, or `None` (said on stderr) when the rules,
/// the mapping or an event is invalid.
fn replay_report(
    rules: &Path,
    events: &[String],
    map: Option<&Path>,
) -> Result<Option<report::Report>> {
    let Some((program, mapping)) = load_program(&[rules.to_path_buf()], map, "compared")? else {
        return Ok(None);
    };
    let inputs = open_inputs(events, None, mapping.as_ref())?;
    let options = RunOptions::default();
    let mut sink = pactum::sink::Collect::default();
    match run(&program, inputs, options, &mut sink) {
        Ok(outcome) => Ok(Some(report::build(&program, &outcome, options, sink.0))),
        Err(RunError::Invalid(invalid)) => {
            say!("error: invalid event at {invalid}");
            Ok(None)
        }
        Err(err) => Err(err.into()),
    }
}

/// A saved JSON report, or `None` (said on stderr) when it is not one this pactum reads.
fn read_report(file: &str) -> Result<Option<report::Report>> {
    let text = if file == "-" {
        io::read_to_string(io::stdin()).context("cannot read standard input")?
    } else {
        fs::read_to_string(file).with_context(|| format!("cannot read {file}"))?
    };
    let report: report::Report = match serde_json::from_str(&text) {
        Ok(report) => report,
        Err(err) => {
            say!(
                "error: {file}:{}:{}: not a pactum JSON report: {err}",
                err.line(),
                err.column()
            );
            return Ok(None);
        }
    };
    if report.report_version != report::REPORT_VERSION {
        say!(
            "error: {file} is a report of format version {}; this pactum reads version {}",
            report.report_version,
            report::REPORT_VERSION
        );
        return Ok(None);
    }
    Ok(Some(report))
}

/// `pactum report`: a saved JSON report rendered in `format`.
fn render_saved(file: &str, format: ReportFormat, output: Option<&Path>) -> Result<u8> {
    let Some(report) = read_report(file)? else {
        return Ok(EXIT_INVALID);
    };
    match output {
        Some(path) => {
            let file = fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            let mut out = BufWriter::new(file);
            report::write(&report, format.format(), &mut out)?;
            out.flush()?;
        }
        None => {
            let stdout = io::stdout();
            let mut out = BufWriter::new(stdout.lock());
            let written =
                report::write(&report, format.format(), &mut out).and_then(|()| out.flush());
            unless_pipe_closed(written)?;
        }
    }
    Ok(0)
}

/// Loads and compiles the rules and the mapping (if any), printing every diagnostic; `None`
/// (said on stderr, with what was not done) when either is invalid.
fn load_program(
    rules: &[PathBuf],
    map: Option<&Path>,
    not_done: &str,
) -> Result<Option<(Program, Option<Rc<Mapping>>)>> {
    let (program, diagnostics) = load_rules(rules)?;
    print_diagnostics(&diagnostics);
    let (mapping, found) = match map {
        Some(path) => load_mapping(path),
        None => (None, Vec::new()),
    };
    print_diagnostics(&found);
    let Some(program) = program else {
        say!("error: the rules are invalid; nothing was {not_done}");
        return Ok(None);
    };
    if map.is_some() && mapping.is_none() {
        say!("error: the mapping is invalid; nothing was {not_done}");
        return Ok(None);
    }
    Ok(Some((program, mapping.map(Rc::new))))
}

fn replay(args: ReplayArgs) -> Result<u8> {
    let Some((program, mapping)) = load_program(&args.rules, args.map.as_deref(), "replayed")?
    else {
        return Ok(EXIT_INVALID);
    };
    if args.events.iter().filter(|e| *e == "-").count() > 1 {
        bail!("standard input (`-`) can be read only once");
    }
    let inputs = open_inputs(&args.events, args.input_format, mapping.as_ref())?;
    let options = RunOptions {
        skip_invalid: args.skip_invalid,
        memo: !args.no_memo,
        until: args.until,
    };
    let format = args.format.format();
    // Standard input alone is a stream: events are judged as they come, and JSON Lines output
    // is written as each violation is decided.
    let streaming = args.events == ["-"];
    let live = streaming && format == Format::JsonLines;
    let mut sink = CliSink {
        program: &program,
        collected: Vec::new(),
        live: if live {
            Some(open_output(args.output.as_deref())?)
        } else {
            None
        },
        worst: None,
        bar: if args.quiet || streaming {
            None
        } else {
            Bar::new(&args.events)
        },
    };
    let ran = if streaming {
        let input = inputs.into_iter().next().context("standard input")?;
        run_stream(&program, input, options, args.max_delay, &mut sink)
    } else {
        run(&program, inputs, options, &mut sink)
    };
    let outcome = match ran {
        Ok(outcome) => outcome,
        Err(RunError::Invalid(invalid)) => {
            say!("error: invalid event at {invalid}");
            say!(
                "  = help: fix the line, or pass --skip-invalid to skip such lines and list them in the report"
            );
            return Ok(EXIT_INVALID);
        }
        Err(RunError::Io { file, source }) => {
            return Err(anyhow::Error::new(source).context(format!("cannot read {file}")));
        }
        Err(RunError::Sink(err)) => {
            unless_pipe_closed(Err(err))?;
            return Ok(0);
        }
        Err(err @ RunError::Unordered { .. }) => return Err(err.into()),
    };
    // The bar goes before the report is written.
    drop(sink.bar.take());
    let live = sink.live.is_some();
    let worst_live = sink.worst;
    let mut report = report::build(&program, &outcome, options, sink.collected);
    if streaming {
        report.options.max_delay_s = Some(args.max_delay.num_seconds());
    }
    match &args.output {
        _ if live => {}
        Some(path) => {
            let file = fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            let mut out = BufWriter::new(file);
            report::write(&report, format, &mut out)?;
            out.flush()?;
        }
        None => {
            let stdout = io::stdout();
            let mut out = BufWriter::new(stdout.lock());
            let written = report::write(&report, format, &mut out).and_then(|()| out.flush());
            unless_pipe_closed(written)?;
        }
    }
    // Whatever the format, say on stderr what the report holds besides violations: a term
    // that fails on every event must not pass unnoticed behind a quiet exit code.
    if !report.errors.is_empty() {
        let events: u64 = report.errors.iter().map(|e| e.count).sum();
        say!(
            "warning: {} term(s) failed on {events} event(s) in all; see the report's rule errors",
            report.errors.len()
        );
    }
    if !report.late.is_empty() {
        say!(
            "warning: {} event(s) came later than --max-delay allows and were judged out of time order; see the report's late events",
            report.late.len()
        );
    }
    if !report.skipped.is_empty() {
        say!(
            "warning: {} invalid input line(s) skipped; see the report's skipped lines",
            report.skipped.len()
        );
    }
    let threshold = args.fail_on.map(|s| match s {
        SeverityArg::Low => Severity::Low,
        SeverityArg::Medium => Severity::Medium,
        SeverityArg::High => Severity::High,
        SeverityArg::Critical => Severity::Critical,
    });
    let reached = |severity| {
        report::any_at_or_above(&report, severity) || worst_live.is_some_and(|w| w >= severity)
    };
    Ok(match threshold {
        Some(severity) if reached(severity) => EXIT_VIOLATIONS,
        _ => 0,
    })
}

fn input_format(arg: Option<InputFormatArg>, name: &str) -> InputFormat {
    match arg {
        Some(InputFormatArg::Jsonl) => InputFormat::JsonLines,
        Some(InputFormatArg::Yaml) => InputFormat::Yaml,
        Some(InputFormatArg::Csv) => InputFormat::Csv,
        None => InputFormat::from_name(name),
    }
}
