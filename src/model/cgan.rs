//! The tag-conditioned pair. G is the DCGAN generator with the tag vector concatenated to z
//! (`NetConfig::n_tags > 0`); D is a projection discriminator (Miyato & Koyama 2018): the DCGAN
//! trunk and `logit` layer, plus `embed`, a bias-free linear map from the tag vector to the
//! trunk's channels whose dot product with the sum-pooled features is added to the logit.
//!
//! Variable names: D's are the DCGAN's plus `embed.weight` ([C, n_tags]).

use tch::nn::{self, Module};
use tch::{Kind, Tensor};

use super::NetConfig;
use super::discriminator::PlainD;
use super::spectral_norm::SpectralNorms;

/// The DCGAN D's parts plus the tag projection.
pub struct ProjectionD {
    pub(super) plain: PlainD,
    embed: nn::Linear,
}

impl ProjectionD {
    /// With `norms`, the trunk and `logit` are spectrally normalized and report to it; `embed`
    /// stays a plain linear map.
    pub(super) fn build(p: nn::Path, cfg: &NetConfig, norms: Option<&mut SpectralNorms>) -> Self {
        let width = cfg.d_width << (cfg.n_blocks() - 1);
        let no_bias = nn::LinearConfig {
            bias: false,
            ..Default::default()
        };
        let plain = PlainD::build(&p, cfg, norms);
        Self {
            plain,
            embed: nn::linear(&p / "embed", cfg.n_tags, width, no_bias),
        }
    }

    /// The projection term [b]: <embed(tags), phi> for sum-pooled features `phi` [b, C] and
    /// `tags` [b, n_tags] f32.
    pub(super) fn projection(&self, phi: &Tensor, tags: &Tensor) -> Tensor {
        (self.embed.forward(tags) * phi).sum_dim_intlist(1, false, Kind::Float)
    }
}

#[cfg(test)]
mod tests {
    use tch::nn::ModuleT;
    use tch::{Device, nn};

    use super::*;
    use crate::model::{Discriminator, generator};

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
