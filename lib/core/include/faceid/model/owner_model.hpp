#pragma once
// The owner's own model (docs/design.md §10): one embedding net with an owner-vs-everyone
// output. A small head on the (normalised) embedding of a general model gives the logit of
// P(this face is the owner); it is trained with class-weighted binary cross-entropy on the owner's
// photos (positive) and strangers' faces (negative), augmented. Two ways:
//
//   fine_tune "none": the embedding net stays frozen; the head learns from the embeddings of
//                     augmented copies of every training face (seconds on a CPU);
//   fine_tune "last": the head is trained as above, then the net's last stage (last residual
//                     stage, or last convolution of the Koch net) and its embedding layer are
//                     trained together with the head at a small learning rate on augmented
//                     batches (a minute on 2 cores).
//
//   OwnerHead head = train_owner_model(net, chips, owner_ids, stranger_ids, OwnerTrainConfig{});
//   torch::Tensor p = owner_probabilities(net, head, chips);   // [N] in [0, 1]
//
// The model bundle stores it as kind "owner" (bundle.hpp): the net, the head and the threshold
// calibrated on held-out faces (decision.hpp: calibrate_owner_score). No reference photos are
// needed to use it: one forward per face.

#include <cstdint>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>
#include <nlohmann/json.hpp>

#include "faceid/config.hpp"
#include "faceid/io/chip_store.hpp"
#include "faceid/model/model.hpp"

namespace faceid {

/// The owner head's architecture, stored in the bundle.
struct OwnerHeadConfig {
  int embedding_size = 256;  ///< the embedding net's output size
  int hidden =
      0;  ///< 0: logistic regression on the embedding; > 0: one hidden ReLU layer of this width
};

void to_json(nlohmann::json& j, const OwnerHeadConfig& c);
/// Throws Error(Model) for missing or ill-typed fields.
void from_json(const nlohmann::json& j, OwnerHeadConfig& c);

/// Embedding [B, E] -> owner logit [B]. The embedding is L2-normalised and scaled by sqrt(E)
/// first (unit-variance components, whatever the net: the resnet's are unit length, Koch's are
/// sigmoid activations). Submodule names ("hidden", "out") are checkpoint keys.
class OwnerHeadImpl : public torch::nn::Module {
 public:
  /// Throws Error(Usage) for a non-positive embedding size or a negative hidden width.
  explicit OwnerHeadImpl(const OwnerHeadConfig& config);
  torch::Tensor forward(const torch::Tensor& embeddings);
  const OwnerHeadConfig& config() const { return config_; }

 private:
  OwnerHeadConfig config_;
  torch::nn::Linear hidden_{nullptr};
  torch::nn::Linear out_{nullptr};
};
TORCH_MODULE(OwnerHead);

/// What an owner bundle says about its owner model (model.json's "owner").
struct OwnerInfo {
  OwnerHeadConfig head;
  std::string fine_tune = "none";  ///< "none" (frozen embedding) or "last" (last stage fine-tuned)
  std::string fit = "bce";         ///< "bce" or "centroid" (OwnerTrainConfig::fit)
  std::string from;                ///< the general bundle it was trained from (absolute path)
  std::string from_checksum;       ///< that bundle's weights checksum
  nlohmann::json training =
      nlohmann::json::object();  ///< OwnerTrainReport as JSON, and the data counts
};

void to_json(nlohmann::json& j, const OwnerInfo& o);
/// Throws Error(Model) for missing or ill-typed fields.
void from_json(const nlohmann::json& j, OwnerInfo& o);

/// The fine-tuning modes facetrain --fine-tune accepts.
inline const char* const kFineTuneModes[] = {"none", "last"};
/// The ways facetrain --owner-fit fits the head.
inline const char* const kOwnerFits[] = {"bce", "centroid"};

struct OwnerTrainConfig {
  std::string fine_tune = "none";  ///< kFineTuneModes
  /// How the head is fitted: "centroid" (no fitting: the logit is the cosine to the owner's mean
  /// embedding, rescaled; needs fine_tune "none" and hidden 0) or "bce" (class-weighted BCE,
  /// below). The threshold is calibrated on held-out faces either way. Measured on the owner's
  /// other day (docs/owner-and-sessions.md): centroid 77 / 73 / 26 of 98 for three base seeds, bce
  /// 25 / 13 / 45.
  std::string fit = "centroid";
  int hidden = 0;           ///< OwnerHeadConfig::hidden
  int owner_copies = 16;    ///< augmented copies of each owner photo the head learns from
  int stranger_copies = 1;  ///< augmented copies of each stranger face
  int head_steps = 300;     ///< full-batch AdamW steps of the head on those embeddings
  double head_lr = 1e-2;
  double weight_decay = 1e-4;
  int fine_tune_steps = 150;   ///< "last": joint steps on fresh augmented batches
  int batch_owner = 16;        ///< "last": owner photos per batch
  int batch_strangers = 48;    ///< "last": stranger faces per batch
  double fine_tune_lr = 1e-4;  ///< "last": the net's learning rate (the head's is 10x)
  AugmentConfig augment;
  std::uint64_t seed = 42;
};

void to_json(nlohmann::json& j, const OwnerTrainConfig& c);

/// What training did.
struct OwnerTrainReport {
  std::size_t owner_faces = 0, stranger_faces = 0;        ///< training faces
  std::size_t owner_examples = 0, stranger_examples = 0;  ///< head examples (augmented copies)
  double head_loss_first = 0, head_loss_last = 0;         ///< class-weighted BCE of the head steps
  double fine_tune_loss_first = 0, fine_tune_loss_last = 0;  ///< of the joint steps ("last")
  std::string fine_tuned;  ///< which parameters were fine-tuned ("" for none)
  double embed_seconds = 0, head_seconds = 0, fine_tune_seconds = 0;
};

void to_json(nlohmann::json& j, const OwnerTrainReport& r);

/// Class-weighted binary cross-entropy: positives weigh n_negative / n_positive each, so that
/// both classes count as much however few the owner's photos are. `labels` float [B] of 0/1.
/// Throws Error(Input) when either class is missing.
torch::Tensor owner_loss(const torch::Tensor& logits, const torch::Tensor& labels);

/// Trains an owner head (and, with fine_tune "last", the net's last stage) on rows `owner`
/// (positive) and `strangers` (negative) of `chips` (uint8 rows [S, S, 3], RGB as in the face
/// cache: a tensor [N, S, S, 3] or a face set's store, gathered a batch at a time). The net is left
/// in eval mode with its BatchNorm folded. Deterministic for a seed. Throws Error(Input) with fewer
/// than 2 owner photos or no stranger, Error(Usage) for an unknown fine_tune mode or fit, a
/// centroid with fine-tuning or a hidden layer, or bad counts.
OwnerHead train_owner_model(SiameseNet& net, const ChipStore& chips, const std::vector<int>& owner,
                            const std::vector<int>& strangers, const OwnerTrainConfig& config,
                            OwnerTrainReport* report = nullptr);

/// The head on embeddings (float [N, E], any device): P(owner) [N] on the CPU, inference mode.
torch::Tensor owner_probabilities(OwnerHead& head, const torch::Tensor& embeddings);

/// P(owner) of uint8 chips [N, S, S, 3]: embed_chips (the net's own flip averaging) then the
/// head. [N] on the CPU.
torch::Tensor owner_probabilities(SiameseNet& net, OwnerHead& head, const torch::Tensor& chips);

}  // namespace faceid
