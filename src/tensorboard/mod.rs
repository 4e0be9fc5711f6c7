//! TensorBoard event files for a run, so that `tensorboard --logdir results/<experiment>`
//! (and the tools that import event files, W&B and Aim) show every variant as its own run.
//!
//! Layout: `results/<experiment>/runs/<id>/tensorboard/events.out.tfevents.*` (the folder is
//! `results::names::TENSORBOARD`; `results`' recorder feeds the writer): tensorboard names the
//! run `runs/<id>/tensorboard`. A file is a sequence of TFRecords
//! (`record`) each holding an `Event` protobuf (`proto`, `summary`, `hparams`); files are read
//! in name order (`file`).
//!
//! Steps are the run's epoch, so the charts show the timeline a run ended on, as the report
//! does. A run that resumes from, or rolls back to, epoch r calls `Writer::open` or
//! `Writer::rollback` with r: every record after r is cut out of the files (an atomic rewrite,
//! like metrics.csv's), so a reader started later sees each epoch once; a reader already
//! watching is told by `SessionLog.START` at step r + 1, as PyTorch's
//! `SummaryWriter(purge_step=r + 1)` tells it: tensorboard's EventAccumulator drops every step
//! from r + 1 on (`_CheckForRestartAndMaybePurge`), and its Rust data server drops a tag's
//! points from the step of that tag's next point on (`data/server/reservoir.rs`, preemption).

pub mod file;
pub mod hparams;
pub mod proto;
pub mod record;
pub mod summary;
pub mod tags;
pub mod writer;

pub use hparams::{Domain, Experiment, HParam, HValue, Metric, Status};
pub use tags::scalar_tag;
pub use writer::{Session, Writer};
