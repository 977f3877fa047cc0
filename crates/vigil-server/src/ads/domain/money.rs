//! Money without floats: an amount is a whole number of the currency's
//! minor units (cents), read from and written as a decimal string. Filed
//! amounts are exact; imported platform figures are ranges with a lower and
//! an optional upper bound (the top bucket has none).
use serde::{Deserialize, Serialize};
use std::fmt;

/// An ISO 4217 code: three capital letters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency(String);

/// Currencies without minor units (ISO 4217 exponent 0); every other has 2.
/// (The three-decimal dinars are outside the Union's advertising markets.)
const NO_MINOR_UNITS: &[&str] = &["CLP", "ISK", "JPY", "KRW", "PYG", "VND"];

impl Currency {
    pub fn parse(text: &str) -> Option<Currency> {
        (text.len() == 3 && text.bytes().all(|b| b.is_ascii_uppercase()))
            .then(|| Currency(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Digits after the decimal point.
    pub fn exponent(&self) -> u32 {
        if NO_MINOR_UNITS.contains(&self.0.as_str()) {
            0
        } else {
            2
        }
    }
}

impl TryFrom<String> for Currency {
    type Error = String;

    fn try_from(text: String) -> Result<Currency, String> {
        Currency::parse(&text).ok_or_else(|| format!("{text:?} is not an ISO 4217 currency code"))
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.0
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why an amount does not read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("write the amount as a decimal string such as \"1234.50\"")]
    NotDecimal,
    #[error("{currency} has {exponent} decimal places")]
    TooPrecise { currency: String, exponent: u32 },
    #[error("the amount is too large")]
    TooLarge,
}

/// Reads `"1234.5"` as minor units of a currency with `exponent` decimals.
/// A thousands separator, sign, exponent or anything else is refused.
pub fn parse_minor(text: &str, currency: &Currency) -> Result<i64, AmountError> {
    let exponent = currency.exponent();
    let text = text.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || (text.ends_with('.')) {
        return Err(AmountError::NotDecimal);
    }
    let significant = fraction.trim_end_matches('0');
    if significant.len() > exponent as usize {
        return Err(AmountError::TooPrecise {
            currency: currency.to_string(),
            exponent,
        });
    }
    let scale = 10i64.pow(exponent);
    let whole: i64 = whole.parse().map_err(|_| AmountError::TooLarge)?;
    let mut minor: i64 = 0;
    for (i, digit) in significant.bytes().enumerate() {
        let place = 10i64.pow(exponent - 1 - i as u32);
        minor += i64::from(digit - b'0') * place;
    }
    whole
        .checked_mul(scale)
        .and_then(|w| w.checked_add(minor))
        .ok_or(AmountError::TooLarge)
}

/// Minor units as a decimal string with the currency's decimals.
pub fn format_minor(minor: i64, currency: &Currency) -> String {
    let exponent = currency.exponent();
    if exponent == 0 {
        return minor.to_string();
    }
    let scale = 10i64.pow(exponent);
    format!(
        "{}{}.{:0width$}",
        if minor < 0 { "-" } else { "" },
        (minor / scale).abs(),
        (minor % scale).abs(),
        width = exponent as usize
    )
}

/// An exact amount.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    pub currency: Currency,
    /// Minor units (cents).
    pub minor: i64,
}

impl Money {
    pub fn decimal(&self) -> String {
        format_minor(self.minor, &self.currency)
    }
}

/// A range of amounts as platforms publish them; `upper` is `None` for the
/// open top bucket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoneyRange {
    pub currency: Currency,
    pub lower_minor: i64,
    pub upper_minor: Option<i64>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn decimal_strings_read_exactly_and_back() {
        let eur = Currency::parse("EUR").unwrap();
        assert_eq!(parse_minor("1234.5", &eur), Ok(123_450));
        assert_eq!(parse_minor("0.07", &eur), Ok(7));
        assert_eq!(parse_minor("12", &eur), Ok(1_200));
        assert_eq!(
            parse_minor("12.000", &eur),
            Ok(1_200),
            "trailing zeros are exact"
        );
        assert_eq!(format_minor(123_450, &eur), "1234.50");
        assert_eq!(format_minor(7, &eur), "0.07");
        let yen = Currency::parse("JPY").unwrap();
        assert_eq!(parse_minor("500", &yen), Ok(500));
        assert_eq!(format_minor(500, &yen), "500");
        // 0.1 + 0.2 is 0.3 here.
        assert_eq!(
            parse_minor("0.1", &eur).unwrap() + parse_minor("0.2", &eur).unwrap(),
            parse_minor("0.3", &eur).unwrap()
        );
    }

    #[test]
    fn anything_else_is_refused_with_its_reason() {
        let eur = Currency::parse("EUR").unwrap();
        for bad in ["", "1,000.00", "-5", "1e3", "12.", ".5", "12.3.4", "twelve"] {
            assert_eq!(
                parse_minor(bad, &eur),
                Err(AmountError::NotDecimal),
                "{bad:?}"
            );
        }
        assert!(matches!(
            parse_minor("1.005", &eur),
            Err(AmountError::TooPrecise { .. })
        ));
        assert_eq!(
            parse_minor("99999999999999999999", &eur),
            Err(AmountError::TooLarge)
        );
        assert!(Currency::parse("eur").is_none() && Currency::parse("EURO").is_none());
    }
}
