// faceeval: honest accuracy numbers (DESIGN.md §7), one report per call:
//   --pairs FILE              LFW View 2 / View 1 for a faceid model, the LBP baseline or a scores
//   file
//   --owner DIR --strangers D owner vs strangers with faceverify's decision rule (an owner model:
//                             side by side with the reference rule when --refs is given)
//   --boxes FILE.xml          face detection against hand-drawn boxes, per detector

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "../common/detection_report.hpp"
#include "eval.hpp"
#include "faceid/atomic_file.hpp"
#include "faceid/error.hpp"

using namespace faceid;

namespace {

int run(const eval::Options& o, const cli::CommonOptions& common) {
  const int reports = !o.pairs.empty() + !o.owner.empty() + !o.boxes.empty();
  if (reports != 1)
    throw usage_error(
        "give one report: --pairs FILE, --owner DIR (with --strangers) or --boxes FILE.xml");
  if (!o.pairs.empty()) return eval::pairs_main(o, common);
  if (!o.owner.empty()) return eval::owner_main(o, common);
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

}  // namespace

int main(int argc, char** argv) {
  eval::Options o;
  CLI::Option* refs_option = nullptr;
  return cli::run_main(
      argc, argv,
      {"faceeval",
       "Accuracy reports: LFW pair protocols (View 1, View 2) for a faceid model, the LBP baseline "
       "or any scores file; owner vs strangers; face detection against hand-drawn boxes.",
       [&](CLI::App& app, cli::CommonOptions&) {
         app.add_option("--pairs", o.pairs,
                        "LFW pairs file to evaluate (pairs.txt: 10 folds; pairsDevTest.txt)")
             ->check(CLI::ExistingFile);
         app.add_option("--threshold-pairs", o.threshold_pairs,
                        "Pairs file to choose the threshold on (pairsDevTrain.txt)")
             ->check(CLI::ExistingFile);
         app.add_option("--model", o.model, "faceid model bundle folder");
         app.add_option("--scorer", o.scorer,
                        "A classical scorer instead of a model: lbp (LBP histograms, chi-square)")
             ->check(CLI::IsMember({"lbp"}));
         app.add_option("--lfw", o.lfw, "LFW root holding the pairs' images")
             ->check(CLI::ExistingDirectory);
         app.add_option("--scores", o.scores,
                        "Another system's scores: CSV name1,n1,name2,n2,score (higher = same)")
             ->check(CLI::ExistingFile);
         app.add_option("--write-scores", o.write_scores,
                        "Also write the pairs' scores as such a CSV");
         app.add_flag("--allow-overlap", o.allow_overlap,
                      "Evaluate even when pair people were in training (warns)");
         app.add_option("--owner", o.owner,
                        "Owner report: held-out photos of the owner (ideally another session)")
             ->check(CLI::ExistingDirectory);
         app.add_option(
                "--strangers", o.strangers,
                "Owner report: LFW-style root of strangers (people the model saw are left out)")
             ->check(CLI::ExistingDirectory);
         app.add_option("--strangers-pairs", o.strangers_pairs,
                        "Owner report: only the strangers named in this pairs file")
             ->check(CLI::ExistingFile);
         app.add_option("--max-strangers", o.max_strangers, "Owner report: stranger faces to use")
             ->check(CLI::PositiveNumber)
             ->capture_default_str();
         auto* refs =
             app.add_option("--refs", o.refs,
                            "Owner report: the owner's reference photos (a siamese model's rule; "
                            "with an owner model, also scores the reference rule of the model it "
                            "was trained from, side by side on the same faces)")
                 ->capture_default_str();
         app.add_option(
                "--baseline", o.baseline,
                "Owner report with an owner model and --refs: the siamese model whose reference "
                "rule is compared (default: the model the owner model was trained from)")
             ->needs(refs);
         app.add_option("--impostors", o.impostors,
                        "Owner report: folders of loose photos of other people (look-alikes, "
                        "family), added to the strangers whole")
             ->check(CLI::ExistingDirectory);
         refs_option = refs;
         app.add_option("--target-far", o.target_far, "Owner report: FAR to find thresholds for")
             ->check(CLI::Range(0.0, 1.0))
             ->capture_default_str();
         app.add_option("--boxes", o.boxes,
                        "Detection report: dlib imglab XML with hand-drawn face boxes")
             ->check(CLI::ExistingFile);
         app.add_option("--min-iou", o.min_iou,
                        "Detection report: IoU for a detection to count as a hit")
             ->capture_default_str();
         app.add_option(
             "--out", o.out,
             "Folder for the report's files (report.json, roc.csv, roc.png, histograms)");
         cli::add_model_pipeline_options(app, o.pipeline);
       },
       [&](const cli::CommonOptions& common) {
         o.refs_given = refs_option->count() > 0;
         return run(o, common);
       }});
}
