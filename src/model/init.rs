//! DCGAN weight initialisation and parameter counting.

use tch::nn;

/// Conv and linear weights ~ N(0, 0.02), batch-norm scales ~ N(1, 0.02), biases 0 (DCGAN paper).
/// Batch-norm running statistics are left as built (mean 0, var 1). Uses torch's global RNG:
/// call `tch::manual_seed` first for reproducible weights.
pub fn init_weights(vs: &nn::VarStore) {
    let _guard = tch::no_grad_guard();
    // Sorted: the draws must go to the same variables in every process (HashMap order is not).
    let mut vars: Vec<_> = vs.variables().into_iter().collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, mut var) in vars {
        if name.ends_with(".bias") {
            let _ = var.zero_();
        } else if name.ends_with(".weight") && (var.dim() == 4 || var.dim() == 2) {
            let _ = var.normal_(0.0, 0.02);
        } else if name.ends_with(".weight") && var.dim() == 1 {
            let _ = var.normal_(1.0, 0.02);
        }
    }
}

/// Number of trainable scalars (batch-norm running statistics are not counted).
pub fn parameter_count(vs: &nn::VarStore) -> i64 {
    vs.trainable_variables()
        .iter()
        .map(|t| t.numel() as i64)
        .sum()
}

#[cfg(test)]
mod tests {
    #[test]
    fn same_seed_same_weights() {
        let cfg = super::super::NetConfig {
            image_size: 16,
            z_dim: 8,
            g_width: 4,
            d_width: 4,
            n_tags: 0,
        };
        let build = || {
            tch::manual_seed(3);
            let vs = tch::nn::VarStore::new(tch::Device::Cpu);
            let _g = super::super::generator(vs.root(), &cfg);
            super::init_weights(&vs);
            let mut v: Vec<_> = vs.variables().into_iter().collect();
            v.sort_by(|a, b| a.0.cmp(&b.0));
            v
        };
        for ((name, a), (_, b)) in build().iter().zip(build().iter()) {
            assert!(a.equal(b), "{name} differs between two seeded inits");
        }
    }

    use tch::{Device, nn};

    use super::*;
    use crate::model::{NetConfig, discriminator, generator};

    #[test]
    fn init_sets_dcgan_statistics() {
        let vs = nn::VarStore::new(Device::Cpu);
        let cfg = NetConfig {
            image_size: 32,
            z_dim: 16,
            g_width: 16,
            d_width: 16,
            n_tags: 0,
        };
        let _g = generator(vs.root() / "g", &cfg);
        let _d = discriminator(vs.root() / "d", &cfg);
        init_weights(&vs);
        let v = vs.variables();
        let w = &v["g.up1.weight"]; // 64 * 32 * 16 values
        assert!(w.mean(None).double_value(&[]).abs() < 0.002);
        assert!((w.std(true).double_value(&[]) - 0.02).abs() < 0.002);
        let scale = &v["d.bn1.weight"];
        assert!((scale.mean(None).double_value(&[]) - 1.0).abs() < 0.02);
        assert_eq!(v["g.bn0.bias"].abs().sum(None).double_value(&[]), 0.0);
        assert_eq!(v["d.conv0.bias"].abs().sum(None).double_value(&[]), 0.0);
        assert_eq!(
            v["g.bn0.running_var"].mean(None).double_value(&[]),
            1.0,
            "running stats untouched"
        );
        assert!(
            !v["g.bn0.running_mean"].requires_grad(),
            "running stats are buffers"
        );
    }

    #[test]
    fn parameter_count_of_default_config() {
        let cfg = NetConfig::default();
        let g_vs = nn::VarStore::new(Device::Cpu);
        let d_vs = nn::VarStore::new(Device::Cpu);
        let _g = generator(g_vs.root(), &cfg);
        let _d = discriminator(d_vs.root(), &cfg);
        // G: convT 100*512*16 + 512*256*16 + 256*128*16 + 128*64*16 + 64*3*16 + 3,
        //    batch norm 2*(512+256+128+64).
        assert_eq!(parameter_count(&g_vs), 3_576_707);
        // D: conv 3*64*16 + 64 + 64*128*16 + 128*256*16 + 256*512*16 + 512*16 + 1,
        //    batch norm 2*(128+256+512).
        assert_eq!(parameter_count(&d_vs), 2_765_633);
    }
}
