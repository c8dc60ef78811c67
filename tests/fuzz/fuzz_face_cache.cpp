// libFuzzer target: FaceCache::load on arbitrary bytes (a face cache file: faceprep, facetrain,
// faceeval and faceverify read it), in memory and on demand. A file it cannot use is ignored (an
// empty cache, rebuilt): load never throws. Seeds: chip size 2, fingerprint "fuzz".
#include "faceid/io/face_cache.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using faceid::CachedFace;
  using faceid::FaceStatus;
  const auto load = [](const std::filesystem::path& file) {
    return faceid::FaceCache::load(file, 2, "fuzz");
  };
  const auto file = faceid::fuzz::scratch_file(data, size, ".bin");
  const auto cache = load(file);
  FUZZ_CHECK(cache.chip_size() == 2 && cache.fingerprint() == "fuzz");
  // Loaded on demand (facetrain): the same entries, each chip read from the file as loaded.
  const auto lazy = faceid::FaceCache::load(file, 2, "fuzz", faceid::ChipLoading::OnDemand);
  FUZZ_CHECK(lazy.size() == cache.size());
  for (const auto& key : cache.keys()) {
    const CachedFace* a = cache.find(key);
    const CachedFace* b = lazy.find(key);
    FUZZ_CHECK(b != nullptr && b->status == a->status);
    if (a->status != FaceStatus::Face) continue;
    std::vector<std::uint8_t> chip(12);
    b->read_chip(chip.data(), chip.size());
    FUZZ_CHECK(chip == a->chip);
  }
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
