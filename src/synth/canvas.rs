//! Drawing primitives: the part labels, inks, and a canvas that paints colours or flat labels.

use tiny_skia::{
    Color, FillRule, GradientStop, LineCap, LineJoin, LinearGradient, Mask, Paint, Path,
    PathBuilder, Pixmap, Point, Rect, Shader, SpreadMode, Stroke, Transform,
};

use super::palette::{Rgb, color};

/// What a pixel shows; [`super::Rendered::parts`] holds the topmost part per pixel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Background,
    Body,
    Skin,
    Hair,
    /// Eye whites.
    Eye,
    /// Iris of the image-left eye (pupil and highlights excluded).
    IrisLeft,
    IrisRight,
    /// Lashes, brows, pupils, highlights, nose, mouth.
    Detail,
}

const PARTS: [Part; 8] = [
    Part::Background,
    Part::Body,
    Part::Skin,
    Part::Hair,
    Part::Eye,
    Part::IrisLeft,
    Part::IrisRight,
    Part::Detail,
];

impl Part {
    fn label(self) -> Color {
        let i = PARTS.iter().position(|p| *p == self).expect("listed");
        Color::from_rgba8(i as u8 * 32, 0, 0, 255)
    }

    fn from_label(r: u8) -> Part {
        PARTS[((r as usize + 16) / 32).min(PARTS.len() - 1)]
    }
}

/// How a shape is coloured; gradients are in design coordinates.
pub(super) enum Ink {
    Solid(Color),
    Linear(Point, Point, Vec<(f32, Color)>),
}

impl Ink {
    pub(super) fn solid(c: Rgb) -> Ink {
        Ink::Solid(color(c))
    }

    pub(super) fn vertical(x: f32, y0: f32, y1: f32, stops: &[(f32, Rgb)]) -> Ink {
        let stops = stops.iter().map(|(t, c)| (*t, color(*c))).collect();
        Ink::Linear(Point::from_xy(x, y0), Point::from_xy(x, y1), stops)
    }

    pub(super) fn shader(&self) -> Shader<'static> {
        match self {
            Ink::Solid(c) => Shader::SolidColor(*c),
            Ink::Linear(a, b, stops) => {
                let stops = stops
                    .iter()
                    .map(|(t, c)| GradientStop::new(*t, *c))
                    .collect();
                LinearGradient::new(*a, *b, stops, SpreadMode::Pad, Transform::identity())
                    .unwrap_or(Shader::SolidColor(Color::BLACK))
            }
        }
    }
}

/// A pixmap plus the mode it is painted in.
pub(super) struct Canvas {
    pub(super) pix: Pixmap,
    /// Paint flat part labels without anti-aliasing instead of colours.
    pub(super) labels: bool,
}

impl Canvas {
    pub(super) fn paint(&self, part: Option<Part>, ink: &Ink) -> Option<Paint<'static>> {
        let shader = match (self.labels, part) {
            (false, _) => ink.shader(),
            (true, Some(p)) => Shader::SolidColor(p.label()),
            // Translucent overlays (blush, bokeh) do not change what a pixel shows.
            (true, None) => return None,
        };
        Some(Paint {
            shader,
            anti_alias: !self.labels,
            ..Paint::default()
        })
    }

    pub(super) fn fill(
        &mut self,
        path: &Path,
        part: Option<Part>,
        ink: &Ink,
        ts: Transform,
        clip: Option<&Mask>,
    ) {
        if let Some(paint) = self.paint(part, ink) {
            self.pix
                .fill_path(path, &paint, FillRule::Winding, ts, clip);
        }
    }

    pub(super) fn stroke(
        &mut self,
        path: &Path,
        part: Option<Part>,
        ink: &Ink,
        width: f32,
        ts: Transform,
    ) {
        if let Some(paint) = self.paint(part, ink) {
            let stroke = Stroke {
                width,
                line_cap: LineCap::Round,
                line_join: LineJoin::Round,
                ..Stroke::default()
            };
            self.pix.stroke_path(path, &paint, &stroke, ts, None);
        }
    }

    pub(super) fn mask(&self, path: &Path, ts: Transform) -> Mask {
        let mut m = Mask::new(self.pix.width(), self.pix.height()).expect("non-zero size");
        m.fill_path(path, FillRule::Winding, !self.labels, ts);
        m
    }
}

/// Decodes a label pixmap from [`super::draw::draw`] into one part per pixel, row-major.
pub fn parts(labels: &Pixmap) -> Vec<Part> {
    labels
        .pixels()
        .iter()
        .map(|p| Part::from_label(p.red()))
        .collect()
}

pub(super) fn pt(x: f32, y: f32) -> Point {
    Point::from_xy(x, y)
}

pub(super) fn oval(cx: f32, cy: f32, rx: f32, ry: f32) -> Option<Path> {
    PathBuilder::from_oval(Rect::from_ltrb(cx - rx, cy - ry, cx + rx, cy + ry)?)
}
