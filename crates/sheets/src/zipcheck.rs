//! A look inside an XLSX container before the workbook reader opens it.
//!
//! The reader trusts the container: it lists every member, inflates the
//! shared-string table whole and reserves room for the count that table
//! declares. So first, with nothing but the bytes we were sent: count the
//! members, inflate each one into nothing while counting what comes out
//! (stopping at the budget, so a zip bomb costs its budget and no more),
//! and read the count the shared-string table claims.

use std::io::{Cursor, Read};

use crate::limits::{Problems, MAX_SHARED_STRINGS, MAX_UNZIPPED_BYTES, MAX_ZIP_ENTRIES};

/// What the problems of the container itself are filed under.
pub(crate) const WORKBOOK: &str = "工作簿";

/// Signature of a zip central-directory header.
const CENTRAL_HEADER: &[u8; 4] = b"PK\x01\x02";

/// Checks the container; the problems say what is wrong in plain words.
/// `Err` with a reason the file is not a zip at all.
pub(crate) fn check(bytes: &[u8]) -> Result<Problems, String> {
    let mut problems = Problems::default();
    // Members are counted from the bytes, not from what the end record
    // claims: every member the zip library would list has its header here.
    let members = bytes
        .windows(CENTRAL_HEADER.len())
        .filter(|w| *w == CENTRAL_HEADER)
        .count();
    if members > MAX_ZIP_ENTRIES {
        problems.push(
            WORKBOOK,
            String::new(),
            &format!(
                "文件里有 {members} 个部件，正常的表格不超过 {MAX_ZIP_ENTRIES} 个；请用 Excel 或 WPS 另存为 .xlsx 后再导入"
            ),
        );
        return Ok(problems);
    }
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let mut inflated: u64 = 0;
    let mut sink = vec![0u8; 64 * 1024];
    for i in 0..archive.len() {
        let mut member = archive.by_index(i).map_err(|e| e.to_string())?;
        let shared_strings = member.name().eq_ignore_ascii_case("xl/sharedStrings.xml");
        let mut head: Vec<u8> = Vec::new();
        loop {
            let n = match member.read(&mut sink) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => return Err(e.to_string()),
            };
            inflated += n as u64;
            if inflated > MAX_UNZIPPED_BYTES {
                problems.push(
                    WORKBOOK,
                    String::new(),
                    &format!(
                        "文件解压后超过 {} MB，不像是一张村里的表格；请删去多余的工作表和图片后再导入",
                        MAX_UNZIPPED_BYTES / (1024 * 1024)
                    ),
                );
                return Ok(problems);
            }
            if shared_strings && head.len() < 4096 {
                let take = n.min(4096 - head.len());
                head.extend_from_slice(&sink[..take]);
            }
        }
        if shared_strings {
            if let Some(count) = declared_count(&head) {
                if count > MAX_SHARED_STRINGS as u64 {
                    problems.push(
                        WORKBOOK,
                        String::new(),
                        &format!(
                            "文件声明有 {count} 个不同的文字，超过可导入的 {MAX_SHARED_STRINGS} 个；请另存为新的 .xlsx 后再导入"
                        ),
                    );
                }
            }
        }
    }
    Ok(problems)
}

/// The `uniqueCount` (or else `count`) the `<sst>` element declares.
fn declared_count(head: &[u8]) -> Option<u64> {
    let text = String::from_utf8_lossy(head);
    let start = text.find("<sst")?;
    let tag = &text[start..];
    let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
    let attr = |name: &str| -> Option<u64> {
        let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        let value = &tag[at..];
        let digits: String = value.chars().take_while(char::is_ascii_digit).collect();
        // More digits than a u64 holds is a count we refuse, not one we skip.
        Some(digits.parse::<u64>().unwrap_or(u64::MAX))
    };
    attr("uniqueCount").or_else(|| attr("count"))
}

#[cfg(test)]
mod tests {
    use super::declared_count;

    #[test]
    fn reads_the_declared_count() {
        assert_eq!(
            declared_count(br#"<?xml?><sst xmlns="x" count="7" uniqueCount="5">"#),
            Some(5)
        );
        assert_eq!(declared_count(br#"<sst count="7">"#), Some(7));
        assert_eq!(
            declared_count(br#"<sst uniqueCount="999999999999999999999999">"#),
            Some(u64::MAX)
        );
        assert_eq!(declared_count(b"<other/>"), None);
    }
}
