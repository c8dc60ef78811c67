// faceeval's pairs report (docs/design.md §7): LFW View 2 (10 folds) and View 1 (threshold from
// DevTrain, or 10-fold CV) for a faceid model, the LBP baseline, or any other system's scores.

#include <chrono>
#include <cstring>
#include <functional>
#include <iostream>
#include <map>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "eval.hpp"
#include "faceid/align.hpp"
#include "faceid/annotate.hpp"
#include "faceid/bundle/bundle.hpp"
#include "faceid/error.hpp"
#include "faceid/image.hpp"
#include "faceid/io/atomic_file.hpp"
#include "faceid/io/sources.hpp"
#include "faceid/lbp.hpp"
#include "faceid/log.hpp"
#include "faceid/plot.hpp"
#include "faceid/score/pair_report.hpp"

namespace faceid::eval {
namespace {

namespace fs = std::filesystem;

// The chips of every image the pairs files name, from the face cache. Disclosed policy: when no
// face is found, the centre crop of the (pre-aligned) LFW image is used, and counted.
struct PairImages {
  std::map<fs::path, long> row;
  torch::Tensor chips;  ///< uint8 [N, S, S, 3], RGB
  std::size_t fallbacks = 0;
};

PairImages gather_images(const std::vector<const PairsFile*>& pair_files, const fs::path& lfw,
                         const FacePipeline& pipeline, const fs::path& cache_dir, int threads,
                         bool progress) {
  PairImages images;
  std::vector<fs::path> files;
  for (const PairsFile* file : pair_files)
    for (const auto& p : file ? file->pairs : std::vector<LfwPair>{})
      for (const auto& [name, index] :
           {std::pair{p.name1, p.index1}, std::pair{p.name2, p.index2}}) {
        const fs::path image = lfw_image_path(lfw, name, index);
        if (images.row.count(image)) continue;
        if (!fs::exists(image))
          throw input_error(file->path.string() + ":" + std::to_string(p.line) + ": image " +
                            image.string() + " not found");
        images.row[image] = static_cast<long>(files.size());
        files.push_back(image);
      }
  const FaceCache cache = cli::cache_faces(pipeline, lfw, files, cache_dir, threads, progress);
  const int s = pipeline.config().chip_size;
  images.chips = torch::empty({static_cast<long>(files.size()), s, s, 3}, torch::kUInt8);
  for (std::size_t i = 0; i < files.size(); ++i) {
    const CachedFace* face = cache.find(file_key(files[i]));
    std::vector<std::uint8_t> bytes;
    if (face && face->status == FaceStatus::Face) {
      bytes = face->chip;
    } else {
      ++images.fallbacks;
      logger()->debug("no face in {}: centre crop", files[i].string());
      bytes = chip_to_rgb_bytes(centre_chip(read_image(files[i]), pipeline.config()));
    }
    std::memcpy(images.chips[static_cast<long>(i)].data_ptr<std::uint8_t>(), bytes.data(),
                bytes.size());
  }
  return images;
}

// Scores (higher = same) of pairs given as two lists of chip rows.
using PairScorer =
    std::function<std::vector<float>(const std::vector<long>& a, const std::vector<long>& b)>;

// A faceid model: every chip embedded once, then the model's score per pair.
PairScorer model_scorer(const LoadedBundle& bundle, const torch::Tensor& chips) {
  auto net = bundle.net;
  const auto device = net->parameters().front().device();
  const auto embeddings = embed_chips(net, chips, device);
  return [net, device, embeddings](const std::vector<long>& a, const std::vector<long>& b) mutable {
    c10::InferenceMode inference;
    const auto p = net->score(embeddings.index_select(0, torch::tensor(a)).to(device),
                              embeddings.index_select(0, torch::tensor(b)).to(device))
                       .to(torch::kCPU)
                       .contiguous();
    return std::vector<float>(p.data_ptr<float>(), p.data_ptr<float>() + p.numel());
  };
}

// The classical baseline: minus the chi-square distance of root-LBP histograms (8x8 cells) of
// the central 80 % of the same chips (less hair and background). These settings were the best of
// a few tried on pairsDevTrain (View 1's training split), not on View 2.
PairScorer lbp_scorer(const torch::Tensor& chips) {
  std::vector<std::vector<float>> descriptors;
  const int s = static_cast<int>(chips.size(1)), margin = s / 10;
  const cv::Rect centre(margin, margin, s - 2 * margin, s - 2 * margin);
  for (long i = 0; i < chips.size(0); ++i) {
    const auto* data = chips[i].data_ptr<std::uint8_t>();
    descriptors.push_back(lbp_descriptor(rgb_bytes_to_chip({data, data + s * s * 3}, s)(centre)));
  }
  return [descriptors = std::move(descriptors)](const std::vector<long>& a,
                                                const std::vector<long>& b) {
    std::vector<float> out;
    for (std::size_t i = 0; i < a.size(); ++i)
      out.push_back(-chi_square(descriptors[static_cast<std::size_t>(a[i])],
                                descriptors[static_cast<std::size_t>(b[i])]));
    return out;
  };
}

std::vector<float> score_file(const PairsFile& file, const fs::path& lfw, const PairImages& images,
                              const PairScorer& scorer) {
  std::vector<long> a, b;
  for (const auto& p : file.pairs) {
    a.push_back(images.row.at(lfw_image_path(lfw, p.name1, p.index1)));
    b.push_back(images.row.at(lfw_image_path(lfw, p.name2, p.index2)));
  }
  return scorer(a, b);
}

void write_scores_csv(const fs::path& file, const PairsFile& pairs,
                      const std::vector<float>& scores) {
  write_file_atomically(file, "the scores", [&](std::ostream& csv) {
    csv << "name1,n1,name2,n2,score\n";
    for (std::size_t i = 0; i < pairs.pairs.size(); ++i) {
      const auto& p = pairs.pairs[i];
      csv << fmt::format("{},{},{},{},{:.6f}\n", p.name1, p.index1, p.name2, p.index2, scores[i]);
    }
  });
}

// Refuses (or with --allow-overlap warns) when people of the pairs file were trained on.
void check_overlap(const LoadedBundle& bundle, const PairsFile& file, bool allow,
                   nlohmann::json& report) {
  const auto& trained = bundle.info.training.trained_people;
  const std::set<std::string> trained_set(trained.begin(), trained.end());
  std::size_t overlap = 0;
  std::string example;
  for (const auto& name : people_in(file))
    if (trained_set.count(name)) {
      if (!overlap++) example = name;
    }
  report["people_in_training"] = overlap;
  if (overlap == 0) return;
  const auto message = fmt::format(
      "{} of the {} people in {} were in the model's training set (e.g. {}): the numbers would be "
      "optimistic; retrain with --exclude-pairs {}",
      overlap, people_in(file).size(), file.path.string(), example, file.path.string());
  if (!allow) throw input_error(message + " (or pass --allow-overlap)");
  logger()->warn("NOT AN HONEST EVALUATION: {}", message);
}

void write_roc_files(const fs::path& out, const PairsReport& r, const std::string& title) {
  write_file_atomically(out / "roc.csv", "the ROC curve", [&](std::ostream& csv) {
    csv << "fold,threshold,tp,fp,tn,fn,tpr,fpr\n";
    auto rows = [&](const std::string& fold, const std::vector<RocPoint>& points) {
      for (const auto& p : points)
        csv << fmt::format("{},{},{},{},{},{},{:.6f},{:.6f}\n", fold, p.threshold, p.counts.tp,
                           p.counts.fp, p.counts.tn, p.counts.fn, p.counts.recall(),
                           p.counts.fpr());
    };
    rows("all", r.roc);
    for (std::size_t f = 0; f < r.fold_roc.size(); ++f) rows(std::to_string(f + 1), r.fold_roc[f]);
  });

  Chart chart{
      title + fmt::format(" ROC (AUC {:.3f})", r.auc), "false accept rate", "true accept rate", {}};
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
    std::cout << fmt::format("{:>5} {:>10.4f} {:>10.4f}\n", f + 1, r.cv.threshold[f],
                             r.cv.accuracy[f]);
  std::cout << fmt::format(
      "accuracy ({}-fold, threshold from the other folds): {:.4f} ± {:.4f} (std), ± {:.4f} "
      "(standard error)\n",
      r.cv.accuracy.size(), r.cv.mean, r.cv.std, r.cv.standard_error);
  if (r.fixed_accuracy)
    std::cout << fmt::format(
        "accuracy with the threshold from the threshold file: {:.4f} (threshold {:.4f})\n",
        *r.fixed_accuracy, r.fixed_threshold);
  std::cout << fmt::format(
      "AUC {:.4f}   EER {:.4f} (threshold {:.4f})   TAR@FAR=1e-2 {:.4f}   TAR@FAR=1e-3 {:.4f}\n",
      r.auc, r.eer, r.eer_threshold, r.tar_at_far_1e2, r.tar_at_far_1e3);
  if (!view2 || r.impostor_pairs < 10000)
    std::cout << fmt::format("note: {} impostor pairs cannot resolve FAR below {:.1e}\n",
                             r.impostor_pairs, 1.0 / std::max<std::size_t>(1, r.impostor_pairs));
}

// The pairs' scores from their LFW images: a faceid model's (-m) or the LBP baseline's.
void score_images(const Options& o, const cli::CommonOptions& common, const PairsFile& test,
                  const std::optional<PairsFile>& threshold_file, nlohmann::json& report,
                  std::vector<float>& test_scores, std::vector<float>& threshold_scores) {
  std::optional<LoadedBundle> bundle;
  PreprocessConfig preprocess = o.pipeline.preprocess;
  if (!o.model.empty()) {
    bundle = load_bundle(o.model, resolve_device(common.device));
    require_siamese(*bundle, o.model, "faceeval pairs");
    preprocess = bundle->info.preprocess;
    report["scorer"] = o.model;
    report["model_checksum"] = bundle->checksum;
    // LFW's protocols: a model that started from weights trained on other faces used labelled
    // outside data; facetrain's own training uses LFW's identity labels.
    const auto& pretrained = bundle->info.training.pretrained;
    report["protocol"] = pretrained.empty()
                             ? "unrestricted, no outside data"
                             : "unrestricted, labeled outside data (started from " +
                                   pretrained.value("package", std::string("a pretrained model")) +
                                   ")";
    check_overlap(*bundle, test, o.allow_overlap, report);
  } else {
    report["scorer"] =
        "lbp: uniform LBP(8,1) root histograms, 8x8 cells of the central 80% of the aligned "
        "chip, minus chi-square distance";
  }
  const FacePipeline pipeline(preprocess, o.pipeline.yunet_model);
  if (bundle && pipeline.config().detector != preprocess.detector)
    throw model_error(o.model + ": trained with the " + preprocess.detector +
                      " detector, which is not available here");
  const std::vector<const PairsFile*> files = {&test, threshold_file ? &*threshold_file : nullptr};
  const PairImages images = gather_images(files, o.lfw, pipeline, cli::cache_dir(o.pipeline),
                                          cli::resolve_threads(common.threads), !common.quiet);
  const auto t0 = std::chrono::steady_clock::now();
  const PairScorer scorer = bundle ? model_scorer(*bundle, images.chips) : lbp_scorer(images.chips);
  test_scores = score_file(test, o.lfw, images, scorer);
  if (threshold_file) threshold_scores = score_file(*threshold_file, o.lfw, images, scorer);
  report["detector"] = pipeline.config().detector;
  report["detection_fallbacks"] = images.fallbacks;
  report["detection_fallback_policy"] =
      "centre crop of the (pre-aligned) LFW image when no face is detected";
  report["score_seconds"] =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int pairs_main(const Options& o, const cli::CommonOptions& common) {
  const int scorers = !o.model.empty() + !o.scorer.empty() + !o.scores.empty();
  if (scorers != 1) throw usage_error("give one of --model DIR, --scorer lbp or --scores FILE");
  if (o.scores.empty() && o.lfw.empty())
    throw usage_error("--model and --scorer need --lfw DIR (the LFW images of the pairs)");
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
    score_images(o, common, test, threshold_file, report, test_scores, threshold_scores);
    if (!o.write_scores.empty()) write_scores_csv(o.write_scores, test, test_scores);
  }
  const ScoredPairs scored = score_pairs(test, test_scores);
  std::optional<ScoredPairs> threshold_scored;
  if (threshold_file) threshold_scored = score_pairs(*threshold_file, threshold_scores);
  const PairsReport r = pairs_report(scored, threshold_scored ? &*threshold_scored : nullptr);
  report["report"] = r;
  report["seconds"] =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::string title = fs::path(o.pairs).filename().string();
  if (!o.out.empty()) {
    create_folder(o.out, "the report folder");
    write_roc_files(o.out, r, title);
    write_file_atomically(fs::path(o.out) / "report.json", "the report", report.dump(2) + "\n");
  }
  if (common.json)
    cli::print_json(report);
  else {
    if (report.contains("protocol"))
      std::cout << "LFW protocol: " << report["protocol"].get<std::string>() << "\n";
    print_report(title, r, test.folds > 1);
  }
  return 0;
}

}  // namespace faceid::eval
