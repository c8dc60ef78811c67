#include "faceid/enrol.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <ctime>
#include <exception>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <spdlog/spdlog.h>
#include <torch/torch.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include "faceid/annotate.hpp"
#include "faceid/capture_time.hpp"
#include "faceid/config.hpp"
#include "faceid/error.hpp"
#include "faceid/image.hpp"
#include "faceid/io/atomic_file.hpp"
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

/// Decodes and detects one photo; the chips of its faces go to `chips`. Never throws: a photo
/// that cannot be read becomes status Unreadable with the reason.
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
  for (int t = 1; t < std::max(1, o.threads) && static_cast<std::size_t>(t) < todo.size(); ++t)
    pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
  return done;
}

IndexedLibrary index_library(const FacePipeline& pipeline, const EnrolOptions& o,
                             LibraryScan& scan) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto files = list_images_recursive(o.library);
  if (files.empty())
    throw input_error(o.library.string() + ": no photos (JPEG, PNG, ...) in the library");
  const std::string fingerprint = detection_fingerprint(pipeline);
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
  for (const auto& p : lib.photos) {
    if (p.status == FaceStatus::Unreadable) {
      ++scan.unreadable;
      scan.unreadable_files.push_back(p.message);
    }
    scan.no_face += p.status == FaceStatus::NoFace;
    scan.faces += p.faces.size();
  }
  scan.detect_seconds = seconds_since(t0);
  return lib;
}

/// The chip of face `f` of photo `p`: from this run's detection, else aligned again from the photo
/// (the last one read is kept, the faces of a photo coming one after another).
struct ChipSource {
  const FacePipeline& pipeline;
  const IndexedLibrary& lib;
  std::size_t cached_photo = SIZE_MAX;
  cv::Mat image;

  cv::Mat chip(std::size_t p, std::size_t f) {
    if (f < lib.fresh_chips[p].size()) return lib.fresh_chips[p][f];
    if (cached_photo != p) {
      image = read_image(lib.photos[p].key.path);
      cached_photo = p;
    }
    return pipeline.chip(image, to_face(lib.photos[p].faces[f]));
  }
};

/// The embedding of every face, through the library's embedding cache for this model.
torch::Tensor embed_library(Verifier& verifier, const IndexedLibrary& lib, const EnrolOptions& o,
                            const std::vector<std::pair<std::size_t, std::size_t>>& faces,
                            LibraryScan& scan) {
  const auto t0 = std::chrono::steady_clock::now();
  const LoadedBundle& bundle = verifier.bundle();
  const int dim = bundle.info.model.embedding_size, s = verifier.pipeline().config().chip_size;
  // Named apart from a references folder's cache of the same path (those hold whole photos).
  const fs::path cache_file =
      embedding_cache_file(o.cache_dir, o.library.string() + "#faces", bundle.checksum);
  EmbeddingCache cache = EmbeddingCache::load(cache_file, bundle.checksum, dim);
  std::vector<FileKey> keys;
  std::vector<std::size_t> missing;
  for (std::size_t k = 0; k < faces.size(); ++k) {
    keys.push_back(face_key(lib.photos[faces[k].first].key, faces[k].second));
    if (!cache.find(keys.back())) missing.push_back(k);
  }
  ChipSource source{verifier.pipeline(), lib, SIZE_MAX, {}};
  for (std::size_t start = 0; start < missing.size(); start += kEmbedChunk) {
    const std::size_t end = std::min(missing.size(), start + kEmbedChunk);
    auto chips = torch::empty({static_cast<long>(end - start), s, s, 3}, torch::kUInt8);
    for (std::size_t m = start; m < end; ++m) {
      const auto [p, f] = faces[missing[m]];
      const auto bytes = chip_to_rgb_bytes(source.chip(p, f));
      std::memcpy(chips[static_cast<long>(m - start)].data_ptr<std::uint8_t>(), bytes.data(),
                  bytes.size());
    }
    const auto e = verifier.embed(chips).contiguous();
    for (std::size_t m = start; m < end; ++m) {
      const float* row = e[static_cast<long>(m - start)].data_ptr<float>();
      cache.put(keys[missing[m]], std::vector<float>(row, row + dim));
    }
  }
  if (cache.retain(keys) > 0 || !missing.empty()) cache.save(cache_file);
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

Proposal propose_enrolment(Verifier& verifier, const EnrolOptions& o) {
  if (!fs::is_directory(o.library))
    throw input_error(o.library.string() + ": library folder not found");
  if (!fs::is_directory(o.seeds)) throw input_error(o.seeds.string() + ": seeds folder not found");
  if (list_images(o.seeds).empty())
    throw usage_error(o.seeds.string() +
                      ": no photos in the seeds folder; put ~5 photos of yourself there");
  Proposal p;
  p.library = fs::absolute(o.library).lexically_normal().string();
  p.seeds = fs::absolute(o.seeds).lexically_normal().string();
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
  // Two faces are neighbours when one would match the other as a reference: the detection
  // threshold fitted to the seeds for the bundle's target FAR (docs/enrol.md, the cut measured).
  p.cut = o.cut.value_or(verifier.thresholds().detection);
  p.seed_faces = seeds.needed ? seeds.used : 0;
  p.rule = verifier.rule(seeds);

  const IndexedLibrary lib = index_library(verifier.pipeline(), o, p.scan);
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
      p.faces.push_back(std::move(face));
    }
  }
  if (p.faces.empty()) return p;
  const torch::Tensor embeddings = embed_library(verifier, lib, o, where, p.scan);

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

json proposal_json(const Proposal& p) {
  json faces = json::array();
  for (std::size_t i = 0; i < p.faces.size(); ++i) {
    const LibraryFace& f = p.faces[i];
    faces.push_back({{"id", i},
                     {"file", f.file},
                     {"index", f.index},
                     {"box", f.box},
                     {"taken", f.taken},
                     {"taken_from", f.taken_from},
                     {"day", f.day},
                     {"group", f.group},
                     {"score", f.score},
                     {"matches", f.matches}});
  }
  json groups = json::array();
  for (const auto& g : p.groups)
    groups.push_back({{"id", g.id},
                      {"size", g.faces.size()},
                      {"score", g.score},
                      {"matching", g.matching},
                      {"owner", g.owner},
                      {"faces", g.faces}});
  json days = json::array();
  for (const auto& d : p.days)
    days.push_back({{"day", d.day}, {"taken_from", d.taken_from}, {"faces", d.faces}});
  const LibraryScan& s = p.scan;
  return {{"library", p.library},
          {"seeds", p.seeds},
          {"model", p.model},
          {"rule", p.rule},
          {"seed_faces", p.seed_faces},
          {"clustering", {{"method", p.method}, {"cut", p.cut}, {"groups", p.groups.size()}}},
          {"scan",
           {{"photos", s.photos},
            {"detected", s.detected},
            {"from_cache", s.from_cache},
            {"unreadable", s.unreadable},
            {"no_face", s.no_face},
            {"faces", s.faces},
            {"embedded", s.embedded},
            {"unreadable_files", s.unreadable_files},
            {"seconds",
             {{"detect", s.detect_seconds},
              {"embed", s.embed_seconds},
              {"cluster", s.cluster_seconds}}}}},
          {"faces", std::move(faces)},
          {"groups", std::move(groups)},
          {"owner", {{"faces", p.owner_faces()}, {"days", std::move(days)}}}};
}

Proposal proposal_from_json(const json& j) {
  try {
    Proposal p;
    p.library = j.at("library").get<std::string>();
    p.seeds = j.at("seeds").get<std::string>();
    p.model = j.at("model").get<std::string>();
    p.rule = j.at("rule").get<std::string>();
    p.method = j.at("clustering").at("method").get<std::string>();
    p.cut = j.at("clustering").at("cut").get<float>();
    for (const auto& f : j.at("faces")) {
      LibraryFace face;
      face.file = f.at("file").get<std::string>();
      face.index = f.at("index").get<int>();
      face.box = f.at("box").get<std::array<float, 4>>();
      face.taken = f.at("taken").get<std::string>();
      face.taken_from = f.at("taken_from").get<std::string>();
      face.day = f.at("day").get<std::string>();
      face.group = f.at("group").get<int>();
      face.score = f.at("score").get<float>();
      face.matches = f.at("matches").get<bool>();
      p.faces.push_back(std::move(face));
    }
    auto in_range = [&](const std::vector<int>& ids) {
      for (int id : ids)
        if (id < 0 || static_cast<std::size_t>(id) >= p.faces.size())
          throw std::out_of_range("face id " + std::to_string(id) + " out of range");
      return ids;
    };
    for (const auto& g : j.at("groups"))
      p.groups.push_back({g.at("id").get<int>(), in_range(g.at("faces").get<std::vector<int>>()),
                          g.at("score").get<float>(), g.at("matching").get<float>(),
                          g.at("owner").get<bool>()});
    for (const auto& d : j.at("owner").at("days"))
      p.days.push_back({d.at("day").get<std::string>(), d.at("taken_from").get<std::string>(),
                        in_range(d.at("faces").get<std::vector<int>>())});
    return p;
  } catch (const std::exception& e) {
    throw input_error(std::string("not a faceenroll proposal: ") + e.what());
  }
}

cv::Mat face_crop(const LibraryFace& face, double margin) {
  const cv::Mat image = read_image(face.file);
  const float side = std::max(face.box[2], face.box[3]) * static_cast<float>(1 + 2 * margin);
  const cv::Point2f centre(face.box[0] + face.box[2] / 2, face.box[1] + face.box[3] / 2);
  const cv::Rect want(cv::Point(cvRound(centre.x - side / 2), cvRound(centre.y - side / 2)),
                      cv::Size(cvRound(side), cvRound(side)));
  const cv::Rect inside = want & cv::Rect(0, 0, image.cols, image.rows);
  if (inside.empty()) throw input_error(face.file + ": the face lies outside the photo");
  return image(inside).clone();
}

namespace {

/// `crop` centred on a black square of `side` px.
cv::Mat thumbnail(const cv::Mat& crop, int side) {
  const double scale = static_cast<double>(side) / std::max(crop.cols, crop.rows);
  cv::Mat small;
  cv::resize(crop, small, cv::Size(), scale, scale, cv::INTER_AREA);
  cv::Mat out(side, side, CV_8UC3, cv::Scalar(0, 0, 0));
  small.copyTo(
      out(cv::Rect((side - small.cols) / 2, (side - small.rows) / 2, small.cols, small.rows)));
  return out;
}

void label(cv::Mat& image, const std::string& text, cv::Point origin, double scale) {
  int baseline = 0;
  const cv::Size size = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, scale, 1, &baseline);
  cv::rectangle(image,
                cv::Rect(origin.x, origin.y - size.height - 4, size.width + 6, size.height + 8),
                cv::Scalar(40, 40, 40), cv::FILLED);
  cv::putText(image, text, cv::Point(origin.x + 3, origin.y), cv::FONT_HERSHEY_SIMPLEX, scale,
              cv::Scalar(255, 255, 255), 1, cv::LINE_AA);
}

}  // namespace

cv::Mat day_sheet(const Proposal& proposal, const OwnerDay& day, int thumb) {
  std::vector<cv::Mat> thumbs;
  for (int i : day.faces) {
    const LibraryFace& face = proposal.faces[static_cast<std::size_t>(i)];
    cv::Mat t = thumbnail(face_crop(face), thumb);
    char score[32];
    std::snprintf(score, sizeof score, "%.2f", face.score);
    label(t, score, cv::Point(2, thumb - 4), 0.4);
    thumbs.push_back(std::move(t));
  }
  const cv::Mat grid = contact_sheet(thumbs, 10);
  const int header = 30;
  cv::Mat sheet(grid.rows + header, std::max(grid.cols, 10 * thumb), CV_8UC3, cv::Scalar(0, 0, 0));
  if (!grid.empty()) grid.copyTo(sheet(cv::Rect(0, header, grid.cols, grid.rows)));
  label(sheet,
        day.day + ": " + std::to_string(day.faces.size()) + " faces proposed (date from " +
            day.taken_from + "); score = the rule's value against the seeds",
        cv::Point(4, 22), 0.5);
  return sheet;
}

namespace {

/// A file name for face `face` in `folder` that no other file there has.
std::string free_name(const LibraryFace& face, const fs::path& folder,
                      std::set<std::string>& taken) {
  const std::string stem = fs::path(face.file).stem().string() + "_" + std::to_string(face.index);
  std::string name = stem + ".jpg";
  for (int n = 2; taken.count((folder / name).string()) || fs::exists(folder / name); ++n)
    name = stem + "-" + std::to_string(n) + ".jpg";
  taken.insert((folder / name).string());
  return name;
}

/// A relative path that stays inside its folder (no "..", not absolute).
bool stays_inside(const fs::path& relative) {
  if (relative.empty() || relative.is_absolute()) return false;
  for (const auto& part : relative)
    if (part == "..") return false;
  return true;
}

}  // namespace

void require_outside_library(const fs::path& library, const fs::path& into) {
  std::error_code a, b;
  const fs::path lib = fs::weakly_canonical(fs::absolute(library), a);
  const fs::path dir = fs::weakly_canonical(fs::absolute(into), b);
  if (a || b || lib.empty()) return;
  const auto rest = std::mismatch(lib.begin(), lib.end(), dir.begin(), dir.end()).first;
  if (rest == lib.end() || (std::next(rest) == lib.end() && rest->empty()))
    throw usage_error(into.string() + " is inside the library " + library.string() +
                      ": the library is only read, choose another folder");
}

Enrolment confirm_enrolment(const Proposal& proposal, const std::vector<int>& ticked,
                            const fs::path& into, int references_per_day) {
  require_outside_library(proposal.library, into);
  if (fs::exists(into / kEnrolmentManifest))
    throw usage_error(into.string() +
                      " holds an enrolment already; undo it first (faceenroll undo " +
                      into.string() + ")");
  const std::set<int> chosen(ticked.begin(), ticked.end());
  if (chosen.empty()) throw usage_error("no face ticked: nothing to enrol");
  std::set<int> proposed;
  for (const auto& d : proposal.days) proposed.insert(d.faces.begin(), d.faces.end());
  for (int id : chosen)
    if (!proposed.count(id))
      throw usage_error("face " + std::to_string(id) + " is not one of the proposed faces");

  Enrolment e;
  e.into = into;
  std::set<std::string> names;
  json days = json::array();
  try {
    for (const auto& d : proposal.days) {
      int day_faces = 0;
      for (int id : d.faces) {
        if (!chosen.count(id)) continue;
        const LibraryFace& face = proposal.faces[static_cast<std::size_t>(id)];
        const cv::Mat crop = face_crop(face);
        std::vector<fs::path> targets = {fs::path(d.day)};
        if (day_faces < references_per_day) targets.push_back(fs::path("references") / d.day);
        for (const auto& folder : targets) {
          create_folder(into / folder, "the enrolment folder");
          const fs::path file = folder / free_name(face, into / folder, names);
          write_image(into / file, crop);
          e.files.push_back(file.string());
        }
        e.references += day_faces < references_per_day;
        ++day_faces;
      }
      if (day_faces > 0) {
        days.push_back({{"day", d.day}, {"taken_from", d.taken_from}, {"faces", day_faces}});
        e.faces += static_cast<std::size_t>(day_faces);
        ++e.days;
      }
    }
    const json manifest = {{"library", proposal.library},
                           {"seeds", proposal.seeds},
                           {"model", proposal.model},
                           {"confirmed", local_time(std::time(nullptr))},
                           {"days", days},
                           {"files", e.files}};
    write_file_atomically(into / kEnrolmentManifest, "the enrolment manifest",
                          manifest.dump(2) + "\n");
    e.files.push_back(kEnrolmentManifest);
  } catch (...) {
    std::error_code ec;
    for (const auto& f : e.files) fs::remove(into / f, ec);
    throw;
  }
  logger()->info("enrolled {} faces of {} day(s) into {} ({} references)", e.faces, e.days,
                 into.string(), e.references);
  return e;
}

std::size_t undo_enrolment(const fs::path& into) {
  const fs::path manifest_file = into / kEnrolmentManifest;
  std::ifstream in(manifest_file);
  if (!in)
    throw input_error(into.string() + ": no enrolment to undo (no " + kEnrolmentManifest + ")");
  std::vector<std::string> files;
  try {
    files = json::parse(in).at("files").get<std::vector<std::string>>();
  } catch (const std::exception& e) {
    throw input_error(manifest_file.string() + ": not an enrolment manifest: " + e.what());
  }
  for (const auto& f : files)
    if (!stays_inside(f))
      throw input_error(manifest_file.string() + ": refusing a path outside the folder: " + f);
  std::size_t removed = 0;
  std::set<fs::path, std::greater<>> folders;  // deepest first
  for (const auto& f : files) {
    std::error_code ec;
    removed += fs::remove(into / f, ec) ? 1 : 0;
    for (fs::path parent = fs::path(f).parent_path(); !parent.empty();
         parent = parent.parent_path())
      folders.insert(parent);
  }
  std::error_code ec;
  removed += fs::remove(manifest_file, ec) ? 1 : 0;
  for (const auto& folder : folders)
    if (fs::is_empty(into / folder, ec)) fs::remove(into / folder, ec);
  logger()->info("removed the {} files of the enrolment in {}", removed, into.string());
  return removed;
}

}  // namespace faceid
