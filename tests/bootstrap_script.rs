//! scripts/bootstrap's libtorch link, from a second checkout that shares this one's venv (a
//! clone or worktree whose `.venv` is a link here, as CI runs here do): the link must stay
//! relative to the venv, so no checkout re-points it through its own path and deleting that
//! checkout leaves every other one building.

use std::path::Path;
use std::process::Command;

#[test]
fn bootstrap_keeps_the_libtorch_link_relative_to_the_venv() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let other = tempfile::tempdir().unwrap();
    let status = Command::new("cp")
        .arg("-r")
        .arg(root.join("scripts"))
        .arg(other.path())
        .status()
        .unwrap();
    assert!(status.success());
    std::os::unix::fs::symlink(root.join(".venv"), other.path().join(".venv")).unwrap();

    let out = Command::new(other.path().join("scripts/bootstrap"))
        .env("BOOTSTRAP_SKIP_BUILD", "1")
        .output()
        .expect("scripts/bootstrap runs");
    assert!(
        out.status.success(),
        "bootstrap failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    drop(other);

    let link = root.join(".venv/libtorch");
    let target = std::fs::read_link(&link).unwrap();
    assert!(
        target.is_relative(),
        ".venv/libtorch points at {}: an absolute path names the checkout that made it",
        target.display()
    );
    assert!(
        link.join("lib").is_dir(),
        ".venv/libtorch ({}) does not reach torch's lib folder",
        target.display()
    );
}
