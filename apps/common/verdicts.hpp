#pragma once
// faceverify's per-image output, shared by faceverify and faceserve: the JSON of an image's
// faces (the `--json` schema), the annotation (owner green, everybody else red, faces too small
// or blurred to judge amber "unsure", each labelled with its match ratio), and the flags of the
// unsure verdict.

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <opencv2/core/mat.hpp>

#include "faceid/verifier.hpp"

namespace faceid::cli {

/// Adds --threshold (a reference matches when P(same) > it) and --ratio (owner when the share of
/// matching references > it); unset: the model's.
void add_threshold_options(CLI::App& app, std::optional<float>& threshold,
                           std::optional<float>& ratio);

/// --min-face / --min-sharpness: the unsure verdict's limits (unset: the model's).
struct UnsureOptions {
  std::optional<int> min_face;
  std::optional<float> min_sharpness;
};

/// Adds --min-face and --min-sharpness (0 turns a check off; defaults named in --help).
void add_unsure_options(CLI::App& app, UnsureOptions& o);

/// Overrides the model's limits with the given flags.
void apply_unsure_options(const UnsureOptions& o, Thresholds& t);

/// "owner 0.83" / "unknown 0.00" / "unsure": the decision and the match ratio (none when unsure).
std::string verdict_label(const FaceVerdict& v);

/// Draws every verdict onto `image`: strangers red first, unsure amber, then the owner green on
/// top.
void draw_verdicts(cv::Mat& image, const std::vector<FaceVerdict>& verdicts);

/// The faces array: per face box, score, landmarks, match_ratio, best_score, decision
/// ("owner", "unknown" or "unsure"), unsure_reason (when unsure), sharpness, scores, and
/// owner_probability for an owner model (whose match_ratio and best_score are that probability
/// too, and scores empty: it has no references).
nlohmann::json faces_json(const std::vector<FaceVerdict>& verdicts);

/// One image's entry of faceverify --json: path, faces, owner_found, timings_ms (decode, detect,
/// align, embed, compare).
nlohmann::json image_json(const std::string& path, const std::vector<FaceVerdict>& verdicts,
                          double decode_ms, const VerifyTimings& timings);

/// What faceverify --json and faceserve say about the model before the images: model (the folder
/// as given), model_checksum, kind ("siamese" or "owner"), references (folder, photos, used,
/// embedded_now, skipped, needed: false for an owner model, which uses none) and thresholds
/// (detection, ratio, owner: the owner model's P(owner) threshold, min_face, min_sharpness).
nlohmann::json model_header_json(const std::string& model, const Verifier& verifier,
                                 const std::string& refs_folder, const ReferenceReport& refs);

/// Whether any face is the owner.
bool any_owner(const std::vector<FaceVerdict>& verdicts);

}  // namespace faceid::cli
