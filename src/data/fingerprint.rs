//! The cache key: a blake3 hash of the source's contents and the decoding settings.
//!
//! The key hashes every image file's bytes, so a cache is shared by identical data wherever it
//! lies and never reused for changed data. Reading and hashing 18,000 small PNGs (~200 MB) took
//! ~0.3 s, the largest part of a cached load, so, like git's index, the key is also remembered
//! under a "stat key" (path, size, mtime, ctime, inode of every file): while no file's stat
//! data changes, the contents are not read again. Editing a file always changes its ctime.

use std::fs;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use rayon::prelude::*;

use super::cache::FORMAT_VERSION;
use super::listing::Listing;
use super::prepare::RECIPE;

/// The content key, looked up under the stat key in `memo_dir` or computed and remembered there.
pub(super) fn remembered_key(listing: &Listing, size: u32, memo_dir: &Path) -> blake3::Hash {
    // As in git's "racy" check: a file changed within the timestamp granularity could change
    // again unseen, so recent stat data is not remembered.
    remembered_key_trusting(listing, size, memo_dir, now_secs() - 2)
}

/// `trusted_before`: stat data of files changed at or after this second is not remembered.
fn remembered_key_trusting(
    listing: &Listing,
    size: u32,
    memo_dir: &Path,
    trusted_before: i64,
) -> blake3::Hash {
    let (stats, changed): (Vec<blake3::Hash>, Vec<i64>) = listing
        .items
        .par_iter()
        .map(|item| hash_stat(&item.path))
        .unzip();
    let memo = memo_dir.join(format!(
        "stat-v{FORMAT_VERSION}-{}.key",
        combine(b"stat", listing, size, &stats).to_hex()
    ));
    let remembered = fs::read_to_string(&memo)
        .ok()
        .and_then(|hex| blake3::Hash::from_hex(hex.trim()).ok());
    if let Some(key) = remembered {
        return key;
    }
    let key = key(listing, size);
    // Best effort: without a memo the next load hashes the contents again.
    if changed.iter().all(|&t| t < trusted_before) {
        let _ = write_memo(&memo, &key);
    }
    key
}

/// The content key.
pub(super) fn key(listing: &Listing, size: u32) -> blake3::Hash {
    let files: Vec<blake3::Hash> = listing
        .items
        .par_iter()
        .map(|item| hash_file(&item.path))
        .collect();
    combine(b"content", listing, size, &files)
}

fn combine(kind: &[u8], listing: &Listing, size: u32, files: &[blake3::Hash]) -> blake3::Hash {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"anigan-runner decoded dataset");
    add_field(&mut hasher, kind);
    hasher.update(&FORMAT_VERSION.to_le_bytes());
    hasher.update(&size.to_le_bytes());
    add_field(&mut hasher, RECIPE.as_bytes());
    // Parsed tags, not the tag files' bytes: comments and ids change nothing decoded.
    let vocab = listing
        .vocab
        .as_ref()
        .map(|v| v.to_text())
        .unwrap_or_default();
    add_field(&mut hasher, vocab.as_bytes());
    for (item, file) in listing.items.iter().zip(files) {
        add_field(&mut hasher, item.rel.as_bytes());
        add_field(&mut hasher, &item.tags);
        hasher.update(file.as_bytes());
    }
    hasher.finalize()
}

/// Length-prefixed so that field boundaries cannot shift between keys.
fn add_field(hasher: &mut blake3::Hasher, bytes: &[u8]) {
    hasher.update(&(bytes.len() as u64).to_le_bytes());
    hasher.update(bytes);
}

/// An unreadable file hashes to its error kind: decoding will skip it and report why.
fn hash_file(path: &Path) -> blake3::Hash {
    match fs::read(path) {
        Ok(bytes) => blake3::hash(&bytes),
        Err(error) => blake3::hash(format!("unreadable: {:?}", error.kind()).as_bytes()),
    }
}

/// Hash of the file's stat data, and its last change in seconds since the epoch.
fn hash_stat(path: &Path) -> (blake3::Hash, i64) {
    let Ok(meta) = fs::metadata(path) else {
        return (blake3::hash(b"no metadata"), i64::MAX);
    };
    let mut hasher = blake3::Hasher::new();
    hasher.update(&meta.len().to_le_bytes());
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .unwrap_or_default();
    hasher.update(&mtime.as_nanos().to_le_bytes());
    let mut changed = mtime.as_secs() as i64;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        for n in [
            meta.ino() as i64,
            meta.dev() as i64,
            meta.ctime(),
            meta.ctime_nsec(),
        ] {
            hasher.update(&n.to_le_bytes());
        }
        changed = changed.max(meta.ctime());
    }
    (hasher.finalize(), changed)
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn write_memo(memo: &Path, key: &blake3::Hash) -> anyhow::Result<()> {
    crate::fsx::write_atomic(memo, key.to_hex().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::super::fixtures;
    use super::super::listing::Item;
    use super::super::vocab::Vocabulary;
    use super::*;

    fn listing(dir: &Path, tags: &[u8]) -> Listing {
        let vocab = Vocabulary::new(vec![vec!["a".into(), "b".into()]]);
        let item = Item {
            path: dir.join("x.png"),
            rel: "x.png".into(),
            tags: tags.to_vec(),
        };
        Listing {
            root: dir.into(),
            vocab: Some(vocab),
            items: vec![item],
        }
    }

    #[test]
    fn key_changes_with_content_tags_and_size() {
        let dir = tempfile::tempdir().unwrap();
        fixtures::write_png(&dir.path().join("x.png"), 4, 4);
        let base = key(&listing(dir.path(), &[1, 0]), 64);
        assert_eq!(key(&listing(dir.path(), &[1, 0]), 64), base, "stable");
        assert_ne!(key(&listing(dir.path(), &[0, 1]), 64), base, "tags");
        assert_ne!(key(&listing(dir.path(), &[1, 0]), 32), base, "size");
        fixtures::write_png(&dir.path().join("x.png"), 5, 4);
        assert_ne!(key(&listing(dir.path(), &[1, 0]), 64), base, "image bytes");
    }

    #[test]
    fn remembered_key_follows_the_content() {
        let (dir, memo) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let path = dir.path().join("x.png");
        fixtures::write_png(&path, 4, 4);
        let items = listing(dir.path(), &[1, 0]);
        let memos = || fs::read_dir(memo.path()).unwrap().count();
        let base = remembered_key(&items, 64, memo.path());
        assert_eq!(base, key(&items, 64));
        assert_eq!(memos(), 0, "just written: stat data too recent to trust");
        let trusting = |items: &Listing| remembered_key_trusting(items, 64, memo.path(), i64::MAX);
        assert_eq!(trusting(&items), base);
        assert_eq!(memos(), 1, "memo written");
        assert_eq!(trusting(&items), base, "from the memo");
        let touched = SystemTime::now() + std::time::Duration::from_secs(60);
        let file = fs::File::options().write(true).open(&path).unwrap();
        file.set_modified(touched).unwrap();
        assert_eq!(trusting(&items), base, "touched, same content");
        assert_eq!(memos(), 2, "new stat data, new memo");
        fixtures::write_png(&path, 5, 4);
        assert_ne!(trusting(&items), base, "edited");
    }
}
