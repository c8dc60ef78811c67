#pragma once
// The face cache (DESIGN.md §2): every source image detected and aligned once, its chip kept on
// disk keyed by the file's identity (path, size, mtime) and the preprocessing fingerprint. This
// part only stores and loads (no OpenCV), so a machine with only LibTorch can train from a cache;
// filling it is the vision layer's job (face_pipeline.hpp).
//
// File format (little-endian): "FIDC" u32 version, u32 chip_size, str fingerprint, u64 count,
// count x entry, "END." — a truncated or foreign file is detected and ignored (rebuilt).
// entry = str path, u64 size, i64 mtime_ns, u8 status, u32 faces_found, f32 score,
//         str detector, str message, chip_size*chip_size*3 bytes (status Face only).
// str = u32 length + bytes.

#include <cstdint>
#include <filesystem>
#include <string>
#include <unordered_map>
#include <vector>

namespace faceid {

/// What a file's identity is: its (absolute) path, byte size and modification time.
struct FileKey {
  std::string path;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  bool operator==(const FileKey& o) const {
    return path == o.path && size == o.size && mtime_ns == o.mtime_ns;
  }
};

/// The key of an existing file. Throws Error(Input) when it cannot be stat'ed.
FileKey file_key(const std::filesystem::path& file);

enum class FaceStatus : std::uint8_t {
  Face = 0,        ///< a face was found; `chip` holds it
  NoFace = 1,      ///< decoded, but the detector found no face
  Unreadable = 2,  ///< could not be decoded (message says why)
};

/// One source image's outcome.
struct CachedFace {
  FileKey key;
  FaceStatus status = FaceStatus::NoFace;
  std::uint32_t faces_found = 0;   ///< faces in the image; the chip is of the largest
  float score = 0;                 ///< detector confidence of the chip's face
  std::string detector;            ///< "yunet" or "haar"
  std::string message;             ///< why Unreadable / NoFace
  std::vector<std::uint8_t> chip;  ///< chip_size x chip_size x 3, RGB, row-major (status Face)
};

class FaceCache {
 public:
  FaceCache(int chip_size, std::string fingerprint);

  /// Loads `file` if it exists and was written with the same chip size and fingerprint;
  /// otherwise (absent, other settings, truncated, corrupt) returns an empty cache and logs why.
  static FaceCache load(const std::filesystem::path& file, int chip_size,
                        const std::string& fingerprint);

  /// Writes atomically (temporary file + rename). Throws Error(Input) when the folder is not
  /// writable.
  void save(const std::filesystem::path& file) const;

  /// The entry for this exact file identity, or nullptr (unknown file, or it changed since).
  const CachedFace* find(const FileKey& key) const;

  /// Adds or replaces the entry for `face.key.path`. Throws Error(Internal) on a wrong chip size.
  void put(CachedFace face);

  /// Drops entries whose file no longer exists; returns how many.
  std::size_t drop_missing();

  /// The file identities of all entries, in no particular order.
  std::vector<FileKey> keys() const;

  std::size_t size() const { return entries_.size(); }
  int chip_size() const { return chip_size_; }
  const std::string& fingerprint() const { return fingerprint_; }

 private:
  int chip_size_;
  std::string fingerprint_;
  std::unordered_map<std::string, CachedFace> entries_;
};

/// Where caches live: $FACEID_CACHE, else $XDG_CACHE_HOME/faceid, else ~/.cache/faceid.
std::filesystem::path default_cache_dir();

/// The cache file for one source folder under `cache_dir`, named by a hash of the folder's
/// absolute path and the preprocessing fingerprint.
std::filesystem::path cache_file_for(const std::filesystem::path& cache_dir,
                                     const std::filesystem::path& source,
                                     const std::string& fingerprint);

}  // namespace faceid
