//! Opening the files that rule, mapping and scenario files name: inside the naming file's
//! folder or a root the user allowed (`--allow-root DIR`), regular files only, never blocking.
//!
//! The library refuses what the text of a path gives away (an absolute path, a `..` out of
//! the folder: [`pactum::load::confine`]); only the file system knows where a link leads and
//! whether a name is a file, a FIFO or a device, so that is checked here, when the file is
//! opened, and refused with the library's [`Refusal`] (wrapped in an [`io::Error`]) so that the
//! loader reports it at the value that names the file. Paths typed on the command line do not
//! come through here: the user chose them.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use pactum::load::confine::{Refusal, Roots};

/// `--allow-root DIR`, on every command that loads rule, mapping or scenario files.
#[derive(clap::Args, Clone, Default)]
pub struct RootArgs {
    /// Also let rule, mapping and scenario files name files under DIR (repeatable); by
    /// default a file they name must be in their own folder or below it
    #[arg(long = "allow-root", value_name = "DIR")]
    allow_root: Vec<PathBuf>,
}

impl RootArgs {
    /// The roots, each checked to be a directory.
    pub fn roots(&self) -> Result<Roots> {
        for dir in &self.allow_root {
            if !dir.is_dir() {
                bail!("--allow-root {}: not a directory", dir.display());
            }
        }
        let cwd = std::env::current_dir().context("cannot tell the current directory")?;
        Ok(Roots::new(&cwd, self.allow_root.iter().cloned()))
    }
}

/// Opens `path`, named inside a file whose folder is `folder` (`""`: the current directory).
///
/// Refused when, links followed, it lies outside the folder and every allowed root, or is not
/// a regular file: the kind is checked before opening (a FIFO is never opened, a device never
/// read), the file is opened without blocking, and the opened handle is checked again, so that
/// a name swapped for a pipe in between is still refused.
pub fn open(path: &Path, folder: &Path, roots: &Roots) -> io::Result<fs::File> {
    let real = fs::canonicalize(path)?;
    let folder = if folder.as_os_str().is_empty() {
        Path::new(".")
    } else {
        folder
    };
    let within = |root: &Path| fs::canonicalize(root).is_ok_and(|root| real.starts_with(root));
    if !within(folder) && !roots.extra().iter().any(|root| within(root)) {
        return Err(io::Error::other(Refusal::LinksOut));
    }
    regular(&fs::metadata(&real)?)?;
    let file = open_nonblocking(&real)?;
    regular(&file.metadata()?)?;
    Ok(file)
}

/// Refuses what is not a regular file, saying what it is.
fn regular(metadata: &fs::Metadata) -> io::Result<()> {
    let kind = metadata.file_type();
    if kind.is_file() {
        return Ok(());
    }
    let what = if kind.is_dir() {
        "a directory"
    } else {
        special(&kind)
    };
    Err(io::Error::other(Refusal::NotRegular(what)))
}

#[cfg(unix)]
fn special(kind: &fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "neither a file nor a directory"
    }
}

#[cfg(not(unix))]
fn special(_: &fs::FileType) -> &'static str {
    "neither a file nor a directory"
}

/// Opens for reading with `O_NONBLOCK`: opening a FIFO for reading would otherwise wait for a
/// writer. On a regular file the flag changes nothing.
#[cfg(unix)]
fn open_nonblocking(path: &Path) -> io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> io::Result<fs::File> {
    fs::File::open(path)
}
