#include "faceid/data/batch_sampler.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include "faceid/data/pairs.hpp"
#include "faceid/error.hpp"

namespace faceid {
namespace {

std::size_t places_of(std::size_t photos, int k) {
  return std::max<std::size_t>(
      1, static_cast<std::size_t>(std::lround(static_cast<double>(photos) / k)));
}

}  // namespace

PKSampler::PKSampler(std::vector<std::vector<int>> classes, BatchShape shape, std::uint64_t seed)
    : classes_(std::move(classes)), shape_(shape), seed_(seed) {
  if (shape_.people < 2 || shape_.photos < 1)
    throw usage_error("a batch needs at least 2 people and 1 photo each (P=" +
                      std::to_string(shape_.people) + ", K=" + std::to_string(shape_.photos) + ")");
  const auto with_photos =
      std::count_if(classes_.begin(), classes_.end(), [](const auto& c) { return !c.empty(); });
  if (with_photos < shape_.people)
    throw input_error(std::to_string(with_photos) + " people with a face photo; a batch needs " +
                      std::to_string(shape_.people) + " different people");
}

namespace {

// Places of each class in an epoch of `batches` batches: ~photos / K, at least 1 for a class with
// a photo, at most one per batch (so that every batch holds P different people).
std::vector<std::size_t> capped_places(const std::vector<std::vector<int>>& classes, int k,
                                       std::size_t batches) {
  std::vector<std::size_t> places;
  for (const auto& c : classes)
    places.push_back(c.empty() ? 0 : std::min(places_of(c.size(), k), batches));
  return places;
}

}  // namespace

std::size_t PKSampler::batches_per_epoch() const {
  // Capping a class at one place per batch lowers the total, which may lower the batch count:
  // repeat until it holds (a handful of rounds at most).
  const auto p = static_cast<std::size_t>(shape_.people);
  std::size_t batches = std::numeric_limits<std::size_t>::max();
  for (;;) {
    const auto places = capped_places(classes_, shape_.photos, batches);
    const std::size_t next = std::accumulate(places.begin(), places.end(), std::size_t{0}) / p;
    if (next >= batches) return batches;
    batches = next;
  }
}

std::vector<Batch> PKSampler::epoch(int epoch) const {
  std::mt19937_64 rng(mix_seed(seed_, 0x9c0000u + static_cast<std::uint64_t>(epoch)));
  const std::size_t batches = batches_per_epoch();
  const auto p = static_cast<std::size_t>(shape_.people);
  const auto places = capped_places(classes_, shape_.photos, batches);
  // People in random order, each person's places side by side; place i goes to batch i mod B.
  // A person has at most B places, so their places land in different batches; the places past
  // B * P (the last people's) wait for another epoch.
  std::vector<int> people;
  for (std::size_t c = 0; c < classes_.size(); ++c)
    if (places[c] > 0) people.push_back(static_cast<int>(c));
  std::shuffle(people.begin(), people.end(), rng);
  std::vector<std::vector<int>> members(batches);
  std::size_t i = 0;
  for (const int c : people)
    for (std::size_t k = 0; k < places[static_cast<std::size_t>(c)] && i < batches * p; ++k, ++i)
      members[i % batches].push_back(c);
  std::shuffle(members.begin(), members.end(), rng);

  // Each place draws the next K photos of its person's shuffled photos (cycling).
  std::vector<std::vector<int>> order(classes_.size());
  std::vector<std::size_t> cursor(classes_.size(), 0);
  for (const int c : people) {
    order[static_cast<std::size_t>(c)] = classes_[static_cast<std::size_t>(c)];
    std::shuffle(order[static_cast<std::size_t>(c)].begin(),
                 order[static_cast<std::size_t>(c)].end(), rng);
  }
  std::vector<Batch> out;
  for (const auto& m : members) {
    Batch b;
    for (const int c : m) {
      const auto& photos = order[static_cast<std::size_t>(c)];
      auto& at = cursor[static_cast<std::size_t>(c)];
      for (int k = 0; k < shape_.photos; ++k) {
        b.chips.push_back(photos[at++ % photos.size()]);
        b.labels.push_back(c);
      }
    }
    out.push_back(std::move(b));
  }
  return out;
}

}  // namespace faceid
