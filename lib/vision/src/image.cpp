#include "faceid/image.hpp"

#include <cstring>
#include <fstream>
#include <limits>
#include <opencv2/imgcodecs.hpp>
#include <string_view>
#include <vector>

#include "faceid/error.hpp"

namespace fs = std::filesystem;

namespace faceid {
namespace {

// The most encoded bytes decode_image() hands to OpenCV, which counts them in an int.
constexpr std::size_t kMaxEncodedBytes = std::numeric_limits<int>::max();

bool is_jpeg(const std::uint8_t* b, std::size_t n) {
  return n >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF;
}

// The formats faceid reads (has_image_extension), by their leading bytes. Anything else never
// reaches cv::imdecode, whose other decoders are not ours to vouch for: Debian's GDCM (DICOM, found
// by "DICM" at byte 128) aborts the whole process on a malformed file (found by fuzz_image).
bool has_known_signature(const std::uint8_t* b, std::size_t n) {
  auto at = [&](std::size_t offset, std::string_view magic) {
    return n >= offset + magic.size() && std::memcmp(b + offset, magic.data(), magic.size()) == 0;
  };
  using namespace std::string_view_literals;
  return is_jpeg(b, n) || at(0, "\x89PNG\r\n\x1a\n"sv) || at(0, "BM"sv) ||
         (at(0, "RIFF"sv) && at(8, "WEBP"sv)) || at(0, "II*\0"sv) || at(0, "MM\0*"sv) ||
         (n >= 2 && b[0] == 'P' && b[1] >= '1' && b[1] <= '6');
}

}  // namespace

// A JPEG whose last scan (SOS, FF DA) is not followed by an end-of-image marker (FF D9) was cut
// short: libjpeg would "decode" it into a half-grey picture with only a warning. Entropy-coded
// data stuffs FF as FF 00, so these markers cannot occur inside a scan.
bool jpeg_is_truncated(const std::uint8_t* b, std::size_t n) {
  if (!is_jpeg(b, n)) return false;
  std::size_t last_sos = 0;
  for (std::size_t i = 0; i + 1 < n; ++i)
    if (b[i] == 0xFF && b[i + 1] == 0xDA) last_sos = i;
  if (last_sos == 0) return true;
  for (std::size_t i = last_sos; i + 1 < n; ++i)
    if (b[i] == 0xFF && b[i + 1] == 0xD9) return false;
  return true;
}

cv::Size sniff_image_size(const std::uint8_t* d, std::size_t n) {
  static const std::uint8_t kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  // Unsigned: a first byte >= 0x80 shifted into an int's sign bit would read as a negative size
  // and slip under the pixel limit.
  auto be32 = [&](std::size_t i) -> std::uint32_t {
    return std::uint32_t{d[i]} << 24 | std::uint32_t{d[i + 1]} << 16 |
           std::uint32_t{d[i + 2]} << 8 | d[i + 3];
  };
  if (n >= 24 && std::equal(kPng, kPng + 8, d)) {
    // The first chunk must be IHDR, whose width and height are 1..2^31-1 (PNG spec, 11.2.2).
    if (!std::equal(d + 12, d + 16, "IHDR"))
      throw input_error("corrupt PNG header (the first chunk is not IHDR)");
    const std::uint32_t width = be32(16), height = be32(20);
    constexpr std::uint32_t kMax = 0x7FFFFFFF;
    if (width == 0 || height == 0 || width > kMax || height > kMax)
      throw input_error("corrupt PNG header (" + std::to_string(width) + "x" +
                        std::to_string(height) + " pixels; PNG allows 1 to 2147483647 each)");
    return {static_cast<int>(width), static_cast<int>(height)};
  }
  if (n >= 4 && d[0] == 0xFF && d[1] == 0xD8) {
    std::size_t i = 2;
    for (;;) {
      // The next marker, found as libjpeg finds it (next_marker in jdmarker.c): bytes before it
      // and fill bytes are skipped, so "corrupt" JPEGs with junk between segments still decode
      // and must not get past the pixel limit as "size unknown".
      while (i < n && d[i] != 0xFF) ++i;
      while (i < n && d[i] == 0xFF) ++i;
      if (i >= n) return {};
      const std::uint8_t marker = d[i++];
      if (marker == 0x00 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7))
        continue;  // no length
      if (marker == 0xD9 || marker == 0xDA || i + 2 > n)
        return {};  // EOI or a scan: no frame header
      const std::size_t len = std::size_t{d[i]} << 8 | d[i + 1];
      const bool sof =
          marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
      if (sof) {
        if (i + 7 > n) return {};
        return {d[i + 5] << 8 | d[i + 6], d[i + 3] << 8 | d[i + 4]};
      }
      i += std::max<std::size_t>(len, 2);
    }
  }
  return {};
}

cv::Mat read_image(const fs::path& file, const ImageLimits& limits) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) throw input_error(file.string() + ": no such file");
  // Checked before reading: a file too large to decode is not read into memory at all.
  if (const auto bytes = fs::file_size(file, ec); !ec && bytes > kMaxEncodedBytes)
    throw input_error(file.string() + ": " + std::to_string(bytes) +
                      " bytes is too large to decode (the limit is " +
                      std::to_string(kMaxEncodedBytes) + ")");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw input_error(file.string() + ": cannot open");
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
  if (bytes.empty()) throw input_error(file.string() + ": empty file (0 bytes)");
  return decode_image(bytes.data(), bytes.size(), file.string(), limits);
}

cv::Mat decode_image(const std::uint8_t* data, std::size_t size, const std::string& name,
                     const ImageLimits& limits) {
  if (size == 0) throw input_error(name + ": empty (0 bytes)");
  // cv::imdecode takes the bytes as a Mat whose length is an int.
  if (size > kMaxEncodedBytes)
    throw input_error(name + ": " + std::to_string(size) +
                      " bytes is too large to decode (the limit is " +
                      std::to_string(kMaxEncodedBytes) + ")");
  cv::Size header;
  try {
    header = sniff_image_size(data, size);
  } catch (const Error& e) {
    throw input_error(name + ": " + e.what());
  }
  if (static_cast<std::int64_t>(header.width) * header.height > limits.max_pixels)
    throw input_error(name + ": " + std::to_string(header.width) + "x" +
                      std::to_string(header.height) + " pixels exceeds the limit of " +
                      std::to_string(limits.max_pixels));
  if (!has_known_signature(data, size))
    throw input_error(name + ": not a decodable image (not JPEG, PNG, BMP, WebP, TIFF or PGM/PPM)");
  if (jpeg_is_truncated(data, size))
    throw input_error(name + ": truncated or corrupt JPEG (no end-of-image marker)");

  cv::Mat image;
  try {
    // IMREAD_COLOR applies the EXIF orientation and converts gray, RGBA and 16-bit to 8-bit BGR.
    image =
        cv::imdecode(cv::Mat(1, static_cast<int>(size), CV_8UC1, const_cast<std::uint8_t*>(data)),
                     cv::IMREAD_COLOR);
  } catch (const cv::Exception& e) {
    throw input_error(name + ": cannot decode image: " + e.err);
  }
  if (image.empty()) throw input_error(name + ": not a decodable image");
  if (static_cast<std::int64_t>(image.total()) > limits.max_pixels)
    throw input_error(name + ": " + std::to_string(image.cols) + "x" + std::to_string(image.rows) +
                      " pixels exceeds the limit of " + std::to_string(limits.max_pixels));
  return image;
}

}  // namespace faceid
