#include "faceid/decision.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>

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

}  // namespace

std::vector<std::vector<float>> gallery_scores(SiameseNet& net, const torch::Tensor& queries, const torch::Tensor& refs) {
  c10::InferenceMode inference;
  const auto device = net->parameters().front().device();
  const auto q = queries.to(device), r = refs.to(device);
  std::vector<std::vector<float>> out;
  for (std::int64_t i = 0; i < q.size(0); ++i) {
    const auto s = net->score(q[i].unsqueeze(0), r).to(torch::kCPU).contiguous();
    out.emplace_back(s.data_ptr<float>(), s.data_ptr<float>() + s.numel());
  }
  return out;
}

float match_share(const std::vector<float>& scores, float detection) {
  if (scores.empty()) return 0;
  const auto above = std::count_if(scores.begin(), scores.end(), [&](float s) { return s > detection; });
  return static_cast<float>(above) / static_cast<float>(scores.size());
}

std::string unsure_reason(float width, float height, float sharpness, const Thresholds& t) {
  if (t.min_face > 0 && width > 0 && height > 0 && std::min(width, height) < static_cast<float>(t.min_face))
    return std::to_string(static_cast<int>(std::lround(width))) + "x" + std::to_string(static_cast<int>(std::lround(height))) +
           " px face < " + std::to_string(t.min_face) + " px";
  if (t.min_sharpness > 0 && sharpness >= 0 && sharpness < t.min_sharpness) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "blur: sharpness %.1f < %g", sharpness, static_cast<double>(t.min_sharpness));
    return buf;
  }
  return {};
}

bool is_owner(const std::vector<float>& scores, float detection, float ratio) {
  return !scores.empty() && match_share(scores, detection) > ratio;
}

Thresholds calibrate_owner(const std::vector<std::vector<float>>& owner, const std::vector<std::vector<float>>& strangers,
                           double target_far) {
  if (owner.empty() || strangers.empty())
    throw input_error("threshold calibration needs held-out owner faces and stranger faces (have " +
                      std::to_string(owner.size()) + " and " + std::to_string(strangers.size()) + ")");
  Thresholds best;
  best.target_far = target_far;
  double best_tar = -1, best_far = 0;
  // Ratio 0 is "the best reference decides"; small ratios matter when only a few of the
  // references resemble a new photo (another session, other light).
  for (const float ratio : {0.f, 0.02f, 0.05f, 0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f, 0.9f}) {
    std::vector<float> neg, pos;
    for (const auto& s : strangers) neg.push_back(rule_statistic(s, ratio));
    for (const auto& s : owner) pos.push_back(rule_statistic(s, ratio));
    std::sort(neg.begin(), neg.end(), std::greater<float>());
    const auto allowed = static_cast<std::size_t>(std::floor(target_far * static_cast<double>(neg.size())));
    const float detection = std::min(neg[std::min(allowed, neg.size() - 1)], 0.9999f);
    const double tar = static_cast<double>(std::count_if(pos.begin(), pos.end(), [&](float v) { return v > detection; })) / pos.size();
    const double far = static_cast<double>(std::count_if(neg.begin(), neg.end(), [&](float v) { return v > detection; })) / neg.size();
    // Prefer higher TAR; on ties, the ratio closest to the seed's 0.5.
    if (tar > best_tar || (tar == best_tar && std::abs(ratio - 0.5f) < std::abs(best.ratio - 0.5f))) {
      best_tar = tar;
      best_far = far;
      best.detection = detection;
      best.ratio = ratio;
    }
  }
  const double resolution = 1.0 / static_cast<double>(strangers.size());
  best.calibration = {{"method", "per-ratio lowest detection threshold with FAR <= target on held-out strangers"},
                      {"owner_faces", owner.size()}, {"stranger_faces", strangers.size()},
                      {"references", owner.front().size()}, {"tar", best_tar}, {"far", best_far},
                      {"owner_accepted", static_cast<std::size_t>(std::lround(best_tar * static_cast<double>(owner.size())))},
                      {"strangers_accepted", static_cast<std::size_t>(std::lround(best_far * static_cast<double>(strangers.size())))},
                      {"far_resolution", resolution}};
  if (target_far < resolution)
    best.calibration["note"] = "target FAR below 1 / stranger faces: no stranger may pass; more strangers resolve it";
  return best;
}

}  // namespace faceid
