#pragma once
// The dataset pair loader (docs/design.md §3): the faces of a face cache gathered into one chip
// tensor, and a torch::data dataset over sampled pairs that augments on the fly.
//
//   FaceSet faces = make_face_set(people, lfw_cache, owner_files, owner_cache, excluded);
//   PoolSplit split = split_pool(faces.pool, 0.1, seed);
//   auto pairs = sample_pairs(split.train, {4000, 16000}, mix_seed(seed, epoch));
//   auto loader = torch::data::make_data_loader(
//       PairDataset(faces.chips.all(), pairs, augment_config,
//       seed).map(torch::data::transforms::Stack<>()),
//       torch::data::DataLoaderOptions(batch).workers(2));
//   // batch.data: float [B, 2, 3, S, S] in [0, 1]; batch.target: float [B] (1 = same person)

#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <torch/data/datasets/base.h>
#include <torch/data/example.h>
#include <torch/types.h>

#include "faceid/config.hpp"
#include "faceid/data/pairs.hpp"
#include "faceid/io/chip_store.hpp"
#include "faceid/io/face_cache.hpp"
#include "faceid/io/sources.hpp"

namespace faceid {

/// The faces available for training or evaluation.
struct FaceSet {
  ChipStore chips;                   ///< N rows of uint8 [S, S, 3], RGB
  std::vector<std::string> sources;  ///< the source file of each chip row
  PairPool pool;                     ///< ids are rows of `chips`
  std::size_t missing = 0;           ///< images not in the cache or without a face (left out)
  std::size_t excluded_people = 0;   ///< people left out because they were in `exclude`
};

/// Gathers the cached faces of `people` (strangers) and of `owner` photos. Images that are not
/// in their cache, or have no face, are counted in `missing` and left out; people named in
/// `exclude`, and people left with no face, are left out. `owner_cache` may be null when there
/// are no owner photos. Chips of caches loaded with ChipLoading::OnDemand stay in their files
/// (the caches' files stay open as long as the set lives).
FaceSet make_face_set(const std::vector<Person>& people, const FaceCache& people_cache,
                      const std::vector<std::filesystem::path>& owner, const FaceCache* owner_cache,
                      const std::set<std::string>& exclude);

/// Row `id` of a chip tensor as float [3, S, S] in [0, 1].
torch::Tensor chip_to_float(const torch::Tensor& chips, int id);

/// One example per pair: data = float [2, 3, S, S] (the two chips, augmented), target = float
/// scalar label. Item i is augmented with seed mix_seed(seed, i + index_offset), whatever thread
/// loads it (the offset lets a resumed epoch continue with the very same augmentations).
class PairDataset : public torch::data::datasets::Dataset<PairDataset> {
 public:
  PairDataset(torch::Tensor chips, std::vector<Pair> pairs, AugmentConfig augment,
              std::uint64_t seed, std::size_t index_offset = 0);
  torch::data::Example<> get(std::size_t index) override;
  torch::optional<std::size_t> size() const override;
  const std::vector<Pair>& pairs() const { return pairs_; }

 private:
  torch::Tensor chips_;
  std::vector<Pair> pairs_;
  AugmentConfig augment_;
  std::uint64_t seed_;
  std::size_t index_offset_;
};

}  // namespace faceid
