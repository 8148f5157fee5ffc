//! Reading one agreement file: YAML shape first, then the meaning of every value.
//!
//! The YAML is deserialised with serde-saphyr into private mirror types whose values are
//! [`Spanned`], so that every later check can point at a line and column. Shape errors (bad
//! YAML, unknown or missing keys) stop that file, because nothing reliable can be said about
//! the rest; every semantic check after that runs to the end and reports all it finds.

use std::collections::HashMap;
use std::rc::Rc;

use serde::Deserialize;
use serde_saphyr::Spanned;
use sha2::{Digest, Sha256};

use super::geography::{self, FileReader, GeographyFile};
use super::{
    Absence, Agreement, Breach, Deadline, DeadlineWindow, Form, Period, Sequence, Severity, Term,
    Threshold, limits,
};
use crate::diagnostic::{Code, Diagnostic, Level, SourceFile, did_you_mean};
use crate::load::confine::Roots;
use crate::load::vocabulary::{self, Vocabulary, VocabularySpec};
use crate::load::{
    Checker, Expression, RESERVED, Scalar, expression, is_id, is_identifier, is_party_code,
    scalar_item, suggest_id, suggest_identifier, yaml_diagnostic,
};
use crate::time::{Precision, parse_instant};

#[derive(Deserialize)]
struct AgreementFile {
    agreement: Spanned<String>,
    title: Spanned<String>,
    parties: Spanned<HashMap<Spanned<String>, String>>,
    #[serde(default)]
    others: HashMap<Spanned<String>, String>,
    #[serde(default)]
    effective: Option<PeriodFile>,
    #[serde(default)]
    sources: Vec<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    lists: HashMap<Spanned<String>, Vec<Spanned<Scalar>>>,
    #[serde(default)]
    functions: Option<Spanned<String>>,
    #[serde(default)]
    geography: Option<GeographyFile>,
    #[serde(default)]
    vocabulary: Option<Spanned<VocabularySpec>>,
    terms: Spanned<Vec<TermFile>>,
}

#[derive(Deserialize)]
struct TermFile {
    id: Spanned<String>,
    #[serde(default)]
    article: Option<Spanned<Scalar>>,
    title: Spanned<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    severity: Option<Spanned<String>>,
    breached_by: Spanned<BreachFile>,
    #[serde(default)]
    effective: Option<PeriodFile>,
    #[serde(default)]
    sources: Vec<String>,
    #[serde(default)]
    when: Option<Spanned<String>>,
    #[serde(default)]
    message: Option<Spanned<String>>,
    #[serde(default)]
    threshold: Option<Spanned<ThresholdFile>>,
    #[serde(default)]
    deadline: Option<Spanned<DeadlineFile>>,
    #[serde(default)]
    absence: Option<Spanned<AbsenceFile>>,
    #[serde(default)]
    sequence: Option<Spanned<SequenceFile>>,
}

/// `breached_by`: one code or an expression (text), or a list of codes.
enum BreachFile {
    One(String),
    Many(Vec<Spanned<String>>),
}

/// By hand rather than `untagged`: an untagged enum reads its value into a buffer first, which
/// loses the positions that `Spanned` takes from the YAML, and its error ("data did not match
/// any variant") would not say what `breached_by` takes.
impl<'de> Deserialize<'de> for BreachFile {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Either;
        impl<'de> serde::de::Visitor<'de> for Either {
            type Value = BreachFile;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a party code, a list of codes, or an expression giving them")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<BreachFile, E> {
                Ok(BreachFile::One(text.to_string()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<BreachFile, A::Error> {
                let mut codes = Vec::new();
                while let Some(code) = seq.next_element::<Spanned<String>>()? {
                    codes.push(code);
                }
                Ok(BreachFile::Many(codes))
            }
        }
        deserializer.deserialize_any(Either)
    }
}

#[derive(Deserialize)]
struct SequenceFile {
    within: Spanned<String>,
    #[serde(default)]
    by: Option<Spanned<String>>,
    steps: Spanned<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
struct AbsenceFile {
    within: Spanned<String>,
    #[serde(default)]
    by: Option<Spanned<String>>,
    #[serde(default)]
    keys: Vec<Spanned<Scalar>>,
}

#[derive(Deserialize)]
struct DeadlineFile {
    #[serde(default)]
    within: Option<Spanned<String>>,
    #[serde(default)]
    before: Option<Spanned<String>>,
    require: Spanned<String>,
}

#[derive(Deserialize)]
struct ThresholdFile {
    count: Spanned<u64>,
    within: Spanned<String>,
    #[serde(default)]
    by: Option<Spanned<String>>,
}

#[derive(Deserialize)]
struct PeriodFile {
    #[serde(default)]
    from: Option<Spanned<String>>,
    #[serde(default)]
    until: Option<Spanned<String>>,
}

/// Loads one agreement from its file name and text.
///
/// Returns the agreement whenever the YAML has the right shape, together with every diagnostic
/// found, so that [`crate::compile()`] can still check its expressions; a file with any
/// error-level diagnostic must not be replayed (`compile` refuses to build a program from a run
/// that has errors, and callers check the diagnostics). Returns `None` when the YAML itself is
/// malformed.
pub fn load(name: &str, text: &str) -> (Option<Agreement>, Vec<Diagnostic>) {
    let roots = Roots::none();
    load_with(name, text, &roots, &mut |path| {
        Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            format!(
                "this caller reads no files (use `agreement::load_with`), so {} cannot be read",
                path.display()
            ),
        ))
    })
}

/// [`load`] for an agreement that may name files (its geography's GeoJSON): `reader` reads
/// them, at paths resolved against the directory of `name`, which they may not leave but into
/// one of the `roots` (an absolute path or a climb out is a `file-refused` diagnostic, and
/// nothing is read).
pub fn load_with(
    name: &str,
    text: &str,
    roots: &Roots,
    reader: FileReader,
) -> (Option<Agreement>, Vec<Diagnostic>) {
    let source = SourceFile::new(name, text);
    // Every unknown and missing key at once (the typed read below ignores unknown keys).
    let keys = crate::load::shape::check(&source, text).unwrap_or_default();
    // Another kind of file given where an agreement is expected: say which, not every key.
    let no_agreement = keys
        .iter()
        .any(|d| d.message == "missing required key `agreement`");
    let others = [
        (
            "unknown key `mapping`",
            "this looks like a mapping file: check it with `pactum check --map FILE`, use it with `pactum replay --map FILE`",
        ),
        (
            "unknown key `expect`",
            "this looks like a scenario file: run it with `pactum test` (docs/testing.md)",
        ),
    ];
    for (message, help) in others {
        if let (Some(d), true) = (keys.iter().find(|d| d.message == message), no_agreement) {
            return (None, vec![d.clone().with_help(help)]);
        }
    }
    // A value YAML read as a tag (`when: !event.flag`) reaches the typed read as what is left
    // of it, or as nothing ("term has no `when`"): the tag is the problem to show.
    if keys
        .iter()
        .any(|d| d.code == crate::diagnostic::Code::YamlSyntax)
    {
        return (None, keys);
    }
    let file: AgreementFile = match serde_saphyr::from_str(text) {
        Ok(file) => file,
        // The keys' problems say more than the typed read's first error when there are any.
        Err(_) if !keys.is_empty() => return (None, keys),
        Err(err) => return (None, vec![yaml_diagnostic(&source, &err)]),
    };
    let mut checker = Checker {
        source: source.clone(),
        diagnostics: keys,
    };
    let agreement = checker.agreement(file, text, roots, reader);
    (agreement, checker.diagnostics)
}

impl Checker {
    fn expression(&self, value: &Spanned<String>) -> Expression {
        expression(&self.source, value)
    }

    fn agreement(
        &mut self,
        file: AgreementFile,
        text: &str,
        roots: &Roots,
        reader: FileReader,
    ) -> Option<Agreement> {
        if !is_id(&file.agreement.value) {
            self.error(
                Code::InvalidName,
                &file.agreement,
                format!(
                    "agreement id `{}` must be lowercase letters, digits and '-'",
                    file.agreement.value
                ),
            )
            .help = Some(format!("try `{}`", suggest_id(&file.agreement.value)));
        }
        if file.title.value.trim().is_empty() {
            self.error(Code::InvalidValue, &file.title, "the title is empty".into());
        }

        let parties = self.codes(&file.parties.value, "party");
        let mut others = self.codes(&file.others, "other");
        others.retain(|(code, _)| {
            let Some((at, _)) = file.others.iter().find(|(c, _)| &c.value == code) else {
                return true;
            };
            if parties.iter().all(|(c, _)| c != code) {
                return true;
            }
            self.error(
                Code::DuplicateId,
                at,
                format!("`{code}` is declared both as a party and under `others`"),
            )
            .help = Some(
                "`parties` are the signatories, `others` those who did not sign but can be charged: name it in one of them".into(),
            );
            false
        });
        if parties.is_empty() {
            self.error(
                Code::InvalidValue,
                &file.parties,
                "an agreement declares at least one party".into(),
            );
        }

        let effective = match &file.effective {
            Some(period) => self.period(period).unwrap_or_default(),
            None => Period::default(),
        };

        let mut lists = Vec::new();
        let mut lists_at = Vec::new();
        let mut items_at: Vec<Vec<(u64, u64)>> = Vec::new();
        let mut named = file.lists.iter().collect::<Vec<_>>();
        named.sort_by(|a, b| a.0.value.cmp(&b.0.value));
        for (name, items) in named {
            if !is_identifier(&name.value) || RESERVED.contains(&name.value.as_str()) {
                let why = if RESERVED.contains(&name.value.as_str()) {
                    "is reserved (`event`, `trigger`, `key`, or a Rhai keyword)"
                } else {
                    "is not a lowercase identifier (letters, digits, '_')"
                };
                self.error(
                    Code::InvalidName,
                    name,
                    format!("list name `{}` {why}", name.value),
                )
                .help = Some(match suggest_identifier(&name.value) {
                    fix if RESERVED.contains(&fix.as_str()) => format!("try `{fix}_list`"),
                    fix => format!("try `{fix}`"),
                });
            }
            if let Some(first) = items.get(limits::MAX_LIST_ITEMS) {
                self.error(
                    Code::InvalidValue,
                    first,
                    format!(
                        "list `{}` has more than {} items",
                        name.value,
                        limits::MAX_LIST_ITEMS
                    ),
                );
            }
            items_at.push(
                items
                    .iter()
                    .map(|item| (item.referenced.line(), item.referenced.column()))
                    .collect(),
            );
            let items = items.iter().map(|item| scalar_item(&item.value)).collect();
            lists.push((name.value.clone(), items));
            lists_at.push((name.referenced.line(), name.referenced.column()));
        }

        let functions = file.functions.as_ref().map(|f| self.expression(f));
        let vocabulary = match &file.vocabulary {
            Some(spec) => vocabulary::vocabulary(self, spec, roots, &mut *reader),
            None => Vocabulary::default(),
        };
        let geography = match &file.geography {
            Some(spec) => geography::geography(self, spec, reader, roots),
            None => geography::Geography::default(),
        };

        if file.terms.value.is_empty() {
            self.error(
                Code::InvalidValue,
                &file.terms,
                "an agreement has at least one term".into(),
            );
        }
        let codes: Vec<&str> = parties
            .iter()
            .chain(&others)
            .map(|(c, _)| c.as_str())
            .collect();
        let mut seen: HashMap<String, u64> = HashMap::new();
        let mut terms = Vec::new();
        for term in &file.terms.value {
            if let Some(first) = seen.get(&term.id.value) {
                let first = *first;
                self.error(
                    Code::DuplicateId,
                    &term.id,
                    format!("term id `{}` is used twice in this file", term.id.value),
                )
                .help = Some(format!("the first use is on line {first}"));
            } else {
                seen.insert(term.id.value.clone(), term.id.referenced.line());
            }
            if let Some(term) = self.term(term, &codes, &effective) {
                terms.push(term);
            }
        }
        let sha256 = crate::hex(&Sha256::digest(text.as_bytes()));
        let valid = !self.diagnostics.iter().any(|d| d.level == Level::Error);
        Some(Agreement {
            valid,
            at: (
                file.agreement.referenced.line(),
                file.agreement.referenced.column(),
            ),
            id: file.agreement.value,
            title: file.title.value,
            source: self.source.clone(),
            sha256,
            parties,
            others,
            effective,
            sources: file.sources,
            description: file.description,
            lists,
            lists_at,
            items_at,
            functions,
            geography: Rc::new(geography),
            vocabulary: Rc::new(vocabulary),
            terms,
        })
    }

    /// The codes declared under `parties` or `others` (`what`: "party", "other"), sorted by
    /// code, each checked to be a code.
    fn codes(
        &mut self,
        declared: &HashMap<Spanned<String>, String>,
        what: &str,
    ) -> Vec<(String, String)> {
        let mut declared = declared.iter().collect::<Vec<_>>();
        declared.sort_by(|a, b| a.0.value.cmp(&b.0.value));
        let mut codes = Vec::new();
        for (code, name) in declared {
            if !is_party_code(&code.value) {
                self.error(
                    Code::InvalidName,
                    code,
                    format!(
                        "{what} code `{}` must start with an uppercase letter, followed by uppercase letters, digits, '-' or '_'",
                        code.value
                    ),
                );
            }
            codes.push((code.value.clone(), name.clone()));
        }
        codes
    }

    /// A term's `breached_by`: declared codes, or an expression. `codes` are the agreement's
    /// chargeable codes in their order ([`Agreement::chargeable`]), in which a list is kept.
    fn breach(&mut self, breach: &Spanned<BreachFile>, codes: &[&str]) -> Breach {
        let at = |value: &str| Spanned {
            value: value.to_string(),
            referenced: breach.referenced,
            defined: breach.defined,
        };
        let items = match &breach.value {
            BreachFile::One(text) if is_party_code(text.trim()) => {
                vec![at(text.trim())]
            }
            BreachFile::One(text) => return Breach::Expression(self.expression(&at(text))),
            BreachFile::Many(items) => items.clone(),
        };
        if items.is_empty() {
            self.error(
                Code::InvalidValue,
                breach,
                "`breached_by` is an empty list: it charges no one".into(),
            )
            .help = Some(format!(
                "name who is in breach (declared: {})",
                codes.join(", ")
            ));
        }
        let mut charged = Vec::new();
        for item in &items {
            let code = item.value.trim();
            if !is_party_code(code) {
                // `il` for `IL`: codes are case-sensitive (issue 14).
                let fix = codes
                    .iter()
                    .copied()
                    .find(|c| c.eq_ignore_ascii_case(code))
                    .or_else(|| did_you_mean(code, codes.iter().copied()));
                self.error(
                    Code::InvalidValue,
                    item,
                    format!("`{code}` in the list under `breached_by` is not a party code"),
                )
                .help = Some(match fix {
                    Some(fix) => format!("did you mean `{fix}`?"),
                    None => "a list names codes (`[IQ, TR]`); to work out who is in breach from the event, write one expression giving a list instead: `breached_by: '[event.party, \"PKK\"]'`".into(),
                });
                continue;
            }
            if !codes.contains(&code) {
                let help = match did_you_mean(code, codes.iter().copied()) {
                    Some(fix) => format!(
                        "did you mean `{fix}`? Declared parties: {}",
                        codes.join(", ")
                    ),
                    None => format!(
                        "declare it under `parties:`, or under `others:` if it did not sign (declared: {})",
                        codes.join(", ")
                    ),
                };
                self.error(
                    Code::UndeclaredParty,
                    item,
                    format!("party `{code}` is not declared in this agreement"),
                )
                .help = Some(help);
                continue;
            }
            if charged.iter().any(|c: &String| c == code) {
                self.error(
                    Code::InvalidValue,
                    item,
                    format!("`{code}` is named twice under `breached_by`"),
                );
                continue;
            }
            charged.push(code.to_string());
        }
        charged.sort_by_key(|code| codes.iter().position(|c| c == code));
        Breach::Parties(charged)
    }

    fn term(&mut self, term: &TermFile, codes: &[&str], agreement: &Period) -> Option<Term> {
        if !is_id(&term.id.value) {
            self.error(
                Code::InvalidName,
                &term.id,
                format!(
                    "term id `{}` must be lowercase letters, digits and '-'",
                    term.id.value
                ),
            )
            .help = Some(format!("try `{}`", suggest_id(&term.id.value)));
        }
        let severity = match &term.severity {
            None => Severity::Medium,
            Some(text) => match Severity::parse(&text.value) {
                Some(severity) => severity,
                None => {
                    let names = Severity::ALL.map(Severity::as_str);
                    let help = match did_you_mean(&text.value, names) {
                        Some(fix) => format!("did you mean `{fix}`?"),
                        None => format!("use one of {}", names.join(", ")),
                    };
                    self.error(
                        Code::InvalidValue,
                        text,
                        format!("unknown severity `{}`", text.value),
                    )
                    .help = Some(help);
                    Severity::Medium
                }
            },
        };
        let breached_by = self.breach(&term.breached_by, codes);
        let own = match &term.effective {
            Some(period) => self.period(period).unwrap_or_default(),
            None => Period::default(),
        };
        let effective = match own.intersect(agreement) {
            Some(period) => period,
            None => {
                self.warning(
                    Code::NeverFires,
                    &term.id,
                    format!(
                        "term `{}` is effective only outside the agreement's period: it can never fire",
                        term.id.value
                    ),
                )
                .help = Some(format!(
                    "the agreement is in force {}; change the term's `effective`, or remove the term",
                    describe_period(agreement)
                ));
                // An empty period: nothing is ever inside it.
                Period {
                    from: agreement.from.or(own.from),
                    until: agreement.from.or(own.from),
                }
            }
        };
        // A sequence's steps say what it looks at: its `when` may be left out (all events).
        let when = match &term.when {
            Some(when) => {
                if when.value.trim().is_empty() {
                    self.error(Code::InvalidValue, when, "`when` is empty".into());
                }
                self.expression(when)
            }
            None => {
                if term.sequence.is_none() {
                    self.error(
                        Code::MissingKey,
                        &term.id,
                        format!("term `{}` has no `when`", term.id.value),
                    )
                    .help =
                        Some("say which events the term judges: when: event.kind == \"…\"".into());
                }
                Expression {
                    text: "true".into(),
                    source: self.source.clone(),
                    line: term.id.referenced.line(),
                    column: term.id.referenced.column(),
                    quoted: false,
                    characters: None,
                }
            }
        };
        Some(Term {
            at: (term.id.referenced.line(), term.id.referenced.column()),
            id: term.id.value.clone(),
            article: term.article.as_ref().map(|a| self.article(a)),
            title: term.title.value.clone(),
            text: term.text.clone(),
            description: term.description.clone(),
            severity,
            breached_by,
            effective,
            sources: term.sources.clone(),
            when,
            message: term.message.as_ref().map(|m| self.expression(m)),
            form: self.form(term),
        })
    }

    fn form(&mut self, term: &TermFile) -> Form {
        let forms = usize::from(term.threshold.is_some())
            + usize::from(term.deadline.is_some())
            + usize::from(term.absence.is_some())
            + usize::from(term.sequence.is_some());
        if forms > 1 {
            self.error(
                Code::InvalidValue,
                &term.id,
                "a term has one form: `threshold`, `deadline`, `absence` or `sequence`, not several"
                    .into(),
            )
            .help = Some("split it into several terms".into());
        }
        if let Some(sequence) = &term.sequence {
            let q = &sequence.value;
            let within = self.duration(&q.within);
            if q.steps.value.len() < 2 {
                self.error(
                    Code::InvalidValue,
                    &q.steps,
                    "a sequence has at least two steps".into(),
                );
            }
            if q.steps.value.len() > limits::MAX_STEPS {
                self.error(
                    Code::InvalidValue,
                    &q.steps,
                    format!(
                        "a sequence has at most {} steps, this one {}",
                        limits::MAX_STEPS,
                        q.steps.value.len()
                    ),
                )
                .help =
                    Some("its evidence is one event per step: split the chain into terms".into());
            }
            return Form::Sequence(Sequence {
                within,
                by: q.by.as_ref().map(|by| self.expression(by)),
                steps: q
                    .steps
                    .value
                    .iter()
                    .map(|step| self.expression(step))
                    .collect(),
            });
        }
        if let Some(deadline) = &term.deadline {
            return self.deadline(deadline);
        }
        if let Some(absence) = &term.absence {
            let a = &absence.value;
            let within = self.duration(&a.within);
            if a.keys.len() > limits::MAX_KEYS
                && let Some(first) = a.keys.get(limits::MAX_KEYS)
            {
                self.error(
                    Code::InvalidValue,
                    first,
                    format!("an absence watches at most {} `keys`", limits::MAX_KEYS),
                );
            }
            if !a.keys.is_empty() && a.by.is_none() {
                self.error(
                    Code::InvalidValue,
                    absence,
                    "`keys` name values of `by`, and this absence has no `by`".into(),
                )
                .help = Some("add `by: event.FIELD`, or remove `keys`".into());
            }
            return Form::Absence(Absence {
                within,
                by: a.by.as_ref().map(|by| self.expression(by)),
                keys: a.keys.iter().map(|k| scalar_item(&k.value)).collect(),
            });
        }
        let Some(threshold) = &term.threshold else {
            return Form::Each;
        };
        let t = &threshold.value;
        if t.count.value == 0 {
            self.error(
                Code::InvalidValue,
                &t.count,
                "a threshold `count` is at least 1".into(),
            );
        }
        if t.count.value > limits::MAX_COUNT {
            self.error(
                Code::InvalidValue,
                &t.count,
                format!(
                    "a threshold `count` is at most {}, not {}",
                    limits::MAX_COUNT,
                    t.count.value
                ),
            )
            .help = Some("each violation's evidence is `count` events".into());
        }
        let within = self.duration(&t.within);
        Form::Threshold(Threshold {
            count: t.count.value,
            within,
            by: t.by.as_ref().map(|by| self.expression(by)),
        })
    }

    fn deadline(&mut self, deadline: &Spanned<DeadlineFile>) -> Form {
        let d = &deadline.value;
        let window = match (&d.within, &d.before) {
            (Some(within), None) => DeadlineWindow::Within(self.duration(within)),
            (None, Some(before)) => DeadlineWindow::Before(self.duration(before)),
            _ => {
                self.error(
                    Code::InvalidValue,
                    deadline,
                    "a deadline has exactly one of `within` (after the trigger) and `before` (before it)".into(),
                );
                DeadlineWindow::Within(chrono::TimeDelta::zero())
            }
        };
        Form::Deadline(Deadline {
            window,
            require: self.expression(&d.require),
        })
    }

    /// A duration of a form (`within`, `before`): positive and at most
    /// [`crate::time::MAX_DURATION_DAYS`] (`parse_duration` says so); an error at the value
    /// otherwise (and zero, so that the other checks go on).
    fn duration(&mut self, text: &Spanned<String>) -> chrono::TimeDelta {
        match crate::time::parse_duration(&text.value) {
            Ok(duration) => duration,
            Err(why) => {
                self.error(Code::InvalidValue, text, why);
                chrono::TimeDelta::zero()
            }
        }
    }

    /// An article as written: `article: 2.10` is "2.10", not the number 2.1.
    fn article(&self, article: &Spanned<Scalar>) -> String {
        let span = article.referenced.span();
        let written = span
            .byte_offset()
            .zip(span.byte_len())
            .and_then(|(at, len)| {
                let at = usize::try_from(at).ok()?;
                let end = at.checked_add(usize::try_from(len).ok()?)?;
                self.source.text.get(at..end)
            });
        match (&article.value, written) {
            (Scalar::Text(text), _) => text.clone(),
            (_, Some(written)) => written.trim().to_string(),
            (Scalar::Integer(i), None) => i.to_string(),
            (Scalar::Float(f), None) => f.to_string(),
            (Scalar::Bool(b), None) => b.to_string(),
        }
    }

    fn period(&mut self, period: &PeriodFile) -> Option<Period> {
        let mut result = Period::default();
        let mut ok = true;
        if let Some(from) = &period.from {
            match parse_instant(&from.value) {
                Ok((time, _)) => result.from = Some(time),
                Err(why) => {
                    self.error(Code::InvalidValue, from, format!("`from`: {why}"));
                    ok = false;
                }
            }
        }
        if let Some(until) = &period.until {
            match parse_instant(&until.value) {
                // A date names a whole day: `until: 2024-12-31` includes the 31st.
                Ok((time, Precision::Date)) => {
                    match time.checked_add_signed(chrono::TimeDelta::days(1)) {
                        Some(end) => result.until = Some(end),
                        None => {
                            self.error(Code::InvalidValue, until, "`until` is out of range".into());
                            ok = false;
                        }
                    }
                }
                Ok((time, Precision::Time)) => result.until = Some(time),
                Err(why) => {
                    self.error(Code::InvalidValue, until, format!("`until`: {why}"));
                    ok = false;
                }
            }
        }
        if let (Some(from), Some(until), Some(at)) = (result.from, result.until, &period.until)
            && from >= until
        {
            self.error(
                Code::InvalidValue,
                at,
                "the period ends before it starts".into(),
            );
            ok = false;
        }
        ok.then_some(result)
    }
}

/// A period in words, for help text: "from 2023-03-19T00:00:00Z until 2024-01-01T00:00:00Z".
pub(crate) fn describe_period(period: &Period) -> String {
    let show = crate::time::format_instant;
    match (&period.from, &period.until) {
        (Some(from), Some(until)) => format!("from {} until {}", show(from), show(until)),
        (Some(from), None) => format!("from {}", show(from)),
        (None, Some(until)) => format!("until {}", show(until)),
        (None, None) => "at all times".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_derived_values() {
        let text = "agreement: d\ntitle: D\nparties: {TR: Türkiye, IQ: Iraq}\neffective: {from: 2024-03-14, until: 2024-12-31}\nterms:\n  - {id: a, title: A, breached_by: IQ, when: 'true'}\n  - {id: b, title: B, breached_by: TR, when: 'true', severity: critical, effective: {from: 2024-06-01T12:00:00+03:00}}\n";
        let (agreement, problems) = load("d.yaml", text);
        assert_eq!(problems, vec![]);
        let agreement = agreement.unwrap();
        assert_eq!(
            agreement.parties,
            [
                ("IQ".into(), "Iraq".into()),
                ("TR".into(), "Türkiye".into())
            ],
            "sorted by code"
        );
        let [a, b] = &agreement.terms[..] else {
            panic!()
        };
        assert_eq!(
            (a.severity, b.severity),
            (Severity::Medium, Severity::Critical)
        );
        let show = |p: &Period| {
            (
                p.from.map(|t| crate::time::format_instant(&t)),
                p.until.map(|t| crate::time::format_instant(&t)),
            )
        };
        assert_eq!(
            show(&a.effective),
            (
                Some("2024-03-14T00:00:00Z".into()),
                Some("2025-01-01T00:00:00Z".into())
            ),
            "a date `until` includes its day"
        );
        assert_eq!(
            show(&b.effective),
            (
                Some("2024-06-01T09:00:00Z".into()),
                Some("2025-01-01T00:00:00Z".into())
            ),
            "a term's period is cut to the agreement's"
        );
    }
}
