//! Collapse detection, rollback policy and log replay: pure functions over epoch numbers.

mod config;
mod detector;
mod events;
mod kind;
mod metrics_log;
mod policy;
mod replay;
mod seed_log;
mod stats;

#[cfg(test)]
mod detector_tests;
#[cfg(test)]
mod policy_tests;
#[cfg(test)]
mod replay_seed_logs_tests;

pub use config::{Adjust, RollbackConfig};
pub use detector::{Detector, FAR_RATIO, Findings, REPLAY_EPOCH_IMAGES};
pub use events::{EventRow, event_row};
pub use kind::{Ahead, Kind, ParseKindError, Side, Verdict};
pub use metrics_log::parse_metrics_csv;
pub use policy::{
    Action, Change, CheckpointInfo, Hyper, decide, escalated, format_changes, repeats,
};
pub use replay::{
    Episode, FORMATS_TRIED, LogFormat, csv_delimiter, detect_format, episodes_json, episodes_table,
    parse_log, replay,
};
pub use seed_log::parse_seed_log;
pub use stats::{EpochStats, RealReference, Segment};
