//! What a sweep asks for before it runs: the training images of every variant's budget, and
//! about how long they take on this device with the chosen `--jobs`, at a pace this machine
//! measured (the variants it trained of the same shape, else a few timed steps); with
//! `[prune]`, the most and the least it can cost.
//!
//! The paces are kept in `<data dir>/cache/pace-v1.json`, one entry per shape (the settings
//! that decide a step's cost, the device and the threads): every variant trained records its
//! own, a probe records what it timed.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Result;
use serde::{Deserialize, Serialize};
use tch::Device;

use super::rungwise;
use crate::config::{Config, DataSource, Variant};
use crate::data::DataRoot;
use crate::results::MetricsRow;
use crate::{prune, train};

/// The settings that decide what a training step costs, the device and the threads: the key
/// of a measured pace.
#[derive(Serialize)]
struct Shape<'a> {
    model: &'a crate::config::ModelSection,
    image_size: u32,
    batch_size: u32,
    schedule: crate::config::Schedule,
    d_steps: u32,
    g_steps: u32,
    precision: crate::config::Precision,
    tf32: bool,
    ema: bool,
    aux: bool,
    augment: &'a str,
    labelled: bool,
    eval_samples: u32,
    device: String,
    threads: usize,
}

fn labelled(cfg: &Config) -> bool {
    cfg.data.source != DataSource::Folder || !cfg.data.tags_file.is_empty()
}

fn shape_key(cfg: &Config, device: Device, threads: usize) -> String {
    let shape = Shape {
        model: &cfg.model,
        image_size: cfg.data.image_size,
        batch_size: cfg.train.batch_size,
        schedule: cfg.train.schedule,
        d_steps: cfg.train.d_steps,
        g_steps: cfg.train.g_steps,
        precision: cfg.train.precision,
        tf32: cfg.train.tf32,
        ema: cfg.train.ema_images > 0,
        aux: cfg.train.aux_tag_weight > 0.0,
        augment: &cfg.augment.policy,
        labelled: labelled(cfg),
        eval_samples: cfg.eval.samples,
        device: train::device::describe(device),
        threads,
    };
    let json = serde_json::to_string(&shape).expect("a shape serializes");
    blake3::hash(json.as_bytes()).to_hex()[..16].to_string()
}

/// A measured pace.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Pace {
    pub images_per_sec: f64,
    /// Seconds per evaluation; None when none was measured.
    pub eval_seconds: Option<f64>,
    /// How it was measured: "trained" (a variant's epochs) or "timed" (a probe).
    pub source: String,
    /// What it was measured on, for the estimate's line.
    pub what: String,
}

/// The cache file of paces, in the data directory's cache folder.
const CACHE_FILE: &str = "pace-v1.json";

fn read_cache(root: &DataRoot) -> BTreeMap<String, Pace> {
    root.read_cached_json(CACHE_FILE).unwrap_or_default()
}

fn write_entry(root: &DataRoot, key: String, pace: Pace) -> Result<()> {
    root.update_cached_json(CACHE_FILE, |all: &mut BTreeMap<String, Pace>| {
        all.insert(key, pace);
    })
}

/// Records the pace of a variant just trained (`rows`: its metrics rows) for later estimates:
/// the median images per second of its epochs after the first (a warm-up), the median
/// evaluation time. Silently nothing when it trained too little to tell.
pub fn record(root: &DataRoot, cfg: &Config, device: Device, threads: usize, rows: &[MetricsRow]) {
    let mut paces: Vec<f64> = rows
        .iter()
        .skip(1)
        .map(|r| r.images_per_sec)
        .filter(|x| x.is_finite() && *x > 0.0)
        .collect();
    let mut evals: Vec<f64> = rows.iter().filter_map(|r| r.eval_seconds).collect();
    let (Some(ips), eval) = (median(&mut paces), median(&mut evals)) else {
        return;
    };
    let pace = Pace {
        images_per_sec: ips,
        eval_seconds: eval,
        source: "trained".into(),
        what: format!("{} epochs trained here", paces.len() + 1),
    };
    if let Err(e) = write_entry(root, shape_key(cfg, device, threads), pace)
        && !CANNOT_RECORD_SAID.swap(true, Ordering::Relaxed)
    {
        eprintln!("warning: cannot record the pace for later estimates: {e:#}");
    }
}

/// Whether this process said it cannot record a pace: a cache that refuses one variant's
/// refuses the next one's too, so once is enough.
static CANNOT_RECORD_SAID: AtomicBool = AtomicBool::new(false);

/// The machine's load average over the last minute (Linux), which a timing depends on.
fn load() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn median(xs: &mut [f64]) -> Option<f64> {
    xs.sort_by(f64::total_cmp);
    (!xs.is_empty()).then(|| xs[xs.len() / 2])
}

/// The paces one estimate found, by shape key (None: the probe failed), so that each shape is
/// looked up or timed once however many variants share it (a dry run records nothing, so the
/// cache file alone would time every variant again).
type Found = BTreeMap<String, Option<Pace>>;

/// The pace of `cfg` on `device` at `threads`: found before in this estimate, recorded, else
/// timed now (and recorded unless `keep` is false: a dry run writes nothing). None when the
/// probe fails (the estimate then gives images only).
fn pace(
    root: &DataRoot,
    cfg: &Config,
    (device, threads): (Device, usize),
    keep: bool,
    found: &mut Found,
) -> Option<Pace> {
    let key = shape_key(cfg, device, threads);
    if let Some(p) = found.get(&key) {
        return p.clone();
    }
    let p = measure(root, cfg, (device, threads), keep, &key);
    found.insert(key, p.clone());
    p
}

/// `pace` for a shape not found yet in this estimate: the recorded pace, else a probe.
fn measure(
    root: &DataRoot,
    cfg: &Config,
    (device, threads): (Device, usize),
    keep: bool,
    key: &str,
) -> Option<Pace> {
    if let Some(p) = read_cache(root).get(key) {
        return Some(p.clone());
    }
    let before = tch::get_num_threads();
    train::device::set_cpu_threads(threads);
    let probe = train::probe(cfg, device, labelled(cfg));
    tch::set_num_threads(before);
    let probe = probe.ok()?;
    let pace = Pace {
        images_per_sec: probe.images_per_sec,
        eval_seconds: None,
        source: "timed".into(),
        what: format!(
            "median of {} batches of {} timed just now after {} untimed warm-up batches{}",
            probe.batches,
            probe.batch,
            probe.warm_up,
            load().map_or(String::new(), |l| format!(
                ", load average {l:.1} on {} cores",
                train::device::available_cores()
            ))
        ),
    };
    if keep {
        let _ = write_entry(root, key.to_string(), pace.clone());
    }
    Some(pace)
}

/// The pace line's end: whether the time includes evaluations, counted over the shapes of
/// the variants that evaluate (`measured`: an evaluation was timed on this machine for that
/// shape; `unmeasured`: none was, so its evaluations count as no time).
fn evaluations_note(measured: usize, unmeasured: usize) -> String {
    match (measured, unmeasured) {
        (_, 0) => "; evaluations included at their measured time\n".to_string(),
        (0, _) => {
            "; evaluations not included (no evaluation measured on this machine yet)\n".to_string()
        }
        (m, u) => format!(
            "; evaluations included for the {m} shape(s) whose evaluation was measured here, \
             not for the other {u} (no evaluation of theirs measured on this machine yet)\n"
        ),
    }
}

/// The pace block: one shape on the cost line's own `pace:` line, several one per line (a
/// width sweep has a shape per variant). `note` is `evaluations_note`'s "; ..." ending.
fn pace_lines(sources: &[String], note: &str) -> String {
    match sources {
        [one] => format!("  pace: {one}{note}"),
        _ => {
            let each: String = sources.iter().map(|s| format!("    {s}\n")).collect();
            let note = note.trim_start_matches("; ");
            format!("  pace, per shape:\n{each}  {note}")
        }
    }
}

/// One variant's budget in training images: epochs x D steps x the whole batches of its
/// training set (what metrics.csv counts; a phased schedule's D phase may end a pass early).
pub fn images_per_epoch(cfg: &Config, train_images: usize) -> u64 {
    let b = (cfg.train.batch_size as usize).min(train_images).max(1);
    (cfg.train.d_steps as usize * (train_images / b) * b) as u64
}

/// The epoch whose evaluation judges the first rung: the first evaluated epoch at or after it;
/// None when no rung lies below the budget.
fn first_judged(cfg: &Config) -> Option<u32> {
    let epochs = cfg.experiment.epochs;
    let rung = prune::rungs(&cfg.prune, epochs).first()?.epoch;
    let every = cfg.eval.every.max(1);
    Some((rung.div_ceil(every) * every).min(epochs))
}

/// How the sweep will run: workers side by side, and the threads each gets.
pub struct Runner {
    pub device: Device,
    /// Workers side by side: `--jobs` on a CPU; on GPUs, the devices (several workers on one
    /// GPU are counted as one: what they gain together was not measured here).
    pub lanes: usize,
    pub threads: usize,
    pub jobs: usize,
    /// CPU cores this process may use (`train::device::available_cores`).
    pub cores: usize,
    /// Record a pace timed for the estimate (false for `--dry-run`, which writes nothing).
    pub record: bool,
}

impl Runner {
    /// How many times slower than its measured pace each CPU worker runs: the threads all
    /// workers ask for over the cores, when they ask for more (1 otherwise, and on GPUs). The
    /// pace was measured by one worker alone, so the cores it had are at least its threads. A
    /// lower bound: libtorch's threads spin, so oversubscribed workers often lose more.
    fn slowdown(&self) -> f64 {
        let asked = self.lanes * self.threads;
        let room = self.cores.max(self.threads).max(1);
        if self.device.is_cuda() || asked <= room {
            1.0
        } else {
            asked as f64 / room as f64
        }
    }

    /// The line that says the workers oversubscribe the cores, when they do.
    fn oversubscribed(&self) -> Option<String> {
        let slowdown = self.slowdown();
        if slowdown == 1.0 && !self.device.is_cuda() && self.threads > self.cores {
            // The pace was measured at these threads: the time stands, the advice is cheaper.
            return Some(format!(
                "  {} thread(s) per worker on {} cores: libtorch's threads spin, so more than \
                 the cores is usually slower; --threads {} is likely faster\n",
                self.threads, self.cores, self.cores
            ));
        }
        (slowdown > 1.0).then(|| {
            format!(
                "  --jobs {} x {} thread(s) ask for {} threads on {} cores: the workers share \
                 them, so each is counted at 1/{slowdown:.1} of the measured pace (spinning \
                 libtorch threads often lose more); --jobs {} is as fast\n",
                self.lanes,
                self.threads,
                self.lanes * self.threads,
                self.cores,
                (self.cores / self.threads.max(1)).max(1)
            )
        })
    }
}

/// Per variant: its training images, and its time at the measured pace.
struct Cost {
    /// Training images per epoch.
    per_epoch: f64,
    images_full: f64,
    images_first_rung: f64,
    seconds_full: Option<f64>,
    seconds_first_rung: Option<f64>,
}

/// The estimate's lines: the images asked for and, where a pace is known, about how long;
/// with `[prune]`, the most and the least. `done`: per variant, the epochs already on disk
/// (its budget when nothing is left for this command: done before, or trained by another
/// process); the images and time are what is left. `runner`: None when the variants train
/// elsewhere (`slurm --dry-run`: on Slurm's nodes): images only.
pub fn estimate(
    variants: &[&Variant],
    done: &[u32],
    root: &DataRoot,
    runner: Option<&Runner>,
) -> String {
    let Some(first) = variants.first() else {
        return String::new();
    };
    let mut costs = Vec::new();
    let mut sources: Vec<String> = Vec::new();
    let mut unknown_data = 0;
    // The shapes (pace lines) of evaluating variants, by whether an evaluation was measured.
    let mut evals_measured: Vec<String> = Vec::new();
    let mut evals_unmeasured: Vec<String> = Vec::new();
    let mut asked = 0.0;
    let mut found = Found::new();
    for (v, &done) in variants.iter().zip(done) {
        let cfg = &v.config;
        let Some(n) = crate::data::training_images(&cfg.data) else {
            unknown_data += 1;
            continue;
        };
        asked += images_per_epoch(cfg, n) as f64 * f64::from(cfg.experiment.epochs);
        if done >= cfg.experiment.epochs {
            continue; // nothing left to train (and no pace to time for it)
        }
        let per_epoch = images_per_epoch(cfg, n) as f64;
        let epochs = f64::from(cfg.experiment.epochs - done);
        let evals = |through: u32| (evaluations(cfg, through) - evaluations(cfg, done)) as f64;
        let pace =
            runner.and_then(|r| pace(root, cfg, (r.device, r.threads), r.record, &mut found));
        if let Some(p) = &pace {
            let line = format!(
                "{:.0} img/s ({} px, G/D widths {}/{}, batch {}: {})",
                p.images_per_sec,
                cfg.data.image_size,
                cfg.model.g_width,
                cfg.model.d_width,
                cfg.train.batch_size,
                p.what
            );
            if cfg.eval.every > 0 {
                let list = match p.eval_seconds {
                    Some(_) => &mut evals_measured,
                    None => &mut evals_unmeasured,
                };
                if !list.contains(&line) {
                    list.push(line.clone());
                }
            }
            if !sources.contains(&line) {
                sources.push(line);
            }
        }
        let slowdown = runner.map_or(1.0, Runner::slowdown);
        let seconds = |images: f64, through: u32| {
            pace.as_ref().map(|p| {
                let alone = images / p.images_per_sec.max(1e-9)
                    + evals(through) * p.eval_seconds.unwrap_or(0.0);
                alone * slowdown
            })
        };
        let judged = first_judged(cfg)
            .filter(|_| cfg.prune.enabled)
            .map(|e| e.max(done));
        let first_rung = judged.map_or(epochs, |e| f64::from(e - done));
        costs.push(Cost {
            per_epoch,
            images_full: per_epoch * epochs,
            images_first_rung: per_epoch * first_rung,
            seconds_full: seconds(per_epoch * epochs, cfg.experiment.epochs),
            seconds_first_rung: seconds(
                per_epoch * first_rung,
                judged.unwrap_or(cfg.experiment.epochs),
            ),
        });
    }
    let total: f64 = costs.iter().map(|c| c.images_full).sum();
    let mut out = format!(
        "cost: {} variant(s) x {} epochs ask for {} training images in all",
        variants.len(),
        first.config.experiment.epochs,
        big(asked)
    );
    if unknown_data > 0 {
        out += &format!(" ({unknown_data} variant(s) whose data cannot be listed yet not counted)");
    }
    let part_trained = done.iter().any(|&d| d > 0);
    if costs.is_empty() && unknown_data == 0 {
        return out + "; nothing is left to train\n";
    }
    if part_trained {
        out += &format!("; {} of them left to train", big(total));
    }
    let full: Option<Vec<f64>> = costs.iter().map(|c| c.seconds_full).collect();
    // Rungs a variant part-trained may have passed, pruned ones trained on: only what is
    // left is estimated, not what the rule would still save.
    let bounds = |full: Option<&[f64]>, seconds, rungwise| {
        if part_trained {
            return if first.config.prune.enabled {
                "  [prune]: no bounds for a sweep already part-trained\n".to_string()
            } else {
                String::new()
            };
        }
        prune_bounds(first, &costs, total, full, seconds, rungwise)
    };
    let Some(runner) = runner else {
        out += "; no time: it trains elsewhere (Slurm's nodes), at a pace not measured here\n";
        return out + &bounds(None, None, false);
    };
    let on = format!(
        "{} with --jobs {}",
        train::device::describe(runner.device),
        runner.jobs
    );
    match &full {
        Some(secs) if !secs.is_empty() => {
            out += &format!(
                "; about {} on {on} ({} CPU thread(s) per worker)\n",
                duration(makespan(secs, runner.lanes)),
                runner.threads
            );
            out += &pace_lines(
                &sources,
                &evaluations_note(evals_measured.len(), evals_unmeasured.len()),
            );
            out += &runner.oversubscribed().unwrap_or_default();
        }
        _ => out += "; no pace for this device yet (the probe failed)\n",
    }
    let both: Option<Vec<(f64, f64)>> = costs
        .iter()
        .map(|c| Some((c.seconds_full?, c.seconds_first_rung?)))
        .collect();
    out + &bounds(
        full.as_deref(),
        both.as_deref().map(|b| (b, runner.lanes)),
        runner.jobs == 1 && rungwise::applies(variants),
    )
}

/// `[prune]`'s line: the most and the least the sweep can train, and take when the times are
/// known (`seconds`: full, and (full, to the first rung) per variant with the workers); rung by
/// rung (`rungwise`), what it trains when none collapses.
fn prune_bounds(
    first: &Variant,
    costs: &[Cost],
    total: f64,
    full: Option<&[f64]>,
    seconds: Option<(&[(f64, f64)], usize)>,
    rungwise: bool,
) -> String {
    let rule = &first.config.prune;
    let mut out = String::new();
    if rule.enabled && first_judged(&first.config).is_some() && rungwise {
        return rungwise_line(first, costs, total, full.map(|f| f.iter().sum()));
    }
    if rule.enabled && first_judged(&first.config).is_some() {
        let least_images = least(costs, rule.min_peers as usize, |c| {
            (c.images_full, c.images_first_rung)
        });
        let mut line = format!(
            "  [prune]: at most {} images (no variant stopped), at least {} ({} variant(s) to \
             the budget, every other stopped at the first rung's evaluation, epoch {}; if none \
             collapses)",
            big(total),
            big(least_images),
            (rule.min_peers as usize).min(costs.len()),
            first_judged(&first.config).unwrap_or(0)
        );
        if let (Some(full), Some((both, lanes))) = (full, seconds) {
            let at_least = least_parts(both, rule.min_peers as usize);
            line += &format!(
                ": about {} at most, {} at least",
                duration(makespan(full, lanes)),
                duration(makespan(&at_least, lanes))
            );
        }
        out += &line;
        out += "\n";
    }
    out
}

/// Rung by rung (one worker), what the sweep trains when none collapses and no figures tie:
/// every variant to the first rung's evaluation, then the survivors of each rung (the cheapest
/// per epoch, for want of knowing which) to the next; the time in proportion, from `full`
/// (seconds of the whole grid, one after another).
fn rungwise_line(first: &Variant, costs: &[Cost], total: f64, full: Option<f64>) -> String {
    let ends = rungwise::pass_ends(first);
    let entrants = rungwise::entrants_per_pass(costs.len(), ends.len(), &first.config.prune);
    let mut per_epoch: Vec<f64> = costs.iter().map(|c| c.per_epoch).collect();
    per_epoch.sort_by(f64::total_cmp);
    let mut images = 0.0;
    let mut start = 0;
    let mut steps = Vec::new();
    for (&end, &m) in ends.iter().zip(&entrants) {
        let epochs = f64::from(end - start);
        images += per_epoch.iter().take(m).sum::<f64>() * epochs;
        steps.push(format!("{m} to epoch {end}"));
        start = end;
    }
    let mut line = format!(
        "  [prune] rung by rung: about {} images, {:.0}% of them ({}; if none collapses and no \
         figures tie)",
        big(images),
        100.0 * images / total.max(1.0),
        steps.join(", ")
    );
    if let Some(full) = full {
        line += &format!(": about {}", duration(full * images / total.max(1.0)));
    }
    line + "\n"
}

/// Evaluations through epoch `through`: every `eval.every` epochs and the last.
fn evaluations(cfg: &Config, through: u32) -> u32 {
    let every = cfg.eval.every;
    if every == 0 {
        return 0;
    }
    let last = u32::from(through == cfg.experiment.epochs && !through.is_multiple_of(every));
    through / every + last
}

/// The least a `[prune]` sweep can train: `min_peers` variants must reach the budget (nobody is
/// stopped at a rung before that many peers are there), every other can stop at the first
/// rung; the cheapest `min_peers` are the ones kept.
fn least(costs: &[Cost], min_peers: usize, parts: impl Fn(&Cost) -> (f64, f64)) -> f64 {
    let both: Vec<(f64, f64)> = costs.iter().map(parts).collect();
    least_parts(&both, min_peers).iter().sum()
}

/// Per variant (full, first rung): the costs of the cheapest way the rule allows.
fn least_parts(both: &[(f64, f64)], min_peers: usize) -> Vec<f64> {
    let mut extra: Vec<(usize, f64)> = both.iter().map(|b| b.0 - b.1).enumerate().collect();
    extra.sort_by(|a, b| a.1.total_cmp(&b.1));
    let kept: Vec<usize> = extra.iter().take(min_peers).map(|e| e.0).collect();
    both.iter()
        .enumerate()
        .map(|(i, b)| if kept.contains(&i) { b.0 } else { b.1 })
        .collect()
}

/// Wall time of `seconds` (in index order) on `lanes` workers, each taking the next variant
/// when it is free.
fn makespan(seconds: &[f64], lanes: usize) -> f64 {
    let mut free = vec![0.0f64; lanes.max(1)];
    for s in seconds {
        let lane = free
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(b.1))
            .map_or(0, |(i, _)| i);
        free[lane] += s;
    }
    free.into_iter().fold(0.0, f64::max)
}

/// 1234567 as "1.23M", 12345 as "12.3k".
fn big(x: f64) -> String {
    match x {
        x if x >= 1e9 => format!("{:.2}G", x / 1e9),
        x if x >= 1e6 => format!("{:.2}M", x / 1e6),
        x if x >= 1e4 => format!("{:.1}k", x / 1e3),
        x => format!("{x:.0}"),
    }
}

/// "3 d 4 h", "2 h 05 min", "4 min", "40 s".
fn duration(seconds: f64) -> String {
    let s = seconds.round() as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", (s + 30) / 60),
        3600..86_400 => format!("{} h {:02} min", s / 3600, s % 3600 / 60),
        _ => format!("{} d {} h", s / 86_400, s % 86_400 / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_per_epoch_counts_whole_batches_of_d() {
        let cfg = |batch: u32, d_steps: u32| {
            let mut c = Config::default();
            c.train.batch_size = batch;
            c.train.d_steps = d_steps;
            c
        };
        let rows = [
            (cfg(128, 1), 13_000, 12_928, "101 whole batches of 128"),
            (cfg(200, 1), 13_000, 13_000, "65 batches, none partial"),
            (
                cfg(128, 2),
                13_000,
                25_856,
                "two D steps see every batch twice",
            ),
            (
                cfg(128, 1),
                100,
                100,
                "a set smaller than a batch is one batch",
            ),
        ];
        for (c, n, want, why) in rows {
            assert_eq!(images_per_epoch(&c, n), want, "{why}");
        }
    }

    #[test]
    fn first_judgement_and_evaluations() {
        let mut c = Config::default();
        (c.experiment.epochs, c.eval.every) = (300, 20);
        (c.prune.first_rung, c.prune.eta) = (10, 3);
        assert_eq!(
            first_judged(&c),
            Some(20),
            "no evaluation at 10: judged at 20"
        );
        c.eval.every = 10;
        assert_eq!(first_judged(&c), Some(10));
        assert_eq!(evaluations(&c, 300), 30);
        c.eval.every = 7;
        assert_eq!(evaluations(&c, 300), 43, "42 every 7 and the last epoch");
        assert_eq!(
            evaluations(&c, 20),
            2,
            "not the last epoch: only the regular ones"
        );
        c.prune.first_rung = 400;
        assert_eq!(first_judged(&c), None, "no rung below the budget");
    }

    #[test]
    fn the_least_keeps_the_cheapest_min_peers_whole() {
        let both = [(100.0, 10.0), (50.0, 5.0), (80.0, 20.0), (60.0, 30.0)];
        assert_eq!(least_parts(&both, 2), [10.0, 50.0, 20.0, 60.0]);
        assert_eq!(
            least_parts(&both, 9),
            [100.0, 50.0, 80.0, 60.0],
            "nobody can stop"
        );
    }

    /// Epochs on disk per variant (8-epoch budgets); what the estimate's first line says; why.
    type Left = (&'static [u32], &'static str, &'static str);

    #[test]
    fn the_estimate_counts_only_what_is_left() {
        let variant = |index: usize| {
            let mut config = Config::default();
            config.experiment.epochs = 8;
            config.data.synthetic_count = 1064;
            config.data.holdout = 64;
            config.train.batch_size = 100;
            Variant {
                index,
                id: format!("{index:03}-test"),
                grid_values: Vec::new(),
                config,
            }
        };
        let (a, b) = (variant(0), variant(1));
        let rows: &[Left] = &[
            (
                &[0, 0],
                "ask for 16.0k training images in all; no time",
                "a fresh sweep: 2 x 8 epochs x 1000 images",
            ),
            (
                &[8, 2],
                "ask for 16.0k training images in all; 6000 of them left to train; no time",
                "a rerun: one done, one at epoch 2 (a tester saw the whole budget counted again)",
            ),
            (
                &[8, 8],
                "ask for 16.0k training images in all; nothing is left to train",
                "all done: no time to wait for",
            ),
        ];
        let root = DataRoot(std::path::PathBuf::from("/nonexistent"));
        for &(done, says, why) in rows {
            let line = estimate(&[&a, &b], done, &root, None);
            assert!(line.contains(says), "{why}: {line}");
        }
    }

    #[test]
    fn the_pace_line_says_which_evaluations_it_counts() {
        let rows = [
            (
                2,
                0,
                "included at their measured time",
                "every shape measured",
            ),
            (0, 3, "not included", "none measured"),
            (
                0,
                0,
                "included at their measured time",
                "no variant evaluates",
            ),
            (
                1,
                1,
                "included for the 1 shape(s) whose evaluation was measured here, not for the other 1",
                "a trained shape beside a probed one: the time holds part of them",
            ),
        ];
        for (measured, unmeasured, says, why) in rows {
            let note = evaluations_note(measured, unmeasured);
            assert!(note.contains(says), "{why}: {note}");
        }
    }

    #[test]
    fn several_shapes_get_a_pace_line_each() {
        let note = evaluations_note(0, 2);
        let one = pace_lines(&["5 img/s (a)".to_string()], &note);
        assert!(
            one.starts_with("  pace: 5 img/s (a); evaluations not included"),
            "one shape stays on one line: {one}"
        );
        let two = pace_lines(&["5 img/s (a)".into(), "7 img/s (b)".into()], &note);
        assert_eq!(
            two.lines().collect::<Vec<_>>(),
            [
                "  pace, per shape:",
                "    5 img/s (a)",
                "    7 img/s (b)",
                "  evaluations not included (no evaluation measured on this machine yet)",
            ],
            "a width sweep's sixteen shapes were one line of 2,000 characters"
        );
    }

    #[test]
    fn makespan_over_workers() {
        assert_eq!(makespan(&[3.0, 3.0, 3.0], 1), 9.0);
        assert_eq!(makespan(&[3.0, 3.0, 3.0], 2), 6.0);
        assert_eq!(makespan(&[5.0, 1.0, 1.0, 1.0], 2), 5.0);
        assert_eq!(makespan(&[], 4), 0.0);
    }

    #[test]
    fn workers_that_ask_for_more_threads_than_cores_are_counted_slower() {
        let runner = |lanes, threads, cores| Runner {
            device: Device::Cpu,
            lanes,
            threads,
            jobs: lanes,
            cores,
            record: false,
        };
        let rows = [
            (runner(1, 1, 2), 1.0, "one worker, one thread"),
            (runner(2, 1, 2), 1.0, "one thread per core"),
            (runner(4, 1, 2), 2.0, "four workers on two cores"),
            (runner(1, 2, 2), 1.0, "one worker, a thread per core"),
            (runner(2, 4, 2), 2.0, "two such workers"),
        ];
        for (r, want, why) in rows {
            assert_eq!(r.slowdown(), want, "{why}");
            assert_eq!(r.oversubscribed().is_some(), want > 1.0, "{why}");
        }
        let alone = runner(1, 4, 2);
        assert_eq!(
            alone.slowdown(),
            1.0,
            "one worker's own threads are in its measured pace"
        );
        let line = alone.oversubscribed().expect("still said");
        assert!(line.contains("--threads 2 is likely faster"), "{line}");
        let cuda = Runner {
            device: Device::Cuda(0),
            ..runner(8, 2, 2)
        };
        assert_eq!(cuda.slowdown(), 1.0, "GPU workers are not counted in cores");
    }

    #[test]
    fn sizes_and_durations_read_at_a_glance() {
        assert_eq!(big(124_124_000.0), "124.12M");
        assert_eq!(big(12_345.0), "12.3k");
        assert_eq!(duration(40.0), "40 s");
        assert_eq!(duration(7_500.0), "2 h 05 min");
        assert_eq!(duration(2_600_000.0), "30 d 2 h");
    }
}
