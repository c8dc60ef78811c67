#include "faceid/data/pairs.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "faceid/error.hpp"
#include "test_support.hpp"

using namespace faceid;

namespace {

// 40 people with 1..4 chips each, 20 owner chips; ids are consecutive.
PairPool make_pool() {
  PairPool pool;
  int id = 0;
  for (int i = 0; i < 20; ++i) pool.owner.push_back(id++);
  for (int p = 0; p < 40; ++p) {
    Identity person{"person" + std::to_string(p), {}};
    for (int k = 0; k <= p % 4; ++k) person.chips.push_back(id++);
    pool.people.push_back(person);
  }
  return pool;
}

}  // namespace

TEST(Pairs, SplitIsByPersonAndByOwnerPhoto) {
  const auto split = split_pool(make_pool(), 0.25, 7);
  std::set<std::string> train_names;
  for (const auto& p : split.train.people) train_names.insert(p.name);
  for (const auto& p : split.val.people) EXPECT_EQ(train_names.count(p.name), 0u) << p.name;
  EXPECT_EQ(split.train.people.size() + split.val.people.size(), 40u);
  // round(0.25 x 30 people with several photos) + round(0.25 x 10 with one) = 8 + 3
  EXPECT_EQ(split.val.people.size(), 11u);
  EXPECT_EQ(split.val.owner.size(), 5u);
  for (int id : split.val.owner)
    EXPECT_EQ(std::count(split.train.owner.begin(), split.train.owner.end(), id), 0);
  // Both sides have people with several photos, so both can make positives.
  auto has_multi = [](const PairPool& pool) {
    return std::any_of(pool.people.begin(), pool.people.end(),
                       [](const Identity& p) { return p.chips.size() >= 2; });
  };
  EXPECT_TRUE(has_multi(split.train));
  EXPECT_TRUE(has_multi(split.val));
}

TEST(Pairs, SamplingIsBalancedLabelledCorrectlyAndSeeded) {
  const auto pool = make_pool();
  const auto pairs = sample_pairs(pool, {100, 300}, 11);
  ASSERT_EQ(pairs.size(), 400u);
  std::map<int, std::string> owner_of;
  for (int id : pool.owner) owner_of[id] = "owner";
  for (const auto& p : pool.people)
    for (int id : p.chips) owner_of[id] = p.name;
  int positives = 0, owner_pairs = 0;
  for (const auto& p : pairs) {
    EXPECT_NE(p.a, p.b);
    EXPECT_EQ(p.label == 1.f, owner_of[p.a] == owner_of[p.b]);
    positives += p.label == 1.f;
    owner_pairs += p.kind == PairKind::OwnerPositive || p.kind == PairKind::OwnerNegative;
  }
  EXPECT_EQ(positives, 200);
  EXPECT_EQ(owner_pairs, 100);
  const auto again = sample_pairs(pool, {100, 300}, 11);
  const auto other = sample_pairs(pool, {100, 300}, 12);
  EXPECT_TRUE(std::equal(pairs.begin(), pairs.end(), again.begin(),
                         [](const Pair& x, const Pair& y) { return x.a == y.a && x.b == y.b; }));
  EXPECT_FALSE(std::equal(pairs.begin(), pairs.end(), other.begin(),
                          [](const Pair& x, const Pair& y) { return x.a == y.a && x.b == y.b; }));
}

TEST(Pairs, APersonWithOneImageHasNoPositivePair) {
  std::mt19937_64 rng(1);
  faceid::test::expect_error(
      [&] {
        positive_pair(Identity{"Solo_Person", {3}}, rng);
      },
      ErrorKind::Input, "person 'Solo_Person' has 1 image(s)");
}

TEST(Pairs, ImpossibleFamiliesAreInputErrors) {
  PairPool lonely;
  lonely.owner = {0};
  lonely.people = {{"a", {1}}, {"b", {2}}};
  EXPECT_THROW(sample_pairs(lonely, {10, 0}, 1), Error);  // one owner photo
  EXPECT_THROW(sample_pairs(lonely, {0, 10}, 1), Error);  // nobody with 2 photos
  EXPECT_THROW(split_pool(lonely, 1.0, 1), Error);
}

TEST(Pairs, StrangerIdsAreEveryPersonsChipsInOrder) {
  PairPool pool;
  pool.owner = {0, 1};
  pool.people = {{"a", {5, 3}}, {"b", {}}, {"c", {9}}};
  EXPECT_EQ(pool.stranger_ids(), (std::vector<int>{5, 3, 9}));
  EXPECT_EQ(pool.stranger_chips(), 3u);
  EXPECT_TRUE(PairPool{}.stranger_ids().empty());
}
