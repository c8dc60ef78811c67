// faceverify: find the owner in photos, folders of photos and videos (docs/design.md §6). Every
// face is embedded once and compared with the owner's cached reference embeddings through the
// model's head; the seed's rule with the bundle's calibrated thresholds decides. The owner gets a
// green box, everybody else a red one, each with its match ratio; a face too small or too blurred
// to judge is "unsure" (amber), with the reason in --json. An owner model (facetrain --owner-only)
// needs no references: one embedding and the owner head per face, P(owner) against its threshold.
//
// Exit codes (docs/design.md §9): 0 the owner was found, 1 no owner (or no face), 2 usage, 3 an
// input could not be read (the others are still processed), 4 model.

#include <chrono>
#include <iostream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "../common/cli.hpp"
#include "../common/verdicts.hpp"
#include "faceid/error.hpp"
#include "faceid/log.hpp"
#include "faceid/verifier.hpp"
#include "jobs.hpp"

using namespace faceid;
using namespace faceid::faceverify;

namespace {

int run(const Options& o, const cli::CommonOptions& common) {
  if (o.csv && common.json) throw usage_error("--csv and --json: choose one");
  if (o.every < 1) throw usage_error("--every must be at least 1");
  const auto start = std::chrono::steady_clock::now();
  const auto jobs = plan(o);
  Verifier verifier(o.model, common.device, o.pipeline.yunet_model);
  verifier.override_thresholds(o.threshold, o.ratio);
  cli::apply_unsure_options(o.unsure, verifier.thresholds());
  cli::ProgressBar ref_bar("references", !common.quiet);
  const ReferenceReport refs =
      verifier.prepare(o.refs, cli::cache_dir(o.pipeline), cli::resolve_threads(common.threads),
                       [&](std::size_t d, std::size_t t) { ref_bar.update(d, t); });
  ref_bar.finish();
  if (!refs.needed && o.refs_option->count() > 0)
    logger()->warn("{} is an owner model: it needs no reference photos; --refs {} is not used",
                   o.model, o.refs);

  JobRunner runner(o, common, verifier);
  nlohmann::json results = nlohmann::json::array();
  std::size_t failures = 0, owners = 0;
  cli::ProgressBar bar("images", !common.quiet && jobs.size() > 1 && (common.json || o.csv));
  for (const auto& job : jobs) {
    nlohmann::json entry = {{"path", job.input.string()}};
    try {
      owners += job.video ? runner.video(job, entry) : runner.image(job, entry);
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::Input || jobs.size() == 1) throw;
      ++failures;
      entry["error"] = e.what();
      logger()->warn("skipped {}", e.what());
    }
    results.push_back(std::move(entry));
    bar.update(results.size(), jobs.size());
  }
  bar.finish();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (common.json) {
    nlohmann::json doc = cli::model_header_json(o.model, verifier, o.refs, refs);
    doc["images"] = results;
    doc["summary"] = {{"inputs", jobs.size()},
                      {"with_owner", owners},
                      {"faces", runner.faces()},
                      {"unreadable", failures},
                      {"seconds", seconds}};
    cli::print_json(doc);
  } else if (!o.csv && jobs.size() > 1) {
    std::cout << fmt::format("{} input(s): owner in {}, {} face(s), {} unreadable; {:.1f}s\n",
                             jobs.size(), owners, runner.faces(), failures, seconds);
  }
  if (failures > 0) return static_cast<int>(ErrorKind::Input);
  return owners > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  return cli::run_main(
      argc, argv,
      {"faceverify",
       "Find the owner's face in photos, folders and videos; faces too small or blurred to judge "
       "are 'unsure'. Exit 0: owner found, 1: no owner or no face, 3: an input could not be read.",
       [&](CLI::App& app, cli::CommonOptions&) {
         app.add_option("inputs", o.inputs, "Images, folders of images, or videos")->required();
         app.add_option(
             "-o,--out", o.output,
             "Annotated picture/video (one input) or folder (several inputs or a folder)");
         cli::add_old_spelling(app, "--output", "-o/--out", o.output);
         app.add_option("-m,--model", o.model, "Model bundle folder (from facetrain)")
             ->capture_default_str();
         o.refs_option = app.add_option("--refs", o.refs,
                                        "Folder of the owner's reference photos (siamese models; "
                                        "an owner model, from facetrain --owner-only, needs none)")
                             ->capture_default_str();
         cli::add_threshold_options(app, o.threshold, o.ratio);
         app.add_flag(
             "--csv", o.csv,
             "Print path,owner|unknown_person|unsure,match_ratio per face (path,no_persons_found)");
         app.add_option("--every", o.every,
                        "Videos: verify every Nth frame (all frames are written)")
             ->capture_default_str();
         cli::add_unsure_options(app, o.unsure);
         cli::add_model_pipeline_options(app, o.pipeline);
       },
       [&](const cli::CommonOptions& common) { return run(o, common); }});
}
