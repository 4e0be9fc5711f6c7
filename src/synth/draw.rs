//! Rasterises a face description with tiny-skia, in colour or as a flat map of which part owns each pixel.

use tiny_skia::{PathBuilder, Pixmap, Rect, Transform};

use super::canvas::{Canvas, Ink, Part, oval, pt};
use super::face::Face;
use super::features::{eyes, mouth_and_nose};
use super::hair::{back_hair, fringe, side_locks};
use super::palette::{color, color_a, lighten, mix, outline, shade};

/// Draws `face` at `size` x `size`; with `labels`, returns the part map as pixels instead.
pub fn draw(face: &Face, size: u32, labels: bool) -> Pixmap {
    let pix = Pixmap::new(size, size).expect("size checked by the caller");
    let mut cv = Canvas { pix, labels };
    let k = size as f32 / 64.0;
    let base = Transform::from_scale(k, k);
    let (cx, cy, r) = (face.cx, face.cy, face.r);
    let head = base.pre_rotate_at(face.tilt, cx, cy + 0.6 * r);
    let body = base.pre_rotate_at(face.tilt * 0.3, cx, 64.0);

    background(&mut cv, face, base);
    back_hair(&mut cv, face, head);
    torso(&mut cv, face, body);
    face_skin(&mut cv, face, head);
    eyes(&mut cv, face, head);
    mouth_and_nose(&mut cv, face, head);
    fringe(&mut cv, face, head);
    side_locks(&mut cv, face, head);
    cv.pix
}

fn background(cv: &mut Canvas, face: &Face, ts: Transform) {
    let (sin, cos) = face.background_angle.to_radians().sin_cos();
    let [a, b] = face.background;
    let ink = Ink::Linear(
        pt(32.0 - 32.0 * cos, 32.0 - 32.0 * sin),
        pt(32.0 + 32.0 * cos, 32.0 + 32.0 * sin),
        vec![(0.0, color(a)), (1.0, color(b))],
    );
    let all = PathBuilder::from_rect(Rect::from_ltrb(-1.0, -1.0, 65.0, 65.0).expect("valid"));
    cv.fill(&all, Some(Part::Background), &ink, ts, None);
    for &[x, y, rad, alpha] in &face.bokeh {
        if let Some(p) = oval(x, y, rad, rad) {
            let c = lighten(a, 0.5);
            cv.fill(&p, None, &Ink::Solid(color_a(c, alpha)), ts, None);
        }
    }
}

fn torso(cv: &mut Canvas, face: &Face, ts: Transform) {
    let (cx, cy, r) = (face.cx, face.cy, face.r);
    let neck_top = cy + 0.6 * r;
    if let Some(neck) = Rect::from_ltrb(cx - 0.27 * r, neck_top, cx + 0.27 * r, 70.0) {
        let ink = Ink::vertical(
            cx,
            neck_top,
            cy + 1.5 * r,
            &[(0.0, shade(face.skin, 0.82)), (1.0, shade(face.skin, 0.95))],
        );
        cv.fill(
            &PathBuilder::from_rect(neck),
            Some(Part::Skin),
            &ink,
            ts,
            None,
        );
    }
    let sh = cy + 1.45 * r;
    let mut pb = PathBuilder::new();
    pb.move_to(cx - 2.4 * r, 76.0);
    pb.cubic_to(
        cx - 2.2 * r,
        sh + 0.2 * r,
        cx - 1.5 * r,
        sh - 0.1 * r,
        cx - 0.5 * r,
        sh - 0.12 * r,
    );
    pb.line_to(cx, sh + 0.45 * r);
    pb.line_to(cx + 0.5 * r, sh - 0.12 * r);
    pb.cubic_to(
        cx + 1.5 * r,
        sh - 0.1 * r,
        cx + 2.2 * r,
        sh + 0.2 * r,
        cx + 2.4 * r,
        76.0,
    );
    pb.close();
    if let Some(path) = pb.finish() {
        let ink = Ink::vertical(
            cx,
            sh,
            70.0,
            &[(0.0, face.clothes), (1.0, shade(face.clothes, 0.75))],
        );
        cv.fill(&path, Some(Part::Body), &ink, ts, None);
        cv.stroke(
            &path,
            Some(Part::Body),
            &Ink::solid(outline(face.clothes)),
            0.5,
            ts,
        );
    }
    if face.collar {
        for s in [-1.0, 1.0] {
            let mut pb = PathBuilder::new();
            pb.move_to(cx + s * 0.5 * r, sh - 0.12 * r);
            pb.line_to(cx + s * 0.05 * r, sh + 0.45 * r);
            pb.line_to(cx + s * 0.75 * r, sh + 0.35 * r);
            pb.close();
            if let Some(p) = pb.finish() {
                cv.fill(&p, Some(Part::Body), &Ink::solid([246, 246, 250]), ts, None);
                cv.stroke(&p, Some(Part::Body), &Ink::solid([120, 120, 140]), 0.4, ts);
            }
        }
    }
}

fn face_skin(cv: &mut Canvas, face: &Face, ts: Transform) {
    let (cx, cy, r) = (face.cx, face.cy, face.r);
    let chin = cy + face.chin * r;
    let w = 0.9 * r;
    let mut pb = PathBuilder::new();
    pb.move_to(cx - w, cy - 0.2 * r);
    pb.cubic_to(cx - w, cy - 0.75 * r, cx - 0.5 * r, cy - r, cx, cy - r);
    pb.cubic_to(
        cx + 0.5 * r,
        cy - r,
        cx + w,
        cy - 0.75 * r,
        cx + w,
        cy - 0.2 * r,
    );
    pb.cubic_to(
        cx + w * 1.02,
        cy + 0.3 * r,
        cx + 0.8 * r,
        cy + 0.55 * r,
        cx + 0.5 * r,
        chin - 0.3 * r,
    );
    pb.cubic_to(cx + 0.3 * r, chin - 0.12 * r, cx + 0.12 * r, chin, cx, chin);
    pb.cubic_to(
        cx - 0.12 * r,
        chin,
        cx - 0.3 * r,
        chin - 0.12 * r,
        cx - 0.5 * r,
        chin - 0.3 * r,
    );
    pb.cubic_to(
        cx - 0.8 * r,
        cy + 0.55 * r,
        cx - w * 1.02,
        cy + 0.3 * r,
        cx - w,
        cy - 0.2 * r,
    );
    pb.close();
    if let Some(path) = pb.finish() {
        cv.fill(&path, Some(Part::Skin), &Ink::solid(face.skin), ts, None);
        let line = mix(shade(face.skin, 0.6), [120, 60, 50], 0.3);
        cv.stroke(&path, Some(Part::Skin), &Ink::solid(line), 0.45, ts);
    }
}
