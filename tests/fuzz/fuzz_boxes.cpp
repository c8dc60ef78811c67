// libFuzzer target: read_imglab on arbitrary bytes (dlib imglab XML box files).
#include <cmath>

#include "faceid/boxes.hpp"
#include "faceid/error.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& file = faceid::fuzz::scratch_file(data, size, ".xml");
  try {
    const auto images = faceid::read_imglab(file);
    FUZZ_CHECK(!images.empty());
    for (const auto& image : images)
      for (const auto& box : image.boxes) {
        FUZZ_CHECK(std::isfinite(box.x) && std::isfinite(box.y));
        FUZZ_CHECK(std::isfinite(box.width) && box.width > 0 && std::isfinite(box.height) &&
                   box.height > 0);
        const float self = faceid::iou(box, box);
        FUZZ_CHECK(self >= 0 && self <= 1.0001f);
      }
  } catch (const faceid::Error& e) {
    FUZZ_CHECK(e.kind() == faceid::ErrorKind::Input);
  }
  return 0;
}
