#include "verdicts.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "faceid/annotate.hpp"
#include "faceid/error.hpp"
#include "preprocess_options.hpp"

namespace faceid::cli {

void add_threshold_options(CLI::App& app, std::optional<float>& threshold,
                           std::optional<float>& ratio) {
  app.add_option("--threshold", threshold,
                 "Detection threshold: a reference matches when P(same) > this; owner models: the "
                 "face is the owner when P(owner) > this (default: the model's)")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--ratio", ratio,
                 "Verification threshold: owner when the share of matching references > this "
                 "(default: the model's)")
      ->check(CLI::Range(0.0, 1.0));
}

void add_unsure_options(CLI::App& app, UnsureOptions& o) {
  const Thresholds d;
  app.add_option(
         "--min-face", o.min_face,
         fmt::format("Faces whose box is smaller (shorter side, px) are 'unsure': too small to "
                     "judge (0: off; default: the model's, {} for models without one)",
                     d.min_face))
      ->check(CLI::Range(0, 100000));
  app.add_option(
         "--min-sharpness", o.min_sharpness,
         fmt::format(
             "Faces less sharp (variance of the Laplacian of the 64x64 face) are 'unsure': too "
             "blurred to judge (0: off; default: the model's, {} for models without one)",
             d.min_sharpness))
      ->check(CLI::Range(0.0, 1e9));
}

void apply_unsure_options(const UnsureOptions& o, Thresholds& t) {
  if (o.min_face) t.min_face = *o.min_face;
  if (o.min_sharpness) t.min_sharpness = *o.min_sharpness;
}

std::string verdict_label(const FaceVerdict& v) {
  return v.unsure ? std::string("unsure")
                  : fmt::format("{} {:.2f}", v.owner ? "owner" : "unknown", v.share);
}

void draw_verdicts(cv::Mat& image, const std::vector<FaceVerdict>& verdicts) {
  // Strangers first, then the unsure, so that the owner's box is drawn on top.
  for (const auto& v : verdicts)
    if (!v.owner && !v.unsure) draw_face(image, v.face, kRed, verdict_label(v));
  for (const auto& v : verdicts)
    if (v.unsure) draw_face(image, v.face, kAmber, verdict_label(v));
  for (const auto& v : verdicts)
    if (v.owner) draw_face(image, v.face, kGreen, verdict_label(v));
}

nlohmann::json faces_json(const std::vector<FaceVerdict>& verdicts) {
  nlohmann::json faces = nlohmann::json::array();
  for (const auto& v : verdicts) {
    nlohmann::json f = face_json(v.face);
    f["match_ratio"] = v.share;
    f["best_score"] = v.best;
    f["decision"] = v.decision();
    if (v.unsure) f["unsure_reason"] = v.unsure_reason;
    if (v.sharpness >= 0) f["sharpness"] = v.sharpness;
    if (v.owner_probability >= 0) f["owner_probability"] = v.owner_probability;
    f["scores"] = v.scores;
    faces.push_back(std::move(f));
  }
  return faces;
}

nlohmann::json image_json(const std::string& path, const std::vector<FaceVerdict>& verdicts,
                          double decode_ms, const VerifyTimings& t) {
  return {{"path", path},
          {"faces", faces_json(verdicts)},
          {"owner_found", any_owner(verdicts)},
          {"timings_ms",
           {{"decode", decode_ms},
            {"detect", t.detect_ms},
            {"align", t.align_ms},
            {"embed", t.embed_ms},
            {"compare", t.compare_ms}}}};
}

nlohmann::json model_header_json(const std::string& model, const Verifier& verifier,
                                 const std::string& refs_folder, const ReferenceReport& refs) {
  const Thresholds& t = verifier.thresholds();
  const bool needed = refs.needed;
  return {{"model", model},
          {"model_checksum", verifier.bundle().checksum},
          {"kind", verifier.kind()},
          {"references",
           {{"folder", needed ? nlohmann::json(refs_folder) : nlohmann::json(nullptr)},
            {"photos", refs.photos},
            {"used", refs.used},
            {"sessions", refs.sessions},
            {"embedded_now", refs.embedded},
            {"skipped", refs.skipped},
            {"needed", needed}}},
          {"thresholds",
           {{"detection", t.detection},
            {"ratio", t.ratio},
            {"owner", t.owner},
            {"min_face", t.min_face},
            {"min_sharpness", t.min_sharpness}}}};
}

bool any_owner(const std::vector<FaceVerdict>& verdicts) {
  return std::any_of(verdicts.begin(), verdicts.end(),
                     [](const FaceVerdict& v) { return v.owner; });
}

}  // namespace faceid::cli
