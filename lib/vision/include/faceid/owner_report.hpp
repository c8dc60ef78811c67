#pragma once
// The owner report's scoring (docs/design.md §7; faceeval owner): a way of deciding — a siamese
// model's reference rule or an owner model's P(owner) threshold, both behind a Verifier — scored
// on the same owner and stranger faces: its verdicts, TAR and FAR at its own thresholds, the
// thresholds a target FAR would need on these faces (an optimistic, after-the-fact number), AUC,
// time per face, the JSON and the histograms. faceeval gathers the faces and prints.
//
//   RuleReport r;
//   r.verifier = std::make_unique<Verifier>("models/me");
//   r.refs = r.verifier->load_references("verification_data", cache, 2);
//   score_rule(r, owner.chips, strangers.chips, 1e-3);
//   nlohmann::json j = rule_json(r, 1e-3);

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "faceid/io/face_cache.hpp"
#include "faceid/verifier.hpp"

namespace faceid {

/// The largest face of each photo that has one, from a face cache.
struct FaceChips {
  std::vector<std::filesystem::path> files;  ///< the photos with a face, in chip order
  torch::Tensor chips;                       ///< uint8 [N, S, S, 3]
  std::size_t photos = 0;                    ///< photos looked at (until the limit was reached)
  /// Appends the faces of `more`.
  void append(const FaceChips& more);
};

/// The cached faces of `files` (S = chip_size), in order, until `limit` faces were found.
FaceChips faces_of(const FaceCache& cache, const std::vector<std::filesystem::path>& files,
                   std::size_t limit, int chip_size);

/// The verdicts on one side (owner or strangers): per face the match share (owner kind:
/// P(owner)), the best score and the decision; how many were accepted.
struct Verdicts {
  std::vector<float> share, best;
  std::vector<bool> owner;
  std::size_t accepted = 0;
};

/// One way of deciding and how it did on the faces.
struct RuleReport {
  std::string label;  ///< "owner model" or "reference rule"
  std::string model;  ///< the bundle folder
  std::unique_ptr<Verifier> verifier;
  std::string refs_folder;  ///< siamese kind: the references loaded
  ReferenceReport refs;
  std::vector<std::vector<float>> owner_scores, stranger_scores;
  Verdicts owner, strangers;
  Thresholds for_target_far;  ///< the thresholds a target FAR needs on these very faces
  double ms_per_face = 0;
  double auc_share = 0, auc_best = 0;  ///< AUC of the match share (P(owner)) and best score

  bool owner_kind() const { return !verifier->needs_references(); }
  /// "P(same) > 0.412 on > 20% of 50 refs" or "P(owner) > 0.9071".
  std::string rule() const;
  /// The rule of for_target_far.
  std::string target_rule() const;
};

/// Scores `r` on chips of owner and stranger faces (uint8 [N, S, S, 3]): the verifier's decision
/// per face, AUC, ms per face (after a warm-up batch) and the thresholds for `target_far`. Throws
/// Error(Input) when either side is empty.
void score_rule(RuleReport& r, const torch::Tensor& owner, const torch::Tensor& strangers,
                double target_far);

/// `r` as JSON: label, model, kind, rule, counts, TAR, FAR, accuracy, AUC, ms per face, the
/// thresholds and the for-target-FAR rule.
nlohmann::json rule_json(const RuleReport& r, double target_far);

/// The histograms of `r`'s scores, owner (green) vs strangers (red): the match share (P(owner))
/// and, for the reference rule, the best score.
std::vector<cv::Mat> rule_histograms(const RuleReport& r);

}  // namespace faceid
