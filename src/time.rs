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
