#include "faceid/model/dlib_resnet.hpp"

#include <torch/nn/functional/conv.h>
#include <torch/nn/functional/padding.h>
#include <torch/nn/functional/pooling.h>

namespace nn = torch::nn;
namespace F = torch::nn::functional;

namespace faceid {

AffineConvImpl::AffineConvImpl(int in, int out, int kernel, int stride, bool same)
    : stride_(stride), padding_(same ? kernel / 2 : 0) {
  conv = register_module(
      "conv", nn::Conv2d(nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding_)));
  scale_weights = register_parameter("scale_weights", torch::ones({out}));
  scale_biases = register_parameter("scale_biases", torch::zeros({out}));
}

torch::Tensor AffineConvImpl::forward(const torch::Tensor& x) {
  if (folded_weight_.defined())
    return F::conv2d(x, folded_weight_,
                     F::Conv2dFuncOptions().bias(folded_bias_).stride(stride_).padding(padding_));
  return conv(x) * scale_weights.view({1, -1, 1, 1}) + scale_biases.view({1, -1, 1, 1});
}

void AffineConvImpl::fold() {
  torch::NoGradGuard no_grad;
  folded_weight_ =
      (conv->weight * scale_weights.view({-1, 1, 1, 1})).contiguous(at::MemoryFormat::ChannelsLast);
  folded_bias_ = conv->bias * scale_weights + scale_biases;
}

void AffineConvImpl::unfold() { folded_weight_ = folded_bias_ = torch::Tensor(); }

DlibBlockImpl::DlibBlockImpl(int in, int out, bool down) : down_(down) {
  conv1_ = register_module("conv1", AffineConv(in, out, 3, down ? 2 : 1, !down));
  conv2_ = register_module("conv2", AffineConv(out, out, 3, 1, true));
}

torch::Tensor DlibBlockImpl::forward(const torch::Tensor& x) {
  auto out = conv2_(torch::relu(conv1_(x)));
  if (!down_) return torch::relu(out + x);
  auto shortcut = F::avg_pool2d(x, F::AvgPool2dFuncOptions(2).stride(2));
  // An odd map: the 'valid' stride-2 conv gives one row and column fewer than the pool.
  if (out.size(2) != shortcut.size(2) || out.size(3) != shortcut.size(3))
    out = F::pad(out, F::PadFuncOptions(
                          {0, shortcut.size(3) - out.size(3), 0, shortcut.size(2) - out.size(2)}));
  if (shortcut.size(1) != out.size(1))
    shortcut = torch::cat({shortcut, torch::zeros_like(shortcut)}, 1);
  return torch::relu(out + shortcut);
}

void DlibBlockImpl::fold() {
  conv1_->fold();
  conv2_->fold();
}

void DlibBlockImpl::unfold() {
  conv1_->unfold();
  conv2_->unfold();
}

const std::vector<std::string>& DlibResNetImpl::block_names() {
  static const std::vector<std::string> names = {
      "conv32_down", "conv32_1",     "conv32_2",  "conv32_3",     "conv64_down",
      "conv64_1",    "conv64_2",     "conv64_3",  "conv128_down", "conv128_1",
      "conv128_2",   "conv256_down", "conv256_1", "conv256_2",    "conv256_down_out"};
  return names;
}

DlibResNetImpl::DlibResNetImpl() {
  stem_ = register_module("conv32_down", AffineConv(3, 32, 7, 2, false));
  int width = 32;
  for (std::size_t i = 1; i < block_names().size(); ++i) {
    const std::string& name = block_names()[i];
    const bool down = name.find("down") != std::string::npos;
    const int out = down && name != "conv256_down_out" ? width * 2 : width;
    blocks_.push_back(register_module(name, DlibBlock(width, out, down)));
    width = out;
  }
}

torch::Tensor DlibResNetImpl::forward(const torch::Tensor& chips) {
  const auto mean =
      torch::tensor({kDlibMeanRgb[0], kDlibMeanRgb[1], kDlibMeanRgb[2]}, chips.options())
          .view({1, 3, 1, 1});
  auto x = (chips * 255 - mean) / kDlibInputScale;
  x = F::max_pool2d(torch::relu(stem_(x)), F::MaxPool2dFuncOptions(3).stride(2));
  for (auto& b : blocks_) x = b(x);
  return x.mean({2, 3});
}

void DlibResNetImpl::fold() {
  stem_->fold();
  for (auto& b : blocks_) b->fold();
}

void DlibResNetImpl::unfold() {
  stem_->unfold();
  for (auto& b : blocks_) b->unfold();
}

}  // namespace faceid
