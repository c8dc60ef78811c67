#pragma once
// Verification metrics on scores (higher = more likely the same person) and binary labels
// (1 = same). No LibTorch, no OpenCV: plain vectors. A pair is predicted "same" when
// score >= threshold.

#include <cstddef>
#include <vector>

namespace faceid {

struct Confusion {
  std::size_t tp = 0, fp = 0, tn = 0, fn = 0;
  double accuracy() const;
  double precision() const;  ///< 0 when nothing is predicted positive
  double recall() const;     ///< = TPR = TAR
  double fpr() const;        ///< = FAR
};

/// Counts at one threshold. Throws Error(Internal) when the vectors differ in length.
Confusion confusion_at(const std::vector<float>& scores, const std::vector<int>& labels,
                       float threshold);

/// Area under the ROC curve (Mann-Whitney, ties count one half). 0.5 when a class is empty.
double auc(const std::vector<float>& scores, const std::vector<int>& labels);

/// One ROC point per distinct score (threshold = that score), from the highest threshold down,
/// preceded by the point (threshold = +inf: nothing accepted).
struct RocPoint {
  float threshold;
  Confusion counts;
};
std::vector<RocPoint> roc(const std::vector<float>& scores, const std::vector<int>& labels);

/// Equal error rate: the ROC point where FAR and FRR (1 - TAR) are closest; returns their mean
/// and sets *threshold to that point's threshold.
double equal_error_rate(const std::vector<float>& scores, const std::vector<int>& labels,
                        float* threshold = nullptr);

/// The highest TAR whose FAR <= far, and its threshold.
double tar_at_far(const std::vector<float>& scores, const std::vector<int>& labels, double far,
                  float* threshold = nullptr);

/// The threshold of highest accuracy on these scores (midway between neighbouring scores).
float best_threshold(const std::vector<float>& scores, const std::vector<int>& labels);

/// k-fold protocol (LFW View 2): for each fold, the threshold is chosen on the other folds
/// (best_threshold) and accuracy measured on the fold itself.
struct CrossValidation {
  std::vector<double> accuracy;  ///< per fold
  std::vector<float> threshold;  ///< per fold
  double mean = 0, std = 0;      ///< of the fold accuracies (population std, as in the LFW papers)
  double standard_error = 0;     ///< std / sqrt(folds)
};
/// `fold[i]` in [0, folds). Throws Error(Input) when a fold is empty.
CrossValidation cross_validate(const std::vector<float>& scores, const std::vector<int>& labels,
                               const std::vector<int>& fold);

}  // namespace faceid
