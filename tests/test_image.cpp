#include "faceid/image.hpp"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "faceid/error.hpp"
#include "test_support.hpp"

using namespace faceid;
using faceid::test::TempDir;
using faceid::test::write_file;

namespace {

// A 60x40 (w x h) picture whose left half is white and right half black.
cv::Mat half_white(int type = CV_8UC3) {
  cv::Mat m(40, 60, type, cv::Scalar::all(0));
  m(cv::Rect(0, 0, 30, 40)).setTo(cv::Scalar::all(type == CV_16UC1 ? 65535 : 255));
  return m;
}

// Inserts an EXIF APP1 segment with the given orientation right after the JPEG's SOI marker.
std::string with_exif_orientation(const std::vector<uchar>& jpeg, std::uint16_t orientation) {
  const unsigned char app1[] = {0xFF, 0xE1, 0x00, 0x22, 'E', 'x', 'i', 'f', 0, 0,
                                'I', 'I', 0x2A, 0x00, 0x08, 0x00, 0x00, 0x00,          // TIFF header, IFD at 8
                                0x01, 0x00,                                            // one entry
                                0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00,        // Orientation, SHORT, 1
                                static_cast<unsigned char>(orientation), 0x00, 0x00, 0x00,
                                0x00, 0x00, 0x00, 0x00};                               // no next IFD
  std::string out(jpeg.begin(), jpeg.begin() + 2);
  out.append(reinterpret_cast<const char*>(app1), sizeof app1);
  out.append(jpeg.begin() + 2, jpeg.end());
  return out;
}

void expect_input_error(const std::filesystem::path& file, const std::string& needle) {
  faceid::test::expect_error([&] { read_image(file); }, ErrorKind::Input, file.string() + ": " + needle);
}

}  // namespace

TEST(Image, ExifOrientationIsApplied) {
  TempDir dir;
  std::vector<uchar> jpeg;
  cv::imencode(".jpg", half_white(), jpeg);
  write_file(dir / "rotated.jpg", with_exif_orientation(jpeg, 6));  // 6 = rotate 90 degrees clockwise
  const cv::Mat image = read_image(dir / "rotated.jpg");
  EXPECT_EQ(image.cols, 40);
  EXPECT_EQ(image.rows, 60);
  // The white half was on the left; turned clockwise it is at the top.
  EXPECT_GT(cv::mean(image(cv::Rect(0, 0, 40, 25)))[0], 200);
  EXPECT_LT(cv::mean(image(cv::Rect(0, 35, 40, 25)))[0], 50);
}

TEST(Image, GrayRgbaAnd16BitPngsBecome8BitBgr) {
  TempDir dir;
  cv::Mat rgba;
  cv::cvtColor(half_white(), rgba, cv::COLOR_BGR2BGRA);
  cv::imwrite((dir / "gray.png").string(), half_white(CV_8UC1));
  cv::imwrite((dir / "rgba.png").string(), rgba);
  cv::imwrite((dir / "deep.png").string(), half_white(CV_16UC1));
  for (const char* name : {"gray.png", "rgba.png", "deep.png"}) {
    const cv::Mat image = read_image(dir / name);
    EXPECT_EQ(image.type(), CV_8UC3) << name;
    EXPECT_EQ(image.size(), cv::Size(60, 40)) << name;
    EXPECT_EQ(image.at<cv::Vec3b>(5, 5), cv::Vec3b(255, 255, 255)) << name;
    EXPECT_EQ(image.at<cv::Vec3b>(5, 55), cv::Vec3b(0, 0, 0)) << name;
  }
}

TEST(Image, BadFilesAreInputErrorsNamingTheFile) {
  TempDir dir;
  std::vector<uchar> jpeg;
  cv::imencode(".jpg", half_white(), jpeg);
  write_file(dir / "cut.jpg", std::string(jpeg.begin(), jpeg.begin() + jpeg.size() / 2));
  expect_input_error(dir / "cut.jpg", "truncated");
  write_file(dir / "empty.jpg", "");
  expect_input_error(dir / "empty.jpg", "empty file");
  write_file(dir / "text.jpg", "this is not an image, only text\n");
  expect_input_error(dir / "text.jpg", "not a decodable image");
  expect_input_error(dir / "absent.jpg", "no such file");
}

TEST(Image, PixelLimitRefusesBeforeDecoding) {
  TempDir dir;
  cv::imwrite((dir / "big.png").string(), cv::Mat(300, 400, CV_8UC3, cv::Scalar::all(9)));
  EXPECT_EQ(read_image(dir / "big.png").cols, 400);
  ImageLimits tight;
  tight.max_pixels = 100 * 100;
  EXPECT_THROW(read_image(dir / "big.png", tight), Error);
  std::vector<uchar> jpeg;
  cv::imencode(".jpg", cv::Mat(300, 400, CV_8UC3, cv::Scalar::all(9)), jpeg);
  EXPECT_EQ(sniff_image_size(jpeg.data(), jpeg.size()), cv::Size(400, 300));
}
