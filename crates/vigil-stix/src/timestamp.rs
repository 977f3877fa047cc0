//! STIX timestamps: RFC 3339 in UTC with a `Z` and optional fractional
//! seconds (STIX 2.1 §3.2). Kept as written, compared by instant.
use std::cmp::Ordering;
use std::fmt;

/// A valid STIX timestamp. Equality and order are by instant, so
/// `…:00Z` and `…:00.000Z` are the same version.
#[derive(Clone, Debug)]
pub struct StixTimestamp {
    text: String,
    /// Seconds since 0000-01-01 (proleptic Gregorian) and nanoseconds.
    instant: (i64, u32),
}

impl StixTimestamp {
    pub fn parse(text: &str) -> Option<StixTimestamp> {
        let bytes = text.as_bytes();
        if bytes.len() < 20 || bytes.last() != Some(&b'Z') {
            return None;
        }
        let digits = |range: std::ops::Range<usize>| -> Option<i64> {
            let part = bytes.get(range)?;
            if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
                return None;
            }
            part.iter()
                .try_fold(0_i64, |acc, d| Some(acc * 10 + i64::from(d - b'0')))
        };
        let separators = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
        if separators.iter().any(|(i, c)| bytes.get(*i) != Some(c)) {
            return None;
        }
        let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
        let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
        let nanos = match &bytes[19..bytes.len() - 1] {
            [] => 0,
            [b'.', fraction @ ..] if !fraction.is_empty() && fraction.len() <= 9 => {
                let value = digits(20..bytes.len() - 1)?;
                let scale = 10_i64.pow(9 - u32::try_from(fraction.len()).ok()?);
                u32::try_from(value * scale).ok()?
            }
            _ => return None,
        };
        if !(1..=12).contains(&month)
            || day < 1
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 60
        {
            return None;
        }
        let days = days_before(year, month) + day - 1;
        Some(StixTimestamp {
            text: text.to_string(),
            instant: (((days * 24 + hour) * 60 + minute) * 60 + second, nanos),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The instant with nine fractional digits, so that text order is time
    /// order: `2016-04-06T20:03:00.100000000Z`.
    pub fn sortable(&self) -> String {
        let fraction = self.text[19..self.text.len() - 1].trim_start_matches('.');
        format!("{}.{:0<9}Z", &self.text[..19], fraction)
    }
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 0000-01-01 to the first of `month` in `year`.
fn days_before(year: i64, month: i64) -> i64 {
    let previous = year - 1;
    let mut days = year * 365 + previous / 4 - previous / 100 + previous / 400 + 1;
    for m in 1..month {
        days += days_in_month(year, m);
    }
    days
}

impl PartialEq for StixTimestamp {
    fn eq(&self, other: &Self) -> bool {
        self.instant == other.instant
    }
}

impl Eq for StixTimestamp {}

impl PartialOrd for StixTimestamp {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for StixTimestamp {
    fn cmp(&self, other: &Self) -> Ordering {
        self.instant.cmp(&other.instant)
    }
}

impl fmt::Display for StixTimestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::StixTimestamp;

    #[test]
    fn parses_and_orders_by_instant() {
        let a = StixTimestamp::parse("2016-04-06T20:03:00Z").unwrap();
        let b = StixTimestamp::parse("2016-04-06T20:03:00.000Z").unwrap();
        let c = StixTimestamp::parse("2016-04-06T20:03:00.1Z").unwrap();
        let d = StixTimestamp::parse("2017-01-01T00:00:00Z").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.sortable(), "2016-04-06T20:03:00.000000000Z");
        assert_eq!(c.sortable(), "2016-04-06T20:03:00.100000000Z");
        assert!(c.sortable() < d.sortable());
        assert!(b < c && c < d);
        assert!(StixTimestamp::parse("2024-02-29T00:00:00Z").is_some());
        for bad in [
            "2023-02-29T00:00:00Z",
            "2016-04-06T20:03:00",
            "2016-04-06 20:03:00Z",
            "2016-04-06T20:03:00+01:00",
            "2016-13-06T20:03:00Z",
            "2016-04-06T24:03:00Z",
            "2016-04-06T20:03:00.Z",
            "2016-04-06T20:03:00.1234567890Z",
            "",
        ] {
            assert!(StixTimestamp::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn day_arithmetic_is_continuous() {
        let last = StixTimestamp::parse("2023-12-31T23:59:59Z").unwrap();
        let first = StixTimestamp::parse("2024-01-01T00:00:00Z").unwrap();
        assert_eq!(first.instant.0 - last.instant.0, 1);
        let feb = StixTimestamp::parse("2024-02-29T23:59:59Z").unwrap();
        let mar = StixTimestamp::parse("2024-03-01T00:00:00Z").unwrap();
        assert_eq!(mar.instant.0 - feb.instant.0, 1);
    }
}
