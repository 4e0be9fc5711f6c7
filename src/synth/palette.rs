//! Reference colours for each colour tag, skin tones, and small colour arithmetic.

use tiny_skia::Color;

/// An sRGB colour.
pub type Rgb = [u8; 3];

/// Base hair colour per [`super::tags::HAIR_COLOURS`] entry (same order).
pub const HAIR_RGB: [Rgb; 12] = [
    [246, 214, 118], // blonde
    [142, 88, 196],  // purple
    [206, 44, 50],   // red
    [58, 100, 214],  // blue
    [246, 150, 192], // pink
    [64, 164, 78],   // green
    [242, 242, 248], // white
    [148, 150, 160], // gray
    [38, 36, 46],    // black
    [122, 76, 44],   // brown
    [60, 204, 212],  // aqua
    [246, 138, 36],  // orange
];

/// Iris colour per [`super::tags::EYE_TAGS`] entry; the "bicolored eyes" slot is unused.
pub const EYE_RGB: [Rgb; 12] = [
    [236, 96, 168],  // pink
    [146, 74, 206],  // purple
    [36, 196, 204],  // aqua
    [0, 0, 0],       // bicolored: not a colour
    [40, 34, 44],    // black
    [44, 96, 226],   // blue
    [236, 204, 36],  // yellow
    [44, 174, 66],   // green
    [244, 128, 24],  // orange
    [212, 28, 40],   // red
    [128, 76, 38],   // brown
    [128, 134, 146], // gray
];

/// Skin tones from pale to tan; anime faces are mostly light.
pub const SKIN_RGB: [Rgb; 5] = [
    [255, 238, 226],
    [253, 226, 204],
    [248, 214, 188],
    [240, 200, 170],
    [214, 164, 124],
];

/// Scales brightness (k < 1 darkens).
pub fn shade(c: Rgb, k: f32) -> Rgb {
    c.map(|v| (v as f32 * k).round().clamp(0.0, 255.0) as u8)
}

/// Linear blend from `a` (t = 0) to `b` (t = 1).
pub fn mix(a: Rgb, b: Rgb, t: f32) -> Rgb {
    [0, 1, 2].map(|i| (a[i] as f32 + (b[i] as f32 - a[i] as f32) * t).round() as u8)
}

/// Moves towards white; works for black too, unlike [`shade`].
pub fn lighten(c: Rgb, t: f32) -> Rgb {
    mix(c, [255, 255, 255], t)
}

/// A dark outline colour that still carries the hue.
pub fn outline(c: Rgb) -> Rgb {
    mix(shade(c, 0.45), [30, 20, 30], 0.4)
}

pub fn color(c: Rgb) -> Color {
    Color::from_rgba8(c[0], c[1], c[2], 255)
}

pub fn color_a(c: Rgb, alpha: f32) -> Color {
    Color::from_rgba8(c[0], c[1], c[2], (alpha.clamp(0.0, 1.0) * 255.0) as u8)
}

/// HSV (h in degrees, s and v in 0..=1) to RGB, for random backgrounds and clothes.
pub fn hsv(h: f32, s: f32, v: f32) -> Rgb {
    let h = h.rem_euclid(360.0) / 60.0;
    let c = v * s;
    let x = c * (1.0 - (h % 2.0 - 1.0).abs());
    let (r, g, b) = match h as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = v - c;
    [r, g, b].map(|u| ((u + m) * 255.0).round() as u8)
}

/// Squared distance in RGB, enough to tell the reference colours apart.
pub fn dist2(a: [f32; 3], b: Rgb) -> f32 {
    (0..3).map(|i| (a[i] - b[i] as f32).powi(2)).sum()
}
