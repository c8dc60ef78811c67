#include "faceid/model/autocast.hpp"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include "faceid/error.hpp"

namespace faceid {

namespace {

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
void set_bf16(torch::DeviceType type, bool on) {
  at::autocast::set_autocast_dtype(type, at::kBFloat16);
  at::autocast::set_autocast_enabled(type, on);
}
#else
void set_bf16(torch::DeviceType type, bool on) {
  if (type == torch::kCUDA) {
    at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
    at::autocast::set_enabled(on);
  } else {
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
    at::autocast::set_cpu_enabled(on);
  }
}
#endif

}  // namespace

Bf16Autocast::Bf16Autocast(torch::Device device, bool enabled)
    : type_(device.type()), enabled_(enabled) {
  if (!enabled_) return;
  if (type_ != torch::kCPU && type_ != torch::kCUDA)
    throw usage_error("bfloat16 autocast runs on a CPU or a CUDA device, not " + device.str());
  at::autocast::increment_nesting();
  set_bf16(type_, true);
}

Bf16Autocast::~Bf16Autocast() {
  if (!enabled_) return;
  set_bf16(type_, false);
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
}

}  // namespace faceid
