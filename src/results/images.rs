//! Sample grids on disk, written atomically: the run's `samples/epoch-NNNN.png` (listed, and
//! deleted past an epoch a rollback or resume goes back to), and `sample --out` in the format
//! its extension names.

use std::io::Cursor;
use std::path::Path;

use anyhow::{Context, Result};
use image::{ImageFormat, RgbImage};

use super::names;
use crate::fsx;

/// `img` as PNG bytes.
pub fn encode_png(img: &RgbImage) -> Vec<u8> {
    encode(img, ImageFormat::Png)
}

/// Writes `img` to `path` as a PNG, atomically.
pub fn write_png(path: &Path, img: &RgbImage) -> Result<()> {
    fsx::write_atomic(path, &encode_png(img))
}

/// The format a file's extension names: PNG (`.png`) or JPEG (`.jpg`, `.jpeg`), any case;
/// None for anything else.
pub fn format_for(path: &Path) -> Option<ImageFormat> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "png" => Some(ImageFormat::Png),
        "jpg" | "jpeg" => Some(ImageFormat::Jpeg),
        _ => None,
    }
}

/// Writes `img` to `path`, atomically, in the format `format_for(path)` names. Errors: another
/// extension (check with `format_for` first to refuse it before any work).
pub fn write_image(path: &Path, img: &RgbImage) -> Result<()> {
    let Some(format) = format_for(path) else {
        anyhow::bail!("{} names no image format: use .png or .jpg", path.display());
    };
    fsx::write_atomic(path, &encode(img, format))
}

/// The epochs of the sample grids in `samples`, ascending (none when there is no such folder).
pub(super) fn grid_epochs(samples: &Path) -> Result<Vec<u32>> {
    let entries = match std::fs::read_dir(samples) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot list {}", samples.display())),
    };
    let mut epochs = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list {}", samples.display()))?;
        if let Some(epoch) = names::sample_grid_epoch(&entry.file_name().to_string_lossy()) {
            epochs.push(epoch);
        }
    }
    epochs.sort_unstable();
    Ok(epochs)
}

/// Moves the newest sample grid in `samples` past `epoch` (the last of a timeline a rollback
/// abandons) to the path `to` gives for its epoch, so the collapse stays visible after
/// `remove_grids_after`; nothing when there is none.
pub(super) fn keep_last_grid_after(
    samples: &Path,
    epoch: u32,
    to: impl Fn(u32) -> std::path::PathBuf,
) -> Result<()> {
    let Some(&last) = grid_epochs(samples)?.iter().rfind(|&&e| e > epoch) else {
        return Ok(());
    };
    let (from, to) = (samples.join(names::sample_grid(last)), to(last));
    let folder = to.parent().expect("a file in a folder");
    std::fs::create_dir_all(folder)
        .with_context(|| format!("cannot create {}", folder.display()))?;
    std::fs::rename(&from, &to)
        .with_context(|| format!("cannot move {} to {}", from.display(), to.display()))?;
    fsx::sync_dir(folder)
}

/// Deletes the grids `keep_last_grid_after` kept for the rollbacks after the first `kept` (a
/// resume cut their event rows: they are rolled back again, or never were).
pub(super) fn remove_rolled_back_after(samples: &Path, kept: u32) -> Result<()> {
    let folder = samples.join(names::ROLLED_BACK);
    let entries = match std::fs::read_dir(&folder) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot list {}", folder.display())),
    };
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list {}", folder.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if names::rolled_back_grid_number(&name).is_some_and(|k| k > kept) {
            std::fs::remove_file(entry.path())
                .with_context(|| format!("cannot delete {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Deletes the sample grids in `samples` of the epochs after `epoch`: the timeline went back
/// to it, so they show epochs it no longer holds (trained again, they are written again).
pub(super) fn remove_grids_after(samples: &Path, epoch: u32) -> Result<()> {
    let later: Vec<u32> = grid_epochs(samples)?
        .into_iter()
        .filter(|&e| e > epoch)
        .collect();
    for &e in &later {
        let path = samples.join(names::sample_grid(e));
        match std::fs::remove_file(&path) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
                return Err(err).with_context(|| format!("cannot delete {}", path.display()));
            }
            _ => {}
        }
    }
    if !later.is_empty() {
        fsx::sync_dir(samples)?;
    }
    Ok(())
}

fn encode(img: &RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format)
        .expect("an RGB image encodes to memory as PNG or JPEG");
    out.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extension_picks_the_format_and_the_bytes_match_it() {
        let dir = tempfile::tempdir().unwrap();
        let img = RgbImage::from_pixel(8, 8, image::Rgb([200, 40, 40]));
        for (name, format) in [
            ("a.png", ImageFormat::Png),
            ("b.JPG", ImageFormat::Jpeg),
            ("c.jpeg", ImageFormat::Jpeg),
        ] {
            let path = dir.path().join(name);
            write_image(&path, &img).unwrap();
            let bytes = std::fs::read(&path).unwrap();
            assert_eq!(image::guess_format(&bytes).unwrap(), format, "{name}");
        }
        assert!(format_for(Path::new("x.gif")).is_none());
        assert!(write_image(&dir.path().join("x"), &img).is_err());
    }

    #[test]
    fn grids_after_an_epoch_are_deleted_and_the_rest_kept() {
        let dir = tempfile::tempdir().unwrap();
        let samples = dir.path().join("samples");
        assert!(grid_epochs(&samples).unwrap().is_empty(), "no folder yet");
        remove_grids_after(&samples, 0).unwrap();
        let img = RgbImage::new(4, 4);
        for e in [3, 1, 12, 2] {
            write_png(&samples.join(names::sample_grid(e)), &img).unwrap();
        }
        write_png(&samples.join(names::BEST_SAMPLES), &img).unwrap();
        assert_eq!(grid_epochs(&samples).unwrap(), [1, 2, 3, 12]);
        remove_grids_after(&samples, 2).unwrap();
        assert_eq!(grid_epochs(&samples).unwrap(), [1, 2]);
        assert!(
            samples.join(names::BEST_SAMPLES).is_file(),
            "best.png is no grid"
        );
    }
}
