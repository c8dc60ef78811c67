#include "faceid/lbp.hpp"

#include <array>
#include <bitset>
#include <cmath>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "faceid/error.hpp"

namespace faceid {
namespace {

// Pattern (0..255) -> bin: uniform patterns get 0..57 in increasing order, the rest 58.
std::array<int, 256> uniform_bins() {
  std::array<int, 256> bins{};
  int next = 0;
  for (int p = 0; p < 256; ++p) {
    const int rotated = ((p << 1) | (p >> 7)) & 0xff;  // circular neighbour comparison
    const auto transitions = std::bitset<8>(static_cast<unsigned>(p ^ rotated)).count();
    bins[static_cast<std::size_t>(p)] = transitions <= 2 ? next++ : kLbpBins - 1;
  }
  return bins;
}

}  // namespace

std::vector<float> lbp_descriptor(const cv::Mat& chip, int grid, bool root) {
  if (chip.empty()) throw usage_error("lbp_descriptor: empty image");
  if (grid < 1 || chip.rows < 3 * grid || chip.cols < 3 * grid)
    throw usage_error("lbp_descriptor: a " + std::to_string(chip.cols) + "x" +
                      std::to_string(chip.rows) + " chip is too small for a " +
                      std::to_string(grid) + "x" + std::to_string(grid) + " grid");
  static const std::array<int, 256> kBins = uniform_bins();
  cv::Mat gray;
  if (chip.channels() == 1)
    gray = chip;
  else
    cv::cvtColor(chip, gray, cv::COLOR_BGR2GRAY);
  // The 8 neighbours at radius 1, clockwise from the top-left.
  static const int dy[8] = {-1, -1, -1, 0, 1, 1, 1, 0}, dx[8] = {-1, 0, 1, 1, 1, 0, -1, -1};
  std::vector<float> hist(static_cast<std::size_t>(grid * grid * kLbpBins), 0.f);
  const int inner_rows = gray.rows - 2, inner_cols = gray.cols - 2;
  for (int y = 1; y <= inner_rows; ++y) {
    const int cy = std::min(grid - 1, (y - 1) * grid / inner_rows);
    for (int x = 1; x <= inner_cols; ++x) {
      const int cx = std::min(grid - 1, (x - 1) * grid / inner_cols);
      const uchar centre = gray.at<uchar>(y, x);
      int pattern = 0;
      for (int k = 0; k < 8; ++k) pattern |= (gray.at<uchar>(y + dy[k], x + dx[k]) >= centre) << k;
      hist[static_cast<std::size_t>((cy * grid + cx) * kLbpBins +
                                    kBins[static_cast<std::size_t>(pattern)])] += 1.f;
    }
  }
  for (int c = 0; c < grid * grid; ++c) {
    float sum = 0;
    for (int b = 0; b < kLbpBins; ++b) sum += hist[static_cast<std::size_t>(c * kLbpBins + b)];
    if (sum > 0)
      for (int b = 0; b < kLbpBins; ++b) {
        float& v = hist[static_cast<std::size_t>(c * kLbpBins + b)];
        v = root ? std::sqrt(v / sum) : v / sum;
      }
  }
  return hist;
}

float chi_square(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size())
    throw usage_error("chi_square: descriptors of " + std::to_string(a.size()) + " and " +
                      std::to_string(b.size()) + " bins");
  double d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double s = a[i] + b[i];
    if (s > 0) d += (a[i] - b[i]) * (a[i] - b[i]) / s;
  }
  return static_cast<float>(d);
}

}  // namespace faceid
