#pragma once
// The two losses of one P x K batch (docs/design.md §4):
//  - an identity-margin loss on every embedding: CosFace (cos θ_y - m) or ArcFace (cos(θ_y + m)),
//    scaled by s, softmax cross-entropy over the training identities (the owner is one of them);
//  - the Siamese head's binary cross-entropy on pairs formed inside the batch: every positive
//    pair and, for every image, its hardest negative (the most similar other person).
//
//   MarginHead ids(num_people, 256, {"cosface", 0.35, 30});
//   auto e = net->embed(x);                                   // [B, E], unit length
//   auto id_loss = F::cross_entropy(ids(e, labels), labels);
//   auto pairs = in_batch_pairs(e, labels);                   // indices and targets
//   auto bce = F::binary_cross_entropy_with_logits(net->head(e[pairs.a], e[pairs.b]),
//   pairs.target);

#include <string>

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace faceid {

struct MarginConfig {
  std::string kind = "cosface";  ///< "cosface", "arcface" or "none" (no identity loss)
  double margin =
      0.35;  ///< CosFace: subtracted from the target cosine; ArcFace: added angle (radians)
  double scale = 30;  ///< s: logits = s * (margined cosine)
};

/// Margined, scaled logits from cosines [B, C] and target classes [B] (int64): the target
/// column becomes cos - m (CosFace) or cos(acos(cos) + m) (ArcFace), then everything is times s.
torch::Tensor margin_logits(const torch::Tensor& cosines, const torch::Tensor& labels,
                            const MarginConfig& config);

/// The identity classifier's weights (one unit vector per training identity) and the margin.
/// Not part of the model bundle: only the embedding and the Siamese head are.
class MarginHeadImpl : public torch::nn::Module {
 public:
  /// Throws Error(Usage) for an unknown kind or fewer than 2 classes.
  MarginHeadImpl(int classes, int embedding_size, MarginConfig config);
  /// Logits [B, C] for embeddings [B, E] (normalised here) and their classes [B].
  torch::Tensor forward(const torch::Tensor& embeddings, const torch::Tensor& labels);
  /// Weight imprinting: each class's weight becomes the direction of `centres` [C, E] (e.g. the
  /// mean embedding of its photos), so that a pretrained embedding starts with a head that already
  /// agrees with it instead of pulling it towards random directions.
  void imprint(const torch::Tensor& centres);

 private:
  torch::Tensor weight_;
  MarginConfig config_;
};
TORCH_MODULE(MarginHead);

/// Pairs of rows of one batch for the head's BCE: every pair (i < j) with the same label
/// (target 1), and for each row its most similar row of another label (target 0), by the cosine
/// of `embeddings` [B, E]. Returns int64 index tensors and a float target, all of equal length.
struct BatchPairs {
  torch::Tensor a, b, target;
};
BatchPairs in_batch_pairs(const torch::Tensor& embeddings, const torch::Tensor& labels);

}  // namespace faceid
