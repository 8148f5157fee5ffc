//! How the commands end and speak: the exit codes, messages on stderr, diagnostics, where
//! output goes, and the report formats a command can write.
//!
//! Every command writes through these, so that a closed stderr is never a panic, a closed
//! standard output (`| head`) is never an error, and the exit codes mean the same for all:
//! 0 success, [`EXIT_VIOLATIONS`] when what was asked for failed (a violation at or above
//! `--fail-on`, a scenario that does not hold), [`EXIT_INVALID`] for invalid rules, invalid
//! input or a usage error.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result};
use clap::ValueEnum;

use chrono_tz::Tz;
use pactum::diagnostic::Diagnostic;
use pactum::report::{Format, PeriodUnit, Rendering};

/// A violation at or above `--fail-on`, or a scenario that does not hold.
pub const EXIT_VIOLATIONS: u8 = 1;
/// Invalid rules, invalid input or a usage error.
pub const EXIT_INVALID: u8 = 2;

/// Writes a line to stderr. Unlike `eprintln!`, a closed stderr is not a panic: there is
/// nobody left to tell.
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = ::std::io::Write::write_fmt(&mut ::std::io::stderr().lock(), format_args!("{}\n", format_args!($($arg)*)));
    }};
}
pub(crate) use say;

/// Writes text to stderr as it is (it ends with its own line break).
macro_rules! say_raw {
    ($($arg:tt)*) => {{
        let _ = write!(io::stderr().lock(), $($arg)*);
    }};
}

/// A reader that stops reading (`| head`) is not an error: the exit code stays the one the
/// run earned (`--fail-on` included).
pub fn unless_pipe_closed(written: io::Result<()>) -> io::Result<()> {
    match written {
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

pub fn open_output(path: Option<&Path>) -> Result<Box<dyn Write>> {
    Ok(match path {
        Some(path) => Box::new(BufWriter::new(
            fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(BufWriter::new(io::stdout())),
    })
}

/// Writes a whole output (a report) to `path`, or to standard output.
///
/// A file is written through [`Pending`]: a run that fails while writing leaves the earlier
/// report as it was.
pub fn write_output(
    path: Option<&Path>,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<()> {
    let Some(path) = path else {
        let stdout = io::stdout();
        let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
        let written = write(&mut out).and_then(|()| out.flush());
        return Ok(unless_pipe_closed(written)?);
    };
    let (pending, mut out) = Pending::create(path)?;
    write(&mut out)
        .and_then(|()| out.flush())
        .with_context(|| format!("cannot write {}", path.display()))?;
    drop(out);
    pending.commit()
}

/// A file being written under a temporary name beside its path, and renamed over it only
/// once complete ([`Pending::commit`]): a run that fails while writing (a full disk, an
/// invalid event) leaves the earlier file as it was, never a truncated one, and no temporary
/// file behind (dropped uncommitted, it is deleted). A run killed while writing (Ctrl-C)
/// leaves the earlier file too, but its temporary file stays: nothing handles signals yet.
pub struct Pending {
    temporary: tempfile::NamedTempFile,
    path: std::path::PathBuf,
}

impl Pending {
    /// The temporary file beside `path`, and a buffered writer into it.
    pub fn create(path: &Path) -> Result<(Pending, BufWriter<fs::File>)> {
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let mut builder = tempfile::Builder::new();
        builder.prefix(".pactum-").suffix(".part");
        // Read and write for whoever the umask allows, as a file created in place would be.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        let temporary = builder
            .tempfile_in(dir)
            .with_context(|| format!("cannot create {}", path.display()))?;
        let file = temporary
            .as_file()
            .try_clone()
            .with_context(|| format!("cannot create {}", path.display()))?;
        Ok((
            Pending {
                temporary,
                path: path.to_path_buf(),
            },
            BufWriter::with_capacity(1 << 20, file),
        ))
    }

    /// Gives the file being written `permissions` (those of the file it is to replace).
    pub fn set_permissions(&self, permissions: fs::Permissions) -> Result<()> {
        self.temporary
            .as_file()
            .set_permissions(permissions)
            .with_context(|| format!("cannot write {}", self.path.display()))
    }

    /// Puts the file written in place of the one at its path.
    pub fn commit(self) -> Result<()> {
        let path = self.path;
        self.temporary
            .persist(&path)
            .map_err(|e| e.error)
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(())
    }
}

pub fn print_diagnostics(diagnostics: &[Diagnostic]) {
    for d in diagnostics {
        say_raw!("{}", d.render());
    }
}

/// The formats of a report (`replay --format`, `report --format`).
#[derive(Clone, Copy, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
    Jsonl,
    Markdown,
    Html,
}

/// How a report for readers is shown: `--period` and `--timezone` (`replay`, `report`).
#[derive(clap::Args, Clone, Copy, Default)]
pub struct RenderingArgs {
    /// The reporting period of the counts per period, the timeline and the party × term
    /// matrix: day, week, month, quarter or year (default: chosen from the violations' span)
    #[arg(long, value_name = "PERIOD", value_parser = period_unit)]
    period: Option<PeriodUnit>,
    /// Show times, and begin the periods' days, in this IANA time zone (Europe/Paris,
    /// America/New_York, UTC); the JSON report stays in UTC
    #[arg(long, value_name = "ZONE", value_parser = time_zone)]
    timezone: Option<Tz>,
}

impl RenderingArgs {
    /// The rendering asked for, in `format`: an error for JSON, whose times stay in UTC and
    /// which counts nothing per period (saying so rather than ignoring the options).
    pub fn rendering(self, format: ReportFormat) -> Result<Rendering> {
        let rendering = Rendering {
            period: self.period,
            zone: self.timezone,
        };
        if matches!(format, ReportFormat::Json | ReportFormat::Jsonl)
            && rendering != Rendering::default()
        {
            anyhow::bail!(
                "--period and --timezone shape a report for readers (text, markdown, html); a JSON report keeps its times in UTC and counts nothing per period (render it with `pactum report --format markdown --timezone ZONE`)"
            );
        }
        Ok(rendering)
    }
}

/// `--period`: a unit's name.
fn period_unit(name: &str) -> Result<PeriodUnit, String> {
    PeriodUnit::named(name).ok_or_else(|| {
        let names: Vec<&str> = PeriodUnit::ALL.iter().map(|u| u.name()).collect();
        format!("not a reporting period; one of: {}", names.join(", "))
    })
}

/// `--timezone`: an IANA zone name, with the nearest names when it is not one.
fn time_zone(name: &str) -> Result<Tz, String> {
    if let Ok(zone) = name.parse::<Tz>() {
        return Ok(zone);
    }
    let mut near: Vec<(f64, &str)> = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|zone| {
            (
                strsim::jaro_winkler(&zone.name().to_lowercase(), &name.to_lowercase()),
                zone.name(),
            )
        })
        .filter(|(score, _)| *score > 0.85)
        .collect();
    near.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    let near: Vec<&str> = near.into_iter().take(3).map(|(_, name)| name).collect();
    Err(if near.is_empty() {
        "not an IANA time zone name (such as Europe/Paris, America/New_York or UTC)".to_string()
    } else {
        format!(
            "not an IANA time zone name; did you mean {}?",
            near.join(", ")
        )
    })
}

impl ReportFormat {
    pub fn format(self) -> Format {
        match self {
            ReportFormat::Text => Format::Text,
            ReportFormat::Json => Format::Json,
            ReportFormat::Jsonl => Format::JsonLines,
            ReportFormat::Markdown => Format::Markdown,
            ReportFormat::Html => Format::Html,
        }
    }
}
