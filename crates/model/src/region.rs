//! The region tree: county > town > village, keyed by 12-digit statistical
//! area codes (统计用区划代码).

use std::fmt;
use std::str::FromStr;

/// A 12-digit statistical area code, e.g. `530102003001`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct AreaCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("area code {0:?} must be exactly 12 digits, e.g. 530102003001")]
pub struct AreaCodeError(pub String);

impl AreaCode {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for AreaCode {
    type Err = AreaCodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(AreaCode(s.to_string()))
        } else {
            Err(AreaCodeError(s.to_string()))
        }
    }
}

impl<'de> serde::Deserialize<'de> for AreaCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for AreaCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionLevel {
    County,
    Town,
    Village,
}

impl RegionLevel {
    pub fn label(self) -> &'static str {
        match self {
            RegionLevel::County => "县",
            RegionLevel::Town => "乡镇",
            RegionLevel::Village => "村",
        }
    }
}

/// One node of the region tree.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Region {
    pub code: AreaCode,
    pub name: String,
    pub level: RegionLevel,
    pub parent: Option<AreaCode>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn area_codes_are_twelve_digits() {
        assert!("530102003001".parse::<AreaCode>().is_ok());
        for bad in ["53010200300", "5301020030012", "53010200300a", ""] {
            let err = bad.parse::<AreaCode>().unwrap_err();
            assert!(err.to_string().contains("12 digits"));
        }
        assert!(serde_json::from_str::<AreaCode>("\"123\"").is_err());
    }
}
