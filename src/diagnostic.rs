//! Problems found in rule files, as data.
//!
//! Loading and compiling never stop at the first problem: each stage returns what it could
//! build together with every [`Diagnostic`] it found (the shape rust-analyzer and cedar use), so
//! `pactum check` shows all of them in one run. A diagnostic carries its own location and source
//! line, so rendering needs no access to the file system.

use std::fmt::Write as _;
use std::rc::Rc;

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// The file cannot be used.
    Error,
    /// The file can be used, but probably does not mean what its author intended.
    Warning,
}

/// What kind of problem it is; the stable code tests and tools match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Code {
    /// The file could not be read.
    Io,
    /// A file named inside a rule, mapping or scenario file that is not read: an absolute
    /// path, a path out of that file's folder (by `..` or a link), or not a regular file.
    FileRefused,
    /// The YAML is malformed, or a value has the wrong type.
    YamlSyntax,
    /// A key the format does not know (often a typo).
    UnknownKey,
    /// A required key is absent.
    MissingKey,
    /// An id, code or name does not follow its naming rule.
    InvalidName,
    /// Two things that must be unique share an id.
    DuplicateId,
    /// A party code is used but not declared under `parties`.
    UndeclaredParty,
    /// A value is out of its allowed set or range (severity, period, …).
    InvalidValue,
    /// A Rhai expression does not parse.
    RhaiSyntax,
    /// A Rhai expression names a variable that does not exist.
    UnknownVariable,
    /// A Rhai expression calls a function that does not exist.
    UnknownFunction,
    /// A Rhai expression names a line, area or place the agreement's geography lacks, or the
    /// wrong kind of shape for the function.
    UnknownShape,
    /// Warning: a term that can never fire (its period lies outside the agreement's, or its
    /// `when` is `false` whatever the event).
    NeverFires,
    /// Warning: a comparison of values whose types differ, so its result never depends on
    /// the event (`event.kind == 5`).
    TypeMismatch,
    /// Warning: a list no expression of its agreement names.
    UnusedList,
    /// Warning: a term that repeats an earlier one (same `when`, same form, overlapping
    /// periods).
    DuplicateTerm,
    /// Warning: an event field close to, but not, one the shipped rules and data use.
    UnknownField,
    /// Warning: a deadline whose `require` cannot be indexed: every event is tried against
    /// every open obligation (or every trigger against its whole window).
    UnindexedDeadline,
    /// Warning: an unquoted expression whose line goes on after ` #`, which YAML reads as a
    /// comment, with what looks like more of the expression (`when: a #&& b`).
    CutByComment,
    /// An expression reads a field its agreement's vocabulary does not declare.
    UndeclaredField,
    /// A kind, or a value of an enumerated field, that the vocabulary does not declare: in an
    /// expression's comparison, a list compared with the field, or a vocabulary's own
    /// declarations.
    UnknownValue,
    /// A field declared twice, in two ways, by the vocabularies of one agreement or one run.
    VocabularyConflict,
    /// A statement block (`let …; …` in an expression-valued key) that binds again or assigns
    /// a name it may only read (`event`, `trigger`, `key`, a list), defines a function, or
    /// ends without a value.
    InvalidBlock,
    /// Warning: an expression the replay would remember by the values of the fields it reads
    /// could read any field (`event[name]`, `has(name)`, a function pointer), so it is
    /// evaluated afresh on every event.
    MemoOff,
}

impl Code {
    /// Every code, so that documentation and tests can list them.
    pub const ALL: [Code; 25] = [
        Code::Io,
        Code::FileRefused,
        Code::YamlSyntax,
        Code::UnknownKey,
        Code::MissingKey,
        Code::InvalidName,
        Code::DuplicateId,
        Code::UndeclaredParty,
        Code::InvalidValue,
        Code::RhaiSyntax,
        Code::UnknownVariable,
        Code::UnknownFunction,
        Code::UnknownShape,
        Code::NeverFires,
        Code::TypeMismatch,
        Code::UnusedList,
        Code::DuplicateTerm,
        Code::UnknownField,
        Code::UnindexedDeadline,
        Code::CutByComment,
        Code::UndeclaredField,
        Code::UnknownValue,
        Code::VocabularyConflict,
        Code::InvalidBlock,
        Code::MemoOff,
    ];

    /// The code as printed: `error[unknown-key]`.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Io => "io",
            Code::FileRefused => "file-refused",
            Code::YamlSyntax => "yaml-syntax",
            Code::UnknownKey => "unknown-key",
            Code::MissingKey => "missing-key",
            Code::InvalidName => "invalid-name",
            Code::DuplicateId => "duplicate-id",
            Code::UndeclaredParty => "undeclared-party",
            Code::InvalidValue => "invalid-value",
            Code::RhaiSyntax => "rhai-syntax",
            Code::UnknownVariable => "unknown-variable",
            Code::UnknownFunction => "unknown-function",
            Code::UnknownShape => "unknown-shape",
            Code::NeverFires => "never-fires",
            Code::TypeMismatch => "type-mismatch",
            Code::UnusedList => "unused-list",
            Code::DuplicateTerm => "duplicate-term",
            Code::UnknownField => "unknown-field",
            Code::UnindexedDeadline => "unindexed-deadline",
            Code::CutByComment => "cut-by-comment",
            Code::UndeclaredField => "undeclared-field",
            Code::UnknownValue => "unknown-value",
            Code::VocabularyConflict => "vocabulary-conflict",
            Code::InvalidBlock => "invalid-block",
            Code::MemoOff => "memo-off",
        }
    }
}

/// A rule file's text, kept so that diagnostics can quote the offending line.
#[derive(Debug)]
pub struct SourceFile {
    /// The file as named by the user.
    pub name: String,
    /// Its whole text.
    pub text: String,
    /// Where each line starts, found the first time a line is asked for: checks ask for the
    /// line of every expression, and finding it from the top each time made `check` take time
    /// quadratic in the file's length.
    starts: std::cell::OnceCell<Vec<usize>>,
}

impl SourceFile {
    /// Wraps a file's name and text.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Rc<Self> {
        Rc::new(SourceFile {
            name: name.into(),
            text: text.into(),
            starts: std::cell::OnceCell::new(),
        })
    }

    /// The text of 1-based line `line`, without its line break (as [`str::lines`] gives it).
    pub fn line(&self, line: u64) -> Option<&str> {
        let index = usize::try_from(line.checked_sub(1)?).ok()?;
        let starts = self.starts.get_or_init(|| {
            std::iter::once(0)
                .chain(memchr::memchr_iter(b'\n', self.text.as_bytes()).map(|at| at + 1))
                .collect()
        });
        let start = *starts.get(index)?;
        if start >= self.text.len() {
            return None;
        }
        let end = starts
            .get(index + 1)
            .map_or(self.text.len(), |next| next - 1);
        let text = self.text.get(start..end)?;
        Some(text.strip_suffix('\r').unwrap_or(text))
    }
}

/// One problem, with where it is and, where a fix is likely, how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub level: Level,
    /// Stable machine-readable code.
    pub code: Code,
    /// What is wrong.
    pub message: String,
    /// The file as named by the user.
    pub file: String,
    /// 1-based line; 0 when the problem concerns the whole file.
    pub line: u64,
    /// 1-based column (in characters); 0 when unknown.
    pub column: u64,
    /// The source line, for the snippet.
    pub snippet: Option<String>,
    /// A likely fix.
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error at a position of `source`.
    pub fn error(code: Code, source: &SourceFile, line: u64, column: u64, message: String) -> Self {
        Diagnostic {
            level: Level::Error,
            code,
            message,
            file: source.name.clone(),
            line,
            column,
            snippet: source.line(line).map(str::to_string),
            help: None,
        }
    }

    /// A warning at a position of `source`: the file is usable, but probably does not mean
    /// what its author intended.
    pub fn warning(
        code: Code,
        source: &SourceFile,
        line: u64,
        column: u64,
        message: String,
    ) -> Self {
        Diagnostic {
            level: Level::Warning,
            ..Diagnostic::error(code, source, line, column, message)
        }
    }

    /// An error about a whole file (it could not be read, …).
    pub fn file_error(code: Code, file: &str, message: String) -> Self {
        Diagnostic {
            level: Level::Error,
            code,
            message,
            file: file.to_string(),
            line: 0,
            column: 0,
            snippet: None,
            help: None,
        }
    }

    /// Adds a help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// `FILE:LINE:COLUMN`, as far as it is known.
    pub fn location(&self) -> String {
        match (self.line, self.column) {
            (0, _) => self.file.clone(),
            (line, 0) => format!("{}:{line}", self.file),
            (line, column) => format!("{}:{line}:{column}", self.file),
        }
    }

    /// Renders the diagnostic the way rustc does: a header, the location, the source line with
    /// a caret under the column, then the help.
    pub fn render(&self) -> String {
        let level = match self.level {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        let mut out = format!("{level}[{}]: {}\n", self.code.as_str(), self.message);
        let gutter = " ".repeat(self.line.to_string().len());
        let _ = writeln!(out, "{gutter}--> {}", self.location());
        if let Some(snippet) = &self.snippet {
            let _ = writeln!(out, "{gutter} |");
            let _ = writeln!(out, "{} | {snippet}", self.line);
            if self.column > 0 {
                // Tabs keep their width so the caret lands under the right character.
                let pad: String = snippet
                    .chars()
                    .take(usize::try_from(self.column - 1).unwrap_or(0))
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                let _ = writeln!(out, "{gutter} | {pad}^");
            }
        }
        if let Some(help) = &self.help {
            let _ = writeln!(out, "{gutter} = help: {help}");
        }
        out
    }
}

/// The 1-based line and column (in characters) of the first invalid byte of `bytes`, given
/// the length of its valid UTF-8 prefix.
pub fn utf8_position(bytes: &[u8], valid_up_to: usize) -> (u64, u64) {
    let valid = bytes.get(..valid_up_to).unwrap_or(bytes);
    let line = valid.iter().filter(|b| **b == b'\n').count() as u64 + 1;
    let start = valid
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |at| at + 1);
    let column = String::from_utf8_lossy(valid.get(start..).unwrap_or(&[]))
        .chars()
        .count() as u64
        + 1;
    (line, column)
}

/// The closest of `candidates` to a misspelt `word`, if any is close enough to be a likely fix.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    // Not edit distance alone: `IR` is one letter from `IQ`, and a different party.
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    #[test]
    fn lines_are_those_str_lines_gives() {
        for text in ["", "\n", "a", "a\n", "a\r\nb", "a\n\nb\n", "x\r\n\r\n"] {
            let source = super::SourceFile::new("f", text);
            let expected: Vec<&str> = text.lines().collect();
            let got: Vec<&str> = (1..=expected.len() as u64 + 2)
                .map_while(|n| source.line(n))
                .collect();
            assert_eq!(got, expected, "{text:?}");
            assert_eq!(source.line(expected.len() as u64 + 1), None);
            assert_eq!(source.line(0), None);
        }
    }

    use super::*;

    #[test]
    fn renders_location_snippet_caret_and_help() {
        let source = SourceFile::new("r.yaml", "terms:\n  - severty: high\n");
        let d = Diagnostic::error(
            Code::UnknownKey,
            &source,
            2,
            5,
            "unknown key `severty`".into(),
        )
        .with_help("did you mean `severity`?");
        assert_eq!(
            d.render(),
            "error[unknown-key]: unknown key `severty`\n --> r.yaml:2:5\n  |\n2 |   - severty: high\n  |     ^\n  = help: did you mean `severity`?\n"
        );
    }

    #[test]
    fn suggests_only_close_words() {
        assert_eq!(
            did_you_mean("severty", ["severity", "sources"]),
            Some("severity")
        );
        assert_eq!(did_you_mean("zzz", ["severity", "sources"]), None);
    }
}
