#pragma once
// Small line charts drawn with OpenCV (training curves, ROC), for people who would rather look
// than read a CSV.

#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

namespace faceid {

struct Series {
  std::string name;
  std::vector<double> x, y;
  cv::Scalar colour;
};

struct Chart {
  std::string title, x_label, y_label;
  std::vector<Series> series;
  double x_min = NAN, x_max = NAN, y_min = NAN, y_max = NAN;  ///< NAN = from the data
  bool log_x = false;
};

/// A white chart of `width` x `height` with axes, ticks, grid and a legend (named series only).
/// Points with a non-finite value (or x <= 0 on a log axis) are left out; series without a point
/// are skipped; points outside a fixed range are clipped.
cv::Mat draw_chart(const Chart& chart, int width = 640, int height = 420);

/// Charts side by side in one image.
cv::Mat hconcat_charts(const std::vector<cv::Mat>& charts);

}  // namespace faceid
