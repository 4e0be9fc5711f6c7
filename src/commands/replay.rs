//! `anigan-runner replay LOG`: the collapse detector over a recorded log, episode by episode.

use anyhow::Result;

use crate::cli::{LogFormatArg, ReplayArgs};
use crate::config;
use crate::exit::{Exit, usage};
use crate::health::{self, FORMATS_TRIED, LogFormat};
use crate::textfile;

pub fn replay(args: &ReplayArgs) -> Result<Exit> {
    let cfg = config::resolve_rollback(&args.sets)?;
    let log = args.log.display();
    let text = textfile::read(&args.log).map_err(|e| usage(format!("{e:#}")))?;
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
        LogFormat::MetricsCsv => "metrics.csv",
    };
    let segments = match format {
        LogFormat::SeedLog => health::parse_seed_log(&text),
        LogFormat::MetricsCsv => health::parse_metrics_csv(&text),
    }
    .map_err(|e| usage(format!("{log}: cannot read it as {name}: {e:#}")))?;
    let epochs: usize = segments.iter().map(|s| s.stats.len()).sum();
    if epochs == 0 {
        return Err(usage(format!(
            "{log}: read as {name}, but no complete epoch was found in it; formats: {FORMATS_TRIED}"
        )));
    }
    let episodes = health::replay(&segments, &cfg);
    if args.json {
        println!("{}", health::episodes_json(&episodes));
    } else {
        println!(
            "{log}: {epochs} epochs in {} segment{} ({name}), {} episode{}",
            segments.len(),
            if segments.len() == 1 { "" } else { "s" },
            episodes.len(),
            if episodes.len() == 1 { "" } else { "s" },
        );
        print!("{}", health::episodes_table(&episodes));
    }
    Ok(Exit::Success)
}
