#pragma once
// facetrain's parts (apps/facetrain/): main.cpp declares the flags and trains the siamese model;
// data.cpp gathers the faces and splits them (shared by both modes); owner_only.cpp trains the
// owner's own model (--owner-only) on top of a general bundle; ranks.cpp starts local ranks.
// What needs OpenCV is in vision.cpp; a build without it (FACEID_BUILD_VISION=OFF) links
// no_vision.cpp instead and trains from face caches filled elsewhere.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../common/cli.hpp"
#include "../common/preprocess_flags.hpp"
#include "faceid/bundle/bundle.hpp"
#include "faceid/data/owner_sessions.hpp"
#include "faceid/data/pair_dataset.hpp"
#include "faceid/io/atomic_file.hpp"
#include "faceid/io/face_cache.hpp"
#include "faceid/model/owner_model.hpp"
#include "faceid/train/trainer.hpp"
#include "faceid/train/training_run.hpp"

namespace faceid::facetrain {

struct Options {
  std::string lfw, output = "models/me", run_dir, fill_refs;
  std::vector<std::string>
      self;  // one folder per capture session, or one folder of session sub-folders
  std::vector<std::string> exclude_pairs;
  std::vector<std::string> faces;  // more strangers: folder-per-person roots (--faces)
  std::string arch = "resnet";
  /// The start: "face-api" (the default: the pretrained descriptor of pretrained.hpp,
  /// dlib-resnet on 150 px chips of dlib's geometry) or "none" (random weights, the from-scratch
  /// recipe; what --arch implies).
  std::string init = "face-api";
  CLI::Option* init_option = nullptr;
  CLI::Option* arch_option = nullptr;
  std::string pretrained;  // --pretrained: the face-api model folder (default: found)
  std::string train_layers =
      "all";  // --train-layers: all, last or head (SiameseNet::set_trainable)
  CLI::Option* train_layers_option = nullptr;
  CLI::Option* val_option = nullptr;
  CLI::Option* epochs_option = nullptr;
  CLI::Option* budget_option = nullptr;
  int embedding_size = 0;  // 0: the architecture's own (resnet 256, koch 4096)
  float dropout = -1;      // < 0: the architecture's own (resnet 0.2, koch 0)
  bool batch_norm = false;
  std::string input_norm = "none";
  double val_fraction = 0.15;
  int calibration_strangers = 0;  // 0: every held-out stranger face
  double calibration_far = 1e-3;
  int references = 50;
  double min_owner_tar = 0.5;  // below this held-out TAR the model is reported unusable (exit 1)
  bool no_augment = false;
  TrainConfig train = default_train();  // flag defaults; resolve_recipe applies the start's recipe
  CLI::Option* lr_option = nullptr;
  CLI::Option* wd_option = nullptr;
  CLI::Option* zoom_option = nullptr;
  CLI::Option* owner_fit_option = nullptr;
  cli::PipelineOptions pipeline;
  int nproc = 1;            // --nproc: local ranks to start (data-parallel)
  int rank_timeout = 1800;  // seconds a rank waits for the others
  // --owner-only: the owner's own model on top of a general bundle (owner_model.hpp).
  bool owner_only = false;
  std::string from;  // the general model bundle (siamese)
  std::vector<std::string>
      negatives;  // folders of other people's photos: always training negatives
  OwnerTrainConfig owner;
};

constexpr std::size_t kMinOwnerPhotos = 5;

/// Declares every facetrain flag on `app`, bound to `o` (flags.cpp).
void add_flags(CLI::App& app, Options& o);

/// Where the faces come from (vision.cpp: detected and aligned where the face cache lacks them;
/// no_vision.cpp: the face caches alone).
struct FaceSource {
  PreprocessConfig config;  ///< the detector resolved ("auto" is not left)
  /// The faces of `files`, images under the folder `source`, from its face cache, their chips
  /// read on demand (training's memory does not grow with them); what it found in `stats`.
  std::function<FaceCache(const std::filesystem::path& source,
                          const std::vector<std::filesystem::path>& files, int threads,
                          bool progress, CacheUpdate& stats)>
      faces;
};

/// The face source for `config` with the YuNet model and cache folder of `o`. Throws Error(Input)
/// when no detector is available (vision.cpp). Without the vision layer "auto" means "yunet", the
/// detector faceprep uses where the data is.
FaceSource face_source(const PreprocessConfig& config, const cli::PipelineOptions& o);

/// curves.png: losses and validation of the run so far against minutes of training (without the
/// vision layer: says that metrics.csv has them).
void write_curves(const std::filesystem::path& file, const std::vector<EpochMetrics>& history);

/// One capture session of the owner's photos.
struct Session {
  std::string name;
  std::filesystem::path dir;
  std::vector<std::filesystem::path> files;
};

/// The faces of a training run and how they are split.
struct TrainData {
  std::vector<Session> sessions;
  std::string self_text;           ///< the --self folders, for messages
  FaceSet faces;                   ///< strangers (LFW people and --negatives) and the owner
  PoolSplit split;                 ///< strangers by person, the owner by session or photo
  std::vector<OwnerPhoto> photos;  ///< the owner photos with a face
  OwnerSplit owner_split;
  std::set<std::string> excluded;          ///< people of the --exclude-pairs files
  std::vector<std::size_t> session_faces;  ///< owner photos with a face, per session
  std::size_t negatives_people = 0;        ///< identities from --negatives (always in training)
};

/// Step 1 of both modes: scans and caches the faces of --lfw, --faces (people named
/// <root>/<person>), --self (sessions) and --negatives,
/// leaves out the --exclude-pairs people, splits the strangers by person (those named in
/// `val_people`, when not empty, are the held-out ones; --negatives people always train) and the
/// owner's photos by session (photos with one session; duplicates kept together), and logs it.
/// Throws Error(Input) for too few owner photos, Error(Usage) for a --self folder given twice, two
/// --faces roots of one name, or neither --lfw nor --faces.
TrainData gather_data(const Options& o, const cli::CommonOptions& common, const FaceSource& source,
                      int threads, const std::vector<std::string>& val_people = {});

/// The data part of the bundle's training summary: folders, counts, the people trained on and
/// held out, the excluded ones, the seed.
void describe_training(TrainingSummary& t, const Options& o, const TrainData& data,
                       std::uint64_t seed);

/// Per session: its role (held out / trained) and the share of its photos `accept` says yes to
/// (photos in `skip`, e.g. the reference photos, left out). Stores the report and the split's
/// facts in thresholds.calibration and writes run_dir/sessions.json; returns the report.
nlohmann::json record_sessions(
    const TrainData& data, const std::set<int>& skip, const std::filesystem::path& run_dir,
    Thresholds& thresholds,
    const std::function<std::vector<bool>(const std::vector<int>&)>& accept);

/// One line per session of record_sessions' report on stdout.
void print_sessions(const nlohmann::json& report);

/// Copies the owner photos `held_out` (rows of faces) into `dir` as faceverify's references
/// (--fill-refs); files already there are kept. Throws Error(Input) when it cannot.
void fill_references(const std::filesystem::path& dir, const FaceSet& faces,
                     const std::vector<int>& held_out);

/// The run folder (default runs/<time>), created, with train.log receiving the log from info up.
std::filesystem::path open_run_dir(const std::string& run_dir, bool append);

/// Throws the Error(Input) of the first line that could not be written to train.log, if any.
void check_run_log();

/// "20260101-120000", local time.
std::string timestamp();

/// Peak resident memory of this process in MB.
double peak_rss_mb();

/// --nproc N: runs this program (`args`, argv without --nproc) as N local ranks of a data-parallel
/// run (RANK, WORLD_SIZE, ... set as torchrun does; a free port unless MASTER_PORT is set), passes
/// Ctrl-C and SIGTERM on to them as Ctrl-C and waits; stops the others a minute after one fails.
/// Returns rank 0's exit code, or a failed rank's when rank 0 succeeded.
int launch_local_ranks(int nproc, const std::vector<std::string>& args);

/// --owner-only: trains the owner's own model on top of --from and writes an owner bundle.
int run_owner_only(const Options& o, const cli::CommonOptions& common);

/// The run folder's record of each epoch (metrics.jsonl, metrics.csv, the log line) and the
/// progress bar, as training hooks (run_folder.cpp).
class EpochLog {
 public:
  EpochLog(const std::filesystem::path& run_dir, const TrainConfig& train, bool progress);
  /// on_batch draws the bar, on_epoch records the epoch (the stop flag is the caller's).
  TrainHooks hooks();
  void finish();

 private:
  void record(const EpochMetrics& m);

  AppendFile jsonl_, csv_;
  const TrainConfig& train_;
  bool progress_;
  std::optional<cli::ProgressBar> bar_;
};

/// params.json of a siamese run: the inputs, sessions, recipe, preprocessing, threads and ranks.
void write_params(const std::filesystem::path& run_dir, const Options& o, const Recipe& recipe,
                  const TrainData& data, const nlohmann::json& provenance,
                  const PreprocessConfig& preprocess, int threads, int ranks);

/// The run's summary on stdout: `summary` itself with --json, else a few lines.
void print_summary(const nlohmann::json& summary, const TrainedModel& m,
                   const std::filesystem::path& output, const std::filesystem::path& run_dir,
                   bool json);

}  // namespace faceid::facetrain
