// libFuzzer target: read_imglab on arbitrary bytes (dlib imglab XML box files).
#include <cmath>

#include "faceid/error.hpp"
#include "faceid/io/boxes.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& file = faceid::fuzz::scratch_file(data, size, ".xml");
  try {
    const auto images = faceid::read_imglab(file);
    FUZZ_CHECK(!images.empty());
    for (const auto& image : images)
      for (const auto& box : image.boxes) {
        for (const float v : {box.x, box.y, box.width, box.height})
          FUZZ_CHECK(std::isfinite(v) && std::abs(v) <= faceid::kMaxBoxCoordinate);
        FUZZ_CHECK(box.width > 0 && box.height > 0);
        for (const auto& other : image.boxes) {
          const float v = faceid::iou(box, other);
          FUZZ_CHECK(v >= 0 && v <= 1 && v == faceid::iou(other, box));
        }
      }
  } catch (const faceid::Error& e) {
    FUZZ_CHECK(e.kind() == faceid::ErrorKind::Input);
  }
  return 0;
}
