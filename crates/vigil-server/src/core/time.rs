//! Timestamps as stored and logged: RFC 3339 UTC with exactly six fractional
//! digits, so that text order is time order on every database.
use serde::{Deserialize, Serialize};
use std::fmt;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Duration, OffsetDateTime, UtcOffset};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, utoipa::ToSchema)]
#[schema(value_type = String, format = DateTime)]
pub struct Timestamp(OffsetDateTime);

const STORED: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

impl Timestamp {
    pub fn now() -> Timestamp {
        Timestamp(OffsetDateTime::now_utc())
    }

    pub fn from_unix_seconds(seconds: i64) -> Option<Timestamp> {
        OffsetDateTime::from_unix_timestamp(seconds)
            .ok()
            .map(Timestamp)
    }

    /// Accepts any RFC 3339 time and normalises it to UTC.
    pub fn parse(text: &str) -> Option<Timestamp> {
        OffsetDateTime::parse(text, &Rfc3339)
            .ok()
            .map(|t| Timestamp(t.to_offset(UtcOffset::UTC)))
    }

    pub fn plus(self, duration: std::time::Duration) -> Timestamp {
        Timestamp(
            self.0
                .saturating_add(Duration::try_from(duration).unwrap_or(Duration::MAX)),
        )
    }

    pub fn minus(self, duration: std::time::Duration) -> Timestamp {
        Timestamp(
            self.0
                .saturating_sub(Duration::try_from(duration).unwrap_or(Duration::MAX)),
        )
    }

    pub fn unix_seconds(self) -> i64 {
        self.0.unix_timestamp()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.format(STORED) {
            Ok(text) => f.write_str(&text),
            Err(_) => Err(fmt::Error),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Timestamp::parse(&text)
            .ok_or_else(|| serde::de::Error::custom("expected an RFC 3339 timestamp"))
    }
}

/// Parses durations such as `90d`, `12h`, `30m`, `45s`.
pub fn parse_duration(text: &str) -> Option<std::time::Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    let seconds = match unit {
        "s" => number,
        "m" => number.checked_mul(60)?,
        "h" => number.checked_mul(3600)?,
        "d" => number.checked_mul(86_400)?,
        _ => return None,
    };
    Some(std::time::Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_width_utc() {
        let t = Timestamp::parse("2026-11-22T11:00:00+01:00").unwrap();
        assert_eq!(t.to_string(), "2026-11-22T10:00:00.000000Z");
        assert_eq!(Timestamp::parse(&t.to_string()), Some(t));
    }

    #[test]
    fn durations() {
        assert_eq!(
            parse_duration("90d"),
            Some(std::time::Duration::from_secs(90 * 86_400))
        );
        assert_eq!(
            parse_duration("15m"),
            Some(std::time::Duration::from_secs(900))
        );
        assert_eq!(parse_duration("d"), None);
        assert_eq!(parse_duration("5y"), None);
    }
}
