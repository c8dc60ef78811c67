// libFuzzer target: the checks made on image bytes before decoding (sniff_image_size,
// jpeg_is_truncated, the pixel limit of decode_image). A limit of one pixel keeps OpenCV's
// decoders (not ours, not instrumented) out of the loop except for 1-pixel pictures.
#include <opencv2/core/mat.hpp>
#include <string>

#include "faceid/error.hpp"
#include "faceid/image.hpp"
#include "fuzz_support.hpp"

using faceid::ErrorKind;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  cv::Size header;
  try {
    header = faceid::sniff_image_size(data, size);
    FUZZ_CHECK(header.width >= 0 && header.height >= 0);
  } catch (const faceid::Error& e) {
    FUZZ_CHECK(e.kind() == ErrorKind::Input);
  }
  faceid::jpeg_is_truncated(data, size);
  const std::int64_t pixels = std::int64_t{header.width} * header.height;
  try {
    const cv::Mat image = faceid::decode_image(data, size, "fuzz", faceid::ImageLimits{1});
    FUZZ_CHECK(image.total() <= 1 && image.type() == CV_8UC3);
    // A JPEG or PNG that decodes had its size read from the header: the limit applied to it.
    const bool jpeg = size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF;
    const bool png =
        size >= 8 && data[0] == 0x89 && data[1] == 'P' && data[2] == 'N' && data[3] == 'G';
    if (jpeg || png) FUZZ_CHECK(pixels == static_cast<std::int64_t>(image.total()));
  } catch (const faceid::Error& e) {
    FUZZ_CHECK(e.kind() == ErrorKind::Input);
  }
  // A header of w x h pixels must be refused, before decoding, by a limit of w*h - 1.
  if (pixels >= 2) {
    try {
      faceid::decode_image(data, size, "fuzz", faceid::ImageLimits{pixels - 1});
      FUZZ_CHECK(false);
    } catch (const faceid::Error& e) {
      FUZZ_CHECK(e.kind() == ErrorKind::Input &&
                 std::string(e.what()).find("exceeds the limit") != std::string::npos);
    }
  }
  return 0;
}
