#include <torch/torch.h>

#include "faceid/data/augment.hpp"
#include "faceid/error.hpp"
#include "test_support.hpp"

using namespace faceid;

namespace {

// Six 3 x 20 x 20 images in [0, 1] with some structure (a gradient plus noise), so that
// geometry, blur and contrast all change them.
torch::Tensor make_images() {
  torch::manual_seed(4);
  const auto ramp = torch::linspace(0, 1, 20).view({1, 1, 1, 20}).expand({6, 3, 20, 20});
  return (0.5 * ramp + 0.5 * torch::rand({6, 3, 20, 20})).contiguous();
}

// Every effect on, blur for about half of the images, and a large brightness shift so that
// clamping matters.
AugmentConfig strong_config() {
  AugmentConfig c;
  c.blur_prob = 0.5f;
  c.brightness = 0.4f;
  c.contrast = 0.5f;
  c.noise_std = 0.05f;
  return c;
}

const std::vector<std::uint64_t> kSeeds = {11, 12, 13, 14, 15, 16};

}  // namespace

TEST(Augment, ABatchIsAugmentedImageByImageAsAlone) {
  const auto images = make_images();
  const auto config = strong_config();
  const auto batch = augment_batch(images, config, kSeeds);
  ASSERT_EQ(batch.sizes(), images.sizes());
  for (std::int64_t i = 0; i < images.size(0); ++i) {
    const auto alone = augment(images[i], config, kSeeds[static_cast<std::size_t>(i)]);
    EXPECT_TRUE(torch::allclose(batch[i], alone, /*rtol=*/0, /*atol=*/1e-5))
        << "image " << i << ": max difference " << (batch[i] - alone).abs().max().item<float>();
  }
  // The same image with another seed gives another result, and augmentation does change it.
  EXPECT_FALSE(torch::allclose(augment(images[0], config, 99), batch[0], 0, 1e-3));
  EXPECT_FALSE(torch::allclose(batch[0], images[0], 0, 1e-3));
}

TEST(Augment, OutputKeepsTheShapeAndStaysInZeroToOne) {
  const auto images = make_images();
  const auto out = augment_batch(images, strong_config(), kSeeds);
  EXPECT_EQ(out.sizes(), images.sizes());
  EXPECT_EQ(out.scalar_type(), torch::kFloat);
  EXPECT_GE(out.min().item<float>(), 0.f);
  EXPECT_LE(out.max().item<float>(), 1.f);
  const auto one = augment(images[2], strong_config(), 5);
  EXPECT_EQ(one.sizes(), images[2].sizes());
  EXPECT_GE(one.min().item<float>(), 0.f);
  EXPECT_LE(one.max().item<float>(), 1.f);
}

TEST(Augment, DisabledAugmentationReturnsTheInputUnchanged) {
  const auto images = make_images();
  AugmentConfig off = strong_config();
  off.enabled = false;
  EXPECT_TRUE(torch::equal(augment_batch(images, off, kSeeds), images));
  EXPECT_TRUE(torch::equal(augment(images[1], off, 7), images[1]));
}

TEST(Augment, AWrongSeedCountOrShapeIsAnError) {
  using faceid::test::expect_error;
  const auto images = make_images();
  expect_error(
      [&] {
        augment_batch(images, strong_config(), {1, 2, 3});
      },
      ErrorKind::Internal, "seed");
  expect_error([&] { augment_batch(images, strong_config(), {}); }, ErrorKind::Internal, "seed");
  expect_error(
      [&] {
        augment_batch(images[0], strong_config(), {1, 2, 3});
      },
      ErrorKind::Internal, "[B,3,S,S]");
  expect_error([&] { augment(images, strong_config(), 1); }, ErrorKind::Internal, "[3,S,S]");
}

TEST(Augment, RandomErasingReplacesOneRectangleOfTheChosenImages) {
  // Geometry and photometry off: the only change is the erased rectangle.
  AugmentConfig c;
  c.flip_prob = c.max_rotation_deg = c.max_scale = c.max_shift = 0;
  c.brightness = c.contrast = c.blur_prob = c.noise_std = 0;
  c.erase_prob = 1;
  const auto images = torch::full({6, 3, 20, 20}, 0.5f);  // flat grey: the noise shows
  const auto out = augment_batch(images, c, kSeeds);
  for (std::int64_t i = 0; i < out.size(0); ++i) {
    const auto changed = (out[i] - images[i]).abs().gt(1e-6).any(0);  // [H, W]
    const auto n = changed.sum().item<std::int64_t>();
    // 2-20 % of 400 pixels, give or take the noise hitting 0.5 exactly and rounding of the sides.
    EXPECT_GE(n, 4) << "image " << i;
    EXPECT_LE(n, 110) << "image " << i;
    // The changed pixels fill their bounding box (a rectangle).
    const auto rows = changed.any(1).nonzero(), cols = changed.any(0).nonzero();
    const auto box = (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1);
    EXPECT_GE(n, (box.item<std::int64_t>() * 9) / 10) << "image " << i;
  }
  // Reproducible per seed, and off means off.
  EXPECT_TRUE(torch::equal(out, augment_batch(images, c, kSeeds)));
  c.erase_prob = 0;
  EXPECT_TRUE(torch::allclose(augment_batch(images, c, kSeeds), images, 0, 1e-6));
}

TEST(Augment, EveryDeviceAugmentsWhereTheImagesAreWithTheCpuResult) {
  // The trainer augments on its device (a GPU's for a GPU run): the draws are the CPU's on every
  // device, so the pixels agree up to float rounding. Runs on the CPU, and on CUDA where present.
  AugmentConfig c = strong_config();
  c.erase_prob = 0.5f;
  const auto images = make_images();
  const auto on_cpu = augment_batch(images, c, kSeeds);
  std::vector<torch::Device> devices = {torch::kCPU};
  if (torch::cuda::is_available()) devices.emplace_back(torch::kCUDA);
  for (const auto& device : devices) {
    const auto out = augment_batch(images.to(device), c, kSeeds);
    EXPECT_EQ(out.device(), device);
    EXPECT_LT((out.cpu() - on_cpu).abs().max().item<float>(), 1e-4f) << device;
    EXPECT_NEAR(out.mean().item<float>(), on_cpu.mean().item<float>(), 1e-5) << device;
  }
}
