//! Picks the training device and makes CUDA visible to libtorch when it is there.

use anyhow::{Result, bail};
use tch::{Cuda, Device};

use crate::cli::DeviceChoice;

/// Loads libtorch's CUDA library. A binary linked with `--as-needed` drops it (no symbol of it
/// is used directly), and without it libtorch reports no CUDA even on a GPU machine.
fn load_torch_cuda() {
    let lib = std::path::Path::new(env!("ANIGAN_LIBTORCH_LIB")).join("libtorch_cuda.so");
    if lib.exists() {
        // SAFETY: loading libtorch's own CUDA backend; its initialisers only register kernels.
        if let Ok(handle) = unsafe { libloading::Library::new(&lib) } {
            // Keep it loaded for the life of the process.
            std::mem::forget(handle);
        }
    }
}

/// The device `choice` names; `Auto` is CUDA when a GPU is usable, else the CPU.
pub fn select(choice: DeviceChoice) -> Result<Device> {
    if choice != DeviceChoice::Cpu {
        load_torch_cuda();
    }
    let device = match choice {
        DeviceChoice::Cpu => Device::Cpu,
        DeviceChoice::Auto if Cuda::is_available() => Device::Cuda(0),
        DeviceChoice::Auto => Device::Cpu,
        DeviceChoice::Cuda(n) => {
            let count = Cuda::device_count() as usize;
            if n >= count {
                bail!(
                    "--device cuda:{n} asked for, but libtorch sees {count} CUDA device(s); \
                     use --device cpu or a device below {count}"
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

/// libtorch's CPU threads: `threads` if set, else the cores this process may use.
pub fn set_cpu_threads(threads: u32) -> usize {
    let n = if threads > 0 {
        threads as usize
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    };
    tch::set_num_threads(n as i32);
    n
}

pub fn describe(device: Device) -> String {
    match device {
        Device::Cuda(n) => format!("cuda:{n}"),
        _ => "cpu".to_string(),
    }
}
