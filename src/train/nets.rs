//! G and D with their variable stores and optimisers: everything a checkpoint holds.

use std::collections::HashMap;

use anyhow::{Result, bail};
use tch::nn::ModuleT;
use tch::{Device, Tensor, nn};

use crate::checkpoint;
use crate::config::{Arch, Config, Precision};
use crate::model::{self, Discriminator, NetConfig};
use crate::optim::Adam;

use super::augment::{Augment, AugmentFigures};
use super::ema::Ema;

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
    /// The moving average of G's weights (`train.ema_images` > 0).
    pub ema: Option<Ema>,
    /// Augmentation of what D sees in training (`[augment]`).
    pub augment: Option<Augment>,
    /// Weight of the AC-GAN auxiliary tag loss (`train.aux_tag_weight`); D has the head when > 0.
    pub aux_weight: f64,
}

/// The nets' shapes; `dataset_tags` is the vocabulary's length (0 when unlabelled), which the
/// CGAN needs and the DCGAN ignores.
pub fn net_config(c: &Config, dataset_tags: i64) -> Result<NetConfig> {
    let n_tags = match c.model.arch {
        Arch::Dcgan => 0,
        Arch::Cgan if dataset_tags == 0 => {
            return Err(crate::exit::usage(
                "[model] arch = \"cgan\" needs a labelled dataset (tags.txt, or [data] tags_file \
                 for a folder); this one has no tags",
            ));
        }
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
    /// `tag_groups` are the dataset's tag groups' lengths in tag-vector order (empty when
    /// unlabelled); their sum is the tag vector's length.
    pub fn new(c: &Config, tag_groups: &[i64], device: Device) -> Result<Self> {
        let cfg = net_config(c, tag_groups.iter().sum())?;
        cfg.validate()?;
        let g_vs = nn::VarStore::new(device);
        let d_vs = nn::VarStore::new(device);
        let g = model::generator(g_vs.root(), &cfg);
        let mut d = Discriminator::build(d_vs.root(), &cfg, c.model.spectral_norm);
        model::init_weights(&g_vs);
        model::init_weights(&d_vs);
        // After the init: building the copy draws from the stream, G's and D's weights must not move.
        let ema = (c.train.ema_images > 0).then(|| Ema::new(&cfg, &g_vs, c.train.ema_images));
        // Last, for the same reason: with the head on, G and D start as without it.
        if c.train.aux_tag_weight > 0.0 {
            anyhow::ensure!(
                !tag_groups.is_empty(),
                "train.aux_tag_weight needs a labelled dataset (tags.txt, or [data] tags_file \
                 for a folder); set train.aux_tag_weight = 0 for this one"
            );
            d.add_aux_head(d_vs.root(), tag_groups);
        }
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
            ema,
            augment: Augment::from_config(&c.augment, device),
            aux_weight: c.train.aux_tag_weight,
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

    /// G's samples as shown (grids, evaluation): the moving average's when there is one.
    /// Train-mode batch norm, like `generate(.., true)`.
    pub fn generate_shown(&self, z: &Tensor, tags: Option<&Tensor>) -> Tensor {
        match &self.ema {
            Some(ema) => generate(&ema.g, self.n_tags, z, tags, true),
            None => self.generate(z, tags, true),
        }
    }

    /// D's logits [b] in a training step: on augmented images when `[augment]` is on (real
    /// and fake for D's loss, fake for G's, as in DiffAugment).
    pub fn judge_train(&self, x: &Tensor, tags: Option<&Tensor>) -> Tensor {
        self.d.forward_t(&self.d_input(x), tags, true)
    }

    /// As `judge_train`, plus the auxiliary classifier's logits [b, n_tags] when D has the head.
    pub fn judge_train_aux(&self, x: &Tensor, tags: Option<&Tensor>) -> (Tensor, Option<Tensor>) {
        self.d.forward_aux(&self.d_input(x), tags, true)
    }

    /// What D sees of `x` in a training step: augmented when `[augment]` is on, else `x` itself.
    fn d_input(&self, x: &Tensor) -> Tensor {
        match &self.augment {
            Some(a) => a.apply(x),
            None => x.shallow_clone(),
        }
    }

    /// `aux_tag_weight` x the head's cross-entropy of `aux_logits` [b, n_tags] against `tags`
    /// [b, n_tags] (`AuxHead::loss`): a 0-d f32 to add to a side's loss.
    pub fn aux_loss(&self, aux_logits: &Tensor, tags: &Tensor) -> Tensor {
        let head = self.d.aux_head().expect("aux logits come from D's head");
        head.loss(aux_logits, tags) * self.aux_weight
    }

    /// `aux_tag_weight` x the head's `prior_loss` of `aux_logits` [b, n_tags] against `prior`
    /// (one [k] f32 per group): the unconditional G's term, a 0-d f32.
    pub fn aux_prior_loss(&self, aux_logits: &Tensor, prior: &[Tensor]) -> Tensor {
        let head = self.d.aux_head().expect("aux logits come from D's head");
        head.prior_loss(aux_logits, prior) * self.aux_weight
    }

    /// Feeds D's logits on a real batch to the augmentation controller (if any).
    pub fn observe_real(&mut self, real_logits: &Tensor) {
        if let Some(a) = &mut self.augment {
            a.observe_real(real_logits);
        }
    }

    /// After a G update on `b` images: moves the weight average (if any).
    pub fn g_updated(&mut self, b: i64) {
        if let Some(ema) = &mut self.ema {
            ema.update(b);
        }
    }

    /// The augmentation's figures for the epoch's metrics row (None without augmentation).
    pub fn end_epoch(&mut self) -> Option<AugmentFigures> {
        self.augment.as_mut().map(Augment::end_epoch)
    }

    /// Everything a checkpoint holds, every tensor under its checkpoint key, sorted by key
    /// (they alias the live state): both networks (batch-norm running stats included), both
    /// optimisers, and the optional levers' state under their own keys (`g_ema.*` and
    /// `ema.images` of the weight average, `augment.p`). D's spectral-norm vectors
    /// (`d.*.weight_u`) are variables of D.
    pub fn state(&self) -> Vec<(String, Tensor)> {
        let mut out = Vec::new();
        for (prefix, vs) in [(checkpoint::G, &self.g_vs), (checkpoint::D, &self.d_vs)] {
            out.extend(
                vs.variables()
                    .into_iter()
                    .map(|(k, t)| (format!("{prefix}.{k}"), t)),
            );
        }
        out.extend(self.opt_g.state_tensors(checkpoint::OPT_G));
        out.extend(self.opt_d.state_tensors(checkpoint::OPT_D));
        if let Some(ema) = &self.ema {
            out.extend(ema.state_tensors());
        }
        if let Some(a) = &self.augment {
            out.push(a.state());
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Overwrites every weight and optimiser moment with a checkpoint's, and the levers'
    /// state (a checkpoint without it starts the average from G and p from its setting).
    pub fn restore(&mut self, named: &HashMap<String, Tensor>) -> Result<()> {
        self.check_aux_head(named)?;
        checkpoint::restore_into(&mut self.g_vs, named, checkpoint::G)?;
        checkpoint::restore_into(&mut self.d_vs, named, checkpoint::D)?;
        self.opt_g.load_state(named, checkpoint::OPT_G)?;
        self.opt_d.load_state(named, checkpoint::OPT_D)?;
        if let Some(ema) = &mut self.ema {
            ema.restore(named)?;
        }
        if let Some(a) = &mut self.augment {
            a.restore(named)?;
        }
        Ok(())
    }

    /// A checkpoint's head (`d.aux.*`) must match the setting: resuming across a change of
    /// `train.aux_tag_weight` between 0 and > 0 is refused with what to do.
    fn check_aux_head(&self, named: &HashMap<String, Tensor>) -> Result<()> {
        let key = format!("{}.aux.weight", checkpoint::D);
        match (self.d.aux_head().is_some(), named.contains_key(&key)) {
            (true, false) => bail!(
                "this checkpoint has no auxiliary tag classifier (no {key}): it was written with \
                 train.aux_tag_weight = 0; load it with train.aux_tag_weight = 0, or train a new \
                 run with the head"
            ),
            (false, true) => bail!(
                "this checkpoint has an auxiliary tag classifier ({key}): it was written with \
                 train.aux_tag_weight > 0; load it with that setting"
            ),
            _ => Ok(()),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn config(ema_images: u32, augment: &str) -> Config {
        let mut c = Config::default();
        c.data.image_size = 16;
        c.model.z_dim = 4;
        c.model.g_width = 4;
        c.model.d_width = 4;
        c.train.ema_images = ema_images;
        c.augment.policy = augment.into();
        c.augment.p = 0.25;
        c
    }

    /// A checkpoint saved before the weight average and the augmentation existed (or by a run
    /// without them) loads into nets that have them: the average starts as G, p at its setting.
    #[test]
    fn checkpoints_without_lever_state_still_load() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("epoch-0001.safetensors");
        tch::manual_seed(1);
        let old = Nets::new(&config(0, ""), &[], Device::Cpu).unwrap();
        let saved = checkpoint::save(&path, &old.state(), &serde_json::json!({})).unwrap();
        let (named, _) = checkpoint::load(&saved.path).unwrap();
        assert!(
            !named
                .keys()
                .any(|k| k.starts_with("g_ema.") || k.starts_with("augment."))
        );

        tch::manual_seed(2);
        let mut new = Nets::new(&config(1000, "color"), &[], Device::Cpu).unwrap();
        new.restore(&named).unwrap();
        let avg = new.ema.as_ref().unwrap().vs.variables();
        for (name, t) in old.g_vs.variables() {
            assert!(
                avg[&name].equal(&t),
                "{name}: the average starts as the restored G"
            );
        }
        assert_eq!(new.end_epoch().unwrap().p, 0.25);
        // And the new state round-trips: its checkpoint has the average and p.
        let keys: Vec<String> = new.state().into_iter().map(|(k, _)| k).collect();
        assert!(keys.contains(&"g_ema.up0.weight".to_string()));
        assert!(keys.contains(&"ema.images".to_string()));
        assert!(keys.contains(&"augment.p".to_string()));
    }

    fn with_head(arch: crate::config::Arch, aux_tag_weight: f64) -> Config {
        let mut c = config(0, "");
        c.model.arch = arch;
        c.train.aux_tag_weight = aux_tag_weight;
        c
    }

    /// With the auxiliary head (the CGAN's AC-GAN head, or the DCGAN's on real tags only), G
    /// and D start exactly as without it (the head is drawn last), the head is in D's
    /// checkpoint and round-trips, and a checkpoint of the other kind is refused with the
    /// setting to use.
    #[test]
    fn aux_head_is_drawn_last_checkpointed_and_checked() {
        for arch in [crate::config::Arch::Dcgan, crate::config::Arch::Cgan] {
            aux_head_round_trip(arch);
        }
    }

    fn aux_head_round_trip(arch: crate::config::Arch) {
        let groups = [3, 2];
        let build = |w: f64| {
            tch::manual_seed(4);
            Nets::new(&with_head(arch, w), &groups, Device::Cpu).unwrap()
        };
        let (off, on) = (build(0.0), build(0.5));
        let on_d = on.d_vs.variables();
        for (vs_off, vs_on) in [(&off.g_vs, &on.g_vs), (&off.d_vs, &on.d_vs)] {
            let on_vars = vs_on.variables();
            for (name, t) in vs_off.variables() {
                assert!(on_vars[&name].equal(&t), "{name} moved with the head on");
            }
        }
        assert_eq!(
            on_d["aux.weight"].size(),
            [5, 8],
            "tags x the last block's width"
        );
        assert!(!off.d_vs.variables().contains_key("aux.weight"));

        let dir = tempfile::tempdir().unwrap();
        let save = |nets: &Nets, name: &str| {
            let path = dir.path().join(name);
            checkpoint::save(&path, &nets.state(), &serde_json::json!({})).unwrap();
            checkpoint::load(&path).unwrap().0
        };
        let (with_head, without) = (save(&on, "on.safetensors"), save(&off, "off.safetensors"));
        for key in ["d.aux.weight", "d.aux.bias", "opt_d.exp_avg.aux.weight"] {
            assert!(with_head.contains_key(key), "{key} in the checkpoint");
        }

        let mut other = build(0.5);
        tch::no_grad(|| {
            let _ = other.d_vs.variables()["aux.weight"]
                .shallow_clone()
                .fill_(1.0);
        });
        other.restore(&with_head).unwrap();
        assert!(other.d_vs.variables()["aux.weight"].equal(&on_d["aux.weight"]));

        let err = format!("{:#}", build(0.5).restore(&without).unwrap_err());
        assert!(err.contains("train.aux_tag_weight = 0"), "{err}");
        let err = format!("{:#}", build(0.0).restore(&with_head).unwrap_err());
        assert!(err.contains("train.aux_tag_weight > 0"), "{err}");
        build(0.0).restore(&without).unwrap();
    }

    /// The head classifies the dataset's tags: an unlabelled dataset gets an error that says
    /// what to do.
    #[test]
    fn aux_head_needs_a_labelled_dataset() {
        let c = with_head(crate::config::Arch::Dcgan, 1.0);
        let err = format!("{:#}", Nets::new(&c, &[], Device::Cpu).err().unwrap());
        assert!(err.contains("needs a labelled dataset"), "{err}");
        assert!(err.contains("train.aux_tag_weight = 0"), "{err}");
    }
}
