// What tch 0.24 lacks, compiled by build.rs against the libtorch headers the binary links:
// autocast with a chosen dtype on CPU and CUDA (tch's `autocast` is CUDA fp16 only), leaky ReLU
// with a slope, PyTorch's fused Adam with its device-side skip, gradients set to none, and the
// TF32 switches. Tensors are tch tensors (heap at::Tensor*, as torch-sys's glue passes them).
// Every function catches C++ exceptions and returns 0 on success, 1 on failure; the failure's
// message is then `anigan_last_error()`.
#include <ATen/Context.h>
#include <ATen/autocast_mode.h>
#include <ATen/ops/_fused_adam.h>
#include <ATen/ops/leaky_relu.h>

#include <string>
#include <vector>

namespace {
at::DeviceType device_type(int cuda) { return cuda ? at::kCUDA : at::kCPU; }

thread_local std::string last_error;

// Runs `f`, turning an exception into 1 and its message into `last_error`.
template <typename F>
int guarded(F f) {
  try {
    f();
    return 0;
  } catch (const std::exception& e) {
    last_error = e.what();
  } catch (...) {
    last_error = "unknown C++ exception";
  }
  return 1;
}
}  // namespace

extern "C" {

// The message of this thread's last failure ("" if none); valid until the next failing call.
const char* anigan_last_error() { return last_error.c_str(); }

// Enables autocast on this thread for the CPU (cuda = 0) or CUDA (cuda = 1) with bfloat16.
int anigan_autocast_enter(int cuda) {
  return guarded([&] {
    at::autocast::set_autocast_dtype(device_type(cuda), at::kBFloat16);
    at::autocast::set_autocast_enabled(device_type(cuda), true);
    at::autocast::increment_nesting();
  });
}

// Disables it again and, at the outermost level, drops the cached low-precision weight copies
// (they go stale as soon as the optimiser updates the fp32 weights), as torch.autocast's exit does.
int anigan_autocast_exit(int cuda) {
  return guarded([&] {
    at::autocast::set_autocast_enabled(device_type(cuda), false);
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  });
}

// 1 when autocast is on for the device on this thread.
int anigan_autocast_is_enabled(int cuda) {
  return at::autocast::is_autocast_enabled(device_type(cuda)) ? 1 : 0;
}

// Leaky ReLU with a slope (tch's is fixed at 0.01): one fused kernel forward and backward instead
// of max(x, slope * x). On success `*out` is a new tensor the caller owns.
int anigan_leaky_relu(const at::Tensor* x, double slope, at::Tensor** out) {
  return guarded([&] { *out = new at::Tensor(at::leaky_relu(*x, slope)); });
}

// Drops the gradients of `n` tensors (PyTorch's zero_grad(set_to_none=True)): the next backward
// pass then writes fresh gradients instead of adding into zeroed ones.
int anigan_grads_to_none(const at::Tensor* const* params, int n) {
  return guarded([&] {
    for (int i = 0; i < n; ++i) params[i]->mutable_grad().reset();
  });
}

// One Adam update (torch.optim.Adam(fused=True): libtorch's _fused_adam_, one kernel per tensor
// on the CPU, one multi-tensor launch on CUDA) of the `n` params that have a gradient, with their
// moments `exp_avgs` and `exp_avg_sqs`. `step` is the 0-d f32 update count including this update,
// shared by all params. `skip` is a 0-d f32 tensor on the params' device: when it holds 1 the
// kernel returns before touching anything (PyTorch's `found_inf`, read on the device), so the
// caller needs no host round trip to gate an update.
int anigan_fused_adam(const at::Tensor* const* params, const at::Tensor* const* exp_avgs,
                      const at::Tensor* const* exp_avg_sqs, int n, const at::Tensor* step,
                      const at::Tensor* skip, double lr, double beta1, double beta2,
                      double eps) {
  return guarded([&] {
    std::vector<at::Tensor> p, g, m, v, steps;
    for (int i = 0; i < n; ++i) {
      const at::Tensor& grad = params[i]->grad();
      if (!grad.defined()) continue;
      p.push_back(*params[i]);
      g.push_back(grad);
      m.push_back(*exp_avgs[i]);
      v.push_back(*exp_avg_sqs[i]);
      steps.push_back(*step);
    }
    if (p.empty()) return;
    at::_fused_adam_(p, g, m, v, /*max_exp_avg_sqs=*/{}, steps, lr, beta1, beta2,
                     /*weight_decay=*/0.0, eps, /*amsgrad=*/false, /*maximize=*/false,
                     /*grad_scale=*/std::nullopt, /*found_inf=*/*skip);
  });
}

// TF32 (CUDA's 10-bit-mantissa tensor-core mode) for fp32 matmuls and cuDNN convolutions: the
// switches torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32 set.
// No effect on the CPU.
int anigan_set_tf32(int on) {
  return guarded([&] {
    at::globalContext().setAllowTF32CuBLAS(on != 0);
    at::globalContext().setAllowTF32CuDNN(on != 0);
  });
}

// 1 when TF32 is allowed for both matmuls and cuDNN convolutions.
int anigan_tf32_enabled() {
  return at::globalContext().allowTF32CuBLAS() && at::globalContext().allowTF32CuDNN() ? 1 : 0;
}
}
