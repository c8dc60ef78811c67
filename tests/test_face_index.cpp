#include "faceid/io/face_index.hpp"

#include <cmath>

#include <gtest/gtest.h>

#include "test_support.hpp"

using namespace faceid;
using faceid::test::read_file;
using faceid::test::TempDir;
using faceid::test::write_file;

namespace {

IndexedPhoto photo(const std::string& path, std::size_t faces, std::int64_t mtime = 1) {
  IndexedPhoto p;
  p.key = {path, 1000, mtime};
  p.taken = "2022-09-10 08:56:01";
  p.taken_from = "exif";
  for (std::size_t f = 0; f < faces; ++f) {
    IndexedFace face;
    face.box = {10.f * f, 20, 30, 40};
    for (std::size_t k = 0; k < 10; ++k) face.landmarks[k] = static_cast<float>(k + f);
    face.has_landmarks = f % 2 == 0;
    face.score = 0.9f - 0.1f * f;
    p.faces.push_back(face);
  }
  p.status = faces ? FaceStatus::Face : FaceStatus::NoFace;
  return p;
}

}  // namespace

TEST(FaceIndex, RoundTripsEveryFaceOfEveryPhoto) {
  TempDir dir;
  FaceIndex index("fp");
  index.put(photo("/lib/group.jpg", 3));
  index.put(photo("/lib/landscape.jpg", 0));
  IndexedPhoto bad;
  bad.key = {"/lib/broken.jpg", 5, 2};
  bad.status = FaceStatus::Unreadable;
  bad.message = "/lib/broken.jpg: truncated";
  index.put(bad);
  index.save(dir / "lib.bin");

  const FaceIndex loaded = FaceIndex::load(dir / "lib.bin", "fp");
  ASSERT_EQ(loaded.size(), 3u);
  const IndexedPhoto* group = loaded.find({"/lib/group.jpg", 1000, 1});
  ASSERT_NE(group, nullptr);
  ASSERT_EQ(group->faces.size(), 3u);
  EXPECT_EQ(group->faces[2].box, (std::array<float, 4>{20, 20, 30, 40}));
  EXPECT_EQ(group->faces[1].landmarks[9], 10.f);
  EXPECT_FALSE(group->faces[1].has_landmarks);
  EXPECT_FLOAT_EQ(group->faces[2].score, 0.7f);
  EXPECT_EQ(group->day(), "2022-09-10");
  EXPECT_EQ(group->taken_from, "exif");
  EXPECT_EQ(loaded.find({"/lib/broken.jpg", 5, 2})->message, "/lib/broken.jpg: truncated");
  EXPECT_EQ(loaded.find({"/lib/landscape.jpg", 1000, 1})->status, FaceStatus::NoFace);
}

TEST(FaceIndex, AChangedFileIsNotFoundAndRetainDropsTheGone) {
  FaceIndex index("fp");
  index.put(photo("/lib/a.jpg", 1));
  index.put(photo("/lib/b.jpg", 1));
  EXPECT_EQ(index.find({"/lib/a.jpg", 1000, 2}), nullptr);  // modified since
  EXPECT_EQ(index.keys().size(), 2u);
  EXPECT_EQ(index.retain({{"/lib/a.jpg", 1000, 1}}), 1u);
  EXPECT_EQ(index.size(), 1u);
  EXPECT_NE(index.find({"/lib/a.jpg", 1000, 1}), nullptr);
}

TEST(FaceIndex, OtherSettingsOrACorruptFileGiveAnEmptyIndex) {
  TempDir dir;
  FaceIndex index("fp");
  index.put(photo("/lib/a.jpg", 2));
  index.save(dir / "lib.bin");
  EXPECT_EQ(FaceIndex::load(dir / "lib.bin", "fp").size(), 1u);
  EXPECT_EQ(FaceIndex::load(dir / "lib.bin", "other").size(), 0u);
  EXPECT_EQ(FaceIndex::load(dir / "absent.bin", "fp").size(), 0u);
  const std::string bytes = read_file(dir / "lib.bin");
  write_file(dir / "cut.bin", bytes.substr(0, bytes.size() - 9));
  EXPECT_EQ(FaceIndex::load(dir / "cut.bin", "fp").size(), 0u);
  std::string flipped = bytes;
  flipped[4] = 9;  // another format version
  write_file(dir / "version.bin", flipped);
  EXPECT_EQ(FaceIndex::load(dir / "version.bin", "fp").size(), 0u);

  for (const float bad : {std::nanf(""), INFINITY, -3.f}) {  // a box no face has
    FaceIndex odd("fp");
    IndexedPhoto p = photo("/lib/odd.jpg", 1);
    p.faces[0].box[2] = bad;
    odd.put(p);
    odd.save(dir / "odd.bin");
    EXPECT_EQ(FaceIndex::load(dir / "odd.bin", "fp").size(), 0u) << bad;
  }
}

TEST(FaceIndex, FilesAndFaceKeys) {
  EXPECT_NE(face_index_file("/c", "/lib", "fp"), face_index_file("/c", "/lib2", "fp"));
  EXPECT_NE(face_index_file("/c", "/lib", "fp"), face_index_file("/c", "/lib", "fp2"));
  EXPECT_EQ(face_index_file("/c", "/lib", "fp").parent_path(), "/c");
  const FileKey k = face_key({"/lib/a.jpg", 7, 9}, 2);
  EXPECT_EQ(k.path, "/lib/a.jpg#2");
  EXPECT_EQ(k.size, 7u);
  EXPECT_EQ(k.mtime_ns, 9);
  EXPECT_EQ(IndexedPhoto{}.day(), "unknown");
}
