//! Summary values for the scalars, images and text dashboards, in the forms tensorboard's
//! readers and the tools that import event files (W&B, Aim) all read: `simple_value` scalars,
//! `Summary.Image` PNGs, and the text plugin's string tensor (`plugins/text/summary.py`).

use anyhow::{Result, bail};
use prost::Message;

use super::proto::{
    DataType, Dim, Image, PluginData, SummaryMetadata, SummaryValue, TensorProto, TensorShapeProto,
    TextPluginData, Value,
};

/// A scalar; the format stores it as f32 (NaN and infinities included).
pub fn scalar(tag: &str, value: f64) -> SummaryValue {
    SummaryValue {
        tag: tag.to_string(),
        metadata: None,
        value: Some(Value::SimpleValue(value as f32)),
    }
}

/// A PNG image, stored as encoded; its size and colour type come from its header.
pub fn image(tag: &str, png: &[u8]) -> Result<SummaryValue> {
    let (width, height, colorspace) = png_header(png)?;
    Ok(SummaryValue {
        tag: tag.to_string(),
        metadata: None,
        value: Some(Value::Image(Image {
            height,
            width,
            colorspace,
            encoded_image_string: png.to_vec(),
        })),
    })
}

/// Markdown text (the text dashboard renders it).
pub fn text(tag: &str, markdown: &str) -> SummaryValue {
    SummaryValue {
        tag: tag.to_string(),
        metadata: Some(SummaryMetadata {
            plugin_data: Some(PluginData {
                plugin_name: "text".to_string(),
                content: TextPluginData { version: 0 }.encode_to_vec(),
            }),
        }),
        value: Some(Value::Tensor(TensorProto {
            dtype: DataType::String as i32,
            tensor_shape: Some(TensorShapeProto {
                dim: vec![Dim { size: 1 }],
            }),
            string_val: vec![markdown.as_bytes().to_vec()],
        })),
    }
}

/// Width, height and `Summary.Image` colorspace of a PNG, read off its IHDR chunk (PNG spec,
/// 11.2.2: width and height big-endian at bytes 16 and 20, colour type at byte 25).
fn png_header(png: &[u8]) -> Result<(i32, i32, i32)> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if png.len() < 26 || &png[..8] != SIGNATURE || &png[12..16] != b"IHDR" {
        bail!("not a PNG image ({} bytes)", png.len());
    }
    let be = |at: usize| i32::from_be_bytes([png[at], png[at + 1], png[at + 2], png[at + 3]]);
    let colorspace = match png[25] {
        0 => 1,     // grey
        4 => 2,     // grey + alpha
        2 | 3 => 3, // RGB, palette
        6 => 4,     // RGBA
        t => bail!("PNG colour type {t} is not one the PNG spec defines"),
    };
    Ok((be(16), be(20), colorspace))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_pixel(w, h, image::Rgb([10, 200, 30]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn image_size_comes_from_the_png() {
        let bytes = png(66, 34);
        let v = image("samples/grid", &bytes).unwrap();
        let Some(Value::Image(img)) = v.value else {
            panic!("not an image");
        };
        assert_eq!((img.width, img.height, img.colorspace), (66, 34, 3));
        assert_eq!(img.encoded_image_string, bytes);
        assert!(image("x", b"GIF89a....................").is_err());
    }
}
