#pragma once
// A model bundle for the vision tests that says "same" only for (nearly) identical faces, and
// copies of owner photos: verdicts that are known in advance, whatever the pictures.

#include <filesystem>
#include <vector>

#include <torch/torch.h>

#include "faceid/bundle/bundle.hpp"
#include "faceid/face_pipeline.hpp"
#include "faceid/io/sources.hpp"

namespace faceid::test {

namespace fs = std::filesystem;

// A fixture model whose head says "same" only for (nearly) identical faces: every weight of the
// classifier is strongly negative and its bias positive, so P(same) = sigmoid(4) = 0.982 at L1
// distance 0 and falls to ~0 as soon as the embeddings differ.
inline void write_fixture_model(const fs::path& dir, std::uint64_t seed = 1) {
  BundleInfo info;
  info.preprocess = FacePipeline(PreprocessConfig{}).config();  // the detector this machine has
  info.model.name = "koch-small";
  info.model.embedding_size = 32;
  info.model.input_size = info.preprocess.chip_size;
  info.thresholds.detection = 0.5f;
  info.thresholds.ratio = 0.2f;
  torch::manual_seed(seed);
  SiameseNet net(info.model);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : net->named_parameters()) {
      if (p.key() == "classifier.weight") p.value().fill_(-2000.0);
      if (p.key() == "classifier.bias") p.value().fill_(4.0);
    }
  }
  save_bundle(dir, info, net);
}

// The first n photos of the owner set, copied into `dir`.
inline std::vector<fs::path> copy_owner_photos(const fs::path& owner, const fs::path& dir,
                                               std::size_t n) {
  fs::create_directories(dir);
  std::vector<fs::path> out;
  for (const auto& f : list_images(owner)) {
    if (out.size() == n) break;
    out.push_back(dir / f.filename());
    fs::copy_file(f, out.back());
  }
  return out;
}

}  // namespace faceid::test
