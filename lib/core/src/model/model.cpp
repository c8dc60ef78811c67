#include "faceid/model/model.hpp"

#include <cmath>

#include <torch/cuda.h>
#include <torch/nn/functional/conv.h>
#include <torch/nn/functional/linear.h>
#include <torch/nn/functional/normalization.h>
#include <torch/nn/functional/upsampling.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/pooling.h>
#include <nlohmann/json.hpp>

#include "detail/json_integer.hpp"
#include "faceid/error.hpp"
#include "faceid/model/dlib_resnet.hpp"

namespace nn = torch::nn;
namespace F = torch::nn::functional;

namespace faceid {

namespace {

template <std::size_t N>
bool known(const char* const (&names)[N], const std::string& name) {
  for (const char* a : names)
    if (name == a) return true;
  return false;
}

}  // namespace

ModelConfig default_model(const std::string& name) {
  ModelConfig c;
  c.name = name;
  if (name == "dlib-resnet") {
    c.input_size = 150;
    c.embedding_size = 128;
    c.dropout = 0;
    c.score = "cosine";
  } else if (name != "resnet") {
    c.embedding_size = 4096;
    c.dropout = 0;
  }
  return c;
}

bool unit_length_embedding(const ModelConfig& config) {
  return config.name == "resnet" || config.name == "dlib-resnet";
}

void to_json(nlohmann::json& j, const ModelConfig& c) {
  j = {{"name", c.name},
       {"input_size", c.input_size},
       {"channels", c.channels},
       {"embedding_size", c.embedding_size},
       {"batch_norm", c.batch_norm},
       {"dropout", c.dropout},
       {"score", c.score},
       {"flip_average", c.flip_average},
       {"input_norm", c.input_norm},
       {"zoom_view", c.zoom_view}};
}

void from_json(const nlohmann::json& j, ModelConfig& c) {
  try {
    j.at("name").get_to(c.name);
    c.input_size = detail::json_integer<int>(j, "input_size");
    c.channels = detail::json_integer<int>(j, "channels");
    c.embedding_size = detail::json_integer<int>(j, "embedding_size");
    // Bundles written before the resnet have none of these: their defaults are what they meant.
    c.batch_norm = j.value("batch_norm", false);
    c.dropout = j.value("dropout", 0.0f);
    c.score = j.value("score", std::string("head"));
    c.flip_average = j.value("flip_average", false);
    c.input_norm = j.value("input_norm", std::string("none"));
    c.zoom_view = j.value("zoom_view", 0.0f);
  } catch (const nlohmann::json::exception& e) {
    throw model_error(std::string("model config: ") + e.what());
  }
  if (!known(kArchitectures, c.name))
    throw model_error("model config: unknown architecture '" + c.name + "'");
  if (!known(kInputNorms, c.input_norm))
    throw model_error("model config: unknown input_norm '" + c.input_norm + "'");
  if (c.score != "head" && c.score != "cosine")
    throw model_error("model config: unknown score '" + c.score + "'");
  if (!(c.zoom_view == 0 || (c.zoom_view > 1 && c.zoom_view <= kMaxZoomView)))
    throw model_error("model config: zoom_view must be 0 or in (1, " +
                      std::to_string(kMaxZoomView) + "]");
}

namespace {

// Side of the feature map after the Koch convolutions for an input of side `s`.
int koch_output_side(int s) {
  s = (s - 9) / 2;  // conv 10x10, pool 2
  s = (s - 6) / 2;  // conv 7x7, pool 2
  s = (s - 3) / 2;  // conv 4x4, pool 2
  return s - 3;     // conv 4x4
}

}  // namespace

ConvBnImpl::ConvBnImpl(int in, int out, int kernel, int stride)
    : stride_(stride), padding_(kernel / 2) {
  conv_ = register_module(
      "conv",
      nn::Conv2d(
          nn::Conv2dOptions(in, out, kernel).stride(stride).padding(kernel / 2).bias(false)));
  bn_ = register_module("bn", nn::BatchNorm2d(out));
}

torch::Tensor ConvBnImpl::forward(const torch::Tensor& x) {
  if (folded_weight_.defined())
    return F::conv2d(x, folded_weight_,
                     F::Conv2dFuncOptions().bias(folded_bias_).stride(stride_).padding(padding_));
  return bn_(conv_(x));
}

void ConvBnImpl::fold() {
  torch::NoGradGuard no_grad;
  const auto scale = bn_->weight / (bn_->running_var + bn_->options.eps()).sqrt();
  folded_weight_ =
      (conv_->weight * scale.view({-1, 1, 1, 1})).contiguous(at::MemoryFormat::ChannelsLast);
  folded_bias_ = bn_->bias - bn_->running_mean * scale;
}

void ConvBnImpl::unfold() { folded_weight_ = folded_bias_ = torch::Tensor(); }

ResidualBlockImpl::ResidualBlockImpl(int in, int out, int stride) {
  conv1_ = register_module("conv1", ConvBn(in, out, 3, stride));
  conv2_ = register_module("conv2", ConvBn(out, out, 3, 1));
  shortcut_ = register_module("shortcut", ConvBn(in, out, 1, stride));
}

torch::Tensor ResidualBlockImpl::forward(const torch::Tensor& x) {
  return torch::relu(conv2_(torch::relu(conv1_(x))) + shortcut_(x));
}

void ResidualBlockImpl::fold() {
  for (auto* c : {&conv1_, &conv2_, &shortcut_}) (*c)->fold();
}

void ResidualBlockImpl::unfold() {
  for (auto* c : {&conv1_, &conv2_, &shortcut_}) (*c)->unfold();
}

SiameseNetImpl::SiameseNetImpl(const ModelConfig& config)
    : config_(config), resnet_(config.name == "resnet"), dlib_(config.name == "dlib-resnet") {
  if (!known(kArchitectures, config.name))
    throw usage_error("unknown architecture '" + config.name +
                      "' (expected resnet, koch, koch-small or dlib-resnet)");
  if (!known(kInputNorms, config.input_norm))
    throw usage_error("unknown input normalisation '" + config.input_norm +
                      "' (expected none or face)");
  if (!(config.zoom_view == 0 || (config.zoom_view > 1 && config.zoom_view <= kMaxZoomView)))
    throw usage_error("zoom view " + std::to_string(config.zoom_view) +
                      " must be 0 (off) or in (1, " + std::to_string(kMaxZoomView) + "]");
  set_scoring(config.score, config.flip_average);
  nn::Sequential features;
  int flat = 0;
  if (resnet_) {
    if (config.input_size < 32)
      throw usage_error("input size " + std::to_string(config.input_size) +
                        " too small for the resnet (>= 32)");
    // Every step halves the map: the stride-2 stem keeps the full-resolution convolutions (which
    // dominate the cost on a CPU) out; four stages of one residual block each.
    const int widths[4] = {32, 64, 128, 256};
    features->push_back(ConvBn(config.channels, widths[0], 3, 2));
    features->push_back(nn::ReLU());
    int side = (config.input_size + 1) / 2;
    for (int i = 0; i < 4; ++i) {
      features->push_back(ResidualBlock(i == 0 ? widths[0] : widths[i - 1], widths[i], 2));
      side = (side + 1) / 2;
    }
    features->push_back(nn::Flatten());
    flat = widths[3] * side * side;
  } else if (dlib_) {
    if (config.input_size < 80)
      throw usage_error("input size " + std::to_string(config.input_size) +
                        " too small for dlib-resnet (>= 80)");
    if (config.input_norm != "none")
      throw usage_error("dlib-resnet normalises its input itself (input_norm must be none)");
    features->push_back(DlibResNet());
    flat = kDlibFeatures;
  } else {
    const int side = koch_output_side(config.input_size);
    if (side < 1)
      throw usage_error("input size " + std::to_string(config.input_size) +
                        " too small for the Koch net (>= 80)");
    const int w = config.name == "koch" ? 1 : 2;  // koch-small: half the channels
    // conv 64@10x10 -> pool -> 128@7x7 -> pool -> 128@4x4 -> pool -> 256@4x4 (Koch et al. 2015).
    const int in[4] = {config.channels, 64 / w, 128 / w, 128 / w},
              out[4] = {64 / w, 128 / w, 128 / w, 256 / w};
    const int kernel[4] = {10, 7, 4, 4};
    for (int i = 0; i < 4; ++i) {
      features->push_back(
          nn::Conv2d(nn::Conv2dOptions(in[i], out[i], kernel[i]).bias(!config.batch_norm)));
      if (config.batch_norm) features->push_back(nn::BatchNorm2d(out[i]));
      features->push_back(nn::ReLU());
      if (i < 3) features->push_back(nn::MaxPool2d(2));
    }
    features->push_back(nn::Flatten());
    flat = 256 / w * side * side;
  }
  features_ = register_module("features", features);
  if (resnet_) dropout_ = register_module("dropout", nn::Dropout(config.dropout));
  // dlib's descriptor layer has no bias.
  embedding_ = register_module(
      "embedding", nn::Linear(nn::LinearOptions(flat, config.embedding_size).bias(!dlib_)));
  if (resnet_)
    embedding_bn_ = register_module("embedding_bn", nn::BatchNorm1d(config.embedding_size));
  classifier_ = register_module("classifier", nn::Linear(config.embedding_size, 1));
  if (unit_length_embedding(config)) {
    // Unit-length embeddings differ by ~1/sqrt(E) per component: a randomly signed head starts
    // blind and, measured, stayed at the base rate for minutes. Start it as a scaled L1 distance
    // instead: logit = 7 - 8 * |e1 - e2|_1 / sqrt(E), about +2 for cosine 0.7, -2 for strangers.
    torch::NoGradGuard no_grad;
    classifier_->weight.fill_(-8.0 / std::sqrt(static_cast<double>(config.embedding_size)));
    classifier_->bias.fill_(7.0);
  }
  use_channels_last();
}

void SiameseNetImpl::set_scoring(const std::string& score, bool flip_average) {
  if (score != "head" && score != "cosine")
    throw usage_error("unknown score '" + score + "' (expected head or cosine)");
  config_.score = score;
  config_.flip_average = flip_average;
}

void SiameseNetImpl::fold_features(bool fold) {
  for (auto& m : features_->children())
    if (auto c = std::dynamic_pointer_cast<ConvBnImpl>(m))
      fold ? c->fold() : c->unfold();
    else if (auto b = std::dynamic_pointer_cast<ResidualBlockImpl>(m))
      fold ? b->fold() : b->unfold();
    else if (auto d = std::dynamic_pointer_cast<DlibResNetImpl>(m))
      fold ? d->fold() : d->unfold();
}

void SiameseNetImpl::fold_batch_norm() {
  if (!resnet_ && !dlib_) return;
  torch::NoGradGuard no_grad;
  fold_features(true);
  if (!resnet_) return;
  const auto scale =
      embedding_bn_->weight / (embedding_bn_->running_var + embedding_bn_->options.eps()).sqrt();
  folded_weight_ = embedding_->weight * scale.unsqueeze(1);
  folded_bias_ = (embedding_->bias - embedding_bn_->running_mean) * scale + embedding_bn_->bias;
}

void SiameseNetImpl::train(bool on) {
  torch::nn::Module::train(on);
  if (!on || (!resnet_ && !dlib_)) return;
  fold_features(false);
  folded_weight_ = folded_bias_ = torch::Tensor();
}

void SiameseNetImpl::set_trainable(const std::string& layers) {
  if (layers != "all" && layers != "head" && layers != "last")
    throw usage_error("unknown trainable layers '" + layers + "' (expected all, last or head)");
  for (auto& p : parameters()) p.set_requires_grad(layers == "all");
  for (auto& p : classifier_->parameters()) p.set_requires_grad(true);
  if (layers != "last") return;
  for (auto& p : embedding_->parameters()) p.set_requires_grad(true);
  if (embedding_bn_)
    for (auto& p : embedding_bn_->parameters()) p.set_requires_grad(true);
  const auto children = features_->children();
  std::shared_ptr<torch::nn::Module> last;
  for (const auto& m : children)
    if (!m->parameters().empty()) last = m;
  if (auto d = std::dynamic_pointer_cast<DlibResNetImpl>(last)) {
    for (const auto& item : d->named_parameters())
      if (item.key().rfind("conv256_1.", 0) == 0 || item.key().rfind("conv256_2.", 0) == 0 ||
          item.key().rfind("conv256_down_out.", 0) == 0)
        item.value().set_requires_grad(true);
  } else if (last) {
    for (auto& p : last->parameters()) p.set_requires_grad(true);
  }
}

void SiameseNetImpl::use_channels_last() {
  torch::NoGradGuard no_grad;
  for (auto& p : parameters())
    if (p.dim() == 4) p.set_data(p.contiguous(at::MemoryFormat::ChannelsLast));
}

torch::Tensor standardise_faces(const torch::Tensor& chips) {
  const auto s = chips.size(3), h = chips.size(2);
  const auto centre = chips.slice(2, h / 4, h - h / 4).slice(3, s / 4, s - s / 4);
  const auto mean = centre.mean({2, 3}, /*keepdim=*/true);
  const auto std = (centre - mean).square().mean({1, 2, 3}, /*keepdim=*/true).sqrt();
  // The floor keeps a flat (e.g. blank) chip finite: 0.02 is ~5 grey levels.
  return (chips - mean) / std.clamp_min(0.02);
}

torch::Tensor SiameseNetImpl::descriptor(const torch::Tensor& chips) {
  if (!dlib_) throw usage_error("descriptor() is dlib-resnet's");
  return embedding_(features_->forward(chips.contiguous(at::MemoryFormat::ChannelsLast)));
}

torch::Tensor SiameseNetImpl::embed(const torch::Tensor& chips) {
  if (dlib_) return F::normalize(descriptor(chips), F::NormalizeFuncOptions().dim(1));
  const auto input = config_.input_norm == "face" ? standardise_faces(chips) : chips;
  const auto x = features_->forward(input.contiguous(at::MemoryFormat::ChannelsLast));
  if (!resnet_) return torch::sigmoid(embedding_(x));
  const auto e = folded_weight_.defined() ? F::linear(x, folded_weight_, folded_bias_)
                                          : embedding_bn_(embedding_(dropout_(x)));
  return F::normalize(e, F::NormalizeFuncOptions().dim(1));
}

torch::Tensor SiameseNetImpl::head(const torch::Tensor& e1, const torch::Tensor& e2) {
  return classifier_((e1 - e2).abs()).squeeze(-1);
}

torch::Tensor SiameseNetImpl::score(const torch::Tensor& e1, const torch::Tensor& e2) {
  if (config_.score == "head") return torch::sigmoid(head(e1, e2));
  const auto opts = F::NormalizeFuncOptions().dim(-1);
  return ((F::normalize(e1, opts) * F::normalize(e2, opts)).sum(-1) + 1).mul_(0.5).clamp_(0, 1);
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

torch::Tensor zoom_centre(const torch::Tensor& chips, double zoom) {
  const auto side = chips.size(3);
  const auto crop = std::max<std::int64_t>(1, std::llround(static_cast<double>(side) / zoom));
  const auto offset = (side - crop) / 2;
  const auto centre = chips.slice(2, offset, offset + crop).slice(3, offset, offset + crop);
  return F::interpolate(centre, F::InterpolateFuncOptions()
                                    .size(std::vector<std::int64_t>{side, side})
                                    .mode(torch::kBilinear)
                                    .align_corners(false));
}

torch::Tensor embed_chips(SiameseNet& net, const torch::Tensor& chips, torch::Device device,
                          int batch) {
  c10::InferenceMode inference;
  net->eval();
  std::vector<torch::Tensor> out;
  for (std::int64_t i = 0; i < chips.size(0); i += batch) {
    const auto x = chips.slice(0, i, std::min<std::int64_t>(chips.size(0), i + batch))
                       .to(device)
                       .permute({0, 3, 1, 2})
                       .to(torch::kFloat)
                       .div(255.0);
    const auto& c = net->config();
    std::vector<torch::Tensor> views;
    views.reserve(4);
    views.push_back(x);
    if (c.zoom_view > 1) views.push_back(zoom_centre(x, c.zoom_view));
    if (c.flip_average)
      for (std::size_t v = 0, n = views.size(); v < n; ++v) {
        auto mirror = views[v].flip({3});
        views.push_back(std::move(mirror));
      }
    auto e = net->embed(views[0]);
    for (std::size_t v = 1; v < views.size(); ++v) e = e + net->embed(views[v]);
    if (views.size() > 1)
      e = unit_length_embedding(c) ? F::normalize(e, F::NormalizeFuncOptions().dim(1))
                                   : e.div_(static_cast<double>(views.size()));
    out.push_back(e.to(torch::kCPU));
  }
  return out.empty() ? torch::empty({0, net->config().embedding_size}) : torch::cat(out);
}

torch::Tensor embed_rows(SiameseNet& net, const ChipStore& chips, const std::vector<int>& ids,
                         torch::Device device) {
  constexpr std::size_t kChunk = 1024;
  if (ids.size() <= kChunk) return embed_chips(net, chips.gather(ids), device);
  std::vector<torch::Tensor> parts;
  for (std::size_t i = 0; i < ids.size(); i += kChunk) {
    const std::vector<int> chunk(
        ids.begin() + static_cast<std::ptrdiff_t>(i),
        ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), i + kChunk)));
    parts.push_back(embed_chips(net, chips.gather(chunk), device));
  }
  return torch::cat(parts);
}

torch::Device resolve_device(const std::string& name) {
  if (name == "cpu") return torch::kCPU;
  if (name == "cuda") {
    if (!torch::cuda::is_available())
      throw usage_error(
          "--device cuda: this LibTorch build has no CUDA or no GPU is visible (use --device cpu, "
          "or build against a CUDA LibTorch via CMAKE_PREFIX_PATH)");
    return torch::kCUDA;
  }
  if (name == "auto")
    return torch::cuda::is_available() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  throw usage_error("unknown device '" + name + "' (expected auto, cpu or cuda)");
}

std::vector<std::vector<float>> gallery_scores(SiameseNet& net, const torch::Tensor& queries,
                                               const torch::Tensor& refs) {
  c10::InferenceMode inference;
  const auto device = net->parameters().front().device();
  const auto q = queries.to(device), r = refs.to(device);
  std::vector<std::vector<float>> out;
  for (std::int64_t i = 0; i < q.size(0); ++i) {
    const auto s = net->score(q[i].unsqueeze(0), r).to(torch::kCPU).contiguous();
    out.emplace_back(s.data_ptr<float>(), s.data_ptr<float>() + s.numel());
  }
  return out;
}

}  // namespace faceid
