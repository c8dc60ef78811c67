#include "faceid/score/thresholds.hpp"

#include "detail/json_integer.hpp"

namespace faceid {

// Measured on the default recipe (docs/owner-and-sessions.md "Faces at the border, the unsure
// verdict, capture sessions"): the owner's other session vs 300 unseen LFW strangers, downscaled
// and blurred. Below sharpness 10 the owner's faces start to be missed (TAR 0.97 -> 0.76); faces
// were judged as well as full-size ones down to 21-28 px, so the size limit sits at the edge of
// what was measured.
const int kDefaultMinFace = 24;
const float kDefaultMinSharpness = 10;

void to_json(nlohmann::json& j, const Thresholds& t) {
  j = {{"pair", t.pair},
       {"detection", t.detection},
       {"ratio", t.ratio},
       {"owner", t.owner},
       {"target_far", t.target_far},
       {"min_face", t.min_face},
       {"min_sharpness", t.min_sharpness},
       {"calibration", t.calibration}};
}

void from_json(const nlohmann::json& j, Thresholds& t) {
  j.at("pair").get_to(t.pair);
  j.at("detection").get_to(t.detection);
  j.at("ratio").get_to(t.ratio);
  j.at("target_far").get_to(t.target_far);
  t.owner = j.value("owner", Thresholds{}.owner);  // siamese bundles from before the owner kind
  // Bundles from before the unsure verdict get today's measured defaults.
  t.min_face = detail::json_integer_or(j, "min_face", Thresholds{}.min_face);
  t.min_sharpness = j.value("min_sharpness", Thresholds{}.min_sharpness);
  t.calibration = j.value("calibration", nlohmann::json::object());
}

}  // namespace faceid
