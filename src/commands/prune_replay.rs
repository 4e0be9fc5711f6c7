//! `anigan-runner prune-replay RESULTS/EXPERIMENT`: what a `[prune]` rule would have done to a
//! sweep (`sweep::replay`), as a table or JSON: where the rows cannot tell, both say `unknown`
//! and give the images as bounds.

use anyhow::Result;
use serde::Serialize;

use crate::cli::PruneReplayArgs;
use crate::config;
use crate::exit::Exit;
use crate::prune::{self, PruneConfig};
use crate::results::RunState;
use crate::results::reader::{self, Run};
use crate::sweep::replay::{self, Replayed, Totals};
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
    // The rule the runs were trained with (enabled or not), the first that says.
    let recorded = runs
        .iter()
        .find_map(|r| Some((reader::read_config(&r.dir).ok()?.prune, r.dir.config())));
    let (base, from) = recorded.unwrap_or_else(|| (PruneConfig::default(), dir.root().into()));
    let mut rule = config::resolve_prune(&base, &from, &args.sets)?;
    rule.enabled = true;
    let replayed = replay::replay(&runs, &rule);
    let totals = replay::totals(&replayed);
    let spread = args
        .orders
        .map(|n| replay_orders::spread(&runs, &rule, n as usize, args.order_seed));
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
        if let Some(spread) = &spread {
            print!("{}", spread_text(spread));
        }
    }
    Ok(Exit::Success)
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
         judges them): best {} so far, rungs at epochs {} of {budget}, eta {}, min_peers {}\n",
        replayed.len(),
        rule.metric,
        if rungs.is_empty() {
            "(none)".to_string()
        } else {
            rungs.join(", ")
        },
        rule.eta,
        rule.min_peers
    );
    out += &format!(
        "{:>5}  {:<12}  {:<11}  {:<11}  {:>13}  {}\n",
        "index", "id", "recorded", "replayed", "epochs", "decision"
    );
    for r in replayed {
        let epochs = match r.unknown {
            Some(_) => format!("{}+ of {}", r.epochs_replayed, r.epochs_recorded),
            None => format!("{} of {}", r.epochs_replayed, r.epochs_recorded),
        };
        out += &format!(
            "{:>5}  {:<12}  {:<11}  {:<11}  {:>13}  {}\n",
            r.index,
            r.id,
            r.recorded,
            r.replayed,
            epochs,
            decision_text(r)
        );
    }
    let share = |x: f64| {
        if totals.images_recorded > 0.0 {
            100.0 * x / totals.images_recorded
        } else {
            0.0
        }
    };
    out += &images_text(totals, share);
    out += &match &totals.best {
        None => "no variant finished with a figure: no winner to check\n".to_string(),
        Some(b) => match (&b.stopped_at, &b.unknown) {
            (None, Some(u)) => format!(
                "the variant that finished best, {} (final {} {}), would survive or not: {}\n",
                b.id,
                rule.metric,
                prune::Figure::new(b.final_figure),
                u.why
            ),
            (None, None) => format!(
                "the variant that finished best, {} (final {} {}), survives every rung\n",
                b.id,
                rule.metric,
                prune::Figure::new(b.final_figure)
            ),
            (Some(s), _) => format!(
                "the variant that finished best, {} (final {} {}), would have been stopped at \
                 {}: {}\n",
                b.id,
                rule.metric,
                prune::Figure::new(b.final_figure),
                s.rung_name(),
                s.summary()
            ),
        },
    };
    out += &unfinished_text(replayed);
    out
}

/// The decision column: the stop, how many rungs it survives, and where the replay lost track
/// of it; each decision judged without variants whose figure is unknown says so.
fn decision_text(r: &Replayed) -> String {
    let mut out = match (r.stop(), &r.unknown) {
        (Some(s), _) => s.summary(),
        (None, Some(u)) if r.decisions.is_empty() => u.why.clone(),
        (None, Some(u)) => format!("survives {} rung(s), then {}", r.decisions.len(), u.why),
        (None, None) => format!("survives {} rung(s)", r.decisions.len()),
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

/// The images line; with variants the replay lost track of, bounds and how to get the answer.
fn images_text(totals: &Totals, share: impl Fn(f64) -> f64) -> String {
    let (trained, saved) = (
        totals.images_replayed,
        totals.images_recorded - totals.images_replayed,
    );
    if totals.unknown.is_empty() {
        return format!(
            "training images: {trained:.0} of the {:.0} trained ({:.1}%); {saved:.0} saved \
             ({:.1}%)\n",
            totals.images_recorded,
            share(trained),
            share(saved)
        );
    }
    format!(
        "training images: at least {trained:.0} of the {:.0} trained ({:.1}%); at most \
         {saved:.0} saved ({:.1}%): incomplete, the rule's decisions for {} variant(s) are \
         unknown ({}); for the full answer, replay over a sweep whose rows reach the budget \
         (trained without [prune], or its unfinished and pruned variants trained on: `run \
         EXPERIMENT --only pruned,interrupted,not-started --set prune.enabled=false`)\n",
        totals.images_recorded,
        share(trained),
        share(saved),
        totals.unknown.len(),
        totals.unknown.join(", ")
    )
}

/// A line when variants the sweep did not finish are among the lost: the best of those it
/// finished need not be the best of the grid.
fn unfinished_text(replayed: &[Replayed]) -> String {
    let unfinished = replayed
        .iter()
        .filter(|r| r.unknown.is_some() && r.recorded != RunState::Finished.word())
        .count();
    if unfinished == 0 {
        return String::new();
    }
    format!(
        "(the best of the variants the sweep finished: {unfinished} variant(s) it did not \
         finish, which the rule would train further, may have ended better)\n"
    )
}

/// The --orders paragraph: the spread of images trained, and what became of the winner.
fn spread_text(s: &OrderSpread) -> String {
    let mut out = format!(
        "judged on arrival (--jobs N, Slurm) over {} random orders (seed {}): training images \
         {:.1}% of the trained on average \
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
