// faceenroll: the owner's faces found in a photo library nobody labelled (docs/enrol.md):
//   faceenroll scan LIBRARY --seeds DIR   every face detected, embedded and grouped into people;
//                                         the owner's proposed by capture day: proposal.json and
//                                         a contact sheet per day in -o (nothing else is written)
//   faceenroll confirm PROPOSAL.json --into DIR [--untick ID...]
//                                         writes DIR/<day>/ (facetrain --self sessions) and
//                                         DIR/references/<day>/ (faceverify --refs)
//   faceenroll undo DIR                   removes exactly what confirm wrote
// faceserve --library shows the same proposal as a page to tick and confirm.
//
// Exit codes (docs/design.md §9): 0 done, 1 no face of the library matches the seeds, 2 usage (an
// empty seeds folder too), 3 input, 4 model, 130 Ctrl-C (the photos detected so far are kept: the
// next scan carries on).

#include <algorithm>
#include <atomic>
#include <cctype>
#include <csignal>
#include <fstream>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "../common/cli.hpp"
#include "../common/preprocess_options.hpp"
#include "../common/verdicts.hpp"
#include "faceid/annotate.hpp"
#include "faceid/enrol.hpp"
#include "faceid/error.hpp"
#include "faceid/io/atomic_file.hpp"
#include "faceid/io/sources.hpp"
#include "faceid/verifier.hpp"

using namespace faceid;
namespace fs = std::filesystem;

namespace {

std::atomic<bool> g_stop{false};

void on_sigint(int) {
  g_stop = true;
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C ends the process at once
}

struct Options {
  std::string library, seeds, model = "models/me", out = "enrol", cluster = "average";
  std::optional<float> cut, threshold, ratio;
  std::string proposal, into, undo;
  std::vector<int> untick, negatives;
  int references = 10;
  double target_far = 1e-4;
  cli::PipelineOptions pipeline;
};

// A contact sheet's name as scan writes it: "YYYY-MM-DD.png" or "unknown.png".
bool is_day_sheet(const std::string& name) {
  if (name == "unknown.png") return true;
  return name.size() == 14 && name.compare(10, 4, ".png") == 0 && name[4] == '-' &&
         name[7] == '-' && std::all_of(name.begin(), name.begin() + 10, [](char c) {
           return std::isdigit(static_cast<unsigned char>(c)) || c == '-';
         });
}

void print_proposal(const Proposal& p, const fs::path& out) {
  const LibraryScan& s = p.scan;
  std::cout << fmt::format(
      "{} photos ({} detected now, {} from the cache; {} unreadable, {} without a face): {} faces "
      "in {} groups ({} clustering, cut {:.3f}); {:.1f} s detecting, {:.1f} s embedding, {:.1f} s "
      "grouping\n",
      s.photos, s.detected, s.from_cache, s.unreadable, s.no_face, s.faces, p.groups.size(),
      p.method, p.cut, s.detect_seconds, s.embed_seconds, s.cluster_seconds);
  for (const auto& f : s.unreadable_files) std::cout << "  skipped: " << f << "\n";
  std::cout << fmt::format("the owner ({} seed faces; {}): {} faces on {} day(s)\n", p.seed_faces,
                           p.rule, p.owner_faces(), p.days.size());
  for (const auto& d : p.days)
    std::cout << fmt::format("  {}  {:4d} faces  date from {:<9}  {}\n", d.day, d.faces.size(),
                             d.taken_from, (out / "days" / (d.day + ".png")).string());
  int listed = 0;
  for (const auto& g : p.groups) {
    if (g.owner || g.faces.size() < 2) continue;
    if (listed++ == 0) std::cout << "other people, largest first:\n";
    if (listed > 8) break;
    std::cout << fmt::format("  person {:<4d} {:4d} faces, {:.0f}% matching the seeds\n", g.id,
                             g.faces.size(), 100 * g.matching);
  }
}

int scan(const Options& o, const cli::CommonOptions& common) {
  if (o.seeds.empty()) throw usage_error("--seeds DIR is required: a few photos of yourself");
  require_outside_library(o.library, o.out);  // -o: the sheets would be scanned as photos
  Verifier verifier(o.model, common.device, o.pipeline.yunet_model);
  verifier.override_thresholds(o.threshold, o.ratio);
  cli::ProgressBar bar("photos", !common.quiet);
  EnrolOptions options;
  options.library = o.library;
  options.seeds = o.seeds;
  options.cache_dir = cli::cache_dir(o.pipeline);
  options.threads = cli::resolve_threads(common.threads);
  options.method = o.cluster;
  options.cut = o.cut;
  options.target_far = o.target_far;
  options.progress = [&](std::size_t d, std::size_t t) { bar.update(d, t); };
  options.stop = &g_stop;
  std::signal(SIGINT, on_sigint);
  Proposal p;
  try {
    p = propose_enrolment(verifier, options);
  } catch (const ScanStopped& e) {
    bar.finish();
    std::cerr << "interrupted: " << e.what() << "\n";
    return 130;
  }
  std::signal(SIGINT, SIG_DFL);
  bar.finish();
  const fs::path out = o.out;
  const nlohmann::json doc = proposal_json(p);
  create_folder(out / "days", "the proposal folder");
  write_file_atomically(out / "proposal.json", "the proposal", doc.dump(1) + "\n");
  for (const auto& old : list_images(out / "days"))  // an earlier scan's sheets, only those
    if (is_day_sheet(old.filename().string())) fs::remove(old);
  for (const auto& d : p.days) write_image(out / "days" / (d.day + ".png"), day_sheet(p, d));
  if (common.json)
    cli::print_json(doc);
  else
    print_proposal(p, out);
  if (p.days.empty()) {
    std::cerr << fmt::format(
        "faceenroll: no face of {} matches the seeds ({} faces in {} groups; {})\n", o.library,
        p.faces.size(), p.groups.size(), p.rule);
    return 1;
  }
  if (!common.json)
    std::cout << fmt::format("review the sheets, then: faceenroll confirm {} --into DIR\n",
                             (out / "proposal.json").string());
  return 0;
}

Proposal read_proposal(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw input_error(file.string() + ": cannot read the proposal");
  try {
    return proposal_from_json(nlohmann::json::parse(in));
  } catch (const nlohmann::json::exception& e) {
    throw input_error(file.string() + ": not JSON: " + e.what());
  } catch (const Error& e) {
    throw input_error(file.string() + ": " + e.what());
  }
}

int confirm(const Options& o, const cli::CommonOptions& common) {
  if (o.into.empty()) throw usage_error("--into DIR is required: where the enrolled faces go");
  const Proposal p = read_proposal(o.proposal);
  std::vector<int> ticked;
  for (const auto& d : p.days)
    for (int id : d.faces)
      if (std::find(o.untick.begin(), o.untick.end(), id) == o.untick.end()) ticked.push_back(id);
  for (int id : o.untick)  // a mistyped id would enrol the face meant
    if (std::none_of(p.days.begin(), p.days.end(), [&](const OwnerDay& d) {
          return std::find(d.faces.begin(), d.faces.end(), id) != d.faces.end();
        }))
      throw usage_error("--untick " + std::to_string(id) + ": not one of the proposed faces");
  const Enrolment e = confirm_enrolment(p, ticked, o.into, o.references, o.negatives);
  if (common.json) {
    cli::print_json({{"into", o.into},
                     {"faces", e.faces},
                     {"days", e.days},
                     {"references", e.references},
                     {"negatives", e.negatives},
                     {"files", e.files}});
  } else {
    std::cout << fmt::format(
        "enrolled {} faces of {} day(s) into {}: one folder per day, {} of them in {}/references"
        "{} (undo: faceenroll undo {})\n",
        e.faces, e.days, o.into, e.references, o.into,
        e.negatives ? fmt::format("; {} faces of other people in {}/negatives", e.negatives, o.into)
                    : "",
        o.into);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App *scan_cmd = nullptr, *confirm_cmd = nullptr, *undo_cmd = nullptr;
  return cli::run_main(
      argc, argv,
      {"faceenroll",
       "Find the owner's faces in a photo library: group every face into people, propose the "
       "owner's by capture day for review, then write them as training sessions and references.",
       [&](CLI::App& app, cli::CommonOptions&) {
         scan_cmd =
             app.add_subcommand("scan", "Propose the owner's faces of a library")->fallthrough();
         scan_cmd
             ->add_option("library", o.library, "The photo library (folders, recursive; only read)")
             ->check(CLI::ExistingDirectory)
             ->required();
         confirm_cmd = app.add_subcommand("confirm", "Write the proposed faces, less the unticked")
                           ->fallthrough();
         confirm_cmd->add_option("proposal", o.proposal, "proposal.json of faceenroll scan")
             ->check(CLI::ExistingFile)
             ->required();
         undo_cmd = app.add_subcommand("undo", "Remove what confirm wrote")->fallthrough();
         undo_cmd->add_option("dir", o.undo, "The enrolment folder")->required();
         app.require_subcommand(1, 1);
         app.add_option("--seeds", o.seeds,
                        "scan: a few photos of the owner (the largest face of each)");
         app.add_option("-m,--model", o.model, "Model bundle folder (from facetrain)")
             ->capture_default_str();
         app.add_option("-o,--out", o.out, "scan: folder for proposal.json and days/<day>.png")
             ->capture_default_str();
         app.add_option("--cluster", o.cluster, "scan: how faces are grouped into people")
             ->check(CLI::IsMember({"average", "whispers"}))
             ->capture_default_str();
         app.add_option("--cut", o.cut,
                        "scan: faces are neighbours above this score (default: the seeds' fitted "
                        "detection threshold)")
             ->check(CLI::Range(0.0, 1.0));
         app.add_option("--target-far", o.target_far,
                        "scan: the false-accept rate the rule against the seeds is fitted for")
             ->check(CLI::Range(1e-6, 0.1))
             ->capture_default_str();
         cli::add_threshold_options(app, o.threshold, o.ratio);
         app.add_option("--into", o.into, "confirm: the enrolment folder");
         app.add_option("--untick", o.untick, "confirm: face ids to leave out (proposal.json)");
         app.add_option("--negatives", o.negatives,
                        "confirm: other people's groups (scan's 'person N') to write as "
                        "INTO/negatives/person-N/ for facetrain --negatives");
         app.add_option("--references", o.references, "confirm: references per day")
             ->check(CLI::PositiveNumber)
             ->capture_default_str();
         cli::add_model_pipeline_options(app, o.pipeline);
       },
       [&](const cli::CommonOptions& common) {
         if (scan_cmd->parsed()) return scan(o, common);
         if (confirm_cmd->parsed()) return confirm(o, common);
         const std::size_t removed = undo_enrolment(o.undo);
         if (common.json)
           cli::print_json({{"removed", removed}});
         else
           std::cout << fmt::format("removed the {} files of the enrolment in {}\n", removed,
                                    o.undo);
         return 0;
       }});
}
