#include <gtest/gtest.h>

#include <cmath>

#include "faceid/train/schedule.hpp"

using namespace faceid;

TEST(Schedule, WarmUpRisesLinearlyToTheBaseRate) {
  const Schedule s{2e-3, 0.1, 0.05};
  EXPECT_NEAR(s.at(0.025), 0.25 * 2e-3, 1e-12);
  EXPECT_NEAR(s.at(0.05), 0.5 * 2e-3, 1e-12);
  EXPECT_NEAR(s.at(0.075), 0.75 * 2e-3, 1e-12);
  EXPECT_NEAR(s.at(0.1), 2e-3, 1e-12);
  // It starts from (about) zero.
  EXPECT_LT(s.at(0.0), 0.01 * 2e-3);
}

TEST(Schedule, CosineDecayEndsAtTheFloor) {
  const Schedule s{2e-3, 0.1, 0.05};
  EXPECT_NEAR(s.at(1.0), 0.05 * 2e-3, 1e-12);
  const Schedule to_zero{1e-2, 0.0, 0.0};
  EXPECT_NEAR(to_zero.at(0.0), 1e-2, 1e-12);
  EXPECT_NEAR(to_zero.at(1.0), 0.0, 1e-12);
}

TEST(Schedule, HalfWayThroughTheDecayIsHalfWayToTheFloor) {
  const Schedule s{2e-3, 0.1, 0.05};
  // The decay runs from 0.1 to 1; its middle is 0.55, where cos(pi / 2) = 0.
  EXPECT_NEAR(s.at(0.55), 2e-3 * (0.05 + 0.95 / 2), 1e-12);
  // A quarter of the way: 0.5 (1 + cos(pi / 4)) of the way down from base to floor.
  EXPECT_NEAR(s.at(0.325), 2e-3 * (0.05 + 0.95 * 0.5 * (1 + std::sqrt(0.5))), 1e-12);
}

TEST(Schedule, DecayNeverRisesAfterTheWarmUp) {
  const Schedule s{2e-3, 0.1, 0.05};
  double last = s.at(0.1);
  for (int i = 11; i <= 100; ++i) {
    const double lr = s.at(i / 100.0);
    EXPECT_LE(lr, last + 1e-15) << "progress " << i / 100.0;
    last = lr;
  }
}

TEST(Schedule, ProgressOutsideZeroToOneIsClamped) {
  const Schedule s{2e-3, 0.1, 0.05};
  EXPECT_DOUBLE_EQ(s.at(-0.5), s.at(0.0));
  EXPECT_DOUBLE_EQ(s.at(1.5), s.at(1.0));
  EXPECT_NEAR(s.at(1.5), 0.05 * 2e-3, 1e-12);
}

TEST(Schedule, TrainingProgressFollowsTheBudgetWhenThereIsOne) {
  // With a budget the step counts do not matter.
  EXPECT_DOUBLE_EQ(training_progress(30, 120, 99, 100), 0.25);
  EXPECT_DOUBLE_EQ(training_progress(300, 120, 1, 100), 1.0);
  EXPECT_DOUBLE_EQ(training_progress(0, 120, 50, 100), 0.0);
}

TEST(Schedule, TrainingProgressFollowsTheStepsWithoutABudget) {
  EXPECT_DOUBLE_EQ(training_progress(1000, 0, 25, 100), 0.25);
  EXPECT_DOUBLE_EQ(training_progress(1000, 0, 0, 100), 0.0);
  EXPECT_DOUBLE_EQ(training_progress(5, 0, 150, 100), 1.0);
}
