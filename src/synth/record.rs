//! The record a generated dataset carries (`synthetic.json`: what it was generated with,
//! every image's size in bytes, a blake3 hash of every file's contents), and the check of a
//! folder against it: a folder restored in part (a CI cache), an image deleted, cut short or
//! overwritten, a tag list edited, is found before training reads it. Hashing reads every
//! file, in parallel, once per data section a run loads (as the decoded cache's key does when
//! file stats changed: about 0.3 s for 18,000 faces, `data/fingerprint`); the sizes are checked
//! first, so most damage is named by its file.

use std::fs;
use std::path::Path;

use anyhow::Context;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::SynthOptions;

/// The record's file name, beside `filtered.txt`.
pub const RECORD: &str = "synthetic.json";

#[derive(Serialize, Deserialize, Debug, PartialEq, Eq)]
struct Record {
    count: usize,
    size: u32,
    seed: u64,
    /// `selected/<k>.png`'s length in bytes, for each k.
    image_bytes: Vec<u64>,
    /// blake3 of `files`' contents (`contents`), hex.
    contents: String,
}

/// The files whose contents the record hashes, in order: the tag lists, then the images.
fn files(count: usize) -> Vec<String> {
    let lists = ["tags.txt", "filtered.txt"].map(String::from);
    lists.into_iter().chain((0..count).map(image)).collect()
}

/// One hash over the contents of `files` in `dir` (each file's own hash, in order); None
/// when one cannot be read.
fn contents(dir: &Path, files: &[String]) -> Option<String> {
    let hashes: Vec<blake3::Hash> = files
        .par_iter()
        .map(|f| fs::read(dir.join(f)).ok().map(|bytes| blake3::hash(&bytes)))
        .collect::<Option<_>>()?;
    let mut all = blake3::Hasher::new();
    for h in &hashes {
        all.update(h.as_bytes());
    }
    Some(all.finalize().to_hex().to_string())
}

/// Why a folder is not the dataset `opts` generates.
#[derive(Debug, PartialEq, Eq)]
pub enum Damage {
    /// No folder, or an empty one: nothing was generated there.
    Absent,
    /// A folder without a record: made by an older version, or not by this generator.
    Unrecorded,
    /// A recorded folder generated with other settings (the text says which).
    OtherSettings(String),
    /// A recorded folder whose files differ from its record (the text says how).
    Differs(String),
}

/// Writes the record of the dataset in `dir` (`selected/` written, `opts` its settings).
pub(super) fn write(dir: &Path, opts: &SynthOptions) -> anyhow::Result<()> {
    let image_bytes = (0..opts.count)
        .map(|k| {
            let path = dir.join(image(k));
            fs::metadata(&path)
                .map(|m| m.len())
                .with_context(|| format!("cannot read {}", path.display()))
        })
        .collect::<anyhow::Result<_>>()?;
    let contents =
        contents(dir, &files(opts.count)).context("cannot read the generated files back")?;
    let record = Record {
        count: opts.count,
        size: opts.size,
        seed: opts.seed,
        image_bytes,
        contents,
    };
    let json = serde_json::to_vec(&record).expect("a record serializes");
    super::write::write_synced(&dir.join(RECORD), &json)
}

/// Checks `dir` against its record and `opts`: the settings, `tags.txt`, `filtered.txt`, every
/// image present at its recorded length, then every file's contents.
pub fn check(dir: &Path, opts: &SynthOptions) -> Result<(), Damage> {
    let empty = fs::read_dir(dir).map_or(true, |mut entries| entries.next().is_none());
    if empty {
        return Err(Damage::Absent);
    }
    let text = fs::read(dir.join(RECORD)).map_err(|_| Damage::Unrecorded)?;
    let record: Record = serde_json::from_slice(&text)
        .map_err(|e| Damage::Differs(format!("its {RECORD} cannot be read ({e})")))?;
    let wanted = (opts.count, opts.size, opts.seed);
    if (record.count, record.size, record.seed) != wanted {
        return Err(Damage::OtherSettings(format!(
            "it was generated with count {}, size {}, seed {}, not {}, {}, {}",
            record.count, record.size, record.seed, wanted.0, wanted.1, wanted.2
        )));
    }
    for file in ["tags.txt", "filtered.txt"] {
        if !dir.join(file).is_file() {
            return Err(Damage::Differs(format!("{file} is missing")));
        }
    }
    for (k, &bytes) in record.image_bytes.iter().enumerate() {
        let rel = image(k);
        match fs::metadata(dir.join(&rel)) {
            Err(_) => return Err(Damage::Differs(format!("{rel} is missing"))),
            Ok(m) if m.len() != bytes => {
                return Err(Damage::Differs(format!(
                    "{rel} has {} bytes, {bytes} when generated",
                    m.len()
                )));
            }
            Ok(_) => {}
        }
    }
    if contents(dir, &files(record.count)).as_ref() != Some(&record.contents) {
        return Err(Damage::Differs(
            "the contents of its files differ from those generated (an image or a tag list \
             overwritten, or two images swapped)"
                .into(),
        ));
    }
    Ok(())
}

fn image(k: usize) -> String {
    format!("selected/{k}.png")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_folder_checks_and_each_kind_of_damage_is_named() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("faces");
        let opts = SynthOptions {
            count: 6,
            size: 16,
            seed: 2,
        };
        assert_eq!(check(&dir, &opts), Err(Damage::Absent));
        super::super::generate(&dir, &opts, &|_| {}).unwrap();
        assert_eq!(check(&dir, &opts), Ok(()));
        let other = SynthOptions { seed: 3, ..opts };
        assert!(matches!(check(&dir, &other), Err(Damage::OtherSettings(_))));

        let cut = dir.join("selected/4.png");
        let bytes = fs::read(&cut).unwrap();
        fs::write(&cut, &bytes[..100]).unwrap();
        let why = format!(
            "selected/4.png has 100 bytes, {} when generated",
            bytes.len()
        );
        assert_eq!(check(&dir, &opts), Err(Damage::Differs(why)));
        fs::remove_file(&cut).unwrap();
        let why = "selected/4.png is missing".to_string();
        assert_eq!(check(&dir, &opts), Err(Damage::Differs(why)));
        fs::write(&cut, &bytes).unwrap();
        let mut same_size = bytes.clone();
        same_size[60] ^= 0xff;
        fs::write(&cut, &same_size).unwrap();
        assert!(
            matches!(check(&dir, &opts), Err(Damage::Differs(why)) if why.contains("contents")),
            "an image overwritten in place, its size kept"
        );
        fs::write(&cut, &bytes).unwrap();
        let tags = fs::read_to_string(dir.join("filtered.txt")).unwrap();
        fs::write(dir.join("filtered.txt"), tags.replacen(',', ";", 1)).unwrap();
        assert!(
            matches!(check(&dir, &opts), Err(Damage::Differs(why)) if why.contains("contents")),
            "a tag line edited"
        );
        fs::remove_file(dir.join("filtered.txt")).unwrap();
        let why = "filtered.txt is missing".to_string();
        assert_eq!(check(&dir, &opts), Err(Damage::Differs(why)));
        fs::remove_file(dir.join(RECORD)).unwrap();
        assert_eq!(check(&dir, &opts), Err(Damage::Unrecorded));
    }
}
