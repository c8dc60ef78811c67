#include "faceid/train/training_run.hpp"

#include <algorithm>
#include <random>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "faceid/error.hpp"
#include "faceid/log.hpp"
#include "faceid/score/decision.hpp"
#include "faceid/score/metrics.hpp"

namespace faceid {

Recipe scratch_recipe(const std::string& arch) {
  if (arch != "resnet" && arch != "koch" && arch != "koch-small")
    throw usage_error("the from-scratch architectures are resnet, koch and koch-small, not '" +
                      arch + "'");
  Recipe r;
  r.model = default_model(arch);
  r.train = default_train();
  if (arch != "resnet") {
    // The seed's Koch nets train at a tenth of the resnet's learning rate (measured: 2e-4), and
    // keep the weight decay and the single view they were measured with.
    r.train.learning_rate = 2e-4;
    r.train.weight_decay = 5e-4;
    r.train.augment.zoom_view = 0;
  }
  r.model.zoom_view = r.train.augment.zoom_view;
  return r;
}

Recipe pretrained_recipe(const std::string& train_layers) {
  if (train_layers != "head" && train_layers != "last" && train_layers != "all")
    throw usage_error("the trainable part of a pretrained start is head, last or all, not '" +
                      train_layers + "'");
  Recipe r;
  r.init = "face-api";
  r.train_layers = train_layers;
  r.model = default_model("dlib-resnet");
  r.train = default_train();
  r.train.augment.zoom_view = 0;
  if (train_layers == "head") {
    // Frozen, as measured best on the owner's new day: one epoch of the Siamese head. A frozen
    // embedding learns nothing from the training people, so half of them are held out and the
    // stranger cohort the rule is fitted on is a few thousand faces (FAR 0.001 is resolved by
    // more than one stranger). Its cosine stays the score unless the head wins clearly: a head
    // chosen on a validation AUC tie (0.9996 vs 0.9996) lost 0.4 points DevTest.
    r.train.time_budget_minutes = 0;
    r.train.epochs = 1;
    r.val_fraction = 0.5;
    r.switch_margin = 0.002;
  } else {
    // Fine-tuning: the identity classes start at their mean embeddings, and the pretrained
    // weights move at a twentieth of the from-scratch rate (as measured).
    r.train.imprint = true;
    r.train.learning_rate = 1e-4;
  }
  return r;
}

TrainedModel train_siamese(SiameseNet& net, const FaceSet& faces, const PoolSplit& split,
                           const Recipe& recipe, const PreprocessConfig& preprocess,
                           const TrainHooks& hooks, std::shared_ptr<Collective> group) {
  const bool writer = !group || group->rank() == 0;
  Trainer trainer(net, faces, split, recipe.train, group);
  logger()->info("model {} ({:.1f} M parameters) on {}", net->config().name,
                 static_cast<double>(net->parameter_count()) / 1e6, trainer.device().str());
  TrainedModel m;
  m.device = trainer.device();
  m.result = trainer.fit(hooks);
  if (!writer || (m.result.interrupted && m.result.history.empty())) return m;
  const auto& history = m.result.history;
  if (history.empty()) throw internal_error("training produced no epoch");
  if (m.result.best_epoch < 1)
    throw internal_error("no epoch improved on the initial validation AUC");
  for (const auto& e : history) m.train_seconds += e.seconds;  // every session of a resumed run

  // The score kind (the head or the cosine, with or without mirror averaging) that separates the
  // validation pairs best; the pair threshold at their equal-error point.
  m.scoring = trainer.choose_scoring(recipe.switch_margin);
  logger()->info("scoring: {} (validation AUC by score: {})",
                 net->config().score + (net->config().flip_average ? " + mirror" : ""),
                 m.scoring.dump());
  BundleInfo& info = m.info;
  info.model = net->config();
  info.preprocess = preprocess;
  std::vector<float> scores;
  std::vector<int> labels;
  trainer.validation_scores(scores, labels);
  float pair_threshold = 0.5f;
  const double eer = equal_error_rate(scores, labels, &pair_threshold);

  // The owner rule: held-out owner photos vs held-out strangers, against the references.
  m.references.assign(
      split.train.owner.begin(),
      split.train.owner.begin() + std::min<std::size_t>(static_cast<std::size_t>(recipe.references),
                                                        split.train.owner.size()));
  std::vector<int> strangers = split.val.stranger_ids();
  std::shuffle(strangers.begin(), strangers.end(),
               std::mt19937_64(mix_seed(recipe.train.seed, 0xca1)));
  if (recipe.calibration_strangers > 0)
    strangers.resize(std::min<std::size_t>(strangers.size(),
                                           static_cast<std::size_t>(recipe.calibration_strangers)));
  m.reference_embeddings = trainer.embed_chips(m.references);
  if (!split.val.owner.empty() && !strangers.empty()) {
    // Kept in the bundle: the rule is refitted on them for any reference folder.
    m.strangers = trainer.embed_chips(strangers);
    info.thresholds = calibrate_owner(
        gallery_scores(net, trainer.embed_chips(split.val.owner), m.reference_embeddings),
        gallery_scores(net, m.strangers, m.reference_embeddings), recipe.target_far);
    const double tar = info.thresholds.calibration.value("tar", 0.0);
    if (tar < recipe.min_owner_tar)
      m.unusable = fmt::format(
          "the owner thresholds accept only {:.0f}% of the {} held-out owner photos at FAR <= {:g} "
          "on {} strangers, so faceverify would rarely find the owner (model kept for inspection; "
          "train longer, add owner photos, or calibrate for a higher --target-far)",
          tar * 100, split.val.owner.size(), recipe.target_far, strangers.size());
  } else {
    logger()->warn(
        "no held-out owner photos or strangers: owner thresholds left at their defaults");
  }
  info.thresholds.pair = pair_threshold;
  info.thresholds.calibration["pair_eer"] = eer;
  info.thresholds.calibration["pair_threshold_source"] =
      "equal-error point of the validation pairs";

  TrainingSummary& t = info.training;
  t.epochs_run = static_cast<int>(history.size());
  t.best_epoch = m.result.best_epoch;
  t.best = history.at(static_cast<std::size_t>(m.result.best_epoch - 1));
  t.interrupted = m.result.interrupted;
  t.early_stopped = m.result.early_stopped;
  t.collapsed = m.result.collapsed;
  t.budget_reached = m.result.budget_reached;
  t.train_seconds = m.train_seconds;
  t.faceid_version = FACEID_VERSION;
  t.device = trainer.device().str();
  t.config = recipe.train;
  t.scoring = m.scoring;
  t.seed = recipe.train.seed;
  return m;
}

std::vector<bool> owner_accepts(SiameseNet& net, const ChipStore& chips, const TrainedModel& model,
                                const std::vector<int>& ids) {
  std::vector<bool> accepted;
  const auto& t = model.info.thresholds;
  for (const auto& row :
       gallery_scores(net, embed_rows(net, chips, ids, model.device), model.reference_embeddings))
    accepted.push_back(is_owner(row, t.detection, t.ratio));
  return accepted;
}

}  // namespace faceid
