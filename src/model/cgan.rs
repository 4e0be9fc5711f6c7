//! The tag-conditioned pair. G is the DCGAN generator with the tag vector concatenated to z
//! (`NetConfig::n_tags > 0`); D is a projection discriminator (Miyato & Koyama 2018): the DCGAN
//! trunk and `logit` layer, plus `embed`, a bias-free linear map from the tag vector to the
//! trunk's channels whose dot product with the sum-pooled features is added to the logit.
//!
//! Optionally D also carries an AC-GAN auxiliary classifier on the same pooled features
//! (`aux_head`), added after the weights are initialised.
//!
//! Variable names: D's are the DCGAN's plus `embed.weight` ([C, n_tags]) and, with the head,
//! `aux.weight` ([n_tags, C]) and `aux.bias`.

use tch::nn::{self, Module, ModuleT};
use tch::{Kind, Tensor};

use super::NetConfig;
use super::aux_head::AuxHead;
use super::dcgan::{d_trunk, d_trunk_sn};
use super::spectral_norm::{SnConv2d, SpectralNorms};

/// A discriminator that may see tags (plain DCGAN or projection), optionally with spectrally
/// normalized convolutions.
pub struct Discriminator {
    net: DNet,
    norms: SpectralNorms,
}

enum DNet {
    Plain(nn::SequentialT),
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
        let net = match (cfg.n_tags, spectral_norm) {
            (0, false) => DNet::Plain(super::discriminator(p, cfg)),
            (0, true) => DNet::Plain(super::discriminator_sn(p, cfg, &mut norms)),
            (_, sn) => DNet::Projection(ProjectionD::build(p, cfg, sn.then_some(&mut norms))),
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
        match (&self.net, tags) {
            (DNet::Plain(d), _) => (d.forward_t(x, train), None),
            (DNet::Projection(d), Some(tags)) => d.forward_aux(x, tags, train),
            (DNet::Projection(_), None) => panic!("the projection discriminator needs tags"),
        }
    }

    /// Adds the AC-GAN head under `p` (D's own path: variables `aux.*`), its weights drawn
    /// from torch's global stream. Only the projection D has one; `group_sizes` are the tag
    /// groups' lengths in tag-vector order. Call before the optimiser is built.
    pub fn add_aux_head(&mut self, p: nn::Path, group_sizes: &[i64]) {
        match &mut self.net {
            DNet::Projection(d) => d.aux = Some(AuxHead::new(p, d.width, group_sizes)),
            DNet::Plain(_) => panic!("the auxiliary classifier needs the CGAN's projection D"),
        }
    }

    /// The head, when D has one.
    pub fn aux_head(&self) -> Option<&AuxHead> {
        match &self.net {
            DNet::Projection(d) => d.aux.as_ref(),
            DNet::Plain(_) => None,
        }
    }

    /// One power-iteration step of every spectrally normalized layer (none without them):
    /// call once per D update, before its forward passes.
    pub fn power_iteration(&self) {
        self.norms.power_iteration();
    }
}

pub struct ProjectionD {
    trunk: nn::SequentialT,
    logit: Box<dyn Module>,
    embed: nn::Linear,
    /// Channels of the pooled features (the last block's width).
    width: i64,
    aux: Option<AuxHead>,
}

impl ProjectionD {
    pub fn new(p: nn::Path, cfg: &NetConfig) -> Self {
        Self::build(p, cfg, None)
    }

    /// With `norms`, the trunk and `logit` are spectrally normalized and report to it.
    fn build(p: nn::Path, cfg: &NetConfig, norms: Option<&mut SpectralNorms>) -> Self {
        let width = cfg.d_width << (cfg.n_blocks() - 1);
        let no_bias = nn::LinearConfig {
            bias: false,
            ..Default::default()
        };
        let (trunk, logit): (_, Box<dyn Module>) = match norms {
            None => (
                d_trunk(&p, cfg),
                Box::new(nn::conv2d(&p / "logit", width, 1, 4, Default::default())),
            ),
            Some(norms) => {
                let logit = SnConv2d::new(&p / "logit", width, 1, 4, 1, 0);
                norms.0.push(logit.handle());
                (d_trunk_sn(&p, cfg, norms), Box::new(SnModule(logit)))
            }
        };
        Self {
            trunk,
            logit,
            embed: nn::linear(&p / "embed", cfg.n_tags, width, no_bias),
            width,
            aux: None,
        }
    }

    pub fn forward_t(&self, x: &Tensor, tags: &Tensor, train: bool) -> Tensor {
        self.forward_aux(x, tags, train).0
    }

    /// Logits [b] and, with the head, the auxiliary classifier's [b, n_tags].
    fn forward_aux(&self, x: &Tensor, tags: &Tensor, train: bool) -> (Tensor, Option<Tensor>) {
        let h = self.trunk.forward_t(x, train); // [b, C, 4, 4]
        let psi = self.logit.forward(&h).reshape([-1]); // [b]
        let phi = h.sum_dim_intlist([2, 3].as_slice(), false, Kind::Float); // [b, C]
        let proj = (self.embed.forward(tags) * &phi).sum_dim_intlist(1, false, Kind::Float); // [b]
        let aux = self.aux.as_ref().map(|head| head.forward(&phi));
        (psi + proj, aux)
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
    use tch::{Device, nn};

    use super::*;
    use crate::model::generator;

    fn cfg() -> NetConfig {
        NetConfig {
            image_size: 32,
            z_dim: 8,
            g_width: 4,
            d_width: 4,
            n_tags: 5,
        }
    }

    #[test]
    fn shapes_names_and_tag_dependence() {
        let vs = nn::VarStore::new(Device::Cpu);
        let g = generator(vs.root() / "g", &cfg());
        let d = Discriminator::new(vs.root() / "d", &cfg());
        let v = vs.variables();
        assert_eq!(v["g.up0.weight"].size(), [13, 16, 4, 4], "z and tags in");
        assert_eq!(v["d.embed.weight"].size(), [16, 5]);
        assert!(v.contains_key("d.logit.weight") && v.contains_key("d.conv0.weight"));
        let opts = (Kind::Float, Device::Cpu);
        let zt = Tensor::cat(
            &[Tensor::randn([2, 8], opts), Tensor::zeros([2, 5], opts)],
            1,
        );
        let img = g.forward_t(&zt, false);
        assert_eq!(img.size(), [2, 3, 32, 32]);
        let a = d.forward_t(&img, Some(&Tensor::zeros([2, 5], opts)), false);
        let b = d.forward_t(&img, Some(&Tensor::ones([2, 5], opts)), false);
        assert_eq!(a.size(), [2]);
        assert!(
            a.ne_tensor(&b).any().int64_value(&[]) == 1,
            "tags change D's output"
        );
    }
}
