#include "faceid/boxes.hpp"

#include "faceid/error.hpp"
#include "test_support.hpp"

using namespace faceid;
using faceid::test::TempDir;
using faceid::test::write_file;

TEST(Boxes, IouOfHalfOverlappingSquaresIsOneThird) {
  EXPECT_FLOAT_EQ(iou({0, 0, 10, 10}, {5, 0, 10, 10}), 50.f / 150.f);
  EXPECT_FLOAT_EQ(iou({0, 0, 10, 10}, {0, 0, 10, 10}), 1.f);
  EXPECT_FLOAT_EQ(iou({0, 0, 10, 10}, {20, 20, 5, 5}), 0.f);
}

TEST(Boxes, MatchingIsOneToOne) {
  const std::vector<Box> truth = {{0, 0, 10, 10}, {100, 100, 10, 10}, {200, 0, 10, 10, true}};
  const std::vector<Box> found = {{1, 1, 10, 10}, {0, 0, 10, 10}, {300, 300, 5, 5}, {200, 0, 10, 10}};
  const auto m = match_boxes(truth, found, 0.5f);
  EXPECT_EQ(m.true_positives, 1);   // both first detections fit box 0; one is a duplicate
  EXPECT_EQ(m.false_positives, 2);  // the duplicate and the stray box; the ignored box counts as neither
  EXPECT_EQ(m.false_negatives, 1);  // box 1 missed
}

TEST(Boxes, ReadsImglabXmlAndRejectsBadBoxes) {
  TempDir dir;
  write_file(dir / "ok.xml",
             "<dataset><images>\n<image file='a.jpg'>\n <box top='10' left='20' width='30' height='40'/>\n"
             " <box top='1' left='2' width='3' height='4' ignore='1'/>\n</image>\n<image file='b.jpg'>\n</image>\n"
             "</images></dataset>\n");
  const auto images = read_imglab(dir / "ok.xml");
  ASSERT_EQ(images.size(), 2u);
  EXPECT_EQ(images[0].file, dir / "a.jpg");
  ASSERT_EQ(images[0].boxes.size(), 2u);
  EXPECT_FLOAT_EQ(images[0].boxes[0].x, 20);
  EXPECT_FLOAT_EQ(images[0].boxes[0].height, 40);
  EXPECT_TRUE(images[0].boxes[1].ignore);
  EXPECT_TRUE(images[1].boxes.empty());

  write_file(dir / "bad.xml", "<images>\n<image file='a.jpg'>\n<box top='x' left='1' width='2' height='3'/>\n");
  try {
    read_imglab(dir / "bad.xml");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.xml:3"), std::string::npos) << e.what();
  }
  write_file(dir / "none.xml", "<html></html>");
  EXPECT_THROW(read_imglab(dir / "none.xml"), Error);
}

TEST(Boxes, ReadsTheRealDlibTrainingFile) {
  FACEID_REQUIRE_DATA(xml, "scenes/dlib/training.xml");
  const auto images = read_imglab(xml);
  std::size_t boxes = 0;
  for (const auto& image : images) {
    EXPECT_TRUE(std::filesystem::exists(image.file)) << image.file;
    boxes += image.boxes.size();
  }
  EXPECT_EQ(images.size(), 4u);
  EXPECT_EQ(boxes, 18u);
}
