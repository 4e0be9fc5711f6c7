//! Files and folders the runner creates honour the umask, as any program's do: with umask 022
//! a colleague on the shared file system can read the report, the checkpoints and the data
//! cache; with umask 077 nobody else can. A file the runner replaces keeps its mode. A results
//! folder the user cannot write to (a colleague's sweep) is a plain usage error for the commands
//! that write, and `status` still reads it.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;

fn smoke() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/smoke.toml")
}

/// A smoke run's arguments on the CPU with `results` and `data`, then `extra`.
fn smoke_args(results: &Path, data: &Path, extra: &[&str]) -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> = vec![smoke().into(), "--results".into()];
    args.extend([results.into(), "--data-dir".into(), data.into()]);
    args.extend(["--device", "cpu"].iter().chain(extra).map(|a| a.into()));
    args
}

fn refs(args: &[std::ffi::OsString]) -> Vec<&std::ffi::OsStr> {
    args.iter().map(|a| a.as_os_str()).collect()
}

/// The runner with `args`, run under `umask`; asserts it succeeds.
fn run_with_umask(umask: u32, args: &[&std::ffi::OsStr]) {
    let mut cmd = Command::cargo_bin("anigan-runner").unwrap();
    cmd.args(args);
    // SAFETY: umask is async-signal-safe; it runs in the child between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            libc::umask(umask as libc::mode_t);
            Ok(())
        });
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every file and folder under `root` with its mode bits.
fn modes(root: &Path) -> Vec<(PathBuf, u32, bool)> {
    walkdir::WalkDir::new(root)
        .min_depth(1)
        .into_iter()
        .map(|e| {
            let e = e.unwrap();
            let meta = e.metadata().unwrap();
            (
                e.path().to_path_buf(),
                meta.permissions().mode() & 0o777,
                meta.is_dir(),
            )
        })
        .collect()
}

/// A smoke run (which writes the report and the data cache), `report`, and `sample --out`
/// under `umask`, in `tmp`; returns the folders it wrote into and the sample's path.
fn write_everything(tmp: &Path, umask: u32) -> (Vec<PathBuf>, PathBuf) {
    let (results, data) = (tmp.join("results"), tmp.join("data"));
    let os = |s: &str| std::ffi::OsString::from(s);
    let first = ["--variant", "0", "--set", "experiment.epochs=2"];
    let args = smoke_args(
        &results,
        &data,
        &[&first[..], &["--set", "train.threads=1"]].concat(),
    );
    run_with_umask(umask, &refs(&args));
    let exp = results.join("smoke");
    run_with_umask(umask, &[&os("report"), exp.as_os_str()]);
    let run = std::fs::read_dir(exp.join("runs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let out = tmp.join("faces.png");
    run_with_umask(
        umask,
        &[
            &os("sample"),
            run.as_os_str(),
            &os("--out"),
            out.as_os_str(),
        ],
    );
    (vec![results, data], out)
}

#[test]
fn with_umask_022_everything_is_readable_by_group_and_others() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("faces.png");
    std::fs::write(&out, b"an older picture").unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (folders, out) = write_everything(tmp.path(), 0o022);
    let written: Vec<_> = folders.iter().flat_map(|f| modes(f)).collect();
    assert!(written.iter().any(|(p, ..)| p.ends_with("report.html")));
    assert!(
        written
            .iter()
            .any(|(p, ..)| p.to_string_lossy().contains("dataset-v")),
        "the data cache is among them"
    );
    for (path, mode, dir) in &written {
        let want = if *dir { 0o755 } else { 0o644 };
        assert_eq!(mode & want, want, "{} is {mode:o}", path.display());
    }
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        mode, 0o644,
        "sample --out over an existing file keeps its mode"
    );
}

#[test]
fn with_umask_077_nothing_is_open_to_others() {
    let tmp = tempfile::tempdir().unwrap();
    let (folders, out) = write_everything(tmp.path(), 0o077);
    for (path, mode, _) in folders.iter().flat_map(|f| modes(f)).chain([(
        out.clone(),
        std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
        false,
    )]) {
        assert_eq!(mode & 0o077, 0, "{} is {mode:o}", path.display());
    }
}

/// The runner with `args` as a user who owns nothing here (`nobody` when the tests run as root,
/// who may write anywhere; the user itself otherwise): (exit code, stderr).
fn run_as_other_user(args: &[&std::ffi::OsStr]) -> (Option<i32>, String) {
    let mut cmd = Command::cargo_bin("anigan-runner").unwrap();
    cmd.args(args);
    // SAFETY: geteuid, setgid and setuid are async-signal-safe; they run in the child between
    // fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            if libc::geteuid() == 0 && (libc::setgid(65534) != 0 || libc::setuid(65534) != 0) {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = cmd.output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Sets every folder under `root` (itself included) to `dirs` and every file to `files`.
fn set_modes(root: &Path, dirs: u32, files: u32) {
    for entry in walkdir::WalkDir::new(root) {
        let entry = entry.unwrap();
        let mode = if entry.file_type().is_dir() {
            dirs
        } else {
            files
        };
        std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(mode)).unwrap();
    }
}

#[test]
fn a_results_folder_that_cannot_be_written_is_a_usage_error_and_status_reads_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (folders, _) = write_everything(tmp.path(), 0o022);
    let results = &folders[0];
    let exp = results.join("smoke");
    set_modes(tmp.path(), 0o555, 0o444);
    let os = |s: &str| std::ffi::OsString::from(s);
    let (code, stderr) = run_as_other_user(&[&os("report"), exp.as_os_str()]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("is not writable"), "{stderr}");
    let (code, stderr) = run_as_other_user(&[
        smoke().as_os_str(),
        &os("--results"),
        results.as_os_str(),
        &os("--data-dir"),
        folders[1].as_os_str(),
        &os("--device"),
        &os("cpu"),
        &os("--set"),
        &os("experiment.epochs=3"),
    ]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("pass --results with a folder you can write to"),
        "{stderr}"
    );
    let (code, stderr) = run_as_other_user(&[&os("status"), exp.as_os_str()]);
    assert_eq!(code, Some(0), "{stderr}");
    // Let the temporary folder be removed.
    set_modes(tmp.path(), 0o755, 0o644);
}

/// A colleague who may write the results but not the shared data cache trains on from it
/// (here a finished variant raised one epoch, and the other variant): the cache holds
/// everything the runs need, so nothing in it has to be written, not even a lock file; that
/// the paces cannot be recorded there is said once, not once per variant.
#[test]
fn a_data_cache_that_cannot_be_written_is_read_as_it_is() {
    let tmp = tempfile::tempdir().unwrap();
    let (folders, _) = write_everything(tmp.path(), 0o022);
    let (results, data) = (&folders[0], &folders[1]);
    set_modes(results, 0o777, 0o666);
    set_modes(data, 0o555, 0o444);
    let extend = ["--set", "experiment.epochs=3"];
    let args = smoke_args(
        results,
        data,
        &[&extend[..], &["--set", "train.threads=1"]].concat(),
    );
    let (code, stderr) = run_as_other_user(&refs(&args));
    set_modes(tmp.path(), 0o755, 0o644);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stderr.matches("epoch 3/3").count(), 2, "{stderr}");
    assert!(stderr.contains("swd "), "the run was evaluated: {stderr}");
    assert_eq!(
        stderr
            .matches("warning: cannot record the pace for later estimates")
            .count(),
        1,
        "{stderr}"
    );
}

/// A data folder the user cannot write, where the synthetic dataset must be generated, is a
/// usage error before anything is written (it was a failed variant per variant); the dry run
/// refuses it the same way (it said nothing, exit 0).
#[test]
fn a_synthetic_dataset_that_cannot_be_generated_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let (results, data) = (tmp.path().join("results"), tmp.path().join("data"));
    std::fs::create_dir_all(&results).unwrap();
    std::fs::create_dir_all(&data).unwrap();
    set_modes(&results, 0o777, 0o666);
    set_modes(&data, 0o555, 0o444);
    let tiny = ["--set", "experiment.epochs=1", "--threads", "1"];
    let dry = [&tiny[..], &["--dry-run"]].concat();
    let (dry_code, dry_stderr) = run_as_other_user(&refs(&smoke_args(&results, &data, &dry)));
    let dry_written =
        std::fs::read_dir(&results).unwrap().count() + std::fs::read_dir(&data).unwrap().count();
    let (code, stderr) = run_as_other_user(&refs(&smoke_args(&results, &data, &tiny)));
    let written = std::fs::read_dir(&results).unwrap().count();
    set_modes(tmp.path(), 0o755, 0o644);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("a run generates its synthetic dataset")
            && stderr.contains("pass --data-dir with a folder you can write to"),
        "{stderr}"
    );
    assert_eq!(written, 0, "nothing written before the check");
    assert_eq!(dry_code, Some(2), "the dry run as the run: {dry_stderr}");
    let error = |text: &str| {
        text.lines()
            .find(|l| l.starts_with("error:"))
            .map(str::to_owned)
    };
    assert_eq!(error(&dry_stderr), error(&stderr), "the same message");
    assert_eq!(dry_written, 0, "the dry run writes nothing");
}

/// Every file and folder under `root` with its modification time and, for a file, its bytes.
fn snapshot(root: &Path) -> Vec<(PathBuf, std::time::SystemTime, Option<Vec<u8>>)> {
    walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .map(|e| {
            let e = e.unwrap();
            let meta = e.metadata().unwrap();
            let bytes = meta.is_file().then(|| std::fs::read(e.path()).unwrap());
            (e.path().to_path_buf(), meta.modified().unwrap(), bytes)
        })
        .collect()
}

/// The values of `attr="..."` in `html`.
fn attribute_values(html: &str, attr: &str) -> Vec<String> {
    let mark = format!("{attr}=\"");
    html.split(&mark)
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_string())
        .collect()
}

/// A relative URL path as a file path: `%XX` decoded.
fn url_path(url: &str) -> PathBuf {
    let bytes = url.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&url[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    use std::os::unix::ffi::OsStringExt;
    PathBuf::from(std::ffi::OsString::from_vec(out))
}

#[test]
fn report_out_writes_a_colleagues_read_only_sweep_elsewhere_and_leaves_it_as_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    let (folders, _) = write_everything(tmp.path(), 0o022);
    // A results path with a space and a `#`, which a link must encode.
    let exp = tmp.path().join("shared #1").join("smoke");
    std::fs::create_dir(tmp.path().join("shared #1")).unwrap();
    std::fs::rename(folders[0].join("smoke"), &exp).unwrap();
    set_modes(tmp.path(), 0o555, 0o444);
    let before = snapshot(tmp.path());
    let mine = tempfile::tempdir().unwrap();
    std::fs::set_permissions(mine.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = mine.path().join("reports/smoke");
    let os = |s: &str| std::ffi::OsString::from(s);

    let (code, stderr) = run_as_other_user(&[
        &os("report"),
        exp.as_os_str(),
        &os("--out"),
        out.as_os_str(),
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        snapshot(tmp.path()),
        before,
        "the experiment's folder changed"
    );
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    let links: Vec<String> = attribute_values(&page, "src")
        .into_iter()
        .chain(attribute_values(&page, "href"))
        .filter(|l| !l.starts_with('#'))
        .collect();
    assert!(links.len() >= 8, "the charts and samples: {links:?}");
    assert!(
        links.iter().any(|l| l.contains("/runs/")),
        "the sample grids are the run folders': {links:?}"
    );
    for link in &links {
        assert!(!link.contains(':'), "{link} is not a relative path");
        assert!(
            out.join(url_path(link)).is_file(),
            "{link} resolves to no file"
        );
    }
    assert!(out.join("report.md").is_file() && out.join("summary.csv").is_file());

    // Inside the experiment's folder, or a folder that cannot be written: exit 2, saying so.
    let inside = exp.join("report");
    let (code, stderr) = run_as_other_user(&[
        &os("report"),
        exp.as_os_str(),
        &os("--out"),
        inside.as_os_str(),
    ]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("is inside the experiment's folder"),
        "{stderr}"
    );
    let unwritable = tmp.path().join("elsewhere");
    let (code, stderr) = run_as_other_user(&[
        &os("report"),
        exp.as_os_str(),
        &os("--out"),
        unwritable.as_os_str(),
    ]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("is not writable") && stderr.contains("pass --out with a folder"),
        "{stderr}"
    );
    assert_eq!(
        snapshot(tmp.path()),
        before,
        "the experiment's folder changed"
    );
    set_modes(tmp.path(), 0o755, 0o644);
}

#[test]
fn a_partly_read_only_results_folder_is_a_usage_error_naming_the_place() {
    let tmp = tempfile::tempdir().unwrap();
    let (folders, _) = write_everything(tmp.path(), 0o022);
    let (results, data) = (&folders[0], &folders[1]);
    let exp = results.join("smoke");
    let run = exp
        .join("runs")
        .read_dir()
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    // Writable by the other user, but for the one place each case makes read-only.
    set_modes(tmp.path(), 0o777, 0o666);
    let os = |s: &str| std::ffi::OsString::from(s);
    let report = || run_as_other_user(&[&os("report"), exp.as_os_str()]);
    let read_only = |path: &Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap()
    };

    read_only(&exp.join("charts"), 0o555);
    let (code, stderr) = report();
    assert_eq!(code, Some(2), "{stderr}");
    let named = format!("{} is not writable", exp.join("charts").display());
    assert!(
        stderr.contains(&named) && stderr.contains("--out DIR"),
        "{stderr}"
    );
    read_only(&exp.join("charts"), 0o777);

    // Another user's report lock, readable only: the report cannot take it.
    read_only(&exp.join(".report.lock"), 0o644);
    let (code, stderr) = report();
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains(".report.lock is not writable"), "{stderr}");
    read_only(&exp.join(".report.lock"), 0o666);

    read_only(&run, 0o555);
    let (code, stderr) = run_as_other_user(&[
        smoke().as_os_str(),
        &os("--results"),
        results.as_os_str(),
        &os("--data-dir"),
        data.as_os_str(),
        &os("--device"),
        &os("cpu"),
        &os("--threads"),
        &os("1"),
        &os("--variant"),
        &os("0"),
        &os("--set"),
        &os("experiment.epochs=3"),
    ]);
    assert_eq!(code, Some(2), "{stderr}");
    let named = format!("{} is not writable", run.display());
    assert!(
        stderr.contains(&named) && stderr.contains("pass --results"),
        "{stderr}"
    );
    let (code, stderr) = report();
    assert_eq!(
        code,
        Some(2),
        "the report writes the run's best.png: {stderr}"
    );
    assert!(stderr.contains(&named), "{stderr}");
    set_modes(tmp.path(), 0o755, 0o644);
}
