#include "faceid/score/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "faceid/error.hpp"

namespace faceid {
namespace {

void check_sizes(const std::vector<float>& scores, const std::vector<int>& labels) {
  if (scores.size() != labels.size())
    throw internal_error("metrics: " + std::to_string(scores.size()) + " scores but " +
                         std::to_string(labels.size()) + " labels");
}

double ratio(std::size_t a, std::size_t b) { return b ? static_cast<double>(a) / b : 0.0; }

}  // namespace

double Confusion::accuracy() const { return ratio(tp + tn, tp + tn + fp + fn); }
double Confusion::precision() const { return ratio(tp, tp + fp); }
double Confusion::recall() const { return ratio(tp, tp + fn); }
double Confusion::fpr() const { return ratio(fp, fp + tn); }

Confusion confusion_at(const std::vector<float>& scores, const std::vector<int>& labels,
                       float threshold) {
  check_sizes(scores, labels);
  Confusion c;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    const bool predicted = scores[i] >= threshold;
    if (labels[i])
      (predicted ? c.tp : c.fn)++;
    else
      (predicted ? c.fp : c.tn)++;
  }
  return c;
}

double auc(const std::vector<float>& scores, const std::vector<int>& labels) {
  check_sizes(scores, labels);
  // Rank-sum with average ranks for ties.
  std::vector<std::size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return scores[a] < scores[b]; });
  double rank_sum = 0;
  std::size_t pos = 0, neg = 0;
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j < order.size() && scores[order[j]] == scores[order[i]]) ++j;
    const double avg_rank = (i + j + 1) / 2.0;  // ranks are 1-based
    for (std::size_t k = i; k < j; ++k)
      if (labels[order[k]]) rank_sum += avg_rank;
    i = j;
  }
  for (int l : labels) (l ? pos : neg)++;
  if (pos == 0 || neg == 0) return 0.5;
  return (rank_sum - pos * (pos + 1) / 2.0) / (static_cast<double>(pos) * neg);
}

std::vector<RocPoint> roc(const std::vector<float>& scores, const std::vector<int>& labels) {
  check_sizes(scores, labels);
  std::vector<std::size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
  Confusion c;
  for (int l : labels) (l ? c.fn : c.tn)++;
  std::vector<RocPoint> points{{std::numeric_limits<float>::infinity(), c}};
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    for (; j < order.size() && scores[order[j]] == scores[order[i]]; ++j) {
      if (labels[order[j]]) {
        ++c.tp;
        --c.fn;
      } else {
        ++c.fp;
        --c.tn;
      }
    }
    points.push_back({scores[order[i]], c});
    i = j;
  }
  return points;
}

double equal_error_rate(const std::vector<float>& scores, const std::vector<int>& labels,
                        float* threshold) {
  double best_gap = 2, eer = 1;
  float best_t = 0;
  for (const auto& p : roc(scores, labels)) {
    const double far = p.counts.fpr(), frr = 1 - p.counts.recall();
    if (std::abs(far - frr) < best_gap) {
      best_gap = std::abs(far - frr);
      eer = (far + frr) / 2;
      best_t = p.threshold;
    }
  }
  if (threshold) *threshold = best_t;
  return eer;
}

double tar_at_far(const std::vector<float>& scores, const std::vector<int>& labels, double far,
                  float* threshold) {
  double best = 0;
  float best_t = std::numeric_limits<float>::infinity();
  for (const auto& p : roc(scores, labels))
    if (p.counts.fpr() <= far && p.counts.recall() >= best) {
      best = p.counts.recall();
      best_t = p.threshold;
    }
  if (threshold) *threshold = best_t;
  return best;
}

float best_threshold(const std::vector<float>& scores, const std::vector<int>& labels) {
  const auto points = roc(scores, labels);
  std::size_t best = 0;
  for (std::size_t i = 1; i < points.size(); ++i)
    if (points[i].counts.accuracy() > points[best].counts.accuracy()) best = i;
  // Midway to the next lower score, so that the threshold generalises symmetrically.
  if (best == 0) return points.size() > 1 ? points[1].threshold + 1e-6f : 0.f;
  if (best + 1 < points.size()) return (points[best].threshold + points[best + 1].threshold) / 2;
  return points[best].threshold - 1e-6f;
}

CrossValidation cross_validate(const std::vector<float>& scores, const std::vector<int>& labels,
                               const std::vector<int>& fold) {
  check_sizes(scores, labels);
  if (fold.size() != scores.size()) throw internal_error("metrics: fold vector of another length");
  const int folds = fold.empty() ? 0 : *std::max_element(fold.begin(), fold.end()) + 1;
  CrossValidation cv;
  for (int f = 0; f < folds; ++f) {
    std::vector<float> train_s, test_s;
    std::vector<int> train_l, test_l;
    for (std::size_t i = 0; i < scores.size(); ++i) {
      (fold[i] == f ? test_s : train_s).push_back(scores[i]);
      (fold[i] == f ? test_l : train_l).push_back(labels[i]);
    }
    if (test_s.empty() || train_s.empty())
      throw input_error("cross-validation: fold " + std::to_string(f + 1) + " is empty");
    const float t = best_threshold(train_s, train_l);
    cv.threshold.push_back(t);
    cv.accuracy.push_back(confusion_at(test_s, test_l, t).accuracy());
  }
  if (folds == 0) return cv;
  cv.mean = std::accumulate(cv.accuracy.begin(), cv.accuracy.end(), 0.0) / folds;
  double var = 0;
  for (double a : cv.accuracy) var += (a - cv.mean) * (a - cv.mean);
  cv.std = std::sqrt(var / folds);
  cv.standard_error = cv.std / std::sqrt(static_cast<double>(folds));
  return cv;
}

}  // namespace faceid
