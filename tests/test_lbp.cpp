#include "faceid/lbp.hpp"

#include <cmath>
#include <numeric>

#include <opencv2/core.hpp>

#include "faceid/error.hpp"
#include "test_support.hpp"

using namespace faceid;

TEST(Lbp, FlatImageFallsInOneUniformBinPerCell) {
  const cv::Mat flat(30, 30, CV_8UC1, cv::Scalar(90));
  const auto d = lbp_descriptor(flat, 3, /*root=*/false);
  ASSERT_EQ(d.size(), 3u * 3u * kLbpBins);
  // Every neighbour >= the centre: pattern 255, the last uniform pattern (bin 57).
  for (int c = 0; c < 9; ++c) {
    EXPECT_FLOAT_EQ(d[static_cast<std::size_t>(c * kLbpBins + 57)], 1.f) << "cell " << c;
    EXPECT_FLOAT_EQ(std::accumulate(d.begin() + c * kLbpBins, d.begin() + (c + 1) * kLbpBins, 0.f),
                    1.f);
  }
}

TEST(Lbp, CheckerboardIsHalfUniform) {
  cv::Mat board(20, 20, CV_8UC1);
  for (int y = 0; y < 20; ++y)
    for (int x = 0; x < 20; ++x) board.at<uchar>(y, x) = ((x + y) % 2) ? 200 : 10;
  const auto d = lbp_descriptor(board, 1, /*root=*/false);
  const auto r = lbp_descriptor(board, 1);  // square-rooted
  EXPECT_NEAR(r[57], std::sqrt(0.5f), 0.01f);
  // Bright centres: the corner neighbours are equal (1), the edge ones darker (0): 10101010, eight
  // transitions, non-uniform (last bin). Dark centres: every neighbour >= the centre: 11111111
  // (bin 57). Half each.
  EXPECT_NEAR(d[kLbpBins - 1], 0.5f, 0.01f);
  EXPECT_NEAR(d[57], 0.5f, 0.01f);
  EXPECT_FLOAT_EQ(d[0], 0.f);
}

TEST(Lbp, ChiSquareIsHandComputed) {
  EXPECT_FLOAT_EQ(chi_square({0.5f, 0.5f, 0.f}, {0.5f, 0.5f, 0.f}), 0.f);
  // (0.75-0.25)^2/1 + (0.25-0.75)^2/1 + bin with a+b = 0 skipped = 0.5
  EXPECT_FLOAT_EQ(chi_square({0.75f, 0.25f, 0.f}, {0.25f, 0.75f, 0.f}), 0.5f);
  test::expect_error([] { chi_square({1.f}, {0.5f, 0.5f}); }, ErrorKind::Usage, "1 and 2 bins");
}

TEST(Lbp, DescriptorSeparatesTextures) {
  cv::Mat noise(60, 60, CV_8UC1), stripes(60, 60, CV_8UC1);
  cv::randu(noise, 0, 255);
  for (int y = 0; y < 60; ++y) stripes.row(y).setTo((y / 3) % 2 ? 200 : 30);
  const auto a = lbp_descriptor(noise, 4), b = lbp_descriptor(stripes, 4);
  EXPECT_EQ(chi_square(a, a), 0.f);
  EXPECT_GT(chi_square(a, b), 1.f);
  test::expect_error([] { lbp_descriptor(cv::Mat(10, 10, CV_8UC1), 7); }, ErrorKind::Usage,
                     "too small");
}
