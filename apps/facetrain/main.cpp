// facetrain: train a Siamese face-verification model of the owner's face against LFW strangers
// (docs/design.md §3-§5). Detects and aligns faces once (face cache), trains, calibrates the owner
// thresholds on held-out photos, and writes a run folder and the model bundle.

#include <atomic>
#include <csignal>
#include <iostream>
#include <optional>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "faceid/bundle/bundle.hpp"
#include "faceid/bundle/pretrained.hpp"
#include "faceid/error.hpp"
#include "faceid/log.hpp"
#include "faceid/train/distributed.hpp"
#include "faceid/train/training_run.hpp"
#include "facetrain.hpp"

namespace fs = std::filesystem;
using namespace faceid;
using namespace faceid::facetrain;

namespace {

std::atomic<bool> g_stop{false};
std::vector<std::string> g_args;  // this process's argv, for --nproc

extern "C" void on_sigint(int) {
  g_stop = true;
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C ends the process at once
}

// argv for the ranks --nproc starts: without --nproc, and with the run folder they must share.
std::vector<std::string> rank_args(const Options& o) {
  std::vector<std::string> args;
  for (std::size_t i = 0; i < g_args.size(); ++i) {
    if (g_args[i] == "--nproc") {
      ++i;
      continue;
    }
    if (g_args[i].rfind("--nproc=", 0) != 0) args.push_back(g_args[i]);
  }
  if (o.run_dir.empty()) {
    args.push_back("--run-dir");
    args.push_back((fs::path("runs") / timestamp()).string());
  }
  return args;
}

// The recipe of the start asked for, with the flags a user gave on top of it. Also resolves the
// pipeline (a pretrained start's chips) and o.val_fraction, which gather_data splits by.
Recipe resolve_recipe(Options& o, const cli::CommonOptions& common) {
  o.train.seed = common.seed;
  o.train.device = common.device;
  o.train.augment.enabled = !o.no_augment;
  if (o.arch != "resnet" && o.dropout >= 0)
    throw usage_error("--dropout is the resnet's (the Koch nets have no dropout layer)");
  // An architecture named is one trained from scratch.
  if (o.arch_option->count() > 0 && o.init_option->count() == 0) o.init = "none";
  const bool pretrained = o.init != "none";
  if (pretrained && (o.arch_option->count() > 0 || o.embedding_size > 0 || o.dropout >= 0 ||
                     o.input_norm != "none"))
    throw usage_error("--init " + o.init +
                      ": the architecture is the pretrained one (no --arch, --embedding-size, "
                      "--dropout or --input-norm)");
  if (!pretrained && o.train_layers_option->count() > 0)
    throw usage_error("--train-layers is for a pretrained start (--init face-api)");
  if (pretrained && o.train_layers_option->count() == 0) o.train_layers = "head";
  Recipe r = pretrained ? pretrained_recipe(o.train_layers) : scratch_recipe(o.arch);
  // Every flag's value, except where the recipe has its own default and the flag was not given.
  TrainConfig t = o.train;
  const auto unless_given = [](const CLI::Option* flag, auto& value, auto recipe_value) {
    if (flag->count() == 0) value = recipe_value;
  };
  unless_given(o.lr_option, t.learning_rate, r.train.learning_rate);
  unless_given(o.wd_option, t.weight_decay, r.train.weight_decay);
  unless_given(o.zoom_option, t.augment.zoom_view, r.train.augment.zoom_view);
  unless_given(o.budget_option, t.time_budget_minutes, r.train.time_budget_minutes);
  unless_given(o.epochs_option, t.epochs, r.train.epochs);
  unless_given(o.val_option, o.val_fraction, r.val_fraction);
  t.imprint = r.train.imprint;
  r.train = t;
  r.val_fraction = o.val_fraction;
  r.target_far = o.calibration_far;
  r.references = o.references;
  r.calibration_strangers = o.calibration_strangers;
  r.min_owner_tar = o.min_owner_tar;
  if (pretrained) o.pipeline.preprocess = face_api_preprocess(o.pipeline.preprocess);
  if (o.embedding_size > 0) r.model.embedding_size = o.embedding_size;
  if (o.dropout >= 0) r.model.dropout = o.dropout;
  r.model.batch_norm = o.batch_norm;
  r.model.input_norm = o.input_norm;
  r.model.zoom_view = r.train.augment.zoom_view;
  return r;
}

// Starts the local ranks (--nproc), or joins a launcher's run as one of its ranks: the group, or
// none for a single process. Returns the exit code instead when this process only launched.
std::optional<int> join_ranks(const Options& o, const RankInfo& ranks,
                              std::shared_ptr<Collective>& group) {
  if (o.train.resume && o.run_dir.empty())
    throw usage_error("--resume needs the --run-dir of the run to continue");
  if (o.nproc > 1) {
    if (ranks.world_size > 1)
      throw usage_error(
          fmt::format("--nproc {}: this is already rank {} of a run of {} (WORLD_SIZE)", o.nproc,
                      ranks.rank, ranks.world_size));
    if (!have_gloo())
      throw usage_error("--nproc: this facetrain was built without Gloo (libgloo-dev)");
    return launch_local_ranks(o.nproc, rank_args(o));
  }
  // A data-parallel rank (started by --nproc or a launcher such as torchrun): rank 0 alone logs,
  // writes the run folder and the bundle; the others train and leave.
  if (ranks.world_size > 1) {
    if (ranks.rank != 0) logger()->set_level(spdlog::level::err);  // rank 0 says it all
    group = Collective::connect(ranks, std::chrono::seconds(o.rank_timeout));
    logger()->info("rank {} of {} joined (c10d/Gloo via {}:{})", ranks.rank, ranks.world_size,
                   ranks.master_addr, ranks.master_port);
  }
  return std::nullopt;
}

// After training: each session's acceptance, the bundle, the references, the summary; the exit
// code.
int write_model(const Options& o, const cli::CommonOptions& common, const Recipe& recipe,
                const TrainData& data, SiameseNet& net, TrainedModel& m, const fs::path& run_dir,
                const nlohmann::json& provenance) {
  // Per session: the share of its photos the calibrated rule accepts (the reference photos
  // themselves left out). Only a held-out session's figure predicts another day.
  const nlohmann::json session_report = record_sessions(
      data, std::set<int>(m.references.begin(), m.references.end()), run_dir, m.info.thresholds,
      [&](const std::vector<int>& ids) { return owner_accepts(net, data.faces.chips, m, ids); });

  // 4. The bundle.
  TrainingSummary& t = m.info.training;
  describe_training(t, o, data, common.seed);
  t.date = timestamp();
  t.run_dir = fs::absolute(run_dir).string();
  t.pretrained = provenance;
  if (recipe.init != "none") t.pretrained["train_layers"] = recipe.train_layers;
  save_bundle(o.output, m.info, net, nullptr, m.strangers);
  if (!o.fill_refs.empty()) fill_references(o.fill_refs, data.faces, data.split.val.owner);
  check_run_log();
  if (m.result.interrupted)
    logger()->warn("interrupted: saved the best model so far; continue with --resume --run-dir {}",
                   run_dir.string());
  const nlohmann::json summary = {
      {"model", fs::absolute(o.output).string()}, {"run_dir", fs::absolute(run_dir).string()},
      {"best_epoch", m.result.best_epoch},        {"best", t.best},
      {"thresholds", m.info.thresholds},          {"sessions", session_report},
      {"train_seconds", m.train_seconds},         {"peak_rss_mb", peak_rss_mb()},
      {"interrupted", m.result.interrupted},      {"collapsed", m.result.collapsed}};
  print_summary(summary, m, o.output, run_dir, common.json);
  if (m.result.collapsed) return 1;  // a negative outcome: the model did not learn (kept)
  if (!m.unusable.empty()) {
    std::cerr << "error: " << m.unusable << "\n";
    return 1;
  }
  return m.result.interrupted ? 130 : 0;
}

int run(Options& o, const cli::CommonOptions& common) {
  if (o.owner_only) {
    if (o.nproc > 1 || rank_from_env().world_size > 1)
      throw usage_error("--owner-only trains in one process (no --nproc, no WORLD_SIZE)");
    return run_owner_only(o, common);
  }
  const RankInfo ranks = rank_from_env();
  std::shared_ptr<Collective> group;
  if (const auto launched = join_ranks(o, ranks, group)) return *launched;
  const bool writer = ranks.rank == 0;
  Recipe recipe = resolve_recipe(o, common);
  const fs::path run_dir = writer ? open_run_dir(o.run_dir, o.train.resume) : fs::path(o.run_dir);

  // 1. Faces: scan, detect and align once (cached); the owner's and the strangers' split.
  const FaceSource source = face_source(o.pipeline.preprocess, o.pipeline);
  const int threads = cli::resolve_threads(common.threads);
  cli::CommonOptions data_options = common;
  data_options.quiet = common.quiet || !writer;  // one progress bar: rank 0's
  TrainData data = gather_data(o, data_options, source, threads);

  // 2. The net: the pretrained descriptor or a new one.
  recipe.model.input_size = source.config.chip_size;
  torch::manual_seed(common.seed);
  nlohmann::json provenance = nlohmann::json::object();
  SiameseNet net = recipe.init != "none"
                       ? import_face_api(find_face_api_model(o.pretrained), &provenance)
                       : SiameseNet(recipe.model);
  if (recipe.init != "none") {
    recipe.model = net->config();
    net->set_trainable(recipe.train_layers);
    logger()->info("from {} {}, training: {}", provenance.value("package", ""),
                   provenance.value("version", ""), recipe.train_layers);
  }
  recipe.train.checkpoint = run_dir / "checkpoint.pt";
  logger()->info("{} threads{}; run folder {}", threads,
                 ranks.world_size > 1 ? fmt::format(" x {} ranks", ranks.world_size) : "",
                 run_dir.string());
  std::optional<EpochLog> epochs;
  TrainHooks hooks;
  hooks.stop = &g_stop;
  if (writer) {
    write_params(run_dir, o, recipe, data, provenance, source.config, threads, ranks.world_size);
    epochs.emplace(run_dir, recipe.train, !common.quiet);
    hooks = epochs->hooks();
    hooks.stop = &g_stop;
  }

  // 3. Train and calibrate (the library's workflow).
  std::signal(SIGINT, on_sigint);
  TrainedModel m = train_siamese(net, data.faces, data.split, recipe, source.config, hooks, group);
  std::signal(SIGINT, SIG_DFL);
  if (!writer) return m.result.interrupted ? 130 : 0;
  epochs->finish();
  if (!m.result.history.empty()) write_curves(run_dir / "curves.png", m.result.history);
  if (m.result.interrupted && m.result.history.empty()) {
    logger()->warn(
        "interrupted before the first epoch ended; checkpoint in {} (continue with --resume "
        "--run-dir {})",
        recipe.train.checkpoint.string(), run_dir.string());
    return 130;
  }
  return write_model(o, common, recipe, data, net, m, run_dir, provenance);
}

}  // namespace

int main(int argc, char** argv) {
  g_args.assign(argv, argv + argc);
  Options o;
  return cli::run_main(
      argc, argv,
      {"facetrain",
       "Train a Siamese face-verification model of the owner's face against LFW strangers; or, "
       "with --owner-only --from DIR, the owner's own model (one embedding, an owner-vs-everyone "
       "head: no reference photos needed).",
       [&](CLI::App& app, cli::CommonOptions&) { add_flags(app, o); },
       [&](const cli::CommonOptions& common) { return run(o, common); }});
}
