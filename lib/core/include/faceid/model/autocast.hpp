#pragma once
// Mixed precision: bfloat16 autocast on one device kind (CPU or CUDA) for a scope, with the
// LibTorch API of either era (set_cpu_enabled up to 2.3, set_autocast_enabled since 2.4).
//
//   { Bf16Autocast bf16(device, config.precision == "bf16"); loss = forward(x); }

#include <torch/types.h>

namespace faceid {

class Bf16Autocast {
 public:
  /// Nothing happens when `enabled` is false.
  Bf16Autocast(torch::Device device, bool enabled);
  ~Bf16Autocast();
  Bf16Autocast(const Bf16Autocast&) = delete;
  Bf16Autocast& operator=(const Bf16Autocast&) = delete;

 private:
  torch::DeviceType type_;
  bool enabled_;
};

}  // namespace faceid
