//! The layout of a results directory: every file and folder name, and the format version that
//! experiment.json carries. Nothing outside `results` spells these names.
//!
//! ```text
//! RESULTS/EXPERIMENT/
//!   experiment.json   summary.csv   report.html   report.md   charts/   slurm/   .report.lock
//!   runs/<id>/
//!     config.toml  run.json  metrics.csv  events.csv  status.json  quality-reference.json
//!     tags.txt  .lock
//!     samples/epoch-NNNN.png  samples/best.png  progress.gif
//!     samples/rolled-back/rollback-K-epoch-NNNN.png   (what rollback K left behind)
//!     checkpoints/epoch-NNNN.safetensors  checkpoints/epoch-NNNN.json
//!     rungs/eNNNN.json   (one per rung `[prune]` judged the variant at)
//!     rungs/wNNNN.json   (its figure at a rung it waits at for its peers: `run --jobs 1`)
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
pub const RUN_INFO: &str = "run.json";
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
pub const RUNGS: &str = "rungs";

/// The run's TensorBoard event files (`crate::tensorboard` names the files inside):
/// `tensorboard --logdir RESULTS/EXPERIMENT` lists each variant as run `runs/<id>/tensorboard`.
pub const TENSORBOARD: &str = "tensorboard";

/// `samples/epoch-NNNN.png`'s file name.
pub fn sample_grid(epoch: u32) -> String {
    format!("epoch-{epoch:04}.png")
}

/// The folder under `samples/` that keeps, for each rollback, the last grid of the timeline it
/// abandoned: what the collapse looked like (the grids after the restored epoch are deleted).
pub const ROLLED_BACK: &str = "rolled-back";

/// `samples/rolled-back/`'s file for rollback `rollback` (1 for a run's first), whose verdict
/// came at `epoch`.
pub fn rolled_back_grid(rollback: u32, epoch: u32) -> String {
    format!("rollback-{rollback}-epoch-{epoch:04}.png")
}

/// The rollback number of a `rolled_back_grid` file name, None for any other name.
pub fn rolled_back_grid_number(name: &str) -> Option<u32> {
    let (number, epoch) = name.strip_prefix("rollback-")?.split_once("-epoch-")?;
    sample_grid_epoch(&format!("epoch-{epoch}"))?;
    number.parse().ok()
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

/// `rungs/eNNNN.json`'s file name: the decision at the rung of epoch `epoch`.
pub fn rung_decision(epoch: u32) -> String {
    format!("e{epoch:04}.json")
}

/// `rungs/wNNNN.json`'s file name: the variant's figure at the rung of epoch `epoch`, where it
/// waits for its peers before it is judged.
pub fn rung_waiting(epoch: u32) -> String {
    format!("w{epoch:04}.json")
}

/// The rung epoch of a decision file's name, None for any other name (temp files).
pub fn rung_decision_epoch(name: &str) -> Option<u32> {
    name.strip_prefix('e')?.strip_suffix(".json")?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rung_decision_names_round_trip() {
        assert_eq!(rung_decision(30), "e0030.json");
        assert_eq!(rung_decision_epoch(&rung_decision(12345)), Some(12345));
        assert_eq!(rung_decision_epoch(".e0030.json.x1y2.tmp"), None);
        assert_eq!(rung_decision_epoch(&rung_waiting(30)), None, "no decision");
    }

    #[test]
    fn rolled_back_grid_names_round_trip() {
        assert_eq!(rolled_back_grid(3, 26), "rollback-3-epoch-0026.png");
        assert_eq!(rolled_back_grid_number(&rolled_back_grid(3, 26)), Some(3));
        for other in [
            "epoch-0026.png",
            "rollback-3.png",
            "rollback-x-epoch-0001.png",
        ] {
            assert_eq!(rolled_back_grid_number(other), None, "{other}");
        }
    }

    #[test]
    fn sample_grid_names_round_trip() {
        assert_eq!(sample_grid(7), "epoch-0007.png");
        assert_eq!(sample_grid_epoch(&sample_grid(1234)), Some(1234));
        assert_eq!(sample_grid_epoch(BEST_SAMPLES), None);
    }
}
