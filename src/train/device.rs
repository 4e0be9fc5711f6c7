//! Picks the training device and makes CUDA visible to libtorch when it is there.

use std::str::FromStr;

use anyhow::{Result, bail};
use tch::{Cuda, Device};

/// The `--device` choice, before CUDA is probed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceChoice {
    Auto,
    Cpu,
    Cuda(usize),
}

impl FromStr for DeviceChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "cuda" => Ok(Self::Cuda(0)),
            _ => s
                .strip_prefix("cuda:")
                .and_then(|n| n.parse().ok())
                .map(Self::Cuda)
                .ok_or_else(|| format!("{s:?} is not a device: use auto, cpu, cuda or cuda:N")),
        }
    }
}

impl std::fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Auto => write!(f, "auto"),
            Self::Cpu => write!(f, "cpu"),
            Self::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

/// Loads libtorch's CUDA library. A binary linked with `--as-needed` drops it (no symbol of it
/// is used directly), and without it libtorch reports no CUDA even on a GPU machine. Tries the
/// libtorch this binary was built against, then the bare name, which the dynamic linker looks up
/// on `LD_LIBRARY_PATH`: a binary copied to a GPU machine whose torch lives elsewhere. Returns
/// whether it is loaded.
fn load_torch_cuda() -> bool {
    let built = std::path::Path::new(env!("BUILT_LIBTORCH_LIB")).join("libtorch_cuda.so");
    let candidates = [built.into_os_string(), "libtorch_cuda.so".into()];
    candidates.iter().any(|lib| {
        // SAFETY: loading libtorch's own CUDA backend; its initialisers only register kernels.
        match unsafe { libloading::Library::new(lib) } {
            Ok(handle) => {
                // Keep it loaded for the life of the process.
                std::mem::forget(handle);
                true
            }
            Err(_) => false,
        }
    })
}

/// Whether an NVIDIA driver is installed: its user-space library, `libcuda.so.1`, loads. Without
/// it no GPU is usable, and loading libtorch's CUDA backend anyway maps its CUDA libraries for
/// nothing: on the quickstart, 235 MB more resident memory for the whole run and about 110 MB
/// more touched by their destructors at exit.
fn nvidia_driver_present() -> bool {
    // SAFETY: the driver's library only initialises itself when loaded; it is unloaded at once.
    unsafe { libloading::Library::new("libcuda.so.1") }.is_ok()
}

/// The device `choice` names; `Auto` is CUDA when a GPU is usable, else the CPU.
pub fn select(choice: DeviceChoice) -> Result<Device> {
    let cuda_loaded = match choice {
        DeviceChoice::Cpu => false,
        DeviceChoice::Auto => nvidia_driver_present() && load_torch_cuda(),
        DeviceChoice::Cuda(_) => load_torch_cuda(),
    };
    let device = match choice {
        DeviceChoice::Cpu => Device::Cpu,
        DeviceChoice::Auto if Cuda::is_available() => Device::Cuda(0),
        DeviceChoice::Auto => Device::Cpu,
        DeviceChoice::Cuda(n) => {
            let count = Cuda::device_count() as usize;
            if !cuda_loaded {
                bail!(
                    "--device cuda:{n} asked for, but libtorch's CUDA library (libtorch_cuda.so) \
                     was found neither in {} nor on LD_LIBRARY_PATH; put the lib folder of a CUDA \
                     build of torch 2.11 on LD_LIBRARY_PATH, or use --device cpu",
                    env!("BUILT_LIBTORCH_LIB"),
                );
            }
            if count == 0 {
                bail!(
                    "--device cuda:{n} asked for, but libtorch sees no CUDA device here (no \
                     NVIDIA GPU, or its driver is not loaded); use --device cpu, or --device auto \
                     to take a GPU where there is one"
                );
            }
            if n >= count {
                bail!(
                    "--device cuda:{n} asked for, but libtorch sees {count} CUDA device(s); use \
                     one of cuda:0..cuda:{} or --device cpu",
                    count - 1
                );
            }
            Device::Cuda(n)
        }
    };
    if device.is_cuda() {
        // Fixed shapes every step: let cuDNN pick the fastest convolution algorithms once.
        Cuda::cudnn_set_benchmark(true);
    }
    Ok(device)
}

/// Sets libtorch's CPU threads (intra-op) to `threads`, at least 1; returns the count set.
pub fn set_cpu_threads(threads: usize) -> usize {
    let n = threads.max(1);
    tch::set_num_threads(n as i32);
    n
}

/// The cores this process may use: its CPU affinity mask (taskset, Slurm's binding, a
/// container's cpuset), capped by the cgroup's CPU quota rounded up (cgroup v2 `cpu.max`, or v1
/// `cpu.cfs_quota_us` / `cpu.cfs_period_us`). Never the machine's core count alone: libtorch's
/// threads spin, so one thread more than the cores allowed slows training many times over.
pub fn available_cores() -> usize {
    let affinity = affinity_cores()
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    match cgroup_quota_cores() {
        Some(q) => affinity.min(q).max(1),
        None => affinity.max(1),
    }
}

/// CPUs in this process's affinity mask (sched_getaffinity).
fn affinity_cores() -> Option<usize> {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; the kernel fills it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return None;
        }
        Some(libc::CPU_COUNT(&set) as usize).filter(|&n| n > 0)
    }
}

/// Whole cores the cgroup's quota allows, rounded up; None without a quota.
fn cgroup_quota_cores() -> Option<usize> {
    let membership = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let root = std::path::Path::new("/sys/fs/cgroup");
    for line in membership.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        let path = path.trim_start_matches('/');
        if controllers.is_empty() {
            // cgroup v2: "0::/path", quota in cpu.max.
            if let Ok(text) = std::fs::read_to_string(root.join(path).join("cpu.max")) {
                return quota_cores_v2(&text);
            }
        } else if controllers.split(',').any(|c| c == "cpu") {
            for dir in [
                root.join("cpu").join(path),
                root.join("cpu,cpuacct").join(path),
            ] {
                let read = |f: &str| std::fs::read_to_string(dir.join(f)).ok();
                if let (Some(q), Some(p)) = (read("cpu.cfs_quota_us"), read("cpu.cfs_period_us")) {
                    return quota_cores(q.trim().parse().ok()?, p.trim().parse().ok()?);
                }
            }
        }
    }
    None
}

/// Parses cgroup v2's `cpu.max` ("max 100000" or "200000 100000": quota and period in µs).
pub fn quota_cores_v2(cpu_max: &str) -> Option<usize> {
    let mut words = cpu_max.split_whitespace();
    let quota = words.next()?;
    let period: i64 = words.next()?.parse().ok()?;
    if quota == "max" {
        return None;
    }
    quota_cores(quota.parse().ok()?, period)
}

/// ceil(quota / period) cores; None for "no quota" (v1 writes -1).
fn quota_cores(quota: i64, period: i64) -> Option<usize> {
    (quota > 0 && period > 0).then(|| ((quota + period - 1) / period).max(1) as usize)
}

pub fn describe(device: Device) -> String {
    match device {
        Device::Cuda(n) => format!("cuda:{n}"),
        _ => "cpu".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices() {
        assert_eq!("cuda:2".parse(), Ok(DeviceChoice::Cuda(2)));
        assert_eq!("cpu".parse(), Ok(DeviceChoice::Cpu));
        assert!("gpu".parse::<DeviceChoice>().is_err());
    }

    #[test]
    fn auto_without_a_driver_leaves_libtorch_cuda_unloaded() {
        if nvidia_driver_present() {
            eprintln!("skipped: this machine has an NVIDIA driver, so `auto` loads CUDA");
            return;
        }
        assert_eq!(select(DeviceChoice::Auto).unwrap(), Device::Cpu);
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        assert!(
            !maps.contains("libtorch_cuda"),
            "`auto` on a machine without a driver mapped libtorch's CUDA backend"
        );
    }

    #[test]
    fn cgroup_quota_rounds_up_and_max_is_none() {
        assert_eq!(quota_cores_v2("max 100000\n"), None);
        assert_eq!(quota_cores_v2("200000 100000\n"), Some(2));
        assert_eq!(quota_cores_v2("150000 100000"), Some(2));
        assert_eq!(quota_cores_v2("50000 100000"), Some(1));
        assert_eq!(quota_cores(-1, 100000), None);
    }

    #[test]
    fn available_cores_follow_the_affinity_mask() {
        let n = available_cores();
        assert!(n >= 1);
        assert!(n <= affinity_cores().unwrap_or(usize::MAX));
    }
}
