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
use pactum::explain;
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
    #[command(group(clap::ArgGroup::new("the_event").required(true).args(["event", "events"])))]
    Explain {
        /// Agreement file, or a directory meaning every *.yaml and *.yml in it. Repeatable.
        #[arg(long = "rules", short = 'r', required = true)]
        rules: Vec<PathBuf>,
        /// The event, as one JSON object.
        #[arg(long, value_name = "JSON", conflicts_with = "id")]
        event: Option<String>,
        /// A file of events (JSON Lines; YAML for .yaml/.yml; CSV for .csv), with --id.
        #[arg(long, value_name = "FILE", requires = "id")]
        events: Option<String>,
        /// The id of the event to explain in --events: its `id`, or FILE:LINE for an event
        /// without one.
        #[arg(long, requires = "events")]
        id: Option<String>,
        /// A mapping file that turns the record into an event (docs/inputs.md).
        #[arg(long, value_name = "FILE")]
        map: Option<PathBuf>,
        /// Format of --events; by default from the extension.
        #[arg(long, value_enum)]
        input_format: Option<InputFormatArg>,
        /// Output format.
        #[arg(long, short = 'f', value_enum, default_value_t = ExplainFormat::Text)]
        format: ExplainFormat,
    },
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
        }),
        Command::Test {
            paths,
            format,
            coverage,
            min_coverage,
        } => commands::test::test(
            &paths,
            format,
            coverage || min_coverage.is_some(),
            min_coverage,
        ),
        Command::New { kind, name, dir } => {
            commands::new::new(kind, &name, &dir.unwrap_or_default())
        }
        Command::Schema { kind } => print_schema(&kind),
        Command::Explain {
            rules,
            event,
            events,
            id,
            map,
            input_format,
            format,
        } => explain(ExplainArgs {
            rules,
            event,
            events,
            id,
            map,
            input_format,
            format,
        }),
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

/// Reads a file an agreement's geography names, refusing one too large to be a map.
fn read_geography(path: &Path) -> io::Result<Vec<u8>> {
    let size = fs::metadata(path)?.len();
    if size > MAX_GEOGRAPHY_BYTES {
        return Err(io::Error::other(format!(
            "{size} bytes, more than the {} MiB a geography file may have",
            MAX_GEOGRAPHY_BYTES >> 20
        )));
    }
    fs::read(path)
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
        self.live.is_none()
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
    let format = match args.format {
        ReportFormat::Text => Format::Text,
        ReportFormat::Json => Format::Json,
        ReportFormat::Jsonl => Format::JsonLines,
    };
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
    let live = sink.live.is_some();
    let worst_live = sink.worst;
    let report = report::build(&program, &outcome, options, sink.collected);
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

struct ExplainArgs {
    rules: Vec<PathBuf>,
    event: Option<String>,
    events: Option<String>,
    id: Option<String>,
    map: Option<PathBuf>,
    input_format: Option<InputFormatArg>,
    format: ExplainFormat,
}

fn input_format(arg: Option<InputFormatArg>, name: &str) -> InputFormat {
    match arg {
        Some(InputFormatArg::Jsonl) => InputFormat::JsonLines,
        Some(InputFormatArg::Yaml) => InputFormat::Yaml,
        Some(InputFormatArg::Csv) => InputFormat::Csv,
        None => InputFormat::from_name(name),
    }
}

fn explain(args: ExplainArgs) -> Result<u8> {
    let Some((program, mapping)) = load_program(&args.rules, args.map.as_deref(), "explained")?
    else {
        return Ok(EXIT_INVALID);
    };
    let event = match (&args.event, &args.events, &args.id) {
        (Some(json), _, _) => {
            // One JSON object, read as a one-line log: a line break inside JSON text can only
            // be spacing (a string cannot hold a raw one).
            let line = json.replace(['\n', '\r'], " ");
            let mut reader =
                pactum::input::EventReader::new("--event", line.as_bytes(), InputFormat::JsonLines)
                    .with_mapping(mapping);
            match reader.next_record()? {
                Some(Ok(event)) => event,
                Some(Err(invalid)) => {
                    say!("error: invalid event at {invalid}");
                    return Ok(EXIT_INVALID);
                }
                None => {
                    say!("error: --event is empty: give one JSON object");
                    return Ok(EXIT_INVALID);
                }
            }
        }
        (None, Some(file), Some(id)) => match find_event(file, id, &args, mapping)? {
            Some(event) => event,
            None => return Ok(EXIT_INVALID),
        },
        // clap requires --event, or --events with --id.
        _ => bail!("give --event JSON, or --events FILE with --id ID"),
    };
    let explanation = pactum::explain::explain(&program, &event);
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let written = match args.format {
        ExplainFormat::Text => explain_text(&explanation, &mut out),
        ExplainFormat::Json => serde_json::to_writer_pretty(&mut out, &explain_json(&explanation))
            .map_err(io::Error::from)
            .and_then(|()| writeln!(out)),
    }
    .and_then(|()| out.flush());
    unless_pipe_closed(written)?;
    Ok(0)
}

/// The first event of `file` whose id is `id`; `None` (and the reason said) when there is none.
fn find_event(
    file: &str,
    id: &str,
    args: &ExplainArgs,
    mapping: Option<Rc<Mapping>>,
) -> Result<Option<pactum::event::Event>> {
    let reader: Box<dyn BufRead> = if file == "-" {
        Box::new(BufReader::new(io::stdin()))
    } else {
        let opened = fs::File::open(file).with_context(|| format!("cannot open {file}"))?;
        Box::new(BufReader::new(opened))
    };
    let format = input_format(args.input_format, file);
    let mut reader = pactum::input::EventReader::new(file, reader, format).with_mapping(mapping);
    let mut found = None;
    let mut more = 0u64;
    let mut invalid = 0u64;
    while let Some(record) = reader
        .next_record()
        .with_context(|| format!("cannot read {file}"))?
    {
        match record {
            // An explanation is about one event: lines that are not events elsewhere in the
            // file do not stop it (a replay lists them).
            Err(_) => invalid += 1,
            Ok(event) if event.id() == id => {
                if found.is_none() {
                    found = Some(event);
                } else {
                    more += 1;
                }
            }
            Ok(_) => {}
        }
    }
    match &found {
        Some(event) if more > 0 => say!(
            "warning: {} events of {file} have the id `{id}`; explaining the first, at {}",
            more + 1,
            event.origin()
        ),
        Some(_) => {}
        None => {
            let skipped = if invalid > 0 {
                format!(
                    " ({invalid} invalid line(s) skipped; `pactum replay --skip-invalid` lists them)"
                )
            } else {
                String::new()
            };
            say!("error: no event of {file} has the id `{id}`{skipped}");
            say!(
                "  = help: an event's id is its `id` field, or FILE:LINE when it has none (as in a report's evidence)"
            );
        }
    }
    Ok(found)
}

/// Line breaks and the indentation after them, as in a `|` block, become one space: a
/// condition is shown on one line.
fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut lines = text.trim().lines();
    if let Some(first) = lines.next() {
        out.push_str(first.trim_end());
    }
    for line in lines {
        let line = line.trim();
        if !line.is_empty() {
            out.push(' ');
            out.push_str(line);
        }
    }
    report::plain(&out).into_owned()
}

fn period_words(period: &agreement::Period) -> String {
    let show = |t: &chrono::DateTime<chrono::Utc>| pactum::time::format_instant(t);
    match (&period.from, &period.until) {
        (Some(from), Some(until)) => format!("from {} until {}", show(from), show(until)),
        (Some(from), None) => format!("from {}", show(from)),
        (None, Some(until)) => format!("until {}", show(until)),
        (None, None) => "at all times".into(),
    }
}

fn side_words(side: &explain::Side) -> String {
    match side {
        explain::Side::Value(value) | explain::Side::List(value) => value.clone(),
        explain::Side::Failed(_) => "(failed)".into(),
    }
}

/// "`\"artillery\" == \"airstrike\"`; `in_iraq(event)` gave true".
fn detail_words(detail: &explain::Detail) -> Vec<String> {
    let mut parts = Vec::new();
    if let Some(c) = &detail.comparison {
        let compared = format!(
            "{} {} {}",
            side_words(&c.left),
            c.operator,
            side_words(&c.right)
        );
        parts.push(if c.negated {
            format!("not ({compared})")
        } else {
            compared
        });
    }
    for call in &detail.calls {
        parts.push(match &call.result {
            Ok(value) => format!("{} gave {value}", one_line(&call.text)),
            Err(_) => format!("{} failed", one_line(&call.text)),
        });
    }
    parts
}

fn judged_words(judged: &explain::Judged) -> String {
    match judged {
        explain::Judged::True => "true".into(),
        explain::Judged::False => "false".into(),
        explain::Judged::Other(value) => format!("{value}, not a boolean"),
        explain::Judged::Failed(message) => format!("failed: {}", report::plain(message)),
    }
}

/// ", key S01" for a keyed form, "" for one without `by`.
fn key_words(key: &explain::Key) -> String {
    match key {
        explain::Key::Value(key) => format!(", key {}", report::plain(key)),
        _ => String::new(),
    }
}

/// Why a selected event takes no part in its form: its key is missing or failed.
fn key_problem(key: &explain::Key) -> Option<String> {
    match key {
        explain::Key::Missing => Some(
            "`by` gave () (a missing field): the event is counted as unkeyed and grouped with nothing"
                .into(),
        ),
        explain::Key::Failed(message) => Some(report::plain(message).into_owned()),
        _ => None,
    }
}

/// The section of docs/semantics.md on a form.
fn form_name(form: &explain::FormSummary) -> &'static str {
    match form {
        explain::FormSummary::Each => "each",
        explain::FormSummary::Threshold { .. } => "threshold",
        explain::FormSummary::Deadline { .. } => "deadline",
        explain::FormSummary::Absence { .. } => "absence",
        explain::FormSummary::Sequence { .. } => "sequence",
    }
}

/// The text explanation: one block per term, for a reader who knows the agreement, not Rhai.
fn explain_text(e: &explain::Explanation, out: &mut dyn Write) -> io::Result<()> {
    let origin = e.origin.to_string();
    // An event without an id is named by its origin: no need to say it twice.
    let named = if e.id == origin {
        report::plain(&e.id).into_owned()
    } else {
        format!("{} ({})", report::plain(&e.id), report::plain(&origin))
    };
    writeln!(
        out,
        "event {named}: {} at {}",
        report::plain(&e.kind),
        pactum::time::format_instant(&e.time)
    )?;
    for t in &e.terms {
        writeln!(out)?;
        let article = t
            .article
            .as_ref()
            .map_or(String::new(), |a| format!(" ({})", report::plain(a)));
        writeln!(
            out,
            "{}/{}{article}: {}",
            t.agreement,
            t.term,
            report::plain(&t.title)
        )?;
        // The verdict first: what a reader looks for.
        text_verdict(t, out)?;
        // Outside the period the verdict has said it all.
        if let Some(when) = &t.when {
            writeln!(out, "  period: {}", period_words(&t.period))?;
            text_when(when, out)?;
        }
    }
    Ok(())
}

/// The first lines of a term's block: fires or not, and why, or what its form makes of it.
fn text_verdict(t: &explain::TermExplanation, out: &mut dyn Write) -> io::Result<()> {
    use explain::{FormSummary, InPeriod, Judged};
    let when = match (&t.in_period, &t.when) {
        (InPeriod::Inside, Some(when)) => when,
        (InPeriod::After, _) => {
            return writeln!(
                out,
                "  ✗ not judged: the event is after the term's period ({})",
                period_words(&t.period)
            );
        }
        _ => {
            return writeln!(
                out,
                "  ✗ not judged: the event is before the term's period ({})",
                period_words(&t.period)
            );
        }
    };
    if !t.selected {
        let why = match &when.result {
            // "`when` gave string, not a boolean (at …)" says what failed already.
            Judged::Failed(message) if message.starts_with("`when`") => {
                report::plain(message).into_owned()
            }
            Judged::Failed(message) => format!("`when` failed: {}", report::plain(message)),
            other => format!("`when` is {}", judged_words(other)),
        };
        let consequence = match &t.form {
            FormSummary::Each => return writeln!(out, "  ✗ does not fire: {why}"),
            FormSummary::Threshold { .. } => "the event does not count towards the threshold",
            FormSummary::Deadline { .. } => {
                "the event is not a trigger (it may still meet another event's obligation)"
            }
            FormSummary::Absence { .. } => "the event is not a sighting",
            FormSummary::Sequence { .. } => "the event is in no chain",
        };
        writeln!(out, "  ✗ not selected: {why}")?;
        return writeln!(out, "    {consequence}");
    }
    let party = |v: &explain::Attribution| {
        v.breached_by
            .as_deref()
            .map_or("nobody (unattributed)".to_string(), |p| {
                report::plain(p).into_owned()
            })
    };
    let temporal = !matches!(t.form, FormSummary::Each);
    match (&t.violation, temporal) {
        (Some(v), false) => writeln!(
            out,
            "  ✓ fires: a violation by {}, severity {}",
            party(v),
            t.severity.as_str()
        )?,
        _ => writeln!(out, "  ✓ {}", selected_words(t))?,
    }
    if let Some(explain::FormOutcome::Sequence { steps, .. }) = &t.outcome {
        // Each failure names its step.
        for message in steps.iter().filter_map(|step| step.as_ref().err()) {
            writeln!(out, "    {}", report::plain(message))?;
        }
    }
    if let Some(v) = &t.violation {
        if temporal {
            writeln!(
                out,
                "    a violation resting on this event: by {}, severity {}",
                party(v),
                t.severity.as_str()
            )?;
        }
        writeln!(out, "    message: {}", report::plain(&v.message))?;
        if let Some(failure) = &v.failure {
            writeln!(out, "    note: {}", report::plain(failure))?;
        }
    }
    if temporal {
        writeln!(
            out,
            "    whether it fires depends on other events: run `pactum replay` (docs/semantics.md, \"{}\")",
            form_name(&t.form)
        )?;
    }
    Ok(())
}

/// What a form makes of an event its `when` selects, in words.
fn selected_words(t: &explain::TermExplanation) -> String {
    use explain::{FormOutcome, FormSummary};
    use pactum::time::format_duration;
    match (&t.form, &t.outcome) {
        (_, Some(FormOutcome::Threshold { key }))
        | (_, Some(FormOutcome::Absence { key, .. }))
        | (_, Some(FormOutcome::Sequence { key, .. }))
            if key_problem(key).is_some() =>
        {
            format!("selected, but {}", key_problem(key).unwrap_or_default())
        }
        (FormSummary::Threshold { count, within, .. }, Some(FormOutcome::Threshold { key })) => {
            format!(
                "selected{}: it counts towards the threshold ({count} events within {})",
                key_words(key),
                format_duration(*within)
            )
        }
        (_, Some(FormOutcome::Deadline { window })) => match window {
            agreement::DeadlineWindow::Within(within) => format!(
                "selected: a trigger; an event meeting `require` must follow within {}",
                format_duration(*within)
            ),
            agreement::DeadlineWindow::Before(before) => format!(
                "selected: a trigger; an event meeting `require` must have come in the {} before it",
                format_duration(*before)
            ),
        },
        (_, Some(FormOutcome::Absence { key, watched: true })) => format!(
            "selected: a sighting{}; it ends the current gap",
            key_words(key)
        ),
        (
            _,
            Some(FormOutcome::Absence {
                key,
                watched: false,
            }),
        ) => format!(
            "selected, but{} is not among `keys`: not watched",
            key_words(key).trim_start_matches(',')
        ),
        (
            FormSummary::Sequence { steps: total, .. },
            Some(FormOutcome::Sequence { key, steps }),
        ) => {
            let matched: Vec<String> = steps
                .iter()
                .enumerate()
                .filter(|(_, m)| matches!(m, Ok(true)))
                .map(|(i, _)| (i + 1).to_string())
                .collect();
            let which = if matched.is_empty() {
                format!("it matches none of the {total} steps")
            } else {
                format!("it matches step {} of {total}", matched.join(" and "))
            };
            format!("selected{}: {which}", key_words(key))
        }
        _ => "selected".to_string(),
    }
}

/// The `when` lines: its result, then each condition of a chain, or the condition whole.
fn text_when(when: &explain::Condition, out: &mut dyn Write) -> io::Result<()> {
    use explain::Judged;
    let result = match &when.result {
        Judged::Failed(_) => "failed".to_string(),
        other => judged_words(other),
    };
    let with_detail = |parts: Vec<String>| {
        if parts.is_empty() {
            String::new()
        } else {
            format!(" — {}", parts.join("; "))
        }
    };
    let Some(chain) = &when.chain else {
        if when.implicit {
            return writeln!(out, "  when: none (every event is selected)");
        }
        writeln!(out, "  when: {result}")?;
        let mut parts = detail_words(&when.detail);
        if let Some(value) = &when.gave {
            parts.push(format!("gave {value}"));
        }
        return writeln!(out, "    {}{}", one_line(&when.text), with_detail(parts));
    };
    let total = chain.operands.len();
    let deciding = chain
        .decided_by
        .and_then(|i| chain.operands.get(i).map(|o| (i + 1, &o.result)));
    let how = match (deciding, chain.all) {
        (Some((n, Some(Judged::True))), _) => {
            format!("condition {n} of {total} holds (any one is enough)")
        }
        (Some((n, Some(Judged::False))), _) => format!("condition {n} of {total} is false"),
        (Some((n, Some(Judged::Other(value)))), _) => {
            format!("condition {n} of {total} gave {value}, not a boolean")
        }
        (Some((n, _)), _) => format!("condition {n} of {total} failed"),
        (None, true) if total == 2 => "both conditions hold".to_string(),
        (None, true) => format!("all {total} conditions hold"),
        (None, false) if total == 2 => "neither alternative holds".to_string(),
        (None, false) => format!("none of the {total} alternatives holds"),
    };
    writeln!(out, "  when: {result} — {how}")?;
    for (i, operand) in chain.operands.iter().enumerate() {
        let mark = match &operand.result {
            None => "·",
            Some(Judged::True) => "✓",
            Some(_) => "✗",
        };
        let mut parts = detail_words(&operand.detail);
        match &operand.result {
            None => parts.push("not evaluated".into()),
            Some(Judged::Other(value)) => parts.push(format!("gave {value}, not a boolean")),
            Some(Judged::Failed(message)) => {
                parts.push(format!("failed: {}", report::plain(message)));
            }
            Some(_) => {}
        }
        let decides = if chain.decided_by == Some(i) {
            "  ← decides"
        } else {
            ""
        };
        writeln!(
            out,
            "    {mark} {}{}{decides}",
            one_line(&operand.text),
            with_detail(parts)
        )?;
    }
    Ok(())
}

type JsonMap = serde_json::Map<String, serde_json::Value>;

/// `evaluated`, `result`, `value` and `error` of something evaluated (or not).
fn judged_json(judged: Option<&explain::Judged>) -> JsonMap {
    use explain::Judged;
    let (evaluated, result, value, error) = match judged {
        None => (false, None, None, None),
        Some(Judged::True) => (true, Some(true), None, None),
        Some(Judged::False) => (true, Some(false), None, None),
        Some(Judged::Other(value)) => (true, None, Some(value.clone()), None),
        Some(Judged::Failed(message)) => (true, None, None, Some(message.clone())),
    };
    let mut map = JsonMap::new();
    map.insert("evaluated".into(), evaluated.into());
    map.insert("result".into(), result.into());
    map.insert("value".into(), value.into());
    map.insert("error".into(), error.into());
    map
}

/// `comparison` and `calls`.
fn detail_json(detail: &explain::Detail, into: &mut JsonMap) {
    use explain::Side;
    let side = |side: &Side| match side {
        Side::Value(value) => serde_json::json!({"value": value}),
        Side::List(name) => serde_json::json!({"list": name}),
        Side::Failed(message) => serde_json::json!({"error": message}),
    };
    let comparison = match &detail.comparison {
        Some(c) => serde_json::json!({
            "negated": c.negated,
            "left": side(&c.left),
            "operator": c.operator,
            "right": side(&c.right),
        }),
        None => serde_json::Value::Null,
    };
    into.insert("comparison".into(), comparison);
    let calls = detail
        .calls
        .iter()
        .map(|call| match &call.result {
            Ok(value) => serde_json::json!({"text": call.text, "value": value, "error": null}),
            Err(message) => serde_json::json!({"text": call.text, "value": null, "error": message}),
        })
        .collect();
    into.insert("calls".into(), calls);
}

/// The JSON explanation (docs/explain.md): the same data as the text, as values.
fn explain_json(e: &explain::Explanation) -> serde_json::Value {
    use explain::{FormOutcome, FormSummary, InPeriod, Key};
    use pactum::time::{format_duration, format_instant};
    let instant = |t: &Option<chrono::DateTime<chrono::Utc>>| t.as_ref().map(format_instant);
    let key = |key: &Key| match key {
        Key::Single => serde_json::Value::Null,
        Key::Value(value) => serde_json::json!({"value": value, "error": null}),
        Key::Missing => serde_json::json!({"value": null, "error": null}),
        Key::Failed(message) => serde_json::json!({"value": null, "error": message}),
    };
    let terms: Vec<serde_json::Value> = e
        .terms
        .iter()
        .map(|t| {
            let form = match &t.form {
                FormSummary::Each => serde_json::json!({"type": "each"}),
                FormSummary::Threshold { count, within, keyed } => serde_json::json!({"type": "threshold", "count": count, "within": format_duration(*within), "by": keyed}),
                FormSummary::Deadline { window: agreement::DeadlineWindow::Within(d) } => serde_json::json!({"type": "deadline", "within": format_duration(*d)}),
                FormSummary::Deadline { window: agreement::DeadlineWindow::Before(d) } => serde_json::json!({"type": "deadline", "before": format_duration(*d)}),
                FormSummary::Absence { within, keyed } => serde_json::json!({"type": "absence", "within": format_duration(*within), "by": keyed}),
                FormSummary::Sequence { within, steps, keyed } => serde_json::json!({"type": "sequence", "within": format_duration(*within), "steps": steps, "by": keyed}),
            };
            let when = t.when.as_ref().map(|when| {
                // The `when` as a replay judges it: a value other than a boolean is a failure,
                // and `value` says what it was.
                let mut value = judged_json(Some(&when.result));
                value.insert("text".into(), when.text.clone().into());
                value.insert("implicit".into(), when.implicit.into());
                value.insert("value".into(), when.gave.clone().into());
                let chain = match &when.chain {
                    Some(chain) => serde_json::json!({
                        "operator": if chain.all { "&&" } else { "||" },
                        "decided_by": chain.decided_by,
                        "operands": chain.operands.iter().map(|operand| {
                            let mut value = judged_json(operand.result.as_ref());
                            value.insert("text".into(), operand.text.clone().into());
                            detail_json(&operand.detail, &mut value);
                            serde_json::Value::Object(value)
                        }).collect::<Vec<_>>(),
                    }),
                    None => serde_json::Value::Null,
                };
                value.insert("chain".into(), chain);
                detail_json(&when.detail, &mut value);
                serde_json::Value::Object(value)
            });
            let outcome = t.outcome.as_ref().map(|outcome| match outcome {
                FormOutcome::Threshold { key: k } => serde_json::json!({"key": key(k)}),
                FormOutcome::Deadline { .. } => serde_json::json!({"trigger": true}),
                FormOutcome::Absence { key: k, watched } => serde_json::json!({"key": key(k), "watched": watched}),
                FormOutcome::Sequence { key: k, steps } => serde_json::json!({
                    "key": key(k),
                    "steps": steps.iter().map(|step| match step {
                        Ok(matched) => serde_json::json!({"matched": matched, "error": null}),
                        Err(message) => serde_json::json!({"matched": false, "error": message}),
                    }).collect::<Vec<_>>(),
                }),
            });
            // A term without a form fires exactly when it selects the event. With a form, a
            // selected event that could carry a violation depends on other events (`null`);
            // one that cannot (no usable key, a key not watched) does not fire.
            let fires = match (&t.form, t.selected, &t.violation) {
                (_, false, _) => false.into(),
                (FormSummary::Each, true, _) => true.into(),
                (_, true, Some(_)) => serde_json::Value::Null,
                (_, true, None) => false.into(),
            };
            serde_json::json!({
                "agreement": t.agreement,
                "term": t.term,
                "article": t.article,
                "title": t.title,
                "severity": t.severity.as_str(),
                "form": form,
                "period": {"from": instant(&t.period.from), "until": instant(&t.period.until)},
                "in_period": match t.in_period {
                    InPeriod::Inside => "inside",
                    InPeriod::Before => "before",
                    InPeriod::After => "after",
                },
                "when": when,
                "selected": t.selected,
                "fires": fires,
                "outcome": outcome,
                "violation": t.violation.as_ref().map(|v| serde_json::json!({
                    "breached_by": v.breached_by,
                    "message": v.message,
                    "failure": v.failure,
                })),
            })
        })
        .collect();
    serde_json::json!({
        "explain_version": 1,
        "pactum_version": env!("CARGO_PKG_VERSION"),
        "event": {
            "id": e.id,
            "time": format_instant(&e.time),
            "kind": e.kind,
            "origin": {"file": e.origin.file.to_string(), "line": e.origin.line},
        },
        "terms": terms,
    })
}
