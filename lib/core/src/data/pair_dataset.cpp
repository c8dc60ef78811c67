#include "faceid/data/pair_dataset.hpp"

#include <cstring>

#include "faceid/data/augment.hpp"
#include "faceid/error.hpp"

namespace fs = std::filesystem;

namespace faceid {
namespace {

// Appends the face of `file` (when cached with a face) to `rows`; returns its id or -1.
int add_face(const fs::path& file, const FaceCache& cache, std::vector<const CachedFace*>& rows,
             std::vector<std::string>& sources) {
  const CachedFace* face = cache.find_file(file);  // null also when it vanished since
  if (!face || face->status != FaceStatus::Face) return -1;
  rows.push_back(face);
  sources.push_back(face->key.path);
  return static_cast<int>(rows.size() - 1);
}

}  // namespace

FaceSet make_face_set(const std::vector<Person>& people, const FaceCache& people_cache,
                      const std::vector<fs::path>& owner, const FaceCache* owner_cache,
                      const std::set<std::string>& exclude) {
  if (!owner.empty() && !owner_cache)
    throw internal_error("make_face_set: owner photos without a cache");
  if (owner_cache && owner_cache->chip_size() != people_cache.chip_size())
    throw input_error("face caches of different chip sizes");
  FaceSet set;
  std::vector<const CachedFace*> rows;
  for (const auto& file : owner) {
    const int id = add_face(file, *owner_cache, rows, set.sources);
    if (id < 0)
      ++set.missing;
    else
      set.pool.owner.push_back(id);
  }
  for (const auto& person : people) {
    if (exclude.count(person.name)) {
      ++set.excluded_people;
      continue;
    }
    Identity identity{person.name, {}};
    for (const auto& file : person.images) {
      const int id = add_face(file, people_cache, rows, set.sources);
      if (id < 0)
        ++set.missing;
      else
        identity.chips.push_back(id);
    }
    if (!identity.chips.empty()) set.pool.people.push_back(std::move(identity));
  }
  set.chips = ChipStore::of(rows, people_cache.chip_size());
  return set;
}

torch::Tensor chip_to_float(const torch::Tensor& chips, int id) {
  return chips[id].permute({2, 0, 1}).to(torch::kFloat).div_(255.0);
}

PairDataset::PairDataset(torch::Tensor chips, std::vector<Pair> pairs, AugmentConfig augment,
                         std::uint64_t seed, std::size_t index_offset)
    : chips_(std::move(chips)),
      pairs_(std::move(pairs)),
      augment_(augment),
      seed_(seed),
      index_offset_(index_offset) {
  if (chips_.dim() != 4 || chips_.size(3) != 3 || chips_.scalar_type() != torch::kUInt8)
    throw internal_error("PairDataset: chips must be uint8 [N,S,S,3]");
  const auto n = chips_.size(0);
  for (const auto& p : pairs_)
    if (p.a < 0 || p.b < 0 || p.a >= n || p.b >= n)
      throw internal_error("PairDataset: pair refers to a chip outside [0, " + std::to_string(n) +
                           ")");
}

torch::data::Example<> PairDataset::get(std::size_t index) {
  const Pair& p = pairs_.at(index);
  const auto seed = mix_seed(seed_, index + index_offset_);
  auto a = augment(chip_to_float(chips_, p.a), augment_, mix_seed(seed, 1));
  auto b = augment(chip_to_float(chips_, p.b), augment_, mix_seed(seed, 2));
  return {torch::stack({a, b}), torch::tensor(p.label)};
}

torch::optional<std::size_t> PairDataset::size() const { return pairs_.size(); }

}  // namespace faceid
