#include "faceid/score/metrics.hpp"

#include "faceid/error.hpp"
#include "test_support.hpp"

using namespace faceid;

TEST(Metrics, AucOfPerfectSeparationIsOneAndOfReversedIsZero) {
  EXPECT_DOUBLE_EQ(auc({0.9f, 0.8f, 0.2f, 0.1f}, {1, 1, 0, 0}), 1.0);
  EXPECT_DOUBLE_EQ(auc({0.1f, 0.2f, 0.8f, 0.9f}, {1, 1, 0, 0}), 0.0);
}

TEST(Metrics, AucCountsTiesAsHalf) {
  // Positives {0.8, 0.5}, negatives {0.5, 0.2}: pairs (0.8>0.5)=1, (0.8>0.2)=1, (0.5=0.5)=0.5,
  // (0.5>0.2)=1 -> 3.5/4.
  EXPECT_DOUBLE_EQ(auc({0.8f, 0.5f, 0.5f, 0.2f}, {1, 1, 0, 0}), 0.875);
}

TEST(Metrics, ConfusionAndRocByHand) {
  const std::vector<float> s = {0.9f, 0.7f, 0.6f, 0.4f, 0.3f};
  const std::vector<int> l = {1, 0, 1, 0, 0};
  const auto c = confusion_at(s, l, 0.65f);
  EXPECT_EQ(c.tp, 1u);
  EXPECT_EQ(c.fp, 1u);
  EXPECT_EQ(c.tn, 2u);
  EXPECT_EQ(c.fn, 1u);
  EXPECT_DOUBLE_EQ(c.accuracy(), 0.6);
  EXPECT_DOUBLE_EQ(c.precision(), 0.5);
  const auto points = roc(s, l);
  ASSERT_EQ(points.size(), 6u);
  EXPECT_EQ(points[0].counts.tp + points[0].counts.fp, 0u);  // +inf: nothing accepted
  EXPECT_DOUBLE_EQ(points[3].counts.recall(), 1.0);          // threshold 0.6: both positives
  EXPECT_NEAR(points[3].counts.fpr(), 1.0 / 3, 1e-12);
}

TEST(Metrics, EqualErrorRateAndTarAtFarByHand) {
  // Negatives 0.1..0.4 and one at 0.75; positives 0.7..0.9 and one at 0.35.
  const std::vector<float> s = {0.1f, 0.2f, 0.3f, 0.4f, 0.75f, 0.35f, 0.7f, 0.8f, 0.9f, 0.95f};
  const std::vector<int> l = {0, 0, 0, 0, 0, 1, 1, 1, 1, 1};
  float t = 0;
  EXPECT_DOUBLE_EQ(equal_error_rate(s, l, &t), 0.2);  // at 0.7: FAR 1/5, FRR 1/5
  EXPECT_FLOAT_EQ(t, 0.7f);
  // No false accept allowed: accept only scores above the impostor at 0.75 (0.8, 0.9, 0.95).
  EXPECT_DOUBLE_EQ(tar_at_far(s, l, 0.0, &t), 0.6);
  EXPECT_FLOAT_EQ(t, 0.8f);
}

TEST(Metrics, CrossValidationPicksThresholdsOnTheOtherFolds) {
  // Folds 0 and 1 are separable at 0.5, fold 2 is separable at 0.5 too but with one mistake.
  const std::vector<float> s = {0.9f, 0.1f, 0.8f, 0.2f, 0.7f, 0.6f};
  const std::vector<int> l = {1, 0, 1, 0, 1, 0};
  const std::vector<int> f = {0, 0, 1, 1, 2, 2};
  const auto cv = cross_validate(s, l, f);
  ASSERT_EQ(cv.accuracy.size(), 3u);
  EXPECT_DOUBLE_EQ(cv.accuracy[0], 1.0);
  EXPECT_DOUBLE_EQ(cv.accuracy[1], 1.0);
  // Fold 2's threshold comes from folds 0-1 (between 0.2 and 0.8 -> 0.5): 0.7 and 0.6 both "same".
  EXPECT_DOUBLE_EQ(cv.accuracy[2], 0.5);
  EXPECT_NEAR(cv.mean, 2.5 / 3, 1e-12);
  EXPECT_GT(cv.threshold[2], 0.2f);
  EXPECT_LT(cv.threshold[2], 0.8f);
}
