#pragma once
// The siamese training workflow as one call (docs/design.md §4): a recipe and the faces in, a
// calibrated model out. facetrain binds flags to a Recipe and prints; the tests run the same call
// on synthetic faces.
//
//   Recipe recipe = scratch_recipe("resnet");           // or pretrained_recipe("head")
//   recipe.train.time_budget_minutes = 5;                // the flags a user gave
//   SiameseNet net(recipe.model);                        // or import_face_api(...)
//   TrainedModel m = train_siamese(net, faces, split, recipe, preprocess, hooks);
//   save_bundle(dir, m.info, net, nullptr, m.strangers);

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>
#include <nlohmann/json.hpp>

#include "faceid/bundle/bundle.hpp"
#include "faceid/config.hpp"
#include "faceid/data/pair_dataset.hpp"
#include "faceid/data/pairs.hpp"
#include "faceid/model/model.hpp"
#include "faceid/train/distributed.hpp"
#include "faceid/train/trainer.hpp"

namespace faceid {

/// How a model is trained and calibrated: every default of facetrain in one place.
struct Recipe {
  std::string init = "none";  ///< "none" (random weights, `model`) or "face-api" (pretrained)
  /// A pretrained start's trainable part (SiameseNet::set_trainable): head, last or all.
  std::string train_layers = "all";
  ModelConfig model;  ///< the net trained from scratch (a pretrained start brings its own)
  TrainConfig train;
  double val_fraction = 0.15;  ///< share of the stranger people held out (validation, cohort)
  /// The net's own score kind is kept unless the other beats it by this much validation AUC.
  double switch_margin = 0;
  double target_far = 1e-3;       ///< the owner rule is fitted to accept at most this share
  int references = 50;            ///< owner training photos used as references in calibration
  int calibration_strangers = 0;  ///< stranger faces of the calibration (0: every held-out one)
  double min_owner_tar = 0.5;     ///< below this held-out TAR the model is called unusable
};

/// The from-scratch recipe for `arch`: "resnet" (default_train(), the zoom view) or the seed's
/// "koch" / "koch-small" (learning rate 2e-4, weight decay 5e-4, one view), as measured. Throws
/// Error(Usage) for another name.
Recipe scratch_recipe(const std::string& arch = "resnet");

/// The pretrained start (dlib's descriptor, bundle/pretrained.hpp) with `train_layers` trainable:
/// "head" (frozen: one epoch of the Siamese head, no time budget, half of the stranger people
/// held out as the cohort, cosine kept unless the head wins by 0.002 AUC), "last" or "all"
/// (fine-tuning at lr 1e-4, the identity classes imprinted from their mean embeddings). Throws
/// Error(Usage) for another name.
Recipe pretrained_recipe(const std::string& train_layers = "head");

/// What train_siamese gives back besides the trained net.
struct TrainedModel {
  TrainResult result;
  /// kind siamese: the net's config, `preprocess`, the calibrated thresholds, the training
  /// summary's training facts (epochs, best, scoring, config, device, seconds; the caller adds
  /// where the data came from).
  BundleInfo info;
  torch::Tensor strangers;      ///< the calibration cohort's embeddings [N, E] (CPU), or none
  std::vector<int> references;  ///< chip rows used as the owner's references in calibration
  torch::Tensor reference_embeddings;  ///< their embeddings [R, E] (CPU)
  nlohmann::json scoring;              ///< validation AUC of every score kind tried
  /// Why the model is unusable (the rule accepts under min_owner_tar of the held-out owner
  /// photos), or empty.
  std::string unusable;
  double train_seconds = 0;            ///< over every session of a resumed run
  torch::Device device = torch::kCPU;  ///< where it trained
};

/// Trains `net` on `faces` (owner = class 0 when split.train has owner photos) with the recipe's
/// TrainConfig, picks the score kind on the validation pairs, sets the pair threshold at their
/// equal-error point, and fits the owner rule (calibrate_owner) on the held-out owner photos vs
/// the held-out strangers. `faces` and `split` as for Trainer. With `group`: a data-parallel rank
/// (only rank 0's result is calibrated; the others return after training). Throws what Trainer
/// throws; Error(Internal) when training produced no epoch.
TrainedModel train_siamese(SiameseNet& net, const FaceSet& faces, const PoolSplit& split,
                           const Recipe& recipe, const PreprocessConfig& preprocess,
                           const TrainHooks& hooks = {},
                           std::shared_ptr<Collective> group = nullptr);

/// Whether the calibrated rule of `model` accepts each of chip rows `ids` as the owner (one
/// embedding per face, compared with model.reference_embeddings).
std::vector<bool> owner_accepts(SiameseNet& net, const ChipStore& chips, const TrainedModel& model,
                                const std::vector<int>& ids);

}  // namespace faceid
