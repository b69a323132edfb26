//! Dates for display without a calendar dependency.

/// Formats unix seconds (UTC+8, as China shows time) as `2026年11月22日`.
pub fn format_date(unix_secs: i64) -> String {
    let (y, m, d) = civil_from_days((unix_secs + 8 * 3600).div_euclid(86_400));
    format!("{y}年{m}月{d}日")
}

/// Days since 1970-01-01 to (year, month, day); Howard Hinnant's algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_beijing_dates() {
        assert_eq!(format_date(0), "1970年1月1日");
        // 2026-11-21T16:00:00Z is already the 22nd in Beijing.
        assert_eq!(format_date(1_795_276_800), "2026年11月22日");
        assert_eq!(format_date(951_753_600), "2000年2月29日");
    }
}
