#include "faceid/data/chip_feeder.hpp"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include "faceid/error.hpp"

using namespace faceid;

namespace {

torch::Tensor as_input(const ChipStore& chips, const std::vector<std::int64_t>& rows) {
  return chips.gather(rows).permute({0, 3, 1, 2}).to(torch::kFloat).div(255.0);
}

}  // namespace

TEST(ChipFeeder, GivesTheRowsAsFloatImagesPrefetchedOrNot) {
  torch::manual_seed(1);
  const ChipStore chips(torch::randint(0, 256, {10, 8, 8, 3}).to(torch::kUInt8));
  ChipFeeder feeder(chips, torch::kCPU);
  const std::vector<std::int64_t> a = {3, 1, 4}, b = {1, 5, 9, 2};
  // Not prefetched: gathered at once.
  EXPECT_TRUE(torch::equal(feeder.take(a), as_input(chips, a)));
  // Prefetched: the background batch.
  feeder.prefetch(b);
  const auto x = feeder.take(b);
  EXPECT_EQ(x.sizes(), (std::vector<std::int64_t>{4, 3, 8, 8}));
  EXPECT_TRUE(torch::equal(x, as_input(chips, b)));
  // A prefetch of other rows is dropped, never handed out for these.
  feeder.prefetch(b);
  EXPECT_TRUE(torch::equal(feeder.take(a), as_input(chips, a)));
  EXPECT_GE(feeder.wait_seconds(), 0.0);
  feeder.reset_wait();
  EXPECT_EQ(feeder.wait_seconds(), 0.0);
}

TEST(ChipFeeder, AnErrorWhileGatheringInTheBackgroundReachesTheCaller) {
  const ChipStore chips(torch::zeros({2, 4, 4, 3}, torch::kUInt8));
  ChipFeeder feeder(chips, torch::kCPU);
  feeder.prefetch({0, 7});  // row 7 does not exist
  EXPECT_THROW(feeder.take({0, 7}), Error);
  EXPECT_TRUE(torch::equal(feeder.take({1}), as_input(chips, {1})));  // and it goes on
}
