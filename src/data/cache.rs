//! The decoded-dataset cache file: written atomically, checked (length, blake3) when read.
//!
//! Format, all integers little-endian:
//!
//! ```text
//! offset  bytes  field
//! 0       8      magic "ANIGANDS"
//! 8       4      format version (u32, FORMAT_VERSION)
//! 12      4      image size (u32)
//! 16      8      images decoded, len (u64)
//! 24      8      images listed, good or bad (u64)
//! 32      4      tags per image, T (u32; 0 = unlabelled)
//! 36      8      vocabulary text length V (u64)
//! 44      8      skipped text length S (u64)
//! 52      V      vocabulary, tags.txt form (UTF-8; empty = unlabelled)
//! ..      S      skipped images, "relative/path\treason\n" each (UTF-8)
//! ..      len*T  tags, [len, T] multi-hot
//! ..      len*3*size*size  pixels, [len, 3, size, size]
//! end-32  32     blake3 of every byte before it
//! ```

use std::fs::{self, File};
use std::io::{BufWriter, Read, Write};
use std::path::Path;

use anyhow::Context;

use super::decode::Decoded;
use super::vocab::Vocabulary;

pub(super) const FORMAT_VERSION: u32 = 1;
const MAGIC: &[u8; 8] = b"ANIGANDS";
const HEADER: usize = 52;
const TRAILER: usize = 32;

pub(super) fn file_name(key: &blake3::Hash) -> String {
    format!("dataset-v{FORMAT_VERSION}-{}.bin", key.to_hex())
}

/// Writes to a temporary file in the same folder, fsyncs and renames, so a reader sees either
/// no file or a whole one.
pub(super) fn write(path: &Path, decoded: &Decoded) -> anyhow::Result<()> {
    let dir = path.parent().context("cache path has no folder")?;
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let temp = crate::fsx::temp_beside(path)?;
    let vocab = decoded
        .vocab
        .as_ref()
        .map(Vocabulary::to_text)
        .unwrap_or_default();
    let skipped: String = decoded
        .skipped
        .iter()
        .map(|(rel, reason)| format!("{}\t{}\n", one_line(rel), one_line(reason)))
        .collect();
    let mut out = Hashing::new(BufWriter::with_capacity(1 << 20, temp));
    out.write_all(MAGIC)?;
    out.write_all(&FORMAT_VERSION.to_le_bytes())?;
    out.write_all(&decoded.size.to_le_bytes())?;
    out.write_all(&(decoded.len as u64).to_le_bytes())?;
    out.write_all(&(decoded.total as u64).to_le_bytes())?;
    out.write_all(&(decoded.tag_count() as u32).to_le_bytes())?;
    out.write_all(&(vocab.len() as u64).to_le_bytes())?;
    out.write_all(&(skipped.len() as u64).to_le_bytes())?;
    out.write_all(vocab.as_bytes())?;
    out.write_all(skipped.as_bytes())?;
    out.write_all(&decoded.tags)?;
    out.write_all(&decoded.pixels)?;
    let hash = out.hasher.finalize();
    out.inner.write_all(hash.as_bytes())?;
    let temp = out.inner.into_inner().map_err(|e| e.into_error())?;
    crate::fsx::commit(temp, path)
}

/// Reads a whole cache file; any mismatch (truncation, bit flip, other version) is an error.
pub(super) fn read(path: &Path) -> anyhow::Result<Decoded> {
    let mut file = File::open(path)?;
    let file_len = file.metadata()?.len();
    let mut hasher = blake3::Hasher::new();
    let mut header = [0u8; HEADER];
    file.read_exact(&mut header)
        .context("shorter than its header")?;
    hasher.update(&header);
    anyhow::ensure!(
        &header[..8] == MAGIC,
        "not a dataset cache file (bad magic)"
    );
    let u32_at = |at: usize| u32::from_le_bytes(header[at..at + 4].try_into().unwrap());
    let u64_at = |at: usize| u64::from_le_bytes(header[at..at + 8].try_into().unwrap());
    let version = u32_at(8);
    anyhow::ensure!(
        version == FORMAT_VERSION,
        "format version {version}, expected {FORMAT_VERSION}"
    );
    let (size, len, total, tag_count) = (u32_at(12), u64_at(16), u64_at(24), u32_at(32) as u64);
    let (vocab_len, skipped_len) = (u64_at(36), u64_at(44));
    let tags_len = len.checked_mul(tag_count);
    let pixels_len = len.checked_mul(3 * size as u64 * size as u64);
    let expected = [Some(vocab_len), Some(skipped_len), tags_len, pixels_len]
        .into_iter()
        .try_fold((HEADER + TRAILER) as u64, |sum, part| {
            sum.checked_add(part?)
        });
    anyhow::ensure!(
        expected == Some(file_len),
        "{file_len} bytes long, its header implies {}",
        expected.map_or("an impossible length".into(), |n| n.to_string())
    );
    let mut section = |n: u64| -> anyhow::Result<Vec<u8>> {
        let mut bytes = vec![0u8; n as usize];
        file.read_exact(&mut bytes)?;
        // The pixels are hundreds of MB: hash them on every core.
        hasher.update_rayon(&bytes);
        Ok(bytes)
    };
    let vocab = section(vocab_len)?;
    let skipped = section(skipped_len)?;
    let tags = section(tags_len.unwrap_or_default())?;
    let pixels = section(pixels_len.unwrap_or_default())?;
    let mut stored = [0u8; TRAILER];
    file.read_exact(&mut stored)?;
    anyhow::ensure!(
        hasher.finalize() == blake3::Hash::from(stored),
        "checksum mismatch"
    );
    let vocab = String::from_utf8(vocab).context("vocabulary is not UTF-8")?;
    let vocab = match vocab.is_empty() {
        true => None,
        false => Some(Vocabulary::parse(&vocab, path)?),
    };
    anyhow::ensure!(
        vocab.as_ref().map_or(0, Vocabulary::len) as u64 == tag_count,
        "vocabulary does not match the tag count"
    );
    let skipped = String::from_utf8(skipped).context("skipped list is not UTF-8")?;
    let skipped = skipped
        .lines()
        .map(|line| {
            let (rel, reason) = line.split_once('\t').unwrap_or((line, ""));
            (rel.to_string(), reason.to_string())
        })
        .collect();
    Ok(Decoded {
        size,
        len: len as usize,
        pixels,
        tags,
        vocab,
        total: total as usize,
        skipped,
    })
}

/// Tabs and newlines would break the skipped list's lines; it is only shown to people.
fn one_line(text: &str) -> String {
    text.replace(['\t', '\n', '\r'], " ")
}

/// Hashes everything written through it, for the trailer.
struct Hashing<W> {
    inner: W,
    hasher: blake3::Hasher,
}

impl<W: Write> Hashing<W> {
    fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: blake3::Hasher::new(),
        }
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(bytes)?;
        self.hasher.update(&bytes[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(labelled: bool) -> Decoded {
        let vocab = Vocabulary::new(vec![vec!["a".into(), "b".into()], vec!["c".into()]]);
        Decoded {
            size: 2,
            len: 2,
            pixels: (0..24).collect(),
            tags: if labelled {
                vec![1, 0, 1, 0, 1, 0]
            } else {
                Vec::new()
            },
            vocab: labelled.then_some(vocab),
            total: 3,
            skipped: vec![("bad\tname.png".into(), "cannot decode:\nbroken".into())],
        }
    }

    #[test]
    fn round_trips() {
        let dir = tempfile::tempdir().unwrap();
        for labelled in [true, false] {
            let path = dir.path().join("sub/cache.bin");
            let mut expected = sample(labelled);
            write(&path, &expected).unwrap();
            expected.skipped = vec![("bad name.png".into(), "cannot decode: broken".into())];
            assert_eq!(read(&path).unwrap(), expected);
        }
        let left: Vec<_> = fs::read_dir(dir.path().join("sub")).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary files left behind");
    }

    #[test]
    fn damage_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.bin");
        write(&path, &sample(true)).unwrap();
        let good = fs::read(&path).unwrap();
        let mut flipped = good.clone();
        flipped[HEADER + 20] ^= 1;
        let mut bad_version = good.clone();
        bad_version[8] = 9;
        let cases = [
            (good[..good.len() - 1].to_vec(), "bytes long", "truncated"),
            (
                good[..10].to_vec(),
                "shorter than its header",
                "truncated header",
            ),
            (flipped, "checksum mismatch", "flipped pixel bit"),
            (bad_version, "format version 9", "other version"),
            (
                b"not a cache file at all, but long enough for a header...".to_vec(),
                "bad magic",
                "foreign file",
            ),
        ];
        for (bytes, expected, why) in cases {
            fs::write(&path, bytes).unwrap();
            let message = format!("{:#}", read(&path).unwrap_err());
            assert!(message.contains(expected), "{why}: {message}");
        }
    }
}
