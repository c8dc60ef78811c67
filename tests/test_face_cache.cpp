#include "faceid/io/face_cache.hpp"

#include <sstream>
#include <thread>

#include <torch/torch.h>

#include "faceid/error.hpp"
#include "faceid/io/chip_store.hpp"
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

TEST(FaceCache, OnDemandChipsAreReadFromTheFileAsItWasWhenLoaded) {
  TempDir dir;
  write_file(dir / "a.jpg", "aaaa");
  write_file(dir / "b.jpg", "bbbb");
  FaceCache cache(8, "fp");
  cache.put(face_for(dir / "a.jpg", 7));
  cache.put(face_for(dir / "b.jpg", 9));
  cache.save(dir / "cache.bin");

  const auto lazy = FaceCache::load(dir / "cache.bin", 8, "fp", ChipLoading::OnDemand);
  const auto* a = lazy.find(file_key(dir / "a.jpg"));
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(a->chip.empty());
  ASSERT_NE(a->chip_file, nullptr);
  std::vector<std::uint8_t> bytes(8 * 8 * 3);
  a->read_chip(bytes.data(), bytes.size());
  EXPECT_EQ(bytes, std::vector<std::uint8_t>(8 * 8 * 3, 7));

  // Another process saves a newer cache over it: the loaded one still reads its own chips.
  FaceCache newer(8, "fp");
  newer.put(face_for(dir / "b.jpg", 50));
  newer.save(dir / "cache.bin");
  lazy.find(file_key(dir / "b.jpg"))->read_chip(bytes.data(), bytes.size());
  EXPECT_EQ(bytes, std::vector<std::uint8_t>(8 * 8 * 3, 9));

  // Saving an on-demand cache copies its chips from the file into the new one.
  lazy.save(dir / "copy.bin");
  const auto copy = FaceCache::load(dir / "copy.bin", 8, "fp");
  ASSERT_EQ(copy.size(), 2u);
  EXPECT_EQ(copy.find(file_key(dir / "a.jpg"))->chip, std::vector<std::uint8_t>(8 * 8 * 3, 7));

  // A truncated file is detected on demand too (its end marker is read).
  auto whole = faceid::test::read_file(dir / "copy.bin");
  write_file(dir / "cut.bin", whole.substr(0, whole.size() - 100));
  EXPECT_EQ(FaceCache::load(dir / "cut.bin", 8, "fp", ChipLoading::OnDemand).size(), 0u);
}

TEST(FaceCache, MergeMovesTheOtherCachesEntriesIn) {
  TempDir dir;
  write_file(dir / "a.jpg", "aaaa");
  write_file(dir / "b.jpg", "bbbb");
  FaceCache into(8, "fp"), other(8, "fp");
  into.put(face_for(dir / "a.jpg", 1));
  other.put(face_for(dir / "a.jpg", 2));  // the same path: replaces
  other.put(face_for(dir / "b.jpg", 3));
  into.merge(std::move(other));
  ASSERT_EQ(into.size(), 2u);
  EXPECT_EQ(into.find(file_key(dir / "a.jpg"))->chip, std::vector<std::uint8_t>(8 * 8 * 3, 2));
  EXPECT_EQ(into.find(file_key(dir / "b.jpg"))->chip, std::vector<std::uint8_t>(8 * 8 * 3, 3));
  FaceCache wrong(16, "fp");
  EXPECT_THROW(into.merge(std::move(wrong)), Error);
}

TEST(FaceCache, TheWriterWritesExactlyTheAnnouncedEntries) {
  TempDir dir;
  write_file(dir / "a.jpg", "aaaa");
  std::ostringstream out;
  FaceCacheWriter writer(out, 8, "fp", 2);
  writer.add(face_for(dir / "a.jpg", 1));
  EXPECT_THROW(writer.finish(), Error);  // one of two
  writer.add(face_for(dir / "a.jpg", 2));
  EXPECT_THROW(writer.add(face_for(dir / "a.jpg", 3)), Error);
  CachedFace no_chip = face_for(dir / "a.jpg", 1);
  no_chip.chip.clear();
  FaceCache cache(8, "fp");
  EXPECT_THROW(cache.put(no_chip), Error);
}

TEST(ChipStore, GathersRowsFromMemoryAndFromCacheFiles) {
  TempDir dir;
  write_file(dir / "a.jpg", "aaaa");
  write_file(dir / "b.jpg", "bbbb");
  FaceCache cache(8, "fp");
  cache.put(face_for(dir / "a.jpg", 7));
  cache.save(dir / "cache.bin");
  const auto lazy = FaceCache::load(dir / "cache.bin", 8, "fp", ChipLoading::OnDemand);
  const CachedFace in_memory = face_for(dir / "b.jpg", 9);
  const ChipStore store = ChipStore::of({lazy.find(file_key(dir / "a.jpg")), &in_memory}, 8);
  EXPECT_EQ(store.count(), 2);
  EXPECT_EQ(store.chip_size(), 8);
  EXPECT_EQ(store.rows_on_disk(), 1);
  const auto rows = store.gather(std::vector<int>{1, 0, 1});
  ASSERT_EQ(rows.sizes(), (std::vector<std::int64_t>{3, 8, 8, 3}));
  EXPECT_EQ(rows[0].min().item<int>(), 9);
  EXPECT_EQ(rows[1].min().item<int>(), 7);
  EXPECT_EQ(rows[1].max().item<int>(), 7);
  EXPECT_EQ(rows[2].max().item<int>(), 9);
  EXPECT_THROW(store.gather(std::vector<int>{2}), Error);
  EXPECT_THROW(store.gather(std::vector<int>{-1}), Error);

  const ChipStore memory(torch::arange(2 * 4 * 4 * 3).to(torch::kUInt8).view({2, 4, 4, 3}));
  EXPECT_EQ(memory.rows_on_disk(), 0);
  EXPECT_TRUE(torch::equal(memory.gather(std::vector<int>{1})[0], memory.all()[1]));
  EXPECT_THROW(ChipStore(torch::zeros({2, 4, 4}, torch::kUInt8)), Error);
  EXPECT_THROW(ChipStore(torch::zeros({2, 4, 4, 3}, torch::kFloat)), Error);
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
  EXPECT_EQ(cache.find_file(dir / "a.jpg"), nullptr);  // gone: no entry, no error
  EXPECT_NE(cache.find_file(dir / "b.jpg"), nullptr);
  EXPECT_EQ(cache.drop_missing(), 1u);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_NE(cache.find(file_key(dir / "b.jpg")), nullptr);
  EXPECT_NE(cache_file_for(dir.path(), "lfw", "x"), cache_file_for(dir.path(), "lfw", "y"));
  EXPECT_NE(cache_file_for(dir.path(), "lfw", "x"), cache_file_for(dir.path(), "other", "x"));
}

TEST(FaceCache, MissingFileHasNoKey) { EXPECT_THROW(file_key("/no/such/image.jpg"), Error); }

TEST(FaceCache, LoadCachedFacesReadsWhatTheCacheHoldsAndRefusesWhatItLacks) {
  TempDir dir;
  const auto photos = dir / "photos", caches = dir / "caches";
  std::filesystem::create_directories(photos);
  write_file(photos / "a.jpg", "aaaa");
  write_file(photos / "b.jpg", "bbbb");
  const std::vector<std::filesystem::path> files{photos / "a.jpg", photos / "b.jpg"};
  auto load = [&] {
    CacheUpdate stats;
    FaceCache cache =
        load_cached_faces(caches, photos, files, 8, "fp", ChipLoading::OnDemand, &stats);
    return std::make_pair(std::move(cache), stats);
  };
  EXPECT_THROW(load(), Error);  // no cache yet

  FaceCache filled(8, "fp");
  filled.put(face_for(photos / "a.jpg", 5));
  CachedFace none;
  none.key = file_key(photos / "b.jpg");
  none.status = FaceStatus::NoFace;
  filled.put(none);
  filled.save(cache_file_for(caches, photos, "fp"));
  const auto [cache, stats] = load();
  EXPECT_EQ(stats.images, 2u);
  EXPECT_EQ(stats.hits, 2u);
  EXPECT_EQ(stats.faces, 1u);
  EXPECT_EQ(stats.no_face, 1u);
  EXPECT_EQ(stats.computed, 0u);
  const CachedFace* a = cache.find(file_key(photos / "a.jpg"));
  ASSERT_NE(a, nullptr);
  std::vector<std::uint8_t> chip(8 * 8 * 3);
  a->read_chip(chip.data(), chip.size());
  EXPECT_EQ(chip, std::vector<std::uint8_t>(8 * 8 * 3, 5));
  // Other settings have no cache; a file changed since is refused.
  EXPECT_THROW(load_cached_faces(caches, photos, files, 8, "other", ChipLoading::OnDemand), Error);
  write_file(photos / "b.jpg", "a different, longer content");
  try {
    load();
    ADD_FAILURE() << "a changed file was not refused";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Input);
    EXPECT_NE(std::string(e.what()).find("lacks 1 of 2 images"), std::string::npos) << e.what();
  }
}
