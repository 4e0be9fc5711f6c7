//! Adam (Kingma & Ba 2014) with bias correction, holding its moments as plain tensors so that
//! checkpoints can save and restore them.

use std::collections::HashMap;

use anyhow::bail;
use tch::{Kind, Tensor, nn};

/// One trainable variable and its optimiser state.
struct Slot {
    name: String,
    param: Tensor,
    exp_avg: Tensor,
    exp_avg_sq: Tensor,
    /// Preallocated workspace so that `step` allocates nothing.
    scratch: Tensor,
}

/// Adam over every trainable variable of a `VarStore` (taken when built: create it after the
/// model and after any `set_device`/`set_kind`, which replace the variables).
pub struct Adam {
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    step: i64,
    slots: Vec<Slot>,
}

impl Adam {
    pub fn new(vs: &nn::VarStore, lr: f64, betas: (f64, f64), eps: f64) -> Adam {
        let mut trainable: Vec<(String, Tensor)> = vs
            .variables()
            .into_iter()
            .filter(|(_, t)| t.requires_grad())
            .collect();
        trainable.sort_by(|a, b| a.0.cmp(&b.0));
        let slots = trainable
            .into_iter()
            .map(|(name, param)| Slot {
                exp_avg: param.zeros_like(),
                exp_avg_sq: param.zeros_like(),
                scratch: param.zeros_like(),
                name,
                param,
            })
            .collect();
        Adam {
            lr,
            beta1: betas.0,
            beta2: betas.1,
            eps,
            step: 0,
            slots,
        }
    }

    pub fn zero_grad(&mut self) {
        for slot in &mut self.slots {
            slot.param.zero_grad();
        }
    }

    /// One update from the variables' `.grad()`; variables without a gradient are skipped.
    pub fn step(&mut self) {
        let _guard = tch::no_grad_guard();
        self.step += 1;
        let t = self.step as i32;
        let bias1 = 1.0 - self.beta1.powi(t);
        let bias2 = 1.0 - self.beta2.powi(t);
        let step_size = self.lr / bias1;
        // p -= step_size * m / (sqrt(v) / sqrt(bias2) + eps), written as p += m / denom with
        // denom = sqrt(v) * a + c, because tch's addcdiv_ has no `value` argument.
        let a = -1.0 / (step_size * bias2.sqrt());
        let c = -self.eps / step_size;
        for s in &mut self.slots {
            let grad = s.param.grad();
            if !grad.defined() {
                continue;
            }
            let _ = s.exp_avg.lerp_(&grad, 1.0 - self.beta1);
            let _ = grad.mul_out(&s.scratch, &grad);
            let _ = s.exp_avg_sq.lerp_(&s.scratch, 1.0 - self.beta2);
            let _ = s.exp_avg_sq.sqrt_out(&s.scratch);
            let _ = s.scratch.g_mul_scalar_(a);
            let _ = s.scratch.g_add_scalar_(c);
            let _ = s.param.addcdiv_(&s.exp_avg, &s.scratch);
        }
    }

    pub fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    pub fn lr(&self) -> f64 {
        self.lr
    }

    /// Number of `step` calls so far (restored by `load_state`).
    pub fn step_count(&self) -> i64 {
        self.step
    }

    /// The state as named tensors: `{prefix}.exp_avg.{var}`, `{prefix}.exp_avg_sq.{var}` for
    /// every trainable variable (its `VarStore` name), and `{prefix}.step` (int64, shape [1]).
    /// The moments alias the live state: write them out before the next `step`.
    /// Learning rate and betas are not included (they belong to the run's configuration).
    pub fn state_tensors(&self, prefix: &str) -> Vec<(String, Tensor)> {
        let mut out = Vec::with_capacity(2 * self.slots.len() + 1);
        for s in &self.slots {
            out.push((
                format!("{prefix}.exp_avg.{}", s.name),
                s.exp_avg.shallow_clone(),
            ));
            out.push((
                format!("{prefix}.exp_avg_sq.{}", s.name),
                s.exp_avg_sq.shallow_clone(),
            ));
        }
        out.push((format!("{prefix}.step"), Tensor::from_slice(&[self.step])));
        out
    }

    /// Restores what `state_tensors(prefix)` produced. Every problem (missing key, shape
    /// mismatch, key for a variable this optimiser does not have) is reported at once, and on
    /// error the state is left untouched.
    pub fn load_state(
        &mut self,
        named: &HashMap<String, Tensor>,
        prefix: &str,
    ) -> anyhow::Result<()> {
        let mut problems = Vec::new();
        let mut expected = Vec::with_capacity(2 * self.slots.len() + 1);
        for s in &self.slots {
            for moment in ["exp_avg", "exp_avg_sq"] {
                let key = format!("{prefix}.{moment}.{}", s.name);
                match named.get(&key) {
                    None => problems.push(format!("missing tensor {key}")),
                    Some(t) if t.size() != s.param.size() => problems.push(format!(
                        "tensor {key} has shape {:?}, variable {} has {:?}",
                        t.size(),
                        s.name,
                        s.param.size()
                    )),
                    Some(_) => {}
                }
                expected.push(key);
            }
        }
        let step_key = format!("{prefix}.step");
        let step = match named.get(&step_key) {
            None => {
                problems.push(format!("missing tensor {step_key}"));
                None
            }
            Some(t) if t.kind() != Kind::Int64 || t.numel() != 1 => {
                problems.push(format!(
                    "tensor {step_key} must be one int64, got {:?} of shape {:?}",
                    t.kind(),
                    t.size()
                ));
                None
            }
            Some(t) => Some(t.int64_value(&[0])),
        };
        expected.push(step_key);
        let mut unexpected: Vec<&String> = named
            .keys()
            .filter(|k| k.starts_with(&format!("{prefix}.")) && !expected.contains(k))
            .collect();
        unexpected.sort();
        problems.extend(
            unexpected
                .into_iter()
                .map(|k| format!("unexpected tensor {k} (no such variable)")),
        );
        if !problems.is_empty() {
            bail!(
                "cannot load optimiser state '{prefix}': {}",
                problems.join("; ")
            );
        }

        let _guard = tch::no_grad_guard();
        for s in &mut self.slots {
            s.exp_avg
                .f_copy_(&named[&format!("{prefix}.exp_avg.{}", s.name)])?;
            s.exp_avg_sq
                .f_copy_(&named[&format!("{prefix}.exp_avg_sq.{}", s.name)])?;
        }
        self.step = step.expect("checked above");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use tch::nn::{ModuleT, OptimizerConfig};
    use tch::{Device, Reduction};

    use super::*;
    use crate::model::{NetConfig, discriminator, init_weights};

    fn tiny_cfg() -> NetConfig {
        NetConfig {
            image_size: 16,
            z_dim: 8,
            g_width: 4,
            d_width: 4,
            n_tags: 0,
        }
    }

    fn loss(d: &nn::SequentialT, x: &Tensor) -> Tensor {
        let logits = d.forward_t(x, true);
        logits.binary_cross_entropy_with_logits::<Tensor>(
            &logits.ones_like(),
            None,
            None,
            Reduction::Mean,
        )
    }

    fn max_abs_diff(a: &nn::VarStore, b: &nn::VarStore) -> f64 {
        let bv = b.variables();
        a.variables()
            .iter()
            .map(|(k, t)| (t - &bv[k]).abs().max().double_value(&[]))
            .fold(0.0, f64::max)
    }

    #[test]
    fn matches_tch_adam() {
        let cfg = tiny_cfg();
        let ours_vs = nn::VarStore::new(Device::Cpu);
        let d_ours = discriminator(ours_vs.root(), &cfg);
        init_weights(&ours_vs);
        let mut theirs_vs = nn::VarStore::new(Device::Cpu);
        let d_theirs = discriminator(theirs_vs.root(), &cfg);
        theirs_vs.copy(&ours_vs).unwrap();

        let (lr, betas, eps) = (2e-3, (0.5, 0.999), 1e-8);
        let mut ours = Adam::new(&ours_vs, lr, betas, eps);
        let mut theirs = nn::Adam {
            beta1: betas.0,
            beta2: betas.1,
            wd: 0.0,
            eps,
            amsgrad: false,
        }
        .build(&theirs_vs, lr)
        .unwrap();
        let x = Tensor::randn([4, 3, 16, 16], (Kind::Float, Device::Cpu));
        let before = ours_vs.variables()["conv0.weight"].copy();
        for _ in 0..5 {
            ours.zero_grad();
            loss(&d_ours, &x).backward();
            ours.step();
            theirs.zero_grad();
            loss(&d_theirs, &x).backward();
            theirs.step();
        }
        assert_eq!(ours.step_count(), 5);
        let diff = max_abs_diff(&ours_vs, &theirs_vs);
        assert!(diff < 1e-6, "max |ours - tch| = {diff}");
        let moved = (&ours_vs.variables()["conv0.weight"] - &before).abs().max();
        assert!(
            moved.double_value(&[]) > 1e-4,
            "parameters must actually move"
        );
    }

    #[test]
    fn save_load_continue_is_bit_identical() {
        let cfg = tiny_cfg();
        let a_vs = nn::VarStore::new(Device::Cpu);
        let d_a = discriminator(a_vs.root(), &cfg);
        init_weights(&a_vs);
        let mut a = Adam::new(&a_vs, 1e-3, (0.5, 0.999), 1e-8);
        let xs: Vec<Tensor> = (0..6)
            .map(|_| Tensor::randn([4, 3, 16, 16], (Kind::Float, Device::Cpu)))
            .collect();
        let train = |d: &nn::SequentialT, opt: &mut Adam, x: &Tensor| {
            opt.zero_grad();
            loss(d, x).backward();
            opt.step();
        };
        for x in &xs[..3] {
            train(&d_a, &mut a, x);
        }

        // Snapshot (deep copies, as a file would hold), then restore into a fresh pair.
        let named: HashMap<String, Tensor> = a
            .state_tensors("opt_d")
            .into_iter()
            .map(|(k, t)| (k, t.copy()))
            .collect();
        let mut b_vs = nn::VarStore::new(Device::Cpu);
        let d_b = discriminator(b_vs.root(), &cfg);
        b_vs.copy(&a_vs).unwrap();
        let mut b = Adam::new(&b_vs, 1e-3, (0.5, 0.999), 1e-8);
        b.load_state(&named, "opt_d").unwrap();
        assert_eq!(b.step_count(), 3);

        for x in &xs[3..] {
            train(&d_a, &mut a, x);
            train(&d_b, &mut b, x);
        }
        let bv = b_vs.variables();
        for (k, t) in a_vs.variables() {
            assert!(t.equal(&bv[&k]), "{k} differs after restore");
        }
    }

    #[test]
    fn load_state_reports_every_problem() {
        let cfg = tiny_cfg();
        let vs = nn::VarStore::new(Device::Cpu);
        let _d = discriminator(vs.root(), &cfg);
        let mut opt = Adam::new(&vs, 1e-3, (0.5, 0.999), 1e-8);
        let mut named: HashMap<String, Tensor> = opt.state_tensors("opt_d").into_iter().collect();
        named.remove("opt_d.exp_avg.conv0.bias");
        named.insert(
            "opt_d.exp_avg_sq.logit.weight".into(),
            Tensor::zeros([2], (Kind::Float, Device::Cpu)),
        );
        named.insert(
            "opt_d.exp_avg.conv9.weight".into(),
            Tensor::zeros([2], (Kind::Float, Device::Cpu)),
        );
        named.insert("opt_g.step".into(), Tensor::from_slice(&[7i64])); // other prefix: ignored
        let err = opt.load_state(&named, "opt_d").unwrap_err().to_string();
        assert!(
            err.contains("missing tensor opt_d.exp_avg.conv0.bias"),
            "{err}"
        );
        assert!(
            err.contains("tensor opt_d.exp_avg_sq.logit.weight has shape [2]"),
            "{err}"
        );
        assert!(
            err.contains("unexpected tensor opt_d.exp_avg.conv9.weight"),
            "{err}"
        );
        assert!(!err.contains("opt_g"), "{err}");

        named.remove("opt_d.step");
        let err = opt.load_state(&named, "opt_d").unwrap_err().to_string();
        assert!(err.contains("missing tensor opt_d.step"), "{err}");
    }

    #[test]
    fn batch_norm_buffers_are_not_optimised() {
        let vs = nn::VarStore::new(Device::Cpu);
        let _d = discriminator(vs.root(), &tiny_cfg());
        let keys: Vec<String> = Adam::new(&vs, 1e-3, (0.5, 0.999), 1e-8)
            .state_tensors("o")
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert!(keys.contains(&"o.exp_avg.bn1.weight".to_string()));
        assert!(!keys.iter().any(|k| k.contains("running")), "{keys:?}");
    }
}
