//! Range checks on a typed config; each problem names its key and the allowed range.

use super::schema::{AugmentPolicy, Config};

/// One broken rule: `key` and what it must be, e.g. ("train.p0", "must be in (0, 1]").
#[derive(Debug, Clone, PartialEq)]
pub struct Broken {
    pub key: String,
    pub expected: String,
}

/// Every rule `config` breaks. Defaults break none, so checking "defaults + one setting"
/// attributes each problem to that setting.
pub fn check(config: &Config) -> Vec<Broken> {
    let mut out = Vec::new();
    let mut rule = |ok: bool, key: &str, expected: &str| {
        if !ok {
            out.push(Broken {
                key: key.to_string(),
                expected: expected.to_string(),
            });
        }
    };
    let e = &config.experiment;
    rule(
        e.name.is_empty() || is_safe_dir_name(&e.name),
        "experiment.name",
        SAFE_NAME_RULE,
    );
    rule(e.epochs >= 1, "experiment.epochs", "must be >= 1");

    let d = &config.data;
    let s = d.image_size;
    rule(
        s.is_power_of_two() && (16..=256).contains(&s),
        "data.image_size",
        "must be a power of two in 16..=256 (16, 32, 64, 128 or 256)",
    );
    rule(
        d.synthetic_count >= 1,
        "data.synthetic_count",
        "must be >= 1",
    );
    rule(
        (0.0..=1.0).contains(&d.max_bad_fraction),
        "data.max_bad_fraction",
        "must be in [0, 1]",
    );

    let m = &config.model;
    rule(m.z_dim >= 1, "model.z_dim", "must be >= 1");
    rule(m.g_width >= 4, "model.g_width", "must be >= 4");
    rule(m.d_width >= 4, "model.d_width", "must be >= 4");

    let t = &config.train;
    rule(t.lr_g > 0.0, "train.lr_g", "must be > 0");
    rule(t.lr_d > 0.0, "train.lr_d", "must be > 0");
    rule(
        t.betas.iter().all(|b| (0.0..1.0).contains(b)),
        "train.betas",
        "must be two numbers in [0, 1)",
    );
    rule(t.batch_size >= 1, "train.batch_size", "must be >= 1");
    // More libtorch threads than any machine has cores only spins (and 100,000 of them take
    // minutes to start): the same bound as --threads.
    rule(
        t.threads <= MAX_THREADS,
        "train.threads",
        "must be <= 1024 (0 = the cores available)",
    );
    rule(t.p0 > 0.0 && t.p0 <= 1.0, "train.p0", "must be in (0, 1]");
    rule(
        (0.0..0.5).contains(&t.label_noise),
        "train.label_noise",
        "must be in [0, 0.5)",
    );
    rule(t.d_steps >= 1, "train.d_steps", "must be >= 1");
    rule(t.g_steps >= 1, "train.g_steps", "must be >= 1");
    rule(
        t.aux_tag_weight >= 0.0,
        "train.aux_tag_weight",
        "must be >= 0 (0 = no auxiliary classifier)",
    );

    let a = &config.augment;
    rule(
        a.is_off() || AugmentPolicy::parse(&a.policy).is_ok(),
        "augment.policy",
        "must be empty or a comma-separated list of color, translation, cutout",
    );
    rule((0.0..=1.0).contains(&a.p), "augment.p", "must be in [0, 1]");
    rule(
        (0.0..1.0).contains(&a.target),
        "augment.target",
        "must be in [0, 1) (0 = fixed p)",
    );
    rule(a.speed_images >= 1, "augment.speed_images", "must be >= 1");

    let c = &config.checkpoint;
    rule(c.every >= 1, "checkpoint.every", "must be >= 1");
    rule(c.keep >= 1, "checkpoint.keep", "must be >= 1");
    rule(
        config.eval.sample_every >= 1,
        "eval.sample_every",
        "must be >= 1",
    );
    rule(config.eval.samples >= 2, "eval.samples", "must be >= 2");

    let p = &config.prune;
    rule(p.first_rung >= 1, "prune.first_rung", "must be >= 1");
    rule(
        p.eta >= 2,
        "prune.eta",
        "must be >= 2 (a variant goes on within the best 1/eta)",
    );
    rule(p.min_peers >= 1, "prune.min_peers", "must be >= 1");

    // The health module words its own rules as "KEY must be ... (got X)"; keep "must be ...".
    for problem in config.rollback.validate() {
        let (key, rest) = problem.split_once(' ').unwrap_or((&problem, "is invalid"));
        let expected = rest.rsplit_once(" (got ").map_or(rest, |(e, _)| e);
        rule(false, key, expected);
    }
    out
}

/// Rules that tie keys together, checked on each resolved variant (a single setting cannot
/// break them on its own).
pub fn check_combined(config: &Config) -> Vec<String> {
    use super::schema::{Arch, DataSource};
    let d = &config.data;
    let mut out = Vec::new();
    if d.source != DataSource::Synthetic && d.path.is_empty() {
        out.push(format!(
            "data.path must name the dataset folder when data.source is {:?}",
            format!("{:?}", d.source).to_lowercase()
        ));
    }
    if d.source != DataSource::Folder && !d.tags_file.is_empty() {
        out.push("data.tags_file applies only when data.source is \"folder\"".to_string());
    }
    // Synthetic and seed datasets always carry tags; a folder has them only from a tag file.
    if config.model.arch == Arch::Cgan && d.source == DataSource::Folder && d.tags_file.is_empty() {
        out.push(
            "model.arch = \"cgan\" conditions on tags, but this folder has none: set \
             data.tags_file to its tag file, or use model.arch = \"dcgan\""
                .to_string(),
        );
    }
    if config.train.aux_tag_weight > 0.0 && d.source == DataSource::Folder && d.tags_file.is_empty()
    {
        out.push(
            "train.aux_tag_weight trains a tag head on D, but this folder has no tags: set \
             data.tags_file to its tag file, or train.aux_tag_weight = 0"
                .to_string(),
        );
    }
    let p = &config.prune;
    if p.enabled && config.eval.every == 0 {
        out.push(
            "prune.enabled ranks variants by their quality figures, but eval.every = 0 computes \
             none: set eval.every (e.g. to prune.first_rung) or turn prune.enabled off"
                .to_string(),
        );
    }
    if p.enabled
        && p.metric.needs_tags()
        && d.source == DataSource::Folder
        && d.tags_file.is_empty()
    {
        out.push(format!(
            "prune.metric = \"{}\" needs a labelled dataset, but this folder has no \
             data.tags_file: use prune.metric = \"swd\" or set data.tags_file",
            p.metric
        ));
    }
    if d.source == DataSource::Synthetic && d.holdout >= d.synthetic_count {
        out.push(format!(
            "data.holdout ({}) must be below data.synthetic_count ({}) to leave images to train on",
            d.holdout, d.synthetic_count
        ));
    } else if d.source == DataSource::Synthetic {
        let listed = d.synthetic_count as usize;
        out.extend(too_few_images(d, listed));
    }
    if config.eval.every > 0 && d.holdout < 2 {
        out.push(format!(
            "data.holdout ({}) must be >= 2 for quality figures (eval.every = {}): they compare \
             samples with held-out images; raise data.holdout or set eval.every = 0",
            d.holdout, config.eval.every
        ));
    }
    out
}

/// The most libtorch CPU threads `train.threads` and `--threads` take: more than any machine
/// has cores only spins, and tens of thousands take minutes to start.
pub const MAX_THREADS: u32 = 1024;

/// The fewest training images a run takes: its per-epoch sample check (`sample_swd`) compares
/// the fixed-noise grid with this many disjoint sets of training images, one image each at
/// least (`train::samples::GridSwd`).
pub const MIN_TRAINING_IMAGES: usize = 4;

/// The problem of a dataset of `listed` images that leaves fewer than `MIN_TRAINING_IMAGES`
/// to train on after `data.holdout` and `data.limit` (None when it leaves enough, or none at
/// all: that has its own problem).
pub fn too_few_images(d: &super::schema::DataSection, listed: usize) -> Option<String> {
    let left = listed.checked_sub(d.holdout as usize).filter(|&n| n > 0)?;
    let training = match d.limit as usize {
        0 => left,
        limit => limit.min(left),
    };
    (training < MIN_TRAINING_IMAGES).then(|| {
        format!(
            "{training} training image(s) ({listed} in the dataset, data.holdout = {}{}) are too \
             few: a run needs at least {MIN_TRAINING_IMAGES}; lower data.holdout{} or add images",
            d.holdout,
            if d.limit > 0 {
                format!(", data.limit = {}", d.limit)
            } else {
                String::new()
            },
            if d.limit > 0 {
                " or raise data.limit"
            } else {
                ""
            }
        )
    })
}

pub const SAFE_NAME_RULE: &str = "must be a safe directory name: ASCII letters (a-z, A-Z), \
     digits, '.', '_' and '-' (no accented letters or other scripts), not starting with '.' (a hidden folder, which listings and file managers skip), \
     at most 255 characters";

/// The longest file name (path component) of Linux, macOS and Windows file systems, in bytes.
pub const NAME_MAX: usize = 255;

/// ASCII letters, digits, `.`, `_`, `-`; not starting with `.` (so neither `.`, `..` nor a hidden
/// folder); at most `NAME_MAX` bytes: safe as one path component everywhere.
pub fn is_safe_dir_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= NAME_MAX
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_break_no_rule() {
        assert_eq!(check(&Config::default()), vec![]);
    }

    #[test]
    fn each_rule_names_its_key() {
        type Edit = fn(&mut Config);
        let cases: &[(Edit, &str, &str)] = &[
            (|c| c.train.p0 = 0.0, "train.p0", "p0 must be > 0"),
            (|c| c.train.p0 = 1.5, "train.p0", "p0 must be <= 1"),
            (|c| c.train.lr_d = 0.0, "train.lr_d", "lr must be positive"),
            (
                |c| c.train.lr_g = -1e-4,
                "train.lr_g",
                "lr must be positive",
            ),
            (|c| c.train.batch_size = 0, "train.batch_size", "batch >= 1"),
            (
                |c| c.train.threads = 100_000,
                "train.threads",
                "threads <= 1024",
            ),
            (
                |c| c.train.label_noise = 0.5,
                "train.label_noise",
                "noise < 0.5",
            ),
            (
                |c| c.train.label_noise = -0.1,
                "train.label_noise",
                "noise >= 0",
            ),
            (|c| c.model.d_width = 3, "model.d_width", "width >= 4"),
            (
                |c| c.train.aux_tag_weight = -1.0,
                "train.aux_tag_weight",
                "weight >= 0",
            ),
            (
                |c| c.data.image_size = 48,
                "data.image_size",
                "power of two",
            ),
            (
                |c| c.data.image_size = 512,
                "data.image_size",
                "at most 256",
            ),
            (
                |c| c.experiment.epochs = 0,
                "experiment.epochs",
                "epochs >= 1",
            ),
            (
                |c| c.experiment.name = "..".into(),
                "experiment.name",
                "not ..",
            ),
            (
                |c| c.experiment.name = "a/b".into(),
                "experiment.name",
                "no slash",
            ),
            (|c| c.train.betas = [0.5, 1.0], "train.betas", "beta2 < 1"),
            (|c| c.prune.eta = 1, "prune.eta", "eta 1 keeps everyone"),
            (
                |c| c.prune.first_rung = 0,
                "prune.first_rung",
                "a rung at 0",
            ),
            (|c| c.prune.min_peers = 0, "prune.min_peers", "peers >= 1"),
        ];
        for (edit, key, reason) in cases {
            let mut config = Config::default();
            edit(&mut config);
            let broken = check(&config);
            assert_eq!(broken.len(), 1, "{reason}: {broken:?}");
            assert_eq!(broken[0].key, *key, "{reason}");
        }
    }

    #[test]
    fn safe_names() {
        for ok in ["sweep", "a.b_c-1", "x..y"] {
            assert!(is_safe_dir_name(ok), "{ok}");
        }
        assert!(is_safe_dir_name(&"n".repeat(255)), "255 bytes fit");
        for bad in [
            "",
            ".",
            "..",
            ".hidden",
            "a b",
            "a/b",
            "ä",
            "a\\b",
            &"n".repeat(256),
        ] {
            assert!(!is_safe_dir_name(bad), "{bad:?}");
        }
    }
}
