//! `[prune]` with one worker: the sweep trains rung by rung. Every variant trains to the
//! evaluation that judges the first rung and waits there; once all have arrived, each is judged
//! against every other (synchronous successive halving, Jamieson & Talwalkar 2016; with one
//! worker nobody idles while it waits), and the survivors train to the next rung. Asynchronous
//! judging on arrival (ASHA) would let the first variants through unranked and rank the rest
//! against whoever came before them, so its cost and its choices would hang on the grid's order.

use crate::config::Variant;
use crate::prune;

/// Whether this process trains `selected` rung by rung: `[prune]` on for all of them and more
/// than one to train here (a single variant, as in a Slurm array task, is judged on arrival
/// against what its peers recorded).
pub fn applies(selected: &[&Variant]) -> bool {
    selected.len() > 1 && selected.iter().all(|v| v.config.prune.enabled)
}

/// How many passes over the variants: one per rung of the longest budget, and the last to the
/// budgets.
pub fn passes(selected: &[&Variant]) -> usize {
    selected
        .iter()
        .map(|v| prune::rungs(&v.config.prune, v.config.experiment.epochs).len())
        .max()
        .unwrap_or(0)
        + 1
}

/// The epoch `variant` pauses at in pass `pass`: the first evaluation at or after rung `pass`
/// (`eval.every` epochs apart), where the rung is judged. None: no such rung short of the
/// budget, so it trains to the end.
pub fn pause_epoch(variant: &Variant, pass: usize) -> Option<u32> {
    let cfg = &variant.config;
    let rung = *prune::rungs(&cfg.prune, cfg.experiment.epochs).get(pass)?;
    let every = cfg.eval.every.max(1);
    let evaluation = rung.epoch.div_ceil(every).saturating_mul(every);
    (evaluation < cfg.experiment.epochs).then_some(evaluation)
}

/// The epochs each pass of `variant` ends at: its pause epochs, then its budget.
pub fn pass_ends(variant: &Variant) -> Vec<u32> {
    let mut ends: Vec<u32> = (0..).map_while(|pass| pause_epoch(variant, pass)).collect();
    ends.push(variant.config.experiment.epochs);
    ends
}

/// How many of `n` variants train in each of `passes` passes when none collapses and no
/// figures tie: all in the first; after a rung, `ceil(m / eta)` of the m judged there, or all m
/// when fewer than `min_peers + 1` were (nobody is stopped with too few peers).
pub fn entrants_per_pass(n: usize, passes: usize, rule: &prune::PruneConfig) -> Vec<usize> {
    let mut out = Vec::with_capacity(passes);
    let mut m = n;
    for _ in 0..passes {
        out.push(m);
        if m > rule.min_peers as usize {
            m = m.div_ceil(rule.eta.max(1) as usize);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Variant};

    fn variant(epochs: u32, every: u32, first_rung: u32, eta: u32) -> Variant {
        let mut v = Variant {
            index: 0,
            id: "000-test".into(),
            grid_values: Vec::new(),
            config: Config::default(),
        };
        v.config.experiment.epochs = epochs;
        v.config.eval.every = every;
        v.config.prune.enabled = true;
        v.config.prune.first_rung = first_rung;
        v.config.prune.eta = eta;
        v
    }

    /// epochs, eval.every, first_rung, eta; the pause epoch of each pass; why.
    type Row = (u32, u32, u32, u32, &'static [Option<u32>], &'static str);

    #[test]
    fn pauses_at_the_evaluation_that_judges_each_rung() {
        let rows: &[Row] = &[
            (
                180,
                12,
                24,
                3,
                &[Some(24), Some(72), None],
                "rungs 24 and 72 have evaluations; 216 is past the budget",
            ),
            (
                100,
                8,
                10,
                3,
                &[Some(16), Some(32), Some(96), None],
                "no evaluation at 10, 30 or 90: the next ones judge them",
            ),
            (
                100,
                40,
                24,
                3,
                &[Some(40), Some(80), None],
                "evaluations further apart than the rungs",
            ),
            (
                40,
                40,
                30,
                3,
                &[None, None],
                "the rung's evaluation would be the budget's: it finishes",
            ),
        ];
        for &(epochs, every, first, eta, want, why) in rows {
            let v = variant(epochs, every, first, eta);
            let got: Vec<Option<u32>> = (0..want.len()).map(|p| pause_epoch(&v, p)).collect();
            assert_eq!(got, want, "{why}");
        }
    }

    #[test]
    fn entrants_halve_until_too_few_peers_are_left() {
        let rule = |eta: u32, min_peers: u32| prune::PruneConfig {
            enabled: true,
            eta,
            min_peers,
            ..prune::PruneConfig::default()
        };
        // variants, passes, eta, min_peers; entrants per pass; why.
        type Count = (usize, usize, u32, u32, &'static [usize], &'static str);
        let rows: &[Count] = &[
            (16, 3, 3, 3, &[16, 6, 2], "eta 3: 16, ceil(16/3), ceil(6/3)"),
            (
                16,
                4,
                3,
                3,
                &[16, 6, 2, 2],
                "2 judged: too few peers, both go on",
            ),
            (
                9,
                3,
                3,
                8,
                &[9, 3, 3],
                "9 judged with 8 peers each; then 3 with 2 each",
            ),
            (
                3,
                3,
                3,
                3,
                &[3, 3, 3],
                "never more than min_peers: nobody stops",
            ),
        ];
        for &(n, passes, eta, min_peers, want, why) in rows {
            assert_eq!(
                entrants_per_pass(n, passes, &rule(eta, min_peers)),
                want,
                "{why}"
            );
        }
        assert_eq!(pass_ends(&variant(180, 12, 24, 3)), [24, 72, 180]);
    }

    #[test]
    fn one_pass_per_rung_of_the_longest_budget_and_one_to_the_end() {
        let (short, long) = (variant(100, 10, 10, 3), variant(300, 10, 10, 3));
        assert_eq!(passes(&[&short]), 4, "rungs 10, 30 and 90, then the budget");
        assert_eq!(passes(&[&short, &long]), 5, "rungs 10, 30, 90 and 270");
        assert!(applies(&[&short, &long]));
        assert!(!applies(&[&short]), "one variant is judged on arrival");
        let mut off = variant(100, 10, 10, 3);
        off.config.prune.enabled = false;
        assert!(!applies(&[&short, &off]));
    }
}
