#include "faceid/model.hpp"

#include <nlohmann/json.hpp>
#include <torch/cuda.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/pooling.h>
#include <torch/nn/init.h>

#include "faceid/error.hpp"

namespace nn = torch::nn;

namespace faceid {

void to_json(nlohmann::json& j, const ModelConfig& c) {
  j = {{"name", c.name}, {"input_size", c.input_size}, {"channels", c.channels}, {"embedding_size", c.embedding_size},
       {"batch_norm", c.batch_norm}};
}

void from_json(const nlohmann::json& j, ModelConfig& c) {
  try {
    j.at("name").get_to(c.name);
    j.at("input_size").get_to(c.input_size);
    j.at("channels").get_to(c.channels);
    j.at("embedding_size").get_to(c.embedding_size);
    c.batch_norm = j.value("batch_norm", false);
  } catch (const nlohmann::json::exception& e) {
    throw model_error(std::string("model config: ") + e.what());
  }
  if (c.name != "koch" && c.name != "koch-small") throw model_error("model config: unknown architecture '" + c.name + "'");
}

namespace {

// Side of the feature map after the Koch convolutions for an input of side `s`.
int koch_output_side(int s) {
  s = (s - 9) / 2;   // conv 10x10, pool 2
  s = (s - 6) / 2;   // conv 7x7, pool 2
  s = (s - 3) / 2;   // conv 4x4, pool 2
  return s - 3;      // conv 4x4
}

}  // namespace

SiameseNetImpl::SiameseNetImpl(const ModelConfig& config) : config_(config) {
  if (config.name != "koch" && config.name != "koch-small")
    throw usage_error("unknown architecture '" + config.name + "' (expected koch or koch-small)");
  const int side = koch_output_side(config.input_size);
  if (side < 1) throw usage_error("input size " + std::to_string(config.input_size) + " too small for the Koch net (>= 80)");
  const int w = config.name == "koch" ? 1 : 2;  // koch-small: half the channels
  // conv 64@10x10 -> pool -> 128@7x7 -> pool -> 128@4x4 -> pool -> 256@4x4 (Koch et al. 2015).
  const int in[4] = {config.channels, 64 / w, 128 / w, 128 / w}, out[4] = {64 / w, 128 / w, 128 / w, 256 / w};
  const int kernel[4] = {10, 7, 4, 4};
  nn::Sequential features;
  for (int i = 0; i < 4; ++i) {
    features->push_back(nn::Conv2d(nn::Conv2dOptions(in[i], out[i], kernel[i]).bias(!config.batch_norm)));
    if (config.batch_norm) features->push_back(nn::BatchNorm2d(out[i]));
    features->push_back(nn::ReLU());
    if (i < 3) features->push_back(nn::MaxPool2d(2));
  }
  features->push_back(nn::Flatten());
  features_ = register_module("features", features);
  embedding_ = register_module("embedding", nn::Linear(256 / w * side * side, config.embedding_size));
  classifier_ = register_module("classifier", nn::Linear(config.embedding_size, 1));
  use_channels_last();
}

void SiameseNetImpl::use_channels_last() {
  torch::NoGradGuard no_grad;
  for (auto& p : parameters())
    if (p.dim() == 4) p.set_data(p.contiguous(at::MemoryFormat::ChannelsLast));
}

torch::Tensor SiameseNetImpl::embed(const torch::Tensor& chips) {
  return torch::sigmoid(embedding_(features_->forward(chips.contiguous(at::MemoryFormat::ChannelsLast))));
}

torch::Tensor SiameseNetImpl::head(const torch::Tensor& e1, const torch::Tensor& e2) {
  return classifier_((e1 - e2).abs()).squeeze(-1);
}

torch::Tensor SiameseNetImpl::forward(const torch::Tensor& a, const torch::Tensor& b) {
  const auto e = embed(torch::cat({a, b}));
  const auto n = a.size(0);
  return head(e.slice(0, 0, n), e.slice(0, n));
}

std::int64_t SiameseNetImpl::parameter_count() const {
  std::int64_t n = 0;
  for (const auto& p : parameters()) n += p.numel();
  return n;
}

torch::Tensor embed_chips(SiameseNet& net, const torch::Tensor& chips, torch::Device device, int batch) {
  c10::InferenceMode inference;
  net->eval();
  std::vector<torch::Tensor> out;
  for (std::int64_t i = 0; i < chips.size(0); i += batch) {
    const auto x = chips.slice(0, i, std::min<std::int64_t>(chips.size(0), i + batch))
                       .to(device)
                       .permute({0, 3, 1, 2})
                       .to(torch::kFloat)
                       .div(255.0);
    out.push_back(net->embed(x).to(torch::kCPU));
  }
  return out.empty() ? torch::empty({0, net->config().embedding_size}) : torch::cat(out);
}

torch::Device resolve_device(const std::string& name) {
  if (name == "cpu") return torch::kCPU;
  if (name == "cuda") {
    if (!torch::cuda::is_available())
      throw usage_error("--device cuda: this LibTorch build has no CUDA or no GPU is visible (use --device cpu, "
                        "or build against a CUDA LibTorch via CMAKE_PREFIX_PATH)");
    return torch::kCUDA;
  }
  if (name == "auto") return torch::cuda::is_available() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  throw usage_error("unknown device '" + name + "' (expected auto, cpu or cuda)");
}

}  // namespace faceid
