//! The tag classifier behind `tag_acc`, `tag_fd` and `tag_kl`: a small CNN trained once per
//! dataset on its training images, cached beside the decoded-dataset cache.
//!
//! Per tag group (hair colour, hair length, eye colour) a softmax over the group's tags,
//! trained on the images with exactly one tag of that group. Layers: `conv0` (3x3, full
//! resolution), `down{k}` + `bn{k}` (stride 2 down to 4x4), `feat` (the penultimate 128
//! features `tag_fd` compares), `head` (one logit per tag).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use tch::nn::{self, Module, ModuleT, OptimizerConfig};
use tch::{Kind, Tensor};

use crate::data::DeviceImages;
use crate::data::Vocabulary;
use crate::model::ops::leaky_relu;
use crate::{checkpoint, progress};

const FORMAT: u32 = 1;
const FEATURES: i64 = 128;
const EPOCHS: u32 = 6;
const BATCH: i64 = 64;
const LR: f64 = 1e-3;
/// Images read per forward pass (evaluation mode, so the reading does not depend on it; at
/// 32 px the first layer of 256 images alone is 17 MB).
const READ_BATCH: i64 = 64;
const SEED: i64 = 0x7a6_c1a5;

/// What the cache's sidecar records.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ClassifierMeta {
    pub format: u32,
    /// `Loaded::key` of the dataset it was trained on.
    pub dataset: String,
    pub image_size: i64,
    pub vocabulary: Vec<Vec<String>>,
    /// Held-out accuracy per tag group (images with exactly one tag of the group).
    pub holdout_accuracy: Vec<f64>,
    pub epochs: u32,
    pub train_images: i64,
}

pub struct TagClassifier {
    vs: nn::VarStore,
    trunk: nn::SequentialT,
    feat: nn::Linear,
    head: nn::Linear,
    /// (first flat index, tag count) per group.
    pub spans: Vec<(i64, i64)>,
    pub meta: ClassifierMeta,
}

fn spans(vocab: &Vocabulary) -> Vec<(i64, i64)> {
    let mut start = 0;
    vocab
        .groups
        .iter()
        .map(|g| {
            let s = (start, g.len() as i64);
            start += g.len() as i64;
            s
        })
        .collect()
}

fn build(vs: &nn::VarStore, size: i64, n_tags: i64) -> (nn::SequentialT, nn::Linear, nn::Linear) {
    let p = vs.root();
    // DCGAN's slope, one libtorch kernel as in the models.
    let lrelu = |x: &Tensor| leaky_relu(x, 0.2);
    let conv3 = nn::ConvConfig {
        padding: 1,
        ..Default::default()
    };
    let mut trunk = nn::seq_t()
        .add(nn::conv2d(&p / "conv0", 3, 16, 3, conv3))
        .add_fn(lrelu);
    let (mut ch, mut side, mut k) = (16, size, 0);
    while side > 4 {
        let out = (ch * 2).min(64);
        let down = nn::ConvConfig {
            stride: 2,
            padding: 1,
            bias: false,
            ..Default::default()
        };
        trunk = trunk
            .add(nn::conv2d(&p / format!("down{k}"), ch, out, 4, down))
            .add(nn::batch_norm2d(
                &p / format!("bn{k}"),
                out,
                Default::default(),
            ))
            .add_fn(lrelu);
        (ch, side, k) = (out, side / 2, k + 1);
    }
    let trunk = trunk.add_fn(|x| x.flatten(1, -1)); // [b, ch * 16]
    let feat = nn::linear(&p / "feat", ch * 16, FEATURES, Default::default());
    let head = nn::linear(&p / "head", FEATURES, n_tags, Default::default());
    (trunk, feat, head)
}

impl TagClassifier {
    /// Penultimate features [b, 128] and tag logits [b, n_tags] of `x` [b, 3, s, s] in [-1, 1].
    pub fn forward_t(&self, x: &Tensor, train: bool) -> (Tensor, Tensor) {
        let f = self.feat.forward(&self.trunk.forward_t(x, train));
        let f = leaky_relu(&f, 0.2);
        let logits = self.head.forward(&f);
        (f, logits)
    }

    /// Evaluation-mode features and per-group predicted tag (index within the group) of many
    /// images, in batches: ([n, 128], [n, groups] i64).
    pub fn read(&self, x: &Tensor) -> (Tensor, Tensor) {
        let _guard = tch::no_grad_guard();
        let n = x.size()[0];
        let (mut feats, mut preds) = (Vec::new(), Vec::new());
        for start in (0..n).step_by(READ_BATCH as usize) {
            let (f, logits) = self.forward_t(&x.narrow(0, start, READ_BATCH.min(n - start)), false);
            preds.push(self.predict(&logits));
            feats.push(f);
        }
        (Tensor::cat(&feats, 0), Tensor::cat(&preds, 0))
    }

    /// Per-group argmax of `logits` [b, n_tags]: [b, groups] i64.
    pub fn predict(&self, logits: &Tensor) -> Tensor {
        let cols: Vec<Tensor> = self
            .spans
            .iter()
            .map(|&(s, k)| logits.narrow(1, s, k).argmax(1, false))
            .collect();
        Tensor::stack(&cols, 1)
    }

    /// Per-group softmax of `logits`, one [b, k] tensor per group.
    pub fn group_probs(&self, logits: &Tensor) -> Vec<Tensor> {
        self.spans
            .iter()
            .map(|&(s, k)| logits.narrow(1, s, k).softmax(1, Kind::Float))
            .collect()
    }
}

/// Per group: (index within the group of the one tag, mask of images with exactly one tag).
pub fn single_tag_targets(tags: &Tensor, spans: &[(i64, i64)]) -> Vec<(Tensor, Tensor)> {
    spans
        .iter()
        .map(|&(s, k)| {
            let g = tags.narrow(1, s, k).to_kind(Kind::Float);
            let one = g.sum_dim_intlist(1, false, Kind::Float).eq(1.0);
            (g.argmax(1, false), one)
        })
        .collect()
}

/// The cache file for a dataset: keyed by `Loaded::key` and the split that chose its
/// training images.
pub fn cache_path(cache_dir: &Path, dataset_key: &str, split: &str) -> PathBuf {
    cache_dir.join(format!(
        "classifier-v{FORMAT}-{dataset_key}-{split}.safetensors"
    ))
}

/// Reads the cached classifier, or trains one on `train` (checking it on `holdout`) and
/// caches it. `note` hears what happened.
pub fn load_or_train(
    path: &Path,
    dataset_key: &str,
    vocab: &Vocabulary,
    train: &DeviceImages,
    holdout: &DeviceImages,
    note: &mut dyn FnMut(String),
) -> Result<TagClassifier> {
    let device = train.device();
    let size = train.size();
    let spans = spans(vocab);
    let n_tags = vocab.len() as i64;
    let mut vs = nn::VarStore::new(device);
    // Seeded before the layers draw their initial weights: the classifier must not depend on
    // what the process drew before (two runs sharing a cache must train the same one).
    tch::manual_seed(SEED);
    let (trunk, feat, head) = build(&vs, size, n_tags);
    if path.exists() {
        match read_cache(path, &mut vs, dataset_key, vocab) {
            Ok(meta) => {
                return Ok(TagClassifier {
                    vs,
                    trunk,
                    feat,
                    head,
                    spans,
                    meta,
                });
            }
            Err(e) => note(format!(
                "retraining the tag classifier: cache {} unusable: {e:#}",
                path.display()
            )),
        }
    }
    let mut c = TagClassifier {
        vs,
        trunk,
        feat,
        head,
        spans,
        meta: ClassifierMeta {
            format: FORMAT,
            dataset: dataset_key.to_string(),
            image_size: size,
            vocabulary: vocab.groups.clone(),
            holdout_accuracy: Vec::new(),
            epochs: EPOCHS,
            train_images: train.len,
        },
    };
    fit(&mut c, train)?;
    c.meta.holdout_accuracy = accuracy(&c, holdout);
    let tensors: Vec<(String, Tensor)> = c.vs.variables().into_iter().collect();
    checkpoint::save(path, &tensors, &c.meta)?;
    note(format!(
        "trained the tag classifier ({} images, {} epochs); held-out accuracy per group {}; \
         cached as {}",
        train.len,
        EPOCHS,
        vocab.per_group(&c.meta.holdout_accuracy),
        path.display()
    ));
    Ok(c)
}

fn read_cache(
    path: &Path,
    vs: &mut nn::VarStore,
    dataset_key: &str,
    vocab: &Vocabulary,
) -> Result<ClassifierMeta> {
    let (named, meta) = checkpoint::load(path)?;
    let meta: ClassifierMeta =
        serde_json::from_value(meta).context("unreadable classifier metadata")?;
    anyhow::ensure!(
        meta.format == FORMAT && meta.dataset == dataset_key && meta.vocabulary == vocab.groups,
        "made for another dataset or format"
    );
    let prefixed = named
        .into_iter()
        .map(|(k, t)| (format!("c.{k}"), t))
        .collect();
    checkpoint::restore_into(vs, &prefixed, "c")?;
    Ok(meta)
}

/// Adam on the summed per-group cross-entropy; its own seeded stream.
fn fit(c: &mut TagClassifier, train: &DeviceImages) -> Result<()> {
    tch::manual_seed(SEED);
    let mut opt = nn::Adam::default().build(&c.vs, LR)?;
    let b = BATCH.min(train.len);
    let batches = (train.len / b) as u64;
    // Minutes on a CPU, once per dataset: say so, and show how far it is.
    let bar = progress::counter(
        u64::from(EPOCHS) * batches,
        &format!(
            "training the tag classifier for quality figures ({EPOCHS} epochs over {} images; \
             once per dataset, then cached)",
            train.len
        ),
    );
    for epoch in 0..EPOCHS {
        let order = train.permutation();
        for i in 0..train.len / b {
            let x = train.batch(&order, i * b, b);
            let tags = train
                .batch_tags(&order, i * b, b)
                .context("the tag classifier needs a labelled dataset")?;
            let (_, logits) = c.forward_t(&x, true);
            let mut loss = Tensor::zeros([], (Kind::Float, x.device()));
            for (&(s, k), (target, mask)) in c.spans.iter().zip(single_tag_targets(&tags, &c.spans))
            {
                let ce = logits
                    .narrow(1, s, k)
                    .log_softmax(1, Kind::Float)
                    .gather(1, &target.unsqueeze(1), false)
                    .squeeze_dim(1)
                    .neg();
                let m = mask.to_kind(Kind::Float);
                loss += (ce * &m).sum(Kind::Float) / m.sum(Kind::Float).clamp_min(1.0);
            }
            opt.backward_step(&loss);
            bar.advance_to(u64::from(epoch) * batches + i as u64 + 1);
        }
    }
    bar.finish();
    Ok(())
}

/// Per group, the share of `data`'s images with exactly one tag of the group whose tag the
/// classifier names.
pub fn accuracy(c: &TagClassifier, data: &DeviceImages) -> Vec<f64> {
    let (x, tags) = data.range(0, data.len);
    let tags = tags.expect("labelled");
    let (_, pred) = c.read(&x);
    single_tag_targets(&tags, &c.spans)
        .iter()
        .enumerate()
        .map(|(g, (target, mask))| {
            let hit = pred.select(1, g as i64).eq_tensor(target).logical_and(mask);
            let n = mask.sum(Kind::Float).double_value(&[]);
            hit.sum(Kind::Float).double_value(&[]) / n.max(1.0)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use tch::Device;

    use super::*;

    #[test]
    fn single_tag_targets_skip_none_and_doubles() {
        let tags = Tensor::from_slice(&[1u8, 0, 1, 0, 0, 1, 1, 1, 0, 0, 0, 1]).view([4, 3]);
        // Rows: a+c, c only, a+b (two of group 0), c only.
        let t = single_tag_targets(&tags, &[(0, 2), (2, 1)]);
        assert_eq!(
            Vec::<bool>::try_from(&t[0].1).unwrap(),
            [true, false, false, false]
        );
        assert_eq!(Vec::<i64>::try_from(&t[0].0).unwrap()[0], 0);
        assert_eq!(
            Vec::<bool>::try_from(&t[1].1).unwrap(),
            [true, true, false, true]
        );
    }

    #[test]
    fn spans_follow_groups() {
        let v = Vocabulary::new(vec![vec!["a".into(), "b".into()], vec!["c".into()]]);
        assert_eq!(spans(&v), [(0, 2), (2, 1)]);
    }

    #[test]
    fn cache_round_trip_and_key_check() {
        let dir = tempfile::tempdir().unwrap();
        let vocab = Vocabulary::new(vec![
            vec!["a".into(), "b".into()],
            vec!["c".into(), "d".into()],
        ]);
        // 40 images of 16 px: tag a/b is the red level, c/d the green level.
        let n = 40usize;
        let mut pixels = vec![0u8; n * 3 * 16 * 16];
        let mut tags = vec![0u8; n * 4];
        for i in 0..n {
            let (a, c) = (i % 2 == 0, i % 4 < 2);
            let img = &mut pixels[i * 768..(i + 1) * 768];
            img[..256].fill(if a { 220 } else { 30 });
            img[256..512].fill(if c { 200 } else { 40 });
            tags[i * 4 + if a { 0 } else { 1 }] = 1;
            tags[i * 4 + if c { 2 } else { 3 }] = 1;
        }
        let data = crate::data::Dataset {
            size: 16,
            len: n,
            pixels,
            tags,
            vocab: Some(vocab.clone()),
        };
        let images = DeviceImages::from_dataset(&data, Device::Cpu);
        let path = cache_path(dir.path(), "k1", "s");
        let mut notes = Vec::new();
        let first = load_or_train(&path, "k1", &vocab, &images, &images, &mut |m| {
            notes.push(m)
        })
        .unwrap();
        assert!(path.exists() && notes.len() == 1, "{notes:?}");
        assert!(
            first.meta.holdout_accuracy.iter().all(|&a| a > 0.9),
            "{:?}",
            first.meta
        );
        let again = load_or_train(&path, "k1", &vocab, &images, &images, &mut |m| {
            notes.push(m)
        })
        .unwrap();
        assert_eq!(notes.len(), 1, "read from the cache: {notes:?}");
        assert_eq!(again.meta, first.meta);
        let (x, _) = images.range(0, 8);
        assert!(first.read(&x).0.equal(&again.read(&x).0), "same weights");
        let other = load_or_train(&path, "k2", &vocab, &images, &images, &mut |m| {
            notes.push(m)
        });
        assert!(other.is_ok());
        assert!(notes[1].contains("another dataset"), "{notes:?}");
    }
}
