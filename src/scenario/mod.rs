//! Scenario tests: a `scenario.yaml` states what replaying some events under some rules must
//! give, and [`judge`] compares that with the report a replay produced.
//!
//! A scenario names its rule files, event files and (optionally) a mapping — in its own
//! folder, or a root the user allowed ([`crate::load::confine`]) — and states the
//! outcome: every violation exactly, or counts per term and some violations that must be among
//! them; open obligations; events that must **not** raise anything (negative cases, for all
//! terms or for named ones); skipped lines. [`judge`] works on the versioned [`Report`], the
//! same contract readers get, so a scenario tests what a user sees; it does no IO (the command
//! line reads the files and runs the replay). Each passing scenario also says which terms it
//! exercises positively (a stated violation of the term) and negatively (a quiet event named
//! for the term), which [`Coverage`] adds up per clause.

pub mod bless;
pub mod expectations;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use serde::Deserialize;
use serde_saphyr::Spanned;

use chrono::{DateTime, Utc};

use crate::diagnostic::{Code, Diagnostic, SourceFile};
use crate::load::agreement::Period;
use crate::load::confine::Roots;
use crate::report::{Report, ViolationRecord};

/// One scenario file.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Human title.
    pub title: String,
    /// What it replays and why.
    pub description: String,
    /// Rule files, relative to the scenario file.
    pub rules: Vec<String>,
    /// Event files, relative to the scenario file, in order.
    pub events: Vec<String>,
    /// A mapping file the events are read through, relative to the scenario file.
    pub map: Option<String>,
    /// The outcome it states.
    pub expect: Expect,
}

/// What a scenario states about its replay.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Expect {
    /// Every violation, exactly, in report order.
    pub violations: Option<Vec<Stated>>,
    /// Violations per term id, exactly, every term of the run listed (0 included).
    pub counts: Option<BTreeMap<String, u64>>,
    /// Violations that must be among the report's.
    pub includes: Vec<Stated>,
    /// Obligations due after the log ends, exactly.
    pub open: Vec<StatedOpen>,
    /// Events that must raise nothing (under the named terms, or under any).
    pub quiet: Vec<Quiet>,
    /// Invalid lines skipped (the replay runs with `--skip-invalid` when this is not 0).
    pub skipped: u64,
    /// Events judged.
    pub events: Option<u64>,
}

/// A violation as a scenario states it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stated {
    /// Agreement id.
    pub agreement: String,
    /// Term id.
    pub term: String,
    /// When, RFC 3339 UTC as the report writes it.
    pub time: String,
    /// Who is in breach: a code or a list of codes, compared as a set (absent: unattributed).
    #[serde(
        default,
        deserialize_with = "crate::report::model::charged::deserialize"
    )]
    pub breached_by: Vec<String>,
    /// The evidence's event ids, in report order.
    pub evidence: Vec<String>,
    /// The key of a keyed form.
    #[serde(default)]
    pub key: Option<String>,
}

/// An open obligation as a scenario states it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatedOpen {
    /// Agreement id.
    pub agreement: String,
    /// Term id.
    pub term: String,
    /// The id of the event that opened it.
    pub trigger: String,
    /// When it falls due.
    pub due: String,
}

impl From<&crate::report::OpenObligation> for StatedOpen {
    /// The obligation a report gives, as a scenario states it.
    fn from(o: &crate::report::OpenObligation) -> StatedOpen {
        StatedOpen {
            agreement: o.agreement.clone(),
            term: o.term.clone(),
            trigger: o.trigger.clone(),
            due: o.due.clone(),
        }
    }
}

/// A negative case: an event that must raise nothing.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quiet {
    /// The event's id.
    pub event: String,
    /// The terms (ids) it must not fire; empty: none may cite it. Only named terms count as
    /// negative cases in the coverage.
    #[serde(default)]
    pub terms: Vec<String>,
    /// Why it must stay quiet (for the reader).
    #[serde(default)]
    pub why: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    title: String,
    description: String,
    rules: Vec<Spanned<String>>,
    events: Vec<Spanned<String>>,
    #[serde(default)]
    map: Option<Spanned<String>>,
    /// Required ([`load`]); absent in a draft ([`load_draft`]), which `--bless` completes.
    #[serde(default)]
    expect: Option<ExpectFile>,
}

/// What `expect` is to serde when it is required: the same "missing key" a required field of
/// [`ScenarioFile`] would give, at the same place.
#[derive(Deserialize)]
struct RequiredExpect {
    #[allow(dead_code)]
    expect: serde::de::IgnoredAny,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ExpectFile {
    #[serde(default)]
    violations: Option<Vec<Stated>>,
    #[serde(default)]
    counts: Option<BTreeMap<String, u64>>,
    #[serde(default)]
    includes: Vec<Stated>,
    #[serde(default)]
    open: Vec<StatedOpen>,
    #[serde(default)]
    quiet: Vec<Quiet>,
    #[serde(default)]
    skipped: u64,
    #[serde(default)]
    events: Option<u64>,
}

/// Reads a scenario file; problems are diagnostics positioned in it. The files it names must
/// be in its folder or one of `roots` (an absolute path or a `..` out of them is refused, a
/// `file-refused` diagnostic at the path; links are the opener's to check).
pub fn load(name: &str, text: &str, roots: &Roots) -> Result<Scenario, Diagnostic> {
    read(name, text, roots, false)
}

/// [`load`] for a scenario whose expectations `pactum test --bless` is to write: `expect` may be
/// absent (the scenario's [`Expect`] is then empty), or state neither `violations` nor `counts`.
/// Everything else is checked as [`load`] checks it.
pub fn load_draft(name: &str, text: &str, roots: &Roots) -> Result<Scenario, Diagnostic> {
    read(name, text, roots, true)
}

fn read(name: &str, text: &str, roots: &Roots, draft: bool) -> Result<Scenario, Diagnostic> {
    let source = SourceFile::new(name, text);
    let file: ScenarioFile =
        serde_saphyr::from_str(text).map_err(|err| crate::load::yaml_diagnostic(&source, &err))?;
    let at = |message: &str| Diagnostic::file_error(Code::InvalidValue, name, message.to_string());
    if file.rules.is_empty() {
        return Err(at("a scenario names at least one rule file under `rules`"));
    }
    if file.events.is_empty() {
        return Err(at(
            "a scenario names at least one event file under `events`",
        ));
    }
    for path in file.rules.iter().chain(&file.events).chain(&file.map) {
        if let Err(refusal) = roots.resolve(name, &path.value) {
            return Err(Diagnostic::error(
                Code::FileRefused,
                &source,
                path.referenced.line(),
                path.referenced.column(),
                refusal.message(&path.value),
            )
            .with_help(refusal.help()));
        }
    }
    let plain = |paths: Vec<Spanned<String>>| paths.into_iter().map(|p| p.value).collect();
    let expect = match file.expect {
        Some(expect) => expect,
        None if draft => ExpectFile::default(),
        None => {
            return Err(match serde_saphyr::from_str::<RequiredExpect>(text) {
                Err(err) => crate::load::yaml_diagnostic(&source, &err),
                Ok(_) => at("missing required key `expect`"),
            });
        }
    };
    if expect.violations.is_none() && expect.counts.is_none() && !draft {
        return Err(at(
            "`expect` states the violations exactly (`violations`) or per term (`counts`)",
        )
        .with_help("`violations: []` states that nothing fires"));
    }
    Ok(Scenario {
        title: file.title,
        description: file.description,
        rules: plain(file.rules),
        events: plain(file.events),
        map: file.map.map(|map| map.value),
        // Instants compared as instants (issue 14): `2024-01-15T03:00:00+03:00` and
        // `2024-01-15` state the report's `2024-01-15T00:00:00Z`.
        expect: Expect {
            violations: expect
                .violations
                .map(|v| v.into_iter().map(Stated::canonical).collect()),
            counts: expect.counts,
            includes: expect.includes.into_iter().map(Stated::canonical).collect(),
            open: expect.open.into_iter().map(StatedOpen::canonical).collect(),
            quiet: expect.quiet,
            skipped: expect.skipped,
            events: expect.events,
        },
    })
}

/// Whether a term was exercised positively (it fired, as stated) or negatively (a quiet event
/// named it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Case {
    /// A stated violation of the term.
    Positive,
    /// A stated quiet event for the term.
    Negative,
}

/// The outcome of one scenario.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Verdict {
    /// What differs from the statement, each a readable paragraph (empty: passed).
    pub failures: Vec<String>,
    /// `(agreement, term, case)` for each term the scenario exercises.
    pub exercised: BTreeSet<(String, String, Case)>,
}

impl Verdict {
    /// Whether the scenario holds.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

impl Stated {
    /// The violation with its time as the report writes it, and its parties in one order
    /// (a scenario may list them in any).
    fn canonical(mut self) -> Self {
        self.time = canonical_instant(self.time);
        self.breached_by.sort();
        self.breached_by.dedup();
        self
    }
}

impl StatedOpen {
    /// The obligation with its due time as the report writes it.
    fn canonical(mut self) -> Self {
        self.due = canonical_instant(self.due);
        self
    }
}

/// `time` as the report writes instants (RFC 3339 in UTC, `Z`), when it is one; as written
/// otherwise, so that the difference shows what the scenario says.
fn canonical_instant(time: String) -> String {
    match crate::time::parse_instant(&time) {
        Ok((instant, _)) => crate::time::format_instant(&instant),
        Err(_) => time,
    }
}

/// Compares a replay's report with what the scenario states. `events` holds the id and time of
/// every event the replay read, so that a quiet event that does not exist (a typo) fails
/// instead of passing vacuously; `periods` the effective period of every term, so that a quiet
/// event the term does not judge (outside its period) does not count as a negative case of it.
pub fn judge(
    scenario: &Scenario,
    report: &Report,
    events: &HashMap<String, DateTime<Utc>>,
    periods: &BTreeMap<(String, String), Period>,
) -> Verdict {
    let mut verdict = Verdict::default();
    let expect = &scenario.expect;
    let actual: Vec<Stated> = report.violations.iter().map(stated).collect();

    if let Some(violations) = &expect.violations
        && *violations != actual
    {
        verdict.failures.push(format!(
            "violations differ (- stated, + found):\n{}",
            diff(
                &violations.iter().map(line).collect::<Vec<_>>(),
                &actual.iter().map(line).collect::<Vec<_>>()
            )
        ));
    }
    let found: BTreeMap<String, u64> = report
        .summary
        .by_term
        .iter()
        .map(|t| (t.term.clone(), t.violations))
        .collect();
    if let Some(counts) = &expect.counts
        && *counts != found
    {
        let lines = |m: &BTreeMap<String, u64>| -> Vec<String> {
            m.iter().map(|(t, n)| format!("{t}: {n}")).collect()
        };
        verdict.failures.push(format!(
            "violations per term differ (- stated, + found):\n{}",
            diff(&lines(counts), &lines(&found))
        ));
    }
    for included in &expect.includes {
        if !actual.contains(included) {
            verdict
                .failures
                .push(format!("missing violation: {}", line(included)));
        }
    }
    let open: Vec<StatedOpen> = report.open.iter().map(StatedOpen::from).collect();
    if expect.open != open {
        let render = |o: &StatedOpen| {
            format!(
                "{}/{} opened by {} due {}",
                o.agreement, o.term, o.trigger, o.due
            )
        };
        verdict.failures.push(format!(
            "open obligations differ (- stated, + found):\n{}",
            diff(
                &expect.open.iter().map(render).collect::<Vec<_>>(),
                &open.iter().map(render).collect::<Vec<_>>()
            )
        ));
    }
    let term_ids: BTreeMap<&str, &str> = report
        .summary
        .by_term
        .iter()
        .map(|t| (t.term.as_str(), t.agreement.as_str()))
        .collect();
    for quiet in &expect.quiet {
        if !events.contains_key(&quiet.event) {
            verdict.failures.push(format!(
                "quiet event `{}` is not among the events read",
                quiet.event
            ));
            continue;
        }
        for term in &quiet.terms {
            if !term_ids.contains_key(term.as_str()) {
                verdict.failures.push(format!(
                    "quiet event `{}` names no term `{term}`",
                    quiet.event
                ));
            }
        }
        for v in &report.violations {
            let named = quiet.terms.is_empty() || quiet.terms.contains(&v.term);
            if named && v.evidence.iter().any(|e| e.id == quiet.event) {
                verdict.failures.push(format!(
                    "quiet event `{}` raised: {}",
                    quiet.event,
                    line(&stated(v))
                ));
            }
        }
    }
    if report.skipped.len() as u64 != expect.skipped {
        verdict.failures.push(format!(
            "skipped lines: stated {}, found {}",
            expect.skipped,
            report.skipped.len()
        ));
    }
    if let Some(events) = expect.events
        && events != report.summary.events
    {
        verdict.failures.push(format!(
            "events judged: stated {events}, found {}",
            report.summary.events
        ));
    }
    for errors in &report.errors {
        verdict.failures.push(format!(
            "rule errors: {}/{} failed on {} event(s), first {}: {}",
            errors.agreement, errors.term, errors.count, errors.first.event, errors.first.message
        ));
    }

    if verdict.passed() {
        let stated_terms: BTreeSet<(&str, &str)> = match (&expect.violations, &expect.counts) {
            (Some(violations), _) => violations
                .iter()
                .map(|v| (v.agreement.as_str(), v.term.as_str()))
                .collect(),
            (None, Some(counts)) => counts
                .iter()
                .filter(|(_, n)| **n > 0)
                .filter_map(|(t, _)| term_ids.get(t.as_str()).map(|a| (*a, t.as_str())))
                .collect(),
            (None, None) => BTreeSet::new(),
        };
        for (agreement, term) in stated_terms {
            verdict
                .exercised
                .insert((agreement.into(), term.into(), Case::Positive));
        }
        for quiet in &expect.quiet {
            let Some(time) = events.get(&quiet.event) else {
                continue;
            };
            for term in &quiet.terms {
                let Some(agreement) = term_ids.get(term.as_str()) else {
                    continue;
                };
                // Only an event the term judges tests its condition.
                let key = ((*agreement).to_string(), term.clone());
                if periods.get(&key).is_some_and(|p| p.contains(*time)) {
                    verdict
                        .exercised
                        .insert(((*agreement).into(), term.clone(), Case::Negative));
                }
            }
        }
    }
    verdict
}

/// A report violation as a scenario states it.
fn stated(v: &ViolationRecord) -> Stated {
    Stated {
        agreement: v.agreement.clone(),
        term: v.term.clone(),
        time: v.time.clone(),
        breached_by: v.breached_by.clone(),
        evidence: v.evidence.iter().map(|e| e.id.clone()).collect(),
        key: v.key.clone(),
    }
    .canonical()
}

/// One violation on one line, as the failure diff shows it; control characters from event
/// data are shown escaped, so that they cannot drive a terminal or break a JUnit file.
fn line(v: &Stated) -> String {
    let mut text = format!(
        "{} {}/{} by {} [{}]",
        v.time,
        v.agreement,
        v.term,
        match v.breached_by.as_slice() {
            [] => "(unattributed)".to_string(),
            codes => codes.join(", "),
        },
        v.evidence.join(", ")
    );
    if let Some(key) = &v.key {
        let _ = write!(text, " key {key}");
    }
    text.chars()
        .flat_map(|c| -> Vec<char> {
            if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            }
        })
        .collect()
}

/// A line diff, `-` for stated lines missing from what was found, `+` for found lines not
/// stated, two spaces for lines both share.
fn diff(stated: &[String], found: &[String]) -> String {
    let stated: Vec<&str> = stated.iter().map(String::as_str).collect();
    let found: Vec<&str> = found.iter().map(String::as_str).collect();
    let mut out = String::new();
    for change in similar::TextDiff::from_slices(&stated, &found).iter_all_changes() {
        if !out.is_empty() {
            out.push('\n');
        }
        let sign = match change.tag() {
            similar::ChangeTag::Delete => "-",
            similar::ChangeTag::Insert => "+",
            similar::ChangeTag::Equal => " ",
        };
        let _ = write!(out, "  {sign} {}", change.value());
    }
    out
}

/// Clause coverage over several scenarios: per agreement and term, the scenarios that exercise
/// it positively and negatively.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Coverage {
    /// `(agreement, term)` → (scenarios with a positive case, scenarios with a negative case).
    pub terms: BTreeMap<(String, String), (Vec<String>, Vec<String>)>,
    /// Agreement id → the first agreement seen under it: (file, SHA-256, scenario).
    seen: BTreeMap<String, (String, String, String)>,
    /// Agreement ids that name two different agreements (other texts) across the scenarios,
    /// each in words: their terms would otherwise be merged into one coverage line (issue 14;
    /// a replay refuses two agreements with one id).
    pub conflicts: Vec<String>,
}

impl Coverage {
    /// Counts every term of `agreements`, exercised or not: the agreements a run of scenarios
    /// must cover, whether some scenario loads them or none does.
    pub fn require(&mut self, agreements: &[crate::load::agreement::Agreement]) {
        for a in agreements {
            for t in &a.terms {
                self.terms.entry((a.id.clone(), t.id.clone())).or_default();
            }
        }
    }

    /// Counts every term of `report`'s agreements (so that a term no scenario exercises shows
    /// as 0), and what `verdict` says `scenario` exercised.
    pub fn add(&mut self, scenario: &str, report: &Report, verdict: &Verdict) {
        for a in &report.agreements {
            match self.seen.get(&a.id) {
                Some((file, sha256, first)) if *sha256 != a.sha256 => {
                    let conflict = format!(
                        "agreement id `{}` names two different agreements: {file} (scenario {first}) and {} (scenario {scenario}); give each its own id",
                        a.id, a.file
                    );
                    if !self.conflicts.contains(&conflict) {
                        self.conflicts.push(conflict);
                    }
                }
                Some(_) => {}
                None => {
                    self.seen.insert(
                        a.id.clone(),
                        (a.file.clone(), a.sha256.clone(), scenario.to_string()),
                    );
                }
            }
        }
        for t in &report.summary.by_term {
            self.terms
                .entry((t.agreement.clone(), t.term.clone()))
                .or_default();
        }
        for (agreement, term, case) in &verdict.exercised {
            let entry = self
                .terms
                .entry((agreement.clone(), term.clone()))
                .or_default();
            let list = match case {
                Case::Positive => &mut entry.0,
                Case::Negative => &mut entry.1,
            };
            if !list.iter().any(|s| s == scenario) {
                list.push(scenario.to_string());
            }
        }
    }

    /// Percentage of terms with both a positive and a negative case (100 with no term).
    pub fn percent(&self) -> f64 {
        if self.terms.is_empty() {
            return 100.0;
        }
        let full = self
            .terms
            .values()
            .filter(|(p, n)| !p.is_empty() && !n.is_empty())
            .count();
        full as f64 * 100.0 / self.terms.len() as f64
    }
}
