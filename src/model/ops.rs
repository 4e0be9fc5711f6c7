//! Layer functions tch 0.24 lacks, implemented in `csrc/shim.cpp` over libtorch.

use tch::Tensor;
use torch_sys::C_tensor;

use crate::shim;

/// Leaky ReLU with negative slope `slope` (DCGAN uses 0.2): x for x > 0, else slope * x; any
/// shape, autograd as `torch.nn.functional.leaky_relu`. tch's `leaky_relu` fixes the slope at 0.01.
pub fn leaky_relu(x: &Tensor, slope: f64) -> Tensor {
    let mut out: *mut C_tensor = std::ptr::null_mut();
    // SAFETY: `x` is a live tch tensor (a heap at::Tensor* on the C++ side); on success the
    // shim stores a new heap tensor in `out`, whose ownership passes to the returned Tensor.
    let rc = unsafe { shim::anigan_leaky_relu(x.as_ptr(), slope, &mut out) };
    shim::check(rc, "leaky_relu");
    unsafe { Tensor::from_ptr(out) }
}

#[cfg(test)]
mod tests {
    use tch::{Device, Kind};

    use super::*;

    #[test]
    fn matches_max_of_x_and_slope_x_with_gradients() {
        let x = Tensor::randn([3, 5], (Kind::Float, Device::Cpu)).set_requires_grad(true);
        let y = leaky_relu(&x, 0.2);
        let expected = x.maximum(&(&x * 0.2));
        assert!(y.allclose(&expected, 0.0, 0.0, false));
        y.sum(Kind::Float).backward();
        let slope = x.gt(0.0).to_kind(Kind::Float) * 0.8 + 0.2;
        assert!(x.grad().allclose(&slope, 0.0, 0.0, false));
    }
}
