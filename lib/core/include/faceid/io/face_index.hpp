#pragma once
// The face index of a photo library (docs/enrol.md): for every photo, each face the detector found
// (box, five landmarks, score), largest first, and when the photo was taken, keyed by the file's
// identity (path, size, mtime) and the preprocessing fingerprint. It keeps no pixels: a face's chip
// is aligned again from the photo when a model needs its embedding (embeddings are cached per
// model, embedding_cache.hpp), so a second run over a grown library detects only the new photos.
//
// File format (little-endian): "FIDL" u32 version, str fingerprint, u64 count, count x photo,
// "END." — a truncated or foreign file is ignored (rebuilt).
// photo = str path, u64 size, i64 mtime_ns, u8 status, str message, str taken, str taken_from,
//         u32 faces, faces x (4 x f32 box, 10 x f32 landmarks, u8 has_landmarks, f32 score).

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <unordered_map>
#include <vector>

#include "faceid/io/face_cache.hpp"

namespace faceid {

/// One face of a photo, in the photo's (upright) pixel coordinates.
struct IndexedFace {
  std::array<float, 4> box{};         ///< x, y, width, height
  std::array<float, 10> landmarks{};  ///< five (x, y): eyes, nose tip, mouth corners (detector.hpp)
  bool has_landmarks = false;
  float score = 0;  ///< detector confidence
};

/// One photo of the library.
struct IndexedPhoto {
  FileKey key;
  FaceStatus status = FaceStatus::NoFace;  ///< Face when `faces` is not empty
  std::string message;                     ///< why Unreadable
  std::string taken;               ///< capture time, "YYYY-MM-DD HH:MM:SS" (empty when unknown)
  std::string taken_from;          ///< "exif" (DateTimeOriginal) or "file time" (the fallback)
  std::vector<IndexedFace> faces;  ///< largest first
  /// The capture day, "YYYY-MM-DD", or "unknown".
  std::string day() const { return taken.size() >= 10 ? taken.substr(0, 10) : "unknown"; }
};

class FaceIndex {
 public:
  explicit FaceIndex(std::string fingerprint);

  /// Loads `file` when it was written with the same fingerprint; otherwise (absent, other
  /// settings, truncated, corrupt, a non-finite or negative-sized box) returns an empty index
  /// and logs why.
  static FaceIndex load(const std::filesystem::path& file, const std::string& fingerprint);
  /// Writes atomically (temporary file + rename). Throws Error(Input) when it cannot be written.
  void save(const std::filesystem::path& file) const;

  /// The entry for this exact file identity, or nullptr (unknown file, or it changed since).
  const IndexedPhoto* find(const FileKey& key) const;
  /// Adds or replaces the entry for `photo.key.path`.
  void put(IndexedPhoto photo);
  /// Drops the entries whose path is not in `keep`; returns how many.
  std::size_t retain(const std::vector<FileKey>& keep);
  /// The file identities of all entries, in no particular order.
  std::vector<FileKey> keys() const;

  std::size_t size() const { return entries_.size(); }
  const std::string& fingerprint() const { return fingerprint_; }

 private:
  std::string fingerprint_;
  std::unordered_map<std::string, IndexedPhoto> entries_;
};

/// The face index file of the library `root` under `cache_dir`, named by a hash of its absolute
/// path and the preprocessing fingerprint.
std::filesystem::path face_index_file(const std::filesystem::path& cache_dir,
                                      const std::filesystem::path& root,
                                      const std::string& fingerprint);

/// The key under which the embedding of face `face` of `photo` is cached (EmbeddingCache): the
/// photo's identity with "#<face>" after its path.
FileKey face_key(const FileKey& photo, std::size_t face);

}  // namespace faceid
