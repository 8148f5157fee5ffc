//! `pactum explain`: reads the rules and one event, asks the library's [`pactum::engine::explain`] how
//! each term judges it, and renders that as text for a reader or as the versioned JSON of
//! `pactum::report::outputs::explain` (docs/explain.md).

use std::fs;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::rc::Rc;

use anyhow::{Context, Result, bail};
use pactum::InputFormat;
use pactum::engine::explain;
use pactum::input::mapping::Mapping;
use pactum::load::agreement;
use pactum::report;

use crate::commands::confine::RootArgs;
use crate::commands::inputs::{InputFormatArg, input_format};
use crate::commands::load::load_program;
use crate::commands::output::{EXIT_INVALID, say, unless_pipe_closed};

/// What `pactum explain` is given.
#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("the_event").required(true).args(["event", "events"])))]
pub struct ExplainArgs {
    /// Agreement file, or a directory meaning every *.yaml and *.yml in it. Repeatable.
    #[arg(long = "rules", short = 'r', required = true)]
    pub rules: Vec<PathBuf>,
    /// The event, as one JSON object.
    #[arg(long, value_name = "JSON", conflicts_with = "id")]
    pub event: Option<String>,
    /// A file of events (JSON Lines; YAML for .yaml/.yml; CSV for .csv), with --id.
    #[arg(long, value_name = "FILE", requires = "id")]
    pub events: Option<String>,
    /// The id of the event to explain in --events: its `id`, or FILE:LINE for an event
    /// without one.
    #[arg(long, requires = "events")]
    pub id: Option<String>,
    /// A mapping file that turns the record into an event (docs/inputs.md).
    #[arg(long, value_name = "FILE")]
    pub map: Option<PathBuf>,
    /// Format of --events; by default from the extension.
    #[arg(long, value_enum)]
    pub input_format: Option<InputFormatArg>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = ExplainFormat::Text)]
    pub format: ExplainFormat,
    #[command(flatten)]
    pub roots: RootArgs,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum ExplainFormat {
    Text,
    Json,
}

/// Runs `pactum explain`; returns the exit code.
pub fn run(args: ExplainArgs) -> Result<u8> {
    let Some((program, mapping)) = load_program(
        &args.rules,
        args.map.as_deref(),
        "explained",
        &args.roots.roots()?,
    )?
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
    let explanation = pactum::engine::explain::explain(&program, &event);
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let written = match args.format {
        ExplainFormat::Text => explain_text(&explanation, &mut out),
        ExplainFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report::outputs::explain::build(&explanation))
                .map_err(io::Error::from)
                .and_then(|()| writeln!(out))
        }
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
    let party = |v: &explain::Attribution| match v.breached_by.as_slice() {
        [] => "nobody (unattributed)".to_string(),
        codes => report::plain(&codes.join(", ")).into_owned(),
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
