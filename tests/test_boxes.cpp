#include "faceid/io/boxes.hpp"

#include <cmath>
#include <limits>

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

TEST(Boxes, IouOfHugeOrNonFiniteBoxesIsANumberInZeroToOne) {
  constexpr float big = 3e38f, inf = std::numeric_limits<float>::infinity();
  const float nan = std::nanf("");
  // Sums and areas of these overflow float: the overlap is still measured.
  EXPECT_FLOAT_EQ(iou({0, 0, big, big}, {0, 0, big, big}), 1.f);
  EXPECT_NEAR(iou({0, 0, big, big}, {big / 2, 0, big, big}), 1.f / 3, 1e-6);
  EXPECT_FLOAT_EQ(iou({-big, -big, big, big}, {0, 0, 10, 10}), 0.f);
  for (const Box& odd :
       {Box{nan, 0, 10, 10}, Box{0, 0, inf, 10}, Box{0, -inf, 10, 10}, Box{0, 0, 10, nan}}) {
    EXPECT_EQ(iou(odd, {0, 0, 10, 10}), 0.f);
    EXPECT_EQ(iou({0, 0, 10, 10}, odd), 0.f);
  }
}

TEST(Boxes, MatchingIsOneToOne) {
  const std::vector<Box> truth = {{0, 0, 10, 10}, {100, 100, 10, 10}, {200, 0, 10, 10, true}};
  const std::vector<Box> found = {
      {1, 1, 10, 10}, {0, 0, 10, 10}, {300, 300, 5, 5}, {200, 0, 10, 10}};
  const auto m = match_boxes(truth, found, 0.5f);
  EXPECT_EQ(m.true_positives, 1);  // both first detections fit box 0; one is a duplicate
  EXPECT_EQ(m.false_positives,
            2);  // the duplicate and the stray box; the ignored box counts as neither
  EXPECT_EQ(m.false_negatives, 1);  // box 1 missed
}

namespace {

// The box read has these left, top, width and height.
void expect_box(const Box& b, float x, float y, float width, float height) {
  EXPECT_FLOAT_EQ(b.x, x);
  EXPECT_FLOAT_EQ(b.y, y);
  EXPECT_FLOAT_EQ(b.width, width);
  EXPECT_FLOAT_EQ(b.height, height);
}

}  // namespace

TEST(Boxes, ReadsImglabXml) {
  TempDir dir;
  write_file(dir / "ok.xml",
             "<?xml version='1.0' encoding='ISO-8859-1'?>\n<dataset><name>x</name><images>\n<image "
             "file='a.jpg'>\n"
             " <box top='10' left='20' width='30' height='40'/>\n"
             " <box top='1' left='2' width='3' height='4' ignore='1'/>\n</image>\n<image "
             "file='b.jpg'>\n</image>\n"
             "</images></dataset>\n");
  const auto images = read_imglab(dir / "ok.xml");
  ASSERT_EQ(images.size(), 2u);
  EXPECT_EQ(images[0].file, dir / "a.jpg");
  ASSERT_EQ(images[0].boxes.size(), 2u);
  expect_box(images[0].boxes[0], 20, 10, 30, 40);
  EXPECT_FALSE(images[0].boxes[0].ignore);
  EXPECT_TRUE(images[0].boxes[1].ignore);
  EXPECT_TRUE(images[1].boxes.empty());
}

TEST(Boxes, ImglabTagsMaySpanLinesAndAttributesComeInAnyOrderAndQuoting) {
  TempDir dir;
  write_file(dir / "layout.xml",
             "<dataset>\n<images>\n<image\n   file=\"x y.jpg\"\n   width='5'>\n"
             "  <box height=\"40\"\n       width='30' left = \"20\"\n top='10'\n ignore=\"0\">\n"
             "    <label>face</label><part name='01' x='1' y='2'/>\n  </box>\n"
             "  <box top='-5' left='-6' width='7.5' height='8' ignore='true'/>\n"
             "</image><image file='z.jpg'/></images></dataset>");
  const auto images = read_imglab(dir / "layout.xml");
  ASSERT_EQ(images.size(), 2u);
  EXPECT_EQ(images[0].file, dir / "x y.jpg");
  ASSERT_EQ(images[0].boxes.size(), 2u);
  expect_box(images[0].boxes[0], 20, 10, 30, 40);
  EXPECT_FALSE(images[0].boxes[0].ignore);
  // A face cut by the picture's edge starts left of and above it.
  expect_box(images[0].boxes[1], -6, -5, 7.5, 8);
  EXPECT_TRUE(images[0].boxes[1].ignore);
  EXPECT_EQ(images[1].file, dir / "z.jpg");
  EXPECT_TRUE(images[1].boxes.empty());
}

TEST(Boxes, ImglabEntitiesAreDecodedInFileNames) {
  TempDir dir;
  write_file(dir / "entities.xml",
             "<dataset><images><image file='Tom &amp; Jerry&apos;s &#233;t&#xE9;.jpg'>"
             "<box top='1' left='2' width='3' height='4'/></image>"
             "<image file=\"say &quot;cheese&quot; &lt;1&gt;.png\"/></images></dataset>");
  const auto images = read_imglab(dir / "entities.xml");
  ASSERT_EQ(images.size(), 2u);
  EXPECT_EQ(images[0].file, dir / "Tom & Jerry's \xC3\xA9t\xC3\xA9.jpg");
  EXPECT_EQ(images[1].file, dir / "say \"cheese\" <1>.png");
}

TEST(Boxes, ImglabBoxAttributesMustBePresentFiniteNumbers) {
  TempDir dir;
  const auto with_box = [&](const std::string& box) {
    write_file(dir / "b.xml", "<dataset>\n<images>\n<image file='a.jpg'>\n" + box +
                                  "\n</image>\n</images>\n</dataset>\n");
    return dir / "b.xml";
  };
  using faceid::test::expect_error;
  const auto bad = [&](const std::string& box, const std::string& needle) {
    expect_error([&] { read_imglab(with_box(box)); }, ErrorKind::Input, needle);
  };
  bad("<box left='1' width='2' height='3'/>",
      "b.xml:4: box needs top, left, width and height (no top)");
  bad("<box top='1' left='1' width='2'/>",
      "b.xml:4: box needs top, left, width and height (no height)");
  bad("<box top='x' left='1' width='2' height='3'/>", "b.xml:4: box top='x' is not a number");
  bad("<box top='1' left='10px' width='2' height='3'/>", "box left='10px' is not a number");
  bad("<box top='1' left='' width='2' height='3'/>", "box left='' is not a number");
  bad("<box top='1' left='1' width='nan' height='3'/>", "box width='nan' is not a number");
  bad("<box top='1' left='1' width='2' height='inf'/>", "box height='inf' is not a number");
  bad("<box top='1' left='1' width='2' height='1e99'/>", "box height='1e99' is not a number");
  bad("<box top='1' left='1e30' width='2' height='3'/>",
      "box left='1e30' is beyond 1000000 pixels");
  bad("<box top='-2000000' left='1' width='2' height='3'/>",
      "box top='-2000000' is beyond 1000000 pixels");
  bad("<box top='1' left='1' width='3e38' height='3e38'/>",
      "box width='3e38' is beyond 1000000 pixels");
  bad("<box top='1' left='1' width='-2' height='3'/>",
      "b.xml:4: box width and height must be positive (-2x3)");
  bad("<box top='1' left='1' width='2' height='0'/>", "must be positive (2x0)");
  bad("<box top='1' left='1' width='2' height='3' ignore='yes'/>",
      "box ignore='yes' is not 0 or 1");
  // Quoted values stay on one line and short: the message is one line.
  bad("<box top='1\n2' left='1' width='2' height='3'/>", "box top='1 2' is not a number");
  bad("<box top='" + std::string(100, '7') + "x' left='1' width='2' height='3'/>",
      "box top='" + std::string(40, '7') + "...' is not a number");
  bad("<box top='1' left='1' width='-2\n' height='3'/>", "must be positive (-2 x3)");
  bad("<box top=' ' left='1' width='2' height='3'/>", "box top=' ' is not a number");
  try {  // blanks alone are not a number (they once read as 0)
    read_imglab(with_box("<box top='\n\r\t' left='1' width='2' height='3'/>"));
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).find_first_of("\n\r"), std::string::npos) << e.what();
  }
  // Surrounding blanks are tolerated, as XML tools write them.
  EXPECT_FLOAT_EQ(
      read_imglab(with_box("<box top=' 1 ' left='2' width='3' height='4'/>"))[0].boxes[0].y, 1);
}

TEST(Boxes, MalformedOrForeignImglabFilesAreInputErrorsNamingFileAndLine) {
  TempDir dir;
  using faceid::test::expect_error;
  const auto bad = [&](const std::string& name, const std::string& text,
                       const std::string& needle) {
    write_file(dir / name, text);
    expect_error([&] { read_imglab(dir / name); }, ErrorKind::Input, needle);
  };
  bad("unclosed.xml",
      "<dataset>\n<images>\n<image file='a.jpg'>\n<box top='1' left='1' width='2' height='3'/>\n",
      "unclosed.xml:");
  bad("mismatch.xml", "<dataset>\n<images>\n<image file='a.jpg'>\n</images>\n</dataset>\n",
      "mismatch.xml:3: malformed XML (an element is not closed, or closed by another tag)");
  bad("unquoted.xml", "<dataset>\n<images>\n<image file=a.jpg/>\n</images>\n</dataset>\n",
      "unquoted.xml:3: malformed XML (a malformed, unquoted or repeated attribute)");
  bad("twice.xml", "<dataset><images><image file='a.jpg' file='b.jpg'/></images></dataset>",
      "twice.xml:1: malformed XML");
  bad("empty.xml", "", "empty.xml: empty file");
  bad("blank.xml", " \n\t\n", "blank.xml: empty file");
  bad("declaration.xml", "<?xml version='1.0'?>\n", "declaration.xml: no XML element");
  bad("html.xml", "<html>\n</html>", "html.xml:1: root element <html> is not <dataset>");
  bad("noimages.xml", "<dataset>\n<name>none</name>\n<images>\n</images>\n</dataset>",
      "noimages.xml: no <image> entries");
  bad("nofile.xml", "<dataset>\n<images>\n<image>\n</image></images></dataset>",
      "nofile.xml:3: <image> without a file attribute");
  bad("stray.xml",
      "<dataset>\n<images>\n<box top='1' left='1' width='2' height='3'/>\n</images></dataset>",
      "stray.xml:3: <box> outside an <image>");
  bad("binary.xml", std::string("\x89PNG\r\n\x1a\n\0\0\0", 12), "binary.xml:1: malformed XML");
  expect_error([&] { read_imglab(dir / "missing.xml"); }, ErrorKind::Input,
               "missing.xml: cannot open box file");
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
