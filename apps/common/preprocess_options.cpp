#include "preprocess_options.hpp"

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "faceid/io/face_cache.hpp"
#include "faceid/log.hpp"

namespace faceid::cli {

FacePipeline make_pipeline(const PipelineOptions& o) {
  return FacePipeline(o.preprocess, o.yunet_model);
}

FaceCache cache_faces(const FacePipeline& pipeline, const std::filesystem::path& source,
                      const std::vector<std::filesystem::path>& files,
                      const std::filesystem::path& cache_dir, int threads, bool progress,
                      CacheUpdate* stats, ChipLoading loading) {
  ProgressBar bar("faces " + source.filename().string(), progress);
  CacheUpdate update;
  FaceCache cache = pipeline.cached_faces(
      source, files, cache_dir, threads, &update,
      [&](std::size_t d, std::size_t t) { bar.update(d, t); }, loading);
  bar.finish();
  for (const auto& f : update.no_face_files) logger()->debug("no face: {}", f);
  for (const auto& f : update.unreadable_files) logger()->warn("unreadable: {}", f);
  if (stats) *stats = std::move(update);
  return cache;
}

nlohmann::json face_json(const Face& f) {
  nlohmann::json landmarks = nlohmann::json::array();
  for (const auto& p : f.landmarks) landmarks.push_back({p.x, p.y});
  return {{"box", {f.box.x, f.box.y, f.box.width, f.box.height}},
          {"score", f.score},
          {"landmarks", landmarks},
          {"landmarks_estimated", !f.has_landmarks}};
}

}  // namespace faceid::cli
