//! Bindings to `csrc/shim.cpp`, the few libtorch functions tch 0.24 does not expose (built by
//! build.rs against the same libtorch). Callers use the safe wrappers in `model::ops`,
//! `optim::adam` and `train::precision`; this module only declares them and turns a failure
//! into a panic carrying libtorch's message (a failure here is a bug, never bad input).

use std::ffi::CStr;
use std::os::raw::{c_char, c_int};

use torch_sys::C_tensor;

unsafe extern "C" {
    fn anigan_last_error() -> *const c_char;
    pub fn anigan_autocast_enter(cuda: c_int) -> c_int;
    pub fn anigan_autocast_exit(cuda: c_int) -> c_int;
    pub fn anigan_autocast_is_enabled(cuda: c_int) -> c_int;
    pub fn anigan_leaky_relu(x: *const C_tensor, slope: f64, out: *mut *mut C_tensor) -> c_int;
    pub fn anigan_grads_to_none(params: *const *const C_tensor, n: c_int) -> c_int;
    pub fn anigan_fused_adam(
        params: *const *const C_tensor,
        exp_avgs: *const *const C_tensor,
        exp_avg_sqs: *const *const C_tensor,
        n: c_int,
        step: *const C_tensor,
        skip: *const C_tensor,
        lr: f64,
        beta1: f64,
        beta2: f64,
        eps: f64,
    ) -> c_int;
    pub fn anigan_set_tf32(on: c_int) -> c_int;
    pub fn anigan_tf32_enabled() -> c_int;
}

/// Panics with libtorch's message unless `rc` is 0 (the shim's success).
pub fn check(rc: c_int, what: &str) {
    if rc != 0 {
        // SAFETY: the shim returns a NUL-terminated thread-local string, valid until its next
        // failing call on this thread; it is copied at once.
        let msg = unsafe { CStr::from_ptr(anigan_last_error()) }.to_string_lossy();
        panic!("libtorch's {what} failed: {msg}");
    }
}
