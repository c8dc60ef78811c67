#pragma once
// The face cache (docs/design.md §2): every source image detected and aligned once, its chip kept
// on disk keyed by the file's identity (path, size, mtime) and the preprocessing fingerprint. This
// part only stores and loads (no OpenCV), so a machine with only LibTorch can train from a cache;
// filling it is the vision layer's job (face_pipeline.hpp).
//
// File format (little-endian): "FIDC" u32 version, u32 chip_size, str fingerprint, u64 count,
// count x entry, "END." — a truncated or foreign file is detected and ignored (rebuilt).
// entry = str path, u64 size, i64 mtime_ns, u8 status, u32 faces_found, f32 score,
//         str detector, str message, chip_size*chip_size*3 bytes (status Face only).
// str = u32 length + bytes.
//
// A cache loaded with ChipLoading::OnDemand keeps each chip's place in the file instead of its
// bytes (the file stays open, so that a newer cache renamed over it changes nothing): memory
// then grows with the number of faces by their paths only, not by their pixels.

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <memory>
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

/// A face cache file held open to read chips from (ChipLoading::OnDemand).
class ChipFile {
 public:
  /// Throws Error(Input) when the file cannot be opened.
  explicit ChipFile(const std::filesystem::path& file);
  ~ChipFile();
  ChipFile(const ChipFile&) = delete;
  ChipFile& operator=(const ChipFile&) = delete;
  /// Reads `bytes` at `offset`. Throws Error(Input) when the file ends before.
  void read(std::uint64_t offset, std::uint8_t* out, std::size_t bytes) const;
  int descriptor() const { return fd_; }

 private:
  int fd_ = -1;
  std::string path_;
};

enum class ChipLoading {
  InMemory,  ///< every chip's bytes are read into memory
  OnDemand,  ///< chips stay in the file, read when needed (CachedFace::read_chip)
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
  /// Status Face with an empty `chip`: the chip is in this file, at `chip_offset`.
  std::shared_ptr<const ChipFile> chip_file;
  std::uint64_t chip_offset = 0;

  /// Copies the chip (`bytes` = chip_size^2 x 3) to `out`, from memory or from its file.
  void read_chip(std::uint8_t* out, std::size_t bytes) const;
};

class FaceCache {
 public:
  FaceCache(int chip_size, std::string fingerprint);

  /// Loads `file` if it exists and was written with the same chip size and fingerprint;
  /// otherwise (absent, other settings, truncated, corrupt) returns an empty cache and logs why.
  static FaceCache load(const std::filesystem::path& file, int chip_size,
                        const std::string& fingerprint,
                        ChipLoading loading = ChipLoading::InMemory);

  /// Writes atomically (temporary file + rename). Throws Error(Input) when the folder is not
  /// writable.
  void save(const std::filesystem::path& file) const;

  /// The entry for this exact file identity, or nullptr (unknown file, or it changed since).
  const CachedFace* find(const FileKey& key) const;

  /// The entry for `file` as it is now, or nullptr (unknown, changed since, or gone).
  const CachedFace* find_file(const std::filesystem::path& file) const;

  /// Adds or replaces the entry for `face.key.path`. Throws Error(Internal) on a wrong chip size
  /// (a face needs its chip in memory or in a file).
  void put(CachedFace face);

  /// Moves every entry of `other` into this cache (an entry for the same path is replaced),
  /// without copying it. Throws Error(Internal) for another chip size or fingerprint.
  void merge(FaceCache&& other);

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

/// Writes a face cache entry by entry, for sets too big to hold in memory: the header with the
/// number of entries first, then each entry, then finish().
class FaceCacheWriter {
 public:
  FaceCacheWriter(std::ostream& out, int chip_size, const std::string& fingerprint,
                  std::uint64_t count);
  /// Throws Error(Internal) on a wrong chip size or more entries than announced.
  void add(const CachedFace& face);
  /// Throws Error(Internal) unless exactly the announced number of entries was added.
  void finish();

 private:
  std::ostream& out_;
  std::size_t chip_bytes_;
  std::uint64_t count_, added_ = 0;
  std::vector<std::uint8_t> buffer_;
};

/// What filling (or reading) a cache did.
struct CacheUpdate {
  std::size_t images = 0;    ///< files asked for
  std::size_t hits = 0;      ///< answered from the cache
  std::size_t computed = 0;  ///< decoded and detected now
  std::size_t faces = 0;     ///< files with a face (hits included)
  std::size_t no_face = 0;
  std::size_t unreadable = 0;
  double seconds = 0;  ///< wall time of the update (without load/save)
  std::vector<std::string> no_face_files;
  std::vector<std::string> unreadable_files;  ///< "path: why"
};

/// Where caches live: $FACEID_CACHE, else $XDG_CACHE_HOME/faceid, else ~/.cache/faceid.
std::filesystem::path default_cache_dir();

/// The cache file for one source folder under `cache_dir`, named by a hash of the folder's
/// absolute path and the preprocessing fingerprint.
std::filesystem::path cache_file_for(const std::filesystem::path& cache_dir,
                                     const std::filesystem::path& source,
                                     const std::string& fingerprint);

/// Counts each of `files` into `stats` (faces, no_face, unreadable and their lists) by what `cache`
/// holds for it; returns the files it holds nothing for (unknown, or changed since).
std::vector<std::filesystem::path> tally_faces(const FaceCache& cache,
                                               const std::vector<std::filesystem::path>& files,
                                               CacheUpdate& stats);

/// The faces of `files` as the cache of `source` in `cache_dir` holds them, detecting nothing:
/// how a build without the vision layer trains from caches that faceprep (or any tool) filled.
/// Throws Error(Input), saying how to fill it, when the cache is missing or lacks a file or holds
/// an older version of one.
FaceCache load_cached_faces(const std::filesystem::path& cache_dir,
                            const std::filesystem::path& source,
                            const std::vector<std::filesystem::path>& files, int chip_size,
                            const std::string& fingerprint, ChipLoading loading,
                            CacheUpdate* stats = nullptr);

}  // namespace faceid
