#pragma once
// The training loop (DESIGN.md §4): Adam + binary cross-entropy on logits over freshly sampled,
// augmented pairs each epoch; per-epoch validation on people never seen in training; best-model
// selection (validation AUC); early stopping; collapse detection; a checkpoint after every epoch
// and on interruption (model, optimizer, epoch, position in the epoch, history) that --resume
// continues from exactly.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>
#include <torch/optim/optimizer.h>

#include "faceid/config.hpp"
#include "faceid/model.hpp"
#include "faceid/pair_dataset.hpp"
#include "faceid/pairs.hpp"

namespace faceid {

struct TrainConfig {
  int epochs = 20;
  int batch_size = 32;
  double learning_rate = 1e-4;
  double weight_decay = 0;
  std::size_t owner_pairs = 1000;     ///< per epoch (half positive); 0 when there is no owner
  std::size_t identity_pairs = 3000;  ///< per epoch (half positive)
  std::size_t val_pairs = 1000;       ///< per family, fixed for the whole run
  int patience = 5;                   ///< epochs without a better validation AUC before stopping
  int workers = 1;                    ///< data-loader threads (0 = load in the training thread)
  std::uint64_t seed = 42;
  AugmentConfig augment;
  std::string device = "auto";
  std::filesystem::path checkpoint;   ///< written every epoch; empty = no checkpoints
  bool resume = false;                ///< continue from `checkpoint`
};

void to_json(nlohmann::json& j, const TrainConfig& c);

struct EpochMetrics {
  int epoch = 0;  ///< 1-based
  double train_loss = 0, train_accuracy = 0;
  double val_loss = 0, val_accuracy = 0, val_precision = 0, val_recall = 0, val_auc = 0;
  double val_owner_accuracy = -1;  ///< on owner pairs only; -1 without owner
  double val_score_std = 0;        ///< spread of P(same) on validation pairs (collapse when ~0)
  double seconds = 0;
  double pairs_per_second = 0;
  bool collapsed = false;
};

void to_json(nlohmann::json& j, const EpochMetrics& m);
void from_json(const nlohmann::json& j, EpochMetrics& m);

struct TrainHooks {
  std::function<void(int epoch, std::size_t done, std::size_t total, double loss)> on_batch;
  std::function<void(const EpochMetrics&)> on_epoch;
  const std::atomic<bool>* stop = nullptr;  ///< set (e.g. by SIGINT) to checkpoint and return
};

struct TrainResult {
  std::vector<EpochMetrics> history;
  int best_epoch = 0;          ///< 1-based; the net holds this epoch's weights after fit()
  bool interrupted = false;
  bool early_stopped = false;
  bool collapsed = false;      ///< stopped because the outputs collapsed (see EpochMetrics)
  double seconds = 0;
};

class Trainer {
 public:
  /// `faces` and `split` (from split_pool over faces.pool) must outlive the trainer. Throws
  /// Error(Input) when the split cannot give the requested pairs (see sample_pairs), Error(Usage)
  /// for a bad config or device.
  Trainer(SiameseNet net, const FaceSet& faces, const PoolSplit& split, TrainConfig config);

  /// Trains until `epochs`, early stopping, collapse or a stop request. Afterwards the net holds
  /// the best epoch's weights and is in eval mode. Throws Error(Model) when resuming from a
  /// missing, corrupt or incompatible checkpoint.
  TrainResult fit(const TrainHooks& hooks = {});

  /// P(same) and labels of the fixed validation pairs under the current weights.
  void validation_scores(std::vector<float>& scores, std::vector<int>& labels, std::vector<PairKind>* kinds = nullptr);

  /// Embeddings of chip rows `ids` (no augmentation), batched, on the CPU: [ids.size(), E].
  torch::Tensor embed_chips(const std::vector<int>& ids);

  torch::Device device() const { return device_; }

 private:
  /// Where an epoch stands: the next batch and the running sums of the batches done.
  struct EpochProgress {
    std::size_t next_batch = 0;
    double loss_sum = 0, correct = 0;
  };
  /// Trains epoch `epoch` from `progress` on; false when interrupted (progress says where).
  bool run_epoch(int epoch, EpochProgress& progress, const TrainHooks& hooks, EpochMetrics& metrics);
  void evaluate(EpochMetrics& m);
  void save_checkpoint(int epoch, const EpochProgress& progress, const TrainResult& result);
  void load_checkpoint(int& epoch, EpochProgress& progress, TrainResult& result);

  SiameseNet net_;
  const FaceSet& faces_;
  const PoolSplit& split_;
  TrainConfig config_;
  torch::Device device_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  std::vector<Pair> val_pairs_;
  std::vector<torch::Tensor> best_weights_;
};

}  // namespace faceid
