#pragma once
// The chips of a face set (FaceSet::chips): uint8 RGB rows [S, S, 3], each either in memory or
// read when gathered from the face cache file it lives in (FaceCache::load with
// ChipLoading::OnDemand). Training gathers a batch's rows at a time, so a set of any size costs
// memory for the batches, not for its pixels.
//
//   ChipStore chips = ChipStore::of(cached_faces, 100);   // rows stay in their cache files
//   torch::Tensor batch = chips.gather({4, 17, 9});       // uint8 [3, 100, 100, 3]

#include <cstdint>
#include <memory>
#include <vector>

#include <ATen/core/Tensor.h>

#include "faceid/io/face_cache.hpp"

namespace faceid {

class ChipStore {
 public:
  ChipStore() = default;
  /// Rows held in memory: uint8 [N, S, S, 3]. Throws Error(Internal) for another shape or type.
  ChipStore(at::Tensor chips);  // NOLINT(google-explicit-constructor): a tensor is a store

  /// The chips of `faces` (status Face, each with its chip in memory or in a cache file), in
  /// order: rows in a file stay there, the others are copied. Throws Error(Internal) for a face
  /// without a chip of `chip_size`.
  static ChipStore of(const std::vector<const CachedFace*>& faces, int chip_size);

  std::int64_t count() const { return static_cast<std::int64_t>(rows_.size()); }
  int chip_size() const { return chip_size_; }
  /// Rows read from files when gathered (the others are in memory).
  std::int64_t rows_on_disk() const;

  /// uint8 [n, S, S, 3] of rows `rows`, in that order. Throws Error(Internal) for a row out of
  /// range, Error(Input) when a cache file cannot be read.
  at::Tensor gather(const std::vector<std::int64_t>& rows) const;
  at::Tensor gather(const std::vector<int>& rows) const;
  /// Every row (in memory: for small sets only).
  at::Tensor all() const;

 private:
  struct Row {
    std::shared_ptr<const ChipFile> file;  ///< null: row `at` of memory_
    std::uint64_t at = 0;                  ///< else: the chip's byte offset in `file`
  };
  int chip_size_ = 0;
  std::vector<Row> rows_;
  at::Tensor memory_;
};

}  // namespace faceid
