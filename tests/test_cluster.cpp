#include "faceid/score/cluster.hpp"

#include <random>
#include <set>

#include <gtest/gtest.h>

#include "faceid/error.hpp"
#include "test_support.hpp"

using namespace faceid;
using faceid::test::expect_error;

namespace {

// n faces in groups of `sizes` (in order): `within` inside a group, `between` across.
std::vector<float> blocks(const std::vector<int>& sizes, float within, float between,
                          std::vector<int>* truth = nullptr) {
  std::vector<int> label;
  for (int g = 0; g < static_cast<int>(sizes.size()); ++g) label.insert(label.end(), sizes[g], g);
  const int n = static_cast<int>(label.size());
  std::vector<float> s(static_cast<std::size_t>(n * n));
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j)
      s[i * n + j] = i == j ? 1.f : label[i] == label[j] ? within : between;
  if (truth) *truth = label;
  return s;
}

// Whether two clusterings are the same partition, whatever their numbers.
bool same_partition(const std::vector<int>& a, const std::vector<int>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    for (std::size_t j = 0; j < a.size(); ++j)
      if ((a[i] == a[j]) != (b[i] == b[j])) return false;
  return true;
}

// UPGMA the slow, obvious way: merge the two groups of highest mean pair similarity while it is
// above the cut.
std::vector<int> naive_average_linkage(const std::vector<float>& s, int n, float cut) {
  std::vector<std::vector<int>> groups;
  for (int i = 0; i < n; ++i) groups.push_back({i});
  for (;;) {
    double best = -1;
    std::size_t ba = 0, bb = 0;
    for (std::size_t a = 0; a < groups.size(); ++a)
      for (std::size_t b = a + 1; b < groups.size(); ++b) {
        double sum = 0;
        for (int i : groups[a])
          for (int j : groups[b]) sum += s[i * n + j];
        const double mean = sum / (groups[a].size() * groups[b].size());
        if (mean > best) best = mean, ba = a, bb = b;
      }
    if (groups.size() < 2 || best <= cut) break;
    groups[ba].insert(groups[ba].end(), groups[bb].begin(), groups[bb].end());
    groups.erase(groups.begin() + static_cast<long>(bb));
  }
  std::vector<int> label(static_cast<std::size_t>(n));
  for (std::size_t g = 0; g < groups.size(); ++g)
    for (int i : groups[g]) label[i] = static_cast<int>(g);
  return label;
}

}  // namespace

TEST(Cluster, BothMethodsFindClearGroupsNumberedBySize) {
  std::vector<int> truth;
  const auto s = blocks({2, 4, 1, 3}, 0.9f, 0.1f, &truth);
  for (const std::string method : {"whispers", "average"}) {
    const auto groups = cluster_faces(method, s, 10, 0.5f);
    EXPECT_TRUE(same_partition(groups, truth)) << method;
    // Largest first: the 4 faces are group 0, the 3 group 1, the 2 group 2, the one group 3.
    EXPECT_EQ(groups[2], 0) << method;
    EXPECT_EQ(groups[7], 1) << method;
    EXPECT_EQ(groups[0], 2) << method;
    EXPECT_EQ(groups[6], 3) << method;
  }
}

TEST(Cluster, OneLookAlikePairDoesNotMergeTwoPeople) {
  auto s = blocks({4, 4}, 0.9f, 0.1f);
  s[0 * 8 + 4] = s[4 * 8 + 0] = 0.95f;  // one face of each looks like one of the other
  // Average linkage merges the closest pair first: the look-alikes (0.95) become a group of their
  // own, whose mean with either person (0.5) is not above the cut (0.6). (Chinese whispers may
  // chain both people through that pair: one reason average linkage is the default, docs/enrol.md.)
  const auto g = average_linkage(s, 8, 0.6f);
  EXPECT_TRUE(g[1] == g[2] && g[2] == g[3]);
  EXPECT_TRUE(g[5] == g[6] && g[6] == g[7]);
  EXPECT_NE(g[1], g[5]);
  EXPECT_EQ(g[0], g[4]);
  EXPECT_NE(g[0], g[1]);
}

TEST(Cluster, TheCutDecidesWhatMerges) {
  const auto s = blocks({3, 3}, 0.8f, 0.6f);
  auto count = [&](float cut) {
    const auto g = average_linkage(s, 6, cut);
    return std::set<int>(g.begin(), g.end()).size();
  };
  EXPECT_EQ(count(0.7f), 2u);
  EXPECT_EQ(count(0.5f), 1u);
  EXPECT_EQ(count(0.95f), 6u);
}

TEST(Cluster, AverageLinkageEqualsTheNaiveAlgorithmOnRandomScores) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(0, 1);
  for (int trial = 0; trial < 20; ++trial) {
    const int n = 5 + trial % 12;
    std::vector<float> s(static_cast<std::size_t>(n * n));
    for (int i = 0; i < n; ++i)
      for (int j = 0; j <= i; ++j) s[i * n + j] = s[j * n + i] = i == j ? 1.f : u(rng);
    for (const float cut : {0.3f, 0.5f, 0.7f})
      EXPECT_TRUE(same_partition(average_linkage(s, n, cut), naive_average_linkage(s, n, cut)))
          << "n " << n << " cut " << cut;
  }
}

TEST(Cluster, EmptyAndWrongSizedInput) {
  EXPECT_TRUE(average_linkage({}, 0, 0.5f).empty());
  EXPECT_TRUE(chinese_whispers({}, 0, 0.5f).empty());
  EXPECT_EQ(average_linkage({1.f}, 1, 0.5f), std::vector<int>{0});
  expect_error([] { average_linkage({1, 2, 3}, 2, 0.5f); }, ErrorKind::Internal, "2 x 2");
  expect_error([] { cluster_faces("kmeans", {1.f}, 1, 0.5f); }, ErrorKind::Usage, "kmeans");
}

TEST(Cluster, NumberBySizeOrdersLargestFirstTiesByFirstFace) {
  EXPECT_EQ(number_by_size({7, 3, 3, 9, 7, 5}), (std::vector<int>{0, 1, 1, 2, 0, 3}));
}

TEST(Cluster, PairwiseAgreementCountsPairsByGroupAndName) {
  // groups {0,1} {2,3,4}; names {0,1,2} {3,4}: 4 pairs predicted, 4 true, 2 both.
  const auto a = pairwise_agreement({0, 0, 1, 1, 1}, {5, 5, 5, 8, 8});
  EXPECT_EQ(a.predicted, 4u);
  EXPECT_EQ(a.truth, 4u);
  EXPECT_EQ(a.correct, 2u);
  EXPECT_DOUBLE_EQ(a.precision(), 0.5);
  EXPECT_DOUBLE_EQ(a.recall(), 0.5);
  // A face of unknown identity (-1) counts in neither.
  const auto b = pairwise_agreement({0, 0, 0}, {1, 1, -1});
  EXPECT_EQ(b.predicted, 1u);
  EXPECT_EQ(b.correct, 1u);
  expect_error([] { pairwise_agreement({0}, {0, 1}); }, ErrorKind::Internal, "labels");
}
