//! Cleaning helpers: functions that mapping expressions (and only they) may call to read
//! numbers and text as spreadsheets and exports write them.
//!
//! Rhai's packages already read plain numbers (`parse_int`, `parse_float`, which allow spaces
//! around the digits) and fold case (`to_lower`, `to_upper`), so those are not repeated here.
//! What they lack, and a monitoring mission's export needs:
//!
//! - [`number`]: a number as people write it, `"1,200"`, `" 12 "`, `"3.5"`, `"-1 200,5"` (with
//!   the decimal mark given), an integer when it has no decimals; a blank cell is `()`, and
//!   anything else (`"about 12"`) an error that quotes the value, never a quiet `()`;
//! - `is_blank`, `blank_to_unit`: an empty or all-space cell as the missing value it means;
//! - `trimmed`, `collapse_spaces`: whitespace cleaned without changing the value in place
//!   (Rhai's own `trim` trims a variable in place and gives `()`, so that
//!   `record.place.trim()` is `()`).
//!
//! The text helpers give any value that is not text back unchanged (a CSV cell the reader
//! typed as a number has no spaces to clean). docs/inputs.md, "Cleaning helpers", is the
//! reference.

use rhai::{Dynamic, Engine, EvalAltResult, ImmutableString};

/// The names of the helpers, for `pactum check` (a mapping's own function may not take one)
/// and the editor.
pub(crate) const HELPERS: [&str; 5] = [
    "number",
    "is_blank",
    "blank_to_unit",
    "trimmed",
    "collapse_spaces",
];

/// Registers the helpers with a mapping's engine.
pub(crate) fn register(engine: &mut Engine) {
    engine
        .register_fn("number", |value: Dynamic| number(&value, '.'))
        .register_fn(
            "number",
            |value: Dynamic, mark: ImmutableString| -> Result<Dynamic, Box<EvalAltResult>> {
                match mark.as_str() {
                    "." => number(&value, '.'),
                    "," => number(&value, ','),
                    other => Err(format!(
                        "the decimal mark of `number` is \".\" or \",\", not {other:?}"
                    )
                    .into()),
                }
            },
        )
        .register_fn("is_blank", |value: Dynamic| is_blank(&value))
        .register_fn("blank_to_unit", |value: Dynamic| {
            if is_blank(&value) {
                Dynamic::UNIT
            } else {
                value
            }
        })
        .register_fn("trimmed", |value: Dynamic| {
            with_text(value, |text| text.trim().to_string())
        })
        .register_fn("collapse_spaces", |value: Dynamic| {
            with_text(value, |text| {
                text.split_whitespace().collect::<Vec<_>>().join(" ")
            })
        });
}

/// `()`, or text that is empty or only whitespace.
fn is_blank(value: &Dynamic) -> bool {
    value.is_unit()
        || value
            .read_lock::<ImmutableString>()
            .is_some_and(|text| text.trim().is_empty())
}

/// `value` with `clean` applied when it is text, else as it is.
fn with_text(value: Dynamic, clean: impl FnOnce(&str) -> String) -> Dynamic {
    let cleaned = match value.read_lock::<ImmutableString>() {
        Some(text) => clean(&text),
        None => return value,
    };
    Dynamic::from(ImmutableString::from(cleaned))
}

/// The number `value` writes, with `decimal` as its decimal mark: an integer or a float as it
/// is, `()` for `()` or blank text, the number a text writes (an integer without decimals or
/// exponent), or an error saying what a number looks like.
fn number(value: &Dynamic, decimal: char) -> Result<Dynamic, Box<EvalAltResult>> {
    if value.is_int() || value.is_float() || value.is_unit() {
        return Ok(value.clone());
    }
    let Some(text) = value.read_lock::<ImmutableString>() else {
        return Err(format!(
            "`number` reads text or a number, not {}",
            crate::event::described(value)
        )
        .into());
    };
    match read_number(&text, decimal) {
        Ok(Some(number)) => Ok(number),
        Ok(None) => Ok(Dynamic::UNIT),
        Err(why) => {
            Err(format!("{} is not a number: {why}", crate::event::described(value)).into())
        }
    }
}

/// The characters besides the other mark that may stand between groups of three digits:
/// spaces (plain, no-break, narrow no-break) and the apostrophe (`1'200`).
const GROUP_SEPARATORS: [char; 4] = [' ', '\u{a0}', '\u{202f}', '\''];

/// Reads `text` as a number whose decimal mark is `decimal` (`.` or `,`; the other one may
/// separate thousands): `None` for blank text.
fn read_number(text: &str, decimal: char) -> Result<Option<Dynamic>, String> {
    let thousands = if decimal == ',' { '.' } else { ',' };
    let shape = || {
        format!(
            "write digits, with an optional sign, `{decimal}` before decimals and `{thousands}` or a space between thousands (`-1{thousands}200{decimal}5`)"
        )
    };
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let (negative, body) = match text.chars().next() {
        Some('-' | '\u{2212}') => (true, skip_first(text)),
        Some('+') => (false, skip_first(text)),
        _ => (false, text),
    };
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(at) => (
            body.get(..at).unwrap_or(""),
            Some(body.get(at + 1..).unwrap_or("")),
        ),
        None => (body, None),
    };
    let (whole, fraction) = match mantissa.split_once(decimal) {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (mantissa, None),
    };
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if fraction.is_some_and(|f| !digits(f)) {
        return Err(shape());
    }
    if let Some(exponent) = exponent {
        let unsigned = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
        if !digits(unsigned) {
            return Err(shape());
        }
    }
    let separating = |c: char| c == thousands || GROUP_SEPARATORS.contains(&c);
    // Digits and separators only: `about 12` is no number, whatever its spaces.
    if !whole.chars().all(|c| c.is_ascii_digit() || separating(c)) {
        return Err(shape());
    }
    let separator = whole.chars().find(|c| separating(*c));
    let whole: String = match separator {
        None if whole.is_empty() && fraction.is_some() => "0".to_string(),
        None if digits(whole) => whole.to_string(),
        None => return Err(shape()),
        Some(separator) => {
            let mut groups = whole.split(separator);
            let first = groups.next().unwrap_or("");
            let rest: Vec<&str> = groups.collect();
            let grouped =
                digits(first) && first.len() <= 3 && rest.iter().all(|g| digits(g) && g.len() == 3);
            if !grouped {
                let hint = if separator == ',' {
                    "; for a decimal comma (`3,5`), write `number(value, \",\")`"
                } else {
                    ""
                };
                return Err(format!(
                    "the digits between separators of thousands come in threes (`1{separator}200{separator}000`){hint}"
                ));
            }
            std::iter::once(first).chain(rest).collect()
        }
    };
    let sign = if negative { "-" } else { "" };
    if fraction.is_none() && exponent.is_none() {
        let written = format!("{sign}{whole}");
        if let Ok(int) = written.parse::<rhai::INT>() {
            return Ok(Some(Dynamic::from_int(int)));
        }
        // Too large for an integer: a float, as the CSV reader types such a cell.
        return float(&written).map(Some).ok_or_else(shape);
    }
    let mut written = format!("{sign}{whole}");
    if let Some(fraction) = fraction {
        written.push('.');
        written.push_str(fraction);
    }
    if let Some(exponent) = exponent {
        written.push('e');
        written.push_str(exponent);
    }
    float(&written).map(Some).ok_or_else(shape)
}

/// `text` without its first character.
fn skip_first(text: &str) -> &str {
    let mut chars = text.chars();
    chars.next();
    chars.as_str()
}

/// The finite float `text` writes.
fn float(text: &str) -> Option<Dynamic> {
    text.parse::<rhai::FLOAT>()
        .ok()
        .filter(|f| f.is_finite())
        .map(Dynamic::from_float)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, decimal: char) -> Result<String, String> {
        read_number(text, decimal).map(|n| match n {
            None => "()".to_string(),
            Some(n) if n.is_int() => format!("int {n}"),
            Some(n) => format!("float {n}"),
        })
    }

    /// Every shape a number is written in, and what each gives; then what is refused.
    #[test]
    fn numbers_are_read_as_people_write_them() {
        for (text, decimal, want) in [
            ("1,200", '.', "int 1200"),
            (" 12 ", '.', "int 12"),
            ("3.5", '.', "float 3.5"),
            ("-1,200,000.25", '.', "float -1200000.25"),
            ("+7", '.', "int 7"),
            ("\u{2212}4", '.', "int -4"),
            (".5", '.', "float 0.5"),
            ("1 200", '.', "int 1200"),
            ("1\u{a0}200", '.', "int 1200"),
            ("1'200", '.', "int 1200"),
            ("1.5e3", '.', "float 1500.0"),
            ("1.200,5", ',', "float 1200.5"),
            ("3,5", ',', "float 3.5"),
            ("1.200", ',', "int 1200"),
            ("", '.', "()"),
            ("   ", '.', "()"),
        ] {
            assert_eq!(read(text, decimal).as_deref(), Ok(want), "{text:?}");
        }
        for (text, decimal) in [
            ("about 12", '.'),
            ("12 km", '.'),
            ("1,2", '.'),
            ("1,2000", '.'),
            ("1,200 000", '.'),
            ("12.", '.'),
            ("1.2.3", '.'),
            ("-", '.'),
            ("1e", '.'),
            ("1e999", '.'),
            ("1.5", ','),
            ("--1", '.'),
        ] {
            assert!(read(text, decimal).is_err(), "{text:?} was read");
        }
        // Too large for an integer: a float, as the CSV reader types such a cell.
        assert!(
            read("99999999999999999999", '.')
                .unwrap()
                .starts_with("float ")
        );
        assert_eq!(
            read("1,2", '.').unwrap_err(),
            "the digits between separators of thousands come in threes (`1,200,000`); for a decimal comma (`3,5`), write `number(value, \",\")`"
        );
    }
}
