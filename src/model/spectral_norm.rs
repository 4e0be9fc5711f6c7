//! Spectral normalization (Miyato et al. 2018, "Spectral Normalization for Generative
//! Adversarial Networks", algorithm 1): a convolution whose weight W [out, in, k, k] is used as
//! W / sigma(W), sigma the largest singular value of W reshaped to [out, in*k*k], estimated by
//! power iteration with a persistent vector u [out].
//!
//! Variables: `weight` (the unnormalized W, initialised like any conv weight), `bias`, and
//! `weight_u` (a buffer: not trained, saved in checkpoints so a resumed run normalizes exactly as
//! an uninterrupted one). The iteration is explicit (`SpectralNorm::power_iteration`, once per D
//! step): forward passes only read u, so sigma is the same for every pass of one step.

use tch::nn::{self, ModuleT};
use tch::{Kind, Tensor};

/// Keeps the norm of a vector away from 0 (torch's `normalize` eps).
const EPS: f64 = 1e-12;

/// Handles on one layer's W and u (aliasing the variables).
pub struct SpectralNorm {
    weight: Tensor,
    u: Tensor,
}

impl SpectralNorm {
    /// W as a matrix [out, in*k*k].
    fn matrix(&self) -> Tensor {
        let out = self.weight.size()[0];
        self.weight.reshape([out, -1])
    }

    /// One power-iteration step: v = normalize(W^T u), u = normalize(W v) (no gradient).
    pub fn power_iteration(&self) {
        let _guard = tch::no_grad_guard();
        let w = self.matrix().detach();
        let v = normalize(&w.tr().mv(&self.u));
        let mut u = self.u.shallow_clone();
        u.copy_(&normalize(&w.mv(&v)));
    }

    /// W / sigma with sigma = u^T W v (v from the current u): gradients flow through W.
    pub fn normalized(&self) -> Tensor {
        let w = self.matrix();
        let v = tch::no_grad(|| normalize(&w.detach().tr().mv(&self.u)));
        let sigma = self.u.dot(&w.mv(&v));
        &self.weight / sigma
    }
}

fn normalize(x: &Tensor) -> Tensor {
    x / x.norm().clamp_min(EPS)
}

/// A 2-d convolution with a spectrally normalized weight.
pub struct SnConv2d {
    sn: SpectralNorm,
    bias: Option<Tensor>,
    stride: i64,
    padding: i64,
}

impl SnConv2d {
    /// `[b, in, H, W] -> [b, out, H', W']`, square kernel `k`. u starts as the normalized
    /// all-ones vector (no random draw, so building D does not shift the weight init stream).
    pub fn new(p: nn::Path, in_ch: i64, out_ch: i64, k: i64, stride: i64, padding: i64) -> Self {
        let weight = p.var("weight", &[out_ch, in_ch, k, k], nn::Init::Const(0.0));
        let bias = Some(p.var("bias", &[out_ch], nn::Init::Const(0.0)));
        let u = p.ones_no_train("weight_u", &[out_ch]);
        tch::no_grad(|| {
            let _ = u.shallow_clone().fill_(1.0 / (out_ch as f64).sqrt());
        });
        Self {
            sn: SpectralNorm { weight, u },
            bias,
            stride,
            padding,
        }
    }

    /// A handle for the power iteration.
    pub fn handle(&self) -> SpectralNorm {
        SpectralNorm {
            weight: self.sn.weight.shallow_clone(),
            u: self.sn.u.shallow_clone(),
        }
    }
}

impl std::fmt::Debug for SnConv2d {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SnConv2d({:?})", self.sn.weight.size())
    }
}

impl ModuleT for SnConv2d {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        xs.conv2d(
            &self.sn.normalized().to_kind(xs.kind()),
            self.bias.as_ref().map(|b| b.to_kind(xs.kind())),
            [self.stride],
            [self.padding],
            [1],
            1,
        )
    }
}

/// Power iteration over every spectrally normalized layer of a net.
#[derive(Default)]
pub struct SpectralNorms(pub Vec<SpectralNorm>);

impl SpectralNorms {
    pub fn power_iteration(&self) {
        self.0.iter().for_each(SpectralNorm::power_iteration);
    }
}

/// Largest singular value of `w` reshaped to [out, -1], exactly (for tests and checks).
pub fn exact_sigma(w: &Tensor) -> f64 {
    let out = w.size()[0];
    let m = w.reshape([out, -1]).to_kind(Kind::Double);
    let (_, s, _) = m.svd(true, false);
    s.max().double_value(&[])
}

#[cfg(test)]
mod tests {
    use tch::Device;

    use super::*;

    #[test]
    fn power_iteration_converges_to_the_largest_singular_value() {
        tch::manual_seed(0);
        let vs = nn::VarStore::new(Device::Cpu);
        let conv = SnConv2d::new(vs.root() / "c", 3, 8, 4, 2, 1);
        tch::no_grad(|| {
            let _ = conv.sn.weight.shallow_clone().normal_(0.0, 0.02);
        });
        let h = conv.handle();
        for _ in 0..500 {
            h.power_iteration();
        }
        let normalized = tch::no_grad(|| h.normalized());
        let sigma = exact_sigma(&normalized);
        assert!((sigma - 1.0).abs() < 1e-3, "sigma of W / sigma(W): {sigma}");
        let names: Vec<String> = vs.variables().into_keys().collect();
        assert!(names.contains(&"c.weight_u".to_string()));
        assert_eq!(vs.trainable_variables().len(), 2, "u is a buffer");
        let x = Tensor::randn([2, 3, 16, 16], (Kind::Float, Device::Cpu));
        assert_eq!(conv.forward_t(&x, true).size(), [2, 8, 8, 8]);
    }

    #[test]
    fn gradients_reach_the_unnormalized_weight() {
        let vs = nn::VarStore::new(Device::Cpu);
        let conv = SnConv2d::new(vs.root(), 3, 4, 4, 2, 1);
        tch::no_grad(|| {
            let _ = conv.sn.weight.shallow_clone().normal_(0.0, 0.02);
        });
        let x = Tensor::randn([2, 3, 8, 8], (Kind::Float, Device::Cpu));
        conv.forward_t(&x, true).sum(Kind::Float).backward();
        assert!(
            conv.sn
                .weight
                .grad()
                .abs()
                .sum(Kind::Float)
                .double_value(&[])
                > 0.0
        );
    }
}
