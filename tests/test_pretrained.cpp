// The pretrained descriptor: dlib's ResNet as a faceid architecture, the TF.js weights reader and
// the face-api importer. (The descriptors' equality with the original TF.js model in node is
// test_face_api.cpp's.)

#include "faceid/bundle/pretrained.hpp"

#include <cmath>
#include <cstring>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "faceid/model/dlib_resnet.hpp"
#include "test_support.hpp"

using namespace faceid;
using faceid::test::expect_error;
using faceid::test::TempDir;
using faceid::test::write_file;

namespace {

std::string float_bytes(const torch::Tensor& t) {
  const auto c = t.contiguous().to(torch::kFloat32);
  return std::string(reinterpret_cast<const char*>(c.data_ptr<float>()),
                     static_cast<std::size_t>(c.numel()) * 4);
}

// The TF.js name and layout of a net parameter, spelt out independently of the importer.
std::pair<std::string, torch::Tensor> tf_tensor(const std::string& key, const torch::Tensor& p) {
  if (key == "embedding.weight") return {"fc", p.t()};
  std::string name = key.substr(std::string("features.0.").size());
  for (auto& c : name)
    if (c == '.') c = '/';
  auto replace_end = [&](const std::string& from, const std::string& to) {
    if (name.size() >= from.size() &&
        name.compare(name.size() - from.size(), from.size(), from) == 0)
      name = name.substr(0, name.size() - from.size()) + to;
  };
  replace_end("conv/weight", "conv/filters");
  replace_end("scale_weights", "scale/weights");
  replace_end("scale_biases", "scale/biases");
  return {name, p.dim() == 4 ? p.permute({2, 3, 1, 0}) : p};
}

// A face-api-like model folder holding `net`'s weights: filters uint8-quantised (the expected,
// dequantised values returned in `expected`), the rest float32.
void write_face_api(const std::filesystem::path& dir, SiameseNet& net,
                    std::map<std::string, torch::Tensor>& expected,
                    const std::string& extra_tensor = "") {
  nlohmann::json weights = nlohmann::json::array();
  std::string bin;
  for (const auto& item : net->named_parameters()) {
    if (item.key().rfind("classifier", 0) == 0) continue;
    auto [name, t] = tf_tensor(item.key(), item.value().detach());
    nlohmann::json spec = {{"name", name}, {"shape", t.sizes().vec()}, {"dtype", "float32"}};
    if (t.dim() == 4) {
      const float lo = t.min().item<float>(), hi = t.max().item<float>();
      const float scale = (hi - lo) / 255;
      const auto q = ((t - lo) / scale).round().clamp(0, 255).to(torch::kUInt8).contiguous();
      bin.append(reinterpret_cast<const char*>(q.data_ptr<std::uint8_t>()),
                 static_cast<std::size_t>(q.numel()));
      spec["quantization"] = {{"dtype", "uint8"}, {"min", lo}, {"scale", scale}};
      expected[item.key()] = q.to(torch::kFloat64).mul(scale).add(lo).to(torch::kFloat32);
    } else {
      bin += float_bytes(t);
      expected[item.key()] = t.clone();
    }
    weights.push_back(spec);
  }
  if (!extra_tensor.empty()) {
    weights.push_back({{"name", extra_tensor}, {"shape", {1}}, {"dtype", "float32"}});
    bin += float_bytes(torch::ones({1}));
  }
  const nlohmann::json manifest = {
      {{"paths", {"face_recognition_model.bin"}}, {"weights", weights}}};
  write_file(dir / kFaceApiManifest, manifest.dump());
  write_file(dir / "face_recognition_model.bin", bin);
  write_file(dir.parent_path() / "package.json",
             R"({"name": "@vladmandic/face-api", "version": "1.7.15", "license": "MIT"})");
}

}  // namespace

TEST(DlibResNet, Takes150PxChipsToA256WideFeatureAndHasDlibsSize) {
  torch::manual_seed(1);
  SiameseNet net(default_model("dlib-resnet"));
  net->eval();
  const auto chips = torch::rand({2, 3, 150, 150});
  c10::InferenceMode guard;
  const auto e = net->embed(chips);
  ASSERT_EQ(e.sizes(), torch::IntArrayRef({2, 128}));
  EXPECT_NEAR(e.norm(2, 1).min().item<float>(), 1.0f, 1e-5f);
  EXPECT_EQ(net->descriptor(chips).sizes(), torch::IntArrayRef({2, 128}));
  // dlib's descriptor: 5,614,592 weights (29 convolutions with bias and scale, the dense layer);
  // the Siamese head adds 129.
  EXPECT_EQ(net->parameter_count(), 5614592 + 129);
  // Odd maps on the way down (35 -> 17 -> 8 -> 3 -> 1 with 150 px) are padded like face-api's.
  EXPECT_EQ(DlibResNet()->forward(torch::rand({1, 3, 150, 150})).sizes(),
            torch::IntArrayRef({1, kDlibFeatures}));
  EXPECT_THROW(SiameseNet([] {
                 auto c = default_model("dlib-resnet");
                 c.input_size = 64;
                 return c;
               }()),
               Error);
}

TEST(DlibResNet, FoldingTheScaleLayersKeepsTheEmbeddings) {
  torch::manual_seed(2);
  SiameseNet net(default_model("dlib-resnet"));
  {
    torch::NoGradGuard no_grad;  // scale layers that do something
    for (auto& item : net->named_parameters())
      if (item.key().find("scale_") != std::string::npos)
        item.value().uniform_(item.key().find("weights") != std::string::npos ? 0.5 : -0.2,
                              item.key().find("weights") != std::string::npos ? 1.5 : 0.2);
  }
  net->eval();
  const auto chips = torch::rand({3, 3, 150, 150});
  torch::Tensor plain, folded;
  {
    c10::InferenceMode guard;
    plain = net->descriptor(chips);
    net->fold_batch_norm();
    folded = net->descriptor(chips);
  }
  EXPECT_LT((plain - folded).abs().max().item<float>(), 1e-4f * plain.abs().max().item<float>());
  net->train();  // unfolds: training sees the scale layers again
  net->eval();
  c10::InferenceMode guard;
  EXPECT_TRUE(torch::allclose(net->descriptor(chips), plain, 1e-5, 1e-6));
}

TEST(DlibResNet, TrainableLayersAreTheHeadTheLastStageOrAll) {
  SiameseNet net(default_model("dlib-resnet"));
  auto trainable = [&] {
    std::set<std::string> names;
    for (const auto& item : net->named_parameters())
      if (item.value().requires_grad()) names.insert(item.key());
    return names;
  };
  net->set_trainable("head");
  EXPECT_EQ(trainable(), (std::set<std::string>{"classifier.weight", "classifier.bias"}));
  net->set_trainable("last");
  const auto last = trainable();
  EXPECT_TRUE(last.count("embedding.weight"));
  EXPECT_TRUE(last.count("features.0.conv256_down_out.conv2.conv.weight"));
  EXPECT_TRUE(last.count("features.0.conv256_1.conv1.scale_weights"));
  EXPECT_FALSE(last.count("features.0.conv256_down.conv1.conv.weight"));
  EXPECT_FALSE(last.count("features.0.conv32_down.conv.weight"));
  net->set_trainable("all");
  EXPECT_EQ(trainable().size(), net->named_parameters().size());
  EXPECT_THROW(net->set_trainable("first"), Error);
}

TEST(TfjsWeights, DequantisesUint8AndUint16AndReadsFloat32InManifestOrder) {
  TempDir dir;
  const nlohmann::json manifest = {
      {{"paths", {"a.bin", "b.bin"}},
       {"weights",
        {{{"name", "f"}, {"shape", {2}}, {"dtype", "float32"}},
         {{"name", "q8"},
          {"shape", {2, 2}},
          {"dtype", "float32"},
          {"quantization", {{"dtype", "uint8"}, {"min", -1.0}, {"scale", 0.5}}}},
         {{"name", "q16"},
          {"shape", {1}},
          {"dtype", "float32"},
          {"quantization", {{"dtype", "uint16"}, {"min", 2.0}, {"scale", 0.25}}}}}}}};
  write_file(dir / "m.json", manifest.dump());
  // Two shards, the tensors' bytes running across them.
  const std::string floats = float_bytes(torch::tensor({1.5f, -3.0f}));
  write_file(dir / "a.bin", floats + std::string("\x00\x01", 2));
  write_file(dir / "b.bin", std::string("\x02\xff", 2) + std::string("\x04\x01", 2));
  const auto w = read_tfjs_weights(dir / "m.json");
  ASSERT_EQ(w.size(), 3u);
  EXPECT_TRUE(torch::equal(w.at("f"), torch::tensor({1.5f, -3.0f})));
  EXPECT_TRUE(
      torch::allclose(w.at("q8"), torch::tensor({-1.0f, -0.5f, 0.0f, 126.5f}).view({2, 2})));
  EXPECT_FLOAT_EQ(w.at("q16").item<float>(), 2.0f + 0.25f * 260);  // 0x0104 little-endian

  write_file(dir / "b.bin", std::string("\x02", 1));
  expect_error([&] { read_tfjs_weights(dir / "m.json"); }, ErrorKind::Model, "truncated");
  write_file(dir / "b.bin", std::string("\x02\xff\x04\x01\x00", 5));
  expect_error([&] { read_tfjs_weights(dir / "m.json"); }, ErrorKind::Model, "not described");
  std::filesystem::remove(dir / "b.bin");
  expect_error([&] { read_tfjs_weights(dir / "m.json"); }, ErrorKind::Model, "setup.sh");
  write_file(dir / "m.json", "[{\"paths\": []");
  expect_error([&] { read_tfjs_weights(dir / "m.json"); }, ErrorKind::Model, "not a TF.js");
  write_file(
      dir / "m.json",
      R"([{"paths": [], "weights": [{"name": "x", "shape": [1], "dtype": "float32", "quantization": {"dtype": "float16", "min": 0, "scale": 1}}]}])");
  expect_error([&] { read_tfjs_weights(dir / "m.json"); }, ErrorKind::Model, "float16");
  expect_error([&] { read_tfjs_weights(dir / "none.json"); }, ErrorKind::Model, "setup.sh");
}

TEST(FaceApiImport, ConvertsTfLayoutsAndRecordsProvenance) {
  TempDir dir;
  torch::manual_seed(3);
  SiameseNet source(default_model("dlib-resnet"));
  std::map<std::string, torch::Tensor> expected;
  write_face_api(dir / "model", source, expected);
  nlohmann::json provenance;
  SiameseNet net = import_face_api(dir / "model", &provenance);
  for (const auto& item : net->named_parameters()) {
    if (item.key().rfind("classifier", 0) == 0) continue;
    const auto it = expected.find(item.key());
    ASSERT_NE(it, expected.end()) << item.key();
    // Back from TF's layout to LibTorch's: the source net's values, up to the quantisation.
    const auto [name, tf_layout] = tf_tensor(item.key(), item.value().detach());
    EXPECT_TRUE(torch::allclose(tf_layout, it->second, 1e-5, 1e-6)) << item.key() << " " << name;
  }
  EXPECT_EQ(provenance.at("version"), "1.7.15");
  EXPECT_EQ(provenance.at("licence"), "MIT");
  EXPECT_EQ(provenance.at("weights_checksum").get<std::string>().size(), 16u);
  EXPECT_EQ(find_face_api_model(dir / "model"), dir / "model");
}

TEST(FaceApiImport, AMissingUnexpectedOrMisshapenTensorIsAModelErrorNamingTheFile) {
  TempDir dir;
  SiameseNet source(default_model("dlib-resnet"));
  std::map<std::string, torch::Tensor> expected;
  write_face_api(dir / "model", source, expected, "conv512_1/conv1/conv/filters");
  expect_error([&] { import_face_api(dir / "model"); }, ErrorKind::Model, "unexpected tensor");

  write_face_api(dir / "model", source, expected);  // without the extra one
  const auto manifest =
      nlohmann::json::parse(faceid::test::read_file(dir / "model" / kFaceApiManifest));
  nlohmann::json renamed = manifest;
  for (auto& w : renamed[0]["weights"])
    if (w["name"] == "fc") w["name"] = "dense";
  write_file(dir / "model" / kFaceApiManifest, renamed.dump());
  // "dense" has fc's bytes: the manifest still describes them all, but no "fc".
  expect_error([&] { import_face_api(dir / "model"); }, ErrorKind::Model, "'fc' missing");
  nlohmann::json reshaped = manifest;
  for (auto& w : reshaped[0]["weights"])
    if (w["name"] == "fc") w["shape"] = {128, 256};
  write_file(dir / "model" / kFaceApiManifest, reshaped.dump());
  expect_error([&] { import_face_api(dir / "model"); }, ErrorKind::Model, "shape");
  expect_error([&] { find_face_api_model(dir / "nowhere"); }, ErrorKind::Model, "setup.sh");
}
