#include "faceid/model.hpp"

#include <chrono>
#include <functional>
#include <thread>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "faceid/bundle.hpp"
#include "faceid/decision.hpp"
#include "faceid/distributed.hpp"
#include "faceid/error.hpp"
#include "faceid/metrics.hpp"
#include "faceid/trainer.hpp"
#include "test_support.hpp"

using namespace faceid;
using faceid::test::read_file;
using faceid::test::TempDir;
using faceid::test::write_file;

namespace fs = std::filesystem;

namespace {

ModelConfig tiny_config() {
  ModelConfig c;
  c.name = "koch-small";
  c.input_size = 80;
  c.embedding_size = 32;
  c.batch_norm = true;
  return c;
}

// Six synthetic "people", each a flat colour with pixel noise; four chips each. Telling them
// apart is easy, so a working trainer must get it right quickly.
FaceSet synthetic_faces(int s = 80) {
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

TrainConfig tiny_train(std::uint64_t seed = 5) {
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

}  // namespace

ModelConfig tiny_resnet() {
  ModelConfig c;  // the default architecture
  c.input_size = 32;
  c.embedding_size = 16;
  return c;
}

TEST(Model, ShapesOfEmbeddingHeadAndForward) {
  torch::manual_seed(1);
  SiameseNet net(default_model("koch"));
  const auto x = torch::rand({2, 3, 100, 100});
  const auto e = net->embed(x);
  EXPECT_EQ(e.sizes(), (std::vector<int64_t>{2, 4096}));
  EXPECT_GT(e.min().item<float>(), 0.f);  // sigmoid embedding
  EXPECT_EQ(net->head(e, e).sizes(), (std::vector<int64_t>{2}));
  EXPECT_EQ(net->head(e.slice(0, 0, 1), e).sizes(),
            (std::vector<int64_t>{2}));  // one query vs references
  EXPECT_TRUE(torch::allclose(net->forward(x, x.flip({0})), net->head(e, e.flip({0})), 1e-5, 1e-5));
  EXPECT_GT(net->parameter_count(),
            26'000'000);  // Koch's net: the dense layer alone is 6400 x 4096
}

TEST(Model, RejectsUnknownArchitecturesAndTooSmallInputs) {
  ModelConfig c;
  c.name = "resnet-9000";
  EXPECT_THROW(SiameseNet{c}, Error);
  c = default_model("koch");
  c.input_size = 64;
  EXPECT_THROW(SiameseNet{c}, Error);
  c = default_model("resnet");
  c.input_size = 16;
  EXPECT_THROW(SiameseNet{c}, Error);
  EXPECT_THROW(resolve_device("tpu"), Error);
  if (!torch::cuda::is_available()) {
    try {
      resolve_device("cuda");
      FAIL();
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Usage);
      EXPECT_NE(std::string(e.what()).find("CUDA"), std::string::npos);
    }
  }
}

TEST(Model, TheDefaultResnetGivesUnitLengthEmbeddings) {
  torch::manual_seed(1);
  SiameseNet net(ModelConfig{});
  EXPECT_EQ(net->config().name, "resnet");
  net->eval();
  const auto e = net->embed(torch::rand({3, 3, 100, 100}));
  EXPECT_EQ(e.sizes(), (std::vector<int64_t>{3, 256}));
  EXPECT_TRUE(torch::allclose(e.norm(2, 1), torch::ones({3}), 1e-5, 1e-5));
  EXPECT_LT(net->parameter_count(), 5'000'000);
}

TEST(Model, FoldedBatchNormGivesTheSameEmbeddings) {
  torch::manual_seed(7);
  SiameseNet net(tiny_resnet());
  // Running statistics and affine parameters far from their initial values, as after training.
  {
    torch::NoGradGuard no_grad;
    for (auto& b : net->named_buffers())
      if (b.key().find("running_mean") != std::string::npos)
        b.value().uniform_(-0.5, 0.5);
      else if (b.key().find("running_var") != std::string::npos)
        b.value().uniform_(0.5, 2.0);
    for (auto& p : net->named_parameters())
      if (p.key().find("bn.") != std::string::npos) p.value().uniform_(0.5, 1.5);
  }
  net->eval();
  const auto x = torch::rand({4, 3, 32, 32});
  const auto plain = net->embed(x);
  net->fold_batch_norm();
  const auto folded = net->embed(x);
  EXPECT_TRUE(torch::allclose(plain, folded, 1e-4, 1e-5))
      << (plain - folded).abs().max().item<float>();
  // Training again undoes the folding: the BatchNorms are back in the graph.
  net->train();
  net->eval();
  EXPECT_TRUE(torch::allclose(plain, net->embed(x), 1e-6, 1e-6));
}

TEST(Model, FaceInputNormalisationCancelsLightingOfTheFace) {
  torch::manual_seed(5);
  const auto x = torch::rand({2, 3, 40, 40}) * 0.5 + 0.2;
  const auto y = standardise_faces(x);
  // The central half (the face) has zero mean per channel and unit standard deviation.
  const auto centre = y.slice(2, 10, 30).slice(3, 10, 30);
  EXPECT_TRUE(torch::allclose(centre.mean({2, 3}), torch::zeros({2, 3}), 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(centre.square().mean({1, 2, 3}), torch::ones({2}), 1e-4, 1e-4));
  // A dimmer, lower-contrast, blue-tinted light on the same face gives the same input.
  const auto tint = torch::tensor({0.f, 0.f, 0.1f}).view({1, 3, 1, 1});
  EXPECT_TRUE(torch::allclose(standardise_faces(x * 0.6 + tint), y, 1e-4, 1e-4));
  // The background counts for nothing: a bright window beside the face changes only itself.
  auto backlit = x.clone();
  backlit.slice(3, 0, 5).fill_(1.0);
  EXPECT_TRUE(torch::allclose(standardise_faces(backlit).slice(3, 5), y.slice(3, 5), 1e-6, 1e-6));
  // A blank chip stays finite.
  EXPECT_TRUE(
      torch::isfinite(standardise_faces(torch::full({1, 3, 40, 40}, 0.5))).all().item<bool>());
  // The net applies it when asked, and rejects unknown kinds.
  ModelConfig c = tiny_resnet();
  c.input_norm = "face";
  torch::manual_seed(6);
  SiameseNet net(c);
  net->eval();
  const auto small = x.slice(2, 0, 32).slice(3, 0, 32);
  EXPECT_TRUE(torch::allclose(net->embed(small), net->embed(small * 0.6 + tint), 1e-4, 1e-4));
  c.input_norm = "histogram";
  EXPECT_THROW(SiameseNet{c}, Error);
}

TEST(Model, TheZoomViewIsTheChipsCentreAndJoinsTheEmbedding) {
  // A chip whose pixel (y, x) holds x: zoomed in twice, column j shows the centre half's x.
  const auto ramp =
      torch::arange(40, torch::kFloat).view({1, 1, 1, 40}).expand({1, 3, 40, 40}).contiguous();
  const auto zoomed = zoom_centre(ramp, 2.0);
  ASSERT_EQ(zoomed.sizes(), ramp.sizes());
  EXPECT_NEAR(zoomed[0][0][7][0].item<float>(), 10.f, 0.5f);   // the centre half starts at x = 10
  EXPECT_NEAR(zoomed[0][0][7][39].item<float>(), 29.f, 0.5f);  // and ends at x = 29
  EXPECT_NEAR(zoomed[0][1][20][20].item<float>(), 20.f, 0.5f);
  // embed_chips sums the chip's and the zoom view's embeddings (renormalised), and the bundle keeps
  // it.
  ModelConfig c = tiny_resnet();
  c.zoom_view = 1.5f;
  torch::manual_seed(8);
  SiameseNet net(c);
  net->eval();
  const auto chips = torch::randint(0, 256, {2, 32, 32, 3}).to(torch::kUInt8);
  const auto x = chips.permute({0, 3, 1, 2}).to(torch::kFloat).div(255.0);
  const auto expected =
      torch::nn::functional::normalize(net->embed(x) + net->embed(zoom_centre(x, 1.5)),
                                       torch::nn::functional::NormalizeFuncOptions().dim(1));
  EXPECT_TRUE(torch::allclose(embed_chips(net, chips, torch::kCPU), expected, 1e-5, 1e-6));
  nlohmann::json j = c;
  EXPECT_FLOAT_EQ(j.get<ModelConfig>().zoom_view, 1.5f);
  j["zoom_view"] = 0.5;  // a zoom out is no view of the face
  EXPECT_THROW(j.get<ModelConfig>(), Error);
  c.zoom_view = 0.5f;
  EXPECT_THROW(SiameseNet{c}, Error);
}

TEST(Model, ScoreIsTheHeadProbabilityOrTheRescaledCosine) {
  torch::manual_seed(3);
  SiameseNet net(tiny_resnet());
  net->eval();
  const auto a = torch::randn({5, 16}), b = torch::randn({5, 16});
  EXPECT_TRUE(torch::allclose(net->score(a, b), torch::sigmoid(net->head(a, b))));
  net->set_scoring("cosine", false);
  const auto cosine = (a * b).sum(1) / (a.norm(2, 1) * b.norm(2, 1));
  EXPECT_TRUE(torch::allclose(net->score(a, b), (cosine + 1) / 2, 1e-5, 1e-6));
  EXPECT_NEAR(net->score(a[0], a[0]).item<float>(), 1.f, 1e-6);
  EXPECT_NEAR(net->score(a[0], -a[0]).item<float>(), 0.f, 1e-6);
  EXPECT_EQ(net->score(a.slice(0, 0, 1), b).sizes(),
            (std::vector<int64_t>{5}));  // one query vs references
  EXPECT_THROW(net->set_scoring("euclid", false), Error);
  // gallery_scores is score() row by row.
  const auto rows = gallery_scores(net, a.slice(0, 0, 2), b);
  ASSERT_EQ(rows.size(), 2u);
  ASSERT_EQ(rows[1].size(), 5u);
  EXPECT_NEAR(rows[1][3], net->score(a[1], b[3]).item<float>(), 1e-6);
}

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

BundleInfo tiny_bundle_info() {
  BundleInfo info;
  info.model = tiny_config();
  info.preprocess.chip_size = 80;
  return info;
}

TEST(Bundle, RoundTripGivesTheSameEmbeddings) {
  TempDir dir;
  torch::manual_seed(4);
  BundleInfo info = tiny_bundle_info();
  info.model.input_norm = "face";
  SiameseNet net(info.model);
  info.preprocess.detector = "yunet";
  info.thresholds.detection = 0.7f;
  info.training.trained_people = {"Ann", "Bob"};
  info.training.seed = 11;
  save_bundle(dir / "m", info, net);
  auto loaded = load_bundle(dir / "m");
  const auto x = torch::rand({3, 3, 80, 80});
  net->eval();
  EXPECT_TRUE(torch::allclose(net->embed(x), loaded.net->embed(x)));
  EXPECT_FLOAT_EQ(loaded.info.thresholds.detection, 0.7f);
  EXPECT_EQ(loaded.info.training.trained_people, (std::vector<std::string>{"Ann", "Bob"}));
  EXPECT_EQ(loaded.info.training.seed, 11u);
  EXPECT_EQ(loaded.info.model.input_norm, "face");
  EXPECT_EQ(loaded.info.preprocess.fingerprint(), info.preprocess.fingerprint());
  // Saving again replaces the weights file and leaves no stale one behind.
  save_bundle(dir / "m", info, net);
  int weights_files = 0;
  for (const auto& e : fs::directory_iterator(dir / "m"))
    weights_files += e.path().filename().string().rfind("weights-", 0) == 0;
  EXPECT_EQ(weights_files, 1);
}

TEST(Bundle, KochBundlesWrittenBeforeTheResnetStillLoad) {
  TempDir dir;
  torch::manual_seed(4);
  SiameseNet net(tiny_config());
  save_bundle(dir / "m", tiny_bundle_info(), net);
  // model.json as the first faceid versions wrote it: no dropout, score or flip_average.
  auto j = nlohmann::json::parse(read_file(dir / "m" / "model.json"));
  for (const char* key : {"dropout", "score", "flip_average", "input_norm"}) j["model"].erase(key);
  write_file(dir / "m" / "model.json", j.dump(2));
  auto loaded = load_bundle(dir / "m");
  EXPECT_EQ(loaded.info.model.name, "koch-small");
  EXPECT_EQ(loaded.info.model.score, "head");
  EXPECT_FALSE(loaded.info.model.flip_average);
  EXPECT_EQ(loaded.info.model.input_norm, "none");
  const auto x = torch::rand({2, 3, 80, 80});
  net->eval();
  EXPECT_TRUE(
      torch::allclose(net->score(net->embed(x), net->embed(x.flip({0}))),
                      loaded.net->score(loaded.net->embed(x), loaded.net->embed(x.flip({0})))));
}

TEST(Bundle, TruncatedCorruptOrMismatchedBundlesAreModelErrors) {
  TempDir dir;
  SiameseNet net(tiny_config());
  BundleInfo info;
  info.model = tiny_config();
  info.preprocess.chip_size = 80;
  save_bundle(dir / "m", info, net);
  fs::path weights;
  for (const auto& e : fs::directory_iterator(dir / "m"))
    if (e.path().extension() == ".pt") weights = e.path();
  const std::string bytes = read_file(weights), json = read_file(dir / "m" / "model.json");
  auto expect_model_error = [&](const std::string& needle) {
    faceid::test::expect_error([&] { load_bundle(dir / "m"); }, ErrorKind::Model, needle);
  };
  write_file(weights, bytes.substr(0, bytes.size() / 2));
  expect_model_error("truncated");
  std::string flipped = bytes;
  flipped[flipped.size() / 2] ^= 0x5a;
  write_file(weights, flipped);
  expect_model_error("checksum");
  write_file(weights, bytes);
  write_file(dir / "m" / "model.json", json.substr(0, json.size() / 2));
  expect_model_error("not valid JSON");
  std::string other = json;
  other.replace(other.find("\"embedding_size\": 32"), 20, "\"embedding_size\": 64");
  write_file(dir / "m" / "model.json", other);
  expect_model_error("do not fit");
  fs::remove(dir / "m" / "model.json");
  expect_model_error("missing");
  faceid::test::expect_error([&] { load_bundle(dir / "nothing"); }, ErrorKind::Model,
                             "no such model folder");
}

TEST(Bundle, ModelJsonIsCheckedBeforeAnyWeightIsRead) {
  TempDir dir;
  SiameseNet net(tiny_config());
  save_bundle(dir / "m", tiny_bundle_info(), net);
  const auto manifest = read_bundle_manifest(dir / "m");
  EXPECT_EQ(manifest.info.model.embedding_size, tiny_config().embedding_size);
  EXPECT_EQ(read_bundle_weights(dir / "m", manifest).size(), manifest.weights_bytes);
  EXPECT_EQ(bundle_json(manifest), nlohmann::json::parse(read_file(dir / "m" / "model.json")));
  const auto json = nlohmann::json::parse(read_file(dir / "m" / "model.json"));
  // Each edit makes model.json describe something no weights could fit, or leave the folder.
  const auto refused = [&](const std::function<void(nlohmann::json&)>& edit,
                           const std::string& needle) {
    nlohmann::json j = json;
    edit(j);
    write_file(dir / "m" / "model.json", j.dump());
    faceid::test::expect_error([&] { read_bundle_manifest(dir / "m"); }, ErrorKind::Model, needle);
  };
  refused([](auto& j) { j["weights"]["file"] = "../../etc/passwd"; },
          "is not a file name in the model folder");
  refused([](auto& j) { j["weights"]["file"] = ""; }, "is not a file name");
  refused([](auto& j) { j["model"]["embedding_size"] = 2000000000; },
          "embedding size 2000000000 outside [1, 8192]");
  refused([](auto& j) { j["model"]["embedding_size"] = 0; }, "embedding size 0");
  refused([](auto& j) { j["model"]["channels"] = 7; }, "model channels 7");
  refused([](auto& j) { j["model"]["name"] = "vgg"; },
          "model.json: model config: unknown architecture 'vgg'");
  refused([](auto& j) { j["thresholds"]["ratio"] = 1.5; }, "threshold ratio 1.5");
  refused([](auto& j) { j["thresholds"]["target_far"] = -1; }, "threshold target_far -1");
  refused([](auto& j) { j["preprocess"]["chip_size"] = 96; },
          "model input size and preprocessing chip size differ");
  refused([](auto& j) { j["kind"] = "owner"; },
          "incomplete model description");  // an owner bundle without "owner"
  refused(
      [](auto& j) {
        j["kind"] = "owner", j["owner"] = {{"head", {{"embedding_size", 3}}}};
      },
      "the owner head's embedding size differs");
  refused([](auto& j) { j = nlohmann::json::array(); }, "incomplete model description");
  // Integers given as floats out of range were converted with undefined behaviour (fuzz_bundle).
  refused([](auto& j) { j["model"]["input_size"] = 1e10; },
          "input_size 10000000000.0 is not an integer from");
  refused([](auto& j) { j["format_version"] = 1e300; }, "format_version 1e+300 is not an integer");
  refused([](auto& j) { j["training"]["people_train"] = -2.5; },
          "people_train -2.5 is not an integer from 0");
  refused([](auto& j) { j["weights"]["bytes"] = -1; }, "bytes -1 is not an integer from 0");
  refused([](auto& j) { j["preprocess"]["chip_size"] = 4294967396; },
          "chip_size 4294967396 is not an integer");
}
