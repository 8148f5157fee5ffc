//! `replay - --checkpoint FILE`: a stream's state kept on disk, so that a run killed or
//! restarted goes on where the last checkpoint was, with no violation lost or reported twice.
//!
//! Two files: FILE, the latest checkpoint (`pactum::run::checkpoint`, followed by the length
//! of the journal it goes with), written as `FILE.next` and renamed over FILE, so that a crash
//! leaves the one before; and `FILE.violations`, the journal of every violation decided,
//! appended as each is decided, and locked by the run that appends to it. A checkpoint is taken after the journal is flushed to disk, and names its length:
//! whatever the journal has beyond it was decided after the checkpoint, will be decided again,
//! and is cut off on resuming. The library knows nothing of either file.
//!
//! The journal is the engine's own [`Violation`] in `postcard`, each behind its length: like
//! the checkpoint, a private layout for the same version of pactum.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use pactum::engine::sink::Violation;
use pactum::run::{Checkpoint, Checkpoints, checkpoint};

use crate::commands::sink::CliSink;

/// A path beside the checkpoint's: `FILE.violations` (the journal), `FILE.next` (the next
/// checkpoint, until it is renamed over FILE: a run killed while writing it leaves it for the
/// next checkpoint to overwrite).
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn journal_path(path: &Path) -> PathBuf {
    beside(path, ".violations")
}

/// Locks the journal for this run: two runs on one checkpoint would each cut the other's
/// journal.
fn lock(file: &File, journal: &Path) -> Result<()> {
    match file.try_lock() {
        Ok(()) => Ok(()),
        Err(fs::TryLockError::WouldBlock) => bail!(
            "{} is in use by another run of pactum on the same checkpoint",
            journal.display()
        ),
        Err(fs::TryLockError::Error(err)) => {
            Err(err).with_context(|| format!("cannot lock {}", journal.display()))
        }
    }
}

/// The checkpoint at `path`, if there is one, for a run of `fingerprint`, the violations
/// decided before it handed to `decided` one at a time (a journal holds every violation of
/// the stream so far: it is read as it is handed on, never held); and the journal, cut to the
/// checkpoint's length (or emptied, with no checkpoint) and open for appending.
pub fn open(
    path: &Path,
    fingerprint: &str,
    decided: &mut dyn FnMut(Violation) -> io::Result<()>,
) -> Result<(Option<Checkpoint>, Journal)> {
    let journal = journal_path(path);
    let bytes = match fs::read(path) {
        Ok(bytes) => Some(bytes),
        Err(err) if err.kind() == io::ErrorKind::NotFound => None,
        Err(err) => {
            return Err(err).with_context(|| format!("cannot read {}", path.display()));
        }
    };
    let Some(bytes) = bytes else {
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&journal)
            .with_context(|| format!("cannot create {}", journal.display()))?;
        // Locked before it is emptied: the run holding it may have a checkpoint to come.
        lock(&file, &journal)?;
        file.set_len(0)?;
        return Ok((None, Journal::new(file, 0)));
    };
    let not_one = || format!("cannot resume from {}", path.display());
    let Some((body, length)) = bytes.split_last_chunk::<8>() else {
        bail!("{}: not a pactum checkpoint", not_one());
    };
    let length = u64::from_le_bytes(*length);
    let checkpoint = checkpoint::decode(body, fingerprint).with_context(not_one)?;
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&journal)
        .with_context(|| {
            format!(
                "cannot open {}, the checkpoint's journal",
                journal.display()
            )
        })?;
    lock(&file, &journal)?;
    read_journal(&mut file, length, decided).with_context(|| {
        format!(
            "cannot read {}, the checkpoint's journal",
            journal.display()
        )
    })?;
    // What was decided after the checkpoint is decided again.
    file.set_len(length)?;
    file.seek(SeekFrom::Start(length))?;
    Ok((Some(checkpoint), Journal::new(file, length)))
}

/// Hands `decided` the violations of the journal's first `length` bytes, in order. A frame's
/// size is checked against what is left before room is made for it: a damaged journal cannot
/// ask for more memory than its own length.
fn read_journal(
    file: &mut File,
    length: u64,
    decided: &mut dyn FnMut(Violation) -> io::Result<()>,
) -> Result<()> {
    let mut reader = BufReader::new(Read::by_ref(file).take(length));
    let mut read = 0;
    let mut frame = Vec::new();
    while read < length {
        let mut size = [0; 4];
        reader
            .read_exact(&mut size)
            .context("shorter than its checkpoint says")?;
        let size = u64::from(u32::from_le_bytes(size));
        if size > length - read - 4 {
            bail!(
                "damaged: a violation of {size} bytes where {} are left",
                length - read - 4
            );
        }
        frame.resize(size as usize, 0);
        reader
            .read_exact(&mut frame)
            .context("shorter than its checkpoint says")?;
        decided(postcard::from_bytes(&frame).context("damaged")?)?;
        read += 4 + size;
    }
    Ok(())
}

/// Deletes the checkpoint and its journal, once the stream has ended and its report is
/// written: a later run on a new stream must not resume from them.
pub fn remove(path: &Path) -> Result<()> {
    for path in [
        path.to_path_buf(),
        beside(path, ".next"),
        journal_path(path),
    ] {
        match fs::remove_file(&path) {
            Err(err) if err.kind() != io::ErrorKind::NotFound => {
                return Err(err).with_context(|| format!("cannot remove {}", path.display()));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Every violation decided, appended as it is decided.
pub struct Journal {
    out: BufWriter<File>,
    length: u64,
    frame: Vec<u8>,
}

impl Journal {
    fn new(file: File, length: u64) -> Journal {
        Journal {
            out: BufWriter::new(file),
            length,
            frame: Vec::new(),
        }
    }

    pub fn append(&mut self, violation: &Violation) -> io::Result<()> {
        self.frame.clear();
        let frame = postcard::to_extend(violation, std::mem::take(&mut self.frame))
            .map_err(io::Error::other)?;
        let size = u32::try_from(frame.len()).map_err(io::Error::other)?;
        self.out.write_all(&size.to_le_bytes())?;
        self.out.write_all(&frame)?;
        self.length += 4 + u64::from(size);
        self.frame = frame;
        Ok(())
    }

    /// Writes out what is buffered and waits for the disk; returns the journal's length.
    fn sync(&mut self) -> io::Result<u64> {
        self.out.flush()?;
        self.out.get_ref().sync_data()?;
        Ok(self.length)
    }
}

/// Takes a checkpoint every `every` events into `path`.
pub struct Saver {
    pub path: PathBuf,
    pub every: u64,
}

impl<'p> Checkpoints<CliSink<'p>> for Saver {
    fn every(&self) -> u64 {
        self.every
    }

    fn save(&mut self, mut checkpoint: Vec<u8>, sink: &mut CliSink<'p>) -> io::Result<()> {
        let length = match &mut sink.journal {
            Some(journal) => journal.sync()?,
            None => 0,
        };
        checkpoint.extend_from_slice(&length.to_le_bytes());
        let dir = match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let next = beside(&self.path, ".next");
        let mut file = File::create(&next)?;
        file.write_all(&checkpoint)?;
        file.sync_data()?;
        fs::rename(&next, &self.path)?;
        // The rename itself is on disk once the folder is.
        File::open(dir)?.sync_all()
    }
}
