#include "faceid/owner_report.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>

#include <fmt/format.h>

#include "faceid/annotate.hpp"
#include "faceid/error.hpp"
#include "faceid/plot.hpp"
#include "faceid/score/decision.hpp"
#include "faceid/score/metrics.hpp"

namespace faceid {

namespace {

Verdicts decide_all(const Verifier& verifier, const std::vector<std::vector<float>>& scores) {
  Verdicts side;
  for (const auto& row : scores) {
    const FaceVerdict v = verifier.decide(Face{}, row);
    side.share.push_back(v.share);
    side.best.push_back(v.best);
    side.owner.push_back(v.owner);
    side.accepted += v.owner;
  }
  return side;
}

std::vector<float> flat(const std::vector<std::vector<float>>& rows) {
  std::vector<float> out;
  for (const auto& r : rows) out.insert(out.end(), r.begin(), r.end());
  return out;
}

// Share of faces per bin of [0, 1], as a line.
Series histogram(const std::string& name, const std::vector<float>& values,
                 const cv::Scalar& colour, int bins = 20) {
  Series s{name, {}, std::vector<double>(static_cast<std::size_t>(bins), 0.0), colour};
  for (int b = 0; b < bins; ++b) s.x.push_back((b + 0.5) / bins);
  for (const float v : values)
    s.y[static_cast<std::size_t>(std::clamp(static_cast<int>(v * bins), 0, bins - 1))] +=
        1.0 / static_cast<double>(values.size());
  return s;
}

cv::Mat chart(const std::string& title, const std::string& x_label, const std::vector<float>& owner,
              const std::vector<float>& strangers) {
  Chart c{title,
          x_label,
          "share of faces",
          {histogram("owner", owner, kGreen), histogram("strangers", strangers, kRed)}};
  c.x_min = c.y_min = 0;
  c.x_max = 1;
  return draw_chart(c);
}

}  // namespace

void FaceChips::append(const FaceChips& more) {
  files.insert(files.end(), more.files.begin(), more.files.end());
  chips = chips.defined() ? torch::cat({chips, more.chips}) : more.chips;
  photos += more.photos;
}

FaceChips faces_of(const FaceCache& cache, const std::vector<std::filesystem::path>& files,
                   std::size_t limit, int chip_size) {
  FaceChips faces;
  std::vector<const CachedFace*> found;
  for (const auto& f : files) {
    if (found.size() == limit) break;
    ++faces.photos;
    const CachedFace* face = cache.find(file_key(f));
    if (!face || face->status != FaceStatus::Face) continue;
    found.push_back(face);
    faces.files.push_back(f);
  }
  faces.chips =
      torch::empty({static_cast<long>(found.size()), chip_size, chip_size, 3}, torch::kUInt8);
  const auto bytes = static_cast<std::size_t>(chip_size) * chip_size * 3;
  for (std::size_t i = 0; i < found.size(); ++i)
    found[i]->read_chip(faces.chips[static_cast<long>(i)].data_ptr<std::uint8_t>(), bytes);
  return faces;
}

std::string RuleReport::rule() const { return verifier->rule(refs); }

std::string RuleReport::target_rule() const {
  const Thresholds& t = for_target_far;
  return owner_kind() ? fmt::format("P(owner) > {:.4f}", t.owner)
                      : fmt::format("P(same) > {:.3f} on > {:.0f}%", t.detection, t.ratio * 100);
}

void score_rule(RuleReport& r, const torch::Tensor& owner, const torch::Tensor& strangers,
                double target_far) {
  if (owner.size(0) == 0 || strangers.size(0) == 0)
    throw input_error("the owner report needs owner and stranger faces");
  // A warm-up batch first: the first forward of a process sets up oneDNN's kernels.
  r.verifier->score_chips(owner.slice(0, 0, std::min<std::int64_t>(owner.size(0), 16)));
  const auto t0 = std::chrono::steady_clock::now();
  r.owner_scores = r.verifier->score_chips(owner);
  r.stranger_scores = r.verifier->score_chips(strangers);
  r.ms_per_face =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() /
      static_cast<double>(owner.size(0) + strangers.size(0));
  r.owner = decide_all(*r.verifier, r.owner_scores);
  r.strangers = decide_all(*r.verifier, r.stranger_scores);
  r.for_target_far =
      r.owner_kind()
          ? calibrate_owner_score(flat(r.owner_scores), flat(r.stranger_scores), target_far)
          : calibrate_owner(r.owner_scores, r.stranger_scores, target_far);
  std::vector<float> share = r.owner.share, best = r.owner.best;
  share.insert(share.end(), r.strangers.share.begin(), r.strangers.share.end());
  best.insert(best.end(), r.strangers.best.begin(), r.strangers.best.end());
  std::vector<int> labels(r.owner.share.size(), 1);
  labels.resize(share.size(), 0);
  r.auc_share = auc(share, labels);
  r.auc_best = auc(best, labels);
}

nlohmann::json rule_json(const RuleReport& r, double target_far) {
  const Thresholds& t = r.verifier->thresholds();
  const double n_owner = static_cast<double>(r.owner.share.size()),
               n_strangers = static_cast<double>(r.strangers.share.size());
  nlohmann::json j = {{"label", r.label},
                      {"model", r.model},
                      {"model_checksum", r.verifier->bundle().checksum},
                      {"kind", r.verifier->kind()},
                      {"rule", r.rule()},
                      {"owner_accepted", r.owner.accepted},
                      {"strangers_accepted", r.strangers.accepted},
                      {"tar", static_cast<double>(r.owner.accepted) / n_owner},
                      {"far", static_cast<double>(r.strangers.accepted) / n_strangers},
                      {"accuracy", (static_cast<double>(r.owner.accepted) + n_strangers -
                                    static_cast<double>(r.strangers.accepted)) /
                                       (n_owner + n_strangers)},
                      {"ms_per_face", r.ms_per_face}};
  if (r.owner_kind()) {
    j["thresholds"] = {{"owner", t.owner}, {"source", "model bundle"}};
    j["auc"] = r.auc_share;
  } else {
    j["thresholds"] = {{"detection", t.detection}, {"ratio", t.ratio}, {"source", "model bundle"}};
    j["references"] = {{"folder", r.refs_folder}, {"used", r.refs.used}};
    j["auc_match_ratio"] = r.auc_share;
    j["auc_best_score"] = r.auc_best;
  }
  const auto& c = r.for_target_far.calibration;
  nlohmann::json target = {
      {"target_far", target_far},
      {"rule", r.target_rule()},
      {"tar", c["tar"]},
      {"far", c["far"]},
      {"owner_accepted", c["owner_accepted"]},
      {"strangers_accepted", c["strangers_accepted"]},
      {"note", "chosen on these very faces: an optimistic, after-the-fact number"}};
  if (r.owner_kind())
    target["owner"] = r.for_target_far.owner;
  else
    target.update({{"detection", r.for_target_far.detection}, {"ratio", r.for_target_far.ratio}});
  j["for_target_far"] = target;
  return j;
}

std::vector<cv::Mat> rule_histograms(const RuleReport& r) {
  const Thresholds& t = r.verifier->thresholds();
  if (r.owner_kind())
    return {chart(fmt::format("P(owner); owner when > {:.3f}", t.owner), "P(owner)", r.owner.share,
                  r.strangers.share)};
  return {chart(fmt::format("Match ratio (P > {:.3f}); owner when > {:.2f}", t.detection, t.ratio),
                "match ratio", r.owner.share, r.strangers.share),
          chart("Best P(same) over the references", "P(same)", r.owner.best, r.strangers.best)};
}

}  // namespace faceid
