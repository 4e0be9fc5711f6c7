//! One D batch and one G batch: measure the accuracies first, then update unless the side has
//! already reached p0 (the original's early stop).
//!
//! The figures stay on the device (`Figures`, summed per epoch by the schedule) and the p0 gate
//! is a device-side condition on the optimiser's update (`Adam::step_if`), so a batch needs no
//! host round trip unless the caller decides something per batch (`Gate::OnHost`).

use tch::{Kind, Reduction, Tensor};

use super::nets::Nets;
use super::precision::autocast;
use crate::data::TagSampler;
use crate::optim::Adam;

/// Layout of one batch's figures, a [6] f32 tensor on the training device.
pub mod col {
    /// D: accuracy on real (mean sigmoid); G: accuracy (mean sigmoid on G's samples).
    pub const ACC: i64 = 0;
    /// D: accuracy on fake (1 - mean sigmoid); 0 for G.
    pub const ACC_FAKE: i64 = 1;
    /// Share of real (D) or of G's samples (G) with sigmoid >= 0.5.
    pub const HARD: i64 = 2;
    /// D: share of fakes with sigmoid < 0.5; 0 for G.
    pub const HARD_FAKE: i64 = 3;
    pub const LOSS: i64 = 4;
    /// 1 when the side was updated, 0 when p0 (or a non-finite loss) stopped the update.
    pub const UPDATED: i64 = 5;
}

/// How the p0 gate is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// On the device, as a masked update: no host round trip (the backward pass always runs).
    OnDevice,
    /// Read on the host first, skipping the backward pass when no update follows (for callers
    /// that read the outcome every batch anyway, like the phased schedule).
    OnHost,
}

/// A batch of G's samples and, for the CGAN, their tags. `images` keeps G's autograd graph when
/// drawn with `keep_graph`, so a G step can reuse it (pytorch/examples' DCGAN does the same).
pub struct Fakes {
    pub images: Tensor,
    pub tags: Option<Tensor>,
}

/// Draws `b` samples from fresh noise (z, then the CGAN's tags, from the current stream).
pub fn draw_fakes(nets: &Nets, sampler: Option<&TagSampler>, b: i64, keep_graph: bool) -> Fakes {
    let z = Tensor::randn([b, nets.z_dim], (Kind::Float, nets.device));
    let tags = fake_tags(nets, sampler, b); // [b, n_tags] or None
    let forward = || {
        autocast(nets.precision, nets.device, || {
            nets.generate(&z, tags.as_ref(), true) // [b, 3, s, s]
        })
    };
    let images = if keep_graph {
        forward()
    } else {
        tch::no_grad(forward)
    };
    Fakes { images, tags }
}

/// BCE in fp32 whatever the logits' precision.
fn bce(logits: &Tensor, target: &Tensor) -> Tensor {
    logits
        .to_kind(Kind::Float)
        .binary_cross_entropy_with_logits::<Tensor>(target, None, None, Reduction::Mean)
}

/// Mean as f32; also turns a bool mask into the share of true entries.
fn mean(x: &Tensor) -> Tensor {
    x.to_kind(Kind::Float).mean(Kind::Float)
}

/// D on a real batch and `fakes` (detached: no gradient reaches G); updates D unless its fake
/// accuracy reached `p0`. `real_tags` are the batch's own tags on a labelled dataset (the CGAN
/// is conditioned on them); with the tag head (CGAN or DCGAN), D's loss adds `aux_tag_weight` x
/// the head's cross-entropy on them (`LOSS` includes it).
/// Returns the batch's figures, [6] f32 on the device.
pub fn d_batch(
    nets: &mut Nets,
    real: &Tensor,
    real_tags: Option<&Tensor>,
    fakes: &Fakes,
    label_noise: f64,
    p0: f64,
    gate: Gate,
) -> Tensor {
    let b = real.size()[0];
    let opts = (Kind::Float, real.device());
    nets.d.power_iteration(); // spectral norm: once per D step
    let ((real_logits, real_aux), fake_logits) = autocast(nets.precision, nets.device, || {
        let fake = fakes.images.detach();
        let (real_logits, real_aux) = nets.judge_train_aux(real, real_tags);
        (
            (real_logits.to_kind(Kind::Float), real_aux), // [b], [b, n_tags]
            nets.judge_train(&fake, fakes.tags.as_ref())
                .to_kind(Kind::Float), // [b]
        )
    });
    nets.observe_real(&real_logits); // augmentation controller
    // Noisy targets: real 1 - U(0, noise), fake U(0, noise).
    let real_target = 1.0 - Tensor::rand([b], opts) * label_noise;
    let fake_target = Tensor::rand([b], opts) * label_noise;
    let gan = bce(&real_logits, &real_target) + bce(&fake_logits, &fake_target);
    // AC-GAN: D's head learns the tags of real images only (see experiments/README.md).
    let loss = match (&real_aux, real_tags) {
        (Some(aux), Some(tags)) => gan + nets.aux_loss(aux, tags),
        _ => gan,
    };
    let (p_real, p_fake) = (real_logits.sigmoid(), fake_logits.sigmoid());
    let acc_fake: Tensor = 1.0 - mean(&p_fake);
    let ok = acc_fake.lt(p0).logical_and(&loss.isfinite());
    let updated = update(&mut nets.opt_d, &loss, &ok, gate);
    Tensor::stack(
        &[
            mean(&p_real),
            acc_fake,
            mean(&p_real.ge(0.5)),
            mean(&p_fake.lt(0.5)),
            loss.detach().to_kind(Kind::Float),
            updated,
        ],
        0,
    )
}

/// G on `fakes` judged by D; updates G unless its accuracy reached `p0`. With D's tag head the
/// loss adds `aux_tag_weight` x: for the CGAN the head's cross-entropy against the tags the
/// fakes were asked for (AC-GAN); for the DCGAN, whose fakes are asked for none, the head's
/// `prior_loss` against `sampler`'s single-tag mix. `fakes` must keep G's graph
/// (`draw_fakes(.., keep_graph = true)`). D's weights must be frozen by the caller so that no
/// gradient is spent on them. Returns the batch's figures, [6] f32 on the device.
pub fn g_batch(
    nets: &mut Nets,
    fakes: &Fakes,
    sampler: Option<&TagSampler>,
    p0: f64,
    gate: Gate,
) -> Tensor {
    let b = fakes.images.size()[0];
    let (logits, aux) = autocast(nets.precision, nets.device, || {
        nets.judge_train_aux(&fakes.images, fakes.tags.as_ref()) // [b], [b, n_tags]
    });
    let logits = logits.to_kind(Kind::Float);
    let gan = bce(&logits, &Tensor::ones([b], (Kind::Float, nets.device)));
    // AC-GAN: G is also rewarded for samples D's head reads as the tags they were asked for;
    // unconditional, for samples it reads as clear tags in the data's mix.
    let loss = match (&aux, fakes.tags.as_ref()) {
        (Some(aux), Some(tags)) => gan + nets.aux_loss(aux, tags),
        (Some(aux), None) => {
            let sampler = sampler.expect("D has a tag head only on a labelled dataset");
            gan + nets.aux_prior_loss(aux, sampler.single_tag_prior())
        }
        _ => gan,
    };
    let p = logits.sigmoid();
    let acc = mean(&p);
    let ok = acc.lt(p0).logical_and(&loss.isfinite());
    let updated = update(&mut nets.opt_g, &loss, &ok, gate);
    let zero = acc.zeros_like();
    Tensor::stack(
        &[
            acc,
            zero.shallow_clone(),
            mean(&p.ge(0.5)),
            zero,
            loss.detach().to_kind(Kind::Float),
            updated,
        ],
        0,
    )
}

/// Backpropagates `loss` and updates where `ok` (0-d bool) holds; returns `ok` as 0-d f32.
fn update(opt: &mut Adam, loss: &Tensor, ok: &Tensor, gate: Gate) -> Tensor {
    if gate == Gate::OnHost && !bool::try_from(ok).expect("0-d bool") {
        return ok.to_kind(Kind::Float);
    }
    opt.zero_grad();
    loss.backward();
    opt.step_if(ok);
    ok.to_kind(Kind::Float)
}

/// Tags for `b` fakes when the nets are conditional (drawn after z, from the same stream).
fn fake_tags(nets: &Nets, sampler: Option<&TagSampler>, b: i64) -> Option<Tensor> {
    (nets.n_tags > 0).then(|| {
        sampler
            .expect("a CGAN is trained on a labelled dataset")
            .sample(b)
    })
}

#[cfg(test)]
mod tests {
    use tch::Device;

    use super::*;
    use crate::config::{Arch, Config};

    fn cgan(aux_tag_weight: f64) -> Config {
        with_arch(Arch::Cgan, aux_tag_weight)
    }

    fn with_arch(arch: Arch, aux_tag_weight: f64) -> Config {
        let mut c = Config::default();
        c.model.arch = arch;
        c.data.image_size = 16;
        c.model.z_dim = 4;
        c.model.g_width = 4;
        c.model.d_width = 4;
        c.train.lr_d = 1e-3;
        c.train.aux_tag_weight = aux_tag_weight;
        c
    }

    /// D's head learns a toy batch's tags through the whole D step (trunk and head), and the
    /// G step's loss carries the head's term.
    #[test]
    fn d_steps_lower_the_aux_loss_and_g_sees_it() {
        tch::manual_seed(11);
        let groups = [3, 2];
        let mut nets = Nets::new(&cgan(1.0), &groups, Device::Cpu).unwrap();
        // Group 0's tag is the image's colour channel; group 1 is missing on rows 2 to 5.
        let opts = (Kind::Float, Device::Cpu);
        let pick = Tensor::from_slice(&[0i64, 1, 2, 0, 1, 2, 0, 1]);
        let g0 = pick.one_hot(3).to_kind(Kind::Float);
        let g1 = Tensor::from_slice(&[1f32, 0., 0., 0., 0., 0., 1., 0.])
            .view([4, 2])
            .repeat_interleave_self_int(2, 0, None);
        let tags = Tensor::cat(&[&g0, &g1], 1); // [8, 5]
        d_steps_halve_the_aux_loss(&mut nets, &g0, &tags, true);

        // G's loss is the BCE plus the head's term on the fakes' tags.
        let fakes = draw_fakes_with(&nets, &tags);
        let logits = tch::no_grad(|| nets.judge_train(&fakes.images, fakes.tags.as_ref()));
        let (_, a) = tch::no_grad(|| nets.judge_train_aux(&fakes.images, fakes.tags.as_ref()));
        let want = bce(&logits, &Tensor::ones([8], opts)) + nets.aux_loss(&a.unwrap(), &tags);
        nets.freeze_d();
        let f = g_batch(&mut nets, &fakes, None, 1.0, Gate::OnDevice);
        let got = f.double_value(&[col::LOSS]);
        assert!(
            (got - want.double_value(&[])).abs() < 1e-5,
            "{got} vs {want}"
        );
    }

    /// The DCGAN's head learns real images' tags through D's step; G, unconditional, is asked
    /// for no tags, so its term is the head's `prior_loss` against the data's tag mix.
    #[test]
    fn dcgan_head_learns_real_tags_and_g_gets_the_prior_term() {
        tch::manual_seed(12);
        let mut nets = Nets::new(&with_arch(Arch::Dcgan, 1.0), &[3], Device::Cpu).unwrap();
        let opts = (Kind::Float, Device::Cpu);
        let tags = Tensor::from_slice(&[0i64, 1, 2, 0, 1, 2, 0, 1])
            .one_hot(3)
            .to_kind(Kind::Float); // [8, 3]: the colour channel
        d_steps_halve_the_aux_loss(&mut nets, &tags, &tags, false);

        let vocab = crate::data::Vocabulary::new(vec![vec!["r".into(), "g".into(), "b".into()]]);
        let rows: Vec<u8> = Vec::<f32>::try_from(tags.view([-1]))
            .unwrap()
            .iter()
            .map(|&x| x as u8)
            .collect();
        let sampler = TagSampler::new(&vocab, &rows, Device::Cpu);
        let fakes = draw_fakes(&nets, None, 8, true);
        let (logits, a) = tch::no_grad(|| nets.judge_train_aux(&fakes.images, None));
        let prior = sampler.single_tag_prior();
        let want = bce(&logits, &Tensor::ones([8], opts)) + nets.aux_prior_loss(&a.unwrap(), prior);
        nets.freeze_d();
        let f = g_batch(&mut nets, &fakes, Some(&sampler), 1.0, Gate::OnDevice);
        let got = f.double_value(&[col::LOSS]);
        let want = want.double_value(&[]);
        assert!((got - want).abs() < 1e-5, "{got} vs {want}");
    }

    /// 40 D steps on 8 real images whose colour channel is `colour`'s one-hot [8, 3] and whose
    /// tags are `tags`, against noise fakes (given `tags` when `conditional`); asserts that the
    /// head's loss on the real images at least halves and every step updated D.
    fn d_steps_halve_the_aux_loss(
        nets: &mut Nets,
        colour: &Tensor,
        tags: &Tensor,
        conditional: bool,
    ) {
        let opts = (Kind::Float, Device::Cpu);
        let real = colour.view([8, 3, 1, 1]).expand([8, 3, 16, 16], false) * 1.6 - 0.8
            + Tensor::randn([8, 3, 16, 16], opts) * 0.1;
        let given = conditional.then(|| tags.shallow_clone());
        let aux = |nets: &Nets| {
            let (_, a) = tch::no_grad(|| nets.judge_train_aux(&real, given.as_ref()));
            nets.aux_loss(&a.unwrap(), tags).double_value(&[])
        };
        let before = aux(nets);
        for _ in 0..40 {
            let fakes = Fakes {
                images: Tensor::randn([8, 3, 16, 16], opts).tanh(),
                tags: given.as_ref().map(Tensor::shallow_clone),
            };
            let f = d_batch(nets, &real, Some(tags), &fakes, 0.0, 1.0, Gate::OnDevice);
            assert_eq!(f.double_value(&[col::UPDATED]), 1.0);
        }
        let after = aux(nets);
        assert!(after < before * 0.5, "aux loss {before} -> {after}");
    }

    fn draw_fakes_with(nets: &Nets, tags: &Tensor) -> Fakes {
        let z = Tensor::randn([8, nets.z_dim], (Kind::Float, Device::Cpu));
        Fakes {
            images: nets.generate(&z, Some(tags), true),
            tags: Some(tags.shallow_clone()),
        }
    }
}
