#include "faceid/io/embedding_cache.hpp"

#include <cmath>
#include <cstring>
#include <iterator>

#include "faceid/error.hpp"
#include "test_support.hpp"

using namespace faceid;
using faceid::test::read_file;
using faceid::test::TempDir;
using faceid::test::write_file;

namespace {

FileKey key(const std::string& path, std::int64_t mtime = 1) { return {path, 100, mtime}; }

}  // namespace

TEST(EmbeddingCache, RoundTripsThroughAFile) {
  TempDir dir;
  EmbeddingCache cache("abc", 3);
  cache.put(key("/r/a.jpg"), {0.5f, -1, 2});
  cache.put(key("/r/b.jpg"), {0, 0, 1});
  cache.put(key("/r/a.jpg", 2), {7, 8, 9});  // replaces the entry of the same path
  EXPECT_EQ(cache.size(), 2u);
  cache.save(dir / "refs.bin");
  // The file alone: no temporary of the write is left beside it.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()),
                          std::filesystem::directory_iterator{}),
            1);
  const auto loaded = EmbeddingCache::load(dir / "refs.bin", "abc", 3);
  ASSERT_EQ(loaded.size(), 2u);
  ASSERT_NE(loaded.find(key("/r/a.jpg", 2)), nullptr);
  EXPECT_EQ(*loaded.find(key("/r/a.jpg", 2)), (std::vector<float>{7, 8, 9}));
  EXPECT_EQ(*loaded.find(key("/r/b.jpg")), (std::vector<float>{0, 0, 1}));
  EXPECT_EQ(loaded.keys().size(), 2u);
}

TEST(EmbeddingCache, AChangedFileIsNoLongerFound) {
  EmbeddingCache cache("abc", 2);
  cache.put(key("/r/a.jpg"), {1, 2});
  EXPECT_NE(cache.find(key("/r/a.jpg")), nullptr);
  EXPECT_EQ(cache.find(key("/r/a.jpg", 5)), nullptr);    // modified since
  EXPECT_EQ(cache.find({"/r/a.jpg", 101, 1}), nullptr);  // another size
  EXPECT_EQ(cache.find(key("/r/other.jpg")), nullptr);
}

TEST(EmbeddingCache, AnotherModelOrDimensionOrACorruptFileGivesAnEmptyCache) {
  TempDir dir;
  EmbeddingCache cache("abc", 2);
  cache.put(key("/r/a.jpg"), {1, 2});
  cache.save(dir / "refs.bin");
  EXPECT_EQ(EmbeddingCache::load(dir / "refs.bin", "abc", 2).size(), 1u);
  EXPECT_EQ(EmbeddingCache::load(dir / "refs.bin", "other", 2).size(), 0u);
  EXPECT_EQ(EmbeddingCache::load(dir / "refs.bin", "abc", 3).size(), 0u);
  EXPECT_EQ(EmbeddingCache::load(dir / "absent.bin", "abc", 2).size(), 0u);
  const std::string bytes = read_file(dir / "refs.bin");
  write_file(dir / "cut.bin", bytes.substr(0, bytes.size() - 6));
  EXPECT_EQ(EmbeddingCache::load(dir / "cut.bin", "abc", 2).size(), 0u);
  write_file(dir / "junk.bin", "not a cache at all");
  EXPECT_EQ(EmbeddingCache::load(dir / "junk.bin", "abc", 2).size(), 0u);
}

// A corrupt entry holding a NaN used to be loaded, making every score against that reference NaN
// (a silent "no match"); fuzz_embedding_cache checks that no accepted embedding has one.
TEST(EmbeddingCache, AnEmbeddingWithANonFiniteValueMakesTheFileIgnored) {
  TempDir dir;
  EmbeddingCache cache("abc", 2);
  cache.put(key("/r/a.jpg"), {1, 2});
  cache.save(dir / "refs.bin");
  std::string bytes = read_file(dir / "refs.bin");
  const float one = 1, nan = std::nanf("");
  const auto at = bytes.find(std::string(reinterpret_cast<const char*>(&one), sizeof one));
  ASSERT_NE(at, std::string::npos);
  bytes.replace(at, sizeof nan, std::string(reinterpret_cast<const char*>(&nan), sizeof nan));
  write_file(dir / "nan.bin", bytes);
  EXPECT_EQ(EmbeddingCache::load(dir / "nan.bin", "abc", 2).size(), 0u);
}

TEST(EmbeddingCache, RetainDropsTheReferencesNoLongerThere) {
  EmbeddingCache cache("abc", 1);
  for (const char* p : {"/r/a.jpg", "/r/b.jpg", "/r/c.jpg"}) cache.put(key(p), {1});
  EXPECT_EQ(cache.retain({key("/r/b.jpg"), key("/r/new.jpg")}), 2u);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_NE(cache.find(key("/r/b.jpg")), nullptr);
}

TEST(EmbeddingCache, AWrongDimensionIsAnInternalError) {
  EmbeddingCache cache("abc", 3);
  faceid::test::expect_error(
      [&] {
        cache.put(key("/r/a.jpg"), {1, 2});
      },
      ErrorKind::Internal, "size 2, expected 3");
}

TEST(EmbeddingCache, TheCacheFileDependsOnTheFolderAndTheModel) {
  const auto a = embedding_cache_file("/c", "/refs", "m1");
  EXPECT_EQ(a.parent_path(), "/c");
  EXPECT_EQ(a, embedding_cache_file("/c", "/refs", "m1"));
  EXPECT_NE(a, embedding_cache_file("/c", "/refs", "m2"));
  EXPECT_NE(a, embedding_cache_file("/c", "/other", "m1"));
}
