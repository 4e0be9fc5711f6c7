//! Differentiable augmentation of the images D sees in training (DiffAugment, Zhao et al. 2020:
//! colour, translation, cutout), applied with probability `p` per image and operation, and the
//! adaptive controller of StyleGAN2-ADA (Karras et al. 2020, eq. 1 and section 3) that moves `p`
//! to hold the overfitting heuristic r_t = E[sign(D(real))] near a target.
//!
//! Every random draw comes from torch's global stream, which training re-seeds every epoch, so
//! a resumed run augments exactly as an uninterrupted one. `p` lives on the device and is
//! adjusted there (no host round trip per batch); it is part of a checkpoint (`augment.p`).

use std::collections::HashMap;

use anyhow::{Result, bail};
use tch::{Device, Kind, Tensor};

use crate::config::schema::{AugmentPolicy as Policy, AugmentSection};

/// D steps over which r_t is averaged before `p` moves (StyleGAN2-ADA's `ada_interval`).
pub const INTERVAL: i64 = 4;
/// Checkpoint key of the augmentation probability (a [1] f32 tensor).
pub const P_KEY: &str = "augment.p";

/// The augmentation pipe and its controller.
pub struct Augment {
    policy: Policy,
    /// Probability per image and operation, 0-d f32 on the device, in [0, 1].
    p: Tensor,
    /// The configured start, for checkpoints saved without augmentation.
    p_start: f64,
    /// 0 = fixed p.
    target: f64,
    speed_images: f64,
    /// Sum of sign(D(real)) over the current interval (device) and the D steps in it.
    interval_sum: Option<Tensor>,
    interval_steps: i64,
    /// Sum of the per-step means of sign(D(real)) this epoch, and the steps.
    epoch_sum: Option<Tensor>,
    epoch_steps: i64,
}

/// What `Augment::end_epoch` reports for metrics.csv.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AugmentFigures {
    /// The probability at the end of the epoch.
    pub p: f64,
    /// Mean over the epoch's D steps of E[sign(D(real))] on augmented real images; NaN when
    /// no D step ran.
    pub r_t: f64,
}

impl Augment {
    /// None when `[augment] policy` is empty. The policy was validated with the config.
    pub fn from_config(a: &AugmentSection, device: Device) -> Option<Self> {
        if a.is_off() {
            return None;
        }
        let policy = Policy::parse(&a.policy).expect("validated with the config");
        Some(Self {
            policy,
            p: Tensor::from(a.p as f32).to_device(device),
            p_start: a.p,
            target: a.target,
            speed_images: f64::from(a.speed_images),
            interval_sum: None,
            interval_steps: 0,
            epoch_sum: None,
            epoch_steps: 0,
        })
    }

    /// `x` [b, 3, s, s] in about [-1, 1] -> the same shape, each operation applied to each image
    /// with probability p. Differentiable in `x` (gradients reach G through augmented fakes).
    pub fn apply(&self, x: &Tensor) -> Tensor {
        let mut x = x.shallow_clone();
        if self.policy.color {
            x = self.gated(&x, color(&x));
        }
        if self.policy.translation {
            x = self.gated(&x, translation(&x, 0.125));
        }
        if self.policy.cutout {
            x = self.gated(&x, cutout(&x, 0.5));
        }
        x
    }

    /// `augmented` where a per-image draw falls below p, else `x`.
    fn gated(&self, x: &Tensor, augmented: Tensor) -> Tensor {
        let b = x.size()[0];
        let on = Tensor::rand([b, 1, 1, 1], (Kind::Float, x.device()))
            .lt_tensor(&self.p)
            .to_kind(x.kind());
        x + on * (augmented - x)
    }

    /// Records D's logits on a (real, augmented) batch of `b` images; every `INTERVAL` steps
    /// moves p by sign(r_t - target) * INTERVAL * b / speed_images, clamped to [0, 1].
    pub fn observe_real(&mut self, real_logits: &Tensor) {
        let b = real_logits.size()[0];
        let signs = real_logits
            .detach()
            .to_kind(Kind::Float)
            .sign()
            .mean(Kind::Float);
        add(&mut self.epoch_sum, &signs);
        self.epoch_steps += 1;
        if self.target <= 0.0 {
            return;
        }
        add(&mut self.interval_sum, &signs);
        self.interval_steps += 1;
        if self.interval_steps < INTERVAL {
            return;
        }
        let r_t = self.interval_sum.take().expect("added above") / self.interval_steps as f64;
        let step = (self.interval_steps * b) as f64 / self.speed_images;
        self.interval_steps = 0;
        let moved = (&self.p + (r_t - self.target).sign() * step).clamp(0.0, 1.0);
        self.p.copy_(&moved);
    }

    /// The epoch's figures (one host read) and a fresh interval: checkpoints are taken at epoch
    /// ends, so a resumed run's controller starts where an uninterrupted one does.
    pub fn end_epoch(&mut self) -> AugmentFigures {
        let r_t = match self.epoch_sum.take() {
            Some(s) => s.double_value(&[]) / self.epoch_steps as f64,
            None => f64::NAN,
        };
        self.epoch_steps = 0;
        self.interval_sum = None;
        self.interval_steps = 0;
        AugmentFigures {
            p: self.p.double_value(&[]),
            r_t,
        }
    }

    /// The probability as a checkpoint tensor.
    pub fn state(&self) -> (String, Tensor) {
        (P_KEY.to_string(), self.p.reshape([1]))
    }

    /// Takes p from a checkpoint; one saved without augmentation gives the configured start.
    pub fn restore(&mut self, named: &HashMap<String, Tensor>) -> Result<()> {
        let _guard = tch::no_grad_guard();
        match named.get(P_KEY) {
            Some(p) if p.numel() != 1 => {
                bail!(
                    "checkpoint tensor {P_KEY} has shape {:?}, expected [1]",
                    p.size()
                )
            }
            Some(p) => self.p.copy_(&p.reshape([]).to_kind(Kind::Float)),
            None => {
                let _ = self.p.fill_(self.p_start);
            }
        }
        self.end_epoch();
        Ok(())
    }
}

fn add(sum: &mut Option<Tensor>, x: &Tensor) {
    *sum = Some(match sum.take() {
        None => x.shallow_clone(),
        Some(s) => s + x,
    });
}

/// Per image [b, 1, 1, 1] uniform draws in [0, 1).
fn per_image(x: &Tensor) -> Tensor {
    Tensor::rand([x.size()[0], 1, 1, 1], (Kind::Float, x.device())).to_kind(x.kind())
}

/// DiffAugment's `rand_brightness`, `rand_saturation`, `rand_contrast` in that order: shift by
/// U(-0.5, 0.5), scale the deviation from the pixel's channel mean by U(0, 2), scale the
/// deviation from the image mean by U(0.5, 1.5).
fn color(x: &Tensor) -> Tensor {
    let x = x + (per_image(x) - 0.5);
    let mean = x.mean_dim([1i64].as_slice(), true, x.kind());
    let x = (&x - &mean) * (per_image(&x) * 2.0) + &mean;
    let mean = x.mean_dim([1i64, 2, 3].as_slice(), true, x.kind());
    (&x - &mean) * (per_image(&x) + 0.5) + &mean
}

/// DiffAugment's `rand_translation`: each image shifted by up to `ratio` of its side in each
/// direction (integer pixels), the uncovered border zero.
fn translation(x: &Tensor, ratio: f64) -> Tensor {
    let [b, c, h, w] = x.size()[..] else {
        panic!("images must be [b, c, h, w], got {:?}", x.size());
    };
    let opts = (Kind::Int64, x.device());
    let (sh, sw) = (
        (h as f64 * ratio + 0.5) as i64,
        (w as f64 * ratio + 0.5) as i64,
    );
    let ty = Tensor::randint_low(-sh, sh + 1, [b, 1, 1], opts);
    let tx = Tensor::randint_low(-sw, sw + 1, [b, 1, 1], opts);
    // Source pixel in the image padded by one zero pixel; out-of-range lands on the border.
    let rows = (Tensor::arange(h, opts).view([1, h, 1]) + ty + 1).clamp(0, h + 1);
    let cols = (Tensor::arange(w, opts).view([1, 1, w]) + tx + 1).clamp(0, w + 1);
    let index = (rows * (w + 2) + cols)
        .view([b, 1, h * w])
        .expand([b, c, h * w], false);
    x.constant_pad_nd([1, 1, 1, 1])
        .view([b, c, (h + 2) * (w + 2)])
        .gather(2, &index, false)
        .view([b, c, h, w])
}

/// DiffAugment's `rand_cutout`: a square of `ratio` of the side, centred anywhere in the
/// image, set to zero.
fn cutout(x: &Tensor, ratio: f64) -> Tensor {
    let [b, _, h, w] = x.size()[..] else {
        panic!("images must be [b, c, h, w], got {:?}", x.size());
    };
    let opts = (Kind::Int64, x.device());
    let (ch, cw) = (
        (h as f64 * ratio + 0.5) as i64,
        (w as f64 * ratio + 0.5) as i64,
    );
    let top = Tensor::randint_low(0, h + (1 - ch % 2), [b, 1, 1], opts) - ch / 2;
    let left = Tensor::randint_low(0, w + (1 - cw % 2), [b, 1, 1], opts) - cw / 2;
    let rows = Tensor::arange(h, opts).view([1, h, 1]);
    let cols = Tensor::arange(w, opts).view([1, 1, w]);
    let inside_rows = rows
        .ge_tensor(&top)
        .logical_and(&rows.lt_tensor(&(&top + ch)));
    let inside_cols = cols
        .ge_tensor(&left)
        .logical_and(&cols.lt_tensor(&(&left + cw)));
    let keep = inside_rows.logical_and(&inside_cols).logical_not(); // [b, h, w]
    x * keep.unsqueeze(1).to_kind(x.kind())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(policy: &str, p: f64, target: f64) -> AugmentSection {
        AugmentSection {
            policy: policy.into(),
            p,
            target,
            speed_images: 1000,
        }
    }

    fn images() -> Tensor {
        Tensor::rand([8, 3, 16, 16], (Kind::Float, Device::Cpu)) * 2.0 - 1.0
    }

    #[test]
    fn an_empty_policy_is_no_augmentation() {
        assert!(Augment::from_config(&section("", 1.0, 0.6), Device::Cpu).is_none());
    }

    #[test]
    fn p_zero_is_the_identity_and_p_one_changes_every_image() {
        let x = images();
        let off = Augment::from_config(&section("color,translation,cutout", 0.0, 0.0), Device::Cpu)
            .unwrap();
        assert!(off.apply(&x).equal(&x));
        let on = Augment::from_config(&section("color,translation,cutout", 1.0, 0.0), Device::Cpu)
            .unwrap();
        let y = on.apply(&x);
        assert_eq!(y.size(), x.size());
        let changed = (&y - &x)
            .abs()
            .sum_dim_intlist([1i64, 2, 3].as_slice(), false, Kind::Float);
        assert!(
            changed.gt(0.0).all().int64_value(&[]) == 1,
            "every image changed"
        );
    }

    #[test]
    fn translation_moves_pixels_and_fills_zero() {
        let x = Tensor::ones([2, 3, 16, 16], (Kind::Float, Device::Cpu));
        tch::manual_seed(5);
        let y = translation(&x, 0.125);
        // Shifted ones: only whole rows/columns at the border may be zero.
        let zeros = y.eq(0.0).sum(Kind::Int64).int64_value(&[]);
        assert!(zeros % 3 == 0, "every channel alike");
        let v = Tensor::arange(256, (Kind::Float, Device::Cpu)).view([1, 1, 16, 16]);
        let shifted = translation(&v, 0.125);
        // Inner pixels are some pixel of the original.
        let inner = shifted.get(0).get(0).get(8).get(8).double_value(&[]);
        assert!((0.0..256.0).contains(&inner));
    }

    #[test]
    fn cutout_zeroes_at_most_a_quarter() {
        let x = Tensor::ones([16, 3, 16, 16], (Kind::Float, Device::Cpu));
        let y = cutout(&x, 0.5);
        let zero_share = y
            .eq(0.0)
            .to_kind(Kind::Float)
            .mean(Kind::Float)
            .double_value(&[]);
        assert!(zero_share > 0.0 && zero_share <= 0.25, "{zero_share}");
    }

    #[test]
    fn gradients_flow_through_every_operation() {
        let x = images().set_requires_grad(true);
        let a = Augment::from_config(&section("color,translation,cutout", 1.0, 0.0), Device::Cpu)
            .unwrap();
        a.apply(&x).sum(Kind::Float).backward();
        assert!(x.grad().abs().sum(Kind::Float).double_value(&[]) > 0.0);
    }

    #[test]
    fn controller_raises_p_when_d_is_sure_of_real_images_and_lowers_it_otherwise() {
        let mut a = Augment::from_config(&section("color", 0.5, 0.6), Device::Cpu).unwrap();
        let confident = Tensor::ones([10], (Kind::Float, Device::Cpu)); // r_t = 1 > 0.6
        for _ in 0..INTERVAL {
            a.observe_real(&confident);
        }
        let f = a.end_epoch();
        // One interval: 4 steps x 10 images / 1000 images = +0.04.
        assert!((f.p - 0.54).abs() < 1e-6, "{f:?}");
        assert_eq!(f.r_t, 1.0);
        let unsure = -Tensor::ones([10], (Kind::Float, Device::Cpu));
        for _ in 0..INTERVAL * 100 {
            a.observe_real(&unsure);
        }
        assert_eq!(a.end_epoch().p, 0.0, "clamped at 0");
    }

    #[test]
    fn p_round_trips_through_a_checkpoint_and_old_checkpoints_keep_the_start() {
        let mut a = Augment::from_config(&section("color", 0.3, 0.6), Device::Cpu).unwrap();
        let (key, _) = a.state();
        let named: HashMap<String, Tensor> = [(key, Tensor::from_slice(&[0.75f32]))].into();
        a.restore(&named).unwrap();
        assert_eq!(a.end_epoch().p, 0.75);
        let mut b = Augment::from_config(&section("color", 0.3, 0.6), Device::Cpu).unwrap();
        b.restore(&HashMap::new()).unwrap();
        assert!((b.end_epoch().p - 0.3).abs() < 1e-6);
    }
}
