#include "faceid/train/training_run.hpp"

#include <cstdlib>
#include <string>

#include <torch/torch.h>

#include "faceid/bundle/bundle.hpp"
#include "faceid/error.hpp"
#include "faceid/score/decision.hpp"
#include "faceid/score/metrics.hpp"
#include "synthetic.hpp"
#include "test_support.hpp"

using namespace faceid;
using faceid::test::TempDir;

TEST(TrainingRun, RecipesHoldFacetrainsMeasuredDefaults) {
  const Recipe resnet = scratch_recipe();
  EXPECT_EQ(resnet.init, "none");
  EXPECT_DOUBLE_EQ(resnet.train.weight_decay, 0.05);
  EXPECT_FLOAT_EQ(resnet.model.zoom_view, 1.6f);
  const Recipe koch = scratch_recipe("koch");
  EXPECT_DOUBLE_EQ(koch.train.learning_rate, 2e-4);
  EXPECT_FLOAT_EQ(koch.train.augment.zoom_view, 0.f);
  const Recipe head = pretrained_recipe();
  EXPECT_EQ(head.init, "face-api");
  EXPECT_EQ(head.train.epochs, 1);
  EXPECT_DOUBLE_EQ(head.val_fraction, 0.5);
  EXPECT_DOUBLE_EQ(head.switch_margin, 0.002);
  EXPECT_TRUE(pretrained_recipe("all").train.imprint);
  EXPECT_THROW(pretrained_recipe("some"), Error);
  EXPECT_THROW(scratch_recipe("vgg"), Error);
}

// The main capability end to end, in-process and on synthetic faces only (no ../shared/data):
// train -> calibrate -> bundle -> load -> the owner rule accepts the owner's held-out faces and
// rejects the strangers -> a report of the scores.
TEST(TrainingRun, TrainsABundleThatFindsItsOwnerAndRejectsStrangers) {
  // Nothing here may need the shared data: FACEID_DATA points nowhere for the test's duration.
  const char* data = std::getenv("FACEID_DATA");
  const std::string saved = data ? data : "";
  setenv("FACEID_DATA", "/nonexistent", 1);
  struct Restore {
    std::string value;
    bool had;
    ~Restore() { had ? setenv("FACEID_DATA", value.c_str(), 1) : unsetenv("FACEID_DATA"); }
  } restore{saved, data != nullptr};
  TempDir dir;
  const FaceSet faces = faceid::test::owner_and_strangers();
  const PoolSplit split = faceid::test::owner_split(faces);
  Recipe recipe = faceid::test::tiny_recipe();
  recipe.references = 6;
  recipe.target_far = 0.01;  // of 12 strangers: none accepted on them
  torch::manual_seed(1);
  SiameseNet net(recipe.model);
  PreprocessConfig preprocess;
  preprocess.chip_size = 80;
  TrainedModel m = train_siamese(net, faces, split, recipe, preprocess);
  ASSERT_EQ(m.result.history.size(), 10u);
  EXPECT_TRUE(m.unusable.empty()) << m.unusable;
  EXPECT_EQ(m.references.size(), 6u);
  EXPECT_EQ(m.strangers.size(0), 12);  // every held-out stranger face is the cohort
  EXPECT_TRUE(m.info.thresholds.calibration.contains("tar"));
  EXPECT_EQ(m.info.training.device, "cpu");
  EXPECT_EQ(m.info.training.epochs_run, 10);

  save_bundle(dir / "m", m.info, net, nullptr, m.strangers);
  const LoadedBundle loaded = load_bundle(dir / "m");
  auto loaded_net = loaded.net;
  const auto& t = loaded.info.thresholds;
  EXPECT_FLOAT_EQ(t.detection, m.info.thresholds.detection);
  const auto refs = embed_rows(loaded_net, faces.chips, m.references, torch::kCPU);
  std::vector<float> owner_scores, stranger_scores;
  for (const auto& row : gallery_scores(
           loaded_net, embed_rows(loaded_net, faces.chips, split.val.owner, torch::kCPU), refs)) {
    EXPECT_TRUE(is_owner(row, t.detection, t.ratio));
    owner_scores.push_back(match_share(row, t.detection));
  }
  const std::vector<int> stranger_ids = split.val.stranger_ids();
  int strangers_accepted = 0;
  for (const auto& row : gallery_scores(
           loaded_net, embed_rows(loaded_net, faces.chips, stranger_ids, torch::kCPU), refs)) {
    strangers_accepted += is_owner(row, t.detection, t.ratio);
    stranger_scores.push_back(match_share(row, t.detection));
  }
  // Fitted on these very strangers to accept none; the loaded net folds BatchNorm, which may move
  // the one stranger at the threshold by a rounding error.
  EXPECT_LE(strangers_accepted, 1);
  // The report: owner vs strangers separate.
  std::vector<float> scores = owner_scores;
  scores.insert(scores.end(), stranger_scores.begin(), stranger_scores.end());
  std::vector<int> labels(owner_scores.size(), 1);
  labels.resize(scores.size(), 0);
  EXPECT_GT(auc(scores, labels), 0.99);
  // The calibrated rule's session acceptance, as facetrain reports it.
  const auto accepted = owner_accepts(net, faces.chips, m, split.val.owner);
  EXPECT_EQ(std::count(accepted.begin(), accepted.end(), true), 4);
}
