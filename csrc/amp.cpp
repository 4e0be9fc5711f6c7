// What tch 0.24 lacks for mixed precision: libtorch's autocast with a chosen dtype on CPU and
// CUDA (tch's `autocast` is CUDA fp16 only). Compiled by build.rs against the libtorch headers
// the binary links; every function catches C++ exceptions and returns 0 on success.
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
