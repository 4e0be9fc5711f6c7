//! One module per subcommand; `dispatch` routes a parsed command line to it.

mod data;
mod prune_replay;
mod recorded_rule;
mod renumbered;
pub mod replay;
mod report;
mod run;
mod sample;
mod slurm;
mod status;
mod worker;
mod writable;

use anyhow::Result;

use crate::cli::{Cli, Command};
use crate::exit::Exit;

pub fn dispatch(cli: Cli) -> Result<Exit> {
    match cli.command {
        Command::Run(args) => run::run(&args),
        Command::Data(cmd) => data::data(&cmd),
        Command::Replay(args) => replay::replay(&args),
        Command::PruneReplay(args) => prune_replay::prune_replay(&args),
        Command::Report(args) => report::report(&args),
        Command::Sample(args) => sample::sample(&args),
        Command::Slurm(args) => slurm::slurm(&args),
        Command::Status(args) => status::status(&args),
        Command::Worker => worker::worker(),
    }
}
