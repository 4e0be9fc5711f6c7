//! A random face description: tags turned into concrete colours and shapes, plus untagged variation.
//!
//! Coordinates are in a 64 x 64 design space; drawing scales them to the output size.

use rand::Rng;
use rand::seq::SliceRandom;
use rand_distr::{Distribution, Normal};

use super::palette::{self, EYE_RGB, HAIR_RGB, Rgb, SKIN_RGB};
use super::tags::{ComboTable, EYE_TAGS, HAIR_COLOURS, TagSet};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Length {
    /// Ends around the jaw.
    Short,
    /// Ends at the shoulders (both length tags, or none).
    Medium,
    /// Falls beside the face to the bottom of the image.
    Long,
}

/// How a second hair colour is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TwoTone {
    /// Left half one colour, right half the other.
    Split,
    /// Roots one colour, tips the other.
    Tips,
    /// Thick streaks of the second colour over the first.
    Streaks,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fringe {
    /// Pointed locks of uneven length.
    Pointed,
    /// A straight-cut (hime) fringe.
    Blunt,
    /// Locks swept to one side; the sign gives the side.
    Swept(i8),
    /// Parted in the middle, showing the forehead.
    Parted,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mouth {
    Line,
    Smile,
    Open,
    Cat,
}

#[derive(Clone, Debug)]
pub struct Hair {
    /// Rendered base colours; the first is dominant. Ground truth for tests.
    pub colours: Vec<Rgb>,
    pub two_tone: TwoTone,
    pub length: Length,
    pub fringe: Fringe,
    /// Per-lock jitter in [-1, 1], one per fringe lock.
    pub locks: Vec<f32>,
    /// How far the fringe reaches down, in head radii from the head centre.
    pub fringe_drop: f32,
    /// Extra width of the hair volume, in head radii.
    pub volume: f32,
    /// A single lock sticking up from the crown.
    pub ahoge: bool,
}

#[derive(Clone, Debug)]
pub struct Eyes {
    /// Iris colours, image-left eye first.
    pub irises: [Rgb; 2],
    /// A second colour blended into the lower iris (two eye tags without "bicolored eyes").
    pub lower: Option<Rgb>,
    /// Half width and half height of one eye, in head radii.
    pub half_w: f32,
    pub half_h: f32,
    /// Horizontal distance of each eye from the face centre line, in head radii.
    pub spread: f32,
    /// Vertical offset of the eye line below the head centre, in head radii.
    pub drop: f32,
    /// Upper lash thickness in design pixels.
    pub lash: f32,
    /// Outer corners raised (positive) or lowered, in head radii.
    pub slant: f32,
    /// Where the irises look, in eye half widths.
    pub gaze: f32,
}

#[derive(Clone, Debug)]
pub struct Face {
    pub tags: TagSet,
    /// Head centre and radius (design pixels), tilt in degrees.
    pub cx: f32,
    pub cy: f32,
    pub r: f32,
    pub tilt: f32,
    /// Chin length relative to the head radius.
    pub chin: f32,
    pub skin: Rgb,
    pub background: [Rgb; 2],
    /// Background gradient direction in degrees.
    pub background_angle: f32,
    /// Soft bokeh circles: x, y, radius, alpha.
    pub bokeh: Vec<[f32; 4]>,
    pub hair: Hair,
    pub eyes: Eyes,
    pub mouth: Mouth,
    pub mouth_w: f32,
    pub blush: bool,
    pub clothes: Rgb,
    pub collar: bool,
}

impl Face {
    /// Turns a tag set into a concrete face; everything is drawn from `rng`.
    pub fn random<R: Rng + ?Sized>(rng: &mut R, tags: &TagSet, table: &ComboTable) -> Face {
        let jitter = Normal::new(0.0f32, 1.0).expect("valid normal");
        let mut n = |sd: f32, lim: f32| (jitter.sample(rng) * sd).clamp(-lim, lim);
        let cx = 32.0 + n(1.5, 3.5);
        let cy = 28.5 + n(1.2, 3.0);
        let r = 17.5 * (1.0 + n(0.04, 0.09));
        let tilt = n(5.0, 11.0);

        let hair = random_hair(rng, tags, table);
        let eyes = random_eyes(rng, tags, table);
        let skin = random_skin(rng);
        let background = random_background(rng);
        let bokeh = (0..rng.random_range(0..4usize))
            .map(|_| {
                [
                    rng.random_range(0.0..64.0),
                    rng.random_range(0.0..64.0),
                    rng.random_range(3.0..10.0),
                    rng.random_range(0.15..0.4),
                ]
            })
            .collect();
        let mouth = [Mouth::Line, Mouth::Smile, Mouth::Open, Mouth::Cat][rng.random_range(0..4)];
        let clothes = palette::hsv(
            rng.random_range(0.0..360.0),
            rng.random_range(0.0..0.7),
            rng.random_range(0.2..0.95),
        );
        Face {
            tags: tags.clone(),
            cx,
            cy,
            r,
            tilt,
            chin: rng.random_range(1.0..1.14),
            skin,
            background: background.0,
            background_angle: background.1,
            bokeh,
            hair,
            eyes,
            mouth,
            mouth_w: rng.random_range(0.08..0.2),
            blush: rng.random_bool(0.4),
            clothes,
            collar: rng.random_bool(0.5),
        }
    }
}

/// A plausible colour index for an untagged group, with the original's marginal frequencies.
fn fallback<R: Rng + ?Sized>(
    rng: &mut R,
    table: &ComboTable,
    pick: impl Fn(&TagSet) -> Vec<usize>,
) -> usize {
    loop {
        if let Some(&i) = pick(table.sample(rng)).first() {
            return i;
        }
    }
}

fn jitter_rgb<R: Rng + ?Sized>(rng: &mut R, c: Rgb, amount: i16) -> Rgb {
    c.map(|v| (v as i16 + rng.random_range(-amount..=amount)).clamp(0, 255) as u8)
}

fn random_hair<R: Rng + ?Sized>(rng: &mut R, tags: &TagSet, table: &ComboTable) -> Hair {
    let mut idx = tags.hair.clone();
    if idx.is_empty() {
        idx.push(fallback(rng, table, |t| t.hair.clone()));
    }
    idx.shuffle(rng);
    debug_assert!(idx.iter().all(|&i| i < HAIR_COLOURS.len()));
    let colours = idx
        .iter()
        .map(|&i| jitter_rgb(rng, HAIR_RGB[i], 8))
        .collect();
    let length = match (tags.long, tags.short) {
        (true, false) => Length::Long,
        (false, true) => Length::Short,
        (true, true) => Length::Medium,
        (false, false) => [Length::Short, Length::Medium, Length::Long][rng.random_range(0..3)],
    };
    let fringe = match rng.random_range(0..10) {
        0..=3 => Fringe::Pointed,
        4..=5 => Fringe::Blunt,
        6..=8 => Fringe::Swept(if rng.random_bool(0.5) { 1 } else { -1 }),
        _ => Fringe::Parted,
    };
    let n_locks = rng.random_range(5..=8);
    Hair {
        colours,
        two_tone: [TwoTone::Split, TwoTone::Tips, TwoTone::Streaks][rng.random_range(0..3)],
        length,
        fringe,
        locks: (0..n_locks).map(|_| rng.random_range(-1.0..1.0)).collect(),
        fringe_drop: rng.random_range(-0.12..0.12),
        volume: rng.random_range(0.0..0.18),
        ahoge: rng.random_bool(0.3),
    }
}

fn random_eyes<R: Rng + ?Sized>(rng: &mut R, tags: &TagSet, table: &ComboTable) -> Eyes {
    let mut colours = tags.eye_colours();
    colours.shuffle(rng);
    let any = |rng: &mut R| fallback(rng, table, |t| t.eye_colours());
    let (left, right, lower) = if tags.bicolored() {
        let a = colours.first().copied().unwrap_or_else(|| any(rng));
        // The second iris must read as a different colour, so resample near-identical ones.
        let distinct = |c: usize| c != a && distinct_enough(EYE_RGB[a], EYE_RGB[c]);
        let b = match colours.iter().copied().find(|&c| distinct(c)) {
            Some(b) => b,
            None => loop {
                let c = any(rng);
                if distinct(c) {
                    break c;
                }
            },
        };
        (a, b, None)
    } else {
        let a = colours.first().copied().unwrap_or_else(|| any(rng));
        (a, a, colours.get(1).copied())
    };
    debug_assert!([left, right].iter().all(|&i| i < EYE_TAGS.len()));
    let mut iris = |i: usize| jitter_rgb(rng, EYE_RGB[i], 6);
    let first = iris(left);
    let irises = [first, if right == left { first } else { iris(right) }];
    let lower = lower.map(iris);
    Eyes {
        irises,
        lower,
        half_w: rng.random_range(0.2..0.25),
        half_h: rng.random_range(0.22..0.3),
        spread: rng.random_range(0.38..0.46),
        drop: rng.random_range(0.16..0.26),
        lash: rng.random_range(1.1..1.9),
        slant: rng.random_range(-0.02..0.05),
        gaze: rng.random_range(-0.15..0.15),
    }
}

fn distinct_enough(a: Rgb, b: Rgb) -> bool {
    let a = a.map(f32::from);
    palette::dist2(a, b) > 90.0f32.powi(2)
}

fn random_skin<R: Rng + ?Sized>(rng: &mut R) -> Rgb {
    // Mostly light tones, as in the original's anime art.
    let i = match rng.random_range(0..20) {
        0..=5 => 0,
        6..=11 => 1,
        12..=16 => 2,
        17..=18 => 3,
        _ => 4,
    };
    jitter_rgb(rng, SKIN_RGB[i], 4)
}

fn random_background<R: Rng + ?Sized>(rng: &mut R) -> ([Rgb; 2], f32) {
    let h = rng.random_range(0.0..360.0);
    let (s, v) = match rng.random_range(0..4) {
        0 => (rng.random_range(0.0..0.08), rng.random_range(0.9..1.0)),
        1 => (rng.random_range(0.1..0.35), rng.random_range(0.8..1.0)),
        2 => (rng.random_range(0.3..0.7), rng.random_range(0.5..0.9)),
        _ => (rng.random_range(0.0..0.4), rng.random_range(0.15..0.5)),
    };
    let top = palette::hsv(h, s, v);
    let bottom = palette::hsv(
        h + rng.random_range(-40.0..40.0),
        (s + rng.random_range(-0.15..0.15)).clamp(0.0, 1.0),
        (v + rng.random_range(-0.25..0.1)).clamp(0.05, 1.0),
    );
    ([top, bottom], rng.random_range(60.0..120.0))
}
