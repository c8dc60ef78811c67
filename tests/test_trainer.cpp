#include "faceid/train/trainer.hpp"

#include <chrono>
#include <functional>
#include <thread>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "faceid/error.hpp"
#include "faceid/score/metrics.hpp"
#include "faceid/train/distributed.hpp"
#include "synthetic.hpp"
#include "test_support.hpp"

using namespace faceid;
using namespace faceid::test;

namespace fs = std::filesystem;

TEST(Trainer, ATinyResnetLearnsWithBothLosses) {
  const FaceSet faces = synthetic_faces(32);
  const PoolSplit split{faces.pool, faces.pool};
  torch::manual_seed(2);
  SiameseNet net(tiny_resnet());
  TrainConfig config = tiny_train();
  config.learning_rate = 5e-3;
  Trainer trainer(net, faces, split, config);
  const auto result = trainer.fit();
  ASSERT_EQ(result.history.size(), 10u);
  EXPECT_GT(result.history.front().train_id_loss, 0);
  EXPECT_LT(result.history.back().train_id_loss, result.history.front().train_id_loss);
  EXPECT_GT(result.history.at(result.best_epoch - 1).val_auc, 0.95);
  // The schedule warms up, peaks and decays to ~0 at the last step.
  EXPECT_LT(result.history.back().learning_rate, 0.05 * config.learning_rate);
  // The scoring kept is the one of the highest validation AUC (mirror only for a clear gain).
  const auto aucs = trainer.choose_scoring();
  ASSERT_EQ(aucs.size(), 4u);
  const std::string kept = net->config().score + (net->config().flip_average ? "+mirror" : "");
  for (const auto& [kind, value] : aucs.items())
    EXPECT_LE(value.get<double>(), aucs.at(kept).get<double>() + 1e-3) << kind;
}

TEST(Trainer, LabelSmoothingSoftensTheIdentityTargets) {
  // The same first epoch (same init, batches and augmentation) with and without smoothed targets:
  // the identity loss differs from the first batch on (lower with smoothing here: at the start the
  // margin makes the true class the least likely one, and smoothing moves weight off it).
  const FaceSet faces = synthetic_faces(32);
  const PoolSplit split{faces.pool, faces.pool};
  auto first_epoch_id_loss = [&](double smoothing) {
    torch::manual_seed(2);
    SiameseNet net(tiny_resnet());
    TrainConfig config = tiny_train();
    config.epochs = 1;
    config.id_smoothing = smoothing;
    Trainer trainer(net, faces, split, config);
    return trainer.fit().history.at(0).train_id_loss;
  };
  const double plain = first_epoch_id_loss(0.0), smoothed = first_epoch_id_loss(0.2);
  EXPECT_GT(plain, 0);
  EXPECT_LT(smoothed, plain - 0.1);
  nlohmann::json j = tiny_train();
  EXPECT_EQ(j.at("id_smoothing"), 0.0);
}

TEST(Trainer, ATimeBudgetEndsTrainingAndTheSchedule) {
  const FaceSet faces = synthetic_faces(32);
  const PoolSplit split{faces.pool, faces.pool};
  torch::manual_seed(2);
  SiameseNet net(tiny_resnet());
  TrainConfig config = tiny_train();
  config.epochs = 100000;
  config.time_budget_minutes = 0.02;  // 1.2 s
  Trainer trainer(net, faces, split, config);
  const auto start = std::chrono::steady_clock::now();
  const auto result = trainer.fit();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_TRUE(result.budget_reached);
  EXPECT_LT(result.history.size(), 100000u);
  EXPECT_LT(seconds, 30.0);  // a generous bound: stops near 1.2 s plus one epoch and validation
  EXPECT_GE(result.history.back().minutes, 0.02);
  // The schedule ran on the clock: the last step's rate is well into the decay (how far depends on
  // how long that step took on this machine).
  EXPECT_LT(result.history.back().learning_rate, 0.5 * config.learning_rate);
}

TEST(Trainer, ATinyModelLearnsASeparableTask) {
  const FaceSet faces = synthetic_faces();
  const PoolSplit split{faces.pool, faces.pool};  // the task itself is what is learnt
  torch::manual_seed(2);
  SiameseNet net(tiny_config());
  Trainer trainer(net, faces, split, tiny_train());
  const auto result = trainer.fit();
  ASSERT_EQ(result.history.size(), 10u);
  EXPECT_LT(result.history.back().train_loss, result.history.front().train_loss);
  // Under the scoring facetrain keeps (the head's accuracy alone swings from epoch to epoch while
  // the cosine separates the pairs), the pairs are told apart at the equal-error threshold.
  trainer.choose_scoring();
  std::vector<float> scores;
  std::vector<int> labels;
  trainer.validation_scores(scores, labels);
  float threshold = 0.5f;
  equal_error_rate(scores, labels, &threshold);
  EXPECT_GT(confusion_at(scores, labels, threshold).accuracy(), 0.9);
  EXPECT_GT(result.history.at(result.best_epoch - 1).val_auc, 0.95);
  EXPECT_FALSE(result.collapsed);
}

TEST(Trainer, AMovingAverageOfTheWeightsIsWhatTrainingKeeps) {
  // One epoch of 4 steps with --ema: the net ends with the average of the weights after each
  // step, the decay growing (1 + t) / (10 + t) up to the configured one.
  const FaceSet faces = synthetic_faces();
  const PoolSplit split{faces.pool, faces.pool};
  torch::manual_seed(3);
  SiameseNet net(tiny_config());
  TrainConfig config = tiny_train();
  config.epochs = 1;
  config.learning_rate = 2e-2;  // steps large enough to tell the average from the last weights
  config.ema = 0.3;
  std::vector<torch::Tensor> average, last;
  for (const auto& p : net->parameters()) average.push_back(p.detach().clone());
  int steps = 0;
  TrainHooks hooks;
  hooks.on_batch = [&](int, std::size_t, std::size_t, double, double) {
    ++steps;
    const double decay = std::min(config.ema, (1.0 + steps) / (10.0 + steps));
    last.clear();
    for (const auto& p : net->parameters()) last.push_back(p.detach().clone());
    for (std::size_t i = 0; i < last.size(); ++i)
      average[i] = average[i] * decay + last[i] * (1 - decay);
  };
  Trainer trainer(net, faces, split, config);
  trainer.fit(hooks);
  ASSERT_EQ(steps, 4);
  const auto kept = net->parameters();
  double from_last = 0;
  for (std::size_t i = 0; i < kept.size(); ++i) {
    EXPECT_TRUE(torch::allclose(kept[i], average[i], 1e-4, 1e-6)) << i;
    from_last = std::max(from_last, (kept[i] - last[i]).abs().max().item<double>());
  }
  EXPECT_GT(from_last, 1e-3);  // the average, not the last step's weights
  EXPECT_THROW(Trainer(net, faces, split,
                       [&] {
                         auto bad = config;
                         bad.ema = 1.0;
                         return bad;
                       }()),
               Error);
}

class TrainerResume : public ::testing::TestWithParam<double> {};

TEST_P(TrainerResume, AfterAnInterruptionGivesTheSameModel) {
  TempDir dir;
  const FaceSet faces = synthetic_faces();
  const PoolSplit split{faces.pool, faces.pool};
  auto train = [&](TrainConfig config, const TrainHooks& hooks) {
    torch::manual_seed(3);
    SiameseNet net(tiny_config());
    Trainer trainer(net, faces, split, config);
    auto result = trainer.fit(hooks);
    return std::make_pair(net, result);
  };
  TrainConfig config = tiny_train();
  config.epochs = 2;
  config.augment.enabled = true;
  config.ema = GetParam();  // the weights' moving average is in the checkpoint too
  auto [straight, straight_result] = train(config, {});

  // Interrupt in the middle of epoch 2, then resume from the checkpoint (a fresh process would
  // start from another random init: the checkpoint must carry everything).
  config.checkpoint = dir / "checkpoint.pt";
  std::atomic<bool> stop{false};
  TrainHooks hooks;
  hooks.stop = &stop;
  int batches = 0;
  hooks.on_batch = [&](int, std::size_t, std::size_t, double, double) {
    if (++batches == 6) stop = true;  // 4 batches per epoch: batch 2 of epoch 2
  };
  auto [first, first_result] = train(config, hooks);
  EXPECT_TRUE(first_result.interrupted);
  ASSERT_TRUE(fs::exists(config.checkpoint));
  config.resume = true;
  torch::manual_seed(99);
  SiameseNet resumed(tiny_config());
  Trainer trainer(resumed, faces, split, config);
  const auto resumed_result = trainer.fit();
  ASSERT_EQ(resumed_result.history.size(), 2u);
  EXPECT_NEAR(resumed_result.history[1].train_loss, straight_result.history[1].train_loss, 1e-4);
  EXPECT_NEAR(resumed_result.history[1].val_auc, straight_result.history[1].val_auc, 1e-4);
  const auto a = straight->parameters(), b = resumed->parameters();
  for (std::size_t i = 0; i < a.size(); ++i)
    EXPECT_TRUE(torch::allclose(a[i], b[i], 1e-4, 1e-5)) << i;
}

INSTANTIATE_TEST_SUITE_P(WithAndWithoutAMovingAverage, TrainerResume, ::testing::Values(0.0, 0.9));

TEST(Trainer, TwoRanksTrainWhatOneProcessDoesWithTheSameGlobalBatch) {
  if (!have_gloo()) GTEST_SKIP() << "built without Gloo";
  const FaceSet faces = synthetic_faces();
  const PoolSplit split{faces.pool, faces.pool};
  ModelConfig model = tiny_config();
  model.batch_norm = false;  // BatchNorm normalises per rank's batch: the one allowed difference
  TrainConfig config = tiny_train();
  config.epochs = 3;
  config.augment.enabled = true;  // seeded by the batch: the same images whichever rank draws it
  // The pair loss alone: an identity head would draw its init from the global generator inside
  // each rank's thread (the broadcast would still align the ranks, but not with `single`).
  config.id_loss.kind = "none";
  // One process: steps of 2 batches (accumulated).
  TrainConfig one = config;
  one.accumulate = 2;
  torch::manual_seed(3);
  SiameseNet single(model);
  Trainer trainer(single, faces, split, one);
  const auto single_result = trainer.fit();

  // Two ranks, 1 batch each per step; rank 1 from another random init (rank 0's is broadcast).
  auto ranks = Collective::in_process(2, std::chrono::seconds(60));
  std::vector<SiameseNet> nets;
  for (const int seed : {3, 101}) {
    torch::manual_seed(seed);
    nets.emplace_back(model);
  }
  std::vector<TrainResult> results(2);
  std::vector<std::thread> threads;
  for (int r = 0; r < 2; ++r)
    threads.emplace_back([&, r] {
      Trainer t(nets[r], faces, split, config, ranks[r]);
      results[r] = t.fit();
    });
  for (auto& t : threads) t.join();
  ASSERT_EQ(results[0].history.size(), 3u);
  ASSERT_EQ(results[1].history.size(), 3u);
  for (std::size_t e = 0; e < 3; ++e) {
    EXPECT_NEAR(results[0].history[e].train_loss, single_result.history[e].train_loss, 1e-4) << e;
    EXPECT_NEAR(results[0].history[e].val_auc, single_result.history[e].val_auc, 1e-4) << e;
  }
  EXPECT_EQ(results[0].best_epoch, single_result.best_epoch);
  // Rank 0 holds the best epoch's weights, as the single process does; rank 1 the last ones.
  const auto a = single->parameters(), b = nets[0]->parameters();
  for (std::size_t i = 0; i < a.size(); ++i)
    EXPECT_TRUE(torch::allclose(a[i], b[i], 1e-4, 1e-5)) << i;
  if (results[0].best_epoch == 3) {
    const auto c = nets[1]->parameters();
    for (std::size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::allclose(b[i], c[i])) << i;
  }
}

TEST(Trainer, ASplitWithoutPairsIsAnInputError) {
  FaceSet faces = synthetic_faces();
  PairPool lonely;
  lonely.people = {{"solo", {0}}};
  const PoolSplit split{lonely, lonely};
  SiameseNet net(tiny_config());
  EXPECT_THROW(Trainer(net, faces, split, tiny_train()), Error);
}

TEST(Trainer, EachEpochReportsItsSpeedAndItsShareOfWaitingForData) {
  const FaceSet faces = synthetic_faces();
  const PoolSplit split{faces.pool, faces.pool};
  for (const std::string precision : {"fp32", "bf16"}) {
    torch::manual_seed(2);
    SiameseNet net(tiny_config());
    TrainConfig config = tiny_train();
    config.epochs = 2;
    config.precision = precision;  // bf16: autocast on the device (here the CPU)
    const auto result = Trainer(net, faces, split, config).fit();
    ASSERT_EQ(result.history.size(), 2u);
    for (const auto& m : result.history) {
      EXPECT_GT(m.images_per_second, 0) << precision;
      EXPECT_GE(m.data_wait_share, 0) << precision;
      EXPECT_LT(m.data_wait_share, 1) << precision;
      EXPECT_TRUE(std::isfinite(m.train_loss)) << precision;
    }
    EXPECT_LT(result.history[1].train_loss, result.history[0].train_loss) << precision;
  }
  TrainConfig bad = tiny_train();
  bad.precision = "fp8";
  SiameseNet net(tiny_config());
  faceid::test::expect_error([&] { Trainer(net, faces, split, bad); }, ErrorKind::Usage,
                             "precision");
}
