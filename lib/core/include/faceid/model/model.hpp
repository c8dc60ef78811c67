#pragma once
// The Siamese network (docs/design.md §4): twin embedding nets with shared weights, the L1 distance
// of the two embeddings, and a linear head giving the logit of P(same person).
//
//   SiameseNet net(ModelConfig{});                 // the default: a compact ResNet at 100x100
//   auto e = net->embed(chips);                    // [B,3,S,S] in [0,1] -> [B,E]
//   auto logits = net->head(e_query, e_ref);       // [B,E] x [B,E] -> [B]
//   auto s = net->score(e_query, e_ref);           // "how alike", in [0,1]: the one score function
//
// Three families: "resnet" (the default; unit-length embeddings trained with an identity-margin
// loss beside the pair loss), "dlib-resnet" (dlib's face descriptor, dlib_resnet.hpp, imported
// pretrained by pretrained.hpp; unit-length) and the seed's "koch" / "koch-small" (Koch et al.
// 2015; sigmoid embeddings). Submodule names are checkpoint keys: they are a file format; do not
// rename them.

#include <string>

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>
#include <nlohmann/json_fwd.hpp>

#include "faceid/io/chip_store.hpp"

namespace faceid {

/// The architecture, stored in the model bundle.
struct ModelConfig {
  /// "resnet" (3x3/s2 stem, four residual stages 32/64/128/256 each halving the map, dense
  /// embedding + BatchNorm, L2-normalised), "koch" (the seed's / Koch's net) or "koch-small"
  /// (Koch with half the channels), "dlib-resnet" (dlib's face descriptor: 150 px chips of the
  /// "dlib" alignment, 128-d; see dlib_resnet.hpp).
  std::string name = "resnet";
  int input_size = 100;  ///< chip side the net expects (must equal the preprocessing chip size)
  int channels = 3;      ///< RGB
  int embedding_size =
      256;  ///< resnet: unit-length embedding; koch: dense layer (sigmoid activations)
  bool batch_norm = false;  ///< koch only: BatchNorm after each convolution (resnet always has it)
  float dropout = 0.2f;     ///< resnet only: dropout before the embedding layer (training)
  /// How two embeddings are compared by score(): "head" = sigmoid of the Siamese head (P(same)),
  /// "cosine" = (1 + cosine similarity) / 2. facetrain picks the one with the higher validation
  /// AUC.
  std::string score = "head";
  bool flip_average = false;  ///< embed_chips() sums the embeddings of each chip and its mirror
  /// > 1: embed_chips() also embeds the chip's centre zoomed in by this factor (the face without
  /// hair and background, as a tight chip shows it) and sums the two views. 0 = the chip alone.
  float zoom_view = 0;
  /// How embed() normalises its input first: "none" (x/255 as given) or "face" (each chip minus
  /// its per-channel mean, divided by its standard deviation, both taken over the chip's central
  /// half, i.e. the face: brightness, contrast and colour cast of the light, such as a backlit
  /// window or a warm lamp, cancel). Bundles written before it have "none".
  std::string input_norm = "none";
};

/// The largest embedding (and owner head hidden width) facetrain trains and a bundle may declare.
constexpr int kMaxEmbeddingSize = 8192;

/// The largest ModelConfig::zoom_view a bundle may declare.
constexpr float kMaxZoomView = 4;

/// The input normalisations ModelConfig::input_norm accepts.
inline const char* const kInputNorms[] = {"none", "face"};

/// "face" input normalisation of float chips [B, C, S, S] (see ModelConfig::input_norm).
torch::Tensor standardise_faces(const torch::Tensor& chips);

/// The architecture names a bundle may declare.
inline const char* const kArchitectures[] = {"resnet", "koch", "koch-small", "dlib-resnet"};

/// The defaults of architecture `name` (resnet: embedding 256, dropout 0.2; koch and koch-small:
/// the seed's 4096-wide sigmoid embedding, no dropout; dlib-resnet: 150 px, 128-d, no dropout,
/// cosine score). Unknown names are left to the net to reject.
ModelConfig default_model(const std::string& name);

/// Whether the architecture's embeddings are unit length (resnet, dlib-resnet; not Koch's).
bool unit_length_embedding(const ModelConfig& config);

void to_json(nlohmann::json& j, const ModelConfig& c);
/// Throws Error(Model) for missing fields or an unknown architecture name.
void from_json(const nlohmann::json& j, ModelConfig& c);

/// A 3x3 convolution (no bias) and its BatchNorm. fold() merges the two for inference: one
/// convolution with the BatchNorm's running statistics baked into its weights and a bias.
class ConvBnImpl : public torch::nn::Module {
 public:
  ConvBnImpl(int in, int out, int kernel, int stride);
  torch::Tensor forward(const torch::Tensor& x);
  /// Computes the folded weights from the current parameters and statistics; forward() uses
  /// them until train(true) or unfold().
  void fold();
  void unfold();

 private:
  torch::nn::Conv2d conv_{nullptr};
  torch::nn::BatchNorm2d bn_{nullptr};
  torch::Tensor folded_weight_, folded_bias_;
  int stride_, padding_;
};
TORCH_MODULE(ConvBn);

/// Two 3x3 conv+BN (the first with `stride`), ReLU between them, a 1x1 conv+BN shortcut, ReLU
/// after the sum.
class ResidualBlockImpl : public torch::nn::Module {
 public:
  ResidualBlockImpl(int in, int out, int stride);
  torch::Tensor forward(const torch::Tensor& x);
  void fold();
  void unfold();

 private:
  ConvBn conv1_{nullptr}, conv2_{nullptr}, shortcut_{nullptr};
};
TORCH_MODULE(ResidualBlock);

class SiameseNetImpl : public torch::nn::Module {
 public:
  /// Throws Error(Usage) for an unknown name, score kind or input normalisation, or an input size
  /// the convolutions cannot take (Koch's net needs >= 80 px, the resnet >= 32).
  explicit SiameseNetImpl(const ModelConfig& config);

  /// Embeddings of a batch of chips: float [B, C, S, S] in [0, 1] -> [B, E]; unit length for
  /// the resnet and dlib-resnet, in (0, 1) for koch.
  torch::Tensor embed(const torch::Tensor& chips);
  /// dlib-resnet: the descriptor before normalisation (what dlib and face-api return), [B, E].
  /// Throws Error(Usage) for the other architectures.
  torch::Tensor descriptor(const torch::Tensor& chips);
  /// Which parameters train (requires_grad): "all"; "head" (the Siamese head alone: the
  /// embedding frozen); "last" (the head, the embedding layer and the last stage: dlib-resnet's
  /// conv256_1, conv256_2, conv256_down_out; the resnet's last residual block). Throws
  /// Error(Usage) for another name.
  void set_trainable(const std::string& layers);
  /// Logits of "same person" for pairs of embeddings: [B, E] x [B, E] -> [B]. Broadcasts, so a
  /// [1, E] query against [N, E] references gives [N].
  torch::Tensor head(const torch::Tensor& e1, const torch::Tensor& e2);
  /// The one "how alike are these two faces" function (training validation, calibration,
  /// faceeval, faceverify, facebench): config().score of the pair, in [0, 1], higher = more
  /// alike. Broadcasts like head().
  torch::Tensor score(const torch::Tensor& e1, const torch::Tensor& e2);
  /// head(embed(a), embed(b)); both embeddings computed in one batch.
  torch::Tensor forward(const torch::Tensor& a, const torch::Tensor& b);

  const ModelConfig& config() const { return config_; }
  /// Chooses the score kind ("head" or "cosine") and test-time flip averaging; stored in bundles.
  /// Throws Error(Usage) for another kind.
  void set_scoring(const std::string& score, bool flip_average);
  /// Folds every BatchNorm (resnet) or scale layer (dlib-resnet) into the convolution (and dense
  /// layer) before it, for inference: same embeddings, fewer passes over memory. Undone by
  /// train(true).
  void fold_batch_norm();
  void train(bool on = true) override;
  /// Stores the convolution weights channels-last (NHWC), the layout oneDNN's convolutions run
  /// fastest in (measured +12-20 % training throughput here); embed() feeds them NHWC input.
  /// Called by the constructor; call again after loading weights (loading replaces the tensors).
  void use_channels_last();
  /// Number of trainable parameters.
  std::int64_t parameter_count() const;

 private:
  torch::Tensor resnet_embed(const torch::Tensor& x);

  /// Folds (or unfolds) the feature layers: ConvBn, ResidualBlock, DlibResNet.
  void fold_features(bool fold);

  ModelConfig config_;
  bool resnet_ = false, dlib_ = false;
  torch::nn::Sequential features_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
  torch::nn::Linear embedding_{nullptr};
  torch::nn::BatchNorm1d embedding_bn_{nullptr};
  torch::nn::Linear classifier_{nullptr};
  torch::Tensor folded_weight_, folded_bias_;  ///< embedding + embedding_bn, when folded
};
TORCH_MODULE(SiameseNet);

/// The centre 1/zoom of float chips [B, C, S, S], resized back to S x S (bilinear): what the
/// chip shows zoomed in by `zoom` around its centre (ModelConfig::zoom_view).
torch::Tensor zoom_centre(const torch::Tensor& chips, double zoom);

/// Embeddings of uint8 chips [N, S, S, 3] (RGB, as in the face cache) in batches of `batch`, in
/// inference mode; returns float [N, E] on the CPU. Puts the net in eval mode. With
/// config().flip_average each embedding is that of the chip plus that of its mirror image, with
/// config().zoom_view plus that of its zoomed centre (and its mirror): the views' sum,
/// renormalised for the resnet, their mean for Koch.
torch::Tensor embed_chips(SiameseNet& net, const torch::Tensor& chips, torch::Device device,
                          int batch = 64);

/// embed_chips of rows `ids` of `chips`, gathered a chunk of 1,024 rows at a time (the rows of a
/// large set need not fit in memory); float [ids.size(), E] on the CPU.
torch::Tensor embed_rows(SiameseNet& net, const ChipStore& chips, const std::vector<int>& ids,
                         torch::Device device);

/// "cpu", "cuda" or "auto" (cuda when available) as a torch device. Throws Error(Usage) for
/// "cuda" when this LibTorch has no CUDA (Debian's is CPU-only) and for other names.
torch::Device resolve_device(const std::string& name);

/// The score (net->score) of each query embedding [Q, E] against every reference embedding
/// [R, E]: Q rows of R scores. Embeddings may live on any device; the net's device is used.
std::vector<std::vector<float>> gallery_scores(SiameseNet& net, const torch::Tensor& queries,
                                               const torch::Tensor& refs);

}  // namespace faceid
