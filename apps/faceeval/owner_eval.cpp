// faceeval's owner report (docs/design.md §7): faceverify's decision rule, with the model's
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
#include "faceid/error.hpp"
#include "faceid/image.hpp"
#include "faceid/io/atomic_file.hpp"
#include "faceid/io/lfw_pairs.hpp"
#include "faceid/io/sources.hpp"
#include "faceid/log.hpp"
#include "faceid/owner_report.hpp"
#include "faceid/plot.hpp"
#include "faceid/score/decision.hpp"
#include "faceid/verifier.hpp"

namespace faceid::eval {
namespace {

namespace fs = std::filesystem;

// The cached faces of `files` (detected where the cache lacks them), until `limit` were found.
FaceChips cached_faces(const FacePipeline& pipeline, const fs::path& source,
                       const std::vector<fs::path>& files, std::size_t limit, const Options& o,
                       const cli::CommonOptions& common) {
  const FaceCache cache = cli::cache_faces(pipeline, source, files, cli::cache_dir(o.pipeline),
                                           cli::resolve_threads(common.threads), !common.quiet);
  return faces_of(cache, files, limit, pipeline.config().chip_size);
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

// The side-by-side table of several systems on the same faces.
void print_comparison(const std::vector<RuleReport>& systems, const FaceChips& owner,
                      const FaceChips& strangers, const Options& o) {
  const std::size_t n_owner = owner.files.size(), n_strangers = strangers.files.size();
  auto row = [&](const std::string& name, auto cell) {
    std::string line = fmt::format("{:<24}", name);
    for (const auto& s : systems) line += fmt::format(" {:<38}", cell(s));
    std::cout << line << "\n";
  };
  row("", [](const RuleReport& s) {
    return s.label + " (" + fs::path(s.model).filename().string() + ")";
  });
  row("rule", [](const RuleReport& s) { return s.rule(); });
  row("TAR at the rule", [&](const RuleReport& s) {
    return fmt::format("{}/{} = {:.4f}", s.owner.accepted, n_owner,
                       static_cast<double>(s.owner.accepted) / n_owner);
  });
  row("FAR at the rule", [&](const RuleReport& s) {
    return fmt::format("{}/{} = {:.4f}", s.strangers.accepted, n_strangers,
                       static_cast<double>(s.strangers.accepted) / n_strangers);
  });
  row(fmt::format("TAR at FAR <= {:g}", o.target_far), [&](const RuleReport& s) {
    const auto& c = s.for_target_far.calibration;
    return fmt::format("{}/{} = {:.4f} ({} strangers)", c["owner_accepted"].get<std::size_t>(),
                       n_owner, c["tar"].get<double>(), c["strangers_accepted"].get<std::size_t>());
  });
  row("  its rule (optimistic)", [](const RuleReport& s) { return s.target_rule(); });
  row("AUC", [](const RuleReport& s) {
    return s.owner_kind() ? fmt::format("{:.4f} (P(owner))", s.auc_share)
                          : fmt::format("{:.4f} ratio / {:.4f} best", s.auc_share, s.auc_best);
  });
  row("ms per face (embed+decide)",
      [](const RuleReport& s) { return fmt::format("{:.2f}", s.ms_per_face); });
}

// The ways of deciding to score: the model's own, and for an owner model with --refs the
// reference rule of the model it came from (or --baseline), each with its references loaded.
std::vector<RuleReport> rules_to_score(const Options& o, const cli::CommonOptions& common) {
  std::vector<RuleReport> rules;
  rules.push_back({});
  rules[0].model = o.model;
  rules[0].verifier = std::make_unique<Verifier>(o.model, common.device, o.pipeline.yunet_model);
  const bool owner_kind = rules[0].owner_kind();
  rules[0].label = owner_kind ? "owner model" : "reference rule";
  std::string baseline;
  if (owner_kind) {
    if (!o.baseline.empty())
      baseline = o.baseline;
    else if (o.refs_given)
      baseline = rules[0].verifier->bundle().info.owner.from;
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
    rules.push_back({});
    rules[1].label = "reference rule";
    rules[1].model = baseline;
    rules[1].verifier = std::make_unique<Verifier>(baseline, common.device, o.pipeline.yunet_model);
    require_siamese(rules[1].verifier->bundle(), baseline, "the reference rule (--baseline)");
    if (rules[1].verifier->pipeline().config().fingerprint() !=
        rules[0].verifier->pipeline().config().fingerprint())
      throw usage_error(baseline + " and " + o.model +
                        " prepare faces differently: they cannot be compared on the same faces");
  }
  const int threads = cli::resolve_threads(common.threads);
  for (auto& r : rules) {
    r.refs = r.verifier->prepare(o.refs, cli::cache_dir(o.pipeline), threads);
    if (r.refs.needed) r.refs_folder = o.refs;
  }
  // A bundle lists its --self folders separated by "; ".
  std::error_code ec;
  for (const auto& r : rules) {
    const std::string& trained = r.verifier->bundle().info.training.self;
    for (std::size_t start = 0; start < trained.size();) {
      const std::size_t end = std::min(trained.find("; ", start), trained.size());
      if (fs::equivalent(o.owner, trained.substr(start, end - start), ec))
        logger()->warn(
            "{} is a folder {} was trained on: the TAR is optimistic; use another session", o.owner,
            r.model);
      start = end + 2;
    }
  }
  return rules;
}

// The owner's faces and the strangers' (people the models never saw, then --impostors whole).
std::pair<FaceChips, FaceChips> faces_to_score(const Options& o, const cli::CommonOptions& common,
                                               const std::vector<RuleReport>& rules,
                                               nlohmann::json& report) {
  const FacePipeline& pipeline = rules[0].verifier->pipeline();
  const auto owner_files = list_images(o.owner);
  if (owner_files.empty()) throw input_error(o.owner + ": no owner photos");
  FaceChips owner = cached_faces(pipeline, o.owner, owner_files, owner_files.size(), o, common);
  std::vector<const LoadedBundle*> bundles;
  for (const auto& r : rules) bundles.push_back(&r.verifier->bundle());
  auto candidates = stranger_files(o, bundles, common.seed, report);
  // Detection only for what is needed (LFW finds a face in ~100 % of its photos).
  const auto wanted = static_cast<std::size_t>(o.max_strangers);
  candidates.resize(std::min(candidates.size(), wanted + wanted / 10 + 10));
  FaceChips strangers = cached_faces(pipeline, o.strangers, candidates, wanted, o, common);
  std::size_t impostor_faces = 0;
  for (const auto& dir : o.impostors) {
    const auto files = list_images(dir);
    const FaceChips more = cached_faces(pipeline, dir, files, files.size(), o, common);
    impostor_faces += more.files.size();
    strangers.append(more);
  }
  if (owner.files.empty() || strangers.files.empty())
    throw input_error(fmt::format("faces found in {} owner and {} stranger photos: need both",
                                  owner.files.size(), strangers.files.size()));
  report["impostor_faces"] = impostor_faces;
  return {std::move(owner), std::move(strangers)};
}

void write_report_files(const fs::path& out, const nlohmann::json& report,
                        const std::vector<RuleReport>& rules, const FaceChips& owner,
                        const FaceChips& strangers) {
  create_folder(out, "the report folder");
  write_file_atomically(out / "owner_report.json", "the report", report.dump(2) + "\n");
  write_file_atomically(out / "owner_scores.csv", "the scores", [&](std::ostream& csv) {
    csv << "file,label";
    for (const auto& r : rules)
      csv << (r.owner_kind() ? ",p_owner,owner_model_decision"
                             : ",match_ratio,best_score,decision");
    csv << "\n";
    auto rows = [&](const FaceChips& faces, bool is_owner, const char* label) {
      for (std::size_t i = 0; i < faces.files.size(); ++i) {
        csv << faces.files[i].string() << "," << label;
        for (const auto& r : rules) {
          const Verdicts& side = is_owner ? r.owner : r.strangers;
          if (r.owner_kind())
            csv << fmt::format(",{:.6f},{}", side.share[i], side.owner[i] ? "owner" : "unknown");
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
  for (const auto& r : rules)
    for (auto& c : rule_histograms(r)) charts.push_back(c);
  write_image(out / "owner_histograms.png", hconcat_charts(charts));
}

void print_report(const nlohmann::json& report, const std::vector<RuleReport>& rules,
                  const FaceChips& owner, const FaceChips& strangers, const Options& o) {
  const RuleReport& main_rule = rules[0];
  const Thresholds& t = main_rule.verifier->thresholds();
  if (main_rule.owner_kind())
    std::cout << fmt::format("Owner report: owner model {} (from {}); owner when {}\n", o.model,
                             main_rule.verifier->bundle().info.owner.from, main_rule.rule());
  else
    std::cout << fmt::format(
        "Owner report: {} references from {} ({} capture session(s)); owner: P(same) > {:.3f} on > "
        "{:.0f}% of those of one session\n",
        main_rule.refs.used, o.refs, main_rule.refs.sessions, t.detection, t.ratio * 100);
  std::cout << fmt::format("{:<10} {:>7} {:>7} {:>9}  {}\n", "", "photos", "faces", "accepted",
                           "rate");
  std::cout << fmt::format("{:<10} {:>7} {:>7} {:>9}  TAR {:.4f} ({:.4f} of photos)\n", "owner",
                           owner.photos, owner.files.size(), main_rule.owner.accepted,
                           report["tar"].get<double>(), report["tar_of_photos"].get<double>());
  const auto impostor_faces = report["impostor_faces"].get<std::size_t>();
  std::cout << fmt::format(
      "{:<10} {:>7} {:>7} {:>9}  FAR {:.4f}{}\n", "strangers", strangers.photos,
      strangers.files.size(), main_rule.strangers.accepted, report["far"].get<double>(),
      impostor_faces
          ? fmt::format(" (the strangers include {} faces from --impostors)", impostor_faces)
          : "");
  if (main_rule.owner_kind())
    std::cout << fmt::format("accuracy {:.4f}   AUC of P(owner) {:.4f}   {:.2f} ms per face\n",
                             report["accuracy"].get<double>(), main_rule.auc_share,
                             main_rule.ms_per_face);
  else
    std::cout << fmt::format(
        "accuracy {:.4f}   AUC of the match ratio {:.4f}, of the best score {:.4f}   {:.2f} ms per "
        "face\n",
        report["accuracy"].get<double>(), main_rule.auc_share, main_rule.auc_best,
        main_rule.ms_per_face);
  std::cout << fmt::format(
      "for FAR <= {:g} on these strangers: {} -> TAR {:.4f}, FAR {:.4f} (chosen on these faces: "
      "optimistic)\n",
      o.target_far, main_rule.target_rule(),
      main_rule.for_target_far.calibration["tar"].get<double>(),
      main_rule.for_target_far.calibration["far"].get<double>());
  if (rules.size() > 1) {
    std::cout << "\nSide by side on the same faces:\n";
    print_comparison(rules, owner, strangers, o);
  }
}

}  // namespace

int owner_main(const Options& o, const cli::CommonOptions& common) {
  if (o.model.empty())
    throw usage_error(
        "faceeval owner needs -m/--model DIR (and, for a siamese model, the references in --refs)");
  if (o.strangers.empty())
    throw usage_error("faceeval owner needs --strangers DIR (e.g. the LFW root)");
  std::vector<RuleReport> rules = rules_to_score(o, common);
  const RuleReport& main_rule = rules[0];
  nlohmann::json report = {{"model", o.model},
                           {"model_checksum", main_rule.verifier->bundle().checksum},
                           {"kind", main_rule.verifier->kind()},
                           {"owner", o.owner},
                           {"strangers", o.strangers}};
  if (!main_rule.owner_kind())
    report["references"] = {
        {"folder", o.refs}, {"used", main_rule.refs.used}, {"sessions", main_rule.refs.sessions}};
  const auto [owner, strangers] = faces_to_score(o, common, rules, report);
  for (auto& r : rules) score_rule(r, owner.chips, strangers.chips, o.target_far);

  const nlohmann::json primary = rule_json(main_rule, o.target_far);
  const auto n_owner = static_cast<double>(owner.files.size());
  report["thresholds"] = primary["thresholds"];
  report["owner_photos"] = owner.photos;
  report["owner_faces"] = owner.files.size();
  report["stranger_faces"] = strangers.files.size();
  report["impostors"] = o.impostors;
  report["owner_accepted"] = main_rule.owner.accepted;
  report["strangers_accepted"] = main_rule.strangers.accepted;
  report["tar"] = static_cast<double>(main_rule.owner.accepted) / n_owner;
  report["tar_of_photos"] =
      static_cast<double>(main_rule.owner.accepted) / static_cast<double>(owner.photos);
  report["far"] = primary["far"];
  report["accuracy"] = primary["accuracy"];
  report["auc_match_ratio"] = main_rule.auc_share;
  report["auc_best_score"] = main_rule.auc_best;
  report["ms_per_face"] = main_rule.ms_per_face;
  report["for_target_far"] = primary["for_target_far"];
  report["systems"] = nlohmann::json::array();
  for (const auto& r : rules) report["systems"].push_back(rule_json(r, o.target_far));
  if (!o.out.empty()) write_report_files(o.out, report, rules, owner, strangers);
  if (common.json)
    cli::print_json(report);
  else
    print_report(report, rules, owner, strangers, o);
  return 0;
}

}  // namespace faceid::eval
