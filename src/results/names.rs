//! The layout of a results directory: every file and folder name, and the format version that
//! experiment.json carries. Nothing outside `results` spells these names.
//!
//! ```text
//! RESULTS/EXPERIMENT/
//!   experiment.json   summary.csv   report.html   report.md   charts/   slurm/   .report.lock
//!   runs/<id>/
//!     config.toml  metrics.csv  events.csv  status.json  quality-reference.json  tags.txt  .lock
//!     samples/epoch-NNNN.png  samples/best.png  progress.gif
//!     checkpoints/epoch-NNNN.safetensors  checkpoints/epoch-NNNN.json
//!     tensorboard/events.out.tfevents.*
//! ```

/// The version of this layout and of its files' formats, written into experiment.json. A
/// reader refuses a directory of a newer version; files written before the version existed
/// read as version 1 (the layout did not change when it was introduced).
pub const FORMAT_VERSION: u32 = 1;

pub const MANIFEST: &str = "experiment.json";
pub const RUNS: &str = "runs";
pub const SLURM: &str = "slurm";
pub const REPORT_LOCK: &str = ".report.lock";
pub const SUMMARY_CSV: &str = "summary.csv";
pub const REPORT_HTML: &str = "report.html";
pub const REPORT_MD: &str = "report.md";
pub const CHARTS: &str = "charts";

pub const CONFIG: &str = "config.toml";
pub const METRICS: &str = "metrics.csv";
pub const EVENTS: &str = "events.csv";
pub const STATUS: &str = "status.json";
pub const QUALITY_REFERENCE: &str = "quality-reference.json";
pub const TAGS: &str = "tags.txt";
pub const RUN_LOCK: &str = ".lock";
pub const SAMPLES: &str = "samples";
pub const BEST_SAMPLES: &str = "best.png";
pub const PROGRESS_GIF: &str = "progress.gif";
pub const CHECKPOINTS: &str = "checkpoints";
/// The run's TensorBoard event files (`crate::tensorboard` names the files inside):
/// `tensorboard --logdir RESULTS/EXPERIMENT` lists each variant as run `runs/<id>/tensorboard`.
pub const TENSORBOARD: &str = "tensorboard";

/// `samples/epoch-NNNN.png`'s file name.
pub fn sample_grid(epoch: u32) -> String {
    format!("epoch-{epoch:04}.png")
}

/// The epoch of a sample grid's file name, None for any other name (best.png).
pub fn sample_grid_epoch(name: &str) -> Option<u32> {
    name.strip_prefix("epoch-")?
        .strip_suffix(".png")?
        .parse()
        .ok()
}

/// A run's file as a path relative to the experiment directory (`runs/<id>/<rel>`), for
/// links in the report.
pub fn in_run(id: &str, rel: &str) -> String {
    format!("{RUNS}/{id}/{rel}")
}

/// A chart's path relative to the experiment directory (`charts/<file>`).
pub fn chart(file: &str) -> String {
    format!("{CHARTS}/{file}")
}

/// `checkpoints/epoch-NNNN.safetensors`'s file name.
pub fn checkpoint(epoch: u32) -> String {
    format!("epoch-{epoch:04}.safetensors")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_grid_names_round_trip() {
        assert_eq!(sample_grid(7), "epoch-0007.png");
        assert_eq!(sample_grid_epoch(&sample_grid(1234)), Some(1234));
        assert_eq!(sample_grid_epoch(BEST_SAMPLES), None);
    }
}
