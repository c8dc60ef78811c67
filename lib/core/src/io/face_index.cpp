#include "faceid/io/face_index.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>

#include <spdlog/spdlog.h>

#include "detail/binary_io.hpp"
#include "detail/retain.hpp"
#include "faceid/config.hpp"
#include "faceid/io/atomic_file.hpp"
#include "faceid/log.hpp"

namespace fs = std::filesystem;

namespace faceid {
namespace {

constexpr char kMagic[4] = {'F', 'I', 'D', 'L'};
constexpr char kEnd[4] = {'E', 'N', 'D', '.'};
constexpr std::uint32_t kVersion = 1;
constexpr std::uint32_t kMaxFacesPerPhoto = 10'000;

IndexedPhoto read_photo(detail::Reader& r) {
  IndexedPhoto p;
  p.key.path = r.str();
  p.key.size = r.pod<std::uint64_t>();
  p.key.mtime_ns = r.pod<std::int64_t>();
  const auto status = r.pod<std::uint8_t>();
  if (status > static_cast<std::uint8_t>(FaceStatus::Unreadable))
    throw std::runtime_error("bad status");
  p.status = static_cast<FaceStatus>(status);
  p.message = r.str();
  p.taken = r.str();
  p.taken_from = r.str();
  const auto faces = r.pod<std::uint32_t>();
  if (faces > kMaxFacesPerPhoto) throw std::runtime_error("implausible face count");
  if ((faces > 0) != (p.status == FaceStatus::Face))
    throw std::runtime_error("face count does not fit the status");
  p.faces.resize(faces);
  for (auto& f : p.faces) {
    for (float& v : f.box) v = r.pod<float>();
    for (float& v : f.landmarks) v = r.pod<float>();
    f.has_landmarks = r.pod<std::uint8_t>() != 0;
    f.score = r.pod<float>();
    // A crop or an alignment of a box of NaNs or of no size would be undefined.
    const auto finite = [](float v) { return std::isfinite(v) && std::fabs(v) < 1e7f; };
    if (!std::all_of(f.box.begin(), f.box.end(), finite) ||
        !std::all_of(f.landmarks.begin(), f.landmarks.end(), finite) || !finite(f.score) ||
        !(f.box[2] > 0) || !(f.box[3] > 0))
      throw std::runtime_error("implausible face box");
  }
  return p;
}

}  // namespace

FaceIndex::FaceIndex(std::string fingerprint) : fingerprint_(std::move(fingerprint)) {}

FaceIndex FaceIndex::load(const fs::path& file, const std::string& fingerprint) {
  FaceIndex index(fingerprint);
  std::ifstream in(file, std::ios::binary);
  if (!in) return index;
  try {
    detail::Reader r{in};
    r.marker(kMagic, "not a faceid face index");
    if (r.pod<std::uint32_t>() != kVersion) throw std::runtime_error("other format version");
    if (r.str() != fingerprint) throw std::runtime_error("written with other settings");
    const auto count = r.pod<std::uint64_t>();
    for (std::uint64_t i = 0; i < count; ++i) index.put(read_photo(r));
    r.marker(kEnd, "missing end marker");
  } catch (const std::exception& e) {
    logger()->info("face index {}: {}; detecting again", file.string(), e.what());
    return FaceIndex(fingerprint);
  }
  return index;
}

void FaceIndex::save(const fs::path& file) const {
  create_folder(file.parent_path(), "the cache folder");
  write_file_atomically(file, "the face index", [&](std::ostream& out) {
    out.write(kMagic, 4);
    detail::put_pod(out, kVersion);
    detail::put_str(out, fingerprint_);
    detail::put_pod(out, static_cast<std::uint64_t>(entries_.size()));
    for (const auto& [path, p] : entries_) {
      detail::put_str(out, p.key.path);
      detail::put_pod(out, p.key.size);
      detail::put_pod(out, p.key.mtime_ns);
      detail::put_pod(out, static_cast<std::uint8_t>(p.status));
      detail::put_str(out, p.message);
      detail::put_str(out, p.taken);
      detail::put_str(out, p.taken_from);
      detail::put_pod(out, static_cast<std::uint32_t>(p.faces.size()));
      for (const auto& f : p.faces) {
        for (float v : f.box) detail::put_pod(out, v);
        for (float v : f.landmarks) detail::put_pod(out, v);
        detail::put_pod(out, static_cast<std::uint8_t>(f.has_landmarks));
        detail::put_pod(out, f.score);
      }
    }
    out.write(kEnd, 4);
  });
}

const IndexedPhoto* FaceIndex::find(const FileKey& key) const {
  const auto it = entries_.find(key.path);
  return it != entries_.end() && it->second.key == key ? &it->second : nullptr;
}

void FaceIndex::put(IndexedPhoto photo) {
  std::string path = photo.key.path;
  entries_.insert_or_assign(std::move(path), std::move(photo));
}

std::size_t FaceIndex::retain(const std::vector<FileKey>& keep) {
  return detail::retain_paths(entries_, keep);
}

std::vector<FileKey> FaceIndex::keys() const {
  std::vector<FileKey> keys;
  for (const auto& [path, p] : entries_) keys.push_back(p.key);
  return keys;
}

fs::path face_index_file(const fs::path& cache_dir, const fs::path& root,
                         const std::string& fingerprint) {
  std::error_code ec;
  const auto abs = fs::absolute(root, ec).lexically_normal();
  return cache_dir / ("library-" + fnv1a_hex(abs.string() + "|" + fingerprint) + ".bin");
}

FileKey face_key(const FileKey& photo, std::size_t face) {
  FileKey key = photo;
  key.path += "#" + std::to_string(face);
  return key;
}

}  // namespace faceid
