//! A tag file's image paths matched to the files a folder holds, as a tag file written on
//! another system names them: Unicode in either normal form (macOS writes names decomposed,
//! NFD; most tools and Linux file systems keep them composed, NFC), Windows' `\` separators,
//! `.` and `..` components (also a `..` that climbs out of the folder and back in), and an
//! absolute path inside the folder. Every spelling of a path becomes the one relative path the
//! folder listing gives, so that two spellings of one file are one image; a path that ends
//! outside the folder is refused.

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
    /// The folder as given, absolute.
    dir: PathBuf,
    /// The folder as an absolute path may name it: as given, and with its links resolved.
    roots: Vec<PathBuf>,
}

/// What a tag file's path names on disk.
pub(super) enum Found {
    /// A listed image: its relative path as on disk and its full path.
    Image(String, PathBuf),
    /// Not among the images found: `dir` joined with the path as written (cleaned).
    Elsewhere(String, PathBuf),
    /// A path that leads out of the folder: why, for the user.
    Outside(String),
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
        let absolute = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
        let given = PathBuf::from(format!(
            "/{}",
            components(&absolute.to_string_lossy()).0.join("/")
        ));
        let mut roots = vec![given.clone()];
        roots.extend(dir.canonicalize().ok().filter(|c| *c != given));
        Self {
            by_nfc,
            by_folded,
            dir: dir.to_path_buf(),
            roots,
        }
    }

    /// The image a tag file's `written` path names (relative to `dir`, or absolute inside it;
    /// `\` is a separator, either Unicode form matches).
    pub(super) fn find(&self, written: &str) -> Found {
        let rel = match self.listed_path(written) {
            Ok(rel) => rel,
            Err(why) => return Found::Outside(why),
        };
        match self.by_nfc.get(&nfc(&rel)) {
            Some((rel, path)) => Found::Image(rel.clone(), path.clone()),
            None => {
                let path = self.dir.join(&rel);
                Found::Elsewhere(rel, path)
            }
        }
    }

    /// An image path as the tag file writes it, as the folder listing names it: `/`-separated
    /// (`\` is Windows' separator), without `.` components, `..` resolved by name (as the
    /// listing names a file under a linked folder; one that climbs out of the folder and back
    /// in stays inside), and an absolute path inside the folder made relative to it. A path
    /// that ends outside the folder: why.
    fn listed_path(&self, written: &str) -> Result<String, String> {
        let slashed = written.replace('\\', "/");
        let outside = |how: &str| {
            format!(
                "image path {written} {how} data.path ({}): image paths in a tag file are \
                 relative to data.path",
                self.dir.display()
            )
        };
        let bytes = slashed.as_bytes();
        if bytes.len() > 2 && bytes[0].is_ascii_alphabetic() && &bytes[1..3] == b":/" {
            return Err(outside("is a Windows path, outside"));
        }
        let (parts, above) = components(&slashed);
        let absolute = slashed.starts_with('/');
        if !absolute && !above {
            return Ok(parts.join("/"));
        }
        // A relative path whose `..` climbs above the folder may come back into it
        // (`../img/1.png` for the folder img): resolved by name against the folder's absolute
        // path, it is the relative path written directly.
        let (path, how) = if absolute {
            (format!("/{}", parts.join("/")), "is outside")
        } else {
            let joined = format!("{}/{slashed}", self.roots[0].to_string_lossy());
            (
                format!("/{}", components(&joined).0.join("/")),
                "leads out of",
            )
        };
        let path = PathBuf::from(path);
        let inside = |path: &Path| {
            self.roots
                .iter()
                .find(|root| path.starts_with(root))
                .map(|root| relative(root, path))
        };
        // Written through a link to the folder (or to a folder above it): the link resolved.
        let resolved = || {
            let parent = path.parent()?.canonicalize().ok()?;
            inside(&parent.join(path.file_name()?))
        };
        inside(&path).or_else(resolved).ok_or_else(|| outside(how))
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

/// The components of a `/`-separated path without empty or `.` components and with each `..`
/// taking back the component before it (`./faces/1.png`, `faces//1.png` and
/// `x/../faces/1.png` are `faces/1.png`), and whether a `..` led above the start.
fn components(path: &str) -> (Vec<&str>, bool) {
    let mut parts: Vec<&str> = Vec::new();
    let mut above = false;
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => above |= parts.pop().is_none(),
            part => parts.push(part),
        }
    }
    (parts, above)
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
            (
                "/d/faces/Ab.png",
                "faces/Ab.png",
                "absolute, inside the folder",
            ),
            (
                "//d/./faces/Ab.png",
                "faces/Ab.png",
                "absolute, doubled / and .",
            ),
            ("x/../faces/Ab.png", "faces/Ab.png", ".. inside the folder"),
            (
                "../d/faces/Ab.png",
                "faces/Ab.png",
                ".. out of the folder and back in",
            ),
            (
                "faces/../../d/./faces/Ab.png",
                "faces/Ab.png",
                ".. out and back in, deeper",
            ),
            (
                "/d/faces/../faces/Ab.png",
                "faces/Ab.png",
                "absolute with ..",
            ),
        ];
        for (written, want, why) in rows {
            match names.find(written) {
                Found::Image(rel, path) => {
                    assert_eq!((rel.as_str(), path), (want, dir.join(want)), "{why}")
                }
                Found::Elsewhere(rel, _) => panic!("{why}: {rel} not matched"),
                Found::Outside(text) => panic!("{why}: {text}"),
            }
        }
        assert!(matches!(names.find("faces/ab.png"), Found::Elsewhere(..)));
        for (written, why) in [
            ("../e/faces/Ab.png", "leads out of data.path (/d)"),
            ("faces/../../Ab.png", "leads out of data.path (/d)"),
            ("../d2/faces/Ab.png", "leads out of data.path (/d)"),
            (
                "../../../d/faces/../../e.png",
                "leads out of data.path (/d)",
            ),
            ("/e/faces/Ab.png", "is outside data.path (/d)"),
            ("/d/../e/Ab.png", "is outside data.path (/d)"),
            (
                "C:\\d\\faces\\Ab.png",
                "is a Windows path, outside data.path (/d)",
            ),
        ] {
            match names.find(written) {
                Found::Outside(text) => assert!(
                    text.contains(why) && text.ends_with("relative to data.path"),
                    "{written}: {text}"
                ),
                _ => panic!("{written}: not refused"),
            }
        }
        assert_eq!(
            names.differing_in_case("faces/ab.png"),
            Some("faces/Ab.png")
        );
        assert_eq!(names.differing_in_case("faces/zz.png"), None);
    }
}
