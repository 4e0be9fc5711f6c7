//! `anigan-runner replay LOG`: the collapse detector over a recorded log, episode by episode.

use anyhow::Result;

use crate::cli::{LogFormatArg, ReplayArgs};
use crate::config;
use crate::exit::{Exit, usage};
use crate::health::{self, FORMATS_TRIED, LogFormat, Segment};
use crate::results::{metrics, names};
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
        LogFormat::MetricsCsv => names::METRICS,
    };
    let segments = parse_as(&text, format)
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
    fn a_file_in_neither_format_names_both() {
        let err = parse_log("# README\n").unwrap_err().to_string();
        assert!(
            err.contains(crate::results::names::METRICS) && err.contains("epoch:N/M"),
            "{err}"
        );
    }
}
