//! G and D with their variable stores and optimisers: everything a checkpoint holds.

use std::collections::HashMap;

use anyhow::{Result, bail};
use tch::nn::ModuleT;
use tch::{Device, Tensor, nn};

use crate::checkpoint::{self, GanState};
use crate::config::{Arch, Config, Precision};
use crate::model::{self, Discriminator, NetConfig};
use crate::optim::Adam;

/// Adam's epsilon, as in PyTorch.
const ADAM_EPS: f64 = 1e-8;

pub struct Nets {
    pub g_vs: nn::VarStore,
    pub d_vs: nn::VarStore,
    pub g: nn::SequentialT,
    pub d: Discriminator,
    pub opt_g: Adam,
    pub opt_d: Adam,
    pub z_dim: i64,
    /// Length of the tag vector G and D see; 0 for the unconditional DCGAN.
    pub n_tags: i64,
    pub device: Device,
    /// Arithmetic of the training step's forward passes (sampling and evaluation are fp32).
    pub precision: Precision,
}

/// The nets' shapes; `dataset_tags` is the vocabulary's length (0 when unlabelled), which the
/// CGAN needs and the DCGAN ignores.
pub fn net_config(c: &Config, dataset_tags: i64) -> Result<NetConfig> {
    let n_tags = match c.model.arch {
        Arch::Dcgan => 0,
        Arch::Cgan if dataset_tags == 0 => bail!(
            "[model] arch = \"cgan\" needs a labelled dataset (tags.txt, or [data] tags_file for a \
             folder); this one has no tags"
        ),
        Arch::Cgan => dataset_tags,
    };
    Ok(NetConfig {
        image_size: c.data.image_size as i64,
        z_dim: c.model.z_dim as i64,
        g_width: c.model.g_width as i64,
        d_width: c.model.d_width as i64,
        n_tags,
    })
}

impl Nets {
    /// Freshly initialised nets (N(0, 0.02) weights from the current random stream).
    pub fn new(c: &Config, dataset_tags: i64, device: Device) -> Result<Self> {
        let cfg = net_config(c, dataset_tags)?;
        cfg.validate()?;
        let g_vs = nn::VarStore::new(device);
        let d_vs = nn::VarStore::new(device);
        let g = model::generator(g_vs.root(), &cfg);
        let d = Discriminator::new(d_vs.root(), &cfg);
        model::init_weights(&g_vs);
        model::init_weights(&d_vs);
        let betas = (c.train.betas[0], c.train.betas[1]);
        // Built after the models: Adam holds the variables that exist now.
        let opt_g = Adam::new(&g_vs, c.train.lr_g, betas, ADAM_EPS);
        let opt_d = Adam::new(&d_vs, c.train.lr_d, betas, ADAM_EPS);
        Ok(Self {
            g_vs,
            d_vs,
            g,
            d,
            opt_g,
            opt_d,
            z_dim: cfg.z_dim,
            n_tags: cfg.n_tags,
            device,
            precision: c.train.precision,
        })
    }

    /// G on noise `z` [b, z_dim] and, for the CGAN, tags [b, n_tags] f32: [b, 3, s, s].
    pub fn generate(&self, z: &Tensor, tags: Option<&Tensor>, train: bool) -> Tensor {
        generate(&self.g, self.n_tags, z, tags, train)
    }

    /// D's logits [b] on images and (CGAN) their tags.
    pub fn judge(&self, x: &Tensor, tags: Option<&Tensor>, train: bool) -> Tensor {
        self.d.forward_t(x, tags, train)
    }

    pub fn state(&self) -> GanState<'_> {
        GanState {
            g: &self.g_vs,
            d: &self.d_vs,
            opt_g: &self.opt_g,
            opt_d: &self.opt_d,
        }
    }

    /// Overwrites every weight and optimiser moment with a checkpoint's.
    pub fn restore(&mut self, named: &HashMap<String, Tensor>) -> Result<()> {
        checkpoint::restore_gan(
            named,
            &mut self.g_vs,
            &mut self.d_vs,
            &mut self.opt_g,
            &mut self.opt_d,
        )
    }

    pub fn set_lrs(&mut self, lr_g: f64, lr_d: f64) {
        self.opt_g.set_lr(lr_g);
        self.opt_d.set_lr(lr_d);
    }

    /// Stops gradients into D's weights while G trains through it (saves their computation).
    pub fn freeze_d(&mut self) {
        self.d_vs.freeze();
    }

    pub fn unfreeze_d(&mut self) {
        self.d_vs.unfreeze();
    }

    /// False if any weight of G or D is NaN or infinite.
    pub fn weights_finite(&self) -> bool {
        let sums: Vec<Tensor> = [&self.g_vs, &self.d_vs]
            .iter()
            .flat_map(|vs| vs.trainable_variables())
            .map(|t| t.sum(tch::Kind::Float))
            .collect();
        // NaN/Inf anywhere propagates into the total.
        Tensor::stack(&sums, 0)
            .sum(tch::Kind::Float)
            .double_value(&[])
            .is_finite()
    }
}

/// G's forward pass; the CGAN's input is z and the tags concatenated.
pub fn generate(
    g: &nn::SequentialT,
    n_tags: i64,
    z: &Tensor,
    tags: Option<&Tensor>,
    train: bool,
) -> Tensor {
    match tags {
        Some(t) if n_tags > 0 => g.forward_t(&Tensor::cat(&[z, t], 1), train),
        None if n_tags > 0 => panic!("the CGAN generator needs tags"),
        _ => g.forward_t(z, train),
    }
}
