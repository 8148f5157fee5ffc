//! `pactum test`: runs scenarios and reports, per scenario, whether it holds; with
//! `--coverage`, which clauses the scenarios exercise.
//!
//! The library's [`pactum::scenario`] reads a scenario and judges a report against it;
//! [`crate::commands::scenarios`] finds the scenario files and replays each exactly as `pactum
//! replay` would; this module judges, adds up the coverage and renders the results as text or
//! JUnit XML. `--bless` hands over to [`crate::commands::bless`].

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Result;
use pactum::load::confine::Roots;
use pactum::report::Report;
use pactum::scenario::{self, Coverage, Verdict};

use crate::commands::confine::RootArgs;
use crate::commands::load::load_rules;
use crate::commands::output::{EXIT_INVALID, EXIT_VIOLATIONS, say};
use crate::commands::scenarios::{replay, scenario_files, scenario_name};

/// What `pactum test` is given.
#[derive(clap::Args)]
pub struct TestArgs {
    /// Scenario files, directories holding a scenario.yaml, or directories of such
    /// directories.
    #[arg(default_value = "scenarios")]
    paths: Vec<PathBuf>,
    /// How to print the results.
    #[arg(long, value_enum, default_value_t = TestFormat::Text)]
    format: TestFormat,
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
    /// Write each scenario's `violations` (or `counts`) and `open` from its replay, editing
    /// only those in the file (comments and the rest kept), and show the change as a diff. A
    /// scenario whose replay fails is left as it was (exit 2); one that then still fails on
    /// what --bless does not write (quiet events, includes, skipped) exits 1.
    #[arg(long, conflicts_with_all = ["coverage", "min_coverage", "rules"])]
    bless: bool,
    #[command(flatten)]
    roots: RootArgs,
}

/// How `pactum test` prints its results.
#[derive(Clone, Copy, clap::ValueEnum)]
enum TestFormat {
    /// One line per scenario, and what differs for each failure.
    Text,
    /// JUnit XML, for CI systems.
    Junit,
}

/// The outcome of one scenario file.
struct Outcome {
    /// The scenario's name: its directory's, or the file's for a loose file.
    name: String,
    file: PathBuf,
    verdict: Verdict,
    /// The report, when the replay ran.
    report: Option<Report>,
}

/// Runs `pactum test`; returns the exit code.
pub fn run(args: TestArgs) -> Result<u8> {
    if args.bless {
        if matches!(args.format, TestFormat::Junit) {
            say!(
                "error: --bless writes the scenarios' files and shows what changed as text; it has no JUnit output"
            );
            return Ok(EXIT_INVALID);
        }
        return crate::commands::bless::bless(&args.paths, &args.roots.roots()?);
    }
    test(
        &args.paths,
        &args.rules,
        args.format,
        args.coverage || args.min_coverage.is_some(),
        args.min_coverage,
        &args.roots.roots()?,
    )
}

/// Runs the scenarios under `paths`; returns the exit code.
fn test(
    paths: &[PathBuf],
    rules: &[PathBuf],
    format: TestFormat,
    coverage: bool,
    min_coverage: Option<f64>,
    roots: &Roots,
) -> Result<u8> {
    let files = scenario_files(paths)?;
    if files.is_empty() {
        say!("error: no scenario.yaml under {}", display(paths));
        return Ok(EXIT_INVALID);
    }
    let mut outcomes = Vec::new();
    for file in files {
        outcomes.push(run_one(&file, roots));
    }
    let mut total = Coverage::default();
    if !rules.is_empty() {
        let (program, diagnostics) = load_rules(rules, roots)?;
        let Some(program) = program else {
            for d in &diagnostics {
                say!("{}", d.render().trim_end());
            }
            say!("error: the rules to cover are invalid");
            return Ok(EXIT_INVALID);
        };
        total.require(program.agreements());
    }
    for outcome in &outcomes {
        if let Some(report) = &outcome.report {
            total.add(&outcome.name, report, &outcome.verdict);
        }
    }
    // Two agreements under one id would be one line of coverage, their terms merged.
    if coverage && !total.conflicts.is_empty() {
        for conflict in &total.conflicts {
            say!("error: {conflict}");
        }
        return Ok(EXIT_INVALID);
    }
    let failed = outcomes.iter().filter(|o| !o.verdict.passed()).count();
    let below = min_coverage
        .filter(|min| total.percent() + 1e-9 < *min)
        .map(|min| {
            format!(
                "clause coverage {:.1} % is below --min-coverage {min}",
                total.percent()
            )
        });
    let text = match format {
        TestFormat::Text => text(&outcomes, coverage.then_some(&total)),
        TestFormat::Junit => junit(&outcomes, below.as_deref()),
    };
    print!("{text}");
    if let Some(below) = &below {
        say!("error: {below}");
    }
    let below = below.is_some();
    Ok(if failed > 0 || below {
        EXIT_VIOLATIONS
    } else {
        0
    })
}

fn run_one(file: &Path, roots: &Roots) -> Outcome {
    let mut outcome = Outcome {
        name: scenario_name(file),
        file: file.to_path_buf(),
        verdict: Verdict::default(),
        report: None,
    };
    match replay(file, roots) {
        Ok((scenario, report, events, periods)) => {
            outcome.verdict = scenario::judge(&scenario, &report, &events, &periods);
            outcome.report = Some(report);
        }
        Err(why) => outcome.verdict.failures.push(why),
    }
    outcome
}

fn text(outcomes: &[Outcome], coverage: Option<&Coverage>) -> String {
    let mut out = String::new();
    for o in outcomes {
        let status = if o.verdict.passed() { "ok  " } else { "FAIL" };
        let found = o
            .report
            .as_ref()
            .map(|r| {
                format!(
                    "  ({} events, {} violations)",
                    r.summary.events, r.summary.violations
                )
            })
            .unwrap_or_default();
        let _ = writeln!(out, "{status} {}{found}", o.name);
        for failure in &o.verdict.failures {
            for (i, line) in failure.lines().enumerate() {
                let lead = if i == 0 { "  - " } else { "    " };
                let _ = writeln!(out, "{lead}{line}");
            }
        }
    }
    let failed = outcomes.iter().filter(|o| !o.verdict.passed()).count();
    let _ = writeln!(
        out,
        "{} scenario(s): {} passed, {failed} failed",
        outcomes.len(),
        outcomes.len() - failed
    );
    if let Some(coverage) = coverage {
        let _ = writeln!(
            out,
            "\nCLAUSE COVERAGE (scenarios with a positive / a negative case)"
        );
        let width = coverage
            .terms
            .keys()
            .map(|(a, t)| a.len() + t.len() + 1)
            .max()
            .unwrap_or(4);
        for ((agreement, term), (positive, negative)) in &coverage.terms {
            let mark = if positive.is_empty() || negative.is_empty() {
                "  <- incomplete"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "{:<width$}  {:>2} positive  {:>2} negative{mark}",
                format!("{agreement}/{term}"),
                positive.len(),
                negative.len()
            );
        }
        let unfired: Vec<String> = coverage
            .terms
            .iter()
            .filter(|(_, (p, _))| p.is_empty())
            .map(|((a, t), _)| format!("{a}/{t}"))
            .collect();
        if !unfired.is_empty() {
            let _ = writeln!(out, "terms no scenario fires: {}", unfired.join(", "));
        }
        let _ = writeln!(
            out,
            "coverage: {:.1} % of {} term(s) have a positive and a negative case",
            coverage.percent(),
            coverage.terms.len()
        );
    }
    out
}

fn junit(outcomes: &[Outcome], coverage_failure: Option<&str>) -> String {
    // XML 1.0 allows no control character but tab and line breaks, even escaped: event data
    // could hold one, so they are written as Rust escapes.
    let escape = |s: &str| {
        let visible: String = s
            .chars()
            .flat_map(|c| match c {
                '\n' | '\t' | '\r' => vec![c],
                c if c.is_control() => c.escape_default().collect(),
                c => vec![c],
            })
            .collect();
        quick_xml::escape::escape(&visible).into_owned()
    };
    let failed = outcomes.iter().filter(|o| !o.verdict.passed()).count()
        + usize::from(coverage_failure.is_some());
    let tests = outcomes.len() + usize::from(coverage_failure.is_some());
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"pactum\" tests=\"{tests}\" failures=\"{failed}\">"
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"scenarios\" tests=\"{tests}\" failures=\"{failed}\">"
    );
    for o in outcomes {
        let _ = write!(
            out,
            "    <testcase name=\"{}\" classname=\"pactum.scenarios\" file=\"{}\"",
            escape(&o.name),
            escape(&o.file.display().to_string())
        );
        if o.verdict.passed() {
            out.push_str("/>\n");
        } else {
            let first = o
                .verdict
                .failures
                .first()
                .map_or("", |f| f.lines().next().unwrap_or(""));
            let _ = writeln!(
                out,
                ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>",
                escape(first),
                escape(&o.verdict.failures.join("\n"))
            );
        }
    }
    if let Some(why) = coverage_failure {
        let _ = writeln!(
            out,
            "    <testcase name=\"clause coverage\" classname=\"pactum.coverage\">\n      <failure message=\"{0}\">{0}</failure>\n    </testcase>",
            escape(why)
        );
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

fn display(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
