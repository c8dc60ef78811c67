#pragma once
// The trainer's input: a batch's chips gathered from a ChipStore (memory or cache files) by a
// background thread while the step before trains, then handed over on the training device as
// float [B, 3, S, S] in [0, 1], where augmentation runs (augment.hpp). On a GPU the rows are
// staged in pinned memory and uploaded as uint8 without blocking.
//
//   ChipFeeder feeder(faces.chips, device);
//   feeder.prefetch(next_rows);                  // starts gathering in the background
//   torch::Tensor x = feeder.take(rows);         // the prefetched batch when the rows match
//   double waited = feeder.wait_seconds();       // time the caller spent blocked on its input

#include <cstdint>
#include <future>
#include <vector>

#include <torch/types.h>

#include "faceid/io/chip_store.hpp"

namespace faceid {

class ChipFeeder {
 public:
  /// `chips` must outlive the feeder.
  ChipFeeder(const ChipStore& chips, torch::Device device);
  ~ChipFeeder();
  ChipFeeder(const ChipFeeder&) = delete;
  ChipFeeder& operator=(const ChipFeeder&) = delete;

  /// Starts gathering `rows` in the background (replacing any batch prefetched and not taken).
  void prefetch(std::vector<std::int64_t> rows);
  /// The chips of `rows`, float [n, 3, S, S] in [0, 1] on the device: the prefetched batch when
  /// its rows are these, else gathered now. Rethrows what gathering threw (Error(Input) for an
  /// unreadable cache file).
  torch::Tensor take(const std::vector<std::int64_t>& rows);
  /// Seconds spent in take() waiting for rows and their upload, since the last reset.
  double wait_seconds() const { return wait_seconds_; }
  void reset_wait() { wait_seconds_ = 0; }

 private:
  at::Tensor gather(const std::vector<std::int64_t>& rows) const;

  const ChipStore& chips_;
  torch::Device device_;
  std::vector<std::int64_t> pending_rows_;
  std::future<at::Tensor> pending_;
  double wait_seconds_ = 0;
};

}  // namespace faceid
