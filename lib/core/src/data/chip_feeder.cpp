#include "faceid/data/chip_feeder.hpp"

#include <chrono>

namespace faceid {

ChipFeeder::ChipFeeder(const ChipStore& chips, torch::Device device)
    : chips_(chips), device_(device) {}

ChipFeeder::~ChipFeeder() {
  if (pending_.valid()) pending_.wait();  // the thread reads chips_: let it finish first
}

at::Tensor ChipFeeder::gather(const std::vector<std::int64_t>& rows) const {
  auto batch = chips_.gather(rows);
  // Pinned (page-locked) memory lets the upload run beside the GPU's work.
  return device_.is_cuda() ? batch.pin_memory() : batch;
}

void ChipFeeder::prefetch(std::vector<std::int64_t> rows) {
  if (pending_.valid()) pending_.wait();
  pending_rows_ = std::move(rows);
  pending_ = std::async(std::launch::async, [this, rows = pending_rows_] { return gather(rows); });
}

torch::Tensor ChipFeeder::take(const std::vector<std::int64_t>& rows) {
  const auto start = std::chrono::steady_clock::now();
  at::Tensor batch;
  if (pending_.valid() && pending_rows_ == rows) {
    batch = pending_.get();
  } else {
    if (pending_.valid()) pending_.wait();
    pending_ = {};
    batch = gather(rows);
  }
  auto x =
      batch.to(device_, /*non_blocking=*/true).permute({0, 3, 1, 2}).to(torch::kFloat).div_(255.0);
  wait_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return x;
}

}  // namespace faceid
