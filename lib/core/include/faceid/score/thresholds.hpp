#pragma once
// The decision thresholds a bundle carries (docs/design.md §6) and their JSON (model.json's
// "thresholds"). No LibTorch: the decision rule (decision.hpp) and its tests need none.

#include <nlohmann/json.hpp>

namespace faceid {

/// The unsure verdict's measured defaults (docs/owner-and-sessions.md, "the unsure verdict").
extern const int kDefaultMinFace;
extern const float kDefaultMinSharpness;

/// The decision thresholds (docs/design.md §6), all on P(same) = sigmoid(logit).
struct Thresholds {
  float pair = 0.5f;  ///< same/different for a single pair (equal-error point on validation pairs)
  float detection = 0.5f;  ///< a reference "matches" a face when P(same) > detection
  float ratio = 0.5f;      ///< the face is the owner when the share of matching references > ratio
  float owner = 0.5f;      ///< owner kind: the face is the owner when P(owner) > this
  double target_far = 1e-3;  ///< false-accept rate the calibration aimed for
  /// Faces whose box is smaller than this (shorter side, pixels of the picture) are "unsure":
  /// too small to judge (measured, see kDefaultMinFace). 0 = no limit.
  int min_face = kDefaultMinFace;
  /// Faces whose sharpness (face_sharpness in align.hpp) is below this are "unsure": too blurred
  /// to judge (measured). 0 = no limit.
  float min_sharpness = kDefaultMinSharpness;
  nlohmann::json calibration;  ///< how they were chosen and what they achieved (TAR, FAR, counts)
};

void to_json(nlohmann::json& j, const Thresholds& t);
void from_json(const nlohmann::json& j, Thresholds& t);

}  // namespace faceid
