// faceeval: honest accuracy numbers (DESIGN.md §7). LFW pair protocols (View 2: 10 folds, View 1:
// threshold from DevTrain or 10-fold CV) for a faceid model or for any other system's scores.

#include <chrono>
#include <fstream>
#include <iostream>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "../common/cli.hpp"
#include "../common/preprocess_options.hpp"
#include "faceid/align.hpp"
#include "faceid/annotate.hpp"
#include "faceid/bundle.hpp"
#include "faceid/error.hpp"
#include "faceid/image.hpp"
#include "faceid/log.hpp"
#include "faceid/pair_report.hpp"
#include "faceid/plot.hpp"
#include "faceid/sources.hpp"

namespace fs = std::filesystem;
using namespace faceid;

namespace {

struct Options {
  std::string model, lfw, pairs, threshold_pairs, scores, out, write_scores;
  bool allow_overlap = false;
  cli::PipelineOptions pipeline;
};

// Scores every pair of `files` with the model: P(same) from the face chips of the LFW images.
class ModelScorer {
 public:
  ModelScorer(const Options& o, const cli::CommonOptions& common)
      : bundle_(load_bundle(o.model, resolve_device(common.device))),
        pipeline_(bundle_.info.preprocess, o.pipeline.yunet_model),
        lfw_(o.lfw),
        cache_dir_(cli::cache_dir(o.pipeline)),
        threads_(cli::resolve_threads(common.threads)),
        progress_(!common.quiet) {
    if (pipeline_.config().detector != bundle_.info.preprocess.detector)
      throw model_error(o.model + ": trained with the " + bundle_.info.preprocess.detector + " detector, which is not available here");
  }

  const LoadedBundle& bundle() const { return bundle_; }
  std::size_t fallbacks() const { return fallbacks_; }

  /// P(same) of every pair of each file (null entries give empty results). The images of all
  /// files are detected (cached) and embedded once.
  std::vector<std::vector<float>> score(const std::vector<const PairsFile*>& pair_files) {
    std::map<fs::path, long> row;
    std::vector<fs::path> files;
    for (const PairsFile* file : pair_files)
      for (const auto& p : file ? file->pairs : std::vector<LfwPair>{})
        for (const auto& [name, index] : {std::pair{p.name1, p.index1}, std::pair{p.name2, p.index2}}) {
          const fs::path image = lfw_image_path(lfw_, name, index);
          if (row.count(image)) continue;
          if (!fs::exists(image))
            throw input_error(file->path.string() + ":" + std::to_string(p.line) + ": image " + image.string() +
                              " not found");
          row[image] = static_cast<long>(files.size());
          files.push_back(image);
        }
    const FaceCache cache = cli::cache_faces(pipeline_, lfw_, files, cache_dir_, threads_, progress_);
    const int s = pipeline_.config().chip_size;
    auto chips = torch::empty({static_cast<long>(files.size()), s, s, 3}, torch::kUInt8);
    for (std::size_t i = 0; i < files.size(); ++i) {
      const CachedFace* face = cache.find(file_key(files[i]));
      std::vector<std::uint8_t> bytes;
      if (face && face->status == FaceStatus::Face) {
        bytes = face->chip;
      } else {
        // Disclosed policy: LFW images are centred on the face, so fall back to the centre crop.
        ++fallbacks_;
        logger()->debug("no face in {}: centre crop", files[i].string());
        bytes = chip_to_rgb_bytes(centre_chip(read_image(files[i]), pipeline_.config()));
      }
      std::memcpy(chips[static_cast<long>(i)].data_ptr<std::uint8_t>(), bytes.data(), bytes.size());
    }
    const auto t0 = std::chrono::steady_clock::now();
    auto net = bundle_.net;
    const auto device = net->parameters().front().device();
    const auto embeddings = embed_chips(net, chips, device);
    std::vector<std::vector<float>> scores;
    c10::InferenceMode inference;
    for (const PairsFile* file : pair_files) {
      if (!file) {
        scores.emplace_back();
        continue;
      }
      std::vector<long> ia, ib;
      for (const auto& p : file->pairs) {
        ia.push_back(row.at(lfw_image_path(lfw_, p.name1, p.index1)));
        ib.push_back(row.at(lfw_image_path(lfw_, p.name2, p.index2)));
      }
      const auto probs = torch::sigmoid(net->head(embeddings.index_select(0, torch::tensor(ia)).to(device),
                                                  embeddings.index_select(0, torch::tensor(ib)).to(device)))
                             .to(torch::kCPU)
                             .contiguous();
      scores.emplace_back(probs.data_ptr<float>(), probs.data_ptr<float>() + probs.numel());
    }
    embed_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return scores;
  }

  double embed_seconds() const { return embed_seconds_; }

 private:
  LoadedBundle bundle_;
  FacePipeline pipeline_;
  fs::path lfw_, cache_dir_;
  int threads_;
  bool progress_;
  std::size_t fallbacks_ = 0;
  double embed_seconds_ = 0;
};

// Refuses (or with --allow-overlap warns) when people of the pairs file were trained on.
void check_overlap(const LoadedBundle& bundle, const PairsFile& file, bool allow, nlohmann::json& report) {
  const auto& trained = bundle.info.training.value("trained_people", nlohmann::json::array());
  std::set<std::string> trained_set(trained.begin(), trained.end());
  std::size_t overlap = 0;
  std::string example;
  for (const auto& name : people_in(file))
    if (trained_set.count(name)) {
      if (!overlap++) example = name;
    }
  report["people_in_training"] = overlap;
  if (overlap == 0) return;
  const auto message = fmt::format("{} of the {} people in {} were in the model's training set (e.g. {}): the "
                                   "numbers would be optimistic; retrain with --exclude-pairs {}",
                                   overlap, people_in(file).size(), file.path.string(), example, file.path.string());
  if (!allow) throw input_error(message + " (or pass --allow-overlap)");
  logger()->warn("NOT AN HONEST EVALUATION: {}", message);
}

void write_roc_files(const fs::path& out, const PairsReport& r, const std::string& title) {
  std::ofstream csv(out / "roc.csv");
  csv << "fold,threshold,tp,fp,tn,fn,tpr,fpr\n";
  auto rows = [&](const std::string& fold, const std::vector<RocPoint>& points) {
    for (const auto& p : points)
      csv << fmt::format("{},{},{},{},{},{},{:.6f},{:.6f}\n", fold, p.threshold, p.counts.tp, p.counts.fp, p.counts.tn,
                         p.counts.fn, p.counts.recall(), p.counts.fpr());
  };
  rows("all", r.roc);
  for (std::size_t f = 0; f < r.fold_roc.size(); ++f) rows(std::to_string(f + 1), r.fold_roc[f]);

  Chart chart{title + fmt::format(" ROC (AUC {:.3f})", r.auc), "false accept rate", "true accept rate", {}};
  for (std::size_t f = 0; f < r.fold_roc.size(); ++f) {
    Series s{f == 0 ? "folds" : "", {}, {}, cv::Scalar(200, 200, 200)};
    for (const auto& p : r.fold_roc[f]) {
      s.x.push_back(p.counts.fpr());
      s.y.push_back(p.counts.recall());
    }
    chart.series.push_back(s);
  }
  Series all{"all pairs", {}, {}, kRed};
  for (const auto& p : r.roc) {
    all.x.push_back(p.counts.fpr());
    all.y.push_back(p.counts.recall());
  }
  chart.series.push_back(all);
  chart.series.push_back({"chance", {0, 1}, {0, 1}, cv::Scalar(150, 150, 150)});
  chart.x_min = chart.y_min = 0;
  chart.x_max = chart.y_max = 1;
  write_image(out / "roc.png", draw_chart(chart, 560, 520));
}

void print_report(const std::string& title, const PairsReport& r, bool view2) {
  std::cout << fmt::format("{}: {} pairs ({} impostor)\n", title, r.pairs, r.impostor_pairs);
  std::cout << fmt::format("{:>5} {:>10} {:>10}\n", "fold", "threshold", "accuracy");
  for (std::size_t f = 0; f < r.cv.accuracy.size(); ++f)
    std::cout << fmt::format("{:>5} {:>10.4f} {:>10.4f}\n", f + 1, r.cv.threshold[f], r.cv.accuracy[f]);
  std::cout << fmt::format("accuracy ({}-fold, threshold from the other folds): {:.4f} ± {:.4f} (std), ± {:.4f} "
                           "(standard error)\n",
                           r.cv.accuracy.size(), r.cv.mean, r.cv.std, r.cv.standard_error);
  if (r.fixed_accuracy)
    std::cout << fmt::format("accuracy with the threshold from the threshold file: {:.4f} (threshold {:.4f})\n",
                             *r.fixed_accuracy, r.fixed_threshold);
  std::cout << fmt::format("AUC {:.4f}   EER {:.4f} (threshold {:.4f})   TAR@FAR=1e-2 {:.4f}   TAR@FAR=1e-3 {:.4f}\n",
                           r.auc, r.eer, r.eer_threshold, r.tar_at_far_1e2, r.tar_at_far_1e3);
  if (!view2 || r.impostor_pairs < 10000)
    std::cout << fmt::format("note: {} impostor pairs cannot resolve FAR below {:.1e}\n", r.impostor_pairs,
                             1.0 / std::max<std::size_t>(1, r.impostor_pairs));
}

int run(const Options& o, const cli::CommonOptions& common) {
  if (o.pairs.empty()) throw usage_error("give --pairs FILE (LFW pairs.txt or pairsDevTest.txt)");
  if (o.scores.empty() == o.model.empty()) throw usage_error("give either --model DIR (with --lfw) or --scores FILE");
  if (!o.model.empty() && o.lfw.empty()) throw usage_error("--model needs --lfw DIR (the LFW images of the pairs)");
  const auto start = std::chrono::steady_clock::now();
  const PairsFile test = read_pairs_file(o.pairs);
  std::optional<PairsFile> threshold_file;
  if (!o.threshold_pairs.empty()) threshold_file = read_pairs_file(o.threshold_pairs);
  nlohmann::json report = {{"pairs_file", o.pairs}, {"folds_in_file", test.folds}};

  std::vector<float> test_scores, threshold_scores;
  if (!o.scores.empty()) {
    report["scorer"] = o.scores;
    test_scores = read_scores_csv(o.scores, test);
    if (threshold_file) threshold_scores = read_scores_csv(o.scores, *threshold_file);
  } else {
    ModelScorer scorer(o, common);
    report["scorer"] = o.model;
    report["model_checksum"] = scorer.bundle().checksum;
    check_overlap(scorer.bundle(), test, o.allow_overlap, report);
    auto scores = scorer.score({&test, threshold_file ? &*threshold_file : nullptr});
    test_scores = std::move(scores[0]);
    threshold_scores = std::move(scores[1]);
    report["detection_fallbacks"] = scorer.fallbacks();
    report["detection_fallback_policy"] = "centre crop of the (pre-aligned) LFW image when no face is detected";
    report["embed_and_score_seconds"] = scorer.embed_seconds();
    if (!o.write_scores.empty()) {
      std::ofstream csv(o.write_scores);
      csv << "name1,n1,name2,n2,score\n";
      for (std::size_t i = 0; i < test.pairs.size(); ++i) {
        const auto& p = test.pairs[i];
        csv << fmt::format("{},{},{},{},{:.6f}\n", p.name1, p.index1, p.name2, p.index2, test_scores[i]);
      }
    }
  }
  const ScoredPairs scored = score_pairs(test, test_scores);
  std::optional<ScoredPairs> threshold_scored;
  if (threshold_file) threshold_scored = score_pairs(*threshold_file, threshold_scores);
  const PairsReport r = pairs_report(scored, threshold_scored ? &*threshold_scored : nullptr);
  report["report"] = r;
  report["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::string title = fs::path(o.pairs).filename().string();
  if (!o.out.empty()) {
    fs::create_directories(o.out);
    write_roc_files(o.out, r, title);
    std::ofstream(fs::path(o.out) / "report.json") << report.dump(2) << "\n";
  }
  if (common.json) cli::print_json(report);
  else print_report(title, r, test.folds > 1);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  return cli::run_main(
      argc, argv,
      {"faceeval", "Accuracy reports: LFW pair protocols (View 1, View 2) for a faceid model or any scores file.",
       [&](CLI::App& app, cli::CommonOptions&) {
         app.add_option("--pairs", o.pairs, "LFW pairs file to evaluate (pairs.txt: 10 folds; pairsDevTest.txt)")
             ->check(CLI::ExistingFile);
         app.add_option("--threshold-pairs", o.threshold_pairs, "Pairs file to choose the threshold on (pairsDevTrain.txt)")
             ->check(CLI::ExistingFile);
         app.add_option("--model", o.model, "faceid model bundle folder");
         app.add_option("--lfw", o.lfw, "LFW root holding the pairs' images")->check(CLI::ExistingDirectory);
         app.add_option("--scores", o.scores, "Another system's scores: CSV name1,n1,name2,n2,score (higher = same)")
             ->check(CLI::ExistingFile);
         app.add_option("--write-scores", o.write_scores, "Also write the model's scores as such a CSV");
         app.add_option("--out", o.out, "Folder for report.json, roc.csv and roc.png");
         app.add_flag("--allow-overlap", o.allow_overlap, "Evaluate even when pair people were in training (warns)");
         cli::add_model_pipeline_options(app, o.pipeline);
       },
       [&](const cli::CommonOptions& common) { return run(o, common); }});
}
