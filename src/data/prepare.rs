//! One image file to training pixels: decode, convert to RGB, centre-crop, resize, planar layout.

use std::path::Path;

use anyhow::Context;
use image::imageops::{self, FilterType};
use image::{DynamicImage, ImageReader, Rgb, RgbImage};

/// Names the pixel recipe below; part of the cache key, so change it when the recipe changes.
pub(super) const RECIPE: &str = "rgb(alpha over white),centre-square-crop,lanczos3,planar-u8";

/// Decodes `path` into `[3, size, size]` planar RGB bytes.
///
/// Alpha is composited over white (transparent sprite backgrounds often hide black RGB);
/// greyscale and 16-bit images are converted to 8-bit RGB. The centre square (side = shorter
/// side) is cut out and then resized, which is the same as resizing the shorter side to `size`
/// and cropping the centre, without rounding the longer side.
pub(super) fn prepare(path: &Path, size: u32) -> anyhow::Result<Vec<u8>> {
    let image = ImageReader::open(path)
        .context("cannot open")?
        .with_guessed_format()
        .context("cannot read")?
        .decode()
        .context("cannot decode")?;
    Ok(planar(&square(to_rgb(image), size)))
}

fn to_rgb(image: DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.into_rgb8();
    }
    let rgba = image.into_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let over_white = |c: u8| ((c as u32 * a as u32 + 255 * (255 - a as u32) + 127) / 255) as u8;
        Rgb([over_white(r), over_white(g), over_white(b)])
    })
}

fn square(image: RgbImage, size: u32) -> RgbImage {
    let (w, h) = image.dimensions();
    let side = w.min(h);
    let cropped = if w == h {
        image
    } else {
        imageops::crop_imm(&image, (w - side) / 2, (h - side) / 2, side, side).to_image()
    };
    if side == size {
        cropped
    } else {
        imageops::resize(&cropped, size, size, FilterType::Lanczos3)
    }
}

/// `[h, w, 3]` interleaved to `[3, h, w]` planar, the layout of a u8 tensor.
fn planar(image: &RgbImage) -> Vec<u8> {
    let plane = (image.width() * image.height()) as usize;
    let mut out = vec![0u8; 3 * plane];
    for (i, pixel) in image.pixels().enumerate() {
        for c in 0..3 {
            out[c * plane + i] = pixel.0[c];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::fixtures;
    use super::*;
    use image::{GrayImage, ImageBuffer, Luma, Rgba, RgbaImage};

    #[test]
    fn planar_layout_is_channel_then_row() {
        let image = RgbImage::from_fn(2, 2, |x, y| Rgb([(10 * y + x) as u8, 100, 200]));
        assert_eq!(
            planar(&image),
            [0, 1, 10, 11, 100, 100, 100, 100, 200, 200, 200, 200]
        );
    }

    #[test]
    fn greyscale_becomes_rgb() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("grey.png");
        GrayImage::from_pixel(16, 16, Luma([77]))
            .save(&path)
            .unwrap();
        assert_eq!(prepare(&path, 8).unwrap(), vec![77; 3 * 8 * 8]);
    }

    #[test]
    fn sixteen_bit_greyscale_becomes_8_bit_rgb() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("grey16.png");
        ImageBuffer::<Luma<u16>, _>::from_pixel(4, 4, Luma([0xffffu16]))
            .save(&path)
            .unwrap();
        assert_eq!(prepare(&path, 4).unwrap(), vec![255; 3 * 4 * 4]);
    }

    #[test]
    fn alpha_is_composited_over_white() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rgba.png");
        let mut image = RgbaImage::from_pixel(4, 4, Rgba([0, 0, 0, 0]));
        image.put_pixel(0, 0, Rgba([0, 100, 200, 255]));
        image.save(&path).unwrap();
        let pixels = prepare(&path, 4).unwrap();
        assert_eq!(
            [pixels[0], pixels[16], pixels[32]],
            [0, 100, 200],
            "opaque pixel kept"
        );
        assert_eq!(
            [pixels[1], pixels[17], pixels[33]],
            [255, 255, 255],
            "transparent is white"
        );
    }

    #[test]
    fn non_square_is_centre_cropped() {
        let wide = RgbImage::from_fn(12, 4, |x, _| {
            if (4..8).contains(&x) {
                Rgb([9, 9, 9])
            } else {
                Rgb([200, 0, 0])
            }
        });
        assert_eq!(square(wide, 4), RgbImage::from_pixel(4, 4, Rgb([9, 9, 9])));
        let tall = RgbImage::from_fn(4, 12, |_, y| {
            if (4..8).contains(&y) {
                Rgb([9, 9, 9])
            } else {
                Rgb([200, 0, 0])
            }
        });
        assert_eq!(square(tall, 4), RgbImage::from_pixel(4, 4, Rgb([9, 9, 9])));
    }

    #[test]
    fn jpeg_is_resized_to_the_requested_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("face.jpg");
        fixtures::write_jpeg(&path, 40, 30);
        assert_eq!(prepare(&path, 16).unwrap().len(), 3 * 16 * 16);
    }

    #[test]
    fn corrupt_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.png");
        std::fs::write(&path, b"\x89PNG\r\n\x1a\nnot really").unwrap();
        let message = format!("{:#}", prepare(&path, 8).unwrap_err());
        assert!(message.starts_with("cannot decode"), "{message}");
    }
}
