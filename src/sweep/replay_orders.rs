//! A `[prune]` rule over many arrival orders. `run --jobs 1` judges every variant at a rung
//! against all the others (`replay`); with `--jobs N` and Slurm job arrays the variants are
//! judged as they arrive, against those before them, and the order they arrive in changes the
//! decisions (experiments/README.md, "The order matters"). This replays the rule on arrival
//! (`replay::replay_in_order`) over seeded shuffles of the same variants and says how much the
//! outcome moves.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha20Rng;
use serde::Serialize;

use super::replay::{self, EpochImages, Fate};
use crate::prune::PruneConfig;
use crate::results::reader::Run;

/// What the rule did over `orders` shuffles drawn from `seed`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderSpread {
    pub orders: usize,
    pub seed: u64,
    /// Share of what the sweep costs without `[prune]` (`replay::Totals::images_budget`) an
    /// order would train (0 to 1): mean, lowest, highest over the orders (in an incomplete
    /// order, what it trains at least).
    pub images_share_mean: f64,
    pub images_share_min: f64,
    pub images_share_max: f64,
    /// Orders in which the variant that finished best would have been stopped.
    pub winner_stopped: usize,
    /// Orders in which the replay loses track of some variant (`replay::Unknown`: its rows
    /// end before the rule would stop it, or a decision turns on such a variant), and of
    /// those, orders in which it cannot say whether the winner is stopped.
    pub orders_incomplete: usize,
    pub winner_unknown: usize,
    /// The best final figure among the variants an order lets finish, divided by the best
    /// recorded (1 = the winner survived; lower is better, as for every `[prune]` metric):
    /// median and worst over the complete orders (where every variant's rows reach how the
    /// rule ends it). None when no variant finished with a figure, or no order is complete.
    pub best_ratio_median: Option<f64>,
    pub best_ratio_worst: Option<f64>,
}

/// The rule replayed over `orders` shuffles of `runs` (ChaCha20 from `seed`, one stream for
/// all orders, so a seed gives the same orders with this build on every machine).
pub fn spread(
    runs: &[&Run],
    rule: &PruneConfig,
    given: &EpochImages,
    orders: usize,
    seed: u64,
) -> OrderSpread {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut order: Vec<&Run> = runs.to_vec();
    order.sort_by_key(|r| r.index);
    let mut shares = Vec::with_capacity(orders);
    let mut ratios = Vec::with_capacity(orders);
    let mut winner_stopped = 0;
    let (mut orders_incomplete, mut winner_unknown) = (0, 0);
    for _ in 0..orders {
        order.shuffle(&mut rng);
        let replayed = replay::replay_in_order(&order, rule, given);
        let totals = replay::totals(&replayed);
        shares.push(share(totals.images_replayed_min, totals.images_budget));
        orders_incomplete += usize::from(!totals.unknown.is_empty());
        if let Some(best) = &totals.best {
            winner_stopped += usize::from(matches!(best.fate, Fate::Stopped { .. }));
            winner_unknown += usize::from(matches!(best.fate, Fate::Unknown { .. }));
            if let Some(kept) = &totals.best_kept {
                ratios.push(kept.final_figure / best.final_figure);
            }
        }
    }
    ratios.sort_by(f64::total_cmp);
    OrderSpread {
        orders,
        seed,
        images_share_mean: shares.iter().sum::<f64>() / orders.max(1) as f64,
        images_share_min: shares.iter().copied().fold(f64::INFINITY, f64::min),
        images_share_max: shares.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        winner_stopped,
        orders_incomplete,
        winner_unknown,
        best_ratio_median: ratios.get(ratios.len() / 2).copied(),
        best_ratio_worst: ratios.last().copied(),
    }
}

fn share(part: f64, whole: f64) -> f64 {
    if whole > 0.0 { part / whole } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::RunState;
    use crate::sweep::replay::tests::{none, rule, run};

    /// Six variants listed worst first: in index order each newcomer beats those before it
    /// and goes on, so index order is the most expensive order there is.
    fn slow_to_fast() -> Vec<Run> {
        (0..6)
            .map(|i| {
                let base = 100.0 - 10.0 * i as f64;
                let swds: Vec<Option<f64>> = (1..=8)
                    .map(|e| (e % 2 == 0).then_some(base - e as f64))
                    .collect();
                run(i, &swds, RunState::Finished)
            })
            .collect()
    }

    #[test]
    fn shuffles_cost_less_than_a_sorted_grid_and_a_seed_repeats_them() {
        let runs = slow_to_fast();
        let refs: Vec<&Run> = runs.iter().collect();
        let index_order = replay::totals(&replay::replay_in_order(&refs, &rule(), &none()));
        let in_order = index_order.images_replayed_min / index_order.images_budget;
        assert_eq!(in_order, 1.0, "sorted worst first, nobody is stopped");
        let s = spread(&refs, &rule(), &none(), 50, 7);
        assert!(s.images_share_mean < in_order, "{s:?}");
        assert!(s.images_share_min <= s.images_share_mean, "{s:?}");
        assert!(s.images_share_mean <= s.images_share_max, "{s:?}");
        assert_eq!(
            s.winner_stopped, 0,
            "the best is best at every rung: no order stops it"
        );
        assert_eq!(
            (s.best_ratio_median, s.best_ratio_worst),
            (Some(1.0), Some(1.0))
        );
        assert_eq!(
            s,
            spread(&refs, &rule(), &none(), 50, 7),
            "a seed repeats its orders"
        );
        assert_ne!(
            s.images_share_mean,
            spread(&refs, &rule(), &none(), 50, 8).images_share_mean,
            "another seed draws other orders"
        );
    }

    #[test]
    fn a_winner_slow_to_start_is_stopped_in_some_orders() {
        let e = |x: f64| Some(x);
        // 000 is behind at rung 2 and ends best; the others lead early and end worse.
        let mut runs = vec![run(
            0,
            &[None, e(90.0), None, e(60.0), None, e(30.0), None, e(10.0)],
            RunState::Finished,
        )];
        for i in 1..5 {
            let start = 50.0 + i as f64;
            runs.push(run(
                i,
                &[None, e(start), None, e(40.0), None, e(35.0), None, e(30.0)],
                RunState::Finished,
            ));
        }
        let refs: Vec<&Run> = runs.iter().collect();
        let s = spread(&refs, &rule(), &none(), 40, 1);
        assert!(s.winner_stopped > 0 && s.winner_stopped < 40, "{s:?}");
        assert_eq!(
            s.best_ratio_worst,
            Some(3.0),
            "30 survives where 10 is stopped"
        );
        assert_eq!(s.best_ratio_median.map(|m| m >= 1.0), Some(true));
    }
}
