#include "faceid/model/owner_model.hpp"

#include <array>
#include <cmath>
#include <map>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "faceid/bundle/bundle.hpp"
#include "faceid/error.hpp"
#include "faceid/score/decision.hpp"
#include "synthetic.hpp"
#include "test_support.hpp"

using namespace faceid;
using faceid::test::read_file;
using faceid::test::TempDir;
using faceid::test::tiny_resnet;
using faceid::test::write_file;

namespace {

// `n` chips of one colour with pixel noise: uint8 [n, s, s, 3].
torch::Tensor coloured_chips(int n, std::array<int, 3> rgb, int s = 32) {
  const auto base = torch::tensor({rgb[0], rgb[1], rgb[2]}, torch::kFloat)
                        .view({1, 1, 1, 3})
                        .expand({n, s, s, 3});
  return (base + torch::randint(-20, 20, {n, s, s, 3})).clamp(0, 255).to(torch::kUInt8);
}

std::vector<float> to_vector(const torch::Tensor& t) {
  const auto c = t.contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

OwnerTrainConfig quick(const std::string& fine_tune = "none") {
  OwnerTrainConfig c;
  c.fit = "bce";  // the centroid has a test of its own
  c.fine_tune = fine_tune;
  c.owner_copies = 4;
  c.head_steps = 150;
  c.fine_tune_steps = 5;
  c.batch_owner = 4;
  c.batch_strangers = 8;
  c.seed = 3;
  return c;
}

// Owner = reddish faces (8), strangers = green, blue and grey ones (24): trivially separable.
struct ToySet {
  torch::Tensor chips;
  std::vector<int> owner, strangers;
};

ToySet toy_set() {
  torch::manual_seed(1);
  ToySet t;
  t.chips = torch::cat({coloured_chips(8, {210, 60, 50}), coloured_chips(8, {50, 190, 60}),
                        coloured_chips(8, {40, 60, 200}), coloured_chips(8, {120, 120, 120})});
  for (int i = 0; i < 8; ++i) t.owner.push_back(i);
  for (int i = 8; i < 32; ++i) t.strangers.push_back(i);
  return t;
}

void expect_separated(SiameseNet& net, OwnerHead& head, const ToySet& t) {
  const auto p = to_vector(owner_probabilities(net, head, t.chips));
  float lowest_owner = 1, highest_stranger = 0;
  for (const int i : t.owner) lowest_owner = std::min(lowest_owner, p[static_cast<std::size_t>(i)]);
  for (const int i : t.strangers)
    highest_stranger = std::max(highest_stranger, p[static_cast<std::size_t>(i)]);
  EXPECT_GT(lowest_owner, 0.5f);
  EXPECT_LT(highest_stranger, 0.5f);
  EXPECT_GT(lowest_owner, highest_stranger);
}

}  // namespace

TEST(OwnerModel, AFrozenEmbeddingHeadSeparatesATriviallySeparableSet) {
  const ToySet t = toy_set();
  torch::manual_seed(2);
  SiameseNet net(tiny_resnet());
  const auto before = embed_chips(net, t.chips, torch::kCPU);
  OwnerTrainReport report;
  OwnerHead head = train_owner_model(net, t.chips, t.owner, t.strangers, quick(), &report);
  expect_separated(net, head, t);
  EXPECT_LT(report.head_loss_last, report.head_loss_first);
  EXPECT_EQ(report.owner_examples, 8u * 4u);
  EXPECT_EQ(report.stranger_examples, 24u);
  // Frozen: the embedding net is unchanged.
  EXPECT_TRUE(torch::allclose(before, embed_chips(net, t.chips, torch::kCPU), 1e-5, 1e-6));
}

TEST(OwnerModel, FineTuningTheLastStageChangesOnlyItAndStillSeparates) {
  const ToySet t = toy_set();
  torch::manual_seed(2);
  SiameseNet net(tiny_resnet());
  std::map<std::string, torch::Tensor> before;
  for (const auto& p : net->named_parameters()) before[p.key()] = p.value().clone();
  OwnerTrainReport report;
  OwnerHead head = train_owner_model(net, t.chips, t.owner, t.strangers, quick("last"), &report);
  expect_separated(net, head, t);
  EXPECT_NE(report.fine_tuned.find("features.5."), std::string::npos) << report.fine_tuned;
  for (const auto& p : net->named_parameters()) {
    const bool tuned = p.key().rfind("features.5.", 0) == 0 || p.key().rfind("embedding", 0) == 0;
    const bool changed = !torch::equal(before.at(p.key()), p.value());
    if (p.key().find("bn") == std::string::npos || !tuned) {
      EXPECT_EQ(changed, tuned) << p.key();
    }
    EXPECT_TRUE(p.value().requires_grad()) << p.key();
  }
}

TEST(OwnerModel, AHiddenLayerHeadSeparatesToo) {
  const ToySet t = toy_set();
  torch::manual_seed(2);
  SiameseNet net(tiny_resnet());
  OwnerTrainConfig c = quick();
  c.hidden = 8;
  OwnerHead head = train_owner_model(net, t.chips, t.owner, t.strangers, c);
  EXPECT_EQ(head->config().hidden, 8);
  expect_separated(net, head, t);
}

TEST(OwnerModel, ACentroidHeadIsTheRescaledCosineToTheOwnersMeanEmbedding) {
  const ToySet t = toy_set();
  torch::manual_seed(2);
  SiameseNet net(tiny_resnet());
  OwnerTrainConfig c = quick();
  c.fit = "centroid";
  c.augment.enabled = false;  // the centroid is then that of the plain owner embeddings
  OwnerHead head = train_owner_model(net, t.chips, t.owner, t.strangers, c);
  expect_separated(net, head, t);
  // Its logit is an increasing affine function of the cosine to the mean unit owner embedding.
  const auto opts = torch::nn::functional::NormalizeFuncOptions().dim(1);
  const auto e = torch::nn::functional::normalize(embed_chips(net, t.chips, torch::kCPU), opts);
  std::vector<std::int64_t> owner_rows(t.owner.begin(), t.owner.end());
  const auto centroid = torch::nn::functional::normalize(
      e.index_select(0, torch::tensor(owner_rows)).mean(0, true), opts);
  const auto cosine = torch::mm(e, centroid.t()).squeeze(1);
  const auto logit =
      torch::logit(owner_probabilities(head, e).to(torch::kDouble)).to(torch::kFloat);
  const auto slope = (logit[0] - logit[8]) / (cosine[0] - cosine[8]);
  EXPECT_GT(slope.item<float>(), 0.f);
  EXPECT_TRUE(torch::allclose(logit - logit[8], slope * (cosine - cosine[8]), 1e-2, 1e-3));
  // Nothing to fine-tune or hide: a centroid with either is a usage error.
  c.fine_tune = "last";
  faceid::test::expect_error([&] { train_owner_model(net, t.chips, t.owner, t.strangers, c); },
                             ErrorKind::Usage, "centroid");
  c.fine_tune = "none";
  c.fit = "svm";
  faceid::test::expect_error([&] { train_owner_model(net, t.chips, t.owner, t.strangers, c); },
                             ErrorKind::Usage, "unknown owner fit 'svm'");
}

TEST(OwnerModel, ClassWeightingMakesBothClassesCountTheSame) {
  // One owner example and nine strangers: at logit 0 the weighted loss pulls a shared bias
  // neither way; plain BCE would push every face towards "stranger".
  const auto labels = torch::tensor({1.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f});
  auto logits = torch::zeros({10}, torch::requires_grad());
  const auto loss = owner_loss(logits, labels);
  loss.backward();
  EXPECT_NEAR(logits.grad().sum().item<float>(), 0.f, 1e-6f);
  EXPECT_NEAR(loss.item<float>(), 1.8f * std::log(2.f), 1e-5f);  // (9 log 2 + 9 log 2) / 10
  auto plain = torch::zeros({10}, torch::requires_grad());
  torch::binary_cross_entropy_with_logits(plain, labels).backward();
  EXPECT_GT(plain.grad().sum().item<float>(), 0.1f);
  faceid::test::expect_error([&] { owner_loss(torch::zeros({3}), torch::zeros({3})); },
                             ErrorKind::Input, "needs owner and stranger");
}

TEST(OwnerModel, BadInputsAreErrors) {
  const ToySet t = toy_set();
  SiameseNet net(tiny_resnet());
  faceid::test::expect_error([&] { train_owner_model(net, t.chips, {0}, t.strangers, quick()); },
                             ErrorKind::Input, "at least 2 owner photos");
  faceid::test::expect_error([&] { train_owner_model(net, t.chips, t.owner, {}, quick()); },
                             ErrorKind::Input, "one stranger face");
  faceid::test::expect_error(
      [&] { train_owner_model(net, t.chips, t.owner, t.strangers, quick("all")); },
      ErrorKind::Usage, "unknown fine-tuning mode 'all'");
}

TEST(Decision, OwnerScoreCalibrationHitsTheTargetFar) {
  // 10,000 strangers spread evenly over [0, 1); owners at 0.9995 and above, and a few below.
  std::vector<float> strangers, owner;
  for (int i = 0; i < 10000; ++i) strangers.push_back(static_cast<float>(i) / 10000.f);
  for (int i = 0; i < 90; ++i) owner.push_back(0.9995f);
  for (int i = 0; i < 10; ++i) owner.push_back(0.5f);
  const Thresholds t = calibrate_owner_score(owner, strangers, 1e-3);
  const auto& c = t.calibration;
  EXPECT_LE(c["far"].get<double>(), 1e-3);
  EXPECT_GE(c["far"].get<double>(), 0.9e-3);  // the lowest threshold that keeps to the target
  EXPECT_EQ(c["strangers_accepted"].get<std::size_t>(), 10u);
  EXPECT_EQ(c["owner_accepted"].get<std::size_t>(), 90u);
  EXPECT_DOUBLE_EQ(c["tar"].get<double>(), 0.9);
  EXPECT_NEAR(t.owner, 0.9989f, 1e-6f);
  EXPECT_FALSE(c.contains("note"));
  // 500 strangers cannot resolve 0.001: then no stranger may pass, and the calibration says so.
  strangers.resize(500);
  const Thresholds coarse = calibrate_owner_score(owner, strangers, 1e-3);
  EXPECT_EQ(coarse.calibration["strangers_accepted"].get<std::size_t>(), 0u);
  EXPECT_TRUE(coarse.calibration.contains("note"));
  faceid::test::expect_error([&] { calibrate_owner_score({}, strangers, 1e-3); }, ErrorKind::Input,
                             "have 0 and 500");
}

TEST(Decision, ThresholdForFarIsTheRuleOfTheReferenceCalibration) {
  // With one reference per face, the reference rule's calibration is the single-score one.
  std::vector<float> owner = {0.9f, 0.8f, 0.3f}, strangers = {0.1f, 0.2f, 0.85f, 0.05f};
  std::vector<std::vector<float>> owner_rows, stranger_rows;
  for (const float v : owner) owner_rows.push_back({v});
  for (const float v : strangers) stranger_rows.push_back({v});
  const ScoreThreshold s = threshold_for_far(owner, strangers, 0.2);
  const Thresholds rule = calibrate_owner(owner_rows, stranger_rows, 0.2);
  EXPECT_FLOAT_EQ(rule.detection, s.threshold);
  EXPECT_EQ(rule.calibration["owner_accepted"].get<std::size_t>(), s.owner_accepted);
  EXPECT_EQ(s.strangers_accepted, 0u);  // 0.85 is the threshold: strictly above passes
  EXPECT_EQ(s.owner_accepted, 1u);
}

TEST(Bundle, AnOwnerBundleRoundTripsItsKindHeadAndThreshold) {
  TempDir dir;
  const ToySet t = toy_set();
  torch::manual_seed(4);
  SiameseNet net(tiny_resnet());
  OwnerHead head = train_owner_model(net, t.chips, t.owner, t.strangers, quick());
  BundleInfo info;
  info.kind = kOwnerKind;
  info.model = tiny_resnet();
  info.preprocess.chip_size = 32;
  info.thresholds.owner = 0.83f;
  info.owner.head = head->config();
  info.owner.fine_tune = "none";
  info.owner.from = "/models/general";
  info.owner.from_checksum = "0123456789abcdef";
  save_bundle(dir / "m", info, net, &head);
  const auto j = nlohmann::json::parse(read_file(dir / "m" / "model.json"));
  EXPECT_EQ(j["kind"], "owner");
  EXPECT_EQ(j["format_version"], kOwnerBundleFormatVersion);
  auto loaded = load_bundle(dir / "m");
  EXPECT_TRUE(loaded.is_owner());
  EXPECT_FLOAT_EQ(loaded.info.thresholds.owner, 0.83f);
  EXPECT_EQ(loaded.info.owner.from, "/models/general");
  EXPECT_EQ(loaded.info.owner.from_checksum, "0123456789abcdef");
  EXPECT_EQ(loaded.info.owner.head.embedding_size, 16);
  EXPECT_TRUE(torch::allclose(owner_probabilities(net, head, t.chips),
                              owner_probabilities(loaded.net, loaded.owner_head, t.chips), 1e-5,
                              1e-6));
  // The tools that need a siamese model say so.
  faceid::test::expect_error(
      [&] { require_siamese(loaded, dir / "m", "faceeval --pairs"); }, ErrorKind::Model,
      "faceeval --pairs needs a siamese model; use the model it was trained from, /models/general");
  // An owner bundle without its head, or a siamese bundle with one, is not written.
  faceid::test::expect_error([&] { save_bundle(dir / "x", info, net); }, ErrorKind::Usage,
                             "needs its owner head");
  BundleInfo siamese = info;
  siamese.kind = kSiameseKind;
  faceid::test::expect_error([&] { save_bundle(dir / "y", siamese, net, &head); }, ErrorKind::Usage,
                             "has no owner head");
}

TEST(Bundle, BundlesWithoutAKindLoadAsSiameseAndAnOwnerBundleNeedsItsHead) {
  TempDir dir;
  torch::manual_seed(4);
  SiameseNet net(tiny_resnet());
  BundleInfo info;
  info.model = tiny_resnet();
  info.preprocess.chip_size = 32;
  save_bundle(dir / "m", info, net);
  // model.json as faceid wrote it before the owner kind: no "kind", no thresholds.owner.
  auto j = nlohmann::json::parse(read_file(dir / "m" / "model.json"));
  EXPECT_EQ(j["format_version"], kBundleFormatVersion);
  j.erase("kind");
  j["thresholds"].erase("owner");
  write_file(dir / "m" / "model.json", j.dump(2));
  auto loaded = load_bundle(dir / "m");
  EXPECT_FALSE(loaded.is_owner());
  EXPECT_EQ(loaded.info.kind, "siamese");
  EXPECT_FALSE(loaded.owner_head);
  EXPECT_NO_THROW(require_siamese(loaded, dir / "m", "faceeval --pairs"));
  // Claiming to be an owner model without a head in the weights, or an unknown kind: model errors.
  j["kind"] = "owner";
  j["owner"] = {{"head", {{"embedding_size", 16}, {"hidden", 0}}}};
  write_file(dir / "m" / "model.json", j.dump(2));
  faceid::test::expect_error([&] { load_bundle(dir / "m"); }, ErrorKind::Model,
                             "without the owner head");
  j["kind"] = "family";
  write_file(dir / "m" / "model.json", j.dump(2));
  faceid::test::expect_error([&] { load_bundle(dir / "m"); }, ErrorKind::Model,
                             "unknown model kind 'family'");
}
