#include "faceid/data/pair_dataset.hpp"

#include <torch/data.h>

#include "faceid/data/augment.hpp"
#include "faceid/error.hpp"
#include "test_support.hpp"

using namespace faceid;
using faceid::test::TempDir;
using faceid::test::write_file;

namespace {

torch::Tensor random_chips(int n, int s) {
  torch::manual_seed(3);
  return torch::randint(0, 256, {n, s, s, 3}, torch::kUInt8);
}

}  // namespace

TEST(Augment, IsDeterministicPerSeedAndStaysInRange) {
  const auto image = chip_to_float(random_chips(1, 32), 0);
  AugmentConfig config;
  config.blur_prob = 1;
  const auto a = augment(image, config, 5), b = augment(image, config, 5),
             c = augment(image, config, 6);
  EXPECT_EQ(a.sizes(), image.sizes());
  EXPECT_TRUE(torch::equal(a, b));
  EXPECT_FALSE(torch::allclose(a, c));
  EXPECT_GE(a.min().item<float>(), 0.f);
  EXPECT_LE(a.max().item<float>(), 1.f);
  config.enabled = false;
  EXPECT_TRUE(torch::equal(augment(image, config, 5), image));
}

TEST(Augment, AFlipOnlyMirrorsTheImage) {
  const auto image = chip_to_float(random_chips(1, 16), 0);
  AugmentConfig flip_only;
  flip_only.flip_prob = 1;
  flip_only.max_rotation_deg = flip_only.max_scale = flip_only.max_shift = 0;
  flip_only.brightness = flip_only.contrast = flip_only.blur_prob = flip_only.noise_std = 0;
  EXPECT_TRUE(torch::allclose(augment(image, flip_only, 1), image.flip({2}), 1e-5,
                              1e-6));  // resampling rounds
}

TEST(PairDataset, ExamplesAreStackedPairsWithLabels) {
  const auto chips = random_chips(4, 24);
  AugmentConfig off;
  off.enabled = false;
  PairDataset dataset(
      chips, {{0, 1, 1.f, PairKind::IdentityPositive}, {2, 3, 0.f, PairKind::IdentityNegative}},
      off, 9);
  ASSERT_EQ(dataset.size().value(), 2u);
  const auto example = dataset.get(1);
  EXPECT_EQ(example.data.sizes(), (std::vector<int64_t>{2, 3, 24, 24}));
  EXPECT_FLOAT_EQ(example.target.item<float>(), 0.f);
  EXPECT_TRUE(torch::allclose(example.data[0], chip_to_float(chips, 2)));
  EXPECT_THROW(PairDataset(chips, {{0, 7, 1.f, PairKind::IdentityPositive}}, off, 1), Error);
}

TEST(PairDataset, WorkerThreadsLoadTheSameBatchesAsOneThread) {
  const auto chips = random_chips(10, 20);
  PairPool pool;
  for (int p = 0; p < 5; ++p) pool.people.push_back({"p" + std::to_string(p), {2 * p, 2 * p + 1}});
  const auto pairs = sample_pairs(pool, {0, 24}, 4);
  auto load = [&](std::size_t workers) {
    auto loader = torch::data::make_data_loader(
        PairDataset(chips, pairs, AugmentConfig{}, 17).map(torch::data::transforms::Stack<>()),
        torch::data::samplers::SequentialSampler(pairs.size()),
        torch::data::DataLoaderOptions(8).workers(workers).enforce_ordering(true));
    std::vector<torch::Tensor> batches;
    for (auto& batch : *loader) {
      EXPECT_EQ(batch.data.sizes(), (std::vector<int64_t>{8, 2, 3, 20, 20}));
      batches.push_back(torch::cat({batch.data.flatten(), batch.target}));
    }
    return torch::cat(batches);
  };
  EXPECT_TRUE(torch::equal(load(0), load(2)));
}

TEST(PairDataset, FaceSetGathersCachedFacesAndLeavesOutExcludedPeople) {
  TempDir dir;
  std::vector<Person> people = {{"Ann", {dir / "Ann/1.jpg", dir / "Ann/2.jpg"}},
                                {"Bob", {dir / "Bob/1.jpg"}},
                                {"Cid", {dir / "Cid/1.jpg"}}};
  FaceCache cache(4, "fp");
  for (const auto& person : people)
    for (const auto& file : person.images) {
      write_file(file, file.string());
      CachedFace face;
      face.key = file_key(file);
      face.status = person.name == "Cid" ? FaceStatus::NoFace : FaceStatus::Face;
      if (face.status == FaceStatus::Face)
        face.chip.assign(4 * 4 * 3, static_cast<std::uint8_t>(file.string().size()));
      cache.put(face);
    }
  const auto set = make_face_set(people, cache, {}, nullptr, {"Bob"});
  EXPECT_EQ(set.chips.all().sizes(), (std::vector<int64_t>{2, 4, 4, 3}));
  ASSERT_EQ(set.pool.people.size(), 1u);
  EXPECT_EQ(set.pool.people[0].name, "Ann");
  EXPECT_EQ(set.excluded_people, 1u);
  EXPECT_EQ(set.missing, 1u);  // Cid's photo has no face
}
