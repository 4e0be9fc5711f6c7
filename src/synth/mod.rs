//! Procedural anime-face dataset generator, written in the layout of the original 18k tagged faces.
//!
//! Each image's tags are drawn from the original's tag-combination frequencies, then drawn as a
//! face whose hair colour, hair length and iris colours show them. Image `k` of seed `s` depends
//! only on `(s, k)`.

mod canvas;
mod draw;
mod face;
mod features;
mod hair;
mod palette;
mod record;
mod sheet;
mod tags;
mod write;

use image::RgbImage;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

pub use canvas::Part;
pub use record::{Damage, RECORD, check};
pub use sheet::{contact_sheet, write_contact_sheet};
pub use tags::{EYE_TAGS, HAIR_COLOURS, HAIR_LENGTHS, tags_txt, vocabulary};
pub use write::{SynthOptions, SynthSummary, generate};

use face::Face;
use tags::ComboTable;

/// One face drawn without writing a dataset, with the ground truth tests need.
#[derive(Clone, Debug)]
pub struct Rendered {
    pub image: RgbImage,
    /// Tag names in vocabulary order, as written to `filtered.txt`.
    pub tags: Vec<String>,
    /// Base hair colours as drawn (untagged hair still gets a colour); the first dominates.
    pub hair_colours: Vec<[u8; 3]>,
    /// Iris colours of the image-left and image-right eye.
    pub iris_colours: [[u8; 3]; 2],
    /// Which part each pixel shows (row-major, `size * size`), from an aliased redraw.
    pub parts: Vec<Part>,
}

impl Rendered {
    /// Per-channel median RGB of the pixels showing `part`, or `None` if it is not visible.
    ///
    /// A median, and only pixels away from the part's border when any remain, because
    /// anti-aliasing blends edge pixels (and those around highlights) with their neighbours.
    pub fn typical_colour(&self, part: Part) -> Option<[f32; 3]> {
        let w = self.image.width() as usize;
        let h = self.parts.len() / w.max(1);
        let is = |x: usize, y: usize| self.parts[y * w + x] == part;
        let inner = |x: usize, y: usize| {
            x > 0
                && y > 0
                && x + 1 < w
                && y + 1 < h
                && is(x - 1, y)
                && is(x + 1, y)
                && is(x, y - 1)
                && is(x, y + 1)
        };
        let median = |keep: &dyn Fn(usize, usize) -> bool| {
            let mut ch: [Vec<u8>; 3] = Default::default();
            for (x, y, px) in self.image.enumerate_pixels() {
                let (x, y) = (x as usize, y as usize);
                if is(x, y) && keep(x, y) {
                    (0..3).for_each(|i| ch[i].push(px.0[i]));
                }
            }
            (!ch[0].is_empty()).then(|| {
                ch.map(|mut v| {
                    v.sort_unstable();
                    f32::from(v[v.len() / 2])
                })
            })
        };
        median(&inner).or_else(|| median(&|_, _| true))
    }

    /// Fraction of the pixels in rows `y0..y1` that show `part`.
    pub fn coverage(&self, part: Part, y0: u32, y1: u32) -> f32 {
        let w = self.image.width() as usize;
        let rows = &self.parts[y0 as usize * w..y1 as usize * w];
        rows.iter().filter(|p| **p == part).count() as f32 / rows.len().max(1) as f32
    }
}

/// Checks that `size` is a supported image size (a power of two in 16..=256).
pub fn check_size(size: u32) -> anyhow::Result<()> {
    anyhow::ensure!(
        (16..=256).contains(&size) && size.is_power_of_two(),
        "image size {size} is not supported: use a power of two from 16 to 256 (64 is the usual)"
    );
    Ok(())
}

/// Renders image `index` of the dataset for `seed` at `size` x `size`.
///
/// # Panics
/// If `size` fails [`check_size`].
pub fn render(index: u64, seed: u64, size: u32) -> Rendered {
    render_face(&face_for(index, seed), size)
}

/// The random face for image `index`: its own ChaCha stream, so parallel order does not matter.
fn face_for(index: u64, seed: u64) -> Face {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(index);
    let table = ComboTable::builtin();
    let tags = table.sample(&mut rng).clone();
    Face::random(&mut rng, &tags, table)
}

fn render_face(face: &Face, size: u32) -> Rendered {
    if let Err(e) = check_size(size) {
        panic!("{e}");
    }
    let labels = draw::draw(face, size, true);
    Rendered {
        image: image_of(face, size),
        tags: face.tags.names(),
        hair_colours: face.hair.colours.clone(),
        iris_colours: face.eyes.irises,
        parts: canvas::parts(&labels),
    }
}

/// The colour image only (the fast path used by [`generate`]).
fn image_of(face: &Face, size: u32) -> RgbImage {
    let pix = draw::draw(face, size, false);
    // Every pixel is opaque (the background covers all), so premultiplied equals straight RGB.
    let rgb = pix
        .data()
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    RgbImage::from_raw(size, size, rgb).expect("buffer matches size")
}

#[cfg(test)]
mod tests {
    use super::palette::{EYE_RGB, HAIR_RGB, dist2};
    use super::tags::TagSet;
    use super::*;

    /// Renders image `index` of `seed` with its tags replaced by `tags`.
    fn render_with(tags: &str, index: u64, seed: u64, size: u32) -> Rendered {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(index);
        let tags = TagSet::parse(tags).unwrap();
        render_face(&Face::random(&mut rng, &tags, ComboTable::builtin()), size)
    }

    /// The palette entry closest to `c`, allowing for the shading (brightness x0.85..1.25) drawn on top.
    fn nearest(c: [f32; 3], palette: &[[u8; 3]], skip: Option<usize>) -> usize {
        let d = |p: [u8; 3]| {
            let dot: f32 = (0..3).map(|i| c[i] * f32::from(p[i])).sum();
            let norm: f32 = c.iter().map(|v| v * v).sum();
            let k = (dot / norm.max(1.0)).clamp(0.85, 1.25);
            dist2(c.map(|v| v * k), p)
        };
        (0..palette.len())
            .filter(|i| Some(*i) != skip)
            .min_by(|&a, &b| d(palette[a]).total_cmp(&d(palette[b])))
            .unwrap()
    }

    #[test]
    fn same_seed_gives_identical_bytes_and_other_seeds_differ() {
        for size in [16, 32] {
            let a = render(5, 42, size);
            let b = render(5, 42, size);
            assert_eq!(a.image.as_raw(), b.image.as_raw());
            assert_eq!(a.tags, b.tags);
            assert_ne!(
                a.image.as_raw(),
                render(5, 43, size).image.as_raw(),
                "other seed"
            );
            assert_ne!(
                a.image.as_raw(),
                render(6, 42, size).image.as_raw(),
                "other index"
            );
        }
    }

    #[test]
    fn every_supported_size_renders() {
        for size in [16, 32, 64, 128, 256] {
            assert_eq!(render(0, 1, size).image.dimensions(), (size, size));
        }
        for bad in [8, 48, 512] {
            assert!(check_size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hair_region_takes_the_tagged_colour() {
        for (i, name) in HAIR_COLOURS.iter().enumerate() {
            for index in 0..8 {
                let r = render_with(name, index, 9, 32);
                let mean = r.typical_colour(Part::Hair).expect("hair is visible");
                let got = nearest(mean, &HAIR_RGB, None);
                assert_eq!(got, i, "{name} (image {index}): mean hair colour {mean:?}");
            }
        }
    }

    #[test]
    fn irises_take_the_tagged_colour() {
        for (i, name) in EYE_TAGS
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != tags::BICOLORED)
        {
            for index in 0..8 {
                // 128 px leaves iris pixels away from the pupil, glints and eye-white edge.
                let r = render_with(name, index, 3, 128);
                for part in [Part::IrisLeft, Part::IrisRight] {
                    let mean = r.typical_colour(part).expect("iris is visible");
                    let got = nearest(mean, &EYE_RGB, Some(tags::BICOLORED));
                    assert_eq!(got, i, "{name} (image {index}, {part:?}): mean {mean:?}");
                }
            }
        }
    }

    #[test]
    fn bicolored_eyes_have_two_clearly_different_irises() {
        for (tags, why) in [
            ("bicolored eyes", "no colour tag"),
            ("blue eyes|bicolored eyes", "one colour tag"),
            ("red eyes|green eyes|bicolored eyes", "two colour tags"),
        ] {
            for index in 0..8 {
                let r = render_with(tags, index, 11, 64);
                let l = r.typical_colour(Part::IrisLeft).unwrap();
                let rt = r.typical_colour(Part::IrisRight).unwrap();
                let d = dist2(l, rt.map(|v| v as u8)).sqrt();
                assert!(d > 50.0, "{why} (image {index}): irises {l:?} vs {rt:?}");
            }
        }
        let r = render_with("blue eyes", 0, 11, 64);
        assert_eq!(
            r.iris_colours[0], r.iris_colours[1],
            "one colour, no bicolored tag"
        );
    }

    #[test]
    fn long_hair_covers_more_of_the_lower_image_than_short() {
        for index in 0..10 {
            let long = render_with("long hair", index, 5, 32).coverage(Part::Hair, 24, 32);
            let short = render_with("short hair", index, 5, 32).coverage(Part::Hair, 24, 32);
            assert!(long > 0.15, "image {index}: long hair covers only {long}");
            assert!(
                short < 0.05,
                "image {index}: short hair reaches the bottom ({short})"
            );
        }
    }

    #[test]
    fn two_hair_colours_are_both_visible() {
        for index in 0..8 {
            let r = render_with("blonde hair|blue hair", index, 2, 64);
            let mut seen = [0usize; 2];
            for (p, px) in r.parts.iter().zip(r.image.pixels()) {
                if *p == Part::Hair {
                    let c = px.0.map(f32::from);
                    let near = [HAIR_RGB[0], HAIR_RGB[3]].map(|h| dist2(c, h));
                    seen[usize::from(near[1] < near[0])] += 1;
                }
            }
            let total = (seen[0] + seen[1]) as f32;
            for s in seen {
                assert!(s as f32 / total > 0.1, "image {index}: split {seen:?}");
            }
        }
    }

    #[test]
    fn rendered_tags_come_from_the_table() {
        let table = ComboTable::builtin();
        for index in 0..50 {
            let r = render(index, 77, 16);
            let set = TagSet::parse(&r.tags.join("|")).unwrap();
            assert!(table.combos.iter().any(|(_, s)| *s == set), "{:?}", r.tags);
        }
    }
}
