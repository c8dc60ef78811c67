#pragma once
// Face alignment (docs/design.md §2): the 5 landmarks are mapped by a least-squares similarity
// transform (rotation, uniform scale, shift) onto a fixed template, so that every chip has the
// eyes, nose and mouth in the same places.

#include <array>

#include <opencv2/core/mat.hpp>

#include "faceid/config.hpp"
#include "faceid/detector.hpp"

namespace faceid {

/// Where the 5 landmarks go in a chip of `config.chip_size`: `config.alignment`'s template
/// (alignment_template) with `config.padding` added around it.
std::array<cv::Point2f, 5> chip_template(const PreprocessConfig& config);

/// The 2x3 similarity transform (CV_64F) that best maps `from` onto `to` (Umeyama, least squares).
cv::Mat similarity_transform(const std::array<cv::Point2f, 5>& from,
                             const std::array<cv::Point2f, 5>& to);

/// The aligned chip of `face`: CV_8UC3 BGR, chip_size x chip_size.
cv::Mat align_face(const cv::Mat& bgr, const Face& face, const PreprocessConfig& config);

/// How sharp the face in an aligned chip is: the variance of the Laplacian (3x3) of the chip's
/// face area (the 5-point template's square without the padding) in gray, resized to 64x64 so
/// that the value does not depend on the chip size or padding. A sharp face scores in the
/// hundreds, a Gaussian blur of sigma 4 on a 120 px face ~30, sigma 9 ~10.
float face_sharpness(const cv::Mat& bgr_chip, const PreprocessConfig& config);

/// A chip cut from the centre of an image without detection (a disclosed fallback for
/// pre-aligned sets such as LFW when the detector finds nothing): the central `fraction` of the
/// image, resized to chip_size.
cv::Mat centre_chip(const cv::Mat& bgr, const PreprocessConfig& config, double fraction = 0.45);

}  // namespace faceid
