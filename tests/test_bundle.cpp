#include "faceid/bundle/bundle.hpp"

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "faceid/error.hpp"
#include "synthetic.hpp"
#include "test_support.hpp"

using namespace faceid;
using namespace faceid::test;

namespace fs = std::filesystem;

namespace {

BundleInfo tiny_bundle_info() {
  BundleInfo info;
  info.model = tiny_config();
  info.preprocess.chip_size = 80;
  return info;
}

}  // namespace

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
