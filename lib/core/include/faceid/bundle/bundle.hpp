#pragma once
// The model bundle (docs/design.md §5): a folder holding the weights and model.json — the
// architecture, the preprocessing, the calibrated thresholds, the training summary and a checksum
// of the weights. Everything needed to use the model; loading checks all of it.
//
//   models/me/model.json
//   models/me/weights-<checksum>.pt
//
// Two kinds (model.json's "kind"): "siamese" (the default; bundles without the field are
// siamese) compares a face with the owner's reference photos; "owner" (owner_model.hpp) holds
// the embedding net, an owner head and a threshold on P(owner): no reference photos needed. An
// owner bundle's weights file also holds the head (archive key "owner_head"), and its
// format_version is 2, so that a faceid that predates the kind refuses it instead of using it
// as a siamese model.
//
// Writes are atomic: the weights go to a new file named by their checksum, then model.json is
// replaced (temp file + rename), then older weights files are removed. A crash at any point
// leaves either the old or the new model, never half of one.

#include <filesystem>
#include <string>
#include <vector>

#include <torch/types.h>
#include <nlohmann/json.hpp>

#include "faceid/config.hpp"
#include "faceid/model/model.hpp"
#include "faceid/model/owner_model.hpp"
#include "faceid/score/thresholds.hpp"

namespace faceid {

constexpr int kBundleFormatVersion = 1;       ///< siamese bundles
constexpr int kOwnerBundleFormatVersion = 2;  ///< owner bundles (kind "owner")

/// model.json's "kind" values.
inline constexpr const char* kSiameseKind = "siamese";
inline constexpr const char* kOwnerKind = "owner";

/// What a model was trained on and how (model.json's "training"). Typed, so that faceeval's
/// overlap checks read exactly the fields facetrain writes. Fields missing in older bundles load
/// as their defaults.
struct TrainingSummary {
  std::string lfw, self;           ///< absolute paths of the strangers' root and the owner's photos
  std::vector<std::string> faces;  ///< absolute paths of the --faces roots (more strangers)
  std::size_t owner_photos_train = 0, owner_photos_val = 0;
  std::size_t people_train = 0, faces_train = 0, people_val = 0, faces_val = 0;
  std::vector<std::string> trained_people;     ///< stranger identities trained on
  std::vector<std::string> validation_people;  ///< held out for validation and calibration
  std::vector<std::string> excluded_by;        ///< pairs files whose people were left out
  std::size_t excluded_people = 0;
  std::uint64_t seed = 0;
  int epochs_run = 0, best_epoch = 0;
  double train_seconds = 0;
  bool interrupted = false, early_stopped = false, collapsed = false, budget_reached = false;
  std::string date, faceid_version, run_dir;
  std::string device;  ///< where the weights were trained ("cpu", "cuda:0"); loads on any
  nlohmann::json best = nlohmann::json::object();     ///< the best epoch's metrics
  nlohmann::json config = nlohmann::json::object();   ///< the training configuration
  nlohmann::json scoring = nlohmann::json::object();  ///< validation AUC of each score kind tried
  /// Where the starting weights came from (pretrained.hpp: package, version, licence, file
  /// checksum); empty for a net trained from scratch.
  nlohmann::json pretrained = nlohmann::json::object();
};

void to_json(nlohmann::json& j, const TrainingSummary& t);
/// Throws Error(Model) for a field of the wrong type.
void from_json(const nlohmann::json& j, TrainingSummary& t);

/// Everything in model.json besides the weights checksum.
struct BundleInfo {
  std::string kind = kSiameseKind;  ///< kSiameseKind or kOwnerKind
  OwnerInfo owner;                  ///< owner kind only
  ModelConfig model;
  PreprocessConfig preprocess;
  Thresholds thresholds;
  TrainingSummary training;
};

/// Writes the bundle into `dir` (created if needed). Throws Error(Input) when it cannot be
/// written, Error(Usage) when the net's config differs from info.model, or when info.kind is
/// "owner" without an `owner_head` (or "siamese" with one). `strangers` (optional, [N, E]): the
/// embeddings of held-out stranger faces, kept with the weights so that faceverify can calibrate
/// the rule for references of several capture sessions (Verifier::load_references).
void save_bundle(const std::filesystem::path& dir, const BundleInfo& info, SiameseNet& net,
                 OwnerHead* owner_head = nullptr, const torch::Tensor& strangers = {});

/// model.json as read and checked by read_bundle_manifest: everything but the weights' tensors.
struct BundleManifest {
  BundleInfo info;
  std::string weights_file;       ///< a plain file name inside the bundle folder
  std::size_t weights_bytes = 0;  ///< the weights file's size
  std::string checksum;           ///< its checksum_bytes()
};

/// model.json's document for `manifest` (what save_bundle writes).
nlohmann::json bundle_json(const BundleManifest& manifest);

/// Reads and checks `dir`/model.json, without LibTorch work. Throws Error(Model), naming the file
/// and the problem, for: a missing folder or file, unparsable JSON, a missing or ill-typed field,
/// another format version, an unknown kind, a weights file name that is not a plain name in the
/// folder, sizes that do not fit each other (model input vs chip size, owner head vs embedding)
/// or are out of range, thresholds outside [0, 1].
BundleManifest read_bundle_manifest(const std::filesystem::path& dir);

/// The bytes of the manifest's weights file. Throws Error(Model) when it is missing, of another
/// size than model.json says (truncated) or of another checksum (corrupt).
std::string read_bundle_weights(const std::filesystem::path& dir, const BundleManifest& manifest);

struct LoadedBundle {
  BundleInfo info;
  SiameseNet net{nullptr};        ///< in eval mode (BatchNorm folded), on the requested device
  OwnerHead owner_head{nullptr};  ///< owner kind only: in eval mode, on the requested device
  torch::Tensor
      strangers;  ///< held-out stranger embeddings [N, E] on the CPU, when the bundle has them
  std::string checksum;  ///< of the weights file (identifies the model, e.g. for caches)
  bool is_owner() const { return info.kind == kOwnerKind; }
};

/// Loads and checks a bundle. Throws Error(Model), naming the file and the problem, for: a
/// missing folder or file, unparsable or incomplete model.json, another format version, a
/// weights file of the wrong size or checksum (truncated/corrupt), or weights that do not fit
/// the architecture (mismatched), an unknown kind.
LoadedBundle load_bundle(const std::filesystem::path& dir, torch::Device device = torch::kCPU);

/// Throws Error(Model) naming `dir` when `bundle` is an owner model: for the tools and modes that
/// need a siamese one (`what` says which, e.g. "faceeval pairs").
void require_siamese(const LoadedBundle& bundle, const std::filesystem::path& dir,
                     const std::string& what);

/// 64-bit FNV-1a of a byte string as hex (weights checksum; detects corruption, not tampering).
std::string checksum_bytes(const std::string& bytes);

}  // namespace faceid
