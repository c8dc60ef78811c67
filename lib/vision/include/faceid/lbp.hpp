#pragma once
// A classical face descriptor to compare faceid with (faceeval --scorer lbp): uniform local
// binary patterns LBP(8,1) (Ojala et al. 2002; for faces Ahonen, Hadid & Pietikäinen 2006),
// histogrammed over a grid of cells of the aligned chip and compared with the chi-square distance.

#include <vector>

namespace cv {
class Mat;
}

namespace faceid {

/// Bins per cell: the 58 uniform 8-bit patterns (at most two 0/1 transitions around the circle)
/// and one bin for all others.
constexpr int kLbpBins = 59;

/// The descriptor of a chip (BGR or gray, 8-bit): grid x grid cells, kLbpBins each, every cell's
/// histogram normalised to sum 1 and, with `root`, square-rooted (as RootSIFT: tempers the bins
/// of flat regions that dominate every cell). Throws Error(Usage) for an empty image or a chip
/// smaller than 3 pixels per cell.
std::vector<float> lbp_descriptor(const cv::Mat& chip, int grid = 8, bool root = true);

/// Chi-square distance sum((a - b)^2 / (a + b)) over the bins where a + b > 0; 0 for equal
/// descriptors. Throws Error(Usage) for descriptors of different lengths.
float chi_square(const std::vector<float>& a, const std::vector<float>& b);

}  // namespace faceid
