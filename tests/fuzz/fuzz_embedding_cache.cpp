// libFuzzer target: EmbeddingCache::load on arbitrary bytes (the reference embedding cache of
// faceverify and faceserve). A file it cannot use is ignored (an empty cache, recomputed): load
// never throws, and what it accepts holds only finite embeddings. Seeds: model checksum "fuzz",
// dimension 3.
#include <cmath>

#include "faceid/io/embedding_cache.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto load = [](const std::filesystem::path& file) {
    return faceid::EmbeddingCache::load(file, "fuzz", 3);
  };
  faceid::fuzz::check_cache(
      load(faceid::fuzz::scratch_file(data, size, ".bin")), load,
      [](const std::vector<float>& e) {
        bool finite = e.size() == 3;
        for (const float v : e) finite = finite && std::isfinite(v);
        return finite;
      },
      [](const std::vector<float>& a, const std::vector<float>& b) { return a == b; });
  return 0;
}
