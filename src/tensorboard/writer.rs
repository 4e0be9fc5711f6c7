//! `Writer`: one run's event files, written against the run's epoch, that always hold the
//! surviving timeline: a resume or rollback to epoch r cuts every record after r out of the
//! files already written and starts a new file whose `SessionLog.START` at step r + 1 tells a
//! reader that already holds the abandoned epochs to drop them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};

use super::file::{self, EventFile};
use super::hparams::{self, Experiment, HValue, SESSION_END_TAG, SESSION_START_TAG, Status};
use super::proto::{Event, SessionLog, SessionStatus, Summary, SummaryValue, What};
use super::summary;

/// What the HParams dashboard shows of a run: the sweep's layout and this run's values.
#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    pub experiment: Experiment,
    /// This run's value of each of `experiment.hparams`, by name.
    pub hparams: Vec<(String, HValue)>,
}

/// Writes one run's event directory. One writer per directory at a time (the run's lock).
/// Every method writes at once (a killed process loses nothing that a method returned from);
/// `sync` makes it durable.
pub struct Writer {
    dir: PathBuf,
    session: Session,
    file: EventFile,
    /// The last step of each tag among the records `open` kept (what a resume need not write
    /// again).
    kept: HashMap<String, i64>,
}

impl Writer {
    /// Opens `dir` for the epochs after `epoch`, the epoch the run starts or resumes from
    /// (0: a fresh start). Event files already there keep only the records at steps up to
    /// `epoch` (0: none), less the session's end, which the run will write again; a new file
    /// starts with `SessionLog.START` at step `epoch + 1` and, when no earlier file kept them,
    /// the hparams experiment and session start (step 0, so no purge removes them).
    pub fn open(dir: &Path, epoch: u32, session: &Session) -> Result<Writer> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let kept = if epoch == 0 {
            file::remove_all(dir)?;
            Vec::new()
        } else {
            file::retain(dir, |h| {
                h.step <= i64::from(epoch) && !h.has_tag(SESSION_END_TAG)
            })?
        };
        let name = file::next_name(&file::list(dir)?, now() as u64, std::process::id());
        let mut file = EventFile::create(&dir.join(name), now())?;
        let mut first = vec![Event {
            wall_time: now(),
            step: i64::from(epoch) + 1,
            what: Some(What::SessionLog(SessionLog {
                status: SessionStatus::Start as i32,
                msg: format!("continuing after epoch {epoch}"),
            })),
        }];
        if !kept.iter().any(|h| h.has_tag(SESSION_START_TAG)) {
            first.push(event(
                0,
                vec![
                    hparams::experiment(&session.experiment),
                    hparams::session_start(&session.hparams, now()),
                ],
            ));
        }
        file.append(&first)?;
        file.sync()?;
        let mut last = HashMap::new();
        for head in &kept {
            for v in head.summary.iter().flat_map(|s| &s.value) {
                let step = last.entry(v.tag.clone()).or_insert(head.step);
                *step = head.step.max(*step);
            }
        }
        Ok(Writer {
            dir: dir.to_path_buf(),
            session: session.clone(),
            file,
            kept: last,
        })
    }

    /// The last step at which the files held `tag` when the writer opened, after the cut
    /// (None: at no step): a run resumed with files missing epochs (written before event files
    /// existed, or with them turned off) writes those epochs from its own logs.
    pub fn kept_through(&self, tag: &str) -> Option<u32> {
        self.kept
            .get(tag)
            .map(|&s| s.clamp(0, i64::from(u32::MAX)) as u32)
    }

    /// After a rollback that restored epoch `epoch`: the same as reopening there.
    pub fn rollback(&mut self, epoch: u32) -> Result<()> {
        self.file.sync()?;
        *self = Writer::open(&self.dir, epoch, &self.session)?;
        Ok(())
    }

    /// Scalars of epoch `epoch`, (tag, value) pairs; tags group by their prefix (`loss/d`).
    pub fn scalars(&mut self, epoch: u32, values: &[(&str, f64)]) -> Result<()> {
        let values = values
            .iter()
            .map(|&(tag, v)| summary::scalar(tag, v))
            .collect();
        self.file.append(&[event(epoch.into(), values)])
    }

    /// A PNG image of epoch `epoch` (a sample grid).
    pub fn image(&mut self, epoch: u32, tag: &str, png: &[u8]) -> Result<()> {
        let value = summary::image(tag, png).with_context(|| format!("image {tag}"))?;
        self.file.append(&[event(epoch.into(), vec![value])])
    }

    /// Markdown text at epoch `epoch`. A tag holds one text per epoch, and a rollback to r
    /// drops the texts after r.
    pub fn text(&mut self, epoch: u32, tag: &str, markdown: &str) -> Result<()> {
        self.file
            .append(&[event(epoch.into(), vec![summary::text(tag, markdown)])])
    }

    /// The session's end, for the HParams dashboard's status column, made durable. Readers
    /// keep the first end they see, so call it once, when the run stops for good (not on an
    /// interruption it will resume from: `open` drops an earlier end anyway).
    pub fn end(&mut self, status: Status) -> Result<()> {
        self.file
            .append(&[event(0, vec![hparams::session_end(status, now())])])?;
        self.file.sync()
    }

    /// Makes everything written so far durable (fdatasync): once per epoch, before the
    /// epoch's checkpoint, so a checkpoint never lies ahead of the event files.
    pub fn sync(&mut self) -> Result<()> {
        self.file.sync()
    }
}

fn event(step: i64, values: Vec<SummaryValue>) -> Event {
    Event {
        wall_time: now(),
        step,
        what: Some(What::Summary(Summary { value: values })),
    }
}

/// Seconds since the Unix epoch.
fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}
