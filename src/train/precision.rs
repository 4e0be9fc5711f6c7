//! Mixed precision: libtorch's autocast to bfloat16 around the training step's forward passes,
//! through `csrc/shim.cpp` (tch's own `autocast` is CUDA fp16 only). Weights, gradients, Adam
//! moments and checkpoints stay fp32, so checkpoints load the same under either precision.

use std::os::raw::c_int;

use tch::Device;

use crate::config::Precision;
use crate::shim::{self, anigan_autocast_enter, anigan_autocast_exit, anigan_autocast_is_enabled};

/// Autocast to bf16 on this thread while alive (for `Precision::Bf16`; a no-op for fp32 or when
/// an outer guard is already active). Dropping it drops the cached bf16 weight copies, which go
/// stale once the optimiser updates the weights: keep one guard per forward pass.
pub struct Autocast {
    cuda: Option<c_int>,
}

impl Autocast {
    pub fn new(precision: Precision, device: Device) -> Self {
        let cuda = c_int::from(device.is_cuda());
        // SAFETY: plain calls into libtorch's thread-local autocast state; no pointers.
        let active =
            precision == Precision::Bf16 && unsafe { anigan_autocast_is_enabled(cuda) } == 0;
        if active {
            shim::check(unsafe { anigan_autocast_enter(cuda) }, "bf16 autocast");
        }
        Self {
            cuda: active.then_some(cuda),
        }
    }
}

impl Drop for Autocast {
    fn drop(&mut self) {
        if let Some(cuda) = self.cuda {
            // SAFETY: as in `new`.
            let rc = unsafe { anigan_autocast_exit(cuda) };
            debug_assert_eq!(rc, 0, "libtorch refused to disable autocast");
        }
    }
}

/// Allows or forbids TF32 (CUDA tensor cores with a 10-bit mantissa) for fp32 convolutions and
/// matmuls, process-wide: `torch.backends.cudnn.allow_tf32` and
/// `torch.backends.cuda.matmul.allow_tf32` together. libtorch's defaults are cuDNN on, matmul
/// off. No effect on the CPU, whose fp32 is always IEEE.
pub fn set_tf32(on: bool) {
    // SAFETY: plain calls into libtorch's global context; no pointers.
    shim::check(
        unsafe { shim::anigan_set_tf32(c_int::from(on)) },
        "set_tf32",
    );
}

/// Whether TF32 is allowed for both cuDNN convolutions and matmuls.
pub fn tf32_enabled() -> bool {
    // SAFETY: as in `set_tf32`.
    unsafe { shim::anigan_tf32_enabled() == 1 }
}

/// `f` under `Autocast::new(precision, device)`.
pub fn autocast<T>(precision: Precision, device: Device, f: impl FnOnce() -> T) -> T {
    let _guard = Autocast::new(precision, device);
    f()
}

#[cfg(test)]
mod tests {
    use tch::{Kind, Tensor, nn, nn::ModuleT};

    use super::*;

    #[test]
    fn tf32_switches_round_trip() {
        let before = tf32_enabled();
        set_tf32(true);
        assert!(tf32_enabled());
        set_tf32(false);
        assert!(!tf32_enabled());
        set_tf32(before);
    }

    #[test]
    fn bf16_runs_convolutions_in_bf16_and_leaves_weights_fp32() {
        let vs = nn::VarStore::new(Device::Cpu);
        let conv = nn::conv2d(vs.root(), 3, 4, 3, Default::default());
        let x = Tensor::randn([2, 3, 8, 8], (Kind::Float, Device::Cpu));
        let y = autocast(Precision::Bf16, Device::Cpu, || conv.forward_t(&x, true));
        assert_eq!(y.kind(), Kind::BFloat16);
        y.to_kind(Kind::Float).sum(Kind::Float).backward();
        assert_eq!(conv.ws.grad().kind(), Kind::Float, "fp32 master weights");
        let z = autocast(Precision::Fp32, Device::Cpu, || conv.forward_t(&x, true));
        assert_eq!(z.kind(), Kind::Float);
        assert_eq!(
            conv.forward_t(&x, true).kind(),
            Kind::Float,
            "off after the guard"
        );
    }
}
