#include "faceid/score/decision.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>

#include <nlohmann/json.hpp>

#include "faceid/error.hpp"

namespace faceid {
namespace {

// The score s such that "share of scores > t exceeds ratio" <=> s > t: the c-th largest score,
// c the fewest matching references whose share (computed as match_share does, in float) exceeds
// the ratio.
float rule_statistic(std::vector<float> scores, float ratio) {
  std::sort(scores.begin(), scores.end(), std::greater<float>());
  const auto n = static_cast<float>(scores.size());
  std::size_t c = 1;
  while (c <= scores.size() && !(static_cast<float>(c) / n > ratio)) ++c;
  return c <= scores.size() ? scores[c - 1] : -1.f;
}

// The lowest threshold with at most target_far of `strangers` strictly above it (at most 0.9999;
// below 1 / strangers: above every stranger). `strangers` is not empty.
float far_threshold(std::vector<float> strangers, double target_far) {
  std::sort(strangers.begin(), strangers.end(), std::greater<float>());
  const auto allowed =
      static_cast<std::size_t>(std::floor(target_far * static_cast<double>(strangers.size())));
  return std::min(strangers[std::min(allowed, strangers.size() - 1)], 0.9999f);
}

}  // namespace

float match_share(const std::vector<float>& scores, float detection) {
  if (scores.empty()) return 0;
  const auto above =
      std::count_if(scores.begin(), scores.end(), [&](float s) { return s > detection; });
  return static_cast<float>(above) / static_cast<float>(scores.size());
}

std::string unsure_reason(float width, float height, float sharpness, const Thresholds& t) {
  if (t.min_face > 0 && width > 0 && height > 0 &&
      std::min(width, height) < static_cast<float>(t.min_face))
    return std::to_string(static_cast<int>(std::lround(width))) + "x" +
           std::to_string(static_cast<int>(std::lround(height))) + " px face < " +
           std::to_string(t.min_face) + " px";
  if (t.min_sharpness > 0 && sharpness >= 0 && sharpness < t.min_sharpness) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "blur: sharpness %.1f < %g", sharpness,
                  static_cast<double>(t.min_sharpness));
    return buf;
  }
  return {};
}

bool is_owner(const std::vector<float>& scores, float detection, float ratio) {
  return !scores.empty() && match_share(scores, detection) > ratio;
}

float session_detection_for_far(const std::vector<std::vector<float>>& strangers,
                                const std::vector<int>& session, float ratio, double target_far) {
  if (strangers.empty()) throw input_error("threshold calibration needs stranger faces");
  std::vector<float>
      statistic;  // per stranger: the threshold below which the session rule accepts it
  for (const auto& row : strangers) {
    if (row.size() != session.size())
      throw internal_error("session_detection_for_far: one session per score needed");
    std::map<int, std::vector<float>> by_session;
    for (std::size_t i = 0; i < row.size(); ++i) by_session[session[i]].push_back(row[i]);
    float s = -1.f;
    for (auto& [id, scores] : by_session) s = std::max(s, rule_statistic(std::move(scores), ratio));
    statistic.push_back(s);
  }
  return far_threshold(std::move(statistic), target_far);
}

float session_match_share(const std::vector<float>& scores, const std::vector<int>& session,
                          float detection) {
  if (scores.size() != session.size())
    throw internal_error("session_match_share: one session per score needed");
  std::map<int, std::pair<std::size_t, std::size_t>> matches;  // session -> (above, all)
  for (std::size_t i = 0; i < scores.size(); ++i) {
    auto& m = matches[session[i]];
    m.first += scores[i] > detection;
    ++m.second;
  }
  float best = 0;
  for (const auto& [s, m] : matches)
    best = std::max(best, static_cast<float>(m.first) / static_cast<float>(m.second));
  return best;
}

ScoreThreshold threshold_for_far(const std::vector<float>& owner,
                                 const std::vector<float>& strangers, double target_far) {
  if (owner.empty() || strangers.empty())
    throw input_error("threshold calibration needs held-out owner faces and stranger faces (have " +
                      std::to_string(owner.size()) + " and " + std::to_string(strangers.size()) +
                      ")");
  ScoreThreshold t;
  t.threshold = far_threshold(strangers, target_far);
  t.owner = owner.size();
  t.strangers = strangers.size();
  t.owner_accepted = static_cast<std::size_t>(
      std::count_if(owner.begin(), owner.end(), [&](float v) { return v > t.threshold; }));
  t.strangers_accepted = static_cast<std::size_t>(
      std::count_if(strangers.begin(), strangers.end(), [&](float v) { return v > t.threshold; }));
  return t;
}

namespace {

nlohmann::json calibration_json(const char* method, const ScoreThreshold& t, double target_far) {
  const double resolution = 1.0 / static_cast<double>(t.strangers);
  nlohmann::json j = {{"method", method},
                      {"owner_faces", t.owner},
                      {"stranger_faces", t.strangers},
                      {"tar", t.tar()},
                      {"far", t.far()},
                      {"owner_accepted", t.owner_accepted},
                      {"strangers_accepted", t.strangers_accepted},
                      {"far_resolution", resolution}};
  if (target_far < resolution)
    j["note"] =
        "target FAR below 1 / stranger faces: no stranger may pass; more strangers resolve it";
  return j;
}

}  // namespace

Thresholds calibrate_owner(const std::vector<std::vector<float>>& owner,
                           const std::vector<std::vector<float>>& strangers, double target_far) {
  if (owner.empty() || strangers.empty())
    throw input_error("threshold calibration needs held-out owner faces and stranger faces (have " +
                      std::to_string(owner.size()) + " and " + std::to_string(strangers.size()) +
                      ")");
  Thresholds best;
  best.target_far = target_far;
  ScoreThreshold chosen;
  bool first = true;
  // Ratio 0 is "the best reference decides"; small ratios matter when only a few of the
  // references resemble a new photo (another session, other light).
  for (const float ratio :
       {0.f, 0.02f, 0.05f, 0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f, 0.9f}) {
    std::vector<float> neg, pos;
    for (const auto& s : strangers) neg.push_back(rule_statistic(s, ratio));
    for (const auto& s : owner) pos.push_back(rule_statistic(s, ratio));
    const ScoreThreshold t = threshold_for_far(pos, neg, target_far);
    // Prefer higher TAR; on ties, the ratio closest to the seed's 0.5.
    if (first || t.owner_accepted > chosen.owner_accepted ||
        (t.owner_accepted == chosen.owner_accepted &&
         std::abs(ratio - 0.5f) < std::abs(best.ratio - 0.5f))) {
      first = false;
      chosen = t;
      best.detection = t.threshold;
      best.ratio = ratio;
    }
  }
  best.calibration = calibration_json(
      "per-ratio lowest detection threshold with FAR <= target on held-out strangers", chosen,
      target_far);
  best.calibration["references"] = owner.front().size();
  return best;
}

Thresholds calibrate_owner_score(const std::vector<float>& owner,
                                 const std::vector<float>& strangers, double target_far) {
  Thresholds t;
  t.target_far = target_far;
  const ScoreThreshold s = threshold_for_far(owner, strangers, target_far);
  t.owner = s.threshold;
  t.calibration = calibration_json(
      "lowest P(owner) threshold with FAR <= target on held-out strangers", s, target_far);
  return t;
}

}  // namespace faceid
