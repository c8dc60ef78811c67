#pragma once
// The face pipeline and the face cache as the tools that read images use them (the vision layer),
// on top of their flags (preprocess_flags.hpp).

#include <filesystem>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "faceid/detector.hpp"
#include "faceid/face_pipeline.hpp"
#include "preprocess_flags.hpp"

namespace faceid::cli {

/// The pipeline the options describe (detector resolved).
FacePipeline make_pipeline(const PipelineOptions& o);

/// pipeline.cached_faces for `source` with a progress bar on stderr (when `progress`); logs the
/// files without a face (debug) and the unreadable ones (warning). `stats` may be null.
FaceCache cache_faces(const FacePipeline& pipeline, const std::filesystem::path& source,
                      const std::vector<std::filesystem::path>& files,
                      const std::filesystem::path& cache_dir, int threads, bool progress,
                      CacheUpdate* stats = nullptr, ChipLoading loading = ChipLoading::InMemory);

/// A detected face as JSON: box [x, y, w, h], score, landmarks [[x, y] x 5], landmarks_estimated.
nlohmann::json face_json(const Face& face);

}  // namespace faceid::cli
