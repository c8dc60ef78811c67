// faceeval: honest accuracy numbers (docs/design.md §7), one report per call:
//   faceeval pairs FILE       LFW View 2 / View 1 for a faceid model (-m), the LBP baseline or a
//                             scores file
//   faceeval owner DIR --strangers D   owner vs strangers with faceverify's decision rule (an owner
//                             model: side by side with the reference rule when --refs is given)
//   faceeval detect FILE.xml  face detection against hand-drawn boxes, per detector
// (The report chosen by its flags alone, --pairs/--owner/--boxes without a subcommand, still works
// for one release, with a deprecation line.)

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "../common/detection_report.hpp"
#include "eval.hpp"
#include "faceid/error.hpp"
#include "faceid/io/atomic_file.hpp"

using namespace faceid;

namespace {

// The report asked for: the subcommand, or (deprecated) the one report flag given.
std::string report_of(const eval::Options& o, const std::string& subcommand) {
  const int reports = !o.pairs.empty() + !o.owner.empty() + !o.boxes.empty();
  const std::string usage =
      "faceeval pairs FILE, faceeval owner DIR --strangers DIR or faceeval detect FILE.xml";
  if (subcommand.empty()) {
    if (reports != 1) throw usage_error("give one report: " + usage);
    const std::string report = !o.pairs.empty() ? "pairs" : !o.owner.empty() ? "owner" : "detect";
    cli::warn_deprecated("choosing the report by its flag", "faceeval " + report + " ...");
    return report;
  }
  const bool given = subcommand == "pairs"   ? !o.pairs.empty()
                     : subcommand == "owner" ? !o.owner.empty()
                                             : !o.boxes.empty();
  if (!given || reports != 1)
    throw usage_error("faceeval " + subcommand +
                      " needs its input, and no other report's: " + usage);
  return subcommand;
}

int run(const eval::Options& o, const cli::CommonOptions& common, const std::string& subcommand) {
  const std::string kind = report_of(o, subcommand);
  if (kind == "pairs") return eval::pairs_main(o, common);
  if (kind == "owner") return eval::owner_main(o, common);
  cli::PipelineOptions detectors = o.pipeline;
  detectors.preprocess.detector = "all";
  const auto report = cli::detection_report(o.boxes, detectors, o.min_iou);
  if (!o.out.empty()) {
    create_folder(o.out, "the report folder");
    write_file_atomically(std::filesystem::path(o.out) / "detection_report.json", "the report",
                          report.dump(2) + "\n");
  }
  if (common.json)
    cli::print_json(report);
  else
    cli::print_detection_report(report);
  return 0;
}

// The reports as subcommands, which take the tool's flags after them (fallthrough).
std::vector<CLI::App*> add_reports(CLI::App& app, eval::Options& o) {
  auto* pairs = app.add_subcommand("pairs", "LFW pair protocols: View 2, View 1, a scores file")
                    ->fallthrough();
  pairs->add_option("file", o.pairs, "LFW pairs file (pairs.txt: 10 folds; pairsDevTest.txt)")
      ->check(CLI::ExistingFile);
  auto* owner = app.add_subcommand("owner", "The owner's photos vs strangers")->fallthrough();
  owner->add_option("dir", o.owner, "Held-out photos of the owner (ideally another session)")
      ->check(CLI::ExistingDirectory);
  auto* detect =
      app.add_subcommand("detect", "Face detection against hand-drawn boxes")->fallthrough();
  detect->add_option("boxes", o.boxes, "dlib imglab XML with hand-drawn face boxes")
      ->check(CLI::ExistingFile);
  app.require_subcommand(0, 1);
  return {pairs, owner, detect};
}

// The pairs report's flags.
void add_pairs_flags(CLI::App& app, eval::Options& o) {
  app.add_option("--pairs", o.pairs, "pairs: the LFW pairs file (as its argument)")
      ->check(CLI::ExistingFile);
  app.add_option("--threshold-pairs", o.threshold_pairs,
                 "Pairs file to choose the threshold on (pairsDevTrain.txt)")
      ->check(CLI::ExistingFile);
  app.add_option("-m,--model", o.model, "faceid model bundle folder");
  app.add_option("--scorer", o.scorer,
                 "A classical scorer instead of a model: lbp (LBP histograms, chi-square)")
      ->check(CLI::IsMember({"lbp"}));
  app.add_option("--lfw", o.lfw, "LFW root holding the pairs' images")
      ->check(CLI::ExistingDirectory);
  app.add_option("--scores", o.scores,
                 "Another system's scores: CSV name1,n1,name2,n2,score (higher = same)")
      ->check(CLI::ExistingFile);
  app.add_option("--write-scores", o.write_scores, "Also write the pairs' scores as such a CSV");
  app.add_flag("--allow-overlap", o.allow_overlap,
               "Evaluate even when pair people were in training (warns)");
}

// The owner report's flags; returns --refs (whether it was given matters).
CLI::Option* add_owner_flags(CLI::App& app, eval::Options& o) {
  app.add_option("--owner", o.owner,
                 "Owner report: held-out photos of the owner (ideally another session)")
      ->check(CLI::ExistingDirectory);
  app.add_option("--strangers", o.strangers,
                 "Owner report: LFW-style root of strangers (people the model saw are left out)")
      ->check(CLI::ExistingDirectory);
  app.add_option("--strangers-pairs", o.strangers_pairs,
                 "Owner report: only the strangers named in this pairs file")
      ->check(CLI::ExistingFile);
  app.add_option("--max-strangers", o.max_strangers, "Owner report: stranger faces to use")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  auto* refs = app.add_option("--refs", o.refs,
                              "Owner report: the owner's reference photos (a siamese model's rule; "
                              "with an owner model, also scores the reference rule of the model it "
                              "was trained from, side by side on the same faces)")
                   ->capture_default_str();
  app.add_option("--baseline", o.baseline,
                 "Owner report with an owner model and --refs: the siamese model whose reference "
                 "rule is compared (default: the model the owner model was trained from)")
      ->needs(refs);
  app.add_option("--impostors", o.impostors,
                 "Owner report: folders of loose photos of other people (look-alikes, "
                 "family), added to the strangers whole")
      ->check(CLI::ExistingDirectory);
  app.add_option("--target-far", o.target_far, "Owner report: FAR to find thresholds for")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  return refs;
}

// The detection report's flags, and where the reports' files go.
void add_detect_flags(CLI::App& app, eval::Options& o) {
  app.add_option("--boxes", o.boxes, "Detection report: dlib imglab XML with hand-drawn face boxes")
      ->check(CLI::ExistingFile);
  app.add_option("--min-iou", o.min_iou, "Detection report: IoU for a detection to count as a hit")
      ->capture_default_str();
  app.add_option("-o,--out", o.out,
                 "Folder for the report's files (report.json, roc.csv, roc.png, histograms)");
}

}  // namespace

int main(int argc, char** argv) {
  eval::Options o;
  CLI::Option* refs_option = nullptr;
  std::vector<CLI::App*> reports;
  return cli::run_main(
      argc, argv,
      {"faceeval",
       "Accuracy reports: LFW pair protocols (View 1, View 2) for a faceid model, the LBP baseline "
       "or any scores file; owner vs strangers; face detection against hand-drawn boxes.",
       [&](CLI::App& app, cli::CommonOptions&) {
         reports = add_reports(app, o);
         add_pairs_flags(app, o);
         refs_option = add_owner_flags(app, o);
         add_detect_flags(app, o);
         cli::add_model_pipeline_options(app, o.pipeline);
       },
       [&](const cli::CommonOptions& common) {
         o.refs_given = refs_option->count() > 0;
         std::string subcommand;
         for (const auto* r : reports)
           if (r->parsed()) subcommand = r->get_name();
         return run(o, common, subcommand);
       }});
}
