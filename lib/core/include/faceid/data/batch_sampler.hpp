#pragma once
// P x K batches (docs/design.md §4): every training batch holds K photos of each of P different
// people, so that one forward pass feeds both losses — the identity-margin loss on every image
// and the Siamese head's binary cross-entropy on the pairs formed inside the batch (every
// positive pair, the hardest negatives). No tensors: chips are ids, people are class indices.
//
//   PKSampler sampler(classes, {64, 2}, seed);      // classes[c] = chip ids of person c
//   for (const Batch& b : sampler.epoch(3)) ...    // b.chips[i] is a photo of person b.labels[i]
//
// An epoch uses each photo about once: a person with n photos gets max(1, round(n / K)) places
// in it (at most one per batch), and each place draws the next K photos of that person's shuffled
// photos (cycling; a person with fewer than K photos repeats them, which augmentation then makes
// different views). Places beyond B * P (B batches) are left for another epoch.
// Everything depends only on (classes, P, K, seed, epoch): not on threads, not on earlier calls.

#include <cstdint>
#include <vector>

namespace faceid {

struct BatchShape {
  int people = 64;  ///< P: different people per batch
  int photos = 2;   ///< K: photos of each
};

struct Batch {
  std::vector<int> chips;   ///< P*K chip ids, person by person (K consecutive ids each)
  std::vector<int> labels;  ///< the class of each chip
};

class PKSampler {
 public:
  /// Throws Error(Usage) for P < 2 or K < 1, Error(Input) when there are fewer than P people
  /// with a photo.
  PKSampler(std::vector<std::vector<int>> classes, BatchShape shape, std::uint64_t seed);

  /// The batches of epoch `epoch` (>= 1): always batches_per_epoch() of them.
  std::vector<Batch> epoch(int epoch) const;
  /// Number of batches per epoch (the same for every epoch).
  std::size_t batches_per_epoch() const;
  std::size_t classes() const { return classes_.size(); }

 private:
  std::vector<std::vector<int>> classes_;
  BatchShape shape_;
  std::uint64_t seed_;
};

}  // namespace faceid
