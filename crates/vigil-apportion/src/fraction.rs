//! Exact non-negative fractions. Apportionment compares quotients such as
//! votes / (seats + 1); floating point can order two of them wrongly, so
//! every comparison here is an exact cross-multiplication in 128 bits
//! (votes up to 10^12 and divisors up to 10^6 stay far below the limit).
use std::cmp::Ordering;
use std::fmt;

#[derive(Clone, Copy, Debug)]
pub struct Fraction {
    numerator: u128,
    denominator: u128,
}

impl Fraction {
    /// `numerator / denominator`; `None` for a zero denominator.
    pub fn new(numerator: u128, denominator: u128) -> Option<Fraction> {
        (denominator != 0).then_some(Fraction {
            numerator,
            denominator,
        })
    }

    pub fn whole(value: u128) -> Fraction {
        Fraction {
            numerator: value,
            denominator: 1,
        }
    }

    pub fn numerator(&self) -> u128 {
        self.numerator
    }

    pub fn denominator(&self) -> u128 {
        self.denominator
    }

    /// ⌊self⌋.
    pub fn floor(&self) -> u128 {
        self.numerator / self.denominator
    }

    /// `self - whole` for `whole ≤ self`.
    pub fn minus_whole(&self, whole: u128) -> Fraction {
        Fraction {
            numerator: self.numerator.saturating_sub(whole * self.denominator),
            denominator: self.denominator,
        }
    }

    /// `value / self`, for a non-zero fraction.
    pub fn divide(value: u128, by: Fraction) -> Option<Fraction> {
        Fraction::new(value * by.denominator, by.numerator)
    }

    /// The fraction in lowest terms (for display).
    pub fn reduced(&self) -> Fraction {
        let divisor = gcd(self.numerator, self.denominator).max(1);
        Fraction {
            numerator: self.numerator / divisor,
            denominator: self.denominator / divisor,
        }
    }
}

fn gcd(a: u128, b: u128) -> u128 {
    if b == 0 { a } else { gcd(b, a % b) }
}

impl PartialEq for Fraction {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Fraction {}

impl PartialOrd for Fraction {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Fraction {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.numerator * other.denominator).cmp(&(other.numerator * self.denominator))
    }
}

impl fmt::Display for Fraction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let reduced = self.reduced();
        if reduced.denominator == 1 {
            write!(f, "{}", reduced.numerator)
        } else {
            write!(
                f,
                "{} {}/{}",
                reduced.floor(),
                reduced.numerator % reduced.denominator,
                reduced.denominator
            )
        }
    }
}

impl serde::Serialize for Fraction {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let reduced = self.reduced();
        serializer.serialize_str(&format!("{}/{}", reduced.numerator, reduced.denominator))
    }
}

#[cfg(test)]
mod tests {
    use super::Fraction;

    #[test]
    fn exact_order_where_floats_would_tie() {
        // 10^17 + 1 over 3 and 10^17 over 3 round to the same f64.
        let a = Fraction::new(100_000_000_000_000_001, 3).unwrap();
        let b = Fraction::new(100_000_000_000_000_000, 3).unwrap();
        assert!(a > b);
        assert_eq!(Fraction::new(2, 4).unwrap(), Fraction::new(1, 2).unwrap());
        assert_eq!(Fraction::new(7, 2).unwrap().to_string(), "3 1/2");
        assert_eq!(Fraction::new(1, 0), None);
        assert_eq!(
            Fraction::new(10, 3).unwrap().minus_whole(3),
            Fraction::new(1, 3).unwrap()
        );
    }
}
