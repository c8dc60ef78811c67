// faceprep: detect and align the faces of an LFW-style folder and/or photo folders once, into the
// face cache that facetrain, faceeval and faceverify read. Prints what was found.

#include <iostream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "../common/cli.hpp"
#include "../common/preprocess_options.hpp"
#include "faceid/annotate.hpp"
#include "faceid/error.hpp"
#include "faceid/io/sources.hpp"
#include "faceid/log.hpp"

namespace fs = std::filesystem;
using namespace faceid;

namespace {

struct Options {
  std::string lfw;
  std::vector<std::string> folders;
  std::string preview;
  cli::PipelineOptions pipeline;
};

nlohmann::json stats_json(const std::string& source, const CacheUpdate& s) {
  return {{"source", source},
          {"images", s.images},
          {"cache_hits", s.hits},
          {"computed", s.computed},
          {"faces", s.faces},
          {"no_face", s.no_face},
          {"unreadable", s.unreadable},
          {"seconds", s.seconds},
          {"images_per_second", s.computed > 0 ? s.computed / s.seconds : 0.0},
          {"no_face_files", s.no_face_files},
          {"unreadable_files", s.unreadable_files}};
}

int run(const Options& o, const cli::CommonOptions& common) {
  if (o.lfw.empty() && o.folders.empty()) throw usage_error("give --lfw DIR and/or --self DIR");
  const FacePipeline pipeline = cli::make_pipeline(o.pipeline);
  const int threads = cli::resolve_threads(common.threads);
  const fs::path cache_dir = cli::cache_dir(o.pipeline);
  logger()->info("detector {}, chip {}px, cache {}", pipeline.config().detector,
                 pipeline.config().chip_size, cache_dir.string());

  std::vector<std::pair<std::string, std::vector<fs::path>>> sources;
  if (!o.lfw.empty()) {
    std::vector<fs::path> files;
    for (const auto& person : scan_people(o.lfw))
      files.insert(files.end(), person.images.begin(), person.images.end());
    sources.emplace_back(o.lfw, std::move(files));
  }
  for (const auto& dir : o.folders) {
    auto files = list_images(dir);
    if (files.empty()) throw input_error(dir + ": no image files");
    sources.emplace_back(dir, std::move(files));
  }

  nlohmann::json report = nlohmann::json::array();
  std::vector<cv::Mat> preview;
  for (const auto& [source, files] : sources) {
    CacheUpdate stats;
    const FaceCache cache =
        cli::cache_faces(pipeline, source, files, cache_dir, threads, !common.quiet, &stats);
    report.push_back(stats_json(source, stats));
    for (std::size_t i = 0; i < files.size() && preview.size() < 96 && !o.preview.empty();
         i += std::max<std::size_t>(1, files.size() / 48)) {
      const CachedFace* face = cache.find(file_key(files[i]));
      if (!face || face->status != FaceStatus::Face) continue;
      preview.push_back(rgb_bytes_to_chip(face->chip, cache.chip_size()));
    }
  }
  if (!o.preview.empty()) write_image(o.preview, contact_sheet(preview, 12));

  if (common.json) {
    cli::print_json({{"detector", pipeline.config().detector},
                     {"chip_size", pipeline.config().chip_size},
                     {"cache_dir", cache_dir.string()},
                     {"sources", report}});
  } else {
    std::cout << fmt::format("{:<40} {:>7} {:>7} {:>8} {:>7} {:>7} {:>10} {:>8} {:>9}\n", "source",
                             "images", "faces", "no face", "unread", "hits", "computed", "seconds",
                             "images/s");
    for (const auto& r : report)
      std::cout << fmt::format("{:<40} {:>7} {:>7} {:>8} {:>7} {:>7} {:>10} {:>8.1f} {:>9.1f}\n",
                               r["source"].get<std::string>(), r["images"].get<int>(),
                               r["faces"].get<int>(), r["no_face"].get<int>(),
                               r["unreadable"].get<int>(), r["cache_hits"].get<int>(),
                               r["computed"].get<int>(), r["seconds"].get<double>(),
                               r["images_per_second"].get<double>());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  return cli::run_main(
      argc, argv,
      {"faceprep", "Detect and align faces once into the face cache (for facetrain/faceeval).",
       [&](CLI::App& app, cli::CommonOptions&) {
         app.add_option("--lfw", o.lfw, "LFW-style root: <Person>/<image>")
             ->check(CLI::ExistingDirectory);
         app.add_option("--self", o.folders, "Folder of photos (repeatable)")
             ->check(CLI::ExistingDirectory);
         app.add_option("--preview", o.preview,
                        "Write a contact sheet of aligned chips (PNG/JPEG)");
         cli::add_pipeline_options(app, o.pipeline);
       },
       [&](const cli::CommonOptions& common) { return run(o, common); }});
}
