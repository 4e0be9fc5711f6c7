//! The record a generated dataset carries (`synthetic.json`: what it was generated with and
//! every image's size in bytes), and the check of a folder against it: a folder restored in
//! part (a CI cache), an image deleted or cut short, is found before training reads it.

use std::fs;
use std::path::Path;

use anyhow::Context;
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
    let record = Record {
        count: opts.count,
        size: opts.size,
        seed: opts.seed,
        image_bytes,
    };
    let json = serde_json::to_vec(&record).expect("a record serializes");
    super::write::write_synced(&dir.join(RECORD), &json)
}

/// Checks `dir` against its record and `opts`: the settings, `tags.txt`, `filtered.txt`, and
/// every image present at its recorded length (a stat per image, no image is read).
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
        fs::remove_file(dir.join("filtered.txt")).unwrap();
        let why = "filtered.txt is missing".to_string();
        assert_eq!(check(&dir, &opts), Err(Damage::Differs(why)));
        fs::remove_file(dir.join(RECORD)).unwrap();
        assert_eq!(check(&dir, &opts), Err(Damage::Unrecorded));
    }
}
