//! Test fixtures: small images and seed folders written with the image crate.

use std::fs;
use std::path::Path;

use image::{ImageBuffer, Rgb, RgbImage};

pub(super) const TAGS: &str = "red hair,blue hair\nlong hair\nred eyes";

/// An RGB image whose content depends on `name`, so files differ.
pub(super) fn rgb(width: u32, height: u32, name: &Path) -> RgbImage {
    let salt = blake3::hash(name.as_os_str().as_encoded_bytes());
    let salt = salt.as_bytes();
    ImageBuffer::from_fn(width, height, |x, y| {
        let s = salt[((x + y * width) % 32) as usize];
        Rgb([(x * 7) as u8 ^ s, (y * 13) as u8, s])
    })
}

pub(super) fn write_png(path: &Path, width: u32, height: u32) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    rgb(width, height, path).save(path).unwrap();
}

pub(super) fn write_jpeg(path: &Path, width: u32, height: u32) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    rgb(width, height, path).save(path).unwrap();
}

/// A seed folder with `TAGS`, the given `filtered.txt` lines and one 8x8 JPEG per line.
pub(super) fn seed_folder(dir: &Path, lines: &[&str]) {
    fs::write(dir.join("tags.txt"), TAGS).unwrap();
    fs::write(dir.join("filtered.txt"), lines.join("\n") + "\n").unwrap();
    for k in 0..lines.len() {
        write_jpeg(&dir.join(format!("selected/{k}.jpg")), 8, 8);
    }
}
