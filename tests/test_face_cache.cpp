#include "faceid/face_cache.hpp"

#include <thread>

#include "faceid/error.hpp"
#include "test_support.hpp"

using namespace faceid;
using faceid::test::TempDir;
using faceid::test::write_file;

namespace {

CachedFace face_for(const std::filesystem::path& file, std::uint8_t fill) {
  CachedFace f;
  f.key = file_key(file);
  f.status = FaceStatus::Face;
  f.faces_found = 2;
  f.score = 0.9f;
  f.detector = "yunet";
  f.chip.assign(8 * 8 * 3, fill);
  return f;
}

}  // namespace

TEST(FaceCache, RoundTripsThroughAFile) {
  TempDir dir;
  write_file(dir / "a.jpg", "aaaa");
  write_file(dir / "b.jpg", "bbbb");
  FaceCache cache(8, "fp");
  cache.put(face_for(dir / "a.jpg", 7));
  CachedFace none;
  none.key = file_key(dir / "b.jpg");
  none.status = FaceStatus::NoFace;
  none.message = "no face found";
  cache.put(none);
  cache.save(dir / "cache.bin");

  const auto loaded = FaceCache::load(dir / "cache.bin", 8, "fp");
  ASSERT_EQ(loaded.size(), 2u);
  const auto* a = loaded.find(file_key(dir / "a.jpg"));
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->faces_found, 2u);
  EXPECT_FLOAT_EQ(a->score, 0.9f);
  EXPECT_EQ(a->chip, std::vector<std::uint8_t>(8 * 8 * 3, 7));
  const auto* b = loaded.find(file_key(dir / "b.jpg"));
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->status, FaceStatus::NoFace);
  EXPECT_EQ(b->message, "no face found");
}

TEST(FaceCache, OtherSettingsOrACorruptFileGiveAnEmptyCache) {
  TempDir dir;
  write_file(dir / "a.jpg", "aaaa");
  FaceCache cache(8, "fp");
  cache.put(face_for(dir / "a.jpg", 1));
  cache.save(dir / "cache.bin");
  EXPECT_EQ(FaceCache::load(dir / "cache.bin", 8, "other").size(), 0u);
  EXPECT_EQ(FaceCache::load(dir / "cache.bin", 16, "fp").size(), 0u);
  auto bytes = faceid::test::read_file(dir / "cache.bin");
  write_file(dir / "cut.bin", bytes.substr(0, bytes.size() - 10));
  EXPECT_EQ(FaceCache::load(dir / "cut.bin", 8, "fp").size(), 0u);
  write_file(dir / "junk.bin", "not a cache at all");
  EXPECT_EQ(FaceCache::load(dir / "junk.bin", 8, "fp").size(), 0u);
  EXPECT_EQ(FaceCache::load(dir / "absent.bin", 8, "fp").size(), 0u);
}

TEST(FaceCache, AChangedFileIsNoLongerFound) {
  TempDir dir;
  write_file(dir / "a.jpg", "aaaa");
  FaceCache cache(8, "fp");
  cache.put(face_for(dir / "a.jpg", 1));
  ASSERT_NE(cache.find(file_key(dir / "a.jpg")), nullptr);
  write_file(dir / "a.jpg", "a different, longer content");
  EXPECT_EQ(cache.find(file_key(dir / "a.jpg")), nullptr);
  // Same size, new modification time.
  write_file(dir / "b.jpg", "bbbb");
  cache.put(face_for(dir / "b.jpg", 1));
  std::filesystem::last_write_time(
      dir / "b.jpg", std::filesystem::last_write_time(dir / "b.jpg") + std::chrono::seconds(5));
  EXPECT_EQ(cache.find(file_key(dir / "b.jpg")), nullptr);
}

TEST(FaceCache, DeletedFilesAreDroppedAndCacheFilesDependOnSettings) {
  TempDir dir;
  write_file(dir / "a.jpg", "a");
  write_file(dir / "b.jpg", "b");
  FaceCache cache(8, "fp");
  cache.put(face_for(dir / "a.jpg", 1));
  cache.put(face_for(dir / "b.jpg", 1));
  std::filesystem::remove(dir / "a.jpg");
  EXPECT_EQ(cache.drop_missing(), 1u);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_NE(cache.find(file_key(dir / "b.jpg")), nullptr);
  EXPECT_NE(cache_file_for(dir.path(), "lfw", "x"), cache_file_for(dir.path(), "lfw", "y"));
  EXPECT_NE(cache_file_for(dir.path(), "lfw", "x"), cache_file_for(dir.path(), "other", "x"));
}

TEST(FaceCache, MissingFileHasNoKey) { EXPECT_THROW(file_key("/no/such/image.jpg"), Error); }
