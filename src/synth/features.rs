//! Facial features: eyes with coloured irises and highlights, brows, blush, nose and mouth.

use tiny_skia::{PathBuilder, Transform};

use super::canvas::{Canvas, Ink, Part, oval, pt};
use super::face::{Face, Mouth};
use super::hair::hair_line;
use super::palette::{color_a, mix, shade};

pub(super) fn eyes(cv: &mut Canvas, face: &Face, ts: Transform) {
    let (cx, cy, r) = (face.cx, face.cy, face.r);
    let e = &face.eyes;
    let (a, b) = (e.half_w * r, e.half_h * r);
    let ey = cy + e.drop * r;
    let lash_colour = mix(hair_line(face), [20, 14, 24], 0.6);
    for (side, o) in [(0usize, -1.0f32), (1, 1.0)] {
        let ex = cx + o * e.spread * r;
        let outer = pt(ex + o * a, ey - e.slant * r - 0.25 * b);
        let inner = pt(ex - o * 0.9 * a, ey - 0.05 * b);
        let mut pb = PathBuilder::new();
        pb.move_to(inner.x, inner.y);
        pb.cubic_to(
            ex - o * 0.55 * a,
            ey - 1.05 * b,
            ex + o * 0.6 * a,
            ey - 1.12 * b,
            outer.x,
            outer.y,
        );
        pb.cubic_to(
            ex + o * 0.95 * a,
            ey + 0.85 * b,
            ex - o * 0.6 * a,
            ey + 1.05 * b,
            inner.x,
            inner.y,
        );
        pb.close();
        let Some(white) = pb.finish() else { continue };
        cv.fill(
            &white,
            Some(Part::Eye),
            &Ink::solid([252, 252, 255]),
            ts,
            None,
        );
        let clip = cv.mask(&white, ts);

        let iris_part = if side == 0 {
            Part::IrisLeft
        } else {
            Part::IrisRight
        };
        let c = e.irises[side];
        let (ix, iy) = (ex + e.gaze * a, ey + 0.12 * b);
        let low = e.lower.unwrap_or(c);
        let ink = Ink::vertical(
            ix,
            iy - b,
            iy + b,
            &[
                (0.0, shade(c, 0.55)),
                (0.35, c),
                (0.7, mix(c, low, 0.85)),
                (1.0, shade(low, 1.2)),
            ],
        );
        if let Some(iris) = oval(ix, iy, 0.7 * a, 0.95 * b) {
            cv.fill(&iris, Some(iris_part), &ink, ts, Some(&clip));
        }
        let dark = mix(shade(c, 0.3), [10, 8, 14], 0.3);
        if let Some(pupil) = oval(ix, iy - 0.05 * b, 0.3 * a, 0.45 * b) {
            cv.fill(
                &pupil,
                Some(Part::Detail),
                &Ink::solid(dark),
                ts,
                Some(&clip),
            );
        }
        let glint = Ink::solid([255, 255, 255]);
        for (dx, dy, rad) in [(-0.32, -0.42, 0.3), (0.3, 0.42, 0.14)] {
            if let Some(g) = oval(ix + dx * a, iy + dy * b, rad * a, rad * a) {
                cv.fill(&g, Some(Part::Detail), &glint, ts, Some(&clip));
            }
        }

        // Upper lash with a small wing at the outer corner.
        let mut pb = PathBuilder::new();
        pb.move_to(inner.x, inner.y);
        pb.cubic_to(
            ex - o * 0.55 * a,
            ey - 1.05 * b,
            ex + o * 0.6 * a,
            ey - 1.12 * b,
            outer.x,
            outer.y,
        );
        pb.line_to(outer.x + o * 0.35 * a, outer.y - 0.05 * b);
        if let Some(lash) = pb.finish() {
            cv.stroke(
                &lash,
                Some(Part::Detail),
                &Ink::solid(lash_colour),
                e.lash,
                ts,
            );
        }
        let mut pb = PathBuilder::new();
        pb.move_to(ex + o * 0.2 * a, ey + 0.98 * b);
        pb.quad_to(ex + o * 0.8 * a, ey + 0.8 * b, outer.x, outer.y + 0.5 * b);
        if let Some(low) = pb.finish() {
            cv.stroke(&low, Some(Part::Detail), &Ink::solid(lash_colour), 0.4, ts);
        }
        // Brow; the fringe often hides it.
        let by = ey - b - 0.2 * r;
        let mut pb = PathBuilder::new();
        pb.move_to(ex - o * 0.7 * a, by + 0.05 * r);
        pb.quad_to(ex, by - 0.08 * r, ex + o * 0.9 * a, by + 0.02 * r);
        if let Some(brow) = pb.finish() {
            cv.stroke(
                &brow,
                Some(Part::Detail),
                &Ink::solid(hair_line(face)),
                0.6,
                ts,
            );
        }
        let cheek = oval(ex + o * 0.15 * a, ey + b + 0.14 * r, 0.24 * r, 0.08 * r);
        if let (true, Some(bl)) = (face.blush, cheek) {
            cv.fill(
                &bl,
                None,
                &Ink::Solid(color_a([255, 110, 130], 0.35)),
                ts,
                None,
            );
        }
    }
}

pub(super) fn mouth_and_nose(cv: &mut Canvas, face: &Face, ts: Transform) {
    let (cx, cy, r) = (face.cx, face.cy, face.r);
    let nose_y = cy + 0.5 * r;
    let mut pb = PathBuilder::new();
    pb.move_to(cx + 0.03 * r, nose_y);
    pb.line_to(cx - 0.02 * r, nose_y + 0.07 * r);
    if let Some(nose) = pb.finish() {
        cv.stroke(
            &nose,
            Some(Part::Detail),
            &Ink::solid(shade(face.skin, 0.72)),
            0.5,
            ts,
        );
    }
    let my = cy + (0.55 + 0.25 * face.chin) * r;
    let w = face.mouth_w * r;
    let lip = Ink::solid([150, 62, 66]);
    let mut pb = PathBuilder::new();
    match face.mouth {
        Mouth::Line => {
            pb.move_to(cx - w, my);
            pb.quad_to(cx, my + 0.03 * r, cx + w, my);
        }
        Mouth::Smile => {
            pb.move_to(cx - w, my - 0.03 * r);
            pb.quad_to(cx, my + 0.12 * r, cx + w, my - 0.03 * r);
        }
        Mouth::Cat => {
            pb.move_to(cx - w, my - 0.02 * r);
            pb.quad_to(cx - w / 2.0, my + 0.08 * r, cx, my);
            pb.quad_to(cx + w / 2.0, my + 0.08 * r, cx + w, my - 0.02 * r);
        }
        Mouth::Open => {
            let w = w.min(0.14 * r);
            pb.move_to(cx - w, my - 0.03 * r);
            pb.quad_to(cx, my, cx + w, my - 0.03 * r);
            pb.quad_to(cx + 0.7 * w, my + 0.13 * r, cx, my + 0.13 * r);
            pb.quad_to(cx - 0.7 * w, my + 0.13 * r, cx - w, my - 0.03 * r);
            pb.close();
        }
    }
    if let Some(path) = pb.finish() {
        if face.mouth == Mouth::Open {
            cv.fill(
                &path,
                Some(Part::Detail),
                &Ink::solid([170, 52, 62]),
                ts,
                None,
            );
            if let Some(tongue) = oval(cx, my + 0.15 * r, 0.5 * w, 0.05 * r) {
                cv.fill(
                    &tongue,
                    Some(Part::Detail),
                    &Ink::solid([236, 120, 130]),
                    ts,
                    None,
                );
            }
        }
        cv.stroke(&path, Some(Part::Detail), &lip, 0.55, ts);
    }
}
