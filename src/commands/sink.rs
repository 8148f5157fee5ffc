//! Where a replay's violations go on the command line: collected for the report, or written
//! at once as JSON Lines (a stream), with a progress bar on stderr for long replays.
//!
//! The engine pushes violations and progress into a [`pactum::Sink`] and knows nothing of
//! terminals; this sink is the command line's, so the bar (`indicatif`) and the live output
//! stay out of the library.

use std::fs;
use std::io::{self, Write};

use pactum::Program;
use pactum::load::agreement::Severity;
use pactum::report;

/// Where the replay's violations go: kept for the report, or written at once (a stream to
/// JSON Lines).
pub struct CliSink<'p> {
    pub program: &'p Program,
    /// The violations for the report (none when they are written live).
    pub collector: report::Collector<'p>,
    pub live: Option<Box<dyn Write>>,
    /// The most serious violation written live (for `--fail-on`: nothing is collected then).
    pub worst: Option<Severity>,
    /// The progress bar, when stderr is a terminal and `--quiet` was not given.
    pub bar: Option<Bar>,
    /// With `--checkpoint`, where every violation is also kept as it is decided.
    pub journal: Option<crate::commands::checkpoint::Journal>,
}

/// A collector's error as the sink's: an IO error keeps its kind (a closed pipe ends quietly).
fn collect_error(err: report::CollectError) -> io::Error {
    let kind = match &err {
        report::CollectError::Spill(source) | report::CollectError::Write(source) => source.kind(),
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, err)
}

/// A progress bar on stderr for long replays: shown only once a replay has run about a second,
/// drawn at most a few times a second (indicatif limits it), and cleared at the end.
pub struct Bar {
    started: std::time::Instant,
    /// The size of each input in bytes (0 for standard input), to turn offsets into a share.
    sizes: Vec<u64>,
    shown: Option<indicatif::ProgressBar>,
    violations: u64,
}

impl Bar {
    /// A bar for `inputs`, when stderr is a terminal.
    pub fn new(inputs: &[String]) -> Option<Bar> {
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

    fn update(&mut self, progress: pactum::engine::sink::Progress) {
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
            pactum::engine::sink::Progress::Reading {
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
            pactum::engine::sink::Progress::Reordering { done, total } => {
                bar.set_length(total.max(1));
                bar.set_position(done);
                bar.set_message(format!(
                    "judging in time order: {done} of {total} events, {} violations so far",
                    self.violations
                ));
            }
            // A kind of progress this bar does not know yet: it keeps what it shows.
            _ => {}
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

    fn violation(&mut self, violation: pactum::engine::sink::Violation) -> io::Result<()> {
        if let Some(journal) = &mut self.journal {
            journal.append(&violation)?;
        }
        match &mut self.live {
            None => self.collector.violation(violation).map_err(collect_error),
            Some(out) => {
                // A violation of a term the program lacks ends the replay with an error
                // rather than leaving the stream without it.
                let record = report::violation_record(self.program.agreements(), violation)
                    .map_err(io::Error::other)?;
                self.worst = self.worst.max(Some(record.severity.into()));
                serde_json::to_writer(&mut *out, &record)?;
                writeln!(out)?;
                // Whoever reads the stream sees each violation when it is decided.
                out.flush()
            }
        }
    }

    fn settled(&mut self, time: chrono::DateTime<chrono::Utc>) -> io::Result<()> {
        if self.live.is_some() {
            return Ok(());
        }
        self.collector.settled(time).map_err(collect_error)
    }

    fn progress(&mut self, progress: pactum::engine::sink::Progress) {
        if let Some(bar) = &mut self.bar {
            bar.violations = self.collector.tally().violations;
            bar.update(progress);
        }
    }
}
