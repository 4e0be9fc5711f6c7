//! Adam (Kingma & Ba 2014) with bias correction, holding its moments as plain tensors so that
//! checkpoints can save and restore them. The update is libtorch's fused Adam (what
//! `torch.optim.Adam(fused=True)` runs: one pass over each tensor on the CPU, one multi-tensor
//! launch on CUDA), reached through `csrc/shim.cpp`. The step count lives on the device and the
//! fused kernel can skip itself on a device-side flag, so an update can be gated by a condition
//! the host never reads (`step_if`): on a GPU the training step then never waits for the device.

use std::collections::HashMap;
use std::os::raw::c_int;

use anyhow::bail;
use tch::{Kind, Tensor, nn};
use torch_sys::C_tensor;

use crate::{checkpoint, shim};

/// One trainable variable and its optimiser state.
struct Slot {
    name: String,
    param: Tensor,
    exp_avg: Tensor,
    exp_avg_sq: Tensor,
}

/// Adam over every trainable variable of a `VarStore` (taken when built: create it after the
/// model and after any `set_device`/`set_kind`, which replace the variables).
pub struct Adam {
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    /// Updates so far: a 0-d f32 tensor on the parameters' device (the fused kernel's
    /// `state_steps` kind; exact up to 2^24 updates).
    step: Tensor,
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
                name,
                param,
            })
            .collect::<Vec<Slot>>();
        let device = slots.first().map_or(tch::Device::Cpu, |s| s.param.device());
        Adam {
            lr,
            beta1: betas.0,
            beta2: betas.1,
            eps,
            step: Tensor::scalar_tensor(0.0, (Kind::Float, device)),
            slots,
        }
    }

    /// Drops every variable's gradient (`zero_grad(set_to_none=True)`, PyTorch's default): the
    /// next backward pass writes fresh gradients instead of adding into zeroed ones, and a
    /// variable it does not reach keeps none, so `step` leaves it alone.
    pub fn zero_grad(&mut self) {
        let params = self.pointers(|s| &s.param);
        // SAFETY: live tch tensors owned by `self.slots`; the shim only resets their `.grad`.
        let rc = unsafe { shim::anigan_grads_to_none(params.as_ptr(), params.len() as c_int) };
        shim::check(rc, "zero_grad");
    }

    /// One update from the variables' `.grad()`; variables without a gradient are skipped.
    pub fn step(&mut self) {
        let on = Tensor::scalar_tensor(1.0, (Kind::Bool, self.step.device()));
        self.step_if(&on);
    }

    /// One update if `gate` (a 0-d bool tensor on the parameters' device) is true, else nothing
    /// changes (weights, moments, step count), all without a host round trip: the fused kernel
    /// reads the gate on the device. Gradients of a gated-off update are never read, so they may
    /// be NaN or infinite. Variables without a gradient are skipped.
    /// Same arithmetic as `torch.optim.Adam(fused=True)`:
    /// p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
    pub fn step_if(&mut self, gate: &Tensor) {
        let _guard = tch::no_grad_guard();
        let on = gate.to_kind(Kind::Float); // 0-d, 1 or 0
        let _ = self.step.g_add_(&on);
        let skip: Tensor = 1.0 - &on; // the kernel's `found_inf`: 1 skips the update
        let params = self.pointers(|s| &s.param);
        let exp_avgs = self.pointers(|s| &s.exp_avg);
        let exp_avg_sqs = self.pointers(|s| &s.exp_avg_sq);
        // SAFETY: every pointer is a live tch tensor owned by `self` (or `skip`, alive here); the
        // shim updates params and moments in place and keeps no pointer after returning.
        let rc = unsafe {
            shim::anigan_fused_adam(
                params.as_ptr(),
                exp_avgs.as_ptr(),
                exp_avg_sqs.as_ptr(),
                params.len() as c_int,
                self.step.as_ptr(),
                skip.as_ptr(),
                self.lr,
                self.beta1,
                self.beta2,
                self.eps,
            )
        };
        shim::check(rc, "fused Adam");
    }

    /// The C++ tensors behind one field of every slot, for the shim.
    fn pointers(&self, field: impl Fn(&Slot) -> &Tensor) -> Vec<*const C_tensor> {
        self.slots.iter().map(|s| field(s).as_ptr()).collect()
    }

    pub fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    pub fn lr(&self) -> f64 {
        self.lr
    }

    /// Number of updates so far (restored by `load_state`); reads the device.
    pub fn step_count(&self) -> i64 {
        self.step.double_value(&[]) as i64
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
        out.push((
            format!("{prefix}.step"),
            Tensor::from_slice(&[self.step_count()]),
        ));
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
        let step_key = format!("{prefix}.step");
        let mut expected = Vec::with_capacity(2 * self.slots.len() + 1);
        for s in &self.slots {
            for moment in ["exp_avg", "exp_avg_sq"] {
                expected.push((format!("{prefix}.{moment}.{}", s.name), s.param.size()));
            }
        }
        expected.push((step_key.clone(), vec![1]));
        let mut problems = checkpoint::name_problems(named, prefix, &expected);
        let step = named.get(&step_key).filter(|t| t.numel() == 1);
        if let Some(t) = step.filter(|t| t.kind() != Kind::Int64) {
            problems.push(format!(
                "tensor {step_key} must be one int64, got {:?}",
                t.kind()
            ));
        }
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
        let step = step.expect("checked above").int64_value(&[0]);
        let _ = self.step.fill_(step as f64);
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
    fn gated_off_step_changes_nothing_even_with_nan_gradients() {
        let cfg = tiny_cfg();
        let vs = nn::VarStore::new(Device::Cpu);
        let d = discriminator(vs.root(), &cfg);
        init_weights(&vs);
        let mut opt = Adam::new(&vs, 1e-3, (0.5, 0.999), 1e-8);
        let x = Tensor::randn([4, 3, 16, 16], (Kind::Float, Device::Cpu));
        opt.zero_grad();
        loss(&d, &x).backward();
        opt.step();
        // Trainable ones only: batch norm's running statistics move with every forward pass.
        let weights = |vs: &nn::VarStore| {
            let mut v: Vec<(String, Tensor)> = vs
                .variables()
                .into_iter()
                .filter(|(_, t)| t.requires_grad())
                .collect();
            v.sort_by(|a, b| a.0.cmp(&b.0));
            v.into_iter()
                .map(|(_, t)| t.copy())
                .collect::<Vec<Tensor>>()
        };
        let before = weights(&vs);
        let moments: Vec<Tensor> = opt
            .state_tensors("o")
            .iter()
            .map(|(_, t)| t.copy())
            .collect();
        opt.zero_grad();
        (loss(&d, &x) * f64::NAN).backward();
        let off = Tensor::scalar_tensor(0.0, (Kind::Bool, Device::Cpu));
        opt.step_if(&off);
        assert_eq!(opt.step_count(), 1, "a gated-off step is not counted");
        for (a, b) in weights(&vs).iter().zip(&before) {
            assert!(a.equal(b), "weights changed under a closed gate");
        }
        for ((_, a), b) in opt.state_tensors("o").iter().zip(&moments) {
            assert!(a.equal(b), "moments changed under a closed gate");
        }
        opt.zero_grad();
        loss(&d, &x).backward();
        opt.step_if(&off.logical_not());
        assert_eq!(opt.step_count(), 2);
        assert!(!weights(&vs).iter().zip(&before).all(|(a, b)| a.equal(b)));
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
