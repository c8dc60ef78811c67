// The scanning side of enrolment (enrol.hpp): the library indexed and embedded through the caches,
// the faces scored against the seeds and grouped, the owner's proposed by day. The review side is
// enrol_review.cpp, the writing side enrol_write.cpp.
#include "faceid/enrol.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <exception>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <spdlog/spdlog.h>
#include <torch/torch.h>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "faceid/capture_time.hpp"
#include "faceid/config.hpp"
#include "faceid/image.hpp"
#include "faceid/io/embedding_cache.hpp"
#include "faceid/io/face_index.hpp"
#include "faceid/io/sources.hpp"
#include "faceid/log.hpp"
#include "faceid/score/cluster.hpp"
#include "faceid/verifier.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace faceid {
namespace {

constexpr long kEmbedChunk = 256;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// What changes the detections (not the chips): the index is valid across models that detect
/// alike.
std::string detection_fingerprint(const FacePipeline& pipeline) {
  const PreprocessConfig& c = pipeline.config();
  json j = {{"detector", c.detector},        {"score_threshold", c.score_threshold},
            {"max_side", c.max_detect_side}, {"min_face", c.min_face_size},
            {"border_pad", c.border_pad},    {"faces", "all"}};
  return fnv1a_hex("library-v1" + j.dump());
}

Face to_face(const IndexedFace& f) {
  Face face;
  face.box = cv::Rect2f(f.box[0], f.box[1], f.box[2], f.box[3]);
  for (std::size_t k = 0; k < 5; ++k)
    face.landmarks[k] = {f.landmarks[2 * k], f.landmarks[2 * k + 1]};
  face.has_landmarks = f.has_landmarks;
  face.score = f.score;
  return face;
}

IndexedFace from_face(const Face& face) {
  IndexedFace f;
  f.box = {face.box.x, face.box.y, face.box.width, face.box.height};
  for (std::size_t k = 0; k < 5; ++k) {
    f.landmarks[2 * k] = face.landmarks[k].x;
    f.landmarks[2 * k + 1] = face.landmarks[k].y;
  }
  f.has_landmarks = face.has_landmarks;
  f.score = face.score;
  return f;
}

/// Decodes and detects one photo; the chips of its faces go to `chips`. A photo that cannot be
/// read or decoded (faceid::Error, cv::Exception) becomes status Unreadable with the reason.
IndexedPhoto index_photo(const FacePipeline& pipeline, Detector& detector, const fs::path& file,
                         std::vector<cv::Mat>& chips) {
  IndexedPhoto p;
  try {
    p.key = file_key(file);
    const cv::Mat image = read_image(file);
    const CaptureTime t = capture_time(file);
    p.taken = t.taken;
    p.taken_from = t.from;
    for (const Face& face : detector.detect(image)) {
      p.faces.push_back(from_face(face));
      chips.push_back(pipeline.chip(image, face));
    }
    p.status = p.faces.empty() ? FaceStatus::NoFace : FaceStatus::Face;
  } catch (const Error& e) {
    p.status = FaceStatus::Unreadable;
    p.message = e.what();
  } catch (const cv::Exception& e) {
    p.status = FaceStatus::Unreadable;
    p.message = file.string() + ": " + e.err;
  }
  if (p.key.path.empty()) p.key.path = fs::absolute(file).lexically_normal().string();
  p.faces.shrink_to_fit();
  return p;
}

/// The library's photos, each from the face index or detected now (on `threads` threads), and the
/// chips of the faces detected now (per photo).
struct IndexedLibrary {
  std::vector<IndexedPhoto> photos;
  std::vector<std::vector<cv::Mat>> fresh_chips;
  std::vector<char> done;  ///< detected now
};

/// Decodes and detects `files[todo[k]]` into `lib` on `threads` threads; returns how many were
/// done (all of them unless options.stop turned true). An exception in a thread reaches the
/// caller.
std::size_t detect_photos(const FacePipeline& pipeline, const std::vector<fs::path>& files,
                          const std::vector<std::size_t>& todo, const EnrolOptions& o,
                          IndexedLibrary& lib) {
  std::atomic<std::size_t> next{0}, done{0};
  std::mutex mutex;  // the progress callback and the first error
  std::exception_ptr error;
  auto worker = [&] {
    try {
      auto detector = pipeline.make_detector();
      for (std::size_t k = next++; k < todo.size() && !(o.stop && *o.stop); k = next++) {
        const std::size_t i = todo[k];
        lib.photos[i] = index_photo(pipeline, *detector, files[i], lib.fresh_chips[i]);
        lib.done[i] = 1;
        const std::size_t n = ++done;
        std::lock_guard<std::mutex> lock(mutex);
        if (o.progress) o.progress(n, todo.size());
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex);
      if (!error) error = std::current_exception();
      next = todo.size();  // the others stop too
    }
  };
  std::vector<std::thread> pool;
  try {
    for (int t = 1; t < std::max(1, o.threads) && static_cast<std::size_t>(t) < todo.size(); ++t)
      pool.emplace_back(worker);
  } catch (...) {  // no thread to be had: the ones started finish, this one does the rest
  }
  worker();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
  return done;
}

IndexedLibrary index_library(const FacePipeline& pipeline, const EnrolOptions& o,
                             const std::string& fingerprint, LibraryScan& scan) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto files = list_images_recursive(o.library);
  if (files.empty())
    throw input_error(o.library.string() + ": no photos (JPEG, PNG, ...) in the library");
  const fs::path index_file = face_index_file(o.cache_dir, o.library, fingerprint);
  FaceIndex index = FaceIndex::load(index_file, fingerprint);
  IndexedLibrary lib;
  lib.photos.resize(files.size());
  lib.fresh_chips.resize(files.size());
  lib.done.resize(files.size(), 0);
  std::vector<std::size_t> todo;
  std::vector<FileKey> keys;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const IndexedPhoto* known = nullptr;
    try {
      keys.push_back(file_key(files[i]));
      known = index.find(keys.back());
    } catch (const Error&) {  // gone since it was listed: index_photo says why
    }
    if (known) lib.photos[i] = *known;
    if (!known) todo.push_back(i);
  }
  const std::size_t done = detect_photos(pipeline, files, todo, o, lib);
  for (std::size_t i : todo)
    if (lib.done[i]) index.put(lib.photos[i]);
  if (index.retain(keys) > 0 || done > 0) index.save(index_file);
  if (done < todo.size())
    throw ScanStopped(ErrorKind::Input, o.library.string() + ": the scan was stopped after " +
                                            std::to_string(done) + " of " +
                                            std::to_string(todo.size()) +
                                            " new photos (kept: a new scan carries on)");

  scan.photos = files.size();
  scan.detected = todo.size();
  scan.from_cache = files.size() - todo.size();
  scan.detect_seconds = seconds_since(t0);
  return lib;
}

/// The unreadable, faceless and face counts of the library as it stands.
void count_photos(const IndexedLibrary& lib, LibraryScan& scan) {
  for (const auto& p : lib.photos) {
    if (p.status == FaceStatus::Unreadable) {
      ++scan.unreadable;
      scan.unreadable_files.push_back(p.message);
    }
    scan.no_face += p.status == FaceStatus::NoFace;
    scan.faces += p.faces.size();
  }
}

/// The library's embedding cache for this model and these detections (the faces' numbers are the
/// detector's), named apart from a references folder's cache of the same path.
fs::path library_embeddings(const EnrolOptions& o, const std::string& fingerprint,
                            const std::string& checksum) {
  return embedding_cache_file(o.cache_dir, o.library.string() + "#faces-" + fingerprint, checksum);
}

/// Aligns again, from its photo, every face whose embedding `cache` lacks and that this run did
/// not detect (a new model). A photo that cannot be read any more is counted unreadable.
void align_missing(const FacePipeline& pipeline, const EmbeddingCache& cache, IndexedLibrary& lib) {
  for (std::size_t i = 0; i < lib.photos.size(); ++i) {
    IndexedPhoto& photo = lib.photos[i];
    bool missing = false;
    for (std::size_t f = 0; f < photo.faces.size() && !missing; ++f)
      missing = !cache.find(face_key(photo.key, f));
    if (!missing || !lib.fresh_chips[i].empty()) continue;
    try {
      const cv::Mat image = read_image(photo.key.path);
      for (const auto& face : photo.faces)
        lib.fresh_chips[i].push_back(pipeline.chip(image, to_face(face)));
    } catch (const Error& e) {  // gone or changed since it was indexed
      photo.status = FaceStatus::Unreadable;
      photo.message = e.what();
      photo.faces.clear();
    }
  }
}

/// The embedding of every face of `faces` (photo, face), through `cache`; the faces it lacks have
/// their chips in `lib.fresh_chips` (align_missing). Saves the cache, also when stopped.
torch::Tensor embed_library(Verifier& verifier, const IndexedLibrary& lib, EmbeddingCache& cache,
                            const fs::path& cache_file,
                            const std::vector<std::pair<std::size_t, std::size_t>>& faces,
                            const EnrolOptions& o, LibraryScan& scan) {
  const auto t0 = std::chrono::steady_clock::now();
  const int dim = verifier.bundle().info.model.embedding_size;
  const int s = verifier.pipeline().config().chip_size;
  std::vector<FileKey> keys;
  std::vector<std::size_t> missing;
  for (std::size_t k = 0; k < faces.size(); ++k) {
    keys.push_back(face_key(lib.photos[faces[k].first].key, faces[k].second));
    if (!cache.find(keys.back())) missing.push_back(k);
  }
  bool stopped = false;
  for (std::size_t start = 0; start < missing.size() && !stopped; start += kEmbedChunk) {
    const std::size_t end = std::min(missing.size(), start + kEmbedChunk);
    auto chips = torch::empty({static_cast<long>(end - start), s, s, 3}, torch::kUInt8);
    for (std::size_t m = start; m < end; ++m) {
      const auto [p, f] = faces[missing[m]];
      const auto bytes = chip_to_rgb_bytes(lib.fresh_chips[p][f]);
      std::memcpy(chips[static_cast<long>(m - start)].data_ptr<std::uint8_t>(), bytes.data(),
                  bytes.size());
    }
    const auto e = verifier.embed(chips).contiguous();
    for (std::size_t m = start; m < end; ++m) {
      const float* row = e[static_cast<long>(m - start)].data_ptr<float>();
      cache.put(keys[missing[m]], std::vector<float>(row, row + dim));
    }
    stopped = o.stop && *o.stop;
  }
  const bool dropped = !stopped && cache.retain(keys) > 0;
  if (dropped || !missing.empty()) cache.save(cache_file);
  if (stopped)
    throw ScanStopped(ErrorKind::Input, o.library.string() +
                                            ": the scan was stopped while embedding the faces "
                                            "(kept: a new scan carries on)");
  auto out = torch::empty({static_cast<long>(faces.size()), dim});
  for (std::size_t k = 0; k < faces.size(); ++k)
    std::memcpy(out[static_cast<long>(k)].data_ptr<float>(), cache.find(keys[k])->data(),
                sizeof(float) * static_cast<std::size_t>(dim));
  scan.embedded = missing.size();
  scan.embed_seconds = seconds_since(t0);
  return out;
}

/// Groups with their scores; a group is the owner's when most of its faces pass the rule.
std::vector<FaceGroup> summarise_groups(std::vector<LibraryFace>& faces) {
  std::map<int, FaceGroup> by_id;
  for (int i = 0; i < static_cast<int>(faces.size()); ++i) {
    FaceGroup& g = by_id[faces[i].group];
    g.id = faces[i].group;
    g.faces.push_back(i);
    g.score += faces[i].score;
    g.matching += faces[i].matches ? 1.f : 0.f;
  }
  std::vector<FaceGroup> groups;
  for (auto& [id, g] : by_id) {
    const auto n = static_cast<float>(g.faces.size());
    g.score /= n;
    g.matching /= n;
    g.owner = g.matching > 0.5f;
    std::stable_sort(g.faces.begin(), g.faces.end(),
                     [&](int a, int b) { return faces[a].score > faces[b].score; });
    groups.push_back(std::move(g));
  }
  return groups;  // by id: largest first (number_by_size)
}

/// The owner groups' faces, one per photo (its best-scoring), by capture day, oldest first.
std::vector<OwnerDay> owner_days(const std::vector<LibraryFace>& faces,
                                 const std::vector<FaceGroup>& groups) {
  std::map<std::string, int> best_of_photo;
  for (const auto& g : groups) {
    if (!g.owner) continue;
    for (int i : g.faces) {
      auto [it, added] = best_of_photo.try_emplace(faces[i].file, i);
      if (!added && faces[i].score > faces[it->second].score) it->second = i;
    }
  }
  std::map<std::string, OwnerDay> by_day;
  std::map<std::string, std::set<std::string>> sources;
  for (const auto& [file, i] : best_of_photo) {
    OwnerDay& d = by_day[faces[i].day];
    d.day = faces[i].day;
    d.faces.push_back(i);
    sources[d.day].insert(faces[i].taken_from.empty() ? "unknown" : faces[i].taken_from);
  }
  std::vector<OwnerDay> days;
  for (auto& [day, d] : by_day) {
    const auto& from = sources[day];
    d.taken_from = from.size() == 1 ? *from.begin() : "exif and file time";
    std::stable_sort(d.faces.begin(), d.faces.end(), [&](int a, int b) {
      return faces[a].score != faces[b].score ? faces[a].score > faces[b].score : a < b;
    });
    days.push_back(std::move(d));
  }
  return days;
}

}  // namespace

std::size_t Proposal::owner_faces() const {
  std::size_t n = 0;
  for (const auto& d : days) n += d.faces.size();
  return n;
}

namespace {

/// The proposal's start: the folders checked, the seeds loaded as the verifier's references with
/// the rule fitted to them, the cut.
Proposal start_proposal(Verifier& verifier, const EnrolOptions& o) {
  if (o.seeds.empty() || list_images_recursive(o.seeds).empty())  // sub-folders are sessions
    throw usage_error(o.seeds.string() +
                      ": no photos in the seeds folder; put ~5 photos of yourself there");
  Proposal p;
  p.library = o.library.string();
  p.seeds = o.seeds.string();
  p.model = verifier.bundle().checksum;
  p.method = o.method;
  verifier.thresholds().target_far = o.target_far;
  ReferenceReport seeds;
  try {
    seeds = verifier.prepare(o.seeds, o.cache_dir, o.threads);
  } catch (const Error& e) {  // the references' wording would ask for ~50 photos
    if (e.kind() != ErrorKind::Input) throw;
    throw input_error(o.seeds.string() +
                      ": no face found in the seed photos; use a few photos where your face is "
                      "clearly visible");
  }
  if (seeds.needed && seeds.recalibrated_detection < 0)
    logger()->warn(
        "the rule against the seeds is not fitted for --target-far {:g} (the bundle has no "
        "held-out strangers, or --threshold chose it): {}",
        o.target_far, verifier.rule(seeds));
  // Two faces are neighbours when one would match the other as a reference: the detection
  // threshold fitted to the seeds for the target FAR (docs/enrol.md, the cut measured).
  p.cut = o.cut.value_or(verifier.thresholds().detection);
  p.seed_faces = seeds.needed ? seeds.used : 0;
  p.rule = verifier.rule(seeds);
  return p;
}

/// Every face of the library's photos, and where each is (photo, face).
std::vector<std::pair<std::size_t, std::size_t>> list_faces(const IndexedLibrary& lib,
                                                            std::vector<LibraryFace>& faces) {
  std::vector<std::pair<std::size_t, std::size_t>> where;
  for (std::size_t i = 0; i < lib.photos.size(); ++i) {
    const IndexedPhoto& photo = lib.photos[i];
    for (std::size_t f = 0; f < photo.faces.size(); ++f) {
      where.emplace_back(i, f);
      LibraryFace face;
      face.file = photo.key.path;
      face.index = static_cast<int>(f);
      face.box = photo.faces[f].box;
      face.taken = photo.taken;
      face.taken_from = photo.taken_from;
      face.day = photo.day();
      faces.push_back(std::move(face));
    }
  }
  return where;
}

/// A folder as one path whatever its spelling (the caches are named by it): absolute, links
/// resolved, no trailing separator. Throws Error(Input) when it is not a folder.
fs::path folder_identity(const fs::path& dir, const std::string& what) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw input_error(dir.string() + ": " + what + " not found");
  const fs::path canonical = fs::canonical(dir, ec);
  return ec ? fs::absolute(dir).lexically_normal() : canonical;
}

}  // namespace

Proposal propose_enrolment(Verifier& verifier, const EnrolOptions& options) {
  EnrolOptions o = options;
  o.library = folder_identity(options.library, "library folder");
  if (!options.seeds.empty()) o.seeds = folder_identity(options.seeds, "seeds folder");
  Proposal p = start_proposal(verifier, o);

  const std::string fingerprint = detection_fingerprint(verifier.pipeline());
  IndexedLibrary lib = index_library(verifier.pipeline(), o, fingerprint, p.scan);
  const fs::path cache_file = library_embeddings(o, fingerprint, verifier.bundle().checksum);
  EmbeddingCache cache = EmbeddingCache::load(cache_file, verifier.bundle().checksum,
                                              verifier.bundle().info.model.embedding_size);
  align_missing(verifier.pipeline(), cache, lib);
  count_photos(lib, p.scan);
  const auto where = list_faces(lib, p.faces);
  if (p.faces.empty()) return p;
  const torch::Tensor embeddings =
      embed_library(verifier, lib, cache, cache_file, where, o, p.scan);

  const auto t0 = std::chrono::steady_clock::now();
  auto scores = verifier.score_embeddings(embeddings);
  for (std::size_t k = 0; k < p.faces.size(); ++k) {
    const FaceVerdict v = verifier.decide(
        to_face(lib.photos[where[k].first].faces[where[k].second]), std::move(scores[k]));
    p.faces[k].score = v.share;
    p.faces[k].matches = v.owner;
  }
  const auto groups = cluster_faces(o.method, verifier.pair_scores(embeddings),
                                    static_cast<int>(p.faces.size()), p.cut);
  for (std::size_t k = 0; k < p.faces.size(); ++k) p.faces[k].group = groups[k];
  p.groups = summarise_groups(p.faces);
  p.days = owner_days(p.faces, p.groups);
  p.scan.cluster_seconds = seconds_since(t0);
  return p;
}

}  // namespace faceid
