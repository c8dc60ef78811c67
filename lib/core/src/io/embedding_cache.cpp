#include "faceid/io/embedding_cache.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>

#include <spdlog/spdlog.h>

#include "detail/binary_io.hpp"
#include "detail/retain.hpp"
#include "faceid/config.hpp"
#include "faceid/error.hpp"
#include "faceid/io/atomic_file.hpp"
#include "faceid/log.hpp"

namespace fs = std::filesystem;

namespace faceid {
namespace {

constexpr char kMagic[4] = {'F', 'I', 'D', 'E'};
constexpr char kEnd[4] = {'E', 'N', 'D', '.'};
constexpr std::uint32_t kVersion = 1;

}  // namespace

EmbeddingCache::EmbeddingCache(std::string model_checksum, int dim)
    : checksum_(std::move(model_checksum)), dim_(dim) {}

EmbeddingCache EmbeddingCache::load(const fs::path& file, const std::string& model_checksum,
                                    int dim) {
  EmbeddingCache cache(model_checksum, dim);
  std::ifstream in(file, std::ios::binary);
  if (!in) return cache;
  try {
    detail::Reader r{in};
    r.marker(kMagic, "not a faceid embedding cache");
    if (r.pod<std::uint32_t>() != kVersion) throw std::runtime_error("other format version");
    if (r.str() != model_checksum || r.pod<std::uint32_t>() != static_cast<std::uint32_t>(dim))
      throw std::runtime_error("written for another model");
    const auto count = r.pod<std::uint64_t>();
    for (std::uint64_t i = 0; i < count; ++i) {
      FileKey key;
      key.path = r.str();
      key.size = r.pod<std::uint64_t>();
      key.mtime_ns = r.pod<std::int64_t>();
      std::vector<float> e(static_cast<std::size_t>(dim));
      r.bytes(reinterpret_cast<char*>(e.data()), e.size() * sizeof(float));
      // A NaN would make every score against this reference NaN: a silent "no match".
      if (!std::all_of(e.begin(), e.end(), [](float v) { return std::isfinite(v); }))
        throw std::runtime_error("non-finite embedding");
      cache.put(key, std::move(e));
    }
    r.marker(kEnd, "missing end marker");
  } catch (const std::exception& e) {
    logger()->info("embedding cache {}: {}; recomputing", file.string(), e.what());
    return EmbeddingCache(model_checksum, dim);
  }
  return cache;
}

void EmbeddingCache::save(const fs::path& file) const {
  create_folder(file.parent_path(), "the cache folder");
  write_file_atomically(file, "the embedding cache", [&](std::ostream& out) {
    out.write(kMagic, 4);
    detail::put_pod(out, kVersion);
    detail::put_str(out, checksum_);
    detail::put_pod(out, static_cast<std::uint32_t>(dim_));
    detail::put_pod(out, static_cast<std::uint64_t>(entries_.size()));
    for (const auto& [path, entry] : entries_) {
      detail::put_str(out, entry.first.path);
      detail::put_pod(out, entry.first.size);
      detail::put_pod(out, entry.first.mtime_ns);
      out.write(reinterpret_cast<const char*>(entry.second.data()),
                static_cast<std::streamsize>(entry.second.size() * sizeof(float)));
    }
    out.write(kEnd, 4);
  });
}

const std::vector<float>* EmbeddingCache::find(const FileKey& key) const {
  const auto it = entries_.find(key.path);
  if (it == entries_.end() || !(it->second.first == key)) return nullptr;
  return &it->second.second;
}

void EmbeddingCache::put(const FileKey& key, std::vector<float> embedding) {
  if (embedding.size() != static_cast<std::size_t>(dim_))
    throw internal_error("embedding cache: embedding of size " + std::to_string(embedding.size()) +
                         ", expected " + std::to_string(dim_));
  entries_[key.path] = {key, std::move(embedding)};
}

std::size_t EmbeddingCache::retain(const std::vector<FileKey>& keep) {
  return detail::retain_paths(entries_, keep);
}

std::vector<FileKey> EmbeddingCache::keys() const {
  std::vector<FileKey> out;
  for (const auto& entry : entries_) out.push_back(entry.second.first);
  return out;
}

fs::path embedding_cache_file(const fs::path& cache_dir, const fs::path& refs_dir,
                              const std::string& model_checksum) {
  std::error_code ec;
  const auto abs = fs::absolute(refs_dir, ec).lexically_normal();
  return cache_dir / ("refs-" + fnv1a_hex(abs.string() + "|" + model_checksum) + ".bin");
}

}  // namespace faceid
