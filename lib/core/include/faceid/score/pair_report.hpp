#pragma once
// Pair-verification reports (docs/design.md §7) from scores of an LFW pairs file, whoever produced
// them (a faceid model, or another system's scores file): the k-fold protocol, AUC, EER,
// TAR@FAR, ROC per fold. No LibTorch, no OpenCV.

#include <filesystem>
#include <optional>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "faceid/io/lfw_pairs.hpp"
#include "faceid/score/metrics.hpp"

namespace faceid {

/// Scores (higher = same) of a pairs file, with labels and the fold of each pair: the file's own
/// folds (View 2), or pair i in fold i mod 10 for a single-fold file (View 1 with 10-fold CV).
struct ScoredPairs {
  std::vector<float> scores;
  std::vector<int> labels;
  std::vector<int> folds;
};

/// Throws Error(Internal) when the number of scores differs from the number of pairs.
ScoredPairs score_pairs(const PairsFile& file, std::vector<float> scores);

struct PairsReport {
  CrossValidation cv;                    ///< threshold from the other folds
  std::optional<double> fixed_accuracy;  ///< with the threshold chosen on a separate file (View 1)
  float fixed_threshold = 0;
  double auc = 0, eer = 0;
  float eer_threshold = 0;
  double tar_at_far_1e2 = 0, tar_at_far_1e3 = 0;
  std::vector<RocPoint> roc;                    ///< all pairs
  std::vector<std::vector<RocPoint>> fold_roc;  ///< per fold
  std::size_t pairs = 0, impostor_pairs = 0;
};

/// The report of `test`; when `threshold_source` is given (e.g. pairsDevTrain scores), also the
/// accuracy on `test` at the best threshold of `threshold_source`.
PairsReport pairs_report(const ScoredPairs& test, const ScoredPairs* threshold_source = nullptr);

void to_json(nlohmann::json& j, const PairsReport& r);

/// Reads another system's scores: CSV lines `name1,n1,name2,n2,score` (a header line starting
/// with "name1" is allowed) and returns them in the order of `file`'s pairs. Throws Error(Input)
/// with the line number for a malformed line or a score that is not a finite number, a duplicate
/// pair, and naming the pair when one of `file`'s pairs has no score.
std::vector<float> read_scores_csv(const std::filesystem::path& csv, const PairsFile& file);

}  // namespace faceid
