//! Collects every `path:LINE: message` problem of a file so they are reported together.

use std::fmt::Display;
use std::path::{Path, PathBuf};

/// Problems shown in full; the rest are counted.
const SHOWN: usize = 20;

pub(super) struct LineErrors {
    file: PathBuf,
    shown: Vec<String>,
    total: usize,
}

impl LineErrors {
    pub(super) fn new(file: &Path) -> Self {
        Self {
            file: file.to_path_buf(),
            shown: Vec::new(),
            total: 0,
        }
    }

    /// `line` counts from 1, as editors do.
    pub(super) fn push(&mut self, line: usize, message: impl Display) {
        self.total += 1;
        if self.shown.len() < SHOWN {
            self.shown
                .push(format!("{}:{line}: {message}", self.file.display()));
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Problems pushed so far.
    pub(super) fn len(&self) -> usize {
        self.total
    }

    /// Ok when nothing was pushed; otherwise one error listing the problems.
    pub(super) fn finish(self) -> anyhow::Result<()> {
        if self.total == 0 {
            return Ok(());
        }
        let mut text = format!(
            "{} problem{} in {}:",
            self.total,
            if self.total == 1 { "" } else { "s" },
            self.file.display()
        );
        for line in &self.shown {
            text.push_str("\n  ");
            text.push_str(line);
        }
        if self.total > self.shown.len() {
            text.push_str(&format!("\n  and {} more", self.total - self.shown.len()));
        }
        Err(anyhow::anyhow!(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_is_ok() {
        assert!(LineErrors::new(Path::new("f.txt")).finish().is_ok());
    }

    #[test]
    fn lists_all_problems_with_file_and_line() {
        let mut errors = LineErrors::new(Path::new("f.txt"));
        errors.push(3, "bad");
        errors.push(7, "worse");
        let text = errors.finish().unwrap_err().to_string();
        assert!(text.starts_with("2 problems in f.txt:"), "{text}");
        assert!(
            text.contains("f.txt:3: bad") && text.contains("f.txt:7: worse"),
            "{text}"
        );
    }

    #[test]
    fn caps_the_list() {
        let mut errors = LineErrors::new(Path::new("f.txt"));
        for line in 1..=25 {
            errors.push(line, "bad");
        }
        let text = errors.finish().unwrap_err().to_string();
        assert!(
            text.contains("f.txt:20: bad") && !text.contains("f.txt:21:"),
            "{text}"
        );
        assert!(text.ends_with("and 5 more"), "{text}");
    }
}
