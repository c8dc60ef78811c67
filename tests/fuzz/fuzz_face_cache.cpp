// libFuzzer target: FaceCache::load on arbitrary bytes (a face cache file: faceprep, facetrain,
// faceeval and faceverify read it). A file it cannot use is ignored (an empty cache, rebuilt):
// load never throws. Seeds: chip size 2, fingerprint "fuzz".
#include "faceid/face_cache.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using faceid::CachedFace;
  using faceid::FaceStatus;
  const auto load = [](const std::filesystem::path& file) {
    return faceid::FaceCache::load(file, 2, "fuzz");
  };
  const auto cache = load(faceid::fuzz::scratch_file(data, size, ".bin"));
  FUZZ_CHECK(cache.chip_size() == 2 && cache.fingerprint() == "fuzz");
  faceid::fuzz::check_cache(
      cache, load,
      [](const CachedFace& f) {
        return f.status <= FaceStatus::Unreadable &&
               f.chip.size() == (f.status == FaceStatus::Face ? 12u : 0u);
      },
      [](const CachedFace& a, const CachedFace& b) {
        return a.key == b.key && a.status == b.status && a.chip == b.chip &&
               a.message == b.message && a.detector == b.detector && a.faces_found == b.faces_found;
      });
  return 0;
}
