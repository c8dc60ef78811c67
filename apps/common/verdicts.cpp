#include "verdicts.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "faceid/annotate.hpp"
#include "preprocess_options.hpp"

namespace faceid::cli {

std::string verdict_label(const FaceVerdict& v) { return fmt::format("{} {:.2f}", v.owner ? "owner" : "unknown", v.share); }

void draw_verdicts(cv::Mat& image, const std::vector<FaceVerdict>& verdicts) {
  // Strangers first, so that the owner's box is drawn on top.
  for (const auto& v : verdicts)
    if (!v.owner) draw_face(image, v.face, kRed, verdict_label(v));
  for (const auto& v : verdicts)
    if (v.owner) draw_face(image, v.face, kGreen, verdict_label(v));
}

nlohmann::json faces_json(const std::vector<FaceVerdict>& verdicts) {
  nlohmann::json faces = nlohmann::json::array();
  for (const auto& v : verdicts) {
    nlohmann::json f = face_json(v.face);
    f["match_ratio"] = v.share;
    f["best_score"] = v.best;
    f["decision"] = v.owner ? "owner" : "unknown";
    f["scores"] = v.scores;
    faces.push_back(std::move(f));
  }
  return faces;
}

nlohmann::json image_json(const std::string& path, const std::vector<FaceVerdict>& verdicts, double decode_ms,
                          const VerifyTimings& t) {
  return {{"path", path},
          {"faces", faces_json(verdicts)},
          {"owner_found", any_owner(verdicts)},
          {"timings_ms", {{"decode", decode_ms}, {"detect", t.detect_ms}, {"align", t.align_ms},
                          {"embed", t.embed_ms}, {"compare", t.compare_ms}}}};
}

bool any_owner(const std::vector<FaceVerdict>& verdicts) {
  return std::any_of(verdicts.begin(), verdicts.end(), [](const FaceVerdict& v) { return v.owner; });
}

}  // namespace faceid::cli
