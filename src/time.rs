//! Instants as written in agreement files and event logs.
//!
//! One parser for both, so that an agreement's `effective: {from: 2023-09-19}` and an event's
//! `"time": "2023-09-19"` mean the same instant: RFC 3339 with `Z` or an offset, or a plain
//! calendar date meaning 00:00 UTC. Everything is converted to UTC at the edge; nothing
//! downstream ever sees a local time. [`TimeFormat`] reads the other ways of writing a time
//! that a mapping file may declare for foreign data (docs/inputs.md).

use chrono::format::{Item, Parsed, StrftimeItems};
use chrono::{
    DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Offset, SecondsFormat, Utc,
};

/// How an instant was written: a whole calendar date or a precise time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// `YYYY-MM-DD`.
    Date,
    /// RFC 3339.
    Time,
}

/// Parses `YYYY-MM-DD` or an RFC 3339 date-time into a UTC instant.
pub fn parse_instant(text: &str) -> Result<(DateTime<Utc>, Precision), String> {
    let text = text.trim();
    if let Some(time) = utc_seconds(text) {
        return Ok((time, Precision::Time));
    }
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok((time.with_timezone(&Utc), Precision::Time));
    }
    // Exactly YYYY-MM-DD: chrono alone would also take `2024-1-1` and `+10000-01-01`.
    let shaped = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if shaped
        && let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        && let Some(midnight) = date.and_hms_opt(0, 0, 0)
    {
        return Ok((midnight.and_utc(), Precision::Date));
    }
    // Shaped as a date but not one of the calendar (`1974-02-30`): say which part is wrong
    // rather than that the shape is (issue 14).
    if shaped && let Some(why) = not_in_calendar(text) {
        return Err(format!("`{text}` is not a day of the calendar: {why}"));
    }
    // A date and time without an offset is the commonest slip: say so.
    if chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").is_ok() {
        return Err(format!(
            "`{text}` has no UTC offset: add `Z` for UTC or the local offset, e.g. `{text}Z` or `{text}+03:00`"
        ));
    }
    Err(format!(
        "`{text}` is not a date (YYYY-MM-DD) or an RFC 3339 time (e.g. 2023-09-19T06:30:00Z)"
    ))
}

/// Why `YYYY-MM-DD` names no day: "there is no month 13", "February 1974 has 28 days";
/// `None` when it does name one (or is not made of numbers).
fn not_in_calendar(text: &str) -> Option<String> {
    let number = |range: std::ops::Range<usize>| text.get(range)?.parse::<u32>().ok();
    let (year, month, day) = (
        i32::try_from(number(0..4)?).ok()?,
        number(5..7)?,
        number(8..10)?,
    );
    let Some(first) = NaiveDate::from_ymd_opt(year, month, 1) else {
        return Some(format!("there is no month {month}"));
    };
    let days = first
        .checked_add_months(chrono::Months::new(1))
        .map_or(31, |next| (next - first).num_days());
    (NaiveDate::from_ymd_opt(year, month, day).is_none()).then(|| {
        if day == 0 {
            "days are numbered from 01".to_string()
        } else {
            format!("{} has {days} days", first.format("%B %Y"))
        }
    })
}

/// The commonest shape of an event's time, `YYYY-MM-DDTHH:MM:SSZ`, read without chrono's
/// general RFC 3339 parser (every event's time is read twice when temporal terms order the
/// events: by the scan and by the parse; this took 1.1 % of the instructions of a replay of
/// the benchmark's events, callgrind). The digits are only split here: chrono's constructors decide what is a valid
/// date and time, and anything else (a leap second, another offset, fractions) is left to
/// the general parser — the instant is the one it gives (checked by a unit test).
fn utc_seconds(text: &str) -> Option<DateTime<Utc>> {
    let b = text.as_bytes();
    if b.len() != 20
        || b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || b.get(10) != Some(&b'T')
        || b.get(13) != Some(&b':')
        || b.get(16) != Some(&b':')
        || b.get(19) != Some(&b'Z')
    {
        return None;
    }
    let number = |at: std::ops::Range<usize>| -> Option<u32> {
        b.get(at)?.iter().try_fold(0u32, |n, d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let year = i32::try_from(number(0..4)?).ok()?;
    let date = NaiveDate::from_ymd_opt(year, number(5..7)?, number(8..10)?)?;
    let time = chrono::NaiveTime::from_hms_opt(number(11..13)?, number(14..16)?, number(17..19)?)?;
    Some(date.and_time(time).and_utc())
}

/// Formats an instant the one way reports and expressions see it: RFC 3339, UTC, `Z`,
/// fractional seconds only when present.
pub fn format_instant(time: &DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// How a foreign record writes its time (a mapping's `time: {format, offset}`), compiled once.
///
/// Foreign data rarely writes RFC 3339: UCDP writes `2018-12-25`, ACLED `25 December 2018`,
/// monitoring missions `25/12/2018 14:30` in local time. A format is one of pactum's own
/// rules ([`parse_instant`]), `rfc3339`, `date`, or a chrono strftime pattern; times written
/// without an offset are read at `offset` (UTC unless given) and converted to UTC here, so that
/// nothing downstream sees a local time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeFormat {
    shape: Shape,
    /// The offset of times written without one.
    offset: FixedOffset,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Shape {
    /// [`parse_instant`]: RFC 3339 or `YYYY-MM-DD`.
    Pactum,
    /// RFC 3339 only.
    Rfc3339,
    /// `YYYY-MM-DD` only, meaning 00:00 at the offset.
    Date,
    /// A strftime pattern.
    Pattern(String),
}

/// Why a time format cannot be used, and which of its keys is at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeFormatError {
    /// The `format` is wrong.
    Format(String),
    /// The `offset` is wrong, or the format does not take one.
    Offset(String),
}

impl TimeFormat {
    /// Compiles `format` (`None`: pactum's own rules) and `offset` (`+03:00`, `-05:00`, `Z`).
    ///
    /// A pattern is tried on a sample instant before it is accepted: one that cannot read back
    /// a whole date (`%H:%M`, `%Z`) would fail on every record, so it fails here instead.
    pub fn new(format: Option<&str>, offset: Option<&str>) -> Result<Self, TimeFormatError> {
        let fixed = match offset.map(str::trim) {
            None => None,
            Some("Z") => Some(Some(Utc.fix())),
            Some(text) => Some(text.parse::<FixedOffset>().ok()),
        };
        let fixed = match (fixed, offset) {
            (None, _) => None,
            (Some(Some(fixed)), _) => Some(fixed),
            (Some(None), text) => {
                return Err(TimeFormatError::Offset(format!(
                    "`{}` is not a UTC offset: write it as +03:00, -05:00 or Z",
                    text.unwrap_or_default()
                )));
            }
        };
        let shape = match format.map(str::trim) {
            None => Shape::Pactum,
            Some("rfc3339") => Shape::Rfc3339,
            Some("date") => Shape::Date,
            Some(pattern) if pattern.contains('%') => Shape::Pattern(pattern.to_string()),
            Some(other) => {
                return Err(TimeFormatError::Format(format!(
                    "`{other}` is not a time format: write `rfc3339`, `date`, or a strftime pattern such as \"%Y-%m-%d\" or \"%d/%m/%Y %H:%M\""
                )));
            }
        };
        let zoned = match &shape {
            Shape::Pactum | Shape::Rfc3339 => true,
            Shape::Date => false,
            Shape::Pattern(pattern) => check_pattern(pattern)?,
        };
        if zoned && fixed.is_some() {
            let why = match &shape {
                Shape::Pactum => {
                    "`offset` applies to formats without one: give `format: date` or a strftime pattern"
                }
                _ => "this format reads the offset from each time: remove `offset`",
            };
            return Err(TimeFormatError::Offset(why.to_string()));
        }
        Ok(TimeFormat {
            shape,
            offset: fixed.unwrap_or(Utc.fix()),
        })
    }

    /// Reads one time, converted to UTC.
    pub fn parse(&self, text: &str) -> Result<DateTime<Utc>, String> {
        let text = text.trim();
        match &self.shape {
            Shape::Pactum => parse_instant(text).map(|(time, _)| time),
            Shape::Rfc3339 => DateTime::parse_from_rfc3339(text)
                .map(|time| time.with_timezone(&Utc))
                .map_err(|why| format!("`{text}` is not an RFC 3339 time ({why})")),
            Shape::Date => match parse_instant(text) {
                Ok((_, Precision::Date)) => {
                    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")
                        .map_err(|why| format!("`{text}` is not a date ({why})"))?;
                    self.local(date.and_time(NaiveTime::MIN), text)
                }
                _ => Err(format!("`{text}` is not a date (YYYY-MM-DD)")),
            },
            Shape::Pattern(pattern) => {
                let mut parsed = Parsed::new();
                chrono::format::parse(&mut parsed, text, StrftimeItems::new(pattern)).map_err(
                    |why| format!("`{text}` does not match the format `{pattern}` ({why})"),
                )?;
                let fail = |why: chrono::format::ParseError| {
                    format!("`{text}` does not match the format `{pattern}` ({why})")
                };
                if parsed.offset().is_some() {
                    return parsed
                        .to_datetime()
                        .map(|time| time.with_timezone(&Utc))
                        .map_err(fail);
                }
                if parsed.timestamp().is_some() {
                    return parsed
                        .to_naive_datetime_with_offset(0)
                        .map(|time| time.and_utc())
                        .map_err(fail);
                }
                let date = parsed.to_naive_date().map_err(fail)?;
                let time = if parsed.hour_div_12().is_some() || parsed.hour_mod_12().is_some() {
                    parsed.to_naive_time().map_err(fail)?
                } else {
                    NaiveTime::MIN
                };
                self.local(date.and_time(time), text)
            }
        }
    }

    /// A wall-clock time at the format's offset, in UTC.
    fn local(&self, time: NaiveDateTime, text: &str) -> Result<DateTime<Utc>, String> {
        time.and_local_timezone(self.offset)
            .single()
            .map(|time| time.with_timezone(&Utc))
            .ok_or_else(|| format!("`{text}` is out of range"))
    }
}

/// Checks a strftime pattern: every specifier known, and a sample instant written with it reads
/// back to the same day. Returns whether the pattern carries its own offset (or is a Unix
/// timestamp), which `offset` must then not override.
fn check_pattern(pattern: &str) -> Result<bool, TimeFormatError> {
    use std::fmt::Write as _;
    let bad = |why: String| TimeFormatError::Format(why);
    let items: Vec<Item> = StrftimeItems::new(pattern).collect();
    if items.iter().any(|item| matches!(item, Item::Error)) {
        return Err(bad(format!(
            "`{pattern}` is not a valid strftime pattern (an unknown or incomplete `%` specifier)"
        )));
    }
    let sample = NaiveDate::from_ymd_opt(2001, 2, 3)
        .and_then(|d| d.and_hms_opt(4, 5, 6))
        .map(|t| t.and_utc().fixed_offset());
    let mut written = String::new();
    if let Some(sample) = sample
        && write!(written, "{}", sample.format_with_items(items.iter())).is_err()
    {
        return Err(bad(format!("`{pattern}` cannot be used to write a time")));
    }
    let mut parsed = Parsed::new();
    let read = chrono::format::parse(&mut parsed, &written, items.iter());
    let zoned = parsed.offset().is_some() || parsed.timestamp().is_some();
    let day = read.and_then(|()| {
        if zoned {
            parsed
                .to_datetime()
                .map(|t| t.date_naive())
                .or_else(|_| parsed.to_naive_datetime_with_offset(0).map(|t| t.date()))
        } else {
            parsed.to_naive_date()
        }
    });
    match day {
        Ok(day) if Some(day) == sample.map(|s| s.date_naive()) => Ok(zoned),
        Ok(_) | Err(_) => Err(bad(format!(
            "`{pattern}` does not give a whole date (a sample time written with it, `{written}`, does not read back): it needs the year, month and day, e.g. %Y-%m-%d, %d/%m/%Y, %d %B %Y"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The quick reading of `YYYY-MM-DDTHH:MM:SSZ` gives chrono's instant, and nothing chrono
    /// refuses: every field at, inside and past its bounds, across leap years and seconds.
    #[test]
    fn the_quick_time_is_chronos() {
        let mut checked = 0;
        for year in [0, 1, 1900, 1999, 2000, 2023, 2024, 2100, 9999] {
            for month in [0, 1, 2, 9, 12, 13] {
                for day in [0, 1, 28, 29, 30, 31, 32] {
                    for (h, m, sec) in [
                        (0, 0, 0),
                        (23, 59, 59),
                        (24, 0, 0),
                        (12, 60, 0),
                        (23, 59, 60),
                    ] {
                        let text = format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{sec:02}Z");
                        let quick = utc_seconds(&text);
                        let general = DateTime::parse_from_rfc3339(&text)
                            .ok()
                            .map(|t| t.with_timezone(&Utc));
                        if let Some(quick) = quick {
                            assert_eq!(Some(quick), general, "{text}");
                        }
                        if general.is_some() && sec != 60 {
                            assert!(quick.is_some(), "{text} left to the general parser");
                        }
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 9 * 6 * 7 * 5);
        for text in [
            "2024-01-01T00:00:00z",
            "2024-01-01t00:00:00Z",
            "2024-01-01T00:00:00+00:00",
            "2024-1-01T00:00:00Z",
            "+024-01-01T00:00:00Z",
            "2024-01-01T00:00:0aZ",
        ] {
            assert_eq!(utc_seconds(text), None, "{text}");
        }
    }

    #[test]
    fn dates_and_offsets_become_utc() {
        let (t, p) = parse_instant("2023-09-19").unwrap();
        assert_eq!(
            (format_instant(&t).as_str(), p),
            ("2023-09-19T00:00:00Z", Precision::Date)
        );
        let (t, p) = parse_instant("2024-10-23T21:30:00+03:00").unwrap();
        assert_eq!(
            (format_instant(&t).as_str(), p),
            ("2024-10-23T18:30:00Z", Precision::Time)
        );
        let (t, _) = parse_instant("2024-10-23T18:30:00.250Z").unwrap();
        assert_eq!(format_instant(&t), "2024-10-23T18:30:00.250Z");
    }

    #[test]
    fn bad_instants_are_explained() {
        let err = parse_instant("23/10/2024").unwrap_err();
        assert!(err.contains("`23/10/2024` is not a date"), "{err}");
        assert!(parse_instant("2023-02-30").is_err());
        assert!(
            parse_instant("2024-10-23T18:30:00").is_err(),
            "no offset is ambiguous"
        );
    }
}

/// The longest duration a rule or option may give, in days: 100 years of 365.25 days
/// (`36525d`). Longer windows would say nothing a century does not, and instants moved by them
/// would leave the calendar (chrono's dates end in the year 262143), where they saturate.
pub const MAX_DURATION_DAYS: i64 = 36_525;

/// Parses a duration written as `90s`, `30m`, `6h`, `7d` or a combination such as `1h30m`:
/// one or more whole numbers, each followed by a unit, units from the largest down, each at
/// most once; in all at most [`MAX_DURATION_DAYS`].
pub fn parse_duration(text: &str) -> Result<chrono::TimeDelta, String> {
    let explain = || {
        format!(
            "`{text}` is not a duration: write a number and a unit (d, h, m, s), e.g. 24h, 90s, 1h30m"
        )
    };
    let too_long = || {
        format!(
            "`{text}` is longer than the longest duration allowed, {MAX_DURATION_DAYS}d (100 years)"
        )
    };
    let max = chrono::TimeDelta::days(MAX_DURATION_DAYS);
    let mut total = chrono::TimeDelta::zero();
    let mut last_rank = usize::MAX;
    let mut digits = String::new();
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let rank = match c {
            'd' => 3,
            'h' => 2,
            'm' => 1,
            's' => 0,
            _ => return Err(explain()),
        };
        if digits.is_empty() || rank >= last_rank {
            return Err(explain());
        }
        // Digits only: a number that does not fit is too long, not malformed.
        let n: i64 = digits.parse().map_err(|_| too_long())?;
        let part = match rank {
            3 => chrono::TimeDelta::try_days(n),
            2 => chrono::TimeDelta::try_hours(n),
            1 => chrono::TimeDelta::try_minutes(n),
            _ => chrono::TimeDelta::try_seconds(n),
        }
        .ok_or_else(too_long)?;
        total = total
            .checked_add(&part)
            .filter(|total| *total <= max)
            .ok_or_else(too_long)?;
        last_rank = rank;
        digits.clear();
    }
    if !digits.is_empty() || last_rank == usize::MAX {
        return Err(explain());
    }
    if total <= chrono::TimeDelta::zero() {
        return Err(format!("`{text}` is not a positive duration"));
    }
    Ok(total)
}

/// A duration as [`parse_duration`] reads it: `60d`, `72h`, `1h30m` (whole seconds; `0s` for
/// none). Days are used from a week on: under that, rules count in hours (`72h`, `24h`).
pub fn format_duration(duration: chrono::TimeDelta) -> String {
    let mut seconds = duration.num_seconds().max(0);
    let mut out = String::new();
    let day = if seconds >= 7 * 86_400 {
        86_400
    } else {
        i64::MAX
    };
    for (unit, size) in [('d', day), ('h', 3_600), ('m', 60), ('s', 1)] {
        let n = seconds / size;
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
            seconds -= n * size;
        }
    }
    if out.is_empty() {
        out.push_str("0s");
    }
    out
}

#[cfg(test)]
mod format_tests {
    use super::*;

    fn read(format: Option<&str>, offset: Option<&str>, text: &str) -> Result<String, String> {
        let format = TimeFormat::new(format, offset).map_err(|e| format!("{e:?}"))?;
        format.parse(text).map(|t| format_instant(&t))
    }

    #[test]
    fn patterns_dates_and_offsets_become_utc() {
        assert_eq!(
            read(Some("%Y-%m-%d"), None, "2018-12-25"),
            Ok("2018-12-25T00:00:00Z".into())
        );
        assert_eq!(
            read(Some("%d/%m/%Y %H:%M"), Some("+03:00"), " 25/12/2018 14:30 "),
            Ok("2018-12-25T11:30:00Z".into())
        );
        assert_eq!(
            read(Some("%d %B %Y"), None, "25 December 2018"),
            Ok("2018-12-25T00:00:00Z".into())
        );
        assert_eq!(
            read(Some("%Y-%m-%dT%H:%M%z"), None, "2018-12-25T14:30+0300"),
            Ok("2018-12-25T11:30:00Z".into())
        );
        assert_eq!(
            read(Some("%s"), None, "0"),
            Ok("1970-01-01T00:00:00Z".into())
        );
        assert_eq!(
            read(Some("date"), Some("-05:00"), "2018-12-25"),
            Ok("2018-12-25T05:00:00Z".into())
        );
        assert_eq!(
            read(Some("rfc3339"), None, "2018-12-25T14:30:00+03:00"),
            Ok("2018-12-25T11:30:00Z".into())
        );
        assert_eq!(
            read(None, None, "2018-12-25"),
            Ok("2018-12-25T00:00:00Z".into())
        );
    }

    #[test]
    fn records_that_do_not_match_are_explained() {
        let err = read(Some("%Y-%m-%d"), None, "25/12/2018").unwrap_err();
        assert_eq!(
            err,
            "`25/12/2018` does not match the format `%Y-%m-%d` (input contains invalid characters)"
        );
        assert!(read(Some("date"), None, "2018-12-25T00:00:00Z").is_err());
        assert!(read(Some("rfc3339"), None, "2018-12-25").is_err());
    }

    #[test]
    fn unusable_formats_and_offsets_are_refused() {
        for (format, offset, want) in [
            (Some("%Y-%m-%Q"), None, "Format"),
            (Some("%H:%M"), None, "Format"),
            (Some("%Y-%m"), None, "Format"),
            (Some("%d %Z"), None, "Format"),
            (Some("yyyy-mm-dd"), None, "Format"),
            (Some("%Y-%m-%d"), Some("+3h"), "Offset"),
            (Some("%Y-%m-%dT%H:%M%z"), Some("+03:00"), "Offset"),
            (Some("rfc3339"), Some("+03:00"), "Offset"),
            (None, Some("+03:00"), "Offset"),
        ] {
            let err = TimeFormat::new(format, offset).unwrap_err();
            assert!(
                format!("{err:?}").starts_with(want),
                "{format:?} {offset:?}: {err:?}"
            );
        }
        assert!(TimeFormat::new(Some("%Y-%m-%d"), Some("Z")).is_ok());
    }
}

#[cfg(test)]
mod duration_tests {
    use super::*;

    #[test]
    fn durations_in_every_unit_and_combined() {
        let secs = |t: &str| parse_duration(t).map(|d| d.num_seconds());
        assert_eq!(secs("90s"), Ok(90));
        assert_eq!(secs("30m"), Ok(1800));
        assert_eq!(secs("6h"), Ok(21_600));
        assert_eq!(secs("7d"), Ok(604_800));
        assert_eq!(secs("1h30m"), Ok(5400));
        assert_eq!(secs("1d2h3m4s"), Ok(93_784));
        for bad in ["", "24", "h", "1x", "30m1h", "1h1h", "-1h", "1.5h", "0s"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
        assert_eq!(secs("36525d"), Ok(36_525 * 86_400));
        for long in [
            "36525d1s",
            "876601h",
            "99999999d",
            "999999999999d",
            "99999999999999999999s",
        ] {
            let err = parse_duration(long).unwrap_err();
            assert!(
                err.contains("longest duration allowed, 36525d"),
                "{long}: {err}"
            );
        }
    }

    #[test]
    fn durations_are_written_as_they_are_read() {
        for (text, expected) in [
            ("90s", "1m30s"),
            ("30m", "30m"),
            ("6h", "6h"),
            ("24h", "24h"),
            ("3d", "72h"),
            ("7d", "7d"),
            ("1h30m", "1h30m"),
            ("1d2h3m4s", "26h3m4s"),
            ("60d", "60d"),
            ("8d1h", "8d1h"),
        ] {
            let written = format_duration(parse_duration(text).unwrap());
            assert_eq!(written, expected);
            assert_eq!(parse_duration(&written), parse_duration(text));
        }
    }
}
