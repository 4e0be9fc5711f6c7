//! An exponential moving average of G's weights (Karras et al. 2018, "Progressive Growing of
//! GANs", section A.1; the half-life convention of StyleGAN2-ADA's `ema_kimg` with its
//! `ema_rampup`): the averaged G draws the sample grids, the quality figures and `sample`.
//!
//! After every G update the average moves towards G with beta = 0.5^(b / h), `b` the batch and
//! `h` the half-life in images, capped at `RAMPUP` x the images averaged so far (so the first
//! epochs are not dominated by the random initial weights). Batch-norm running statistics are
//! not averaged: they are copied from G, as StyleGAN copies its buffers. The average is part of
//! a checkpoint (`g_ema.*` and `ema.images`); a checkpoint saved without it starts the average
//! from the restored G.

use std::collections::HashMap;

use anyhow::{Result, bail};
use tch::{Kind, Tensor, nn};

use crate::checkpoint;
use crate::model::{self, NetConfig};

/// StyleGAN2-ADA's `ema_rampup`: the half-life is at most this share of the images so far.
pub const RAMPUP: f64 = 0.05;
/// Checkpoint key of the images averaged so far (a [1] f64 tensor).
pub const IMAGES_KEY: &str = "ema.images";

pub struct Ema {
    pub vs: nn::VarStore,
    pub g: nn::SequentialT,
    half_life: f64,
    /// Images (G's batches) averaged in so far.
    images: f64,
    /// (average, G's variable, is a batch-norm buffer), sorted by name.
    pairs: Vec<(Tensor, Tensor, bool)>,
}

impl Ema {
    /// A copy of `g_vs` (built from `cfg`) that averages with half-life `half_life_images`.
    pub fn new(cfg: &NetConfig, g_vs: &nn::VarStore, half_life_images: u32) -> Self {
        let vs = nn::VarStore::new(g_vs.device());
        let g = model::generator(vs.root(), cfg);
        let live = g_vs.variables();
        let mut names: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
        names.sort_by(|a, b| a.0.cmp(&b.0));
        let pairs = names
            .into_iter()
            .map(|(name, avg)| {
                let buffer = name.ends_with("running_mean") || name.ends_with("running_var");
                let _ = avg.set_requires_grad(false);
                (avg, live[&name].shallow_clone(), buffer)
            })
            .collect();
        let mut ema = Self {
            vs,
            g,
            half_life: f64::from(half_life_images),
            images: 0.0,
            pairs,
        };
        ema.reset();
        ema
    }

    /// The average := G, nothing averaged yet.
    pub fn reset(&mut self) {
        let _guard = tch::no_grad_guard();
        for (avg, live, _) in &mut self.pairs {
            avg.copy_(live);
        }
        self.images = 0.0;
    }

    /// beta for a G batch of `b` images after `images` averaged ones.
    pub fn beta(half_life: f64, images: f64, b: i64) -> f64 {
        let h = half_life.min(images * RAMPUP).max(1e-8);
        0.5f64.powf(b as f64 / h)
    }

    /// Moves the average after a G update on `b` images (device ops only).
    pub fn update(&mut self, b: i64) {
        self.images += b as f64;
        let beta = Self::beta(self.half_life, self.images, b);
        let _guard = tch::no_grad_guard();
        for (avg, live, buffer) in &mut self.pairs {
            if *buffer {
                avg.copy_(live);
            } else {
                let _ = avg.lerp_(live, 1.0 - beta);
            }
        }
    }

    /// The average's tensors under their checkpoint keys.
    pub fn state_tensors(&self) -> Vec<(String, Tensor)> {
        let mut out: Vec<(String, Tensor)> = self
            .vs
            .variables()
            .into_iter()
            .map(|(k, t)| (format!("{}.{k}", checkpoint::G_EMA), t))
            .collect();
        out.push((
            IMAGES_KEY.to_string(),
            Tensor::from_slice(&[self.images]).to_kind(Kind::Double),
        ));
        out
    }

    /// The average from a checkpoint, or G's restored weights when the checkpoint has none
    /// (saved before the average existed, or by a run without it). Call after G is restored.
    pub fn restore(&mut self, named: &HashMap<String, Tensor>) -> Result<()> {
        let prefix = format!("{}.", checkpoint::G_EMA);
        if !named.keys().any(|k| k.starts_with(&prefix)) {
            self.reset();
            return Ok(());
        }
        checkpoint::restore_into(&mut self.vs, named, checkpoint::G_EMA)?;
        self.images = match named.get(IMAGES_KEY) {
            Some(t) if t.numel() == 1 => t.reshape([]).double_value(&[]),
            Some(t) => bail!(
                "checkpoint tensor {IMAGES_KEY} has shape {:?}, expected [1]",
                t.size()
            ),
            None => bail!("checkpoint has {prefix}* weights but no {IMAGES_KEY}"),
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use tch::Device;

    use super::*;

    fn cfg() -> NetConfig {
        NetConfig {
            image_size: 16,
            z_dim: 4,
            g_width: 4,
            d_width: 4,
            n_tags: 0,
        }
    }

    #[test]
    fn beta_halves_the_weight_of_the_past_every_half_life_after_the_rampup() {
        // Past the ramp-up: 10 batches of 1000 images = one half-life of 10,000.
        let beta = Ema::beta(10_000.0, 1e9, 1000);
        assert!((beta.powi(10) - 0.5).abs() < 1e-12);
        // Early: the half-life is 5% of the images so far (100 images -> 5).
        assert!((Ema::beta(10_000.0, 100.0, 5) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn average_follows_weights_and_copies_buffers() {
        tch::manual_seed(1);
        let g_vs = nn::VarStore::new(Device::Cpu);
        let _g = model::generator(g_vs.root(), &cfg());
        model::init_weights(&g_vs);
        let mut ema = Ema::new(&cfg(), &g_vs, 100);
        let live = g_vs.variables();
        let avg = ema.vs.variables();
        assert!(avg["up0.weight"].equal(&live["up0.weight"]), "starts as G");
        let before = live["up0.weight"].copy();
        tch::no_grad(|| {
            let mut w = live["up0.weight"].shallow_clone();
            w += 1.0;
            let _ = live["bn0.running_mean"].shallow_clone().fill_(3.0);
        });
        ema.update(1000); // beta = 0.5^(1000 / min(100, 50)) ~ 0
        let moved = &avg["up0.weight"] - &before;
        assert!((moved.mean(Kind::Float).double_value(&[]) - 1.0).abs() < 1e-3);
        assert_eq!(
            avg["bn0.running_mean"].mean(Kind::Float).double_value(&[]),
            3.0
        );
        ema.vs
            .variables()
            .values()
            .for_each(|t| assert!(!t.requires_grad()));
    }

    #[test]
    fn checkpoint_round_trip_and_old_checkpoints_start_from_g() {
        let g_vs = nn::VarStore::new(Device::Cpu);
        let _g = model::generator(g_vs.root(), &cfg());
        model::init_weights(&g_vs);
        let mut ema = Ema::new(&cfg(), &g_vs, 100);
        tch::no_grad(|| {
            for (_, mut t) in g_vs.variables() {
                t += 1.0;
            }
        });
        ema.update(10);
        let saved: HashMap<String, Tensor> = ema
            .state_tensors()
            .into_iter()
            .map(|(k, t)| (k, t.copy()))
            .collect();
        let mut other = Ema::new(&cfg(), &g_vs, 100);
        other.restore(&saved).unwrap();
        assert_eq!(other.images, 10.0);
        let (a, b) = (other.vs.variables(), ema.vs.variables());
        assert!(a["up1.weight"].equal(&b["up1.weight"]));
        // Without g_ema.* keys: the average is G's weights, nothing averaged.
        other.restore(&HashMap::new()).unwrap();
        assert_eq!(other.images, 0.0);
        assert!(other.vs.variables()["up1.weight"].equal(&g_vs.variables()["up1.weight"]));
    }
}
