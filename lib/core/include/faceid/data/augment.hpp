#pragma once
// On-the-fly augmentation of one face chip (docs/design.md §3): flip, small rotation / scale /
// shift (one bilinear resampling), brightness / contrast, blur, noise, random erasing (off by
// default). Deterministic for a given seed, so training is reproducible with any number of loader
// threads.

#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "faceid/config.hpp"

namespace faceid {

/// `image`: float [3, S, S] in [0, 1]. Returns a new tensor of the same shape, clamped to [0, 1];
/// returns `image` itself when augmentation is disabled. Throws Error(Internal) on another shape.
torch::Tensor augment(const torch::Tensor& image, const AugmentConfig& config, std::uint64_t seed);

/// A batch at once (the trainer's path): `images` float [B, 3, S, S] in [0, 1], image i
/// augmented with seeds[i] exactly as augment() would (one resampling pass for the whole batch).
/// The pixels are worked on the images' device (a GPU's for a GPU run); the random draws are
/// the same on every device.
/// Throws Error(Internal) on another shape or a seed count other than B.
torch::Tensor augment_batch(const torch::Tensor& images, const AugmentConfig& config,
                            const std::vector<std::uint64_t>& seeds);

}  // namespace faceid
