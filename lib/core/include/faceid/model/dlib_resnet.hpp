#pragma once
// dlib's face-descriptor ResNet (dlib_face_recognition_resnet_model_v1, public domain), as the
// npm package @vladmandic/face-api ports it to TF.js: 150x150 RGB chips aligned to dlib's face
// chip geometry in, a 256-d pooled feature out (the 128-d descriptor is the dense layer after
// it, SiameseNet's `embedding`). Written from the package's description of the net:
//
//   input    (255 x RGB - mean RGB) / 255
//   conv32_down        7x7 conv, stride 2, 'valid', + ReLU; 3x3 max pool, stride 2, 'valid'
//   conv32_1..3        residual blocks (two 3x3 'same' convs, ReLU between and after the sum)
//   conv64_down        residual-down block (3x3 stride-2 'valid' conv; the shortcut is the 2x2
//   conv64_1..3          average pool of the input, zero channels appended; where the conv
//   conv128_down         branch's map is a row and a column smaller it is zero-padded at the
//   conv128_1..2         bottom and right), then residual blocks
//   conv256_down, conv256_1..2, conv256_down_out
//   mean over the map  -> [B, 256]
//
// Every convolution is conv + bias followed by a per-channel scale layer (x * w + b): the
// layout of the TF.js weights (tfjs_weights.hpp). fold() merges the scale into the
// convolution for inference. Submodule names are the TF.js names: they are checkpoint keys.

#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

namespace faceid {

/// Conv2d with bias, then a per-channel affine "scale" layer: y = (conv(x) + b) * s + t.
class AffineConvImpl : public torch::nn::Module {
 public:
  /// `same`: 'same' padding (kernel / 2, stride 1); otherwise 'valid' (no padding).
  AffineConvImpl(int in, int out, int kernel, int stride, bool same);
  torch::Tensor forward(const torch::Tensor& x);
  /// One convolution with the scale folded in (weight * s, bias * s + t); forward() uses it
  /// until unfold() (SiameseNet calls it on train(true)).
  void fold();
  void unfold();

  torch::nn::Conv2d conv{nullptr};
  torch::Tensor scale_weights, scale_biases;  ///< [out] each

 private:
  torch::Tensor folded_weight_, folded_bias_;
  int stride_, padding_;
};
TORCH_MODULE(AffineConv);

/// A residual block of the descriptor: relu(conv2(relu(conv1(x))) + shortcut(x)); `down`:
/// conv1 has stride 2 ('valid') and the shortcut is the average-pooled input with zero channels.
class DlibBlockImpl : public torch::nn::Module {
 public:
  DlibBlockImpl(int in, int out, bool down);
  torch::Tensor forward(const torch::Tensor& x);
  void fold();
  void unfold();

 private:
  AffineConv conv1_{nullptr}, conv2_{nullptr};
  bool down_;
};
TORCH_MODULE(DlibBlock);

/// The descriptor's convolutional part: float chips [B, 3, 150, 150] (RGB in [0, 1]) ->
/// pooled features [B, 256]. Other sizes >= 80 px work too (the map is averaged).
class DlibResNetImpl : public torch::nn::Module {
 public:
  DlibResNetImpl();
  torch::Tensor forward(const torch::Tensor& chips);
  void fold();
  void unfold();
  /// The block names in order ("conv32_down", "conv32_1", ..., "conv256_down_out").
  static const std::vector<std::string>& block_names();

 private:
  AffineConv stem_{nullptr};
  std::vector<DlibBlock> blocks_;
};
TORCH_MODULE(DlibResNet);

/// Width of DlibResNet's output.
constexpr int kDlibFeatures = 256;
/// Input pixels (0..255) minus this RGB mean, divided by kDlibInputScale (face-api's constants).
inline constexpr float kDlibMeanRgb[3] = {122.782f, 117.001f, 104.298f};
constexpr float kDlibInputScale = 255.f;

}  // namespace faceid
