#pragma once
// Archives that load on any device. Every tensor a bundle or a checkpoint writes is a CPU copy
// of its source, wherever the module or optimizer lives (a model trained on a GPU loads on a
// CPU), and the readers map what they read to the device asked for (map_location:
// InputArchive::load_from(..., device)).
//
//   torch::serialize::OutputArchive archive;
//   save_portable(*net, archive);        // Module::save's layout, CPU copies
//   save_portable(optimizer, archive);   // AdamW's state, CPU copies

#include <torch/nn/module.h>
#include <torch/optim/adamw.h>
#include <torch/serialize/output-archive.h>

namespace faceid {

/// A CPU copy of `t`, never a view of it: moving or changing `t` later leaves the copy as it was.
/// An undefined tensor stays undefined.
torch::Tensor cpu_copy(const torch::Tensor& t);

/// What Module::save writes (parameters, buffers, then the serialisable children by name, so
/// that Module::load reads it back), each tensor a cpu_copy.
void save_portable(const torch::nn::Module& module, torch::serialize::OutputArchive& archive);

/// What Optimizer::save writes, its state tensors as CPU copies (the optimizer keeps its own).
void save_portable(torch::optim::AdamW& optimizer, torch::serialize::OutputArchive& archive);

}  // namespace faceid
