#pragma once
// Flags that choose the face pipeline (detector, chip) and the face cache, shared by the tools
// that read images.

#include <filesystem>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json_fwd.hpp>

#include "faceid/config.hpp"
#include "faceid/detector.hpp"
#include "faceid/face_pipeline.hpp"

namespace faceid::cli {

struct PipelineOptions {
  PreprocessConfig preprocess;
  std::string yunet_model;  ///< empty = search
  std::string cache_dir;    ///< empty = default_cache_dir()
};

/// Adds --detector --yunet --chip-size --padding --det-score --border-pad --cache-dir (with
/// defaults in --help). `with_chip` = false for tools whose chip settings come from a model bundle;
/// `allow_all` lets
/// --detector take "all" (tools that compare detectors).
void add_pipeline_options(CLI::App& app, PipelineOptions& o, bool with_chip = true,
                          bool allow_all = false);

/// Adds only --yunet and --cache-dir: for tools whose preprocessing comes from a model bundle.
void add_model_pipeline_options(CLI::App& app, PipelineOptions& o);

/// The pipeline the options describe (detector resolved).
FacePipeline make_pipeline(const PipelineOptions& o);

/// The cache folder the options describe.
std::filesystem::path cache_dir(const PipelineOptions& o);

/// pipeline.cached_faces for `source` with a progress bar on stderr (when `progress`); logs the
/// files without a face (debug) and the unreadable ones (warning). `stats` may be null.
FaceCache cache_faces(const FacePipeline& pipeline, const std::filesystem::path& source,
                      const std::vector<std::filesystem::path>& files,
                      const std::filesystem::path& cache_dir, int threads, bool progress,
                      CacheUpdate* stats = nullptr, ChipLoading loading = ChipLoading::InMemory);

/// A detected face as JSON: box [x, y, w, h], score, landmarks [[x, y] x 5], landmarks_estimated.
nlohmann::json face_json(const Face& face);

}  // namespace faceid::cli
