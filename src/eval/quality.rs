//! The quality figures of one evaluation, and the per-dataset reference they are read against
//! (the real-vs-real SWD floor, real images' diversity, the classifier's held-out accuracy).

use anyhow::Result;
use tch::{Kind, Tensor};

use super::classifier::{self, TagClassifier};
use super::swd;
use crate::data::{DeviceImages, Vocabulary};
use crate::results::QualityReference;

/// Images generated per G forward pass during evaluation. G's batch norm normalises with the
/// batch's statistics, so this is also their sample; 128 (was 256) halves the pass's memory,
/// which was an evaluation's largest phase, and moved the quickstart's swd by 0.05% (52.945 to
/// 52.970 at epoch 10).
const BATCH: i64 = 128;

/// Real-vs-real SWD measurements behind the floor: each a fresh random sample of training
/// images (and fresh random neighbourhoods and directions) against the held-out set. Their
/// mean is the floor, their standard deviation the noise of one SWD figure at this sample
/// count.
pub const FLOOR_DRAWS: u64 = 5;

/// Added to every tag's count in a sample's tag distribution (generated, or the floor's real
/// samples), so that a tag the sample lacks gives a large, finite KL term.
const SAMPLE_PRIOR: f64 = 0.5;

/// Held-out images behind `real_pairwise_distance`.
const PAIRWISE_IMAGES: i64 = 64;

/// One evaluation's figures; tag figures are None without a classifier.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Quality {
    pub swd: f64,
    pub diversity: f64,
    /// CGAN only: overall and per group.
    pub tag_acc: Option<f64>,
    pub tag_acc_groups: Vec<Option<f64>>,
    pub tag_fd: Option<f64>,
    pub tag_kl: Option<f64>,
}

/// Everything evaluation needs from the dataset, prepared once per dataset.
pub struct Evaluator {
    holdout: DeviceImages,
    /// Seeds every sample drawn from the holdout (the same images at every evaluation).
    seed: u64,
    classifier: Option<TagClassifier>,
    /// Classifier features of the held-out images: mean [F] and covariance [F, F], f64.
    real_features: Option<(Tensor, Tensor)>,
    /// Per group: the distribution of the tags the classifier reads off the held-out images.
    real_tag_dist: Vec<Tensor>,
    pub reference: QualityReference,
}

/// Mean and sample standard deviation (0 for fewer than two values).
pub fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n.max(1.0);
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, var.sqrt())
}

/// The real-vs-real SWD floor of `n` images per set: per level (mean over draws), and the
/// mean and standard deviation over `FLOOR_DRAWS` seeded random training samples.
pub fn swd_floor(
    train: &DeviceImages,
    holdout: &DeviceImages,
    n: i64,
    seed: u64,
) -> (Vec<f64>, f64, f64) {
    let reference = holdout.sample(n, seed);
    let draws: Vec<Vec<f64>> = (0..FLOOR_DRAWS)
        .map(|k| {
            tch::manual_seed((seed + k) as i64);
            swd::swd_levels(train.sample(n, seed + 1 + k), reference.shallow_clone())
        })
        .collect();
    let levels = (0..draws[0].len())
        .map(|l| draws.iter().map(|d| d[l]).sum::<f64>() / draws.len() as f64)
        .collect();
    let means: Vec<f64> = draws.iter().map(|d| swd::mean(d)).collect();
    let (mean, std) = mean_std(&means);
    (levels, mean, std)
}

impl Evaluator {
    /// `samples`: the images per set the floor is measured with (capped by the holdout).
    /// `cached`: a reference written before for this dataset and split (its floor is reused
    /// when it was measured the same way, as the floor's draws take as long as a few
    /// evaluations).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        dataset_key: &str,
        vocab: Option<&Vocabulary>,
        train: &DeviceImages,
        holdout: DeviceImages,
        classifier: Option<TagClassifier>,
        samples: i64,
        seed: u64,
        cached: Option<QualityReference>,
    ) -> Result<Self> {
        let n = samples.min(holdout.len).min(train.len);
        anyhow::ensure!(
            n >= 2,
            "quality figures need at least 2 held-out images: raise [data] holdout or set \
             eval.every = 0"
        );
        let reusable = cached.filter(|c| {
            c.dataset == dataset_key && c.samples == n && c.swd_floor_draws == FLOOR_DRAWS
        });
        // The tag floor is cached with the swd floor (absent in files written before it).
        let cached_tag_floor = reusable
            .as_ref()
            .and_then(|c| c.tag_kl_floor.zip(c.tag_kl_floor_std));
        let (floor_levels, swd_floor, swd_floor_std) = match reusable {
            Some(c) => (c.swd_floor_levels, c.swd_floor, c.swd_floor_std),
            None => swd_floor(train, &holdout, n, seed),
        };
        let real_pairwise_distance = pairwise_distance(&holdout.sample(PAIRWISE_IMAGES, seed));
        let (mut real_features, mut real_tag_dist, mut tag_floor) = (None, Vec::new(), None);
        if let Some(c) = &classifier {
            let (x, _) = holdout.range(0, holdout.len);
            let (f, pred) = c.read(&x);
            real_features = Some(mean_cov(&f));
            real_tag_dist = read_distribution(c, &pred, 0.0);
            tag_floor = Some(
                cached_tag_floor.unwrap_or_else(|| tag_kl_floor(c, &real_tag_dist, train, n, seed)),
            );
        }
        let reference = QualityReference {
            dataset: dataset_key.to_string(),
            samples: n,
            swd_floor,
            swd_floor_std,
            swd_floor_draws: FLOOR_DRAWS,
            swd_floor_levels: floor_levels,
            real_pairwise_distance,
            classifier_accuracy: classifier.as_ref().map(|c| c.meta.holdout_accuracy.clone()),
            tag_groups: vocab.map(|v| v.groups.clone()),
            tag_group_names: vocab.map(Vocabulary::group_names),
            tag_kl_floor: tag_floor.map(|f| f.0),
            tag_kl_floor_std: tag_floor.map(|f| f.1),
        };
        Ok(Self {
            holdout,
            seed,
            classifier,
            real_features,
            real_tag_dist,
            reference,
        })
    }

    /// Quality of `generate`'s images against the holdout. `generate(n)` returns n images and,
    /// for a CGAN, the tags they were asked for ([n, n_tags] f32); `fixed` are the fixed-noise
    /// grid samples (for `diversity`). Draws come from the current stream: seed it first.
    pub fn evaluate(
        &self,
        samples: i64,
        generate: &mut dyn FnMut(i64) -> (Tensor, Option<Tensor>),
        fixed: &Tensor,
    ) -> Quality {
        let _guard = tch::no_grad_guard();
        let n = samples.min(self.holdout.len);
        let (fake, asked) = generate_all(n, generate);
        // G's forward passes leave tens of MB free that the figures below would not reuse
        // (other sizes): handed back, the evaluation's peak is its largest phase, not their sum.
        crate::allocator::release_free_memory();
        let diversity = pairwise_distance(fixed) / self.reference.real_pairwise_distance.max(1e-12);
        let mut q = Quality {
            diversity,
            ..Default::default()
        };
        if let (Some(c), Some((mu, cov))) = (&self.classifier, &self.real_features) {
            let (f, pred) = c.read(&fake);
            let (mu_f, cov_f) = mean_cov(&f);
            q.tag_fd = Some(frechet(mu, cov, &mu_f, &cov_f));
            q.tag_kl = Some(kl_sum(
                &self.real_tag_dist,
                &read_distribution(c, &pred, SAMPLE_PRIOR),
            ));
            if let Some(asked) = asked {
                let (overall, groups) = tag_accuracy(c, &pred, &asked);
                q.tag_acc = overall;
                q.tag_acc_groups = groups;
            }
        }
        // Last: the images are handed over and freed once their pyramids are built.
        q.swd = swd::mean(&swd::swd_levels(fake, self.holdout.sample(n, self.seed)));
        q
    }

    /// The per-group accuracy columns of a metrics row: (`tag_acc_<name>`, value) for every
    /// tag group of a labelled dataset, values None without an evaluation (`q`) or for a
    /// group no sample asked for; no columns for an unlabelled dataset.
    pub fn tag_acc_columns(&self, q: Option<&Quality>) -> Vec<(String, Option<f64>)> {
        let names = self.reference.tag_group_names.iter().flatten();
        names
            .enumerate()
            .map(|(g, name)| {
                let value = q.and_then(|q| q.tag_acc_groups.get(g).copied().flatten());
                (format!("tag_acc_{name}"), value)
            })
            .collect()
    }
}

/// `n` images from `generate`, `BATCH` at a time: [n, 3, s, s], and the tags they were asked for
/// ([n, n_tags], for a CGAN).
fn generate_all(
    n: i64,
    generate: &mut dyn FnMut(i64) -> (Tensor, Option<Tensor>),
) -> (Tensor, Option<Tensor>) {
    let (mut images, mut asked) = (None::<Tensor>, Vec::new());
    for start in (0..n).step_by(BATCH as usize) {
        let (x, t) = generate(BATCH.min(n - start));
        // Copied into one tensor as they come: no list of batches beside their concatenation.
        let all = images.get_or_insert_with(|| {
            let mut size = x.size();
            size[0] = n;
            Tensor::empty(size.as_slice(), (x.kind(), x.device()))
        });
        all.narrow(0, start, x.size()[0]).copy_(&x);
        asked.extend(t);
    }
    let asked = (!asked.is_empty()).then(|| Tensor::cat(&asked, 0));
    (images.expect("n >= 2 images"), asked)
}

/// Per group, the distribution of the tags the classifier reads off images (`pred`, [n, groups]
/// i64 from `TagClassifier::read`): counts plus `prior` per tag, normalised; [k] f64 each.
fn read_distribution(c: &TagClassifier, pred: &Tensor, prior: f64) -> Vec<Tensor> {
    c.spans
        .iter()
        .enumerate()
        .map(|(g, &(_, k))| {
            let counts =
                pred.select(1, g as i64)
                    .one_hot(k)
                    .sum_dim_intlist(0, false, Kind::Double)
                    + prior;
            &counts / counts.sum(Kind::Double)
        })
        .collect()
}

/// Sum over groups of KL(p || q) (nats). `q` must have no zero (read it with a prior > 0); a
/// tag p never shows adds nothing.
fn kl_sum(p: &[Tensor], q: &[Tensor]) -> f64 {
    p.iter()
        .zip(q)
        .map(|(p, q)| {
            let terms = p * (p.clamp_min(1e-12).log() - q.log());
            terms.sum(Kind::Double).double_value(&[])
        })
        .sum()
}

/// `tag_kl` of real images: mean and standard deviation over `FLOOR_DRAWS` seeded random
/// samples of `n` training images, each read by the classifier and compared with `real` (the
/// held-out reading) exactly as an evaluation compares generated images. What a generator
/// that draws the data's own mix would score at this sample count.
fn tag_kl_floor(
    c: &TagClassifier,
    real: &[Tensor],
    train: &DeviceImages,
    n: i64,
    seed: u64,
) -> (f64, f64) {
    let draws: Vec<f64> = (0..FLOOR_DRAWS)
        .map(|k| {
            let (_, pred) = c.read(&train.sample(n, seed + 1 + k));
            kl_sum(real, &read_distribution(c, &pred, SAMPLE_PRIOR))
        })
        .collect();
    mean_std(&draws)
}

/// Per group, the share of images asked for a tag of the group (exactly one) whose predicted
/// tag matches; overall, the share of images whose every asked group matches.
fn tag_accuracy(
    c: &TagClassifier,
    pred: &Tensor,
    asked: &Tensor,
) -> (Option<f64>, Vec<Option<f64>>) {
    let targets = classifier::single_tag_targets(asked, &c.spans);
    let n = asked.size()[0];
    let mut all_ok = Tensor::ones([n], (Kind::Bool, asked.device()));
    let mut any_asked = Tensor::zeros([n], (Kind::Bool, asked.device()));
    let groups = targets
        .iter()
        .enumerate()
        .map(|(g, (target, mask))| {
            let hit = pred.select(1, g as i64).eq_tensor(target);
            all_ok = all_ok.logical_and(&hit.logical_or(&mask.logical_not()));
            any_asked = any_asked.logical_or(mask);
            let m = mask.sum(Kind::Float).double_value(&[]);
            (m > 0.0).then(|| hit.logical_and(mask).sum(Kind::Float).double_value(&[]) / m)
        })
        .collect();
    let m = any_asked.sum(Kind::Float).double_value(&[]);
    let overall = (m > 0.0).then(|| {
        all_ok
            .logical_and(&any_asked)
            .sum(Kind::Float)
            .double_value(&[])
            / m
    });
    (overall, groups)
}

/// Mean pairwise L2 distance between the images of `x` [n, ...] (n >= 2), per pixel.
pub fn pairwise_distance(x: &Tensor) -> f64 {
    let n = x.size()[0];
    let flat = x.reshape([n, -1]).to_kind(Kind::Double);
    let d = Tensor::cdist(&flat, &flat, 2.0, None::<i64>); // [n, n], zero diagonal
    let per_pixel = (flat.size()[1] as f64).sqrt();
    d.sum(Kind::Double).double_value(&[]) / (n * (n - 1)).max(1) as f64 / per_pixel
}

/// Mean [F] and covariance [F, F] (f64) of the rows of `f` [n, F].
fn mean_cov(f: &Tensor) -> (Tensor, Tensor) {
    let f = f.to_kind(Kind::Double);
    let n = f.size()[0];
    let mu = f.mean_dim(0, false, Kind::Double);
    let c = &f - &mu;
    let cov = c.tr().mm(&c) / (n - 1).max(1) as f64;
    (mu, cov)
}

/// Symmetric square root of a covariance matrix.
fn sqrtm(m: &Tensor) -> Tensor {
    let (vals, vecs) = m.linalg_eigh("L");
    (&vecs * vals.clamp_min(0.0).sqrt().unsqueeze(0)).mm(&vecs.tr())
}

/// Fréchet distance between Gaussians (mu1, c1) and (mu2, c2):
/// |mu1 - mu2|^2 + tr(c1) + tr(c2) - 2 tr((sqrt(c1) c2 sqrt(c1))^1/2).
pub fn frechet(mu1: &Tensor, c1: &Tensor, mu2: &Tensor, c2: &Tensor) -> f64 {
    let s1 = sqrtm(c1);
    let cross = s1.mm(c2).mm(&s1);
    let cross = (&cross + cross.tr()) / 2.0;
    let tr_sqrt = cross
        .linalg_eigvalsh("L")
        .clamp_min(0.0)
        .sqrt()
        .sum(Kind::Double);
    let v = (mu1 - mu2).square().sum(Kind::Double) + c1.trace() + c2.trace() - tr_sqrt * 2.0;
    v.double_value(&[]).max(0.0)
}

#[cfg(test)]
mod tests {
    use tch::Device;

    use super::*;

    #[test]
    fn frechet_of_known_gaussians() {
        let opts = (Kind::Double, Device::Cpu);
        let eye = Tensor::eye(3, opts);
        let zero = Tensor::zeros([3], opts);
        assert!(frechet(&zero, &eye, &zero, &eye).abs() < 1e-9);
        let shifted = Tensor::from_slice(&[1.0, 2.0, 2.0]);
        assert!((frechet(&zero, &eye, &shifted, &eye) - 9.0).abs() < 1e-9);
        // Variances 1 vs 4 per axis: 3 * (1 + 4 - 2 * 2) = 3.
        assert!((frechet(&zero, &eye, &zero, &(&eye * 4.0)) - 3.0).abs() < 1e-9);
    }

    /// `dark` images of one class, then `light` of another, as a folder sorted by name holds
    /// them: flat colours with pixel noise, 16 px.
    fn sorted_two_classes(dark: usize, light: usize, seed: u64) -> DeviceImages {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let per = 3 * 16 * 16;
        let pixels: Vec<u8> = (0..dark + light)
            .flat_map(|i| {
                let base = if i < dark { 40 } else { 200 };
                (0..per)
                    .map(|_| base + rng.random_range(0..40u8))
                    .collect::<Vec<_>>()
            })
            .collect();
        DeviceImages::upload(&pixels, dark + light, 16, Device::Cpu)
    }

    #[test]
    fn floor_compares_a_random_training_sample_not_the_first_images() {
        let train = sorted_two_classes(100, 100, 1);
        let holdout = sorted_two_classes(20, 20, 2);
        let e = Evaluator::new("k", None, &train, holdout, None, 40, 7, None).unwrap();
        let r = &e.reference;
        assert_eq!((r.samples, r.swd_floor_draws), (40, FLOOR_DRAWS));
        // What the first 40 training images (all dark) give against the same held-out set.
        tch::manual_seed(7);
        let first_n = swd::mean(&swd::swd_levels(
            sorted_two_classes(40, 0, 1).sample(40, 0),
            e.holdout.sample(40, 7),
        ));
        assert!(
            r.swd_floor < 0.5 * first_n,
            "floor {} must be far below the one-class figure {first_n}",
            r.swd_floor
        );
        assert!(
            r.swd_floor_std > 0.0 && r.swd_floor_std < r.swd_floor,
            "a spread over draws: {} +- {}",
            r.swd_floor,
            r.swd_floor_std
        );
        let again = Evaluator::new("k", None, &train, e.holdout, None, 40, 7, None).unwrap();
        assert_eq!(again.reference, *r, "seeded: the same figures every time");
        let mut cached = r.clone();
        cached.swd_floor = 1.5;
        let reused = Evaluator::new("k", None, &train, again.holdout, None, 40, 7, Some(cached));
        let reused = reused.unwrap();
        assert_eq!(reused.reference.swd_floor, 1.5, "a cached floor is reused");
        let mut other = r.clone();
        other.swd_floor_draws = 0; // written before the floor had draws
        let fresh = Evaluator::new("k", None, &train, reused.holdout, None, 40, 7, Some(other));
        assert_eq!(
            fresh.unwrap().reference,
            *r,
            "an older file is measured again"
        );
    }

    #[test]
    fn kl_sum_adds_the_groups() {
        let t = |v: &[f64]| Tensor::from_slice(v);
        let same = [t(&[0.5, 0.5]), t(&[0.25, 0.75])];
        assert!(
            kl_sum(&same, &same).abs() < 1e-12,
            "a distribution against itself"
        );
        // KL([1, 0] || [0.5, 0.5]) = ln 2; the absent tag adds nothing.
        let p = [t(&[1.0, 0.0]), t(&[0.25, 0.75])];
        assert!((kl_sum(&p, &[t(&[0.5, 0.5]), t(&[0.25, 0.75])]) - 2f64.ln()).abs() < 1e-12);
    }

    #[test]
    fn mean_std_of_draws() {
        let (m, s) = mean_std(&[1.0, 2.0, 3.0]);
        assert!((m - 2.0).abs() < 1e-12 && (s - 1.0).abs() < 1e-12);
        assert_eq!(mean_std(&[4.0]), (4.0, 0.0));
    }

    #[test]
    fn identical_images_have_no_diversity() {
        let x = Tensor::rand([1, 3, 8, 8], (Kind::Float, Device::Cpu)).repeat([5, 1, 1, 1]);
        assert!(pairwise_distance(&x) < 1e-9);
        let y = Tensor::rand([5, 3, 8, 8], (Kind::Float, Device::Cpu));
        assert!(pairwise_distance(&y) > 0.1);
    }
}
