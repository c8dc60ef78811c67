#pragma once
// Tiny synthetic faces, models and training configs for the tests of the core: training on them
// takes seconds and needs no data.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "faceid/bundle/bundle.hpp"
#include "faceid/config.hpp"
#include "faceid/data/pair_dataset.hpp"
#include "faceid/train/trainer.hpp"
#include "faceid/train/training_run.hpp"

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

// The owner (12 chips of one colour) and 8 strangers (4 each), all with pixel noise; 80 px.
inline FaceSet owner_and_strangers() {
  FaceSet set;
  torch::manual_seed(0);
  std::vector<torch::Tensor> chips;
  auto add = [&](std::array<int, 3> rgb) {
    auto chip =
        torch::tensor({rgb[0], rgb[1], rgb[2]}, torch::kFloat).view({1, 1, 3}).expand({80, 80, 3});
    chips.push_back((chip + torch::randint(-25, 25, {80, 80, 3})).clamp(0, 255).to(torch::kUInt8));
    return static_cast<int>(chips.size()) - 1;
  };
  for (int k = 0; k < 12; ++k) set.pool.owner.push_back(add({220, 120, 60}));
  const std::vector<std::array<int, 3>> colours = {{30, 30, 200},  {30, 200, 30},   {200, 30, 200},
                                                   {30, 200, 200}, {120, 120, 120}, {240, 240, 40},
                                                   {90, 30, 30},   {30, 90, 30}};
  for (std::size_t p = 0; p < colours.size(); ++p) {
    Identity person{"p" + std::to_string(p), {}};
    for (int k = 0; k < 4; ++k) person.chips.push_back(add(colours[p]));
    set.pool.people.push_back(person);
  }
  set.chips = torch::stack(chips);
  return set;
}

/// owner_and_strangers split: 8 owner photos and 5 people train, 4 owner photos and 3 people
/// (12 faces) held out.
inline PoolSplit owner_split(const FaceSet& faces) {
  PoolSplit split;
  split.train.owner.assign(faces.pool.owner.begin(), faces.pool.owner.begin() + 8);
  split.val.owner.assign(faces.pool.owner.begin() + 8, faces.pool.owner.end());
  split.train.people.assign(faces.pool.people.begin(), faces.pool.people.begin() + 5);
  split.val.people.assign(faces.pool.people.begin() + 5, faces.pool.people.end());
  return split;
}

/// The recipe of the in-process training tests: tiny_config and tiny_train, 10 epochs.
inline Recipe tiny_recipe() {
  Recipe r = scratch_recipe("koch-small");
  r.model = tiny_config();
  r.train = tiny_train();
  r.train.learning_rate = 5e-3;
  return r;
}

/// A general (siamese) bundle trained by train_siamese on owner_and_strangers, saved in `dir` and
/// loaded back. `preprocess` is the bundle's (its chip size set to 80).
inline LoadedBundle general_bundle(const std::filesystem::path& dir, const FaceSet& faces,
                                   const PoolSplit& split, PreprocessConfig preprocess = {}) {
  torch::manual_seed(1);
  const Recipe recipe = tiny_recipe();
  SiameseNet net(recipe.model);
  preprocess.chip_size = 80;
  const TrainedModel m = train_siamese(net, faces, split, recipe, preprocess);
  save_bundle(dir, m.info, net, nullptr, m.strangers);
  return load_bundle(dir);
}

}  // namespace faceid::test
