#include "faceid/bundle/portable.hpp"

#include <tuple>
#include <vector>

namespace faceid {

torch::Tensor cpu_copy(const torch::Tensor& t) {
  if (!t.defined()) return t;
  return t.detach().to(torch::kCPU, t.scalar_type(), /*non_blocking=*/false, /*copy=*/true);
}

void save_portable(const torch::nn::Module& module, torch::serialize::OutputArchive& archive) {
  for (const auto& p : module.named_parameters(/*recurse=*/false))
    archive.write(p.key(), cpu_copy(p.value()));
  for (const auto& b : module.named_buffers(/*recurse=*/false))
    archive.write(b.key(), cpu_copy(b.value()), /*is_buffer=*/true);
  for (const auto& child : module.named_children()) {
    if (!child.value()->is_serializable()) continue;
    torch::serialize::OutputArchive child_archive(archive.compilation_unit());
    save_portable(*child.value(), child_archive);
    archive.write(child.key(), child_archive);
  }
}

void save_portable(torch::optim::AdamW& optimizer, torch::serialize::OutputArchive& archive) {
  // The archive keeps the tensors it is given: hand it CPU copies for the write, then give the
  // optimizer its own tensors back.
  using State = torch::optim::AdamWParamState;
  std::vector<std::tuple<State*, torch::Tensor, torch::Tensor, torch::Tensor>> own;
  for (auto& entry : optimizer.state()) {
    auto& s = static_cast<State&>(*entry.second);
    own.emplace_back(&s, s.exp_avg(), s.exp_avg_sq(), s.max_exp_avg_sq());
    s.exp_avg(cpu_copy(s.exp_avg()));
    s.exp_avg_sq(cpu_copy(s.exp_avg_sq()));
    s.max_exp_avg_sq(cpu_copy(s.max_exp_avg_sq()));
  }
  const auto give_back = [&] {
    for (auto& [s, exp_avg, exp_avg_sq, max_exp_avg_sq] : own) {
      s->exp_avg(exp_avg);
      s->exp_avg_sq(exp_avg_sq);
      s->max_exp_avg_sq(max_exp_avg_sq);
    }
  };
  try {
    optimizer.save(archive);
  } catch (...) {
    give_back();
    throw;
  }
  give_back();
}

}  // namespace faceid
