#pragma once
// The owner-model workflow as one call (facetrain --owner-only; owner_model.hpp): an owner head on
// top of a general siamese bundle's embedding, trained on the owner's photos against strangers,
// its threshold on P(owner) fitted for a target FAR on held-out faces, an owner bundle's
// BundleInfo out. facetrain binds flags and prints; the tests run the same call.
//
//   OwnerRun run = train_owner_run(base, faces.chips, split, held_strangers, config, settings);
//   save_bundle(dir, run.info, base.net, &run.head);

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "faceid/bundle/bundle.hpp"
#include "faceid/data/pairs.hpp"
#include "faceid/io/chip_store.hpp"
#include "faceid/model/owner_model.hpp"

namespace faceid {

/// The calibration of an owner run.
struct OwnerCalibration {
  double target_far = 1e-3;    ///< the threshold accepts at most this share of held-out strangers
  double min_owner_tar = 0.5;  ///< below this held-out TAR the model is called unusable
};

struct OwnerRun {
  OwnerHead head{nullptr};
  OwnerTrainConfig config;  ///< as trained (the fit resolved)
  OwnerTrainReport report;
  /// kind owner: the base's net config and preprocessing, the owner info, thresholds (owner: the
  /// calibrated P(owner) threshold, AUC in calibration; the reference rule's and the unsure limits
  /// the base's), training summary's seconds and config (the caller adds where the data came from).
  BundleInfo info;
  std::vector<float> owner_probabilities, stranger_probabilities;  ///< of the held-out faces
  std::string unusable;  ///< why the model is unusable (TAR below min_owner_tar), or empty
};

/// Trains the owner head on `base`'s net (fine-tuned in place when config.fine_tune says so):
/// split.train.owner against the faces of split.train.people, then fits its threshold on
/// split.val.owner vs `held_strangers` (chip rows of people neither net trained on). A fine-tuned
/// net or a hidden layer is fitted by BCE unless `fit_given`. `base_dir` names the base in the
/// owner info. Throws Error(Input) without held-out owner photos or strangers, and what
/// train_owner_model throws.
OwnerRun train_owner_run(LoadedBundle& base, const std::string& base_dir, const ChipStore& chips,
                         const PoolSplit& split, const std::vector<int>& held_strangers,
                         OwnerTrainConfig config, bool fit_given,
                         const OwnerCalibration& calibration);

/// P(owner) > the run's threshold for each of chip rows `ids`.
std::vector<bool> owner_run_accepts(LoadedBundle& base, const OwnerRun& run, const ChipStore& chips,
                                    const std::vector<int>& ids);

}  // namespace faceid
