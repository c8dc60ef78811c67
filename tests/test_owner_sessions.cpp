#include <gtest/gtest.h>

#include <set>

#include "faceid/data/owner_sessions.hpp"
#include "faceid/data/pairs.hpp"
#include "test_support.hpp"

using namespace faceid;

namespace {

// A chip with a smooth random-ish gradient pattern of `seed`; `delta` brightens it slightly.
std::vector<std::uint8_t> pattern_chip(int seed, int size = 32, int delta = 0) {
  std::vector<std::uint8_t> rgb(static_cast<std::size_t>(size) * size * 3);
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x) {
      const int v =
          (x * (seed % 7 + 1) * 13 + y * (seed % 5 + 2) * 7 + seed * 31 + (x * y * seed) % 50) %
              200 +
          delta;
      for (int c = 0; c < 3; ++c)
        rgb[(static_cast<std::size_t>(y) * size + x) * 3 + c] = static_cast<std::uint8_t>(v);
    }
  return rgb;
}

OwnerPhoto photo(int chip, int session, std::uint64_t file_hash, std::uint64_t chip_hash) {
  return OwnerPhoto{chip, session, file_hash, chip_hash};
}

}  // namespace

TEST(OwnerSessions, NearIdenticalChipsHashCloseAndDifferentOnesFar) {
  const auto a = chip_dhash(pattern_chip(3), 32);
  EXPECT_EQ(hamming_distance(a, chip_dhash(pattern_chip(3), 32)), 0);
  EXPECT_LE(hamming_distance(a, chip_dhash(pattern_chip(3, 32, 6), 32)),
            kNearDuplicateBits);  // a bit brighter
  EXPECT_GT(hamming_distance(a, chip_dhash(pattern_chip(11), 32)), kNearDuplicateBits);
  EXPECT_THROW(chip_dhash(std::vector<std::uint8_t>(10), 32), faceid::Error);
}

TEST(OwnerSessions, FileHashSeesByteIdenticalCopies) {
  test::TempDir dir;
  test::write_file(dir / "a.jpg", "same bytes");
  test::write_file(dir / "b.jpg", "same bytes");
  test::write_file(dir / "c.jpg", "other bytes");
  EXPECT_EQ(file_content_hash((dir / "a.jpg").string()),
            file_content_hash((dir / "b.jpg").string()));
  EXPECT_NE(file_content_hash((dir / "a.jpg").string()),
            file_content_hash((dir / "c.jpg").string()));
  EXPECT_THROW(file_content_hash((dir / "missing.jpg").string()), faceid::Error);
}

TEST(OwnerSessions, DuplicatesAreGroupedTransitivelyByFileOrChipHash) {
  // 0 and 1: same file; 1 and 2: chips 1 bit apart; 3: alone; 4 and 5: chips 3 bits apart.
  const std::vector<OwnerPhoto> photos = {photo(0, 0, 1, 0x0),
                                          photo(1, 0, 1, 0xff00),
                                          photo(2, 0, 2, 0xff01),
                                          photo(3, 0, 3, 0xf0f0f0f0f0f0f0f0),
                                          photo(4, 0, 4, 0xaaaa000000000000),
                                          photo(5, 0, 5, 0xaaaa000000000007)};
  const auto g = duplicate_groups(photos, 4);
  EXPECT_EQ(g, (std::vector<int>{0, 0, 0, 1, 2, 2}));
  EXPECT_EQ(duplicate_groups(photos, 0), (std::vector<int>{0, 0, 1, 2, 3, 4}));
}

TEST(OwnerSessions, TwoSessionsHoldOutTheLastOneWhole) {
  std::vector<OwnerPhoto> photos;
  for (int i = 0; i < 10; ++i)
    photos.push_back(photo(i, i < 6 ? 0 : 1, 100 + i, 0x1111111111111111ull * i));
  const auto split = split_owner_photos(photos, duplicate_groups(photos, 0), 0.15, 42);
  EXPECT_TRUE(split.by_session);
  EXPECT_EQ(split.held_out_sessions, (std::vector<int>{1}));
  EXPECT_EQ(split.val, (std::vector<int>{6, 7, 8, 9}));
  EXPECT_EQ(split.train, (std::vector<int>{0, 1, 2, 3, 4, 5}));
}

TEST(OwnerSessions, ThreeSessionsHoldOutMoreThanOneOnlyToReachTheFraction) {
  std::vector<OwnerPhoto> photos;
  for (int i = 0; i < 12; ++i)
    photos.push_back(photo(i, i / 4, 100 + i, 0x0101010101010101ull * i));
  const auto groups = duplicate_groups(photos, 0);
  EXPECT_EQ(split_owner_photos(photos, groups, 0.2, 1).held_out_sessions, (std::vector<int>{2}));
  const auto big = split_owner_photos(photos, groups, 0.5, 1);
  EXPECT_EQ(big.held_out_sessions, (std::vector<int>{1, 2}));
  EXPECT_EQ(big.train, (std::vector<int>{0, 1, 2, 3}));  // one session always trains
  EXPECT_EQ(split_owner_photos(photos, groups, 0.85, 1).held_out_sessions,
            (std::vector<int>{1, 2}));
}

TEST(OwnerSessions, AHeldOutCopyOfATrainingPhotoTrains) {
  // Photo 5 (session 1) is a byte-identical copy of photo 0 (session 0).
  std::vector<OwnerPhoto> photos;
  for (int i = 0; i < 8; ++i)
    photos.push_back(photo(i, i < 4 ? 0 : 1, i == 5 ? 100 : 100 + i, 0x1111111111111111ull * i));
  const auto split = split_owner_photos(photos, duplicate_groups(photos, 0), 0.3, 7);
  EXPECT_EQ(split.val, (std::vector<int>{4, 6, 7}));
  EXPECT_EQ(split.moved_to_train, 1u);
  EXPECT_EQ(split.duplicate_groups, 1u);
  EXPECT_EQ(split.duplicate_photos, 2u);
}

TEST(OwnerSessions, OneSessionNeverSplitsADuplicateGroup) {
  // 40 photos in bursts of 4 near-identical frames: every held-out burst is held out whole.
  std::vector<OwnerPhoto> photos;
  for (int i = 0; i < 40; ++i)
    photos.push_back(photo(i, 0, 1000 + i, mix_seed(1, i / 4) ^ static_cast<std::uint64_t>(i % 4)));
  const auto groups = duplicate_groups(photos, 2);
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    const auto split = split_owner_photos(photos, groups, 0.25, seed);
    EXPECT_FALSE(split.by_session);
    EXPECT_EQ(split.val.size() % 4, 0u);
    EXPECT_GE(split.val.size(), 8u);
    EXPECT_LE(split.val.size(), 12u);
    const std::set<int> val(split.val.begin(), split.val.end());
    for (int burst = 0; burst < 10; ++burst) {
      const auto held = val.count(burst * 4);
      for (int k = 1; k < 4; ++k)
        EXPECT_EQ(val.count(burst * 4 + k), held) << "burst " << burst << " seed " << seed;
    }
    EXPECT_EQ(split.train.size() + split.val.size(), 40u);
  }
}

TEST(OwnerSessions, SplitIsSeededAndRefusesBadFractions) {
  std::vector<OwnerPhoto> photos;
  for (int i = 0; i < 30; ++i)
    photos.push_back(photo(i, 0, 100 + i, 0x0123456789abcdefull * (i + 1)));
  const auto groups = duplicate_groups(photos, 0);
  EXPECT_EQ(split_owner_photos(photos, groups, 0.2, 5).val,
            split_owner_photos(photos, groups, 0.2, 5).val);
  EXPECT_EQ(split_owner_photos(photos, groups, 0.2, 5).val.size(), 6u);
  EXPECT_TRUE(split_owner_photos(photos, groups, 0.0, 5).val.empty());
  EXPECT_THROW(split_owner_photos(photos, groups, 1.0, 5), faceid::Error);
  EXPECT_THROW(split_owner_photos(photos, {0, 1}, 0.2, 5), faceid::Error);
}
