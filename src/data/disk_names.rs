//! A tag file's image paths matched to the files a folder holds, as a tag file written on
//! another system names them: Unicode in either normal form (macOS writes names decomposed,
//! NFD; most tools and Linux file systems keep them composed, NFC) and Windows' `\` separators.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use unicode_normalization::UnicodeNormalization;

use super::listing::relative;

/// The images found under a folder, by their relative path in NFC.
pub(super) struct DiskNames {
    /// NFC of the relative path -> (relative path as on disk, full path).
    by_nfc: HashMap<String, (String, PathBuf)>,
    /// Lower case of the NFC path -> relative paths on disk (for a hint, never a match).
    by_folded: HashMap<String, Vec<String>>,
}

/// What a tag file's path names on disk.
pub(super) enum Found {
    /// A listed image: its relative path as on disk and its full path.
    Image(String, PathBuf),
    /// Not among the images found: `dir` joined with the path as written (cleaned).
    Elsewhere(String, PathBuf),
}

impl DiskNames {
    /// The images `paths` found under `dir`.
    pub(super) fn new(dir: &Path, paths: &[PathBuf]) -> Self {
        let mut by_nfc = HashMap::new();
        let mut by_folded: HashMap<String, Vec<String>> = HashMap::new();
        for path in paths {
            let rel = relative(dir, path);
            let nfc = nfc(&rel);
            by_folded
                .entry(nfc.to_lowercase())
                .or_default()
                .push(rel.clone());
            by_nfc.insert(nfc, (rel, path.clone()));
        }
        Self { by_nfc, by_folded }
    }

    /// The image a tag file's `written` path names (relative to `dir`; `\` is a separator,
    /// either Unicode form matches).
    pub(super) fn find(&self, dir: &Path, written: &str) -> Found {
        let rel = listed_path(written);
        match self.by_nfc.get(&nfc(&rel)) {
            Some((rel, path)) => Found::Image(rel.clone(), path.clone()),
            None => {
                let path = dir.join(&rel);
                Found::Elsewhere(rel, path)
            }
        }
    }

    /// An image whose name differs from `rel` only in letter case, if there is exactly one
    /// (a tag file written on a case-insensitive file system, macOS's or Windows').
    pub(super) fn differing_in_case(&self, rel: &str) -> Option<&str> {
        match self.by_folded.get(&nfc(rel).to_lowercase())?.as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }
}

fn nfc(text: &str) -> String {
    text.nfc().collect()
}

/// An image path as the tag file writes it, as the folder listing names it: `/`-separated
/// (`\` is Windows' separator) and without `.` components (`./faces/1.png` and
/// `faces/./1.png` are `faces/1.png`).
fn listed_path(written: &str) -> String {
    let written = written.replace('\\', "/");
    if written.starts_with('/') {
        return written; // an absolute path is not the listing's to rename
    }
    let parts: Vec<&str> = written
        .split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect();
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_match_across_unicode_forms_and_separators() {
        let dir = Path::new("/d");
        let on_disk = ["caf\u{e9}/1.png", "e\u{301}t\u{e9}.png", "faces/Ab.png"];
        let paths: Vec<PathBuf> = on_disk.iter().map(|r| dir.join(r)).collect();
        let names = DiskNames::new(dir, &paths);
        let rows = [
            (
                "cafe\u{301}/1.png",
                "caf\u{e9}/1.png",
                "NFD written, NFC on disk",
            ),
            (
                "\u{e9}t\u{e9}.png",
                "e\u{301}t\u{e9}.png",
                "NFC written, NFD on disk",
            ),
            ("caf\u{e9}\\1.png", "caf\u{e9}/1.png", "Windows separator"),
            (
                ".\\faces\\Ab.png",
                "faces/Ab.png",
                "Windows separators and .",
            ),
        ];
        for (written, want, why) in rows {
            match names.find(dir, written) {
                Found::Image(rel, path) => {
                    assert_eq!((rel.as_str(), path), (want, dir.join(want)), "{why}")
                }
                Found::Elsewhere(rel, _) => panic!("{why}: {rel} not matched"),
            }
        }
        assert!(matches!(
            names.find(dir, "faces/ab.png"),
            Found::Elsewhere(..)
        ));
        assert_eq!(
            names.differing_in_case("faces/ab.png"),
            Some("faces/Ab.png")
        );
        assert_eq!(names.differing_in_case("faces/zz.png"), None);
    }
}
