#include "faceid/align.hpp"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

namespace faceid {

std::array<cv::Point2f, 5> chip_template(const PreprocessConfig& c) {
  const auto points = alignment_template(c.alignment);
  std::array<cv::Point2f, 5> t;
  const float s = static_cast<float>(c.chip_size);
  for (int k = 0; k < 5; ++k)
    t[k] = {(points[k][0] + c.padding) / (1 + 2 * c.padding) * s,
            (points[k][1] + c.padding) / (1 + 2 * c.padding) * s};
  return t;
}

cv::Mat similarity_transform(const std::array<cv::Point2f, 5>& from,
                             const std::array<cv::Point2f, 5>& to) {
  // Closed form for 2-D: with centred points p (from) and q (to), the best scale*rotation is
  // a = sum(p.q)/sum|p|^2, b = sum(p x q)/sum|p|^2, i.e. [a -b; b a].
  cv::Point2d mp, mq;
  for (int k = 0; k < 5; ++k) {
    mp += cv::Point2d(from[k]);
    mq += cv::Point2d(to[k]);
  }
  mp *= 0.2;
  mq *= 0.2;
  double dot = 0, cross = 0, norm = 0;
  for (int k = 0; k < 5; ++k) {
    const cv::Point2d p = cv::Point2d(from[k]) - mp, q = cv::Point2d(to[k]) - mq;
    dot += p.x * q.x + p.y * q.y;
    cross += p.x * q.y - p.y * q.x;
    norm += p.x * p.x + p.y * p.y;
  }
  const double a = norm > 0 ? dot / norm : 1, b = norm > 0 ? cross / norm : 0;
  cv::Mat m = (cv::Mat_<double>(2, 3) << a, -b, mq.x - (a * mp.x - b * mp.y), b, a,
               mq.y - (b * mp.x + a * mp.y));
  return m;
}

cv::Mat align_face(const cv::Mat& bgr, const Face& face, const PreprocessConfig& config) {
  const auto target = chip_template(config);
  auto from = face.landmarks;
  cv::Mat source = bgr;
  cv::Mat m = similarity_transform(from, target);
  // Bilinear warping aliases when it shrinks a lot: pre-shrink with area averaging first.
  const double scale = std::hypot(m.at<double>(0, 0), m.at<double>(1, 0));
  if (scale < 0.5) {
    const double pre = scale * 2;
    cv::resize(bgr, source, cv::Size(), pre, pre, cv::INTER_AREA);
    for (auto& p : from) p *= static_cast<float>(pre);
    m = similarity_transform(from, target);
  }
  cv::Mat chip;
  cv::warpAffine(source, chip, m, cv::Size(config.chip_size, config.chip_size), cv::INTER_LINEAR,
                 cv::BORDER_REPLICATE);
  return chip;
}

float face_sharpness(const cv::Mat& bgr_chip, const PreprocessConfig& config) {
  // The template without padding spans [p, 1 + p] / (1 + 2p) of the chip.
  const double s = bgr_chip.cols, p = config.padding;
  const int x0 = static_cast<int>(std::lround(p / (1 + 2 * p) * s));
  const int side =
      std::max(1, std::min(bgr_chip.cols - x0, static_cast<int>(std::lround(s / (1 + 2 * p)))));
  const cv::Rect face(x0, std::min(x0, bgr_chip.rows - side), side, std::min(side, bgr_chip.rows));
  cv::Mat gray, small, lap;
  cv::cvtColor(bgr_chip(face), gray, cv::COLOR_BGR2GRAY);
  cv::resize(gray, small, cv::Size(64, 64), 0, 0, side > 64 ? cv::INTER_AREA : cv::INTER_LINEAR);
  cv::Laplacian(small, lap, CV_32F, 1);
  cv::Scalar mean, stddev;
  cv::meanStdDev(lap, mean, stddev);
  return static_cast<float>(stddev[0] * stddev[0]);
}

cv::Mat centre_chip(const cv::Mat& bgr, const PreprocessConfig& config, double fraction) {
  const int side = static_cast<int>(std::min(bgr.cols, bgr.rows) * fraction);
  const cv::Rect roi((bgr.cols - side) / 2, (bgr.rows - side) / 2, side, side);
  cv::Mat chip;
  cv::resize(bgr(roi), chip, cv::Size(config.chip_size, config.chip_size), 0, 0, cv::INTER_AREA);
  return chip;
}

}  // namespace faceid
