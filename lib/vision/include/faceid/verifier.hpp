#pragma once
// faceverify's core (docs/design.md §6): the owner's reference photos embedded once (cached per
// model and file), then for every face of a picture one embedding and a cheap head over the
// references, and the seed's decision rule with the bundle's calibrated thresholds.
//
//   Verifier v("models/me");
//   v.load_references("verification_data", default_cache_dir(), 2);
//   for (const FaceVerdict& f : v.verify(image)) if (f.owner) ...
//
// An owner model (bundle kind "owner", owner_model.hpp) needs no references: each face's one
// embedding goes through the owner head, and P(owner) > thresholds().owner decides.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "faceid/bundle/bundle.hpp"
#include "faceid/detector.hpp"
#include "faceid/face_pipeline.hpp"

namespace faceid {

/// One face of a picture and how it compares with the owner's references.
struct FaceVerdict {
  Face face;
  /// P(same) against each reference, in reference order (owner kind: none).
  std::vector<float> scores;
  /// Share of references with P(same) > the detection threshold, in the best-matching capture
  /// session of the references (owner kind: P(owner)).
  float share = 0;
  float best = 0;                ///< highest P(same) (owner kind: P(owner))
  float owner_probability = -1;  ///< owner kind: P(owner) of the face; -1 for the siamese kind
  /// share > the ratio threshold, or P(owner) > the owner threshold (never when unsure).
  bool owner = false;
  float sharpness = -1;  ///< face_sharpness of the chip (-1: not measured)
  /// Too small or too blurred to judge (Thresholds::min_face, min_sharpness): neither "owner" nor
  /// "unknown"; unsure_reason says why.
  bool unsure = false;
  std::string unsure_reason;
  /// "owner", "unknown" or "unsure".
  const char* decision() const { return unsure ? "unsure" : owner ? "owner" : "unknown"; }
};

/// Where the time of one picture went, in milliseconds.
struct VerifyTimings {
  double detect_ms = 0, align_ms = 0, embed_ms = 0, compare_ms = 0;
};

/// What loading the references did.
struct ReferenceReport {
  std::size_t photos = 0;    ///< image files in the folder
  std::size_t used = 0;      ///< with a face: the references
  std::size_t embedded = 0;  ///< embedded now (the others came from the cache)
  std::size_t sessions =
      0;  ///< capture sessions with a reference: the photos at the top, each sub-folder
  float recalibrated_detection =
      -1;              ///< the detection threshold fitted to these references (-1: the bundle's)
  bool needed = true;  ///< false for an owner model: it compares with no references
  std::vector<std::string> skipped;  ///< "file: why" (no face, unreadable)
};

class Verifier {
 public:
  /// Loads the model bundle (Error(Model) when it is missing, corrupt or needs a detector that
  /// is not available here).
  explicit Verifier(const std::filesystem::path& model_dir, const std::string& device = "auto",
                    const std::filesystem::path& yunet_model = {});

  const LoadedBundle& bundle() const { return bundle_; }
  /// The bundle's kind (kSiameseKind or kOwnerKind).
  const std::string& kind() const { return bundle_.info.kind; }
  /// Siamese models compare with reference photos (load_references first); owner models do not.
  bool needs_references() const { return !bundle_.is_owner(); }
  const FacePipeline& pipeline() const { return pipeline_; }
  /// The decision thresholds; from the bundle, may be overridden.
  Thresholds& thresholds() { return thresholds_; }
  const Thresholds& thresholds() const { return thresholds_; }

  /// What the tools call whatever the kind: a siamese model loads the references in `dir`
  /// (load_references); an owner model needs none and returns a report with needed = false.
  ReferenceReport prepare(const std::filesystem::path& dir, const std::filesystem::path& cache_dir,
                          int threads, const Progress& progress = {});
  /// Overrides the decision: `threshold` is the detection threshold of a siamese model and the
  /// P(owner) threshold of an owner model; `ratio` the siamese rule's share. Throws Error(Usage)
  /// for a ratio with an owner model (it has no references).
  void override_thresholds(const std::optional<float>& threshold,
                           const std::optional<float>& ratio);
  /// The rule in words: "P(same) > 0.412 on > 20% of 50 refs" (of one of N sessions) or
  /// "P(owner) > 0.9071".
  std::string rule(const ReferenceReport& refs) const;

  /// Detects, aligns and embeds the photos in `dir` (largest face each) through the face cache
  /// and the embedding cache in `cache_dir`. The photos at the top of `dir` are one capture
  /// session and each sub-folder's photos another: a face's match share is that of the session
  /// it matches best. The detection threshold is then fitted to these references: the lowest
  /// one at which the rule accepts at most the target FAR of the bundle's held-out strangers
  /// (when it has them and no --threshold was given). Throws Error(Input) when the folder is
  /// missing, holds no image, or no face was found in any of them.
  ReferenceReport load_references(const std::filesystem::path& dir,
                                  const std::filesystem::path& cache_dir, int threads,
                                  const Progress& progress = {});
  std::size_t reference_count() const;
  const std::vector<std::filesystem::path>& reference_files() const { return reference_files_; }

  /// Every face in a BGR picture, largest first, with its verdict.
  std::vector<FaceVerdict> verify(const cv::Mat& bgr, VerifyTimings* timings = nullptr);

  /// Embeddings of face chips (uint8 [N, S, S, 3], RGB as in the face cache): float [N, E] on
  /// the CPU.
  torch::Tensor embed(const torch::Tensor& chips);
  /// The reference scores of embeddings [N, E] (owner kind: one P(owner) per row).
  std::vector<std::vector<float>> score_embeddings(const torch::Tensor& embeddings);
  /// The model's score of every pair of embeddings [N, E]: N x N values, row-major.
  std::vector<float> pair_scores(const torch::Tensor& embeddings);

  /// The reference scores of face chips (uint8 [N, S, S, 3], RGB as in the face cache): one row
  /// per chip (owner kind: one P(owner) per row). For reports over many cached faces.
  std::vector<std::vector<float>> score_chips(const torch::Tensor& chips);

  /// The verdict of `face` given its reference scores (owner kind: {P(owner)}) and its chip's
  /// sharpness (-1: unknown), under the current thresholds: unsure when too small or blurred,
  /// else owner or unknown.
  FaceVerdict decide(const Face& face, std::vector<float> scores, float sharpness = -1) const;

 private:
  LoadedBundle bundle_;
  FacePipeline pipeline_;
  Thresholds thresholds_;
  std::unique_ptr<Detector> detector_;
  torch::Device device_;
  torch::Tensor references_;  ///< [R, E] on device_
  std::vector<std::filesystem::path> reference_files_;
  std::vector<int> reference_sessions_;  ///< the capture session of each reference
};

}  // namespace faceid
