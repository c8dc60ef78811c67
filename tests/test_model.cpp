#include "faceid/model/model.hpp"

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "faceid/error.hpp"
#include "faceid/score/decision.hpp"
#include "synthetic.hpp"
#include "test_support.hpp"

using namespace faceid;
using namespace faceid::test;

namespace fs = std::filesystem;

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
