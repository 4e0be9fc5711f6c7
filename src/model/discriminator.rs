//! The discriminator a training run uses: the DCGAN's (`PlainD`) or the CGAN's projection D
//! (`ProjectionD`), either with spectrally normalized convolutions, and either optionally with
//! an auxiliary tag classifier (`AuxHead`) on its sum-pooled trunk features.
//!
//! Variable names are the DCGAN's (`conv*`, `bn*`, `logit`), plus the projection's `embed` and
//! the head's `aux.*`, so a checkpoint written before the head existed loads unchanged.

use tch::nn::{self, Module, ModuleT};
use tch::{Kind, Tensor};

use super::NetConfig;
use super::aux_head::AuxHead;
use super::cgan::ProjectionD;
use super::dcgan::{d_trunk, d_trunk_sn};
use super::spectral_norm::{SnConv2d, SpectralNorms};

/// A discriminator that may see tags (plain DCGAN or projection).
pub struct Discriminator {
    net: DNet,
    norms: SpectralNorms,
}

enum DNet {
    Plain(PlainD),
    Projection(ProjectionD),
}

impl Discriminator {
    /// The DCGAN D when `cfg.n_tags == 0`, else the projection D; batch norm as in DCGAN.
    pub fn new(p: nn::Path, cfg: &NetConfig) -> Self {
        Self::build(p, cfg, false)
    }

    /// As `new`; with `spectral_norm` every convolution is spectrally normalized (Miyato et al.
    /// 2018) and D has no batch norm. The projection's `embed` stays a plain linear map.
    pub fn build(p: nn::Path, cfg: &NetConfig, spectral_norm: bool) -> Self {
        let mut norms = SpectralNorms::default();
        let sn = spectral_norm.then_some(&mut norms);
        let net = match cfg.n_tags {
            0 => DNet::Plain(PlainD::build(&p, cfg, sn)),
            _ => DNet::Projection(ProjectionD::build(p, cfg, sn)),
        };
        Self { net, norms }
    }

    /// `x` [b, 3, S, S], `tags` [b, n_tags] f32 (ignored by the plain D) -> [b] logits.
    pub fn forward_t(&self, x: &Tensor, tags: Option<&Tensor>, train: bool) -> Tensor {
        self.forward_aux(x, tags, train).0
    }

    /// As `forward_t`, plus the auxiliary classifier's logits [b, n_tags] when D has the head
    /// (one forward pass of the trunk for both).
    pub fn forward_aux(
        &self,
        x: &Tensor,
        tags: Option<&Tensor>,
        train: bool,
    ) -> (Tensor, Option<Tensor>) {
        let parts = self.parts();
        let h = parts.trunk.forward_t(x, train); // [b, C, 4, 4]
        let psi = parts.logit.forward(&h).reshape([-1]); // [b]
        let aux = self.aux_head();
        if matches!(self.net, DNet::Plain(_)) && aux.is_none() {
            return (psi, None); // the DCGAN: no pooling needed
        }
        let phi = h.sum_dim_intlist([2, 3].as_slice(), false, Kind::Float); // [b, C]
        let logits = match (&self.net, tags) {
            (DNet::Plain(_), _) => psi,
            (DNet::Projection(d), Some(tags)) => psi + d.projection(&phi, tags),
            (DNet::Projection(_), None) => panic!("the projection discriminator needs tags"),
        };
        (logits, aux.map(|head| head.forward(&phi)))
    }

    /// Adds the auxiliary classifier under `p` (D's own path: variables `aux.*`), its weights
    /// drawn from torch's global stream; `group_sizes` are the tag groups' lengths in
    /// tag-vector order. Call before the optimiser is built.
    pub fn add_aux_head(&mut self, p: nn::Path, group_sizes: &[i64]) {
        let parts = self.parts_mut();
        parts.aux = Some(AuxHead::new(p, parts.width, group_sizes));
    }

    /// The head, when D has one.
    pub fn aux_head(&self) -> Option<&AuxHead> {
        self.parts().aux.as_ref()
    }

    /// One power-iteration step of every spectrally normalized layer (none without them):
    /// call once per D update, before its forward passes.
    pub fn power_iteration(&self) {
        self.norms.power_iteration();
    }

    fn parts(&self) -> &PlainD {
        match &self.net {
            DNet::Plain(d) => d,
            DNet::Projection(d) => &d.plain,
        }
    }

    fn parts_mut(&mut self) -> &mut PlainD {
        match &mut self.net {
            DNet::Plain(d) => d,
            DNet::Projection(d) => &mut d.plain,
        }
    }
}

/// The DCGAN D as parts: its trunk, its `logit` layer and, optionally, the auxiliary head.
/// The projection D is this plus `embed`.
pub struct PlainD {
    trunk: nn::SequentialT,
    logit: Box<dyn Module>,
    /// Channels of the trunk's features (the last block's width).
    width: i64,
    aux: Option<AuxHead>,
}

impl PlainD {
    /// With `norms`, the trunk and `logit` are spectrally normalized and report to it.
    pub fn build(p: &nn::Path, cfg: &NetConfig, norms: Option<&mut SpectralNorms>) -> Self {
        let width = cfg.d_width << (cfg.n_blocks() - 1);
        let (trunk, logit): (_, Box<dyn Module>) = match norms {
            None => (
                d_trunk(p, cfg),
                Box::new(nn::conv2d(p / "logit", width, 1, 4, Default::default())),
            ),
            Some(norms) => {
                let logit = SnConv2d::new(p / "logit", width, 1, 4, 1, 0);
                norms.0.push(logit.handle());
                (d_trunk_sn(p, cfg, norms), Box::new(SnModule(logit)))
            }
        };
        Self {
            trunk,
            logit,
            width,
            aux: None,
        }
    }
}

/// A spectrally normalized conv as a plain `Module` (it has no train/eval difference).
#[derive(Debug)]
struct SnModule(SnConv2d);

impl Module for SnModule {
    fn forward(&self, xs: &Tensor) -> Tensor {
        self.0.forward_t(xs, true)
    }
}

#[cfg(test)]
mod tests {
    use tch::nn::ModuleT;
    use tch::{Device, Kind, Tensor, nn};

    use super::*;
    use crate::model::discriminator as dcgan_discriminator;

    fn cfg() -> NetConfig {
        NetConfig {
            image_size: 32,
            z_dim: 8,
            g_width: 4,
            d_width: 4,
            n_tags: 0,
        }
    }

    /// The DCGAN D built in parts has the one-piece DCGAN's variables and, with its weights,
    /// the same logits: checkpoints written before the head existed load unchanged.
    #[test]
    fn plain_d_matches_the_one_piece_dcgan_d() {
        let (vs_old, mut vs_new) = (
            nn::VarStore::new(Device::Cpu),
            nn::VarStore::new(Device::Cpu),
        );
        let old = dcgan_discriminator(vs_old.root(), &cfg());
        let new = Discriminator::new(vs_new.root(), &cfg());
        let names = |vs: &nn::VarStore| {
            let mut n: Vec<String> = vs.variables().into_keys().collect();
            n.sort();
            n
        };
        assert_eq!(names(&vs_old), names(&vs_new));
        vs_new.copy(&vs_old).unwrap();
        let x = Tensor::randn([3, 3, 32, 32], (Kind::Float, Device::Cpu));
        let want = old.forward_t(&x, true);
        let (got, aux) = new.forward_aux(&x, None, true);
        assert!(got.allclose(&want, 1e-6, 1e-6, false), "{got} vs {want}");
        assert!(aux.is_none());
    }

    /// The DCGAN's head reads its pooled trunk features ([b, n_tags] logits) and leaves D's
    /// real/fake logit as it was.
    #[test]
    fn dcgan_head_adds_tag_logits_and_leaves_the_logit_alone() {
        let vs = nn::VarStore::new(Device::Cpu);
        let mut d = Discriminator::new(vs.root(), &cfg());
        let x = Tensor::randn([2, 3, 32, 32], (Kind::Float, Device::Cpu));
        let before = d.forward_t(&x, None, false);
        d.add_aux_head(vs.root(), &[3, 2]);
        let v = vs.variables();
        assert_eq!(
            v["aux.weight"].size(),
            [5, 16],
            "tags x the last block's width"
        );
        let (logits, aux) = d.forward_aux(&x, None, false);
        assert!(logits.equal(&before));
        assert_eq!(aux.expect("the head's logits").size(), [2, 5]);
    }
}
