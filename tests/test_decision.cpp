#include "faceid/score/decision.hpp"

#include "faceid/error.hpp"
#include "test_support.hpp"

using namespace faceid;
using faceid::test::expect_error;

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
