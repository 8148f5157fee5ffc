//! Instants as written in agreement files and event logs.
//!
//! One parser for both, so that an agreement's `effective: {from: 2023-09-19}` and an event's
//! `"time": "2023-09-19"` mean the same instant: RFC 3339 with `Z` or an offset, or a plain
//! calendar date meaning 00:00 UTC. Everything is converted to UTC at the edge; nothing
//! downstream ever sees a local time.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

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

/// Formats an instant the one way reports and expressions see it: RFC 3339, UTC, `Z`,
/// fractional seconds only when present.
pub fn format_instant(time: &DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

#[cfg(test)]
mod tests {
    use super::*;

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

/// Parses a duration written as `90s`, `30m`, `6h`, `7d` or a combination such as `1h30m`:
/// one or more whole numbers, each followed by a unit, units from the largest down, each at
/// most once.
pub fn parse_duration(text: &str) -> Result<chrono::TimeDelta, String> {
    let explain = || {
        format!(
            "`{text}` is not a duration: write a number and a unit (d, h, m, s), e.g. 24h, 90s, 1h30m"
        )
    };
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
        let n: i64 = digits.parse().map_err(|_| explain())?;
        let part = match rank {
            3 => chrono::TimeDelta::try_days(n),
            2 => chrono::TimeDelta::try_hours(n),
            1 => chrono::TimeDelta::try_minutes(n),
            _ => chrono::TimeDelta::try_seconds(n),
        }
        .ok_or_else(explain)?;
        total = total.checked_add(&part).ok_or_else(explain)?;
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
    }
}
