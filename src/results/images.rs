//! Sample grids on disk: PNG files, written atomically (the run's `samples/epoch-NNNN.png`, and
//! `sample --out`).

use std::path::Path;

use anyhow::Result;
use image::RgbImage;

use crate::fsx;

/// `img` as PNG bytes.
pub fn encode_png(img: &RgbImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("PNG encodes to memory");
    out.into_inner()
}

/// Writes `img` to `path` as a PNG, atomically.
pub fn write_png(path: &Path, img: &RgbImage) -> Result<()> {
    fsx::write_atomic(path, &encode_png(img))
}
