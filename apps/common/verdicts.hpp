#pragma once
// faceverify's per-image output, shared by faceverify and faceserve: the JSON of an image's
// faces (the `--json` schema) and the annotation (owner green, everybody else red, each labelled
// with its match ratio).

#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core/mat.hpp>

#include "faceid/verifier.hpp"

namespace faceid::cli {

/// "owner 0.83" / "unknown 0.00": the decision and the match ratio.
std::string verdict_label(const FaceVerdict& v);

/// Draws every verdict onto `image`: strangers red first, then the owner green on top.
void draw_verdicts(cv::Mat& image, const std::vector<FaceVerdict>& verdicts);

/// The faces array: per face box, score, landmarks, match_ratio, best_score, decision, scores.
nlohmann::json faces_json(const std::vector<FaceVerdict>& verdicts);

/// One image's entry of faceverify --json: path, faces, owner_found, timings_ms (decode, detect,
/// align, embed, compare).
nlohmann::json image_json(const std::string& path, const std::vector<FaceVerdict>& verdicts, double decode_ms,
                          const VerifyTimings& timings);

/// Whether any face is the owner.
bool any_owner(const std::vector<FaceVerdict>& verdicts);

}  // namespace faceid::cli
