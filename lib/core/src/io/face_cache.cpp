#include "faceid/io/face_cache.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include <spdlog/spdlog.h>

#include "detail/binary_io.hpp"
#include "faceid/config.hpp"
#include "faceid/error.hpp"
#include "faceid/io/atomic_file.hpp"
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

ChipFile::ChipFile(const fs::path& file) : path_(file.string()) {
  fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw input_error(path_ + ": " + std::strerror(errno));
}

ChipFile::~ChipFile() {
  if (fd_ >= 0) ::close(fd_);
}

void ChipFile::read(std::uint64_t offset, std::uint8_t* out, std::size_t bytes) const {
  std::size_t done = 0;
  while (done < bytes) {
    const ssize_t n = ::pread(fd_, out + done, bytes - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      throw input_error(path_ + ": cannot read a chip at byte " + std::to_string(offset) + ": " +
                        (n < 0 ? std::strerror(errno) : "the file ends before it"));
    done += static_cast<std::size_t>(n);
  }
}

void CachedFace::read_chip(std::uint8_t* out, std::size_t bytes) const {
  if (chip.size() == bytes) {
    std::memcpy(out, chip.data(), bytes);
  } else if (chip_file) {
    chip_file->read(chip_offset, out, bytes);
  } else {
    throw internal_error("face cache: " + key.path + " has no chip of " + std::to_string(bytes) +
                         " bytes");
  }
}

FaceCache::FaceCache(int chip_size, std::string fingerprint)
    : chip_size_(chip_size), fingerprint_(std::move(fingerprint)) {}

FaceCache FaceCache::load(const fs::path& file, int chip_size, const std::string& fingerprint,
                          ChipLoading loading) {
  FaceCache cache(chip_size, fingerprint);
  std::error_code ec;
  if (!fs::exists(file, ec)) return cache;
  std::shared_ptr<const ChipFile> chip_file;
  std::ifstream in;
  try {
    if (loading == ChipLoading::OnDemand) {
      // The entries are read through the very file the chips will be read from later.
      chip_file = std::make_shared<const ChipFile>(file);
      in.open("/proc/self/fd/" + std::to_string(chip_file->descriptor()), std::ios::binary);
    } else {
      in.open(file, std::ios::binary);
    }
    if (!in) throw std::runtime_error("cannot open it");
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
      if (f.status == FaceStatus::Face && chip_file) {
        f.chip_file = chip_file;
        f.chip_offset = static_cast<std::uint64_t>(in.tellg());
        in.seekg(static_cast<std::streamoff>(chip_bytes), std::ios::cur);
      } else if (f.status == FaceStatus::Face) {
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
    FaceCacheWriter writer(out, chip_size_, fingerprint_, entries_.size());
    for (const auto& entry : entries_) writer.add(entry.second);
    writer.finish();
  });
}

FaceCacheWriter::FaceCacheWriter(std::ostream& out, int chip_size, const std::string& fingerprint,
                                 std::uint64_t count)
    : out_(out),
      chip_bytes_(static_cast<std::size_t>(chip_size) * chip_size * 3),
      count_(count),
      buffer_(chip_bytes_) {
  out_.write(kMagic, 4);
  put_pod(out_, kVersion);
  put_pod(out_, static_cast<std::uint32_t>(chip_size));
  put_str(out_, fingerprint);
  put_pod(out_, count_);
}

void FaceCacheWriter::add(const CachedFace& f) {
  if (++added_ > count_)
    throw internal_error("face cache: more entries than the " + std::to_string(count_) +
                         " announced");
  put_str(out_, f.key.path);
  put_pod(out_, f.key.size);
  put_pod(out_, f.key.mtime_ns);
  put_pod(out_, static_cast<std::uint8_t>(f.status));
  put_pod(out_, f.faces_found);
  put_pod(out_, f.score);
  put_str(out_, f.detector);
  put_str(out_, f.message);
  if (f.status == FaceStatus::Face) {
    f.read_chip(buffer_.data(), chip_bytes_);
    out_.write(reinterpret_cast<const char*>(buffer_.data()),
               static_cast<std::streamsize>(chip_bytes_));
  }
}

void FaceCacheWriter::finish() {
  if (added_ != count_)
    throw internal_error("face cache: " + std::to_string(added_) + " entries written, " +
                         std::to_string(count_) + " announced");
  out_.write(kEnd, 4);
}

const CachedFace* FaceCache::find(const FileKey& key) const {
  const auto it = entries_.find(key.path);
  if (it == entries_.end() || !(it->second.key == key)) return nullptr;
  return &it->second;
}

const CachedFace* FaceCache::find_file(const fs::path& file) const {
  try {
    return find(file_key(file));
  } catch (const Error&) {
    return nullptr;  // cannot be stat'ed: gone
  }
}

void FaceCache::put(CachedFace face) {
  const std::size_t chip_bytes = static_cast<std::size_t>(chip_size_) * chip_size_ * 3;
  if (face.status == FaceStatus::Face && face.chip.size() != chip_bytes && !face.chip_file)
    throw internal_error("face cache: chip of " + std::to_string(face.chip.size()) +
                         " bytes, expected " + std::to_string(chip_bytes));
  if (face.status != FaceStatus::Face) {
    face.chip.clear();
    face.chip_file.reset();
  }
  std::string path = face.key.path;
  entries_[std::move(path)] = std::move(face);
}

void FaceCache::merge(FaceCache&& other) {
  if (other.chip_size_ != chip_size_ || other.fingerprint_ != fingerprint_)
    throw internal_error("face cache: cannot merge caches of other settings");
  entries_.merge(other.entries_);  // moves the nodes whose path is new here
  for (auto& [path, face] : other.entries_) entries_[path] = std::move(face);
  other.entries_.clear();
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

std::vector<fs::path> tally_faces(const FaceCache& cache, const std::vector<fs::path>& files,
                                  CacheUpdate& stats) {
  std::vector<fs::path> unknown;
  for (const auto& f : files) {
    const CachedFace* face = cache.find_file(f);
    if (!face) {
      unknown.push_back(f);
    } else if (face->status == FaceStatus::Face) {
      ++stats.faces;
    } else if (face->status == FaceStatus::NoFace) {
      ++stats.no_face;
      stats.no_face_files.push_back(f.string());
    } else {
      ++stats.unreadable;
      stats.unreadable_files.push_back(face->message);
    }
  }
  return unknown;
}

FaceCache load_cached_faces(const fs::path& cache_dir, const fs::path& source,
                            const std::vector<fs::path>& files, int chip_size,
                            const std::string& fingerprint, ChipLoading loading,
                            CacheUpdate* stats) {
  const auto start = std::chrono::steady_clock::now();
  const fs::path file = cache_file_for(cache_dir, source, fingerprint);
  const std::string fill =
      "fill it where OpenCV is: faceprep --lfw DIR (a folder of people) or --self DIR (of photos), "
      "with the same --detector, --chip-size and --padding";
  std::error_code ec;
  if (!fs::exists(file, ec))
    throw input_error(source.string() + ": no face cache for these settings in " +
                      cache_dir.string() + "; " + fill);
  FaceCache cache = FaceCache::load(file, chip_size, fingerprint, loading);
  CacheUpdate update;
  update.images = files.size();
  const auto unknown = tally_faces(cache, files, update);
  if (!unknown.empty())
    throw input_error(source.string() + ": its face cache " + file.string() + " lacks " +
                      std::to_string(unknown.size()) + " of " + std::to_string(files.size()) +
                      " images (new or changed since, e.g. " + unknown.front().string() + "); " +
                      fill);
  update.hits = files.size();
  update.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (stats) *stats = std::move(update);
  return cache;
}

}  // namespace faceid
