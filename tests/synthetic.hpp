#pragma once
// Tiny synthetic faces, models and training configs for the tests of the core: training on them
// takes seconds and needs no data.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "faceid/config.hpp"
#include "faceid/pair_dataset.hpp"
#include "faceid/trainer.hpp"

namespace faceid::test {

inline ModelConfig tiny_config() {
  ModelConfig c;
  c.name = "koch-small";
  c.input_size = 80;
  c.embedding_size = 32;
  c.batch_norm = true;
  return c;
}

// Six synthetic "people", each a flat colour with pixel noise; four chips each. Telling them
// apart is easy, so a working trainer must get it right quickly.
inline FaceSet synthetic_faces(int s = 80) {
  FaceSet set;
  torch::manual_seed(0);
  const std::vector<std::array<int, 3>> colours = {{200, 40, 40},  {40, 200, 40},  {40, 40, 200},
                                                   {200, 200, 40}, {40, 200, 200}, {200, 40, 200}};
  std::vector<torch::Tensor> chips;
  for (std::size_t p = 0; p < colours.size(); ++p) {
    Identity person{"p" + std::to_string(p), {}};
    for (int k = 0; k < 4; ++k) {
      auto chip = torch::tensor({colours[p][0], colours[p][1], colours[p][2]}, torch::kFloat)
                      .view({1, 1, 3})
                      .expand({s, s, 3});
      chip = (chip + torch::randint(-25, 25, {s, s, 3})).clamp(0, 255).to(torch::kUInt8);
      person.chips.push_back(static_cast<int>(chips.size()));
      chips.push_back(chip);
    }
    set.pool.people.push_back(person);
  }
  set.chips = torch::stack(chips);
  return set;
}

inline TrainConfig tiny_train(std::uint64_t seed = 5) {
  TrainConfig c;
  c.epochs = 10;
  c.batch = {3, 2};  // 6 people x 4 chips: 12 places of 2 per epoch, 4 batches of 3 people
  c.learning_rate = 1e-3;
  c.val_pairs = 48;
  c.seed = seed;
  c.device = "cpu";
  c.augment.enabled = false;
  return c;
}

/// The default architecture, small (32 px chips, 16-d embeddings).
inline ModelConfig tiny_resnet() {
  ModelConfig c;
  c.input_size = 32;
  c.embedding_size = 16;
  return c;
}

}  // namespace faceid::test
