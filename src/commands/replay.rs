//! `anigan-runner replay LOG`: the collapse detector over a recorded log, episode by episode.
//! A metrics.csv in its run folder is judged as the live run judged it: with the run's
//! `[rollback]` (and `--set` on top), its images per epoch and the real-data figures it
//! recorded; any other log with the defaults and `REPLAY_EPOCH_IMAGES` an epoch. Where the
//! replayed decisions part from the ones events.csv recorded, a note says what the rows after
//! cannot tell (`health::partings`): they are the recorded run's, not these settings'.

use std::path::Path;

use anyhow::Result;

use crate::cli::{LogFormatArg, ReplayArgs};
use crate::config;
use crate::data;
use crate::exit::{self, Exit, usage};
use crate::health::{
    self, DetectorSetup, FORMATS_TRIED, Listed, LogFormat, REPLAY_EPOCH_IMAGES, RecordedEnd,
    Segment, SwdFloor,
};
use crate::results::{EventRow, RunDir, Taken, metrics, names, reader};
use crate::textfile;

pub fn replay(args: &ReplayArgs) -> Result<Exit> {
    let path = log_path(&args.log)?;
    let log = path.display();
    let text = textfile::read(&path).map_err(|e| usage(format!("{e:#}")))?;
    let format = match args.format {
        LogFormatArg::Auto => health::detect_format(&text).ok_or_else(|| {
            usage(format!(
                "{log}: no epoch can be read; it is in neither format tried: {FORMATS_TRIED}"
            ))
        })?,
        LogFormatArg::Seed => LogFormat::SeedLog,
        LogFormatArg::Csv => LogFormat::MetricsCsv,
    };
    let name = match format {
        LogFormat::SeedLog => "original training log",
        LogFormat::MetricsCsv => names::METRICS,
    };
    let basis = match format {
        LogFormat::SeedLog => Basis {
            setup: unrecorded(&args.sets)?,
            said: None,
            listed: Listed::Every,
            run: None,
        },
        LogFormat::MetricsCsv => metrics_basis(&path, &args.sets)?,
    };
    let segments = parse_as(&text, format)
        .map_err(|e| usage(format!("{log}: cannot read it as {name}: {e:#}")))?;
    let epochs: usize = segments.iter().map(|s| s.stats.len()).sum();
    if epochs == 0 {
        return Err(usage(format!(
            "{log}: read as {name}, but no complete epoch was found in it; formats: {FORMATS_TRIED}"
        )));
    }
    let found = health::replay_segments(&segments, &basis.setup, basis.listed);
    let notes = match &basis.run {
        Some(dir) => parting_notes(dir, &segments, &found, basis.setup.cfg.enabled),
        None => Vec::new(),
    };
    let episodes: Vec<health::Episode> = found.into_iter().flatten().collect();
    if args.json {
        // stdout stays one JSON array; what it is judged with and the notes go to stderr.
        if let Some(said) = &basis.said {
            eprintln!("{said}");
        }
        for note in &notes {
            eprintln!("note: {note}");
        }
        println!("{}", health::episodes_json(&episodes));
    } else {
        if let Some(said) = &basis.said {
            println!("{said}");
        }
        println!(
            "{log}: {epochs} epochs in {} segment{} ({name}), {} episode{}",
            segments.len(),
            if segments.len() == 1 { "" } else { "s" },
            episodes.len(),
            if episodes.len() == 1 { "" } else { "s" },
        );
        print!("{}", health::episodes_table(&episodes, segments.len()));
        for note in &notes {
            println!("note: {note}");
        }
    }
    Ok(Exit::Success)
}

/// The log a path names: the file itself, or a run folder's metrics.csv.
fn log_path(path: &Path) -> Result<std::path::PathBuf> {
    if !path.is_dir() {
        return Ok(path.to_path_buf());
    }
    let csv = path.join(names::METRICS);
    if csv.is_file() {
        return Ok(csv);
    }
    Err(usage(format!(
        "{} is a folder without a {}: replay takes a log file (the original script's stdout \
         or a metrics.csv) or a run folder (results/<experiment>/runs/<id>)",
        path.display(),
        names::METRICS
    )))
}

/// What the replay cannot know of a run folder's metrics.csv: one line per segment where its
/// decisions part from the ones the run recorded in events.csv (none with the run's own
/// settings), or why they cannot be compared.
fn parting_notes(
    dir: &RunDir,
    segments: &[Segment],
    found: &[Vec<health::Episode>],
    acts: bool,
) -> Vec<String> {
    let events = match reader::read_events(dir) {
        Ok(events) => events,
        Err(e) => {
            return vec![format!(
                "{} cannot be read ({e:#}): whether these settings decide as the run did is \
                 not known",
                names::EVENTS
            )];
        }
    };
    match recorded_ends(segments, &events) {
        Ok(ends) => health::partings(segments, found, &ends, acts)
            .iter()
            .map(health::Parting::describe)
            .collect(),
        Err(why) => vec![why],
    }
}

/// The run's decision that ended each segment (an attempt): the k-th rollback of events.csv
/// ends attempt k, a stop the last one. An error, in words, when they do not fall on the
/// segments' last rows (files edited or from elsewhere).
fn recorded_ends(
    segments: &[Segment],
    events: &[EventRow],
) -> Result<Vec<Option<RecordedEnd>>, String> {
    let end = |e: &EventRow| {
        Some(RecordedEnd {
            epoch: e.epoch,
            kind: e.kind.health()?,
            rolled_back: e.is_rollback(),
        })
    };
    let mut ends: Vec<Option<RecordedEnd>> =
        events.iter().filter(|e| e.is_rollback()).map(end).collect();
    let rollbacks = ends.len();
    if ends.len() + 1 == segments.len() {
        ends.push(
            events
                .iter()
                .filter(|e| e.action == Taken::Stop)
                .find_map(end),
        );
    }
    let fits = ends.len() == segments.len()
        && segments.iter().zip(&ends).all(|(seg, end)| {
            end.is_none_or(|end| seg.stats.last().map(|s| s.epoch) == Some(end.epoch))
        });
    if fits {
        Ok(ends)
    } else {
        Err(format!(
            "{}'s {rollbacks} rollback{} do not end {}'s {} attempt{} where their rows end: \
             whether these settings decide as the run did is not known",
            names::EVENTS,
            if rollbacks == 1 { "" } else { "s" },
            names::METRICS,
            segments.len(),
            if segments.len() == 1 { "" } else { "s" },
        ))
    }
}

/// What a problem of `--set` is headed with.
const REPLAYED: &str = "the replayed [rollback] settings";

/// The defaults with `--set` on top, for a log that does not say what its run trained on.
fn unrecorded(sets: &[String]) -> Result<DetectorSetup> {
    let rollback = config::resolve_rollback(None, sets).map_err(exit::settings_of(REPLAYED))?;
    Ok(DetectorSetup::unrecorded(rollback))
}

/// What a log is replayed with.
struct Basis {
    setup: DetectorSetup,
    /// Where `setup` comes from, in words (metrics.csv only: the original's logs have no run
    /// folder).
    said: Option<String>,
    listed: Listed,
    /// The run folder whose events.csv the replay's decisions are compared with.
    run: Option<RunDir>,
}

/// The detector a metrics.csv is replayed with and where it comes from: the live run's when
/// the file is the metrics.csv of a run folder (config.toml beside it), listing the verdicts
/// the run recorded, else the defaults.
fn metrics_basis(log: &Path, sets: &[String]) -> Result<Basis> {
    let on_top = match sets {
        [] => String::new(),
        _ => format!(", with --set {} on top", sets.join(" --set ")),
    };
    let defaults = format!(
        "defaults, {} images an epoch{on_top}",
        grouped(REPLAY_EPOCH_IMAGES)
    );
    let defaults_because = |why: String| -> Result<Basis> {
        Ok(Basis {
            setup: unrecorded(sets)?,
            said: Some(format!("{why}: {defaults}")),
            listed: Listed::Every,
            run: None,
        })
    };
    let Some(dir) = run_folder(log) else {
        return defaults_because("no run folder beside it".into());
    };
    let folder = dir.root.display();
    let cfg = match reader::read_config(&dir) {
        Ok(cfg) => cfg,
        Err(e) => {
            return defaults_because(format!("the run folder's settings cannot be read ({e:#})"));
        }
    };
    let rollback = config::resolve_rollback(Some((&cfg.rollback, &dir.config())), sets)
        .map_err(exit::settings_of(REPLAYED))?;
    let info = reader::read_run_info(&dir).ok().flatten();
    let recorded = info.as_ref().and_then(|i| i.detector);
    let listed = info
        .as_ref()
        .and_then(|i| i.dataset.as_ref())
        .and_then(|d| data::training_split(d.images, &cfg.data));
    let (epoch_images, images_from) = match (recorded, listed) {
        (Some(r), _) => (r.epoch_images, ""),
        (None, Some(n)) => (n as u64, " (from its data's listing)"),
        (None, None) => (REPLAY_EPOCH_IMAGES, " (not recorded: the default)"),
    };
    let reference = recorded.map(|r| r.real_reference);
    // The run wrote its floor only when it evaluated, and its detector read it then.
    let swd_floor = reader::read_quality_reference(&dir)
        .filter(|_| cfg.eval.every > 0)
        .map(|q| SwdFloor {
            mean: q.swd_floor,
            sd: q.swd_floor_std,
        });
    let said = format!(
        "settings and warm-up of the run in {folder}: {} images an epoch{images_from}, {}, {}{on_top}",
        grouped(epoch_images),
        match reference {
            Some(_) => "its real-data reference",
            None => "no real-data reference recorded (the absolute floors)",
        },
        match swd_floor {
            Some(_) => "its swd floor",
            None => "no swd floor (no evaluation)",
        },
    );
    let setup = DetectorSetup {
        cfg: rollback,
        epoch_images,
        reference,
        swd_floor,
    };
    Ok(Basis {
        setup,
        said: Some(said),
        listed: Listed::MostUrgent,
        run: Some(dir),
    })
}

/// The run folder `log` is the metrics.csv of: its name is metrics.csv and config.toml lies
/// beside it. None for a file copied elsewhere.
fn run_folder(log: &Path) -> Option<RunDir> {
    if log.file_name()? != names::METRICS {
        return None;
    }
    let parent = log.parent().filter(|p| !p.as_os_str().is_empty());
    let dir = RunDir::at(parent.unwrap_or(Path::new(".")));
    dir.config().is_file().then_some(dir)
}

/// `n` with a comma between groups of three digits.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A log in the given format as the detector's segments.
fn parse_as(text: &str, format: LogFormat) -> Result<Vec<Segment>> {
    match format {
        LogFormat::SeedLog => health::parse_seed_log(text),
        LogFormat::MetricsCsv => metrics::segments(text),
    }
}

/// Parses either format, chosen by `health::detect_format`; a file in neither is an error
/// naming what each format needs.
pub fn parse_log(text: &str) -> Result<Vec<Segment>> {
    match health::detect_format(text) {
        Some(format) => parse_as(text, format),
        None => anyhow::bail!("the file is in no known log format; tried {FORMATS_TRIED}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouped_digits() {
        for (n, want) in [
            (0, "0"),
            (256, "256"),
            (13_000, "13,000"),
            (1_234_567, "1,234,567"),
        ] {
            assert_eq!(grouped(n), want);
        }
    }

    #[test]
    fn a_file_in_neither_format_names_both() {
        let err = parse_log("# README\n").unwrap_err().to_string();
        assert!(
            err.contains(crate::results::names::METRICS) && err.contains("epoch:N/M"),
            "{err}"
        );
    }

    #[test]
    fn the_runs_ends_fall_on_the_segments_last_rows() {
        use crate::health::{EpochStats, Kind};
        let seg = |last: u64| Segment {
            line: 1,
            stats: (1..=last)
                .map(|epoch| EpochStats {
                    epoch,
                    ..Default::default()
                })
                .collect(),
        };
        let row = |epoch: u64, action: Taken| {
            crate::results::test_rows::event(epoch, Kind::DegenerateOutput, action)
        };
        let end = |epoch, rolled_back| {
            Some(RecordedEnd {
                epoch,
                kind: Kind::DegenerateOutput,
                rolled_back,
            })
        };
        let segs = [seg(12), seg(8)];
        // (events, ends wanted (None: a mismatch), why)
        type Ends = Vec<Option<RecordedEnd>>;
        let rows: Vec<(Vec<EventRow>, Option<Ends>, &str)> = vec![
            (
                vec![row(12, Taken::Rollback)],
                Some(vec![end(12, true), None]),
                "a rollback, then trained on",
            ),
            (
                vec![row(12, Taken::Rollback), row(8, Taken::Stop)],
                Some(vec![end(12, true), end(8, false)]),
                "a rollback, then a stop",
            ),
            (
                vec![row(3, Taken::Continue), row(12, Taken::Rollback)],
                Some(vec![end(12, true), None]),
                "logged rows end nothing",
            ),
            (vec![], None, "two attempts, no rollback"),
            (
                vec![row(10, Taken::Rollback)],
                None,
                "a rollback not at the attempt's last row",
            ),
        ];
        for (events, want, why) in rows {
            assert_eq!(recorded_ends(&segs, &events).ok(), want, "{why}");
        }
    }
}
