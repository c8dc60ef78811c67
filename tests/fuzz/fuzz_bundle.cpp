// libFuzzer target: a model bundle's model.json on arbitrary bytes, read and checked by
// read_bundle_manifest, and the weights file it names checked by read_bundle_weights (size and
// checksum; the weights' tensors are LibTorch's to read). The bundle folder also holds a weights
// file of 13 bytes, "fuzz weights\n", which the seeds name with its size and checksum.
#include "faceid/bundle/bundle.hpp"
#include "faceid/error.hpp"
#include "fuzz_support.hpp"

namespace {

const std::string kWeights = "fuzz weights\n";

const std::filesystem::path& bundle_dir() {
  static const std::filesystem::path dir = [] {
    auto d = faceid::fuzz::scratch_dir() / "bundle";
    std::filesystem::create_directories(d);
    faceid::fuzz::write_bytes(d / ("weights-" + faceid::checksum_bytes(kWeights) + ".pt"),
                              kWeights.data(), kWeights.size());
    return d;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& dir = bundle_dir();
  faceid::fuzz::write_bytes(dir / "model.json", data, size);
  try {
    const faceid::BundleManifest m = faceid::read_bundle_manifest(dir);
    const auto& info = m.info;
    FUZZ_CHECK(info.kind == faceid::kSiameseKind || info.kind == faceid::kOwnerKind);
    FUZZ_CHECK(info.model.input_size == info.preprocess.chip_size);
    FUZZ_CHECK(info.model.embedding_size >= 1 &&
               info.model.embedding_size <= faceid::kMaxEmbeddingSize);
    FUZZ_CHECK(info.kind != faceid::kOwnerKind ||
               info.owner.head.embedding_size == info.model.embedding_size);
    FUZZ_CHECK(std::filesystem::path(m.weights_file).filename() == m.weights_file);
    // What was accepted is written back as it was read.
    const nlohmann::json j = faceid::bundle_json(m);
    faceid::fuzz::write_bytes(dir / "model.json", j.dump().data(), j.dump().size());
    FUZZ_CHECK(faceid::bundle_json(faceid::read_bundle_manifest(dir)) == j);
    const std::string weights = faceid::read_bundle_weights(dir, m);
    FUZZ_CHECK(weights == kWeights && weights.size() == m.weights_bytes);
  } catch (const faceid::Error& e) {
    FUZZ_CHECK(e.kind() == faceid::ErrorKind::Model);
  }
  return 0;
}
