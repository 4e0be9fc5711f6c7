//! One image file to training pixels: decode, convert to RGB, centre-crop, resize, planar layout.

use std::io::Cursor;
use std::path::Path;

use anyhow::Context;
use image::imageops::{self, FilterType};
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageReader, Rgb, RgbImage};

/// Names the pixel recipe below; part of the cache key, so change it when the recipe changes.
pub(super) const RECIPE: &str =
    "strict-jpeg,exif-orientation,rgb(alpha over white),centre-square-crop,lanczos3,planar-u8";

/// One decoded image: training pixels and the size it had.
pub(super) struct Prepared {
    /// `[3, size, size]` planar RGB.
    pub pixels: Vec<u8>,
    /// Width and height of the image as stored (upright), before cropping and resizing.
    pub source: (u32, u32),
}

/// Decodes `path` into `[3, size, size]` planar RGB bytes.
///
/// An incomplete or corrupt file is an error, never an image with a grey or garbled part:
/// JPEGs are decoded by zune-jpeg (the decoder `image` uses) in strict mode, which fails where
/// `image`'s lenient mode fills missing data with grey; PNG's decoder already fails. A JPEG
/// without its end marker and a PNG without its IEND chunk are called incomplete, in the same
/// words. The EXIF orientation (a phone's sideways photo) is applied, as image viewers do.
/// Alpha is composited over white (transparent sprite backgrounds often hide black RGB);
/// greyscale and 16-bit images are converted to 8-bit RGB. The centre square (side = shorter
/// side) is cut out and then resized, which is the same as resizing the shorter side to `size`
/// and cropping the centre, without rounding the longer side.
pub(super) fn prepare(path: &Path, size: u32) -> anyhow::Result<Prepared> {
    let bytes = std::fs::read(path).context("cannot open")?;
    let image = if bytes.starts_with(JPEG_MAGIC) {
        decode_jpeg(&bytes).context("cannot decode JPEG")?
    } else if bytes.starts_with(PNG_MAGIC) {
        anyhow::ensure!(png_is_whole(&bytes), "cannot decode PNG: {INCOMPLETE}");
        decode_other(&bytes).context("cannot decode PNG")?
    } else {
        decode_other(&bytes).context("cannot decode")?
    };
    let source = (image.width(), image.height());
    Ok(Prepared {
        pixels: planar(&square(to_rgb(image), size)),
        source,
    })
}

/// Why a file that ends early is refused, for every format.
const INCOMPLETE: &str =
    "the file ends before its end marker: it is incomplete (an interrupted download?)";

/// A PNG (or another format `image` reads) turned upright by its EXIF orientation. `image`'s
/// error already says its cause, which its source chain would repeat: only its own words.
fn decode_other(bytes: &[u8]) -> anyhow::Result<DynamicImage> {
    let own_words = |e: image::ImageError| anyhow::anyhow!("{e}");
    let mut decoder = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .context("cannot read")?
        .into_decoder()
        .map_err(own_words)?;
    let orientation = decoder.orientation().map_err(own_words)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(own_words)?;
    image.apply_orientation(orientation);
    Ok(image)
}

const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Whether a PNG's chunks run to its IEND chunk: false for a file cut short (a chunk reaching
/// past the end) or one whose missing tail was zero-filled (a chunk type of zero bytes). Other
/// damage is the decoder's to report.
fn png_is_whole(bytes: &[u8]) -> bool {
    let mut i = PNG_MAGIC.len();
    while let Some(header) = bytes.get(i..i + 8) {
        let length = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        match &header[4..] {
            b"IEND" => return true,
            [0, 0, 0, 0] => return false,
            _ => i = i.saturating_add(12).saturating_add(length),
        }
    }
    false
}

const JPEG_MAGIC: &[u8] = b"\xff\xd8\xff";

/// A whole JPEG as RGB, turned upright by its EXIF orientation; a file that ends early or
/// whose compressed data is damaged is an error.
fn decode_jpeg(bytes: &[u8]) -> anyhow::Result<DynamicImage> {
    use zune_jpeg::zune_core::{
        bytestream::ZCursor, colorspace::ColorSpace, options::DecoderOptions,
    };
    let options = DecoderOptions::default()
        .set_strict_mode(true)
        .jpeg_set_out_colorspace(ColorSpace::RGB);
    anyhow::ensure!(has_end_marker(bytes), INCOMPLETE);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    let pixels = decoder.decode().map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let (w, h) = decoder
        .dimensions()
        .context("no dimensions after decoding")?;
    let rgb = RgbImage::from_raw(w as u32, h as u32, pixels)
        .context("the decoder returned fewer pixels than the image has")?;
    let orientation = decoder
        .exif()
        .and_then(|exif| Orientation::from_exif_chunk(exif))
        .unwrap_or(Orientation::NoTransforms);
    let mut image = DynamicImage::ImageRgb8(rgb);
    image.apply_orientation(orientation);
    Ok(image)
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

/// Whether the JPEG's compressed data is followed by an end-of-image marker (FF D9). Skips the
/// header segments by their lengths first, so an EXIF thumbnail's own markers do not count; bytes
/// after the marker (some phones append data) are allowed. A download cut short, or one whose
/// missing tail was zero-filled, has no such marker; strict decoding alone reads zeros as data.
fn has_end_marker(bytes: &[u8]) -> bool {
    let mut i = 2; // after SOI
    while i + 3 < bytes.len() && bytes[i] == 0xff {
        match bytes[i + 1] {
            0xda => break,                // start of scan: data follows
            0xff => i += 1,               // fill byte
            0x01 | 0xd0..=0xd7 => i += 2, // markers without a length
            _ => i += 2 + u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]) as usize,
        }
    }
    bytes
        .get(i..)
        .is_some_and(|scan| scan.windows(2).any(|w| w == [0xff, 0xd9]))
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

    fn prepare(path: &Path, size: u32) -> anyhow::Result<Vec<u8>> {
        super::prepare(path, size).map(|p| p.pixels)
    }

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

    /// A JPEG of `w` x `h` pixels: left half red, right half blue.
    fn halves_jpeg(w: u32, h: u32) -> Vec<u8> {
        let image = RgbImage::from_fn(w, h, |x, _| {
            if x < w / 2 {
                Rgb([255, 0, 0])
            } else {
                Rgb([0, 0, 255])
            }
        });
        let mut out = Cursor::new(Vec::new());
        image.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
        out.into_inner()
    }

    /// `jpeg` with an EXIF APP1 segment holding only the orientation tag (0x0112).
    fn with_exif_orientation(jpeg: &[u8], orientation: u8) -> Vec<u8> {
        let mut tiff = b"Exif\0\0MM\0\x2a\0\0\0\x08\0\x01".to_vec();
        tiff.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0]);
        tiff.extend_from_slice(&[0, 0, 0, 0]);
        let mut out = jpeg[..2].to_vec();
        out.extend_from_slice(&[0xff, 0xe1]);
        out.extend_from_slice(&(tiff.len() as u16 + 2).to_be_bytes());
        out.extend_from_slice(&tiff);
        out.extend_from_slice(&jpeg[2..]);
        out
    }

    /// Is pixel (x, y) of a planar `[3, side, side]` image more red than blue?
    fn reddish(pixels: &[u8], side: usize, x: usize, y: usize) -> bool {
        let i = y * side + x;
        pixels[i] > pixels[2 * side * side + i]
    }

    #[test]
    fn exif_orientation_is_applied() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("phone.jpg");
        let upright = halves_jpeg(16, 8);
        std::fs::write(&path, &upright).unwrap();
        let plain = prepare(&path, 8).unwrap();
        assert!(
            reddish(&plain, 8, 0, 7) && !reddish(&plain, 8, 7, 0),
            "no tag: as stored"
        );
        // 6 = "rotate 90 degrees clockwise to view": the red left half becomes the top half.
        std::fs::write(&path, with_exif_orientation(&upright, 6)).unwrap();
        let turned = prepare(&path, 8).unwrap();
        assert!(
            reddish(&turned, 8, 7, 0) && !reddish(&turned, 8, 0, 7),
            "rotated upright"
        );
    }

    #[test]
    fn truncated_jpeg_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("partial.jpg");
        fixtures::write_jpeg(&path, 64, 64);
        let whole = std::fs::read(&path).unwrap();
        assert!(prepare(&path, 16).is_ok(), "the whole file decodes");
        for cut in [whole.len() / 2, whole.len() * 9 / 10] {
            std::fs::write(&path, &whole[..cut]).unwrap();
            let message = format!("{:#}", prepare(&path, 16).unwrap_err());
            assert!(
                message.starts_with("cannot decode JPEG"),
                "cut at {cut}: {message}"
            );
        }
        // A cut file whose EXIF thumbnail (in APP1, before the image) has its own end marker.
        let mut thumb = whole[..2].to_vec();
        let app1 = b"Exif\0\0\xff\xd8\xff\xda\0\x02\x12\x34\xff\xd9";
        thumb.extend_from_slice(&[0xff, 0xe1, 0, app1.len() as u8 + 2]);
        thumb.extend_from_slice(app1);
        thumb.extend_from_slice(&whole[2..whole.len() / 2]);
        std::fs::write(&path, &thumb).unwrap();
        assert!(
            prepare(&path, 16).is_err(),
            "a thumbnail's end marker is not the image's"
        );
        let mut padded = whole[..whole.len() / 2].to_vec();
        padded.resize(whole.len(), 0);
        std::fs::write(&path, &padded).unwrap();
        assert!(
            prepare(&path, 16).is_err(),
            "zero-filled tail of a preallocated download"
        );
        let mut trailer = whole.clone();
        trailer.extend_from_slice(b"trailing data some phones append");
        std::fs::write(&path, &trailer).unwrap();
        assert!(
            prepare(&path, 16).is_ok(),
            "bytes after the end-of-image marker are fine"
        );
    }

    #[test]
    fn truncated_png_is_called_incomplete_as_a_jpeg_is() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("partial.png");
        fixtures::write_png(&path, 64, 64);
        let whole = std::fs::read(&path).unwrap();
        let mut padded = whole[..whole.len() / 2].to_vec();
        padded.resize(whole.len(), 0);
        for (bytes, why) in [
            (whole[..whole.len() / 2].to_vec(), "cut in half"),
            (whole[..whole.len() - 10].to_vec(), "cut in the IEND chunk"),
            (padded, "zero-filled tail of a preallocated download"),
        ] {
            std::fs::write(&path, &bytes).unwrap();
            let message = format!("{:#}", prepare(&path, 16).unwrap_err());
            assert_eq!(message, format!("cannot decode PNG: {INCOMPLETE}"), "{why}");
        }
        let jpeg = dir.path().join("partial.jpg");
        fixtures::write_jpeg(&jpeg, 64, 64);
        let whole = std::fs::read(&jpeg).unwrap();
        std::fs::write(&jpeg, &whole[..whole.len() / 2]).unwrap();
        let message = format!("{:#}", prepare(&jpeg, 16).unwrap_err());
        assert_eq!(message, format!("cannot decode JPEG: {INCOMPLETE}"));
    }

    #[test]
    fn a_corrupt_png_says_its_cause_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.png");
        fixtures::write_png(&path, 8, 8);
        let whole = std::fs::read(&path).unwrap();
        // Without its IHDR chunk (8 + 4 + 13 + 4 bytes after the signature): IDAT comes first.
        let mut no_header = whole[..8].to_vec();
        no_header.extend_from_slice(&whole[8 + 25..]);
        std::fs::write(&path, &no_header).unwrap();
        let message = format!("{:#}", prepare(&path, 8).unwrap_err());
        let (_, cause) = message.split_once(": ").expect(&message);
        assert!(!repeats(cause), "{message}");
        assert!(message.starts_with("cannot decode PNG: "), "{message}");
    }

    /// Whether `text` ends in some `x: x` (a cause said again by its source).
    fn repeats(text: &str) -> bool {
        text.match_indices(": ")
            .any(|(i, _)| text[..i].ends_with(&text[i + 2..]))
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
