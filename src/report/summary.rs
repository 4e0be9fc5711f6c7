//! One summary row per variant, and summary.csv.
//!
//! Definitions (also in results/README.md):
//! - final figures come from the last row of the surviving timeline (rolled-back epochs left out);
//! - an epoch is *in balance* when D's real accuracy, D's fake accuracy and G's accuracy all
//!   lie in [0.05, 0.95], i.e. neither side has won outright (with label noise the soft
//!   accuracies stay below about 1 - noise/2, and a healthy DCGAN keeps D near 0.8-0.9 and G
//!   near 0.1); the balance share is the share of surviving epochs in balance;
//! - mean updates, wall time (evaluations included) and img/s (training time only) count every
//!   trained epoch, abandoned ones included;
//! - `swd_floor` and `swd_floor_sd` are the run's real-vs-real SWD floor and its standard
//!   deviation over the floor's draws (quality-reference.json): a change of swd within about
//!   two of those standard deviations is measurement noise; `final_swd_over_floor` is the
//!   final swd divided by the floor (1 = as close as two samples of real images);
//! - final tag figures (`final_tag_acc`, `final_tag_kl`, one `tag_acc_<group>` per tag group,
//!   named from the dataset's vocabulary) come from the last evaluated row that has them;
//!   `tag_kl_floor` is what real training images score on `tag_kl` (quality-reference.json);
//! - the *figure* that ranks runs is the final `swd` (lower is better) when any run logged
//!   swd, else the balance share (higher is better);
//! - `rollback_changes`: the settings rollbacks changed, with the values the last epoch of the
//!   surviving timeline trained with (metrics.csv records each epoch's `lr_g`, `lr_d`,
//!   `label_noise` and `batch_size`; the first epoch's are the experiment's own): such a run's
//!   figures are those settings', not its grid values';
//! - a variant `[prune]` stopped has the rung it was stopped at, the epoch judged, its figure,
//!   its place among the entrants and the cutoff it missed (columns `pruned_*`, present when
//!   any variant was pruned).

use crate::digits;
use crate::prune::Figure as RungFigure;
use crate::results::reader::{ExperimentRecord, Run};
use crate::results::{EventRow, MetricsRow, RunState, logged_verdicts};

pub const BALANCE_LOW: f64 = 0.05;
pub const BALANCE_HIGH: f64 = 0.95;

/// What ranks the runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Figure {
    /// Final sliced Wasserstein distance to real images: lower is better.
    Swd,
    /// Share of surviving epochs in balance: higher is better.
    Balance,
}

impl Figure {
    pub fn of(results: &ExperimentRecord) -> Figure {
        let any_swd = results
            .runs
            .iter()
            .any(|r| r.rows.iter().any(|row| row.swd.is_some()));
        if any_swd {
            Figure::Swd
        } else {
            Figure::Balance
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Figure::Swd => "final SWD (lower is better)",
            Figure::Balance => "share of epochs in balance (higher is better)",
        }
    }
    pub fn lower_is_better(self) -> bool {
        self == Figure::Swd
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub index: usize,
    pub id: String,
    pub grid: Vec<String>,
    pub state: &'static str,
    pub epochs_done: u32,
    pub epochs_planned: Option<u32>,
    pub rollbacks: usize,
    /// The settings rollbacks changed (`rollback_changes`); empty when none did.
    pub rollback_changes: Vec<Changed>,
    /// Health verdicts only logged, rollback being disabled (`results::logged_verdicts`).
    pub verdicts_logged: usize,
    pub final_swd: Option<f64>,
    /// The epoch `final_swd` was measured at: the last evaluated epoch of the surviving
    /// timeline, which may lie well before `epochs_done` when evaluations are sparse.
    pub final_swd_epoch: Option<u32>,
    /// (swd, epoch) of the lowest swd on the surviving timeline.
    pub best_swd: Option<(f64, u32)>,
    pub final_d_acc_real: Option<f64>,
    pub final_d_acc_fake: Option<f64>,
    pub final_g_acc: Option<f64>,
    /// (mean, standard deviation) of the real-vs-real SWD floor.
    pub swd_floor: Option<(f64, f64)>,
    pub final_tag_acc: Option<f64>,
    pub final_tag_kl: Option<f64>,
    /// `tag_kl` of real training images (mean over the floor's draws).
    pub tag_kl_floor: Option<f64>,
    /// (`tag_acc_<group>`, final value) per tag group.
    pub final_tag_acc_groups: Vec<(String, Option<f64>)>,
    pub balance_share: Option<f64>,
    pub mean_d_updates: Option<f64>,
    pub mean_g_updates: Option<f64>,
    /// Seconds of every trained epoch, its evaluation included (rolled-back epochs too); None
    /// before the first epoch.
    pub wall_seconds: Option<f64>,
    /// Training images per second of training time (evaluations left out).
    pub images_per_sec: Option<f64>,
    /// `[augment]`: the augmentation probability and r_t of the last epoch.
    pub final_augment_p: Option<f64>,
    pub final_r_t: Option<f64>,
    /// The ranking figure (see `Figure`); None for a run of another recipe, which is not ranked.
    pub figure: Option<f64>,
    /// 1 for the best figure among the current experiment's runs, and so on; None without a
    /// figure.
    pub rank: Option<usize>,
    /// Listed in experiment.json (see `reader::Run::current`).
    pub current: bool,
    /// The overrides in force when it last trained, `key=value (from)` joined by `; `; None
    /// when not recorded (runs started before run.json).
    pub overrides: Option<String>,
    /// A run of another recipe: the settings in which it differs from the experiment as it
    /// stands (`reader::Run::differs`), `key=value` joined by `, `; empty for the experiment's.
    pub differs: String,
    /// Why a failed variant failed (status.json's reason).
    pub reason: Option<String>,
    /// Where `[prune]` stopped a pruned variant.
    pub pruned: Option<PrunedAt>,
}

impl Summary {
    /// Trained to its last planned epoch: its figure is comparable with the others' (one
    /// stopped early, pruned or collapsed, has an earlier epoch's).
    pub fn trained_to_end(&self) -> bool {
        self.epochs_planned.is_some_and(|p| self.epochs_done >= p)
    }
}

/// A setting a rollback changed: its key, the value the run started with and the one the last
/// epoch of its surviving timeline trained with.
#[derive(Clone, Debug, PartialEq)]
pub struct Changed {
    pub key: &'static str,
    pub from: f64,
    pub to: f64,
}

impl Changed {
    /// The setting's name without its section (`lr_g`), for chart labels.
    pub fn name(&self) -> &'static str {
        self.key.rsplit('.').next().unwrap_or(self.key)
    }

    /// `lr_g 5 → 0.0002`.
    pub fn short(&self) -> String {
        format!(
            "{} {} → {}",
            self.name(),
            digits::four(self.from),
            digits::four(self.to)
        )
    }
}

/// The settings rollbacks changed: those the last epoch of the surviving timeline trained with
/// that differ from the first epoch's (the experiment's own). None without a rollback, or in
/// a metrics.csv without the settings columns.
pub fn rollback_changes(run: &Run) -> Vec<Changed> {
    if !run.events.iter().any(EventRow::is_rollback) {
        return Vec::new();
    }
    let settings = |r: &MetricsRow| r.epoch_stats().hyper;
    let first = run.rows.first().and_then(settings);
    let last = run.kept().last().and_then(settings);
    let (Some(first), Some(last)) = (first, last) else {
        return Vec::new();
    };
    first
        .by_key()
        .into_iter()
        .zip(last.by_key())
        .filter(|(from, to)| from.1 != to.1)
        .map(|((key, from), (_, to))| Changed { key, from, to })
        .collect()
}

/// A run's value of grid key `key` as a table shows it: `5.0 → 0.0002 (rollback)` when a
/// rollback changed the setting (its grid value, then what it trained with at the end), else
/// the value alone.
pub fn grid_value(s: &Summary, key: &str, value: &str) -> String {
    match s.rollback_changes.iter().find(|c| c.key == key) {
        Some(c) if !value.is_empty() => format!("{value} → {} (rollback)", c.to),
        _ => value.to_string(),
    }
}

/// `s`'s grid values as the tables show them (`grid_value`), in `keys`' order.
pub fn grid_values(s: &Summary, keys: &[String]) -> Vec<String> {
    keys.iter()
        .zip(&s.grid)
        .map(|(k, v)| grid_value(s, k, v))
        .collect()
}

/// What rollbacks changed, as a line under a run says it: `a rollback changed its settings
/// (train.lr_g 5 → 0.0002): ...`, every digit as summary.csv has them; None when they changed
/// nothing.
pub fn rescued_note(s: &Summary) -> Option<String> {
    let list: Vec<String> = s
        .rollback_changes
        .iter()
        .map(|c| format!("{} {} → {}", c.key, c.from, c.to))
        .collect();
    (!list.is_empty()).then(|| {
        format!(
            "a rollback changed its settings ({}): its figures are what it reached with the new \
             values, not with its grid values",
            list.join(", ")
        )
    })
}

/// summary.csv's `rollback_changes`: `train.lr_g=0.0002;train.lr_d=0.0001`, empty when none.
fn changes_cell(s: &Summary) -> String {
    let pairs: Vec<String> = s
        .rollback_changes
        .iter()
        .map(|c| format!("{}={}", c.key, c.to))
        .collect();
    pairs.join(";")
}

/// The decision that stopped a variant, as the summary shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct PrunedAt {
    pub rung_epoch: u32,
    pub judged_epoch: u32,
    pub figure: RungFigure,
    pub place: Option<usize>,
    pub entrants: usize,
    pub cutoff: Option<RungFigure>,
}

pub fn in_balance(row: &MetricsRow) -> bool {
    [row.d_acc_real, row.d_acc_fake, row.g_acc]
        .iter()
        .all(|a| (BALANCE_LOW..=BALANCE_HIGH).contains(a))
}

pub fn summarize(run: &Run, figure: Figure) -> Summary {
    let kept: Vec<&MetricsRow> = run.kept().collect();
    let last = kept.last();
    let final_swd_at = kept.iter().rev().find_map(|r| Some((r.swd?, r.epoch)));
    let final_swd = final_swd_at.map(|(swd, _)| swd);
    let best_swd = kept
        .iter()
        .filter_map(|r| r.swd.map(|s| (s, r.epoch)))
        .min_by(|a, b| a.0.total_cmp(&b.0));
    let final_groups = kept
        .iter()
        .rev()
        .find(|r| r.tag_acc_groups.iter().any(|(_, v)| v.is_some()))
        .or(last)
        .map_or_else(Vec::new, |r| r.tag_acc_groups.clone());
    let balance_share = (!kept.is_empty())
        .then(|| kept.iter().filter(|r| in_balance(r)).count() as f64 / kept.len() as f64);
    let n = run.rows.len() as f64;
    let mean =
        |f: fn(&MetricsRow) -> f64| (n > 0.0).then(|| run.rows.iter().map(f).sum::<f64>() / n);
    // Wall time counts the evaluations too; img/s is the training's pace alone.
    let train_seconds: f64 = run.rows.iter().map(|r| r.seconds).sum();
    let eval_seconds: f64 = run.rows.iter().filter_map(|r| r.eval_seconds).sum();
    let wall_seconds = train_seconds + eval_seconds;
    let images: f64 = run.rows.iter().map(MetricsRow::images).sum();
    Summary {
        index: run.index,
        id: run.id.clone(),
        grid: run.grid.clone(),
        state: run.state.word(),
        epochs_done: run
            .status
            .as_ref()
            .map_or(last.map_or(0, |r| r.epoch), |s| s.epochs_done),
        // A variant not started has no status yet: the plan's budget.
        epochs_planned: run
            .status
            .as_ref()
            .map(|s| s.epochs_planned)
            .or(run.planned_epochs),
        rollbacks: run.events.iter().filter(|e| e.is_rollback()).count(),
        rollback_changes: rollback_changes(run),
        verdicts_logged: logged_verdicts(&run.events),
        final_swd,
        final_swd_epoch: final_swd_at.map(|(_, epoch)| epoch),
        best_swd,
        final_d_acc_real: last.map(|r| r.d_acc_real),
        final_d_acc_fake: last.map(|r| r.d_acc_fake),
        final_g_acc: last.map(|r| r.g_acc),
        swd_floor: run
            .reference
            .as_ref()
            .map(|r| (r.swd_floor, r.swd_floor_std)),
        final_tag_acc: kept.iter().rev().find_map(|r| r.tag_acc),
        final_tag_kl: kept.iter().rev().find_map(|r| r.tag_kl),
        tag_kl_floor: run.reference.as_ref().and_then(|r| r.tag_kl_floor),
        final_tag_acc_groups: final_groups,
        final_augment_p: last.and_then(|r| r.augment_p),
        final_r_t: last.and_then(|r| r.r_t),
        balance_share,
        mean_d_updates: mean(|r| r.d_updates as f64),
        mean_g_updates: mean(|r| r.g_updates as f64),
        wall_seconds: (n > 0.0).then_some(wall_seconds),
        images_per_sec: (train_seconds > 0.0).then(|| images / train_seconds),
        figure: match figure {
            Figure::Swd => final_swd,
            Figure::Balance => balance_share,
        }
        .filter(|_| run.current),
        rank: None,
        current: run.current,
        overrides: run.overrides.as_ref().map(|o| {
            let list: Vec<String> = o.iter().map(|o| o.to_string()).collect();
            list.join("; ")
        }),
        differs: crate::results::reader::difference_text(run),
        reason: run.status.as_ref().and_then(|s| s.reason.clone()),
        pruned: run.stopped_at().map(|r| PrunedAt {
            rung_epoch: r.rung_epoch,
            judged_epoch: r.judged_epoch,
            figure: r.figure,
            place: r.place,
            entrants: r.entrants,
            cutoff: r.cutoff,
        }),
    }
}

pub fn summaries(results: &ExperimentRecord) -> Vec<Summary> {
    let figure = Figure::of(results);
    let mut out: Vec<Summary> = results.runs.iter().map(|r| summarize(r, figure)).collect();
    let mut ranked: Vec<(usize, f64)> = out
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.figure.map(|f| (i, f)))
        .collect();
    ranked.sort_by(|a, b| a.1.total_cmp(&b.1));
    if !figure.lower_is_better() {
        ranked.reverse();
    }
    for (rank, (i, _)) in ranked.into_iter().enumerate() {
        out[i].rank = Some(rank + 1);
    }
    out
}

pub const FIXED_COLUMNS: &[&str] = &[
    "status",
    "epochs_done",
    "epochs_planned",
    "rollbacks",
    "rollback_changes",
    "verdicts_logged",
    "final_swd",
    "final_swd_epoch",
    "best_swd",
    "best_swd_epoch",
    "swd_floor",
    "swd_floor_sd",
    "final_swd_over_floor",
    "final_tag_acc",
    "final_tag_kl",
    "tag_kl_floor",
    "final_d_acc_real",
    "final_d_acc_fake",
    "final_g_acc",
    "balance_share",
    "mean_d_updates",
    "mean_g_updates",
    "wall_seconds",
    "images_per_sec",
    "final_augment_p",
    "final_r_t",
    "rank",
    "in_experiment",
    "overrides",
    "differs",
];

/// A number with 4 significant-ish decimals; empty when missing.
pub fn num(x: Option<f64>) -> String {
    match x {
        None => String::new(),
        Some(v) if v != 0.0 && v.abs() < 1e-3 => format!("{v:.3e}"),
        Some(v) => format!("{v:.4}"),
    }
}

/// Where a pruned variant was stopped, present when any variant of the table was pruned.
pub const PRUNED_COLUMNS: &[&str] = &[
    "pruned_at_rung",
    "pruned_judged_epoch",
    "pruned_figure",
    "pruned_place",
    "pruned_entrants",
    "pruned_cutoff",
];

/// The columns a table of runs has beyond `FIXED_COLUMNS`: the `pruned_*` ones when any run
/// was pruned, then every per-group accuracy `tag_acc_<group>` any run has, in the order they
/// first appear.
pub fn extra_columns(rows: &[Summary]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    if rows.iter().any(|s| s.pruned.is_some()) {
        names.extend(PRUNED_COLUMNS.iter().map(|c| c.to_string()));
    }
    names.extend(group_columns(rows));
    names
}

/// Every per-group accuracy column `tag_acc_<group>` any run has, in the order they first
/// appear.
pub fn group_columns<S: std::borrow::Borrow<Summary>>(rows: &[S]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for (name, _) in rows.iter().flat_map(|s| &s.borrow().final_tag_acc_groups) {
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    names
}

/// `s`'s final figure in the per-group column `name` (`tag_acc_<group>`); empty without one.
pub fn group_cell(s: &Summary, name: &str) -> String {
    let value = s.final_tag_acc_groups.iter().find(|(n, _)| n == name);
    num(value.and_then(|(_, v)| *v))
}

/// Every column after index, id and the grid values: `FIXED_COLUMNS`, then `extra`.
pub fn columns(extra: &[String]) -> Vec<String> {
    FIXED_COLUMNS
        .iter()
        .map(|c| c.to_string())
        .chain(extra.iter().cloned())
        .collect()
}

/// A `pruned_*` cell of `s`; empty for a variant that was not pruned.
fn pruned_cell(s: &Summary, column: &str) -> String {
    let Some(p) = &s.pruned else {
        return String::new();
    };
    let figure = |f: RungFigure| match f {
        RungFigure::Value(x) => num(Some(x)),
        RungFigure::Worst => "worst".to_string(),
    };
    match column {
        "pruned_at_rung" => p.rung_epoch.to_string(),
        "pruned_judged_epoch" => p.judged_epoch.to_string(),
        "pruned_figure" => figure(p.figure),
        "pruned_place" => p.place.map_or(String::new(), |x| x.to_string()),
        "pruned_entrants" => p.entrants.to_string(),
        "pruned_cutoff" => p.cutoff.map_or(String::new(), figure),
        _ => String::new(),
    }
}

/// The cells of one summary row after index, id and the grid values (`columns` order).
pub fn cells(s: &Summary, extra: &[String]) -> Vec<String> {
    let floor = s.swd_floor.filter(|f| f.0 > 0.0);
    let group = |name: &String| {
        if PRUNED_COLUMNS.contains(&name.as_str()) {
            return pruned_cell(s, name);
        }
        group_cell(s, name)
    };
    let fixed = vec![
        s.state.to_string(),
        s.epochs_done.to_string(),
        s.epochs_planned.map_or(String::new(), |e| e.to_string()),
        s.rollbacks.to_string(),
        changes_cell(s),
        s.verdicts_logged.to_string(),
        num(s.final_swd),
        s.final_swd_epoch.map_or(String::new(), |e| e.to_string()),
        num(s.best_swd.map(|b| b.0)),
        s.best_swd.map_or(String::new(), |b| b.1.to_string()),
        num(floor.map(|f| f.0)),
        num(floor.map(|f| f.1)),
        num(swd_over_floor(s)),
        num(s.final_tag_acc),
        num(s.final_tag_kl),
        num(s.tag_kl_floor),
        num(s.final_d_acc_real),
        num(s.final_d_acc_fake),
        num(s.final_g_acc),
        num(s.balance_share),
        num(s.mean_d_updates),
        num(s.mean_g_updates),
        s.wall_seconds.map_or(String::new(), |w| format!("{w:.1}")),
        s.images_per_sec
            .map_or(String::new(), |v| format!("{v:.0}")),
        num(s.final_augment_p),
        num(s.final_r_t),
        s.rank.map_or(String::new(), |r| r.to_string()),
        if s.current { "yes" } else { "no" }.to_string(),
        s.overrides.clone().unwrap_or_default(),
        s.differs.clone(),
    ];
    fixed.into_iter().chain(extra.iter().map(group)).collect()
}

/// The heading of the key column that says what a run of another recipe differs in.
pub const DIFFERS: &str = "differs from the experiment in";

/// A column of the report's main table: its heading and its cell.
pub struct KeyColumn {
    pub heading: &'static str,
    pub cell: fn(&Summary) -> String,
}

/// The columns a reader needs first, after index, id and the grid values: state, rank (or,
/// for runs of another recipe, the settings they differ in), progress,
/// rollbacks, the quality figures some run has (final and best swd, final swd over its floor,
/// final tag_kl and tag_acc) and the balance share. The report shows every other column of
/// summary.csv only on request.
pub fn key_columns<S: std::borrow::Borrow<Summary>>(rows: &[S]) -> Vec<KeyColumn> {
    type Candidate = (&'static str, fn(&Summary) -> String, fn(&Summary) -> bool);
    let always = |_: &Summary| true;
    let candidates: [Candidate; 12] = [
        ("status", |s| s.state.to_string(), always),
        (
            "rank",
            |s| s.rank.map_or(String::new(), |r| r.to_string()),
            |s| s.rank.is_some(),
        ),
        (DIFFERS, |s| s.differs.clone(), |s| !s.current),
        (
            "epochs",
            |s| match s.epochs_planned {
                Some(p) => format!("{} / {p}", s.epochs_done),
                None => s.epochs_done.to_string(),
            },
            always,
        ),
        ("rollbacks", |s| s.rollbacks.to_string(), always),
        (
            "verdicts logged",
            |s| s.verdicts_logged.to_string(),
            |s| s.verdicts_logged > 0,
        ),
        (
            "final swd (epoch)",
            |s| match (s.final_swd, s.final_swd_epoch) {
                (Some(v), Some(e)) => format!("{} ({e})", num(Some(v))),
                _ => String::new(),
            },
            |s| s.final_swd.is_some(),
        ),
        (
            "best swd (epoch)",
            |s| {
                s.best_swd
                    .map_or(String::new(), |(v, e)| format!("{} ({e})", num(Some(v))))
            },
            |s| s.best_swd.is_some(),
        ),
        (
            "final swd / floor",
            |s| num(swd_over_floor(s)),
            |s| swd_over_floor(s).is_some(),
        ),
        (
            "final tag kl",
            |s| num(s.final_tag_kl),
            |s| s.final_tag_kl.is_some(),
        ),
        (
            "final tag acc",
            |s| num(s.final_tag_acc),
            |s| s.final_tag_acc.is_some(),
        ),
        ("balance share", |s| num(s.balance_share), always),
    ];
    candidates
        .into_iter()
        .filter(|(_, _, present)| rows.iter().any(|s| present(s.borrow())))
        .map(|(heading, cell, _)| KeyColumn { heading, cell })
        .collect()
}

/// The final swd over the run's swd floor (1 = as close as two samples of real images).
fn swd_over_floor(s: &Summary) -> Option<f64> {
    let floor = s.swd_floor.filter(|f| f.0 > 0.0)?;
    Some(s.final_swd? / floor.0)
}

/// A row's index: its place in the grid as it stands; empty for a run of another recipe,
/// which has none (its own file's index would repeat one of the grid's).
pub fn index_cell(s: &Summary) -> String {
    match s.current {
        true => s.index.to_string(),
        false => String::new(),
    }
}

/// The runs of the experiment as it stands, then those of another recipe (`reader::Run::current`).
pub fn by_recipe(rows: &[Summary]) -> (Vec<&Summary>, Vec<&Summary>) {
    rows.iter().partition(|s| s.current)
}

/// `["1 finished", "2 not started"]`: how many of `rows` are in each of `states`, in that
/// order, states no row is in left out.
pub fn count_states(states: &[RunState], rows: &[&Summary]) -> Vec<String> {
    states
        .iter()
        .map(|s| {
            (
                s.word(),
                rows.iter().filter(|x| x.state == s.word()).count(),
            )
        })
        .filter(|(_, n)| *n > 0)
        .map(|(word, n)| format!("{n} {word}"))
        .collect()
}

/// "3 variants: 1 finished, 2 not started; and 1 run of another recipe.": the experiment as
/// it stands counted as `status` counts it, runs of another recipe apart.
pub fn state_counts(summaries: &[Summary]) -> String {
    let order = [
        RunState::Finished,
        RunState::Pruned,
        RunState::Running,
        RunState::Interrupted,
        RunState::Waiting,
        RunState::Collapsed,
        RunState::Stalled,
        RunState::Failed,
        RunState::NotStarted,
    ];
    let (current, others) = by_recipe(summaries);
    let parts = count_states(&order, &current);
    let variants = match current.len() {
        1 => "1 variant".to_string(),
        n => format!("{n} variants"),
    };
    let others = match others.len() {
        0 => String::new(),
        n => format!("; and {}", crate::results::reader::other_recipes(n)),
    };
    format!("{variants}: {}{others}.", parts.join(", "))
}

pub fn summary_csv(grid_keys: &[String], rows: &[Summary]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let extra = extra_columns(rows);
    let header: Vec<String> = ["index", "id"]
        .into_iter()
        .map(str::to_string)
        .chain(grid_keys.iter().cloned())
        .chain(columns(&extra))
        .chain(["reason".to_string()])
        .collect();
    w.write_record(&header).expect("in-memory CSV");
    for s in rows {
        let record: Vec<String> = [index_cell(s), s.id.clone()]
            .into_iter()
            .chain(s.grid.iter().cloned())
            .chain(cells(s, &extra))
            .chain([s.reason.clone().unwrap_or_default()])
            .collect();
        w.write_record(&record).expect("in-memory CSV");
    }
    w.into_inner().expect("in-memory CSV")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(step: u64, epoch: u32, accs: (f64, f64, f64), swd: Option<f64>) -> MetricsRow {
        MetricsRow {
            step,
            epoch,
            attempt: if step == epoch as u64 { 0 } else { 1 },
            d_acc_real: accs.0,
            d_acc_fake: accs.1,
            g_acc: accs.2,
            d_updates: 10,
            g_updates: 20,
            seconds: 2.0,
            images_per_sec: 50.0,
            swd,
            eval_seconds: swd.map(|_| 1.0),
            ..MetricsRow::default()
        }
    }

    /// A rollback logged at `step` to `restored`.
    fn rollback(step: u64, restored: u64) -> EventRow {
        crate::results::test_rows::rollback(step, step, step, restored)
    }

    fn run(rows: Vec<MetricsRow>, events: Vec<EventRow>) -> Run {
        Run {
            grid: vec!["0.0002".into()],
            ..Run::for_test("000-aaaaaaaa", rows, events)
        }
    }

    #[test]
    fn a_ranking_bar_says_where_a_run_short_of_its_budget_ended() {
        let base = summarize(
            &run(vec![row(1, 1, (0.5, 0.5, 0.5), Some(90.0))], vec![]),
            Figure::Swd,
        );
        let with = |state: &'static str, done: u32, rank: usize| Summary {
            state,
            epochs_done: done,
            epochs_planned: Some(8),
            rank: Some(rank),
            figure: Some(100.0 * rank as f64),
            id: format!("00{rank}-aaaaaaaa"),
            ..base.clone()
        };
        let rows = [
            (
                with("finished", 8, 1),
                None,
                "trained to its budget: a full bar",
            ),
            (
                with("pruned", 2, 2),
                Some("pruned at epoch 2"),
                "stopped at a rung: a figure of epoch 2 beside epoch 8's",
            ),
            (
                with("collapsed", 5, 3),
                Some("collapsed at epoch 5"),
                "ended by the health policy",
            ),
        ];
        let summaries: Vec<Summary> = rows.iter().map(|r| r.0.clone()).collect();
        let bars = crate::report::charts::ranking::ranked(&summaries);
        for ((_, short, why), bar) in rows.iter().zip(&bars) {
            assert_eq!(bar.short.as_deref(), *short, "{why}");
        }
    }

    #[test]
    fn summary_uses_the_surviving_timeline() {
        let rows = vec![
            row(1, 1, (0.5, 0.5, 0.5), Some(3.0)),
            row(2, 2, (0.9, 0.9, 0.01), Some(1.0)), // rolled back: neither best nor final
            row(3, 2, (0.6, 0.6, 0.4), Some(2.0)),
            row(4, 3, (0.7, 0.97, 0.3), None),
        ];
        let events = vec![rollback(2, 1)];
        let s = summarize(&run(rows, events), Figure::Swd);
        assert_eq!(s.rollbacks, 1);
        assert_eq!(s.final_swd, Some(2.0), "last logged swd of the kept rows");
        assert_eq!(s.final_swd_epoch, Some(2), "epoch 3 has no evaluation");
        assert_eq!(s.best_swd, Some((2.0, 2)));
        assert_eq!(s.final_g_acc, Some(0.3));
        assert_eq!(
            s.balance_share,
            Some(2.0 / 3.0),
            "epoch 3 has D fake 0.97: D has won"
        );
        assert_eq!(s.mean_g_updates, Some(20.0));
        assert_eq!(
            s.wall_seconds,
            Some(8.0 + 3.0),
            "abandoned epochs took time too, and so did the three evaluations"
        );
        assert_eq!(s.images_per_sec, Some(50.0), "the training's pace alone");
        assert_eq!(s.figure, Some(2.0));
        assert_eq!(s.epochs_done, 3, "no status: the last kept epoch");
    }

    #[test]
    fn csv_has_a_column_per_grid_key_and_empty_cells_for_missing_values() {
        let s = summarize(
            &run(vec![row(1, 1, (0.5, 0.5, 0.5), None)], vec![]),
            Figure::Balance,
        );
        let text = String::from_utf8(summary_csv(&["train.lr_d".into()], &[s])).unwrap();
        let mut lines = text.lines();
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("index,id,train.lr_d,status,epochs_done,")
        );
        assert_eq!(
            lines.next().unwrap(),
            "0,000-aaaaaaaa,0.0002,finished,1,,0,,0,,,,,,,,,,,0.5000,0.5000,0.5000,1.0000,10.0000,20.0000,2.0,50,,,,yes,,,",
            "no rollback: empty rollback_changes; no augmentation: empty augment_p and r_t; no \
             rank outside a ranked sweep; in the experiment, no overrides recorded, nothing it \
             differs in; the reason column is empty unless the variant failed"
        );
    }

    #[test]
    fn rollback_changes_are_the_settings_the_end_trained_with() {
        let trained = |step: u64, epoch: u32, attempt: u32, lr_g: f64, lr_d: f64| MetricsRow {
            attempt,
            lr_g,
            lr_d,
            label_noise: Some(0.1),
            batch_size: 32,
            ..row(step, epoch, (0.5, 0.5, 0.5), None)
        };
        let changed = |key: &'static str, from: f64, to: f64| Changed { key, from, to };
        // (rows, events, the changes, why)
        let cases = [
            (
                vec![trained(1, 1, 0, 5.0, 2e-4), trained(2, 2, 0, 5.0, 2e-4)],
                vec![],
                vec![],
                "no rollback",
            ),
            (
                vec![
                    trained(1, 1, 0, 5.0, 2e-4),
                    trained(2, 2, 0, 5.0, 2e-4),
                    trained(3, 1, 1, 2e-4, 2e-4),
                ],
                vec![rollback(2, 0)],
                vec![changed("train.lr_g", 5.0, 2e-4)],
                "rolled back to epoch 0 with G's rate lowered",
            ),
            (
                vec![
                    trained(1, 1, 0, 5.0, 2e-4),
                    trained(2, 2, 0, 5.0, 2e-4),
                    trained(3, 1, 1, 2e-4, 2e-4),
                    trained(4, 2, 1, 2e-4, 2e-4),
                    trained(5, 2, 2, 1e-4, 1e-4),
                ],
                vec![rollback(2, 0), rollback(4, 1)],
                vec![
                    changed("train.lr_g", 5.0, 1e-4),
                    changed("train.lr_d", 2e-4, 1e-4),
                ],
                "two rollbacks: from the start to the end",
            ),
            (
                vec![trained(1, 1, 0, 2e-4, 2e-4), trained(2, 2, 0, 2e-4, 2e-4)],
                vec![rollback(2, 1)],
                vec![],
                "rolled back, its last epoch not trained again yet: the old settings",
            ),
            (
                vec![
                    row(1, 1, (0.5, 0.5, 0.5), None),
                    row(2, 1, (0.5, 0.5, 0.5), None),
                ],
                vec![rollback(1, 0)],
                vec![],
                "a metrics.csv without the settings columns",
            ),
        ];
        for (rows, events, want, why) in cases {
            assert_eq!(rollback_changes(&run(rows, events)), want, "{why}");
        }
    }

    #[test]
    fn a_grid_value_a_rollback_changed_says_what_trained() {
        let mut s = summarize(
            &run(vec![row(1, 1, (0.5, 0.5, 0.5), None)], vec![]),
            Figure::Swd,
        );
        s.rollback_changes = vec![Changed {
            key: "train.lr_g",
            from: 5.0,
            to: 2e-4,
        }];
        // (key, its grid value, the cell, why)
        let cases = [
            ("train.lr_g", "5.0", "5.0 → 0.0002 (rollback)", "changed"),
            ("train.lr_d", "0.0002", "0.0002", "not changed"),
            ("train.lr_g", "", "", "no value recorded: none shown"),
        ];
        for (key, value, want, why) in cases {
            assert_eq!(grid_value(&s, key, value), want, "{why}");
        }
        assert_eq!(s.rollback_changes[0].short(), "lr_g 5 → 0.0002");
        let text = String::from_utf8(summary_csv(&["train.lr_g".into()], &[s])).unwrap();
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let values: Vec<&str> = lines.next().unwrap().split(',').collect();
        let at = header
            .iter()
            .position(|h| *h == "rollback_changes")
            .unwrap();
        assert_eq!(values[at], "train.lr_g=0.0002");
    }

    #[test]
    fn floor_and_named_group_columns() {
        let mut rows = vec![
            row(1, 1, (0.5, 0.5, 0.5), Some(30.0)),
            row(2, 2, (0.5, 0.5, 0.5), None),
        ];
        rows[0].tag_acc = Some(0.4);
        rows[0].tag_acc_groups = vec![
            ("tag_acc_category".into(), Some(0.6)),
            ("tag_acc_skin_tone".into(), None),
        ];
        rows[1].tag_acc_groups = vec![
            ("tag_acc_category".into(), None),
            ("tag_acc_skin_tone".into(), None),
        ];
        let mut r = run(rows, vec![]);
        r.reference = Some(crate::results::QualityReference {
            dataset: "k".into(),
            samples: 400,
            swd_floor_levels: vec![20.0],
            swd_floor: 20.0,
            swd_floor_std: 2.5,
            swd_floor_draws: 5,
            real_pairwise_distance: 1.0,
            classifier_accuracy: None,
            tag_groups: None,
            tag_group_names: None,
            tag_kl_floor: Some(0.04),
            tag_kl_floor_std: Some(0.01),
        });
        let s = summarize(&r, Figure::Swd);
        let text = String::from_utf8(summary_csv(&["train.lr_d".into()], &[s])).unwrap();
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let values: Vec<&str> = lines.next().unwrap().split(',').collect();
        let cell = |name: &str| values[header.iter().position(|h| *h == name).unwrap()];
        assert_eq!(cell("swd_floor"), "20.0000");
        assert_eq!(cell("swd_floor_sd"), "2.5000");
        assert_eq!(cell("final_swd_over_floor"), "1.5000");
        assert_eq!(cell("final_tag_acc"), "0.4000");
        assert_eq!(cell("tag_kl_floor"), "0.0400");
        assert_eq!(cell("tag_acc_category"), "0.6000", "the last evaluated row");
        assert_eq!(cell("tag_acc_skin_tone"), "");
        assert!(!header.contains(&"tag_acc_hair"), "{header:?}");
    }

    #[test]
    fn key_columns_are_the_few_a_reader_needs_and_only_those_some_run_has() {
        let mut with_swd = summarize(
            &run(vec![row(1, 1, (0.5, 0.5, 0.5), Some(30.0))], vec![]),
            Figure::Swd,
        );
        with_swd.epochs_planned = Some(4);
        with_swd.swd_floor = Some((20.0, 2.0));
        let without = summarize(
            &run(vec![row(1, 1, (0.5, 0.5, 0.5), None)], vec![]),
            Figure::Swd,
        );
        let headings = |rows: &[Summary]| -> Vec<&str> {
            key_columns(rows).iter().map(|c| c.heading).collect()
        };
        assert_eq!(
            headings(std::slice::from_ref(&without)),
            ["status", "epochs", "rollbacks", "balance share"],
            "no quality figures: no empty quality columns"
        );
        let both = [with_swd, without];
        let keys = key_columns(&both);
        assert_eq!(
            keys.iter().map(|c| c.heading).collect::<Vec<_>>(),
            [
                "status",
                "epochs",
                "rollbacks",
                "final swd (epoch)",
                "best swd (epoch)",
                "final swd / floor",
                "balance share"
            ]
        );
        let cells: Vec<String> = keys.iter().map(|c| (c.cell)(&both[0])).collect();
        assert_eq!(
            cells,
            [
                "finished",
                "1 / 4",
                "0",
                "30.0000 (1)",
                "30.0000 (1)",
                "1.5000",
                "1.0000"
            ]
        );
        assert!(keys.len() < FIXED_COLUMNS.len() / 2);
    }

    #[test]
    fn the_counts_are_the_experiment_s_as_status_counts_them() {
        let at = |state: &'static str, current: bool| {
            let mut r = run(vec![], vec![]);
            r.current = current;
            let mut s = summarize(&r, Figure::Swd);
            s.state = state;
            s
        };
        // (rows, what the report says, why)
        let cases = [
            (
                vec![
                    at("finished", true),
                    at("not started", true),
                    at("not started", true),
                ],
                "3 variants: 1 finished, 2 not started.",
                "runs of the experiment only",
            ),
            (
                vec![
                    at("finished", true),
                    at("not started", true),
                    at("not started", true),
                    at("finished", false),
                ],
                "3 variants: 1 finished, 2 not started; and 1 run of another recipe.",
                "a run of another recipe is no variant: counted apart",
            ),
            (
                vec![
                    at("finished", true),
                    at("collapsed", false),
                    at("finished", false),
                ],
                "1 variant: 1 finished; and 2 runs of another recipe.",
                "their states are not the experiment's",
            ),
        ];
        for (rows, says, why) in cases {
            assert_eq!(state_counts(&rows), says, "{why}");
        }
    }

    #[test]
    fn a_run_of_another_recipe_takes_no_index_and_says_what_it_differs_in() {
        let mut other = run(vec![], vec![]);
        (other.index, other.current) = (1, false);
        other.differs = vec![("train.lr_d".into(), "0.0001".into())];
        let mut mine = run(vec![], vec![]);
        mine.index = 1;
        let rows = [
            summarize(&mine, Figure::Swd),
            summarize(&other, Figure::Swd),
        ];
        let csv = String::from_utf8(summary_csv(&["train.lr_g".into()], &rows)).unwrap();
        let mut lines = csv.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let differs = header.iter().position(|h| *h == "differs").unwrap();
        let cells: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
        assert_eq!(cells[0][0], "1", "the experiment's variant 1");
        assert_eq!(cells[1][0], "", "no index of the grid: {csv}");
        assert_eq!(cells[1][differs], "train.lr_d=0.0001", "{csv}");
        assert_eq!(cells[0][differs], "", "{csv}");
    }

    #[test]
    fn balance_band_is_inclusive() {
        let cases = [
            ((0.05, 0.95, 0.5), true, "edges count"),
            (
                (0.9, 0.9, 0.1),
                true,
                "a healthy DCGAN: D ahead, nobody won",
            ),
            ((0.04, 0.5, 0.5), false, "D real too low"),
            ((0.5, 0.5, 0.96), false, "G too high"),
        ];
        for (accs, want, why) in cases {
            assert_eq!(in_balance(&row(1, 1, accs, None)), want, "{why}");
        }
    }
}
