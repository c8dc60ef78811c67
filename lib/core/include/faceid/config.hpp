#pragma once
// All defaults in one place: the preprocessing that is part of a model bundle, and the
// augmentation applied on the fly in training. Plain structs; JSON in config.cpp.

#include <array>
#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace faceid {

/// How an image becomes a face chip (docs/design.md §2). Stored in the model bundle so that
/// training, evaluation and verification use the very same steps.
struct PreprocessConfig {
  int chip_size = 100;  ///< side of the square RGB chip the model sees
  std::string detector =
      "auto";  ///< "auto" (YuNet when its model is found, else Haar), "yunet", "haar"
  float score_threshold = 0.7f;  ///< detector confidence below which a box is dropped
  int max_detect_side =
      640;                 ///< larger images are downscaled for detection (YuNet misses big faces)
  int min_face_size = 20;  ///< boxes smaller than this (pixels, original image) are dropped
  float border_pad = 0.25f;  ///< detection pads the image by this share of its longer side (faces
                             ///< cut by the border)
  float padding =
      0.25f;  ///< margin around the 5-point template, as a fraction of the chip (context)
  /// Where the 5 landmarks go (alignment_template): "arcface" (the ArcFace 112x112 template: the
  /// eyes near mid-chip) or "dlib" (dlib's face chip: eyes high, the geometry dlib's descriptor
  /// and its face-api port were trained on). The geometry belongs to the model: a net sees chips
  /// of the template it was trained with.
  std::string alignment = "arcface";

  /// A short string that changes whenever a field that changes the chips changes (cache key).
  std::string fingerprint() const;
};

/// The alignment templates PreprocessConfig::alignment accepts.
inline const char* const kAlignments[] = {"arcface", "dlib"};

/// The 5 landmarks (the eye on the image's left, the other eye, the nose tip, the mouth corner on
/// the image's left, the other corner) of template `name` as (x, y) in [0, 1] of the unpadded
/// face square; a chip of side S with padding p puts point q at (q + p) / (1 + 2p) * S.
/// "arcface": ArcFace's 112 px template / 112. "dlib": dlib's mean face shape (the 68-point
/// means that get_face_chip_details aligns to): the eyes' six contour points averaged, the nose
/// tip (point 30), the mouth corners (48, 54). Throws Error(Usage) for another name.
std::array<std::array<float, 2>, 5> alignment_template(const std::string& name);

/// On-the-fly augmentation of training chips (docs/design.md §3), seeded per pair.
struct AugmentConfig {
  bool enabled = true;
  float flip_prob = 0.5f;       ///< horizontal mirror
  float max_rotation_deg = 10;  ///< uniform in [-r, r]
  float max_scale = 0.08f;      ///< zoom factor uniform in [1-s, 1+s]
  float max_shift = 0.05f;      ///< translation, fraction of the chip side
  float brightness = 0.15f;     ///< additive, uniform in [-b, b] (pixel values in [0,1])
  float contrast = 0.2f;        ///< multiplicative around the mean, uniform in [1-c, 1+c]
  float blur_prob = 0.1f;       ///< 3x3 Gaussian blur
  float noise_std = 0.01f;      ///< Gaussian pixel noise
  float erase_prob = 0.0f;  ///< random erasing: a rectangle (2-20 % of the chip) filled with noise
  /// > 1: a share zoom_prob of the chips is zoomed in by this factor more (the net's zoom view,
  /// ModelConfig::zoom_view, seen in training). 0 = off.
  float zoom_view = 0.0f;
  float zoom_prob = 0.5f;
};

void to_json(nlohmann::json& j, const PreprocessConfig& c);
/// Throws Error(Model) on a missing or ill-typed field.
void from_json(const nlohmann::json& j, PreprocessConfig& c);
void to_json(nlohmann::json& j, const AugmentConfig& c);
void from_json(const nlohmann::json& j, AugmentConfig& c);

/// 64-bit FNV-1a of a string, as 16 hex digits (cache file names, fingerprints, weights
/// checksums). Its offset basis, 1469598103934665603, lacks the last digit of the published one:
/// kept, since every bundle's checksum and every cache's name depend on it.
std::string fnv1a_hex(const std::string& text);

}  // namespace faceid
