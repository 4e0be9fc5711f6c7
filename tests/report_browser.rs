//! report.html of the smoke experiment in headless Chromium: every image on the page loads,
//! and the page does not scroll sideways (the full summary table sits behind a `<details>`
//! toggle, in a box of its own). Leaves a screenshot in tests/artifacts/report-smoke.png.
//! scripts/test installs Chromium.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command as Process;

use assert_cmd::Command;

/// Appended to a copy of the report: after the page (and its images) loaded, write the result
/// into the DOM, which `--dump-dom` prints.
const CHECK: &str = r#"<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var broken = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); })
                   .map(function (i) { return i.getAttribute('src'); });
  var out = document.createElement('pre');
  out.id = 'image-check';
  out.textContent = 'IMAGES ' + imgs.length + ' BROKEN ' + broken.length + ' ' + broken.join(' ') + ' END';
  document.body.appendChild(out);
  // The page must not scroll sideways: the summary's first table fits, and the full one, shown
  // by opening its <details> (a toggle that needs no script), scrolls inside its own box.
  var page = document.documentElement;
  var closed = page.scrollWidth;
  var details = document.querySelector('details');
  var full = 0;
  if (details) {
    details.open = true;
    full = details.querySelector('table').getBoundingClientRect().height;
  }
  var widths = document.createElement('pre');
  widths.id = 'width-check';
  widths.textContent = 'WINDOW ' + window.innerWidth + ' CLOSED ' + closed + ' OPEN ' +
      page.scrollWidth + ' FULL_TABLE_HEIGHT ' + Math.round(full) + ' END';
  document.body.appendChild(widths);
});
</script>"#;

fn chromium() -> PathBuf {
    for name in ["chromium", "chromium-browser"] {
        if let Ok(out) = Process::new("sh")
            .args(["-c", &format!("command -v {name}")])
            .output()
            && out.status.success()
        {
            return PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        }
    }
    panic!(
        "chromium is not installed: run scripts/test, which installs it \
         (apt-get install chromium), or install it yourself"
    );
}

fn headless(profile: &Path) -> Process {
    let mut cmd = Process::new(chromium());
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--allow-file-access-from-files",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    cmd
}

/// Opens a copy of `dir`'s report.html (beside it, so its relative links are the page's) with
/// `CHECK` appended in headless Chromium: the DOM after load, and the image check's line.
fn load_in_chromium(dir: &Path) -> (String, String) {
    let page = fs::read_to_string(dir.join("report.html")).unwrap();
    let check_page = dir.join("report-check.html");
    fs::write(
        &check_page,
        page.replace("</body>", &format!("{CHECK}</body>")),
    )
    .unwrap();
    let profile = tempfile::tempdir().unwrap();
    let out = headless(profile.path())
        .args([
            "--virtual-time-budget=10000",
            "--window-size=1280,2000",
            "--dump-dom",
        ])
        .arg(format!("file://{}", check_page.display()))
        .output()
        .expect("chromium starts");
    let dom = String::from_utf8_lossy(&out.stdout).into_owned();
    const MARK: &str = "<pre id=\"image-check\">";
    let line = dom
        .find(MARK)
        .map(|at| &dom[at + MARK.len()..])
        .unwrap_or_else(|| {
            panic!(
                "no image check in chromium's DOM dump (status {}):\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let line = line[..line.find("</pre>").unwrap_or(line.len())].to_string();
    (dom, line)
}

/// (images on the page, images that did not load) from the image check's line.
fn image_counts(line: &str) -> (usize, usize) {
    let words: Vec<&str> = line.split(' ').collect();
    (words[1].parse().unwrap(), words[3].parse().unwrap())
}

#[test]
fn every_image_of_the_smoke_report_loads_in_chromium() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    Command::cargo_bin("anigan-runner")
        .unwrap()
        .arg(root.join("experiments/smoke.toml"))
        .arg("--results")
        .arg(tmp.path())
        .arg("--data-dir")
        .arg(Path::new(env!("CARGO_TARGET_TMPDIR")).join("data"))
        .args(["--device", "cpu", "--variant", "0"])
        .assert()
        .success();
    let dir = tmp.path().join("smoke");
    let (dom, line) = load_in_chromium(&dir);
    let (images, broken) = image_counts(&line);
    assert!(
        images >= 8,
        "expected the charts and samples on the page: {line}"
    );
    assert_eq!(broken, 0, "images that did not load: {line}");

    const WIDTHS: &str = "<pre id=\"width-check\">";
    let widths = dom
        .find(WIDTHS)
        .map(|at| &dom[at + WIDTHS.len()..])
        .expect("no width check in chromium's DOM dump");
    let widths = &widths[..widths.find("</pre>").unwrap_or(widths.len())];
    let w: Vec<u32> = widths
        .split(' ')
        .filter_map(|word| word.parse().ok())
        .collect();
    let (window, closed, open, full_height) = (w[0], w[1], w[2], w[3]);
    assert!(closed <= window, "the page scrolls sideways: {widths}");
    assert!(
        open <= window,
        "the full table widens the page when shown: {widths}"
    );
    assert!(
        full_height > 0,
        "the full table shows when opened: {widths}"
    );

    let artifacts = root.join("tests/artifacts");
    fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join("report-smoke.png");
    let _ = fs::remove_file(&shot);
    let profile = tempfile::tempdir().unwrap();
    let status = headless(profile.path())
        .arg(format!("--screenshot={}", shot.display()))
        .args(["--window-size=1280,4000", "--virtual-time-budget=10000"])
        .arg(format!("file://{}", dir.join("report.html").display()))
        .output()
        .expect("chromium starts")
        .status;
    assert!(
        status.success() && shot.is_file(),
        "no screenshot: {status}"
    );
}

/// `report --out DIR` of a sweep elsewhere: the page in DIR shows its charts and the run
/// folders' sample grids, every image loaded.
#[test]
fn every_image_of_a_report_written_elsewhere_loads_in_chromium() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let results = tempfile::tempdir().unwrap();
    Command::cargo_bin("anigan-runner")
        .unwrap()
        .arg(root.join("experiments/smoke.toml"))
        .arg("--results")
        .arg(results.path())
        .arg("--data-dir")
        .arg(Path::new(env!("CARGO_TARGET_TMPDIR")).join("data"))
        .args(["--device", "cpu", "--threads", "1", "--variant", "0"])
        .args(["--set", "experiment.epochs=2"])
        .assert()
        .success();
    let elsewhere = tempfile::tempdir().unwrap();
    let out = elsewhere.path().join("reports/smoke");
    Command::cargo_bin("anigan-runner")
        .unwrap()
        .arg("report")
        .arg(results.path().join("smoke"))
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let (_, line) = load_in_chromium(&out);
    let (images, broken) = image_counts(&line);
    assert!(images >= 8, "expected the charts and samples: {line}");
    let page = fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        page.contains("src=\"../"),
        "the sample grids are the run folders', by relative paths"
    );
    assert_eq!(broken, 0, "images that did not load: {line}");
}
