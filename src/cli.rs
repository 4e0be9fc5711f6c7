//! Command-line arguments (clap derive). `run` is the default subcommand.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use crate::sweep::queue::Only;
pub use crate::train::device::DeviceChoice;
#[derive(Parser, Debug)]
#[command(
    name = "anigan-runner",
    version,
    about = "Batch runner for GAN experiments on anime faces: trains every variant of a \
             hyperparameter grid, watches for collapse and rolls back automatically.",
    after_help = "Examples:\n  \
        anigan-runner experiments/quickstart.toml\n  \
        anigan-runner experiments/sweep.toml --dry-run\n  \
        anigan-runner run experiments/smoke.toml --set train.lr_g=1e-4 --device cpu\n  \
        anigan-runner data synth --out data/faces-1k --count 1000 --size 64\n  \
        anigan-runner replay results/quickstart/runs/000-*/metrics.csv\n  \
        anigan-runner report results/quickstart\n  \
        anigan-runner experiments/sweep.toml --jobs 2\n  \
        anigan-runner status results/sweep\n  \
        anigan-runner prune-replay results/sweep --set prune.eta=4\n  \
        anigan-runner experiments/cgan.toml\n  \
        anigan-runner sample results/cgan/runs/000-* --tags \"blue hair,long hair\" --out blue.png\n\n\
A run's folder is results/<experiment>/runs/<index>-<hash> (`status` lists them); the\n\
shell's * picks the one of an index, as above."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Train every variant of an experiment file (the word `run` may be left out).
    Run(RunArgs),
    /// Datasets: generate procedural anime faces.
    #[command(
        subcommand,
        after_help = "Examples:\n  \
        anigan-runner data synth --out data/faces-1k --count 1000 --size 64\n  \
        anigan-runner data synth --contact-sheet faces.png --size 64 --seed 3\n\n\
        Runs with [data] source = \"synthetic\" generate their dataset themselves on first use."
    )]
    Data(DataCommand),
    /// Run the collapse detector over a recorded training log and list every episode.
    Replay(ReplayArgs),
    /// Replay a [prune] rule over a finished sweep's metrics (no training): the training it
    /// would have saved, and whether the variant that finished best would have been stopped.
    PruneReplay(PruneReplayArgs),
    /// Write an experiment's report: summary.csv, charts, sample animations, report.html.
    Report(ReportArgs),
    /// Generate a grid of images from a trained run's checkpoint (CGAN: for given tags).
    Sample(SampleArgs),
    /// Submit an experiment's unfinished variants to Slurm as one job array (requeued on
    /// time limits and preemption).
    Slurm(SlurmArgs),
    /// Where every variant of an experiment stands (also while a sweep runs).
    Status(StatusArgs),
    /// Internal: one worker process of a `run --jobs N` sweep; reads what to train as JSON
    /// on stdin and stops gracefully when stdin closes (its parent died).
    #[command(hide = true)]
    Worker,
}

/// The flags of every command that resolves an experiment file (`run`, `slurm`).
#[derive(Args, Debug, Clone)]
pub struct ExperimentArgs {
    /// The experiment file (TOML); see experiments/README.md for every key.
    #[arg(value_name = "EXPERIMENT.toml")]
    pub experiment: PathBuf,

    /// Override one setting, e.g. `train.lr_d=1e-4` (repeatable; wins over file and environment).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,

    /// Directory that receives results/<experiment>/... (for Slurm: on a file system every
    /// node sees).
    #[arg(long, value_name = "DIR", default_value = "results")]
    pub results: PathBuf,

    /// Where generated datasets (synthetic/) and decoded-dataset caches (cache/) are kept.
    #[arg(long, value_name = "DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// Only these variants, by index (3) or id as `--dry-run` lists it (repeatable).
    #[arg(long = "variant", value_name = "SEL")]
    pub variants: Vec<String>,

    /// Only the variants in these states: failed, collapsed, stalled, pruned, interrupted (waiting at a
    /// rung included), not-started (comma-separated), each from its last valid checkpoint; a pruned one trains on to its
    /// budget. Ids and directories stay as they are; what will be done is printed first.
    #[arg(long, value_name = "STATE[,STATE]", value_delimiter = ',')]
    pub only: Vec<Only>,
}

#[derive(Subcommand, Debug)]
pub enum DataCommand {
    /// Generate a labelled procedural anime-face dataset in the original dataset's layout
    /// (tags.txt, filtered.txt, selected/<k>.png).
    Synth(SynthArgs),
}

#[derive(Args, Debug, Clone)]
#[command(
    arg_required_else_help = true,
    after_help = "Examples:\n  \
    anigan-runner data synth --out data/faces-64 --count 2000 --size 64\n  \
    anigan-runner data synth --contact-sheet faces.png --size 64 --seed 3\n\n\
    Tags are drawn from the original dataset's tag statistics (data/tag-combos.csv): hair\n\
    colour paints the hair, long/short hair changes its shape, eye colour paints the irises.\n\
    The same seed always gives the same images. Runs with [data] source = \"synthetic\"\n\
    generate their dataset themselves on first use."
)]
pub struct SynthArgs {
    /// Folder to create (must not exist or be empty).
    #[arg(long, value_name = "DIR", required_unless_present = "contact_sheet")]
    pub out: Option<PathBuf>,

    /// Number of images.
    #[arg(long, default_value_t = 18_000)]
    pub count: usize,

    /// Image side in pixels: a power of two in 16..=256.
    #[arg(long, value_name = "PX", default_value_t = 64)]
    pub size: u32,

    #[arg(long, default_value_t = 0)]
    pub seed: u64,

    /// Also write an 8x8 contact sheet of the first 64 faces, captioned in the terminal.
    #[arg(long, value_name = "FILE.png")]
    pub contact_sheet: Option<PathBuf>,
}

#[derive(Args, Debug, Clone)]
#[command(after_help = "Examples:\n  \
    anigan-runner experiments/sweep.toml --dry-run\n  \
    anigan-runner experiments/smoke.toml --set train.lr_g=1e-4 --set train.p0=0.99\n  \
    anigan-runner experiments/sweep.toml --variant 3 --variant 7 --device cuda:1\n  \
    anigan-runner experiments/sweep.toml --jobs 2                 # 2 worker processes\n  \
    anigan-runner experiments/sweep.toml --jobs 2 --device cuda:0,cuda:1  # 2 per GPU\n  \
    anigan-runner experiments/sweep.toml --only failed,interrupted   # rerun just those\n\n\
    Settings are layered: built-in defaults < the file < environment variables\n\
    ANIGAN_<SECTION>__<KEY> (e.g. ANIGAN_TRAIN__LR_D=1e-4) < --set.\n\
    Re-running the same command resumes unfinished variants and skips finished ones.\n\
    Ctrl-C, SIGTERM or SIGUSR1 stop every variant after its current epoch (checkpoint, status\n\
    interrupted, report; exit code 4); a second Ctrl-C stops at once.")]
pub struct RunArgs {
    #[command(flatten)]
    pub exp: ExperimentArgs,

    /// Print the variants (index, id, grid values) and write nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Where to train: auto (CUDA when present), cpu, cuda or cuda:N; with --jobs, a list
    /// such as cuda:0,cuda:1 spreads the workers over those GPUs.
    #[arg(
        long,
        value_name = "DEVICE[,DEVICE...]",
        default_value = "auto",
        value_delimiter = ','
    )]
    pub device: Vec<DeviceChoice>,

    /// Worker processes training variants side by side (per GPU on CUDA: N on each device).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub jobs: u32,

    /// libtorch CPU threads per worker (1 to 1024); default: train.threads when set, else the
    /// cores this process may use (affinity mask and cgroup quota) divided among the workers.
    /// Not part of the variant id.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=crate::config::MAX_THREADS as i64))]
    pub threads: Option<u32>,
}

#[derive(Args, Debug, Clone)]
#[command(after_help = "Examples:\n  \
    anigan-runner status results/sweep\n  \
    anigan-runner status results/sweep --json\n\n\
    One line per variant: state (finished, pruned, running with pid@host, waiting at a rung,\n\
    interrupted, collapsed, stalled, failed, not started), epoch/planned, rollbacks, the last epoch's D\n\
    accuracy on real and fake and G's, the best swd, and for a running variant an ETA from the\n\
    measured epoch times; under a pruned variant the figures that stopped it (--json:\n\
    pruned_at_rung). A run that the experiment file as it stands no longer plans (an edited\n\
    grid, an override that changed what is trained) is marked as a run of another recipe, with\n\
    its overrides. Reads only; works while a sweep runs, from any terminal or machine that sees\n\
    the results directory.")]
pub struct StatusArgs {
    /// The experiment's results directory: RESULTS/EXPERIMENT, e.g. results/smoke.
    #[arg(value_name = "RESULTS/EXPERIMENT")]
    pub dir: PathBuf,

    /// Print a JSON array (one object per variant) instead of the table.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub slurm_wait: SlurmWaitArgs,
}

/// How long a command waits for each of Slurm's client commands (`status`, `slurm`).
#[derive(Args, Debug, Clone)]
pub struct SlurmWaitArgs {
    /// Seconds to wait for each answer of Slurm (scontrol, sbatch) before giving up on it
    /// (1 to 3600): a controller that hangs would otherwise hang this command.
    #[arg(long = "slurm-timeout", value_name = "SECONDS",
          default_value_t = crate::slurm::client::DEFAULT_WAIT.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub seconds: u64,
}

impl SlurmWaitArgs {
    /// The wait as a `Duration`.
    pub fn wait(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.seconds)
    }
}

#[derive(Args, Debug, Clone)]
#[command(after_help = "Examples:\n  \
    anigan-runner replay tests/fixtures/seed-logs/dcgan-560-960.log\n  \
    anigan-runner replay results/quickstart/runs/000-*/metrics.csv --json\n  \
    anigan-runner replay results/quickstart/runs/000-* --set rollback.patience=20\n  \
    anigan-runner replay tests/fixtures/seed-logs/dcgan-840-1279.log \\\n      \
      --set rollback.patience=10 --set rollback.eps=0.05\n\n\
    Formats: the original training script's stdout (blocks ending in `epoch:N/M`; a restart\n\
    starts a new segment) or this runner's metrics.csv (a new attempt starts a new segment).\n\
    Replay never rolls back: after an episode ends, detection goes on.\n\n\
    A run's metrics.csv in its run folder is judged as the live run judged it: its [rollback]\n\
    (--set on top), its images per epoch and its real-data figures, one verdict an epoch, so\n\
    the episodes are its events. Any other log: the defaults, 13,000 images an epoch. The\n\
    first line says which (on stderr with --json).\n\n\
    A run's rows are what its own settings trained: where --set decides otherwise than its\n\
    events.csv (nothing raised where it rolled back, or a verdict earlier), a `note:` line\n\
    after the table (on stderr with --json) says which rows cannot tell what it would do.")]
pub struct ReplayArgs {
    /// The log: the original script's stdout, a metrics.csv, or a run folder (its metrics.csv).
    pub log: PathBuf,

    /// The log's format; auto tells them apart by the CSV header.
    #[arg(long, value_enum, default_value = "auto")]
    pub format: LogFormatArg,

    /// Print a JSON array of {kind, onset_epoch, detected_epoch, end_epoch, segment} instead of
    /// a table (segment from 0: a metrics.csv's attempt, an original log's restart).
    #[arg(long)]
    pub json: bool,

    /// Override a detector setting, e.g. `rollback.patience=10` (repeatable).
    #[arg(long = "set", value_name = "rollback.KEY=VALUE")]
    pub sets: Vec<String>,
}

#[derive(Args, Debug, Clone)]
#[command(after_help = "Examples:\n  \
    anigan-runner prune-replay results/sweep\n  \
    anigan-runner prune-replay results/sweep --set prune.eta=4 --set prune.first_rung=20\n  \
    anigan-runner prune-replay results/sweep --json > replay.json\n  \
    anigan-runner prune-replay results/sweep --orders 200\n\n\
    The rule is the one the runs were trained with ([prune] in the config.toml written last,\n\
    enabled or not) with --set on top. Variants are judged as `run --jobs 1` judges them, rung by rung\n\
    (at each rung against every other variant that reached it), by the functions a live sweep\n\
    uses, from their metrics as they stood at each evaluation: over a sweep trained without\n\
    [prune] it says what a `--jobs 1` sweep with the rule would have decided. Use it to pick\n\
    first_rung, eta, min_peers and max_rungs before trusting them: if the best variant it\n\
    keeps ends far behind the one that finished best, the rule is too eager. With --jobs N\n\
    and on Slurm, variants are judged as they arrive, against those before them, so the\n\
    order they arrive in matters:\n\
    --orders N adds the spread of that over N random arrival orders of the same variants\n\
    (images trained, how often the winner is stopped, how far the best survivor ends from it).\n\
    A variant whose rows end before the rule would stop it (stopped live by a stricter rule,\n\
    unfinished) is marked unknown from there, with every decision it could turn, and the\n\
    images become bounds: train such variants on, or replay over a sweep without [prune].")]
pub struct PruneReplayArgs {
    /// The experiment's results directory: RESULTS/EXPERIMENT, e.g. results/sweep.
    #[arg(value_name = "RESULTS/EXPERIMENT")]
    pub dir: PathBuf,

    /// Change the rule, e.g. `prune.eta=4` (repeatable; only prune.* keys).
    #[arg(long = "set", value_name = "prune.KEY=VALUE")]
    pub sets: Vec<String>,

    /// Print one JSON object (the rule, every variant's decisions, the totals, and with
    /// --orders the spread).
    #[arg(long)]
    pub json: bool,

    /// Also replay the rule over N random orders of the variants (seeded by --order-seed).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub orders: Option<u32>,

    /// The seed of the --orders shuffles: the same seed gives the same orders.
    #[arg(long, value_name = "SEED", default_value_t = 1, requires = "orders")]
    pub order_seed: u64,
}

#[derive(Args, Debug, Clone)]
#[command(after_help = "Examples:\n  \
    anigan-runner report results/smoke\n  \
    anigan-runner report results/sweep\n  \
    anigan-runner report results/sweep --out reports/sweep\n\n\
    Writes into the experiment's directory: summary.csv (one row per variant), report.md,\n\
    report.html (opens from disk, no server needed), charts/*.png|svg, and per run\n\
    runs/<id>/progress.gif and runs/<id>/samples/best.png. With --out DIR the same go into DIR\n\
    and nothing into the experiment's directory (a colleague's read-only sweep, say): the page\n\
    shows the runs' sample grids from their run folders by paths relative to DIR, so open it\n\
    where DIR and the results both are. Works on a sweep still running:\n\
    variants are listed as finished, pruned, running, waiting, interrupted, collapsed, stalled,\n\
    failed\n\
    or not started.\n\
    `run` writes the report itself after each variant that ends, after each rung-by-rung\n\
    pass and at the end.")]
pub struct ReportArgs {
    /// The experiment's results directory: RESULTS/EXPERIMENT, e.g. results/smoke.
    #[arg(value_name = "RESULTS/EXPERIMENT")]
    pub dir: PathBuf,

    /// Write the report into DIR (created if missing) instead of the experiment's directory,
    /// which is then only read; DIR must be outside it.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Args, Debug, Clone)]
#[command(after_help = "Examples:\n  \
    anigan-runner sample results/quickstart/runs/000-* --out faces.png\n  \
    anigan-runner sample results/cgan/runs/000-* --epoch best \\\n      \
      --tags \"blue hair,long hair,red eyes\" --out blue-long-red.jpg\n  \
    anigan-runner sample results/cgan/runs/000-* --tags \"pink hair\" --interpolate \\\n      \
      --count 16 --seed 3 --out walk.png\n\n\
    RUN_DIR is results/<experiment>/runs/<variant-id>. Tags (CGAN runs only) are names from the\n\
    run's tags.txt, at most one per group (hair colour, hair length, eye colour): the generator\n\
    was trained with one tag or none per group; groups left out get no tag, and --tags \"\"\n\
    gives no tag to any. Tags match as tags.txt writes them (case included); an empty tag\n\
    (a comma too many) or a tag given twice is refused. Without --tags a CGAN draws one\n\
    random tag per group for every image; for an --interpolate walk it draws them once, so\n\
    that only the noise changes along the walk.\n\
    --epoch best is the checkpoint with the lowest swd (the runner keeps it).\n\
    The same run, checkpoint, tags and seed always give the same image.")]
pub struct SampleArgs {
    /// The run directory (results/<experiment>/runs/<id>).
    #[arg(value_name = "RUN_DIR")]
    pub run_dir: PathBuf,

    /// Which checkpoint: an epoch number, `best` (lowest swd) or `last`.
    #[arg(long, value_name = "N|best|last", default_value = "last")]
    pub epoch: String,

    /// Number of images (laid out 8 per row), 1 to 512: 64 rows, at most 16,514 px tall (256 px
    /// images), which image viewers open.
    #[arg(long, default_value_t = 64)]
    pub count: u32,

    /// Comma-separated tags for every image, e.g. "blue hair,long hair,red eyes" (CGAN only);
    /// "" for no tag at all.
    #[arg(long, value_name = "TAGS")]
    pub tags: Option<String>,

    /// Seed of the noise (and of random tags).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

    /// Walk in a straight line between two noise vectors instead of independent samples (the
    /// tags stay the same along the walk).
    #[arg(long)]
    pub interpolate: bool,

    /// The image to write: PNG for .png, JPEG for .jpg/.jpeg (the extension picks the format).
    #[arg(long, value_name = "FILE.png|FILE.jpg")]
    pub out: PathBuf,

    /// libtorch CPU threads (1 to 1024; sampling runs on the CPU); default: the cores this
    /// process may use (affinity mask and cgroup quota). Set it on a machine shared with a
    /// training sweep.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=crate::config::MAX_THREADS as i64))]
    pub threads: Option<u32>,
}

#[derive(Args, Debug, Clone)]
#[command(after_help = "Examples:\n  \
    anigan-runner slurm experiments/sweep.toml --dry-run\n  \
    anigan-runner slurm experiments/sweep.toml --time 04:00:00 --gpus-per-task 1 \\\n      \
      --cpus-per-task 4 --max-parallel 8 --sbatch-arg=--partition=gpu\n  \
    anigan-runner status results/sweep\n\n\
    Writes results/<experiment>/slurm/: <job>.sbatch (each accepted batch script),\n\
    variants-<hash>.txt (the ids array task k trains: line k+1), submissions.jsonl, and the\n\
    tasks' logs <job>_<task>.out. Each task runs `anigan-runner run EXP --variant ID`. Slurm sends USR1\n\
    --signal-lead seconds before the time limit: the runner finishes its epoch, writes a\n\
    checkpoint and requeues its own task, which then resumes exactly. Running the same\n\
    command again submits only the variants neither finished nor still queued; a queued one\n\
    trains with the settings it was submitted with, and a command asking for others says so.")]
pub struct SlurmArgs {
    #[command(flatten)]
    pub exp: ExperimentArgs,

    /// Print the batch script and have Slurm check it (sbatch --test-only) where a controller
    /// answers, saying so where none does; write nothing, submit nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Where each task trains: auto (CUDA when present), cpu, cuda or cuda:N.
    #[arg(long, value_name = "DEVICE", default_value = "auto")]
    pub device: DeviceChoice,

    /// At most K array tasks run at once (`--array=0-N%K`).
    #[arg(long, value_name = "K")]
    pub max_parallel: Option<usize>,

    /// Each task's time limit (sbatch --time: MM, HH:MM:SS, D-HH:MM:SS, ...).
    #[arg(long, value_name = "TIME")]
    pub time: Option<String>,

    /// CPU cores per task; the runner uses that many libtorch threads (train.threads is not
    /// used). Default: the experiment's train.threads where it sets one (the largest, if
    /// variants differ), else 2.
    #[arg(long, value_name = "N")]
    pub cpus_per_task: Option<u32>,

    /// GPUs per task (none by default); a task sees them as cuda:0 up, so not with
    /// --device cpu, and --device cuda:N needs more than N.
    #[arg(long, value_name = "N")]
    pub gpus_per_task: Option<u32>,

    /// Seconds before the time limit at which Slurm warns the runner (USR1), 1 to 65535. It
    /// must cover one epoch plus a checkpoint; the default suits epochs of up to a few minutes.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub signal_lead: u32,

    /// One more sbatch option with its value, e.g. `--sbatch-arg=--partition=gpu` (repeatable),
    /// each an `#SBATCH` line of its own. The options the script sets itself (--array,
    /// --output, --error, --time, --signal, --cpus-per-task, --gpus-per-task, ...) are refused
    /// with the flag to use instead; `--sbatch-arg=--job-name=NAME` replaces the job's name,
    /// anigan-<experiment>.
    #[arg(long = "sbatch-arg", value_name = "ARG", allow_hyphen_values = true)]
    pub sbatch_args: Vec<String>,

    #[command(flatten)]
    pub slurm_wait: SlurmWaitArgs,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormatArg {
    Auto,
    /// The original training script's stdout.
    Seed,
    /// This runner's metrics.csv.
    Csv,
}

/// Parses the command line (`run` inserted when left out); on an error, prints clap's message
/// (with `explain`'s tip) and exits 2.
pub fn parse(args: Vec<OsString>) -> Cli {
    let args = with_default_subcommand(args);
    // Before clap: a value split from its key may land in a positional's place, where clap
    // reads it as the experiment file or a run folder.
    if let Some(problem) = split_set(&args) {
        eprintln!("error: {problem}");
        std::process::exit(crate::exit::Exit::Usage as i32);
    }
    Cli::try_parse_from(&args).unwrap_or_else(|e| explain(e, &args).exit())
}

/// A `--set KEY VALUE` (or `KEY= VALUE`, `KEY = VALUE`, `KEY =VALUE`) written as several
/// arguments, with the one argument to write instead. VALUE is what follows the key unless it
/// is a flag (`--dry-run`), an existing path or an experiment file (`x.toml`): then the key may
/// have no value, which the settings report names (or clap, where an argument is one too many:
/// `explain` then takes any argument after the key that is no flag for its value).
fn split_set(args: &[OsString]) -> Option<String> {
    set_split(args, |t| {
        !t.starts_with("--") && !t.ends_with(".toml") && !std::path::Path::new(t).exists()
    })
}

/// The one scanner for a `--set` split from its value: the first `--set KEY` whose dotted KEY
/// is followed by a value (`is_value` says which arguments may be one), told as the single
/// argument to write.
fn set_split(args: &[OsString], is_value: impl Fn(&str) -> bool) -> Option<String> {
    let args: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    (0..args.len()).find_map(|i| {
        let (key, rest) = match args[i].strip_prefix("--set=") {
            Some(key) => (key, &args[i + 1..]),
            None if args[i] == "--set" => (args.get(i + 1)?.as_str(), args.get(i + 2..)?),
            None => return None,
        };
        let dotted = key.contains('.') && !key.starts_with('-') && !key.contains('/');
        let joined = match (key.split_once('='), rest) {
            // `KEY= VALUE`
            (Some((k, "")), [v, ..]) if is_value(v) => format!("{k}={v}"),
            (Some(_), _) => return None,
            // `KEY = VALUE`
            (None, [eq, v, ..]) if eq == "=" && is_value(v) => format!("{key}={v}"),
            // `KEY =VALUE`
            (None, [v, ..]) if v.starts_with('=') && v.len() > 1 => format!("{key}{v}"),
            (None, [v, ..]) if is_value(v) && v != "=" => format!("{key}={v}"),
            _ => return None,
        };
        dotted.then(|| {
            format!(
                "--set takes KEY=VALUE as one argument: write --set {}",
                shell_word(&joined)
            )
        })
    })
}

/// `word` as a shell reads it back: single-quoted where it holds spaces or special characters.
fn shell_word(word: &str) -> String {
    let plain = word
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._-=+,:/@%".contains(c));
    match plain {
        true => word.to_string(),
        false => format!("'{}'", word.replace('\'', "'\\''")),
    }
}

/// Adds a tip to clap's "unexpected argument" where the flag meant is known: a value split
/// from its key (`--set prune.eta 4`, any subcommand) is shown joined; an unknown flag of
/// `slurm` gets the flag meant, instead of clap's "to pass '--threads' as a value, use '--
/// --threads'": `run`'s --threads and --jobs are --cpus-per-task and --max-parallel there,
/// and sbatch's own options go through --sbatch-arg (those the script writes itself are named
/// as such).
fn explain(mut error: clap::Error, args: &[OsString]) -> clap::Error {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if error.kind() != ErrorKind::UnknownArgument {
        return error;
    }
    let Some(ContextValue::String(arg)) = error.get(ContextKind::InvalidArg).cloned() else {
        return error;
    };
    // An argument is one too many: a value `split_set` left alone (an existing path) took a
    // positional's place, whichever argument clap names.
    let tip = match set_split(args, |v| !v.starts_with("--")) {
        Some(tip) => tip,
        None if let Some(tip) = listed_apart(args, &arg) => tip,
        None if args.get(1).is_some_and(|a| a == "slurm") => match slurm_tip(&arg) {
            Some(tip) => tip,
            None => return error,
        },
        None => return error,
    };
    error.insert(
        ContextKind::Suggested,
        ContextValue::StyledStrs(vec![tip.into()]),
    );
    error
}

/// `--only failed interrupted` or `--variant 0 1`: a second value written apart from the
/// first, shown as the flag takes it.
fn listed_apart(args: &[OsString], value: &str) -> Option<String> {
    let args: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let at = args.iter().position(|a| a == value)?;
    let (flag, first) = (args.get(at.checked_sub(2)?)?, &args[at - 1]);
    match flag.as_str() {
        "--only" => Some(format!(
            "--only takes one comma-separated list: write --only {first},{value}"
        )),
        "--variant" => Some(format!(
            "--variant takes one index or id each time: write --variant {first} --variant {value}"
        )),
        _ => None,
    }
}

/// The flag meant by an unknown flag of `slurm`.
fn slurm_tip(arg: &str) -> Option<String> {
    let flag = arg.split('=').next().unwrap_or_default();
    let tip = match flag {
        "--threads" => {
            "a task's libtorch threads follow its cores: give `slurm` --cpus-per-task N".to_string()
        }
        "--jobs" => "the array runs one task per variant: --max-parallel K runs at most K at once"
            .to_string(),
        // An option the script writes itself: say so, rather than point to an --sbatch-arg
        // that is then refused.
        _ if flag.starts_with("--") => {
            match crate::slurm::sbatch_arg_problem(&format!("{flag}=VALUE")) {
                Some(problem) => problem.replace(&format!("--sbatch-arg=\"{flag}=VALUE\": "), ""),
                None => format!(
                    "sbatch's own options go through --sbatch-arg, e.g. --sbatch-arg={flag}=VALUE"
                ),
            }
        }
        _ => return None,
    };
    Some(tip)
}

/// Inserts `run` when the first argument is not a subcommand, so `anigan-runner x.toml` works;
/// not for a mistyped subcommand (`staus`), which clap then names with the one meant.
pub fn with_default_subcommand(mut args: Vec<OsString>) -> Vec<OsString> {
    const TOP_LEVEL: &[&str] = &["help", "-h", "--help", "-V", "--version"];
    // Lossy: an experiment file whose name is not UTF-8 is still a file, not a subcommand.
    let first = args.get(1).map(|a| a.to_string_lossy().into_owned());
    let names: Vec<String> = {
        use clap::CommandFactory;
        Cli::command()
            .get_subcommands()
            .map(|c| c.get_name().to_string())
            .collect()
    };
    if let Some(first) = first
        && !TOP_LEVEL.contains(&first.as_str())
        && !names.contains(&first)
        && !mistyped_subcommand(&first, &names)
    {
        args.insert(1, "run".into());
    }
    args
}

/// A first argument that is no file and no experiment file name but close to a subcommand's
/// name (Jaro-Winkler above 0.8, clap's own threshold for its suggestions).
fn mistyped_subcommand(first: &str, names: &[String]) -> bool {
    !first.contains(['.', '/'])
        && !std::path::Path::new(first).exists()
        && names.iter().any(|n| strsim::jaro_winkler(first, n) > 0.8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        let args = args.iter().map(OsString::from).collect();
        Cli::try_parse_from(with_default_subcommand(args)).unwrap()
    }

    #[test]
    fn run_is_optional() {
        let Command::Run(a) = parse(&["x", "e.toml", "--dry-run"]).command else {
            panic!("not run")
        };
        assert_eq!(a.exp.experiment, PathBuf::from("e.toml"));
        assert!(a.dry_run);
        assert_eq!((a.jobs, a.threads), (1, None));
        assert_eq!(a.device, [DeviceChoice::Auto]);
        let Command::Run(b) = parse(&["x", "run", "e.toml", "--set", "a.b=1"]).command else {
            panic!("not run")
        };
        assert_eq!(b.exp.sets, ["a.b=1"]);
        assert!(matches!(
            parse(&["x", "replay", "l.log"]).command,
            Command::Replay(_)
        ));
    }

    #[test]
    fn a_mistyped_subcommand_is_named_not_read_as_an_experiment() {
        let rows: &[(&str, Option<&str>, &str)] = &[
            ("staus", Some("status"), "a letter left out"),
            ("reprot", Some("report"), "two letters swapped"),
            ("sweep", None, "no subcommand is near: an experiment file"),
            ("stats.toml", None, "a file name has a dot"),
            ("runs/status", None, "a path has a slash"),
        ];
        for (first, meant, why) in rows {
            let args = ["x", first, "results/e"]
                .iter()
                .map(OsString::from)
                .collect();
            match (Cli::try_parse_from(with_default_subcommand(args)), meant) {
                (Err(e), Some(m)) => {
                    let text = e.to_string();
                    assert!(text.contains(&format!("'{m}'")), "{why}: {text}");
                }
                (Ok(cli), None) => assert!(matches!(cli.command, Command::Run(_)), "{why}"),
                (Err(e), None) => {
                    assert!(!e.to_string().contains("subcommand"), "{why}: {e}")
                }
                (Ok(_), Some(_)) => panic!("{why}: {first} parsed"),
            }
        }
    }

    #[test]
    fn an_experiment_file_whose_name_is_not_utf8_runs() {
        use std::os::unix::ffi::OsStringExt;
        let file = OsString::from_vec(b"caf\xe9.toml".to_vec());
        let args = vec![OsString::from("x"), file.clone(), "--dry-run".into()];
        let Command::Run(a) = Cli::try_parse_from(with_default_subcommand(args))
            .unwrap()
            .command
        else {
            panic!("not run")
        };
        assert_eq!(a.exp.experiment, PathBuf::from(file));
    }

    #[test]
    fn jobs_threads_and_device_lists() {
        let Command::Run(a) = parse(&[
            "x",
            "e.toml",
            "--jobs",
            "3",
            "--threads",
            "2",
            "--device",
            "cuda:0,cuda:1",
        ])
        .command
        else {
            panic!("not run")
        };
        assert_eq!((a.jobs, a.threads), (3, Some(2)));
        assert_eq!(a.device, [DeviceChoice::Cuda(0), DeviceChoice::Cuda(1)]);
        let args = ["x", "e.toml", "--jobs", "0"]
            .iter()
            .map(OsString::from)
            .collect();
        assert!(Cli::try_parse_from(with_default_subcommand(args)).is_err());
        assert!(matches!(
            parse(&["x", "status", "results/smoke", "--json"]).command,
            Command::Status(s) if s.json
        ));
    }

    #[test]
    fn only_takes_a_list_of_states() {
        let Command::Run(a) = parse(&["x", "e.toml", "--only", "failed,not-started"]).command
        else {
            panic!("not run")
        };
        assert_eq!(a.exp.only, [Only::Failed, Only::NotStarted]);
        let args = ["x", "e.toml", "--only", "finished"]
            .iter()
            .map(OsString::from)
            .collect();
        let err = Cli::try_parse_from(with_default_subcommand(args)).unwrap_err();
        assert!(err.to_string().contains("not-started"), "{err}");
    }

    #[test]
    fn slurm_names_the_flag_meant_for_run_s_and_sbatch_s() {
        for (flag, says, why) in [
            ("--threads", "--cpus-per-task N", "run's --threads"),
            ("--threads=1", "--cpus-per-task N", "written with '='"),
            ("--jobs", "--max-parallel K", "run's --jobs"),
            (
                "--partition",
                "--sbatch-arg=--partition=VALUE",
                "an sbatch option",
            ),
            (
                "--array",
                "the script sets --array",
                "an sbatch option the script writes itself: no --sbatch-arg tip that is refused",
            ),
        ] {
            let args: Vec<OsString> = ["x", "slurm", "e.toml", flag, "1"]
                .iter()
                .map(OsString::from)
                .collect();
            let args = with_default_subcommand(args);
            let error = Cli::try_parse_from(&args).unwrap_err();
            let text = explain(error, &args).to_string();
            assert!(
                text.contains(says) && !text.contains("as a value, use '--"),
                "{why}: {text}"
            );
        }
    }

    #[test]
    fn a_set_value_split_from_its_key_is_shown_joined() {
        for (args, says, why) in [
            (
                &["x", "e.toml", "--set", "prune.eta", "4"][..],
                "--set prune.eta=4",
                "run",
            ),
            (
                &["x", "e.toml", "--set=prune.eta", "4"][..],
                "--set prune.eta=4",
                "--set=KEY",
            ),
            (
                &["x", "replay", "l.log", "--set", "rollback.patience", "5"][..],
                "--set rollback.patience=5",
                "another subcommand",
            ),
            (
                &["x", "e.toml", "--set", "data.path", "/"][..],
                "--set data.path=/",
                "a value that is an existing path, which split_set leaves to clap",
            ),
            (
                &["x", "--set", "data.path", "/", "e.toml"][..],
                "--set data.path=/",
                "the same before the file: clap names the file, not the value",
            ),
        ] {
            let args = with_default_subcommand(args.iter().map(OsString::from).collect());
            let error = Cli::try_parse_from(&args).unwrap_err();
            let text = explain(error, &args).to_string();
            assert!(text.contains(says), "{why}: {text}");
        }
        // A stray argument after a whole KEY=VALUE gets no such tip.
        let args = with_default_subcommand(
            ["x", "e.toml", "--set", "a.b=1", "4"]
                .iter()
                .map(OsString::from)
                .collect(),
        );
        let text = explain(Cli::try_parse_from(&args).unwrap_err(), &args).to_string();
        assert!(!text.contains("one argument"), "{text}");
    }

    #[test]
    fn a_second_value_written_apart_is_shown_as_the_flag_takes_it() {
        for (args, says) in [
            (
                &["x", "e.toml", "--only", "failed", "interrupted"][..],
                "--only failed,interrupted",
            ),
            (
                &["x", "e.toml", "--variant", "0", "1"][..],
                "--variant 0 --variant 1",
            ),
        ] {
            let args = with_default_subcommand(args.iter().map(OsString::from).collect());
            let text = explain(Cli::try_parse_from(&args).unwrap_err(), &args).to_string();
            assert!(text.contains(says), "{text}");
        }
    }

    #[test]
    fn a_set_split_anywhere_is_told_the_one_argument() {
        let rows: &[(&[&str], Option<&str>, &str)] = &[
            (
                &["x", "--set", "train.lr_d", "-0.5", "e.toml"],
                Some("--set train.lr_d=-0.5"),
                "a negative float, before the file",
            ),
            (
                &["x", "e.toml", "--set", "train.lr_d", "-1e-4"],
                Some("--set train.lr_d=-1e-4"),
                "after the file",
            ),
            (
                &["x", "e.toml", "--set", "train.lr_g", "=", "1e-4"],
                Some("--set train.lr_g=1e-4"),
                "KEY = VALUE",
            ),
            (
                &["x", "e.toml", "--set", "train.lr_g", "=1e-4"],
                Some("--set train.lr_g=1e-4"),
                "KEY =VALUE",
            ),
            (
                &["x", "e.toml", "--set", "train.lr_g=", "1e-4"],
                Some("--set train.lr_g=1e-4"),
                "KEY= VALUE",
            ),
            (
                &["x", "replay", "--set", "rollback.patience", "5", "l.log"],
                Some("--set rollback.patience=5"),
                "replay, before the log",
            ),
            (
                &["x", "e.toml", "--set", "experiment.name", "my run"],
                Some("--set 'experiment.name=my run'"),
                "quoted for the shell",
            ),
            (
                &["x", "e.toml", "--set", "train.lr_g=1e-4", "--dry-run"],
                None,
                "one argument",
            ),
            (
                &["x", "e.toml", "--set", "train.lr_g", "--dry-run"],
                None,
                "no value: the settings say so",
            ),
            (
                &["x", "--set", "train.lr_g", "e.toml"],
                None,
                "no value before the file",
            ),
        ];
        for (args, want, why) in rows {
            let args: Vec<OsString> = args.iter().map(OsString::from).collect();
            let got = split_set(&with_default_subcommand(args));
            match want {
                Some(w) => assert!(
                    got.as_deref().is_some_and(|g| g.ends_with(w)),
                    "{why}: {got:?}"
                ),
                None => assert_eq!(got, None, "{why}"),
            }
        }
    }

    #[test]
    fn help_is_complete() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
