#include "faceid/capture_time.hpp"

#include <utime.h>

#include <cstdlib>
#include <cstring>
#include <ctime>

#include <libexif/exif-data.h>
#include <opencv2/imgcodecs.hpp>

#include "faceid/image.hpp"
#include "test_support.hpp"

using namespace faceid;
using faceid::test::TempDir;
using faceid::test::write_file;
namespace fs = std::filesystem;

namespace {

// An APP1 segment's payload ("Exif\0\0" + TIFF) holding DateTimeOriginal = `date`, made by
// libexif (the reader's library, but its writer: the bytes are not hand-made to suit the reader).
std::string exif_payload(const std::string& date) {
  ExifData* data = exif_data_new();
  exif_data_set_byte_order(data, EXIF_BYTE_ORDER_INTEL);
  ExifEntry* entry = exif_entry_new();
  exif_content_add_entry(data->ifd[EXIF_IFD_EXIF], entry);
  exif_entry_initialize(entry, EXIF_TAG_DATE_TIME_ORIGINAL);  // 20 ASCII bytes
  std::memset(entry->data, 0, entry->size);
  std::memcpy(entry->data, date.data(), std::min<std::size_t>(date.size(), entry->size - 1));
  exif_entry_unref(entry);
  unsigned char* bytes = nullptr;
  unsigned int size = 0;
  exif_data_save_data(data, &bytes, &size);
  std::string payload(reinterpret_cast<const char*>(bytes), size);
  std::free(bytes);
  exif_data_unref(data);
  return payload;
}

// A small JPEG, with an APP1 EXIF segment after SOI when `date` is given.
void write_jpeg(const fs::path& file, const std::string& date = {}) {
  std::vector<uchar> jpeg;
  cv::imencode(".jpg", cv::Mat(48, 64, CV_8UC3, cv::Scalar(40, 120, 200)), jpeg);
  std::string bytes(jpeg.begin(), jpeg.end());
  if (!date.empty()) {
    const std::string payload = exif_payload(date);
    const std::size_t length = payload.size() + 2;
    const std::string app1 = std::string("\xFF\xE1", 2) + static_cast<char>(length >> 8) +
                             static_cast<char>(length & 0xFF) + payload;
    bytes.insert(2, app1);
  }
  write_file(file, bytes);
}

// Sets the file's modification time; returns it as capture_time writes a local time.
std::string set_mtime(const fs::path& file, std::time_t t) {
  const utimbuf times{t, t};
  ::utime(file.c_str(), &times);
  std::tm local{};
  localtime_r(&t, &local);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &local);
  return text;
}

}  // namespace

TEST(CaptureTime, ExifDateTimeOriginalIsTheCaptureTime) {
  TempDir dir;
  write_jpeg(dir / "camera.jpg", "2019:06:30 18:05:09");
  set_mtime(dir / "camera.jpg", 1662540000);  // the file time says another day
  const CaptureTime t = capture_time(dir / "camera.jpg");
  EXPECT_EQ(t.taken, "2019-06-30 18:05:09");
  EXPECT_EQ(t.from, "exif");
  EXPECT_EQ(read_image(dir / "camera.jpg").cols, 64);  // and the photo still decodes
}

TEST(CaptureTime, WithoutExifTheFileTimeIsUsedAndSaidSo) {
  TempDir dir;
  write_jpeg(dir / "webcam.jpg");
  const std::string expected = set_mtime(dir / "webcam.jpg", 1662540000);
  const CaptureTime t = capture_time(dir / "webcam.jpg");
  EXPECT_EQ(t.taken, expected);
  EXPECT_EQ(t.from, "file time");

  cv::imwrite((dir / "screenshot.png").string(), cv::Mat(8, 8, CV_8UC3, cv::Scalar(1, 2, 3)));
  const std::string png_time = set_mtime(dir / "screenshot.png", 1500000000);
  EXPECT_EQ(capture_time(dir / "screenshot.png").taken, png_time);
  EXPECT_EQ(capture_time(dir / "screenshot.png").from, "file time");
}

TEST(CaptureTime, AnUnsetCameraClockFallsBackToTheFileTime) {
  TempDir dir;
  write_jpeg(dir / "unset.jpg", "0000:00:00 00:00:00");
  const std::string expected = set_mtime(dir / "unset.jpg", 1662540000);
  EXPECT_EQ(capture_time(dir / "unset.jpg").taken, expected);
  EXPECT_EQ(capture_time(dir / "unset.jpg").from, "file time");
  EXPECT_EQ(capture_time(dir / "missing.jpg").from, "");
  EXPECT_EQ(capture_time(dir / "missing.jpg").taken, "");
}

TEST(CaptureTime, ExifDatesAreCheckedBeforeUse) {
  EXPECT_EQ(exif_date("2022:09:10 08:56:01"), "2022-09-10 08:56:01");
  EXPECT_EQ(exif_date("2022:09:10 08:56:01\n"), "2022-09-10 08:56:01");
  EXPECT_EQ(exif_date("0000:00:00 00:00:00"), "");
  EXPECT_EQ(exif_date("    :  :     :  :  "), "");
  EXPECT_EQ(exif_date("2022-09-10 08:56:01"), "");  // not EXIF's separators
  EXPECT_EQ(exif_date("2022:13:10 08:56:01"), "");
  EXPECT_EQ(exif_date("2022:09:10"), "");
}
