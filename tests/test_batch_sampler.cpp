#include <cmath>
#include <map>
#include <set>

#include "faceid/data/batch_sampler.hpp"
#include "faceid/error.hpp"
#include "test_support.hpp"

using namespace faceid;

namespace {

// 24 people; person c has 1 + c % 6 photos, with chip ids 100 * c + i, so a chip's owner is id /
// 100.
std::vector<std::vector<int>> make_classes(int people = 24) {
  std::vector<std::vector<int>> classes(static_cast<std::size_t>(people));
  for (int c = 0; c < people; ++c)
    for (int i = 0; i <= c % 6; ++i) classes[static_cast<std::size_t>(c)].push_back(100 * c + i);
  return classes;
}

bool same_batches(const std::vector<Batch>& x, const std::vector<Batch>& y) {
  if (x.size() != y.size()) return false;
  for (std::size_t i = 0; i < x.size(); ++i)
    if (x[i].chips != y[i].chips || x[i].labels != y[i].labels) return false;
  return true;
}

}  // namespace

TEST(PKSampler, EveryBatchHoldsKPhotosOfEachOfPDifferentPeople) {
  const int p = 4, k = 2;
  const PKSampler sampler(make_classes(), {p, k}, 5);
  for (int e = 1; e <= 4; ++e) {
    const auto batches = sampler.epoch(e);
    ASSERT_FALSE(batches.empty());
    for (const auto& b : batches) {
      ASSERT_EQ(b.chips.size(), static_cast<std::size_t>(p * k));
      ASSERT_EQ(b.labels.size(), static_cast<std::size_t>(p * k));
      std::set<int> people;
      for (int person = 0; person < p; ++person) {
        const int label = b.labels[static_cast<std::size_t>(person * k)];
        people.insert(label);
        for (int i = 0; i < k; ++i) {
          const auto at = static_cast<std::size_t>(person * k + i);
          EXPECT_EQ(b.labels[at], label) << "labels come K at a time, person by person";
          EXPECT_EQ(b.chips[at] / 100, b.labels[at])
              << "chip " << b.chips[at] << " is not a photo of its label";
        }
      }
      EXPECT_EQ(people.size(), static_cast<std::size_t>(p)) << "a batch repeats a person";
    }
  }
}

TEST(PKSampler, SameSeedAndEpochGiveTheSameBatches) {
  const PKSampler one(make_classes(), {4, 2}, 17);
  const PKSampler two(make_classes(), {4, 2}, 17);
  (void)two.epoch(1);  // an earlier call must not matter
  EXPECT_TRUE(same_batches(one.epoch(3), two.epoch(3)));
  const PKSampler other_seed(make_classes(), {4, 2}, 18);
  EXPECT_FALSE(same_batches(one.epoch(3), other_seed.epoch(3)));
}

TEST(PKSampler, DifferentEpochsGiveDifferentOrders) {
  const PKSampler sampler(make_classes(), {4, 2}, 17);
  EXPECT_FALSE(same_batches(sampler.epoch(1), sampler.epoch(2)));
  EXPECT_FALSE(same_batches(sampler.epoch(2), sampler.epoch(3)));
}

TEST(PKSampler, AnEpochUsesEachPhotoAboutOnce) {
  const int k = 2;
  const auto classes = make_classes();
  const PKSampler sampler(classes, {4, k}, 9);
  for (int e = 1; e <= 4; ++e) {
    std::map<int, int> uses;
    for (const auto& b : sampler.epoch(e))
      for (int chip : b.chips) ++uses[chip];
    for (const auto& photos : classes) {
      const int n = static_cast<int>(photos.size());
      if (n < k) continue;
      // Places as the header states them: max(1, round(n / K)), each drawing K photos.
      const int places = std::max(1, static_cast<int>(std::lround(static_cast<double>(n) / k)));
      const int most = (places * k + n - 1) / n;
      for (int chip : photos) EXPECT_LE(uses[chip], most) << "epoch " << e << ", chip " << chip;
    }
  }
}

TEST(PKSampler, AnEpochWithoutDroppedPlacesUsesEveryPhoto) {
  // 8 people with 4 photos each and K = 2: 2 places each, 16 places, 4 batches of P = 4.
  // Every photo is drawn exactly once.
  std::vector<std::vector<int>> classes(8);
  for (int c = 0; c < 8; ++c)
    for (int i = 0; i < 4; ++i) classes[static_cast<std::size_t>(c)].push_back(100 * c + i);
  const PKSampler sampler(classes, {4, 2}, 3);
  ASSERT_EQ(sampler.batches_per_epoch(), 4u);
  for (int e = 1; e <= 3; ++e) {
    const auto batches = sampler.epoch(e);
    std::map<int, int> uses;
    for (const auto& b : batches)
      for (int chip : b.chips) ++uses[chip];
    if (batches.size() != 4u) {
      ADD_FAILURE() << "epoch " << e << " has " << batches.size() << " batches, expected 4";
      continue;
    }
    for (const auto& photos : classes)
      for (int chip : photos) EXPECT_EQ(uses[chip], 1) << "epoch " << e << ", chip " << chip;
  }
}

TEST(PKSampler, APersonWithFewerThanKPhotosRepeatsThem) {
  // K = 4: person 0 has 2 photos, person 1 one; the others have 4.
  std::vector<std::vector<int>> classes = {
      {0, 1}, {100}, {200, 201, 202, 203}, {300, 301, 302, 303}};
  const PKSampler sampler(classes, {2, 4}, 1);
  bool saw_two = false, saw_one = false;
  for (int e = 1; e <= 10; ++e)
    for (const auto& b : sampler.epoch(e))
      for (std::size_t start = 0; start < b.chips.size(); start += 4) {
        std::map<int, int> count;
        for (std::size_t i = start; i < start + 4; ++i) ++count[b.chips[i]];
        if (b.labels[start] == 0) {
          saw_two = true;
          EXPECT_EQ(count, (std::map<int, int>{{0, 2}, {1, 2}}));
        } else if (b.labels[start] == 1) {
          saw_one = true;
          EXPECT_EQ(count, (std::map<int, int>{{100, 4}}));
        }
      }
  EXPECT_TRUE(saw_two);
  EXPECT_TRUE(saw_one);
}

TEST(PKSampler, BatchesPerEpochIsTheSizeOfEveryEpoch) {
  // Places: 1+1+2+2+3+3 per six people -> 48 for 24 people -> 12 batches of P = 4.
  const PKSampler sampler(make_classes(), {4, 2}, 5);
  EXPECT_EQ(sampler.batches_per_epoch(), 12u);
  for (int e = 1; e <= 20; ++e)
    EXPECT_EQ(sampler.epoch(e).size(), sampler.batches_per_epoch()) << "epoch " << e;
}

TEST(PKSampler, BatchesPerEpochHoldsWhenOnePersonHasSeveralPlaces) {
  // K = 2, P = 2: person 0 has 2 places, persons 1 and 2 one each -> 4 places, 2 batches
  // ({0, 1} and {0, 2} in some order). Every epoch must have both.
  const std::vector<std::vector<int>> classes = {{0, 1, 2, 3}, {100, 101}, {200, 201}};
  const PKSampler sampler(classes, {2, 2}, 1);
  EXPECT_EQ(sampler.batches_per_epoch(), 2u);
  for (int e = 1; e <= 20; ++e)
    EXPECT_EQ(sampler.epoch(e).size(), sampler.batches_per_epoch()) << "epoch " << e;
}

TEST(PKSampler, BadShapesAreUsageErrors) {
  using faceid::test::expect_error;
  expect_error([] { PKSampler(make_classes(), {1, 2}, 0); }, ErrorKind::Usage, "P=1");
  expect_error([] { PKSampler(make_classes(), {4, 0}, 0); }, ErrorKind::Usage, "K=0");
}

TEST(PKSampler, FewerPeopleThanPIsAnInputError) {
  using faceid::test::expect_error;
  expect_error(
      [] {
        PKSampler(make_classes(3), {4, 2}, 0);
      },
      ErrorKind::Input, "4 different people");
  // A class without photos is not a person for a batch.
  expect_error([] { PKSampler({{1}, {}, {3}}, {3, 1}, 0); }, ErrorKind::Input, "2 people");
  EXPECT_NO_THROW(PKSampler(make_classes(4), {4, 2}, 0));
}
