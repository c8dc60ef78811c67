#pragma once
// The Siamese network (DESIGN.md §4): twin embedding nets with shared weights, the L1 distance
// of the two embeddings, and a linear head giving the logit of P(same person).
//
//   SiameseNet net(ModelConfig{});                 // Koch et al. 2015 at 100x100
//   auto e = net->embed(chips);                    // [B,3,S,S] in [0,1] -> [B,E]
//   auto logits = net->head(e_query, e_ref);       // [B,E] x [B,E] -> [B]
//   auto p = torch::sigmoid(net->forward(a, b));   // = head(embed(a), embed(b))
//
// Submodule names are checkpoint keys: they are a file format; do not rename them.

#include <string>

#include <nlohmann/json_fwd.hpp>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

namespace faceid {

/// The architecture, stored in the model bundle.
struct ModelConfig {
  std::string name = "koch";  ///< "koch" (the seed's / Koch's net) or "koch-small" (half the channels)
  int input_size = 100;       ///< chip side the net expects (must equal the preprocessing chip size)
  int channels = 3;           ///< RGB
  int embedding_size = 4096;  ///< dense layer after the convolutions (sigmoid activations)
  bool batch_norm = false;    ///< BatchNorm after each convolution (faster, steadier training)
};

void to_json(nlohmann::json& j, const ModelConfig& c);
/// Throws Error(Model) for missing fields or an unknown architecture name.
void from_json(const nlohmann::json& j, ModelConfig& c);

class SiameseNetImpl : public torch::nn::Module {
 public:
  /// Throws Error(Usage) for an unknown name or an input size the convolutions cannot take
  /// (Koch's net needs >= 80 px).
  explicit SiameseNetImpl(const ModelConfig& config);

  /// Embeddings of a batch of chips: float [B, C, S, S] in [0, 1] -> [B, E] in (0, 1).
  torch::Tensor embed(const torch::Tensor& chips);
  /// Logits of "same person" for pairs of embeddings: [B, E] x [B, E] -> [B]. Broadcasts, so a
  /// [1, E] query against [N, E] references gives [N].
  torch::Tensor head(const torch::Tensor& e1, const torch::Tensor& e2);
  /// head(embed(a), embed(b)); both embeddings computed in one batch.
  torch::Tensor forward(const torch::Tensor& a, const torch::Tensor& b);

  const ModelConfig& config() const { return config_; }
  /// Stores the convolution weights channels-last (NHWC), the layout oneDNN's convolutions run
  /// fastest in (measured +12-20 % training throughput here); embed() feeds them NHWC input.
  /// Called by the constructor; call again after loading weights (loading replaces the tensors).
  void use_channels_last();
  /// Number of trainable parameters.
  std::int64_t parameter_count() const;

 private:
  ModelConfig config_;
  torch::nn::Sequential features_{nullptr};
  torch::nn::Linear embedding_{nullptr};
  torch::nn::Linear classifier_{nullptr};
};
TORCH_MODULE(SiameseNet);

/// Embeddings of uint8 chips [N, S, S, 3] (RGB, as in the face cache) in batches of `batch`, in
/// inference mode; returns float [N, E] on the CPU. Puts the net in eval mode.
torch::Tensor embed_chips(SiameseNet& net, const torch::Tensor& chips, torch::Device device, int batch = 64);

/// "cpu", "cuda" or "auto" (cuda when available) as a torch device. Throws Error(Usage) for
/// "cuda" when this LibTorch has no CUDA (Debian's is CPU-only) and for other names.
torch::Device resolve_device(const std::string& name);

}  // namespace faceid
