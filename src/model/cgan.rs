//! The tag-conditioned pair. G is the DCGAN generator with the tag vector concatenated to z
//! (`NetConfig::n_tags > 0`); D is a projection discriminator (Miyato & Koyama 2018): the DCGAN
//! trunk and `logit` layer, plus `embed`, a bias-free linear map from the tag vector to the
//! trunk's channels whose dot product with the sum-pooled features is added to the logit.
//!
//! Variable names: D's are the DCGAN's plus `embed.weight` ([C, n_tags]).

use tch::nn::{self, Module, ModuleT};
use tch::{Kind, Tensor};

use super::NetConfig;
use super::dcgan::d_trunk;

/// A discriminator that may see tags: plain DCGAN or projection.
pub enum Discriminator {
    Plain(nn::SequentialT),
    Projection(ProjectionD),
}

impl Discriminator {
    /// The DCGAN D when `cfg.n_tags == 0`, else the projection D.
    pub fn new(p: nn::Path, cfg: &NetConfig) -> Self {
        if cfg.n_tags == 0 {
            Self::Plain(super::discriminator(p, cfg))
        } else {
            Self::Projection(ProjectionD::new(p, cfg))
        }
    }

    /// `x` [b, 3, S, S], `tags` [b, n_tags] f32 (ignored by the plain D) -> [b] logits.
    pub fn forward_t(&self, x: &Tensor, tags: Option<&Tensor>, train: bool) -> Tensor {
        match (self, tags) {
            (Self::Plain(d), _) => d.forward_t(x, train),
            (Self::Projection(d), Some(tags)) => d.forward_t(x, tags, train),
            (Self::Projection(_), None) => panic!("the projection discriminator needs tags"),
        }
    }
}

pub struct ProjectionD {
    trunk: nn::SequentialT,
    logit: nn::Conv2D,
    embed: nn::Linear,
}

impl ProjectionD {
    pub fn new(p: nn::Path, cfg: &NetConfig) -> Self {
        let width = cfg.d_width << (cfg.n_blocks() - 1);
        let no_bias = nn::LinearConfig {
            bias: false,
            ..Default::default()
        };
        Self {
            trunk: d_trunk(&p, cfg),
            logit: nn::conv2d(&p / "logit", width, 1, 4, Default::default()),
            embed: nn::linear(&p / "embed", cfg.n_tags, width, no_bias),
        }
    }

    pub fn forward_t(&self, x: &Tensor, tags: &Tensor, train: bool) -> Tensor {
        let h = self.trunk.forward_t(x, train); // [b, C, 4, 4]
        let psi = h.apply(&self.logit).reshape([-1]); // [b]
        let phi = h.sum_dim_intlist([2, 3].as_slice(), false, Kind::Float); // [b, C]
        let proj = (self.embed.forward(tags) * phi).sum_dim_intlist(1, false, Kind::Float); // [b]
        psi + proj
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
