//! Charts drawn with plotters. Each chart is a function generic over the drawing backend, so
//! one drawing makes both the PNG and the SVG; text uses the DejaVu Sans shipped in assets/
//! (no system fonts needed, the same pixels everywhere).

pub mod balance;
pub mod heatmap;
pub mod losses;
pub mod multiples;
pub mod quality;
pub mod ranking;
pub mod scatter;
pub mod swd_runs;
pub mod timeline;

use std::sync::Once;

use anyhow::{Result, anyhow};
use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::prelude::*;

use crate::health::Kind;
use crate::results::EventKind;

static FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, FONT)
            .unwrap_or_else(|_| panic!("the shipped DejaVu Sans font parses"));
    });
}

/// Plotters' errors carry the backend's error type; turn them into anyhow's.
pub fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("drawing failed: {e:?}")
}

pub type Area<'a, DB> = DrawingArea<DB, Shift>;

/// A line to draw per run: its name, the value it reads off a metrics row, its colour.
pub type Series = (
    &'static str,
    fn(&crate::results::MetricsRow) -> f64,
    RGBColor,
);

/// Renders `draw` into a white RGB canvas of `size` and encodes it as PNG.
pub fn png(
    size: (u32, u32),
    draw: impl FnOnce(&Area<BitMapBackend>) -> Result<()>,
) -> Result<Vec<u8>> {
    register_font();
    let mut buf = vec![255u8; size.0 as usize * size.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buf, size).into_drawing_area();
        draw(&root)?;
        root.present().map_err(err)?;
    }
    let img = image::RgbImage::from_raw(size.0, size.1, buf).expect("buffer fits the size");
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)?;
    Ok(out.into_inner())
}

/// Renders `draw` into an SVG document of `size`.
pub fn svg(size: (u32, u32), draw: impl FnOnce(&Area<SVGBackend>) -> Result<()>) -> Result<String> {
    register_font();
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, size).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        draw(&root)?;
        root.present().map_err(err)?;
    }
    Ok(text)
}

pub const D_REAL: RGBColor = RGBColor(31, 119, 180);
pub const D_FAKE: RGBColor = RGBColor(255, 127, 14);
pub const G_ACC: RGBColor = RGBColor(44, 160, 44);
pub const ROLLBACK: RGBColor = RGBColor(214, 39, 40);
pub const GREY: RGBColor = RGBColor(150, 150, 150);
/// A run stopped at a rung (`[prune]`): the mark its curves end with.
pub const BEHIND: RGBColor = RGBColor(23, 190, 207);
/// Runs of another recipe than the experiment's (not ranked), drawn dashed.
pub const OTHER_RECIPE: RGBColor = RGBColor(188, 189, 34);

/// Colour of a collapse kind's episode shading and markers.
pub fn kind_color(kind: impl Into<EventKind>) -> RGBColor {
    let EventKind::Health(kind) = kind.into() else {
        return BEHIND; // a stop at a rung
    };
    match kind {
        Kind::GFailure => RGBColor(214, 39, 40),
        Kind::DFooled => RGBColor(148, 103, 189),
        Kind::DegenerateOutput => RGBColor(140, 86, 75),
        Kind::ModeCollapse => RGBColor(227, 119, 194),
        Kind::QualityRegression => RGBColor(188, 189, 34),
        Kind::NonFinite => RGBColor(0, 0, 0),
        Kind::Stalled => RGBColor(23, 190, 207),
    }
}

/// Black text of `size` px in the shipped font, an odd size taken up to the next even one:
/// plotters 0.3.7 places each glyph at `(size / 2 + glyph top) as i32`, and with the half
/// pixel of an odd size that truncation moves short glyphs and tall ones different ways (a
/// full stop drawn a pixel or two above the baseline: `80·57`).
pub fn font(size: u32) -> TextStyle<'static> {
    ("sans-serif", size + size % 2).into_font().color(&BLACK)
}

/// The width in pixels of `text` drawn in `font(size)`, by the shipped font's own measure.
pub fn text_width(text: &str, size: u32) -> u32 {
    register_font();
    let guess = text.chars().count() as u32 * size;
    font(size).font.box_size(text).map_or(guess, |(w, _)| w)
}

/// A categorical axis of `n` lanes (runs, grid values): lane k spans [k, k + 1] and is
/// labelled at its centre, k + 0.5 (`lane_label`). Plotters' segmented integer axis maps a
/// lone category to the canvas edge, so a one-run report drew its bar there, unlabelled.
pub fn lanes(n: usize) -> Lanes {
    Lanes(n.max(1))
}

/// See `lanes`.
pub struct Lanes(usize);

impl Ranged for Lanes {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, at: &f64, limit: (i32, i32)) -> i32 {
        limit.0 + ((limit.1 - limit.0) as f64 * at / self.0 as f64).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, _hint: Hint) -> Vec<f64> {
        (0..self.0).map(|k| k as f64 + 0.5).collect()
    }

    fn range(&self) -> std::ops::Range<f64> {
        0.0..self.0 as f64
    }
}

/// The name of the lane whose centre is `at` (a key point of `lanes`).
pub fn lane_label(names: &[String], at: &f64) -> String {
    names.get(at.floor() as usize).cloned().unwrap_or_default()
}

/// How many x labels to ask plotters for on a step axis `span` steps wide: at most `most`, and
/// no more than the whole steps in view. Plotters spaces its ticks 1, 2 or 5 x 10^k apart with
/// no more ticks than asked for, so a short run's axis gets ticks on whole steps, not halves.
pub fn step_ticks(span: f64, most: usize) -> usize {
    (span.floor() as usize).clamp(1, most)
}

/// Tick label for a step axis: whole steps only (fractional ticks stay blank).
pub fn step_label(x: &f64) -> String {
    if (x - x.round()).abs() < 1e-6 {
        format!("{x:.0}")
    } else {
        String::new()
    }
}

/// How a legend entry is drawn.
#[derive(Clone, Copy)]
pub enum Swatch {
    Line(ShapeStyle),
    /// A dashed line.
    Dashed(ShapeStyle),
    Bar(ShapeStyle),
    /// A scatter chart's point of a colour, hollow or not.
    Dot(RGBColor, bool),
    /// A ring of a colour around a point.
    Ring(RGBColor),
    /// A cross of a colour: where a pruned run's curve stops.
    Cross(RGBColor),
    /// A line of a colour that ends in a cross of that colour: a pruned run drawn in colour.
    Ended(RGBColor),
    /// None: the entry goes on from the line above.
    Blank,
}

/// Where a legend's labels start, right of their swatches, and their font size.
const LEGEND_TEXT_X: i32 = 38;
const LEGEND_PX: u32 = 13;

/// A legend in its own area (beside the plot, so it never covers data): one entry a line, a
/// label too wide for the area wrapped onto more (`wrap`) rather than cut off at its edge.
pub fn legend<DB: DrawingBackend>(area: &Area<DB>, entries: &[(&str, Swatch)]) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let room = (area.dim_in_pixel().0 as i32 - LEGEND_TEXT_X - 4).max(1) as u32;
    let mut y = 50;
    for (label, swatch) in entries {
        match *swatch {
            Swatch::Line(style) => area.draw(&PathElement::new([(6, y), (30, y)], style)),
            Swatch::Dashed(style) => area
                .draw(&PathElement::new([(6, y), (13, y)], style))
                .and_then(|_| area.draw(&PathElement::new([(16, y), (23, y)], style)))
                .and_then(|_| area.draw(&PathElement::new([(26, y), (30, y)], style))),
            Swatch::Bar(style) => area.draw(&Rectangle::new([(6, y - 7), (30, y + 7)], style)),
            Swatch::Dot(color, hollow) => area
                .draw(&Circle::new((18, y), 6, color.filled()))
                .and_then(|_| match hollow {
                    true => area.draw(&Circle::new((18, y), 3, WHITE.filled())),
                    false => Ok(()),
                }),
            Swatch::Ring(color) => area
                .draw(&Circle::new((18, y), 9, color.filled()))
                .and_then(|_| area.draw(&Circle::new((18, y), 7, WHITE.filled()))),
            Swatch::Cross(color) => area.draw(&Cross::new((18, y), 6, color.stroke_width(2))),
            Swatch::Ended(color) => area
                .draw(&PathElement::new([(6, y), (26, y)], color.stroke_width(2)))
                .and_then(|_| area.draw(&Cross::new((26, y), 5, color.stroke_width(3)))),
            Swatch::Blank => Ok(()),
        }
        .map_err(err)?;
        let lines = wrap(label, room, LEGEND_PX);
        for (k, line) in lines.iter().enumerate() {
            area.draw(&Text::new(
                line.clone(),
                (LEGEND_TEXT_X, y + 16 * k as i32),
                font(LEGEND_PX).pos(plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Left,
                    plotters::style::text_anchor::VPos::Center,
                )),
            ))
            .map_err(err)?;
        }
        y += 24 + 16 * (lines.len() as i32 - 1);
    }
    Ok(())
}

/// `text` in lines no wider than `room` pixels in `font(size)`, broken between words; a word
/// wider than `room` alone has a line of its own.
pub fn wrap(text: &str, room: u32, size: u32) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split(' ') {
        match lines.last_mut() {
            Some(line) if text_width(&format!("{line} {word}"), size) <= room => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use plotters::coord::ranged1d::{KeyPointHint, Ranged};
    use plotters::coord::types::RangedCoordf64;

    #[test]
    fn a_legend_label_wider_than_its_room_wraps_between_words() {
        // (label, room in pixels, lines, why)
        let cases = [
            ("G acc", 160, 1, "fits"),
            (
                "degenerate output episode",
                150,
                2,
                "too wide for a balance chart's legend",
            ),
            (
                "5. 003-9145f755 (714.1, pruned\u{a0}@4)",
                200,
                2,
                "a no-break space holds `pruned @4` together",
            ),
            ("supercalifragilistic", 40, 1, "one word: kept whole"),
        ];
        for (label, room, n, why) in cases {
            let lines = wrap(label, room, 13);
            assert_eq!(lines.len(), n, "{why}: {lines:?}");
            assert_eq!(lines.join(" "), label, "{why}: every word, in order");
            if n > 1 {
                for line in &lines {
                    assert!(text_width(line, 13) <= room, "{why}: {line}");
                }
            }
        }
        assert!(wrap("5. 003-9145f755 (714.1, pruned\u{a0}@4)", 200, 13)[1].starts_with("pruned"));
    }

    #[test]
    fn step_axes_tick_on_whole_steps_only() {
        // (steps in view, most labels): plotters' own key points for the axis as the charts
        // build it, half a step either side.
        for (steps, most) in [
            (1, 10),
            (3, 5),
            (4, 10),
            (7, 10),
            (12, 10),
            (60, 10),
            (300, 5),
        ] {
            let axis = RangedCoordf64::from(0.5..steps as f64 + 0.5);
            let ticks = axis.key_points(step_ticks(steps as f64, most).bold_points());
            assert!(
                !ticks.is_empty() && ticks.len() <= most,
                "{steps}: {ticks:?}"
            );
            assert!(
                ticks.iter().all(|t| t.fract() == 0.0),
                "{steps} steps, at most {most} labels: {ticks:?}"
            );
        }
    }

    #[test]
    fn one_lane_fills_the_axis_and_is_labelled_at_its_centre() {
        for n in [1, 3] {
            let axis = lanes(n);
            let (top, bottom) = (20, 140);
            assert_eq!(axis.map(&0.0, (top, bottom)), top, "{n} lanes");
            assert_eq!(axis.map(&(n as f64), (top, bottom)), bottom, "{n} lanes");
            let centres: Vec<f64> = (0..n).map(|k| k as f64 + 0.5).collect();
            assert_eq!(axis.key_points(10usize.bold_points()), centres, "{n} lanes");
        }
        let names = vec!["000-a".to_string(), "001-b".to_string()];
        assert_eq!(lane_label(&names, &1.5), "001-b");
        assert_eq!(lane_label(&names, &2.5), "");
    }
}
