//! `anigan-runner prune-replay RESULTS/EXPERIMENT`: what a `[prune]` rule would have done to a
//! finished sweep (`sweep::replay`), as a table or JSON.

use anyhow::Result;
use serde::Serialize;

use crate::cli::PruneReplayArgs;
use crate::config;
use crate::exit::Exit;
use crate::prune::{self, PruneConfig};
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
    let runs: Vec<&Run> = record.runs.iter().filter(|r| !r.rows.is_empty()).collect();
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
        "{name}: [prune] replayed over {} trained variant(s) rung by rung (as `run --jobs 1` \
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
        let decision = match r.stop() {
            Some(s) => s.summary(),
            None => format!("survives {} rung(s)", r.decisions.len()),
        };
        out += &format!(
            "{:>5}  {:<12}  {:<11}  {:<11}  {:>13}  {decision}\n",
            r.index,
            r.id,
            r.recorded,
            r.replayed,
            format!("{} of {}", r.epochs_replayed, r.epochs_recorded),
        );
    }
    let share = |x: f64| {
        if totals.images_recorded > 0.0 {
            100.0 * x / totals.images_recorded
        } else {
            0.0
        }
    };
    out += &format!(
        "training images: {:.0} of the {:.0} trained ({:.1}%); {:.0} saved ({:.1}%)\n",
        totals.images_replayed,
        totals.images_recorded,
        share(totals.images_replayed),
        totals.images_recorded - totals.images_replayed,
        share(totals.images_recorded - totals.images_replayed)
    );
    out += &match &totals.best {
        None => "no variant finished with a figure: no winner to check\n".to_string(),
        Some(b) => match &b.stopped_at {
            None => format!(
                "the variant that finished best, {} (final {} {}), survives every rung\n",
                b.id,
                rule.metric,
                prune::Figure::new(b.final_figure)
            ),
            Some(s) => format!(
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
    out
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
    if let (Some(median), Some(worst)) = (s.best_ratio_median, s.best_ratio_worst) {
        out += &format!(
            "; the best final figure left is {median:.3}x the winner's in the median order, \
             {worst:.3}x in the worst"
        );
    }
    out + "\n"
}
