//! Writes a whole synthetic dataset (tags.txt, filtered.txt, `selected/<k>.png`, its record
//! synthetic.json) and moves it into place.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context;
use rayon::prelude::*;

use super::tags::{tags_txt, vocabulary};
use super::{check_size, face_for, image_of};

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SynthOptions {
    /// Number of images.
    pub count: usize,
    /// Width and height in pixels (a power of two in 16..=256).
    pub size: u32,
    /// Image `k` depends only on `(seed, k)`.
    pub seed: u64,
}

impl Default for SynthOptions {
    fn default() -> Self {
        Self {
            count: 18_000,
            size: 64,
            seed: 0,
        }
    }
}

/// What was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SynthSummary {
    pub out: PathBuf,
    pub count: usize,
    pub size: u32,
    pub seed: u64,
    /// Images carrying each tag, in vocabulary order (all 26 tags listed).
    pub tag_counts: Vec<(String, usize)>,
}

/// Generates `opts.count` labelled faces into the new directory `out`.
///
/// Everything is written to a hidden sibling directory first and renamed to `out` at the end, so
/// an interrupted run never leaves a half dataset at `out`. Refuses an `out` that exists and is
/// not an empty directory. `on_progress` receives the number of images finished so far (from
/// several threads, in no particular order of calls).
pub fn generate(
    out: &Path,
    opts: &SynthOptions,
    on_progress: &(dyn Fn(usize) + Sync),
) -> anyhow::Result<SynthSummary> {
    check_size(opts.size)?;
    check_target(out)?;
    let name = out
        .file_name()
        .with_context(|| format!("output path {} has no final directory name", out.display()))?;
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent)
        .with_context(|| format!("cannot create the parent directory {}", parent.display()))?;
    let tmp = parent.join(format!(
        ".{}.partial-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    if tmp.exists() {
        // Only a run of a process with our pid can have made it, and that run is gone.
        fs::remove_dir_all(&tmp)
            .with_context(|| format!("cannot remove stale {}", tmp.display()))?;
    }
    let guard = RemoveOnDrop(Some(tmp.clone()));
    let images = tmp.join("selected");
    fs::create_dir_all(&images).with_context(|| format!("cannot create {}", images.display()))?;

    let done = AtomicUsize::new(0);
    let tag_lines: Vec<Vec<String>> = (0..opts.count)
        .into_par_iter()
        .map(|k| -> anyhow::Result<Vec<String>> {
            let face = face_for(k as u64, opts.seed);
            let path = images.join(format!("{k}.png"));
            image_of(&face, opts.size)
                .save_with_format(&path, image::ImageFormat::Png)
                .with_context(|| format!("cannot write {}", path.display()))?;
            on_progress(done.fetch_add(1, Ordering::Relaxed) + 1);
            Ok(face.tags.names())
        })
        .collect::<anyhow::Result<_>>()?;

    write_synced(&tmp.join("tags.txt"), tags_txt().as_bytes())?;
    write_synced(&tmp.join("filtered.txt"), &filtered_txt(&tag_lines))?;
    super::record::write(&tmp, opts)?;
    check_target(out)?;
    if out.exists() {
        // An empty directory: replace it (rename over a directory is not portable).
        fs::remove_dir(out).with_context(|| format!("cannot replace empty {}", out.display()))?;
    }
    fs::rename(&tmp, out)
        .with_context(|| format!("cannot move {} to {}", tmp.display(), out.display()))?;
    std::mem::forget(guard);

    Ok(SynthSummary {
        out: out.to_path_buf(),
        count: opts.count,
        size: opts.size,
        seed: opts.seed,
        tag_counts: tag_counts(&tag_lines),
    })
}

/// `filtered.txt`: line k is `k,tag,tag,...` for image k.
pub fn filtered_txt(tag_lines: &[Vec<String>]) -> Vec<u8> {
    let mut text = String::new();
    for (k, tags) in tag_lines.iter().enumerate() {
        text.push_str(&k.to_string());
        for t in tags {
            text.push(',');
            text.push_str(t);
        }
        text.push('\n');
    }
    text.into_bytes()
}

fn tag_counts(tag_lines: &[Vec<String>]) -> Vec<(String, usize)> {
    vocabulary()
        .map(|t| {
            let n = tag_lines
                .iter()
                .filter(|l| l.iter().any(|x| x == t))
                .count();
            (t.to_string(), n)
        })
        .collect()
}

fn check_target(out: &Path) -> anyhow::Result<()> {
    if !out.exists() {
        return Ok(());
    }
    anyhow::ensure!(
        out.is_dir(),
        "{} exists and is not a directory: choose another output path",
        out.display()
    );
    let mut entries =
        fs::read_dir(out).with_context(|| format!("cannot read {}", out.display()))?;
    anyhow::ensure!(
        entries.next().is_none(),
        "{} already exists and is not empty: choose another output path or remove it first",
        out.display()
    );
    Ok(())
}

pub(super) fn write_synced(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut f =
        fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Removes the partial directory when generation fails or panics.
struct RemoveOnDrop(Option<PathBuf>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = fs::remove_dir_all(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_the_original_layout() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("faces");
        let opts = SynthOptions {
            count: 12,
            size: 16,
            seed: 3,
        };
        let max_seen = AtomicUsize::new(0);
        let summary = generate(&out, &opts, &|n| {
            max_seen.fetch_max(n, Ordering::Relaxed);
        })
        .unwrap();
        assert_eq!(max_seen.load(Ordering::Relaxed), 12);
        assert_eq!(
            fs::read_to_string(out.join("tags.txt")).unwrap(),
            tags_txt()
        );
        let filtered = fs::read_to_string(out.join("filtered.txt")).unwrap();
        let lines: Vec<_> = filtered.lines().collect();
        assert_eq!(lines.len(), 12);
        for (k, line) in lines.iter().enumerate() {
            let mut fields = line.split(',');
            assert_eq!(fields.next(), Some(k.to_string().as_str()));
            assert!(fields.all(|t| vocabulary().any(|v| v == t)), "{line}");
            let img = image::open(out.join(format!("selected/{k}.png")))
                .unwrap()
                .to_rgb8();
            assert_eq!(img.dimensions(), (16, 16));
            assert_eq!(
                img,
                super::super::render(k as u64, 3, 16).image,
                "image {k}"
            );
        }
        assert_eq!(summary.tag_counts.len(), 26);
        // Nothing else is left beside the dataset.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn refuses_a_non_empty_output_and_accepts_an_empty_one() {
        let dir = tempfile::tempdir().unwrap();
        let opts = SynthOptions {
            count: 2,
            size: 16,
            seed: 0,
        };
        let full = dir.path().join("full");
        fs::create_dir(&full).unwrap();
        fs::write(full.join("keep.txt"), "x").unwrap();
        let err = generate(&full, &opts, &|_| {}).unwrap_err().to_string();
        assert!(err.contains("not empty"), "{err}");
        assert_eq!(fs::read_dir(&full).unwrap().count(), 1, "left untouched");

        let empty = dir.path().join("empty");
        fs::create_dir(&empty).unwrap();
        generate(&empty, &opts, &|_| {}).unwrap();
        assert!(empty.join("selected/1.png").exists());
    }

    #[test]
    fn rejects_bad_sizes_before_writing() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("x");
        let opts = SynthOptions {
            count: 1,
            size: 48,
            seed: 0,
        };
        assert!(generate(&out, &opts, &|_| {}).is_err());
        assert!(!out.exists());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
