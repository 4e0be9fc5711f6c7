//! Tag vocabulary: groups of tags (one `tags.txt` line each), flattened in order.
//!
//! A group may be named by starting its line with `[name]` (lowercase letters, digits and
//! `_`), e.g. `[skin_tone] light skin tone,dark skin tone`; the name becomes the group's
//! accuracy column `tag_acc_<name>`. Unnamed groups are called `g0`, `g1`, ... by their
//! position, except the original dataset's three groups (also the synthetic faces'), which
//! keep their names `hair`, `length` and `eyes`.

use std::path::Path;

use unicode_normalization::UnicodeNormalization;

use super::line_errors::LineErrors;
use crate::synth::{EYE_TAGS, HAIR_COLOURS, HAIR_LENGTHS};

/// Tag groups in file order; a tag's flat index is its position in the concatenation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Vocabulary {
    pub groups: Vec<Vec<String>>,
    /// Per group, the name its line declares (`[name]`), if any.
    pub names: Vec<Option<String>>,
}

impl Vocabulary {
    /// Unnamed groups.
    pub fn new(groups: Vec<Vec<String>>) -> Self {
        let names = vec![None; groups.len()];
        Self { groups, names }
    }

    /// Parses `tags.txt`: one comma-separated group of tags per line (e.g. hair colours, hair
    /// lengths, eye colours), optionally named by a leading `[name]`. Blank lines at the end
    /// are ignored; every problem is reported with `file:LINE`.
    pub fn parse(text: &str, file: &Path) -> anyhow::Result<Self> {
        let mut vocab = Self::default();
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

    /// Adds one comma-separated group, optionally named by a leading `[name]`; used by tag
    /// files that embed a vocabulary.
    pub(super) fn add_group(&mut self, line: usize, text: &str, errors: &mut LineErrors) {
        let (name, text) = match split_name(text) {
            Ok(parts) => parts,
            Err(problem) => {
                errors.push(line, problem);
                return;
            }
        };
        if let Some(name) = name
            && self.names.iter().flatten().any(|n| n == name)
        {
            errors.push(
                line,
                format_args!("group name [{name}] is used twice; name each group once"),
            );
        }
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
        self.names.push(name.map(str::to_string));
    }

    /// Per group, the name of its accuracy column `tag_acc_<name>`: the declared name, else
    /// `hair`, `length` or `eyes` for the original dataset's groups, else `g<index>`. Distinct.
    pub fn group_names(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (i, group) in self.groups.iter().enumerate() {
            let declared = self.names.get(i).cloned().flatten();
            let name = declared
                .or_else(|| original_name(group).map(str::to_string))
                .unwrap_or_else(|| format!("g{i}"));
            let name = if out.contains(&name) {
                format!("{name}_{i}")
            } else {
                name
            };
            out.push(name);
        }
        out
    }

    /// One figure per group as a log line names them, `hair 0.806, length 0.625, eyes 0.286`
    /// (three decimals), by `group_names`.
    pub fn per_group(&self, figures: &[f64]) -> String {
        let named: Vec<String> = self
            .group_names()
            .iter()
            .zip(figures)
            .map(|(name, x)| format!("{name} {x:.3}"))
            .collect();
        named.join(", ")
    }

    /// Number of tags over all groups (the length of a multi-hot vector).
    pub fn len(&self) -> usize {
        self.groups.iter().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The flat index of `tag`, written in either Unicode normal form (a macOS terminal or
    /// file may hold `e` + combining accent where the vocabulary has `é`).
    pub fn index_of(&self, tag: &str) -> Option<usize> {
        let tags = || self.groups.iter().flatten();
        tags().position(|t| t == tag).or_else(|| {
            let tag: String = tag.nfc().collect();
            tags().position(|t| t.nfc().eq(tag.chars()))
        })
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
        let lines: Vec<String> = self
            .groups
            .iter()
            .enumerate()
            .map(|(i, g)| match self.names.get(i).cloned().flatten() {
                Some(name) => format!("[{name}] {}", g.join(",")),
                None => g.join(","),
            })
            .collect();
        lines.join("\n")
    }
}

/// A leading `[name]` of a group line, and the rest; an error for a malformed name.
fn split_name(text: &str) -> Result<(Option<&str>, &str), String> {
    let Some(rest) = text.trim_start().strip_prefix('[') else {
        return Ok((None, text));
    };
    let Some((name, tags)) = rest.split_once(']') else {
        return Err("a group name opens with [ but has no ]: write [name] tag,tag,...".into());
    };
    let name = name.trim();
    let plain = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_';
    if name.is_empty() || !name.chars().all(plain) {
        return Err(format!(
            "group name [{name}]: use lowercase letters, digits and _ (e.g. [skin_tone])"
        ));
    }
    Ok((Some(name), tags))
}

/// The original dataset's name for one of its groups (the synthetic faces use them too).
fn original_name(group: &[String]) -> Option<&'static str> {
    let same = |known: &[&str]| group.iter().map(String::as_str).eq(known.iter().copied());
    [
        (&HAIR_COLOURS[..], "hair"),
        (&HAIR_LENGTHS[..], "length"),
        (&EYE_TAGS[..], "eyes"),
    ]
    .into_iter()
    .find(|(known, _)| same(known))
    .map(|(_, name)| name)
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
        let accented = parse("caf\u{e9},the\u{301}").unwrap();
        assert_eq!(
            accented.index_of("cafe\u{301}"),
            Some(0),
            "NFD asked, NFC listed"
        );
        assert_eq!(
            accented.index_of("th\u{e9}"),
            Some(1),
            "NFC asked, NFD listed"
        );
        let groups: Vec<usize> = (0..5).map(|i| vocab.group_of(i)).collect();
        assert_eq!(groups, [0, 0, 1, 2, 2]);
        assert_eq!(parse(&vocab.to_text()).unwrap(), vocab);
    }

    #[test]
    fn groups_are_named_by_their_line_or_by_position() {
        let vocab = parse("[category] smileys,people\n[skin_tone] light,dark\nx,y\n").unwrap();
        assert_eq!(vocab.group_names(), ["category", "skin_tone", "g2"]);
        assert_eq!(vocab.groups[0], ["smileys", "people"], "the name is no tag");
        assert_eq!(
            parse(&vocab.to_text()).unwrap(),
            vocab,
            "names survive to_text"
        );
        assert_eq!(parse("a,b\nc").unwrap().group_names(), ["g0", "g1"]);
        assert_eq!(
            parse("a,b\nc").unwrap().to_text(),
            "a,b\nc",
            "unnamed: unchanged"
        );
    }

    #[test]
    fn the_original_groups_keep_their_names() {
        let vocab = parse(&crate::synth::tags_txt()).unwrap();
        assert_eq!(vocab.group_names(), ["hair", "length", "eyes"]);
        let named = parse("[hair] a\nb\n[g1] c").unwrap();
        assert_eq!(
            named.group_names(),
            ["hair", "g1", "g1_2"],
            "names stay distinct"
        );
    }

    #[test]
    fn figures_per_group_carry_the_groups_names() {
        let vocab = parse(&crate::synth::tags_txt()).unwrap();
        assert_eq!(
            vocab.per_group(&[0.8061, 0.625, 0.2857]),
            "hair 0.806, length 0.625, eyes 0.286"
        );
        let named = parse("[skin_tone] a,b\nc,d").unwrap();
        assert_eq!(named.per_group(&[1.0, 0.5]), "skin_tone 1.000, g1 0.500");
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
            ("[a b] x", "tags.txt:1: group name [a b]", "space in a name"),
            ("[] x", "tags.txt:1: group name []", "empty name"),
            ("[a x", "tags.txt:1: a group name opens with [", "no ]"),
            (
                "[a] x\n[a] y",
                "tags.txt:2: group name [a] is used twice",
                "same name",
            ),
        ];
        for (text, expected, why) in cases {
            let message = parse(text).unwrap_err().to_string();
            assert!(message.contains(expected), "{why}: {message}");
        }
    }
}
