#pragma once
// Drawing results onto pictures, and writing images safely.

#include <filesystem>
#include <string>

#include <opencv2/core/mat.hpp>

#include "faceid/detector.hpp"

namespace faceid {

/// BGR colours used by all tools.
inline const cv::Scalar kGreen{60, 200, 60};
inline const cv::Scalar kRed{40, 40, 220};
inline const cv::Scalar kYellow{0, 210, 240};
inline const cv::Scalar kAmber{0, 150, 255};  ///< faceverify's "unsure"

/// Draws `face`'s box (line width scaled to the image), its landmarks, and `label` above it on a
/// filled background so it stays readable on any picture.
void draw_face(cv::Mat& image, const Face& face, const cv::Scalar& colour,
               const std::string& label);

/// Writes `image` to `file` atomically (temporary file in the same folder, then rename). Throws
/// Error(Usage) when `file` is the same file as `input` (never overwrite the input), Error(Input)
/// when the format is unknown or the folder is not writable.
void write_image(const std::filesystem::path& file, const cv::Mat& image,
                 const std::filesystem::path& input = {});

/// A grid of chips (each square BGR, same size) with `columns` per row, for looking at many faces;
/// empty for no chips. Throws Error(Internal) for columns < 1 or chips of other sizes or types.
cv::Mat contact_sheet(const std::vector<cv::Mat>& chips, int columns);

}  // namespace faceid
