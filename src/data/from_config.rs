//! From `[data]` settings to a loaded dataset: generates the synthetic faces on first use,
//! then loads through the decoded-dataset cache.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result, bail};

use super::{LoadOptions, Loaded, Source, folder, load, seed_layout};
use crate::config::{DataSection, DataSource};
use crate::progress;
use crate::synth::{self, Damage, SynthOptions};

/// Where generated datasets and cache files go (`data/` by default).
#[derive(Debug, Clone)]
pub struct DataRoot(pub PathBuf);

impl DataRoot {
    pub fn cache(&self) -> PathBuf {
        self.0.join("cache")
    }

    /// A JSON file of the cache folder (`name`: its file name), None when absent or unreadable
    /// (a cache is rebuilt, never trusted).
    pub fn read_cached_json<T: serde::de::DeserializeOwned>(&self, name: &str) -> Option<T> {
        crate::fsx::read_json(&self.cache().join(name), name)
            .ok()
            .flatten()
    }

    /// Changes the cache folder's JSON file `name` with `change` (starting from the default
    /// when absent or unreadable) and replaces it atomically. The read, change and write hold
    /// `<name>.lock`, so runners that record at once (a job array's tasks, `--jobs N` workers)
    /// each keep their entry instead of the last writer's copy dropping the others'.
    pub fn update_cached_json<T>(&self, name: &str, change: impl FnOnce(&mut T)) -> Result<()>
    where
        T: serde::de::DeserializeOwned + serde::Serialize + Default,
    {
        let dir = self.cache();
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let lock = crate::fsx::open_lock_file(&dir.join(format!("{name}.lock")))?;
        lock.lock()
            .with_context(|| format!("cannot lock {}", dir.join(name).display()))?;
        let mut value = self.read_cached_json(name).unwrap_or_default();
        change(&mut value);
        let json = serde_json::to_string_pretty(&value).expect("a cache entry serializes");
        crate::fsx::write_atomic(&dir.join(name), format!("{json}\n").as_bytes())
    }

    /// The folder a synthetic dataset with these settings is generated into.
    pub fn synthetic(&self, d: &DataSection) -> PathBuf {
        self.0.join("synthetic").join(format!(
            "faces-{}x{}px-seed{}",
            d.synthetic_count, d.image_size, d.seed
        ))
    }
}

/// The dataset folder `d` names; a synthetic one is generated first where it is missing or
/// damaged (`ensure_synthetic`, which tells `warn`).
pub fn source(d: &DataSection, root: &DataRoot, warn: &mut dyn FnMut(String)) -> Result<Source> {
    let given = (!d.path.is_empty()).then(|| PathBuf::from(&d.path));
    Ok(match d.source {
        DataSource::Synthetic => {
            let managed = given.is_none();
            let dir = given.unwrap_or_else(|| root.synthetic(d));
            ensure_synthetic(&dir, d, managed, warn)?;
            Source::Seed { dir }
        }
        DataSource::Seed => Source::Seed {
            dir: required(given, "seed")?,
        },
        DataSource::Folder => Source::Folder {
            dir: required(given, "folder")?,
            tags_file: (!d.tags_file.is_empty()).then(|| PathBuf::from(&d.tags_file)),
        },
    })
}

/// The folder a run with `d` generates the synthetic dataset into (as `source` would), None
/// when it generates nothing: for a check, before anything is written, that it can.
pub fn synthetic_to_generate(d: &DataSection, root: &DataRoot) -> Option<PathBuf> {
    if d.source != DataSource::Synthetic {
        return None;
    }
    let managed = d.path.is_empty();
    let dir = if managed {
        root.synthetic(d)
    } else {
        PathBuf::from(&d.path)
    };
    match check_once(&dir, d) {
        Ok(()) => None,
        Err(Damage::Unrecorded | Damage::OtherSettings(_)) if !managed => None,
        Err(_) => Some(dir),
    }
}

/// Generates the synthetic dataset `d` at `dir` where there is none, and again where the one
/// there differs from its record (a cache restored in part, an image deleted or cut short):
/// the generator made it and makes it again byte for byte. Where no record says the generator
/// made it, the folder is used as it is at a path the user gave (it may be anyone's), and
/// generated again at the default path (an older version made it, before the record). Errors:
/// a folder at a path the user gave that was generated with other settings.
fn ensure_synthetic(
    dir: &Path,
    d: &DataSection,
    managed: bool,
    warn: &mut dyn FnMut(String),
) -> Result<()> {
    let why = match check_once(dir, d) {
        Ok(()) => return Ok(()),
        Err(Damage::Absent) => return generate_unless_another_does(dir, d),
        Err(Damage::Unrecorded) if !managed => return Ok(()),
        Err(Damage::OtherSettings(why)) if !managed => bail!(
            "[data] path {} holds another synthetic dataset: {why}; set [data] synthetic_count, \
             image_size and seed to match it, or give a new path",
            dir.display()
        ),
        Err(Damage::Unrecorded) => {
            format!("it has no {} (an older version made it)", synth::RECORD)
        }
        Err(Damage::OtherSettings(why) | Damage::Differs(why)) => why,
    };
    let name = dir.file_name().unwrap_or_default().to_string_lossy();
    let _lock = crate::fsx::lock_or_wait(
        &dir.with_file_name(format!(".{name}.lock")),
        "waiting for another runner generating this dataset again",
        warn,
    )?;
    // Checked again under the lock: another runner may have generated it meanwhile.
    if synth::check(dir, &synth_options(d)).is_ok() {
        return Ok(());
    }
    warn(format!(
        "{} is not the dataset generated there: {why}; generating it again (the same images)",
        dir.display()
    ));
    std::fs::remove_dir_all(dir).with_context(|| format!("cannot remove {}", dir.display()))?;
    generate(dir, d)
}

fn generate_unless_another_does(dir: &Path, d: &DataSection) -> Result<()> {
    match generate(dir, d) {
        // Another runner generating the same dataset at the same time is no error.
        Err(_) if synth::check(dir, &synth_options(d)).is_ok() => Ok(()),
        done => done,
    }
}

/// `synth::check` of `dir` for `d`, remembered while it holds: it reads every file, and one
/// command asks up to three times (the settings check, the resume's data check, the load).
pub(super) fn check_once(dir: &Path, d: &DataSection) -> Result<(), Damage> {
    static WHOLE: Mutex<Vec<(PathBuf, SynthOptions)>> = Mutex::new(Vec::new());
    let key = (dir.to_path_buf(), synth_options(d));
    let mut whole = WHOLE.lock().unwrap_or_else(|p| p.into_inner());
    if whole.contains(&key) {
        return Ok(());
    }
    synth::check(dir, &key.1)?;
    whole.push(key);
    Ok(())
}

pub(super) fn synth_options(d: &DataSection) -> SynthOptions {
    SynthOptions {
        count: d.synthetic_count as usize,
        size: d.image_size,
        seed: d.seed,
    }
}

fn required(path: Option<PathBuf>, source: &str) -> Result<PathBuf> {
    match path {
        Some(p) => Ok(p),
        None => bail!("[data] source = \"{source}\" needs [data] path: the dataset's folder"),
    }
}

fn generate(dir: &Path, d: &DataSection) -> Result<()> {
    let count = d.synthetic_count as usize;
    let bar = progress::counter(
        count as u64,
        &format!("generating {count} synthetic faces ({} px)", d.image_size),
    );
    synth::generate(dir, &synth_options(d), &|done| bar.advance_to(done as u64))?;
    bar.finish();
    Ok(())
}

/// Loads the dataset `d` describes, with warnings (skipped images) sent to `warn`.
pub fn load_dataset(
    d: &DataSection,
    root: &DataRoot,
    warn: &mut dyn FnMut(String),
) -> Result<Loaded> {
    let opts = LoadOptions {
        source: source(d, root, warn)?,
        image_size: d.image_size,
        limit: d.limit as usize,
        holdout: d.holdout as usize,
        max_bad_fraction: d.max_bad_fraction,
        seed: d.seed,
        cache_dir: root.cache(),
    };
    load(&opts, warn)
}

/// How many images `d` trains on, from the source's listing alone (no image is decoded, so an
/// unreadable one, skipped when the data loads, is still counted); None when the source cannot
/// be listed or the holdout leaves nothing.
pub fn training_images(d: &DataSection) -> Option<usize> {
    let total = match d.source {
        DataSource::Synthetic => d.synthetic_count as usize,
        DataSource::Seed => seed_layout::list(Path::new(&d.path)).ok()?.items.len(),
        DataSource::Folder => {
            let tags = (!d.tags_file.is_empty()).then(|| Path::new(&d.tags_file));
            folder::list(Path::new(&d.path), tags, &mut |_| {})
                .ok()?
                .items
                .len()
        }
    };
    training_split(total, d)
}

/// How many of `listed` images `d` trains on: all but its holdout, at most its limit; None
/// when the holdout leaves nothing.
pub fn training_split(listed: usize, d: &DataSection) -> Option<usize> {
    let available = listed.checked_sub(d.holdout as usize).filter(|&n| n > 0)?;
    Some(match d.limit as usize {
        0 => available,
        limit => limit.min(available),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn training_images_of_a_synthetic_set() {
        let d = |count, holdout, limit| DataSection {
            synthetic_count: count,
            holdout,
            limit,
            ..DataSection::default()
        };
        let rows = [
            (d(18_000, 2_000, 13_000), Some(13_000), "the limit"),
            (d(18_000, 500, 0), Some(17_500), "all but the holdout"),
            (d(1_000, 500, 900), Some(500), "a limit past what is left"),
            (d(500, 500, 0), None, "nothing left to train on"),
        ];
        for (section, want, why) in rows {
            assert_eq!(training_images(&section), want, "{why}");
        }
    }

    #[test]
    fn runners_updating_a_cache_file_at_once_each_keep_their_entry() {
        let dir = tempfile::tempdir().unwrap();
        let root = DataRoot(dir.path().to_path_buf());
        std::thread::scope(|scope| {
            for writer in 0..4 {
                let root = &root;
                scope.spawn(move || {
                    for n in 0..25 {
                        root.update_cached_json(
                            "t.json",
                            |all: &mut std::collections::BTreeMap<String, u32>| {
                                all.insert(format!("{writer}-{n}"), n);
                            },
                        )
                        .unwrap();
                    }
                });
            }
        });
        let all: std::collections::BTreeMap<String, u32> = root.read_cached_json("t.json").unwrap();
        assert_eq!(all.len(), 100, "every writer's every entry survives");
    }
}
