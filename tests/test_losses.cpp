#include <torch/torch.h>

#include <cmath>
#include <set>
#include <tuple>

#include "faceid/error.hpp"
#include "faceid/model/losses.hpp"
#include "test_support.hpp"

using namespace faceid;

namespace {

// Two rows, three classes; row 0 is class 0, row 1 is class 2.
torch::Tensor tiny_cosines() {
  return torch::tensor({0.8f, 0.3f, -0.2f, 0.1f, -0.5f, 0.6f}).view({2, 3});
}
torch::Tensor tiny_labels() { return torch::tensor({0, 2}, torch::kLong); }

void expect_logits(const torch::Tensor& got, const std::vector<double>& want) {
  ASSERT_EQ(got.sizes(), (torch::IntArrayRef{2, 3}));
  const auto flat = got.contiguous().view({-1});
  for (std::size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(flat[static_cast<std::int64_t>(i)].item<double>(), want[i], 1e-4) << "logit " << i;
}

}  // namespace

TEST(Losses, CosFaceSubtractsTheMarginFromTheTargetCosineOnly) {
  // s = 30, m = 0.35: targets (0.8 - 0.35) * 30 = 13.5 and (0.6 - 0.35) * 30 = 7.5.
  const auto logits = margin_logits(tiny_cosines(), tiny_labels(), {"cosface", 0.35, 30});
  expect_logits(logits, {13.5, 9.0, -6.0, 3.0, -15.0, 7.5});
}

TEST(Losses, ArcFaceAddsTheMarginToTheTargetAngleOnly) {
  // s = 10, m = 0.5; both target cosines (0.8, 0.6) are above cos(pi - 0.5) = -0.878.
  // cos(acos(0.8) + 0.5) = 0.8 cos 0.5 - 0.6 sin 0.5; cos(acos(0.6) + 0.5) = 0.6 cos 0.5 - 0.8 sin
  // 0.5.
  const double m = 0.5;
  const double t0 = 0.8 * std::cos(m) - 0.6 * std::sin(m);
  const double t1 = 0.6 * std::cos(m) - 0.8 * std::sin(m);
  const auto logits = margin_logits(tiny_cosines(), tiny_labels(), {"arcface", m, 10});
  expect_logits(logits, {10 * t0, 3.0, -2.0, 1.0, -5.0, 10 * t1});
}

TEST(Losses, ArcFaceStaysMonotonicPastPiMinusTheMargin) {
  // Target cosines on both sides of cos(pi - m): a smaller cosine never gets a larger logit.
  const double m = 0.5;
  const auto c = torch::tensor({0.0f, -0.8f, -0.87f, -0.88f, -0.95f, -0.999f}).view({6, 1});
  const auto logits = margin_logits(torch::cat({c, torch::zeros_like(c)}, 1),
                                    torch::zeros({6}, torch::kLong), {"arcface", m, 1})
                          .select(1, 0);
  for (std::int64_t i = 1; i < 6; ++i)
    EXPECT_LT(logits[i].item<double>(), logits[i - 1].item<double>())
        << "cosine " << c[i].item<double>();
  // The margined target is never above the plain cosine.
  EXPECT_TRUE((logits <= c.view({-1}) + 1e-6).all().item<bool>());
}

TEST(Losses, UnknownMarginKindIsAUsageError) {
  using faceid::test::expect_error;
  expect_error(
      [] {
        margin_logits(tiny_cosines(), tiny_labels(), {"sphereface", 0.35, 30});
      },
      ErrorKind::Usage, "sphereface");
  expect_error(
      [] {
        MarginHead(4, 8, MarginConfig{"sphereface", 0.35, 30});
      },
      ErrorKind::Usage, "sphereface");
  expect_error([] { MarginHead(1, 8, MarginConfig{}); }, ErrorKind::Usage, "2 identities");
}

TEST(Losses, MarginHeadGivesOneLogitPerClassAndTheTargetWinsOnItsOwnWeight) {
  for (const char* kind : {"cosface", "arcface"}) {
    torch::manual_seed(3);
    const int classes = 6, size = 32;
    MarginHead head(classes, size,
                    MarginConfig{kind, kind == std::string("cosface") ? 0.35 : 0.5, 30});
    const auto weight = head->named_parameters()["weight"].detach().clone();
    ASSERT_EQ(weight.sizes(), (torch::IntArrayRef{classes, size}));
    // Embeddings equal to (a multiple of) each class's weight: cosine 1 with its own class.
    const auto labels = torch::arange(classes, torch::kLong);
    const auto logits = head(weight * 7, labels);
    ASSERT_EQ(logits.sizes(), (torch::IntArrayRef{classes, classes})) << kind;
    EXPECT_TRUE(torch::equal(logits.argmax(1), labels)) << kind << "\n" << logits;
    // A batch of 3 gives [3, C].
    EXPECT_EQ(head(torch::randn({3, size}), torch::tensor({0, 5, 2}, torch::kLong)).sizes(),
              (torch::IntArrayRef{3, classes}));
  }
}

TEST(Losses, ImprintingPointsEachClassWeightAtItsCentre) {
  MarginHead head(3, 4, MarginConfig{});
  const auto centres =
      torch::tensor({{2.f, 0.f, 0.f, 0.f}, {0.f, 0.f, 3.f, 0.f}, {0.f, 1.f, 0.f, 1.f}});
  head->imprint(centres);
  // An embedding along a centre is that class's: its cosine (1) minus the margin still wins.
  const auto logits = head->forward(centres, torch::tensor({0, 1, 2}, torch::kLong));
  EXPECT_TRUE(torch::equal(logits.argmax(1), torch::tensor({0, 1, 2}, torch::kLong)));
  EXPECT_THROW(head->imprint(torch::ones({2, 4})), Error);
}

TEST(Losses, InBatchPairsAreAllPositivesAndEachRowsHardestNegative) {
  // Unit vectors in the plane at these angles (degrees); labels {0,0,1,1,2,2}.
  // Row 0 is 10 times longer: by dot product rows 2 and 5 would pick row 0; by cosine they pick
  // rows 1 (20 deg away) and 0 (100 deg away, the others are 130..150 deg away).
  const std::vector<double> degrees = {0, 30, 50, 120, 200, 260};
  std::vector<float> xy;
  for (std::size_t i = 0; i < degrees.size(); ++i) {
    const double r = degrees[i] * M_PI / 180, len = i == 0 ? 10 : 1;
    xy.push_back(static_cast<float>(len * std::cos(r)));
    xy.push_back(static_cast<float>(len * std::sin(r)));
  }
  const auto e = torch::tensor(xy).view({6, 2});
  const auto labels = torch::tensor({0, 0, 1, 1, 2, 2}, torch::kLong);
  const auto pairs = in_batch_pairs(e, labels);
  ASSERT_EQ(pairs.a.numel(), pairs.b.numel());
  ASSERT_EQ(pairs.a.numel(), pairs.target.numel());
  EXPECT_EQ(pairs.a.scalar_type(), torch::kLong);
  EXPECT_EQ(pairs.b.scalar_type(), torch::kLong);
  EXPECT_TRUE(pairs.target.is_floating_point());

  std::multiset<std::tuple<int, int, float>> got;
  for (std::int64_t i = 0; i < pairs.a.numel(); ++i)
    got.insert({pairs.a[i].item<int>(), pairs.b[i].item<int>(), pairs.target[i].item<float>()});
  // Hardest negatives by hand (smallest angle to another label):
  // 0 -> 2 (50), 1 -> 2 (20), 2 -> 1 (20), 3 -> 4 (80), 4 -> 3 (80), 5 -> 0 (100).
  const std::multiset<std::tuple<int, int, float>> want = {
      {0, 1, 1.f}, {2, 3, 1.f}, {4, 5, 1.f},                                        // positives
      {0, 2, 0.f}, {1, 2, 0.f}, {2, 1, 0.f}, {3, 4, 0.f}, {4, 3, 0.f}, {5, 0, 0.f}  // negatives
  };
  EXPECT_EQ(got, want);
}

TEST(Losses, InBatchPairsWithLargerGroupsListEverySamePair) {
  // Three photos of person 7, two of person 1: positives (0,1), (0,2), (1,2) and (3,4).
  const auto e = torch::eye(5);
  const auto labels = torch::tensor({7, 7, 7, 1, 1}, torch::kLong);
  const auto pairs = in_batch_pairs(e, labels);
  std::set<std::pair<int, int>> positives;
  int negatives = 0;
  for (std::int64_t i = 0; i < pairs.a.numel(); ++i) {
    const int a = pairs.a[i].item<int>(), b = pairs.b[i].item<int>();
    if (pairs.target[i].item<float>() == 1.f) {
      EXPECT_LT(a, b);
      positives.insert({a, b});
    } else {
      ++negatives;
      EXPECT_NE(labels[a].item<int>(), labels[b].item<int>()) << a << " " << b;
    }
  }
  EXPECT_EQ(positives, (std::set<std::pair<int, int>>{{0, 1}, {0, 2}, {1, 2}, {3, 4}}));
  EXPECT_EQ(negatives, 5);  // every row has another person in the batch
}
