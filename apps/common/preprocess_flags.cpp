#include "preprocess_flags.hpp"

#include "faceid/io/face_cache.hpp"

namespace faceid::cli {

void add_pipeline_options(CLI::App& app, PipelineOptions& o, bool with_chip, bool allow_all) {
  const std::vector<std::string> kinds =
      allow_all ? std::vector<std::string>{"auto", "yunet", "haar", "all"}
                : std::vector<std::string>{"auto", "yunet", "haar"};
  app.add_option(
         "--detector", o.preprocess.detector,
         std::string("Face detector: auto (YuNet if its model is found, else Haar), yunet, haar") +
             (allow_all ? ", all (compare)" : ""))
      ->check(CLI::IsMember(kinds))
      ->capture_default_str();
  app.add_option("--det-score", o.preprocess.score_threshold, "Detector confidence threshold")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--border-pad", o.preprocess.border_pad,
                 "YuNet: pad the picture by this share of its longer side before detection, so "
                 "that faces cut by the border are found (0: off)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  if (with_chip) {
    app.add_option("--chip-size", o.preprocess.chip_size, "Side of the aligned face chip in pixels")
        ->check(CLI::Range(32, 256))
        ->capture_default_str();
    app.add_option("--padding", o.preprocess.padding,
                   "Margin around the 5-point face template, as a fraction of the chip (more = "
                   "more hair and context)")
        ->check(CLI::Range(0.0, 1.0))
        ->capture_default_str();
    app.add_option("--alignment", o.preprocess.alignment,
                   "Where the 5 landmarks go: arcface (eyes near mid-chip) or dlib (dlib's face "
                   "chip, eyes high: what the pretrained face-api descriptor expects; facetrain "
                   "--init face-api sets it with 150 px and padding 0.25)")
        ->check(CLI::IsMember({"arcface", "dlib"}))
        ->capture_default_str();
  }
  add_model_pipeline_options(app, o);
}

void add_model_pipeline_options(CLI::App& app, PipelineOptions& o) {
  app.add_option("--yunet", o.yunet_model,
                 "YuNet .onnx model (default: $FACEID_YUNET, $FACEID_DATA/models, ./models)")
      ->check(CLI::ExistingFile);
  app.add_option("--cache-dir", o.cache_dir,
                 "Face cache folder (default: $FACEID_CACHE or ~/.cache/faceid)");
}

std::filesystem::path cache_dir(const PipelineOptions& o) {
  return o.cache_dir.empty() ? default_cache_dir() : std::filesystem::path(o.cache_dir);
}

}  // namespace faceid::cli
