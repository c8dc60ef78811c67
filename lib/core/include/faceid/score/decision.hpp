#pragma once
// The owner decision (docs/design.md §6, the seed's rule) and its calibration. A face is compared
// with every reference photo of the owner; it is the owner when the share of references whose
// P(same) exceeds the detection threshold is above the verification ratio.

#include <string>
#include <vector>

#include "faceid/score/thresholds.hpp"

namespace faceid {

/// Share of `scores` (one per reference) strictly above `detection`.
float match_share(const std::vector<float>& scores, float detection);

/// The seed's rule: match_share(scores, detection) > ratio. False for no references.
bool is_owner(const std::vector<float>& scores, float detection, float ratio);

/// References from several capture sessions (session[i]: the session of reference i): the
/// highest match_share among the sessions, so that a face needs to match most references of one
/// session, not of all (a new day's few photos are never outvoted by an old day's many). One
/// session: match_share. Throws Error(Internal) when the sizes differ.
float session_match_share(const std::vector<float>& scores, const std::vector<int>& session,
                          float detection);

/// The lowest detection threshold at which the session rule (session_match_share > ratio) accepts
/// at most target_far of `strangers` (one row of reference scores per stranger face, sessions as
/// above): the bundle's threshold is calibrated for one session's references, and a face gets one
/// chance per session. Throws Error(Input) without strangers, Error(Internal) on a row of
/// another size.
float session_detection_for_far(const std::vector<std::vector<float>>& strangers,
                                const std::vector<int>& session, float ratio, double target_far);

/// Why a face is too small or too blurred to judge under `t` (min_face, min_sharpness; 0 turns a
/// check off), or "" when it can be judged: "face 47x61 px < 64 px", "blur: sharpness 12.3 < 30".
/// `width` and `height` are the face box's in picture pixels (0: unknown, not checked);
/// `sharpness` < 0 means unknown (not checked).
std::string unsure_reason(float width, float height, float sharpness, const Thresholds& t);

/// Chooses (detection, ratio) from the reference scores of held-out owner faces (should be
/// accepted) and stranger faces (should be rejected): for each ratio in {0, 0.02, 0.05, 0.1, 0.2,
/// ..., 0.9} (0: the best reference decides), the lowest detection threshold whose false-accept
/// rate on the strangers is <= target_far, keeping the ratio with the highest true-accept rate.
/// Fills calibration with TAR, FAR and the counts (a FAR below 1 / strangers cannot be resolved:
/// the rule then admits no stranger at all, and calibration says so). Throws Error(Input) when
/// either side is empty.
Thresholds calibrate_owner(const std::vector<std::vector<float>>& owner,
                           const std::vector<std::vector<float>>& strangers, double target_far);

/// One threshold on one score per face (higher = the owner; accepted when score > threshold).
struct ScoreThreshold {
  float threshold = 0.5f;
  std::size_t owner_accepted = 0, owner = 0;          ///< owner faces above the threshold, of all
  std::size_t strangers_accepted = 0, strangers = 0;  ///< stranger faces above it, of all
  double tar() const {
    return owner ? static_cast<double>(owner_accepted) / static_cast<double>(owner) : 0.0;
  }
  double far() const {
    return strangers ? static_cast<double>(strangers_accepted) / static_cast<double>(strangers)
                     : 0.0;
  }
};

/// The lowest threshold whose false-accept rate on `strangers` is <= target_far (at most 0.9999;
/// below 1 / strangers: above every stranger), and what it accepts. The rule calibrate_owner
/// applies per ratio. Throws Error(Input) when either side is empty.
ScoreThreshold threshold_for_far(const std::vector<float>& owner,
                                 const std::vector<float>& strangers, double target_far);

/// The owner kind's calibration (one P(owner) per face): Thresholds with `owner` =
/// threshold_for_far(...) and the calibration JSON calibrate_owner writes (TAR, FAR, counts, FAR
/// resolution). Throws Error(Input) when either side is empty.
Thresholds calibrate_owner_score(const std::vector<float>& owner,
                                 const std::vector<float>& strangers, double target_far);

}  // namespace faceid
