//! The results directory, `RESULTS/EXPERIMENT/`: the tool's product, and this module alone
//! knows its layout and formats (after cargo-nextest's `record` module):
//! - formats: `names` (every file name and the format version), `metrics` (`MetricsRow`, the
//!   one schema of metrics.csv), `events` (`EventRow`), `status` (`Status`, `RunState`),
//!   `rungs` (`RungRecord`: `[prune]`'s decision at a rung, written once),
//!   `manifest` (experiment.json), `quality_reference`, `checkpoints` (the catalogue);
//! - places: `ExperimentDir` (runs/, experiment.json, slurm/, the report's files and lock) and
//!   `RunDir` (one run's paths and lock);
//! - `Recorder`: the only writer of a run directory, opened under its lock;
//! - `reader`: one run or a whole experiment as typed data, for every consumer.

mod board;
mod checkpoints;
mod csv_log;
mod events;
mod experiment_dir;
pub mod images;
mod manifest;
pub mod metrics;
mod metrics_text;
pub mod names;
mod quality_reference;
pub mod reader;
mod recorder;
mod run_dir;
mod run_info;
pub mod rungs;
mod status;
mod surviving;

pub use checkpoints::{CheckpointMeta, Saved, best_swd};
pub use events::{EventKind, EventRow, Taken, logged_verdicts, logged_verdicts_note};
pub use experiment_dir::ExperimentDir;
pub use images::write_png;
pub use manifest::{Manifest, PlannedVariant, value_text};
pub use metrics::{GROUP_PREFIX, MetricsRow, is_group_column};
pub use quality_reference::QualityReference;
pub use recorder::{Recorder, mark_failed};
pub use run_dir::{RunDir, hostname};
pub use run_info::{DetectorInputs, RunInfo};
pub use rungs::{PeerFigure, PeerSource, Peers, RungArrival, RungRecord, ended_early};
pub use status::{RunState, State, Status};
#[cfg(test)]
pub use surviving::test_rows;
pub use surviving::{abandoned, kept};
