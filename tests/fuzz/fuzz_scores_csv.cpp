// libFuzzer target: read_scores_csv on arbitrary bytes (another system's scores for faceeval
// --scores), matched against a small pairs file whose pairs the seeds name.
#include <cmath>

#include "faceid/error.hpp"
#include "faceid/score/pair_report.hpp"
#include "fuzz_support.hpp"

namespace {

// One fold of two matched and two mismatched pairs.
const faceid::PairsFile& pairs() {
  static const faceid::PairsFile file = [] {
    const std::string text = "1\t2\nA\t1\t2\nB\t1\t3\nA\t1\tB\t2\nC\t1\tA\t2\n";
    const auto path = faceid::fuzz::scratch_dir() / "pairs.txt";
    faceid::fuzz::write_bytes(path, text.data(), text.size());
    return faceid::read_pairs_file(path);
  }();
  return file;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const faceid::PairsFile& file = pairs();
  const auto csv = faceid::fuzz::scratch_file(data, size, ".csv");
  try {
    const auto scores = faceid::read_scores_csv(csv, file);
    // One finite score per pair, in the pairs file's order: what the metrics need.
    FUZZ_CHECK(scores.size() == file.pairs.size());
    for (const float s : scores) FUZZ_CHECK(std::isfinite(s));
    const auto report = faceid::pairs_report(faceid::score_pairs(file, scores));
    FUZZ_CHECK(report.auc >= 0 && report.auc <= 1 && report.pairs == file.pairs.size());
  } catch (const faceid::Error& e) {
    FUZZ_CHECK(e.kind() == faceid::ErrorKind::Input);
  }
  return 0;
}
