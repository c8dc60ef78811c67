#pragma once
// The one path from image file to face chip (docs/design.md §2), used by training, evaluation and
// verification alike: decode -> detect -> largest face -> align -> RGB chip, and the face cache
// that remembers the outcome per file.
//
//   FacePipeline pipeline(PreprocessConfig{});           // detector resolved here
//   CacheUpdate stats;
//   FaceCache cache = pipeline.cached_faces(lfw_root, files, default_cache_dir(), 2, &stats);

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "faceid/config.hpp"
#include "faceid/detector.hpp"
#include "faceid/io/face_cache.hpp"

namespace faceid {

/// Called with (done, total) while a cache is being filled.
using Progress = std::function<void(std::size_t done, std::size_t total)>;

class FacePipeline {
 public:
  /// Resolves the detector of `config` ("auto" becomes "yunet" or "haar"; see resolve_detector)
  /// so that config() says which one is used. Throws Error(Input) when no detector is available.
  explicit FacePipeline(PreprocessConfig config, const std::filesystem::path& yunet_model = {});

  const PreprocessConfig& config() const { return config_; }
  const DetectorOptions& detector_options() const { return detector_; }
  /// A new detector (one per thread).
  std::unique_ptr<Detector> make_detector() const;

  /// The aligned chip (BGR) of `face` in `image`.
  cv::Mat chip(const cv::Mat& image, const Face& face) const;

  /// One image file's outcome; bad files become status Unreadable with the reason, never throw.
  CachedFace process(const std::filesystem::path& file, Detector& detector) const;

  /// Fills `cache` with the outcome of every file in `files` not already cached under its
  /// current identity, on `threads` threads. Throws Error(Input) only when the cache's settings
  /// differ from this pipeline's.
  CacheUpdate update(FaceCache& cache, const std::vector<std::filesystem::path>& files, int threads,
                     const Progress& progress = {}) const;

  /// Loads the cache of `source` from `cache_dir`, updates it for `files` (other cached files of
  /// the source are kept; entries of deleted files are dropped), saves it when anything changed,
  /// and returns it. With ChipLoading::OnDemand its chips stay in the saved file.
  FaceCache cached_faces(const std::filesystem::path& source,
                         const std::vector<std::filesystem::path>& files,
                         const std::filesystem::path& cache_dir, int threads,
                         CacheUpdate* stats = nullptr, const Progress& progress = {},
                         ChipLoading loading = ChipLoading::InMemory) const;

 private:
  PreprocessConfig config_;
  DetectorOptions detector_;
};

/// A BGR chip as the cache stores it: RGB bytes, row-major.
std::vector<std::uint8_t> chip_to_rgb_bytes(const cv::Mat& bgr_chip);

/// The inverse: RGB chip bytes (chip_size x chip_size x 3) as a BGR image (a copy).
cv::Mat rgb_bytes_to_chip(const std::vector<std::uint8_t>& rgb, int chip_size);

}  // namespace faceid
