// libFuzzer target: FaceIndex::load on arbitrary bytes (a photo library's face index, faceenroll
// and faceserve --library). A file it cannot use is ignored (an empty index, detected again):
// load never throws, and what it accepts holds only finite boxes of some size, a face list that
// fits the status, and survives a save and a reload. Seeds: fingerprint "fuzz".
#include <cmath>

#include "faceid/io/face_index.hpp"
#include "fuzz_support.hpp"

namespace {

bool plausible(const faceid::IndexedPhoto& p) {
  if (p.faces.empty() == (p.status == faceid::FaceStatus::Face)) return false;
  for (const auto& f : p.faces) {
    for (const float v : f.box)
      if (!std::isfinite(v)) return false;
    if (!(f.box[2] > 0 && f.box[3] > 0) || !std::isfinite(f.score)) return false;
  }
  return true;
}

bool same(const faceid::IndexedPhoto& a, const faceid::IndexedPhoto& b) {
  if (!(a.key == b.key) || a.status != b.status || a.taken != b.taken ||
      a.taken_from != b.taken_from || a.message != b.message || a.faces.size() != b.faces.size())
    return false;
  for (std::size_t i = 0; i < a.faces.size(); ++i)
    if (a.faces[i].box != b.faces[i].box || a.faces[i].landmarks != b.faces[i].landmarks ||
        a.faces[i].has_landmarks != b.faces[i].has_landmarks ||
        a.faces[i].score != b.faces[i].score)
      return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto load = [](const std::filesystem::path& file) {
    return faceid::FaceIndex::load(file, "fuzz");
  };
  faceid::fuzz::check_cache(load(faceid::fuzz::scratch_file(data, size, ".bin")), load, plausible,
                            same);
  return 0;
}
