#pragma once
// Flags that choose the face pipeline (detector, chip) and the face cache, shared by the tools
// that read images; no OpenCV here (facetrain builds without it, reading face caches only).

#include <filesystem>
#include <string>

#include <CLI/CLI.hpp>

#include "faceid/config.hpp"

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

/// The cache folder the options describe.
std::filesystem::path cache_dir(const PipelineOptions& o);

}  // namespace faceid::cli
