#include "faceid/augment.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/functional/conv.h>
#include <torch/nn/functional/padding.h>
#include <torch/nn/functional/vision.h>

#include <cmath>
#include <random>

#include "faceid/error.hpp"

namespace F = torch::nn::functional;

namespace faceid {

torch::Tensor augment(const torch::Tensor& image, const AugmentConfig& c, std::uint64_t seed) {
  if (image.dim() != 3 || image.size(0) != 3)
    throw internal_error("augment: expected a [3,S,S] image");
  if (!c.enabled) return image;
  std::mt19937_64 rng(seed);
  auto uniform = [&](double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); };

  auto x = image.unsqueeze(0);
  // Geometry, as the inverse map from output to input in normalised [-1, 1] coordinates.
  const bool flip = uniform(0, 1) < c.flip_prob;
  const double angle = uniform(-c.max_rotation_deg, c.max_rotation_deg) * M_PI / 180.0;
  const double scale = uniform(1 - c.max_scale, 1 + c.max_scale);
  const double tx = 2 * uniform(-c.max_shift, c.max_shift);
  const double ty = 2 * uniform(-c.max_shift, c.max_shift);
  if (angle != 0 || scale != 1 || tx != 0 || ty != 0) {
    const double f = flip ? -1.0 : 1.0, cs = std::cos(angle) / scale, sn = std::sin(angle) / scale;
    const auto theta = torch::tensor({f * cs, -sn, tx, f * sn, cs, ty}, torch::kFloat).view({1, 2, 3});
    const auto grid = F::affine_grid(theta, x.sizes(), /*align_corners=*/false);
    x = F::grid_sample(x, grid,
                       F::GridSampleFuncOptions().mode(torch::kBilinear).padding_mode(torch::kBorder).align_corners(false));
  } else if (flip) {
    x = x.flip({3});
  }

  // Photometry: contrast around the mean, then brightness.
  const double contrast = uniform(1 - c.contrast, 1 + c.contrast);
  const double brightness = uniform(-c.brightness, c.brightness);
  const auto mean = x.mean();
  x = (x - mean) * contrast + mean + brightness;

  if (uniform(0, 1) < c.blur_prob) {
    const auto k1 = torch::tensor({1.f, 2.f, 1.f}) / 4;
    const auto kernel = torch::outer(k1, k1).expand({3, 1, 3, 3}).contiguous();
    x = F::pad(x, F::PadFuncOptions({1, 1, 1, 1}).mode(torch::kReplicate));
    x = F::conv2d(x, kernel, F::Conv2dFuncOptions().groups(3));
  }
  if (c.noise_std > 0) {
    auto gen = at::detail::createCPUGenerator(rng());
    x = x + torch::randn(x.sizes(), gen, torch::kFloat) * c.noise_std;
  }
  return x.clamp(0, 1).squeeze(0);
}

}  // namespace faceid
