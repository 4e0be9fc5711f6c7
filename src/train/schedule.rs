//! One epoch under either schedule: the original's phased D/G passes, or per-batch alternation.

use tch::{Kind, Tensor};

use super::nets::Nets;
use super::step::{Gate, col, d_batch, draw_fakes, g_batch};
use crate::config::Schedule;
use crate::data::DeviceImages;

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

/// Sums over the measured batches of one side (read from the device once per epoch).
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

/// One side's figures summed on the device, [6] f32, and the batch count.
struct DeviceSums {
    sum: Option<Tensor>,
    batches: u32,
}

impl DeviceSums {
    fn new() -> Self {
        Self {
            sum: None,
            batches: 0,
        }
    }

    fn add(&mut self, figures: &Tensor) {
        self.batches += 1;
        self.sum = Some(match self.sum.take() {
            None => figures.shallow_clone(),
            Some(s) => s + figures,
        });
    }

    /// The one host read of the epoch for this side. A non-finite loss anywhere makes the
    /// summed loss non-finite.
    fn read(&self) -> SideSums {
        let Some(sum) = &self.sum else {
            return SideSums::default();
        };
        let v = Vec::<f64>::try_from(sum.to_kind(Kind::Double)).expect("sums copy to host");
        let at = |c: i64| v[c as usize];
        SideSums {
            batches: self.batches,
            updates: at(col::UPDATED).round() as u32,
            acc: at(col::ACC),
            acc_fake: at(col::ACC_FAKE),
            hard: at(col::HARD),
            hard_fake: at(col::HARD_FAKE),
            loss: at(col::LOSS),
            non_finite: !at(col::LOSS).is_finite(),
        }
    }
}

pub fn run_epoch(nets: &mut Nets, data: &DeviceImages, plan: &EpochPlan) -> EpochSums {
    let b = plan.batch_size.min(data.len);
    let (d, g) = match plan.schedule {
        crate::config::Schedule::Phased => phased(nets, data, plan, b),
        crate::config::Schedule::Alternating => alternating(nets, data, plan, b),
    };
    EpochSums {
        d: d.read(),
        g: g.read(),
    }
}

fn updated(figures: &Tensor) -> bool {
    figures.double_value(&[col::UPDATED]) > 0.5
}

/// D phase: `d_steps` shuffled passes, stopping once D's fake accuracy reaches p0; then a G phase
/// of `g_steps * n / b` updates on fresh samples, stopping once G's accuracy reaches p0. Each
/// stop is a decision, so this schedule reads the gate every batch (`Gate::OnHost`).
fn phased(
    nets: &mut Nets,
    data: &DeviceImages,
    plan: &EpochPlan,
    b: i64,
) -> (DeviceSums, DeviceSums) {
    let (mut d, mut g) = (DeviceSums::new(), DeviceSums::new());
    let batches = data.len / b;
    let sampler = data.sampler.as_ref();
    'd_phase: for _ in 0..plan.d_steps {
        let order = data.permutation();
        for i in 0..batches {
            let fakes = draw_fakes(nets, sampler, b, false);
            let f = d_batch(
                nets,
                &data.batch(&order, i * b, b),
                data.batch_tags(&order, i * b, b).as_ref(),
                &fakes,
                plan.label_noise,
                plan.p0,
                Gate::OnHost,
            );
            d.add(&f);
            if !updated(&f) {
                break 'd_phase;
            }
        }
    }
    nets.freeze_d();
    for _ in 0..plan.g_steps as i64 * batches {
        let fakes = draw_fakes(nets, sampler, b, true);
        let f = g_batch(nets, &fakes, sampler, plan.p0, Gate::OnHost);
        nets.g_updated(b);
        g.add(&f);
        if !updated(&f) {
            break;
        }
    }
    nets.unfreeze_d();
    (d, g)
}

/// Per batch: `d_steps` D updates then `g_steps` G updates; a side at p0 skips its update (a
/// masked update on the device: this loop never waits for the device).
///
/// The first G step reuses the last D step's fake batch (its z, tags and G's graph), as
/// pytorch/examples' DCGAN does: it is a batch from the same G that D was just trained against,
/// so G's update is still an unbiased step on fresh noise, and one G forward pass per batch is
/// saved. Further G steps (`g_steps` > 1) draw fresh samples.
fn alternating(
    nets: &mut Nets,
    data: &DeviceImages,
    plan: &EpochPlan,
    b: i64,
) -> (DeviceSums, DeviceSums) {
    let (mut d, mut g) = (DeviceSums::new(), DeviceSums::new());
    let sampler = data.sampler.as_ref();
    let order: Tensor = data.permutation();
    for i in 0..data.len / b {
        let real = data.batch(&order, i * b, b);
        let real_tags = data.batch_tags(&order, i * b, b);
        let mut last = None;
        for k in 0..plan.d_steps {
            let reused = k + 1 == plan.d_steps && plan.g_steps > 0;
            let fakes = draw_fakes(nets, sampler, b, reused);
            d.add(&d_batch(
                nets,
                &real,
                real_tags.as_ref(),
                &fakes,
                plan.label_noise,
                plan.p0,
                Gate::OnDevice,
            ));
            last = reused.then_some(fakes);
        }
        nets.freeze_d();
        for _ in 0..plan.g_steps {
            let fakes = match last.take() {
                Some(f) => f,
                None => draw_fakes(nets, sampler, b, true),
            };
            g.add(&g_batch(nets, &fakes, sampler, plan.p0, Gate::OnDevice));
            nets.g_updated(b);
        }
        nets.unfreeze_d();
    }
    (d, g)
}
