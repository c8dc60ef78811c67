#pragma once
// Pair sampling (docs/design.md §3), independent of tensors: chips are referred to by integer ids
// (rows of the chip tensor built in pair_dataset.hpp).
//  - owner pairs: anchor = owner photo, positive = another owner photo (1), negative = a stranger
//  (0)
//  - identity pairs: two photos of one LFW person (1), photos of two different people (0)
// Everything is seeded; the same pool, counts and seed give the same pairs.

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace faceid {

/// One person and the ids of their chips.
struct Identity {
  std::string name;
  std::vector<int> chips;
};

/// The chips pairs are drawn from: the owner's and the strangers' (grouped by person).
struct PairPool {
  std::vector<int> owner;
  std::vector<Identity> people;
  std::size_t stranger_chips() const;
  /// Every stranger chip row, person after person.
  std::vector<int> stranger_ids() const;
};

enum class PairKind : std::uint8_t {
  OwnerPositive,
  OwnerNegative,
  IdentityPositive,
  IdentityNegative
};

struct Pair {
  int a = 0;
  int b = 0;
  float label = 0;  ///< 1 = same person
  PairKind kind = PairKind::IdentityNegative;
};

/// How many pairs of each family to draw; each family is half positive, half negative (an odd
/// count gives the extra pair to the negatives).
struct PairCounts {
  std::size_t owner = 0;
  std::size_t identity = 0;
};

/// Training and validation pools: strangers split by person (people with one image and people
/// with several are split separately, so both sides get positives), owner photos split by photo.
struct PoolSplit {
  PairPool train;
  PairPool val;
};

/// Splits `pool` with `val_fraction` in [0, 1) of the people (and owner photos) going to val.
/// Throws Error(Usage) for a fraction outside [0, 1).
PoolSplit split_pool(const PairPool& pool, double val_fraction, std::uint64_t seed);

/// Draws pairs (shuffled). Throws Error(Input) when a family is asked for but impossible: owner
/// pairs with fewer than 2 owner photos or no strangers, identity pairs with no person of 2+
/// images or fewer than 2 people.
std::vector<Pair> sample_pairs(const PairPool& pool, const PairCounts& counts, std::uint64_t seed);

/// Two different chips of `person`. Throws Error(Input) when the person has fewer than 2.
std::pair<int, int> positive_pair(const Identity& person, std::mt19937_64& rng);

/// A 64-bit seed mixed from a base seed and a stream number (epoch, pair index, ...).
std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t stream);

}  // namespace faceid
