#include "faceid/io/sources.hpp"

#include "faceid/error.hpp"
#include "test_support.hpp"

using namespace faceid;
using faceid::test::TempDir;
using faceid::test::write_file;

TEST(Sources, ListImagesKeepsImageFilesOnlySorted) {
  TempDir dir;
  write_file(dir / "b.JPG", "x");
  write_file(dir / "a.png", "x");
  write_file(dir / "notes.txt", "x");
  write_file(dir / "sub" / "c.jpg", "x");
  std::filesystem::create_symlink(dir / "gone.jpg",
                                  dir / "broken.jpg");  // a dangling link is skipped
  const auto files = list_images(dir.path());
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].filename(), "a.png");
  EXPECT_EQ(files[1].filename(), "b.JPG");
}

TEST(Sources, ListImagesRecursiveWalksSubFoldersButNotHiddenOnes) {
  TempDir dir;
  write_file(dir / "b.jpg", "x");
  write_file(dir / "2022" / "09" / "a.PNG", "x");
  write_file(dir / "2022" / "notes.txt", "x");
  write_file(dir / ".thumbnails" / "t.jpg", "x");
  write_file(dir / "2022" / ".hidden.jpg", "x");
  const auto files = list_images_recursive(dir.path());
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0], dir / "2022" / "09" / "a.PNG");
  EXPECT_EQ(files[1], dir / "b.jpg");
  faceid::test::expect_error([] { list_images_recursive("/no/such/folder"); }, ErrorKind::Input,
                             "no such folder");
}

TEST(Sources, MissingFolderIsAnInputErrorNamingIt) {
  faceid::test::expect_error([] { list_images("/no/such/folder"); }, ErrorKind::Input,
                             "/no/such/folder: no such folder");
}

TEST(Sources, ScanPeopleSkipsFoldersWithoutImages) {
  TempDir dir;
  write_file(dir / "Bob" / "Bob_0001.jpg", "x");
  write_file(dir / "Ann" / "Ann_0001.jpg", "x");
  write_file(dir / "Ann" / "Ann_0002.jpg", "x");
  write_file(dir / "Empty" / "readme.txt", "x");
  const auto people = scan_people(dir.path());
  ASSERT_EQ(people.size(), 2u);
  EXPECT_EQ(people[0].name, "Ann");
  EXPECT_EQ(people[0].images.size(), 2u);
  EXPECT_EQ(lfw_image_path(dir.path(), "Ann", 2), people[0].images[1]);
}

TEST(Sources, ScanPeopleOfAFolderWithNoPeopleFails) {
  TempDir dir;
  write_file(dir / "loose.jpg", "x");
  EXPECT_THROW(scan_people(dir.path()), Error);
}
