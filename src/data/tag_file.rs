//! The tag file that labels a folder's images (`data.tags_file`). It is UTF-8 text:
//!
//! ```text
//! # Blank lines and lines starting with '#' are ignored.
//! # First the vocabulary: one group per line, as in the seed layout's tags.txt; a group may be
//! # named by a leading [name] (lowercase letters, digits, _): its accuracy column is
//! # tag_acc_<name>; unnamed groups are g0, g1, ... by position.
//! vocab: [hair] blonde hair,red hair,blue hair
//! vocab: long hair,short hair
//! # Then one line per image, a CSV record: its path relative to the folder ('/' separators),
//! # then its tags (any number, from any group). A path with a comma is quoted, as
//! # spreadsheets export it; empty cells are no tag.
//! faces/0001.png,blonde hair,long hair
//! faces/0002.png
//! "faces/0003, copy.png",,red hair,
//! ```
//!
//! Image paths are relative to the folder (`data.path`), not to the tag file; `\` separators,
//! `.` and `..` components (a `..` may climb out of the folder if the path comes back in), an
//! absolute path inside the folder (also through a link to it) and names in another Unicode
//! normal form (macOS writes NFD) match the files on disk, so two spellings of one file are
//! one image, listed twice: a line error that names the first listing's line and quotes both
//! spellings, as are two paths to one file (a linked folder, a hard link). A path that ends
//! outside the folder is a line error. Fields separated by `;`, tabs or `|` are line errors
//! that show the line with commas (`separators`); Excel's first line `sep=,` is skipped.
//!
//! With a tag file the dataset is exactly the listed images, in file order; images in the folder
//! that are not listed are left out with one warning, and the vocabulary's tags that no listed
//! image carries are named in another.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::disk_names::{DiskNames, Found};
use super::line_errors::LineErrors;
use super::listing::{Item, Listing, file_id, relative};
use super::separators;
use super::vocab::Vocabulary;

/// The images of `dir` (`images`: every PNG/JPEG found under it) that `tags_file` lists, in
/// its order, with their tags. Warns once about images it leaves out and once about tags no
/// listed image carries. Errors: the file cannot be read, or its lines have problems (all of
/// them, each with its line number).
pub(super) fn label(
    dir: &Path,
    images: &[PathBuf],
    tags_file: &Path,
    warn: &mut dyn FnMut(String),
) -> anyhow::Result<Listing> {
    let text =
        crate::textfile::read(tags_file).context("cannot read the tag file ([data] tags_file)")?;
    let names = DiskNames::new(dir, images);
    let (vocab, items) = parse_tag_file(&text, tags_file, &names)?;
    let listed: HashSet<&str> = items.iter().map(|i| i.rel.as_str()).collect();
    let mut unlisted: Vec<(String, &PathBuf)> = images
        .iter()
        .map(|p| (relative(dir, p), p))
        .filter(|(rel, _)| !listed.contains(rel.as_str()))
        .collect();
    if !unlisted.is_empty() {
        // An image listed under another name (through a linked folder) is not left out, and
        // one left out is counted once, whatever names the folder gives it.
        let mut files: HashSet<(u64, u64)> =
            items.iter().filter_map(|i| file_id(&i.path)).collect();
        unlisted.retain(|(_, path)| file_id(path).is_none_or(|id| files.insert(id)));
    }
    if let Some((first, _)) = unlisted.first() {
        warn(format!(
            "{} images under {} are not listed in {} and are left out (first: {first})",
            unlisted.len(),
            dir.display(),
            tags_file.display()
        ));
    }
    warn_untagged(&vocab, &items, tags_file, warn);
    Ok(Listing {
        root: dir.to_path_buf(),
        vocab: Some(vocab),
        items,
    })
}

/// Tags shown by name in the warning about tags no image carries; the rest are counted.
const SHOWN_UNUSED: usize = 10;

/// One warning naming the vocabulary's tags that no listed image carries: a CGAN cannot learn
/// them, and samples asked for them (`sample --tags`) show nothing learnt.
fn warn_untagged(vocab: &Vocabulary, items: &[Item], file: &Path, warn: &mut dyn FnMut(String)) {
    if items.is_empty() {
        return;
    }
    let unused: Vec<&str> = vocab
        .tags()
        .enumerate()
        .filter(|&(k, _)| items.iter().all(|item| item.tags[k] == 0))
        .map(|(_, tag)| tag)
        .collect();
    if unused.is_empty() {
        return;
    }
    let shown: Vec<String> = unused
        .iter()
        .take(SHOWN_UNUSED)
        .map(|tag| format!("\"{tag}\""))
        .collect();
    let (n, one) = (unused.len(), unused.len() == 1);
    let (s, are, them) = if one {
        ("", "is", "it")
    } else {
        ("s", "are", "them")
    };
    let more = if n > SHOWN_UNUSED { ", ..." } else { "" };
    warn(format!(
        "{n} tag{s} of the vocabulary in {} {are} on no listed image ({}{more}): a CGAN cannot \
         learn {them}, and `sample --tags` with {them} shows nothing learnt; tag some images \
         with {them}, or drop {them} from the vocab: lines",
        file.display(),
        shown.join(", "),
    ));
}

/// The vocabulary and the listed images of a tag file. Every problem is reported with its line,
/// once: a problem that follows from one already reported (tags of a missing or broken
/// vocabulary, of a `vocab:` line out of place) is not reported again, and an unknown tag is
/// one problem however many lines use it.
fn parse_tag_file(
    text: &str,
    file: &Path,
    names: &DiskNames,
) -> anyhow::Result<(Vocabulary, Vec<Item>)> {
    let mut errors = LineErrors::new(file);
    let mut vocab = Vocabulary::default();
    let mut rows: Vec<(usize, &str, Vec<String>)> = Vec::new();
    // Tags unknown to a vocabulary line that has errors follow from those: not reported again.
    let mut vocab_broken = false;
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if rows.is_empty() && vocab.groups.is_empty() {
            match separators::spreadsheet_line(line) {
                Some(Ok(())) => continue,
                Some(Err(problem)) => {
                    errors.push(line_no, problem);
                    continue;
                }
                None => {}
            }
        }
        let keyword = line.split([':', ' ', '[']).next().unwrap_or_default();
        if keyword.eq_ignore_ascii_case("vocab") && !line.starts_with("vocab:") {
            errors.push(
                line_no,
                "write a vocabulary line as `vocab: tag,tag,...` (lower case, a colon)",
            );
            vocab_broken = true;
            continue;
        }
        if let Some(group) = line.strip_prefix("vocab:") {
            vocab_broken |= !vocab_line(&mut vocab, line_no, group, rows.is_empty(), &mut errors);
            continue;
        }
        match image_line(line) {
            Ok(cells) if cells.iter().all(String::is_empty) => {} // a spreadsheet's blank row
            Ok(cells) => rows.push((line_no, line, cells)),
            Err(problem) => errors.push(line_no, problem),
        }
    }
    if vocab.groups.is_empty() && !vocab_broken {
        errors.push(
            1,
            "no vocabulary: start the file with lines `vocab: tag,tag,...`",
        );
        vocab_broken = true;
    }
    // Each listed image's first line: relative path -> that line and the path as written there.
    let mut seen: HashMap<String, First> = HashMap::new();
    // The file behind each listed image, so that two spellings of one file (a linked folder,
    // a hard link) are one image listed twice: (device, inode) -> its first line.
    let mut files: HashMap<(u64, u64), First> = HashMap::new();
    let mut unknown = UnknownTags::default();
    let mut items = Vec::new();
    for (line_no, raw, cells) in &rows {
        let line_no = *line_no;
        let written = cells[0].as_str();
        let (rel, path, exists) = match names.find(written) {
            Found::Image(rel, path) => (rel, path, true),
            Found::Elsewhere(rel, path) => {
                let exists = path.is_file();
                (rel, path, exists)
            }
            Found::Outside(why) => {
                errors.push(line_no, why);
                continue;
            }
        };
        if rel.is_empty() {
            errors.push(
                line_no,
                "empty image path: expected relative/path.png,tag,...",
            );
        } else if let Some(first) = seen.get(&rel) {
            errors.push(line_no, listed_twice(written, &rel, first));
        } else {
            let here = First {
                line: line_no,
                written: written.to_string(),
                rel: rel.clone(),
            };
            seen.insert(rel.clone(), here.clone());
            if !exists {
                errors.push(line_no, not_found(raw, &rel, &path, file, names));
            } else if let Some(id) = file_id(&path) {
                match files.entry(id) {
                    Entry::Occupied(other) => {
                        let other = other.get();
                        errors.push(
                            line_no,
                            format_args!(
                                "image {} is listed twice: it is the file {} of line {} (a \
                                 link); list it once",
                                spelt(written, &rel),
                                spelt(&other.written, &other.rel),
                                other.line
                            ),
                        );
                    }
                    Entry::Vacant(slot) => {
                        slot.insert(here);
                    }
                }
            }
        }
        let mut hot = vec![0u8; vocab.len()];
        // Empty cells are no tag: spreadsheets export a row's unused cells as `,,`.
        for tag in cells[1..].iter().filter(|tag| !tag.is_empty()) {
            match vocab.index_of(tag) {
                Some(i) => hot[i] = 1,
                None if vocab_broken => {}
                None => match separators::joined_tags_hint(tag, &vocab) {
                    Some(hint) => errors.push(line_no, hint),
                    None => unknown.add(tag, line_no),
                },
            }
        }
        items.push(Item {
            rel,
            path,
            tags: hot,
        });
    }
    unknown.report(&mut errors);
    errors.finish()?;
    Ok((vocab, items))
}

/// Where an image was first listed: its line, the path as that line writes it, and the relative
/// path it names.
#[derive(Clone)]
struct First {
    line: usize,
    written: String,
    rel: String,
}

/// An image path as a line writes it, with the relative path it names where that differs
/// (`sub/../5.png (that is 5.png)`).
fn spelt(written: &str, rel: &str) -> String {
    if written == rel {
        written.to_string()
    } else {
        format!("{written} (that is {rel})")
    }
}

/// The problem with a line that names (as `written`) the image `rel` that `first` listed.
fn listed_twice(written: &str, rel: &str, first: &First) -> String {
    let how = if first.written == written {
        String::new()
    } else {
        format!(" as {}", first.written)
    };
    format!(
        "image {} is listed twice: line {} lists it{how}; list it once",
        spelt(written, rel),
        first.line
    )
}

/// The cells of an image line, a CSV record (RFC 4180 quoting: `"a, b.png",tag` names the
/// file `a, b.png`; `""` in a quoted cell is one `"`), each trimmed; at least one cell.
fn image_line(line: &str) -> Result<Vec<String>, &'static str> {
    if has_open_quote(line) {
        return Err("a quoted cell has no closing \": write \"path, with comma.png\",tag,...");
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_reader(line.as_bytes());
    let mut record = csv::StringRecord::new();
    // One line of valid UTF-8 with its quotes closed: the reader cannot fail.
    reader
        .read_record(&mut record)
        .map_err(|_| "not a CSV record")?;
    Ok(record.iter().map(str::to_string).collect())
}

/// Whether a cell of `line` opens a quote (`"` its first character, as the CSV reader reads
/// it) that the line does not close: the reader would take the rest of the line as that cell.
fn has_open_quote(line: &str) -> bool {
    let mut quoted = false;
    let mut cell_start = true;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (false, '"') if cell_start => quoted = true,
            (false, ',') => cell_start = true,
            (false, _) => cell_start = false,
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
            }
            (true, '"') => {
                quoted = false;
                cell_start = false;
            }
            (true, _) => {}
        }
    }
    quoted
}

/// Adds a `vocab:` line's group to `vocab`; false when the group itself has a problem (then a
/// tag unknown to the vocabulary may be one of it). A line after the first image line is a
/// problem, but its tags are still learnt, so the lines that use them do not each report an
/// unknown tag.
fn vocab_line(
    vocab: &mut Vocabulary,
    line_no: usize,
    group: &str,
    before_images: bool,
    errors: &mut LineErrors,
) -> bool {
    // Empty cells are no tag: a spreadsheet pads a row to the width of the longest.
    let cells: Vec<&str> = group.split(',').filter(|c| !c.trim().is_empty()).collect();
    let group = cells.join(",");
    if group.trim().is_empty() {
        errors.push(
            line_no,
            "vocab: line with no tags: list the group's tags after it, comma-separated",
        );
        return false;
    }
    if !before_images {
        errors.push(
            line_no,
            "vocab: line after the first image line; move it to the top",
        );
    }
    if let Some(hint) = separators::vocab_hint(&cells) {
        errors.push(line_no, hint);
        return false;
    }
    let before = errors.len();
    vocab.add_group(line_no, &group, errors);
    errors.len() == before
}

/// Why a listed image is not there, with what the folder does hold when the tag file was
/// written elsewhere: a name differing only in letter case, or a path relative to the tag
/// file's folder instead of the images' folder.
fn not_found(raw: &str, rel: &str, path: &Path, file: &Path, names: &DiskNames) -> String {
    let mut text = format!("image {} not found", path.display());
    if let Some(hint) = separators::image_line_hint(raw, names) {
        text.push_str(&format!("; {hint}"));
    } else if let Some(other) = names.differing_in_case(rel) {
        text.push_str(&format!(
            "; the folder has {other}, which differs only in letter case: write that"
        ));
    } else if let Some(beside) = file.parent().map(|p| p.join(rel))
        && beside.is_file()
    {
        text.push_str(&format!(
            "; {} is there, but image paths in a tag file are relative to data.path",
            beside.display()
        ));
    }
    text
}

/// Tags outside the vocabulary, each reported once at its first line with the count of the
/// others.
#[derive(Default)]
struct UnknownTags<'a> {
    /// Tag -> (first line, lines).
    seen: HashMap<&'a str, (usize, usize)>,
    order: Vec<&'a str>,
}

impl<'a> UnknownTags<'a> {
    fn add(&mut self, tag: &'a str, line_no: usize) {
        let entry = self.seen.entry(tag).or_insert_with(|| {
            self.order.push(tag);
            (line_no, 0)
        });
        entry.1 += 1;
    }

    fn report(&self, errors: &mut LineErrors) {
        for tag in &self.order {
            let (first, lines) = self.seen[tag];
            let also = match lines {
                1 => String::new(),
                2 => " (and on 1 more line)".to_string(),
                n => format!(" (and on {} more lines)", n - 1),
            };
            errors.push(
                first,
                format_args!("unknown tag \"{tag}\": not in the vocab: lines of this file{also}"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::super::fixtures;
    use super::super::folder::list;
    use super::*;

    fn no_warnings(message: String) {
        panic!("unexpected warning: {message}");
    }
    #[test]
    fn paths_from_another_system_name_the_files_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["caf\u{e9}/1.png", "faces/2.png", "Face3.png"] {
            fixtures::write_png(&dir.path().join(name), 4, 4);
        }
        let tags = dir.path().join("labels.csv");
        let text = "vocab: [x] caf\u{e9}\ncafe\u{301}/1.png,cafe\u{301}\nfaces\\2.png\n";
        fs::write(&tags, format!("{text}Face3.png\n")).unwrap();
        let listing = list(dir.path(), Some(&tags), &mut no_warnings).unwrap();
        let rows: Vec<(&str, &[u8])> = listing
            .items
            .iter()
            .map(|i| (i.rel.as_str(), i.tags.as_slice()))
            .collect();
        assert_eq!(
            rows,
            [
                ("caf\u{e9}/1.png", &[1][..]),
                ("faces/2.png", &[0]),
                ("Face3.png", &[0])
            ],
            "NFD path and tag, Windows separator: the names on disk"
        );
        fs::write(&tags, "vocab: x\nface3.png\n").unwrap();
        let message = list(dir.path(), Some(&tags), &mut |_| {})
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("the folder has Face3.png, which differs only in letter case"),
            "{message}"
        );
    }
    #[test]
    fn a_problem_that_follows_from_another_is_not_reported_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut listed = String::new();
        for k in 0..30 {
            fixtures::write_png(&dir.path().join(format!("{k}.png")), 4, 4);
            listed.push_str(&format!("{k}.png,red,long\n"));
        }
        let tags = dir.path().join("labels.csv");
        let rows = [
            (
                listed.clone(),
                "labels.csv:1: no vocabulary",
                "no vocab: line",
            ),
            (
                format!(
                    "vocab: red\n0.png\nvocab: long\n{}",
                    listed.split_once('\n').unwrap().1
                ),
                "labels.csv:3: vocab: line after",
                "a late vocab: line's tags are known",
            ),
            (
                format!("vocab: red\n{listed}"),
                "labels.csv:2: unknown tag \"long\": not in the vocab: lines of this file (and on 29 more lines)",
                "one unknown tag on every line",
            ),
        ];
        for (text, want, why) in rows {
            fs::write(&tags, text).unwrap();
            let message = list(dir.path(), Some(&tags), &mut |_| {})
                .unwrap_err()
                .to_string();
            assert!(message.starts_with("1 problem in"), "{why}: {message}");
            assert!(message.contains(want), "{why}: {message}");
        }
    }
    #[test]
    fn tag_file_labels_listed_images() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["a.png", "b/c.png", "extra.png"] {
            fixtures::write_png(&dir.path().join(name), 4, 4);
        }
        let tags = dir.path().join("labels.csv");
        fs::write(
            &tags,
            "# faces\nvocab: [colour] red,blue\nvocab: long\n\nb/c.png,long,blue\na.png\n",
        )
        .unwrap();
        let mut warnings = Vec::new();
        let listing = list(dir.path(), Some(&tags), &mut |w| warnings.push(w)).unwrap();
        let rows: Vec<(&str, &[u8])> = listing
            .items
            .iter()
            .map(|i| (i.rel.as_str(), i.tags.as_slice()))
            .collect();
        assert_eq!(rows, [("b/c.png", &[0, 1, 1][..]), ("a.png", &[0, 0, 0])]);
        let vocab = listing.vocab.unwrap();
        assert_eq!(vocab.group_names(), ["colour", "g1"]);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(
            warnings[0].contains("1 images") && warnings[0].contains("extra.png"),
            "{warnings:?}"
        );
        assert!(
            warnings[1].starts_with("1 tag of the vocabulary") && warnings[1].contains("(\"red\")"),
            "{warnings:?}"
        );
    }
    #[test]
    fn paths_written_with_dot_components_name_the_listed_image() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["a.png", "b/c.png"] {
            fixtures::write_png(&dir.path().join(name), 4, 4);
        }
        let tags = dir.path().join("labels.csv");
        fs::write(&tags, "vocab: red,blue\n.//a.png,red\nb/./c.png,blue\n").unwrap();
        let listing = list(dir.path(), Some(&tags), &mut no_warnings).unwrap();
        let rels: Vec<&str> = listing.items.iter().map(|i| i.rel.as_str()).collect();
        assert_eq!(
            rels,
            ["a.png", "b/c.png"],
            "the names the folder listing gives"
        );
    }
    /// A folder of `names` (PNGs) with `text` as its tag file: the listing and the warnings.
    fn list_labelled(
        names: &[&str],
        text: &str,
    ) -> (tempfile::TempDir, anyhow::Result<Listing>, Vec<String>) {
        let dir = tempfile::tempdir().unwrap();
        for name in names {
            fixtures::write_png(&dir.path().join("imgs").join(name), 4, 4);
        }
        let tags = dir.path().join("labels.csv");
        let root = dir.path().join("imgs");
        fs::write(&tags, text.replace("{root}", &root.display().to_string())).unwrap();
        let mut warnings = Vec::new();
        let listing = list(&root, Some(&tags), &mut |w| warnings.push(w));
        (dir, listing, warnings)
    }
    #[test]
    fn an_absolute_path_inside_the_folder_is_its_relative_path() {
        let names = ["a/b/1.png", "a/b/2.png", "c.png"];
        let (_dir, listing, warnings) = list_labelled(
            &names,
            "vocab: red\n{root}/a/b/1.png,red\n{root}/a/./b/../b/2.png\na/../../imgs/c.png\n",
        );
        let rels: Vec<String> = listing.unwrap().items.into_iter().map(|i| i.rel).collect();
        assert_eq!(
            rels,
            ["a/b/1.png", "a/b/2.png", "c.png"],
            "absolute, and a .. out of the folder and back in: the names the listing gives"
        );
        assert!(warnings.is_empty(), "every image is listed: {warnings:?}");
        let rows = [
            (
                "vocab: red\n{root}/a/b/1.png,red\na/b/1.png\n",
                "labels.csv:3: image a/b/1.png is listed twice: line 2 lists it as \
                 {root}/a/b/1.png; list it once",
                "absolute, then relative",
            ),
            (
                "vocab: red\na/x/../b/1.png,red\n./a//b/1.png\n",
                "labels.csv:3: image ./a//b/1.png (that is a/b/1.png) is listed twice: line 2 \
                 lists it as a/x/../b/1.png; list it once",
                ".. inside the folder",
            ),
            (
                "vocab: red\n{root}/../elsewhere/1.png,red\n",
                "labels.csv:2: image path {root}/../elsewhere/1.png is outside data.path",
                "absolute, outside the folder",
            ),
            (
                "vocab: red\nc.png,red\n../imgs/c.png\n",
                "labels.csv:3: image ../imgs/c.png (that is c.png) is listed twice: line 2 \
                 lists it as c.png; list it once",
                "out of the folder and back in: the image written directly",
            ),
            (
                "vocab: red\n../elsewhere/c.png,red\n",
                "labels.csv:2: image path ../elsewhere/c.png leads out of data.path",
                "relative to the tag file's folder, ending outside the folder",
            ),
            (
                "vocab: red\na/../../imgs2/c.png,red\n",
                "labels.csv:2: image path a/../../imgs2/c.png leads out of data.path",
                "out of the folder into a sibling whose name starts with the folder's",
            ),
        ];
        for (text, want, why) in rows {
            let (dir, listing, _) = list_labelled(&names, text);
            let root = dir.path().join("imgs").display().to_string();
            let message = listing.unwrap_err().to_string();
            assert!(message.starts_with("1 problem in"), "{why}: {message}");
            assert!(
                message.contains(&want.replace("{root}", &root)),
                "{why}: {message}"
            );
        }
    }
    #[test]
    fn a_second_listing_names_the_first_line_and_both_spellings() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("imgs");
        fixtures::write_png(&root.join("5.png"), 4, 4);
        fixtures::write_png(&root.join("sub/6.png"), 4, 4);
        std::os::unix::fs::symlink(root.join("5.png"), root.join("link5.png")).unwrap();
        fs::hard_link(root.join("5.png"), root.join("hard5.png")).unwrap();
        let tags = dir.path().join("labels.csv");
        let rows = [
            (
                "5.png\n5.png\n",
                "image 5.png is listed twice: line 2 lists it; list it once",
                "the same spelling",
            ),
            (
                "5.png\nsub/../5.png\n",
                "image sub/../5.png (that is 5.png) is listed twice: line 2 lists it as 5.png; \
                 list it once",
                ".. inside the folder",
            ),
            (
                "./sub/./../5.png\n5.png\n",
                "image 5.png is listed twice: line 2 lists it as ./sub/./../5.png; list it once",
                "the plain spelling second",
            ),
            (
                "5.png\n{root}/5.png\n",
                "image {root}/5.png (that is 5.png) is listed twice: line 2 lists it as 5.png; \
                 list it once",
                "an absolute path",
            ),
            (
                "5.png\n../imgs/5.png\n",
                "image ../imgs/5.png (that is 5.png) is listed twice: line 2 lists it as 5.png; \
                 list it once",
                "out of the folder and back in",
            ),
            (
                "5.png\nlink5.png\n",
                "image link5.png is listed twice: it is the file 5.png of line 2 (a link); list \
                 it once",
                "a symbolic link",
            ),
            (
                "5.png\nhard5.png\n",
                "image hard5.png is listed twice: it is the file 5.png of line 2 (a link)",
                "a hard link",
            ),
            (
                "sub/../5.png\n./link5.png\n",
                "image ./link5.png (that is link5.png) is listed twice: it is the file \
                 sub/../5.png (that is 5.png) of line 2 (a link); list it once",
                "a link, both lines written otherwise",
            ),
        ];
        let root_text = root.display().to_string();
        for (lines, want, why) in rows {
            let text = format!("vocab: red\n{}", lines.replace("{root}", &root_text));
            fs::write(&tags, text).unwrap();
            let message = list(&root, Some(&tags), &mut |_| {})
                .unwrap_err()
                .to_string();
            let want = format!("labels.csv:3: {}", want.replace("{root}", &root_text));
            assert!(message.starts_with("1 problem in"), "{why}: {message}");
            assert!(message.contains(&want), "{why}: {message}");
        }
    }
    #[test]
    fn one_file_under_two_names_is_one_image() {
        let dir = tempfile::tempdir().unwrap();
        fixtures::write_png(&dir.path().join("imgs/real/1.png"), 4, 4);
        fixtures::write_png(&dir.path().join("imgs/real/2.png"), 4, 4);
        let root = dir.path().join("imgs");
        std::os::unix::fs::symlink(root.join("real"), root.join("same")).unwrap();
        let tags = dir.path().join("labels.csv");
        let mut warnings = Vec::new();
        fs::write(&tags, "vocab: red\nreal/1.png,red\nreal/2.png\n").unwrap();
        let listing = list(&root, Some(&tags), &mut |w| warnings.push(w)).unwrap();
        assert_eq!(listing.items.len(), 2);
        assert!(
            warnings.is_empty(),
            "same/1.png and same/2.png are listed as real/: not left out: {warnings:?}"
        );
        fs::write(&tags, "vocab: red\nreal/1.png,red\n").unwrap();
        warnings.clear();
        list(&root, Some(&tags), &mut |w| warnings.push(w)).unwrap();
        assert!(
            warnings[0].starts_with("1 images under")
                && warnings[0].contains("(first: real/2.png)"),
            "real/2.png left out once, not again as same/2.png: {warnings:?}"
        );
        fs::write(&tags, "vocab: red\nreal/1.png,red\nsame/1.png\n").unwrap();
        let message = list(&root, Some(&tags), &mut |_| {})
            .unwrap_err()
            .to_string();
        assert!(
            message.contains(
                "labels.csv:3: image same/1.png is listed twice: it is the file real/1.png of line 2"
            ),
            "{message}"
        );
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(&root, outside.path().join("alias")).unwrap();
        let written = outside.path().join("alias/real/1.png");
        fs::write(
            &tags,
            format!("vocab: red\n{},red\nreal/2.png\n", written.display()),
        )
        .unwrap();
        let listing = list(&root, Some(&tags), &mut no_warnings).unwrap();
        let rels: Vec<&str> = listing.items.iter().map(|i| i.rel.as_str()).collect();
        assert_eq!(
            rels,
            ["real/1.png", "real/2.png"],
            "written through a link to the folder"
        );
    }
    #[test]
    fn tags_no_image_carries_are_named_in_one_warning() {
        let (_dir, listing, warnings) = list_labelled(
            &["a.png", "b.png"],
            "vocab: [hair] red hair,blue hair,green hair\nvocab: long,short\na.png,red hair,long\nb.png,long\n",
        );
        assert!(listing.is_ok());
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].starts_with("3 tags of the vocabulary in")
                && warnings[0].contains(
                    "are on no listed image (\"blue hair\", \"green hair\", \"short\"): a CGAN \
                     cannot learn them, and `sample --tags` with them shows nothing learnt"
                ),
            "{warnings:?}"
        );
    }
    #[test]
    fn image_lines_are_csv_records() {
        let names = ["a/photo, copy.png", "say \"hi\".png", "#1.png", "b.png"];
        let text = "vocab: [hair] blonde hair,purple hair,\nvocab: purple eyes,,\n\
                    \"a/photo, copy.png\",purple hair\n\
                    \"say \"\"hi\"\".png\",,blonde hair,purple eyes,\n\
                    \"#1.png\" ,\"purple eyes\"\n,,,\nb.png,,,\n";
        let (_dir, listing, warnings) = list_labelled(&names, text);
        let rows: Vec<(String, Vec<u8>)> = listing
            .unwrap()
            .items
            .into_iter()
            .map(|i| (i.rel, i.tags))
            .collect();
        let want = [
            ("a/photo, copy.png", vec![0, 1, 0]),
            ("say \"hi\".png", vec![1, 0, 1]),
            ("#1.png", vec![0, 0, 1]),
            ("b.png", vec![0, 0, 0]),
        ];
        let want: Vec<(String, Vec<u8>)> = want
            .into_iter()
            .map(|(rel, tags)| (rel.to_string(), tags))
            .collect();
        assert_eq!(
            rows, want,
            "quoted cells, \"\" in a quoted cell, empty cells"
        );
        assert!(warnings.is_empty(), "{warnings:?}");
        let (_dir, listing, _) = list_labelled(
            &names,
            "vocab: red\n\"a/photo, copy.png,red\nb.png,,red,,\n",
        );
        let message = listing.unwrap_err().to_string();
        assert!(message.starts_with("1 problem in"), "{message}");
        assert!(
            message.contains("labels.csv:2: a quoted cell has no closing \""),
            "{message}"
        );
    }
    #[test]
    fn a_mistyped_vocab_keyword_is_one_problem() {
        let dir = tempfile::tempdir().unwrap();
        fixtures::write_png(&dir.path().join("a.png"), 4, 4);
        for (first, why) in [
            ("VOCAB: [colour] red,blue", "upper case"),
            ("vocab [colour] red,blue", "no colon"),
        ] {
            let tags = dir.path().join("labels.csv");
            fs::write(&tags, format!("{first}\na.png,red\n")).unwrap();
            let e = list(dir.path(), Some(&tags), &mut no_warnings).unwrap_err();
            let text = format!("{e:#}");
            assert!(text.contains("1 problem in"), "{why}: {text}");
            assert!(
                text.contains("labels.csv:1: write a vocabulary line as `vocab:"),
                "{why}: {text}"
            );
        }
    }
    #[test]
    fn tag_file_problems_name_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        fixtures::write_png(&dir.path().join("a.png"), 4, 4);
        let tags = dir.path().join("labels.csv");
        let text = "vocab: red\na.png,green\nmissing.png\na.png\nvocab: late\n";
        fs::write(&tags, text).unwrap();
        let message = list(dir.path(), Some(&tags), &mut no_warnings)
            .unwrap_err()
            .to_string();
        for expected in [
            "labels.csv:2: unknown tag \"green\"",
            "labels.csv:3: image",
            "labels.csv:4: image a.png is listed twice",
            "labels.csv:5: vocab: line after",
        ] {
            assert!(message.contains(expected), "{expected}: {message}");
        }
    }
    #[test]
    fn fields_separated_by_semicolons_or_tabs_are_told_to_use_commas() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["a.png", "photo, copy.png", "x;y.png"] {
            fixtures::write_png(&dir.path().join(name), 4, 4);
        }
        let tags = dir.path().join("labels.csv");
        let rows: &[(&str, &[&str], &str)] = &[
            (
                "vocab: red;blue\na.png;red\n",
                &[
                    "labels.csv:1: vocab: tags are separated by commas, not `;`: write `vocab: red,blue`",
                    "labels.csv:2: image",
                    "a.png is an image: a tag file's fields are separated by commas (CSV), not `;`: write a.png,red",
                ],
                "semicolons, as a spreadsheet in a comma-decimal locale exports",
            ),
            (
                "vocab: red\tblue\na.png\tred\n",
                &[
                    "labels.csv:1: vocab: tags are separated by commas, not tabs",
                    "not tabs: write a.png,red",
                ],
                "tabs",
            ),
            (
                "vocab: red,blue\n\"photo, copy.png\";red\nphoto, copy.png;blue\n",
                &[
                    "labels.csv:2: image",
                    "labels.csv:3: image",
                    "write \"photo, copy.png\",red",
                    "write \"photo, copy.png\",blue",
                ],
                "a path with a comma, quoted or not: the rewrite quotes it",
            ),
            (
                "vocab: red,blue\nx;y.png;red\nnone.png;blue\n",
                &[
                    "x;y.png is an image",
                    "write x;y.png,red",
                    "labels.csv:3: image",
                    "if `;` separates its fields, write none.png,blue",
                ],
                "a name that holds the separator; a missing image",
            ),
            (
                "sep=;\nvocab: red,blue\na.png;red\n",
                &[
                    "labels.csv:1: `sep=;` is a spreadsheet's separator line: delete it",
                    "write a.png,red",
                ],
                "Excel's separator line",
            ),
            (
                "vocab: red,blue\na.png,red;blue\n",
                &[
                    "labels.csv:2: \"red;blue\" is tags joined by `;`: separate them with commas, red,blue",
                ],
                "tags joined in a comma line",
            ),
        ];
        for (text, expected, why) in rows {
            fs::write(&tags, text).unwrap();
            let message = list(dir.path(), Some(&tags), &mut no_warnings)
                .unwrap_err()
                .to_string();
            for e in *expected {
                assert!(message.contains(e), "{why}: {e}: {message}");
            }
            assert!(
                !message.contains("after the first image line"),
                "{why}: {message}"
            );
        }
        // `sep=,` says what the file already does: skipped.
        fs::write(&tags, "sep=,\nvocab: red,blue\na.png,red\n").unwrap();
        let listed = list(dir.path(), Some(&tags), &mut |_| {});
        assert!(listed.is_ok(), "{:#}", listed.err().unwrap());
    }

    #[test]
    fn tag_file_with_bom_and_crlf_reads_like_plain_text() {
        let dir = tempfile::tempdir().unwrap();
        fixtures::write_png(&dir.path().join("a.png"), 4, 4);
        fixtures::write_png(&dir.path().join("b.png"), 4, 4);
        let tags = dir.path().join("labels.csv");
        fs::write(
            &tags,
            "\u{feff}vocab: blonde hair,red\r\nvocab: long\r\na.png,blonde hair,long\r\nb.png,red\r\n",
        )
        .unwrap();
        let listing = list(dir.path(), Some(&tags), &mut no_warnings).unwrap();
        assert_eq!(listing.items[0].tags, [1, 0, 1]);
        fs::write(&tags, b"vocab: blond\xe9\na.png\n").unwrap();
        let message = format!(
            "{:#}",
            list(dir.path(), Some(&tags), &mut no_warnings).unwrap_err()
        );
        assert!(message.contains("labels.csv:1:13: not UTF-8"), "{message}");
    }
}
