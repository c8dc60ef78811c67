// faceeval's owner report (DESIGN.md §7): faceverify's decision rule, with the model's
// thresholds and references, on owner photos (ideally another session than training saw) and on
// strangers the model never saw (people it trained or validated on are left out). TAR, FAR,
// accuracy, AUC of the match ratio, histograms, and the thresholds a target FAR would need.

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iostream>
#include <random>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "eval.hpp"
#include "faceid/annotate.hpp"
#include "faceid/decision.hpp"
#include "faceid/error.hpp"
#include "faceid/lfw_pairs.hpp"
#include "faceid/log.hpp"
#include "faceid/metrics.hpp"
#include "faceid/plot.hpp"
#include "faceid/sources.hpp"
#include "faceid/verifier.hpp"

namespace faceid::eval {
namespace {

namespace fs = std::filesystem;

// The largest face of each file that has one, from the face cache.
struct Faces {
  std::vector<fs::path> files;  ///< with a face, in chip order
  torch::Tensor chips;          ///< uint8 [N, S, S, 3]
  std::size_t photos = 0;        ///< files looked at (until `limit` faces were found)
};

Faces cached_faces(const FacePipeline& pipeline, const fs::path& source, const std::vector<fs::path>& files,
                   std::size_t limit, const Options& o, const cli::CommonOptions& common) {
  const FaceCache cache = cli::cache_faces(pipeline, source, files, cli::cache_dir(o.pipeline),
                                           cli::resolve_threads(common.threads), !common.quiet);
  Faces faces;
  std::vector<const CachedFace*> found;
  for (const auto& f : files) {
    if (found.size() == limit) break;
    ++faces.photos;
    const CachedFace* face = cache.find(file_key(f));
    if (!face || face->status != FaceStatus::Face) continue;
    found.push_back(face);
    faces.files.push_back(f);
  }
  const int s = pipeline.config().chip_size;
  faces.chips = torch::empty({static_cast<long>(found.size()), s, s, 3}, torch::kUInt8);
  for (std::size_t i = 0; i < found.size(); ++i)
    std::memcpy(faces.chips[static_cast<long>(i)].data_ptr<std::uint8_t>(), found[i]->chip.data(), found[i]->chip.size());
  return faces;
}

// Stranger photos, shuffled: the person folders under --strangers without the people the model
// trained or validated on (only the people of --strangers-pairs when given); a folder of loose
// photos is taken as it is.
std::vector<fs::path> stranger_files(const Options& o, const LoadedBundle& bundle, std::uint64_t seed,
                                     nlohmann::json& report) {
  std::vector<fs::path> files = list_images(o.strangers);
  if (!files.empty()) {
    logger()->warn("{}: loose photos, not person folders: cannot check them against the model's training people",
                   o.strangers);
    report["strangers_checked_against_training"] = false;
  } else {
    std::set<std::string> seen;
    const auto& training = bundle.info.training;
    seen.insert(training.trained_people.begin(), training.trained_people.end());
    seen.insert(training.validation_people.begin(), training.validation_people.end());
    std::set<std::string> wanted;
    if (!o.strangers_pairs.empty()) wanted = people_in(read_pairs_file(o.strangers_pairs));
    std::size_t left_out = 0, people = 0;
    for (const auto& person : scan_people(o.strangers)) {
      if (!wanted.empty() && !wanted.count(person.name)) continue;
      if (seen.count(person.name)) {
        ++left_out;
        continue;
      }
      ++people;
      files.insert(files.end(), person.images.begin(), person.images.end());
    }
    report["stranger_people"] = people;
    report["stranger_people_left_out_as_seen_in_training"] = left_out;
    report["strangers_checked_against_training"] = true;
    if (bundle.info.training.validation_people.empty() && o.strangers_pairs.empty())
      logger()->warn("this model does not list its validation people (used to calibrate its thresholds); for "
                     "strangers it never saw, pass --strangers-pairs with a pairs file it was trained with "
                     "--exclude-pairs of");
  }
  if (files.empty()) throw input_error(o.strangers + ": no stranger photos left to evaluate");
  std::shuffle(files.begin(), files.end(), std::mt19937_64(seed));
  return files;
}

// Share of faces per bin of [0, 1], as a line per group.
Series histogram(const std::string& name, const std::vector<float>& values, const cv::Scalar& colour, int bins = 20) {
  Series s{name, {}, std::vector<double>(static_cast<std::size_t>(bins), 0.0), colour};
  for (int b = 0; b < bins; ++b) s.x.push_back((b + 0.5) / bins);
  for (const float v : values)
    s.y[static_cast<std::size_t>(std::clamp(static_cast<int>(v * bins), 0, bins - 1))] += 1.0 / values.size();
  return s;
}

struct Side {
  std::vector<float> share, best;
  std::vector<bool> owner;
  std::size_t accepted = 0;
};

Side decide_all(const Verifier& verifier, const std::vector<std::vector<float>>& scores) {
  Side side;
  for (const auto& row : scores) {
    const FaceVerdict v = verifier.decide(Face{}, row);
    side.share.push_back(v.share);
    side.best.push_back(v.best);
    side.owner.push_back(v.owner);
    side.accepted += v.owner;
  }
  return side;
}

}  // namespace

int owner_main(const Options& o, const cli::CommonOptions& common) {
  if (o.model.empty()) throw usage_error("--owner needs --model DIR (and the references in --refs)");
  if (o.strangers.empty()) throw usage_error("--owner needs --strangers DIR (e.g. the LFW root)");
  Verifier verifier(o.model, common.device, o.pipeline.yunet_model);
  const LoadedBundle& bundle = verifier.bundle();
  const int threads = cli::resolve_threads(common.threads);
  const ReferenceReport refs = verifier.load_references(o.refs, cli::cache_dir(o.pipeline), threads);
  nlohmann::json report = {{"model", o.model}, {"model_checksum", bundle.checksum}, {"owner", o.owner},
                           {"strangers", o.strangers}, {"references", {{"folder", o.refs}, {"used", refs.used}}}};
  std::error_code ec;
  const std::string& trained_self = bundle.info.training.self;
  if (!trained_self.empty() && fs::equivalent(o.owner, trained_self, ec))
    logger()->warn("{} is the folder the model was trained on: the TAR is optimistic; use another session", o.owner);

  const auto owner_files = list_images(o.owner);
  if (owner_files.empty()) throw input_error(o.owner + ": no owner photos");
  const Faces owner = cached_faces(verifier.pipeline(), o.owner, owner_files, owner_files.size(), o, common);
  auto candidates = stranger_files(o, bundle, common.seed, report);
  // Detection only for what is needed (LFW finds a face in ~100 % of its photos).
  const auto wanted = static_cast<std::size_t>(o.max_strangers);
  candidates.resize(std::min(candidates.size(), wanted + wanted / 10 + 10));
  const Faces strangers = cached_faces(verifier.pipeline(), o.strangers, candidates,
                                       static_cast<std::size_t>(o.max_strangers), o, common);
  if (owner.files.empty() || strangers.files.empty())
    throw input_error(fmt::format("faces found in {} owner and {} stranger photos: need both", owner.files.size(),
                                  strangers.files.size()));

  const auto owner_scores = verifier.score_chips(owner.chips);
  const auto stranger_scores = verifier.score_chips(strangers.chips);
  const Side mine = decide_all(verifier, owner_scores), theirs = decide_all(verifier, stranger_scores);
  const double tar = static_cast<double>(mine.accepted) / owner.files.size();
  const double far = static_cast<double>(theirs.accepted) / strangers.files.size();
  const double accuracy = static_cast<double>(mine.accepted + strangers.files.size() - theirs.accepted) /
                          static_cast<double>(owner.files.size() + strangers.files.size());
  std::vector<float> all_share = mine.share;
  all_share.insert(all_share.end(), theirs.share.begin(), theirs.share.end());
  std::vector<float> all_best = mine.best;
  all_best.insert(all_best.end(), theirs.best.begin(), theirs.best.end());
  std::vector<int> labels(owner.files.size(), 1);
  labels.resize(all_share.size(), 0);
  const Thresholds oracle = calibrate_owner(owner_scores, stranger_scores, o.target_far);

  const auto& t = verifier.thresholds();
  report["thresholds"] = {{"detection", t.detection}, {"ratio", t.ratio}, {"source", "model bundle"}};
  report["owner_photos"] = owner.photos;
  report["owner_faces"] = owner.files.size();
  report["stranger_faces"] = strangers.files.size();
  report["owner_accepted"] = mine.accepted;
  report["strangers_accepted"] = theirs.accepted;
  report["tar"] = tar;
  report["tar_of_photos"] = static_cast<double>(mine.accepted) / owner.photos;
  report["far"] = far;
  report["accuracy"] = accuracy;
  report["auc_match_ratio"] = auc(all_share, labels);
  report["auc_best_score"] = auc(all_best, labels);
  report["for_target_far"] = {{"target_far", o.target_far}, {"detection", oracle.detection}, {"ratio", oracle.ratio},
                              {"tar", oracle.calibration["tar"]}, {"far", oracle.calibration["far"]},
                              {"note", "chosen on these very faces: an optimistic, after-the-fact number"}};

  if (!o.out.empty()) {
    fs::create_directories(o.out);
    std::ofstream(fs::path(o.out) / "owner_report.json") << report.dump(2) << "\n";
    std::ofstream csv(fs::path(o.out) / "owner_scores.csv");
    csv << "file,label,match_ratio,best_score,decision\n";
    auto rows = [&](const Faces& faces, const Side& side, const char* label) {
      for (std::size_t i = 0; i < faces.files.size(); ++i)
        csv << fmt::format("{},{},{:.4f},{:.4f},{}\n", faces.files[i].string(), label, side.share[i], side.best[i],
                           side.owner[i] ? "owner" : "unknown");
    };
    rows(owner, mine, "owner");
    rows(strangers, theirs, "stranger");
    Chart ratio{fmt::format("Match ratio (P > {:.3f}); owner when > {:.2f}", t.detection, t.ratio), "match ratio",
                "share of faces", {histogram("owner", mine.share, kGreen), histogram("strangers", theirs.share, kRed)}};
    Chart best{"Best P(same) over the references", "P(same)", "share of faces",
               {histogram("owner", mine.best, kGreen), histogram("strangers", theirs.best, kRed)}};
    for (Chart* c : {&ratio, &best}) {
      c->x_min = c->y_min = 0;
      c->x_max = 1;
    }
    write_image(fs::path(o.out) / "owner_histograms.png", hconcat_charts({draw_chart(ratio), draw_chart(best)}));
  }
  if (common.json) {
    cli::print_json(report);
    return 0;
  }
  std::cout << fmt::format("Owner report: {} references from {}; owner: P(same) > {:.3f} on > {:.0f}% of them\n",
                           refs.used, o.refs, t.detection, t.ratio * 100);
  std::cout << fmt::format("{:<10} {:>7} {:>7} {:>9}  {}\n", "", "photos", "faces", "accepted", "rate");
  std::cout << fmt::format("{:<10} {:>7} {:>7} {:>9}  TAR {:.4f} ({:.4f} of photos)\n", "owner", owner.photos,
                           owner.files.size(), mine.accepted, tar, report["tar_of_photos"].get<double>());
  std::cout << fmt::format("{:<10} {:>7} {:>7} {:>9}  FAR {:.4f}\n", "strangers", strangers.photos,
                           strangers.files.size(), theirs.accepted, far);
  std::cout << fmt::format("accuracy {:.4f}   AUC of the match ratio {:.4f}, of the best score {:.4f}\n", accuracy,
                           report["auc_match_ratio"].get<double>(), report["auc_best_score"].get<double>());
  std::cout << fmt::format("for FAR <= {:g} on these strangers: P(same) > {:.3f} on > {:.0f}% -> TAR {:.4f}, FAR "
                           "{:.4f} (chosen on these faces: optimistic)\n",
                           o.target_far, oracle.detection, oracle.ratio * 100, oracle.calibration["tar"].get<double>(),
                           oracle.calibration["far"].get<double>());
  return 0;
}

}  // namespace faceid::eval
