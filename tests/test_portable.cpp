#include "faceid/bundle/portable.hpp"

#include <sstream>

#include <torch/torch.h>

#include "faceid/bundle/bundle.hpp"
#include "faceid/model/model.hpp"
#include "faceid/train/trainer.hpp"
#include "synthetic.hpp"
#include "test_support.hpp"

using namespace faceid;
using faceid::test::TempDir;
using faceid::test::tiny_resnet;

namespace {

// Every tensor of `archive` and of the archives inside it, by path.
void collect(torch::serialize::InputArchive& archive, const std::string& prefix,
             std::vector<std::pair<std::string, torch::Tensor>>& out) {
  for (const auto& key : archive.keys()) {
    if (torch::Tensor t; archive.try_read(key, t)) {
      out.emplace_back(prefix + key, t);
    } else if (torch::serialize::InputArchive inner; archive.try_read(key, inner)) {
      collect(inner, prefix + key + ".", out);
    }
  }
}

// The tensors of an archive file read as written: no map_location, so that a tensor written
// from another device would load there (and fail to, on a CPU-only LibTorch).
std::vector<std::pair<std::string, torch::Tensor>> tensors_as_written(
    const std::filesystem::path& file) {
  torch::serialize::InputArchive archive;
  archive.load_from(file.string());
  std::vector<std::pair<std::string, torch::Tensor>> out;
  collect(archive, "", out);
  return out;
}

}  // namespace

TEST(Portable, SavedTensorsAreCpuCopiesNotTheLiveParameters) {
  torch::manual_seed(1);
  SiameseNet net(tiny_resnet());
  std::vector<torch::Tensor> before;
  for (const auto& p : net->parameters()) before.push_back(p.detach().clone());
  torch::serialize::OutputArchive archive;
  save_portable(*net, archive);
  // The archive must not follow the net: Module::save hands it the parameters themselves, so a
  // net moved (or changed) before the archive is written would be saved as it is then.
  {
    torch::NoGradGuard no_grad;
    for (auto& p : net->parameters()) p.zero_();
  }
  std::stringstream bytes;
  archive.save_to(bytes);
  torch::serialize::InputArchive in;
  in.load_from(bytes);
  torch::manual_seed(2);
  SiameseNet loaded(tiny_resnet());
  loaded->load(in);  // Module::load reads save_portable's layout
  const auto params = loaded->parameters();
  ASSERT_EQ(params.size(), before.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    EXPECT_TRUE(params[i].device().is_cpu());
    EXPECT_TRUE(torch::equal(params[i], before[i])) << i;
  }
  EXPECT_FALSE(cpu_copy(torch::Tensor()).defined());
}

TEST(Portable, TheOptimizerKeepsItsOwnStateAndTheArchiveGetsCopies) {
  torch::manual_seed(3);
  auto w = torch::randn({4, 3}, torch::requires_grad());
  torch::optim::AdamW opt({w}, torch::optim::AdamWOptions(0.1));
  (w * w).sum().backward();
  opt.step();
  auto& state = static_cast<torch::optim::AdamWParamState&>(*opt.state().begin()->second);
  const auto own = state.exp_avg();
  const auto saved_value = own.clone();
  torch::serialize::OutputArchive archive;
  save_portable(opt, archive);
  EXPECT_TRUE(state.exp_avg().is_same(own));  // its own tensor back, not the copy
  own.zero_();
  std::stringstream bytes;
  archive.save_to(bytes);
  torch::serialize::InputArchive in;
  in.load_from(bytes);
  torch::optim::AdamW reloaded({w}, torch::optim::AdamWOptions(0.1));
  reloaded.load(in);
  const auto& loaded =
      static_cast<torch::optim::AdamWParamState&>(*reloaded.state().begin()->second);
  EXPECT_TRUE(torch::equal(loaded.exp_avg(), saved_value));
}

TEST(Portable, EveryTensorOfABundleIsWrittenAsACpuTensorAndLoadsOntoTheDeviceAsked) {
  TempDir dir;
  torch::manual_seed(4);
  BundleInfo info;
  info.model = tiny_resnet();
  info.preprocess.chip_size = 32;
  info.training.device = "cuda:0";  // what a GPU run records
  SiameseNet net(info.model);
  save_bundle(dir / "m", info, net, nullptr, torch::randn({5, 16}));
  std::filesystem::path weights;
  for (const auto& e : std::filesystem::directory_iterator(dir / "m"))
    if (e.path().extension() == ".pt") weights = e.path();
  const auto tensors = tensors_as_written(weights);
  EXPECT_GT(tensors.size(), net->parameters().size());  // parameters, buffers, strangers
  for (const auto& [name, t] : tensors) EXPECT_TRUE(t.device().is_cpu()) << name;
  const auto loaded = load_bundle(dir / "m", torch::kCPU);
  EXPECT_EQ(loaded.info.training.device, "cuda:0");
  for (const auto& p : loaded.net->parameters()) EXPECT_TRUE(p.device().is_cpu());
}

TEST(Portable, EveryTensorOfACheckpointIsWrittenAsACpuTensor) {
  TempDir dir;
  const FaceSet faces = faceid::test::synthetic_faces();
  const PoolSplit split{faces.pool, faces.pool};
  torch::manual_seed(5);
  SiameseNet net(faceid::test::tiny_config());
  TrainConfig config = faceid::test::tiny_train();
  config.epochs = 1;
  config.ema = 0.9;
  config.checkpoint = dir / "checkpoint.pt";
  Trainer(net, faces, split, config).fit();
  const auto tensors = tensors_as_written(config.checkpoint);
  std::size_t optimizer_state = 0, average = 0;
  for (const auto& [name, t] : tensors) {
    EXPECT_TRUE(t.device().is_cpu()) << name;
    optimizer_state += name.rfind("optimizer.", 0) == 0;
    average += name.rfind("average.", 0) == 0;
  }
  EXPECT_GT(optimizer_state, 0u);  // AdamW's moments are in it
  EXPECT_GT(average, 0u);
}
