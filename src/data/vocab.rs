//! Tag vocabulary: groups of tags (one `tags.txt` line each), flattened in order.

use std::path::Path;

use super::line_errors::LineErrors;

/// Tag groups in file order; a tag's flat index is its position in the concatenation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vocabulary {
    pub groups: Vec<Vec<String>>,
}

impl Vocabulary {
    /// Parses `tags.txt`: one comma-separated group of tags per line (e.g. hair colours, hair
    /// lengths, eye colours). Blank lines at the end are ignored; every problem is reported with
    /// `file:LINE`.
    pub fn parse(text: &str, file: &Path) -> anyhow::Result<Self> {
        let mut vocab = Self { groups: Vec::new() };
        let mut errors = LineErrors::new(file);
        let lines: Vec<&str> = text.lines().collect();
        let used = lines
            .iter()
            .rposition(|l| !l.trim().is_empty())
            .map_or(0, |i| i + 1);
        for (i, line) in lines[..used].iter().enumerate() {
            vocab.add_group(i + 1, line, &mut errors);
        }
        if vocab.groups.is_empty() && errors.is_empty() {
            anyhow::bail!(
                "{} holds no tags: write one comma-separated group of tags per line",
                file.display()
            );
        }
        errors.finish()?;
        Ok(vocab)
    }

    /// Adds one comma-separated group; used by tag files that embed a vocabulary.
    pub(super) fn add_group(&mut self, line: usize, text: &str, errors: &mut LineErrors) {
        if text.trim().is_empty() {
            errors.push(
                line,
                "empty line: every line is a comma-separated group of tags",
            );
            return;
        }
        let mut group = Vec::new();
        for tag in text.split(',').map(str::trim) {
            if tag.is_empty() {
                errors.push(line, "empty tag (a stray comma?)");
            } else if self.index_of(tag).is_some() || group.iter().any(|t| t == tag) {
                errors.push(
                    line,
                    format_args!("tag \"{tag}\" is listed twice; list it once"),
                );
            } else {
                group.push(tag.to_string());
            }
        }
        self.groups.push(group);
    }

    /// Number of tags over all groups (the length of a multi-hot vector).
    pub fn len(&self) -> usize {
        self.groups.iter().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn index_of(&self, tag: &str) -> Option<usize> {
        self.groups.iter().flatten().position(|t| t == tag)
    }

    /// Group (line) of a flat tag index. Panics when `flat_index >= self.len()`.
    pub fn group_of(&self, flat_index: usize) -> usize {
        let mut end = 0;
        for (group, tags) in self.groups.iter().enumerate() {
            end += tags.len();
            if flat_index < end {
                return group;
            }
        }
        panic!("tag index {flat_index} out of range: the vocabulary has {end} tags")
    }

    /// Tags in flat-index order.
    pub fn tags(&self) -> impl Iterator<Item = &str> {
        self.groups.iter().flatten().map(String::as_str)
    }

    /// The `tags.txt` form; `parse` reads it back to an equal vocabulary.
    pub fn to_text(&self) -> String {
        let lines: Vec<String> = self.groups.iter().map(|g| g.join(",")).collect();
        lines.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> anyhow::Result<Vocabulary> {
        Vocabulary::parse(text, Path::new("tags.txt"))
    }

    #[test]
    fn flat_indices_follow_the_lines() {
        let vocab = parse("red hair, blue hair\nlong hair\nred eyes,blue eyes\n\n").unwrap();
        assert_eq!(vocab.len(), 5);
        assert_eq!(vocab.index_of("blue hair"), Some(1));
        assert_eq!(vocab.index_of("red eyes"), Some(3));
        assert_eq!(vocab.index_of("green hair"), None);
        let groups: Vec<usize> = (0..5).map(|i| vocab.group_of(i)).collect();
        assert_eq!(groups, [0, 0, 1, 2, 2]);
        assert_eq!(parse(&vocab.to_text()).unwrap(), vocab);
    }

    #[test]
    #[should_panic(expected = "out of range")]
    fn group_of_out_of_range_panics() {
        parse("a,b").unwrap().group_of(2);
    }

    #[test]
    fn problems_name_file_and_line() {
        let cases = [
            ("a,,b", "tags.txt:1: empty tag", "stray comma"),
            (
                "a,b\nc,a",
                "tags.txt:2: tag \"a\" is listed twice",
                "duplicate across groups",
            ),
            (
                "a\n\nb",
                "tags.txt:2: empty line",
                "blank line between groups",
            ),
            ("\n\n", "holds no tags", "empty file"),
        ];
        for (text, expected, why) in cases {
            let message = parse(text).unwrap_err().to_string();
            assert!(message.contains(expected), "{why}: {message}");
        }
    }
}
