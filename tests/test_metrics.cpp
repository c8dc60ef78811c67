#include "faceid/metrics.hpp"

#include "faceid/decision.hpp"
#include "faceid/error.hpp"
#include "faceid/pair_report.hpp"
#include "test_support.hpp"

using namespace faceid;
using faceid::test::expect_error;
using faceid::test::TempDir;
using faceid::test::write_file;

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

TEST(Decision, SessionMatchShareIsTheBestSessionsShare) {
  // Session 0: 4 references, 1 above 0.5; session 1: 2 references, both above.
  const std::vector<float> scores = {0.9f, 0.1f, 0.2f, 0.3f, 0.8f, 0.7f};
  const std::vector<int> session = {0, 0, 0, 0, 1, 1};
  EXPECT_FLOAT_EQ(session_match_share(scores, session, 0.5f), 1.0f);
  EXPECT_FLOAT_EQ(match_share(scores, 0.5f), 0.5f);  // pooled: 3 of 6
  // One session: exactly match_share.
  EXPECT_FLOAT_EQ(session_match_share(scores, std::vector<int>(6, 3), 0.5f),
                  match_share(scores, 0.5f));
  EXPECT_FLOAT_EQ(session_match_share(scores, {0, 0, 0, 0, 1, 1}, 0.85f), 0.25f);  // 1/4 vs 0/2
  EXPECT_FLOAT_EQ(session_match_share({}, {}, 0.5f), 0.f);
  expect_error([] { session_match_share({0.5f}, {}, 0.5f); }, ErrorKind::Internal,
               "one session per score");
}

TEST(Decision, SessionDetectionForFarAdmitsAtMostTheTargetShareOfStrangers) {
  // Two sessions of two references; ratio 0.4: one reference of a session above the threshold
  // suffices, so a stranger's statistic is its highest score.
  const std::vector<int> session = {0, 0, 1, 1};
  std::vector<std::vector<float>> strangers;
  for (int i = 0; i < 100; ++i) strangers.push_back({0.01f * i, 0.f, 0.f, i == 99 ? 0.995f : 0.f});
  // FAR 0.02: 2 strangers may pass -> the third highest statistic, 0.97 (0.995 and 0.98 above it).
  const float d = session_detection_for_far(strangers, session, 0.4f, 0.02);
  EXPECT_FLOAT_EQ(d, 0.01f * 97);
  int accepted = 0;
  for (const auto& s : strangers) accepted += session_match_share(s, session, d) > 0.4f;
  EXPECT_EQ(accepted, 2);
  // Ratio 0.6: a session needs both of its references, so no stranger ever matches here.
  EXPECT_FLOAT_EQ(session_detection_for_far(strangers, session, 0.6f, 0.02), 0.f);
  expect_error([&] { session_detection_for_far({}, session, 0.5f, 0.01); }, ErrorKind::Input,
               "stranger");
  expect_error([&] { session_detection_for_far({{0.5f}}, session, 0.5f, 0.01); },
               ErrorKind::Internal, "one session");
}

TEST(Decision, TheSeedsRuleAndItsCalibration) {
  EXPECT_TRUE(is_owner({0.9f, 0.8f, 0.1f}, 0.5f, 0.5f));   // 2/3 > 0.5
  EXPECT_FALSE(is_owner({0.9f, 0.1f, 0.1f}, 0.5f, 0.5f));  // 1/3
  EXPECT_FALSE(is_owner({}, 0.5f, 0.5f));
  std::vector<std::vector<float>> owner, strangers;
  for (int i = 0; i < 20; ++i) owner.push_back({0.9f, 0.85f, 0.8f, 0.3f});
  for (int i = 0; i < 100; ++i) strangers.push_back({0.2f, 0.1f, 0.6f + 0.001f * i, 0.05f});
  const auto t = calibrate_owner(owner, strangers, 0.0);
  for (const auto& s : strangers) EXPECT_FALSE(is_owner(s, t.detection, t.ratio));
  for (const auto& s : owner) EXPECT_TRUE(is_owner(s, t.detection, t.ratio));
  EXPECT_DOUBLE_EQ(t.calibration.at("tar").get<double>(), 1.0);
  EXPECT_THROW(calibrate_owner({}, strangers, 0.01), Error);

  // Each owner face resembles one reference of twenty (share 0.05, not > 0.05): only a ratio
  // below 0.05 accepts them without accepting a stranger; the calibration's claim must match
  // what is_owner then decides.
  std::vector<std::vector<float>> one_match(10, std::vector<float>(20, 0.1f)),
      others(50, std::vector<float>(20, 0.3f));
  for (auto& s : one_match) s[3] = 0.95f;
  const auto best = calibrate_owner(one_match, others, 0.0);
  EXPECT_LT(best.ratio, 0.05f);
  EXPECT_DOUBLE_EQ(best.calibration.at("tar").get<double>(), 1.0);
  for (const auto& s : one_match) EXPECT_TRUE(is_owner(s, best.detection, best.ratio));
  for (const auto& s : others) EXPECT_FALSE(is_owner(s, best.detection, best.ratio));
  // Fifty references, one matching: share 1/50 is not above 0.02, so only ratio 0 works.
  std::vector<std::vector<float>> one_of_50(10, std::vector<float>(50, 0.1f)),
      others_50(50, std::vector<float>(50, 0.3f));
  for (auto& s : one_of_50) s[7] = 0.95f;
  const auto zero = calibrate_owner(one_of_50, others_50, 0.0);
  EXPECT_EQ(zero.ratio, 0.f);
  for (const auto& s : one_of_50) EXPECT_TRUE(is_owner(s, zero.detection, zero.ratio));
}

TEST(PairReport, ScoresFilesAreMatchedToPairsAndMalformedLinesNamed) {
  TempDir dir;
  write_file(dir / "pairs.txt", "1\nA 1 2\nA 1 B 1\n");
  const auto pairs = read_pairs_file(dir / "pairs.txt");
  write_file(dir / "ok.csv", "name1,n1,name2,n2,score\nB,1,A,1,0.2\nA,1,A,2,0.9\n");
  EXPECT_EQ(read_scores_csv(dir / "ok.csv", pairs), (std::vector<float>{0.9f, 0.2f}));
  write_file(dir / "bad.csv", "A,1,A,2,0.9\nA,1,B,x,0.2\n");
  try {
    read_scores_csv(dir / "bad.csv", pairs);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Input);
    EXPECT_NE(std::string(e.what()).find("bad.csv:2"), std::string::npos) << e.what();
  }
  write_file(dir / "short.csv", "A,1,A,2,0.9\n");
  try {
    read_scores_csv(dir / "short.csv", pairs);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no score for pair A 1 / B 1"), std::string::npos)
        << e.what();
  }
  // Scores that are not finite numbers would break the threshold search: refused by line.
  for (const char* odd : {"nan", "inf", "-INF", "NaN(1)"}) {
    write_file(dir / "odd.csv", std::string("A,1,A,2,0.9\nA,1,B,1,") + odd + "\n");
    faceid::test::expect_error(
        [&] { read_scores_csv(dir / "odd.csv", pairs); }, ErrorKind::Input,
        std::string("odd.csv:2: score '") + odd + "' is not a finite number");
  }
  const auto report = pairs_report(score_pairs(pairs, {0.9f, 0.2f}));
  EXPECT_DOUBLE_EQ(report.auc, 1.0);
}
