// facetrain --owner-only: the owner's own model (owner_model.hpp) on top of a general bundle
// (--from): the owner's photos positive, strangers (LFW people, --negatives) negative; the
// threshold on P(owner) calibrated for --target-far on held-out owner photos (whole sessions when
// there are two or more) and held-out strangers (people neither the general model nor the head
// trained on); an owner bundle out.

#include <algorithm>
#include <chrono>
#include <iostream>
#include <random>
#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "faceid/error.hpp"
#include "faceid/io/atomic_file.hpp"
#include "faceid/log.hpp"
#include "faceid/score/decision.hpp"
#include "faceid/score/metrics.hpp"
#include "faceid/train/owner_run.hpp"
#include "facetrain.hpp"

namespace fs = std::filesystem;

namespace faceid::facetrain {
namespace {

// The held-out strangers' chip rows the threshold is fitted on: shuffled, at most
// --calibration-strangers. Throws Error(Input) when there is none.
std::vector<int> held_out_strangers(const PoolSplit& split, const Options& o, std::uint64_t seed) {
  std::vector<int> held_strangers = split.val.stranger_ids();
  if (held_strangers.empty())
    throw input_error("no stranger of --lfw/--faces held out to calibrate the threshold on");
  std::shuffle(held_strangers.begin(), held_strangers.end(),
               std::mt19937_64(mix_seed(seed, 0xca1)));
  if (o.calibration_strangers > 0)
    held_strangers.resize(std::min<std::size_t>(held_strangers.size(),
                                                static_cast<std::size_t>(o.calibration_strangers)));
  return held_strangers;
}

void write_owner_params(const fs::path& run_dir, const Options& o, const OwnerTrainConfig& config) {
  const nlohmann::json params = {{"mode", "owner-only"},
                                 {"from", o.from},
                                 {"lfw", o.lfw},
                                 {"faces", o.faces},
                                 {"self", o.self},
                                 {"negatives", o.negatives},
                                 {"output", o.output},
                                 {"exclude_pairs", o.exclude_pairs},
                                 {"owner", config},
                                 {"val_fraction", o.val_fraction},
                                 {"target_far", o.calibration_far},
                                 {"faceid_version", FACEID_VERSION}};
  write_file_atomically(run_dir / "params.json", "the run parameters", params.dump(2) + "\n");
}

void print_owner_summary(const Options& o, const cli::CommonOptions& common, const OwnerRun& run,
                         const TrainData& data, const fs::path& run_dir,
                         const nlohmann::json& session_report, const std::string& reliability,
                         double seconds) {
  const Thresholds& t = run.info.thresholds;
  const OwnerTrainConfig& config = run.config;
  const OwnerTrainReport& trained = run.report;
  const double tar = t.calibration.value("tar", 0.0);
  const auto& cal = t.calibration;
  if (common.json) {
    cli::print_json({{"model", fs::absolute(o.output).string()},
                     {"kind", kOwnerKind},
                     {"from", run.info.owner.from},
                     {"fine_tune", config.fine_tune},
                     {"run_dir", fs::absolute(run_dir).string()},
                     {"thresholds", t},
                     {"sessions", session_report},
                     {"training", trained},
                     {"seconds", seconds},
                     {"peak_rss_mb", peak_rss_mb()},
                     {"reliability", reliability}});
  } else {
    std::cout << fmt::format("model      {} (owner model from {}, fine-tune {})\nrun folder {}\n",
                             o.output, o.from, config.fine_tune, run_dir.string());
    std::cout << fmt::format(
        "trained on {} owner photos ({} augmented examples) and {} stranger faces of {} people ({} "
        "from --negatives) in {:.1f}s\n",
        trained.owner_faces, trained.owner_examples, trained.stranger_faces,
        data.split.train.people.size(), data.negatives_people, run.info.training.train_seconds);
    std::cout << fmt::format(
        "owner threshold P(owner) > {:.4f}: held-out owner photos {} of {} (TAR {:.3f}), held-out "
        "strangers {} of {} (FAR {:.4f}, target {:g}); AUC {:.4f}\n",
        t.owner, cal["owner_accepted"].get<std::size_t>(), cal["owner_faces"].get<std::size_t>(),
        tar, cal["strangers_accepted"].get<std::size_t>(), cal["stranger_faces"].get<std::size_t>(),
        cal["far"].get<double>(), o.calibration_far, cal["auc"].get<double>());
    print_sessions(session_report);
    if (!reliability.empty()) std::cout << "reliability: " << reliability << "\n";
    std::cout << fmt::format("{:.0f}s in all; peak RSS {:.0f} MB\n", seconds, peak_rss_mb());
  }
}

// With one capture session, what the calibrated TAR cannot predict (logged and kept in the
// calibration); empty with two or more.
std::string one_session_warning(const TrainData& data, Thresholds& t) {
  if (data.owner_split.by_session) return "";
  const std::string reliability =
      "one capture session: the held-out owner photos come from the session the model trained "
      "on, so the calibrated TAR predicts photos of that day, not of another (measured: a rule "
      "calibrated on one session lost a third of the owner's photos of another); give two or "
      "more sessions";
  logger()->warn("{}", reliability);
  t.calibration["reliability"] = reliability;
  return reliability;
}

// The bundle's training summary: the data, and everyone either net saw (the general model's
// people and the head's: faceeval leaves them out).
void describe_owner_training(TrainingSummary& s, const Options& o, const TrainData& data,
                             const LoadedBundle& base, const fs::path& run_dir,
                             std::uint64_t seed) {
  describe_training(s, o, data, seed);
  std::set<std::string> trained_people(base.info.training.trained_people.begin(),
                                       base.info.training.trained_people.end());
  trained_people.insert(s.trained_people.begin(), s.trained_people.end());
  s.trained_people.assign(trained_people.begin(), trained_people.end());
  s.date = timestamp();
  s.run_dir = fs::absolute(run_dir).string();
}

}  // namespace

int run_owner_only(const Options& o, const cli::CommonOptions& common) {
  if (o.from.empty())
    throw usage_error(
        "--owner-only needs --from DIR, a general model bundle to start from (train one with "
        "facetrain --lfw DIR --self DIR -o DIR first)");
  if (o.train.resume)
    throw usage_error("--resume does not apply to --owner-only (its training takes seconds)");
  LoadedBundle base = load_bundle(o.from, resolve_device(common.device));
  require_siamese(base, o.from, "facetrain --owner-only --from");
  const fs::path run_dir = open_run_dir(o.run_dir, false);
  const auto start = std::chrono::steady_clock::now();

  // 1. Faces, through the general model's own preprocessing: the owner model sees its chips.
  const FaceSource source = face_source(base.info.preprocess, o.pipeline);
  if (source.config.detector != base.info.preprocess.detector)
    throw model_error(o.from + ": trained with the " + base.info.preprocess.detector +
                      " detector, which is not available here");
  const std::vector<std::string>& base_val = base.info.training.validation_people;
  if (base_val.empty())
    logger()->warn(
        "{} does not list its validation people: the held-out strangers are a random share of the "
        "people, which the general model may have trained on",
        o.from);
  const TrainData data =
      gather_data(o, common, source, cli::resolve_threads(common.threads), base_val);
  const PoolSplit& split = data.split;
  if (split.val.owner.empty())
    throw input_error(
        data.self_text +
        ": no owner photo held out to calibrate the threshold on (--val-fraction is 0?)");
  const std::vector<int> held_strangers = held_out_strangers(split, o, common.seed);

  // 2. Train the head and fit its threshold (the library's workflow).
  OwnerTrainConfig config = o.owner;
  config.seed = common.seed;
  config.augment.enabled = !o.no_augment;
  OwnerRun run = train_owner_run(base, o.from, data.faces.chips, split, held_strangers, config,
                                 o.owner_fit_option && o.owner_fit_option->count() > 0,
                                 {o.calibration_far, o.min_owner_tar});
  config = run.config;
  BundleInfo& info = run.info;
  Thresholds& t = info.thresholds;
  const nlohmann::json session_report =
      record_sessions(data, {}, run_dir, t, [&](const std::vector<int>& ids) {
        return owner_run_accepts(base, run, data.faces.chips, ids);
      });
  const std::string reliability = one_session_warning(data, t);
  const std::string& unusable = run.unusable;

  // 3. The owner bundle.
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  info.owner.training = {
      {"config", config},
      {"report", run.report},
      {"negatives", o.negatives},
      {"negatives_people", data.negatives_people},
      {"held_out_strangers", held_strangers.size()},
      {"held_out_strangers_are", base_val.empty() ? "a random share of the people"
                                                  : "the general model's validation people"}};
  describe_owner_training(info.training, o, data, base, run_dir, common.seed);
  save_bundle(o.output, info, base.net, &run.head);
  if (!o.fill_refs.empty()) fill_references(o.fill_refs, data.faces, split.val.owner);
  write_owner_params(run_dir, o, config);
  check_run_log();

  print_owner_summary(o, common, run, data, run_dir, session_report, reliability, seconds);
  if (!unusable.empty()) {
    std::cerr << "error: " << unusable << "\n";
    return 1;
  }
  return 0;
}

}  // namespace faceid::facetrain
