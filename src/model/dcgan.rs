//! DCGAN generator and discriminator (Radford et al. 2015), sized by `NetConfig`.
//!
//! Variable names (relative to the `nn::Path` given), for n = log2(image_size) - 2 blocks:
//! G: `up0` (z -> 4x4), `bn0`, `up1`, `bn1`, ..., `up{n-1}`, `bn{n-1}`, `to_rgb`;
//! D: `conv0` (no batch norm), `conv1`, `bn1`, ..., `conv{n-1}`, `bn{n-1}`, `logit`.
//! With `n_tags > 0` (the CGAN) G's input is z and the tag vector concatenated, so `up0` has
//! `z_dim + n_tags` input channels; every name stays the same.

use tch::nn::{self, ConvConfig, ConvTransposeConfig};

use super::NetConfig;
use super::spectral_norm::{SnConv2d, SpectralNorms};

/// [b, z_dim + n_tags] -> [b, 3, S, S] in [-1, 1].
/// Widths shrink towards the image: block k has g_width * 2^(n-1-k) channels.
pub fn generator(p: nn::Path, cfg: &NetConfig) -> nn::SequentialT {
    assert_valid(cfg);
    let n = cfg.n_blocks();
    let width = |k: i64| cfg.g_width << (n - 1 - k);
    let z_dim = cfg.z_dim + cfg.n_tags;
    // Batch norm follows every block conv, so their biases would be redundant.
    let no_bias = |stride, padding| ConvTransposeConfig {
        stride,
        padding,
        bias: false,
        ..Default::default()
    };

    let mut seq = nn::seq_t().add_fn(move |z| z.view([-1, z_dim, 1, 1])); // [b, z, 1, 1]
    let mut in_ch = z_dim;
    for k in 0..n {
        // k = 0 projects 1x1 to the 4x4 seed; each later block doubles: [b, width(k), 4*2^k, 4*2^k]
        let (stride, padding) = if k == 0 { (1, 0) } else { (2, 1) };
        seq = seq
            .add(nn::conv_transpose2d(
                &p / format!("up{k}"),
                in_ch,
                width(k),
                4,
                no_bias(stride, padding),
            ))
            .add(nn::batch_norm2d(
                &p / format!("bn{k}"),
                width(k),
                Default::default(),
            ))
            .add_fn(|xs| xs.relu());
        in_ch = width(k);
    }
    let to_rgb = ConvTransposeConfig {
        stride: 2,
        padding: 1,
        ..Default::default()
    };
    seq.add(nn::conv_transpose2d(&p / "to_rgb", in_ch, 3, 4, to_rgb)) // [b, 3, S, S]
        .add_fn(|xs| xs.tanh())
}

/// [b, 3, S, S] -> [b] logits (no sigmoid: pair with `binary_cross_entropy_with_logits`).
/// Widths grow with depth: conv k has d_width * 2^k channels.
pub fn discriminator(p: nn::Path, cfg: &NetConfig) -> nn::SequentialT {
    let width = cfg.d_width << (cfg.n_blocks() - 1);
    d_trunk(&p, cfg)
        .add(nn::conv2d(&p / "logit", width, 1, 4, Default::default())) // [b, 1, 1, 1]
        .add_fn(|xs| xs.reshape([-1])) // [b]
}

/// D without its `logit` layer: [b, 3, S, S] -> [b, d_width * 2^(n-1), 4, 4] features.
pub fn d_trunk(p: &nn::Path, cfg: &NetConfig) -> nn::SequentialT {
    assert_valid(cfg);
    let n = cfg.n_blocks();
    let width = |k: i64| cfg.d_width << k;
    let halve = |bias| ConvConfig {
        stride: 2,
        padding: 1,
        bias,
        ..Default::default()
    };

    // [b, 3, S, S] -> [b, d_width, S/2, S/2]; no batch norm on the first layer (DCGAN).
    let mut seq = nn::seq_t()
        .add(nn::conv2d(p / "conv0", 3, width(0), 4, halve(true)))
        .add_fn(leaky_relu);
    for k in 1..n {
        // [b, width(k), S/2^(k+1), S/2^(k+1)], down to [b, width(n-1), 4, 4]
        seq = seq
            .add(nn::conv2d(
                p / format!("conv{k}"),
                width(k - 1),
                width(k),
                4,
                halve(false),
            ))
            .add(nn::batch_norm2d(
                p / format!("bn{k}"),
                width(k),
                Default::default(),
            ))
            .add_fn(leaky_relu);
    }
    seq
}

/// `d_trunk` with spectrally normalized convolutions and no batch norm.
pub fn d_trunk_sn(p: &nn::Path, cfg: &NetConfig, norms: &mut SpectralNorms) -> nn::SequentialT {
    assert_valid(cfg);
    let width = |k: i64| cfg.d_width << k;
    let mut seq = nn::seq_t();
    for k in 0..cfg.n_blocks() {
        let in_ch = if k == 0 { 3 } else { width(k - 1) };
        let conv = SnConv2d::new(p / format!("conv{k}"), in_ch, width(k), 4, 2, 1);
        norms.0.push(conv.handle());
        seq = seq.add(conv).add_fn(leaky_relu); // [b, width(k), S/2^(k+1), S/2^(k+1)]
    }
    seq
}

/// LeakyReLU with slope 0.2 (one libtorch kernel; tch's own has its slope fixed at 0.01).
fn leaky_relu(xs: &tch::Tensor) -> tch::Tensor {
    super::ops::leaky_relu(xs, 0.2)
}

fn assert_valid(cfg: &NetConfig) {
    if let Err(e) = cfg.validate() {
        panic!("invalid NetConfig {cfg:?}: {e}");
    }
}

#[cfg(test)]
mod tests {
    use tch::{Device, Kind, Tensor, nn, nn::ModuleT};

    use super::*;

    fn small(image_size: i64) -> NetConfig {
        NetConfig {
            image_size,
            z_dim: 8,
            g_width: 4,
            d_width: 4,
            n_tags: 0,
        }
    }

    #[test]
    fn forward_shapes_follow_image_size() {
        for size in [16, 32, 64, 128] {
            let cfg = small(size);
            let vs = nn::VarStore::new(Device::Cpu);
            let g = generator(vs.root() / "g", &cfg);
            let d = discriminator(vs.root() / "d", &cfg);
            let z = Tensor::randn([2, cfg.z_dim], (Kind::Float, Device::Cpu));
            let img = g.forward_t(&z, true);
            assert_eq!(img.size(), [2, 3, size, size], "G output at {size} px");
            let lo = img.min().double_value(&[]);
            let hi = img.max().double_value(&[]);
            assert!(
                (-1.0..=1.0).contains(&lo) && (-1.0..=1.0).contains(&hi),
                "tanh range at {size} px"
            );
            assert_eq!(d.forward_t(&img, true).size(), [2], "D output at {size} px");
            assert_eq!(
                d.forward_t(&img, false).size(),
                [2],
                "D eval output at {size} px"
            );
        }
    }

    #[test]
    fn layer_names_are_stable() {
        let vs = nn::VarStore::new(Device::Cpu);
        let cfg = small(32); // n = 3 blocks
        let _g = generator(vs.root() / "g", &cfg);
        let _d = discriminator(vs.root() / "d", &cfg);
        let mut names: Vec<String> = vs.variables().into_keys().collect();
        names.sort();
        let bn = |net: &str, k: i64| {
            ["bias", "running_mean", "running_var", "weight"].map(|v| format!("{net}.bn{k}.{v}"))
        };
        let mut expected: Vec<String> = [
            "d.conv0.bias",
            "d.conv0.weight",
            "d.conv1.weight",
            "d.conv2.weight",
            "d.logit.bias",
            "d.logit.weight",
            "g.to_rgb.bias",
            "g.to_rgb.weight",
            "g.up0.weight",
            "g.up1.weight",
            "g.up2.weight",
        ]
        .map(String::from)
        .into_iter()
        .chain(bn("d", 1).into_iter().chain(bn("d", 2)))
        .chain(bn("g", 0).into_iter().chain(bn("g", 1)).chain(bn("g", 2)))
        .collect();
        expected.sort();
        assert_eq!(names, expected);
    }

    #[test]
    fn widths_follow_config() {
        let vs = nn::VarStore::new(Device::Cpu);
        let cfg = NetConfig {
            image_size: 64,
            z_dim: 10,
            g_width: 8,
            d_width: 3,
            n_tags: 0,
        };
        let _g = generator(vs.root() / "g", &cfg);
        let _d = discriminator(vs.root() / "d", &cfg);
        let v = vs.variables();
        // Transposed conv weights are [in, out, k, k]; convs [out, in, k, k].
        assert_eq!(v["g.up0.weight"].size(), [10, 64, 4, 4]);
        assert_eq!(v["g.up3.weight"].size(), [16, 8, 4, 4]);
        assert_eq!(v["g.to_rgb.weight"].size(), [8, 3, 4, 4]);
        assert_eq!(v["d.conv0.weight"].size(), [3, 3, 4, 4]);
        assert_eq!(v["d.conv3.weight"].size(), [24, 12, 4, 4]);
        assert_eq!(v["d.logit.weight"].size(), [1, 24, 4, 4]);
    }

    #[test]
    fn invalid_sizes_are_rejected() {
        for (size, why) in [
            (8, "below 16"),
            (48, "not a power of two"),
            (512, "above 256"),
        ] {
            let err = small(size).validate().unwrap_err().to_string();
            assert!(err.contains("power of two from 16 to 256"), "{why}: {err}");
        }
        assert!(NetConfig::default().validate().is_ok());
    }
}
