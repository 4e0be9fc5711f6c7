//! `anigan-runner replay LOG`: the collapse detector over a recorded log, episode by episode.

use anyhow::{Context, Result};

use crate::cli::{LogFormatArg, ReplayArgs};
use crate::config;
use crate::exit::Exit;
use crate::health::{self, LogFormat};

pub fn replay(args: &ReplayArgs) -> Result<Exit> {
    let cfg = config::resolve_rollback(&args.sets)?;
    let text = std::fs::read_to_string(&args.log)
        .with_context(|| format!("cannot read log {}", args.log.display()))?;
    let format = match args.format {
        LogFormatArg::Auto => health::detect_format(&text),
        LogFormatArg::Seed => LogFormat::SeedLog,
        LogFormatArg::Csv => LogFormat::MetricsCsv,
    };
    let segments = match format {
        LogFormat::SeedLog => health::parse_seed_log(&text),
        LogFormat::MetricsCsv => health::parse_metrics_csv(&text),
    }
    .with_context(|| format!("cannot parse {}", args.log.display()))?;
    let episodes = health::replay(&segments, &cfg);
    if args.json {
        println!("{}", health::episodes_json(&episodes));
    } else {
        let epochs: usize = segments.iter().map(|s| s.stats.len()).sum();
        println!(
            "{}: {} epochs in {} segment{} ({}), {} episode{}",
            args.log.display(),
            epochs,
            segments.len(),
            if segments.len() == 1 { "" } else { "s" },
            match format {
                LogFormat::SeedLog => "original training log",
                LogFormat::MetricsCsv => "metrics.csv",
            },
            episodes.len(),
            if episodes.len() == 1 { "" } else { "s" },
        );
        print!("{}", health::episodes_table(&episodes));
    }
    Ok(Exit::Success)
}
