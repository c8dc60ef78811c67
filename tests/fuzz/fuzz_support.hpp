#pragma once
// Shared by the libFuzzer targets: the parsers under test read files, so each input is written
// to one scratch file per process first.

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace faceid::fuzz {

/// Writes `data` to this process's scratch file (under $TMPDIR) and returns its path.
inline const std::filesystem::path& scratch_file(const std::uint8_t* data, std::size_t size,
                                                 const std::string& suffix) {
  static const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("faceid-fuzz-" + std::to_string(getpid()) + suffix);
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), size);
  return path;
}

}  // namespace faceid::fuzz

/// An invariant of the code under test is broken: crash, so that libFuzzer keeps the input.
#define FUZZ_CHECK(condition) \
  if (!(condition)) std::abort()
