#pragma once
// The reference embedding cache (docs/design.md §6): each reference photo of the owner is embedded
// once per model. Entries are keyed by the file's identity (path, size, mtime); the whole file by
// the model's weights checksum, so another model starts afresh and a changed, added or removed
// photo recomputes only itself.
//
// File format (little-endian): "FIDE" u32 version, str model_checksum, u32 dim, u64 count,
// count x (str path, u64 size, i64 mtime_ns, dim x f32), "END.".

#include <filesystem>
#include <string>
#include <unordered_map>
#include <vector>

#include "faceid/io/face_cache.hpp"

namespace faceid {

class EmbeddingCache {
 public:
  EmbeddingCache(std::string model_checksum, int dim);

  /// Loads `file` when it was written for the same model and dimension; otherwise (absent,
  /// another model, truncated, corrupt, a non-finite value) returns an empty cache and logs why.
  static EmbeddingCache load(const std::filesystem::path& file, const std::string& model_checksum,
                             int dim);

  /// Writes atomically (temporary file + rename). Throws Error(Input) when it cannot be written.
  void save(const std::filesystem::path& file) const;

  /// The embedding of this exact file identity, or nullptr.
  const std::vector<float>* find(const FileKey& key) const;
  /// Adds or replaces. Throws Error(Internal) for a wrong dimension.
  void put(const FileKey& key, std::vector<float> embedding);
  /// Drops the entries whose path is not in `keep`; returns how many.
  std::size_t retain(const std::vector<FileKey>& keep);
  /// The file identities of all entries, in no particular order.
  std::vector<FileKey> keys() const;

  std::size_t size() const { return entries_.size(); }

 private:
  std::string checksum_;
  int dim_;
  std::unordered_map<std::string, std::pair<FileKey, std::vector<float>>> entries_;
};

/// The embedding cache file of the references in `refs_dir` for one model, under `cache_dir`.
std::filesystem::path embedding_cache_file(const std::filesystem::path& cache_dir,
                                           const std::filesystem::path& refs_dir,
                                           const std::string& model_checksum);

}  // namespace faceid
