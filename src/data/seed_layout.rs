//! The original dataset's layout: `tags.txt`, `filtered.txt` and `selected/<k>.jpg` (or `.png`).

use std::path::{Path, PathBuf};

use super::line_errors::LineErrors;
use super::listing::{Item, Listing};
use super::vocab::Vocabulary;

const LAYOUT: &str = "a seed folder holds tags.txt, filtered.txt and selected/<k>.jpg";

/// Lists a seed folder; every problem of `filtered.txt` (missing image, unknown tag, malformed
/// line) is reported at once with `filtered.txt:LINE` (line 1 describes image 0).
pub(super) fn list(dir: &Path) -> anyhow::Result<Listing> {
    let tags_file = dir.join("tags.txt");
    let filtered_file = dir.join("filtered.txt");
    let selected = dir.join("selected");
    let read = |file: &Path| {
        if !file.is_file() {
            anyhow::bail!("cannot read {}: no such file ({LAYOUT})", file.display());
        }
        crate::textfile::read(file)
    };
    let vocab = Vocabulary::parse(&read(&tags_file)?, &tags_file)?;
    let filtered = read(&filtered_file)?;
    anyhow::ensure!(
        selected.is_dir(),
        "{} is not a folder ({LAYOUT})",
        selected.display()
    );
    let items = parse_filtered(&filtered, &filtered_file, &vocab, |k| {
        let jpg = selected.join(format!("{k}.jpg"));
        let png = selected.join(format!("{k}.png"));
        [jpg, png].into_iter().find(|p| p.is_file())
    })?;
    let items = items
        .into_iter()
        .map(|(path, tags)| Item {
            rel: super::listing::relative(dir, &path),
            path,
            tags,
        })
        .collect();
    Ok(Listing {
        root: dir.to_path_buf(),
        vocab: Some(vocab),
        items,
    })
}

/// Parses `filtered.txt` lines `ORIGINAL_ID,tag,...`; `image_of(k)` finds image k's file.
fn parse_filtered(
    text: &str,
    file: &Path,
    vocab: &Vocabulary,
    image_of: impl Fn(usize) -> Option<PathBuf>,
) -> anyhow::Result<Vec<(PathBuf, Vec<u8>)>> {
    let mut errors = LineErrors::new(file);
    let mut items = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    // Trailing blank lines are an editor artefact, not images.
    let used = lines
        .iter()
        .rposition(|l| !l.trim().is_empty())
        .map_or(0, |i| i + 1);
    for (k, line) in lines[..used].iter().enumerate() {
        let line_no = k + 1;
        let mut fields = line.split(',');
        let id = fields.next().unwrap_or_default().trim();
        if id.is_empty() {
            errors.push(line_no, "empty id: expected ORIGINAL_ID,tag,...");
        } else if !id.bytes().all(|b| b.is_ascii_digit()) {
            errors.push(
                line_no,
                format_args!("id \"{id}\" is not a number: expected ORIGINAL_ID,tag,..."),
            );
        }
        let mut tags = vec![0u8; vocab.len()];
        for tag in fields.map(str::trim) {
            if tag.is_empty() {
                errors.push(line_no, "empty tag (a stray comma?)");
            } else if let Some(i) = vocab.index_of(tag) {
                tags[i] = 1;
            } else {
                errors.push(
                    line_no,
                    format_args!(
                        "unknown tag \"{tag}\": not in the vocabulary {}; add it there or fix the tag",
                        file.with_file_name("tags.txt").display()
                    ),
                );
            }
        }
        match image_of(k) {
            Some(path) => items.push((path, tags)),
            None => errors.push(
                line_no,
                format_args!(
                    "image {k} not found: neither selected/{k}.jpg nor selected/{k}.png exists"
                ),
            ),
        }
    }
    errors.finish()?;
    Ok(items)
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::super::fixtures;
    use super::*;

    fn vocab() -> Vocabulary {
        Vocabulary::parse(
            "red hair,blue hair\nlong hair\nred eyes",
            Path::new("tags.txt"),
        )
        .unwrap()
    }

    fn parse(text: &str) -> anyhow::Result<Vec<(PathBuf, Vec<u8>)>> {
        parse_filtered(text, Path::new("d/filtered.txt"), &vocab(), |k| {
            (k < 3).then(|| PathBuf::from(format!("{k}.jpg")))
        })
    }

    #[test]
    fn tags_become_multi_hot_vectors() {
        let items = parse("10,red hair,blue hair\n11\n12, long hair ,red eyes\n\n").unwrap();
        let tags: Vec<&[u8]> = items.iter().map(|(_, t)| t.as_slice()).collect();
        assert_eq!(tags, [&[1, 1, 0, 0][..], &[0, 0, 0, 0], &[0, 0, 1, 1]]);
        assert_eq!(items[2].0, PathBuf::from("2.jpg"));
    }

    #[test]
    fn each_problem_names_file_and_line() {
        let cases = [
            (
                "1,red hair\n2,green hair",
                "d/filtered.txt:2: unknown tag \"green hair\": not in the vocabulary d/tags.txt",
                "unknown tag",
            ),
            (",red hair", "d/filtered.txt:1: empty id", "empty id"),
            (
                "x1,red hair",
                "d/filtered.txt:1: id \"x1\" is not a number",
                "non-numeric id",
            ),
            (
                "1,red hair,",
                "d/filtered.txt:1: empty tag",
                "trailing comma",
            ),
            (
                "1,red hair;junk",
                "d/filtered.txt:1: unknown tag \"red hair;junk\"",
                "trailing garbage",
            ),
            ("1\n\n3", "d/filtered.txt:2: empty id", "blank line inside"),
            (
                "1\n2\n3\n4",
                "d/filtered.txt:4: image 3 not found: neither selected/3.jpg nor selected/3.png",
                "missing image",
            ),
        ];
        for (text, expected, why) in cases {
            let message = parse(text).unwrap_err().to_string();
            assert!(message.contains(expected), "{why}: {message}");
        }
    }

    #[test]
    fn all_problems_are_reported_together() {
        let message = parse("x,red hair\n2,pink hair\n3\n4")
            .unwrap_err()
            .to_string();
        assert!(
            message.starts_with("3 problems in d/filtered.txt:"),
            "{message}"
        );
        for line in ["filtered.txt:1:", "filtered.txt:2:", "filtered.txt:4:"] {
            assert!(message.contains(line), "{line}: {message}");
        }
    }

    #[test]
    fn lists_a_seed_folder_with_png_fallback() {
        let dir = tempfile::tempdir().unwrap();
        fixtures::seed_folder(dir.path(), &["7,red hair", "8,long hair,red eyes"]);
        fs::remove_file(dir.path().join("selected/1.jpg")).unwrap();
        fixtures::write_png(&dir.path().join("selected/1.png"), 8, 8);
        let listing = list(dir.path()).unwrap();
        let rels: Vec<&str> = listing.items.iter().map(|i| i.rel.as_str()).collect();
        assert_eq!(rels, ["selected/0.jpg", "selected/1.png"]);
        assert_eq!(listing.items[1].tags, [0, 0, 1, 1]);
    }

    #[test]
    fn spreadsheet_saved_files_with_bom_and_crlf_read_like_plain_text() {
        let dir = tempfile::tempdir().unwrap();
        fixtures::seed_folder(dir.path(), &["1000,red hair", "7,long hair,red eyes"]);
        let bom_crlf = |text: &str| format!("\u{feff}{}", text.replace('\n', "\r\n"));
        fs::write(dir.path().join("tags.txt"), bom_crlf(fixtures::TAGS)).unwrap();
        let filtered = "1000,red hair\n7,long hair,red eyes\n";
        fs::write(dir.path().join("filtered.txt"), bom_crlf(filtered)).unwrap();
        let listing = list(dir.path()).unwrap();
        assert_eq!(listing.vocab.unwrap().index_of("red hair"), Some(0));
        let tags: Vec<&[u8]> = listing.items.iter().map(|i| i.tags.as_slice()).collect();
        assert_eq!(tags, [&[1, 0, 0, 0][..], &[0, 0, 1, 1]]);
        fs::write(
            dir.path().join("filtered.txt"),
            b"1000,red hair\n7,r\xf6d\n",
        )
        .unwrap();
        let message = format!("{:#}", list(dir.path()).unwrap_err());
        assert!(message.contains("filtered.txt:2:4: not UTF-8"), "{message}");
    }

    #[test]
    fn missing_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        fixtures::seed_folder(dir.path(), &["7,red hair"]);
        fs::remove_file(dir.path().join("selected/0.jpg")).unwrap();
        let message = list(dir.path()).unwrap_err().to_string();
        assert!(
            message.contains("filtered.txt:1: image 0 not found"),
            "{message}"
        );
        fs::remove_file(dir.path().join("filtered.txt")).unwrap();
        let message = format!("{:#}", list(dir.path()).unwrap_err());
        assert!(
            message.contains("cannot read") && message.contains("filtered.txt"),
            "{message}"
        );
    }
}
