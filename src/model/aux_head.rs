//! The AC-GAN auxiliary classifier (Odena et al. 2017, "Conditional Image Synthesis with
//! Auxiliary Classifier GANs"): a linear head on D's pooled trunk features with one softmax per
//! tag group, and its cross-entropy against the tags an image has or was asked for.
//!
//! Groups are multi-hot spans of the tag vector where an image may have no tag or several; the
//! loss only counts, per group, the images with exactly one tag in it (a softmax names one
//! class). Variable names: `aux.weight` [n_tags, C], `aux.bias` [n_tags].

use tch::nn::{self, Module};
use tch::{Kind, Reduction, Tensor};

/// The head and the tag groups it classifies.
#[derive(Debug)]
pub struct AuxHead {
    linear: nn::Linear,
    /// (first index in the tag vector, tag count) per group.
    spans: Vec<(i64, i64)>,
}

impl AuxHead {
    /// A head from `features` channels to every group's tags (`group_sizes` in tag-vector
    /// order). Weights ~ N(0, 0.02), bias 0 (the DCGAN init), drawn from torch's global stream.
    pub fn new(p: nn::Path, features: i64, group_sizes: &[i64]) -> Self {
        let mut spans = Vec::with_capacity(group_sizes.len());
        let mut start = 0;
        for &k in group_sizes {
            spans.push((start, k));
            start += k;
        }
        let cfg = nn::LinearConfig {
            ws_init: nn::Init::Randn {
                mean: 0.0,
                stdev: 0.02,
            },
            bs_init: Some(nn::Init::Const(0.0)),
            bias: true,
        };
        Self {
            linear: nn::linear(p / "aux", features, start, cfg),
            spans,
        }
    }

    /// `features` [b, C] -> logits [b, n_tags]; group g's softmax is over its own span.
    pub fn forward(&self, features: &Tensor) -> Tensor {
        self.linear.forward(features)
    }

    /// Sum over groups of the mean cross-entropy -log softmax(logits_g)[y_g] over the images
    /// with exactly one tag y_g in group g (a group with no such image adds 0). `logits`
    /// [b, n_tags] in any precision, `tags` [b, n_tags] multi-hot f32; returns a 0-d f32.
    pub fn loss(&self, logits: &Tensor, tags: &Tensor) -> Tensor {
        let logits = logits.to_kind(Kind::Float);
        let terms: Vec<Tensor> = self
            .spans
            .iter()
            .map(|&(start, k)| {
                let own = tags.narrow(1, start, k); // [b, k]
                let mask = own.sum_dim_intlist(1, false, Kind::Float).eq(1.0); // [b] bool
                let mask = mask.to_kind(Kind::Float);
                let target = own.argmax(1, false); // [b]; meaningful where mask holds
                let ce = logits.narrow(1, start, k).cross_entropy_loss::<Tensor>(
                    &target,
                    None,
                    Reduction::None,
                    -100,
                    0.0,
                ); // [b]
                (ce * &mask).sum(Kind::Float) / mask.sum(Kind::Float).clamp_min(1.0)
            })
            .collect();
        Tensor::stack(&terms, 0).sum(Kind::Float)
    }

    /// The unconditional G's term, for images asked for no tags: sum over groups of the mean
    /// entropy of the group's softmax plus KL(prior_g || the batch's mean softmax), in nats.
    /// Low when each image reads as one clear tag and the batch's tags come in the prior's mix.
    /// CatGAN's generator objective (Springenberg 2016, "Unsupervised and Semi-supervised
    /// Learning with Categorical Generative Adversarial Networks": conditional entropy down,
    /// marginal entropy up) with the data's known tag mix in place of a uniform marginal.
    /// `logits` [b, n_tags] in any precision, `prior` one [k] f32 per group summing to 1 (a
    /// group whose prior sums to 0, no image with exactly one of its tags, adds 0); a 0-d f32.
    pub fn prior_loss(&self, logits: &Tensor, prior: &[Tensor]) -> Tensor {
        let logits = logits.to_kind(Kind::Float);
        let terms: Vec<Tensor> = self
            .spans
            .iter()
            .zip(prior)
            .map(|(&(start, k), pi)| {
                let log_p = logits.narrow(1, start, k).log_softmax(1, Kind::Float); // [b, k]
                let p = log_p.exp();
                let entropy = -(&p * &log_p)
                    .sum_dim_intlist(1, false, Kind::Float)
                    .mean(Kind::Float);
                let mean_log = p.mean_dim(0, false, Kind::Float).clamp_min(1e-8).log(); // [k]
                let kl = (pi * (pi.clamp_min(1e-8).log() - mean_log)).sum(Kind::Float);
                (entropy + kl) * pi.sum(Kind::Float)
            })
            .collect();
        Tensor::stack(&terms, 0).sum(Kind::Float)
    }

    /// Per group, the share of masked images whose arg-max is their tag (for tests and
    /// diagnostics); NaN for a group with no single-tag image.
    pub fn accuracy(&self, logits: &Tensor, tags: &Tensor) -> Vec<f64> {
        self.spans
            .iter()
            .map(|&(start, k)| {
                let own = tags.narrow(1, start, k);
                let mask = own.sum_dim_intlist(1, false, Kind::Float).eq(1.0);
                let hit = logits
                    .narrow(1, start, k)
                    .argmax(1, false)
                    .eq_tensor(&own.argmax(1, false))
                    .logical_and(&mask);
                hit.sum(Kind::Float).double_value(&[]) / mask.sum(Kind::Float).double_value(&[])
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use tch::{Device, nn};

    use super::*;
    use crate::optim::Adam;

    fn tags(rows: &[[f32; 5]]) -> Tensor {
        let flat: Vec<f32> = rows.iter().flatten().copied().collect();
        Tensor::from_slice(&flat).view([rows.len() as i64, 5])
    }

    #[test]
    fn shapes_and_names() {
        let vs = nn::VarStore::new(Device::Cpu);
        let head = AuxHead::new(vs.root(), 16, &[3, 2]);
        let v = vs.variables();
        assert_eq!(v["aux.weight"].size(), [5, 16]);
        assert_eq!(v["aux.bias"].size(), [5]);
        let out = head.forward(&Tensor::randn([4, 16], (Kind::Float, Device::Cpu)));
        assert_eq!(out.size(), [4, 5]);
    }

    /// Images with no tag or two tags in a group add nothing to that group's term; a group
    /// with no single-tag image adds 0, not NaN.
    #[test]
    fn loss_masks_images_without_exactly_one_tag() {
        let vs = nn::VarStore::new(Device::Cpu);
        let head = AuxHead::new(vs.root(), 4, &[3, 2]);
        // Group 0: row 0 says class 2, row 1 none, row 2 two tags. Group 1: no single tag.
        let t = tags(&[
            [0., 0., 1., 0., 0.],
            [0., 0., 0., 1., 1.],
            [1., 1., 0., 0., 0.],
        ]);
        let logits = Tensor::from_slice(&[
            1.0f32, 2.0, 3.0, 9.0, -9.0, // row 0
            50.0, -50.0, 7.0, 0.0, 0.0, // row 1: ignored in group 0, two tags in group 1
            -50.0, -50.0, 50.0, 0.0, 0.0, // row 2: ignored (two tags)
        ])
        .view([3, 5]);
        let want = -(3.0f64 - (1f64.exp() + 2f64.exp() + 3f64.exp()).ln()); // row 0 only
        let got = head.loss(&logits, &t).double_value(&[]);
        assert!((got - want).abs() < 1e-5, "{got} vs {want}");
        let none = tags(&[[0.; 5]]);
        let zero = head.loss(&Tensor::zeros([1, 5], (Kind::Float, Device::Cpu)), &none);
        assert_eq!(zero.double_value(&[]), 0.0);
        let acc = head.accuracy(&logits, &t);
        assert_eq!(acc[0], 1.0);
        assert!(acc[1].is_nan());
    }

    /// The unconditional term is 0 for sure reads in the prior's mix, is entropy plus KL
    /// otherwise, and skips a group with no prior (group 1 here: its flat reads would add ln 2).
    #[test]
    fn prior_loss_is_entropy_plus_kl_to_the_prior() {
        let vs = nn::VarStore::new(Device::Cpu);
        let head = AuxHead::new(vs.root(), 4, &[3, 2]);
        let prior = [
            Tensor::from_slice(&[0.5f32, 0.25, 0.25]),
            Tensor::from_slice(&[0f32, 0.]),
        ];
        // Four images read as classes 0, 0, 1, 2 with certainty: the prior's mix.
        let sure = Tensor::from_slice(&[0i64, 0, 1, 2])
            .one_hot(3)
            .to_kind(Kind::Float)
            * 60.0;
        let logits = Tensor::cat(
            &[&sure, &Tensor::zeros([4, 2], (Kind::Float, Device::Cpu))],
            1,
        );
        let zero = head.prior_loss(&logits, &prior).double_value(&[]);
        assert!(zero.abs() < 1e-5, "{zero}");
        // Uniform reads: entropy ln 3 plus KL(prior || uniform).
        let flat = Tensor::zeros([4, 5], (Kind::Float, Device::Cpu));
        let kl: f64 = [0.5f64, 0.25, 0.25]
            .iter()
            .map(|p| p * (p * 3.0).ln())
            .sum();
        let got = head.prior_loss(&flat, &prior).double_value(&[]);
        assert!((got - (3f64.ln() + kl)).abs() < 1e-5, "{got}");

        // Sure reads in the wrong mix (all class 0): the KL alone, 0.5 ln(0.5 / 1) plus the two
        // classes the batch never shows, their mean read clamped at 1e-8.
        let wrong = Tensor::from_slice(&[0i64; 4])
            .one_hot(3)
            .to_kind(Kind::Float)
            * 60.0;
        let wrong = Tensor::cat(
            &[&wrong, &Tensor::zeros([4, 2], (Kind::Float, Device::Cpu))],
            1,
        );
        let want = 0.5 * 0.5f64.ln() + 2.0 * 0.25 * (0.25f64 / 1e-8).ln();
        let got = head.prior_loss(&wrong, &prior).double_value(&[]);
        assert!((got - want).abs() < 1e-3 * want, "{got} vs {want}");
    }

    /// Adam on the head alone learns a separable toy batch: the loss falls and the head reads
    /// the tags back.
    #[test]
    fn loss_decreases_on_a_toy_batch() {
        tch::manual_seed(5);
        let vs = nn::VarStore::new(Device::Cpu);
        let head = AuxHead::new(vs.root(), 8, &[3, 2]);
        let mut opt = Adam::new(&vs, 1e-2, (0.5, 0.999), 1e-8);
        // Each row's features encode its tags; group 1 is missing on the last rows.
        let t = tags(&[
            [1., 0., 0., 1., 0.],
            [0., 1., 0., 0., 1.],
            [0., 0., 1., 1., 0.],
            [1., 0., 0., 0., 0.],
            [0., 0., 1., 0., 0.],
        ]);
        let noise = Tensor::randn([5, 8], (Kind::Float, Device::Cpu)) * 0.05;
        let x = Tensor::cat(&[&t, &t.narrow(1, 0, 3).neg()], 1) + noise; // [5, 8]
        let first = head.loss(&head.forward(&x), &t).double_value(&[]);
        for _ in 0..200 {
            let loss = head.loss(&head.forward(&x), &t);
            opt.zero_grad();
            loss.backward();
            opt.step_if(&Tensor::from(true));
        }
        let last = head.loss(&head.forward(&x), &t).double_value(&[]);
        assert!(last < first * 0.1, "{first} -> {last}");
        assert_eq!(head.accuracy(&head.forward(&x), &t), vec![1.0, 1.0]);
    }
}
