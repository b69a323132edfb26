//! The app's recent log lines in memory, for `upload_logs` from the county
//! centre: the binary's log writer is [`Tee`], which writes to stderr (the
//! journal) and keeps the last lines here.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::Mutex;

/// Lines kept; the answer to the headend is also capped at
/// `model::MAX_LOG_BYTES`.
pub const KEPT_LINES: usize = 300;

static RECENT: Mutex<VecDeque<String>> = Mutex::new(VecDeque::new());

/// Keeps one line (without its newline).
pub fn keep(line: &str) {
    if let Ok(mut recent) = RECENT.lock() {
        if recent.len() == KEPT_LINES {
            recent.pop_front();
        }
        recent.push_back(line.to_string());
    }
}

/// The kept lines, oldest first, at most `model::MAX_LOG_BYTES` (the
/// newest are kept when cut).
pub fn recent() -> String {
    let lines: Vec<String> = RECENT
        .lock()
        .map(|r| r.iter().cloned().collect())
        .unwrap_or_default();
    let mut out = Vec::new();
    let mut size = 0;
    for line in lines.iter().rev() {
        size += line.len() + 1;
        if size > model::MAX_LOG_BYTES {
            break;
        }
        out.push(line.as_str());
    }
    out.reverse();
    if out.is_empty() {
        return "本次运行还没有日志".into();
    }
    out.join("\n")
}

/// A log writer: stderr, and the in-memory lines. One is made per log
/// event; a line written in pieces is kept whole.
#[derive(Debug, Default)]
pub struct Tee {
    partial: String,
}

impl Tee {
    pub fn new() -> Tee {
        Tee::default()
    }
}

impl Write for Tee {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = std::io::stderr().write(buf)?;
        self.partial
            .push_str(&String::from_utf8_lossy(buf.get(..n).unwrap_or_default()));
        while let Some(end) = self.partial.find('\n') {
            let line: String = self.partial.drain(..=end).collect();
            if !line.trim().is_empty() {
                keep(line.trim_end());
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl Drop for Tee {
    fn drop(&mut self) {
        if !self.partial.trim().is_empty() {
            keep(self.partial.trim_end());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_lines_are_kept() {
        for i in 0..(KEPT_LINES + 5) {
            let mut tee = Tee::new();
            writeln!(tee, "line {i}").unwrap();
        }
        let text = recent();
        assert!(text.ends_with(&format!("line {}", KEPT_LINES + 4)));
        assert!(!text.contains("line 4\n"));
    }
}
