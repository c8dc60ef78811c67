#include "faceid/io/lfw_pairs.hpp"

#include "faceid/error.hpp"
#include "test_support.hpp"

using namespace faceid;
using faceid::test::TempDir;
using faceid::test::write_file;

namespace {

void expect_input_error(const std::filesystem::path& file, const std::string& needle) {
  faceid::test::expect_error([&] { read_pairs_file(file); }, ErrorKind::Input, needle);
}

}  // namespace

TEST(LfwPairs, ParsesView1WithMatchedThenMismatchedPairs) {
  TempDir dir;
  write_file(dir / "p.txt", "2\nAnn\t1\t2\nBob 3 4\nAnn\t1\tBob\t2\nCid 1 Dan 5\n");
  const auto file = read_pairs_file(dir / "p.txt");
  EXPECT_EQ(file.folds, 1);
  EXPECT_EQ(file.per_fold, 2);
  ASSERT_EQ(file.pairs.size(), 4u);
  EXPECT_TRUE(file.pairs[1].same);
  EXPECT_EQ(file.pairs[1].name1, "Bob");
  EXPECT_EQ(file.pairs[1].index2, 4);
  EXPECT_FALSE(file.pairs[3].same);
  EXPECT_EQ(file.pairs[3].name2, "Dan");
  EXPECT_EQ(file.pairs[3].index2, 5);
  EXPECT_EQ(file.pairs[3].line, 5);
  EXPECT_EQ(people_in(file), (std::set<std::string>{"Ann", "Bob", "Cid", "Dan"}));
}

TEST(LfwPairs, ParsesView2FoldStructure) {
  TempDir dir;
  write_file(dir / "p.txt", "2\t1\nA 1 2\nA 1 B 1\nC 1 2\nC 2 D 1\n");
  const auto file = read_pairs_file(dir / "p.txt");
  EXPECT_EQ(file.folds, 2);
  ASSERT_EQ(file.pairs.size(), 4u);
  EXPECT_EQ(file.pairs[1].fold, 0);
  EXPECT_EQ(file.pairs[2].fold, 1);
  EXPECT_TRUE(file.pairs[2].same);
}

TEST(LfwPairs, RejectsMalformedLinesWithTheLineNumber) {
  TempDir dir;
  write_file(dir / "fields.txt", "1\nA 1 2 3 4\nA 1 B 2\n");
  expect_input_error(dir / "fields.txt", "fields.txt:2:");
  write_file(dir / "index.txt", "1\nA 1 x\nA 1 B 2\n");
  expect_input_error(dir / "index.txt", "index.txt:2: image index 'x'");
  write_file(dir / "zero.txt", "1\nA 1 2\nA 0 B 2\n");
  expect_input_error(dir / "zero.txt", "zero.txt:3: image index '0'");
  write_file(dir / "order.txt", "1\nA 1 B 2\nA 1 2\n");
  expect_input_error(dir / "order.txt", "order.txt:2: expected a matched pair");
  write_file(dir / "count.txt", "2\nA 1 2\nB 1 2\nA 1 B 2\n");
  expect_input_error(dir / "count.txt", "promises 4 pairs, found 3");
  write_file(dir / "header.txt", "a b c\n");
  expect_input_error(dir / "header.txt", "header.txt:1:");
  write_file(dir / "empty.txt", "");
  expect_input_error(dir / "empty.txt", "empty pairs file");
  expect_input_error(dir / "missing.txt", "cannot open");
}

TEST(LfwPairs, ReadsTheRealView2File) {
  FACEID_REQUIRE_DATA(file, "lfw_pairs/pairs.txt");
  const auto pairs = read_pairs_file(file);
  EXPECT_EQ(pairs.folds, 10);
  EXPECT_EQ(pairs.per_fold, 300);
  ASSERT_EQ(pairs.pairs.size(), 6000u);
  EXPECT_EQ(pairs.pairs.back().fold, 9);
  EXPECT_FALSE(pairs.pairs.back().same);
  // Every pair names an existing LFW image.
  const auto lfw = file.parent_path().parent_path() / "lfw";
  for (const auto& p : pairs.pairs) {
    ASSERT_TRUE(std::filesystem::exists(lfw_image_path(lfw, p.name1, p.index1)))
        << p.name1 << " " << p.index1;
    ASSERT_TRUE(std::filesystem::exists(lfw_image_path(lfw, p.name2, p.index2)))
        << p.name2 << " " << p.index2;
  }
}

TEST(LfwPairs, DevTrainAndDevTestArePeopleDisjoint) {
  FACEID_REQUIRE_DATA(dir, "lfw_pairs");
  const auto train = people_in(read_pairs_file(dir / "pairsDevTrain.txt"));
  const auto test = people_in(read_pairs_file(dir / "pairsDevTest.txt"));
  EXPECT_GT(train.size(), 100u);
  EXPECT_GT(test.size(), 100u);
  for (const auto& name : test) EXPECT_EQ(train.count(name), 0u) << name;
}
