#include "faceid/score/pair_report.hpp"

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <tuple>

#include <nlohmann/json.hpp>

#include "faceid/error.hpp"

namespace fs = std::filesystem;

namespace faceid {

ScoredPairs score_pairs(const PairsFile& file, std::vector<float> scores) {
  if (scores.size() != file.pairs.size())
    throw internal_error("score_pairs: " + std::to_string(scores.size()) + " scores for " +
                         std::to_string(file.pairs.size()) + " pairs");
  ScoredPairs out;
  out.scores = std::move(scores);
  for (std::size_t i = 0; i < file.pairs.size(); ++i) {
    out.labels.push_back(file.pairs[i].same ? 1 : 0);
    out.folds.push_back(file.folds > 1 ? file.pairs[i].fold : static_cast<int>(i % 10));
  }
  return out;
}

PairsReport pairs_report(const ScoredPairs& test, const ScoredPairs* threshold_source) {
  PairsReport r;
  r.cv = cross_validate(test.scores, test.labels, test.folds);
  r.auc = auc(test.scores, test.labels);
  r.eer = equal_error_rate(test.scores, test.labels, &r.eer_threshold);
  r.tar_at_far_1e2 = tar_at_far(test.scores, test.labels, 1e-2);
  r.tar_at_far_1e3 = tar_at_far(test.scores, test.labels, 1e-3);
  r.roc = roc(test.scores, test.labels);
  const int folds = static_cast<int>(r.cv.accuracy.size());
  for (int f = 0; f < folds; ++f) {
    std::vector<float> s;
    std::vector<int> l;
    for (std::size_t i = 0; i < test.scores.size(); ++i)
      if (test.folds[i] == f) {
        s.push_back(test.scores[i]);
        l.push_back(test.labels[i]);
      }
    r.fold_roc.push_back(roc(s, l));
  }
  if (threshold_source) {
    r.fixed_threshold = best_threshold(threshold_source->scores, threshold_source->labels);
    r.fixed_accuracy = confusion_at(test.scores, test.labels, r.fixed_threshold).accuracy();
  }
  r.pairs = test.scores.size();
  for (int l : test.labels) r.impostor_pairs += l == 0;
  return r;
}

void to_json(nlohmann::json& j, const PairsReport& r) {
  j = {{"pairs", r.pairs},
       {"impostor_pairs", r.impostor_pairs},
       {"cv_folds", r.cv.accuracy.size()},
       {"accuracy_mean", r.cv.mean},
       {"accuracy_std", r.cv.std},
       {"accuracy_standard_error", r.cv.standard_error},
       {"fold_accuracy", r.cv.accuracy},
       {"fold_threshold", r.cv.threshold},
       {"auc", r.auc},
       {"eer", r.eer},
       {"eer_threshold", r.eer_threshold},
       {"tar_at_far_1e-2", r.tar_at_far_1e2},
       {"tar_at_far_1e-3", r.tar_at_far_1e3},
       {"note", "with " + std::to_string(r.impostor_pairs) + " impostor pairs, FAR below " +
                    std::to_string(1.0 / std::max<std::size_t>(1, r.impostor_pairs)) +
                    " cannot be resolved"}};
  if (r.fixed_accuracy) {
    j["fixed_threshold"] = r.fixed_threshold;
    j["fixed_threshold_accuracy"] = *r.fixed_accuracy;
  }
}

std::vector<float> read_scores_csv(const fs::path& csv, const PairsFile& file) {
  std::ifstream in(csv);
  if (!in) throw input_error(csv.string() + ": cannot open scores file");
  using Key = std::tuple<std::string, int, std::string, int>;
  std::map<Key, float> scores;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#' || (number == 1 && line.rfind("name1", 0) == 0)) continue;
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string field; std::getline(ss, field, ',');) f.push_back(field);
    const auto where = csv.string() + ":" + std::to_string(number) + ": ";
    if (f.size() != 5)
      throw input_error(where + "expected name1,n1,name2,n2,score, got " +
                        std::to_string(f.size()) + " fields");
    Key key;
    float score = 0;
    try {
      std::size_t u1 = 0, u2 = 0, u3 = 0;
      key = {f[0], std::stoi(f[1], &u1), f[2], std::stoi(f[3], &u2)};
      score = std::stof(f[4], &u3);
      if (u1 != f[1].size() || u2 != f[3].size() || u3 != f[4].size())
        throw std::invalid_argument(line);
    } catch (const std::exception&) {
      throw input_error(where + "malformed number in '" + line + "'");
    }
    if (!std::isfinite(score))
      throw input_error(where + "score '" + f[4] + "' is not a finite number");
    if (!scores.emplace(key, score).second) throw input_error(where + "duplicate pair");
  }
  std::vector<float> out;
  for (const auto& p : file.pairs) {
    auto it = scores.find({p.name1, p.index1, p.name2, p.index2});
    if (it == scores.end()) it = scores.find({p.name2, p.index2, p.name1, p.index1});
    if (it == scores.end())
      throw input_error(csv.string() + ": no score for pair " + p.name1 + " " +
                        std::to_string(p.index1) + " / " + p.name2 + " " +
                        std::to_string(p.index2) + " (" + file.path.string() + ":" +
                        std::to_string(p.line) + ")");
    out.push_back(it->second);
  }
  return out;
}

}  // namespace faceid
