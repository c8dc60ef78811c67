// libFuzzer target: read_pairs_file on arbitrary bytes (LFW View 1 / View 2 pairs files).
#include "faceid/error.hpp"
#include "faceid/io/lfw_pairs.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& file = faceid::fuzz::scratch_file(data, size, ".txt");
  try {
    const faceid::PairsFile pairs = faceid::read_pairs_file(file);
    // What the parser promises when it accepts a file.
    FUZZ_CHECK(pairs.folds >= 1 && pairs.per_fold >= 1);
    FUZZ_CHECK(pairs.pairs.size() == std::size_t(pairs.folds) * std::size_t(pairs.per_fold) * 2);
    for (const auto& p : pairs.pairs) {
      FUZZ_CHECK(p.index1 >= 1 && p.index2 >= 1 && p.fold >= 0 && p.fold < pairs.folds);
      FUZZ_CHECK(!p.name1.empty() && !p.name2.empty() && p.line > 1);
      FUZZ_CHECK(!p.same || p.name1 == p.name2);
    }
  } catch (const faceid::Error& e) {
    FUZZ_CHECK(e.kind() == faceid::ErrorKind::Input);
  }
  return 0;
}
