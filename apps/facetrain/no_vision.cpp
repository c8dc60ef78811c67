// facetrain without OpenCV (FACEID_BUILD_VISION=OFF): the faces come from face caches that
// faceprep (or any faceid tool) filled where OpenCV is; no curves.png.

#include <spdlog/spdlog.h>

#include "faceid/log.hpp"
#include "facetrain.hpp"

namespace fs = std::filesystem;

namespace faceid::facetrain {

FaceSource face_source(const PreprocessConfig& config, const cli::PipelineOptions& o) {
  PreprocessConfig resolved = config;
  if (resolved.detector == "auto") resolved.detector = "yunet";
  const fs::path cache_dir = cli::cache_dir(o);
  return {
      resolved, [resolved, cache_dir](const fs::path& source, const std::vector<fs::path>& files,
                                      int, bool, CacheUpdate& stats) {
        FaceCache cache = load_cached_faces(cache_dir, source, files, resolved.chip_size,
                                            resolved.fingerprint(), ChipLoading::OnDemand, &stats);
        for (const auto& f : stats.no_face_files) logger()->debug("no face: {}", f);
        for (const auto& f : stats.unreadable_files) logger()->warn("unreadable: {}", f);
        return cache;
      }};
}

void write_curves(const fs::path& file, const std::vector<EpochMetrics>&) {
  logger()->info("no {}: this facetrain was built without OpenCV (metrics.csv has the curves)",
                 file.filename().string());
}

}  // namespace faceid::facetrain
