#include "faceid/train/owner_run.hpp"

#include <torch/torch.h>

#include "faceid/error.hpp"
#include "faceid/train/training_run.hpp"
#include "synthetic.hpp"
#include "test_support.hpp"

using namespace faceid;
using faceid::test::TempDir;

// The owner-model workflow on synthetic faces: a general bundle first (train_siamese), then the
// owner head on its embedding -> an owner bundle that loads and tells the owner from strangers.
TEST(OwnerRun, TrainsAnOwnerBundleOnTopOfAGeneralOne) {
  TempDir dir;
  const FaceSet faces = faceid::test::owner_and_strangers();
  const PoolSplit split = faceid::test::owner_split(faces);
  LoadedBundle base = faceid::test::general_bundle(dir / "general", faces, split);

  OwnerTrainConfig config;
  config.owner_copies = 4;
  config.head_steps = 100;
  config.seed = 3;
  const std::vector<int> held_strangers = split.val.stranger_ids();
  const OwnerRun run = train_owner_run(base, (dir / "general").string(), faces.chips, split,
                                       held_strangers, config, false, {0.01, 0.5});
  EXPECT_EQ(run.info.kind, kOwnerKind);
  EXPECT_EQ(run.config.fit, "centroid");  // no fine-tuning, no hidden layer: the default fit
  EXPECT_TRUE(run.unusable.empty()) << run.unusable;
  EXPECT_GT(run.info.thresholds.calibration.value("auc", 0.0), 0.99);
  EXPECT_FLOAT_EQ(run.info.thresholds.detection, base.info.thresholds.detection);
  EXPECT_EQ(run.owner_probabilities.size(), 4u);
  EXPECT_EQ(run.stranger_probabilities.size(), 12u);
  const auto owner = owner_run_accepts(base, run, faces.chips, split.val.owner);
  EXPECT_EQ(std::count(owner.begin(), owner.end(), true), 4);
  const auto strangers = owner_run_accepts(base, run, faces.chips, held_strangers);
  EXPECT_EQ(std::count(strangers.begin(), strangers.end(), true), 0);

  OwnerHead head = run.head;
  save_bundle(dir / "owner", run.info, base.net, &head);
  const LoadedBundle owner_bundle = load_bundle(dir / "owner");
  EXPECT_TRUE(owner_bundle.is_owner());
  EXPECT_EQ(owner_bundle.info.owner.from_checksum, base.checksum);

  // Nothing held out to calibrate on: an input error, before any training.
  PoolSplit no_val = split;
  no_val.val.owner.clear();
  EXPECT_THROW(
      train_owner_run(base, "g", faces.chips, no_val, held_strangers, config, false, {0.01, 0.5}),
      Error);
}
