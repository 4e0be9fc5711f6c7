//! Table-driven detector tests: each row is a stream of epochs, the expected verdicts, and why.

use super::config::RollbackConfig;
use super::detector::Detector;
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

/// Runs a stream from epoch FIRST and returns every (kind, onset, detected).
fn run(stream: Vec<EpochStats>, first: u64) -> Vec<Fired> {
    let mut det = Detector::new(&RollbackConfig::default(), None);
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
            rep(flat, 3),
            vec![(DegenerateOutput, 100, 102)],
            "uniform-colour images for 3 epochs",
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
        (g_fail, 19, 0, "g failure during epochs 0-4 does not count"),
        (g_fail, 20, 1, "15 bad epochs after warm-up"),
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
    ];
    for &(sample, image, fires, why) in rows {
        let mut det = Detector::new(&RollbackConfig::default(), Some(reference));
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
    let mut det = Detector::new(&RollbackConfig::default(), None);
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
