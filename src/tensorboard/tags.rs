//! The scalar tag of each metrics.csv column: TensorBoard groups a run's charts by the part of
//! the tag before the first `/`, so related figures share a section.

/// The lowest `swd` of the surviving timeline so far, at each evaluated epoch: its last value
/// is the run's best, which the HParams dashboard tabulates.
pub const BEST_SWD: &str = "best/swd";
/// The fixed-noise sample grid (the run's samples/epoch-NNNN.png).
pub const SAMPLE_GRID: &str = "samples/grid";
/// Health events as text: verdicts, the rollbacks with their changes, stops.
pub const HEALTH_EVENTS: &str = "health/events";
/// How many health events are shown at an epoch (0 on the others), so they stand out on the
/// curves' shared step axis: a rollback counts at the first epoch of the attempt it started.
pub const HEALTH_VERDICTS: &str = "health/verdicts";

/// The tag under which `column` (a metrics.csv column name) is charted; `None` for `epoch`,
/// which is the x axis. Columns not listed keep their name under `other/`, so a new column is
/// charted before anyone files it.
pub fn scalar_tag(column: &str) -> Option<String> {
    let tag = match column {
        "epoch" => return None,
        "d_loss" => "loss/d",
        "g_loss" => "loss/g",
        "d_acc_real" => "accuracy/d_real",
        "d_acc_fake" => "accuracy/d_fake",
        "g_acc" => "accuracy/g",
        "d_acc_real_hard" => "accuracy/d_real_hard",
        "d_acc_fake_hard" => "accuracy/d_fake_hard",
        "g_acc_hard" => "accuracy/g_hard",
        "d_updates" => "updates/d",
        "g_updates" => "updates/g",
        "lr_g" => "schedule/lr_g",
        "lr_d" => "schedule/lr_d",
        "label_noise" => "schedule/label_noise",
        "batch_size" => "schedule/batch_size",
        "augment_p" => "augment/p",
        "r_t" => "augment/r_t",
        "sample_std" => "samples/std",
        "sample_image_std" => "samples/image_std",
        "sample_nn" => "samples/nn",
        "swd" | "diversity" | "tag_acc" | "tag_fd" | "tag_kl" => {
            return Some(format!("quality/{column}"));
        }
        c if c.starts_with("tag_acc_") => return Some(format!("quality/{c}")),
        "seconds" => "time/epoch_seconds",
        "eval_seconds" => "time/eval_seconds",
        "images_per_sec" => "time/images_per_sec",
        "non_finite" => "health/non_finite",
        "attempt" => "health/attempt",
        "step" => "health/epochs_trained",
        other => return Some(format!("other/{other}")),
    };
    Some(tag.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::MetricsRow;

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
            "augment_p": 0.1, "r_t": 0.6
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
        assert_eq!(scalar_tag("tag_acc_hair").unwrap(), "quality/tag_acc_hair");
        assert_eq!(scalar_tag("new_figure").unwrap(), "other/new_figure");
    }
}
