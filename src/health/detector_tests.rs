//! Table-driven detector tests: each row is a stream of epochs, the expected verdicts, and why.

use super::config::RollbackConfig;
use super::detector::{Detector, SwdFloor};
use super::kind::Kind;
use super::stats::{EpochStats, RealReference};

const FIRST: u64 = 100;

/// (kind, onset_epoch, detected_epoch)
type Fired = (Kind, u64, u64);
type Gen = fn() -> EpochStats;

/// Balanced epoch: D and G both around their usual values.
fn ok() -> EpochStats {
    EpochStats {
        d_acc_real: 0.95,
        d_acc_fake: 1.0,
        g_acc: 0.9,
        ..EpochStats::default()
    }
}

fn g_fail() -> EpochStats {
    EpochStats {
        g_acc: 0.0003,
        ..ok()
    }
}

fn fooled() -> EpochStats {
    EpochStats {
        d_acc_real: 1.0,
        d_acc_fake: 0.0,
        g_acc: 1.0,
        ..ok()
    }
}

fn nan() -> EpochStats {
    EpochStats {
        non_finite: true,
        ..ok()
    }
}

fn flat() -> EpochStats {
    EpochStats {
        sample_std: Some(0.4),
        sample_image_std: Some(0.01),
        ..ok()
    }
}

fn with_std() -> EpochStats {
    EpochStats {
        sample_std: Some(0.4),
        sample_image_std: Some(0.4),
        ..ok()
    }
}

fn rep(s: Gen, n: usize) -> Vec<EpochStats> {
    (0..n).map(|_| s()).collect()
}

fn cat(parts: Vec<Vec<EpochStats>>) -> Vec<EpochStats> {
    parts.concat()
}

/// Training images per epoch in these tests: the default warm-up (10,000) ends at epoch 20.
const EPOCH_IMAGES: u64 = 500;

/// Runs a stream from epoch FIRST and returns every (kind, onset, detected).
fn run(stream: Vec<EpochStats>, first: u64) -> Vec<Fired> {
    run_on(
        Detector::new(&RollbackConfig::default(), None, EPOCH_IMAGES),
        stream,
        first,
    )
}

/// `run` with the evaluations' floor known, as in a run that evaluates.
fn run_with_floor(stream: Vec<EpochStats>, first: u64, floor: SwdFloor) -> Vec<Fired> {
    let det = Detector::new(&RollbackConfig::default(), None, EPOCH_IMAGES).with_swd_floor(floor);
    run_on(det, stream, first)
}

fn run_on(mut det: Detector, stream: Vec<EpochStats>, first: u64) -> Vec<Fired> {
    let mut out = Vec::new();
    for (i, mut s) in stream.into_iter().enumerate() {
        s.epoch = first + i as u64;
        if let Some(v) = det.observe(&s) {
            out.push((v.kind, v.onset_epoch, v.detected_epoch));
        }
    }
    out
}

#[test]
fn streams_and_verdicts() {
    use Kind::*;
    let rows: Vec<(Vec<EpochStats>, Vec<Fired>, &str)> = vec![
        (rep(ok, 40), vec![], "balanced training never fires"),
        (
            rep(g_fail, 15),
            vec![(GFailure, 100, 114)],
            "15 epochs of g_acc ~0 reach patience",
        ),
        (rep(g_fail, 14), vec![], "one epoch short of patience"),
        (
            cat(vec![rep(g_fail, 8), rep(ok, 1), rep(g_fail, 7)]),
            vec![(GFailure, 100, 115)],
            "a single healthy blip does not break the streak or move the onset",
        ),
        (
            cat(vec![rep(g_fail, 8), rep(ok, 2), rep(g_fail, 14)]),
            vec![],
            "two healthy epochs in a row end the streak; the second one is short",
        ),
        (
            cat(vec![rep(ok, 2), rep(g_fail, 1)]).repeat(20),
            vec![],
            "this scheme's see-saw (G wins, loses, wins) is not a collapse",
        ),
        (
            cat(vec![rep(g_fail, 1), rep(ok, 1)]).repeat(40),
            vec![],
            "strict alternation has as many healthy as bad epochs: never sustained",
        ),
        (
            cat(vec![rep(g_fail, 1), rep(ok, 1), rep(g_fail, 15)]),
            vec![(GFailure, 102, 116)],
            "a lone bad epoch then a blip does not start the streak early",
        ),
        (
            rep(fooled, 15),
            vec![(DFooled, 100, 114)],
            "D frozen at Acc 1.0/0.0, GAcc 1.0",
        ),
        (
            cat(vec![rep(fooled, 6), rep(ok, 3), rep(fooled, 6)]),
            vec![],
            "short d_fooled bursts like 656-661 in dcgan-560-960 are normal",
        ),
        (
            cat(vec![rep(fooled, 30), rep(g_fail, 15)]),
            vec![(DFooled, 100, 114), (GFailure, 130, 144)],
            "dcgan-560-960 824-853: D fooled, then G fails; both are reported",
        ),
        (
            vec![
                EpochStats {
                    g_acc: 0.03,
                    ..ok()
                };
                20
            ],
            vec![],
            "g_acc 0.03 is above eps 0.02",
        ),
        (
            rep(nan, 1),
            vec![(NonFinite, 100, 100)],
            "non-finite values fire at once",
        ),
        (
            cat(vec![rep(nan, 3), rep(ok, 1), rep(nan, 1)]),
            vec![(NonFinite, 100, 100), (NonFinite, 104, 104)],
            "each non-finite episode fires once; a finite epoch ends it",
        ),
        (
            cat(vec![rep(with_std, 2), rep(flat, 3)]),
            vec![(DegenerateOutput, 102, 104)],
            "contrast, then uniform-colour images for 3 epochs",
        ),
        (rep(with_std, 20), vec![], "spread samples are fine"),
        (
            rep(ok, 20),
            vec![],
            "no sample stats: degenerate check is skipped",
        ),
    ];
    for (stream, want, why) in rows {
        assert_eq!(run(stream, FIRST), want, "{why}");
    }
}

#[test]
fn warmup_only_lets_non_finite_through() {
    let cases: &[(Gen, usize, usize, &str)] = &[
        (
            g_fail,
            34,
            0,
            "g failure during the first 10,000 images (epochs 0-19) does not count",
        ),
        (g_fail, 35, 1, "15 bad epochs after warm-up"),
        (nan, 1, 1, "NaN at epoch 0 still fires"),
    ];
    for &(s, n, fired, why) in cases {
        assert_eq!(run(rep(s, n), 0).len(), fired, "{why}");
    }
}

#[test]
fn degenerate_uses_the_real_reference_when_given() {
    let reference = RealReference {
        sample_std: 0.5,
        image_std: 0.45,
        nn_distance: 0.3,
    };
    let rows: &[(f64, f64, bool, &str)] = &[
        (
            0.05,
            0.4,
            true,
            "sample_std 0.05 < 0.2 x 0.5: samples all alike",
        ),
        (0.2, 0.4, false, "sample_std 0.2 is 40% of real"),
        (0.3, 0.05, true, "image_std 0.05 < 0.2 x 0.45: flat images"),
        (
            0.3,
            0.95,
            true,
            "image_std 0.95 > 1.8 x 0.45: saturated colour noise, pixels pinned at +-1",
        ),
        (
            0.3,
            0.6,
            false,
            "image_std 0.6: more contrast than the data, not saturated",
        ),
    ];
    for &(sample, image, fires, why) in rows {
        let mut det = Detector::new(&RollbackConfig::default(), Some(reference), EPOCH_IMAGES);
        det.observe(&EpochStats {
            epoch: 99,
            sample_std: Some(0.5),
            sample_image_std: Some(0.45),
            ..ok()
        });
        let fired = (100..103).any(|epoch| {
            let s = EpochStats {
                epoch,
                sample_std: Some(sample),
                sample_image_std: Some(image),
                ..ok()
            };
            det.observe(&s).is_some()
        });
        assert_eq!(fired, fires, "{why}");
    }
}

#[test]
fn health_reset_and_evidence() {
    let mut det = Detector::new(&RollbackConfig::default(), None, EPOCH_IMAGES);
    let mut last = None;
    for epoch in 100..115 {
        assert!(epoch == 100 || !det.is_healthy(), "a streak is in progress");
        last = det.observe(&EpochStats { epoch, ..g_fail() });
    }
    let v = last.expect("fires at the 15th bad epoch");
    assert_eq!(
        v.evidence,
        "g_acc <= 0.02 for 15 of the last 15 epochs (max 0.0003)"
    );
    assert!(!det.is_healthy());
    assert!(
        det.observe(&EpochStats {
            epoch: 115,
            ..g_fail()
        })
        .is_none(),
        "fires once per streak"
    );
    det.reset();
    assert!(
        det.is_healthy(),
        "reset after a rollback forgets the streak"
    );
}

fn noisy(g_acc: f64, label_noise: f64) -> EpochStats {
    EpochStats {
        g_acc,
        label_noise: Some(label_noise),
        ..ok()
    }
}

#[test]
fn accuracy_thresholds_follow_the_label_noise() {
    // (label noise, g_acc, fires, why)
    let rows: &[(f64, f64, bool, &str)] = &[
        (
            0.1,
            0.05,
            true,
            "noise 0.1: a D that won holds g_acc at 0.05, the mean fake target; floor 0.07",
        ),
        (0.1, 0.08, false, "noise 0.1: 0.08 is above 0.05 + 0.02"),
        (0.0, 0.05, false, "no noise: 0.05 is above eps"),
        (0.0, 0.01, true, "no noise: 0.01 is below eps"),
        (0.3, 0.16, true, "noise 0.3: floor 0.17"),
    ];
    for &(noise, g, fires, why) in rows {
        let got = run(vec![noisy(g, noise); 15], FIRST);
        assert_eq!(!got.is_empty(), fires, "{why}: {got:?}");
    }
    let fooled_noisy = EpochStats {
        d_acc_fake: 0.06,
        g_acc: 0.94,
        label_noise: Some(0.1),
        ..ok()
    };
    assert_eq!(
        run(vec![fooled_noisy; 15], FIRST),
        vec![(Kind::DFooled, 100, 114)],
        "d_fooled mirrors it: d_acc_fake <= 0.07 and g_acc >= 0.93"
    );
}

#[test]
fn a_confident_d_while_swd_improves_is_not_a_failed_g() {
    // g_acc ~0 for 30 epochs; swd measured every 5 epochs.
    let stream = |improving: bool| -> Vec<EpochStats> {
        (0..30)
            .map(|i| EpochStats {
                swd: (i % 5 == 0).then_some(if improving { 100.0 - i as f64 } else { 100.0 }),
                ..g_fail()
            })
            .collect()
    };
    assert_eq!(
        run(stream(true), FIRST),
        vec![],
        "swd reached a new best inside each streak: the samples are getting better"
    );
    assert_eq!(
        run(stream(false), FIRST),
        vec![(Kind::GFailure, 100, 114)],
        "swd stuck at its first value: G failed"
    );
    // Evaluated at epoch 100 only, then every 10 epochs from 120 on, stuck.
    let late: Vec<EpochStats> = (0..30)
        .map(|i| EpochStats {
            swd: (i == 0 || (i >= 20 && i % 10 == 0)).then_some(100.0),
            ..g_fail()
        })
        .collect();
    assert_eq!(
        run(late, FIRST),
        vec![(Kind::GFailure, 100, 120)],
        "no evaluation since the onset to judge by at patience: wait for one, then fire"
    );
}

#[test]
fn sample_figures_and_non_finite_figures() {
    use Kind::*;
    let copies = || EpochStats {
        sample_nn: Some(0.05),
        ..with_std()
    };
    let varied = || EpochStats {
        sample_nn: Some(0.8),
        ..with_std()
    };
    let nan_acc = || EpochStats {
        g_acc: f64::NAN,
        ..ok()
    };
    let inf_figure = || EpochStats {
        sample_nn: Some(f64::INFINITY),
        ..with_std()
    };
    let nan_swd = || EpochStats {
        swd: Some(f64::NAN),
        ..ok()
    };
    let flat_copies = || EpochStats {
        sample_nn: Some(0.0),
        ..flat()
    };
    let rows: Vec<(Vec<EpochStats>, Vec<Fired>, &str)> = vec![
        (
            cat(vec![rep(varied, 1), rep(copies, 3)]),
            vec![(ModeCollapse, 101, 103)],
            "varied, then near-copies with a normal spread: mode collapse",
        ),
        (
            rep(varied, 20),
            vec![],
            "samples as far apart as real images",
        ),
        (
            cat(vec![rep(varied, 1), rep(flat_copies, 3)]),
            vec![(DegenerateOutput, 101, 103)],
            "flat copies are degenerate output first (the kinds' order)",
        ),
        (
            rep(nan_acc, 1),
            vec![(NonFinite, 100, 100)],
            "a NaN accuracy is a non-finite epoch, loss columns or not",
        ),
        (
            rep(inf_figure, 1),
            vec![(NonFinite, 100, 100)],
            "an infinite sample figure too",
        ),
        (
            rep(nan_swd, 1),
            vec![(NonFinite, 100, 100)],
            "and a NaN swd",
        ),
    ];
    for (stream, want, why) in rows {
        assert_eq!(run(stream, FIRST), want, "{why}");
    }
}

#[test]
fn quality_regression_counts_evaluations() {
    let at = |swd: Option<f64>| EpochStats { swd, ..ok() };
    // (swd per epoch, fires at, why)
    type Row<'a> = (&'a [Option<f64>], Option<u64>, &'a str);
    let rows: &[Row] = &[
        (
            &[Some(20.0), None, Some(40.0), None, None, Some(35.0)],
            Some(105),
            "two evaluations above 1.5 x the best (30): epochs without swd do not count",
        ),
        (
            &[Some(20.0), Some(40.0), Some(25.0), Some(40.0)],
            None,
            "an evaluation back within the margin ends the streak",
        ),
        (
            &[Some(20.0), Some(28.0), Some(29.0), Some(29.5)],
            None,
            "within the 50% margin: noise, not a regression",
        ),
    ];
    for (swds, fires, why) in rows {
        let got = run(swds.iter().map(|v| at(*v)).collect(), FIRST);
        let want: Vec<Fired> = fires
            .iter()
            .map(|d| (Kind::QualityRegression, 102, *d))
            .collect();
        assert_eq!(got, want, "{why}");
    }
}

#[test]
fn restore_points_need_a_judged_healthy_epoch() {
    let mut det = Detector::new(&RollbackConfig::default(), None, EPOCH_IMAGES);
    det.observe(&EpochStats { epoch: 5, ..ok() });
    assert!(
        !det.is_restore_point(),
        "inside the warm-up nothing was judged yet"
    );
    det.observe(&EpochStats { epoch: 25, ..ok() });
    assert!(det.is_restore_point(), "past the warm-up, healthy");
    det.observe(&EpochStats {
        epoch: 26,
        ..g_fail()
    });
    assert!(
        !det.is_restore_point(),
        "a bad epoch, even before a verdict"
    );
}

#[test]
fn restore_points_need_samples_not_low_against_the_real_data() {
    let reference = RealReference {
        sample_std: 0.5,
        image_std: 0.4,
        nn_distance: 1.0,
    };
    let sampled = |std: f64, image_std: f64, nn: f64| EpochStats {
        sample_std: Some(std),
        sample_image_std: Some(image_std),
        sample_nn: Some(nn),
        ..ok()
    };
    // Limits with this reference: sample_std >= 0.1, image_std in [0.08, 0.72], sample_nn >= 0.6.
    let rows: &[(EpochStats, bool, &str)] = &[
        (sampled(0.4, 0.4, 0.9), true, "varied like real images"),
        (
            sampled(0.4, 0.4, 0.55),
            false,
            "near-copies that were never more varied: not bad yet (grace), but no state to \
             go back to (the lr_g = 5 bench recipe restored such a checkpoint four times)",
        ),
        (
            sampled(0.05, 0.4, 0.9),
            false,
            "samples alike (low sample_std) within the grace",
        ),
        (
            sampled(0.4, 0.05, 0.9),
            false,
            "flat images within the grace",
        ),
        (sampled(0.4, 0.75, 0.9), false, "saturated noise"),
        (ok(), true, "figures not logged (replay): accuracies decide"),
    ];
    for (stats, want, why) in rows {
        let mut det = Detector::new(&RollbackConfig::default(), Some(reference), EPOCH_IMAGES);
        // Past the warm-up (epoch 20) but inside the grace (epoch 40), never varied before.
        let got = det.observe(&EpochStats {
            epoch: 24,
            ..*stats
        });
        assert_eq!(got, None, "{why}: no verdict on one epoch");
        assert_eq!(det.is_restore_point(), *want, "{why}");
    }
}

#[test]
fn never_varied_samples_count_only_after_twice_the_warm_up() {
    let copies = || EpochStats {
        sample_nn: Some(0.3),
        ..with_std()
    };
    // Epochs of 500 images: warm-up ends at epoch 20, the grace at epoch 40.
    let rows: &[(Gen, u64, usize, Vec<Fired>, &str)] = &[
        (
            flat,
            20,
            20,
            vec![],
            "flat from the first judged epoch: G has not started, it has not collapsed",
        ),
        (
            copies,
            20,
            20,
            vec![],
            "alike from the start: not started yet (it never was varied)",
        ),
        (
            copies,
            20,
            25,
            vec![(Kind::ModeCollapse, 40, 42)],
            "still alike after twice the warm-up: collapsed from the start",
        ),
    ];
    for (s, first, n, want, why) in rows {
        assert_eq!(&run(rep(*s, *n), *first), want, "{why}");
    }
}

/// Found on the emoji (experiments/emoji.toml, rollback off): sample_nn 0.36, 0.57, 0.59 at
/// epochs 6 to 8, past twice the warm-up, then 0.80 and 1.05 by epoch 16, a healthy run.
/// Rolled back, its next attempt's sample_std sank from an untrained G's 0.09 to 0.06 while G
/// learned the mean image, and `degenerate_output` fired ("fallen from its peak").
#[test]
fn slow_starts_are_not_collapses() {
    let nn = |v: f64| EpochStats {
        sample_nn: Some(v),
        ..with_std()
    };
    let std = |v: f64| EpochStats {
        sample_std: Some(v),
        sample_image_std: Some(0.4),
        sample_nn: Some(0.9),
        ..ok()
    };
    // Epochs of 500 images: warm-up ends at epoch 20, the grace at epoch 40; no reference, so
    // the minimums are sample_std 0.05 and sample_nn 0.6.
    let rows: Vec<(Vec<EpochStats>, Vec<Fired>, &str)> = vec![
        (
            [0.30, 0.36, 0.45, 0.57, 0.59, 0.80, 1.0].map(nn).to_vec(),
            vec![],
            "below the minimum past the grace but climbing every epoch: still learning",
        ),
        (
            [0.30, 0.36, 0.45, 0.45, 0.44, 0.45, 0.45].map(nn).to_vec(),
            vec![(Kind::ModeCollapse, 43, 45)],
            "below the minimum past the grace and no longer climbing: collapsed from the start",
        ),
        (
            [0.045, 0.04, 0.03, 0.03, 0.03, 0.035].map(std).to_vec(),
            vec![],
            "fallen from a peak that never was varied enough (0.045 < 0.05): not started",
        ),
        (
            [0.4, 0.4, 0.03, 0.03, 0.03].map(std).to_vec(),
            vec![(Kind::DegenerateOutput, 22, 24)],
            "fallen from a varied peak: it worked, then broke",
        ),
    ];
    for (i, (stream, want, why)) in rows.into_iter().enumerate() {
        // The sample_nn rows start at the end of the grace, the sample_std rows at the warm-up's.
        let first = if i < 2 { 40 } else { 20 };
        assert_eq!(run(stream, first), want, "{why}");
    }
}

/// A balanced epoch whose fixed-noise samples are `ratio` times as far from the data as real
/// images (`sample_swd`).
fn at_swd(ratio: f64) -> EpochStats {
    EpochStats {
        sample_swd: Some(ratio),
        ..with_std()
    }
}

#[test]
fn a_confident_d_while_samples_improve_or_stay_near_is_not_a_failed_g() {
    // g_acc ~0 for 30 epochs and no evaluation: sample_swd alone says whether G improves.
    let stream = |swd: fn(usize) -> f64| -> Vec<EpochStats> {
        (0..30)
            .map(|i| EpochStats {
                sample_swd: Some(swd(i)),
                ..g_fail()
            })
            .collect()
    };
    let rows: Vec<(Vec<EpochStats>, Vec<Fired>, &str)> = vec![
        (
            stream(|i| 3.0 * 0.97f64.powi(i as i32)),
            vec![],
            "3% closer every epoch: the samples improve while D wins every batch (the issue's \
             false rollback, with evaluation only at the last epoch)",
        ),
        (
            stream(|i| 9.0 + 0.02 * (i % 3) as f64),
            vec![(Kind::GFailure, 100, 114)],
            "far from the data and no closer than the first epochs: G failed",
        ),
        (
            stream(|i| 9.0 * (1.0 - 0.01 * i as f64)),
            vec![],
            "1% an epoch adds up to a 5% step within the streak: improving",
        ),
        (
            stream(|i| 2.2 + 0.02 * (i % 3) as f64),
            vec![],
            "near the data (within FAR_RATIO) and flat: a confident D, not a failed G (tuning \
             seed 11's false rollback: 3 D steps, evaluation only at the end, sample_swd 2.2-2.5)",
        ),
        (
            cat(vec![
                stream(|_| 2.2).into_iter().take(20).collect(),
                stream(|_| 9.0).into_iter().take(10).collect(),
            ]),
            vec![
                (Kind::GFailure, 100, 120),
                (Kind::DegenerateOutput, 120, 122),
            ],
            "near, then far while D still wins: the streak kept its onset and fires on the \
             first far epoch (far again after being near is its own verdict 3 epochs on)",
        ),
    ];
    for (s, want, why) in rows {
        assert_eq!(run(s, FIRST), want, "{why}");
    }
}

#[test]
fn far_from_the_data_with_a_normal_spread() {
    use super::detector::FAR_RATIO;
    let rows: Vec<(Vec<EpochStats>, Vec<Fired>, &str)> = vec![
        (
            cat(vec![
                rep(|| at_swd(1.5), 3),
                rep(|| at_swd(FAR_RATIO * 2.0), 3),
            ]),
            vec![(Kind::DegenerateOutput, 103, 105)],
            "near the data, then saturated speckle or lost colour far from it (spread normal): \
             degenerate output",
        ),
        (
            cat(vec![
                rep(|| at_swd(1.5), 3),
                rep(|| at_swd(FAR_RATIO * 0.9), 5),
            ]),
            vec![],
            "worse, but not far from the data",
        ),
        (
            rep(|| at_swd(FAR_RATIO * 2.0), 10),
            vec![],
            "far from the start: not broken, not started (a stall is judged over longer)",
        ),
        (
            cat(vec![vec![d_rate(0.5, 31.0)], rep(|| d_rate(0.5, 10.0), 9)]),
            vec![(Kind::DegenerateOutput, 103, 105)],
            "far from the start while p0 stops most steps of a D whose rate is 250x the cap \
             (over 5 epochs: from the 4th on): the cause is known, no need to wait for a stall",
        ),
        (
            rep(|| d_rate(0.5, 31.0), 10),
            vec![],
            "the same rate while p0 stops none of D's steps (a confident D at p0 = 1 that still \
             teaches G): no evidence against it",
        ),
        (
            cat(vec![
                vec![d_rate(2e-3, 31.0)],
                rep(|| d_rate(2e-3, 10.0), 9),
            ]),
            vec![],
            "D gated, but its rate within the cap: nothing to fix yet",
        ),
    ];
    for (s, want, why) in rows {
        assert_eq!(run(s, FIRST), want, "{why}");
    }
}

#[test]
fn far_again_is_judged_after_twice_the_warm_up() {
    use super::detector::FAR_RATIO;
    // Twice the warm-up ends at epoch 40 here (500 images an epoch). Health bench, seed 15, a
    // confident D with 3 D steps: sample_swd 2.5 at epoch 14, then 3.5, 3.8, 3.2 and under 2
    // from epoch 19 on; a rollback to epoch 0 for it ended where the run without one did.
    let near_then_far = || {
        cat(vec![
            rep(|| at_swd(2.5), 3),
            rep(|| at_swd(FAR_RATIO * 1.2), 3),
        ])
    };
    let rows: Vec<(u64, Vec<EpochStats>, Vec<Fired>, &str)> = vec![
        (
            30,
            near_then_far(),
            vec![],
            "before twice the warm-up: a run on its way to the data wobbling back over the line",
        ),
        (
            40,
            near_then_far(),
            vec![(Kind::DegenerateOutput, 43, 45)],
            "from twice the warm-up on: far again after having been near",
        ),
        (
            34,
            cat(vec![near_then_far(), rep(|| at_swd(FAR_RATIO * 1.2), 3)]),
            vec![(Kind::DegenerateOutput, 40, 42)],
            "a departure that lasts past twice the warm-up is judged from there",
        ),
    ];
    for (first, s, want, why) in rows {
        assert_eq!(run(s, first), want, "{why}");
    }
}

#[test]
fn a_fresh_evaluation_near_the_floor_outweighs_sample_swd() {
    use super::detector::FAR_RATIO;
    // Near the data for 3 epochs, then sample_swd far for 3: `evaluated` (times the floor)
    // measured at the epoch `at` of the six (None: no evaluation).
    let stream = |evaluated: Option<f64>, at: usize| -> Vec<EpochStats> {
        let mut s = cat(vec![
            rep(|| at_swd(1.5), 3),
            rep(|| at_swd(FAR_RATIO * 1.5), 3),
        ]);
        s[at].swd = evaluated.map(|r| r * FLOOR.mean);
        s
    };
    let fired = vec![(Kind::DegenerateOutput, 103, 105)];
    let rows: Vec<(Vec<EpochStats>, Vec<Fired>, &str)> = vec![
        (
            stream(Some(1.8), 3),
            vec![],
            "health bench, seed 13, both rates capped at 2e-3: sample_swd 3.8 to 4.7 while the \
             evaluation inside the streak read 1.84x the floor; the degenerate_output it fired \
             undid a rescue",
        ),
        (
            stream(Some(1.8), 2),
            fired.clone(),
            "an evaluation near the floor from before sample_swd went far says nothing about \
             the samples since",
        ),
        (
            stream(Some(FAR_RATIO * 1.2), 3),
            fired.clone(),
            "an evaluation far from the floor agrees",
        ),
        (
            stream(None, 0),
            fired,
            "no evaluation (sparse): sample_swd decides, as before",
        ),
    ];
    for (s, want, why) in rows {
        assert_eq!(run_with_floor(s, FIRST, FLOOR), want, "{why}");
    }
}

#[test]
fn far_while_the_evaluations_still_improve_is_no_collapse_yet() {
    use super::detector::FAR_RATIO;
    // Near the data for 3 epochs, then sample_swd far for 3; every evaluation is far above
    // the floor (a slow learner): the first, 20x the floor, at the first epoch, and another of
    // `second` times the floor at epoch `at` of the six.
    let stream = |second: f64, at: usize| -> Vec<EpochStats> {
        let mut s = cat(vec![
            rep(|| at_swd(2.7), 3),
            rep(|| at_swd(FAR_RATIO * 1.15), 3),
        ]);
        s[0].swd = Some(20.0 * FLOOR.mean);
        s[at].swd = Some(second * FLOOR.mean);
        s
    };
    let fired = vec![(Kind::DegenerateOutput, 103, 105)];
    let rows: Vec<(Vec<EpochStats>, Vec<Fired>, &str)> = vec![
        (
            stream(15.0, 3),
            vec![],
            "sweep-bench, lr_d 8e-4 with lr_g 1e-4: sample_swd 2.7, then 3.4, while the \
             evaluations read 386, 227, 155, 151 (each a new best); the rollback to epoch 0 this \
             fired cost the run its ending (50 against 29 without it)",
        ),
        (
            stream(25.0, 3),
            fired.clone(),
            "an evaluation since sample_swd went far that is no new best: the far samples are \
             no slow learner's",
        ),
        (
            stream(15.0, 1),
            fired,
            "a new best from before sample_swd went far says nothing about the samples since",
        ),
        (
            {
                let mut s = stream(15.0, 3);
                s.extend(rep(|| at_swd(FAR_RATIO * 1.15), 3));
                s[5].swd = Some(16.0 * FLOOR.mean);
                s
            },
            vec![(Kind::DegenerateOutput, 105, 107)],
            "a new best, then an evaluation that is none while still far: the hold ends there",
        ),
    ];
    for (s, want, why) in rows {
        assert_eq!(run_with_floor(s, FIRST, FLOOR), want, "{why}");
    }
}

/// Far from the data, D at rate `lr_d` with `d_updates` of its 31 steps done.
fn d_rate(lr_d: f64, d_updates: f64) -> EpochStats {
    EpochStats {
        d_updates: Some(d_updates),
        g_updates: Some(31.0),
        hyper: Some(super::hyper::Hyper {
            lr_g: 2e-4,
            lr_d,
            label_noise: 0.1,
            batch_size: 32,
        }),
        ..at_swd(super::detector::FAR_RATIO * 2.0)
    }
}

/// The floor of `a_run_that_never_gets_near_the_data_stalls`: swd 10 +- 1.
const FLOOR: SwdFloor = SwdFloor {
    mean: 10.0,
    sd: 1.0,
};

/// `at_swd(sample_swd)` with an evaluation of `evaluated` times `FLOOR` every 4th epoch (from
/// the first), and none otherwise.
fn evaluated_every_4(sample_swd: f64, evaluated: f64, epochs: usize) -> Vec<EpochStats> {
    (0..epochs)
        .map(|i| EpochStats {
            swd: (i % 4 == 0).then_some(evaluated * FLOOR.mean),
            ..at_swd(sample_swd)
        })
        .collect()
}

#[test]
fn a_run_that_never_gets_near_the_data_stalls() {
    use super::detector::{FAR_RATIO, SAMPLE_IMPROVE_MARGIN};
    // Epochs of 500 images: judged from epoch 20, the grace ends at epoch 40, the stretch is
    // 40 epochs (twice the 10,000-image warm-up, at least STALL_EPOCHS).
    let far = FAR_RATIO * 2.0;
    let creeping = |i: usize| far * (1.0 - SAMPLE_IMPROVE_MARGIN * 1.2).powi(i as i32 / 8);
    let ended_far = |epochs: usize| {
        let mut s: Vec<EpochStats> = (0..epochs).map(|_| at_swd(far)).collect();
        s.last_mut().expect("epochs > 0").swd = Some(far * FLOOR.mean);
        s
    };
    let rows: Vec<(Vec<EpochStats>, Vec<Fired>, &str)> = vec![
        (
            evaluated_every_4(far, far, 80),
            vec![(Kind::Stalled, 20, 60)],
            "far from the data and no closer for 40 epochs: stalled, the onset its last step \
             closer (the first judged epoch: an untrained G's noise is no level to improve on)",
        ),
        (
            evaluated_every_4(far, far, 60),
            vec![],
            "one epoch short of the stretch",
        ),
        (
            (0..80)
                .map(|i| EpochStats {
                    swd: Some(far * FLOOR.mean),
                    ..at_swd(creeping(i))
                })
                .collect(),
            vec![],
            "far, but 6% closer every 8 epochs: slow, still learning",
        ),
        (
            cat(vec![
                rep(|| at_swd(2.0), 5),
                evaluated_every_4(2.5, far, 75),
            ]),
            vec![],
            "it was near the data once: no stall (a regression is another verdict's)",
        ),
        (
            evaluated_every_4(far, 2.0, 80),
            vec![],
            "health bench, held-out seed 12: sample_swd 3 to 10 on speckled samples that the \
             evaluations put at 1.3x to 2.3x the floor; four runs the policy before it rescued \
             were stopped stalled. An evaluation within FAR_RATIO of the floor vetoes",
        ),
        (
            ended_far(80),
            vec![(Kind::Stalled, 20, 79)],
            "evaluation only at the last epoch (sparse): the stall is confirmed there",
        ),
        (
            (0..80).map(|_| at_swd(far)).collect(),
            vec![],
            "no evaluation at all: sample_swd alone never ends a run",
        ),
    ];
    for (s, want, why) in rows {
        assert_eq!(run_with_floor(s, 0, FLOOR), want, "{why}");
    }
    assert_eq!(
        run(evaluated_every_4(far, far, 80), 0),
        vec![],
        "no floor (replayed logs, evaluation off): no stall"
    );
}

#[test]
fn a_regression_must_leave_the_data_s_neighbourhood() {
    // Health bench, the defaults at seed 12: best 44, then 66 at the last evaluation, floor
    // 45 +- 11: a rollback to epoch 0's neighbourhood for a figure within the floor's draws.
    // At seed 14: best 42.6, then 69.7 and 70.2, floor 44.7 +- 10.7: a rollback of a run the
    // benchmark counts as healthy (it ended 1.57x the floor without it).
    let usual = SwdFloor {
        mean: 45.0,
        sd: 11.0,
    };
    // Few evaluation samples make the floor's draws vary widely.
    let noisy = SwdFloor {
        mean: 45.0,
        sd: 30.0,
    };
    let at = |swd: f64| EpochStats {
        swd: Some(swd),
        ..ok()
    };
    // (floor, best, then twice, fires at, why)
    type Row<'a> = (SwdFloor, f64, f64, Option<u64>, &'a str);
    let rows: &[Row] = &[
        (
            usual,
            44.0,
            66.5,
            None,
            "1.5x the best but under floor + 2 sd (67): as close as real images",
        ),
        (
            usual,
            44.0,
            70.0,
            None,
            "above floor + 2 sd but within 2x the floor (90): a healthy run's wobble",
        ),
        (
            usual,
            44.0,
            95.0,
            Some(102),
            "beyond 2x the floor and 1.5x the best: a regression",
        ),
        (
            usual,
            100.0,
            160.0,
            Some(102),
            "far above the floor: the margin over the best decides, as without a floor",
        ),
        (
            noisy,
            44.0,
            100.0,
            None,
            "2.2x the floor but within floor + 2 sd (105): a noisy floor is the bound",
        ),
        (noisy, 44.0, 110.0, Some(102), "beyond floor + 2 sd"),
    ];
    for (floor, best, then, fires, why) in rows {
        let stream = vec![at(*best), at(*then), at(*then)];
        let got = run_with_floor(stream, FIRST, *floor);
        let want: Vec<Fired> = fires
            .iter()
            .map(|d| (Kind::QualityRegression, 101, *d))
            .collect();
        assert_eq!(got, want, "{why}");
    }
}

#[test]
fn restore_points_need_samples_near_the_data() {
    use super::detector::FAR_RATIO;
    for (ratio, want, why) in [
        (1.5, true, "as near as a healthy run gets"),
        (
            FAR_RATIO * 1.5,
            false,
            "far from the data: no state to go back to",
        ),
    ] {
        let mut det = Detector::new(&RollbackConfig::default(), None, EPOCH_IMAGES);
        det.observe(&EpochStats {
            epoch: 25,
            ..at_swd(ratio)
        });
        assert_eq!(det.is_restore_point(), want, "{why}");
    }
}

#[test]
fn findings_name_the_side_ahead_and_the_healthy_settings() {
    use super::hyper::Hyper;
    use super::kind::Side;
    let hyper = |lr_g: f64| Hyper {
        lr_g,
        lr_d: 2e-4,
        label_noise: 0.0,
        batch_size: 32,
    };
    let with = |s: EpochStats, d: f64, g: f64, lr_g: f64| EpochStats {
        d_updates: Some(d),
        g_updates: Some(g),
        hyper: Some(hyper(lr_g)),
        ..s
    };
    type Row<'a> = (Vec<EpochStats>, Option<Side>, &'a str);
    let rows: Vec<Row> = vec![
        (
            vec![with(g_fail(), 30.0, 30.0, 2e-4); 15],
            Some(Side::D),
            "g_acc near 0 throughout: D rejected G's samples",
        ),
        (
            vec![with(fooled(), 30.0, 30.0, 2e-4); 15],
            Some(Side::G),
            "D accepted the fakes: G ahead",
        ),
        (
            cat(vec![
                vec![with(ok(), 30.0, 30.0, 2e-4)],
                vec![with(flat(), 6.0, 30.0, 2e-4); 14],
            ]),
            Some(Side::D),
            "p0 stopped 80% of D's updates: D reached p0 again and again",
        ),
        (
            vec![with(flat(), 30.0, 30.0, 2e-4); 15],
            None,
            "balanced accuracies, no gate: the figures do not say",
        ),
    ];
    for (stream, want, why) in rows {
        let mut det = Detector::new(&RollbackConfig::default(), None, EPOCH_IMAGES);
        let mut last = None;
        for (i, mut s) in stream.into_iter().enumerate() {
            s.epoch = FIRST + i as u64;
            last = det.observe(&s).or(last);
        }
        let v = last.unwrap_or_else(|| super::kind::Verdict {
            kind: Kind::DegenerateOutput,
            onset_epoch: FIRST,
            detected_epoch: FIRST + 14,
            evidence: String::new(),
        });
        let got = det.findings(&v).ahead.map(|a| a.side);
        assert_eq!(got, want, "{why}");
    }

    // The settings of the latest restore point survive a rollback's reset.
    let mut det = Detector::new(&RollbackConfig::default(), None, EPOCH_IMAGES);
    det.observe(&with(at_swd(1.5), 30.0, 30.0, 2e-4).tap(25));
    det.observe(&with(at_swd(1.5), 30.0, 30.0, 1e-4).tap(5));
    det.reset();
    let v = super::kind::Verdict {
        kind: Kind::ModeCollapse,
        onset_epoch: 26,
        detected_epoch: 28,
        evidence: String::new(),
    };
    assert_eq!(
        det.findings(&v).healthy.map(|h| h.lr_g),
        Some(2e-4),
        "epoch 25 was a restore point (past the warm-up); epoch 5 was not judged yet"
    );
}

trait AtEpoch {
    fn tap(self, epoch: u64) -> Self;
}

impl AtEpoch for EpochStats {
    fn tap(mut self, epoch: u64) -> Self {
        self.epoch = epoch;
        self
    }
}
