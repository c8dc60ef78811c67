#pragma once
// Synthetic pictures for the vision tests.

#include <filesystem>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace faceid::test {

/// Sky, hills and a sun: shapes and gradients but no face. Written as PNG to `file`.
inline void write_landscape(const std::filesystem::path& file) {
  cv::Mat scene(240, 320, CV_8UC3);
  for (int y = 0; y < scene.rows; ++y)
    scene.row(y).setTo(cv::Scalar(230 - y / 2, 180 - y / 3, 120));
  cv::ellipse(scene, {80, 260}, {200, 90}, 0, 0, 360, cv::Scalar(40, 140, 60), cv::FILLED);
  cv::circle(scene, {250, 50}, 25, cv::Scalar(60, 220, 250), cv::FILLED);
  cv::imwrite(file.string(), scene);
}

}  // namespace faceid::test
