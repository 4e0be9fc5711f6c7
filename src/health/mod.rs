//! Collapse detection, rollback policy and log replay: pure functions over epoch numbers.

mod config;
mod detector;
mod hyper;
mod kind;
mod parting;
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
pub use detector::{Detector, DetectorSetup, Findings, REPLAY_EPOCH_IMAGES, SwdFloor};
pub use hyper::Hyper;
pub use kind::{Ahead, Kind, ParseKindError, Side, Verdict};
pub use parting::{Parting, RecordedEnd, partings};
pub use policy::{
    Action, Change, CheckpointInfo, PastRollback, decide, escalated, format_changes, repeats,
};
pub use replay::{
    Episode, FORMATS_TRIED, Listed, LogFormat, csv_delimiter, detect_format, episodes_json,
    episodes_table, replay, replay_segments,
};
pub use seed_log::parse_seed_log;
pub use stats::{EpochStats, RealReference, Segment};
