// facetrain: train a Siamese face-verification model of the owner's face against LFW strangers
// (DESIGN.md §3-§5). Detects and aligns faces once (face cache), trains, calibrates the owner
// thresholds on held-out photos, and writes a run folder and the model bundle.

#include <sys/resource.h>

#include <algorithm>
#include <csignal>
#include <ctime>
#include <iostream>
#include <map>
#include <optional>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "faceid/atomic_file.hpp"
#include "faceid/bundle.hpp"
#include "faceid/decision.hpp"
#include "faceid/distributed.hpp"
#include "faceid/error.hpp"
#include "faceid/lfw_pairs.hpp"
#include "faceid/log.hpp"
#include "faceid/metrics.hpp"
#include "faceid/owner_sessions.hpp"
#include "faceid/pretrained.hpp"
#include "faceid/sources.hpp"
#include "faceid/trainer.hpp"
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

int run(Options& o, const cli::CommonOptions& common) {
  if (o.owner_only) {
    if (o.nproc > 1 || rank_from_env().world_size > 1)
      throw usage_error("--owner-only trains in one process (no --nproc, no WORLD_SIZE)");
    return run_owner_only(o, common);
  }
  if (o.train.resume && o.run_dir.empty())
    throw usage_error("--resume needs the --run-dir of the run to continue");
  const RankInfo ranks = rank_from_env();
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
  std::shared_ptr<Collective> group;
  if (ranks.world_size > 1) {
    if (ranks.rank != 0) logger()->set_level(spdlog::level::err);  // rank 0 says it all
    group = Collective::connect(ranks, std::chrono::seconds(o.rank_timeout));
    logger()->info("rank {} of {} joined (c10d/Gloo via {}:{})", ranks.rank, ranks.world_size,
                   ranks.master_addr, ranks.master_port);
  }
  const bool writer = ranks.rank == 0;
  o.train.seed = common.seed;
  o.train.device = common.device;
  o.train.augment.enabled = !o.no_augment;
  if (o.arch != "resnet" && o.dropout >= 0)
    throw usage_error("--dropout is the resnet's (the Koch nets have no dropout layer)");
  // The seed's Koch net trains at a tenth of the resnet's learning rate (measured: 2e-4), and keeps
  // the weight decay and the single view it was measured with.
  if (o.arch != "resnet" && o.lr_option && o.lr_option->count() == 0) o.train.learning_rate = 2e-4;
  if (o.arch != "resnet" && o.wd_option && o.wd_option->count() == 0) o.train.weight_decay = 5e-4;
  if (o.arch != "resnet" && o.zoom_option && o.zoom_option->count() == 0)
    o.train.augment.zoom_view = 0;
  // An architecture named is one trained from scratch.
  if (o.arch_option->count() > 0 && o.init_option->count() == 0) o.init = "none";
  const bool pretrained = o.init != "none";
  if (pretrained) {
    if (o.arch_option->count() > 0 || o.embedding_size > 0 || o.dropout >= 0 ||
        o.input_norm != "none")
      throw usage_error("--init " + o.init +
                        ": the architecture is the pretrained one (no --arch, --embedding-size, "
                        "--dropout or --input-norm)");
    // The descriptor's chips: 150 px of dlib's geometry. Unless told otherwise it stays frozen
    // (the Siamese head alone trains, one epoch): measured best on the owner's new day.
    o.pipeline.preprocess = face_api_preprocess(o.pipeline.preprocess);
    if (o.train_layers_option->count() == 0) o.train_layers = "head";
    if (o.zoom_option->count() == 0) o.train.augment.zoom_view = 0;
    if (o.train_layers == "head" && o.budget_option->count() == 0) o.train.time_budget_minutes = 0;
    if (o.train_layers == "head" && o.epochs_option->count() == 0) o.train.epochs = 1;
    // A frozen embedding learns nothing from the training people: hold half of them out, so
    // that the stranger cohort the rule is fitted on (kept in the bundle) is a few thousand faces
    // and FAR 0.001 is resolved by more than one stranger.
    if (o.train_layers == "head" && o.val_option->count() == 0) o.val_fraction = 0.5;
    // Fine-tuning: the identity loss's classes start at their mean embeddings, not at random, and
    // the pretrained weights move at a twentieth of the from-scratch rate (as measured).
    o.train.imprint = o.train_layers != "head";
    if (o.train_layers != "head" && o.lr_option->count() == 0) o.train.learning_rate = 1e-4;
  } else if (o.train_layers_option->count() > 0) {
    throw usage_error("--train-layers is for a pretrained start (--init face-api)");
  }
  const fs::path run_dir = writer ? open_run_dir(o.run_dir, o.train.resume) : fs::path(o.run_dir);

  // 1. Faces: scan, detect and align once (cached); the owner's and the strangers' split.
  const FaceSource source = face_source(o.pipeline.preprocess, o.pipeline);
  const int threads = cli::resolve_threads(common.threads);
  cli::CommonOptions data_options = common;
  data_options.quiet = common.quiet || !writer;  // one progress bar: rank 0's
  TrainData data = gather_data(o, data_options, source, threads);
  const auto& sessions = data.sessions;
  const FaceSet& faces = data.faces;
  PoolSplit& split = data.split;
  const auto& session_faces = data.session_faces;

  // 2. Train.
  ModelConfig model_config = default_model(o.arch);
  model_config.input_size = source.config.chip_size;
  if (o.embedding_size > 0) model_config.embedding_size = o.embedding_size;
  if (o.dropout >= 0) model_config.dropout = o.dropout;
  model_config.batch_norm = o.batch_norm;
  model_config.input_norm = o.input_norm;
  model_config.zoom_view = o.train.augment.zoom_view;
  torch::manual_seed(common.seed);
  nlohmann::json provenance = nlohmann::json::object();
  SiameseNet net = pretrained ? import_face_api(find_face_api_model(o.pretrained), &provenance)
                              : SiameseNet(model_config);
  if (pretrained) {
    model_config = net->config();
    net->set_trainable(o.train_layers);
  }
  o.train.checkpoint = run_dir / "checkpoint.pt";
  Trainer trainer(net, faces, split, o.train, group);
  logger()->info(
      "model {}{} ({:.1f} M parameters) on {}, {} threads{}; run folder {}", model_config.name,
      pretrained ? fmt::format(" from {} {}, training: {}", provenance.value("package", ""),
                               provenance.value("version", ""), o.train_layers)
                 : "",
      net->parameter_count() / 1e6, trainer.device().str(), threads,
      ranks.world_size > 1 ? fmt::format(" x {} ranks", ranks.world_size) : "", run_dir.string());
  if (!writer) {
    TrainHooks hooks;
    hooks.stop = &g_stop;
    std::signal(SIGINT, on_sigint);
    return trainer.fit(hooks).interrupted ? 130 : 0;
  }

  nlohmann::json session_params = nlohmann::json::array();
  for (std::size_t i = 0; i < sessions.size(); ++i)
    session_params.push_back({{"name", sessions[i].name},
                              {"dir", sessions[i].dir.string()},
                              {"photos", sessions[i].files.size()},
                              {"faces", session_faces[i]}});
  nlohmann::json params = {{"lfw", o.lfw},
                           {"faces", o.faces},
                           {"self", o.self},
                           {"sessions", session_params},
                           {"output", o.output},
                           {"exclude_pairs", o.exclude_pairs},
                           {"model", model_config},
                           {"init", o.init},
                           {"pretrained", provenance},
                           {"train_layers", o.train_layers},
                           {"preprocess", source.config},
                           {"train", o.train},
                           {"val_fraction", o.val_fraction},
                           {"threads", threads},
                           {"ranks", ranks.world_size},
                           {"faceid_version", FACEID_VERSION}};
  write_file_atomically(run_dir / "params.json", "the run parameters", params.dump(2) + "\n");
  AppendFile jsonl(run_dir / "metrics.jsonl", "the metrics", o.train.resume);
  AppendFile csv(run_dir / "metrics.csv", "the metrics", o.train.resume);
  if (!o.train.resume)
    csv.write(
        "epoch,minutes,learning_rate,train_loss,train_pair_loss,train_id_loss,train_accuracy,"
        "val_loss,val_accuracy,val_precision,val_recall,val_auc,val_auc_head,val_auc_cosine,"
        "val_owner_accuracy,val_score_std,seconds,images_per_second,data_wait_share\n");

  std::signal(SIGINT, on_sigint);
  std::vector<EpochMetrics> history;
  std::optional<cli::ProgressBar> bar;
  TrainHooks hooks;
  hooks.stop = &g_stop;
  hooks.on_batch = [&](int epoch, std::size_t done, std::size_t total, double, double) {
    if (!bar)
      bar.emplace(o.train.time_budget_minutes > 0
                      ? fmt::format("epoch {}", epoch)
                      : fmt::format("epoch {}/{}", epoch, o.train.epochs),
                  !common.quiet);
    bar->update(done, total);
  };
  hooks.on_epoch = [&](const EpochMetrics& m) {
    if (bar) bar->finish();
    bar.reset();
    history.push_back(m);
    logger()->info(
        "epoch {:>3} ({:.1f} min, lr {:.2g}): loss pair {:.4f} id {:.3f}, pair acc {:.3f} | val "
        "AUC head {:.3f} cosine {:.3f}, acc {:.3f}, owner acc {:.3f} | {:.0f} images/s ({:.0f}% "
        "waiting for data), {:.0f}s{}",
        m.epoch, m.minutes, m.learning_rate, m.train_pair_loss, m.train_id_loss, m.train_accuracy,
        m.val_auc_head, m.val_auc_cosine, m.val_accuracy, m.val_owner_accuracy, m.images_per_second,
        100 * m.data_wait_share, m.seconds, m.collapsed ? "  COLLAPSED?" : "");
    jsonl.write(nlohmann::json(m).dump() + "\n");
    csv.write(
        fmt::format("{},{:.3f},{:.3g},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},"
                    "{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},{:.2f},{:.2f},{:.4f}\n",
                    m.epoch, m.minutes, m.learning_rate, m.train_loss, m.train_pair_loss,
                    m.train_id_loss, m.train_accuracy, m.val_loss, m.val_accuracy, m.val_precision,
                    m.val_recall, m.val_auc, m.val_auc_head, m.val_auc_cosine, m.val_owner_accuracy,
                    m.val_score_std, m.seconds, m.images_per_second, m.data_wait_share));
    check_run_log();
  };
  const TrainResult result = trainer.fit(hooks);
  if (bar) bar->finish();
  std::signal(SIGINT, SIG_DFL);
  if (!result.history.empty()) write_curves(run_dir / "curves.png", result.history);
  if (result.interrupted && result.history.empty()) {
    logger()->warn(
        "interrupted before the first epoch ended; checkpoint in {} (continue with --resume "
        "--run-dir {})",
        o.train.checkpoint.string(), run_dir.string());
    return 130;
  }
  if (result.history.empty()) throw internal_error("training produced no epoch");
  if (result.best_epoch < 1)
    throw internal_error("no epoch improved on the initial validation AUC");
  const EpochMetrics& best = result.history.at(static_cast<std::size_t>(result.best_epoch - 1));
  // Over all sessions of a resumed run (result.seconds counts this one only).
  double train_seconds = 0;
  for (const auto& m : result.history) train_seconds += m.seconds;

  // 3. Thresholds: the pair threshold at the equal-error point of the validation pairs; the owner
  //    rule calibrated on held-out owner photos vs held-out strangers.
  //    First the scoring: the Siamese head or the cosine, with or without mirror averaging,
  //    whichever separates the validation pairs best.
  // A frozen pretrained embedding is scored by its cosine (what it was trained for) unless one
  // epoch's head beats it clearly: measured, a head chosen on a validation AUC tie (0.9996 vs
  // 0.9996) lost 0.4 points DevTest.
  const nlohmann::json scoring =
      trainer.choose_scoring(pretrained && o.train_layers == "head" ? 0.002 : 0.0);
  logger()->info("scoring: {} (validation AUC by score: {})",
                 net->config().score + (net->config().flip_average ? " + mirror" : ""),
                 scoring.dump());
  BundleInfo info;
  info.model = net->config();
  info.preprocess = source.config;
  std::vector<float> scores;
  std::vector<int> labels;
  trainer.validation_scores(scores, labels);
  float pair_threshold = 0.5f;
  const double eer = equal_error_rate(scores, labels, &pair_threshold);
  std::vector<int> refs(
      split.train.owner.begin(),
      split.train.owner.begin() + std::min<std::size_t>(o.references, split.train.owner.size()));
  std::vector<int> strangers;
  for (const auto& p : split.val.people)
    strangers.insert(strangers.end(), p.chips.begin(), p.chips.end());
  std::shuffle(strangers.begin(), strangers.end(), std::mt19937_64(mix_seed(common.seed, 0xca1)));
  if (o.calibration_strangers > 0)
    strangers.resize(std::min<std::size_t>(strangers.size(), o.calibration_strangers));
  const auto ref_embeddings = trainer.embed_chips(refs);
  std::string unusable;  // why the model is unusable, when it is
  // Kept in the bundle: faceverify recalibrates on them for references of several sessions.
  torch::Tensor stranger_embeddings;
  if (!split.val.owner.empty() && !strangers.empty()) {
    stranger_embeddings = trainer.embed_chips(strangers);
    info.thresholds = calibrate_owner(
        gallery_scores(net, trainer.embed_chips(split.val.owner), ref_embeddings),
        gallery_scores(net, stranger_embeddings, ref_embeddings), o.calibration_far);
    const double tar = info.thresholds.calibration.value("tar", 0.0);
    if (tar < o.min_owner_tar)
      unusable = fmt::format(
          "the owner thresholds accept only {:.0f}% of the {} held-out owner photos at FAR <= {:g} "
          "on {} strangers, so faceverify would rarely find the owner (model kept for inspection; "
          "train longer, add owner photos, or calibrate for a higher --target-far)",
          tar * 100, split.val.owner.size(), o.calibration_far, strangers.size());
  } else {
    logger()->warn(
        "no held-out owner photos or strangers: owner thresholds left at their defaults");
  }
  // Per session: the share of its photos the calibrated rule accepts (the reference photos
  // themselves left out). Only a held-out session's figure predicts another day.
  const nlohmann::json session_report = record_sessions(
      data, std::set<int>(refs.begin(), refs.end()), run_dir, info.thresholds,
      [&](const std::vector<int>& ids) {
        std::vector<bool> accepted;
        for (const auto& row : gallery_scores(net, trainer.embed_chips(ids), ref_embeddings))
          accepted.push_back(is_owner(row, info.thresholds.detection, info.thresholds.ratio));
        return accepted;
      });
  info.thresholds.pair = pair_threshold;
  info.thresholds.calibration["pair_eer"] = eer;
  info.thresholds.calibration["pair_threshold_source"] =
      "equal-error point of the validation pairs";

  // 4. The bundle.
  TrainingSummary& t = info.training;
  describe_training(t, o, data, common.seed);
  t.epochs_run = static_cast<int>(result.history.size());
  t.best_epoch = result.best_epoch;
  t.best = best;
  t.interrupted = result.interrupted;
  t.early_stopped = result.early_stopped;
  t.collapsed = result.collapsed;
  t.budget_reached = result.budget_reached;
  t.train_seconds = train_seconds;
  t.date = timestamp();
  t.faceid_version = FACEID_VERSION;
  t.run_dir = fs::absolute(run_dir).string();
  t.device = trainer.device().str();
  t.config = o.train;
  t.scoring = scoring;
  t.pretrained = provenance;
  if (pretrained) t.pretrained["train_layers"] = o.train_layers;
  save_bundle(o.output, info, net, nullptr, stranger_embeddings);
  if (!o.fill_refs.empty()) fill_references(o.fill_refs, faces, split.val.owner);
  check_run_log();
  if (result.interrupted)
    logger()->warn("interrupted: saved the best model so far; continue with --resume --run-dir {}",
                   run_dir.string());

  nlohmann::json summary = {{"model", fs::absolute(o.output).string()},
                            {"run_dir", fs::absolute(run_dir).string()},
                            {"best_epoch", result.best_epoch},
                            {"best", best},
                            {"thresholds", info.thresholds},
                            {"sessions", session_report},
                            {"train_seconds", train_seconds},
                            {"peak_rss_mb", peak_rss_mb()},
                            {"interrupted", result.interrupted},
                            {"collapsed", result.collapsed}};
  if (common.json) {
    cli::print_json(summary);
  } else {
    std::cout << fmt::format("model      {}\nrun folder {}\n", o.output, run_dir.string());
    std::cout << fmt::format(
        "best epoch {} of {}: val accuracy {:.3f}, AUC {:.3f}, owner-pair accuracy {:.3f}\n",
        result.best_epoch, result.history.size(), best.val_accuracy, best.val_auc,
        best.val_owner_accuracy);
    std::cout << fmt::format(
        "thresholds pair {:.3f} (EER {:.3f}); owner: P(same) > {:.3f} on > {:.0f}% of references "
        "(held-out TAR {:.3f} at FAR {:.4f})\n",
        info.thresholds.pair, eer, info.thresholds.detection, info.thresholds.ratio * 100,
        info.thresholds.calibration.value("tar", -1.0),
        info.thresholds.calibration.value("far", -1.0));
    print_sessions(session_report);
    std::cout << fmt::format("trained {:.0f}s ({:.0f}s in this session); peak RSS {:.0f} MB\n",
                             train_seconds, result.seconds, peak_rss_mb());
  }
  if (result.collapsed)
    return 1;  // a negative outcome: the model did not learn (saved for inspection)
  if (!unusable.empty()) {
    std::cerr << "error: " << unusable << "\n";
    return 1;
  }
  return result.interrupted ? 130 : 0;
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
       [&](CLI::App& app, cli::CommonOptions&) {
         app.add_option("--lfw", o.lfw,
                        "LFW-style root of strangers: <Person>/<image> (--lfw, --faces or both)")
             ->check(CLI::ExistingDirectory);
         app.add_option("--faces", o.faces,
                        "More strangers: face sets laid out one folder per person "
                        "(<person>/<image>, e.g. CASIA-WebFace or a photo archive); their people "
                        "are named <root>/<person> and split like LFW's")
             ->check(CLI::ExistingDirectory);
         app.add_option("--self", o.self,
                        "Folders of the owner's photos, one per capture session (or one folder "
                        "with a sub-folder per session); with two or more sessions whole sessions "
                        "are held out for validation and calibration")
             ->required()
             ->check(CLI::ExistingDirectory);
         app.add_option("-o,--output", o.output, "Model bundle folder to write")
             ->capture_default_str();
         app.add_option(
             "--run-dir", o.run_dir,
             "Run folder (params, metrics, curves, log, checkpoint); default runs/<time>");
         app.add_option("--exclude-pairs", o.exclude_pairs,
                        "LFW pairs file(s) whose people are left out of training")
             ->check(CLI::ExistingFile);
         o.arch_option =
             app.add_option("--arch", o.arch,
                            "Train from scratch (--init none): resnet (the from-scratch recipe), "
                            "koch or koch-small (the seed's Koch net)")
                 ->check(CLI::IsMember({"resnet", "koch", "koch-small"}))
                 ->capture_default_str();
         o.init_option =
             app.add_option("--init", o.init,
                            "Start from: face-api (dlib's pretrained face descriptor from the npm "
                            "package scripts/setup.sh installs: 150 px chips of dlib's geometry; "
                            "LFW figures then belong to LFW's labeled-outside-data protocol) or "
                            "none (random weights: the from-scratch recipe; the default when "
                            "--arch is given)")
                 ->check(CLI::IsMember({"none", "face-api"}))
                 ->capture_default_str();
         app.add_option("--pretrained", o.pretrained,
                        "--init face-api: its model folder (default: $FACEID_FACE_API, else "
                        "pretrained/face-api/node_modules/@vladmandic/face-api/model)");
         o.train_layers_option =
             app.add_option("--train-layers", o.train_layers,
                            "--init face-api: what trains: head (the pretrained embedding "
                            "frozen; the default, one epoch), last (its last stage and "
                            "descriptor layer too) or all (both: --lr 1e-4 unless given)")
                 ->check(CLI::IsMember({"head", "last", "all"}));
         app.add_option("--embedding-size", o.embedding_size,
                        "Embedding size (0: resnet 256, koch 4096)")
             ->check(CLI::Range(0, kMaxEmbeddingSize))
             ->capture_default_str();
         app.add_option("--dropout", o.dropout,
                        "resnet: dropout before the embedding layer in training (-1: 0.2)")
             ->check(CLI::Range(-1.0, 0.9))
             ->capture_default_str();
         app.add_flag("--batch-norm", o.batch_norm, "koch: BatchNorm after each convolution");
         app.add_option("--input-norm", o.input_norm,
                        "Input normalisation: none (x/255) or face (each chip standardised on its "
                        "central half: brightness, contrast and colour cast cancel)")
             ->check(CLI::IsMember({"none", "face"}))
             ->capture_default_str();
         o.budget_option = app.add_option("--time-budget", o.train.time_budget_minutes,
                                          "Minutes of training: the schedule ends and training "
                                          "stops then (0: run --epochs)")
                               ->check(CLI::Range(0.0, 100000.0))
                               ->capture_default_str();
         o.epochs_option =
             app.add_option("--epochs", o.train.epochs, "Epochs (the most, with a time budget)")
                 ->check(CLI::Range(1, 100000))
                 ->capture_default_str();
         app.add_option("--batch-people", o.train.batch.people, "P: different people per batch")
             ->check(CLI::Range(2, 4096))
             ->capture_default_str();
         app.add_option("--batch-photos", o.train.batch.photos,
                        "K: photos of each person per batch")
             ->check(CLI::Range(1, 64))
             ->capture_default_str();
         app.add_option("--accumulate", o.train.accumulate,
                        "Batches per optimisation step and rank, their gradients averaged (a step "
                        "of ranks x accumulate x P x K photos)")
             ->check(CLI::Range(1, 1024))
             ->capture_default_str();
         app.add_option("--precision", o.train.precision,
                        "fp32, or bf16: the forward pass under bfloat16 autocast (for GPUs with "
                        "bfloat16 units; on this kind of CPU measured slower)")
             ->check(CLI::IsMember({"fp32", "bf16"}))
             ->capture_default_str();
         app.add_option("--nproc", o.nproc,
                        "Train data-parallel on this many local ranks (processes; c10d/Gloo), the "
                        "cores shared among them; a launcher's RANK, WORLD_SIZE, MASTER_ADDR and "
                        "MASTER_PORT do the same across machines")
             ->check(CLI::Range(1, 256))
             ->capture_default_str();
         app.add_option("--rank-timeout", o.rank_timeout,
                        "Data-parallel: seconds a rank waits for the others to join and in each "
                        "exchange before it gives up (a rank that dies is noticed at once)")
             ->check(CLI::Range(1, 86400))
             ->capture_default_str();
         o.lr_option = app.add_option("--lr", o.train.learning_rate,
                                      "Peak AdamW learning rate (warm-up, then cosine decay; koch: "
                                      "2e-4 unless given)")
                           ->check(CLI::PositiveNumber)
                           ->capture_default_str();
         app.add_option("--warmup", o.train.warmup, "Fraction of the run spent warming up")
             ->check(CLI::Range(0.0, 0.5))
             ->capture_default_str();
         o.wd_option = app.add_option("--weight-decay", o.train.weight_decay,
                                      "AdamW weight decay (koch: 5e-4 unless given)")
                           ->capture_default_str();
         app.add_option("--id-loss", o.train.id_loss.kind,
                        "Identity-margin loss on the embedding: cosface, arcface or none")
             ->check(CLI::IsMember({"cosface", "arcface", "none"}))
             ->capture_default_str();
         app.add_option("--id-weight", o.train.id_weight,
                        "Weight of the identity loss (the pair BCE has --pair-weight)")
             ->capture_default_str();
         app.add_option("--id-margin", o.train.id_loss.margin,
                        "Margin m (CosFace: cosine; ArcFace: radians)")
             ->capture_default_str();
         app.add_option("--id-scale", o.train.id_loss.scale, "Scale s of the identity logits")
             ->capture_default_str();
         app.add_option("--id-smoothing", o.train.id_smoothing,
                        "Label smoothing of the identity loss (0: one-hot targets)")
             ->check(CLI::Range(0.0, 0.5))
             ->capture_default_str();
         app.add_option("--ema", o.train.ema,
                        "Decay per step of a moving average of the weights that validation and "
                        "the bundle use (0: the last weights; e.g. 0.998)")
             ->check(CLI::Range(0.0, 0.9999))
             ->capture_default_str();
         app.add_option("--pair-weight", o.train.pair_weight,
                        "Weight of the Siamese head's binary cross-entropy")
             ->capture_default_str();
         app.add_option("--val-pairs", o.train.val_pairs, "Validation pairs per family")
             ->capture_default_str();
         o.val_option = app.add_option("--val-fraction", o.val_fraction,
                                       "Share of people and owner photos held out (--init "
                                       "face-api --train-layers head: 0.5 unless given)")
                            ->check(CLI::Range(0.0, 0.9))
                            ->capture_default_str();
         app.add_option("--patience", o.train.patience,
                        "Early stop after this many epochs without a better val AUC (0: never)")
             ->capture_default_str();
         app.add_flag("--no-augment", o.no_augment, "Train without augmentation");
         app.add_option("--erase-prob", o.train.augment.erase_prob,
                        "Random erasing: share of training chips with a rectangle of noise")
             ->check(CLI::Range(0.0, 1.0))
             ->capture_default_str();
         o.zoom_option = app.add_option("--zoom-view", o.train.augment.zoom_view,
                                        "Second view of each face: the chip's centre zoomed in by "
                                        "this factor (the face without hair and background), shown "
                                        "for --zoom-prob of the training chips; faces are embedded "
                                        "as the sum of both views (0: off; koch: 0 unless given)")
                             ->check(CLI::Range(0.0, double{kMaxZoomView}))
                             ->capture_default_str();
         app.add_option("--zoom-prob", o.train.augment.zoom_prob,
                        "Share of training chips shown as the zoom view")
             ->check(CLI::Range(0.0, 1.0))
             ->capture_default_str();
         app.add_option("--target-far", o.calibration_far,
                        "False-accept rate the owner thresholds are calibrated for")
             ->check(CLI::Range(0.0, 1.0))
             ->capture_default_str();
         app.add_option("--references", o.references, "Owner reference photos used in calibration")
             ->capture_default_str();
         app.add_option("--min-owner-tar", o.min_owner_tar,
                        "Exit 1 (model unusable) when the calibrated rule accepts fewer of the "
                        "held-out owner photos")
             ->check(CLI::Range(0.0, 1.0))
             ->capture_default_str();
         app.add_option("--calibration-strangers", o.calibration_strangers,
                        "Held-out stranger faces used in calibration (0: all)")
             ->capture_default_str();
         app.add_option("--fill-refs", o.fill_refs,
                        "Copy the owner photos held out from training into this folder as "
                        "faceverify's references (e.g. verification_data)");
         app.add_flag("--resume", o.train.resume,
                      "Continue the run in --run-dir from its checkpoint");
         cli::add_pipeline_options(app, o.pipeline);
         auto* owner_only = app.add_flag(
             "--owner-only", o.owner_only,
             "Train the owner's own model on top of the general model --from: an owner-vs-everyone "
             "head on its embedding (owner photos positive; LFW people and --negatives negative; "
             "class-weighted BCE, augmented), its threshold calibrated for --target-far on "
             "held-out faces; writes an owner bundle that faceverify, faceeval and faceserve use "
             "without reference photos");
         app.add_option("--from", o.from,
                        "--owner-only: the general (siamese) model bundle to start from (required)")
             ->needs(owner_only);
         app.add_option("--negatives", o.negatives,
                        "--owner-only: folders of photos of other people (family, colleagues: the "
                        "hard cases), always training negatives; a folder with sub-folders is one "
                        "person per sub-folder")
             ->needs(owner_only)
             ->check(CLI::ExistingDirectory);
         app.add_option("--fine-tune", o.owner.fine_tune,
                        "--owner-only: none (frozen embedding, the head alone: seconds) or last "
                        "(then the last residual stage and the embedding layer with the head, at a "
                        "small learning rate)")
             ->needs(owner_only)
             ->check(CLI::IsMember({"none", "last"}))
             ->capture_default_str();
         o.owner_fit_option =
             app.add_option("--owner-fit", o.owner.fit,
                            "--owner-only: centroid (cosine to the owner's mean embedding) or bce "
                            "(class-weighted BCE on the embeddings; the default with --fine-tune "
                            "last or --owner-hidden)")
                 ->needs(owner_only)
                 ->check(CLI::IsMember({"bce", "centroid"}))
                 ->capture_default_str();
         app.add_option("--owner-hidden", o.owner.hidden,
                        "--owner-only: hidden ReLU units of the owner head (0: logistic regression "
                        "on the embedding)")
             ->needs(owner_only)
             ->check(CLI::Range(0, 4096))
             ->capture_default_str();
         app.add_option("--owner-copies", o.owner.owner_copies,
                        "--owner-only: augmented copies of each owner photo the head learns from")
             ->needs(owner_only)
             ->check(CLI::Range(1, 1000))
             ->capture_default_str();
         app.add_option(
                "--owner-weight-decay", o.owner.weight_decay,
                "--owner-only: AdamW weight decay of the owner head (and of the fine-tuned layers)")
             ->needs(owner_only)
             ->check(CLI::Range(0.0, 100.0))
             ->capture_default_str();
         app.add_option(
                "--owner-steps", o.owner.fine_tune_steps,
                "--owner-only --fine-tune last: joint steps (16 owner + 48 stranger faces each)")
             ->needs(owner_only)
             ->check(CLI::Range(0, 100000))
             ->capture_default_str();
       },
       [&](const cli::CommonOptions& common) { return run(o, common); }});
}
