//! The recorder's TensorBoard output, `runs/<id>/tensorboard/` (`names::TENSORBOARD`): what the
//! recorder records, written as `crate::tensorboard` event files on the run's surviving
//! timeline. Every metrics.csv column is a scalar at its row's epoch (`tensorboard::tags`
//! groups them), the sample grids are images at their epochs, health events are text and a
//! count (`health/verdicts`), and the HParams records carry the variant's grid or sampled
//! values (from experiment.json) and the figures its table shows.
//!
//! Cost per epoch: one unsynced write of the row's scalars (a few hundred bytes) and of the
//! grid's PNG bytes, which the recorder encodes once for samples/ and here; one fdatasync per
//! checkpoint, none per scalar; nothing is read back until the next resume or rollback.

use std::path::Path;

use anyhow::{Context, Result};

use super::events::{EventRow, Taken};
use super::images;
use super::manifest::Manifest;
use super::metrics::MetricsRow;
use super::names;
use super::quality_reference::QualityReference;
use super::status::State;
use super::surviving;
use crate::tensorboard::hparams::{Domain, Experiment, HParam, HValue, Metric};
use crate::tensorboard::{self, Session, Writer, scalar_tag, tags};

/// A run's event files while it trains.
pub(super) struct Board {
    writer: Writer,
    /// The epoch whose row was written last and whose health record (`HEALTH_VERDICTS`, and
    /// the `HEALTH_EVENTS` text if any) is not yet written: the epoch's events come after its
    /// row.
    open_epoch: Option<u32>,
    /// Health lines waiting for an epoch of the surviving timeline to be shown at. A rollback's
    /// line waits for the first epoch of the attempt it starts (its own epoch is abandoned).
    pending: Vec<String>,
    /// Lines this process showed, by epoch: a later rollback behind their epoch cuts them out
    /// of the files, so they wait again, and the text after the rollback tells every attempt.
    shown: Vec<(u32, Vec<String>)>,
    /// (epoch, swd) of the surviving timeline, for `best/swd`.
    swd: Vec<(u32, f64)>,
    /// The run stopped for now or for good: nothing is left to write when it is dropped.
    closed: bool,
}

impl Board {
    /// Opens `dir` for the epochs after `epoch`, where the run starts (0) or resumes; `kept`
    /// and `events` are metrics.csv's and events.csv's rows after the cut-back to it. Surviving
    /// epochs up to `epoch` that the files lack (written before event files existed, or with
    /// them off) are written from `kept` and the grids in `samples`.
    pub fn open(
        dir: &Path,
        epoch: u32,
        session: &Session,
        kept: &[MetricsRow],
        events: &[EventRow],
        samples: &Path,
    ) -> Result<Board> {
        let writer = Writer::open(dir, epoch, session)?;
        let abandoned = surviving::abandoned(kept, events);
        let mut rows: Vec<&MetricsRow> = surviving::kept(kept, &abandoned)
            .filter(|r| r.epoch <= epoch)
            .collect();
        rows.sort_by_key(|r| r.epoch);
        let step_tag = scalar_tag("step").expect("step is charted");
        let scalars_through = writer.kept_through(&step_tag).unwrap_or(0);
        let mut board = Board {
            writer,
            open_epoch: None,
            pending: Vec::new(),
            shown: Vec::new(),
            swd: Vec::new(),
            closed: false,
        };
        for row in rows {
            if row.epoch > scalars_through {
                board.scalars(row)?;
            } else if let Some(swd) = row.swd {
                board.swd.push((row.epoch, swd));
            }
        }
        let grids_through = board.writer.kept_through(tags::SAMPLE_GRID).unwrap_or(0);
        for grid in images::grid_epochs(samples)? {
            if grid > grids_through && grid <= epoch {
                let path = samples.join(names::sample_grid(grid));
                let png = std::fs::read(&path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                board.image(grid, &png)?;
            }
        }
        Ok(board)
    }

    /// One epoch's row: every column as a scalar, and `best/swd` on an evaluated epoch.
    pub fn metrics(&mut self, row: &MetricsRow) -> Result<()> {
        self.flush()?;
        self.scalars(row)?;
        self.open_epoch = Some(row.epoch);
        Ok(())
    }

    fn scalars(&mut self, row: &MetricsRow) -> Result<()> {
        let mut values = scalars(row);
        if let Some(swd) = row.swd {
            self.swd.push((row.epoch, swd));
            let best = self
                .swd
                .iter()
                .map(|&(_, s)| s)
                .fold(f64::INFINITY, f64::min);
            values.push((tags::BEST_SWD.to_string(), best));
        }
        let refs: Vec<(&str, f64)> = values.iter().map(|(t, v)| (t.as_str(), *v)).collect();
        self.writer.scalars(row.epoch, &refs)
    }

    /// The sample grid of `epoch`, as PNG bytes.
    pub fn image(&mut self, epoch: u32, png: &[u8]) -> Result<()> {
        self.writer.image(epoch, tags::SAMPLE_GRID, png)
    }

    /// A health event: shown with the epoch it belongs to when that epoch's record is written.
    pub fn event(&mut self, row: &EventRow) {
        self.pending.push(describe(row));
    }

    /// A rollback restored the checkpoint of `epoch`: the files keep the epochs up to it.
    pub fn rollback(&mut self, epoch: u32) -> Result<()> {
        // The epoch that ended in the rollback is abandoned: its events wait for the next one.
        self.open_epoch = None;
        let (cut, kept): (Vec<_>, Vec<_>) = self.shown.drain(..).partition(|(e, _)| *e > epoch);
        self.shown = kept;
        let mut waiting: Vec<String> = cut.into_iter().flat_map(|(_, lines)| lines).collect();
        waiting.append(&mut self.pending);
        self.pending = waiting;
        self.swd.retain(|&(e, _)| e <= epoch);
        self.writer.rollback(epoch)
    }

    /// Everything written so far made durable, before a checkpoint: a checkpoint never lies
    /// ahead of the event files.
    pub fn sync(&mut self) -> Result<()> {
        self.flush()?;
        self.writer.sync()
    }

    /// The run's status changed to `state`: at the end of an epoch (running) its health
    /// record; when it stops, the HParams session's end (success for a finished or pruned run,
    /// failure for a collapsed, stalled or failed one) or, interrupted or waiting at a rung,
    /// only a sync (it will resume).
    pub fn status(&mut self, state: State) -> Result<()> {
        self.flush()?;
        let end = match state {
            State::Running => return Ok(()),
            State::Interrupted | State::Waiting => None,
            // A variant `[prune]` stopped ended as planned for a sweep that prunes.
            State::Finished | State::Pruned => Some(tensorboard::Status::Success),
            State::Collapsed | State::Stalled | State::Failed => Some(tensorboard::Status::Failure),
        };
        self.closed = true;
        match end {
            Some(status) => self.writer.end(status),
            None => self.writer.sync(),
        }
    }

    /// The recorder is dropped: a run that neither stopped nor was interrupted ended in an
    /// error, which the HParams dashboard shows as a failure (a rerun reopens the session).
    pub fn drop_unclosed(&mut self) -> Result<()> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        self.flush()?;
        self.writer.end(tensorboard::Status::Failure)
    }

    fn flush(&mut self) -> Result<()> {
        let Some(epoch) = self.open_epoch.take() else {
            return Ok(());
        };
        let lines = std::mem::take(&mut self.pending);
        self.writer
            .scalars(epoch, &[(tags::HEALTH_VERDICTS, lines.len() as f64)])?;
        if !lines.is_empty() {
            let text: Vec<String> = lines.iter().map(|l| format!("- {l}")).collect();
            self.writer
                .text(epoch, tags::HEALTH_EVENTS, &text.join("\n"))?;
            self.shown.push((epoch, lines));
        }
        Ok(())
    }
}

/// Every figure of `row` as (tag, value): the columns metrics.csv has (through the row's own
/// serialization, so a column added to `MetricsRow` is charted too) less `epoch`, the x axis;
/// booleans as 0/1, empty figures left out.
pub(super) fn scalars(row: &MetricsRow) -> Vec<(String, f64)> {
    let value = serde_json::to_value(row).expect("a metrics row serializes");
    let serde_json::Value::Object(columns) = value else {
        unreachable!("a metrics row serializes to an object")
    };
    let figures = columns.into_iter().filter_map(|(column, v)| {
        let x = match v {
            serde_json::Value::Number(n) => n.as_f64()?,
            serde_json::Value::Bool(b) => f64::from(u8::from(b)),
            _ => return None,
        };
        Some((column, x))
    });
    let groups = row
        .tag_acc_groups
        .iter()
        .filter_map(|(column, v)| Some((column.clone(), (*v)?)));
    figures
        .chain(groups)
        .filter_map(|(column, x)| Some((scalar_tag(&column)?, x)))
        .collect()
}

/// An events.csv row as one Markdown line. Free text goes in code spans, which the text
/// dashboard shows as written (`<=`, `_` and `*` are Markdown otherwise).
fn describe(e: &EventRow) -> String {
    let what = match e.action {
        Taken::Rollback => {
            let mut s = format!(
                "rolled back to epoch {}",
                e.restored_epoch
                    .map_or_else(|| "?".into(), |r| r.to_string())
            );
            if !e.changes.is_empty() {
                s.push_str(&format!(", {}", code(&e.changes)));
            }
            if e.escalation > 0 {
                s.push_str(&format!(" (repeat {})", e.escalation));
            }
            s
        }
        Taken::Stop => "stopped".to_string(),
        Taken::Prune => "stopped at a rung by [prune]".to_string(),
        Taken::Continue => "continued (rollback disabled)".to_string(),
    };
    format!(
        "epoch {}: {} (onset epoch {}), {}: {what}",
        e.epoch,
        code(e.kind.as_str()),
        e.onset_epoch,
        code(&e.evidence)
    )
}

fn code(text: &str) -> String {
    format!("`{}`", text.replace('`', "'"))
}

/// The HParams session of run `id`: the keys the experiment varies (experiment.json's grid and
/// `[search]` keys) with this run's values, and the figures the dashboard tabulates: final and
/// best swd and the final diversity when the run evaluates (`quality`), the final tag_kl when
/// its data is labelled and tag_acc when it is also conditional (`cgan`), the final accuracies
/// and the attempt (rollbacks so far) always.
pub(super) fn session(
    manifest: Option<&Manifest>,
    id: &str,
    quality: Option<&QualityReference>,
    cgan: bool,
) -> Session {
    let mut hparams = Vec::new();
    let mut values = Vec::new();
    if let Some(m) = manifest {
        let this = m.variants.iter().find(|v| v.id == id);
        for key in &m.grid_keys {
            let all: Vec<HValue> = m
                .variants
                .iter()
                .filter_map(|v| v.grid.iter().find(|(k, _)| k == key))
                .map(|(_, text)| hvalue(text))
                .collect();
            hparams.push(HParam {
                name: key.clone(),
                domain: domain(all, m.search_keys.contains(key)),
            });
            if let Some((_, text)) = this.and_then(|v| v.grid.iter().find(|(k, _)| k == key)) {
                values.push((key.clone(), hvalue(text)));
            }
        }
    }
    let column = |c: &str, name: &str| Metric {
        tag: scalar_tag(c).expect("a charted column"),
        display_name: name.to_string(),
    };
    let mut metrics = Vec::new();
    if let Some(q) = quality {
        metrics.push(column("swd", "final swd"));
        metrics.push(Metric {
            tag: tags::BEST_SWD.to_string(),
            display_name: "best swd".to_string(),
        });
        metrics.push(column("diversity", "final diversity"));
        if q.tag_groups.is_some() {
            metrics.push(column("tag_kl", "final tag_kl"));
            if cgan {
                metrics.push(column("tag_acc", "final tag_acc"));
            }
        }
    }
    metrics.push(column("d_acc_real", "final D real acc"));
    metrics.push(column("d_acc_fake", "final D fake acc"));
    metrics.push(column("g_acc", "final G acc"));
    metrics.push(column("attempt", "attempt (rollbacks)"));
    Session {
        experiment: Experiment { hparams, metrics },
        hparams: values,
    }
}

/// A grid value as experiment.json writes it (`manifest::value_text`), typed again.
fn hvalue(text: &str) -> HValue {
    match text {
        "true" => HValue::Bool(true),
        "false" => HValue::Bool(false),
        _ => match text.parse::<f64>() {
            Ok(x) if x.is_finite() => HValue::Number(x),
            _ => HValue::Text(text.to_string()),
        },
    }
}

/// A key's values across the sweep: the distinct values (numbers in numeric order, others in
/// plan order), or for a sampled number the range they were drawn in.
fn domain(all: Vec<HValue>, sampled: bool) -> Domain {
    let numbers: Option<Vec<f64>> = all
        .iter()
        .map(|v| match v {
            HValue::Number(x) => Some(*x),
            _ => None,
        })
        .collect();
    if sampled && let Some(xs) = numbers.as_ref().filter(|xs| !xs.is_empty()) {
        let min = xs.iter().copied().fold(f64::INFINITY, f64::min);
        let max = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        return Domain::Interval { min, max };
    }
    if let Some(mut xs) = numbers {
        xs.sort_by(f64::total_cmp);
        xs.dedup();
        return Domain::Values(xs.into_iter().map(HValue::Number).collect());
    }
    let mut distinct: Vec<HValue> = Vec::new();
    for v in all {
        if !distinct.contains(&v) {
            distinct.push(v);
        }
    }
    Domain::Values(distinct)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::PlannedVariant;
    use crate::results::surviving::test_rows::{rollback, row};

    fn manifest() -> Manifest {
        let planned = |index: usize, id: &str, lr: &str, arch: &str, p: &str| PlannedVariant {
            index,
            id: id.to_string(),
            grid: vec![
                ("train.lr_d".into(), lr.into()),
                ("model.arch".into(), arch.into()),
                ("train.label_noise".into(), p.into()),
            ],
            epochs: 5,
        };
        Manifest {
            format: names::FORMAT_VERSION,
            name: "x".into(),
            description: String::new(),
            source: "x.toml".into(),
            grid_keys: vec![
                "train.lr_d".into(),
                "model.arch".into(),
                "train.label_noise".into(),
            ],
            search_keys: vec!["train.label_noise".into()],
            log_keys: vec![],
            variants: vec![
                planned(0, "000-a", "0.0001", "dcgan", "0.05"),
                planned(1, "001-b", "0.0002", "dcgan", "0.2"),
                planned(2, "002-c", "0.0001", "cgan", "0.125"),
            ],
            overrides: None,
            base: None,
        }
    }

    #[test]
    fn the_session_holds_the_sweep_layout_and_this_runs_values() {
        let s = session(Some(&manifest()), "001-b", None, false);
        let number = HValue::Number;
        assert_eq!(
            s.hparams,
            [
                ("train.lr_d".to_string(), number(2e-4)),
                ("model.arch".to_string(), HValue::Text("dcgan".into())),
                ("train.label_noise".to_string(), number(0.2)),
            ]
        );
        let h = &s.experiment.hparams;
        assert_eq!(
            h[0].domain,
            Domain::Values(vec![number(1e-4), number(2e-4)])
        );
        assert_eq!(
            h[1].domain,
            Domain::Values(vec![
                HValue::Text("dcgan".into()),
                HValue::Text("cgan".into())
            ])
        );
        assert_eq!(
            h[2].domain,
            Domain::Interval {
                min: 0.05,
                max: 0.2
            },
            "a sampled key: its range"
        );
        let tags: Vec<&str> = s
            .experiment
            .metrics
            .iter()
            .map(|m| m.tag.as_str())
            .collect();
        assert!(!tags.contains(&"quality/swd"), "no evaluation: {tags:?}");
        assert!(tags.contains(&"health/attempt"));

        let mut q: QualityReference = serde_json::from_value(serde_json::json!({
            "dataset": "d", "samples": 10, "swd_floor_levels": [1.0], "swd_floor": 1.0,
            "real_pairwise_distance": 1.0, "classifier_accuracy": null, "tag_groups": null
        }))
        .unwrap();
        let with_quality = session(None, "001-b", Some(&q), false);
        let tags: Vec<&str> = with_quality
            .experiment
            .metrics
            .iter()
            .map(|m| m.tag.as_str())
            .collect();
        assert_eq!(&tags[..3], ["quality/swd", "best/swd", "quality/diversity"]);
        assert!(!tags.contains(&"quality/tag_kl"), "unlabelled data");
        assert!(with_quality.hparams.is_empty(), "no manifest: no values");
        q.tag_groups = Some(vec![vec!["red".into()]]);
        let tags = |cgan| -> Vec<String> {
            let s = session(None, "x", Some(&q), cgan);
            s.experiment.metrics.into_iter().map(|m| m.tag).collect()
        };
        assert!(tags(false).contains(&"quality/tag_kl".to_string()));
        assert!(
            !tags(false).contains(&"quality/tag_acc".to_string()),
            "DCGAN"
        );
        assert!(tags(true).contains(&"quality/tag_acc".to_string()), "CGAN");
    }

    #[test]
    fn every_variant_has_the_value_it_trained_with_for_every_key() {
        // [[grid.include]] tables that each set some keys: the others train with the file's
        // value (lr_g) or the default (lr_d 2e-4, label_noise 0.1).
        let text = "[train]\nlr_g = 3e-4\n\
            [[grid.include]]\n\"train.lr_d\" = 5e-4\n\
            [[grid.include]]\n\"train.lr_g\" = 1e-4\n\
            [[grid.include]]\n\"train.lr_d\" = 1e-3\n\"train.label_noise\" = 0.05\n";
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("inc.toml");
        std::fs::write(&file, text).unwrap();
        let experiment = crate::config::resolve(&file, &Default::default()).unwrap();
        let manifest = Manifest::of(&experiment);
        let number = HValue::Number;
        let key = |k: &str| k.to_string();
        // (variant, its values, why)
        let cases = [
            (0, [5e-4, 3e-4, 0.1], "sets lr_d only"),
            (1, [2e-4, 1e-4, 0.1], "sets lr_g only"),
            (2, [1e-3, 3e-4, 0.05], "sets lr_d and label_noise"),
        ];
        for (i, [lr_d, lr_g, noise], why) in cases {
            let s = session(Some(&manifest), &experiment.variants[i].id, None, false);
            assert_eq!(
                s.hparams,
                [
                    (key("train.lr_d"), number(lr_d)),
                    (key("train.lr_g"), number(lr_g)),
                    (key("train.label_noise"), number(noise)),
                ],
                "{why}"
            );
        }
        let s = session(Some(&manifest), &experiment.variants[0].id, None, false);
        let domains: Vec<(&str, &Domain)> = s
            .experiment
            .hparams
            .iter()
            .map(|h| (h.name.as_str(), &h.domain))
            .collect();
        let values = |xs: &[f64]| Domain::Values(xs.iter().copied().map(number).collect());
        assert_eq!(
            domains,
            [
                ("train.lr_d", &values(&[2e-4, 5e-4, 1e-3])),
                ("train.lr_g", &values(&[1e-4, 3e-4])),
                ("train.label_noise", &values(&[0.05, 0.1])),
            ],
            "every value trained with, numbers in numeric order"
        );
    }

    #[test]
    fn grid_values_are_typed_again() {
        assert_eq!(hvalue("0.0002"), HValue::Number(2e-4));
        assert_eq!(hvalue("96"), HValue::Number(96.0));
        assert_eq!(hvalue("1e20"), HValue::Number(1e20));
        assert_eq!(hvalue("true"), HValue::Bool(true));
        assert_eq!(hvalue("[0.5, 0.99]"), HValue::Text("[0.5, 0.99]".into()));
        assert_eq!(hvalue("nan"), HValue::Text("nan".into()));
    }

    /// metrics.csv's header as the runner writes it (one row with every optional column set).
    fn columns() -> Vec<String> {
        let row: MetricsRow = serde_json::from_value(serde_json::json!({
            "step": 1, "epoch": 1, "attempt": 0, "d_loss": 0.5, "g_loss": 2.0,
            "d_acc_real": 0.9, "d_acc_fake": 0.8, "g_acc": 0.1, "d_acc_real_hard": 1.0,
            "d_acc_fake_hard": 1.0, "g_acc_hard": 0.0, "d_updates": 1, "g_updates": 1,
            "lr_g": 2e-4, "lr_d": 2e-4, "label_noise": 0.1, "batch_size": 64,
            "sample_std": 0.3, "sample_image_std": 0.4, "non_finite": false, "seconds": 1.0,
            "images_per_sec": 9.0, "swd": 1.0, "diversity": 1.0, "tag_acc": 1.0,
            "tag_fd": 1.0, "tag_kl": 1.0, "eval_seconds": 1.0, "sample_nn": 1.0,
            "augment_p": 0.1, "r_t": 0.6, "sample_swd": 1.2
        }))
        .unwrap();
        let mut out = csv::Writer::from_writer(Vec::new());
        out.serialize(&row).unwrap();
        let bytes = out.into_inner().unwrap();
        let text = String::from_utf8(bytes).unwrap();
        let header = text.lines().next().unwrap();
        header.split(',').map(str::to_string).collect()
    }

    #[test]
    fn every_metrics_column_has_a_group() {
        let columns = columns();
        assert!(columns.len() > 25, "{columns:?}");
        for c in &columns {
            match scalar_tag(c) {
                None => assert_eq!(c, "epoch"),
                Some(tag) => assert!(
                    !tag.starts_with("other/") && tag.contains('/'),
                    "{c} -> {tag}: give it a group"
                ),
            }
        }
        let mut tags: Vec<_> = columns.iter().filter_map(|c| scalar_tag(c)).collect();
        let n = tags.len();
        tags.sort();
        tags.dedup();
        assert_eq!(tags.len(), n, "two columns share a tag");
    }

    #[test]
    fn every_figure_of_a_row_is_a_scalar() {
        let mut r = row(7, 5, 1);
        r.d_loss = Some(0.5);
        r.swd = Some(12.0);
        r.non_finite = true;
        r.tag_acc_groups = vec![
            ("tag_acc_hair".into(), Some(0.9)),
            ("tag_acc_eyes".into(), None),
        ];
        let got: std::collections::HashMap<String, f64> = scalars(&r).into_iter().collect();
        assert_eq!(got["loss/d"], 0.5);
        assert_eq!(got["quality/swd"], 12.0);
        assert_eq!(got["health/non_finite"], 1.0);
        assert_eq!(got["health/epochs_trained"], 7.0);
        assert_eq!(got["health/attempt"], 1.0);
        assert_eq!(got["quality/tag_acc_hair"], 0.9);
        assert!(!got.contains_key("quality/tag_acc_eyes"), "empty figure");
        assert!(!got.contains_key("quality/diversity"), "empty figure");
        assert!(!got.values().any(|v| v.is_nan()));
        assert!(!got.keys().any(|k| k.starts_with("other/")), "{got:?}");
    }

    #[test]
    fn a_rollback_line_waits_for_the_new_attempts_first_epoch() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("tensorboard");
        let session = session(None, "x", None, false);
        let mut b = Board::open(&dir, 0, &session, &[], &[], &tmp.path().join("samples")).unwrap();
        for e in 1..=4 {
            b.metrics(&row(e as u64, e, 0)).unwrap();
            b.status(State::Running).unwrap();
        }
        b.metrics(&row(5, 5, 0)).unwrap();
        b.event(&rollback(5, 5, 3, 3));
        b.rollback(3).unwrap();
        assert!(b.shown.is_empty() && b.pending.len() == 1);
        b.metrics(&row(6, 4, 1)).unwrap();
        b.status(State::Running).unwrap();
        assert_eq!(b.shown.len(), 1);
        assert_eq!(b.shown[0].0, 4, "shown at the new attempt's first epoch");
        assert!(
            b.shown[0].1[0].contains("rolled back to epoch 3"),
            "{:?}",
            b.shown
        );
        // A second rollback to the same checkpoint cuts epoch 4: both lines show at the next 4.
        b.metrics(&row(7, 5, 1)).unwrap();
        b.event(&rollback(7, 5, 4, 3));
        b.rollback(3).unwrap();
        b.metrics(&row(8, 4, 2)).unwrap();
        b.sync().unwrap();
        assert_eq!(b.shown.len(), 1);
        assert_eq!((b.shown[0].0, b.shown[0].1.len()), (4, 2));
        b.status(State::Finished).unwrap();
        assert!(b.closed);
    }
}
