//! Collects every `path:LINE: message` problem of a file so they are reported together, each
//! once.

use std::collections::HashSet;
use std::fmt::Display;
use std::path::{Path, PathBuf};

/// Problems shown in full; the rest are counted.
const SHOWN: usize = 20;

pub(super) struct LineErrors {
    file: PathBuf,
    shown: Vec<String>,
    total: usize,
    /// Every problem pushed, so that one found twice (two empty cells of a line) is one.
    pushed: HashSet<String>,
}

impl LineErrors {
    pub(super) fn new(file: &Path) -> Self {
        Self {
            file: file.to_path_buf(),
            shown: Vec::new(),
            total: 0,
            pushed: HashSet::new(),
        }
    }

    /// `line` counts from 1, as editors do. The same message for the same line again is
    /// dropped.
    pub(super) fn push(&mut self, line: usize, message: impl Display) {
        let text = format!("{}:{line}: {message}", self.file.display());
        if !self.pushed.insert(text.clone()) {
            return;
        }
        self.total += 1;
        if self.shown.len() < SHOWN {
            self.shown.push(text);
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
    fn a_problem_found_twice_on_one_line_is_listed_once() {
        let mut errors = LineErrors::new(Path::new("f.txt"));
        errors.push(3, "empty tag");
        errors.push(3, "empty tag");
        errors.push(4, "empty tag");
        assert_eq!(errors.len(), 2);
        let text = errors.finish().unwrap_err().to_string();
        assert!(text.starts_with("2 problems in f.txt:"), "{text}");
        assert_eq!(text.matches("f.txt:3: empty tag").count(), 1, "{text}");
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
