#include "faceid/plot.hpp"

#include <cmath>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "test_support.hpp"

using namespace faceid;

namespace {

const cv::Scalar kBlue{255, 0, 0}, kOrange{0, 128, 255};

// Pixels of exactly `colour` in `image`.
int count_colour(const cv::Mat& image, const cv::Scalar& colour) {
  cv::Mat mask;
  cv::inRange(image, colour, colour, mask);
  return cv::countNonZero(mask);
}

// The bounding box of the pixels of exactly `colour`.
cv::Rect where(const cv::Mat& image, const cv::Scalar& colour) {
  cv::Mat mask;
  cv::inRange(image, colour, colour, mask);
  std::vector<cv::Point> points;
  cv::findNonZero(mask, points);
  return cv::boundingRect(points);
}

}  // namespace

TEST(Plot, AChartIsAWhiteBgrImageOfTheAskedSize) {
  Chart chart;
  chart.title = "loss";
  chart.series.push_back({"train", {0, 1, 2}, {1, 0.5, 0.25}, kBlue});
  const cv::Mat img = draw_chart(chart, 300, 200);
  EXPECT_EQ(img.cols, 300);
  EXPECT_EQ(img.rows, 200);
  EXPECT_EQ(img.type(), CV_8UC3);
  EXPECT_EQ(img.at<cv::Vec3b>(199, 299), cv::Vec3b(255, 255, 255));
  EXPECT_GT(count_colour(img, kBlue), 100);
}

TEST(Plot, ARisingLineGoesFromBottomLeftToTopRight) {
  Chart chart;
  chart.series.push_back({"", {0, 10}, {0, 10}, kBlue});
  const cv::Mat img = draw_chart(chart, 400, 300);
  // The plot area is inset by 60 px left, 15 right, 48 top and 45 bottom.
  const cv::Rect line = where(img, kBlue);
  EXPECT_NEAR(line.x, 60, 3);
  EXPECT_NEAR(line.x + line.width, 400 - 15, 3);
  EXPECT_NEAR(line.y, 48, 3);
  EXPECT_NEAR(line.y + line.height, 300 - 45, 3);
  // The first pixel column of the line is at the bottom, the last at the top.
  const cv::Mat first = img.col(line.x + 1), last = img.col(line.x + line.width - 2);
  EXPECT_GT(where(first, kBlue).y, where(last, kBlue).y + 150);
}

TEST(Plot, AFixedRangePlacesAndClipsTheData) {
  Chart chart;
  chart.y_min = 0;
  chart.y_max = 4;
  chart.series.push_back({"", {0, 1}, {1, 1}, kBlue});  // a flat line at a quarter of the height
  chart.series.push_back({"", {0, 1}, {1e300, 1e300}, kOrange});  // far above: clipped, no overflow
  const cv::Mat img = draw_chart(chart, 400, 300);
  const int y = where(img, kBlue).y + where(img, kBlue).height / 2;
  EXPECT_NEAR(y, 300 - 45 - (300 - 48 - 45) / 4, 3);
  EXPECT_EQ(count_colour(img, kOrange), 0);
}

TEST(Plot, NonFiniteAndEmptySeriesAreLeftOutAndNamedOnesGoInTheLegend) {
  Chart chart;
  const double nan = std::nan("");
  chart.series.push_back({"nothing", {}, {}, kOrange});
  chart.series.push_back({"", {nan, 1, INFINITY}, {1, nan, 2}, kOrange});
  const cv::Mat empty = draw_chart(chart, 300, 200);
  EXPECT_EQ(count_colour(empty, kOrange), 0);
  chart.series.push_back({"named", {0, 1}, {0, 1}, kBlue});
  const cv::Mat img = draw_chart(chart, 300, 200);
  // The legend sits at the top right of the plot area: the named series' sample line is there.
  const cv::Rect legend(300 - 15 - 156, 48, 156, 40);
  EXPECT_GT(count_colour(img(legend), kBlue), 20);
  EXPECT_EQ(count_colour(img, kOrange), 0);  // neither unnamed nor empty series get an entry
}

TEST(Plot, LogAxesSkipNonPositiveXAndChartsGoSideBySide) {
  Chart chart;
  chart.log_x = true;
  chart.series.push_back({"", {-1, 0, 1e-3, 1e-2, 1e-1}, {0, 0, 0.2, 0.5, 0.9}, kBlue});
  const cv::Mat a = draw_chart(chart, 320, 240), b = draw_chart(chart, 200, 240);
  // Three points from 1e-3 to 1e-1 span the whole width of the plot area.
  const cv::Rect line = where(a, kBlue);
  EXPECT_NEAR(line.x, 60, 3);
  EXPECT_NEAR(line.x + line.width, 320 - 15, 3);
  const cv::Mat both = hconcat_charts({a, b});
  EXPECT_EQ(both.cols, 520);
  EXPECT_EQ(both.rows, 240);
  EXPECT_EQ(cv::norm(both.colRange(320, 520), b, cv::NORM_INF), 0);
}
