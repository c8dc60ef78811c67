#include "faceid/io/chip_store.hpp"

#include <cstring>

#include <ATen/ATen.h>

#include "faceid/error.hpp"

namespace faceid {

ChipStore::ChipStore(at::Tensor chips) : memory_(std::move(chips)) {
  if (memory_.dim() != 4 || memory_.size(1) != memory_.size(2) || memory_.size(3) != 3 ||
      memory_.scalar_type() != at::kByte)
    throw internal_error("ChipStore: chips must be uint8 [N, S, S, 3]");
  memory_ = memory_.contiguous();
  chip_size_ = static_cast<int>(memory_.size(1));
  rows_.resize(static_cast<std::size_t>(memory_.size(0)));
  for (std::size_t i = 0; i < rows_.size(); ++i) rows_[i].at = i;
}

ChipStore ChipStore::of(const std::vector<const CachedFace*>& faces, int chip_size) {
  const std::size_t bytes = static_cast<std::size_t>(chip_size) * chip_size * 3;
  std::int64_t in_memory = 0;
  for (const CachedFace* f : faces) in_memory += f->chip_file && f->chip.empty() ? 0 : 1;
  ChipStore store;
  store.chip_size_ = chip_size;
  store.memory_ = at::empty({in_memory, chip_size, chip_size, 3}, at::kByte);
  auto* memory = store.memory_.data_ptr<std::uint8_t>();
  std::uint64_t next = 0;
  for (const CachedFace* f : faces) {
    if (f->chip_file && f->chip.empty()) {
      store.rows_.push_back({f->chip_file, f->chip_offset});
    } else {
      f->read_chip(memory + next * bytes, bytes);
      store.rows_.push_back({nullptr, next++});
    }
  }
  return store;
}

std::int64_t ChipStore::rows_on_disk() const {
  std::int64_t n = 0;
  for (const auto& row : rows_) n += row.file ? 1 : 0;
  return n;
}

at::Tensor ChipStore::gather(const std::vector<std::int64_t>& rows) const {
  const std::size_t bytes = static_cast<std::size_t>(chip_size_) * chip_size_ * 3;
  auto out =
      at::empty({static_cast<std::int64_t>(rows.size()), chip_size_, chip_size_, 3}, at::kByte);
  auto* dst = out.data_ptr<std::uint8_t>();
  const auto* memory = memory_.defined() ? memory_.data_ptr<std::uint8_t>() : nullptr;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i] < 0 || rows[i] >= count())
      throw internal_error("ChipStore: row " + std::to_string(rows[i]) + " outside [0, " +
                           std::to_string(count()) + ")");
    const Row& row = rows_[static_cast<std::size_t>(rows[i])];
    if (row.file)
      row.file->read(row.at, dst + i * bytes, bytes);
    else
      std::memcpy(dst + i * bytes, memory + row.at * bytes, bytes);
  }
  return out;
}

at::Tensor ChipStore::gather(const std::vector<int>& rows) const {
  return gather(std::vector<std::int64_t>(rows.begin(), rows.end()));
}

at::Tensor ChipStore::all() const {
  std::vector<std::int64_t> rows(rows_.size());
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<std::int64_t>(i);
  return gather(rows);
}

}  // namespace faceid
