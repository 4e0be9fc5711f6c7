// What tch 0.24 lacks: libtorch's autocast with a chosen dtype on CPU and CUDA (tch's
// `autocast` is CUDA fp16 only), and leaky ReLU with a slope. Compiled by build.rs against the
// libtorch headers the binary links; every function catches C++ exceptions and returns 0 on
// success.
#include <ATen/autocast_mode.h>

namespace {
at::DeviceType device_type(int cuda) { return cuda ? at::kCUDA : at::kCPU; }
}  // namespace

extern "C" {

// Enables autocast on this thread for the CPU (cuda = 0) or CUDA (cuda = 1) with bfloat16.
int anigan_autocast_enter(int cuda) {
  try {
    at::autocast::set_autocast_dtype(device_type(cuda), at::kBFloat16);
    at::autocast::set_autocast_enabled(device_type(cuda), true);
    at::autocast::increment_nesting();
    return 0;
  } catch (...) {
    return 1;
  }
}

// Disables it again and, at the outermost level, drops the cached low-precision weight copies
// (they go stale as soon as the optimiser updates the fp32 weights), as torch.autocast's exit does.
int anigan_autocast_exit(int cuda) {
  try {
    at::autocast::set_autocast_enabled(device_type(cuda), false);
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    return 0;
  } catch (...) {
    return 1;
  }
}

// 1 when autocast is on for the device on this thread.
int anigan_autocast_is_enabled(int cuda) {
  return at::autocast::is_autocast_enabled(device_type(cuda)) ? 1 : 0;
}
}

// What else tch lacks on the hot path: leaky ReLU with a slope (tch's is fixed at 0.01). `x` is a
// tch tensor (a heap at::Tensor*, as torch-sys's glue passes them); on success `*out` is a new one
// the caller owns. One fused kernel forward and backward instead of max(x, slope * x).
#include <ATen/ops/leaky_relu.h>

extern "C" int anigan_leaky_relu(const at::Tensor* x, double slope, at::Tensor** out) {
  try {
    *out = new at::Tensor(at::leaky_relu(*x, slope));
    return 0;
  } catch (...) {
    return 1;
  }
}
