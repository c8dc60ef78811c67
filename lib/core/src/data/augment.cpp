#include "faceid/data/augment.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/functional/conv.h>
#include <torch/nn/functional/padding.h>
#include <torch/nn/functional/vision.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "faceid/error.hpp"

namespace F = torch::nn::functional;

namespace faceid {

torch::Tensor augment(const torch::Tensor& image, const AugmentConfig& c, std::uint64_t seed) {
  if (image.dim() != 3 || image.size(0) != 3)
    throw internal_error("augment: expected a [3,S,S] image");
  if (!c.enabled) return image;
  return augment_batch(image.unsqueeze(0), c, {seed}).squeeze(0);
}

torch::Tensor augment_batch(const torch::Tensor& images, const AugmentConfig& c,
                            const std::vector<std::uint64_t>& seeds) {
  if (images.dim() != 4 || images.size(1) != 3)
    throw internal_error("augment_batch: expected [B,3,S,S] images");
  const auto n = images.size(0);
  if (static_cast<std::size_t>(n) != seeds.size())
    throw internal_error("augment_batch: one seed per image needed");
  if (!c.enabled || n == 0) return images;

  // Every image's random draws, in one fixed order per image (so the result is the same alone
  // or in any batch).
  std::vector<float> theta, contrast, brightness, blur;
  std::vector<torch::Tensor> noise;
  struct Erased {
    std::int64_t image, x0, y0, x1, y1;
    std::uint64_t fill_seed;
  };
  std::vector<Erased> erased;
  const auto width = images.size(3), height = images.size(2);
  for (std::int64_t i = 0; i < n; ++i) {
    std::mt19937_64 rng(seeds[static_cast<std::size_t>(i)]);
    auto uniform = [&](double lo, double hi) {
      return std::uniform_real_distribution<double>(lo, hi)(rng);
    };
    // Geometry, as the inverse map from output to input in normalised [-1, 1] coordinates.
    const bool flip = uniform(0, 1) < c.flip_prob;
    const double angle = uniform(-c.max_rotation_deg, c.max_rotation_deg) * M_PI / 180.0;
    double scale = uniform(1 - c.max_scale, 1 + c.max_scale);
    if (c.zoom_view > 1 && uniform(0, 1) < c.zoom_prob) scale *= c.zoom_view;
    const double tx = 2 * uniform(-c.max_shift, c.max_shift);
    const double ty = 2 * uniform(-c.max_shift, c.max_shift);
    const double f = flip ? -1.0 : 1.0, cs = std::cos(angle) / scale, sn = std::sin(angle) / scale;
    for (double v : {f * cs, -sn, tx, f * sn, cs, ty}) theta.push_back(static_cast<float>(v));
    contrast.push_back(static_cast<float>(uniform(1 - c.contrast, 1 + c.contrast)));
    brightness.push_back(static_cast<float>(uniform(-c.brightness, c.brightness)));
    blur.push_back(uniform(0, 1) < c.blur_prob ? 1.f : 0.f);
    if (c.noise_std > 0) {
      auto gen = at::detail::createCPUGenerator(rng());
      noise.push_back(torch::randn(images.sizes().slice(1), gen, torch::kFloat));
    }
    // Random erasing (Zhong et al. 2020): area 2-20 % of the chip, aspect ratio 0.3-3.3.
    if (c.erase_prob > 0 && uniform(0, 1) < c.erase_prob) {
      const double area = uniform(0.02, 0.2) * static_cast<double>(width * height);
      const double aspect = std::exp(uniform(std::log(0.3), std::log(1 / 0.3)));
      const auto w = std::clamp<std::int64_t>(std::lround(std::sqrt(area * aspect)), 1, width);
      const auto h = std::clamp<std::int64_t>(std::lround(std::sqrt(area / aspect)), 1, height);
      const auto x0 = std::min(
          width - w, static_cast<std::int64_t>(uniform(0, 1) * static_cast<double>(width - w + 1)));
      const auto y0 =
          std::min(height - h,
                   static_cast<std::int64_t>(uniform(0, 1) * static_cast<double>(height - h + 1)));
      erased.push_back({i, x0, y0, x0 + w, y0 + h, rng()});
    }
  }
  // The draws are made on the CPU (the same for every device), the pixels worked where they are.
  const auto device = images.device();
  const auto on_device = [&](const std::vector<float>& v) { return torch::tensor(v).to(device); };
  auto x = images.to(torch::kFloat);
  const auto grid =
      F::affine_grid(on_device(theta).view({n, 2, 3}), x.sizes(), /*align_corners=*/false);
  x = F::grid_sample(x, grid,
                     F::GridSampleFuncOptions()
                         .mode(torch::kBilinear)
                         .padding_mode(torch::kBorder)
                         .align_corners(false));

  // Photometry: contrast around each image's mean, then brightness, as one multiply-add.
  const auto gain = on_device(contrast).view({n, 1, 1, 1});
  const auto mean = x.mean({1, 2, 3}, /*keepdim=*/true);
  x = torch::addcmul(on_device(brightness).view({n, 1, 1, 1}) + mean * (1 - gain), x, gain);

  // A 3x3 binomial blur of the chosen images only (separable, edges replicated).
  std::vector<std::int64_t> blurred_rows;
  for (std::int64_t i = 0; i < n; ++i)
    if (blur[static_cast<std::size_t>(i)] > 0) blurred_rows.push_back(i);
  if (!blurred_rows.empty()) {
    const auto rows = torch::tensor(blurred_rows).to(device);
    auto b =
        F::pad(x.index_select(0, rows), F::PadFuncOptions({1, 1, 1, 1}).mode(torch::kReplicate));
    b = (b.slice(3, 0, -2) + 2 * b.slice(3, 1, -1) + b.slice(3, 2)) / 4;
    b = (b.slice(2, 0, -2) + 2 * b.slice(2, 1, -1) + b.slice(2, 2)) / 4;
    x.index_copy_(0, rows, b);
  }
  if (!noise.empty()) x = x + torch::stack(noise).to(device) * c.noise_std;
  for (const auto& e : erased) {
    auto patch = x[e.image].slice(1, e.y0, e.y1).slice(2, e.x0, e.x1);
    auto gen = at::detail::createCPUGenerator(e.fill_seed);
    patch.copy_(torch::rand(patch.sizes(), gen, torch::kFloat));
  }
  return x.clamp(0, 1);
}

}  // namespace faceid
