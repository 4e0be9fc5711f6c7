//! Runs and rules the replay's tests share (`replay_orders`' tests too): runs of swd figures
//! planned for 8 epochs, the complete sweep the cut-row tests start from, and how to cut it.

use super::EpochImages;
use crate::prune::PruneConfig;
use crate::results::RunState;
use crate::results::reader::Run;
use crate::results::test_rows::swd_rows;

/// No variant without rows has a figure for its epochs.
pub(in crate::sweep) fn none() -> EpochImages {
    EpochImages::new()
}

pub(in crate::sweep) fn rule() -> PruneConfig {
    PruneConfig {
        enabled: true,
        first_rung: 2,
        eta: 2,
        min_peers: 1,
        ..PruneConfig::default()
    }
}

/// A run of `swds` (one per epoch from 1; None: no evaluation) that the sweep left in
/// `state`, planned for 8 epochs.
pub(in crate::sweep) fn run(index: usize, swds: &[Option<f64>], state: RunState) -> Run {
    Run {
        index,
        planned_epochs: Some(8),
        state,
        ..Run::for_test(&format!("{index:03}-x"), swd_rows(swds), vec![])
    }
}

/// Five variants trained through their budget of 8 (evaluated every other epoch): 3 starts
/// behind and ends best, 2 is bad throughout.
pub(super) fn complete() -> Vec<Run> {
    let curves: [[f64; 4]; 5] = [
        [50.0, 40.0, 30.0, 20.0],
        [60.0, 35.0, 25.0, 15.0],
        [70.0, 80.0, 90.0, 99.0],
        [75.0, 45.0, 20.0, 10.0],
        [65.0, 64.0, 63.0, 62.0],
    ];
    let runs = curves.iter().enumerate().map(|(i, c)| {
        let swds: Vec<Option<f64>> = (1..=8)
            .map(|e| (e % 2 == 0).then(|| c[e / 2 - 1]))
            .collect();
        run(i, &swds, RunState::Finished)
    });
    runs.collect()
}

/// A variant, the epochs of rows it keeps, and how the sweep left it.
pub(super) type Cut = (usize, usize, RunState);

/// `runs` with the rows of variant `i` cut to `keep` epochs and its state set (the sweep
/// stopped or lost it there).
pub(super) fn cut(runs: &[Run], cuts: &[Cut]) -> Vec<Run> {
    let mut out = runs.to_vec();
    for &(i, keep, state) in cuts {
        out[i] = run(i, &[], state);
        out[i].rows = runs[i].rows[..keep].to_vec();
        out[i].abandoned = vec![false; keep];
    }
    out
}
