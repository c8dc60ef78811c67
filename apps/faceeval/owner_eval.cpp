// faceeval's owner report (DESIGN.md §7): faceverify's decision rule, with the model's
// thresholds and references, on owner photos (ideally another session than training saw) and on
// strangers the model never saw (people it trained or validated on are left out). TAR, FAR,
// accuracy, AUC of the match ratio, histograms, and the thresholds a target FAR would need.
// An owner model (facetrain --owner-only) is scored by its P(owner) threshold; with --refs the
// reference rule of the model it was trained from (or --baseline) is scored beside it on the same
// faces: TAR at each model's own threshold, TAR at FAR <= --target-far, AUC and ms per face.

#include <algorithm>
#include <chrono>
#include <cstring>
#include <iostream>
#include <memory>
#include <random>
#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "eval.hpp"
#include "faceid/annotate.hpp"
#include "faceid/atomic_file.hpp"
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
  std::size_t photos = 0;       ///< files looked at (until `limit` faces were found)
};

Faces cached_faces(const FacePipeline& pipeline, const fs::path& source,
                   const std::vector<fs::path>& files, std::size_t limit, const Options& o,
                   const cli::CommonOptions& common) {
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
    std::memcpy(faces.chips[static_cast<long>(i)].data_ptr<std::uint8_t>(), found[i]->chip.data(),
                found[i]->chip.size());
  return faces;
}

// Stranger photos, shuffled: the person folders under --strangers without the people the model
// trained or validated on (only the people of --strangers-pairs when given); a folder of loose
// photos is taken as it is.
std::vector<fs::path> stranger_files(const Options& o,
                                     const std::vector<const LoadedBundle*>& bundles,
                                     std::uint64_t seed, nlohmann::json& report) {
  std::vector<fs::path> files = list_images(o.strangers);
  if (!files.empty()) {
    logger()->warn(
        "{}: loose photos, not person folders: cannot check them against the model's training "
        "people",
        o.strangers);
    report["strangers_checked_against_training"] = false;
  } else {
    std::set<std::string> seen;
    bool listed = true;
    for (const LoadedBundle* bundle : bundles) {
      const auto& training = bundle->info.training;
      seen.insert(training.trained_people.begin(), training.trained_people.end());
      seen.insert(training.validation_people.begin(), training.validation_people.end());
      listed = listed && !training.validation_people.empty();
    }
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
    if (!listed && o.strangers_pairs.empty())
      logger()->warn(
          "this model does not list its validation people (used to calibrate its thresholds); for "
          "strangers it never saw, pass --strangers-pairs with a pairs file it was trained with "
          "--exclude-pairs of");
  }
  if (files.empty()) throw input_error(o.strangers + ": no stranger photos left to evaluate");
  std::shuffle(files.begin(), files.end(), std::mt19937_64(seed));
  return files;
}

// Share of faces per bin of [0, 1], as a line per group.
Series histogram(const std::string& name, const std::vector<float>& values,
                 const cv::Scalar& colour, int bins = 20) {
  Series s{name, {}, std::vector<double>(static_cast<std::size_t>(bins), 0.0), colour};
  for (int b = 0; b < bins; ++b) s.x.push_back((b + 0.5) / bins);
  for (const float v : values)
    s.y[static_cast<std::size_t>(std::clamp(static_cast<int>(v * bins), 0, bins - 1))] +=
        1.0 / values.size();
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

// Appends the faces of `more` to `faces`.
void append(Faces& faces, const Faces& more) {
  faces.files.insert(faces.files.end(), more.files.begin(), more.files.end());
  faces.chips = torch::cat({faces.chips, more.chips});
  faces.photos += more.photos;
}

// One way of deciding (an owner model, or a siamese model's reference rule) on the same faces.
struct System {
  std::string label;  ///< "owner model" or "reference rule"
  std::string model;
  std::unique_ptr<Verifier> verifier;
  std::string refs_folder;
  ReferenceReport refs;
  std::vector<std::vector<float>> owner_scores, stranger_scores;
  Side mine, theirs;
  Thresholds oracle;  ///< thresholds for --target-far chosen on these faces
  double ms_per_face = 0;
  double auc_share = 0, auc_best = 0;

  bool owner_kind() const { return !verifier->needs_references(); }
  std::string rule() const {
    const Thresholds& t = verifier->thresholds();
    return owner_kind()
               ? fmt::format("P(owner) > {:.4f}", t.owner)
               : fmt::format(
                     "P(same) > {:.3f} on > {:.0f}% of {} refs{}", t.detection, t.ratio * 100,
                     refs.used,
                     refs.sessions > 1 ? fmt::format(" of one of {} sessions", refs.sessions) : "");
  }
  std::string oracle_rule() const {
    return owner_kind()
               ? fmt::format("P(owner) > {:.4f}", oracle.owner)
               : fmt::format("P(same) > {:.3f} on > {:.0f}%", oracle.detection, oracle.ratio * 100);
  }
};

std::vector<float> flat(const std::vector<std::vector<float>>& rows) {
  std::vector<float> out;
  for (const auto& r : rows) out.insert(out.end(), r.begin(), r.end());
  return out;
}

void score(System& s, const Faces& owner, const Faces& strangers, const Options& o) {
  // A warm-up batch first: the first forward of a process sets up oneDNN's kernels.
  s.verifier->score_chips(owner.chips.slice(0, 0, std::min<std::int64_t>(owner.chips.size(0), 16)));
  const auto t0 = std::chrono::steady_clock::now();
  s.owner_scores = s.verifier->score_chips(owner.chips);
  s.stranger_scores = s.verifier->score_chips(strangers.chips);
  s.ms_per_face =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() /
      static_cast<double>(owner.files.size() + strangers.files.size());
  s.mine = decide_all(*s.verifier, s.owner_scores);
  s.theirs = decide_all(*s.verifier, s.stranger_scores);
  s.oracle = s.owner_kind() ? calibrate_owner_score(flat(s.owner_scores), flat(s.stranger_scores),
                                                    o.target_far)
                            : calibrate_owner(s.owner_scores, s.stranger_scores, o.target_far);
  std::vector<float> share = s.mine.share, best = s.mine.best;
  share.insert(share.end(), s.theirs.share.begin(), s.theirs.share.end());
  best.insert(best.end(), s.theirs.best.begin(), s.theirs.best.end());
  std::vector<int> labels(owner.files.size(), 1);
  labels.resize(share.size(), 0);
  s.auc_share = auc(share, labels);
  s.auc_best = auc(best, labels);
}

nlohmann::json system_json(const System& s, const Faces& owner, const Faces& strangers,
                           const Options& o) {
  const Thresholds& t = s.verifier->thresholds();
  const double n_owner = static_cast<double>(owner.files.size()),
               n_strangers = static_cast<double>(strangers.files.size());
  nlohmann::json j = {
      {"label", s.label},
      {"model", s.model},
      {"model_checksum", s.verifier->bundle().checksum},
      {"kind", s.verifier->kind()},
      {"rule", s.rule()},
      {"owner_accepted", s.mine.accepted},
      {"strangers_accepted", s.theirs.accepted},
      {"tar", s.mine.accepted / n_owner},
      {"far", s.theirs.accepted / n_strangers},
      {"accuracy", (s.mine.accepted + n_strangers - s.theirs.accepted) / (n_owner + n_strangers)},
      {"ms_per_face", s.ms_per_face}};
  if (s.owner_kind()) {
    j["thresholds"] = {{"owner", t.owner}, {"source", "model bundle"}};
    j["auc"] = s.auc_share;
  } else {
    j["thresholds"] = {{"detection", t.detection}, {"ratio", t.ratio}, {"source", "model bundle"}};
    j["references"] = {{"folder", s.refs_folder}, {"used", s.refs.used}};
    j["auc_match_ratio"] = s.auc_share;
    j["auc_best_score"] = s.auc_best;
  }
  nlohmann::json oracle = {
      {"target_far", o.target_far},
      {"rule", s.oracle_rule()},
      {"tar", s.oracle.calibration["tar"]},
      {"far", s.oracle.calibration["far"]},
      {"owner_accepted", s.oracle.calibration["owner_accepted"]},
      {"strangers_accepted", s.oracle.calibration["strangers_accepted"]},
      {"note", "chosen on these very faces: an optimistic, after-the-fact number"}};
  if (s.owner_kind())
    oracle["owner"] = s.oracle.owner;
  else
    oracle.update({{"detection", s.oracle.detection}, {"ratio", s.oracle.ratio}});
  j["for_target_far"] = oracle;
  return j;
}

// The side-by-side table of several systems on the same faces.
void print_comparison(const std::vector<System>& systems, const Faces& owner,
                      const Faces& strangers, const Options& o) {
  const std::size_t n_owner = owner.files.size(), n_strangers = strangers.files.size();
  auto row = [&](const std::string& name, auto cell) {
    std::string line = fmt::format("{:<24}", name);
    for (const auto& s : systems) line += fmt::format(" {:<38}", cell(s));
    std::cout << line << "\n";
  };
  row("",
      [](const System& s) { return s.label + " (" + fs::path(s.model).filename().string() + ")"; });
  row("rule", [](const System& s) { return s.rule(); });
  row("TAR at the rule", [&](const System& s) {
    return fmt::format("{}/{} = {:.4f}", s.mine.accepted, n_owner,
                       static_cast<double>(s.mine.accepted) / n_owner);
  });
  row("FAR at the rule", [&](const System& s) {
    return fmt::format("{}/{} = {:.4f}", s.theirs.accepted, n_strangers,
                       static_cast<double>(s.theirs.accepted) / n_strangers);
  });
  row(fmt::format("TAR at FAR <= {:g}", o.target_far), [&](const System& s) {
    const auto& c = s.oracle.calibration;
    return fmt::format("{}/{} = {:.4f} ({} strangers)", c["owner_accepted"].get<std::size_t>(),
                       n_owner, c["tar"].get<double>(), c["strangers_accepted"].get<std::size_t>());
  });
  row("  its rule (optimistic)", [](const System& s) { return s.oracle_rule(); });
  row("AUC", [](const System& s) {
    return s.owner_kind() ? fmt::format("{:.4f} (P(owner))", s.auc_share)
                          : fmt::format("{:.4f} ratio / {:.4f} best", s.auc_share, s.auc_best);
  });
  row("ms per face (embed+decide)",
      [](const System& s) { return fmt::format("{:.2f}", s.ms_per_face); });
}

}  // namespace

int owner_main(const Options& o, const cli::CommonOptions& common) {
  if (o.model.empty())
    throw usage_error(
        "--owner needs --model DIR (and, for a siamese model, the references in --refs)");
  if (o.strangers.empty()) throw usage_error("--owner needs --strangers DIR (e.g. the LFW root)");
  const int threads = cli::resolve_threads(common.threads);
  std::vector<System> systems;
  systems.push_back({});
  systems[0].model = o.model;
  systems[0].verifier = std::make_unique<Verifier>(o.model, common.device, o.pipeline.yunet_model);
  const bool owner_kind = !systems[0].verifier->needs_references();
  systems[0].label = owner_kind ? "owner model" : "reference rule";
  std::string baseline;
  if (owner_kind) {
    if (!o.baseline.empty())
      baseline = o.baseline;
    else if (o.refs_given)
      baseline = systems[0].verifier->bundle().info.owner.from;
    if (!o.baseline.empty() && !o.refs_given)
      throw usage_error("--baseline needs --refs (the reference photos of its rule)");
    if (o.refs_given && baseline.empty())
      throw usage_error(
          o.model + ": the owner model does not say which model it came from; give --baseline DIR");
  } else if (!o.baseline.empty()) {
    throw usage_error("--baseline is for an owner model (--model); " + o.model +
                      " is a siamese model");
  }
  if (!baseline.empty()) {
    systems.push_back({});
    systems[1].label = "reference rule";
    systems[1].model = baseline;
    systems[1].verifier =
        std::make_unique<Verifier>(baseline, common.device, o.pipeline.yunet_model);
    require_siamese(systems[1].verifier->bundle(), baseline, "the reference rule (--baseline)");
    if (systems[1].verifier->pipeline().config().fingerprint() !=
        systems[0].verifier->pipeline().config().fingerprint())
      throw usage_error(baseline + " and " + o.model +
                        " prepare faces differently: they cannot be compared on the same faces");
  }
  for (auto& s : systems)
    if (s.verifier->needs_references()) {
      s.refs_folder = o.refs;
      s.refs = s.verifier->load_references(o.refs, cli::cache_dir(o.pipeline), threads);
    }
  const Verifier& verifier = *systems[0].verifier;
  const LoadedBundle& bundle = verifier.bundle();
  nlohmann::json report = {{"model", o.model},
                           {"model_checksum", bundle.checksum},
                           {"kind", verifier.kind()},
                           {"owner", o.owner},
                           {"strangers", o.strangers}};
  if (!owner_kind)
    report["references"] = {
        {"folder", o.refs}, {"used", systems[0].refs.used}, {"sessions", systems[0].refs.sessions}};
  std::error_code ec;
  for (const auto& s : systems) {
    // A bundle lists its --self folders separated by "; ".
    const std::string& trained = s.verifier->bundle().info.training.self;
    for (std::size_t start = 0; start < trained.size();) {
      const std::size_t end = std::min(trained.find("; ", start), trained.size());
      if (fs::equivalent(o.owner, trained.substr(start, end - start), ec))
        logger()->warn(
            "{} is a folder {} was trained on: the TAR is optimistic; use another session", o.owner,
            s.model);
      start = end + 2;
    }
  }

  const auto owner_files = list_images(o.owner);
  if (owner_files.empty()) throw input_error(o.owner + ": no owner photos");
  const Faces owner =
      cached_faces(verifier.pipeline(), o.owner, owner_files, owner_files.size(), o, common);
  std::vector<const LoadedBundle*> bundles;
  for (const auto& s : systems) bundles.push_back(&s.verifier->bundle());
  auto candidates = stranger_files(o, bundles, common.seed, report);
  // Detection only for what is needed (LFW finds a face in ~100 % of its photos).
  const auto wanted = static_cast<std::size_t>(o.max_strangers);
  candidates.resize(std::min(candidates.size(), wanted + wanted / 10 + 10));
  Faces strangers = cached_faces(verifier.pipeline(), o.strangers, candidates,
                                 static_cast<std::size_t>(o.max_strangers), o, common);
  std::size_t impostor_faces = 0;
  for (const auto& dir : o.impostors) {
    const auto files = list_images(dir);
    const Faces more = cached_faces(verifier.pipeline(), dir, files, files.size(), o, common);
    impostor_faces += more.files.size();
    append(strangers, more);
  }
  if (owner.files.empty() || strangers.files.empty())
    throw input_error(fmt::format("faces found in {} owner and {} stranger photos: need both",
                                  owner.files.size(), strangers.files.size()));
  for (auto& s : systems) score(s, owner, strangers, o);
  const System& main_system = systems[0];
  const Side& mine = main_system.mine;
  const Side& theirs = main_system.theirs;
  const double tar = static_cast<double>(mine.accepted) / owner.files.size();
  const double far = static_cast<double>(theirs.accepted) / strangers.files.size();

  const nlohmann::json primary = system_json(main_system, owner, strangers, o);
  report["thresholds"] = primary["thresholds"];
  report["owner_photos"] = owner.photos;
  report["owner_faces"] = owner.files.size();
  report["stranger_faces"] = strangers.files.size();
  report["impostor_faces"] = impostor_faces;
  report["impostors"] = o.impostors;
  report["owner_accepted"] = mine.accepted;
  report["strangers_accepted"] = theirs.accepted;
  report["tar"] = tar;
  report["tar_of_photos"] = static_cast<double>(mine.accepted) / owner.photos;
  report["far"] = far;
  report["accuracy"] = primary["accuracy"];
  report["auc_match_ratio"] = main_system.auc_share;
  report["auc_best_score"] = main_system.auc_best;
  report["ms_per_face"] = main_system.ms_per_face;
  report["for_target_far"] = primary["for_target_far"];
  report["systems"] = nlohmann::json::array();
  for (const auto& s : systems) report["systems"].push_back(system_json(s, owner, strangers, o));

  if (!o.out.empty()) {
    create_folder(o.out, "the report folder");
    write_file_atomically(fs::path(o.out) / "owner_report.json", "the report",
                          report.dump(2) + "\n");
    write_file_atomically(
        fs::path(o.out) / "owner_scores.csv", "the scores", [&](std::ostream& csv) {
          csv << "file,label";
          for (const auto& s : systems)
            csv << (s.owner_kind() ? ",p_owner,owner_model_decision"
                                   : ",match_ratio,best_score,decision");
          csv << "\n";
          auto rows = [&](const Faces& faces, bool is_owner, const char* label) {
            for (std::size_t i = 0; i < faces.files.size(); ++i) {
              csv << faces.files[i].string() << "," << label;
              for (const auto& s : systems) {
                const Side& side = is_owner ? s.mine : s.theirs;
                if (s.owner_kind())
                  csv << fmt::format(",{:.6f},{}", side.share[i],
                                     side.owner[i] ? "owner" : "unknown");
                else
                  csv << fmt::format(",{:.4f},{:.4f},{}", side.share[i], side.best[i],
                                     side.owner[i] ? "owner" : "unknown");
              }
              csv << "\n";
            }
          };
          rows(owner, true, "owner");
          rows(strangers, false, "stranger");
        });
    std::vector<cv::Mat> charts;
    for (const auto& s : systems) {
      const Thresholds& t = s.verifier->thresholds();
      Chart ratio{
          s.owner_kind()
              ? fmt::format("P(owner); owner when > {:.3f}", t.owner)
              : fmt::format("Match ratio (P > {:.3f}); owner when > {:.2f}", t.detection, t.ratio),
          s.owner_kind() ? "P(owner)" : "match ratio",
          "share of faces",
          {histogram("owner", s.mine.share, kGreen), histogram("strangers", s.theirs.share, kRed)}};
      ratio.x_min = ratio.y_min = 0;
      ratio.x_max = 1;
      charts.push_back(draw_chart(ratio));
      if (s.owner_kind()) continue;
      Chart best{
          "Best P(same) over the references",
          "P(same)",
          "share of faces",
          {histogram("owner", s.mine.best, kGreen), histogram("strangers", s.theirs.best, kRed)}};
      best.x_min = best.y_min = 0;
      best.x_max = 1;
      charts.push_back(draw_chart(best));
    }
    write_image(fs::path(o.out) / "owner_histograms.png", hconcat_charts(charts));
  }
  if (common.json) {
    cli::print_json(report);
    return 0;
  }
  if (owner_kind)
    std::cout << fmt::format("Owner report: owner model {} (from {}); owner when {}\n", o.model,
                             bundle.info.owner.from, main_system.rule());
  else
    std::cout << fmt::format(
        "Owner report: {} references from {} ({} capture session(s)); owner: P(same) > {:.3f} on > "
        "{:.0f}% of those of one session\n",
        main_system.refs.used, o.refs, main_system.refs.sessions, verifier.thresholds().detection,
        verifier.thresholds().ratio * 100);
  std::cout << fmt::format("{:<10} {:>7} {:>7} {:>9}  {}\n", "", "photos", "faces", "accepted",
                           "rate");
  std::cout << fmt::format("{:<10} {:>7} {:>7} {:>9}  TAR {:.4f} ({:.4f} of photos)\n", "owner",
                           owner.photos, owner.files.size(), mine.accepted, tar,
                           report["tar_of_photos"].get<double>());
  std::cout << fmt::format(
      "{:<10} {:>7} {:>7} {:>9}  FAR {:.4f}{}\n", "strangers", strangers.photos,
      strangers.files.size(), theirs.accepted, far,
      impostor_faces
          ? fmt::format(" (the strangers include {} faces from --impostors)", impostor_faces)
          : "");
  if (owner_kind)
    std::cout << fmt::format("accuracy {:.4f}   AUC of P(owner) {:.4f}   {:.2f} ms per face\n",
                             primary["accuracy"].get<double>(), main_system.auc_share,
                             main_system.ms_per_face);
  else
    std::cout << fmt::format(
        "accuracy {:.4f}   AUC of the match ratio {:.4f}, of the best score {:.4f}   {:.2f} ms per "
        "face\n",
        primary["accuracy"].get<double>(), main_system.auc_share, main_system.auc_best,
        main_system.ms_per_face);
  std::cout << fmt::format(
      "for FAR <= {:g} on these strangers: {} -> TAR {:.4f}, FAR {:.4f} (chosen on these faces: "
      "optimistic)\n",
      o.target_far, main_system.oracle_rule(), main_system.oracle.calibration["tar"].get<double>(),
      main_system.oracle.calibration["far"].get<double>());
  if (systems.size() > 1) {
    std::cout << "\nSide by side on the same faces:\n";
    print_comparison(systems, owner, strangers, o);
  }
  return 0;
}

}  // namespace faceid::eval
