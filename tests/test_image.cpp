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
  const unsigned char app1[] = {0xFF,
                                0xE1,
                                0x00,
                                0x22,
                                'E',
                                'x',
                                'i',
                                'f',
                                0,
                                0,
                                'I',
                                'I',
                                0x2A,
                                0x00,
                                0x08,
                                0x00,
                                0x00,
                                0x00,  // TIFF header, IFD at 8
                                0x01,
                                0x00,  // one entry
                                0x12,
                                0x01,
                                0x03,
                                0x00,
                                0x01,
                                0x00,
                                0x00,
                                0x00,  // Orientation, SHORT, 1
                                static_cast<unsigned char>(orientation),
                                0x00,
                                0x00,
                                0x00,
                                0x00,
                                0x00,
                                0x00,
                                0x00};  // no next IFD
  std::string out(jpeg.begin(), jpeg.begin() + 2);
  out.append(reinterpret_cast<const char*>(app1), sizeof app1);
  out.append(jpeg.begin() + 2, jpeg.end());
  return out;
}

// A PNG signature and an IHDR chunk claiming width x height (big-endian, as the spec stores
// them), then junk: enough for the header checks, never decodable.
std::string png_header(std::uint32_t width, std::uint32_t height, const char* chunk = "IHDR") {
  std::string png = "\x89PNG\r\n\x1a\n";
  png += std::string("\0\0\0\x0d", 4) + chunk;
  for (const std::uint32_t v : {width, height})
    for (int shift = 24; shift >= 0; shift -= 8) png += static_cast<char>((v >> shift) & 0xFF);
  png += std::string("\x08\x02\0\0\0", 5) + "crc!" + std::string(64, 'j');
  return png;
}

// A JPEG whose frame header (SOF0) claims width x height, then junk and an end-of-image marker;
// `before_frame` goes between the APP0 segment and the frame header.
std::string jpeg_header(std::uint16_t width, std::uint16_t height,
                        const std::string& before_frame = "") {
  std::string jpeg =
      "\xff\xd8\xff\xe0" + std::string("\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00", 16);
  jpeg += before_frame + std::string("\xff\xc0\x00\x0b\x08", 5);
  for (const std::uint16_t v : {height, width})
    jpeg += {static_cast<char>(v >> 8), static_cast<char>(v & 0xFF)};
  jpeg += std::string("\x01\x01\x11\x00", 4) + "\xff\xda" + std::string(64, 'j') + "\xff\xd9";
  return jpeg;
}

cv::Size sniff(const std::string& bytes) {
  return sniff_image_size(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

void expect_input_error(const std::filesystem::path& file, const std::string& needle) {
  faceid::test::expect_error([&] { read_image(file); }, ErrorKind::Input,
                             file.string() + ": " + needle);
}

}  // namespace

TEST(Image, ExifOrientationIsApplied) {
  TempDir dir;
  std::vector<uchar> jpeg;
  cv::imencode(".jpg", half_white(), jpeg);
  write_file(dir / "rotated.jpg",
             with_exif_orientation(jpeg, 6));  // 6 = rotate 90 degrees clockwise
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

TEST(Image, BytesOfAFormatFaceidDoesNotReadNeverReachOpenCV) {
  // fuzz_image's crash (tests/fuzz/corpus/image/dicom_after_jpeg_bytes): "DICM" at byte 128 sent
  // these bytes to Debian's GDCM, which aborted the process on an assertion.
  TempDir dir;
  std::string bytes =
      "\xFF\xD8\x85" + std::string(123, '\xF9') + std::string("\x11\x00", 2) + "DICM";
  bytes += std::string("\x18\x00", 2);
  write_file(dir / "scan.jpg", bytes);
  expect_input_error(dir / "scan.jpg", "not a decodable image (not JPEG, PNG");
  write_file(dir / "a.bmp", "BM" + std::string(60, '\0'));  // a known signature, still undecodable
  expect_input_error(dir / "a.bmp", "not a decodable image");
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

TEST(Image, SniffReadsPngAndJpegSizesUpToTheirLimits) {
  EXPECT_EQ(sniff(png_header(640, 480)), cv::Size(640, 480));
  EXPECT_EQ(sniff(png_header(0x7FFFFFFF, 1)), cv::Size(0x7FFFFFFF, 1));  // the largest PNG width
  EXPECT_EQ(sniff(jpeg_header(65535, 65535)), cv::Size(65535, 65535));
  EXPECT_EQ(sniff(png_header(640, 480).substr(0, 23)), cv::Size());  // too short to say
  EXPECT_EQ(sniff("GIF89a and more bytes than a PNG header has"), cv::Size());
}

// Regression: widths and heights of 2^31 and above were read into an int as negative numbers, so
// 0xFFFFFFFF x 0xFFFFFFFF came out as -1 x -1 = 1 pixel and passed the pixel limit.
TEST(Image, PngSizesOutsideTheSpecAreCorruptNotNegative) {
  using faceid::test::expect_error;
  for (const auto& [w, h] : std::vector<std::pair<std::uint32_t, std::uint32_t>>{
           {0x80000000u, 64}, {64, 0x80000000u}, {0xFFFFFFFFu, 0xFFFFFFFFu}, {0, 64}, {64, 0}}) {
    const std::string png = png_header(w, h);
    const std::string size = std::to_string(w) + "x" + std::to_string(h);
    expect_error([&] { sniff(png); }, ErrorKind::Input, "corrupt PNG header (" + size + " pixels");
    TempDir dir;
    write_file(dir / "bomb.png", png);
    expect_input_error(dir / "bomb.png",
                       "corrupt PNG header (" + size + " pixels; PNG allows 1 to 2147483647 each)");
  }
  expect_error([&] { sniff(png_header(64, 64, "IDAT")); }, ErrorKind::Input,
               "the first chunk is not IHDR");
}

TEST(Image, PixelLimitCountsHugeHeadersWithoutOverflow) {
  TempDir dir;
  // 2147483647 x 2 and 65535 x 65535 overflow an int product; the limit must still refuse them.
  write_file(dir / "wide.png", png_header(0x7FFFFFFF, 2));
  expect_input_error(dir / "wide.png", "2147483647x2 pixels exceeds the limit of 100000000");
  write_file(dir / "big.jpg", jpeg_header(65535, 65535));
  expect_input_error(dir / "big.jpg", "65535x65535 pixels exceeds the limit of 100000000");
  ImageLimits huge;
  huge.max_pixels = std::int64_t{1} << 40;  // above every int: the header passes, decoding fails
  faceid::test::expect_error([&] { read_image(dir / "wide.png", huge); }, ErrorKind::Input,
                             "wide.png: not a decodable image");
}

// cv::imdecode counts the bytes in an int: 2 GiB and more are refused before anything is read.
TEST(Image, InputsOf2GiBOrMoreAreRefusedBeforeReading) {
  TempDir dir;
  const std::uintmax_t too_big = std::uintmax_t{1} << 31;
  write_file(dir / "huge.png", png_header(64, 64));
  std::filesystem::resize_file(dir / "huge.png", too_big);  // sparse: no disk, and never read
  expect_input_error(dir / "huge.png",
                     "2147483648 bytes is too large to decode (the limit is 2147483647)");
  // decode_image must not look at a single byte past the check, so a short buffer can stand in.
  const std::string png = png_header(64, 64);
  faceid::test::expect_error(
      [&] {
        decode_image(reinterpret_cast<const std::uint8_t*>(png.data()), too_big, "upload", {});
      },
      ErrorKind::Input, "upload: 2147483648 bytes is too large to decode");
}

// Regression (found by tests/fuzz/fuzz_image): libjpeg skips junk and fill bytes between segments
// and decodes such a JPEG; the sniffer gave up on them ("size unknown"), so they were decoded
// whatever their size.
TEST(Image, JpegJunkBetweenSegmentsDoesNotHideTheSize) {
  const std::string junk = std::string("\x00\x12junk\xff\x00", 8), fill = "\xff\xff\xff";
  const std::string rst = std::string("\xff\xd0\xff\x01", 4);  // markers without a length
  for (const std::string& before : {junk, fill, rst, junk + fill + rst}) {
    const std::string jpeg = jpeg_header(20000, 10000, before);
    EXPECT_EQ(sniff(jpeg), cv::Size(20000, 10000));
    TempDir dir;
    write_file(dir / "bomb.jpg", jpeg);
    expect_input_error(dir / "bomb.jpg", "20000x10000 pixels exceeds the limit of 100000000");
  }
  // A segment length below 2 or beyond the end, and no frame header at all: size unknown.
  EXPECT_EQ(sniff(std::string("\xff\xd8\xff\xe0\x00\x00\xff\xc0\x00", 9)), cv::Size());
  EXPECT_EQ(sniff(std::string("\xff\xd8\xff\xe0\xff\xff", 6)), cv::Size());
  EXPECT_EQ(sniff(std::string("\xff\xd8\xff\xda\x00\x08\xff\xc0\x00\x0b\x08\x00\x10\x00\x10", 15)),
            cv::Size());
}
