//! Contact sheets: many images tiled in a grid, for looking at a dataset or a generator's samples.

use std::path::Path;

use anyhow::Result;
use image::{Rgb, RgbImage};

use crate::fsx;

/// Gap between tiles, in pixels.
const GAP: u32 = 2;

/// Writes a contact sheet of `images` (`columns` per row) to `path` as a PNG, atomically.
pub fn write_contact_sheet(path: &Path, images: &[RgbImage], columns: u32) -> Result<()> {
    let mut png = std::io::Cursor::new(Vec::new());
    contact_sheet(images, columns).write_to(&mut png, image::ImageFormat::Png)?;
    fsx::write_atomic(path, png.get_ref())
}

/// Tiles `images` row by row, `columns` per row, on a dark grey ground.
///
/// Tiles take the size of the largest image; an empty slice gives a 1 x 1 image.
pub fn contact_sheet(images: &[RgbImage], columns: u32) -> RgbImage {
    let columns = columns.max(1);
    let tile_w = images.iter().map(|i| i.width()).max().unwrap_or(0);
    let tile_h = images.iter().map(|i| i.height()).max().unwrap_or(0);
    if images.is_empty() || tile_w == 0 || tile_h == 0 {
        return RgbImage::from_pixel(1, 1, Rgb([32, 32, 32]));
    }
    let n = images.len() as u32;
    let cols = columns.min(n);
    let rows = n.div_ceil(cols);
    let w = cols * tile_w + (cols + 1) * GAP;
    let h = rows * tile_h + (rows + 1) * GAP;
    let mut sheet = RgbImage::from_pixel(w, h, Rgb([32, 32, 32]));
    for (i, img) in images.iter().enumerate() {
        let (col, row) = (i as u32 % cols, i as u32 / cols);
        let x = GAP + col * (tile_w + GAP);
        let y = GAP + row * (tile_h + GAP);
        image::imageops::replace(&mut sheet, img, i64::from(x), i64::from(y));
    }
    sheet
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_has_grid_size_and_places_tiles() {
        let red = RgbImage::from_pixel(4, 4, Rgb([255, 0, 0]));
        let blue = RgbImage::from_pixel(4, 4, Rgb([0, 0, 255]));
        let sheet = contact_sheet(&[red.clone(), blue, red], 2);
        assert_eq!(sheet.dimensions(), (2 * 4 + 3 * GAP, 2 * 4 + 3 * GAP));
        assert_eq!(sheet.get_pixel(GAP, GAP), &Rgb([255, 0, 0]));
        assert_eq!(sheet.get_pixel(2 * GAP + 4, GAP), &Rgb([0, 0, 255]));
        assert_eq!(
            sheet.get_pixel(2 * GAP + 4, 2 * GAP + 4),
            &Rgb([32, 32, 32])
        );
    }

    #[test]
    fn empty_input_gives_a_tiny_sheet() {
        assert_eq!(contact_sheet(&[], 8).dimensions(), (1, 1));
    }
}
