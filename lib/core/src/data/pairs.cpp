#include "faceid/data/pairs.hpp"

#include <algorithm>
#include <cmath>

#include "faceid/error.hpp"

namespace faceid {
namespace {

template <typename T>
const T& pick(const std::vector<T>& v, std::mt19937_64& rng) {
  return v[std::uniform_int_distribution<std::size_t>(0, v.size() - 1)(rng)];
}

// Moves round(fraction * n) shuffled items of `items` into `val`, the rest into `train`.
template <typename T>
void split_items(std::vector<T> items, double fraction, std::mt19937_64& rng, std::vector<T>& train,
                 std::vector<T>& val) {
  std::shuffle(items.begin(), items.end(), rng);
  const auto n_val =
      static_cast<std::size_t>(std::lround(fraction * static_cast<double>(items.size())));
  for (std::size_t i = 0; i < items.size(); ++i)
    (i < n_val ? val : train).push_back(std::move(items[i]));
}

}  // namespace

std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t stream) {
  // splitmix64 of the combination: well-spread seeds for nearby (seed, stream) values.
  std::uint64_t z = seed + 0x9e3779b97f4a7c15ull * (stream + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

std::size_t PairPool::stranger_chips() const {
  std::size_t n = 0;
  for (const auto& p : people) n += p.chips.size();
  return n;
}

std::vector<int> PairPool::stranger_ids() const {
  std::vector<int> ids;
  ids.reserve(stranger_chips());
  for (const auto& p : people) ids.insert(ids.end(), p.chips.begin(), p.chips.end());
  return ids;
}

PoolSplit split_pool(const PairPool& pool, double val_fraction, std::uint64_t seed) {
  if (!(val_fraction >= 0 && val_fraction < 1))
    throw usage_error("validation fraction " + std::to_string(val_fraction) + " outside [0, 1)");
  std::mt19937_64 rng(mix_seed(seed, 0x5b1170));
  std::vector<Identity> single, multi;
  for (const auto& p : pool.people) (p.chips.size() >= 2 ? multi : single).push_back(p);
  PoolSplit split;
  split_items(std::move(multi), val_fraction, rng, split.train.people, split.val.people);
  split_items(std::move(single), val_fraction, rng, split.train.people, split.val.people);
  split_items(pool.owner, val_fraction, rng, split.train.owner, split.val.owner);
  auto by_name = [](const Identity& a, const Identity& b) { return a.name < b.name; };
  std::sort(split.train.people.begin(), split.train.people.end(), by_name);
  std::sort(split.val.people.begin(), split.val.people.end(), by_name);
  std::sort(split.train.owner.begin(), split.train.owner.end());
  std::sort(split.val.owner.begin(), split.val.owner.end());
  return split;
}

std::pair<int, int> positive_pair(const Identity& person, std::mt19937_64& rng) {
  const auto n = person.chips.size();
  if (n < 2)
    throw input_error("person '" + person.name + "' has " + std::to_string(n) +
                      " image(s): no positive pair possible");
  const auto i = std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
  auto j = std::uniform_int_distribution<std::size_t>(0, n - 2)(rng);
  if (j >= i) ++j;
  return {person.chips[i], person.chips[j]};
}

std::vector<Pair> sample_pairs(const PairPool& pool, const PairCounts& counts, std::uint64_t seed) {
  std::mt19937_64 rng(mix_seed(seed, 0x9a125));
  std::vector<Pair> pairs;
  pairs.reserve(counts.owner + counts.identity);

  // Any stranger chip, uniformly over people and then over their photos.
  auto stranger = [&] { return pick(pick(pool.people, rng).chips, rng); };

  if (counts.owner > 0) {
    if (pool.owner.size() < 2)
      throw input_error("owner pairs need at least 2 owner photos with a face, have " +
                        std::to_string(pool.owner.size()));
    if (pool.people.empty()) throw input_error("owner pairs need stranger faces, have none");
    const Identity owner{"owner", pool.owner};
    for (std::size_t k = 0; k < counts.owner; ++k) {
      if (k < counts.owner / 2) {
        auto [a, b] = positive_pair(owner, rng);
        pairs.push_back({a, b, 1.f, PairKind::OwnerPositive});
      } else {
        pairs.push_back({pick(pool.owner, rng), stranger(), 0.f, PairKind::OwnerNegative});
      }
    }
  }

  if (counts.identity > 0) {
    std::vector<const Identity*> multi;
    for (const auto& p : pool.people)
      if (p.chips.size() >= 2) multi.push_back(&p);
    if (multi.empty())
      throw input_error("identity pairs need a person with 2+ face images, have none");
    if (pool.people.size() < 2)
      throw input_error("identity pairs need 2+ people, have " +
                        std::to_string(pool.people.size()));
    const auto n_people = pool.people.size();
    for (std::size_t k = 0; k < counts.identity; ++k) {
      if (k < counts.identity / 2) {
        auto [a, b] = positive_pair(*pick(multi, rng), rng);
        pairs.push_back({a, b, 1.f, PairKind::IdentityPositive});
      } else {
        const auto i = std::uniform_int_distribution<std::size_t>(0, n_people - 1)(rng);
        auto j = std::uniform_int_distribution<std::size_t>(0, n_people - 2)(rng);
        if (j >= i) ++j;
        pairs.push_back({pick(pool.people[i].chips, rng), pick(pool.people[j].chips, rng), 0.f,
                         PairKind::IdentityNegative});
      }
    }
  }
  std::shuffle(pairs.begin(), pairs.end(), rng);
  return pairs;
}

}  // namespace faceid
