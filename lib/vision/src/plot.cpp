#include "faceid/plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <opencv2/imgproc.hpp>

namespace faceid {

cv::Mat draw_chart(const Chart& chart, int width, int height) {
  cv::Mat img(height, width, CV_8UC3, cv::Scalar(255, 255, 255));
  const int left = 60, right = 15, top = 48, bottom = 45;
  const cv::Rect area(left, top, width - left - right, height - top - bottom);
  auto tx = [&](double x) { return chart.log_x ? std::log10(std::max(x, 1e-12)) : x; };
  double x0 = chart.x_min, x1 = chart.x_max, y0 = chart.y_min, y1 = chart.y_max;
  double dx0 = INFINITY, dx1 = -INFINITY, dy0 = INFINITY, dy1 = -INFINITY;
  // A point is drawn when both its values are finite (and, on a log axis, x is positive).
  auto drawable = [&](const Series& s, std::size_t i) {
    return std::isfinite(s.y[i]) && std::isfinite(s.x[i]) && (!chart.log_x || s.x[i] > 0);
  };
  for (const auto& s : chart.series)
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!drawable(s, i)) continue;
      dx0 = std::min(dx0, tx(s.x[i]));
      dx1 = std::max(dx1, tx(s.x[i]));
      dy0 = std::min(dy0, s.y[i]);
      dy1 = std::max(dy1, s.y[i]);
    }
  x0 = std::isnan(x0) ? dx0 : tx(x0);
  x1 = std::isnan(x1) ? dx1 : tx(x1);
  if (std::isnan(y0)) y0 = dy0;
  if (std::isnan(y1)) y1 = dy1;
  if (!std::isfinite(x0) || !std::isfinite(x1)) x0 = 0, x1 = 1;
  if (!std::isfinite(y0) || !std::isfinite(y1)) y0 = 0, y1 = 1;
  if (x1 - x0 < 1e-12) x1 = x0 + 1;
  if (y1 - y0 < 1e-12) y1 = y0 + 1;
  // Points outside a fixed range are clamped a little beyond the plot area (clipped when drawn),
  // so that the conversion to int cannot overflow.
  auto px = [&](double x, double y) {
    const auto clamp = [](double v, int size) {
      return static_cast<int>(std::clamp(v * size, -1.0 * size, 2.0 * size));
    };
    return cv::Point(area.x + clamp((tx(x) - x0) / (x1 - x0), area.width),
                     area.y + area.height - clamp((y - y0) / (y1 - y0), area.height));
  };
  const auto grey = cv::Scalar(225, 225, 225), dark = cv::Scalar(60, 60, 60);
  const int font = cv::FONT_HERSHEY_SIMPLEX;
  char label[32];
  for (int k = 0; k <= 5; ++k) {
    const double fx = x0 + (x1 - x0) * k / 5, fy = y0 + (y1 - y0) * k / 5;
    const int gx = area.x + area.width * k / 5, gy = area.y + area.height - area.height * k / 5;
    cv::line(img, {gx, area.y}, {gx, area.y + area.height}, grey);
    cv::line(img, {area.x, gy}, {area.x + area.width, gy}, grey);
    std::snprintf(label, sizeof label, chart.log_x ? "1e%.1f" : "%.3g", fx);
    cv::putText(img, label, {gx - 14, area.y + area.height + 16}, font, 0.38, dark, 1, cv::LINE_AA);
    std::snprintf(label, sizeof label, "%.3g", fy);
    cv::putText(img, label, {4, gy + 4}, font, 0.38, dark, 1, cv::LINE_AA);
  }
  cv::rectangle(img, area, dark);
  cv::putText(img, chart.title, {left, 20}, font, 0.55, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  cv::putText(img, chart.x_label, {area.x + area.width / 2 - 30, height - 10}, font, 0.45, dark, 1,
              cv::LINE_AA);
  cv::putText(img, chart.y_label, {4, top - 10}, font, 0.4, dark, 1, cv::LINE_AA);

  cv::Mat plot = img(area);
  std::vector<const Series*> named;
  for (const auto& s : chart.series) {
    std::vector<cv::Point> pts;
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
      if (drawable(s, i)) pts.push_back(px(s.x[i], s.y[i]) - area.tl());
    if (pts.empty()) continue;
    if (pts.size() == 1) cv::circle(plot, pts[0], 3, s.colour, cv::FILLED, cv::LINE_AA);
    cv::polylines(plot, pts, false, s.colour, 2, cv::LINE_AA);
    if (!s.name.empty()) named.push_back(&s);  // unnamed series stay out of the legend
  }
  // The legend last, on a white box, so that no curve runs through it.
  if (!named.empty()) {
    const cv::Rect box(area.x + area.width - 156, area.y + 4, 150,
                       16 * static_cast<int>(named.size()) + 6);
    cv::rectangle(img, box, cv::Scalar(255, 255, 255), cv::FILLED);
    cv::rectangle(img, box, cv::Scalar(200, 200, 200), 1);
    int legend_y = area.y + 20;
    for (const Series* s : named) {
      cv::line(img, {box.x + 6, legend_y - 4}, {box.x + 28, legend_y - 4}, s->colour, 2);
      cv::putText(img, s->name, {box.x + 34, legend_y}, font, 0.4, dark, 1, cv::LINE_AA);
      legend_y += 16;
    }
  }
  return img;
}

cv::Mat hconcat_charts(const std::vector<cv::Mat>& charts) {
  cv::Mat out;
  cv::hconcat(charts, out);
  return out;
}

}  // namespace faceid
