#include "faceid/annotate.hpp"

#include <algorithm>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "faceid/error.hpp"
#include "faceid/io/atomic_file.hpp"

namespace fs = std::filesystem;

namespace faceid {

void draw_face(cv::Mat& image, const Face& face, const cv::Scalar& colour,
               const std::string& label) {
  const int thick =
      std::max(1, static_cast<int>(std::round(std::max(image.cols, image.rows) / 400.0)));
  const cv::Rect box(face.box);
  cv::rectangle(image, box, colour, thick + 1, cv::LINE_AA);
  if (face.has_landmarks)
    for (const auto& p : face.landmarks)
      cv::circle(image, p, thick + 1, colour, cv::FILLED, cv::LINE_AA);
  if (label.empty()) return;
  const double font_scale = std::clamp(box.width / 160.0, 0.4, 1.2);
  int baseline = 0;
  const cv::Size text =
      cv::getTextSize(label, cv::FONT_HERSHEY_SIMPLEX, font_scale, thick, &baseline);
  cv::Point origin(box.x, box.y - 4);
  if (origin.y - text.height < 0) origin.y = box.y + box.height + text.height + 4;
  cv::rectangle(image, cv::Point(origin.x - 1, origin.y - text.height - 3),
                cv::Point(origin.x + text.width + 2, origin.y + baseline - 1), colour, cv::FILLED);
  cv::putText(image, label, origin, cv::FONT_HERSHEY_SIMPLEX, font_scale, cv::Scalar(255, 255, 255),
              thick, cv::LINE_AA);
}

void write_image(const fs::path& file, const cv::Mat& image, const fs::path& input) {
  std::error_code ec;
  if (!input.empty() && fs::exists(file, ec) && fs::equivalent(file, input, ec))
    throw usage_error(file.string() + ": refusing to overwrite the input image");
  // Encoded in memory, so that the file goes through the one checked, atomic write path.
  std::vector<uchar> bytes;
  bool encoded = false;
  std::string why = "unknown image extension";
  try {
    encoded = cv::imencode(file.extension().string(), image, bytes);
  } catch (const cv::Exception& e) {
    why = e.err;
  }
  if (!encoded) throw input_error(file.string() + ": cannot write image: " + why);
  write_file_atomically(
      file, "image", std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

cv::Mat contact_sheet(const std::vector<cv::Mat>& chips, int columns) {
  if (columns < 1) throw internal_error("contact_sheet: columns must be positive");
  if (chips.empty()) return {};
  for (const auto& chip : chips)
    if (chip.size() != chips.front().size() || chip.rows != chip.cols || chip.type() != CV_8UC3)
      throw internal_error("contact_sheet: chips must be square BGR images of one size");
  const int s = chips.front().rows, cols = std::min<int>(columns, static_cast<int>(chips.size()));
  const int rows = (static_cast<int>(chips.size()) + cols - 1) / cols;
  cv::Mat sheet(rows * s, cols * s, CV_8UC3, cv::Scalar(0, 0, 0));
  for (std::size_t i = 0; i < chips.size(); ++i)
    chips[i].copyTo(
        sheet(cv::Rect(static_cast<int>(i % cols) * s, static_cast<int>(i / cols) * s, s, s)));
  return sheet;
}

}  // namespace faceid
