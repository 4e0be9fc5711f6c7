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
        "sample_swd" => "samples/swd",
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

    /// Every column metrics.csv has today is checked in `results::board` (which knows the
    /// columns); here, the rules for the rest.
    #[test]
    fn epoch_is_the_axis_groups_and_new_columns() {
        assert_eq!(scalar_tag("epoch"), None);
        assert_eq!(scalar_tag("d_loss").unwrap(), "loss/d");
        assert_eq!(scalar_tag("tag_acc_hair").unwrap(), "quality/tag_acc_hair");
        assert_eq!(scalar_tag("new_figure").unwrap(), "other/new_figure");
    }
}
