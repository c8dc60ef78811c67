#include "faceid/train/owner_run.hpp"

#include <filesystem>

#include <fmt/format.h>

#include "faceid/error.hpp"
#include "faceid/score/decision.hpp"
#include "faceid/score/metrics.hpp"

namespace faceid {

namespace {

std::vector<float> to_vector(const torch::Tensor& t) {
  const auto c = t.to(torch::kCPU).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

std::vector<float> probabilities(LoadedBundle& base, OwnerHead& head, const ChipStore& chips,
                                 const std::vector<int>& ids) {
  const auto device = base.net->parameters().front().device();
  return to_vector(owner_probabilities(head, embed_rows(base.net, chips, ids, device)));
}

}  // namespace

OwnerRun train_owner_run(LoadedBundle& base, const std::string& base_dir, const ChipStore& chips,
                         const PoolSplit& split, const std::vector<int>& held_strangers,
                         OwnerTrainConfig config, bool fit_given,
                         const OwnerCalibration& calibration) {
  if (split.val.owner.empty())
    throw input_error("no owner photo held out to calibrate the threshold on");
  if (held_strangers.empty())
    throw input_error("no stranger held out to calibrate the threshold on");
  // A fine-tuned net or a hidden layer is fitted by BCE unless the fit was asked for.
  if ((config.fine_tune != "none" || config.hidden > 0) && !fit_given) config.fit = "bce";
  OwnerRun run;
  run.config = config;
  SiameseNet& net = base.net;
  run.head = train_owner_model(net, chips, split.train.owner, split.train.stranger_ids(), config,
                               &run.report);

  // The threshold on P(owner) for the target FAR, on held-out faces.
  run.owner_probabilities = probabilities(base, run.head, chips, split.val.owner);
  run.stranger_probabilities = probabilities(base, run.head, chips, held_strangers);
  BundleInfo& info = run.info;
  info.thresholds = calibrate_owner_score(run.owner_probabilities, run.stranger_probabilities,
                                          calibration.target_far);
  Thresholds& t = info.thresholds;
  // The reference rule's thresholds and the unsure limits stay the general model's.
  t.pair = base.info.thresholds.pair;
  t.detection = base.info.thresholds.detection;
  t.ratio = base.info.thresholds.ratio;
  t.min_face = base.info.thresholds.min_face;
  t.min_sharpness = base.info.thresholds.min_sharpness;
  std::vector<float> scores = run.owner_probabilities;
  scores.insert(scores.end(), run.stranger_probabilities.begin(), run.stranger_probabilities.end());
  std::vector<int> labels(run.owner_probabilities.size(), 1);
  labels.resize(scores.size(), 0);
  t.calibration["auc"] = auc(scores, labels);
  const double tar = t.calibration.value("tar", 0.0);
  if (tar < calibration.min_owner_tar)
    run.unusable = fmt::format(
        "the owner threshold accepts only {:.0f}% of the {} held-out owner photos at FAR <= {:g} "
        "on {} strangers (model kept for inspection; add owner photos or sessions, --fine-tune "
        "last, or a higher --target-far)",
        tar * 100, run.owner_probabilities.size(), calibration.target_far,
        run.stranger_probabilities.size());

  info.kind = kOwnerKind;
  info.model = net->config();
  info.preprocess = base.info.preprocess;
  info.owner.head = run.head->config();
  info.owner.fine_tune = config.fine_tune;
  info.owner.fit = config.fit;
  info.owner.from = std::filesystem::absolute(base_dir).string();
  info.owner.from_checksum = base.checksum;
  info.training.train_seconds =
      run.report.embed_seconds + run.report.head_seconds + run.report.fine_tune_seconds;
  info.training.faceid_version = FACEID_VERSION;
  info.training.device = net->parameters().front().device().str();
  info.training.config = config;
  info.training.seed = config.seed;
  return run;
}

std::vector<bool> owner_run_accepts(LoadedBundle& base, const OwnerRun& run, const ChipStore& chips,
                                    const std::vector<int>& ids) {
  OwnerHead head = run.head;
  std::vector<bool> accepted;
  for (const float p : probabilities(base, head, chips, ids))
    accepted.push_back(p > run.info.thresholds.owner);
  return accepted;
}

}  // namespace faceid
