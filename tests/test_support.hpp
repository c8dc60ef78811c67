#pragma once
// Helpers shared by the tests: temporary folders, small files, and the shared data folder.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "faceid/error.hpp"
#include "faceid/io/sources.hpp"

namespace faceid::test {

/// A fresh folder under the system temp folder, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("faceid-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline void write_file(const std::filesystem::path& file, const std::string& bytes) {
  std::filesystem::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << bytes;
}

inline std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

/// Runs `f` and expects a faceid::Error of `kind` whose message contains `needle`.
template <typename F>
void expect_error(F&& f, faceid::ErrorKind kind, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no error (expected one containing '" << needle << "')";
  } catch (const faceid::Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

}  // namespace faceid::test

/// Declares `var` = data_dir()/relative and skips the test, loudly, when it does not exist.
#define FACEID_REQUIRE_DATA(var, relative)                           \
  const std::filesystem::path var = faceid::data_dir() / (relative); \
  if (!std::filesystem::exists(var))                                 \
  GTEST_SKIP() << "shared data not found: " << var << " (set FACEID_DATA to ../shared/data)"
