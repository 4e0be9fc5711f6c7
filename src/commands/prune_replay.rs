//! `anigan-runner prune-replay RESULTS/EXPERIMENT`: what a `[prune]` rule would have done to a
//! sweep (`sweep::replay`), as a table or JSON: where the rows cannot tell, both say `unknown`
//! and give the images as bounds.

use anyhow::Result;
use serde::Serialize;

use crate::cli::PruneReplayArgs;
use crate::config;
use crate::exit::{self, Exit};
use crate::prune::{self, PruneConfig};
use crate::results::RunState;
use crate::results::reader::{self, Run};
use crate::sweep::cost;
use crate::sweep::replay::{self, Best, EpochImages, Fate, Replayed, Totals};
use crate::sweep::replay_orders::{self, OrderSpread};

#[derive(Serialize)]
struct Report<'a> {
    experiment: &'a str,
    rule: &'a PruneConfig,
    variants: &'a [Replayed],
    totals: &'a Totals,
    #[serde(skip_serializing_if = "Option::is_none")]
    orders: Option<&'a OrderSpread>,
}

pub fn prune_replay(args: &PruneReplayArgs) -> Result<Exit> {
    let dir = super::report::experiment_dir(&args.dir)?;
    let record = reader::read_experiment(&dir)?;
    // Planned variants without rows count too: the rule would have judged them at every rung.
    let runs: Vec<&Run> = record
        .runs
        .iter()
        .filter(|r| r.current || !r.rows.is_empty())
        .collect();
    // The rule the runs were trained with (enabled or not), from the newest config.toml.
    let (base, from) = match super::recorded_rule::recorded_rule(&runs)? {
        Some(recorded) => {
            if let Some(note) = &recorded.note {
                eprintln!("{note}");
            }
            (recorded.rule, recorded.from)
        }
        None => (PruneConfig::default(), dir.root().into()),
    };
    let mut rule = config::resolve_prune(&base, &from, &args.sets)
        .map_err(exit::settings_of("the replayed [prune] rule"))?;
    rule.enabled = true;
    let (given, guessed) = epoch_images(&runs);
    let replayed = replay::replay(&runs, &rule, &given);
    let totals = replay::totals(&replayed);
    let spread = args
        .orders
        .map(|n| replay_orders::spread(&runs, &rule, &given, n as usize, args.order_seed));
    if args.json {
        let report = Report {
            experiment: &record.name,
            rule: &rule,
            variants: &replayed,
            totals: &totals,
            orders: spread.as_ref(),
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("the replay serializes")
        );
    } else {
        print!("{}", text(&record.name, &rule, &runs, &replayed, &totals));
        print!("{}", guessed_text(&guessed));
        if let Some(spread) = &spread {
            print!("{}", spread_text(spread));
        }
    }
    Ok(Exit::Success)
}

/// Training images of one epoch of each variant without rows (they count in what the sweep
/// costs without `[prune]`): from its config and data, else (no config on disk, data not
/// found) the mean of the variants with rows; the ids of those so guessed.
fn epoch_images(runs: &[&Run]) -> (EpochImages, Vec<String>) {
    let measured: Vec<f64> = runs
        .iter()
        .filter(|r| r.kept().next().is_some())
        .map(|r| r.kept().map(|m| m.images()).sum::<f64>() / r.kept().count() as f64)
        .collect();
    let mean = measured.iter().sum::<f64>() / measured.len().max(1) as f64;
    let (mut given, mut guessed) = (EpochImages::new(), Vec::new());
    for r in runs.iter().filter(|r| r.kept().next().is_none()) {
        let from_config = reader::read_config(&r.dir).ok().and_then(|cfg| {
            let n = crate::data::training_images(&cfg.data)?;
            Some(cost::images_per_epoch(&cfg, n) as f64)
        });
        if from_config.is_none() {
            guessed.push(r.id.clone());
        }
        given.insert(r.id.clone(), from_config.unwrap_or(mean));
    }
    (given, guessed)
}

fn guessed_text(guessed: &[String]) -> String {
    if guessed.is_empty() {
        return String::new();
    }
    format!(
        "({} variant(s) without rows or a readable config are counted at the mean pace of the \
         others: {})\n",
        guessed.len(),
        guessed.join(", ")
    )
}

fn text(
    name: &str,
    rule: &PruneConfig,
    runs: &[&Run],
    replayed: &[Replayed],
    totals: &Totals,
) -> String {
    let budget = runs
        .iter()
        .filter_map(|r| r.planned_epochs)
        .max()
        .unwrap_or(0);
    let rungs: Vec<String> = prune::rungs(rule, budget)
        .iter()
        .map(|r| r.epoch.to_string())
        .collect();
    let mut out = format!(
        "{name}: [prune] replayed over {} variant(s) rung by rung (as `run --jobs 1` \
         judges them): best {} so far, rungs at epochs {} of {budget}{}, eta {}, min_peers {}\n",
        replayed.len(),
        rule.metric,
        if rungs.is_empty() {
            "(none)".to_string()
        } else {
            rungs.join(", ")
        },
        prune::max_rungs_note(rule, budget),
        rule.eta,
        rule.min_peers
    );
    out += &format!(
        "{:>5}  {:<12}  {:<11}  {:<11}  {:>13}  {}\n",
        "index", "id", "recorded", "replayed", "epochs", "decision"
    );
    for r in replayed {
        out += &format!(
            "{:>5}  {:<12}  {:<11}  {:<11}  {:>13}  {}\n",
            r.index,
            r.id,
            r.recorded,
            r.replayed,
            epochs_text(r),
            decision_text(r)
        );
    }
    out += &images_text(totals);
    let unfinished = replayed
        .iter()
        .filter(|r| r.outruns_rows() && r.recorded != RunState::Finished.word())
        .count();
    out += &best_text(rule, totals.best.as_ref(), unfinished);
    out += &kept_text(rule, totals);
    out
}

/// Where the rule stops the winner: the best variant it lets finish, and how far behind the
/// winner that one ends (the quality the rule costs).
fn kept_text(rule: &PruneConfig, totals: &Totals) -> String {
    let (Some(best), Some(kept)) = (&totals.best, &totals.best_kept) else {
        return String::new();
    };
    if !matches!(best.fate, Fate::Stopped { .. }) || best.final_figure <= 0.0 {
        return String::new();
    }
    let behind = 100.0 * (kept.final_figure / best.final_figure - 1.0);
    format!(
        "the best variant it lets finish, {} (final {} {}), ends {behind:.1}% behind it \
         ({:.3}x)\n",
        kept.id,
        rule.metric,
        prune::Figure::new(kept.final_figure),
        kept.final_figure / best.final_figure
    )
}

/// The epochs column: what the rule trains of the epochs planned; a range where unknown.
fn epochs_text(r: &Replayed) -> String {
    if r.epochs_replayed_min == r.epochs_replayed_max {
        format!("{} of {}", r.epochs_replayed_min, r.epochs_planned)
    } else {
        format!(
            "{}-{} of {}",
            r.epochs_replayed_min, r.epochs_replayed_max, r.epochs_planned
        )
    }
}

/// The decision column: the stop, how many rungs it survives, and where the replay lost track
/// of it or follows it past its rows; each decision judged without variants whose figure
/// there is unknown says so.
fn decision_text(r: &Replayed) -> String {
    let mut out = match (r.stop(), &r.unknown, &r.past_rows) {
        (Some(s), _, _) => s.summary(),
        (None, Some(u), _) if r.decisions.is_empty() => u.why.clone(),
        (None, Some(u), _) => format!("survives {} rung(s), then {}", r.decisions.len(), u.why),
        (None, None, Some(why)) => format!("survives {} rung(s); {why}", r.decisions.len()),
        (None, None, None) => format!("survives {} rung(s)", r.decisions.len()),
    };
    for d in r.decisions.iter().filter(|d| !d.unknown_peers.is_empty()) {
        out += &format!(
            " [{}: the same whatever {} variant(s) whose figure there is unknown had ({})]",
            d.record.rung_name(),
            d.unknown_peers.len(),
            d.unknown_peers.join(", ")
        );
    }
    out
}

fn percent(part: f64, whole: f64) -> f64 {
    if whole > 0.0 {
        100.0 * part / whole
    } else {
        0.0
    }
}

/// The images line, against what the sweep costs without `[prune]`; with variants the replay
/// lost track of, bounds and how to get the answer.
fn images_text(t: &Totals) -> String {
    let base = t.images_budget;
    let (least, most) = (t.images_replayed_min, t.images_replayed_max);
    let mut out = if t.unknown.is_empty() {
        format!(
            "training images: {least:.0} of the {base:.0} the sweep costs without [prune] \
             ({:.1}%); {:.0} saved ({:.1}%)",
            percent(least, base),
            base - least,
            percent(base - least, base)
        )
    } else {
        format!(
            "training images: {least:.0} to {most:.0} of the {base:.0} the sweep costs without \
             [prune] ({:.1}% to {:.1}%); {:.0} to {:.0} saved ({:.1}% to {:.1}%): incomplete, \
             the rule's decisions for {} variant(s) are unknown ({}); for the full answer, \
             replay over a sweep whose rows reach the budget (trained without [prune], or its \
             unfinished and pruned variants trained on: `run EXPERIMENT --only \
             pruned,interrupted,not-started --set prune.enabled=false`)",
            percent(least, base),
            percent(most, base),
            base - most,
            base - least,
            percent(base - most, base),
            percent(base - least, base),
            t.unknown.len(),
            t.unknown.join(", ")
        )
    };
    if !t.budget_past_rows.is_empty() {
        out += &format!(
            " (the {base:.0} counts the planned epochs of {} variant(s) past their rows at the \
             pace of their rows: {}; the sweep recorded {:.0})",
            t.budget_past_rows.len(),
            t.budget_past_rows.join(", "),
            t.images_recorded
        );
    }
    out + "\n"
}

/// What the rule does to the variant that finished best, and whether one of the `unfinished`
/// variants (rows cut short, trained further by the rule) could have ended better.
fn best_text(rule: &PruneConfig, best: Option<&Best>, unfinished: usize) -> String {
    let Some(b) = best else {
        let mut out = "no variant the sweep finished has a figure: no winner to check".to_string();
        if unfinished > 0 {
            out += &format!(
                " ({unfinished} variant(s) it did not finish, which the rule would train \
                 further, may end with one)"
            );
        }
        return out + "\n";
    };
    let best = format!(
        "the variant that finished best, {} (final {} {}),",
        b.id,
        rule.metric,
        prune::Figure::new(b.final_figure)
    );
    let mut out = match &b.fate {
        Fate::Unknown { unknown } => format!("{best} would survive or not: {}\n", unknown.why),
        Fate::Survives => format!("{best} survives every rung\n"),
        // The summary names the rung.
        Fate::Stopped { at } => format!("{best} would have been stopped: {}\n", at.summary()),
    };
    if unfinished > 0 {
        out += &format!(
            "(the best of the variants the sweep finished: {unfinished} variant(s) it did not \
             finish, which the rule would train further, may have ended better)\n"
        );
    }
    out
}

/// The --orders paragraph: the spread of images trained, and what became of the winner.
fn spread_text(s: &OrderSpread) -> String {
    let mut out = format!(
        "judged on arrival (--jobs N, Slurm) over {} random orders (seed {}): training images \
         {:.1}% of what the sweep costs without [prune] on average \
         ({:.1}% to {:.1}%); the variant that finished best stopped in {} of {}",
        s.orders,
        s.seed,
        100.0 * s.images_share_mean,
        100.0 * s.images_share_min,
        100.0 * s.images_share_max,
        s.winner_stopped,
        s.orders
    );
    if s.orders_incomplete > 0 {
        out += &format!(
            "; incomplete in {} of {} orders (variants whose rows end before the rule would \
             stop them: there the share is a lower bound), the winner's fate unknown in {}",
            s.orders_incomplete, s.orders, s.winner_unknown
        );
    }
    if let (Some(median), Some(worst)) = (s.best_ratio_median, s.best_ratio_worst) {
        out += &format!(
            "; the best final figure left is {median:.3}x the winner's in the median complete \
             order, {worst:.3}x in the worst"
        );
    }
    out + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_best_kept_is_told_only_where_the_winner_is_stopped() {
        use crate::prune::{Figure, Rung, decide};
        let rule = PruneConfig {
            enabled: true,
            min_peers: 1,
            ..PruneConfig::default()
        };
        let decision = decide(
            &rule,
            Rung { index: 0, epoch: 8 },
            Figure::Value(90.0),
            &[Figure::Value(1.0)],
        );
        let at = crate::results::RungRecord::new(&rule, (8, 8), &decision, vec![]);
        let totals = |fate: Fate| Totals {
            images_recorded: 0.0,
            images_budget: 0.0,
            budget_past_rows: vec![],
            images_replayed_min: 0.0,
            images_replayed_max: 0.0,
            unknown: vec![],
            best: Some(Best {
                id: "013-x".into(),
                final_figure: 26.31,
                fate,
            }),
            best_kept: Some(replay::Kept {
                id: "006-x".into(),
                final_figure: 28.19,
            }),
        };
        let text = kept_text(&rule, &totals(Fate::Stopped { at }));
        assert!(
            text.contains("006-x (final swd 28.19), ends 7.1% behind it (1.071x)"),
            "{text}"
        );
        assert_eq!(
            kept_text(&rule, &totals(Fate::Survives)),
            "",
            "the winner is kept"
        );
    }

    #[test]
    fn the_winner_lines_never_contradict_each_other() {
        let rule = PruneConfig::default();
        let best = Best {
            id: "003-x".into(),
            final_figure: 12.0,
            fate: Fate::Survives,
        };
        type Row<'a> = (
            Option<&'a Best>,
            usize,
            &'a [&'a str],
            &'a [&'a str],
            &'a str,
        );
        let rows: [Row; 3] = [
            (
                None,
                2,
                &[
                    "no variant the sweep finished has a figure",
                    "2 variant(s) it did not finish",
                ],
                &["the best of the variants the sweep finished"],
                "no winner: one line, no talk of a best",
            ),
            (
                None,
                0,
                &["no winner to check"],
                &["did not finish"],
                "no winner, nothing unfinished",
            ),
            (
                Some(&best),
                2,
                &[
                    "003-x",
                    "survives every rung",
                    "the best of the variants the sweep finished",
                ],
                &["no winner"],
                "a winner, and unfinished variants that may beat it",
            ),
        ];
        for (best, unfinished, has, lacks, why) in rows {
            let text = best_text(&rule, best, unfinished);
            for h in has {
                assert!(text.contains(h), "{why}: {text}");
            }
            for l in lacks {
                assert!(!text.contains(l), "{why}: {text}");
            }
        }
    }
}
