//! A folder tree of PNG/JPEG images, unlabelled or labelled by a tag file (`tag_file`).
//!
//! Images are found recursively (`.png`, `.jpg`, `.jpeg`, any case) and ordered by path;
//! symbolic links are followed, hidden files and folders and OS leftovers skipped. Without a
//! tag file, files that are not PNG/JPEG (other image formats, text) are left out with one
//! warning that counts them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use walkdir::WalkDir;

use super::listing::{Item, Listing, file_id, relative};
use super::tag_file;

pub(super) fn list(
    dir: &Path,
    tags_file: Option<&Path>,
    warn: &mut dyn FnMut(String),
) -> anyhow::Result<Listing> {
    let (images, others) = find_images(dir, warn)?;
    let Some(tags_file) = tags_file else {
        warn_unusable(dir, &others, warn);
        let items = distinct_files(dir, images, warn)
            .into_iter()
            .map(|path| Item {
                rel: relative(dir, &path),
                path,
                tags: Vec::new(),
            })
            .collect();
        return Ok(Listing {
            root: dir.to_path_buf(),
            vocab: None,
            items,
        });
    };
    tag_file::label(dir, &images, tags_file, warn)
}

/// PNG/JPEG files under `dir`, sorted by path so the order is the same on every machine, and
/// the images in other formats (which this loader does not read), relative to `dir`.
/// Symbolic links are followed (a link to an image is an image); links that loop or lead
/// nowhere, and folders that cannot be read, are left out with one warning that counts them.
/// Files that operating systems and NAS boxes leave beside images, and hidden files, are
/// skipped quietly (in neither list).
fn find_images(
    dir: &Path,
    warn: &mut dyn FnMut(String),
) -> anyhow::Result<(Vec<PathBuf>, Vec<String>)> {
    anyhow::ensure!(
        dir.is_dir(),
        "image folder {} not found; check [data] path",
        dir.display()
    );
    let mut images = Vec::new();
    let mut others = Vec::new();
    let mut unreadable: Vec<String> = Vec::new();
    let walk = WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !is_system_clutter(e));
    for entry in walk {
        match entry {
            Ok(entry) if entry.file_type().is_file() && is_image(entry.path()) => {
                images.push(entry.into_path())
            }
            Ok(entry)
                if entry.file_type().is_file()
                    && is_other_image(entry.path())
                    && !is_hidden(&entry) =>
            {
                others.push(relative(dir, entry.path()))
            }
            Ok(_) => {}
            Err(e) if e.depth() == 0 => {
                return Err(e)
                    .with_context(|| format!("cannot list the images under {}", dir.display()));
            }
            Err(e) => unreadable.push(describe_walk_error(&e)),
        }
    }
    if !unreadable.is_empty() {
        let shown: Vec<&str> = unreadable.iter().take(5).map(String::as_str).collect();
        warn(format!(
            "{} entr{} under {} left out: {}{}",
            unreadable.len(),
            if unreadable.len() == 1 { "y" } else { "ies" },
            dir.display(),
            shown.join("; "),
            if unreadable.len() > 5 { "; ..." } else { "" }
        ));
    }
    Ok((images, others))
}

/// `images` (sorted by path) with each file once, at its first path: a linked folder or file,
/// or a hard link, inside the folder would otherwise train one image twice, or hold out a copy
/// of a training image. One warning counts the others and names the first.
fn distinct_files(dir: &Path, images: Vec<PathBuf>, warn: &mut dyn FnMut(String)) -> Vec<PathBuf> {
    let mut seen: HashMap<(u64, u64), usize> = HashMap::new();
    let mut kept: Vec<PathBuf> = Vec::with_capacity(images.len());
    let mut again: Vec<(PathBuf, usize)> = Vec::new();
    for path in images {
        match file_id(&path).map(|id| (id, seen.get(&id).copied())) {
            Some((_, Some(first))) => again.push((path, first)),
            Some((id, None)) => {
                seen.insert(id, kept.len());
                kept.push(path);
            }
            None => kept.push(path),
        }
    }
    if let Some((path, first)) = again.first() {
        warn(format!(
            "{} image{} under {} {} the same file{} as another image's (links): each file is \
             used once (first: {} is {})",
            again.len(),
            if again.len() == 1 { "" } else { "s" },
            dir.display(),
            if again.len() == 1 { "is" } else { "are" },
            if again.len() == 1 { "" } else { "s" },
            relative(dir, path),
            relative(dir, &kept[*first]),
        ));
    }
    kept
}

/// Files shown by name in the warning about files left out.
const SHOWN_UNUSABLE: usize = 5;

/// One warning for the images of an unlabelled folder in other formats than PNG/JPEG (WebP,
/// BMP, GIF, TIFF, HEIC, ...): they would be left out without a word.
fn warn_unusable(dir: &Path, others: &[String], warn: &mut dyn FnMut(String)) {
    if others.is_empty() {
        return;
    }
    let shown: Vec<&str> = others
        .iter()
        .take(SHOWN_UNUSABLE)
        .map(String::as_str)
        .collect();
    warn(format!(
        "{} image{} under {} {} not PNG or JPEG and {} left out ({}{}); convert them to PNG \
         to train on them",
        others.len(),
        if others.len() == 1 { "" } else { "s" },
        dir.display(),
        if others.len() == 1 { "is" } else { "are" },
        if others.len() == 1 { "is" } else { "are" },
        shown.join(", "),
        if others.len() > SHOWN_UNUSABLE {
            ", ..."
        } else {
            ""
        }
    ));
}

/// What a walk error means to a user: a link loop, a link to nothing or an unreadable folder.
fn describe_walk_error(e: &walkdir::Error) -> String {
    let path = e
        .path()
        .map_or_else(String::new, |p| p.display().to_string());
    match (e.loop_ancestor(), e.io_error()) {
        (Some(ancestor), _) => format!(
            "{path}: a symbolic link back to {}, which would loop",
            ancestor.display()
        ),
        (None, Some(io)) if e.path().is_some_and(|p| p.is_symlink()) => {
            format!("{path}: a symbolic link to nothing ({io})")
        }
        (None, Some(io)) => format!("{path}: {io}"),
        (None, None) => format!("{path}: {e}"),
    }
}

/// macOS resource forks (`._x.jpg`, `__MACOSX/`), hidden folders (`.git`, `.thumbnails`) and
/// NAS or Windows thumbnail and recycle folders: never training images.
fn is_system_clutter(entry: &walkdir::DirEntry) -> bool {
    let name = entry.file_name().to_string_lossy();
    if entry.file_type().is_dir() {
        name.starts_with('.')
            || [
                "__MACOSX",
                "@eaDir",
                "$RECYCLE.BIN",
                "System Volume Information",
            ]
            .contains(&&*name)
    } else {
        name.starts_with("._") || ["Thumbs.db", "desktop.ini"].contains(&&*name)
    }
}

/// A hidden file (`.DS_Store`, `.gitignore`): never meant as a training image.
fn is_hidden(entry: &walkdir::DirEntry) -> bool {
    entry.file_name().to_string_lossy().starts_with('.')
}

fn is_image(path: &Path) -> bool {
    has_extension(path, &["png", "jpg", "jpeg"])
}

/// An image in a format this loader does not read: a user who put it there expects it to be
/// trained on. Other files (notes, a tag list, a licence) are no images and go unmentioned.
fn is_other_image(path: &Path) -> bool {
    let formats = [
        "webp", "bmp", "gif", "tif", "tiff", "heic", "heif", "avif", "jxl", "jp2", "psd", "ico",
    ];
    has_extension(path, &formats)
}

fn has_extension(path: &Path, known: &[&str]) -> bool {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default();
    known.iter().any(|k| ext.eq_ignore_ascii_case(k))
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::super::fixtures;
    use super::*;

    fn no_warnings(message: String) {
        panic!("unexpected warning: {message}");
    }
    #[test]
    fn finds_images_recursively_in_path_order() {
        let dir = tempfile::tempdir().unwrap();
        fixtures::write_png(&dir.path().join("b/2.PNG"), 4, 4);
        fixtures::write_jpeg(&dir.path().join("a.jpeg"), 4, 4);
        fixtures::write_png(&dir.path().join("b/1.png"), 4, 4);
        let listing = list(dir.path(), None, &mut no_warnings).unwrap();
        let rels: Vec<&str> = listing.items.iter().map(|i| i.rel.as_str()).collect();
        assert_eq!(rels, ["a.jpeg", "b/1.png", "b/2.PNG"]);
        assert!(listing.vocab.is_none() && listing.items[0].tags.is_empty());
    }
    #[test]
    fn files_that_are_not_png_or_jpeg_are_counted_in_one_warning() {
        let dir = tempfile::tempdir().unwrap();
        fixtures::write_png(&dir.path().join("a.png"), 4, 4);
        for name in [
            "b.webp",
            "c.bmp",
            "d/e.gif",
            "notes.txt",
            "f.tiff",
            "g.heic",
        ] {
            let path = dir.path().join(name);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, b"not read").unwrap();
        }
        for quiet in [".DS_Store", "._a.png", "Thumbs.db", "__MACOSX/x.txt"] {
            let path = dir.path().join(quiet);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, b"leftover").unwrap();
        }
        let mut warnings = Vec::new();
        let listing = list(dir.path(), None, &mut |w| warnings.push(w)).unwrap();
        assert_eq!(listing.items.len(), 1);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].starts_with("5 images under")
                && warnings[0].contains(
                    "not PNG or JPEG and are left out (b.webp, c.bmp, d/e.gif, f.tiff, g.heic); \
                     convert them"
                ),
            "{warnings:?}"
        );
        let tags = dir.path().join("notes.txt");
        fs::write(&tags, "vocab: red\na.png,red\n").unwrap();
        let listing = list(dir.path(), Some(&tags), &mut no_warnings).unwrap();
        assert_eq!(
            listing.items.len(),
            1,
            "with a tag file the dataset is its list: no warning about other files"
        );
    }
    #[test]
    fn symbolic_links_are_followed_and_loops_reported() {
        let (dir, elsewhere) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        fixtures::write_png(&dir.path().join("real.png"), 4, 4);
        fixtures::write_png(&elsewhere.path().join("linked.png"), 4, 4);
        fixtures::write_png(&elsewhere.path().join("more/inner.jpg"), 4, 4);
        let link = |target: &Path, name: &str| {
            std::os::unix::fs::symlink(target, dir.path().join(name)).unwrap()
        };
        link(&elsewhere.path().join("linked.png"), "a-link.png");
        link(&elsewhere.path().join("more"), "b-linked-dir");
        link(dir.path(), "c-loop");
        link(&elsewhere.path().join("gone.png"), "d-dangling.png");
        let mut warnings = Vec::new();
        let listing = list(dir.path(), None, &mut |w| warnings.push(w)).unwrap();
        let rels: Vec<&str> = listing.items.iter().map(|i| i.rel.as_str()).collect();
        assert_eq!(rels, ["a-link.png", "b-linked-dir/inner.jpg", "real.png"]);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        for part in [
            "2 entries",
            "c-loop: a symbolic link back",
            "d-dangling.png: a symbolic link to nothing",
        ] {
            assert!(warnings[0].contains(part), "{part}: {warnings:?}");
        }
        let only_links = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(
            elsewhere.path().join("linked.png"),
            only_links.path().join("x.png"),
        )
        .unwrap();
        let listing = list(only_links.path(), None, &mut no_warnings).unwrap();
        assert_eq!(listing.items.len(), 1, "a folder of only links has images");
    }

    #[test]
    fn a_file_under_several_names_in_the_folder_is_one_image() {
        // A linked folder, a linked file and a hard link inside the folder: trained twice, or
        // a held-out image the copy of a training one, before.
        let dir = tempfile::tempdir().unwrap();
        fixtures::write_png(&dir.path().join("sub/1.png"), 4, 4);
        fixtures::write_png(&dir.path().join("sub/2.png"), 4, 4);
        fixtures::write_png(&dir.path().join("z.png"), 4, 4);
        std::os::unix::fs::symlink(dir.path().join("sub"), dir.path().join("linked")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("z.png"), dir.path().join("y.png")).unwrap();
        fs::hard_link(dir.path().join("z.png"), dir.path().join("x.png")).unwrap();
        let mut warnings = Vec::new();
        let listing = list(dir.path(), None, &mut |w| warnings.push(w)).unwrap();
        let rels: Vec<&str> = listing.items.iter().map(|i| i.rel.as_str()).collect();
        assert_eq!(
            rels,
            ["linked/1.png", "linked/2.png", "x.png"],
            "each file once, at its first path in path order"
        );
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].starts_with("4 images under")
                && warnings[0].contains("(first: sub/1.png is linked/1.png)"),
            "{warnings:?}"
        );
    }
    #[test]
    fn system_clutter_is_skipped_quietly() {
        let dir = tempfile::tempdir().unwrap();
        fixtures::write_png(&dir.path().join("face.png"), 4, 4);
        for clutter in [
            "._face.png",
            "__MACOSX/._face.png",
            "__MACOSX/face.png",
            "@eaDir/face.png/SYNOPHOTO_THUMB_M.jpg",
            ".thumbnails/face.png",
        ] {
            let path = dir.path().join(clutter);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, b"\0\x05\x16\x07 AppleDouble or a thumbnail").unwrap();
        }
        fs::write(dir.path().join(".DS_Store"), b"\0\0\0\x01Bud1").unwrap();
        let listing = list(dir.path(), None, &mut no_warnings).unwrap();
        let rels: Vec<&str> = listing.items.iter().map(|i| i.rel.as_str()).collect();
        assert_eq!(rels, ["face.png"]);
    }
    #[test]
    fn missing_folder_says_which() {
        let message = list(Path::new("/no/such/dir"), None, &mut no_warnings)
            .unwrap_err()
            .to_string();
        assert!(message.contains("/no/such/dir"), "{message}");
    }
}
