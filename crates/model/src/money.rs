//! Money as an exact number of fen (0.01 yuan). Never a float.

use std::fmt;
use std::str::FromStr;

/// An amount of money in fen. Serialised as a decimal string such as
/// `"12345.60"` so no JSON reader can turn it into a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("amount {0:?} is not a decimal number of yuan with at most two decimals")]
    Malformed(String),
    #[error("amount {0:?} is too large")]
    Overflow(String),
}

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn from_fen(fen: i64) -> Self {
        Money(fen)
    }

    pub const fn fen(self) -> i64 {
        self.0
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    pub fn checked_sub(self, other: Money) -> Option<Money> {
        self.0.checked_sub(other.0).map(Money)
    }

    /// `1,234,567.80 元` — thousands separators as Chinese finance tables show them.
    pub fn display_yuan(self) -> String {
        format!("{} 元", self.grouped())
    }

    /// `1,234,567.80` without the unit.
    pub fn grouped(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let (yuan, fen) = (abs / 100, abs % 100);
        let digits = yuan.to_string();
        let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(ch);
        }
        format!("{sign}{grouped}.{fen:02}")
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl FromStr for Money {
    type Err = MoneyError;

    /// Accepts `123`, `123.4`, `123.45`, `-5.00` and thousands separators
    /// (`1,234.50`) as accountants type them.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let malformed = || MoneyError::Malformed(s.to_string());
        let t = s.trim();
        let (negative, t) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t),
        };
        let t: String = t.chars().filter(|c| *c != ',').collect();
        let (int, frac) = match t.split_once('.') {
            Some((i, f)) => (i, f),
            None => (t.as_str(), ""),
        };
        if int.is_empty()
            || !int.bytes().all(|b| b.is_ascii_digit())
            || frac.len() > 2
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(malformed());
        }
        let overflow = || MoneyError::Overflow(s.to_string());
        let yuan: i64 = int.parse().map_err(|_| overflow())?;
        let fen: i64 = match frac.len() {
            0 => 0,
            1 => frac.parse::<i64>().map_err(|_| malformed())? * 10,
            _ => frac.parse().map_err(|_| malformed())?,
        };
        let total = yuan
            .checked_mul(100)
            .and_then(|v| v.checked_add(fen))
            .ok_or_else(overflow)?;
        Ok(Money(if negative { -total } else { total }))
    }
}

impl serde::Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Money {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_exact_fen() {
        let m: Money = "1,234,567.8".parse().unwrap();
        assert_eq!(m.fen(), 123_456_780);
        assert_eq!(m.to_string(), "1234567.80");
        assert_eq!(m.display_yuan(), "1,234,567.80 元");
        assert_eq!("-0.05".parse::<Money>().unwrap().grouped(), "-0.05");
        assert_eq!("999".parse::<Money>().unwrap().grouped(), "999.00");
        assert_eq!("1000".parse::<Money>().unwrap().grouped(), "1,000.00");
    }

    #[test]
    fn rejects_what_is_not_money() {
        for bad in [
            "",
            "abc",
            "1.234",
            "1e5",
            "12.3.4",
            "--1",
            "¥5",
            "99999999999999999999",
        ] {
            assert!(bad.parse::<Money>().is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn sums_that_floats_get_wrong_are_exact() {
        let a: Money = "0.10".parse().unwrap();
        let b: Money = "0.20".parse().unwrap();
        assert_eq!(a.checked_add(b).unwrap(), "0.30".parse().unwrap());
    }

    #[test]
    fn json_is_a_string() {
        let m: Money = "12.5".parse().unwrap();
        assert_eq!(serde_json::to_string(&m).unwrap(), "\"12.50\"");
        assert!(serde_json::from_str::<Money>("12.5").is_err());
    }
}
