// facetrain's run folder: each epoch's record and the progress bar, params.json, the summary.

#include <iostream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "faceid/log.hpp"
#include "facetrain.hpp"

namespace fs = std::filesystem;

namespace faceid::facetrain {

EpochLog::EpochLog(const fs::path& run_dir, const TrainConfig& train, bool progress)
    : jsonl_(run_dir / "metrics.jsonl", "the metrics", train.resume),
      csv_(run_dir / "metrics.csv", "the metrics", train.resume),
      train_(train),
      progress_(progress) {
  if (!train.resume)
    csv_.write(
        "epoch,minutes,learning_rate,train_loss,train_pair_loss,train_id_loss,train_accuracy,"
        "val_loss,val_accuracy,val_precision,val_recall,val_auc,val_auc_head,val_auc_cosine,"
        "val_owner_accuracy,val_score_std,seconds,images_per_second,data_wait_share\n");
}

TrainHooks EpochLog::hooks() {
  TrainHooks h;
  h.on_batch = [this](int epoch, std::size_t done, std::size_t total, double, double) {
    if (!bar_)
      bar_.emplace(train_.time_budget_minutes > 0
                       ? fmt::format("epoch {}", epoch)
                       : fmt::format("epoch {}/{}", epoch, train_.epochs),
                   progress_);
    bar_->update(done, total);
  };
  h.on_epoch = [this](const EpochMetrics& m) { record(m); };
  return h;
}

void EpochLog::finish() {
  if (bar_) bar_->finish();
  bar_.reset();
}

void EpochLog::record(const EpochMetrics& m) {
  finish();
  logger()->info(
      "epoch {:>3} ({:.1f} min, lr {:.2g}): loss pair {:.4f} id {:.3f}, pair acc {:.3f} | val "
      "AUC head {:.3f} cosine {:.3f}, acc {:.3f}, owner acc {:.3f} | {:.0f} images/s ({:.0f}% "
      "waiting for data), {:.0f}s{}",
      m.epoch, m.minutes, m.learning_rate, m.train_pair_loss, m.train_id_loss, m.train_accuracy,
      m.val_auc_head, m.val_auc_cosine, m.val_accuracy, m.val_owner_accuracy, m.images_per_second,
      100 * m.data_wait_share, m.seconds, m.collapsed ? "  COLLAPSED?" : "");
  jsonl_.write(nlohmann::json(m).dump() + "\n");
  csv_.write(
      fmt::format("{},{:.3f},{:.3g},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},"
                  "{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},{:.2f},{:.2f},{:.4f}\n",
                  m.epoch, m.minutes, m.learning_rate, m.train_loss, m.train_pair_loss,
                  m.train_id_loss, m.train_accuracy, m.val_loss, m.val_accuracy, m.val_precision,
                  m.val_recall, m.val_auc, m.val_auc_head, m.val_auc_cosine, m.val_owner_accuracy,
                  m.val_score_std, m.seconds, m.images_per_second, m.data_wait_share));
  check_run_log();
}

void write_params(const fs::path& run_dir, const Options& o, const Recipe& recipe,
                  const TrainData& data, const nlohmann::json& provenance,
                  const PreprocessConfig& preprocess, int threads, int ranks) {
  nlohmann::json sessions = nlohmann::json::array();
  for (std::size_t i = 0; i < data.sessions.size(); ++i)
    sessions.push_back({{"name", data.sessions[i].name},
                        {"dir", data.sessions[i].dir.string()},
                        {"photos", data.sessions[i].files.size()},
                        {"faces", data.session_faces[i]}});
  const nlohmann::json params = {{"lfw", o.lfw},
                                 {"faces", o.faces},
                                 {"self", o.self},
                                 {"sessions", sessions},
                                 {"output", o.output},
                                 {"exclude_pairs", o.exclude_pairs},
                                 {"model", recipe.model},
                                 {"init", recipe.init},
                                 {"pretrained", provenance},
                                 {"train_layers", recipe.train_layers},
                                 {"preprocess", preprocess},
                                 {"train", recipe.train},
                                 {"val_fraction", recipe.val_fraction},
                                 {"threads", threads},
                                 {"ranks", ranks},
                                 {"faceid_version", FACEID_VERSION}};
  write_file_atomically(run_dir / "params.json", "the run parameters", params.dump(2) + "\n");
}

void print_summary(const nlohmann::json& summary, const TrainedModel& m, const fs::path& output,
                   const fs::path& run_dir, bool json) {
  if (json) return cli::print_json(summary);
  const auto& best = m.info.training.best;
  const auto& t = m.info.thresholds;
  std::cout << fmt::format("model      {}\nrun folder {}\n", output.string(), run_dir.string());
  std::cout << fmt::format(
      "best epoch {} of {}: val accuracy {:.3f}, AUC {:.3f}, owner-pair accuracy {:.3f}\n",
      m.result.best_epoch, m.result.history.size(), best.value("val_accuracy", 0.0),
      best.value("val_auc", 0.0), best.value("val_owner_accuracy", -1.0));
  std::cout << fmt::format(
      "thresholds pair {:.3f} (EER {:.3f}); owner: P(same) > {:.3f} on > {:.0f}% of references "
      "(held-out TAR {:.3f} at FAR {:.4f})\n",
      t.pair, t.calibration.value("pair_eer", -1.0), t.detection, t.ratio * 100,
      t.calibration.value("tar", -1.0), t.calibration.value("far", -1.0));
  print_sessions(summary.at("sessions"));
  std::cout << fmt::format("trained {:.0f}s ({:.0f}s in this session); peak RSS {:.0f} MB\n",
                           m.train_seconds, m.result.seconds, peak_rss_mb());
}

}  // namespace faceid::facetrain
