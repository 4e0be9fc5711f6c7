//! The exit-code contract of README.md, command by command: 0 done, 1 a variant failed, 2 bad
//! settings or command line (nothing written), 3 a variant collapsed.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn runner() -> Command {
    Command::cargo_bin("anigan-runner").unwrap()
}

/// Runs `args` (`{tmp}` is replaced by a fresh temporary folder) and returns (code, stderr).
fn outcome(args: &[&str], tmp: &Path) -> (i32, String) {
    let args: Vec<String> = args
        .iter()
        .map(|a| a.replace("{tmp}", &tmp.to_string_lossy()))
        .collect();
    let out = runner().args(&args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code().unwrap_or(-1), stderr)
}

#[test]
fn every_command_exits_2_on_a_usage_problem() {
    let readme = root().join("README.md");
    let smoke = root().join("experiments/smoke.toml");
    let missing_folder = root().join("tests/fixtures/inputs/missing-folder.toml");
    let rows: Vec<(Vec<&str>, &str, &str)> = vec![
        (
            vec![
                "run",
                missing_folder.to_str().unwrap(),
                "--results",
                "{tmp}/results",
            ],
            "no such folder (a relative path is read from the current directory",
            "run: a [data] path that does not exist",
        ),
        (
            vec![
                smoke.to_str().unwrap(),
                "--device",
                "cuda:9",
                "--results",
                "{tmp}/results",
            ],
            "cuda:9",
            "run: a device that is not there",
        ),
        (
            vec!["run", "{tmp}/no-such.toml", "--results", "{tmp}/results"],
            "cannot read experiment file",
            "run: no such experiment file",
        ),
        (
            vec!["run", smoke.to_str().unwrap(), "--bogus-flag"],
            "--bogus-flag",
            "run: unknown flag",
        ),
        (
            vec!["report", "{tmp}"],
            "not an experiment's results directory",
            "report: a folder that is not an experiment's",
        ),
        (
            vec!["report", "{tmp}/nothing-here"],
            "not an experiment's results directory",
            "report: no such folder",
        ),
        (
            vec!["status", "{tmp}"],
            "not an experiment's results directory",
            "status: a folder that is not an experiment's",
        ),
        (
            vec![
                "slurm",
                missing_folder.to_str().unwrap(),
                "--results",
                "{tmp}/results",
            ],
            "no such folder (a relative path is read from the current directory",
            "slurm: a [data] path that does not exist",
        ),
        (
            vec![
                "slurm",
                smoke.to_str().unwrap(),
                "--time",
                "4h",
                "--results",
                "{tmp}/results",
            ],
            "is not a Slurm time limit",
            "slurm: a time limit sbatch would refuse",
        ),
        (
            vec![
                "slurm",
                smoke.to_str().unwrap(),
                "--sbatch-arg=--array=0-9",
                "--signal-lead",
                "0",
                "--gpus-per-task",
                "1",
                "--device",
                "cpu",
                "--results",
                "{tmp}/results",
            ],
            "3 problems with the command line",
            "slurm: an option the script writes, no time to checkpoint, GPUs never used",
        ),
        (
            vec![
                "slurm",
                smoke.to_str().unwrap(),
                "--threads",
                "1",
                "--results",
                "{tmp}/results",
            ],
            "--cpus-per-task",
            "slurm: run's --threads, named by slurm's flag (clap's tip was '-- --threads')",
        ),
        (
            vec!["sample", "{tmp}", "--out", "{tmp}/grid.png"],
            "not a run directory",
            "sample: a folder that is not a run",
        ),
        (
            vec![
                "sample",
                "{tmp}",
                "--count",
                "100000",
                "--out",
                "{tmp}/grid.png",
            ],
            "--count 100000: a grid holds at most 512 images",
            "sample: a grid bigger than viewers open (was minutes of writing a 425,002 px PNG)",
        ),
        (
            vec!["sample", "{tmp}", "--out", "{tmp}/grid.gif"],
            "write a .png or .jpg file",
            "sample: an image format it does not write (was PNG bytes under any name)",
        ),
        (
            vec![
                smoke.to_str().unwrap(),
                "--device",
                "cuda:9",
                "--dry-run",
                "--results",
                "{tmp}/results",
            ],
            "cuda:9",
            "run --dry-run: the device the run would refuse",
        ),
        (
            vec![
                smoke.to_str().unwrap(),
                "--variant",
                "99",
                "--results",
                "{tmp}/results",
            ],
            "1 problem with the command line",
            "run: a flag's problem is the command line's, not the settings'",
        ),
        (
            vec!["replay", readme.to_str().unwrap()],
            "neither format tried",
            "replay: a README",
        ),
        (
            vec!["replay", "{tmp}/no-such.csv"],
            "no-such.csv",
            "replay: no such file",
        ),
        (
            vec!["data", "synth", "--count", "0", "--out", "{tmp}/faces"],
            "with the command line:\n  - --count must be at least 1",
            "data synth: bad count, headed as the command line's",
        ),
        (
            vec![
                "data",
                "synth",
                "--count",
                "4",
                "--out",
                readme.to_str().unwrap(),
            ],
            "already exists and is not an empty folder",
            "data synth: output in the way",
        ),
    ];
    for (args, expected, why) in rows {
        let tmp = tempfile::tempdir().unwrap();
        let (code, stderr) = outcome(&args, tmp.path());
        assert_eq!(code, 2, "{why}: {stderr}");
        assert!(stderr.contains(expected), "{why}: {stderr}");
        assert!(!tmp.path().join("results").exists(), "{why}: wrote results");
        assert!(!tmp.path().join("grid.png").exists(), "{why}: wrote a grid");
    }
}

/// A replay log written as a spreadsheet would save `csv`: BOM, CRLF, `;` and decimal commas.
fn spreadsheet(csv: &str) -> String {
    let body = csv
        .replace(',', ";")
        .replace("0.", "0,")
        .replace('\n', "\r\n");
    format!("\u{feff}{body}")
}

#[test]
fn replay_reads_spreadsheet_exports_and_refuses_files_without_epochs() {
    let tmp = tempfile::tempdir().unwrap();
    let mut csv = "epoch,attempt,d_acc_real,d_acc_fake,g_acc\n".to_string();
    for epoch in 1..=40 {
        let g = if epoch > 10 { "0.0" } else { "0.6" };
        csv += &format!("{epoch},0,0.9,0.95,{g}\n");
    }
    let plain = tmp.path().join("metrics.csv");
    let saved = tmp.path().join("metrics-excel.csv");
    std::fs::write(&plain, &csv).unwrap();
    std::fs::write(&saved, spreadsheet(&csv)).unwrap();
    let replay = |file: &PathBuf| {
        let out = runner().arg("replay").arg(file).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        (
            out.status.code(),
            // Past the lines that say what it is judged with and name the file.
            stdout
                .lines()
                .skip_while(|l| !l.starts_with("kind "))
                .collect::<Vec<_>>()
                .join("\n"),
        )
    };
    let (code, table) = replay(&plain);
    assert_eq!(code, Some(0));
    assert!(table.contains("g_failure"), "{table}");
    assert_eq!(
        replay(&saved),
        (Some(0), table),
        "the spreadsheet copy replays the same"
    );

    let header_only = tmp.path().join("empty.csv");
    std::fs::write(&header_only, "epoch,d_acc_real,d_acc_fake,g_acc\r\n").unwrap();
    let (code, stderr) = outcome(&["replay", header_only.to_str().unwrap()], tmp.path());
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("no complete epoch"), "{stderr}");
}

#[test]
fn a_variant_whose_data_cannot_load_is_failed_with_its_reason_everywhere() {
    // Files named like images that do not decode: the listing (checked before anything is
    // written) finds them, only loading them fails.
    let tmp = tempfile::tempdir().unwrap();
    let unreadable = tmp.path().join("unreadable");
    std::fs::create_dir(&unreadable).unwrap();
    let names = ["a.png", "b.png", "c.png", "d.png", "e.png", "f.png"];
    for name in names {
        std::fs::write(unreadable.join(name), "not an image").unwrap();
    }
    let file = tmp.path().join("empty.toml");
    std::fs::write(
        &file,
        format!(
            "[experiment]\nepochs = 1\n[data]\nsource = \"folder\"\npath = {:?}\nimage_size = 16\nholdout = 2\n",
            unreadable.to_str().unwrap()
        ),
    )
    .unwrap();
    let results = tmp.path().join("results");
    let run = || {
        runner()
            .arg(&file)
            .arg("--results")
            .arg(&results)
            .args(["--device", "cpu", "--data-dir"])
            .arg(tmp.path().join("data"))
            .output()
            .unwrap()
    };
    let out = run();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let exp = results.join("empty");
    let summary = std::fs::read_to_string(exp.join("summary.csv")).unwrap();
    let mut rows = csv::Reader::from_reader(summary.as_bytes());
    let headers = rows.headers().unwrap().clone();
    let row = rows.records().next().unwrap().unwrap();
    let cell = |name: &str| &row[headers.iter().position(|h| h == name).unwrap()];
    assert_eq!(cell("status"), "failed", "{summary}");
    assert!(cell("reason").contains("could not be read"), "{summary}");
    let report = std::fs::read_to_string(exp.join("report.md")).unwrap();
    assert!(report.contains("failed: 6 of 6 images"), "{report}");
    assert!(!report.contains("not started"), "{report}");

    // A folder with no image at all is seen by the listing: a settings error, nothing written.
    for name in names {
        std::fs::remove_file(unreadable.join(name)).unwrap();
    }
    std::fs::remove_dir_all(&results).unwrap();
    let out = run();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no images (PNG or JPEG)"), "{stderr}");
    assert!(!results.exists(), "a settings error writes nothing");

    // Images in another format are named, as the reason there is none it reads; other files
    // (notes) are no images and go unmentioned.
    std::fs::write(unreadable.join("a.webp"), b"RIFF").unwrap();
    std::fs::write(unreadable.join("notes.txt"), b"x").unwrap();
    let out = run();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("1 image under") && stderr.contains("left out (a.webp)"),
        "{stderr}"
    );
    assert!(!stderr.contains("notes.txt"), "{stderr}");
}

/// The experiment of the fixture written by an older build (trained runs): what `sample` and
/// `report` read here.
fn fixture_experiment() -> String {
    root()
        .join("tests/fixtures/previous-release/results/previous")
        .to_string_lossy()
        .into_owned()
}

/// Runs `args` in `tmp`, `{tmp}` replaced by it, and returns (code, stderr).
fn outcome_in(args: &[String], tmp: &Path) -> (i32, String) {
    let args: Vec<String> = args
        .iter()
        .map(|a| a.replace("{tmp}", &tmp.to_string_lossy()))
        .collect();
    let out = runner().current_dir(tmp).args(&args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code().unwrap_or(-1), stderr)
}

/// The words of every list in `parts`, one command line.
fn line(parts: &[&[&str]]) -> Vec<String> {
    parts.concat().iter().map(|s| s.to_string()).collect()
}

/// Every command that writes checks where before any work, its dry run too: a place under a
/// regular file (a mistyped path, a file where a folder was meant) is a usage error naming the
/// file and the flag to change, and nothing is written. They were exit 1 about a file they
/// could not read or create (`slurm`, `sample`, `data synth`), or exit 0 from a dry run whose
/// run refuses.
#[test]
fn a_place_under_a_file_is_refused_before_any_work_by_every_command() {
    let smoke = root().join("experiments/smoke.toml");
    let smoke = smoke.to_str().unwrap();
    let exp = fixture_experiment();
    let run = format!("{exp}/runs/000-35a78e6b");
    let tiny: &[&str] = &["--set", "experiment.epochs=1", "--device", "cpu"];
    let results_under: &[&str] = &["--results", "{tmp}/afile/r", "--data-dir", "{tmp}/data"];
    let data_under: &[&str] = &["--results", "{tmp}/results", "--data-dir", "{tmp}/afile/d"];
    let run_dry: &[&str] = &[smoke, "--dry-run", "--threads", "1"];
    let rows: Vec<(Vec<String>, &str, &str)> = vec![
        (
            line(&[&["slurm", smoke, "--dry-run"], results_under, tiny]),
            "pass --results with a folder you can write to",
            "slurm --dry-run: was exit 1, cannot read slurm/submissions.jsonl",
        ),
        (
            line(&[&["slurm", smoke], results_under, tiny]),
            "pass --results with a folder you can write to",
            "slurm: the same, before Slurm is asked",
        ),
        (
            line(&[&["slurm", smoke, "--dry-run"], data_under, tiny]),
            "pass --data-dir with a folder you can write to",
            "slurm --dry-run: the data the submission prepares (was exit 0)",
        ),
        (
            line(&[run_dry, results_under, tiny]),
            "pass --results with a folder you can write to",
            "run --dry-run: refuses what the run refuses (was exit 0)",
        ),
        (
            line(&[run_dry, data_under, tiny]),
            "pass --data-dir with a folder you can write to",
            "run --dry-run: the synthetic dataset the run generates (was exit 0)",
        ),
        (
            line(&[&["sample", &run, "--out", "{tmp}/afile/x.png"]]),
            "pass --out with a file in a folder you can write to",
            "sample: was exit 1, cannot create the folder, after loading the checkpoint",
        ),
        (
            line(&[&["report", &exp, "--out", "{tmp}/afile/r"]]),
            "pass --out with a folder you can write to",
            "report --out",
        ),
        (
            line(&[&["data", "synth", "--count", "4", "--out", "{tmp}/afile/d"]]),
            "pass --out with a folder you can write to",
            "data synth --out: was exit 1 after the faces were drawn",
        ),
        (
            line(&[
                &["data", "synth", "--count", "4"],
                &["--contact-sheet", "{tmp}/afile/s.png"],
            ]),
            "pass --contact-sheet with a file in a folder you can write to",
            "data synth --contact-sheet: was exit 1",
        ),
    ];
    for (args, instead, why) in rows {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("afile"), b"").unwrap();
        let (code, stderr) = outcome_in(&args, tmp.path());
        assert_eq!(code, 2, "{why}: {stderr}");
        let named = format!(
            "{} is a file, not a folder",
            tmp.path().join("afile").display()
        );
        assert!(
            stderr.contains(&named) && stderr.contains(instead),
            "{why}: {stderr}"
        );
        assert!(
            !stderr.contains("pace:"),
            "{why}: work before the check: {stderr}"
        );
        let left: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["afile"], "{why}: wrote something");
    }
}

/// A folder where no file can be made though neither permission nor a read-only file system
/// forbids it (/proc says "no such file or directory", to root too) is refused before any work.
/// It passed the check: a run measured its pace, then failed (exit 1) at its first write.
#[test]
fn a_folder_where_no_file_can_be_made_is_refused_before_any_work() {
    if !Path::new("/proc/self").is_dir() {
        eprintln!("skipped: no /proc here");
        return;
    }
    let smoke = root().join("experiments/smoke.toml");
    let smoke = smoke.to_str().unwrap();
    let exp = fixture_experiment();
    let run = format!("{exp}/runs/000-35a78e6b");
    let tiny: &[&str] = &[
        "--data-dir",
        "{tmp}/data",
        "--device",
        "cpu",
        "--threads",
        "1",
        "--set",
        "experiment.epochs=1",
    ];
    let rows: Vec<(Vec<String>, &str, &str)> = vec![
        (
            line(&[&[smoke, "--results", "/proc/x"], tiny]),
            "pass --results with a folder you can write to",
            "run",
        ),
        (
            line(&[&[smoke, "--dry-run", "--results", "/proc/x"], tiny]),
            "pass --results with a folder you can write to",
            "run --dry-run",
        ),
        (
            line(&[&["report", &exp, "--out", "/proc/x"]]),
            "pass --out with a folder you can write to",
            "report --out",
        ),
        (
            line(&[&["sample", &run, "--out", "/proc/x.png"]]),
            "pass --out with a file in a folder you can write to",
            "sample",
        ),
    ];
    for (args, instead, why) in rows {
        let tmp = tempfile::tempdir().unwrap();
        let (code, stderr) = outcome_in(&args, tmp.path());
        assert_eq!(code, 2, "{why}: {stderr}");
        assert!(
            stderr.contains("/proc is not writable (the system says: ") && stderr.contains(instead),
            "{why}: {stderr}"
        );
        assert!(
            !stderr.contains("pace:"),
            "{why}: work before the check: {stderr}"
        );
        assert_eq!(
            std::fs::read_dir(tmp.path()).unwrap().count(),
            0,
            "{why}: wrote something"
        );
    }
}
