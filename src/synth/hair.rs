//! Hair: back volume, fringe (bangs) with streaks and shine, and the locks framing the face.

use tiny_skia::{LineCap, PathBuilder, Point, Stroke, Transform};

use super::canvas::{Canvas, Ink, Part, pt};
use super::face::{Face, Fringe, Length, TwoTone};
use super::palette::{Rgb, color, color_a, lighten, mix, outline, shade};

/// The hair ink for a region, darkened by `k` (back hair is in shadow).
pub(super) fn hair_ink(face: &Face, k: f32, bottom: f32) -> Ink {
    let (cx, cy, r) = (face.cx, face.cy, face.r);
    let c = &face.hair.colours;
    let top = cy - 1.15 * r;
    match (c.get(1), face.hair.two_tone) {
        (Some(&c2), TwoTone::Split) => {
            let stops = vec![(0.0, color(shade(c[0], k))), (1.0, color(shade(c2, k)))];
            Ink::Linear(pt(cx - 0.04 * r, cy), pt(cx + 0.04 * r, cy), stops)
        }
        (Some(&c2), TwoTone::Tips) => Ink::vertical(
            cx,
            cy - 0.45 * r,
            cy + 0.1 * r,
            &[(0.0, shade(c[0], k)), (1.0, shade(c2, k))],
        ),
        _ => Ink::vertical(
            cx,
            top,
            bottom.max(cy + r),
            &[
                (0.0, shade(lighten(c[0], 0.1), k)),
                (1.0, shade(c[0], k * 0.82)),
            ],
        ),
    }
}

pub(super) fn hair_line(face: &Face) -> Rgb {
    outline(face.hair.colours[0])
}

pub(super) fn back_hair(cv: &mut Canvas, face: &Face, ts: Transform) {
    let (cx, cy, r) = (face.cx, face.cy, face.r);
    let v = face.hair.volume;
    let (end, w_bot) = match face.hair.length {
        Length::Short => (cy + 0.8 * r, (1.02 + v) * r),
        Length::Medium => (cy + 1.5 * r, (1.15 + v) * r),
        Length::Long => (74.0, (1.4 + v) * r),
    };
    let w_top = (1.08 + v) * r;
    let top = cy - (1.1 + v) * r;
    let mut pb = PathBuilder::new();
    pb.move_to(cx - w_top, cy - 0.1 * r);
    pb.cubic_to(cx - w_top, cy - 0.75 * r, cx - 0.6 * w_top, top, cx, top);
    pb.cubic_to(
        cx + 0.6 * w_top,
        top,
        cx + w_top,
        cy - 0.75 * r,
        cx + w_top,
        cy - 0.1 * r,
    );
    pb.quad_to(cx + w_top * 1.05, (cy + end) / 2.0, cx + w_bot, end);
    // Jagged lock ends along the bottom edge.
    let n = 5;
    for i in 1..=n {
        let x = cx + w_bot - 2.0 * w_bot * i as f32 / n as f32;
        let tip = end + 0.12 * r * face.hair.locks[i % face.hair.locks.len()];
        pb.line_to(x + w_bot / n as f32, tip - 0.25 * r);
        pb.line_to(x, tip);
    }
    pb.quad_to(
        cx - w_top * 1.05,
        (cy + end) / 2.0,
        cx - w_top,
        cy - 0.1 * r,
    );
    pb.close();
    if let Some(path) = pb.finish() {
        cv.fill(
            &path,
            Some(Part::Hair),
            &hair_ink(face, 0.78, end),
            ts,
            None,
        );
        let line = Ink::solid(hair_line(face));
        cv.stroke(&path, Some(Part::Hair), &line, 0.5, ts);
    }
}

/// Locks framing the cheeks, down to the jaw, the shoulders or the bottom edge.
pub(super) fn side_locks(cv: &mut Canvas, face: &Face, ts: Transform) {
    let (cx, cy, r) = (face.cx, face.cy, face.r);
    let v = face.hair.volume;
    let (end, flare) = match face.hair.length {
        Length::Long => (72.0, 0.55),
        Length::Medium => (cy + 1.55 * r, 0.35),
        Length::Short => (cy + 0.85 * r, 0.05),
    };
    let ink = match (face.hair.two_tone, face.hair.colours.get(1)) {
        // Coloured inner locks make a streaked second colour large enough to see.
        (TwoTone::Streaks, Some(&c2)) => Ink::vertical(
            cx,
            cy - 0.5 * r,
            end,
            &[(0.0, lighten(c2, 0.08)), (1.0, shade(c2, 0.85))],
        ),
        _ => hair_ink(face, 1.0, end),
    };
    let line = Ink::solid(hair_line(face));
    for (i, o) in [-1.0f32, 1.0].into_iter().enumerate() {
        let sway = 0.1 * r * face.hair.locks[i];
        let x_out = cx + o * (1.06 + v) * r;
        let x_in = cx + o * 0.74 * r;
        let mut pb = PathBuilder::new();
        pb.move_to(x_out, cy - 0.45 * r);
        pb.quad_to(
            x_out + o * flare * r,
            (cy + end) / 2.0,
            x_out + o * flare * r * 0.8 + sway,
            end,
        );
        pb.quad_to(
            x_in + o * 0.1 * r,
            end - 0.5 * r,
            x_in + 0.5 * sway,
            end - 0.15 * r,
        );
        pb.quad_to(x_in - o * 0.04 * r, (cy + end) / 2.0, x_in, cy - 0.4 * r);
        // Left open: the fill closes it, the outline skips the top edge hidden in the fringe.
        if let Some(path) = pb.finish() {
            cv.fill(&path, Some(Part::Hair), &ink, ts, None);
            cv.stroke(&path, Some(Part::Hair), &line, 0.45, ts);
        }
    }
}

pub(super) fn fringe(cv: &mut Canvas, face: &Face, ts: Transform) {
    let (cx, cy, r) = (face.cx, face.cy, face.r);
    let h = &face.hair;
    let v = h.volume;
    let n = h.locks.len();
    let top = cy - (1.12 + v) * r;
    let side = (1.1 + v) * r;
    let tip_y = cy + (h.fringe_drop - 0.12) * r;
    let sweep = match h.fringe {
        Fringe::Swept(s) => s as f32 * 0.22 * r,
        _ => 0.0,
    };
    // Lock tips from image-right to image-left, with the valleys between them.
    let tips: Vec<Point> = (0..n)
        .map(|i| {
            let t = i as f32 / (n - 1) as f32;
            let j = h.locks[i];
            let mut x = cx + 0.88 * r - 1.76 * r * t + 0.05 * r * j + sweep * 0.5;
            let amp = if h.fringe == Fringe::Blunt { 0.02 } else { 0.1 };
            let mut y = tip_y + amp * r * j;
            if i == 0 || i == n - 1 {
                y += 0.18 * r;
            }
            if h.fringe == Fringe::Parted {
                x += (x - cx).signum() * 0.12 * r;
            }
            pt(x, y)
        })
        .collect();
    let valley = |i: usize| -> Point {
        let (a, b) = (tips[i], tips[i + 1]);
        let mid = (a.x + b.x) / 2.0;
        let y = match h.fringe {
            Fringe::Blunt => a.y.min(b.y) - 0.12 * r,
            Fringe::Parted if i == (n - 2) / 2 => cy - 0.85 * r,
            _ => cy - (0.48 + 0.08 * h.locks[(i + 3) % n]) * r,
        };
        pt(mid + sweep * 0.3, y)
    };

    let mut pb = PathBuilder::new();
    pb.move_to(cx - side, cy + 0.15 * r);
    pb.cubic_to(cx - side, cy - 0.7 * r, cx - 0.62 * side, top, cx, top);
    pb.cubic_to(
        cx + 0.62 * side,
        top,
        cx + side,
        cy - 0.7 * r,
        cx + side,
        cy + 0.15 * r,
    );
    let mut prev = pt(cx + side, cy + 0.15 * r);
    for (i, &t) in tips.iter().enumerate() {
        pb.quad_to(
            prev.x * 0.75 + t.x * 0.25 + sweep * 0.6,
            prev.y * 0.3 + t.y * 0.7,
            t.x,
            t.y,
        );
        let next = if i + 1 < n {
            valley(i)
        } else {
            pt(cx - side, cy + 0.15 * r)
        };
        pb.quad_to(
            t.x * 0.2 + next.x * 0.8 + sweep * 0.3,
            t.y * 0.6 + next.y * 0.4,
            next.x,
            next.y,
        );
        prev = next;
    }
    pb.close();
    let Some(path) = pb.finish() else { return };
    cv.fill(&path, Some(Part::Hair), &hair_ink(face, 1.0, cy), ts, None);

    // Streaks: the second colour for `Streaks`, any further colours always.
    let streak_from = if h.two_tone == TwoTone::Streaks { 1 } else { 2 };
    for (k, &c) in h.colours.iter().enumerate().skip(streak_from) {
        let clip = cv.mask(&path, ts);
        for (m, i) in [(k * 2) % n, (k * 2 + n / 2) % n].into_iter().enumerate() {
            let t = tips[i];
            let mut pb = PathBuilder::new();
            pb.move_to(cx + (t.x - cx) * 0.3, top);
            pb.quad_to(
                t.x + (m as f32 - 0.5) * 0.1 * r,
                (top + t.y) / 2.0,
                t.x,
                t.y,
            );
            if let Some(s) = pb.finish() {
                let paint = cv.paint(Some(Part::Hair), &Ink::solid(c));
                if let Some(paint) = paint {
                    let stroke = Stroke {
                        width: 0.3 * r,
                        line_cap: LineCap::Round,
                        ..Stroke::default()
                    };
                    cv.pix.stroke_path(&s, &paint, &stroke, ts, Some(&clip));
                }
            }
        }
    }

    // Strand lines from the crown to the valleys, then the outline and the shine.
    let dark = Ink::solid(shade(mix(h.colours[0], hair_line(face), 0.5), 1.0));
    for i in (0..n - 1).step_by(2) {
        let vl = valley(i);
        let mut pb = PathBuilder::new();
        pb.move_to(cx + (vl.x - cx) * 0.4, cy - 0.8 * r);
        pb.quad_to(
            vl.x + sweep * 0.3,
            (cy - 0.8 * r + vl.y) / 2.0,
            vl.x,
            vl.y + 0.02 * r,
        );
        if let Some(s) = pb.finish() {
            cv.stroke(&s, Some(Part::Hair), &dark, 0.45, ts);
        }
    }
    cv.stroke(
        &path,
        Some(Part::Hair),
        &Ink::solid(hair_line(face)),
        0.5,
        ts,
    );
    let shine = Ink::Solid(color_a(lighten(h.colours[0], 0.55), 0.85));
    let ring_y = cy - 0.62 * r;
    for s in [-1.0f32, 1.0] {
        let mut pb = PathBuilder::new();
        pb.move_to(cx + s * 0.12 * r, ring_y - 0.2 * r);
        pb.quad_to(
            cx + s * 0.45 * r,
            ring_y - 0.16 * r,
            cx + s * 0.68 * r,
            ring_y + 0.05 * r,
        );
        if let Some(p) = pb.finish() {
            cv.stroke(&p, Some(Part::Hair), &shine, 0.09 * r, ts);
        }
    }
    if h.ahoge {
        let mut pb = PathBuilder::new();
        let base = pt(cx + 0.1 * r, top + 0.1 * r);
        pb.move_to(base.x - 0.1 * r, base.y);
        pb.quad_to(
            base.x - 0.05 * r,
            base.y - 0.4 * r,
            base.x + 0.35 * r,
            base.y - 0.45 * r,
        );
        pb.quad_to(
            base.x + 0.05 * r,
            base.y - 0.3 * r,
            base.x + 0.12 * r,
            base.y,
        );
        pb.close();
        if let Some(p) = pb.finish() {
            cv.fill(&p, Some(Part::Hair), &Ink::solid(h.colours[0]), ts, None);
            cv.stroke(&p, Some(Part::Hair), &Ink::solid(hair_line(face)), 0.4, ts);
        }
    }
}
