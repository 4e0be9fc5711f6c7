//! Checkpoints: every tensor of a GAN run in one safetensors file, plus a JSON sidecar
//! (`<stem>.json`) with the run's metadata and the file's blake3. Both are written atomically,
//! data first, so a sidecar's presence means its checkpoint is complete.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use tch::{Device, Tensor, nn};

use crate::fsx;

/// Key prefixes of the four parts of a GAN checkpoint (`g.up0.weight`, `opt_d.step`, ...).
pub const G: &str = "g";
pub const D: &str = "d";
pub const OPT_G: &str = "opt_g";
pub const OPT_D: &str = "opt_d";
/// Prefix of the moving average of G's weights (`train::ema`), when the run keeps one.
pub const G_EMA: &str = "g_ema";

const SIDECAR_FORMAT: u32 = 1;

/// A written checkpoint: the safetensors file, its blake3 (hex) and its size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointFile {
    pub path: PathBuf,
    pub blake3: String,
    pub bytes: u64,
}

#[derive(Serialize, Deserialize)]
struct Sidecar {
    format: u32,
    /// File name of the safetensors file, relative to the sidecar.
    file: String,
    blake3: String,
    bytes: u64,
    meta: serde_json::Value,
}

/// The sidecar of a checkpoint: same path with the extension `json`.
pub fn sidecar_path(path: &Path) -> PathBuf {
    path.with_extension("json")
}

/// Saves named tensors (any device; copied to the CPU) to `path` (which must end in
/// `.safetensors`) with a metadata sidecar.
pub fn save(
    path: &Path,
    tensors: &[(String, Tensor)],
    meta: &impl Serialize,
) -> anyhow::Result<CheckpointFile> {
    save_with_hook(path, tensors, meta, || {})
}

/// `save`, calling `data_committed` once the data file is in place and before the
/// sidecar is written (a seam for testing the write order).
fn save_with_hook(
    path: &Path,
    tensors: &[(String, Tensor)],
    meta: &impl Serialize,
    data_committed: impl FnOnce(),
) -> anyhow::Result<CheckpointFile> {
    if path.extension().is_none_or(|e| e != "safetensors") {
        bail!(
            "checkpoint path {} must end in .safetensors",
            path.display()
        );
    }
    let meta = serde_json::to_value(meta).context("cannot serialise the checkpoint metadata")?;
    let cpu: Vec<(&str, Tensor)> = tensors
        .iter()
        .map(|(k, t)| (k.as_str(), t.to_device(Device::Cpu).contiguous()))
        .collect();

    let tmp = fsx::temp_beside(path)?;
    Tensor::write_safetensors(&cpu, tmp.path())
        .with_context(|| format!("cannot write checkpoint data to {}", tmp.path().display()))?;
    let (blake3, bytes) = hash_file(tmp.path())?;
    // Drop the old sidecar first: between the data rename and the new sidecar, a crash must
    // leave no sidecar vouching for the wrong data.
    let sidecar = sidecar_path(path);
    if sidecar.exists() {
        std::fs::remove_file(&sidecar)
            .with_context(|| format!("cannot remove old {}", sidecar.display()))?;
        fsx::sync_dir(fsx::parent_dir(path))?;
    }
    fsx::commit(tmp, path)?;
    data_committed();

    let file = path
        .file_name()
        .expect("checked extension")
        .to_string_lossy()
        .into_owned();
    let side = Sidecar {
        format: SIDECAR_FORMAT,
        file,
        blake3: blake3.clone(),
        bytes,
        meta,
    };
    let mut json = serde_json::to_vec_pretty(&side).context("cannot serialise the sidecar")?;
    json.push(b'\n');
    fsx::write_atomic(&sidecar, &json)?;
    Ok(CheckpointFile {
        path: path.to_path_buf(),
        blake3,
        bytes,
    })
}

/// The metadata given to `save`, read from the sidecar alone (cheap: no tensor is read).
pub fn read_meta(path: &Path) -> anyhow::Result<serde_json::Value> {
    Ok(read_sidecar(path)?.meta)
}

fn read_sidecar(path: &Path) -> anyhow::Result<Sidecar> {
    let sidecar = sidecar_path(path);
    let text = match std::fs::read_to_string(&sidecar) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
            "checkpoint {} is incomplete: its sidecar {} is missing (interrupted save?); use an \
             earlier checkpoint",
            path.display(),
            sidecar.display()
        ),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", sidecar.display())),
    };
    let side: Sidecar = serde_json::from_str(&text)
        .with_context(|| format!("cannot parse sidecar {}", sidecar.display()))?;
    if side.format != SIDECAR_FORMAT {
        bail!(
            "sidecar {} has format {}, this build reads {SIDECAR_FORMAT}",
            sidecar.display(),
            side.format
        );
    }
    Ok(side)
}

/// Loads a checkpoint written by `save` after checking it against its sidecar.
/// Returns the tensors (on the CPU) by key and the metadata given to `save`.
pub fn load(path: &Path) -> anyhow::Result<(HashMap<String, Tensor>, serde_json::Value)> {
    let sidecar = sidecar_path(path);
    let side = read_sidecar(path)?;
    let (blake3, bytes) = hash_file(path)?;
    if blake3 != side.blake3 || bytes != side.bytes {
        bail!(
            "checksum mismatch for checkpoint {}: sidecar {} records blake3 {} ({} bytes), the file \
             has {blake3} ({bytes} bytes); the file is corrupted or was replaced",
            path.display(),
            sidecar.display(),
            side.blake3,
            side.bytes
        );
    }
    let tensors = Tensor::read_safetensors(path)
        .with_context(|| format!("cannot read checkpoint data {}", path.display()))?;
    Ok((tensors.into_iter().collect(), side.meta))
}

/// Copies `{prefix}.<var>` into every variable of `vs` (trainable ones and batch-norm running
/// stats alike), in place. Every missing key, shape mismatch and unexpected `{prefix}.` key is
/// reported at once; on error `vs` is left untouched.
pub fn restore_into(
    vs: &mut nn::VarStore,
    named: &HashMap<String, Tensor>,
    prefix: &str,
) -> anyhow::Result<()> {
    let variables = vs.variables();
    let expected: Vec<(String, Vec<i64>)> = variables
        .iter()
        .map(|(name, var)| (format!("{prefix}.{name}"), var.size()))
        .collect();
    let problems = name_problems(named, prefix, &expected);
    if !problems.is_empty() {
        bail!("cannot restore '{prefix}': {}", problems.join("; "));
    }
    let _guard = tch::no_grad_guard();
    for (name, mut var) in variables {
        var.f_copy_(&named[&format!("{prefix}.{name}")])?;
    }
    Ok(())
}

/// The problems restoring the tensors `expected` (checkpoint key, shape) from `named` would
/// meet, sorted: keys missing from `named`, shape mismatches, and keys under `prefix.` that
/// nothing expects (a checkpoint of other settings). Empty: every expected tensor is there.
pub fn name_problems(
    named: &HashMap<String, Tensor>,
    prefix: &str,
    expected: &[(String, Vec<i64>)],
) -> Vec<String> {
    let mut problems = Vec::new();
    for (key, shape) in expected {
        match named.get(key) {
            None => problems.push(format!("missing tensor {key}")),
            Some(t) if t.size() != *shape => problems.push(format!(
                "tensor {key} has shape {:?}, expected {shape:?}",
                t.size()
            )),
            Some(_) => {}
        }
    }
    let dotted = format!("{prefix}.");
    problems.extend(
        named
            .keys()
            .filter(|k| k.starts_with(&dotted) && !expected.iter().any(|(e, _)| e == *k))
            .map(|k| format!("unexpected tensor {k} (no such variable)")),
    );
    problems.sort();
    problems
}

fn hash_file(path: &Path) -> anyhow::Result<(String, u64)> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut hasher = blake3::Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    loop {
        let n = file
            .read(&mut buf)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        bytes += n as u64;
    }
    Ok((hasher.finalize().to_hex().to_string(), bytes))
}

#[cfg(test)]
mod tests {
    use tch::nn::ModuleT;
    use tch::{Kind, Reduction};

    use super::*;
    use crate::model::{NetConfig, discriminator, generator, init_weights};
    use crate::optim::Adam;

    struct Gan {
        g_vs: nn::VarStore,
        d_vs: nn::VarStore,
        g: nn::SequentialT,
        d: nn::SequentialT,
        opt_g: Adam,
        opt_d: Adam,
    }

    fn cfg() -> NetConfig {
        NetConfig {
            image_size: 16,
            z_dim: 8,
            g_width: 4,
            d_width: 4,
            n_tags: 0,
        }
    }

    fn gan() -> Gan {
        let g_vs = nn::VarStore::new(Device::Cpu);
        let d_vs = nn::VarStore::new(Device::Cpu);
        let g = generator(g_vs.root(), &cfg());
        let d = discriminator(d_vs.root(), &cfg());
        init_weights(&g_vs);
        init_weights(&d_vs);
        let opt_g = Adam::new(&g_vs, 2e-4, (0.5, 0.999), 1e-8);
        let opt_d = Adam::new(&d_vs, 2e-4, (0.5, 0.999), 1e-8);
        Gan {
            g_vs,
            d_vs,
            g,
            d,
            opt_g,
            opt_d,
        }
    }

    fn bce(logits: &Tensor, target: f64) -> Tensor {
        logits.binary_cross_entropy_with_logits::<Tensor>(
            &logits.full_like(target),
            None,
            None,
            Reduction::Mean,
        )
    }

    /// One D step and one G step (BCE with logits), as the training loop will do.
    fn train_step(gan: &mut Gan, real: &Tensor, z: &Tensor) {
        gan.opt_d.zero_grad();
        let fake = gan.g.forward_t(z, true).detach();
        (bce(&gan.d.forward_t(real, true), 1.0) + bce(&gan.d.forward_t(&fake, true), 0.0))
            .backward();
        gan.opt_d.step();
        gan.opt_g.zero_grad();
        bce(&gan.d.forward_t(&gan.g.forward_t(z, true), true), 1.0).backward();
        gan.opt_g.step();
    }

    /// Every tensor of `gan` under its checkpoint key, as the trainer saves them.
    fn state(gan: &Gan) -> Vec<(String, Tensor)> {
        let mut out = Vec::new();
        for (prefix, vs) in [(G, &gan.g_vs), (D, &gan.d_vs)] {
            out.extend(
                vs.variables()
                    .into_iter()
                    .map(|(k, t)| (format!("{prefix}.{k}"), t)),
            );
        }
        out.extend(gan.opt_g.state_tensors(OPT_G));
        out.extend(gan.opt_d.state_tensors(OPT_D));
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    fn restore_gan(named: &HashMap<String, Tensor>, gan: &mut Gan) -> anyhow::Result<()> {
        restore_into(&mut gan.g_vs, named, G)?;
        restore_into(&mut gan.d_vs, named, D)?;
        gan.opt_g.load_state(named, OPT_G)?;
        gan.opt_d.load_state(named, OPT_D)
    }

    fn randn(dims: &[i64]) -> Tensor {
        Tensor::randn(dims, (Kind::Float, Device::Cpu))
    }

    #[test]
    fn round_trip_restores_identical_outputs_and_training() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("epoch-0002.safetensors");
        let (real, z) = (randn(&[4, 3, 16, 16]), randn(&[4, 8]));
        let mut a = gan();
        train_step(&mut a, &real, &z);
        train_step(&mut a, &real, &z);
        let meta = serde_json::json!({ "epoch": 2, "variant": "tiny" });
        let written = save(
            &dir.path().join("epoch-0002.safetensors"),
            &state(&a),
            &meta,
        )
        .unwrap();
        assert_eq!(written.bytes, std::fs::metadata(&path).unwrap().len());

        let (named, meta_back) = load(&path).unwrap();
        assert_eq!(meta_back, meta);
        assert!(named.contains_key("g.bn0.running_mean") && named.contains_key("opt_d.step"));
        let mut b = gan(); // fresh random weights
        restore_gan(&named, &mut b).unwrap();
        assert_eq!(b.opt_g.step_count(), 2);

        // Eval mode uses the batch-norm running stats, so this also checks they were restored.
        let z_eval = randn(&[3, 8]);
        assert!(
            a.g.forward_t(&z_eval, false)
                .equal(&b.g.forward_t(&z_eval, false))
        );
        assert!(
            a.d.forward_t(&real, false)
                .equal(&b.d.forward_t(&real, false))
        );

        train_step(&mut a, &real, &z);
        train_step(&mut b, &real, &z);
        for (x, y) in state(&a).iter().zip(state(&b)) {
            assert_eq!(x.0, y.0);
            assert!(x.1.equal(&y.1), "{} differs after one more step", x.0);
        }
    }

    #[test]
    fn corrupted_byte_gives_checksum_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.safetensors");
        let a = gan();
        save(&path, &state(&a), &serde_json::json!({})).unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x01;
        std::fs::write(&path, bytes).unwrap();
        let err = load(&path).unwrap_err().to_string();
        assert!(
            err.contains("checksum mismatch") && err.contains("c.safetensors"),
            "{err}"
        );
    }

    #[test]
    fn missing_sidecar_means_incomplete() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.safetensors");
        save(&path, &[("x".into(), randn(&[2]))], &()).unwrap();
        std::fs::remove_file(sidecar_path(&path)).unwrap();
        let err = load(&path).unwrap_err().to_string();
        assert!(
            err.contains("incomplete") && err.contains("c.json"),
            "{err}"
        );
    }

    #[test]
    fn sidecar_is_written_after_the_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.safetensors");
        let sidecar = sidecar_path(&path);
        for round in 0..2 {
            // The second round overwrites: the old sidecar must be gone before the new data lands.
            let t = randn(&[3, 5]);
            let checked = std::cell::Cell::new(false);
            save_with_hook(&path, &[("t".into(), t.shallow_clone())], &round, || {
                assert!(
                    !sidecar.exists(),
                    "round {round}: sidecar present before data committed"
                );
                let on_disk = Tensor::read_safetensors(&path).unwrap();
                assert!(
                    on_disk[0].1.equal(&t),
                    "round {round}: data complete before sidecar"
                );
                checked.set(true);
            })
            .unwrap();
            assert!(checked.get() && sidecar.exists());
            let (named, meta) = load(&path).unwrap();
            assert!(named["t"].equal(&t));
            assert_eq!(meta, serde_json::json!(round));
        }
        let mut names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["c.json", "c.safetensors"],
            "no temporary files left"
        );
    }

    #[test]
    fn restore_reports_missing_and_mismatched_keys() {
        let a = gan();
        let mut named: HashMap<String, Tensor> = state(&a).into_iter().collect();
        named.remove("g.bn1.running_var");
        named.insert("g.up0.weight".into(), randn(&[2, 2]));
        named.insert("g.up9.weight".into(), randn(&[2, 2]));
        let mut b = gan();
        let before = b.g_vs.variables()["to_rgb.weight"].copy();
        let err = restore_into(&mut b.g_vs, &named, G)
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing tensor g.bn1.running_var"), "{err}");
        assert!(
            err.contains("tensor g.up0.weight has shape [2, 2]"),
            "{err}"
        );
        assert!(err.contains("unexpected tensor g.up9.weight"), "{err}");
        assert!(
            b.g_vs.variables()["to_rgb.weight"].equal(&before),
            "left untouched on error"
        );
    }

    #[test]
    fn rejects_paths_without_safetensors_extension() {
        let dir = tempfile::tempdir().unwrap();
        let err = save(&dir.path().join("c.json"), &[], &())
            .unwrap_err()
            .to_string();
        assert!(err.contains("must end in .safetensors"), "{err}");
    }
}
