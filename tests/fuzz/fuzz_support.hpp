#pragma once
// Shared by the libFuzzer targets: the parsers under test read files, so each input is written
// to a scratch file of this process first.

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

/// An invariant of the code under test is broken: crash, so that libFuzzer keeps the input.
#define FUZZ_CHECK(condition) \
  if (!(condition)) std::abort()

namespace faceid::fuzz {

/// This process's scratch folder (under $TMPDIR), created on first use.
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("faceid-fuzz-" + std::to_string(getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

/// Replaces `file` by `size` bytes from `data`.
inline void write_bytes(const std::filesystem::path& file, const void* data, std::size_t size) {
  std::ofstream(file, std::ios::binary | std::ios::trunc)
      .write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
}

/// Writes `data` to this process's scratch file "input<suffix>" and returns its path.
inline std::filesystem::path scratch_file(const std::uint8_t* data, std::size_t size,
                                          const std::string& suffix) {
  const auto path = scratch_dir() / ("input" + suffix);
  write_bytes(path, data, size);
  return path;
}

/// What both caches (face cache, embedding cache) promise for a file their load() accepted:
/// every key finds an entry that passes `check(entry)`, and a save then `reload(file)` gives back
/// as many entries, each `same(before, after)`.
template <typename Cache, typename Reload, typename Check, typename Same>
void check_cache(const Cache& cache, Reload reload, Check check, Same same) {
  const auto keys = cache.keys();
  FUZZ_CHECK(keys.size() == cache.size());
  for (const auto& key : keys) {
    const auto* entry = cache.find(key);
    FUZZ_CHECK(entry && check(*entry));
  }
  const auto again = scratch_dir() / "again.bin";
  cache.save(again);
  const Cache reloaded = reload(again);
  FUZZ_CHECK(reloaded.size() == cache.size());
  for (const auto& key : keys) {
    const auto* entry = reloaded.find(key);
    FUZZ_CHECK(entry && same(*cache.find(key), *entry));
  }
}

}  // namespace faceid::fuzz
