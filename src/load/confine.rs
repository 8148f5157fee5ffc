//! Where a file named inside a rule, mapping or scenario file may be.
//!
//! Rule and scenario files are untrusted: they come with a report to check, from a colleague, from
//! a repository. A path inside one (a geography's `file:` or `gazetteer:`, a scenario's `rules:`,
//! `events:` and `map:`) is therefore read only from the folder of the file that names it, or
//! its subfolders, or a folder the user allowed on the command line (`--allow-root DIR`): an
//! absolute path or a `..` that climbs out is refused here, on the text of the path, as a
//! diagnostic at the value. What only the file system knows — a link out of the folder, a pipe
//! or a device where a file should be — the caller checks when it opens the file, and reports
//! through the same [`Refusal`], so that a refused file reads the same whoever found it.
//!
//! Paths the user types on the command line are not confined: the user chose them.
//!
//! No IO here: the caller gives the current directory, and opens the files.

use std::fmt;
use std::path::{Component, Path, PathBuf};

/// The folders a named file may be in besides the folder of the file that names it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roots {
    /// The current directory, to make relative names absolute (empty: none given).
    cwd: PathBuf,
    /// The allowed roots, absolute and without `.` or `..`.
    extra: Vec<PathBuf>,
}

impl Roots {
    /// Only the folder of the naming file: what a library caller gets unless it asks for more.
    pub fn none() -> Roots {
        Roots::default()
    }

    /// The naming file's folder and `extra` (relative to `cwd`, the current directory).
    pub fn new(cwd: &Path, extra: impl IntoIterator<Item = PathBuf>) -> Roots {
        let extra = extra
            .into_iter()
            .map(|root| normalize(&cwd.join(root)))
            .collect();
        Roots {
            cwd: cwd.to_path_buf(),
            extra,
        }
    }

    /// The allowed roots besides the naming file's folder, absolute.
    pub fn extra(&self) -> &[PathBuf] {
        &self.extra
    }

    /// The path to open for `written`, named inside the file `naming` (as the user named that
    /// file: relative to the current directory, or absolute); refused when it is absolute or
    /// climbs out of the naming file's folder into no allowed root.
    ///
    /// The path returned is the naming file's folder joined with `written`, as messages show
    /// it; links in it are the opener's to check.
    pub fn resolve(&self, naming: &str, written: &str) -> Result<PathBuf, Refusal> {
        let path = Path::new(written);
        if path.has_root()
            || path
                .components()
                .any(|c| matches!(c, Component::Prefix(_) | Component::RootDir))
        {
            return Err(Refusal::Absolute);
        }
        let folder = folder_of(naming);
        let joined = folder.join(path);
        if !climbs_out(path) {
            return Ok(joined);
        }
        let absolute = normalize(&self.cwd.join(&joined));
        if self.cwd.is_absolute() && self.extra.iter().any(|root| absolute.starts_with(root)) {
            return Ok(joined);
        }
        Err(Refusal::Escapes)
    }
}

/// The folder of a file as named (the current directory, `""`, for a bare name).
pub fn folder_of(naming: &str) -> &Path {
    Path::new(naming).parent().unwrap_or(Path::new(""))
}

/// Whether a relative path's `..` components take it above where it starts.
fn climbs_out(path: &Path) -> bool {
    let mut depth: usize = 0;
    for component in path.components() {
        match component {
            Component::ParentDir => match depth.checked_sub(1) {
                Some(up) => depth = up,
                None => return true,
            },
            Component::Normal(_) => depth += 1,
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
    false
}

/// `path` without `.` and with each `..` taking off the component before it (above the root,
/// nothing): the lexical form, which does not follow links.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Why a file named inside a rule, mapping or scenario file is not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// An absolute path.
    Absolute,
    /// A path whose `..` components leave the naming file's folder, into no allowed root.
    Escapes,
    /// A path that leads, through a link, outside the folder and every allowed root.
    LinksOut,
    /// Not a regular file: a FIFO, a device, a directory or a socket (which it is).
    NotRegular(&'static str),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Absolute => f.write_str(
                "is an absolute path; a file named in a rule, mapping or scenario file is read from that file's folder",
            ),
            Refusal::Escapes => f.write_str("leaves the folder of the file that names it"),
            Refusal::LinksOut => {
                f.write_str("is a link to a file outside the folder of the file that names it")
            }
            Refusal::NotRegular(what) => write!(f, "is not a regular file but {what}"),
        }
    }
}

impl std::error::Error for Refusal {}

impl Refusal {
    /// What to do instead.
    pub fn help(self) -> &'static str {
        match self {
            Refusal::Absolute => {
                "name it relative to this file's folder; a file outside that folder also needs --allow-root DIR"
            }
            Refusal::Escapes | Refusal::LinksOut => {
                "paths in a rule, mapping or scenario file are read from its own folder; copy the file there or pass --allow-root DIR"
            }
            Refusal::NotRegular(_) => {
                "only regular files are read: a pipe or a device could block the run or swallow its input"
            }
        }
    }

    /// The refusal an opener wrapped in `err` (with `std::io::Error::other`), if any.
    pub fn of(err: &std::io::Error) -> Option<Refusal> {
        err.get_ref()
            .and_then(|inner| inner.downcast_ref::<Refusal>())
            .copied()
    }

    /// The diagnostic message for `written`, refused: "`../x` leaves the folder …".
    pub fn message(self, written: &str) -> String {
        format!("`{written}` {self}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_the_folder_is_resolved_against_it() {
        let roots = Roots::none();
        assert_eq!(
            roots.resolve("rules/a.yaml", "geo/b.geojson"),
            Ok(PathBuf::from("rules/geo/b.geojson"))
        );
        assert_eq!(
            roots.resolve("a.yaml", "geo/../b.geojson"),
            Ok(PathBuf::from("geo/../b.geojson"))
        );
        assert_eq!(
            roots.resolve("/abs/a.yaml", "./b.geojson"),
            Ok(PathBuf::from("/abs/./b.geojson"))
        );
    }

    #[test]
    fn absolute_paths_and_climbs_out_are_refused() {
        let roots = Roots::none();
        assert_eq!(
            roots.resolve("a.yaml", "/etc/passwd"),
            Err(Refusal::Absolute)
        );
        assert_eq!(roots.resolve("s/a.yaml", "../.env"), Err(Refusal::Escapes));
        assert_eq!(
            roots.resolve("s/a.yaml", "geo/../../.env"),
            Err(Refusal::Escapes)
        );
    }

    #[test]
    fn an_allowed_root_admits_a_climb_into_it_only() {
        let roots = Roots::new(Path::new("/work"), [PathBuf::from("rules")]);
        assert_eq!(roots.extra(), [PathBuf::from("/work/rules")]);
        assert_eq!(
            roots.resolve("scenarios/x/scenario.yaml", "../../rules/a.yaml"),
            Ok(PathBuf::from("scenarios/x/../../rules/a.yaml"))
        );
        assert_eq!(
            roots.resolve("scenarios/x/scenario.yaml", "../../.env"),
            Err(Refusal::Escapes)
        );
        assert_eq!(
            roots.resolve("scenarios/x/scenario.yaml", "../../rules/../.env"),
            Err(Refusal::Escapes)
        );
        // Still absolute, whatever the roots.
        assert_eq!(
            roots.resolve("a.yaml", "/work/rules/a.yaml"),
            Err(Refusal::Absolute)
        );
    }

    #[test]
    fn a_refusal_travels_through_an_io_error() {
        let err = std::io::Error::other(Refusal::NotRegular("a FIFO"));
        assert_eq!(Refusal::of(&err), Some(Refusal::NotRegular("a FIFO")));
        assert_eq!(Refusal::of(&std::io::Error::other("no")), None);
        assert_eq!(
            Refusal::Escapes.message("../x"),
            "`../x` leaves the folder of the file that names it"
        );
    }
}
