#pragma once
// Face detection (docs/design.md §2): YuNet through cv::FaceDetectorYN when its .onnx model is
// found, otherwise the frontal-face Haar cascade from Debian's opencv-data.

#include <array>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core/types.hpp>

#include "faceid/config.hpp"

namespace cv {
class Mat;
}

namespace faceid {

/// One detected face in original-image pixel coordinates.
struct Face {
  cv::Rect2f box;
  /// Right eye, left eye (as seen in the picture: left, right), nose tip, mouth right, mouth left.
  std::array<cv::Point2f, 5> landmarks;
  bool has_landmarks = false;  ///< false: landmarks were estimated from the box (Haar)
  float score = 0;             ///< detector confidence (Haar: 1)
};

struct DetectorOptions {
  std::string kind = "auto";           ///< "auto", "yunet" or "haar"
  std::filesystem::path yunet_model;   ///< explicit model file; empty = search (find_yunet_model)
  std::filesystem::path haar_cascade;  ///< explicit cascade; empty = opencv-data's default
  float score_threshold = 0.7f;
  int max_side = 640;  ///< detection runs on the image downscaled to this
  int min_face_size = 20;
  /// YuNet: the (downscaled) image is padded on every side by this fraction of its longer side
  /// before detection, so that faces cut by the photo's border, whose centre lies near or beyond
  /// the edge, are still found; boxes and landmarks are mapped back and may extend beyond the
  /// image (align_face fills the missing part by replicating the border). 0 = no padding.
  float border_pad = 0.25f;
};

/// The detector settings of a preprocessing configuration.
DetectorOptions detector_options(const PreprocessConfig& config);

/// The YuNet model: `hint` when given (Error(Input) if missing), else $FACEID_YUNET, else
/// models/face_detection_yunet_2022mar.onnx under the data folder ($FACEID_DATA or
/// ../shared/data), ./models, /usr/share/faceid/models. Empty when none exists.
std::filesystem::path find_yunet_model(const std::filesystem::path& hint = {});

/// The Haar cascade: `hint` when given, else opencv-data's haarcascade_frontalface_default.xml.
/// Empty when none exists.
std::filesystem::path find_haar_cascade(const std::filesystem::path& hint = {});

/// Resolves "auto" to "yunet" (model found) or "haar"; fills in the model paths. Throws
/// Error(Input) when the requested detector's model cannot be found, Error(Usage) for an unknown
/// kind.
DetectorOptions resolve_detector(DetectorOptions options);

class Detector {
 public:
  virtual ~Detector() = default;
  /// Faces in a BGR 8-bit image, largest visible part first (the area of the box inside the
  /// image: a face cut by the border counts by what is left of it). Not thread-safe: one
  /// detector per thread.
  virtual std::vector<Face> detect(const cv::Mat& bgr) = 0;
  /// "yunet" or "haar".
  virtual std::string name() const = 0;

  /// Creates the detector of `options` (resolved first). Throws Error(Input) when the model file
  /// cannot be loaded.
  static std::unique_ptr<Detector> create(const DetectorOptions& options);
};

}  // namespace faceid
