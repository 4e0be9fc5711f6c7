//! One epoch under either schedule: the original's phased D/G passes, or per-batch alternation.

use tch::Tensor;

use super::batches::DeviceImages;
use super::nets::Nets;
use super::step::{BatchFigures, d_batch, g_batch};
use crate::config::Schedule;

/// The knobs one epoch needs (the rollback policy may have changed some since the config).
#[derive(Debug, Clone, Copy)]
pub struct EpochPlan {
    pub schedule: Schedule,
    pub batch_size: i64,
    pub label_noise: f64,
    pub p0: f64,
    pub d_steps: u32,
    pub g_steps: u32,
}

/// Sums over the measured batches of one side.
#[derive(Debug, Clone, Copy, Default)]
pub struct SideSums {
    pub batches: u32,
    pub updates: u32,
    pub acc: f64,
    pub acc_fake: f64,
    pub hard: f64,
    pub hard_fake: f64,
    pub loss: f64,
    pub non_finite: bool,
}

impl SideSums {
    fn add(&mut self, f: &BatchFigures) {
        self.batches += 1;
        self.updates += f.updated as u32;
        self.acc += f.acc;
        self.acc_fake += f.acc_fake;
        self.hard += f.hard;
        self.hard_fake += f.hard_fake;
        self.loss += f.loss;
        self.non_finite |= !f.finite();
    }

    /// Mean of a summed figure over the measured batches (NaN when none was measured).
    pub fn mean(&self, sum: f64) -> f64 {
        sum / self.batches as f64
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct EpochSums {
    pub d: SideSums,
    pub g: SideSums,
}

pub fn run_epoch(nets: &mut Nets, data: &DeviceImages, plan: &EpochPlan) -> EpochSums {
    let b = plan.batch_size.min(data.len);
    match plan.schedule {
        crate::config::Schedule::Phased => phased(nets, data, plan, b),
        crate::config::Schedule::Alternating => alternating(nets, data, plan, b),
    }
}

/// D phase: `d_steps` shuffled passes, stopping once D's fake accuracy reaches p0; then a G phase
/// of `g_steps * n / b` updates, stopping once G's accuracy reaches p0.
fn phased(nets: &mut Nets, data: &DeviceImages, plan: &EpochPlan, b: i64) -> EpochSums {
    let mut sums = EpochSums::default();
    let batches = data.len / b;
    'd_phase: for _ in 0..plan.d_steps {
        let order = data.permutation();
        for i in 0..batches {
            let f = d_batch(
                nets,
                &data.batch(&order, i * b, b),
                data.batch_tags(&order, i * b, b).as_ref(),
                data.sampler.as_ref(),
                plan.label_noise,
                plan.p0,
            );
            sums.d.add(&f);
            if !f.updated {
                break 'd_phase;
            }
        }
    }
    nets.freeze_d();
    for _ in 0..plan.g_steps as i64 * batches {
        let f = g_batch(nets, b, data.sampler.as_ref(), plan.p0);
        sums.g.add(&f);
        if !f.updated {
            break;
        }
    }
    nets.unfreeze_d();
    sums
}

/// Per batch: `d_steps` D updates then `g_steps` G updates; a side at p0 skips its update.
fn alternating(nets: &mut Nets, data: &DeviceImages, plan: &EpochPlan, b: i64) -> EpochSums {
    let mut sums = EpochSums::default();
    let order: Tensor = data.permutation();
    for i in 0..data.len / b {
        let real = data.batch(&order, i * b, b);
        let real_tags = data.batch_tags(&order, i * b, b);
        for _ in 0..plan.d_steps {
            sums.d.add(&d_batch(
                nets,
                &real,
                real_tags.as_ref(),
                data.sampler.as_ref(),
                plan.label_noise,
                plan.p0,
            ));
        }
        nets.freeze_d();
        for _ in 0..plan.g_steps {
            sums.g
                .add(&g_batch(nets, b, data.sampler.as_ref(), plan.p0));
        }
        nets.unfreeze_d();
        if sums.d.non_finite || sums.g.non_finite {
            break;
        }
    }
    sums
}
