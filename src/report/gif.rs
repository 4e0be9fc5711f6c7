//! progress.gif (the fixed-noise grids over the epochs) and the choice of best.png.

use anyhow::{Context, Result};
use image::codecs::gif::{GifEncoder, Repeat};
use image::imageops::FilterType;
use image::{Delay, Frame, RgbaImage};

use crate::results::reader::Run;

/// At most this many frames (evenly spaced, first and last kept), so a 300-epoch run stays small.
pub const MAX_FRAMES: usize = 60;
/// Frames wider than this are scaled down.
pub const MAX_WIDTH: u32 = 512;

/// The epochs to animate: all, or MAX_FRAMES evenly spaced ones including the last.
pub fn frame_epochs(epochs: &[u32]) -> Vec<u32> {
    if epochs.len() <= MAX_FRAMES {
        return epochs.to_vec();
    }
    (0..MAX_FRAMES)
        .map(|i| epochs[i * (epochs.len() - 1) / (MAX_FRAMES - 1)])
        .collect()
}

/// Encodes the PNG grids (in order) as a looping GIF: 0.3 s a frame, 2 s on the last.
pub fn gif(pngs: &[Vec<u8>]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut enc = GifEncoder::new_with_speed(&mut out, 20);
        enc.set_repeat(Repeat::Infinite)?;
        for (i, png) in pngs.iter().enumerate() {
            let mut img: RgbaImage = image::load_from_memory(png)
                .context("a sample grid is not a readable PNG")?
                .to_rgba8();
            if img.width() > MAX_WIDTH {
                let h = img.height() * MAX_WIDTH / img.width();
                img = image::imageops::resize(&img, MAX_WIDTH, h, FilterType::Triangle);
            }
            let ms = if i + 1 == pngs.len() { 2000 } else { 300 };
            enc.encode_frame(Frame::from_parts(
                img,
                0,
                0,
                Delay::from_numer_denom_ms(ms, 1),
            ))?;
        }
    }
    Ok(out)
}

/// Which grid is best.png and why.
#[derive(Debug, Clone, PartialEq)]
pub enum Best {
    /// The epoch with the lowest swd on the surviving timeline that has a grid.
    Swd { epoch: u32, swd: f64 },
    /// No swd logged: the last grid of the surviving timeline.
    Last { epoch: u32 },
}

impl Best {
    pub fn epoch(&self) -> u32 {
        match self {
            Best::Swd { epoch, .. } | Best::Last { epoch } => *epoch,
        }
    }
    pub fn describe(&self) -> String {
        match self {
            Best::Swd { epoch, swd } => format!("epoch {epoch}, lowest swd ({swd:.4})"),
            Best::Last { epoch } => format!("epoch {epoch}, the last grid (no swd logged)"),
        }
    }
}

/// best.png among the grids of the surviving timeline (`Run::sample_epochs`).
pub fn best(run: &Run) -> Option<Best> {
    let with_grid = |e: u32| run.sample_epochs.contains(&e);
    let by_swd = run
        .kept()
        .filter(|r| with_grid(r.epoch))
        .filter_map(|r| r.swd.map(|s| (r.epoch, s)))
        .min_by(|a, b| a.1.total_cmp(&b.1));
    match by_swd {
        Some((epoch, swd)) => Some(Best::Swd { epoch, swd }),
        None => run.sample_epochs.last().map(|&epoch| Best::Last { epoch }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_thinned_evenly_keeping_both_ends() {
        let few: Vec<u32> = (1..=10).collect();
        assert_eq!(frame_epochs(&few), few);
        let many: Vec<u32> = (1..=300).collect();
        let got = frame_epochs(&many);
        assert_eq!(got.len(), MAX_FRAMES);
        assert_eq!((got[0], got[MAX_FRAMES - 1]), (1, 300));
        assert!(got.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn gif_round_trips_frames() {
        let mut png = Vec::new();
        image::RgbImage::from_pixel(8, 8, image::Rgb([200, 10, 10]))
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let bytes = gif(&[png.clone(), png]).unwrap();
        assert!(bytes.starts_with(b"GIF89a"));
    }
}
