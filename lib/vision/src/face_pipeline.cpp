#include "faceid/face_pipeline.hpp"

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include <opencv2/core/utility.hpp>
#include <opencv2/imgproc.hpp>

#include "faceid/align.hpp"
#include "faceid/error.hpp"
#include "faceid/image.hpp"
#include "faceid/io/atomic_file.hpp"

namespace fs = std::filesystem;

namespace faceid {

FacePipeline::FacePipeline(PreprocessConfig config, const fs::path& yunet_model)
    : config_(std::move(config)) {
  DetectorOptions options = faceid::detector_options(config_);
  options.yunet_model = yunet_model;
  detector_ = resolve_detector(options);
  config_.detector = detector_.kind;
}

std::unique_ptr<Detector> FacePipeline::make_detector() const {
  return Detector::create(detector_);
}

cv::Mat FacePipeline::chip(const cv::Mat& image, const Face& face) const {
  return align_face(image, face, config_);
}

std::vector<std::uint8_t> chip_to_rgb_bytes(const cv::Mat& bgr_chip) {
  cv::Mat rgb;
  cv::cvtColor(bgr_chip, rgb, cv::COLOR_BGR2RGB);
  if (!rgb.isContinuous()) rgb = rgb.clone();
  return std::vector<std::uint8_t>(rgb.data, rgb.data + rgb.total() * rgb.elemSize());
}

cv::Mat rgb_bytes_to_chip(const std::vector<std::uint8_t>& rgb, int chip_size) {
  if (rgb.size() != static_cast<std::size_t>(chip_size) * chip_size * 3)
    throw internal_error("chip of " + std::to_string(rgb.size()) + " bytes is not " +
                         std::to_string(chip_size) + "^2 x 3");
  cv::Mat bgr;
  cv::cvtColor(cv::Mat(chip_size, chip_size, CV_8UC3, const_cast<std::uint8_t*>(rgb.data())), bgr,
               cv::COLOR_RGB2BGR);
  return bgr;
}

CachedFace FacePipeline::process(const fs::path& file, Detector& detector) const {
  CachedFace out;
  out.detector = detector.name();
  try {
    out.key = file_key(file);
    const cv::Mat image = read_image(file);
    const auto faces = detector.detect(image);
    out.faces_found = static_cast<std::uint32_t>(faces.size());
    if (faces.empty()) {
      out.status = FaceStatus::NoFace;
      out.message = "no face found";
      return out;
    }
    out.status = FaceStatus::Face;
    out.score = faces.front().score;  // largest face
    out.chip = chip_to_rgb_bytes(chip(image, faces.front()));
  } catch (const Error& e) {
    out.status = FaceStatus::Unreadable;
    out.message = e.what();
    if (out.key.path.empty()) out.key.path = fs::absolute(file).lexically_normal().string();
  } catch (const cv::Exception& e) {
    out.status = FaceStatus::Unreadable;
    out.message = file.string() + ": " + e.err;
  }
  return out;
}

CacheUpdate FacePipeline::update(FaceCache& cache, const std::vector<fs::path>& files, int threads,
                                 const Progress& progress) const {
  if (cache.chip_size() != config_.chip_size || cache.fingerprint() != config_.fingerprint())
    throw input_error("face cache was built with other preprocessing settings");
  const auto start = std::chrono::steady_clock::now();
  CacheUpdate stats;
  stats.images = files.size();

  // Work out what is missing first (stat only), then detect those on `threads` threads.
  std::vector<fs::path> todo;
  for (const auto& f : files) {
    if (cache.find_file(f))
      ++stats.hits;
    else
      todo.push_back(f);
  }

  std::atomic<std::size_t> next{0}, done{stats.hits};
  std::mutex mutex;
  std::exception_ptr failure;
  auto worker = [&] {
    try {
      auto detector = make_detector();
      for (std::size_t i = next++; i < todo.size(); i = next++) {
        CachedFace face = process(todo[i], *detector);
        std::lock_guard<std::mutex> lock(mutex);
        cache.put(std::move(face));
        ++done;
        if (progress) progress(done, files.size());
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex);
      if (!failure) failure = std::current_exception();
      next = todo.size();
    }
  };
  const int n_threads = std::max(1, std::min<int>(threads, static_cast<int>(todo.size())));
  if (!todo.empty()) {
    // Our threads already use the cores: keep OpenCV from starting its own on top of them.
    const int cv_threads = cv::getNumThreads();
    if (n_threads > 1) cv::setNumThreads(1);
    std::vector<std::thread> pool;
    for (int t = 1; t < n_threads; ++t) pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();
    cv::setNumThreads(cv_threads);
    if (failure) std::rethrow_exception(failure);
  }
  stats.computed = todo.size();

  for (const auto& f : tally_faces(cache, files, stats)) {
    ++stats.unreadable;
    stats.unreadable_files.push_back(f.string() + ": vanished while reading");
  }
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats;
}

FaceCache FacePipeline::cached_faces(const fs::path& source, const std::vector<fs::path>& files,
                                     const fs::path& cache_dir, int threads, CacheUpdate* stats,
                                     const Progress& progress, ChipLoading loading) const {
  const fs::path file = cache_file_for(cache_dir, source, config_.fingerprint());
  FaceCache cache = FaceCache::load(file, config_.chip_size, config_.fingerprint(), loading);
  CacheUpdate update_stats = update(cache, files, threads, progress);
  if (update_stats.computed > 0 || cache.drop_missing() > 0) {
    // Another process may have saved this cache since it was loaded (two faceprep runs, faceeval
    // beside facetrain): what it saved is kept, with this run's files as this process found them,
    // and the lock makes the reload-and-save of concurrent processes take turns.
    create_folder(cache_dir, "the cache folder");
    const FolderLock lock(cache_dir);
    FaceCache saved = FaceCache::load(file, config_.chip_size, config_.fingerprint(), loading);
    for (const auto& f : files)
      if (const CachedFace* face = cache.find_file(f)) saved.put(*face);
    saved.drop_missing();
    saved.save(file);
    // On demand: the new chips too are read from the file from now on (still under the lock).
    cache = loading == ChipLoading::OnDemand
                ? FaceCache::load(file, config_.chip_size, config_.fingerprint(), loading)
                : std::move(saved);
  }
  if (stats) *stats = std::move(update_stats);
  return cache;
}

}  // namespace faceid
