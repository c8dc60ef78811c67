#include "faceid/face_cache.hpp"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include <spdlog/spdlog.h>

#include "detail/binary_io.hpp"
#include "faceid/atomic_file.hpp"
#include "faceid/config.hpp"
#include "faceid/error.hpp"
#include "faceid/log.hpp"

namespace fs = std::filesystem;

namespace faceid {
namespace {

using detail::put_pod;
using detail::put_str;
using detail::Reader;

constexpr char kMagic[4] = {'F', 'I', 'D', 'C'};
constexpr char kEnd[4] = {'E', 'N', 'D', '.'};
constexpr std::uint32_t kVersion = 1;

}  // namespace

FileKey file_key(const fs::path& file) {
  std::error_code ec;
  const auto abs = fs::absolute(file, ec).lexically_normal();
  const auto size = fs::file_size(file, ec);
  if (ec) throw input_error(file.string() + ": " + ec.message());
  const auto mtime = fs::last_write_time(file, ec);
  if (ec) throw input_error(file.string() + ": " + ec.message());
  return {
      abs.string(), static_cast<std::uint64_t>(size),
      static_cast<std::int64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(mtime.time_since_epoch()).count())};
}

FaceCache::FaceCache(int chip_size, std::string fingerprint)
    : chip_size_(chip_size), fingerprint_(std::move(fingerprint)) {}

FaceCache FaceCache::load(const fs::path& file, int chip_size, const std::string& fingerprint) {
  FaceCache cache(chip_size, fingerprint);
  std::ifstream in(file, std::ios::binary);
  if (!in) return cache;
  try {
    Reader r{in};
    r.marker(kMagic, "not a faceid face cache");
    if (r.pod<std::uint32_t>() != kVersion) throw std::runtime_error("other format version");
    if (r.pod<std::uint32_t>() != static_cast<std::uint32_t>(chip_size) || r.str() != fingerprint) {
      logger()->info("face cache {}: other preprocessing settings; rebuilding", file.string());
      return cache;
    }
    const auto count = r.pod<std::uint64_t>();
    const std::size_t chip_bytes = static_cast<std::size_t>(chip_size) * chip_size * 3;
    for (std::uint64_t i = 0; i < count; ++i) {
      CachedFace f;
      f.key.path = r.str();
      f.key.size = r.pod<std::uint64_t>();
      f.key.mtime_ns = r.pod<std::int64_t>();
      f.status = static_cast<FaceStatus>(r.pod<std::uint8_t>());
      if (f.status > FaceStatus::Unreadable) throw std::runtime_error("bad entry status");
      f.faces_found = r.pod<std::uint32_t>();
      f.score = r.pod<float>();
      f.detector = r.str();
      f.message = r.str();
      if (f.status == FaceStatus::Face) {
        f.chip.resize(chip_bytes);
        r.bytes(reinterpret_cast<char*>(f.chip.data()), chip_bytes);
      }
      std::string path = f.key.path;
      cache.entries_.emplace(std::move(path), std::move(f));
    }
    r.marker(kEnd, "missing end marker");
  } catch (const std::exception& e) {
    logger()->warn("face cache {}: {}; rebuilding", file.string(), e.what());
    return FaceCache(chip_size, fingerprint);
  }
  return cache;
}

void FaceCache::save(const fs::path& file) const {
  create_folder(file.parent_path(), "the cache folder");
  write_file_atomically(file, "the face cache", [&](std::ostream& out) {
    out.write(kMagic, 4);
    put_pod(out, kVersion);
    put_pod(out, static_cast<std::uint32_t>(chip_size_));
    put_str(out, fingerprint_);
    put_pod(out, static_cast<std::uint64_t>(entries_.size()));
    for (const auto& [path, f] : entries_) {
      put_str(out, f.key.path);
      put_pod(out, f.key.size);
      put_pod(out, f.key.mtime_ns);
      put_pod(out, static_cast<std::uint8_t>(f.status));
      put_pod(out, f.faces_found);
      put_pod(out, f.score);
      put_str(out, f.detector);
      put_str(out, f.message);
      if (f.status == FaceStatus::Face)
        out.write(reinterpret_cast<const char*>(f.chip.data()),
                  static_cast<std::streamsize>(f.chip.size()));
    }
    out.write(kEnd, 4);
  });
}

const CachedFace* FaceCache::find(const FileKey& key) const {
  const auto it = entries_.find(key.path);
  if (it == entries_.end() || !(it->second.key == key)) return nullptr;
  return &it->second;
}

void FaceCache::put(CachedFace face) {
  const std::size_t chip_bytes = static_cast<std::size_t>(chip_size_) * chip_size_ * 3;
  if (face.status == FaceStatus::Face && face.chip.size() != chip_bytes)
    throw internal_error("face cache: chip of " + std::to_string(face.chip.size()) +
                         " bytes, expected " + std::to_string(chip_bytes));
  if (face.status != FaceStatus::Face) face.chip.clear();
  std::string path = face.key.path;
  entries_[std::move(path)] = std::move(face);
}

std::size_t FaceCache::drop_missing() {
  std::size_t dropped = 0;
  std::error_code ec;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (fs::exists(it->first, ec)) {
      ++it;
    } else {
      it = entries_.erase(it);
      ++dropped;
    }
  }
  return dropped;
}

std::vector<FileKey> FaceCache::keys() const {
  std::vector<FileKey> out;
  for (const auto& entry : entries_) out.push_back(entry.second.key);
  return out;
}

fs::path default_cache_dir() {
  if (const char* env = std::getenv("FACEID_CACHE"); env && *env) return env;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return fs::path(xdg) / "faceid";
  if (const char* home = std::getenv("HOME"); home && *home)
    return fs::path(home) / ".cache" / "faceid";
  return fs::path(".faceid-cache");
}

fs::path cache_file_for(const fs::path& cache_dir, const fs::path& source,
                        const std::string& fingerprint) {
  std::error_code ec;
  const auto abs = fs::absolute(source, ec).lexically_normal();
  return cache_dir / ("faces-" + fnv1a_hex(abs.string() + "|" + fingerprint) + ".bin");
}

}  // namespace faceid
