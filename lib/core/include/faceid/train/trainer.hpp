#pragma once
// The training loop (docs/design.md §4): P x K batches of augmented face chips (batch_sampler.hpp),
// one forward pass each feeding two losses (losses.hpp) — the Siamese head's binary
// cross-entropy on the pairs inside the batch and an identity-margin loss (CosFace/ArcFace) over
// the training identities, the owner being one of them —; AdamW with a warm-up + cosine
// schedule over the planned epochs or a time budget; per-epoch validation on people never seen
// in training; best-model selection (validation AUC); early stopping; collapse detection; a
// checkpoint after every epoch and on interruption (model, identity weights, optimizer, epoch,
// position in the epoch, history) that --resume continues from exactly. Data-parallel over
// several ranks (distributed.hpp): each step's batches are shared out between the ranks, their
// gradients averaged; rank 0 alone validates and checkpoints.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <torch/optim/adamw.h>
#include <nlohmann/json_fwd.hpp>

#include "faceid/config.hpp"
#include "faceid/data/batch_sampler.hpp"
#include "faceid/data/chip_feeder.hpp"
#include "faceid/data/pair_dataset.hpp"
#include "faceid/data/pairs.hpp"
#include "faceid/model/losses.hpp"
#include "faceid/model/model.hpp"
#include "faceid/train/distributed.hpp"

namespace faceid {

struct TrainConfig {
  int epochs = 20;  ///< the most epochs (the schedule spans them without a budget)
  double time_budget_minutes =
      0;               ///< > 0: the schedule spans this much time and training stops then
  BatchShape batch;    ///< P people x K photos per batch
  int accumulate = 1;  ///< batches per step and rank, their gradients averaged (accumulation)
  double learning_rate = 2e-3;  ///< peak of the schedule (AdamW)
  double weight_decay = 5e-4;   ///< AdamW's decoupled weight decay
  double warmup = 0.03;         ///< fraction of the run spent warming up
  MarginConfig id_loss;         ///< identity-margin loss; kind "none" = pair loss only
  double id_weight = 1.0;       ///< weight of the identity loss in the sum
  double id_smoothing = 0.0;    ///< label smoothing of the identity loss's targets
  double pair_weight = 1.0;     ///< weight of the head's binary cross-entropy in the sum
  /// Start the identity loss's class weights at the classes' mean embeddings (MarginHead::imprint;
  /// one pass over the training photos first): for a pretrained embedding.
  bool imprint = false;
  /// > 0: decay per step of an exponential moving average of the weights (Polyak averaging);
  /// validation, the best epoch and the result are then the average's. 0 = the last weights.
  double ema = 0.0;
  std::size_t val_pairs = 1000;  ///< per family, fixed for the whole run
  int patience = 0;  ///< epochs without a better validation AUC before stopping; 0 = never
  std::uint64_t seed = 42;
  AugmentConfig augment;
  std::string device = "auto";
  /// "fp32", or "bf16": the forward pass under bfloat16 autocast (Bf16Autocast) on the device.
  std::string precision = "fp32";
  std::filesystem::path checkpoint;  ///< written every epoch; empty = no checkpoints
  bool resume = false;               ///< continue from `checkpoint`
};

/// The from-scratch recipe: what `facetrain --init none` trains with no other flag (a 30-minute
/// budget, AdamW with decay 0.05, the zoom view), and what facebench times.
TrainConfig default_train();

void to_json(nlohmann::json& j, const TrainConfig& c);

struct EpochMetrics {
  int epoch = 0;  ///< 1-based
  double train_loss = 0,
         train_accuracy = 0;  ///< total loss; accuracy of the head on the in-batch pairs
  double train_pair_loss = 0, train_id_loss = 0;
  double learning_rate = 0;  ///< at the end of the epoch
  double minutes = 0;        ///< training time so far (validation included)
  /// Validation pairs scored by the net's current score kind (accuracy at the equal-error point);
  /// val_auc is the better AUC of the two score kinds (facetrain keeps the better kind).
  double val_loss = 0, val_accuracy = 0, val_precision = 0, val_recall = 0, val_auc = 0;
  double val_auc_head = 0, val_auc_cosine = 0;  ///< AUC of each score kind
  double val_owner_accuracy = -1;               ///< on owner pairs only; -1 without owner
  double val_score_std = 0;  ///< spread of P(same) on validation pairs (collapse when ~0)
  double seconds = 0;
  double images_per_second = 0;
  /// Share of the training time spent waiting for input (chips gathered and uploaded; augmentation
  /// runs on the device and counts as compute): near 0 when the device is kept fed.
  double data_wait_share = 0;
  bool collapsed = false;
};

void to_json(nlohmann::json& j, const EpochMetrics& m);
void from_json(const nlohmann::json& j, EpochMetrics& m);

struct TrainHooks {
  /// After every batch: the epoch, batches done and in the epoch, running loss, overall progress
  /// in [0, 1] (of the epochs or of the time budget).
  std::function<void(int epoch, std::size_t done, std::size_t total, double loss, double progress)>
      on_batch;
  std::function<void(const EpochMetrics&)> on_epoch;
  const std::atomic<bool>* stop = nullptr;  ///< set (e.g. by SIGINT) to checkpoint and return
};

struct TrainResult {
  std::vector<EpochMetrics> history;
  int best_epoch = 0;  ///< 1-based; the net holds this epoch's weights after fit()
  bool interrupted = false;
  bool early_stopped = false;
  bool collapsed = false;       ///< stopped because the outputs collapsed (see EpochMetrics)
  bool budget_reached = false;  ///< stopped because the time budget was spent
  double seconds = 0;
};

class Trainer {
 public:
  /// `faces` and `split` (from split_pool over faces.pool) must outlive the trainer. The
  /// training identities are the owner's training photos (class 0, when there are any) and
  /// every person of split.train. Throws Error(Input) when the split cannot give P people per
  /// batch or the validation pairs (see sample_pairs), Error(Usage) for a bad config or device.
  ///
  /// With `group` (data-parallel; every rank builds its trainer on the same faces, split and
  /// config): the weights start as rank 0's; a step is world_size x accumulate batches of the
  /// epoch's seeded sequence, rank r taking the r-th share, the gradients averaged, so that N
  /// ranks train what one process with accumulate x N does. BatchNorm normalises by each rank's
  /// batch (as DistributedDataParallel without SyncBatchNorm); the running statistics are
  /// averaged over the ranks before each validation. The clock, the stop requests and the
  /// end-of-epoch decisions are agreed by all ranks.
  Trainer(SiameseNet net, const FaceSet& faces, const PoolSplit& split, TrainConfig config,
          std::shared_ptr<Collective> group = nullptr);

  /// Trains until `epochs`, early stopping, collapse or a stop request. Afterwards the net holds
  /// the best epoch's weights and is in eval mode (ranks other than 0: the last weights, and
  /// their history has no validation metrics). Throws Error(Model) when resuming from a
  /// missing, corrupt or incompatible checkpoint; Error(Internal) when another rank fails (the
  /// last epoch's checkpoint stays).
  TrainResult fit(const TrainHooks& hooks = {});

  /// Scores (the net's score()) and labels of the fixed validation pairs under the current
  /// weights and scoring.
  void validation_scores(std::vector<float>& scores, std::vector<int>& labels,
                         std::vector<PairKind>* kinds = nullptr);
  /// Validation AUC of each score kind, "head" and "cosine", under the current weights.
  std::pair<double, double> validation_auc_by_score();
  /// Sets the net's scoring (net->set_scoring) to the kind — head or cosine, with or without
  /// mirror averaging — of the highest validation AUC; the net's configured kind is kept unless
  /// the other beats it by more than `switch_margin`, mirror averaging (a second forward per face)
  /// only for a gain above 0.001. Returns every AUC measured, e.g. {"head": 0.93, ...}.
  nlohmann::json choose_scoring(double switch_margin = 0);

  /// Embeddings of chip rows `ids` (no augmentation), batched, on the CPU: [ids.size(), E].
  torch::Tensor embed_chips(const std::vector<int>& ids);

  torch::Device device() const { return device_; }

 private:
  /// Where an epoch stands: the next batch and the running sums of the batches done.
  struct EpochProgress {
    std::size_t next_step = 0;
    double loss_sum = 0, pair_loss_sum = 0, id_loss_sum = 0, correct = 0, pairs = 0;
    std::size_t images = 0;
  };
  /// Trains epoch `epoch` from `progress` on; false when interrupted (progress says where).
  bool run_epoch(int epoch, EpochProgress& progress, const TrainHooks& hooks,
                 EpochMetrics& metrics);
  /// The validation pairs' embeddings (each chip embedded once), labels and kinds.
  struct ValidationSet {
    torch::Tensor e1, e2;
    std::vector<int> labels;
    std::vector<PairKind> kinds;
    /// Scores of the pairs under score kind `kind` (the net's own kind is left as it was).
    std::vector<float> scores(SiameseNet& net, const std::string& kind) const;
  };
  ValidationSet embed_validation();
  void evaluate(EpochMetrics& m);
  /// One optimisation step on this rank's batches `mine` of the epoch's `batches`; adds their
  /// losses to `progress`.
  /// `next`: the batch trained after this step (prefetched while this one trains); past the end
  /// of `batches` for none.
  void train_step(const std::vector<Batch>& batches, const std::vector<std::size_t>& mine,
                  std::size_t next, int epoch, EpochProgress& progress);
  /// The sums of every rank's progress (this rank's alone without a group).
  EpochProgress total(const EpochProgress& progress);
  /// The elapsed seconds (the slowest clock) and whether any rank was asked to stop.
  std::pair<double, bool> agree(bool stop_requested);
  std::vector<torch::Tensor> trained_tensors();
  /// Throws Error(Usage) unless every rank has the same faces, batches, validation pairs and
  /// model size.
  void check_ranks_agree();
  /// Moves the weights' moving average (--ema) one step towards the net's weights.
  void update_average();
  /// The weights that validation judges: the moving average's with --ema, else the net's.
  std::vector<torch::Tensor> judged_weights();
  double elapsed_seconds() const;
  void save_checkpoint(int epoch, const EpochProgress& progress, const TrainResult& result);
  void load_checkpoint(int& epoch, EpochProgress& progress, TrainResult& result);

  std::shared_ptr<Collective> group_;
  int rank_ = 0, world_size_ = 1;
  SiameseNet net_;
  const FaceSet& faces_;
  const PoolSplit& split_;
  TrainConfig config_;
  torch::Device device_;
  std::unique_ptr<torch::optim::AdamW> optimizer_;
  MarginHead id_head_{nullptr};
  std::unique_ptr<PKSampler> sampler_;
  std::unique_ptr<ChipFeeder> feeder_;
  double learning_rate_ = 0;
  double seconds_before_ = 0;  ///< training time of earlier sessions of a resumed run
  double agreed_seconds_ = 0;  ///< the last elapsed time all ranks agreed on
  std::chrono::steady_clock::time_point session_start_;
  std::vector<Pair> val_pairs_;
  std::vector<torch::Tensor> best_weights_;
  std::vector<torch::Tensor> average_;  ///< --ema: the parameters' and buffers' moving average
  long average_steps_ = 0;              ///< steps averaged so far
};

}  // namespace faceid
