//! One D batch and one G batch: measure the accuracies first, then update unless the side has
//! already reached p0 (the original's early stop).

use tch::{Kind, Reduction, Tensor};

use super::nets::Nets;
use super::tags::TagSampler;

/// What one measured batch showed; `updated` is false when p0 stopped the update.
#[derive(Debug, Clone, Copy, Default)]
pub struct BatchFigures {
    /// D: accuracy on real (mean sigmoid); G: accuracy (mean sigmoid on G's samples).
    pub acc: f64,
    /// D: accuracy on fake (1 - mean sigmoid); unused for G.
    pub acc_fake: f64,
    pub hard: f64,
    pub hard_fake: f64,
    pub loss: f64,
    pub updated: bool,
}

impl BatchFigures {
    pub fn finite(&self) -> bool {
        self.loss.is_finite()
    }
}

fn bce(logits: &Tensor, target: &Tensor) -> Tensor {
    logits.binary_cross_entropy_with_logits::<Tensor>(target, None, None, Reduction::Mean)
}

/// Mean as f32; also turns a bool mask into the share of true entries.
fn mean(x: &Tensor) -> Tensor {
    x.to_kind(Kind::Float).mean(Kind::Float)
}

/// Copies a few scalars to the host in one transfer (one sync per batch, not one per figure).
fn host(values: &[Tensor]) -> Vec<f64> {
    let t = Tensor::stack(values, 0).to_kind(Kind::Double);
    Vec::<f64>::try_from(&t).expect("scalars copy to host")
}

/// D on a real batch and a fresh fake batch; updates D unless its fake accuracy reached `p0`.
/// For the CGAN `real_tags` are the batch's own tags and the fakes' tags come from `sampler`.
pub fn d_batch(
    nets: &mut Nets,
    real: &Tensor,
    real_tags: Option<&Tensor>,
    sampler: Option<&TagSampler>,
    label_noise: f64,
    p0: f64,
) -> BatchFigures {
    let b = real.size()[0];
    let opts = (Kind::Float, real.device());
    let z = Tensor::randn([b, nets.z_dim], opts);
    let fake_tags = fake_tags(nets, sampler, b); // [b, n_tags] or None
    let fake = tch::no_grad(|| nets.generate(&z, fake_tags.as_ref(), true)); // [b, 3, s, s]
    let real_logits = nets.judge(real, real_tags, true); // [b]
    let fake_logits = nets.judge(&fake, fake_tags.as_ref(), true); // [b]
    // Noisy targets: real 1 - U(0, noise), fake U(0, noise).
    let real_target = 1.0 - Tensor::rand([b], opts) * label_noise;
    let fake_target = Tensor::rand([b], opts) * label_noise;
    let loss = bce(&real_logits, &real_target) + bce(&fake_logits, &fake_target);
    let (p_real, p_fake) = (real_logits.sigmoid(), fake_logits.sigmoid());
    let v = host(&[
        mean(&p_real),
        1.0 - mean(&p_fake),
        mean(&p_real.ge(0.5)),
        mean(&p_fake.lt(0.5)),
        loss.detach(),
    ]);
    let mut f = BatchFigures {
        acc: v[0],
        acc_fake: v[1],
        hard: v[2],
        hard_fake: v[3],
        loss: v[4],
        updated: false,
    };
    if f.acc_fake < p0 && f.finite() {
        nets.opt_d.zero_grad();
        loss.backward();
        nets.opt_d.step();
        f.updated = true;
    }
    f
}

/// G on a fresh batch of `b` samples judged by D; updates G unless its accuracy reached `p0`.
/// D's weights must be frozen by the caller so that no gradient is spent on them.
pub fn g_batch(nets: &mut Nets, b: i64, sampler: Option<&TagSampler>, p0: f64) -> BatchFigures {
    let opts = (Kind::Float, nets.device);
    let z = Tensor::randn([b, nets.z_dim], opts);
    let tags = fake_tags(nets, sampler, b);
    let logits = nets.judge(&nets.generate(&z, tags.as_ref(), true), tags.as_ref(), true); // [b]
    let loss = bce(&logits, &Tensor::ones([b], opts));
    let p = logits.sigmoid();
    let v = host(&[mean(&p), mean(&p.ge(0.5)), loss.detach()]);
    let mut f = BatchFigures {
        acc: v[0],
        hard: v[1],
        loss: v[2],
        ..Default::default()
    };
    if f.acc < p0 && f.finite() {
        nets.opt_g.zero_grad();
        loss.backward();
        nets.opt_g.step();
        f.updated = true;
    }
    f
}

/// Tags for `b` fakes when the nets are conditional (drawn after z, from the same stream).
fn fake_tags(nets: &Nets, sampler: Option<&TagSampler>, b: i64) -> Option<Tensor> {
    (nets.n_tags > 0).then(|| {
        sampler
            .expect("a CGAN is trained on a labelled dataset")
            .sample(b)
    })
}
